//! Crash-safe application of a [`Plan`].
//!
//! A rebuilt file is written to a temporary sibling, synced, given the original's permissions
//! and ownership, and renamed over the original: at every instant the path names either the
//! old or the new file. A symlink is resolved first so the link stays a link and its target
//! is replaced. Before that, a rebuild is refused (see `checks.rs`) when the user may not
//! write the file, when it has other hard links (they would keep the old content), when the
//! folder lacks the space for the copy, and — checked right before the rename — when another
//! program changed the file meanwhile.
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
//! Between steps 2 and 3 the file starts with `L` zero bytes (the file system always inserts
//! a range as zeros): chapmark rolls that state back on its next run, but another program
//! reading the file after a kill there sees no tag until then. No order of these steps avoids
//! it without copying the audio; README's safety section states this window.
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
//! Journal layout (integers little-endian):
//!
//! | field | size |
//! |---|---|
//! | magic `CHMKJNL3` (written today); `CHMKJNL1`/`CHMKJNL2` from older versions are read | 8 |
//! | length of the target path, then the path's bytes (for people reading a stray journal) | 4 + n |
//! | length of the target file before the write (recovery checks it) | 8 |
//! | `CHMKJNL2`/`3`: bytes inserted at offset 0 (`0` for a same-length patch in `3`) | 8 |
//! | `CHMKJNL3` only: device and inode of the file written | 8 + 8 |
//! | number of regions | 4 |
//! | per region: offset (in the original file), length, original bytes | 8 + 8 + len |
//! | CRC-32 (IEEE) of everything above | 4 |
//!
//! [`recover`] applies a journal only to the file it was provably written for: the same
//! device and inode (`CHMKJNL3`), or the same path (older journals). A journal beside another
//! file (copied or moved there) fails with [`WriteError::ForeignJournal`] and changes nothing.
//! An older chapmark takes a `CHMKJNL3` journal for an incomplete one and deletes it, so a
//! downgrade right after a crash loses the rollback of that one write.
//!
//! # Fault injection (test hook)
//!
//! Setting the environment variable [`FAULT_ENV`] (`CHAPMARK_FAULT`) to the number of a
//! [`FaultPoint`] makes the process abort (`std::process::abort`, no unwinding, no cleanup) the
//! moment it reaches that point, so tests can check that every interruption leaves either the
//! original or the finished file. It is read once per process and does nothing when unset.

use super::{Patch, Piece, Plan, WriteError};
use std::fs::{self, File, OpenOptions};
use std::io::{self, Read, Seek, SeekFrom, Write};
use std::path::{Path, PathBuf};
use std::sync::OnceLock;

/// Environment variable naming the [`FaultPoint`] (by number) at which to abort. Test hook.
pub const FAULT_ENV: &str = "CHAPMARK_FAULT";

/// Places where [`FAULT_ENV`] can make the process abort, in the order a write reaches them.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum FaultPoint {
    /// Patch and insert: half of the journal written, not yet synced (leaves an incomplete
    /// journal).
    JournalHalfWritten = 1,
    /// Patch and insert: journal complete and synced, file not yet touched.
    JournalWritten = 2,
    /// Patch and insert: half of the patch bytes written to the file (for an insert: after
    /// the insertion).
    PatchHalfWritten = 3,
    /// Patch and insert: all patches written and synced, journal not yet deleted.
    Patched = 4,
    /// Rebuild: half of the new file written to the temporary sibling.
    RebuildHalfCopied = 5,
    /// Rebuild: temporary file complete and synced, not yet renamed.
    BeforeRename = 6,
    /// Rebuild: renamed into place, directory not yet synced.
    AfterRename = 7,
    /// Insert: the journal is complete and the space inserted at the start of the file, no
    /// patch written yet (the file starts with zeros). An insert also passes
    /// [`JournalHalfWritten`](Self::JournalHalfWritten), [`JournalWritten`](Self::JournalWritten),
    /// [`PatchHalfWritten`](Self::PatchHalfWritten) and [`Patched`](Self::Patched).
    Inserted = 8,
}

impl FaultPoint {
    /// Every fault point, for tests that try each one.
    pub const ALL: [FaultPoint; 8] = [
        FaultPoint::JournalHalfWritten,
        FaultPoint::JournalWritten,
        FaultPoint::PatchHalfWritten,
        FaultPoint::Patched,
        FaultPoint::RebuildHalfCopied,
        FaultPoint::BeforeRename,
        FaultPoint::AfterRename,
        FaultPoint::Inserted,
    ];

    /// The number to put in [`FAULT_ENV`].
    pub fn number(self) -> u8 {
        self as u8
    }
}

fn fault(point: FaultPoint) {
    static WANTED: OnceLock<Option<u8>> = OnceLock::new();
    let wanted = WANTED.get_or_init(|| {
        std::env::var(FAULT_ENV)
            .ok()
            .and_then(|v| v.trim().parse().ok())
    });
    if *wanted == Some(point.number()) {
        if std::env::var_os(FAULT_ACTION_ENV).is_some_and(|a| a == "stop") {
            stop_self(point);
            return;
        }
        log::error!("{FAULT_ENV}: aborting at fault point {point:?}");
        std::process::abort();
    }
}

/// Environment variable: `stop` makes the [`FAULT_ENV`] point stop the process (`SIGSTOP`)
/// instead of aborting it, so a test can change the file meanwhile and let it continue.
pub const FAULT_ACTION_ENV: &str = "CHAPMARK_FAULT_ACTION";

#[cfg(unix)]
fn stop_self(point: FaultPoint) {
    log::error!("{FAULT_ENV}: stopping at fault point {point:?}");
    // SAFETY: raising a signal at ourselves has no memory-safety preconditions.
    unsafe {
        libc::raise(libc::SIGSTOP);
    }
}

#[cfg(not(unix))]
fn stop_self(_: FaultPoint) {}

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

const JOURNAL_MAGIC: &[u8; 8] = b"CHMKJNL1";
/// Magic of a journal that also records space inserted at the start of the file.
const INSERT_JOURNAL_MAGIC: &[u8; 8] = b"CHMKJNL2";
/// Magic of the journal written today: the `CHMKJNL2` layout (inserted length 0 for a
/// same-length patch) plus the file's device and inode, so recovery can prove the journal is
/// this file's before it changes a byte.
const IDENTITY_JOURNAL_MAGIC: &[u8; 8] = b"CHMKJNL3";
/// Patches larger than this (summed) are applied by a rebuild instead, so a journal never
/// has to hold more original bytes than this in memory.
const JOURNAL_CAP: u64 = 256 << 20;
/// Names longer than this get hashed sibling names, so `.<name>.chapmark-journal` never
/// exceeds the usual 255-byte file-name limit.
const MAX_PLAIN_SIBLING_NAME: usize = 200;

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

/// The stem shared by every sibling file chapmark makes for `target`: `.<name>.chapmark`.
fn sibling_stem(target: &Path) -> String {
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

fn temp_name(target: &Path) -> String {
    format!("{}-tmp", sibling_stem(target))
}

/// A new, empty temporary sibling at [`temp_path`] (deleted again when dropped).
fn create_temp(target: &Path) -> Result<tempfile::NamedTempFile, WriteError> {
    let name = temp_name(target);
    let tmp = tempfile::Builder::new()
        .prefix(&name)
        .rand_bytes(0)
        .tempfile_in(parent_dir(target))
        .map_err(io_err(target, "creating a temporary file"))?;
    super::checks::lock_temp(tmp.as_file());
    Ok(tmp)
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
        } => pieces.clone(),
    };
    let dir = parent_dir(out);
    // An existing output is replaced by a rename, which only needs the folder to be writable.
    if out.exists() {
        super::checks::check_writable(out)?;
    }
    remove_stale_temp(out);
    super::checks::check_free_space(dir, out, super::pieces_len(&pieces))?;
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

/// Finishes whatever an interrupted write to `path` left behind: rolls back an in-place write
/// whose journal is complete, deletes an incomplete journal, and removes leftover temporary
/// file of an interrupted rebuild. Cheap when there is nothing to do (a failed open and a
/// failed unlink; no directory listing).
///
/// Call it before reading a file you are about to plan a write for; [`apply`] calls it too.
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
    if len != journal.file_len && !inserted_done {
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

/// Reads the journal if there is one; an oversized one is returned empty (hence invalid).
fn read_journal(jpath: &Path) -> io::Result<Option<Vec<u8>>> {
    let mut f = match super::special::open_regular(jpath) {
        Ok(f) => f,
        Err(e) if e.kind() == io::ErrorKind::NotFound => return Ok(None),
        Err(e) => return Err(e),
    };
    let len = f.metadata()?.len();
    // Largest journal we ever write: the cap plus headers; anything bigger is not ours.
    if len > JOURNAL_CAP + (1 << 20) {
        return Ok(Some(Vec::new()));
    }
    let mut buf = Vec::with_capacity(len as usize);
    f.read_to_end(&mut buf)?;
    Ok(Some(buf))
}

/// Deletes a journal once the file it protects is synced. The directory is deliberately not
/// synced afterwards: if a power cut brings the journal back, the next run rolls the (complete,
/// synced) write back to the original — one of the two states we promise — and skipping that
/// fsync makes every in-place write a third cheaper.
fn remove_journal(jpath: &Path) -> Result<(), WriteError> {
    match fs::remove_file(jpath) {
        Ok(()) => Ok(()),
        Err(e) if e.kind() == io::ErrorKind::NotFound => Ok(()),
        Err(e) => Err(io_err(jpath, "deleting the journal")(e)),
    }
}

fn remove_stale_temp(target: &Path) {
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

/// A decoded journal.
struct Journal {
    path: Vec<u8>,
    /// Length of the file before the write.
    file_len: u64,
    /// Bytes inserted at offset 0 (0 for a same-length patch).
    inserted: u64,
    /// `(device, inode)` of the file written (`CHMKJNL3`); `None` in older journals.
    identity: Option<(u64, u64)>,
    /// Original bytes, at offsets in the original file.
    regions: Vec<(u64, Vec<u8>)>,
}

impl Journal {
    /// The journal for a write to the file `meta` describes (`CHMKJNL3`).
    fn encode_for(
        target: &Path,
        meta: &fs::Metadata,
        inserted: u64,
        regions: &[(u64, Vec<u8>)],
    ) -> Vec<u8> {
        let identity = super::checks::identity(meta);
        Self::encode_as(target, meta.len(), inserted, Some(identity), regions)
    }

    /// An older journal without the file's identity (`CHMKJNL1`/`CHMKJNL2`), as earlier
    /// versions wrote them.
    #[cfg(test)]
    fn encode(target: &Path, file_len: u64, inserted: u64, regions: &[(u64, Vec<u8>)]) -> Vec<u8> {
        Self::encode_as(target, file_len, inserted, None, regions)
    }

    fn encode_as(
        target: &Path,
        file_len: u64,
        inserted: u64,
        identity: Option<(u64, u64)>,
        regions: &[(u64, Vec<u8>)],
    ) -> Vec<u8> {
        let path = target.as_os_str().as_encoded_bytes();
        let body: usize = regions.iter().map(|(_, d)| d.len() + 16).sum();
        let mut out = Vec::with_capacity(52 + path.len() + body);
        out.extend_from_slice(match (identity, inserted) {
            (Some(_), _) => IDENTITY_JOURNAL_MAGIC,
            (None, 0) => JOURNAL_MAGIC,
            (None, _) => INSERT_JOURNAL_MAGIC,
        });
        out.extend_from_slice(&(path.len() as u32).to_le_bytes());
        out.extend_from_slice(path);
        out.extend_from_slice(&file_len.to_le_bytes());
        if inserted > 0 || identity.is_some() {
            out.extend_from_slice(&inserted.to_le_bytes());
        }
        if let Some((dev, ino)) = identity {
            out.extend_from_slice(&dev.to_le_bytes());
            out.extend_from_slice(&ino.to_le_bytes());
        }
        out.extend_from_slice(&(regions.len() as u32).to_le_bytes());
        for (offset, data) in regions {
            out.extend_from_slice(&offset.to_le_bytes());
            out.extend_from_slice(&(data.len() as u64).to_le_bytes());
            out.extend_from_slice(data);
        }
        let crc = crc32fast::hash(&out);
        out.extend_from_slice(&crc.to_le_bytes());
        out
    }

    /// Fails unless the journal provably belongs to `file` (at `target`): a current journal
    /// must record this file's device and inode; an older one, without them, its exact path.
    /// A journal copied or moved next to another file is never applied to it.
    fn check_belongs(&self, target: &Path, jpath: &Path, file: &File) -> Result<(), WriteError> {
        let named = String::from_utf8_lossy(&self.path);
        let (ok, recorded) = match self.identity {
            Some((dev, ino)) => {
                let meta = file
                    .metadata()
                    .map_err(io_err(target, "reading metadata"))?;
                let ok = super::checks::identity(&meta) == (dev, ino);
                (ok, format!("{named} (device {dev}, inode {ino})"))
            }
            None => (
                self.path == target.as_os_str().as_encoded_bytes(),
                named.into_owned(),
            ),
        };
        if ok {
            return Ok(());
        }
        Err(WriteError::ForeignJournal {
            path: target.to_path_buf(),
            journal: jpath.to_path_buf(),
            recorded,
        })
    }

    /// `None` unless the journal is complete and its checksum matches.
    fn decode(bytes: &[u8]) -> Option<Journal> {
        let split = bytes.len().checked_sub(4)?;
        let (body, crc) = bytes.split_at(split);
        if crc32fast::hash(body).to_le_bytes() != crc {
            return None;
        }
        let mut r = body;
        let magic = take(&mut r, 8)?;
        let path_len = u32::from_le_bytes(take(&mut r, 4)?.try_into().ok()?) as usize;
        let path = take(&mut r, path_len)?.to_vec();
        let file_len = u64::from_le_bytes(take(&mut r, 8)?.try_into().ok()?);
        let read_u64 = |r: &mut &[u8]| -> Option<u64> {
            Some(u64::from_le_bytes(take(r, 8)?.try_into().ok()?))
        };
        let (inserted, identity) = match magic {
            m if m == JOURNAL_MAGIC => (0, None),
            m if m == INSERT_JOURNAL_MAGIC => (read_u64(&mut r).filter(|&n| n > 0)?, None),
            m if m == IDENTITY_JOURNAL_MAGIC => {
                let inserted = read_u64(&mut r)?;
                (inserted, Some((read_u64(&mut r)?, read_u64(&mut r)?)))
            }
            _ => return None,
        };
        let count = u32::from_le_bytes(take(&mut r, 4)?.try_into().ok()?);
        let mut regions = Vec::new();
        for _ in 0..count {
            let offset = u64::from_le_bytes(take(&mut r, 8)?.try_into().ok()?);
            let len =
                usize::try_from(u64::from_le_bytes(take(&mut r, 8)?.try_into().ok()?)).ok()?;
            let data = take(&mut r, len)?.to_vec();
            if offset.checked_add(data.len() as u64)? > file_len {
                return None;
            }
            regions.push((offset, data));
        }
        if !r.is_empty() {
            return None;
        }
        Some(Journal {
            path,
            file_len,
            inserted,
            identity,
            regions,
        })
    }
}

/// Splits `n` bytes off the front of `r`.
fn take<'a>(r: &mut &'a [u8], n: usize) -> Option<&'a [u8]> {
    if r.len() < n {
        return None;
    }
    let (a, b) = r.split_at(n);
    *r = b;
    Some(a)
}

fn write_at(file: &mut File, offset: u64, data: &[u8]) -> io::Result<()> {
    file.seek(SeekFrom::Start(offset))?;
    file.write_all(data)
}

/// Sorts patches and checks they neither overlap nor reach past `size`.
fn checked_patches<'a>(
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

/// Writes same-length patches into `target` under a rollback journal (see the module docs).
fn patch_in_place(target: &Path, patches: &[Patch]) -> Result<u64, WriteError> {
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
    let mut file = OpenOptions::new()
        .read(true)
        .write(true)
        .open(target)
        .map_err(io_err(target, "opening the file for writing"))?;
    // Only the bytes that change are journalled and written: a rewritten `moov` differs
    // from the old one in a few kilobytes of its megabytes of sample tables.
    let mut originals = Vec::with_capacity(sorted.len());
    let mut changed = Vec::with_capacity(sorted.len());
    for p in &sorted {
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
        let rollback = originals
            .iter()
            .try_for_each(|(o, d)| write_at(&mut file, *o, d))
            .and_then(|()| file.sync_all());
        match rollback {
            Ok(()) => {
                let _ = remove_journal(&jpath);
            }
            Err(r) => log::error!(
                "{}: writing failed and so did rolling back ({r}); the journal {} will be \
                 applied by the next run",
                target.display(),
                jpath.display()
            ),
        }
        return Err(io_err(target, "writing in place")(e));
    }
    fault(FaultPoint::Patched);
    remove_journal(&jpath)?;
    Ok(total)
}

/// Inserts `len` bytes at the start of `target` and writes `patches` (offsets in the grown
/// file) under a rollback journal, or applies `fallback` where inserting is not possible (see
/// the module docs).
fn insert_in_place(
    target: &Path,
    len: u64,
    patches: &[Patch],
    fallback: &[Piece],
) -> Result<u64, WriteError> {
    if len == 0 {
        return patch_in_place(target, patches);
    }
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
    let Some(block) = insert_block_size(&meta) else {
        log::debug!(
            "{}: no in-place insertion here; rebuilding",
            target.display()
        );
        return rebuild_into_place(target, fallback);
    };
    // The file system only shifts whole blocks, and only inside the file.
    if size == 0 || len % block != 0 || total > JOURNAL_CAP {
        log::debug!(
            "{}: cannot insert {len} bytes in place (block size {block}, file {size} bytes, \
             {total} patch bytes); rebuilding",
            target.display()
        );
        return rebuild_into_place(target, fallback);
    }
    let mut file = OpenOptions::new()
        .read(true)
        .write(true)
        .open(target)
        .map_err(io_err(target, "opening the file for writing"))?;
    // The original bytes of whatever the patches overwrite, in original offsets: the part of
    // each patch past the inserted space lands on bytes that were at `offset - len`.
    let mut originals = Vec::with_capacity(sorted.len());
    for p in &sorted {
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
    let jpath = journal_path(target);
    write_journal(&jpath, &Journal::encode_for(target, &meta, len, &originals))?;
    fault(FaultPoint::JournalWritten);

    if let Err(e) = insert_start(&file, len) {
        drop(file);
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
        return Err(io_err(target, "inserting space at the start of the file")(
            e,
        ));
    }
    fault(FaultPoint::Inserted);

    if let Err(e) = write_patches(&mut file, &sorted, total).and_then(|()| file.sync_all()) {
        drop(file);
        if let Err(r) = recover(target) {
            log::error!(
                "{}: writing failed and so did rolling back ({r}); the journal {} will be \
                 applied by the next run",
                target.display(),
                jpath.display()
            );
        }
        return Err(io_err(target, "writing in place")(e));
    }
    fault(FaultPoint::Patched);
    remove_journal(&jpath)?;
    Ok(total)
}

/// The granularity in which this file's file system can insert space, or `None` where
/// chapmark does not insert at all. `st_blksize` is the block size on ext4 and at least that
/// on XFS, so an insertion it allows is always block-aligned.
#[cfg(target_os = "linux")]
fn insert_block_size(meta: &fs::Metadata) -> Option<u64> {
    use std::os::unix::fs::MetadataExt;
    Some(meta.blksize()).filter(|&b| b > 0)
}

#[cfg(not(target_os = "linux"))]
fn insert_block_size(_: &fs::Metadata) -> Option<u64> {
    None
}

/// Errors that mean "this file system (or kernel) cannot insert here", not "something broke".
#[cfg(target_os = "linux")]
fn insert_unsupported(e: &io::Error) -> bool {
    matches!(
        e.raw_os_error(),
        Some(libc::EOPNOTSUPP | libc::EINVAL | libc::ENOSYS)
    )
}

#[cfg(not(target_os = "linux"))]
fn insert_unsupported(_: &io::Error) -> bool {
    true
}

/// `fallocate(mode, 0, len)`, retried on `EINTR`.
#[cfg(target_os = "linux")]
fn fallocate_start(file: &File, mode: libc::c_int, len: u64) -> io::Result<()> {
    use std::os::fd::AsRawFd;
    let len =
        libc::off_t::try_from(len).map_err(|_| io::Error::from(io::ErrorKind::InvalidInput))?;
    loop {
        // SAFETY: fallocate only uses the descriptor, which `file` keeps open for the call.
        if unsafe { libc::fallocate(file.as_raw_fd(), mode, 0, len) } == 0 {
            return Ok(());
        }
        let e = io::Error::last_os_error();
        if e.kind() != io::ErrorKind::Interrupted {
            return Err(e);
        }
    }
}

/// Inserts `len` zero bytes at offset 0 by shifting the file's extents.
#[cfg(target_os = "linux")]
fn insert_start(file: &File, len: u64) -> io::Result<()> {
    fallocate_start(file, libc::FALLOC_FL_INSERT_RANGE, len)
}

#[cfg(not(target_os = "linux"))]
fn insert_start(_: &File, _: u64) -> io::Result<()> {
    Err(io::Error::from(io::ErrorKind::Unsupported))
}

/// Removes the first `len` bytes (undoes [`insert_start`]).
#[cfg(target_os = "linux")]
fn collapse_start(file: &File, len: u64) -> io::Result<()> {
    fallocate_start(file, libc::FALLOC_FL_COLLAPSE_RANGE, len)
}

#[cfg(not(target_os = "linux"))]
fn collapse_start(_: &File, _: u64) -> io::Result<()> {
    Err(io::Error::from(io::ErrorKind::Unsupported))
}

/// Unchanged bytes shorter than this between two changed ones are rewritten rather than
/// splitting the patch (each region costs 16 journal bytes and a seek).
const DIFF_GAP: usize = 64;

/// The ranges `[start, end)` where `new` differs from `old` (same length), with gaps shorter
/// than [`DIFF_GAP`] merged.
fn changed_runs(old: &[u8], new: &[u8]) -> Vec<(usize, usize)> {
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

fn write_journal(jpath: &Path, bytes: &[u8]) -> Result<(), WriteError> {
    let mut opts = OpenOptions::new();
    opts.write(true).create(true).truncate(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt;
        opts.mode(0o600);
    }
    let result = (|| -> io::Result<()> {
        let mut f = opts.open(jpath)?;
        let half = bytes.len() / 2;
        f.write_all(&bytes[..half])?;
        fault(FaultPoint::JournalHalfWritten);
        f.write_all(&bytes[half..])?;
        // fdatasync: the journal's length and contents are what recovery needs.
        f.sync_data()
    })();
    if let Err(e) = result {
        // Disk full or similar: the file is untouched; do not leave half a journal.
        let _ = fs::remove_file(jpath);
        return Err(io_err(jpath, "writing the journal")(e));
    }
    sync_dir(parent_dir(jpath));
    Ok(())
}

fn write_patches(file: &mut File, patches: &[&Patch], total: u64) -> io::Result<()> {
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
fn patches_as_pieces(src: &Path, patches: &[Patch]) -> Result<Vec<Piece>, WriteError> {
    let size = fs::metadata(src)
        .map_err(io_err(src, "reading metadata"))?
        .len();
    let sorted = checked_patches(src, patches, size)?;
    let mut pieces = Vec::with_capacity(sorted.len() * 2 + 1);
    let mut pos = 0u64;
    for p in sorted {
        if p.offset > pos {
            pieces.push(Piece::Copy {
                offset: pos,
                len: p.offset - pos,
            });
        }
        pieces.push(Piece::Bytes(p.data.clone()));
        pos = p.offset + p.data.len() as u64;
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
/// syncs, and renames it over `target`. Any error (a full disk included) drops the temporary
/// file, which deletes it: the original is never touched.
fn rebuild_into_place(target: &Path, pieces: &[Piece]) -> Result<u64, WriteError> {
    let meta = fs::metadata(target).map_err(io_err(target, "reading metadata"))?;
    let dir = parent_dir(target);
    super::checks::check_replaceable(target, &meta)?;
    let before = super::checks::Snapshot::of(&meta);
    super::checks::check_free_space(dir, target, super::pieces_len(pieces))?;
    let mut tmp = create_temp(target)?;
    let written = write_pieces(target, pieces, tmp.as_file_mut())?;
    copy_ownership(&meta, tmp.as_file(), target)?;
    tmp.as_file()
        .set_permissions(meta.permissions())
        .map_err(io_err(target, "copying permissions"))?;
    tmp.as_file()
        .sync_all()
        .map_err(io_err(target, "syncing the temporary file"))?;
    fault(FaultPoint::BeforeRename);
    before.check_unchanged(target)?;
    tmp.persist(target).map_err(|e| WriteError::Io {
        path: target.to_path_buf(),
        action: "renaming the temporary file into place",
        source: e.error,
    })?;
    fault(FaultPoint::AfterRename);
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

/// Streams the pieces into `out`. Original ranges go through [`io::copy`] from file to file,
/// which Linux turns into `copy_file_range` (an in-kernel copy, or a reflink on filesystems
/// that share extents) and other systems into a bounded-buffer loop; nothing is loaded whole.
fn write_pieces(src: &Path, pieces: &[Piece], out: &mut File) -> Result<u64, WriteError> {
    let mut input = File::open(src).map_err(io_err(src, "opening the original"))?;
    let size = input
        .metadata()
        .map_err(io_err(src, "reading metadata"))?
        .len();
    let total: u64 = pieces
        .iter()
        .map(|p| match p {
            Piece::Bytes(b) => b.len() as u64,
            Piece::Copy { len, .. } => *len,
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
                if offset.checked_add(*len).is_none_or(|end| end > size) {
                    return Err(WriteError::PlanOutOfRange {
                        path: src.to_path_buf(),
                        offset: *offset,
                        len: *len,
                        size,
                    });
                }
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
        }
    }
    flush(&mut pending, out)?;
    Ok(written)
}

/// Data copied between two hints to start writing it to disk.
const WRITEBACK_STEP: u64 = 8 << 20;

/// Asks the kernel to start writing what `out` has so far, without waiting, so the disk works
/// while we copy the rest and the final `fsync` has little left to wait for. A hint: errors
/// are ignored (the `fsync` that follows reports real ones).
#[cfg(target_os = "linux")]
fn start_writeback(out: &File) {
    use std::os::fd::AsRawFd;
    // SAFETY: sync_file_range only reads the descriptor, which `out` keeps open.
    let _ = unsafe { libc::sync_file_range(out.as_raw_fd(), 0, 0, libc::SYNC_FILE_RANGE_WRITE) };
}

#[cfg(not(target_os = "linux"))]
fn start_writeback(_: &File) {}

/// Copies exactly `len` bytes from the current position of `input` to `out`.
fn copy_exact(src: &Path, input: &mut File, out: &mut File, len: u64) -> Result<(), WriteError> {
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
        assert!(!journal_path(&resolve_target(&p).unwrap()).exists());
        let bad = Plan::Patch(vec![Patch {
            offset: 9,
            data: b"xy".to_vec(),
        }]);
        assert!(matches!(
            apply(&p, &bad),
            Err(WriteError::PlanOutOfRange { .. })
        ));
        let overlapping = Plan::Patch(vec![
            Patch {
                offset: 1,
                data: b"abc".to_vec(),
            },
            Patch {
                offset: 2,
                data: b"z".to_vec(),
            },
        ]);
        assert!(matches!(
            apply(&p, &overlapping),
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
        // In place, through the link, journal beside the target.
        let patch = Plan::Patch(vec![Patch {
            offset: 0,
            data: b"N".to_vec(),
        }]);
        apply(&link, &patch).unwrap();
        assert_eq!(fs::read(&real).unwrap(), b"New");
        let mode = fs::metadata(&real).unwrap().permissions().mode() & 0o777;
        assert_eq!(mode, 0o640);
    }

    #[cfg(unix)]
    #[test]
    fn apply_to_gives_the_output_the_source_permissions() {
        use std::os::unix::fs::PermissionsExt;
        let dir = tempfile::tempdir().unwrap();
        let src = dir.path().join("src.bin");
        let out = dir.path().join("out.bin");
        fs::write(&src, b"abc").unwrap();
        fs::set_permissions(&src, fs::Permissions::from_mode(0o644)).unwrap();
        apply_to(&src, &out, &Plan::Unchanged).unwrap();
        assert_eq!(fs::read(&out).unwrap(), b"abc");
        let mode = |p: &Path| fs::metadata(p).unwrap().permissions().mode() & 0o777;
        assert_eq!(mode(&out), 0o644);
        // An existing output keeps its own permissions.
        fs::set_permissions(&out, fs::Permissions::from_mode(0o640)).unwrap();
        apply_to(
            &src,
            &out,
            &Plan::Rebuild(vec![Piece::Bytes(b"x".to_vec())]),
        )
        .unwrap();
        assert_eq!(fs::read(&out).unwrap(), b"x");
        assert_eq!(mode(&out), 0o640);
        assert_eq!(mode(&src), 0o644);
    }

    #[test]
    fn changed_runs_merge_short_gaps() {
        let old = vec![0u8; 1000];
        let mut new = old.clone();
        assert!(changed_runs(&old, &new).is_empty());
        new[10] = 1;
        new[20] = 1; // 9 equal bytes between: merged
        new[500] = 1;
        new[999] = 1;
        assert_eq!(
            changed_runs(&old, &new),
            vec![(10, 21), (500, 501), (999, 1000)]
        );
    }

    #[test]
    fn only_changed_bytes_are_journalled_and_written() {
        let dir = tempfile::tempdir().unwrap();
        let p = dir.path().join("a.bin");
        let old: Vec<u8> = (0..100_000u32).map(|i| (i % 251) as u8).collect();
        fs::write(&p, &old).unwrap();
        let mut region = old[1000..90_000].to_vec();
        region[5] ^= 0xFF;
        region[70_000] ^= 0xFF;
        let plan = Plan::Patch(vec![Patch {
            offset: 1000,
            data: region.clone(),
        }]);
        assert_eq!(apply(&p, &plan).unwrap(), 2);
        let mut want = old.clone();
        want[1000..90_000].copy_from_slice(&region);
        assert_eq!(fs::read(&p).unwrap(), want);
        // Again: nothing differs any more.
        assert_eq!(apply(&p, &plan).unwrap(), 0);
        assert!(!journal_path(&resolve_target(&p).unwrap()).exists());
    }

    #[test]
    fn journal_round_trip_and_corruption() {
        let regions = vec![(3u64, b"abc".to_vec()), (10, vec![0xFF; 5])];
        let j = Journal::encode(Path::new("/x/y.mp3"), 100, 0, &regions);
        let d = Journal::decode(&j).unwrap();
        assert_eq!(d.regions, regions);
        assert_eq!(d.file_len, 100);
        assert_eq!(d.path, b"/x/y.mp3");
        for cut in 0..j.len() {
            assert!(Journal::decode(&j[..cut]).is_none(), "cut at {cut}");
        }
        let mut flipped = j.clone();
        flipped[20] ^= 1;
        assert!(Journal::decode(&flipped).is_none());
    }

    #[test]
    fn recover_rolls_back_a_complete_journal() {
        let dir = tempfile::tempdir().unwrap();
        let p = dir.path().join("a.bin");
        fs::write(&p, b"0123456789").unwrap();
        let target = resolve_target(&p).unwrap();
        // As if the process died after writing the journal and half of the patch.
        fs::write(
            journal_path(&target),
            Journal::encode(&target, 10, 0, &[(2, b"234".to_vec())]),
        )
        .unwrap();
        fs::write(&p, b"01XY456789").unwrap();
        assert_eq!(
            recover(&p).unwrap(),
            Recovery::RolledBack {
                regions: 1,
                bytes: 3
            }
        );
        assert_eq!(fs::read(&p).unwrap(), b"0123456789");
        assert_eq!(recover(&p).unwrap(), Recovery::Clean);
        // An incomplete journal is dropped without touching the file.
        let j = Journal::encode(&target, 10, 0, &[(0, b"zz".to_vec())]);
        fs::write(journal_path(&target), &j[..j.len() - 3]).unwrap();
        assert_eq!(recover(&p).unwrap(), Recovery::DiscardedIncomplete);
        assert_eq!(fs::read(&p).unwrap(), b"0123456789");
        assert!(!journal_path(&target).exists());
        // A journal for a file of another length is refused and kept.
        fs::write(
            journal_path(&target),
            Journal::encode(&target, 11, 0, &[(0, b"zz".to_vec())]),
        )
        .unwrap();
        assert!(matches!(
            recover(&p),
            Err(WriteError::JournalMismatch { .. })
        ));
        assert!(journal_path(&target).exists());
        assert!(apply(&p, &Plan::Unchanged).is_err());
    }

    #[test]
    fn apply_refuses_a_plan_made_before_a_rollback() {
        let dir = tempfile::tempdir().unwrap();
        let p = dir.path().join("a.bin");
        fs::write(&p, b"0123456789").unwrap();
        let target = resolve_target(&p).unwrap();
        fs::write(
            journal_path(&target),
            Journal::encode(&target, 10, 0, &[(0, b"0".to_vec())]),
        )
        .unwrap();
        let plan = Plan::Patch(vec![Patch {
            offset: 0,
            data: b"A".to_vec(),
        }]);
        assert!(matches!(
            apply(&p, &plan),
            Err(WriteError::StalePlan { .. })
        ));
        apply(&p, &plan).unwrap();
        assert_eq!(fs::read(&p).unwrap(), b"A123456789");
    }

    #[test]
    fn stale_temp_files_are_removed() {
        let dir = tempfile::tempdir().unwrap();
        let p = dir.path().join("a.bin");
        fs::write(&p, b"x").unwrap();
        let stale = dir.path().join(".a.bin.chapmark-tmp");
        let other = dir.path().join(".b.bin.chapmark-tmp");
        fs::write(&stale, b"partial").unwrap();
        fs::write(&other, b"not ours").unwrap();
        assert_eq!(recover(&p).unwrap(), Recovery::Clean);
        assert!(!stale.exists());
        assert!(other.exists());
    }

    /// A 3-block file with distinct bytes everywhere, and an insert plan that grows its first
    /// 100 bytes (the "tag") into 100 + `len` bytes of `T`.
    fn insert_case(dir: &Path, len: u64) -> (PathBuf, Vec<u8>, Plan, Vec<u8>) {
        let p = dir.join("a.bin");
        let old: Vec<u8> = (0..3 * 4096u32).map(|i| (i % 253) as u8).collect();
        fs::write(&p, &old).unwrap();
        let tag = vec![b'T'; 100 + len as usize];
        let plan = Plan::Insert {
            len,
            patches: vec![Patch {
                offset: 0,
                data: tag.clone(),
            }],
            fallback: vec![
                Piece::Bytes(tag.clone()),
                Piece::Copy {
                    offset: 100,
                    len: old.len() as u64 - 100,
                },
            ],
        };
        let mut want = tag;
        want.extend_from_slice(&old[100..]);
        (p, old, plan, want)
    }

    #[cfg(unix)]
    fn inode(p: &Path) -> u64 {
        use std::os::unix::fs::MetadataExt;
        fs::metadata(p).unwrap().ino()
    }

    /// Whether the file system under `dir` can insert ranges (ext4/XFS; not tmpfs).
    #[cfg(target_os = "linux")]
    fn inserts_here(dir: &Path) -> bool {
        let p = dir.join("probe.bin");
        fs::write(&p, vec![1u8; 8192]).unwrap();
        let f = OpenOptions::new().write(true).open(&p).unwrap();
        let ok = insert_start(&f, 4096).is_ok();
        drop(f);
        fs::remove_file(&p).unwrap();
        if !ok {
            eprintln!("{}: no FALLOC_FL_INSERT_RANGE here", dir.display());
        }
        ok
    }

    #[cfg(target_os = "linux")]
    #[test]
    fn insert_grows_in_place_and_matches_the_fallback() {
        let dir = tempfile::tempdir().unwrap();
        let (p, _, plan, want) = insert_case(dir.path(), 4096);
        let ino = inode(&p);
        assert_eq!(apply(&p, &plan).unwrap(), 4196);
        assert_eq!(fs::read(&p).unwrap(), want);
        assert!(!journal_path(&resolve_target(&p).unwrap()).exists());
        if inserts_here(dir.path()) {
            assert_eq!(inode(&p), ino, "grown in place, not rebuilt");
        }
        // `-o` takes the fallback, from the original, with the same result.
        let (p, old, plan, want) = insert_case(dir.path(), 4096);
        let out = dir.path().join("out.bin");
        apply_to(&p, &out, &plan).unwrap();
        assert_eq!(fs::read(&out).unwrap(), want);
        assert_eq!(fs::read(&p).unwrap(), old);
    }

    #[cfg(unix)]
    #[test]
    fn an_unaligned_insert_falls_back_to_the_rebuild() {
        let dir = tempfile::tempdir().unwrap();
        let (p, _, plan, want) = insert_case(dir.path(), 1000);
        let ino = inode(&p);
        apply(&p, &plan).unwrap();
        assert_eq!(fs::read(&p).unwrap(), want);
        assert_ne!(inode(&p), ino, "rebuilt into a new file");
        assert!(!journal_path(&resolve_target(&p).unwrap()).exists());
    }

    #[test]
    fn apply_to_uses_the_fallback() {
        let dir = tempfile::tempdir().unwrap();
        let p = dir.path().join("a.bin");
        fs::write(&p, vec![7u8; 8192]).unwrap();
        // Deliberately unlike the patches, to see which one is used.
        let plan = Plan::Insert {
            len: 4096,
            patches: vec![Patch {
                offset: 0,
                data: b"patch".to_vec(),
            }],
            fallback: vec![Piece::Bytes(b"fallback".to_vec())],
        };
        let out = dir.path().join("out.bin");
        assert_eq!(apply_to(&p, &out, &plan).unwrap(), 8);
        assert_eq!(fs::read(&out).unwrap(), b"fallback");
        assert_eq!(plan.output_len(8192), 8192 + 4096);
        assert_eq!(plan.bytes_written(), 5);
    }

    #[test]
    fn insert_journal_round_trip() {
        let regions = vec![(0u64, b"abc".to_vec())];
        let j = Journal::encode(Path::new("/x/y.mp3"), 100, 4096, &regions);
        assert_eq!(&j[..8], b"CHMKJNL2");
        let d = Journal::decode(&j).unwrap();
        assert_eq!((d.file_len, d.inserted), (100, 4096));
        assert_eq!(d.regions, regions);
        for cut in 0..j.len() {
            assert!(Journal::decode(&j[..cut]).is_none(), "cut at {cut}");
        }
        // A same-length patch keeps the old format.
        assert_eq!(
            &Journal::encode(Path::new("/x"), 100, 0, &regions)[..8],
            b"CHMKJNL1"
        );
    }

    /// A file system that refuses the insertion (tmpfs: `EOPNOTSUPP`) after the journal is
    /// written: the journal is undone and dropped, and the fallback rebuild gives the result.
    #[cfg(target_os = "linux")]
    #[test]
    fn a_refused_insert_rolls_back_its_journal_and_rebuilds() {
        let Ok(dir) = tempfile::tempdir_in("/dev/shm") else {
            eprintln!("no /dev/shm: skipped");
            return;
        };
        if inserts_here(dir.path()) {
            eprintln!("/dev/shm inserts ranges: skipped");
            return;
        }
        let (p, _, plan, want) = insert_case(dir.path(), 4096);
        let ino = inode(&p);
        apply(&p, &plan).unwrap();
        assert_eq!(fs::read(&p).unwrap(), want);
        assert_ne!(inode(&p), ino, "rebuilt");
        let mut names: Vec<_> = fs::read_dir(dir.path())
            .unwrap()
            .map(|e| e.unwrap().file_name())
            .collect();
        names.sort();
        assert_eq!(names, ["a.bin"], "no journal or temporary file left");
    }

    /// Recovery from every state an insert can be interrupted in, made by hand: journal only,
    /// space inserted, half patched, fully patched; and a length that fits neither.
    #[cfg(target_os = "linux")]
    #[test]
    fn recover_undoes_an_interrupted_insert_in_every_state() {
        let dir = tempfile::tempdir().unwrap();
        if !inserts_here(dir.path()) {
            return;
        }
        let (p, old, plan, want) = insert_case(dir.path(), 4096);
        let target = resolve_target(&p).unwrap();
        let journal = Journal::encode(&target, old.len() as u64, 4096, &[(0, old[..100].to_vec())]);
        let grown = |cut: usize| {
            fs::write(&p, &old).unwrap();
            let f = OpenOptions::new().write(true).open(&p).unwrap();
            insert_start(&f, 4096).unwrap();
            drop(f);
            let mut now = fs::read(&p).unwrap();
            assert_eq!(now.len(), old.len() + 4096);
            assert!(now[..4096].iter().all(|&b| b == 0));
            assert_eq!(&now[4096..], old.as_slice());
            now[..cut].copy_from_slice(&want[..cut]);
            fs::write(&p, &now).unwrap();
        };
        type Setup<'a> = Box<dyn Fn() + 'a>;
        let states: [(&str, Setup); 4] = [
            ("journal only", Box::new(|| fs::write(&p, &old).unwrap())),
            ("inserted", Box::new(|| grown(0))),
            ("half patched", Box::new(|| grown(2098))),
            ("patched", Box::new(|| grown(4196))),
        ];
        for (name, setup) in &states {
            setup();
            fs::write(journal_path(&target), &journal).unwrap();
            assert!(
                matches!(
                    recover(&p).unwrap(),
                    Recovery::RolledBack {
                        regions: 1,
                        bytes: 100
                    }
                ),
                "{name}"
            );
            assert_eq!(fs::read(&p).unwrap(), old, "{name}");
            assert!(!journal_path(&target).exists(), "{name}");
        }
        // Neither N nor N + L bytes: refused, journal kept.
        fs::write(&p, &old[..5000]).unwrap();
        fs::write(journal_path(&target), &journal).unwrap();
        assert!(matches!(
            recover(&p),
            Err(WriteError::JournalMismatch { .. })
        ));
        assert!(journal_path(&target).exists());
        fs::remove_file(journal_path(&target)).unwrap();
        // And the plan itself still applies afterwards.
        fs::write(&p, &old).unwrap();
        apply(&p, &plan).unwrap();
        assert_eq!(fs::read(&p).unwrap(), want);
    }

    #[test]
    fn long_names_get_short_siblings() {
        let long = "x".repeat(250) + ".mp3";
        let j = journal_path(&Path::new("/d").join(&long));
        assert!(j.file_name().unwrap().len() < 40);
        assert_eq!(j, journal_path(&Path::new("/d").join(&long)));
    }
}
