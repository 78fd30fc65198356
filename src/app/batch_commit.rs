//! The committer of `chapmark batch`: applies the episodes' planned writes in groups
//! ([`chapmark::api::embed::apply_group`]), so a group of files pays two file-system syncs
//! instead of two or three `fsync`s each, and reports every episode only once its write is
//! durable — an interrupted run's report is a valid prefix that never claims a write the
//! next run could still roll back.

use chapmark::api::embed::{self, PlanKind};
use chapmark::api::lock::AudioGuard;
use chapmark::batch::{Record, Status};
use chapmark::write::Plan;
use chapmark::write::apply::{
    GROUP_MAX_BYTES, GROUP_MAX_FILES, finish_groups, refill_cache, refill_cache_ends,
};
use std::path::{Path, PathBuf};
use std::sync::mpsc::{Receiver, Sender};
use std::time::Instant;

/// A planned write waiting for its group, with the lock that keeps other chapmark processes
/// (and their recovery) away from the file until it is done.
pub(super) struct Pending {
    pub(super) audio: PathBuf,
    pub(super) plan: Plan,
    pub(super) guard: AudioGuard,
    /// Measuring the file reads all of it (an MP3 without a Xing/LAME header that proves
    /// its length): a rerun will too, so a grown file is read back whole, not only its ends.
    pub(super) walked: bool,
}

/// A grown file to read back into the page cache: whole, or its ends (its rewritten start,
/// [`Plan::rewritten_end`], plus [`chapmark::write::apply::REFILL_HEAD`], and its tail).
type Refill = (PathBuf, Option<u64>);

/// What a worker hands the committer: the episode's record, and its write if it has one.
pub(super) type Processed = (Record, Option<Pending>);

impl Pending {
    /// Applies this write on its own (the single-file path), filling in the record.
    pub(super) fn apply_alone(self, record: &mut Record) {
        let result = embed::apply(&self.audio, None, &self.plan);
        finish(record, result.map(|w| w.bytes));
        drop(self.guard);
    }
}

fn finish(record: &mut Record, result: Result<u64, chapmark::Error>) {
    match result {
        Ok(bytes) => {
            record.bytes_written = bytes;
            record.status = Status::Written;
        }
        Err(e) => {
            record.status = Status::Unreadable;
            record.error = Some(format!("{:#}", anyhow::Error::from(e)));
        }
    }
}

/// Runs `work` on every item on the pool's worker threads while one committer thread applies
/// their writes in groups and hands every finished record to `emit`: the syncs of one group
/// overlap the reading and planning of the next episodes.
pub(super) fn pipeline<T: Send>(
    pool: &rayon::ThreadPool,
    items: impl Iterator<Item = T> + Send,
    work: impl Fn(T) -> Processed + Sync,
    emit: &(dyn Fn(Record) + Sync),
) {
    use rayon::prelude::*;
    let (tx, rx) = std::sync::mpsc::sync_channel(GROUP_MAX_FILES);
    let (warm_tx, warm_rx) = std::sync::mpsc::channel::<Refill>();
    // The files of a group are applied in parallel, by as many threads as `--jobs` gives the
    // workers (a pool of their own: the workers' threads may all be waiting to hand over).
    let jobs = pool.current_num_threads();
    let commit_pool = rayon::ThreadPoolBuilder::new()
        .num_threads(jobs)
        .thread_name(|i| format!("chapmark-commit-{i}"))
        .build()
        .ok();
    std::thread::scope(|scope| {
        scope.spawn(move || commit_loop(&rx, emit, &warm_tx, commit_pool.as_ref()));
        // Files grown at their start lost their cached pages; reading them back is a hint that
        // can block on a busy disk, so it runs here rather than between two commits.
        scope.spawn(move || {
            warm_rx.iter().for_each(|(path, head)| match head {
                Some(head) => refill_cache_ends(&path, head),
                None => refill_cache(&path),
            })
        });
        pool.install(|| {
            // Items are taken from the iterator as workers free up: a streamed manifest is
            // never held whole.
            items.par_bridge().for_each_with(tx, |tx, item| {
                // The committer stops once every sender is gone.
                let _ = tx.send(work(item));
            });
        });
    });
}

/// Receives processed episodes until every worker is done. Episodes without a write are
/// reported at once; writes are gathered into a group while more are waiting (up to
/// [`GROUP_MAX_FILES`] files and [`GROUP_MAX_BYTES`] bytes) and committed together, so the
/// groups grow exactly when the workers are faster than the disk.
fn commit_loop(
    rx: &Receiver<Processed>,
    emit: &(dyn Fn(Record) + Sync),
    warm: &Sender<Refill>,
    threads: Option<&rayon::ThreadPool>,
) {
    let mut last: Option<PathBuf> = None;
    while let Ok(first) = rx.recv() {
        let mut group: Vec<(Record, Pending)> = Vec::new();
        let mut bytes = 0u64;
        let mut next = Some(first);
        while let Some((record, pending)) = next.take() {
            match pending {
                None => emit(record),
                Some(p) => {
                    bytes = bytes.saturating_add(p.plan.bytes_written());
                    group.push((record, p));
                }
            }
            if group.len() >= GROUP_MAX_FILES || bytes >= GROUP_MAX_BYTES {
                break;
            }
            next = rx.try_recv().ok();
        }
        if let Some((_, p)) = group.last() {
            last = Some(p.audio.clone());
        }
        commit(group, emit, warm, threads);
    }
    if let Some(path) = last {
        finish_groups(&path);
    }
}

/// Applies one group and reports its episodes.
fn commit(
    group: Vec<(Record, Pending)>,
    emit: &(dyn Fn(Record) + Sync),
    warm: &Sender<Refill>,
    threads: Option<&rayon::ThreadPool>,
) {
    if group.is_empty() {
        return;
    }
    let started = Instant::now();
    let items: Vec<(&Path, &Plan)> = group
        .iter()
        .map(|(_, p)| (p.audio.as_path(), &p.plan))
        .collect();
    let results = match threads {
        Some(pool) => pool.install(|| embed::apply_group(&items)),
        None => embed::apply_group(&items),
    };
    let share = super::batch::elapsed_ms(started) / group.len() as u64;
    for ((mut record, pending), result) in group.into_iter().zip(results) {
        if let Ok(w) = &result {
            if w.kind == PlanKind::GrownInPlace {
                let head = (!pending.walked).then(|| pending.plan.rewritten_end());
                let _ = warm.send((pending.audio.clone(), head));
            }
        }
        finish(&mut record, result.map(|w| w.bytes));
        record.elapsed_ms = record.elapsed_ms.saturating_add(share);
        drop(pending.guard);
        emit(record);
    }
}
