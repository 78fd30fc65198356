//! Same-length patches written in place under the rollback journal; only the bytes that
//! really change are journalled and written.

use super::fault::{FaultPoint, fault};
use super::io_err;
use super::journal::{JOURNAL_CAP, Journal, log_rollback_failed, remove_journal, write_journal};
use super::journal_path;
use super::rebuild::rebuild_into_place;
use crate::write::{Patch, Piece, WriteError};
use std::fs::{self, File, OpenOptions};
use std::io::{self, Read, Seek, SeekFrom, Write};
use std::path::Path;

pub(super) fn write_at(file: &mut File, offset: u64, data: &[u8]) -> io::Result<()> {
    file.seek(SeekFrom::Start(offset))?;
    file.write_all(data)
}

/// Sorts patches and checks they neither overlap nor reach past `size`.
pub(super) fn checked_patches<'a>(
    path: &Path,
    patches: &'a [Patch],
    size: u64,
) -> Result<Vec<&'a Patch>, WriteError> {
    let mut sorted: Vec<&Patch> = patches.iter().collect();
    sorted.sort_by_key(|p| p.offset);
    let mut pos = 0u64;
    for p in &sorted {
        let end = p.offset.saturating_add(p.data.len() as u64);
        if p.offset < pos || end > size {
            return Err(WriteError::PlanOutOfRange {
                path: path.to_path_buf(),
                offset: p.offset,
                len: p.data.len() as u64,
                size,
            });
        }
        pos = end;
    }
    Ok(sorted)
}

/// For a plan that grows `target` by `len` bytes: its metadata, the patches sorted and checked
/// against the grown length, and their total size.
pub(super) fn grown_patches<'a>(
    target: &Path,
    len: u64,
    patches: &'a [Patch],
) -> Result<(fs::Metadata, Vec<&'a Patch>, u64), WriteError> {
    let meta = fs::metadata(target).map_err(io_err(target, "reading metadata"))?;
    let size = meta.len();
    let grown = size.checked_add(len).ok_or(WriteError::PlanOutOfRange {
        path: target.to_path_buf(),
        offset: 0,
        len,
        size,
    })?;
    let sorted = checked_patches(target, patches, grown)?;
    let total: u64 = sorted.iter().map(|p| p.data.len() as u64).sum();
    Ok((meta, sorted, total))
}

/// Opens `target` for reading and writing in place; a file we may not write (its mode, a
/// read-only mount) is [`WriteError::NotWritable`], as for a rebuild.
pub(super) fn open_for_writing(target: &Path) -> Result<File, WriteError> {
    OpenOptions::new()
        .read(true)
        .write(true)
        .open(target)
        .map_err(|e| match e.kind() {
            io::ErrorKind::PermissionDenied | io::ErrorKind::ReadOnlyFilesystem => {
                WriteError::NotWritable {
                    path: target.to_path_buf(),
                    source: e,
                }
            }
            _ => io_err(target, "opening the file for writing")(e),
        })
}

/// Writes same-length patches into `target` under a rollback journal (see the module docs).
pub(super) fn patch_in_place(target: &Path, patches: &[Patch]) -> Result<u64, WriteError> {
    let meta = fs::metadata(target).map_err(io_err(target, "reading metadata"))?;
    let size = meta.len();
    let sorted = checked_patches(target, patches, size)?;
    let total: u64 = sorted.iter().map(|p| p.data.len() as u64).sum();
    if total == 0 {
        return Ok(0);
    }
    if total > JOURNAL_CAP {
        log::debug!(
            "{}: {total} patch bytes; rebuilding instead",
            target.display()
        );
        return rebuild_into_place(target, &patches_as_pieces(target, patches)?);
    }
    let mut file = open_for_writing(target)?;
    let (originals, changed) = changed_regions(target, &mut file, &sorted)?;
    let sorted: Vec<&Patch> = changed.iter().collect();
    let total: u64 = sorted.iter().map(|p| p.data.len() as u64).sum();
    if total == 0 {
        log::debug!("{}: already holds the patched bytes", target.display());
        return Ok(0);
    }
    let jpath = journal_path(target);
    write_journal(&jpath, &Journal::encode_for(target, &meta, 0, &originals))?;
    fault(FaultPoint::JournalWritten);

    // Same-length overwrite: fdatasync carries the data; the size does not change.
    if let Err(e) = write_patches(&mut file, &sorted, total).and_then(|()| file.sync_data()) {
        // Put the original bytes back right away; if even that fails, the journal stays for
        // the next run's recovery.
        roll_back_now(target, &mut file, &jpath, &originals);
        return Err(io_err(target, "writing in place")(e));
    }
    fault(FaultPoint::Patched);
    remove_journal(&jpath)?;
    Ok(total)
}

/// Original bytes as `(offset, bytes)` regions, as a journal records them.
pub(super) type Regions = Vec<(u64, Vec<u8>)>;

/// Puts the original bytes of a failed in-place write back at once and deletes its journal;
/// if even that fails, the journal stays for the next run's recovery.
pub(super) fn roll_back_now(target: &Path, file: &mut File, jpath: &Path, originals: &Regions) {
    let rollback = originals
        .iter()
        .try_for_each(|(o, d)| write_at(file, *o, d))
        .and_then(|()| file.sync_all());
    match rollback {
        Ok(()) => {
            let _ = remove_journal(jpath);
        }
        Err(r) => log_rollback_failed(target, jpath, &r),
    }
}

/// The parts of the (sorted, checked) patches that really change the file, and the original
/// bytes they replace: only those are journalled and written, since a rewritten `moov`
/// differs from the old one in a few kilobytes of its megabytes of sample tables.
pub(super) fn changed_regions(
    target: &Path,
    file: &mut File,
    sorted: &[&Patch],
) -> Result<(Regions, Vec<Patch>), WriteError> {
    let mut originals = Vec::with_capacity(sorted.len());
    let mut changed = Vec::with_capacity(sorted.len());
    for p in sorted {
        let mut old = vec![0u8; p.data.len()];
        file.seek(SeekFrom::Start(p.offset))
            .and_then(|_| file.read_exact(&mut old))
            .map_err(io_err(target, "reading the bytes to be replaced"))?;
        for (a, b) in changed_runs(&old, &p.data) {
            let offset = p.offset + a as u64;
            originals.push((offset, old[a..b].to_vec()));
            changed.push(Patch {
                offset,
                data: p.data[a..b].to_vec(),
            });
        }
    }
    Ok((originals, changed))
}

/// Unchanged bytes shorter than this between two changed ones are rewritten rather than
/// splitting the patch (each region costs 16 journal bytes and a seek).
pub(super) const DIFF_GAP: usize = 64;

/// The ranges `[start, end)` where `new` differs from `old` (same length), with gaps shorter
/// than [`DIFF_GAP`] merged.
pub(super) fn changed_runs(old: &[u8], new: &[u8]) -> Vec<(usize, usize)> {
    let n = old.len().min(new.len());
    let mut runs = Vec::new();
    let mut i = 0;
    while i < n {
        // Skip equal bytes quickly, a block at a time.
        if i + 64 <= n && old[i..i + 64] == new[i..i + 64] {
            i += 64;
            continue;
        }
        if old[i] == new[i] {
            i += 1;
            continue;
        }
        let start = i;
        let mut end = i + 1;
        let mut j = i + 1;
        while j < n && j - end < DIFF_GAP {
            if old[j] != new[j] {
                end = j + 1;
            }
            j += 1;
        }
        runs.push((start, end));
        i = end;
    }
    runs
}

pub(super) fn write_patches(file: &mut File, patches: &[&Patch], total: u64) -> io::Result<()> {
    let half = total / 2;
    let mut written = 0u64;
    for p in patches {
        let len = p.data.len() as u64;
        if written <= half && half < written + len {
            let cut = (half - written) as usize;
            write_at(file, p.offset, &p.data[..cut])?;
            fault(FaultPoint::PatchHalfWritten);
            write_at(file, p.offset + cut as u64, &p.data[cut..])?;
        } else {
            write_at(file, p.offset, &p.data)?;
        }
        written += len;
    }
    Ok(())
}

/// Expresses same-length patches as a full rebuild (used when patching in place is not
/// wanted, e.g. writing to `-o OUT`).
pub(super) fn patches_as_pieces(src: &Path, patches: &[Patch]) -> Result<Vec<Piece>, WriteError> {
    let size = fs::metadata(src)
        .map_err(io_err(src, "reading metadata"))?
        .len();
    let sorted = checked_patches(src, patches, size)?;
    Ok(crate::write::patch_pieces(&sorted, size))
}
