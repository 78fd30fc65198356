//! Crash-safe application of a [`Plan`].
//!
//! A rebuilt file is written to a temporary sibling, synced, given the original's permissions
//! and ownership, and renamed over the original: at every instant the path names either the
//! old or the new file. A symlink is resolved first so the link stays a link and its target
//! is replaced.
//!
//! Same-length patches (an ID3 tag rewritten inside its own padding) are written in place, so
//! a 300 MB episode costs a few kilobytes of writes instead of a full copy. In-place writing
//! is made crash-safe with a **rollback journal**, a sibling of the target named
//! `.<name>.chapmark-journal`:
//!
//! 1. the original bytes of every patched region are written to the journal, which is synced,
//!    and so is the directory (the journal now survives a power cut);
//! 2. the patches are written and the file is synced;
//! 3. the journal is deleted and the directory synced.
//!
//! [`recover`] runs before every [`apply`] (and before the ID3 planners read a file): a
//! complete journal means step 2 may have been interrupted, so the original bytes are put
//! back; an incomplete one (its checksum fails) means the crash happened during step 1, before
//! the file was touched, so it is simply deleted.
//!
//! # Growing a file at its start ([`Plan::Insert`])
//!
//! A tag that outgrows its space used to mean copying the whole audio into a new file. On
//! Linux, `fallocate(FALLOC_FL_INSERT_RANGE)` (ext4, XFS) instead inserts block-aligned space
//! at the start of the file by shifting its extents, whatever the file's size, so the audio is
//! never read or written. Made crash-safe with the same journal, which then also records the
//! inserted length:
//!
//! 1. the journal (original length `N`, inserted length `L`, the original bytes of every region
//!    the patches will overwrite, in the original file's offsets) is written and synced, and
//!    so is the directory;
//! 2. `L` bytes are inserted at offset 0;
//! 3. the patches are written and the file is synced;
//! 4. the journal is deleted and the directory synced.
//!
//! [`recover`] of such a journal: a file of `N + L` bytes had the insertion done, so the `L`
//! bytes are collapsed away again (`FALLOC_FL_COLLAPSE_RANGE`) and the original bytes put
//! back; a file of `N` bytes never got the insertion, so only the bytes are put back; any
//! other length is refused ([`WriteError::JournalMismatch`]). Rolling back is idempotent: an
//! interrupted recovery leaves `N` bytes and the journal, and the next one finishes it.
//! Where the insertion cannot be done (another OS or file system, `L` not a multiple of the
//! block size, the call refused with `EOPNOTSUPP`/`EINVAL`/`ENOSYS`), the plan's equivalent
//! rebuild is applied instead.
//!
//! The insertion itself is one system call, so a killed process never leaves it half done.
//! Across a power cut, the rollback relies on the file system's own journal having made the
//! size change and the extent shift atomic. ext4 and XFS log both, but for a file with very
//! many extents they may split the shift over several transactions; a power cut between two
//! of them could leave a file of `N + L` bytes with its extents only partly shifted, which
//! this rollback cannot tell from a finished insertion. Podcast files written in one go have
//! a handful of extents, so this is a theoretical gap, not a tested guarantee.
//!
//! # Growing a file at its end ([`Plan::Extend`])
//!
//! An M4A whose `moov` is at the end of the file grows there: the journal (`CHMKJNL4`, which
//! also records the appended length `A`) is written and synced, the file is extended to
//! `N + A` bytes, the patches are written and the file synced, the journal deleted. Recovery
//! cuts a file of `N + A` bytes back to `N` and puts the original bytes back (see `extend`).
//!
//! Journal layout (integers little-endian):
//!
//! | field | size |
//! |---|---|
//! | magic `CHMKJNL1` (same-length patch), `CHMKJNL2` (insertion), `CHMKJNL3`, `CHMKJNL4` | 8 |
//! | length of the target path, then the path's bytes (for people reading a stray journal) | 4 + n |
//! | length of the target file before the write (recovery checks it) | 8 |
//! | `CHMKJNL2` and later: bytes inserted at offset 0 | 8 |
//! | `CHMKJNL3` and `CHMKJNL4`: device and inode of the file | 8 + 8 |
//! | `CHMKJNL4` only: bytes appended at the end | 8 |
//! | number of regions | 4 |
//! | per region: offset (in the original file), length, original bytes | 8 + 8 + len |
//! | CRC-32 (IEEE) of everything above | 4 |
//!
//! Same-length patches keep writing `CHMKJNL1`, so an older chapmark can still roll them back;
//! an older chapmark would take a `CHMKJNL2` journal for an incomplete one, and a version
//! without `extend` a `CHMKJNL4` one (so run the same version to recover a grown M4A).
//!
//! # Fault injection (test hook)
//!
//! Only with the cargo feature `fault-injection` (the kill tests turn it on; a default build,
//! release binaries included, does not contain it): setting the environment variable
//! `FAULT_ENV` to the number of a [`FaultPoint`] makes the process abort
//! (`std::process::abort`, no unwinding, no cleanup) the moment it reaches that point, so
//! tests can check that every interruption leaves either the original or the finished file.
//! It is read once per process and does nothing when unset.
//!
//! # Files
//!
//! `journal` (format, reading and writing the rollback journal), `recover` (rolling back),
//! `patch` (same-length patches in place), `insert` (growing at the start), `extend`
//! (growing at the end), `rebuild`
//! (temporary sibling + rename, streaming copy), `sys` (system calls), `lock` (the advisory
//! lock that makes recovering safe), `fault` (the test hook).

mod checks;
mod extend;
mod fault;
mod group;
mod insert;
mod journal;
pub mod lock;
mod lockwait;
mod patch;
mod rebuild;
mod recover;
mod sys;

pub use checks::remove_stale_temps;
#[cfg(feature = "fault-injection")]
pub use fault::FAULT_ENV;
pub use fault::FaultPoint;
pub use group::{GROUP_MAX_BYTES, GROUP_MAX_FILES, apply_group, finish_groups};
pub use recover::{Recovery, recover};

use super::{Piece, Plan, WriteError};
use extend::extend_in_place;
use insert::insert_in_place;
use patch::{patch_in_place, patches_as_pieces};
use rebuild::{rebuild_into_place, write_pieces};
use recover::remove_stale_temp;
use std::fs;
use std::io;
use std::path::{Path, PathBuf};
use sys::sync_dir;

/// Names longer than this get hashed sibling names, so `.<name>.chapmark-journal` never
/// exceeds the usual 255-byte file-name limit.
const MAX_PLAIN_SIBLING_NAME: usize = 200;

pub(super) fn io_err<'a>(
    path: &'a Path,
    action: &'static str,
) -> impl FnOnce(io::Error) -> WriteError + 'a {
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

/// The stem shared by every sibling file chapmark makes for `target`: `.<name>.chapmark`.
pub(super) fn sibling_stem(target: &Path) -> String {
    let name = target
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_default();
    if name.len() > MAX_PLAIN_SIBLING_NAME {
        format!(".{:08x}.chapmark", crc32fast::hash(name.as_bytes()))
    } else {
        format!(".{name}.chapmark")
    }
}

/// Where the rollback journal of `target` (already resolved) lives.
pub fn journal_path(target: &Path) -> PathBuf {
    parent_dir(target).join(format!("{}-journal", sibling_stem(target)))
}

/// Where a rebuild of `target` writes before renaming: one fixed name per target, created
/// exclusively, so a leftover from a killed run is found without listing the directory.
pub fn temp_path(target: &Path) -> PathBuf {
    parent_dir(target).join(temp_name(target))
}

pub(super) fn temp_name(target: &Path) -> String {
    format!("{}-tmp", sibling_stem(target))
}

/// A new, empty temporary sibling at [`temp_path`] (deleted again when dropped).
pub(super) fn create_temp(target: &Path) -> Result<tempfile::NamedTempFile, WriteError> {
    let name = temp_name(target);
    let tmp = tempfile::Builder::new()
        .prefix(&name)
        .rand_bytes(0)
        .tempfile_in(parent_dir(target))
        .map_err(io_err(target, "creating a temporary file"))?;
    checks::lock_temp(tmp.as_file());
    Ok(tmp)
}

/// What applying a plan did, for summaries and reports.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum Applied {
    /// In place, and the file already held the result: nothing written.
    Unchanged,
    /// To another path, from a file that already held the result: a plain copy.
    Copied,
    /// Same-length patches written in place.
    InPlace,
    /// Space inserted at the start and patches written, in place.
    GrownInPlace,
    /// A new file written and renamed into place.
    Rewritten,
}

impl Applied {
    /// What [`apply`] (`to_copy == false`) or [`apply_to`] (`true`) does with `plan`.
    pub fn of(plan: &Plan, to_copy: bool) -> Applied {
        match (plan, to_copy) {
            (Plan::Unchanged, false) => Applied::Unchanged,
            (Plan::Unchanged, true) => Applied::Copied,
            (Plan::Patch(_), false) => Applied::InPlace,
            (Plan::Insert { .. } | Plan::Extend { .. }, false) => Applied::GrownInPlace,
            (Plan::Patch(_) | Plan::Insert { .. } | Plan::Extend { .. }, true)
            | (Plan::Rebuild(_), _) => Applied::Rewritten,
        }
    }

    /// The words used in the summary line: `unchanged`, `copied`, `in place`, …
    pub fn as_str(self) -> &'static str {
        match self {
            Applied::Unchanged => "unchanged",
            Applied::Copied => "copied",
            Applied::InPlace => "in place",
            Applied::GrownInPlace => "grown in place",
            Applied::Rewritten => "rewritten",
        }
    }
}

impl std::fmt::Display for Applied {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

/// Applies `plan` to the file at `path` (through symlinks), crash-safely. Returns the number
/// of bytes written.
///
/// An interrupted earlier write is recovered first. If that had to roll something back, the
/// plan was computed from a half-written file and is refused ([`WriteError::StalePlan`]):
/// plan again.
pub fn apply(path: &Path, plan: &Plan) -> Result<u64, WriteError> {
    let target = resolve_target(path)?;
    refuse_if_rolled_back(&target)?;
    match plan {
        Plan::Unchanged => Ok(0),
        Plan::Patch(patches) => patch_in_place(&target, patches),
        Plan::Rebuild(pieces) => rebuild_into_place(&target, pieces),
        Plan::Insert {
            len,
            patches,
            fallback,
        } => insert_in_place(&target, *len, patches, fallback),
        Plan::Extend {
            len,
            patches,
            fallback,
        } => extend_in_place(&target, *len, patches, fallback),
    }
}

fn refuse_if_rolled_back(target: &Path) -> Result<(), WriteError> {
    match recover(target)? {
        Recovery::RolledBack { .. } => Err(WriteError::StalePlan {
            path: target.to_path_buf(),
        }),
        _ => Ok(()),
    }
}

/// Applies `plan` to a copy: reads `src`, writes the result to `out` (atomically, via a
/// temporary sibling of `out`). `src` is never modified, except that an interrupted earlier
/// in-place write to it is rolled back first (see [`recover`]).
pub fn apply_to(src: &Path, out: &Path, plan: &Plan) -> Result<u64, WriteError> {
    refuse_if_rolled_back(src)?;
    let pieces = match plan {
        Plan::Unchanged => {
            let len = fs::metadata(src)
                .map_err(io_err(src, "reading metadata"))?
                .len();
            vec![Piece::Copy { offset: 0, len }]
        }
        Plan::Patch(patches) => patches_as_pieces(src, patches)?,
        Plan::Rebuild(pieces)
        | Plan::Insert {
            fallback: pieces, ..
        }
        | Plan::Extend {
            fallback: pieces, ..
        } => pieces.clone(),
    };
    let dir = parent_dir(out);
    // An existing output is replaced by a rename, which only needs the folder to be writable.
    if out.exists() {
        checks::check_writable(out)?;
    }
    remove_stale_temp(out);
    checks::check_free_space(dir, out, super::pieces_len(&pieces))?;
    let mut tmp = create_temp(out)?;
    let written = write_pieces(src, &pieces, tmp.as_file_mut())?;
    // The temporary file is private (0600); the result gets the permissions of the file it
    // replaces, or else of its source, as `cp` would, rather than staying unreadable to others.
    let perms = fs::metadata(out)
        .or_else(|_| fs::metadata(src))
        .map_err(io_err(src, "reading metadata"))?
        .permissions();
    tmp.as_file()
        .set_permissions(perms)
        .map_err(io_err(out, "setting permissions"))?;
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

/// Reads `path` back into the page cache in the background (`posix_fadvise(WILLNEED)`; a
/// hint, errors ignored). Growing a file at its start ([`Plan::Insert`]) drops its cached
/// pages, so without this the next command on it (a rerun, `check`) reads the whole file from
/// the disk again; [`apply`] does it itself, [`apply_group`] leaves it to the caller.
pub fn refill_cache(path: &Path) {
    if let Ok(f) = fs::File::open(path) {
        sys::refill_cache(&f, 0, 0);
    }
}

/// How much of a grown file's start [`refill_cache_ends`] reads back beyond the rewritten
/// region: a rerun's probe reads one 256 KiB buffer from where the audio (or `mdat`) starts.
pub const REFILL_HEAD: u64 = 260 << 10;

/// How much of a grown file's end [`refill_cache_ends`] reads back: the last frames that
/// prove an MP3's length (a rerun reads about 3 KiB there).
pub const REFILL_TAIL: u64 = 16 << 10;

/// [`refill_cache`] for what a rerun reads of a file whose length its header proves (an
/// MP3 with a checked Xing/LAME header, an M4A): the first `head` + [`REFILL_HEAD`] bytes
/// (`head`: where the write's rewritten region ends — the new tag or `moov`, see
/// [`Plan::rewritten_end`]) and the last [`REFILL_TAIL`]. Reading a batch of files back whole
/// competes with the batch's own syncs for the disk (200 two-minute MP3s: 0.43 s instead of
/// 0.17 s), and such a rerun never reads the middle.
pub fn refill_cache_ends(path: &Path, head: u64) {
    let Ok(f) = fs::File::open(path) else { return };
    let Ok(len) = f.metadata().map(|m| m.len()) else {
        return;
    };
    let head = head.saturating_add(REFILL_HEAD).min(len);
    sys::refill_cache(&f, 0, head);
    let tail = len.saturating_sub(REFILL_TAIL).max(head);
    if tail < len {
        sys::refill_cache(&f, tail, len - tail);
    }
}

pub(super) fn parent_dir(path: &Path) -> &Path {
    match path.parent() {
        Some(p) if !p.as_os_str().is_empty() => p,
        _ => Path::new("."),
    }
}

#[cfg(test)]
mod tests;
