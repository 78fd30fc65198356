//! Where `batch`'s episodes come from, handed to the workers as a stream so that memory does
//! not grow with the archive: a manifest is read twice, once before the run (every line
//! parsed, so a typo on line 9,000 stops the run before anything is written, as it always
//! did, and the episodes counted for the progress bar) and once while the workers take its
//! episodes one at a time. A walked folder is listed (and sorted) before the run: its order
//! should not depend on the file system. What grows with the count is only the set of files
//! already seen (one `stat` identity per episode), which keeps a file reached twice from
//! being processed twice.

use super::same_file::{self, FileId};
use chapmark::batch::{self, Entry, ManifestReader, Shard};
use std::collections::HashSet;
use std::fs;
use std::io::BufReader;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};

/// One unit of work: an episode, or something that could not be listed (a folder, a
/// manifest that changed under the run). The latter becomes an `unreadable` record instead of
/// stopping the run, like any other file that fails.
pub(super) enum Job {
    Episode(Entry),
    Unlisted { entry: Entry, error: String },
}

impl Job {
    fn key(&self) -> &str {
        match self {
            Job::Episode(e) | Job::Unlisted { entry: e, .. } => &e.key,
        }
    }
}

/// The episodes of a run, one at a time.
pub(super) struct Episodes {
    pub(super) jobs: Box<dyn Iterator<Item = Job> + Send>,
    /// The episodes counted before the run, less the duplicates skipped so far.
    pub(super) total: Arc<AtomicUsize>,
    /// The episodes counted before the run.
    pub(super) found: usize,
}

/// A command-line path, ready to be streamed.
enum Source {
    /// A walked folder or a single audio file.
    Listed(Vec<Job>),
    /// A manifest, parsed once already.
    Manifest { path: PathBuf, json_lines: bool },
}

/// Expands the command-line paths into episodes: directories are walked (sorted, hidden
/// entries and symlinked folders skipped), `.csv`/`.jsonl` files are manifests, anything else
/// is an audio file; only the episodes of `shard` are kept. The same file reached twice is
/// processed once. A path given on the command line that does not exist, or a manifest with
/// a bad line, stops the run (a typo should not pass CI with zero episodes); a sub-folder
/// that cannot be listed is reported as an unreadable entry.
pub(super) fn episodes(paths: &[PathBuf], shard: Option<Shard>) -> anyhow::Result<Episodes> {
    let keep = move |key: &str| shard.is_none_or(|s| s.contains(key));
    let mut sources = Vec::new();
    let mut found = 0;
    for path in paths {
        let source = source(path)?;
        found += match &source {
            Source::Listed(jobs) => jobs.iter().filter(|j| keep(j.key())).count(),
            Source::Manifest { path, json_lines } => count_manifest(path, *json_lines, &keep)?,
        };
        sources.push(source);
    }
    let total = Arc::new(AtomicUsize::new(found));
    let jobs = sources
        .into_iter()
        .flat_map(stream)
        .filter(move |j| keep(j.key()));
    Ok(Episodes {
        jobs: Box::new(once_each(jobs, Arc::clone(&total))),
        total,
        found,
    })
}

fn is_manifest(path: &Path) -> Option<bool> {
    let ext = path.extension().and_then(|e| e.to_str()).unwrap_or("");
    let json_lines = ext.eq_ignore_ascii_case("jsonl") || ext.eq_ignore_ascii_case("ndjson");
    (json_lines || ext.eq_ignore_ascii_case("csv")).then_some(json_lines)
}

fn source(path: &Path) -> anyhow::Result<Source> {
    let meta = fs::metadata(path).map_err(|e| anyhow::anyhow!("{}: {e}", path.display()))?;
    if meta.is_dir() {
        return Ok(Source::Listed(walked(path)?));
    }
    Ok(match is_manifest(path) {
        Some(json_lines) => Source::Manifest {
            path: path.to_path_buf(),
            json_lines,
        },
        None => Source::Listed(vec![Job::Episode(Entry {
            audio: path.to_path_buf(),
            chapters: None,
            key: path.to_string_lossy().replace('\\', "/"),
        })]),
    })
}

/// The audio files under `dir`, sorted, keyed by their path relative to it.
fn walked(dir: &Path) -> anyhow::Result<Vec<Job>> {
    let mut found = Vec::new();
    walk(dir, &mut found, true)?;
    found.sort_by(|a, b| a.0.cmp(&b.0));
    let jobs = found.into_iter().map(|(audio, error)| {
        let key = audio
            .strip_prefix(dir)
            .unwrap_or(&audio)
            .to_string_lossy()
            .replace('\\', "/");
        let entry = Entry {
            audio,
            chapters: None,
            key,
        };
        match error {
            None => Job::Episode(entry),
            Some(error) => Job::Unlisted { entry, error },
        }
    });
    Ok(jobs.collect())
}

fn open_manifest(
    path: &Path,
    json_lines: bool,
) -> std::io::Result<ManifestReader<BufReader<fs::File>>> {
    let file = fs::File::open(path)?;
    let base = path.parent().unwrap_or(Path::new(""));
    let name = path.display().to_string();
    Ok(ManifestReader::new(
        BufReader::new(file),
        &name,
        base,
        json_lines,
    ))
}

/// The first pass over a manifest: every line parsed, the episodes of this shard counted.
fn count_manifest(
    path: &Path,
    json_lines: bool,
    keep: &dyn Fn(&str) -> bool,
) -> anyhow::Result<usize> {
    let reader =
        open_manifest(path, json_lines).map_err(|e| anyhow::anyhow!("{}: {e}", path.display()))?;
    let mut n = 0;
    for entry in reader {
        n += usize::from(keep(&entry?.key));
    }
    Ok(n)
}

/// A source's jobs, a manifest's read as they are taken.
fn stream(source: Source) -> Box<dyn Iterator<Item = Job> + Send> {
    let (path, json_lines) = match source {
        Source::Listed(jobs) => return Box::new(jobs.into_iter()),
        Source::Manifest { path, json_lines } => (path, json_lines),
    };
    let reader = open_manifest(&path, json_lines);
    let unlisted = move |error: String| Job::Unlisted {
        entry: Entry {
            key: path.to_string_lossy().replace('\\', "/"),
            audio: path.clone(),
            chapters: None,
        },
        error,
    };
    match reader {
        Ok(reader) => Box::new(reader.map(move |r| match r {
            Ok(entry) => Job::Episode(entry),
            // It parsed cleanly before the run: the manifest changed under it.
            Err(e) => unlisted(format!("{e} (the manifest changed during the run)")),
        })),
        Err(e) => Box::new(std::iter::once(unlisted(format!("cannot reopen: {e}")))),
    }
}

/// `jobs` without a second visit to a file already reached (by another path, manifest line or
/// hard link); each one skipped is taken off `total`.
fn once_each(
    jobs: impl Iterator<Item = Job> + Send,
    total: Arc<AtomicUsize>,
) -> impl Iterator<Item = Job> + Send {
    // Inodes apart from paths: 16 bytes an episode rather than the enum's 32 — this set is
    // the only thing a run keeps per episode.
    let mut inodes: HashSet<(u64, u64)> = HashSet::new();
    let mut paths: HashSet<PathBuf> = HashSet::new();
    jobs.filter(move |job| match job {
        Job::Episode(e) => {
            let first = match same_file::id(&e.audio) {
                FileId::Inode(dev, ino) => inodes.insert((dev, ino)),
                FileId::Path(p) => paths.insert(p),
            };
            if !first {
                log::info!("{}: reached twice, processed once", e.audio.display());
                total.fetch_sub(1, Ordering::Relaxed);
            }
            first
        }
        Job::Unlisted { .. } => true,
    })
}

/// Collects audio files under `dir`; an error listing a sub-folder is kept as
/// `(folder, Some(error))`. Only an error on the top folder itself fails the walk.
fn walk(dir: &Path, out: &mut Vec<(PathBuf, Option<String>)>, top: bool) -> anyhow::Result<()> {
    let rd = match fs::read_dir(dir) {
        Ok(rd) => rd,
        Err(e) if top => return Err(anyhow::anyhow!("{}: {e}", dir.display())),
        Err(e) => {
            out.push((
                dir.to_path_buf(),
                Some(format!("cannot list the folder: {e}")),
            ));
            return Ok(());
        }
    };
    // Temporary files of rebuilds killed earlier; a live writer's is locked and kept.
    for stale in chapmark::write::remove_stale_temps(dir) {
        log::warn!("{}: removed, left by an interrupted write", stale.display());
    }
    for item in rd {
        let item = match item {
            Ok(item) => item,
            Err(e) => {
                out.push((
                    dir.to_path_buf(),
                    Some(format!("cannot list the folder: {e}")),
                ));
                return Ok(());
            }
        };
        let name = item.file_name();
        if name.to_string_lossy().starts_with('.') {
            continue;
        }
        let path = item.path();
        let is_dir = match item.file_type() {
            Ok(ft) => ft.is_dir(),
            Err(e) => {
                out.push((path, Some(format!("cannot read the file type: {e}"))));
                continue;
            }
        };
        if is_dir {
            walk(&path, out, false)?;
        } else if batch::is_audio_path(&path) {
            out.push((path, None));
        }
    }
    Ok(())
}
