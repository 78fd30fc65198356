//! Growing a file at its end in place ([`Plan::Extend`](crate::write::Plan::Extend)) under
//! the rollback journal.
//!
//! 1. the journal (`CHMKJNL4`: original length `N`, appended length `A`, the original bytes of
//!    every region the patches overwrite below `N`) is written and synced, and so is the
//!    directory;
//! 2. the file is extended to `N + A` bytes (`ftruncate`, one system call);
//! 3. the patches are written and the file is synced;
//! 4. the journal is deleted.
//!
//! Recovery of such a journal: a file of `N + A` bytes is cut back to `N`, one of `N` bytes is
//! left at its length; then the original bytes are put back. Any other length is refused.
//! Across a power cut the file system's journal makes the size change atomic (ext4 and XFS
//! log it as one transaction), so the length is always one of the two.

use super::fault::{FaultPoint, fault};
use super::journal::{JOURNAL_CAP, Journal, log_rollback_failed, remove_journal, write_journal};
use super::patch::{grown_patches, open_for_writing, patch_in_place, write_patches};
use super::rebuild::rebuild_into_place;
use super::recover::recover;
use super::{io_err, journal_path};
use crate::write::{Patch, Piece, WriteError};

use std::io::{Read, Seek, SeekFrom};
use std::path::Path;

/// Extends `target` by `len` bytes and writes `patches` (offsets in the grown file) under a
/// rollback journal, or applies `fallback` when the patches are too large to journal.
pub(super) fn extend_in_place(
    target: &Path,
    len: u64,
    patches: &[Patch],
    fallback: &[Piece],
) -> Result<u64, WriteError> {
    if len == 0 {
        return patch_in_place(target, patches);
    }
    let (meta, sorted, total) = grown_patches(target, len, patches)?;
    let size = meta.len();
    if total > JOURNAL_CAP {
        log::info!(
            "{}: {total} bytes to write at the end; rebuilding instead",
            target.display()
        );
        return rebuild_into_place(target, fallback);
    }
    let mut file = open_for_writing(target)?;
    // The original bytes of whatever the patches overwrite below the old end.
    let mut originals = Vec::with_capacity(sorted.len());
    for p in &sorted {
        let end = (p.offset + p.data.len() as u64).min(size);
        if end <= p.offset {
            continue;
        }
        let mut old = vec![0u8; (end - p.offset) as usize];
        file.seek(SeekFrom::Start(p.offset))
            .and_then(|_| file.read_exact(&mut old))
            .map_err(io_err(target, "reading the bytes to be replaced"))?;
        originals.push((p.offset, old));
    }
    let jpath = journal_path(target);
    write_journal(
        &jpath,
        &Journal::encode_append_for(target, &meta, len, &originals),
    )?;
    fault(FaultPoint::JournalWritten);

    let result = file
        .set_len(size + len)
        .map(|()| fault(FaultPoint::Extended))
        .and_then(|()| write_patches(&mut file, &sorted, total))
        .and_then(|()| file.sync_all());
    if let Err(e) = result {
        drop(file);
        if let Err(r) = recover(target) {
            log_rollback_failed(target, &jpath, &r);
        }
        return Err(io_err(target, "growing the file at its end")(e));
    }
    fault(FaultPoint::Patched);
    remove_journal(&jpath)?;
    Ok(total)
}
