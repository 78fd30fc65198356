//! The system calls behind the applier, with their fallbacks on other systems: inserting
//! and collapsing space at the start of a file, ownership, directory sync, writeback hints.

use super::io_err;
use crate::write::WriteError;
use std::fs::{self, File};
use std::io;
use std::path::Path;

/// The granularity in which this file's file system can insert space, or `None` where
/// chapmark does not insert at all. `st_blksize` is the block size on ext4 and at least that
/// on XFS, so an insertion it allows is always block-aligned.
#[cfg(target_os = "linux")]
pub(super) fn insert_block_size(meta: &fs::Metadata) -> Option<u64> {
    use std::os::unix::fs::MetadataExt;
    Some(meta.blksize()).filter(|&b| b > 0)
}

#[cfg(not(target_os = "linux"))]
pub(super) fn insert_block_size(_: &fs::Metadata) -> Option<u64> {
    None
}

/// Errors that mean "this file system (or kernel) cannot insert here", not "something broke".
#[cfg(target_os = "linux")]
pub(super) fn insert_unsupported(e: &io::Error) -> bool {
    matches!(
        e.raw_os_error(),
        Some(libc::EOPNOTSUPP | libc::EINVAL | libc::ENOSYS)
    )
}

#[cfg(not(target_os = "linux"))]
pub(super) fn insert_unsupported(_: &io::Error) -> bool {
    true
}

/// `fallocate(mode, 0, len)`, retried on `EINTR`.
#[cfg(target_os = "linux")]
pub(super) fn fallocate_start(file: &File, mode: libc::c_int, len: u64) -> io::Result<()> {
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
pub(super) fn insert_start(file: &File, len: u64) -> io::Result<()> {
    fallocate_start(file, libc::FALLOC_FL_INSERT_RANGE, len)
}

#[cfg(not(target_os = "linux"))]
pub(super) fn insert_start(_: &File, _: u64) -> io::Result<()> {
    Err(io::Error::from(io::ErrorKind::Unsupported))
}

/// Removes the first `len` bytes (undoes [`insert_start`]).
#[cfg(target_os = "linux")]
pub(super) fn collapse_start(file: &File, len: u64) -> io::Result<()> {
    fallocate_start(file, libc::FALLOC_FL_COLLAPSE_RANGE, len)
}

#[cfg(not(target_os = "linux"))]
pub(super) fn collapse_start(_: &File, _: u64) -> io::Result<()> {
    Err(io::Error::from(io::ErrorKind::Unsupported))
}

#[cfg(unix)]
pub(super) fn copy_ownership(
    meta: &fs::Metadata,
    file: &File,
    target: &Path,
) -> Result<(), WriteError> {
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
pub(super) fn copy_ownership(_: &fs::Metadata, _: &File, _: &Path) -> Result<(), WriteError> {
    Ok(())
}

pub(super) fn sync_dir(dir: &Path) {
    // Makes the rename durable; failure only weakens durability, never atomicity.
    if let Ok(d) = File::open(dir) {
        let _ = d.sync_all();
    }
}

/// Asks the kernel to start writing what `out` has so far, without waiting, so the disk works
/// while we copy the rest and the final `fsync` has little left to wait for. A hint: errors
/// are ignored (the `fsync` that follows reports real ones).
#[cfg(target_os = "linux")]
pub(super) fn start_writeback(out: &File) {
    use std::os::fd::AsRawFd;
    // SAFETY: sync_file_range only reads the descriptor, which `out` keeps open.
    let _ = unsafe { libc::sync_file_range(out.as_raw_fd(), 0, 0, libc::SYNC_FILE_RANGE_WRITE) };
}

#[cfg(not(target_os = "linux"))]
pub(super) fn start_writeback(_: &File) {}

/// `syncfs(2)`: makes everything written to the file system holding `file` durable — the
/// data and metadata of every file and directory on it, hence every journal, temporary file,
/// patch, rename and unlink a group commit made — in one call and one device flush, instead
/// of one `fsync` per file. Only since Linux 5.8 does it report writeback errors; the group
/// commit therefore also checks each file's own error state with `fdatasync` afterwards
/// (cheap: nothing is dirty any more).
#[cfg(target_os = "linux")]
pub(super) fn sync_fs(file: &File) -> io::Result<()> {
    use std::os::fd::AsRawFd;
    // SAFETY: syncfs only uses the descriptor, which `file` keeps open for the call.
    if unsafe { libc::syncfs(file.as_raw_fd()) } == 0 {
        Ok(())
    } else {
        Err(io::Error::last_os_error())
    }
}

#[cfg(not(target_os = "linux"))]
pub(super) fn sync_fs(_: &File) -> io::Result<()> {
    Err(io::Error::from(io::ErrorKind::Unsupported))
}

/// Asks the kernel to read `len` bytes of `file` from `offset` (`len` 0: to the end) back
/// into the page cache in the background. Inserting at the start (`FALLOC_FL_INSERT_RANGE`)
/// drops every cached page of the file, which was cached a moment earlier (the planner had
/// just read it); without this the next command on the file (a rerun, `check`) would read
/// it from the disk again. A hint: errors are ignored.
#[cfg(target_os = "linux")]
pub(super) fn refill_cache(file: &File, offset: u64, len: u64) {
    use std::os::fd::AsRawFd;
    let (Ok(offset), Ok(len)) = (libc::off_t::try_from(offset), libc::off_t::try_from(len)) else {
        return;
    };
    // SAFETY: posix_fadvise only uses the descriptor, which `file` keeps open for the call.
    let _ =
        unsafe { libc::posix_fadvise(file.as_raw_fd(), offset, len, libc::POSIX_FADV_WILLNEED) };
}

#[cfg(not(target_os = "linux"))]
pub(super) fn refill_cache(_: &File, _: u64, _: u64) {}
