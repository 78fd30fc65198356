//! A new file from pieces: written to a temporary sibling, synced, given the original
//! permissions and ownership, renamed over the original.

use super::fault::{FaultPoint, fault};
use super::sys::{copy_ownership, start_writeback, sync_dir};
use super::{create_temp, io_err, parent_dir};
use crate::write::{Piece, WriteError};
use std::fs::{self, File};
use std::io::{self, Read, Seek, SeekFrom, Write};
use std::path::Path;

/// Writes the pieces into a temporary sibling of `target`, copies permissions and ownership,
/// syncs, and renames it over `target`. Any error (a full disk included) drops the temporary
/// file, which deletes it: the original is never touched.
pub(super) fn rebuild_into_place(target: &Path, pieces: &[Piece]) -> Result<u64, WriteError> {
    let staged = write_temp(target, pieces)?;
    staged
        .tmp
        .as_file()
        .sync_all()
        .map_err(io_err(target, "syncing the temporary file"))?;
    fault(FaultPoint::BeforeRename);
    let written = staged.rename(target)?;
    fault(FaultPoint::AfterRename);
    sync_dir(parent_dir(target));
    Ok(written)
}

/// A rebuilt file written to its temporary sibling, not yet synced nor renamed.
pub(super) struct StagedRebuild {
    pub(super) tmp: tempfile::NamedTempFile,
    before: super::checks::Snapshot,
    written: u64,
}

impl StagedRebuild {
    /// Renames the (synced) temporary file over `target`, unless `target` changed meanwhile.
    pub(super) fn rename(self, target: &Path) -> Result<u64, WriteError> {
        self.before.check_unchanged(target)?;
        self.tmp.persist(target).map_err(|e| WriteError::Io {
            path: target.to_path_buf(),
            action: "renaming the temporary file into place",
            source: e.error,
        })?;
        Ok(self.written)
    }
}

/// Writes the pieces into a temporary sibling of `target` with its permissions and
/// ownership; the caller syncs and renames it.
pub(super) fn write_temp(target: &Path, pieces: &[Piece]) -> Result<StagedRebuild, WriteError> {
    let meta = fs::metadata(target).map_err(io_err(target, "reading metadata"))?;
    let dir = parent_dir(target);
    super::checks::check_replaceable(target, &meta)?;
    let before = super::checks::Snapshot::of(&meta);
    super::checks::check_free_space(dir, target, crate::write::pieces_len(pieces))?;
    let mut tmp = create_temp(target)?;
    let written = write_pieces(target, pieces, tmp.as_file_mut())?;
    copy_ownership(&meta, tmp.as_file(), target)?;
    tmp.as_file()
        .set_permissions(meta.permissions())
        .map_err(io_err(target, "copying permissions"))?;
    Ok(StagedRebuild {
        tmp,
        before,
        written,
    })
}

/// Streams the pieces into `out`. Original ranges go through [`io::copy`] from file to file,
/// which Linux turns into `copy_file_range` (an in-kernel copy, or a reflink on filesystems
/// that share extents) and other systems into a bounded-buffer loop; nothing is loaded whole.
pub(super) fn write_pieces(
    src: &Path,
    pieces: &[Piece],
    out: &mut File,
) -> Result<u64, WriteError> {
    let mut input = File::open(src).map_err(io_err(src, "opening the original"))?;
    let size = input
        .metadata()
        .map_err(io_err(src, "reading metadata"))?
        .len();
    let total: u64 = pieces
        .iter()
        .map(|p| match p {
            Piece::Bytes(b) => b.len() as u64,
            Piece::Copy { len, .. } | Piece::OggPages { len, .. } => *len,
        })
        .sum();
    let half = total / 2;
    let mut written = 0u64;
    // New bytes are small (a tag, a moov); gathering them until the next copy keeps the
    // number of write calls low.
    let mut pending: Vec<u8> = Vec::new();
    let flush = |pending: &mut Vec<u8>, out: &mut File| -> Result<(), WriteError> {
        if !pending.is_empty() {
            out.write_all(pending).map_err(io_err(src, "writing"))?;
            pending.clear();
        }
        Ok(())
    };
    for piece in pieces {
        match piece {
            Piece::Bytes(b) => {
                pending.extend_from_slice(b);
                let n = b.len() as u64;
                if written <= half && half < written + n {
                    flush(&mut pending, out)?;
                    fault(FaultPoint::RebuildHalfCopied);
                }
                written += n;
            }
            Piece::Copy { offset, len } => {
                check_range(src, *offset, *len, size)?;
                flush(&mut pending, out)?;
                input
                    .seek(SeekFrom::Start(*offset))
                    .map_err(io_err(src, "seeking in the original"))?;
                // Split at the half-way point so the fault hook can fire there.
                let first = if written <= half && half < written + len {
                    half - written
                } else {
                    *len
                };
                copy_exact(src, &mut input, out, first)?;
                if first < *len {
                    fault(FaultPoint::RebuildHalfCopied);
                    copy_exact(src, &mut input, out, len - first)?;
                }
                written += len;
            }
            Piece::OggPages {
                offset,
                len,
                serial,
                delta,
            } => {
                check_range(src, *offset, *len, size)?;
                flush(&mut pending, out)?;
                copy_ogg_pages(src, &mut input, out, (*offset, *len), *serial, *delta)?;
                if written <= half && half < written + len {
                    fault(FaultPoint::RebuildHalfCopied);
                }
                written += len;
            }
        }
    }
    flush(&mut pending, out)?;
    Ok(written)
}

/// Refuses a piece that reads past the end of the original.
fn check_range(src: &Path, offset: u64, len: u64, size: u64) -> Result<(), WriteError> {
    if offset.checked_add(len).is_none_or(|end| end > size) {
        return Err(WriteError::PlanOutOfRange {
            path: src.to_path_buf(),
            offset,
            len,
            size,
        });
    }
    Ok(())
}

/// Copies the Ogg pages in `range` (offset, length) of the original, renumbered
/// ([`Piece::OggPages`]); one page in memory at a time.
fn copy_ogg_pages(
    src: &Path,
    input: &mut File,
    out: &mut File,
    (offset, len): (u64, u64),
    serial: u32,
    delta: u32,
) -> Result<(), WriteError> {
    input
        .seek(SeekFrom::Start(offset))
        .map_err(io_err(src, "seeking in the original"))?;
    let mut reader = io::BufReader::with_capacity(1 << 16, &*input);
    let mut writer = io::BufWriter::with_capacity(1 << 16, &*out);
    crate::container::ogg::pages::copy_renumbered(&mut reader, &mut writer, len, serial, delta)
        .and_then(|()| writer.flush())
        .map_err(io_err(src, "copying renumbered ogg pages"))
}

/// Data copied between two hints to start writing it to disk.
pub(super) const WRITEBACK_STEP: u64 = 8 << 20;

/// Copies exactly `len` bytes from the current position of `input` to `out`.
pub(super) fn copy_exact(
    src: &Path,
    input: &mut File,
    out: &mut File,
    len: u64,
) -> Result<(), WriteError> {
    // One call reads and writes (`copy_file_range`), so a full disk and a failing source
    // look alike here.
    let mut copied = 0u64;
    while copied < len {
        let step = (len - copied).min(WRITEBACK_STEP);
        let n = io::copy(&mut Read::take(&*input, step), out)
            .map_err(io_err(src, "writing a copy of the audio data"))?;
        start_writeback(out);
        copied += n;
        if n < step {
            break;
        }
    }
    if copied < len {
        return Err(WriteError::Io {
            path: src.to_path_buf(),
            action: "copying audio data",
            source: io::Error::new(
                io::ErrorKind::UnexpectedEof,
                "the file shrank while it was being written",
            ),
        });
    }
    Ok(())
}
