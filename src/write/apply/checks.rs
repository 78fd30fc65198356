//! Checks the applier makes before it replaces a file by a rebuilt copy, and the upkeep of
//! the rebuild's temporary siblings. Each guards against something a rename would otherwise
//! do silently: replace a file we may not write, split its hard links, lose what another
//! program appended meanwhile, or fill the disk with a copy that cannot be finished.

use crate::write::WriteError;
use std::fs::{self, File};
use std::io;
use std::path::{Path, PathBuf};
use std::time::SystemTime;

/// Refuses to replace `target` unless we could write it in place: a rename only needs the
/// folder to be writable, so without this a `chmod 444` file would be replaced anyway. And a
/// file with other hard links is refused: the new file would get only this name.
pub(crate) fn check_replaceable(target: &Path, meta: &fs::Metadata) -> Result<(), WriteError> {
    check_writable(target)?;
    let links = link_count(meta);
    if links > 1 {
        return Err(WriteError::HardLinked {
            path: target.to_path_buf(),
            links,
        });
    }
    Ok(())
}

/// Refuses unless we may write the existing file `target`. Opening it for writing (without
/// truncating) asks the kernel the real question: mode bits, ACLs and read-only mounts.
pub(crate) fn check_writable(target: &Path) -> Result<(), WriteError> {
    match fs::OpenOptions::new().write(true).open(target) {
        Ok(_) => Ok(()),
        Err(source) => Err(WriteError::NotWritable {
            path: target.to_path_buf(),
            source,
        }),
    }
}

#[cfg(unix)]
fn link_count(meta: &fs::Metadata) -> u64 {
    use std::os::unix::fs::MetadataExt;
    meta.nlink()
}

#[cfg(not(unix))]
fn link_count(_: &fs::Metadata) -> u64 {
    1
}

/// `(device, inode)` of a file: what identifies it across renames of its folder.
#[cfg(unix)]
pub(crate) fn identity(meta: &fs::Metadata) -> (u64, u64) {
    use std::os::unix::fs::MetadataExt;
    (meta.dev(), meta.ino())
}

#[cfg(not(unix))]
pub(crate) fn identity(_: &fs::Metadata) -> (u64, u64) {
    (0, 0)
}

/// What a file looked like when a rebuild started.
pub(crate) struct Snapshot {
    len: u64,
    modified: Option<SystemTime>,
    identity: (u64, u64),
}

impl Snapshot {
    pub(crate) fn of(meta: &fs::Metadata) -> Snapshot {
        Snapshot {
            len: meta.len(),
            modified: meta.modified().ok(),
            identity: identity(meta),
        }
    }

    /// Fails when `target` is no longer the file the rebuild read: another program appended
    /// to it, rewrote it, or replaced it. Checked right before the rename; a change in the
    /// instant between this check and the rename itself is not detected.
    pub(crate) fn check_unchanged(&self, target: &Path) -> Result<(), WriteError> {
        let meta = fs::metadata(target).map_err(|source| WriteError::Io {
            path: target.to_path_buf(),
            action: "reading metadata",
            source,
        })?;
        let now = Snapshot::of(&meta);
        let what = if now.identity != self.identity {
            "it was replaced by another file".to_string()
        } else if now.len != self.len {
            format!("size {} -> {}", self.len, now.len)
        } else if now.modified != self.modified {
            "it was modified".to_string()
        } else {
            return Ok(());
        };
        Err(WriteError::ChangedDuringWrite {
            path: target.to_path_buf(),
            what,
        })
    }
}

/// Refuses a rebuild that cannot fit: the copy needs `needed` bytes in `dir` next to the
/// original. Checked before the first byte is written, so a full disk costs nothing; a file
/// system that shares extents (a reflink copy) needs less, and is refused only when nearly
/// full. Where the free space cannot be read, the write goes ahead (a full disk is still
/// caught, and cleaned up, when a write fails).
pub(crate) fn check_free_space(dir: &Path, target: &Path, needed: u64) -> Result<(), WriteError> {
    let Some(available) = free_space(dir) else {
        return Ok(());
    };
    if available < needed {
        return Err(WriteError::NoSpace {
            path: target.to_path_buf(),
            needed,
            available,
        });
    }
    Ok(())
}

#[cfg(unix)]
fn free_space(dir: &Path) -> Option<u64> {
    use std::os::unix::ffi::OsStrExt;
    let c = std::ffi::CString::new(dir.as_os_str().as_bytes()).ok()?;
    // SAFETY: statvfs only writes into the zeroed struct we pass; `c` is a valid C string.
    let mut st: libc::statvfs = unsafe { std::mem::zeroed() };
    if unsafe { libc::statvfs(c.as_ptr(), &mut st) } != 0 {
        return None;
    }
    #[allow(clippy::unnecessary_cast)] // the field types differ between platforms
    let free = (st.f_bavail as u64).saturating_mul(st.f_frsize as u64);
    Some(free)
}

#[cfg(not(unix))]
fn free_space(_: &Path) -> Option<u64> {
    None
}

/// Marks a temporary file as in use: the writer holds an exclusive `flock` on it for its
/// whole life, so [`remove_stale_temps`] can tell a live one from a leftover of a killed run.
#[cfg(unix)]
pub(crate) fn lock_temp(file: &File) {
    use std::os::fd::AsRawFd;
    // SAFETY: flock only reads the descriptor, which `file` keeps open during the call.
    if unsafe { libc::flock(file.as_raw_fd(), libc::LOCK_EX | libc::LOCK_NB) } != 0 {
        log::debug!(
            "cannot lock a temporary file: {}",
            io::Error::last_os_error()
        );
    }
}

#[cfg(not(unix))]
pub(crate) fn lock_temp(_: &File) {}

/// Whether nobody holds the temporary file at `path` (we could lock it).
#[cfg(unix)]
fn is_abandoned(path: &Path) -> bool {
    use std::os::fd::AsRawFd;
    let Ok(file) = crate::write::special::open_regular(path) else {
        return false;
    };
    // SAFETY: as in `lock_temp`.
    unsafe { libc::flock(file.as_raw_fd(), libc::LOCK_EX | libc::LOCK_NB) == 0 }
}

#[cfg(not(unix))]
fn is_abandoned(_: &Path) -> bool {
    false
}

/// Deletes the temporary files (`.NAME.chapmark-tmp`) that killed rebuilds left in `dir`,
/// and returns their paths. One a live chapmark process is writing is locked and kept.
/// A rebuild killed in the instant between creating its temporary file and locking it could
/// lose the file here; it then fails when renaming it, and nothing else is lost.
pub fn remove_stale_temps(dir: &Path) -> Vec<PathBuf> {
    let Ok(entries) = fs::read_dir(dir) else {
        return Vec::new();
    };
    let mut removed = Vec::new();
    for entry in entries.flatten() {
        let name = entry.file_name();
        let name = name.to_string_lossy();
        if !(name.starts_with('.') && name.ends_with(".chapmark-tmp")) {
            continue;
        }
        if !entry.file_type().is_ok_and(|t| t.is_file()) {
            continue;
        }
        let path = entry.path();
        if is_abandoned(&path) && fs::remove_file(&path).is_ok() {
            removed.push(path);
        }
    }
    removed
}
