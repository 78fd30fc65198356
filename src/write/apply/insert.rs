//! Growing a file at its start in place (`FALLOC_FL_INSERT_RANGE`) under the rollback
//! journal, or the equivalent rebuild where the file system cannot.

use super::fault::{FaultPoint, fault};
use super::journal::{JOURNAL_CAP, Journal, log_rollback_failed, remove_journal, write_journal};
use super::patch::{grown_patches, open_for_writing, patch_in_place, write_patches};
use super::rebuild::rebuild_into_place;
use super::recover::recover;
use super::sys::{insert_block_size, insert_start, insert_unsupported, refill_cache};
use super::{io_err, journal_path};
use crate::write::{Patch, Piece, WriteError};
use std::fs::{self, File};
use std::io::{Read, Seek, SeekFrom};
use std::path::Path;

/// Inserts `len` bytes at the start of `target` and writes `patches` (offsets in the grown
/// file) under a rollback journal, or applies `fallback` where inserting is not possible (see
/// the module docs).
pub(super) fn insert_in_place(
    target: &Path,
    len: u64,
    patches: &[Patch],
    fallback: &[Piece],
) -> Result<u64, WriteError> {
    if len == 0 {
        return patch_in_place(target, patches);
    }
    let (meta, sorted, total) = grown_patches(target, len, patches)?;
    if !insertable(target, &meta, len, total) {
        return rebuild_into_place(target, fallback);
    }
    let mut file = open_for_writing(target)?;
    // The original bytes of whatever the patches overwrite, in original offsets: the part of
    // each patch past the inserted space lands on bytes that were at `offset - len`.
    let originals = overwritten_bytes(target, &mut file, &sorted, len)?;
    let jpath = journal_path(target);
    write_journal(&jpath, &Journal::encode_for(target, &meta, len, &originals))?;
    fault(FaultPoint::JournalWritten);

    if let Err(e) = insert_start(&file, len) {
        drop(file);
        return undo_failed_insert(target, fallback, e);
    }
    fault(FaultPoint::Inserted);

    if let Err(e) = write_patches(&mut file, &sorted, total).and_then(|()| file.sync_all()) {
        drop(file);
        if let Err(r) = recover(target) {
            log_rollback_failed(target, &jpath, &r);
        }
        return Err(io_err(target, "writing in place")(e));
    }
    fault(FaultPoint::Patched);
    remove_journal(&jpath)?;
    refill_cache(&file, 0, 0);
    Ok(total)
}

/// Whether `len` bytes can be inserted in place at the start of the file `meta` describes,
/// with `total` patch bytes to journal; if not, the plan's fallback rebuild is applied.
pub(super) fn insertable(target: &Path, meta: &fs::Metadata, len: u64, total: u64) -> bool {
    let size = meta.len();
    let Some(block) = insert_block_size(meta) else {
        log::debug!(
            "{}: no in-place insertion here; rebuilding",
            target.display()
        );
        return false;
    };
    // The file system only shifts whole blocks, and only inside the file.
    if size == 0 || !len.is_multiple_of(block) || total > JOURNAL_CAP {
        log::debug!(
            "{}: cannot insert {len} bytes in place (block size {block}, file {size} bytes, \
             {total} patch bytes); rebuilding",
            target.display()
        );
        return false;
    }
    true
}

/// The original bytes of whatever the patches overwrite, in original offsets: the part of
/// each patch past the inserted space lands on bytes that were at `offset - len`.
pub(super) fn overwritten_bytes(
    target: &Path,
    file: &mut File,
    sorted: &[&Patch],
    len: u64,
) -> Result<Vec<(u64, Vec<u8>)>, WriteError> {
    let mut originals = Vec::with_capacity(sorted.len());
    for p in sorted {
        let start = p.offset.max(len);
        let end = p.offset + p.data.len() as u64;
        if end <= start {
            continue;
        }
        let mut old = vec![0u8; (end - start) as usize];
        file.seek(SeekFrom::Start(start - len))
            .and_then(|_| file.read_exact(&mut old))
            .map_err(io_err(target, "reading the bytes to be replaced"))?;
        originals.push((start - len, old));
    }
    Ok(originals)
}

/// After `insert_start` failed with `e`: nothing or everything was inserted; either way the
/// journal puts the original back. Then rebuild where the file system cannot insert.
fn undo_failed_insert(
    target: &Path,
    fallback: &[Piece],
    e: std::io::Error,
) -> Result<u64, WriteError> {
    // Nothing or everything was inserted; either way the journal puts the original back.
    // If even that fails, the journal stays for the next run.
    if let Err(r) = recover(target) {
        log::error!(
            "{}: inserting failed and so did rolling back ({r})",
            target.display()
        );
        return Err(io_err(target, "inserting space at the start of the file")(
            e,
        ));
    }
    if insert_unsupported(&e) {
        log::debug!(
            "{}: the file system cannot insert in place ({e}); rebuilding",
            target.display()
        );
        return rebuild_into_place(target, fallback);
    }
    Err(io_err(target, "inserting space at the start of the file")(
        e,
    ))
}
