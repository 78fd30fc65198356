//! Rolling back what an interrupted write left: a complete journal is undone, an
//! incomplete one deleted, a stale temporary file removed.

use super::journal::{Journal, read_journal, remove_journal};
use super::patch::write_at;
use super::sys::collapse_start;
use super::{io_err, journal_path, resolve_target, temp_path};
use crate::write::WriteError;
use std::fs::{self, OpenOptions};
use std::io;
use std::path::Path;

/// What [`recover`] found.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum Recovery {
    /// No journal: the file is as the last write left it.
    Clean,
    /// A complete journal: an in-place write was interrupted and has been undone.
    RolledBack {
        /// Regions restored.
        regions: usize,
        /// Bytes restored.
        bytes: u64,
    },
    /// A journal cut short while being written: the file had not been touched yet; the
    /// journal was deleted.
    DiscardedIncomplete,
}

/// Finishes whatever an interrupted write to `path` left behind: rolls back an in-place write
/// whose journal is complete, deletes an incomplete journal, and removes leftover temporary
/// file of an interrupted rebuild. Cheap when there is nothing to do (a failed open and a
/// failed unlink; no directory listing).
///
/// Call it before reading a file you are about to plan a write for; [`apply`](super::apply) calls it too.
/// There is no lock here: two writers (processes or threads) must never work on the same
/// file at once — the recovery of one would take the other's live journal or temporary file
/// for a leftover, and that includes a reader that recovers before reading. The `chapmark`
/// binary therefore holds an advisory `flock` on the file (shared for reading commands,
/// exclusive for writing ones) from before this call until it is done; other callers need
/// the same, or must deduplicate canonical paths.
pub fn recover(path: &Path) -> Result<Recovery, WriteError> {
    let target = resolve_target(path)?;
    remove_stale_temp(&target);
    let jpath = journal_path(&target);
    let bytes = match read_journal(&jpath) {
        Ok(Some(b)) => b,
        Ok(None) => return Ok(Recovery::Clean),
        Err(e) => return Err(io_err(&jpath, "reading the journal")(e)),
    };
    let Some(journal) = Journal::decode(&bytes) else {
        log::warn!(
            "{}: deleting an incomplete journal (a write was interrupted before it touched the file)",
            target.display()
        );
        remove_journal(&jpath)?;
        return Ok(Recovery::DiscardedIncomplete);
    };
    let mut file = OpenOptions::new()
        .read(true)
        .write(true)
        .open(&target)
        .map_err(io_err(&target, "opening the file to roll back"))?;
    let len = file
        .metadata()
        .map_err(io_err(&target, "reading metadata"))?
        .len();
    let inserted_done =
        journal.inserted > 0 && journal.file_len.checked_add(journal.inserted) == Some(len);
    let appended_done =
        journal.appended > 0 && journal.file_len.checked_add(journal.appended) == Some(len);
    if len != journal.file_len && !inserted_done && !appended_done {
        return Err(WriteError::JournalMismatch {
            path: target.clone(),
            journal: jpath,
            expected: journal.file_len,
            actual: len,
        });
    }
    journal.check_belongs(&target, &jpath, &file)?;
    if inserted_done {
        collapse_start(&file, journal.inserted)
            .map_err(io_err(&target, "removing the space inserted at the start"))?;
    }
    if appended_done {
        file.set_len(journal.file_len)
            .map_err(io_err(&target, "removing the bytes appended at the end"))?;
    }
    let mut restored = 0u64;
    for (offset, data) in &journal.regions {
        write_at(&mut file, *offset, data).map_err(io_err(&target, "rolling back"))?;
        restored += data.len() as u64;
    }
    file.sync_all()
        .map_err(io_err(&target, "syncing the rolled-back file"))?;
    remove_journal(&jpath)?;
    log::warn!(
        "{}: rolled back an interrupted write ({} regions, {restored} bytes)",
        target.display(),
        journal.regions.len()
    );
    Ok(Recovery::RolledBack {
        regions: journal.regions.len(),
        bytes: restored,
    })
}

pub(super) fn remove_stale_temp(target: &Path) {
    let tmp = temp_path(target);
    match fs::remove_file(&tmp) {
        Ok(()) => log::warn!(
            "{}: removed {}, left by an interrupted write",
            target.display(),
            tmp.display()
        ),
        Err(e) if e.kind() == io::ErrorKind::NotFound => {}
        Err(e) => log::debug!("could not remove {}: {e}", tmp.display()),
    }
}
