//! `chapmark write`, `show` and `strip`: chapters into, out of, and off audio files.

use super::common::{self, emit};
use super::lockwait;
use super::{Outcome, Ui};
use chapmark::cli::{ExitStatus, Mp4ChaptersArg, ShowArgs, StripArgs, WriteArgs};
use chapmark::format::{self, Format, WriteOptions};
use chapmark::probe::{Container, ProbeInfo};
use chapmark::report;
use chapmark::write::{Plan, WriteError, id3, mp4, safe, special};
use chapmark::{ChapterList, SampleTime};
use std::fs::File;
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
    let stored = as_stored(list, info.container, mp4_kinds);
    let list = &stored;
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

/// How a command is going to use an audio file.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Access {
    /// Only reads it (`show`, `check`): other readers may work at the same time.
    Read,
    /// May change it (`write`, `strip`, `batch`): nobody else may read or write meanwhile.
    Write,
}

/// Held while a command works on an audio file; dropping it lets other chapmark processes in.
pub struct AudioGuard {
    _lock: Option<File>,
}

/// Gets a file ready for any read: waits for a chapmark process that is writing it, then
/// finishes whatever an interrupted write left ([`safe::recover`]: rolls back a half-applied
/// in-place patch, deletes a stale temporary file), so the probe, the chapter reader and the
/// planner never see a half-written file.
///
/// The advisory lock (shared for [`Access::Read`], exclusive for [`Access::Write`]) is what
/// makes recovering from a reader safe: without it, `show` running next to a live `write`
/// would take that write's journal for a leftover and roll back a patch in mid-flight. A file
/// that does not exist is left to the probe to report; a filesystem without locks is used
/// without one.
pub fn prepare_audio(path: &Path, access: Access) -> anyhow::Result<AudioGuard> {
    let Ok(target) = safe::resolve_target(path) else {
        return Ok(AudioGuard { _lock: None });
    };
    // A named pipe would block every open below (forever, in a batch); a device is no file.
    if let Ok(meta) = std::fs::metadata(&target) {
        special::check_regular(&meta.file_type())
            .map_err(|e| anyhow::anyhow!("{}: {e}", path.display()))?;
    }
    let lock = lock_file(&target, access)?;
    match safe::recover(&target) {
        // A reader leaves a journal that is not provably this file's alone (and the file with
        // it); a writer refuses, since the file may be half-written.
        Err(e @ WriteError::ForeignJournal { .. }) if access == Access::Read => {
            log::warn!("{e}");
        }
        other => {
            other?;
        }
    }
    Ok(AudioGuard { _lock: lock })
}

/// Locks the file at `target`, retrying when a rebuild renamed a new file over the one we
/// locked while we waited. `None` when locking is impossible (opening failed: the probe
/// will say why; or the filesystem has no locks). Waiting is announced and bounded
/// ([`lockwait::wait`]).
fn lock_file(target: &Path, access: Access) -> anyhow::Result<Option<File>> {
    loop {
        let Ok(file) = special::open_regular(target) else {
            return Ok(None);
        };
        match flock(&file, access) {
            Ok(()) => {}
            Err(e) if e.kind() == std::io::ErrorKind::WouldBlock => {
                lockwait::wait(target, || match flock(&file, access) {
                    Ok(()) => Ok(true),
                    Err(e) if e.kind() == std::io::ErrorKind::WouldBlock => Ok(false),
                    Err(e) => Err(e),
                })?;
            }
            Err(e) => {
                log::debug!("{}: cannot lock: {e}", target.display());
                return Ok(None);
            }
        }
        if is_same_file(&file, target) {
            return Ok(Some(file));
        }
    }
}

/// `flock(2)` without blocking: shared for readers, exclusive for writers.
#[cfg(unix)]
fn flock(file: &File, access: Access) -> std::io::Result<()> {
    use std::os::fd::AsRawFd;
    let op = libc::LOCK_NB
        | match access {
            Access::Read => libc::LOCK_SH,
            Access::Write => libc::LOCK_EX,
        };
    loop {
        // SAFETY: flock reads only the descriptor, which `file` keeps open during the call.
        if unsafe { libc::flock(file.as_raw_fd(), op) } == 0 {
            return Ok(());
        }
        let err = std::io::Error::last_os_error();
        if err.kind() != std::io::ErrorKind::Interrupted {
            return Err(err);
        }
    }
}

#[cfg(not(unix))]
fn flock(_: &File, _: Access) -> std::io::Result<()> {
    Err(std::io::Error::new(
        std::io::ErrorKind::Unsupported,
        "advisory locks are only taken on unix",
    ))
}

#[cfg(unix)]
fn is_same_file(file: &File, path: &Path) -> bool {
    use std::os::unix::fs::MetadataExt;
    match (file.metadata(), std::fs::metadata(path)) {
        (Ok(a), Ok(b)) => a.dev() == b.dev() && a.ino() == b.ino(),
        // The path is gone (renamed away mid-wait): the probe will report it.
        _ => true,
    }
}

#[cfg(not(unix))]
fn is_same_file(_: &File, _: &Path) -> bool {
    true
}

/// Applies a plan in place or to `out`. An `out` that names the input itself (or a link to
/// it) is an in-place write, so it keeps the input's permissions and links like one.
pub fn apply(audio: &Path, out: Option<&Path>, plan: &Plan) -> anyhow::Result<Written> {
    let out = out.filter(|o| !same_target(audio, o));
    let plan_kind = match (plan, out) {
        (Plan::Unchanged, None) => "unchanged",
        (Plan::Unchanged, Some(_)) => "copied",
        (Plan::Patch(_), None) => "in place",
        (Plan::Insert { .. }, None) => "grown in place",
        (Plan::Patch(_) | Plan::Insert { .. }, Some(_)) | (Plan::Rebuild(_), _) => "rewritten",
    };
    let bytes = match out {
        Some(out) => safe::apply_to(audio, out, plan)?,
        None => safe::apply(audio, plan)?,
    };
    Ok(Written { plan_kind, bytes })
}

/// Whether `out` is the same file as `audio` (both exist and resolve to one path).
fn same_target(audio: &Path, out: &Path) -> bool {
    match (safe::resolve_target(audio), safe::resolve_target(out)) {
        (Ok(a), Ok(b)) => a == b,
        _ => false,
    }
}

pub fn run_write(args: WriteArgs, ui: Ui) -> Outcome {
    super::stdin::refuse_stdin(&args.audio, "write")?;
    let access = if args.dry_run {
        Access::Read
    } else {
        Access::Write
    };
    let _guard = prepare_audio(&args.audio, access)?;
    let info = common::probe_audio(&args.audio)?;
    if !matches!(info.container, Container::Mp3 | Container::Mp4) {
        return Err(unsupported(&args.audio, info.container));
    }
    warn_unused_options(&args, info.container);
    let mut loaded = common::load_chapters(&args.chapters, None)?;
    common::add_intro(&mut loaded.parsed.list, args.intro.as_deref());
    let ctx = common::context(
        Some(info.duration),
        args.validate.profile,
        common::target_for(info.container),
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
    let plan = plan_write(
        &args.audio,
        &info,
        list,
        args.id3v2,
        args.descriptions,
        args.mp4_chapters,
    )?;
    if args.dry_run {
        let stored = as_stored(list, info.container, args.mp4_chapters);
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
        if written.plan_kind == "unchanged" {
            eprintln!(
                "chapmark: {dest} already has these {} chapters; nothing written",
                list.len()
            );
        } else {
            eprintln!(
                "chapmark: wrote {} chapters to {dest} ({}, {} bytes written)",
                list.len(),
                written.plan_kind,
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

/// The chapters as the container will hold them: URLs in the ASCII form both writers store
/// (IDNA host, percent-encoded path), and none where the container has no room for them —
/// in MP4 files when only the Nero list (no URL field) is written, or when the URL is longer
/// than the 255 bytes of an `href` box (validation has already warned `url-too-long`; the
/// chapter is written without its link rather than failing the whole write). What is
/// planned is exactly what `--dry-run` prints.
fn as_stored(list: &ChapterList, container: Container, kinds: Mp4ChaptersArg) -> ChapterList {
    let mut stored = list.clone();
    let mp4 = container == Container::Mp4;
    for c in &mut stored.chapters {
        let Some(link) = &mut c.link else { continue };
        link.url = id3::ascii_url(&link.url);
        if mp4 && (kinds == Mp4ChaptersArg::Nero || link.url.len() > MAX_MP4_URL) {
            c.link = None;
        }
    }
    stored
}

/// Longest URL an MP4 chapter-track `href` box holds (its length is one byte).
const MAX_MP4_URL: usize = 255;

/// Length of the file a plan produces when written to a new path.
fn plan_output_len(plan: &Plan, audio: &Path) -> u64 {
    match plan {
        Plan::Rebuild(_) => plan.bytes_written(),
        Plan::Unchanged | Plan::Patch(_) | Plan::Insert { .. } => {
            plan.output_len(std::fs::metadata(audio).map_or(0, |m| m.len()))
        }
    }
}

fn describe(plan: &Plan) -> &'static str {
    match plan {
        Plan::Unchanged => "already up to date",
        // Only the bytes that differ are written in the end; this is the region's size.
        Plan::Patch(_) => "in place, at most",
        Plan::Rebuild(_) => "rewriting the file",
        // The audio is shifted by the file system, not copied; this is the new tag's size.
        Plan::Insert { .. } => "growing the tag in place",
    }
}

fn end_opts(duration: SampleTime) -> WriteOptions {
    WriteOptions::with_duration(Some(duration.to_time_round()))
}

pub fn run_show(args: ShowArgs, _ui: Ui) -> Outcome {
    let input = super::stdin::audio_input(&args.audio)?;
    let read = || -> anyhow::Result<_> {
        let audio = input.path();
        let _guard = prepare_audio(audio, Access::Read)?;
        let info = common::probe_audio(audio)?;
        Ok((common::embedded_chapters(audio, info.container)?, info))
    };
    let (list, info) = read().map_err(|e| input.rename_error(e))?;
    let bytes = format::write(args.to, &list, &end_opts(info.duration));
    emit(None, &bytes)?;
    Ok(ExitStatus::Ok)
}

pub fn run_strip(args: StripArgs, ui: Ui) -> Outcome {
    super::stdin::refuse_stdin(&args.audio, "strip")?;
    let _guard = prepare_audio(&args.audio, Access::Write)?;
    let info = common::probe_audio(&args.audio)?;
    let plan = match info.container {
        Container::Mp3 => id3::plan_strip(&args.audio)?,
        Container::Mp4 => mp4::plan_strip(&args.audio)?,
        other => return Err(unsupported(&args.audio, other)),
    };
    let written = apply(&args.audio, args.output.as_deref(), &plan)?;
    if !ui.quiet {
        let dest = args.output.as_deref().unwrap_or(&args.audio).display();
        if written.plan_kind == "unchanged" {
            eprintln!("chapmark: {dest} has no chapters; nothing to strip");
        } else if written.plan_kind == "copied" {
            eprintln!("chapmark: {dest}: copied (the input has no chapters)");
        } else {
            eprintln!(
                "chapmark: removed chapters from {dest} ({}, {} bytes written)",
                written.plan_kind, written.bytes
            );
        }
    }
    Ok(ExitStatus::Ok)
}
