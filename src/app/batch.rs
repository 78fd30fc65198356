//! `chapmark batch`: check or tag a whole archive, in parallel, resumably, shardably.

use super::batch_commit::{Pending, Processed, pipeline};
use super::batch_source::{Episodes, Job, episodes};
use super::common;
use super::io::usage;
use super::{Outcome, Ui};
use crate::cli::{BatchArgs, ExitStatus, Mp4ChaptersArg};
use chapmark::ChapterList;
use chapmark::api::embed::{self, add_intro};
use chapmark::api::lock::{Access, prepare_audio};
use chapmark::batch::{self, Entry, Record, Shard, Status};
use chapmark::format::text::ParseIssue;
use chapmark::report;
use chapmark::validate::Diagnostic;
use chapmark::write::Plan;
use indicatif::{ProgressBar, ProgressStyle};
use std::fs;
use std::io::{BufWriter, Write};
use std::path::{Path, PathBuf};
use std::sync::Mutex;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Instant;

pub fn run(args: BatchArgs, ui: Ui) -> Outcome {
    let jobs = jobs(args.jobs)?;
    let Episodes {
        jobs: entries,
        total: remaining,
        ..
    } = select_entries(&args, ui)?;
    let total = remaining.load(Ordering::Relaxed);
    log::info!("{total} episodes, {jobs} jobs");

    let report_file = match &args.report {
        Some(p) => Some(Mutex::new(BufWriter::new(
            fs::File::create(p).map_err(|e| anyhow::anyhow!("{}: {e}", p.display()))?,
        ))),
        None => None,
    };
    let progress = (ui.tty_err && !ui.quiet).then(|| progress_bar(total));
    let counts: Vec<AtomicUsize> = Status::ALL.iter().map(|_| AtomicUsize::new(0)).collect();
    let done = AtomicUsize::new(0);
    let report_error = Mutex::new(None::<std::io::Error>);

    let pool = rayon::ThreadPoolBuilder::new()
        .num_threads(jobs)
        .build()
        .map_err(|e| anyhow::anyhow!("cannot start {jobs} worker threads: {e}"))?;
    let emit = |record: Record| {
        let idx = Status::ALL
            .iter()
            .position(|s| *s == record.status)
            .unwrap_or(0);
        counts[idx].fetch_add(1, Ordering::Relaxed);
        let n = done.fetch_add(1, Ordering::Relaxed) + 1;
        // Less the duplicates skipped so far (found while the run streams the episodes).
        let total = remaining.load(Ordering::Relaxed);
        show_progress(progress.as_ref(), &record, n, total, ui.quiet);
        if let Some(file) = &report_file {
            append_record(file, &record, &report_error);
        }
    };
    pipeline(&pool, entries, |job| process_guarded(&job, &args), &emit);
    if let Some(bar) = progress {
        bar.finish_and_clear();
    }
    if let Ok(Some(e)) = report_error.into_inner() {
        let name = args.report.as_deref().unwrap_or(Path::new("")).display();
        return Err(anyhow::anyhow!("{name}: writing the report failed: {e}"));
    }

    let count = |s: Status| {
        Status::ALL
            .iter()
            .position(|x| *x == s)
            .map_or(0, |i| counts[i].load(Ordering::Relaxed))
    };
    let total = remaining.load(Ordering::Relaxed);
    if !ui.quiet {
        print_summary(count, total);
    }
    Ok(if count(Status::Unreadable) > 0 {
        ExitStatus::Input
    } else if count(Status::Invalid) > 0 {
        ExitStatus::Invalid
    } else {
        ExitStatus::Ok
    })
}

/// The episodes under the given paths, narrowed to this runner's shard, as a stream.
fn select_entries(args: &BatchArgs, ui: Ui) -> anyhow::Result<Episodes> {
    let env = |var: &str| std::env::var(var).ok();
    let shard: Option<Shard> = args
        .shard
        .as_deref()
        .map(|s| super::shard::resolve(s, args.shard_count, &env))
        .transpose()
        .map_err(usage)?;
    let episodes = episodes(&args.paths, shard)?;
    if episodes.found == 0 && !ui.quiet {
        eprintln!(
            "chapmark: warning: no audio files ({}) found",
            batch::AUDIO_EXTENSIONS.join(", ")
        );
    }
    Ok(episodes)
}

/// One finished episode on the progress bar, or as a line when there is no bar.
fn show_progress(bar: Option<&ProgressBar>, record: &Record, n: usize, total: usize, quiet: bool) {
    let line = describe(record);
    match bar {
        Some(bar) => {
            if matches!(record.status, Status::Invalid | Status::Unreadable) {
                bar.println(&line);
            }
            bar.set_message(record.path.clone());
            bar.set_length(total as u64);
            bar.inc(1);
        }
        None if !quiet => eprintln!("[{n}/{total}] {line}"),
        None => {}
    }
}

/// Worker threads: `--jobs`, else one per core.
fn jobs(arg: Option<usize>) -> anyhow::Result<usize> {
    match arg {
        Some(0) => Err(usage("--jobs must be at least 1")),
        Some(n) => Ok(n),
        None => Ok(std::thread::available_parallelism().map_or(1, |n| n.get())),
    }
}

fn progress_bar(total: usize) -> ProgressBar {
    let bar = ProgressBar::new(total as u64);
    bar.set_style(
        ProgressStyle::with_template(
            "{spinner} [{elapsed_precise}] {bar:30} {pos}/{len} eta {eta} {wide_msg}",
        )
        .unwrap_or_else(|_| ProgressStyle::default_bar()),
    );
    bar
}

/// Appends one record to the JSON-lines report, keeping the first write error for the end.
fn append_record(
    file: &Mutex<BufWriter<fs::File>>,
    record: &Record,
    report_error: &Mutex<Option<std::io::Error>>,
) {
    let json = serde_json::to_string(record).unwrap_or_default();
    if let Ok(mut f) = file.lock() {
        // Flushed per record: an interrupted run leaves a valid prefix.
        if let Err(e) = writeln!(f, "{json}").and_then(|_| f.flush()) {
            if let Ok(mut slot) = report_error.lock() {
                slot.get_or_insert(e);
            }
        }
    }
}

fn print_summary(count: impl Fn(Status) -> usize, total: usize) {
    eprintln!("\n{:<12}{:>8}", "status", "episodes");
    for s in Status::ALL {
        eprintln!("{:<12}{:>8}", s.name(), count(s));
    }
    eprintln!("{:<12}{:>8}", "total", total);
}

fn describe(r: &Record) -> String {
    let mut s = format!("{:<10} {}", r.status.name(), r.path);
    if let Some(e) = &r.error {
        // Most errors already start with the audio path; do not say it twice.
        let e = e
            .strip_prefix(r.path.as_str())
            .and_then(|rest| rest.strip_prefix(": "))
            .unwrap_or(e);
        s.push_str(&format!(": {e}"));
    } else if r.status == Status::Invalid {
        let first = r
            .diagnostics
            .iter()
            .find(|d| d.severity == chapmark::validate::Severity::Error);
        if let Some(d) = first {
            s.push_str(&format!(": {}", d.message));
        }
    }
    s
}

fn find_chapters(entry: &Entry, pattern: Option<&str>) -> Result<PathBuf, String> {
    if let Some(c) = &entry.chapters {
        return Ok(c.clone());
    }
    if let Some(p) = pattern {
        let c = batch::expand_pattern(p, &entry.audio);
        return if c.is_file() {
            Ok(c)
        } else {
            Err(format!("no chapters file at {}", c.display()))
        };
    }
    let candidates = batch::sidecar_candidates(&entry.audio);
    candidates
        .iter()
        .find(|c| c.is_file())
        .cloned()
        .ok_or_else(|| {
            let stem = entry
                .audio
                .file_stem()
                .map(|s| s.to_string_lossy().into_owned())
                .unwrap_or_default();
            format!("no chapters sidecar found (looked for {stem}.chapters.json, {stem}.txt, … next to it)")
        })
}

/// [`process`], with a panic (a bug, never expected) turned into an `unreadable` record so
/// one bad file cannot stop the rest of the archive.
fn process_guarded(job: &Job, args: &BatchArgs) -> Processed {
    let entry = match job {
        Job::Episode(entry) => entry,
        Job::Unlisted { entry, error } => {
            let mut record = blank_record(entry);
            record.error = Some(error.clone());
            return (record, None);
        }
    };
    let started = Instant::now();
    std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| process(entry, args))).unwrap_or_else(
        |payload| {
            let what = payload
                .downcast_ref::<&str>()
                .map(|s| (*s).to_string())
                .or_else(|| payload.downcast_ref::<String>().cloned())
                .unwrap_or_default();
            let mut record = blank_record(entry);
            record.error = Some(format!("internal error (please report): {what}"));
            record.elapsed_ms = elapsed_ms(started);
            (record, None)
        },
    )
}

fn blank_record(entry: &Entry) -> Record {
    Record {
        path: entry.audio.display().to_string(),
        chapters_file: None,
        status: Status::Unreadable,
        duration: None,
        chapters: 0,
        diagnostics: Vec::new(),
        bytes_written: 0,
        elapsed_ms: 0,
        error: None,
    }
}

pub(super) fn elapsed_ms(started: Instant) -> u64 {
    u64::try_from(started.elapsed().as_millis()).unwrap_or(u64::MAX)
}

/// One episode up to its plan: a finished record, or a record with the write it waits for.
/// With `--plot` the write is applied here (the picture is drawn from the written file).
fn process(entry: &Entry, args: &BatchArgs) -> Processed {
    let started = Instant::now();
    let mut record = blank_record(entry);
    let pending = match process_inner(entry, args, &mut record) {
        Ok(pending) => pending,
        Err(e) => {
            record.status = Status::Unreadable;
            record.error = Some(format!("{e:#}"));
            None
        }
    };
    if let Some(dir) = &args.plot {
        if let Some(pending) = pending {
            pending.apply_alone(&mut record);
        }
        if let Err(e) = super::plot::plot_into(dir, entry, record.chapters_file.as_deref()) {
            log::warn!("{}: no picture: {e:#}", entry.audio.display());
        }
        record.elapsed_ms = elapsed_ms(started);
        return (record, None);
    }
    record.elapsed_ms = elapsed_ms(started);
    (record, pending)
}

fn process_inner(
    entry: &Entry,
    args: &BatchArgs,
    record: &mut Record,
) -> anyhow::Result<Option<Pending>> {
    let sidecar = match args.remap_from {
        Some(_) => None,
        None => Some(
            find_chapters(entry, args.chapters_pattern.as_deref()).map_err(anyhow::Error::msg)?,
        ),
    };
    if let Some(c) = &sidecar {
        record.chapters_file = Some(c.display().to_string());
    }
    // Resuming after a killed run: wait for any other chapmark on this file, then undo a
    // half-done in-place write before measuring, so neither the duration nor the plan is made
    // from a half-written file.
    let access = if args.check {
        Access::Read
    } else {
        Access::Write
    };
    let guard = prepare_audio(&entry.audio, access)?;
    let info = common::probe_for_write(&entry.audio, args.verify)?;
    record.duration = Some(info.duration.as_secs_f64());
    let (mut list, issues, extra) = episode_chapters(entry, args, sidecar.as_deref(), record)?;
    add_intro(&mut list, args.intro.as_deref());
    record.chapters = list.len();
    let mut ctx = common::context(
        Some(info.duration),
        args.validate.profile,
        embed::target_for(info.container),
    );
    ctx.stream_changes = chapmark::validate::stream_changes(&info);
    let mut diags = chapmark::validate::validate(&list, &issues, &ctx);
    diags.extend(extra);
    let id3_version = match info.container {
        chapmark::probe::Container::Mp3 => Some(common::planned_id3_version(
            &entry.audio,
            &list,
            None,
            false,
        )?),
        _ => None,
    };
    common::add_file_diagnostics(
        &mut diags,
        &entry.audio,
        info.container,
        &list,
        id3_version,
        false,
        args.validate.profile,
    );
    let ok = report::passed(&diags, args.validate.deny_warnings);
    record.diagnostics = diags;
    if !ok {
        record.status = Status::Invalid;
        return Ok(None);
    }
    if args.check {
        record.status = Status::Ok;
        return Ok(None);
    }
    let opts = super::write::embed_options(None, false, Mp4ChaptersArg::Both);
    let plan = embed::plan_write(&entry.audio, &info, &list, &opts)?;
    if matches!(plan, Plan::Unchanged) {
        record.status = Status::Unchanged;
        return Ok(None);
    }
    // Written by the committer, with its group; the lock stays held until then.
    Ok(Some(Pending {
        audio: entry.audio.clone(),
        plan,
        guard,
        walked: rerun_walks(&info, args.verify),
    }))
}

/// Whether measuring the file again (a rerun) reads all of it: an MP3 whose header does not
/// prove its length. With `--verify` every file was walked just now, but a rerun skips the
/// walk where the header proves the length: a file with a Xing/LAME header is taken to be one.
fn rerun_walks(info: &chapmark::probe::ProbeInfo, verify: bool) -> bool {
    info.mp3
        .as_ref()
        .is_some_and(|d| !(d.length_from_header || verify && d.vbr_header.is_some()))
}

/// The episode's chapters: its sidecar (with the images it names loaded; a missing one is an
/// `image-missing` diagnostic), or with `--remap-from` the old version's chapters remapped.
fn episode_chapters(
    entry: &Entry,
    args: &BatchArgs,
    sidecar: Option<&Path>,
    record: &mut Record,
) -> anyhow::Result<(ChapterList, Vec<ParseIssue>, Vec<Diagnostic>)> {
    match (sidecar, &args.remap_from) {
        (Some(c), _) => {
            let mut loaded = common::load_chapters(c, None)?;
            let mut missing = common::load_images(&mut loaded, c);
            missing.extend(common::fetch_images(&mut loaded, &args.fetch));
            Ok((loaded.parsed.list, loaded.parsed.issues, missing))
        }
        (None, Some(from)) => remapped(entry, from, record),
        (None, None) => anyhow::bail!("no chapters"),
    }
}

/// `--remap-from`: the old version's chapters (embedded, else its sidecar), remapped onto
/// this episode by matching audio; the remap's warnings join the validation's.
fn remapped(
    entry: &Entry,
    from: &Path,
    record: &mut Record,
) -> anyhow::Result<(ChapterList, Vec<ParseIssue>, Vec<Diagnostic>)> {
    let old = old_version(&from.join(&entry.key))
        .ok_or_else(|| anyhow::anyhow!("no old version at {}", from.join(&entry.key).display()))?;
    record.chapters_file = Some(old.display().to_string());
    let mut list = chapmark::read_embedded(&old)?;
    if list.is_empty() {
        let old_entry = Entry {
            audio: old.clone(),
            chapters: None,
            key: entry.key.clone(),
        };
        let sidecar = find_chapters(&old_entry, None).map_err(anyhow::Error::msg)?;
        list = common::load_chapters(&sidecar, None)?.parsed.list;
    }
    let r = chapmark::remap::remap(&old, &entry.audio, &list)?;
    Ok((r.list, Vec::new(), r.diagnostics))
}

/// The old version at `path`, or, for a back catalogue re-encoded to another container, the
/// file with the same stem and another audio extension.
fn old_version(path: &Path) -> Option<PathBuf> {
    if path.is_file() {
        return Some(path.to_path_buf());
    }
    [
        "mp3", "m4a", "m4b", "mp4", "aac", "flac", "ogg", "opus", "wav",
    ]
    .iter()
    .map(|ext| path.with_extension(ext))
    .find(|p| p.is_file())
}
