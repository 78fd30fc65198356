//! The advisory lock that makes recovery safe.
//!
//! [`recover`] takes any journal or temporary file it finds for a leftover of a crashed
//! write. That is only true when no other process is writing the same file at that moment,
//! so every caller that recovers, reads or writes an audio file first takes `flock(2)` on it
//! through [`prepare`]: shared for readers, exclusive for writers.

pub use super::lockwait::{DEFAULT_SECS, set_timeout};
use super::{recover, resolve_target};
use crate::write::WriteError;
use std::fs::File;
use std::path::Path;

/// How a command is going to use an audio file.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Access {
    /// Only reads it (`show`, `check`, probing): other readers may work at the same time.
    Read,
    /// May change it (`write`, `strip`): nobody else may read or write meanwhile.
    Write,
}

/// Held while a caller works on an audio file; dropping it lets other chapmark processes in.
pub struct Guard {
    _lock: Option<File>,
}

/// Gets a file ready for any read: waits for a chapmark process that is writing it, then
/// finishes whatever an interrupted write left ([`recover`]: rolls back a half-applied
/// in-place patch, deletes a stale temporary file), so the probe, the chapter reader and the
/// planner never see a half-written file.
///
/// The advisory lock (shared for [`Access::Read`], exclusive for [`Access::Write`]) is what
/// makes recovering from a reader safe: without it, `show` running next to a live `write`
/// would take that write's journal for a leftover and roll back a patch in mid-flight. A file
/// that does not exist is left to the probe to report; a filesystem without locks is used
/// without one.
pub fn prepare(path: &Path, access: Access) -> Result<Guard, WriteError> {
    let Ok(target) = resolve_target(path) else {
        return Ok(Guard { _lock: None });
    };
    // A named pipe would block every open below (forever, in a batch); a device is no file.
    if let Ok(meta) = std::fs::metadata(&target) {
        crate::write::special::check_regular(&meta.file_type()).map_err(|source| {
            WriteError::Io {
                path: path.to_path_buf(),
                action: "opening",
                source,
            }
        })?;
    }
    let lock = lock(&target, access)?;
    match recover(&target) {
        // A reader leaves a journal that is not provably this file's alone (and the file with
        // it); a writer refuses, since the file may be half-written.
        Err(e @ WriteError::ForeignJournal { .. }) if access == Access::Read => {
            log::warn!("{e}");
        }
        other => {
            other?;
        }
    }
    Ok(Guard { _lock: lock })
}

/// Locks the file at `target`, retrying when a rebuild renamed a new file over the one we
/// locked while we waited. `None` when locking is impossible (opening failed: the probe
/// will say why; or the filesystem has no locks). Waiting is announced and bounded
/// ([`set_timeout`] bounds the wait).
pub fn lock(target: &Path, access: Access) -> Result<Option<File>, WriteError> {
    loop {
        let Ok(file) = crate::write::special::open_regular(target) else {
            return Ok(None);
        };
        match flock(&file, access) {
            Ok(()) => {}
            Err(e) if e.kind() == std::io::ErrorKind::WouldBlock => {
                let got = super::lockwait::wait(target, || match flock(&file, access) {
                    Ok(()) => Ok(true),
                    Err(e) if e.kind() == std::io::ErrorKind::WouldBlock => Ok(false),
                    Err(e) => Err(e),
                })?;
                if !got {
                    return Ok(None);
                }
            }
            Err(e) => {
                log::debug!("{}: cannot lock: {e}", target.display());
                return Ok(None);
            }
        }
        if is_same_file(&file, target) {
            return Ok(Some(file));
        }
    }
}

/// `flock(2)` without blocking: shared for readers, exclusive for writers.
#[cfg(unix)]
fn flock(file: &File, access: Access) -> std::io::Result<()> {
    use std::os::fd::AsRawFd;
    let op = libc::LOCK_NB
        | match access {
            Access::Read => libc::LOCK_SH,
            Access::Write => libc::LOCK_EX,
        };
    loop {
        // SAFETY: flock reads only the descriptor, which `file` keeps open during the call.
        if unsafe { libc::flock(file.as_raw_fd(), op) } == 0 {
            return Ok(());
        }
        let err = std::io::Error::last_os_error();
        if err.kind() != std::io::ErrorKind::Interrupted {
            return Err(err);
        }
    }
}

#[cfg(not(unix))]
fn flock(_: &File, _: Access) -> std::io::Result<()> {
    Err(std::io::Error::new(
        std::io::ErrorKind::Unsupported,
        "advisory locks are only taken on unix",
    ))
}

#[cfg(unix)]
fn is_same_file(file: &File, path: &Path) -> bool {
    use std::os::unix::fs::MetadataExt;
    match (file.metadata(), std::fs::metadata(path)) {
        (Ok(a), Ok(b)) => a.dev() == b.dev() && a.ino() == b.ino(),
        // The path is gone (renamed away mid-wait): the probe will report it.
        _ => true,
    }
}

#[cfg(not(unix))]
fn is_same_file(_: &File, _: &Path) -> bool {
    true
}
