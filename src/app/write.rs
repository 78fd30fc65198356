//! `chapmark write`, `show` and `strip`: chapters into, out of, and off audio files.

use super::common::{self, emit};
use super::{Outcome, Ui};
use crate::cli::{ExitStatus, Id3Version, Mp4ChaptersArg, ShowArgs, StripArgs, WriteArgs};
use chapmark::EmbedOptions;
use chapmark::PlanKind;
use chapmark::SampleTime;
use chapmark::api::embed::{self, add_intro, apply, as_stored, same_target};
use chapmark::api::lock::{Access, prepare_audio};
use chapmark::container::mp4::Mp4Chapters;
use chapmark::format::{self, Format, WriteOptions};
use chapmark::probe::{Container, ProbeInfo};
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
    super::stdin::refuse_stdin(&args.audio, "write")?;
    let access = if args.dry_run {
        Access::Read
    } else {
        Access::Write
    };
    let _guard = prepare_audio(&args.audio, access)?;
    let info = common::probe_for_write(&args.audio, args.verify)?;
    if !embed::holds_chapters(info.container) {
        return Err(embed::unsupported(&args.audio, info.container).into());
    }
    warn_unused_options(&args, info.container);
    let mut loaded = common::load_chapters(args.chapters_path(), None)?;
    let mut missing = common::load_images(&mut loaded, args.chapters_path());
    missing.extend(common::fetch_images(&mut loaded, &args.fetch));
    add_intro(&mut loaded.parsed.list, args.intro.as_deref());
    if let Some(window) = &args.snap {
        let show = args.dry_run && !ui.quiet;
        super::snap::apply(&args.audio, &info, &mut loaded.parsed.list, window, show)?;
    }
    let audio_name = args.audio.display().to_string();
    let mut report = validate_for_write(&args, &info, &loaded)?;
    report.diagnostics.extend(missing);
    if !report::passed(&report.diagnostics, args.validate.deny_warnings) {
        common::print_rejection(ui, &report, args.validate.deny_warnings);
        eprintln!("chapmark: {audio_name} was not changed");
        return Ok(ExitStatus::Invalid);
    }
    common::print_warnings(ui, &report);
    common::note_first_after_zero(
        ui,
        args.validate.profile,
        args.intro.as_deref(),
        &loaded.parsed.list,
    );

    let list = &loaded.parsed.list;
    let opts = embed_options(
        args.id3v2.map(Id3Version::number),
        args.descriptions,
        args.mp4_chapters,
    );
    let plan = embed::plan_write(&args.audio, &info, list, &opts)?;
    if args.dry_run {
        let stored = as_stored(list, info.container, opts.mp4_chapters);
        let json = format::write(Format::Json, &stored, &end_opts(info.duration));
        emit(None, &json)?;
        if !ui.quiet {
            say_dry_run(&args, &plan, &stored);
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
                "chapmark: wrote {} chapters{} to {dest} ({})",
                list.len(),
                images_note(&as_stored(list, info.container, opts.mp4_chapters)),
                in_words(written.kind, args.output.is_some())
            );
            log::info!("{dest}: {}, {} bytes written", written.kind, written.bytes);
        }
    }
    Ok(ExitStatus::Ok)
}

/// What a dry run would have done, on standard error.
fn say_dry_run(args: &WriteArgs, plan: &Plan, stored: &chapmark::ChapterList) {
    let out = args
        .output
        .as_deref()
        .filter(|o| !same_target(&args.audio, o));
    let (dest, how, bytes) = match out {
        Some(o) => (
            o.display().to_string(),
            "a new file",
            plan_output_len(plan, &args.audio),
        ),
        None => (
            args.audio.display().to_string(),
            describe(plan),
            plan.bytes_written(),
        ),
    };
    eprintln!(
        "chapmark: dry run: would write {} chapters{} to {dest} ({how}, {bytes} bytes); nothing written",
        stored.len(),
        images_note(stored),
    );
}

/// ` with 3 images (24310 bytes)` when the stored chapters carry images, else nothing.
fn images_note(stored: &chapmark::ChapterList) -> String {
    let count = stored
        .chapters
        .iter()
        .filter(|c| c.picture.is_some())
        .count();
    if count == 0 {
        return String::new();
    }
    let bytes = chapmark::image::image_bytes(stored);
    let s = if count == 1 { "" } else { "s" };
    format!(" with {count} image{s} ({bytes} bytes)")
}

/// What a write did, in a producer's words: a byte count and "rewritten" read like
/// re-encoding, while chapmark only ever copies the audio bit for bit.
fn in_words(kind: PlanKind, to_new_file: bool) -> &'static str {
    match kind {
        PlanKind::InPlace if !to_new_file => "audio untouched; tag updated in place",
        PlanKind::GrownInPlace if !to_new_file => "audio untouched; tag enlarged in place",
        _ if to_new_file => "audio copied unchanged into the new file",
        _ => "audio copied unchanged; file rebuilt around it",
    }
}

/// Validates the chapters as this write would store them: the list rules for the target
/// (only a chapter track written: the `chpl`'s limits do not apply), and the file rules for
/// the tag version the write will produce.
fn validate_for_write(
    args: &WriteArgs,
    info: &ProbeInfo,
    loaded: &common::Loaded,
) -> anyhow::Result<report::FileReport> {
    let mut opts = embed_options(
        args.id3v2.map(Id3Version::number),
        args.descriptions,
        args.mp4_chapters,
    );
    opts.profile = args.validate.profile;
    let target = embed::target_for(info.container);
    let mut ctx = common::context(Some(info.duration), args.validate.profile, target);
    ctx.stream_changes = chapmark::validate::stream_changes(info);
    let parsed = &loaded.parsed;
    let limits = embed::write_limits(info.container, &opts);
    let mut report = report::FileReport {
        path: args.audio.display().to_string(),
        source: Some(loaded.name.clone()),
        duration: ctx.duration,
        diagnostics: parsed.validate_with(&ctx, &limits),
        chapters: parsed.list.len(),
    };
    let extra = embed::file_diagnostics(&args.audio, info, &loaded.parsed.list, &opts)?;
    report.diagnostics.extend(extra);
    report
        .diagnostics
        .sort_by_key(|d| (d.line.is_some() || d.chapter.is_some(), d.line, d.chapter));
    Ok(report)
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
    if matches!(container, Container::Flac | Container::Ogg) {
        if args.id3v2.is_some() {
            log::warn!("{name}: --id3v2 applies to mp3 files only; ignored");
        }
        if args.descriptions {
            log::warn!(
                "{name}: vorbis comments have no chapter description; --descriptions ignored"
            );
        }
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
        // An M4A `moov` at the end: the file grows there; this is the new `moov`'s size.
        Plan::Extend { .. } => "growing the file at its end",
        _ => "writing",
    }
}

fn end_opts(duration: SampleTime) -> WriteOptions {
    WriteOptions::with_duration(Some(duration.to_time_round()))
}

pub fn run_show(args: ShowArgs, ui: Ui) -> Outcome {
    let input = super::stdin::audio_input(&args.audio)?;
    let read = || -> anyhow::Result<_> {
        let audio = input.path();
        let _guard = prepare_audio(audio, Access::Read)?;
        let info = common::probe_audio(audio)?;
        Ok((embed::read_embedded_of(audio, info.container)?, info))
    };
    let (mut list, info) = read().map_err(|e| input.rename_error(e))?;
    match &args.images {
        Some(dir) => save_images(&mut list, dir)?,
        None => summarise_images(&mut list),
    }
    let bytes = format::write(args.to, &list, &end_opts(info.duration));
    emit(None, &bytes)?;
    // An empty list (or no output at all for line formats) looks like a failure to a person;
    // say it on stderr so stdout stays exactly what the format gives.
    if list.is_empty() && !ui.quiet {
        eprintln!(
            "chapmark: {} has no embedded chapters",
            args.audio.display()
        );
    }
    Ok(ExitStatus::Ok)
}

/// Writes each embedded image to `dir` as `chapter-NN.EXT` and names that file as the
/// chapter's image, so the printed chapters refer to the files.
fn save_images(list: &mut chapmark::ChapterList, dir: &Path) -> anyhow::Result<()> {
    if !list.chapters.iter().any(|c| c.picture.is_some()) {
        return Ok(());
    }
    std::fs::create_dir_all(dir)
        .map_err(|e| anyhow::anyhow!("cannot create {}: {e}", dir.display()))?;
    let width = list.len().to_string().len().max(2);
    for (i, ch) in list.chapters.iter_mut().enumerate() {
        let Some(pic) = ch.picture.take() else {
            continue;
        };
        let name = format!("chapter-{:0width$}.{}", i + 1, pic.extension());
        let path = dir.join(name);
        std::fs::write(&path, &pic.data)
            .map_err(|e| anyhow::anyhow!("cannot write {}: {e}", path.display()))?;
        ch.image = Some(path.display().to_string());
    }
    Ok(())
}

/// Describes each embedded image (`image/jpeg 308 bytes`) where its reference would go.
fn summarise_images(list: &mut chapmark::ChapterList) {
    for ch in &mut list.chapters {
        if let Some(pic) = ch.picture.take() {
            ch.image = Some(pic.summary());
        }
    }
}

pub fn run_strip(args: StripArgs, ui: Ui) -> Outcome {
    super::stdin::refuse_stdin(&args.audio, "strip")?;
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
                "chapmark: removed chapters from {dest} ({})",
                in_words(written.kind, args.output.is_some())
            );
            log::info!("{dest}: {}, {} bytes written", written.kind, written.bytes);
        }
    }
    Ok(ExitStatus::Ok)
}
