//! `chapmark write`, `show` and `strip`: chapters into, out of, and off audio files.

use super::common::{self, emit};
use super::{Outcome, Ui};
use chapmark::cli::{ExitStatus, Mp4ChaptersArg, ShowArgs, StripArgs, WriteArgs};
use chapmark::format::{self, Format, WriteOptions};
use chapmark::probe::{Container, ProbeInfo};
use chapmark::report;
use chapmark::write::{Plan, id3, mp4, safe};
use chapmark::{ChapterList, SampleTime};
use std::path::Path;

/// What a write did, for the summary line and batch reports.
pub struct Written {
    pub plan_kind: &'static str,
    pub bytes: u64,
}

/// Plans writing `list` into `audio` (already probed as `info`).
pub fn plan_write(
    audio: &Path,
    info: &ProbeInfo,
    list: &ChapterList,
    id3v2: Option<u8>,
    descriptions: bool,
    mp4_kinds: Mp4ChaptersArg,
) -> anyhow::Result<Plan> {
    match info.container {
        Container::Mp3 => {
            let opts = id3::Id3Options {
                version: id3v2,
                descriptions,
                ..id3::Id3Options::default()
            };
            Ok(id3::plan_write(audio, list, info.duration, &opts)?)
        }
        Container::Mp4 => {
            let opts = mp4::Mp4Options {
                kinds: match mp4_kinds {
                    Mp4ChaptersArg::Nero => mp4::Mp4Chapters::Nero,
                    Mp4ChaptersArg::Quicktime => mp4::Mp4Chapters::QuickTime,
                    Mp4ChaptersArg::Both => mp4::Mp4Chapters::Both,
                },
                ..mp4::Mp4Options::default()
            };
            Ok(mp4::plan_write(audio, list, info.duration, &opts)?)
        }
        other => Err(unsupported(audio, other)),
    }
}

fn unsupported(audio: &Path, c: Container) -> anyhow::Error {
    anyhow::anyhow!(
        "{}: writing chapters into {} files is not supported (mp3 and m4a/m4b/mp4 are)",
        audio.display(),
        c.name()
    )
}

/// Applies a plan in place or to `out`.
pub fn apply(audio: &Path, out: Option<&Path>, plan: &Plan) -> anyhow::Result<Written> {
    let plan_kind = match plan {
        Plan::Unchanged => "unchanged",
        Plan::Patch(_) => "in place",
        Plan::Rebuild(_) => "rewritten",
    };
    let bytes = match out {
        Some(out) => safe::apply_to(audio, out, plan)?,
        None => safe::apply(audio, plan)?,
    };
    Ok(Written { plan_kind, bytes })
}

pub fn run_write(args: WriteArgs, ui: Ui) -> Outcome {
    let info = common::probe_audio(&args.audio)?;
    if !matches!(info.container, Container::Mp3 | Container::Mp4) {
        return Err(unsupported(&args.audio, info.container));
    }
    let mut loaded = common::load_chapters(&args.chapters, None)?;
    common::add_intro(&mut loaded.parsed.list, args.intro.as_deref());
    let ctx = common::context(
        Some(info.duration),
        args.validate.profile,
        common::target_for(info.container),
    );
    let audio_name = args.audio.display().to_string();
    let (report, diags) =
        common::validate_report(audio_name.clone(), Some(loaded.name), &loaded.parsed, &ctx);
    if !report::passed(&diags, args.validate.deny_warnings) {
        common::print_rejection(ui, &report, args.validate.deny_warnings);
        eprintln!("chapmark: {audio_name} was not changed");
        return Ok(ExitStatus::Invalid);
    }
    common::print_warnings(ui, &report);

    let list = &loaded.parsed.list;
    let plan = plan_write(
        &args.audio,
        &info,
        list,
        args.id3v2,
        args.descriptions,
        args.mp4_chapters,
    )?;
    if args.dry_run {
        let json = format::write(Format::Json, list, &end_opts(info.duration));
        emit(None, &json)?;
        if !ui.quiet {
            eprintln!(
                "chapmark: dry run: would write {} chapters to {audio_name} ({}, {} bytes); nothing written",
                list.len(),
                describe(&plan),
                plan.bytes_written()
            );
        }
        return Ok(ExitStatus::Ok);
    }
    let written = apply(&args.audio, args.output.as_deref(), &plan)?;
    if !ui.quiet {
        let dest = args.output.as_deref().unwrap_or(&args.audio).display();
        eprintln!(
            "chapmark: wrote {} chapters to {dest} ({}, {} bytes written)",
            list.len(),
            written.plan_kind,
            written.bytes
        );
    }
    Ok(ExitStatus::Ok)
}

fn describe(plan: &Plan) -> &'static str {
    match plan {
        Plan::Unchanged => "already up to date",
        Plan::Patch(_) => "in place",
        Plan::Rebuild(_) => "rewriting the file",
    }
}

fn end_opts(duration: SampleTime) -> WriteOptions {
    WriteOptions::with_duration(Some(duration.to_time_round()))
}

pub fn run_show(args: ShowArgs, _ui: Ui) -> Outcome {
    let info = common::probe_audio(&args.audio)?;
    let list = common::embedded_chapters(&args.audio, info.container)?;
    let bytes = format::write(args.to, &list, &end_opts(info.duration));
    emit(None, &bytes)?;
    Ok(ExitStatus::Ok)
}

pub fn run_strip(args: StripArgs, ui: Ui) -> Outcome {
    let info = common::probe_audio(&args.audio)?;
    let plan = match info.container {
        Container::Mp3 => id3::plan_strip(&args.audio)?,
        Container::Mp4 => mp4::plan_strip(&args.audio)?,
        other => return Err(unsupported(&args.audio, other)),
    };
    let written = apply(&args.audio, args.output.as_deref(), &plan)?;
    if !ui.quiet {
        let dest = args.output.as_deref().unwrap_or(&args.audio).display();
        if matches!(plan, Plan::Unchanged) {
            eprintln!("chapmark: {dest} has no chapters; nothing to strip");
        } else {
            eprintln!(
                "chapmark: removed chapters from {dest} ({}, {} bytes written)",
                written.plan_kind, written.bytes
            );
        }
    }
    Ok(ExitStatus::Ok)
}
