//! `chapmark check`: do the chapters fit the audio and the platform's rules?

use super::common::{self, parse_duration_arg};
use super::{Outcome, Ui};
use crate::cli::{CheckArgs, ExitStatus, ReportFormat};
use chapmark::api::embed::{self, add_intro};
use chapmark::api::lock::{Access, prepare_audio};
use chapmark::container::id3v2 as id3;
use chapmark::format::text::Parsed;
use chapmark::probe::{Container, ProbeInfo};
use chapmark::report::{self, FileReport};
use chapmark::validate::{Diagnostic, Rule, Source, StreamChange, Target, drift_between};
use chapmark::{ChapterList, SampleTime};
use std::io::Write;
use std::path::Path;

/// Probes the audio and reads the chapters embedded in it, when its container has them
/// (they are what is checked without `--chapters`, and are compared for drift with it).
fn read_audio(audio: &Path) -> anyhow::Result<(ProbeInfo, Option<ChapterList>)> {
    let _guard = prepare_audio(audio, Access::Read)?;
    let info = common::probe_audio(audio)?;
    let embedded = match embed::target_for(info.container) {
        Some(_) => Some(embed::read_embedded_of(audio, info.container)?),
        None => None,
    };
    Ok((info, embedded))
}

type AudioSide = (
    String,
    Option<SampleTime>,
    Option<Target>,
    Option<ChapterList>,
    Option<Container>,
    Vec<StreamChange>,
);

/// The audio side of a check: the name for the report, the length, the container's target,
/// the embedded chapters, the container and where the stream changes rate or channels; or,
/// without audio, `--duration` alone.
fn audio_side(args: &CheckArgs) -> anyhow::Result<AudioSide> {
    Ok(match &args.audio {
        Some(audio) => {
            if audio == Path::new("-") && args.chapter_paths().any(|c| c == Path::new("-")) {
                return Err(super::io::usage(
                    "the audio and the chapters cannot both be `-` (standard input)",
                ));
            }
            #[cfg(feature = "s3")]
            if super::s3::is_s3(audio) {
                let (info, embedded) = super::s3::check_audio(audio)?;
                let target = embed::target_for(info.container);
                let changes = chapmark::validate::stream_changes(&info);
                let name = audio.display().to_string();
                return Ok((
                    name,
                    Some(info.duration),
                    target,
                    embedded,
                    Some(info.container),
                    changes,
                ));
            }
            let input = super::stdin::audio_input(audio)?;
            let (info, embedded) = read_audio(input.path()).map_err(|e| input.rename_error(e))?;
            let target = embed::target_for(info.container);
            (
                input.name(),
                Some(info.duration),
                target,
                embedded,
                Some(info.container),
                chapmark::validate::stream_changes(&info),
            )
        }
        None => {
            let d = args
                .duration
                .as_deref()
                .map(parse_duration_arg)
                .transpose()?;
            (String::new(), d, None, None, None, Vec::new())
        }
    })
}

pub fn run(args: CheckArgs, ui: Ui) -> Outcome {
    let deny = args.validate.deny_warnings;
    let (path_name, duration, target, embedded, container, changes) = audio_side(&args)?;
    let mut ctx = common::context(duration, args.validate.profile, target);
    ctx.stream_changes = changes;
    let mut lists = Vec::new();
    // `image-missing` errors of the first list, the one the report is about.
    let mut missing = Vec::new();
    for chapters in args.chapter_paths() {
        let mut loaded = common::load_chapters(chapters, None)?;
        let failed = common::load_images(&mut loaded, chapters);
        if lists.is_empty() {
            missing = failed;
        }
        lists.push((loaded.name, loaded.parsed));
    }
    if let (Some(feed), Some(item)) = (&args.feed, &args.item) {
        lists.extend(feed_sources(feed, item)?);
    }
    for (_, parsed) in &mut lists {
        add_intro(&mut parsed.list, args.intro.as_deref());
    }

    let report = match lists.first() {
        Some((name, parsed)) => {
            // Against audio, the report is about the audio and its lines point into the notes
            // (`source`); with `--duration` the notes are the only file, so `source` stays
            // empty rather than repeating it.
            let (path, source) = if path_name.is_empty() {
                (name.clone(), None)
            } else {
                (path_name, Some(name.clone()))
            };
            let mut report = common::validate_report(path, source, parsed, &ctx);
            report.diagnostics.extend(missing);
            report
                .diagnostics
                .extend(drift_diagnostics(embedded.as_ref(), &lists));
            // What a default `write` of these chapters would give readers.
            add_file_checks(&args, container, &parsed.list, false, &mut report)?;
            add_snaps(&args, &parsed.list, &mut report)?;
            // Back into the validator's order (whole-list first, then by line), stably, so
            // a line's drift follows that line's other diagnostics.
            report
                .diagnostics
                .sort_by_key(|d| (d.line.is_some() || d.chapter.is_some(), d.line, d.chapter));
            report
        }
        None => embedded_report(path_name, embedded, &ctx, &args, container)?,
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

/// Adds the file rules (`extension-mismatch`, `ffmpeg-drops-chapter`) for `list`: `stored`
/// chapters are judged by the tag they are in, listed ones by the tag a default `write` of
/// them would make.
fn add_file_checks(
    args: &CheckArgs,
    container: Option<Container>,
    list: &ChapterList,
    stored: bool,
    report: &mut FileReport,
) -> anyhow::Result<()> {
    let (Some(audio), Some(c)) = (&args.audio, container) else {
        return Ok(());
    };
    // These rules read the local file's tag; `write s3://…` applies them on its shadow.
    #[cfg(feature = "s3")]
    if super::s3::is_s3(audio) {
        return Ok(());
    }
    let version = match (c, stored) {
        (Container::Mp3, true) => id3::tag_version(audio)?,
        (Container::Mp3, false) => Some(common::planned_id3_version(audio, list, None, false)?),
        _ => None,
    };
    let profile = args.validate.profile;
    common::add_file_diagnostics(
        &mut report.diagnostics,
        audio,
        c,
        list,
        version,
        stored,
        profile,
    );
    Ok(())
}

/// A feed item's chapter sources, each named for messages (`FEED psc`, `FEED description`).
fn feed_sources(feed: &Path, guid: &str) -> anyhow::Result<Vec<(String, Parsed)>> {
    let (text, scanned) = super::feed::load(feed)?;
    let item = super::feed::find_item(&scanned, feed, guid)?;
    let name = super::io::display_name(feed);
    let mut out = Vec::new();
    if let Some(list) = item.psc_chapters(&text)? {
        let parsed = Parsed {
            list,
            ..Parsed::default()
        };
        out.push((format!("{name} psc"), parsed));
    }
    if let Some(parsed) = item.description_chapters()? {
        out.push((format!("{name} description"), parsed));
    }
    if out.is_empty() {
        anyhow::bail!(
            "{name}: item {guid:?} has no psc:chapters and no chapters in its description"
        );
    }
    Ok(out)
}

/// Drift between the sources: with one list, against the embedded chapters as before; with
/// more, between every two sources (the file's embedded chapters first).
fn drift_diagnostics(
    embedded: Option<&ChapterList>,
    lists: &[(String, Parsed)],
) -> Vec<Diagnostic> {
    let embedded = embedded.filter(|e| !e.is_empty());
    if let [(_, only)] = lists {
        return embedded.map_or_else(Vec::new, |emb| chapmark::validate::drift(emb, &only.list));
    }
    let mut sources: Vec<Source<'_>> = Vec::new();
    if let Some(list) = embedded {
        sources.push(Source {
            name: "the file",
            list,
        });
    }
    sources.extend(lists.iter().map(|(name, p)| Source {
        name,
        list: &p.list,
    }));
    let mut out = Vec::new();
    for (i, a) in sources.iter().enumerate() {
        for b in sources.iter().skip(i + 1) {
            out.extend(drift_between(*a, *b));
        }
    }
    out
}

/// Checking the chapters embedded in the audio (no `--chapters`).
fn embedded_report(
    path_name: String,
    embedded: Option<ChapterList>,
    ctx: &chapmark::validate::Context,
    args: &CheckArgs,
    container: Option<Container>,
) -> anyhow::Result<FileReport> {
    let Some(list) = embedded else {
        return Err(super::io::usage(
            "nothing to check: give --chapters, or an mp3/m4a/opus/ogg/flac file with embedded chapters",
        ));
    };
    let parsed = Parsed {
        list,
        ..Parsed::default()
    };
    let mut report = common::validate_report(path_name, None, &parsed, ctx);
    if parsed.list.is_empty() {
        explain_no_embedded_chapters(&mut report);
    }
    // What readers make of the chapters as they are stored.
    add_file_checks(args, container, &parsed.list, true, &mut report)?;
    add_snaps(args, &parsed.list, &mut report)?;
    Ok(report)
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
