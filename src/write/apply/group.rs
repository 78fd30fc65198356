//! Group commit: many files' plans applied with the crash guarantee of [`apply`](super::apply)
//! (after a kill or a power cut at any instant, every file is its original or its result once
//! [`recover`] has run), paid with two file-system syncs per group instead of two or three
//! `fsync`s per file.
//!
//! # Ordering
//!
//! 1. **Stage.** For every in-place plan (same-length patch, or insertion at the start) the
//!    rollback journal — the very same per-file journal [`apply`](super::apply) writes — is
//!    written next to its file, *not* synced. For every rebuild the new file is written to its
//!    temporary sibling, *not* synced. No target has been touched: a crash now leaves each
//!    target as it was, with at most a journal (complete or cut short) and a temporary file
//!    beside it. [`recover`] deletes an incomplete journal, and "rolls back" a complete one by
//!    writing the original bytes over the identical original bytes (length `N`: the
//!    insertion was not done), and deletes temporary files: every file is its original.
//! 2. **Barrier 1**: one `syncfs` per file system (the journals' data and directory entries,
//!    the temporary files' data). From here on every journal is complete *and* durable.
//! 3. **Apply.** Insertions and patches are written into the targets; temporary files are
//!    renamed over theirs. A crash or power cut now finds, for every in-place target, a
//!    durable complete journal, so recovery rolls it back to the original whatever part of
//!    the patches reached the disk; a renamed target names the old or the new file (rename is
//!    atomic), and a temporary file left behind is deleted.
//! 4. **Barrier 2**: one `syncfs` again: every patch and rename is durable.
//! 5. **Retire.** The journals are deleted without syncing: a power cut that brings one back
//!    makes recovery roll a complete, durable write back to the original — one of the two
//!    promised states. The next group's barrier 1 (and the caller's [`finish_groups`]) make
//!    the deletions durable.
//!
//! A caller that reports results (the batch's JSON-lines report) does so only after step 4
//! returned, so a report line never claims a write a crash can still undo, except through
//! the resurrected journal of step 5, which the next run redoes.
//!
//! Where `syncfs` is not available (other systems) or fails, each staged item is synced on
//! its own (its journal or temporary file, and the directory), which is what the single-file
//! path does; an item whose sync fails is abandoned (journal or temporary file deleted, or
//! the target rolled back) and reported as failed, the rest of the group goes on.
//!
//! A file grown at its start lost its cached pages (see [`refill_cache`](super::refill_cache));
//! the group leaves refilling them to the caller, off the path of the next group's commit.
//!
//! Plans this module does not stage (none today; a strategy added later) are applied one by
//! one with [`apply`](super::apply), inside the group's order.

use super::extend::extend_in_place;
use super::fault::{FaultPoint, fault};
use super::insert::{insertable, overwritten_bytes};
use super::journal::{JOURNAL_CAP, Journal, remove_journal, write_journal_file};
use super::patch::{
    Regions, changed_regions, grown_patches, open_for_writing, patches_as_pieces, write_patches,
};
use super::rebuild::{StagedRebuild, rebuild_into_place, write_temp};
use super::sys::{insert_start, insert_unsupported, sync_dir, sync_fs};
use super::{Recovery, io_err, journal_path, parent_dir, recover, resolve_target};
use crate::write::{Patch, Piece, Plan, WriteError};
use std::fs::File;
use std::path::{Path, PathBuf};

/// Most files in one group: bounds the open files and how much work a crash undoes.
pub const GROUP_MAX_FILES: usize = 32;

/// Most bytes written by one group (patches plus rebuilt files); a single larger plan is a
/// group of its own.
pub const GROUP_MAX_BYTES: u64 = 256 << 20;

/// One file of a group, between the stages.
enum Stage {
    /// Finished (nothing to write, applied on its own, or failed).
    Done(Result<u64, WriteError>),
    /// Journal written (not synced); the target not touched yet.
    InPlace(InPlace),
    /// Temporary sibling written (not synced), not renamed yet.
    Rebuild(StagedRebuild),
    /// Renamed into place or patched; waiting for barrier 2.
    Applied(Applied),
}

struct InPlace {
    file: File,
    jpath: PathBuf,
    /// Bytes to insert at the start first (0: a same-length patch).
    inserted: u64,
    patches: Vec<Patch>,
}

struct Applied {
    /// What barrier 2 syncs: the target (in place) or its directory (renamed).
    file: File,
    /// The journal to retire (in place).
    jpath: Option<PathBuf>,
    written: u64,
}

/// Applies every `(path, plan)` pair as one group (see the module docs) and returns one
/// result per pair, in order. The paths must be distinct files, each locked against other
/// writers by the caller as for [`apply`](super::apply).
///
/// The files' own steps between the barriers (staging, applying, retiring) are independent
/// of each other and run on the current rayon pool (the global one unless the caller
/// installed its own): the order argument above is only about the barriers.
pub fn apply_group(items: &[(&Path, &Plan)]) -> Vec<Result<u64, WriteError>> {
    use rayon::prelude::*;
    let targets: Vec<Option<PathBuf>> = items.iter().map(|(p, _)| resolve_target(p).ok()).collect();
    let mut stages: Vec<Stage> = items
        .par_iter()
        .map(|(path, plan)| stage(path, plan).unwrap_or_else(|e| Stage::Done(Err(e))))
        .collect();
    barrier(&mut stages, &targets);
    fault(FaultPoint::JournalWritten);
    stages
        .par_iter_mut()
        .zip(&targets)
        .zip(items)
        .for_each(|((stage, target), (_, plan))| {
            if let Some(target) = target {
                apply_staged(stage, target, plan);
            }
        });
    barrier(&mut stages, &targets);
    fault(FaultPoint::Patched);
    stages
        .into_par_iter()
        .map(|stage| match stage {
            Stage::Done(r) => r,
            Stage::Applied(a) => {
                if let Some(j) = &a.jpath {
                    remove_journal(j)?;
                }
                Ok(a.written)
            }
            // `apply_staged` moved every staged item on.
            Stage::InPlace(_) | Stage::Rebuild(_) => Ok(0),
        })
        .collect()
}

/// Makes the deletions of the last group's journals durable (one `syncfs` on the file
/// system of `any_path`): call once after the last group.
pub fn finish_groups(any_path: &Path) {
    if let Ok(f) = File::open(parent_dir(any_path)) {
        let _ = sync_fs(&f);
    }
}

/// Step 1 for one file: recover, then write its journal or temporary file, unsynced.
fn stage(path: &Path, plan: &Plan) -> Result<Stage, WriteError> {
    let target = resolve_target(path)?;
    if let Recovery::RolledBack { .. } = recover(&target)? {
        return Err(WriteError::StalePlan { path: target });
    }
    match plan {
        Plan::Unchanged => Ok(Stage::Done(Ok(0))),
        Plan::Patch(patches) => stage_in_place(&target, 0, patches, None),
        Plan::Insert {
            len,
            patches,
            fallback,
        } => stage_in_place(&target, *len, patches, Some(fallback)),
        Plan::Rebuild(pieces) => Ok(Stage::Rebuild(write_temp(&target, pieces)?)),
        // Growth at the end of an M4A is rare (a first write into a file whose `moov` is
        // last) and has its own journal format: applied on its own, with its own syncs.
        Plan::Extend {
            len,
            patches,
            fallback,
        } => Ok(Stage::Done(extend_in_place(
            &target, *len, patches, fallback,
        ))),
    }
}

/// Stages a patch (`inserted == 0`) or an insertion: the journal, as `patch_in_place` and
/// `insert_in_place` write it, but without syncing. Falls back to a staged rebuild where those
/// would rebuild.
fn stage_in_place(
    target: &Path,
    inserted: u64,
    patches: &[Patch],
    fallback: Option<&Vec<Piece>>,
) -> Result<Stage, WriteError> {
    let (meta, sorted, total) = grown_patches(target, inserted, patches)?;
    let rebuild = match fallback {
        Some(pieces) if inserted > 0 && !insertable(target, &meta, inserted, total) => {
            Some(pieces.clone())
        }
        _ if inserted == 0 && total > JOURNAL_CAP => Some(patches_as_pieces(target, patches)?),
        _ => None,
    };
    if let Some(pieces) = rebuild {
        return Ok(Stage::Rebuild(write_temp(target, &pieces)?));
    }
    if total == 0 && inserted == 0 {
        return Ok(Stage::Done(Ok(0)));
    }
    let mut file = open_for_writing(target)?;
    let (originals, patches): (Regions, Vec<Patch>) = if inserted == 0 {
        changed_regions(target, &mut file, &sorted)?
    } else {
        let originals = overwritten_bytes(target, &mut file, &sorted, inserted)?;
        (originals, sorted.into_iter().cloned().collect())
    };
    if inserted == 0 && patches.is_empty() {
        return Ok(Stage::Done(Ok(0)));
    }
    let jpath = journal_path(target);
    let journal = Journal::encode_for(target, &meta, inserted, &originals);
    write_journal_file(&jpath, &journal, false)?;
    Ok(Stage::InPlace(InPlace {
        file,
        jpath,
        inserted,
        patches,
    }))
}

/// Step 3 for one file (its journal or temporary file is durable now).
fn apply_staged(stage: &mut Stage, target: &Path, plan: &Plan) {
    let next = match std::mem::replace(stage, Stage::Done(Ok(0))) {
        Stage::InPlace(mut ip) => match write_in_place(&mut ip) {
            Ok(written) => Stage::Applied(Applied {
                file: ip.file,
                jpath: Some(ip.jpath),
                written,
            }),
            Err(e) => {
                drop(ip.file);
                Stage::Done(undo_in_place(target, &ip.jpath, plan, e))
            }
        },
        Stage::Rebuild(staged) => {
            fault(FaultPoint::BeforeRename);
            let renamed = staged.rename(target);
            fault(FaultPoint::AfterRename);
            match renamed {
                Ok(written) => match File::open(parent_dir(target)) {
                    Ok(file) => Stage::Applied(Applied {
                        file,
                        jpath: None,
                        written,
                    }),
                    // Renamed; only the directory sync is lost, as when `sync_dir` fails.
                    Err(_) => Stage::Done(Ok(written)),
                },
                Err(e) => Stage::Done(Err(e)),
            }
        }
        other => other,
    };
    *stage = next;
}

/// Inserts (if asked) and writes the patches, unsynced.
fn write_in_place(ip: &mut InPlace) -> std::io::Result<u64> {
    if ip.inserted > 0 {
        insert_start(&ip.file, ip.inserted)?;
        fault(FaultPoint::Inserted);
    }
    let sorted: Vec<&Patch> = ip.patches.iter().collect();
    let total: u64 = sorted.iter().map(|p| p.data.len() as u64).sum();
    write_patches(&mut ip.file, &sorted, total)?;
    Ok(total)
}

/// A failed insertion or patch: the journal puts the original back (it is durable, so
/// [`recover`] can use it); a file system that cannot insert gets the plan's rebuild.
fn undo_in_place(
    target: &Path,
    jpath: &Path,
    plan: &Plan,
    e: std::io::Error,
) -> Result<u64, WriteError> {
    if let Err(r) = recover(target) {
        super::journal::log_rollback_failed(target, jpath, &r);
        return Err(io_err(target, "writing in place")(e));
    }
    match plan {
        Plan::Insert { fallback, .. } if insert_unsupported(&e) => {
            log::debug!(
                "{}: the file system cannot insert in place ({e}); rebuilding",
                target.display()
            );
            rebuild_into_place(target, fallback)
        }
        _ => Err(io_err(target, "writing in place")(e)),
    }
}

/// Steps 2 and 4: one `syncfs` per file system the staged items live on; where that fails,
/// each item's own syncs, and an item whose sync fails is abandoned.
fn barrier(stages: &mut [Stage], targets: &[Option<PathBuf>]) {
    let mut devices: Vec<u64> = Vec::new();
    let mut ok = true;
    for stage in stages.iter() {
        let Some(file) = stage_file(stage) else {
            continue;
        };
        let dev = device(file);
        if devices.contains(&dev) {
            continue;
        }
        devices.push(dev);
        if let Err(e) = sync_fs(file) {
            log::debug!("syncfs failed ({e}); syncing file by file");
            ok = false;
        }
    }
    if ok {
        return;
    }
    for (stage, target) in stages.iter_mut().zip(targets) {
        if let (Some(target), Err(e)) = (target, sync_one(stage)) {
            let err = io_err(target, "syncing")(e);
            abandon(stage, target);
            *stage = Stage::Done(Err(err));
        }
    }
}

/// The open file whose file system a stage's barrier must sync.
fn stage_file(stage: &Stage) -> Option<&File> {
    match stage {
        Stage::InPlace(ip) => Some(&ip.file),
        Stage::Rebuild(r) => Some(r.tmp.as_file()),
        Stage::Applied(a) => Some(&a.file),
        Stage::Done(_) => None,
    }
}

#[cfg(unix)]
fn device(file: &File) -> u64 {
    use std::os::unix::fs::MetadataExt;
    file.metadata().map_or(0, |m| m.dev())
}

#[cfg(not(unix))]
fn device(_: &File) -> u64 {
    0
}

/// What the single-file path syncs at the same point.
fn sync_one(stage: &Stage) -> std::io::Result<()> {
    match stage {
        Stage::InPlace(ip) => {
            File::open(&ip.jpath)?.sync_data()?;
            sync_dir(parent_dir(&ip.jpath));
            Ok(())
        }
        Stage::Rebuild(r) => r.tmp.as_file().sync_all(),
        Stage::Applied(a) => a.file.sync_all(),
        Stage::Done(_) => Ok(()),
    }
}

/// Gives up a stage whose sync failed: a journal not yet relied on is deleted; an applied
/// in-place write is rolled back from its journal; a staged temporary file is dropped
/// (deleted). A renamed rebuild stays (the path names the new file; only its durability is
/// in doubt, as after the single-file path's failed directory sync).
fn abandon(stage: &mut Stage, target: &Path) {
    match std::mem::replace(stage, Stage::Done(Ok(0))) {
        Stage::InPlace(ip) => {
            let _ = remove_journal(&ip.jpath);
        }
        Stage::Applied(Applied {
            jpath: Some(jpath),
            file,
            ..
        }) => {
            drop(file);
            if let Err(r) = recover(target) {
                super::journal::log_rollback_failed(target, &jpath, &r);
            }
        }
        _ => {}
    }
}

#[cfg(test)]
#[path = "group_tests.rs"]
mod tests;
