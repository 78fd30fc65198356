//! The rollback journal: its byte format (see the module docs of `apply`), reading,
//! writing (synced, with the directory) and deleting it.

use super::fault::{FaultPoint, fault};
use super::sys::sync_dir;
use super::{io_err, parent_dir};
use crate::write::WriteError;
use std::fs::{self, File, OpenOptions};
use std::io::{self, Read, Write};
use std::path::Path;

pub(super) const JOURNAL_MAGIC: &[u8; 8] = b"CHMKJNL1";

/// Magic of a journal that also records space inserted at the start of the file.
pub(super) const INSERT_JOURNAL_MAGIC: &[u8; 8] = b"CHMKJNL2";

/// Magic of the journal written today: the `CHMKJNL2` layout (inserted length 0 for a
/// same-length patch) plus the file's device and inode, so recovery can prove the journal is
/// this file's before it changes a byte.
pub(super) const IDENTITY_JOURNAL_MAGIC: &[u8; 8] = b"CHMKJNL3";

/// Magic of a journal for a file grown at its end: the `CHMKJNL3` layout plus the number of
/// bytes appended (after the inode). Older chapmark versions take it for an incomplete
/// journal.
pub(super) const APPEND_JOURNAL_MAGIC: &[u8; 8] = b"CHMKJNL4";

/// Patches larger than this (summed) are applied by a rebuild instead, so a journal never
/// has to hold more original bytes than this in memory.
pub(super) const JOURNAL_CAP: u64 = 256 << 20;

/// Reads the journal if there is one; an oversized one is returned empty (hence invalid).
pub(super) fn read_journal(jpath: &Path) -> io::Result<Option<Vec<u8>>> {
    let mut f = match crate::write::special::open_regular(jpath) {
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

/// A write failed and rolling it back failed too: the journal stays for the next run, which
/// the message says (one wording for every in-place strategy).
pub(super) fn log_rollback_failed(target: &Path, jpath: &Path, err: &dyn std::fmt::Display) {
    log::error!(
        "{}: writing failed and so did rolling back ({err}); the journal {} will be applied by \
         the next run",
        target.display(),
        jpath.display()
    );
}

/// Deletes a journal once the file it protects is synced. The directory is deliberately not
/// synced afterwards: if a power cut brings the journal back, the next run rolls the (complete,
/// synced) write back to the original — one of the two states we promise — and skipping that
/// fsync makes every in-place write a third cheaper.
pub(super) fn remove_journal(jpath: &Path) -> Result<(), WriteError> {
    match fs::remove_file(jpath) {
        Ok(()) => Ok(()),
        Err(e) if e.kind() == io::ErrorKind::NotFound => Ok(()),
        Err(e) => Err(io_err(jpath, "deleting the journal")(e)),
    }
}

/// A decoded journal.
pub(super) struct Journal {
    pub(super) path: Vec<u8>,
    /// Length of the file before the write.
    pub(super) file_len: u64,
    /// Bytes inserted at offset 0 (0 for a same-length patch).
    pub(super) inserted: u64,
    /// Bytes appended at the end (`CHMKJNL4`; 0 otherwise).
    pub(super) appended: u64,
    /// `(device, inode)` of the file written (`CHMKJNL3`); `None` in older journals.
    pub(super) identity: Option<(u64, u64)>,
    /// Original bytes, at offsets in the original file.
    pub(super) regions: Vec<(u64, Vec<u8>)>,
}

impl Journal {
    /// The journal for a write to the file `meta` describes (`CHMKJNL3`).
    pub(super) fn encode_for(
        target: &Path,
        meta: &fs::Metadata,
        inserted: u64,
        regions: &[(u64, Vec<u8>)],
    ) -> Vec<u8> {
        let identity = super::checks::identity(meta);
        Self::encode_as(target, meta.len(), inserted, Some(identity), regions)
    }

    /// The journal for growing the file `meta` describes by `appended` bytes at its end
    /// (`CHMKJNL4`).
    pub(super) fn encode_append_for(
        target: &Path,
        meta: &fs::Metadata,
        appended: u64,
        regions: &[(u64, Vec<u8>)],
    ) -> Vec<u8> {
        let identity = super::checks::identity(meta);
        Self::encode_full(target, meta.len(), (0, appended), Some(identity), regions)
    }

    /// An older journal without the file's identity (`CHMKJNL1`/`CHMKJNL2`), as earlier
    /// versions wrote them.
    #[cfg(test)]
    pub(super) fn encode(
        target: &Path,
        file_len: u64,
        inserted: u64,
        regions: &[(u64, Vec<u8>)],
    ) -> Vec<u8> {
        Self::encode_as(target, file_len, inserted, None, regions)
    }

    pub(super) fn encode_as(
        target: &Path,
        file_len: u64,
        inserted: u64,
        identity: Option<(u64, u64)>,
        regions: &[(u64, Vec<u8>)],
    ) -> Vec<u8> {
        Self::encode_full(target, file_len, (inserted, 0), identity, regions)
    }

    /// Every layout; `(inserted, appended)` bytes at the start and at the end (`appended`
    /// needs an identity: it is only in `CHMKJNL4`).
    fn encode_full(
        target: &Path,
        file_len: u64,
        (inserted, appended): (u64, u64),
        identity: Option<(u64, u64)>,
        regions: &[(u64, Vec<u8>)],
    ) -> Vec<u8> {
        let path = target.as_os_str().as_encoded_bytes();
        let body: usize = regions.iter().map(|(_, d)| d.len() + 16).sum();
        let mut out = Vec::with_capacity(52 + path.len() + body);
        out.extend_from_slice(match (identity, inserted) {
            (Some(_), _) if appended > 0 => APPEND_JOURNAL_MAGIC,
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
            if appended > 0 {
                out.extend_from_slice(&appended.to_le_bytes());
            }
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
    pub(super) fn check_belongs(
        &self,
        target: &Path,
        jpath: &Path,
        file: &File,
    ) -> Result<(), WriteError> {
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
    pub(super) fn decode(bytes: &[u8]) -> Option<Journal> {
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
            m if m == IDENTITY_JOURNAL_MAGIC || m == APPEND_JOURNAL_MAGIC => {
                let inserted = read_u64(&mut r)?;
                (inserted, Some((read_u64(&mut r)?, read_u64(&mut r)?)))
            }
            _ => return None,
        };
        let appended = if magic == APPEND_JOURNAL_MAGIC {
            read_u64(&mut r).filter(|&n| n > 0)?
        } else {
            0
        };
        let count = u32::from_le_bytes(take(&mut r, 4)?.try_into().ok()?);
        let mut regions = Vec::new();
        for _ in 0..count {
            let offset = u64::from_le_bytes(take(&mut r, 8)?.try_into().ok()?);
            let len =
                usize::try_from(u64::from_le_bytes(take(&mut r, 8)?.try_into().ok()?)).ok()?;
            let data = take(&mut r, len)?.to_vec();
            // Regions hold original bytes, so they lie inside the original length.
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
            appended,
            identity,
            regions,
        })
    }
}

/// Splits `n` bytes off the front of `r`.
pub(super) fn take<'a>(r: &mut &'a [u8], n: usize) -> Option<&'a [u8]> {
    if r.len() < n {
        return None;
    }
    let (a, b) = r.split_at(n);
    *r = b;
    Some(a)
}

pub(super) fn write_journal(jpath: &Path, bytes: &[u8]) -> Result<(), WriteError> {
    write_journal_file(jpath, bytes, true)
}

/// Writes a journal; with `sync`, also syncs it and its directory. A group commit writes
/// its journals without syncing and makes them all durable with one barrier (see `group`).
pub(super) fn write_journal_file(jpath: &Path, bytes: &[u8], sync: bool) -> Result<(), WriteError> {
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
        if sync { f.sync_data() } else { Ok(()) }
    })();
    if let Err(e) = result {
        // Disk full or similar: the file is untouched; do not leave half a journal.
        let _ = fs::remove_file(jpath);
        return Err(io_err(jpath, "writing the journal")(e));
    }
    if sync {
        sync_dir(parent_dir(jpath));
    }
    Ok(())
}
