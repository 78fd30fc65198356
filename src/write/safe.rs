//! Crash-safe application of a [`Plan`](super::Plan).
//!
//! A rebuilt file is written to a temporary sibling, synced, given the original's permissions
//! and ownership, and renamed over the original: at every instant the path names either the
//! old or the new file. A symlink is resolved first so the link stays a link and its target
//! is replaced.

use super::{Patch, Piece, Plan, WriteError};
use std::fs::{self, File};
use std::io::{self, Read, Seek, SeekFrom, Write};
use std::path::{Path, PathBuf};

fn io_err<'a>(path: &'a Path, action: &'static str) -> impl FnOnce(io::Error) -> WriteError + 'a {
    move |source| WriteError::Io {
        path: path.to_path_buf(),
        action,
        source,
    }
}

/// Resolves symlinks so the write goes to the link's target and the link survives.
pub fn resolve_target(path: &Path) -> Result<PathBuf, WriteError> {
    fs::canonicalize(path).map_err(io_err(path, "resolving the path"))
}

/// Applies `plan` to the file at `path` (through symlinks), crash-safely. Returns the number
/// of bytes written.
pub fn apply(path: &Path, plan: &Plan) -> Result<u64, WriteError> {
    match plan {
        Plan::Unchanged => Ok(0),
        Plan::Patch(patches) => {
            let target = resolve_target(path)?;
            rebuild_into_place(&target, &patches_as_pieces(&target, patches)?)
        }
        Plan::Rebuild(pieces) => {
            let target = resolve_target(path)?;
            rebuild_into_place(&target, pieces)
        }
    }
}

/// Applies `plan` to a copy: reads `src`, writes the result to `out` (atomically, via a
/// temporary sibling of `out`). `src` is never modified.
pub fn apply_to(src: &Path, out: &Path, plan: &Plan) -> Result<u64, WriteError> {
    let pieces = match plan {
        Plan::Unchanged => {
            let len = fs::metadata(src)
                .map_err(io_err(src, "reading metadata"))?
                .len();
            vec![Piece::Copy { offset: 0, len }]
        }
        Plan::Patch(patches) => patches_as_pieces(src, patches)?,
        Plan::Rebuild(pieces) => pieces.clone(),
    };
    let dir = parent_dir(out);
    let mut tmp = tempfile::Builder::new()
        .prefix(".chapmark-")
        .suffix(".tmp")
        .tempfile_in(dir)
        .map_err(io_err(out, "creating a temporary file"))?;
    let written = write_pieces(src, &pieces, tmp.as_file_mut())?;
    tmp.as_file()
        .sync_all()
        .map_err(io_err(out, "syncing the temporary file"))?;
    tmp.persist(out).map_err(|e| WriteError::Io {
        path: out.to_path_buf(),
        action: "renaming the temporary file into place",
        source: e.error,
    })?;
    sync_dir(dir);
    Ok(written)
}

/// Expresses same-length patches as a full rebuild (used when patching in place is not
/// wanted, e.g. writing to `-o OUT`).
fn patches_as_pieces(src: &Path, patches: &[Patch]) -> Result<Vec<Piece>, WriteError> {
    let size = fs::metadata(src)
        .map_err(io_err(src, "reading metadata"))?
        .len();
    let mut sorted: Vec<&Patch> = patches.iter().collect();
    sorted.sort_by_key(|p| p.offset);
    let mut pieces = Vec::with_capacity(sorted.len() * 2 + 1);
    let mut pos = 0u64;
    for p in sorted {
        let end = p.offset.saturating_add(p.data.len() as u64);
        if p.offset < pos || end > size {
            return Err(WriteError::PlanOutOfRange {
                path: src.to_path_buf(),
                offset: p.offset,
                len: p.data.len() as u64,
                size,
            });
        }
        if p.offset > pos {
            pieces.push(Piece::Copy {
                offset: pos,
                len: p.offset - pos,
            });
        }
        pieces.push(Piece::Bytes(p.data.clone()));
        pos = end;
    }
    if pos < size {
        pieces.push(Piece::Copy {
            offset: pos,
            len: size - pos,
        });
    }
    Ok(pieces)
}

fn parent_dir(path: &Path) -> &Path {
    match path.parent() {
        Some(p) if !p.as_os_str().is_empty() => p,
        _ => Path::new("."),
    }
}

/// Writes the pieces into a temporary sibling of `target`, copies permissions and ownership,
/// syncs, and renames it over `target`.
fn rebuild_into_place(target: &Path, pieces: &[Piece]) -> Result<u64, WriteError> {
    let meta = fs::metadata(target).map_err(io_err(target, "reading metadata"))?;
    let dir = parent_dir(target);
    let mut tmp = tempfile::Builder::new()
        .prefix(".chapmark-")
        .suffix(".tmp")
        .tempfile_in(dir)
        .map_err(io_err(target, "creating a temporary file"))?;
    let written = write_pieces(target, pieces, tmp.as_file_mut())?;
    copy_ownership(&meta, tmp.as_file(), target)?;
    tmp.as_file()
        .set_permissions(meta.permissions())
        .map_err(io_err(target, "copying permissions"))?;
    tmp.as_file()
        .sync_all()
        .map_err(io_err(target, "syncing the temporary file"))?;
    tmp.persist(target).map_err(|e| WriteError::Io {
        path: target.to_path_buf(),
        action: "renaming the temporary file into place",
        source: e.error,
    })?;
    sync_dir(dir);
    Ok(written)
}

#[cfg(unix)]
fn copy_ownership(meta: &fs::Metadata, file: &File, target: &Path) -> Result<(), WriteError> {
    use std::os::unix::fs::MetadataExt;
    match std::os::unix::fs::fchown(file, Some(meta.uid()), Some(meta.gid())) {
        Ok(()) => Ok(()),
        // Not being allowed to give a file away is normal for non-root users; the file then
        // keeps our ownership, which is what any editor would do.
        Err(e) if e.kind() == io::ErrorKind::PermissionDenied => {
            log::debug!("{}: could not keep ownership: {e}", target.display());
            Ok(())
        }
        Err(e) => Err(io_err(target, "copying ownership")(e)),
    }
}

#[cfg(not(unix))]
fn copy_ownership(_: &fs::Metadata, _: &File, _: &Path) -> Result<(), WriteError> {
    Ok(())
}

fn sync_dir(dir: &Path) {
    // Makes the rename durable; failure only weakens durability, never atomicity.
    if let Ok(d) = File::open(dir) {
        let _ = d.sync_all();
    }
}

/// Streams the pieces into `out`, copying original ranges in bounded blocks.
fn write_pieces(src: &Path, pieces: &[Piece], out: &mut File) -> Result<u64, WriteError> {
    let mut input = File::open(src).map_err(io_err(src, "opening the original"))?;
    let size = input
        .metadata()
        .map_err(io_err(src, "reading metadata"))?
        .len();
    let mut out = io::BufWriter::with_capacity(1 << 16, out);
    let mut written = 0u64;
    for piece in pieces {
        match piece {
            Piece::Bytes(b) => {
                out.write_all(b).map_err(io_err(src, "writing"))?;
                written += b.len() as u64;
            }
            Piece::Copy { offset, len } => {
                if offset.checked_add(*len).is_none_or(|end| end > size) {
                    return Err(WriteError::PlanOutOfRange {
                        path: src.to_path_buf(),
                        offset: *offset,
                        len: *len,
                        size,
                    });
                }
                input
                    .seek(SeekFrom::Start(*offset))
                    .map_err(io_err(src, "seeking in the original"))?;
                let copied = io::copy(&mut (&mut input).take(*len), &mut out)
                    .map_err(io_err(src, "copying audio data"))?;
                if copied != *len {
                    return Err(WriteError::Io {
                        path: src.to_path_buf(),
                        action: "copying audio data",
                        source: io::Error::new(
                            io::ErrorKind::UnexpectedEof,
                            "the file shrank while it was being written",
                        ),
                    });
                }
                written += copied;
            }
        }
    }
    out.flush().map_err(io_err(src, "writing"))?;
    Ok(written)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rebuild_keeps_untouched_ranges() {
        let dir = tempfile::tempdir().unwrap();
        let p = dir.path().join("a.bin");
        fs::write(&p, b"0123456789").unwrap();
        let plan = Plan::Rebuild(vec![
            Piece::Bytes(b"TAG".to_vec()),
            Piece::Copy { offset: 4, len: 6 },
        ]);
        assert_eq!(apply(&p, &plan).unwrap(), 9);
        assert_eq!(fs::read(&p).unwrap(), b"TAG456789");
    }

    #[test]
    fn patch_and_out_of_range() {
        let dir = tempfile::tempdir().unwrap();
        let p = dir.path().join("a.bin");
        fs::write(&p, b"0123456789").unwrap();
        let plan = Plan::Patch(vec![Patch {
            offset: 2,
            data: b"xy".to_vec(),
        }]);
        apply(&p, &plan).unwrap();
        assert_eq!(fs::read(&p).unwrap(), b"01xy456789");
        let bad = Plan::Patch(vec![Patch {
            offset: 9,
            data: b"xy".to_vec(),
        }]);
        assert!(matches!(
            apply(&p, &bad),
            Err(WriteError::PlanOutOfRange { .. })
        ));
        assert_eq!(fs::read(&p).unwrap(), b"01xy456789");
    }

    #[cfg(unix)]
    #[test]
    fn symlink_stays_a_link_and_mode_is_kept() {
        use std::os::unix::fs::PermissionsExt;
        let dir = tempfile::tempdir().unwrap();
        let real = dir.path().join("real.bin");
        let link = dir.path().join("link.bin");
        fs::write(&real, b"abc").unwrap();
        fs::set_permissions(&real, fs::Permissions::from_mode(0o640)).unwrap();
        std::os::unix::fs::symlink(&real, &link).unwrap();
        apply(&link, &Plan::Rebuild(vec![Piece::Bytes(b"new".to_vec())])).unwrap();
        assert!(
            fs::symlink_metadata(&link)
                .unwrap()
                .file_type()
                .is_symlink()
        );
        assert_eq!(fs::read(&real).unwrap(), b"new");
        let mode = fs::metadata(&real).unwrap().permissions().mode() & 0o777;
        assert_eq!(mode, 0o640);
    }
}
