//! `chapmark check`: do the chapters fit the audio and the platform's rules?

use super::common::{self, parse_duration_arg};
use super::{Outcome, Ui};
use crate::cli::{CheckArgs, ExitStatus, ReportFormat};
use chapmark::api::embed::{self, add_intro};
use chapmark::api::lock::{Access, prepare_audio};
use chapmark::format::text::Parsed;
use chapmark::report::{self, FileReport};
use chapmark::validate::Rule;
use chapmark::validate::Target;
use chapmark::{ChapterList, SampleTime};
use std::io::Write;

type AudioSide = (
    String,
    Option<SampleTime>,
    Option<Target>,
    Option<ChapterList>,
);

/// The audio side of a check: the name for the report, the length, the container's target
/// and the embedded chapters; or, without audio, `--duration` alone.
fn audio_side(args: &CheckArgs) -> anyhow::Result<AudioSide> {
    Ok(match &args.audio {
        Some(audio) => {
            let _guard = prepare_audio(audio, Access::Read)?;
            let info = common::probe_audio(audio)?;
            let target = embed::target_for(info.container);
            // Embedded chapters are needed when they are what we check, or to report drift.
            let embedded = match target {
                Some(_) => Some(embed::read_embedded_of(audio, info.container)?),
                None => None,
            };
            (
                audio.display().to_string(),
                Some(info.duration),
                target,
                embedded,
            )
        }
        None => {
            let d = args
                .duration
                .as_deref()
                .map(parse_duration_arg)
                .transpose()?;
            (String::new(), d, None, None)
        }
    })
}

pub fn run(args: CheckArgs, ui: Ui) -> Outcome {
    let deny = args.validate.deny_warnings;
    let (path_name, duration, target, embedded) = audio_side(&args)?;
    let ctx = common::context(duration, args.validate.profile, target);

    let report = match &args.chapters {
        Some(chapters) => {
            let mut loaded = common::load_chapters(chapters, None)?;
            add_intro(&mut loaded.parsed.list, args.intro.as_deref());
            // Against audio, the report is about the audio and its lines point into the notes
            // (`source`); with `--duration` the notes are the only file, so `source` stays
            // empty rather than repeating it.
            let (path, source) = if path_name.is_empty() {
                (loaded.name.clone(), None)
            } else {
                (path_name, Some(loaded.name.clone()))
            };
            let mut report = common::validate_report(path, source, &loaded.parsed, &ctx);
            if let Some(emb) = embedded.filter(|e| !e.is_empty()) {
                report
                    .diagnostics
                    .extend(chapmark::validate::drift(&emb, &loaded.parsed.list));
                // Back into the validator's order (whole-list first, then by line), stably, so
                // a line's drift follows that line's other diagnostics.
                report
                    .diagnostics
                    .sort_by_key(|d| (d.line.is_some() || d.chapter.is_some(), d.line, d.chapter));
            }
            add_snaps(&args, &loaded.parsed.list, &mut report)?;
            report
        }
        None => {
            let Some(list) = embedded else {
                return Err(super::io::usage(
                    "nothing to check: give --chapters, or an mp3/m4a file with embedded chapters",
                ));
            };
            let parsed = Parsed {
                list,
                issues: Vec::new(),
            };
            let mut report = common::validate_report(path_name, None, &parsed, &ctx);
            if parsed.list.is_empty() {
                explain_no_embedded_chapters(&mut report);
            }
            add_snaps(&args, &parsed.list, &mut report)?;
            report
        }
    };

    let ok = report::passed(&report.diagnostics, deny);
    let out = render(&report, args.format, ui, deny);
    let mut stdout = std::io::stdout().lock();
    stdout.write_all(out.as_bytes())?;
    stdout.flush()?;
    Ok(if ok {
        ExitStatus::Ok
    } else {
        ExitStatus::Invalid
    })
}

/// `--snap`: the `snap` suggestions, after the chapter's other diagnostics.
fn add_snaps(args: &CheckArgs, list: &ChapterList, report: &mut FileReport) -> anyhow::Result<()> {
    let Some(window) = &args.snap else {
        return Ok(());
    };
    let Some(audio) = &args.audio else {
        return Err(super::io::usage("--snap needs the audio file"));
    };
    let snaps = super::snap::suggest(audio, None, list, window)?;
    report
        .diagnostics
        .extend(chapmark::validate::snap(list, &snaps));
    report
        .diagnostics
        .sort_by_key(|d| (d.line.is_some() || d.chapter.is_some(), d.line, d.chapter));
    Ok(())
}

/// The validator's `too-few` for an empty list talks about notes lines; for a file without
/// embedded chapters, say that and what to do instead.
fn explain_no_embedded_chapters(report: &mut FileReport) {
    for d in &mut report.diagnostics {
        if d.rule == Rule::TooFew {
            d.message = "the file has no embedded chapters".to_string();
            d.hint = Some(
                "check a chapter list against it with --chapters, or embed one with `chapmark write`"
                    .to_string(),
            );
        }
    }
}

fn render(report: &FileReport, format: ReportFormat, ui: Ui, deny: bool) -> String {
    match format {
        ReportFormat::Text => report::render_text(report, ui.color, deny),
        ReportFormat::Json => {
            let mut s = report::render_json(report, deny);
            if !s.ends_with('\n') {
                s.push('\n');
            }
            s
        }
        ReportFormat::Github => report::render_github(report),
        ReportFormat::Junit => report::render_junit(std::slice::from_ref(report), deny),
    }
}
