//! `chapmark write`, `show` and `strip`: chapters into, out of, and off audio files.

use super::common::{self, emit};
use super::{Outcome, Ui};
use crate::cli::{ExitStatus, Mp4ChaptersArg, ShowArgs, StripArgs, WriteArgs};
use chapmark::EmbedOptions;
use chapmark::PlanKind;
use chapmark::SampleTime;
use chapmark::api::embed::{self, add_intro, apply, as_stored, same_target};
use chapmark::api::lock::{Access, prepare_audio};
use chapmark::container::mp4::Mp4Chapters;
use chapmark::format::{self, Format, WriteOptions};
use chapmark::probe::Container;
use chapmark::report;
use chapmark::write::Plan;
use std::path::Path;

/// The library's options for a `write` from the command line's.
pub fn embed_options(
    id3v2: Option<u8>,
    descriptions: bool,
    mp4_kinds: Mp4ChaptersArg,
) -> EmbedOptions {
    let mut opts = EmbedOptions::default();
    opts.id3v2 = id3v2;
    opts.descriptions = descriptions;
    opts.mp4_chapters = match mp4_kinds {
        Mp4ChaptersArg::Nero => Mp4Chapters::Nero,
        Mp4ChaptersArg::Quicktime => Mp4Chapters::QuickTime,
        Mp4ChaptersArg::Both => Mp4Chapters::Both,
    };
    opts
}

pub fn run_write(args: WriteArgs, ui: Ui) -> Outcome {
    let access = if args.dry_run {
        Access::Read
    } else {
        Access::Write
    };
    let _guard = prepare_audio(&args.audio, access)?;
    let info = common::probe_audio(&args.audio)?;
    if !embed::holds_chapters(info.container) {
        return Err(embed::unsupported(&args.audio, info.container).into());
    }
    warn_unused_options(&args, info.container);
    let mut loaded = common::load_chapters(&args.chapters, None)?;
    add_intro(&mut loaded.parsed.list, args.intro.as_deref());
    if let Some(window) = &args.snap {
        let show = args.dry_run && !ui.quiet;
        super::snap::apply(&args.audio, &info, &mut loaded.parsed.list, window, show)?;
    }
    let ctx = common::context(
        Some(info.duration),
        args.validate.profile,
        embed::target_for(info.container),
    );
    let audio_name = args.audio.display().to_string();
    let report =
        common::validate_report(audio_name.clone(), Some(loaded.name), &loaded.parsed, &ctx);
    if !report::passed(&report.diagnostics, args.validate.deny_warnings) {
        common::print_rejection(ui, &report, args.validate.deny_warnings);
        eprintln!("chapmark: {audio_name} was not changed");
        return Ok(ExitStatus::Invalid);
    }
    common::print_warnings(ui, &report);

    let list = &loaded.parsed.list;
    let opts = embed_options(args.id3v2, args.descriptions, args.mp4_chapters);
    let plan = embed::plan_write(&args.audio, &info, list, &opts)?;
    if args.dry_run {
        let stored = as_stored(list, info.container, opts.mp4_chapters);
        let json = format::write(Format::Json, &stored, &end_opts(info.duration));
        emit(None, &json)?;
        if !ui.quiet {
            let out = args
                .output
                .as_deref()
                .filter(|o| !same_target(&args.audio, o));
            let (dest, how, bytes) = match out {
                Some(o) => (
                    o.display().to_string(),
                    "a new file",
                    plan_output_len(&plan, &args.audio),
                ),
                None => (audio_name.clone(), describe(&plan), plan.bytes_written()),
            };
            eprintln!(
                "chapmark: dry run: would write {} chapters to {dest} ({how}, {bytes} bytes); nothing written",
                list.len(),
            );
        }
        return Ok(ExitStatus::Ok);
    }
    let written = apply(&args.audio, args.output.as_deref(), &plan)?;
    if !ui.quiet {
        let dest = args.output.as_deref().unwrap_or(&args.audio).display();
        if written.kind == PlanKind::Unchanged {
            eprintln!(
                "chapmark: {dest} already has these {} chapters; nothing written",
                list.len()
            );
        } else {
            eprintln!(
                "chapmark: wrote {} chapters to {dest} ({}, {} bytes written)",
                list.len(),
                written.kind,
                written.bytes
            );
        }
    }
    Ok(ExitStatus::Ok)
}

/// Says so when an option has no effect on this kind of file, rather than ignoring it
/// silently (a script meant for MP3s run on M4As).
fn warn_unused_options(args: &WriteArgs, container: Container) {
    let name = args.audio.display();
    if container == Container::Mp4 {
        if args.id3v2.is_some() {
            log::warn!("{name}: --id3v2 applies to mp3 files only; ignored");
        }
        if args.descriptions {
            log::warn!("{name}: mp4 chapters have no description field; --descriptions ignored");
        }
    } else if args.mp4_chapters != Mp4ChaptersArg::Both {
        log::warn!("{name}: --mp4-chapters applies to mp4/m4a files only; ignored");
    }
}

/// Length of the file a plan produces when written to a new path.
fn plan_output_len(plan: &Plan, audio: &Path) -> u64 {
    plan.output_len(std::fs::metadata(audio).map_or(0, |m| m.len()))
}

fn describe(plan: &Plan) -> &'static str {
    match plan {
        Plan::Unchanged => "already up to date",
        // Only the bytes that differ are written in the end; this is the region's size.
        Plan::Patch(_) => "in place, at most",
        Plan::Rebuild(_) => "rewriting the file",
        // The audio is shifted by the file system, not copied; this is the new tag's size.
        Plan::Insert { .. } => "growing the tag in place",
        _ => "writing",
    }
}

fn end_opts(duration: SampleTime) -> WriteOptions {
    WriteOptions::with_duration(Some(duration.to_time_round()))
}

pub fn run_show(args: ShowArgs, _ui: Ui) -> Outcome {
    let _guard = prepare_audio(&args.audio, Access::Read)?;
    let info = common::probe_audio(&args.audio)?;
    let list = embed::read_embedded_of(&args.audio, info.container)?;
    let bytes = format::write(args.to, &list, &end_opts(info.duration));
    emit(None, &bytes)?;
    Ok(ExitStatus::Ok)
}

pub fn run_strip(args: StripArgs, ui: Ui) -> Outcome {
    let _guard = prepare_audio(&args.audio, Access::Write)?;
    let info = common::probe_audio(&args.audio)?;
    let plan = embed::plan_strip(&args.audio, &info)?;
    let written = apply(&args.audio, args.output.as_deref(), &plan)?;
    if !ui.quiet {
        let dest = args.output.as_deref().unwrap_or(&args.audio).display();
        if written.kind == PlanKind::Unchanged {
            eprintln!("chapmark: {dest} has no chapters; nothing to strip");
        } else if written.kind == PlanKind::Copied {
            eprintln!("chapmark: {dest}: copied (the input has no chapters)");
        } else {
            eprintln!(
                "chapmark: removed chapters from {dest} ({}, {} bytes written)",
                written.kind, written.bytes
            );
        }
    }
    Ok(ExitStatus::Ok)
}
