//! Chapters into audio files, without touching the audio payload.
//!
//! Container writers (ID3 for MP3, MP4 boxes for M4A) never write files themselves: they look
//! at the original and produce a [`Plan`] — either same-length [`Patch`]es or a sequence of
//! [`Piece`]s that rebuild the file from new bytes and untouched ranges of the old one. The
//! [`apply`] module is the only place that applies a plan to disk, so crash safety, permission
//! keeping and symlink handling are written once for every container.

pub mod apply;
pub mod special;

pub use apply::remove_stale_temps;

use std::path::PathBuf;

/// Bytes that overwrite the original at `offset`, keeping the file's length.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Patch {
    /// Byte offset in the original file.
    pub offset: u64,
    /// Replacement bytes.
    pub data: Vec<u8>,
}

/// One piece of a rebuilt file.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Piece {
    /// New bytes (a tag, a `moov` box).
    Bytes(Vec<u8>),
    /// An untouched range of the original file (the audio payload), streamed, never loaded.
    Copy {
        /// Offset in the original.
        offset: u64,
        /// Length in bytes.
        len: u64,
    },
    /// A range of whole Ogg pages of the original, copied one page at a time with the
    /// sequence number of every page of stream `serial` moved by `delta` (wrapping) and its
    /// CRC recomputed: what an Ogg comment header that needs more or fewer pages asks of the
    /// audio pages after it. Same length as the range.
    OggPages {
        /// Offset in the original (a page start).
        offset: u64,
        /// Length in bytes (ends at a page end).
        len: u64,
        /// The logical stream whose pages are renumbered.
        serial: u32,
        /// Added to each sequence number.
        delta: u32,
    },
}

/// How to turn the original file into the result.
///
/// Non-exhaustive: new strategies may be added; only [`apply`](mod@apply) needs to know them all.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum Plan {
    /// The file already holds exactly the result: write nothing.
    Unchanged,
    /// Same length; only these regions change. Applied in place under a rollback journal.
    Patch(Vec<Patch>),
    /// A new file made of these pieces in order. Applied by writing a sibling temporary file
    /// and renaming it over the original.
    Rebuild(Vec<Piece>),
    /// Grow the file at its start without moving the rest through user space: insert `len`
    /// zero bytes at offset 0 (Linux `fallocate(FALLOC_FL_INSERT_RANGE)`, which shifts the
    /// file's extents instead of copying its data), then write `patches`, whose offsets are in
    /// the grown file. Applied in place under a rollback journal that can undo the insertion.
    ///
    /// Only a file system that supports the operation, with `len` a multiple of its block
    /// size, can do it; everywhere else (and for `-o OUT`) `fallback`, a rebuild that produces
    /// exactly the same bytes, is applied instead.
    Insert {
        /// Bytes inserted at offset 0 (the planner makes it a multiple of 4096).
        len: u64,
        /// What to write after the insertion, offsets in the grown file.
        patches: Vec<Patch>,
        /// The same result as a rebuild.
        fallback: Vec<Piece>,
    },
    /// Grow the file at its end: extend it by `len` zero bytes, then write `patches`, whose
    /// offsets are in the grown file and may reach into the new space (an M4A `moov` at the
    /// end of the file, rewritten however much it grows; nothing else moves). Applied in
    /// place under a rollback journal that can cut the file back to its old length.
    ///
    /// `fallback`, a rebuild that produces exactly the same bytes, is applied for `-o OUT`
    /// and where the patches are too large for the journal.
    Extend {
        /// Bytes added at the end.
        len: u64,
        /// What to write after extending, offsets in the grown file.
        patches: Vec<Patch>,
        /// The same result as a rebuild.
        fallback: Vec<Piece>,
    },
}

impl Plan {
    /// Where the bytes this plan writes at the start of the file end, in the written file:
    /// the inserted region and every patch that starts inside it (the new tag or `moov`).
    /// 0 for plans that do not grow the file at its start.
    pub fn rewritten_end(&self) -> u64 {
        match self {
            Plan::Insert { len, patches, .. } => patches
                .iter()
                .filter(|p| p.offset <= *len)
                .map(|p| p.offset.saturating_add(p.data.len() as u64))
                .fold(*len, u64::max),
            _ => 0,
        }
    }

    /// Bytes this plan writes to disk (for reports and benchmarks).
    pub fn bytes_written(&self) -> u64 {
        match self {
            Plan::Unchanged => 0,
            Plan::Patch(p) | Plan::Insert { patches: p, .. } | Plan::Extend { patches: p, .. } => {
                p.iter().map(|p| p.data.len() as u64).sum()
            }
            Plan::Rebuild(pieces) => pieces_len(pieces),
        }
    }

    /// Length of the file this plan produces from an original of `original_len` bytes.
    pub fn output_len(&self, original_len: u64) -> u64 {
        match self {
            Plan::Unchanged | Plan::Patch(_) => original_len,
            Plan::Insert { len, .. } | Plan::Extend { len, .. } => {
                original_len.saturating_add(*len)
            }
            Plan::Rebuild(pieces) => pieces_len(pieces),
        }
    }
}

/// Same-length patches (sorted by offset, not overlapping) over a file of `size` bytes as
/// the pieces of a rebuild that gives the same bytes.
pub(crate) fn patch_pieces(sorted: &[&Patch], size: u64) -> Vec<Piece> {
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
        pos = pos.max(p.offset.saturating_add(p.data.len() as u64));
    }
    if pos < size {
        pieces.push(Piece::Copy {
            offset: pos,
            len: size - pos,
        });
    }
    pieces
}

/// Total length of a rebuilt file.
pub(crate) fn pieces_len(pieces: &[Piece]) -> u64 {
    pieces
        .iter()
        .map(|p| match p {
            Piece::Bytes(b) => b.len() as u64,
            Piece::Copy { len, .. } | Piece::OggPages { len, .. } => *len,
        })
        .sum()
}

/// Errors while applying a plan to disk.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum WriteError {
    /// An I/O operation failed; `path` names the file it was about.
    #[error("{path}: {action}: {source}")]
    Io {
        /// The file concerned.
        path: PathBuf,
        /// What we were doing, lowercase (`creating a temporary file`).
        action: &'static str,
        /// The underlying error.
        source: std::io::Error,
    },
    /// A plan refers to bytes beyond the end of the original file.
    #[error("{path}: the write plan reads past the end of the file ({offset} + {len} > {size})")]
    PlanOutOfRange {
        /// The file concerned.
        path: PathBuf,
        /// Offset requested.
        offset: u64,
        /// Length requested.
        len: u64,
        /// Actual file size.
        size: u64,
    },
    /// An interrupted earlier write was rolled back just now, so a plan computed before
    /// that (from the half-written file) must not be applied.
    #[error(
        "{path}: an interrupted earlier write was rolled back; the plan was made from the \
         half-written file, plan again"
    )]
    StalePlan {
        /// The file concerned.
        path: PathBuf,
    },
    /// A rollback journal does not fit the file beside it (its length changed since), so
    /// restoring the journal's bytes could damage it. Left for a person to look at.
    #[error(
        "{path}: the rollback journal {journal} was written for a file of {expected} bytes but \
         the file has {actual}; not rolling back (inspect or delete the journal)"
    )]
    JournalMismatch {
        /// The file concerned.
        path: PathBuf,
        /// The journal.
        journal: PathBuf,
        /// File length recorded in the journal.
        expected: u64,
        /// File length now.
        actual: u64,
    },
    /// A rollback journal beside the file was not provably written for it (another inode, or
    /// an older journal naming another path): it is left alone, and so is the file.
    #[error(
        "{path}: the rollback journal {journal} was written for {recorded}, not provably for \
         this file; not rolling back (delete the journal if it does not belong here)"
    )]
    ForeignJournal {
        /// The file concerned.
        path: PathBuf,
        /// The journal.
        journal: PathBuf,
        /// What the journal names (its path, and inode when it records one).
        recorded: String,
    },
    /// A rebuild would replace the file with a new one, which would split its hard links
    /// (the other names would keep the old content).
    #[error(
        "{path}: the file has {links} hard links and this write must replace it, which would \
         leave the other names with the old content; not written (write with -o, or \
         break the links first)"
    )]
    HardLinked {
        /// The file concerned.
        path: PathBuf,
        /// Its number of links.
        links: u64,
    },
    /// We may not write the file (its permissions, or a read-only mount): a rebuild, which
    /// only needs the folder to be writable, must not replace it either.
    #[error("{path}: the file is not writable ({source}); not written")]
    NotWritable {
        /// The file concerned.
        path: PathBuf,
        /// Why opening it for writing failed.
        source: std::io::Error,
    },
    /// Another program changed the file while we were rebuilding it; renaming our copy over
    /// it would lose that change.
    #[error(
        "{path}: the file changed while chapmark was rewriting it ({what}); not written, try again"
    )]
    ChangedDuringWrite {
        /// The file concerned.
        path: PathBuf,
        /// What changed (`size 100 -> 200`).
        what: String,
    },
    /// Another chapmark process held the file's lock for longer than the lock timeout
    /// (`0`: the caller asked not to wait at all).
    #[error(
        "{}: another chapmark process {}", path.display(),
        if *secs == 0 { "holds its lock; not waiting (lock timeout 0)".to_string() }
        else { format!("has held its lock for {secs} s; gave up waiting (is one stopped? a longer lock timeout waits more)") }
    )]
    LockTimeout {
        /// The file concerned.
        path: PathBuf,
        /// The limit, in seconds.
        secs: u64,
    },
    /// Not enough free space in the folder for the rebuilt copy.
    #[error(
        "{path}: rewriting needs {needed} bytes of free space in its folder, only {available} \
         are available; not written"
    )]
    NoSpace {
        /// The file concerned.
        path: PathBuf,
        /// Size of the copy.
        needed: u64,
        /// Free space for us.
        available: u64,
    },
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_rewritten_start_of_a_grown_file() {
        let patch = |offset: u64, n: usize| Patch {
            offset,
            data: vec![0; n],
        };
        // A new 12 KiB tag over 8 KiB inserted plus the old 4 KiB tag; a patch further in
        // (an M4A chunk offset, say) does not count.
        let plan = Plan::Insert {
            len: 8192,
            patches: vec![patch(0, 12288), patch(1 << 20, 8)],
            fallback: Vec::new(),
        };
        assert_eq!(plan.rewritten_end(), 12288);
        let plan = Plan::Insert {
            len: 4096,
            patches: vec![patch(0, 100)],
            fallback: Vec::new(),
        };
        assert_eq!(plan.rewritten_end(), 4096);
        assert_eq!(Plan::Patch(vec![patch(0, 10)]).rewritten_end(), 0);
    }
}
