//! MP3 chapters: ID3v2 `CHAP`/`CTOC` frames, read and planned.
//!
//! The layout written is the one Apple Podcasts, Overcast, Pocket Casts and ffmpeg all read:
//! an ID3v2.3 tag (an existing v2.4 tag keeps v2.4 unless [`Id3Options::version`] says
//! otherwise), one top-level ordered `CTOC` with element ID `toc` and a `TIT2`, then one
//! `CHAP` per chapter (`chp0`, `chp1`, … in time order, since ffprobe and kid3 list them in
//! file order) with start/end in milliseconds, unused byte offsets, and `TIT2`, `WXXX` (ASCII
//! URL, no trailing NUL) and optionally `TIT3` sub-frames. `TLEN` holds the exact length.
//!
//! Only the tag region at the start of the file (`[0, old tag end)`) is ever rewritten: every
//! other frame goes back byte for byte, and the audio, an APE tag and an ID3v1 tag at the end
//! are untouched. When the new tag fits in the old one's space the plan is a same-length
//! [`Plan::Patch`]; otherwise a [`Plan::Insert`]: the region grows by whole 4 KiB blocks
//! inserted at the start of the file (the file system shifts the audio's extents, nothing is
//! copied) and the new tag, with at least [`Id3Options::padding`] bytes of padding for the
//! next edit, fills the old region plus the inserted space exactly. Its fallback, where
//! inserting is not possible, is a rebuild to the same bytes. Nothing here writes a file: the
//! plan goes to [`crate::write::apply`].

mod chapters;
mod header;
mod plan;
pub(crate) mod tags;
mod toc;

pub use plan::{FFMPEG_V24_SUBFRAME_LIMIT, MAX_CHAPTERS, Oversized, ascii_url, v24_oversized};

use crate::chapter::ChapterList;
use crate::container::{Capabilities, ChapterForm};
use crate::time::{SampleTime, Time};
use crate::write::{Plan, WriteError, apply as safe};
use chapters::{HEADER_LEN, TagHeader};
use plan::Action;
use std::fs::File;
use std::io::{self, Read};
use std::path::{Path, PathBuf};

/// What ID3v2 chapters hold: one `CTOC` counts its entries in a byte, titles and labels are
/// unlimited text frames, URLs ride in `WXXX` (Latin-1), images in `APIC` sub-frames.
pub const CAPABILITIES: Capabilities = Capabilities {
    writable: true,
    max_chapters: Some(MAX_CHAPTERS),
    max_title_bytes: None,
    urls: true,
    max_url_bytes: None,
    images: true,
    forms: &[ChapterForm::Id3],
};

/// Largest ID3v2 tag we read into memory. Real podcast tags are a few hundred kilobytes (a
/// cover image); the format allows 256 MiB, which would be a hostile or broken file.
pub const MAX_TAG_SIZE: u64 = 64 << 20;

/// Least padding given to a tag that has to grow, so the next edit fits in place.
pub const DEFAULT_PADDING: usize = 4096;

/// How to write the chapter tag.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Id3Options {
    /// Tag version, 3 or 4. `None` keeps an existing v2.4 tag at v2.4 and writes v2.3
    /// otherwise: v2.3 is what every podcast app reads, while rewriting a producer's v2.4 tag
    /// in another version would change frames we otherwise keep byte for byte.
    pub version: Option<u8>,
    /// Write chapter descriptions as `TIT3` sub-frames.
    pub descriptions: bool,
    /// Padding after a rebuilt tag, so later edits are cheap in-place patches.
    pub padding: usize,
}

impl Default for Id3Options {
    fn default() -> Self {
        Id3Options {
            version: None,
            descriptions: true,
            padding: DEFAULT_PADDING,
        }
    }
}

/// Errors while reading or planning ID3 chapters.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum Id3Error {
    /// Reading the file failed.
    #[error("{path}: {action}: {source}")]
    Io {
        /// The file concerned.
        path: PathBuf,
        /// What we were doing.
        action: &'static str,
        /// The underlying error.
        source: io::Error,
    },
    /// Recovering an interrupted earlier write failed.
    #[error(transparent)]
    Recovery(#[from] WriteError),
    /// The tag is larger than [`MAX_TAG_SIZE`].
    #[error("the id3v2 tag is {size} bytes, more than the {cap}-byte limit")]
    TagTooLarge {
        /// Size of the tag (existing or to be written).
        size: u64,
        /// The limit.
        cap: u64,
    },
    /// The tag cannot be read completely; rewriting it would lose frames.
    #[error("the id3v2 tag is damaged at byte {offset}: {detail}")]
    Damaged {
        /// Byte offset in the file.
        offset: u64,
        /// What is wrong.
        detail: String,
    },
    /// An ID3v2 major version other than 2, 3 or 4.
    #[error("id3v2.{major} tags are not supported")]
    UnsupportedVersion {
        /// The version byte.
        major: u8,
    },
    /// A tag feature we cannot carry over safely.
    #[error("not supported: {detail}")]
    Unsupported {
        /// What it is.
        detail: String,
    },
    /// [`Id3Options::version`] is neither 3 nor 4.
    #[error("id3 version must be 3 or 4, not {version}")]
    BadVersionOption {
        /// The requested version.
        version: u8,
    },
    /// Writing an empty list (use strip to remove chapters).
    #[error("no chapters to write (stripping removes chapters)")]
    NoChapters,
    /// Every chapter has `toc: false`, but a `CTOC` needs at least one entry.
    #[error("every chapter is hidden from the table of contents; id3 needs at least one listed")]
    NoVisibleChapters,
    /// More chapters than a `CTOC` can count.
    #[error(
        "{count} chapters: an id3 table of contents holds at most {}",
        crate::limits::ID3_CTOC_MAX_ENTRIES
    )]
    TooManyChapters {
        /// How many there were.
        count: usize,
    },
    /// Starts must strictly increase (validation checks this first; the writer re-checks so
    /// it can never write overlapping chapters).
    #[error("{chapter}: start {start} is not after the previous chapter's start {previous}")]
    NotAscending {
        /// `chapter N (line L)`.
        chapter: String,
        /// Its start.
        start: Time,
        /// The previous start.
        previous: Time,
    },
    /// A chapter starting at or after the end of the audio would end before it starts.
    #[error("{chapter}: start {start} is not before the end of the audio ({})", end.hms_millis())]
    StartPastEnd {
        /// `chapter N (line L)`.
        chapter: String,
        /// Its start.
        start: Time,
        /// The audio length.
        end: Time,
    },
    /// A time beyond the 32-bit millisecond fields of `CHAP` (about 49.7 days).
    #[error("{what} ({time}) does not fit the 32-bit millisecond fields of id3 chapters")]
    TimeTooLarge {
        /// What it is.
        what: String,
        /// The time.
        time: Time,
    },
    /// The duration has a zero sample rate.
    #[error("the audio length has a sample rate of zero")]
    BadDuration,
    /// ID3 strings end at NUL; a NUL inside would cut the text short.
    #[error("{chapter}: the {field} contains a NUL character, which id3 cannot store")]
    NulInText {
        /// `chapter N (line L)`.
        chapter: String,
        /// `title`, `description` or `link label`.
        field: &'static str,
    },
}

/// Plans writing `list` as the file's chapters, replacing any existing `CHAP`/`CTOC`. The
/// last chapter ends at `duration` rounded to the millisecond, which is also written as
/// `TLEN`. Returns [`Plan::Unchanged`] when the file already holds exactly this tag.
///
/// Reads only the tag region (at most [`MAX_TAG_SIZE`] bytes), after rolling back any
/// interrupted earlier write so the plan is made from a consistent file.
pub fn plan_write(
    path: &Path,
    list: &ChapterList,
    duration: SampleTime,
    opts: &Id3Options,
) -> Result<Plan, Id3Error> {
    let (region, len) = read_region(path)?;
    plan::plan_region(
        region.as_deref(),
        len,
        Action::Write { list, duration },
        opts,
    )
}

/// The ID3v2 version [`plan_write`] would give the file's tag for `list` (3 or 4), so a
/// caller can check what readers will make of it before writing.
pub fn write_version(path: &Path, list: &ChapterList, opts: &Id3Options) -> Result<u8, Id3Error> {
    let (region, _) = read_region(path)?;
    let parsed = region.as_deref().map(chapters::parse_tag).transpose()?;
    // The duration plays no part in the choice.
    let action = Action::Write {
        list,
        duration: SampleTime::new(0, 1),
    };
    plan::choose_version(parsed.as_ref(), &action, opts)
}

/// The version (3 or 4; 2 for v2.2) of the file's leading ID3v2 tag, `None` without one.
pub fn tag_version(path: &Path) -> Result<Option<u8>, Id3Error> {
    let (region, _) = read_region(path)?;
    Ok(region.as_deref().and_then(|r| r.get(3).copied()))
}

/// Plans removing all `CHAP` and `CTOC` frames (everything else, `TLEN` included, stays).
/// Returns [`Plan::Unchanged`] when there are none.
pub fn plan_strip(path: &Path) -> Result<Plan, Id3Error> {
    let (region, len) = read_region(path)?;
    plan::plan_region(
        region.as_deref(),
        len,
        Action::Strip,
        &Id3Options::default(),
    )
}

/// Reads the chapters of an MP3 file: `CHAP` frames with start, end, `TIT2` title, `WXXX`
/// URL and label, `TIT3` description; in the order of the top-level `CTOC` when there is one
/// (chapters it does not list follow, by start, with `toc: false`), else by start time.
/// A file without an ID3v2 tag has no chapters. Episode title, artist and album go to
/// [`ChapterList::meta`].
pub fn read_chapters(path: &Path) -> Result<ChapterList, Id3Error> {
    let (region, _) = read_region(path)?;
    match region {
        Some(r) => chapters_from_tag(&r),
        None => Ok(ChapterList::default()),
    }
}

/// [`read_chapters`] on tag bytes already in memory (starting with the `ID3` header).
/// Frames after damage in the tag are ignored rather than failing the read.
pub fn chapters_from_tag(tag: &[u8]) -> Result<ChapterList, Id3Error> {
    let parsed = chapters::parse_tag(tag)?;
    if let Some((offset, detail)) = &parsed.damage {
        log::warn!("id3: tag damaged at byte {offset}: {detail}; chapters after it are ignored");
    }
    Ok(chapters::chapters_of(&parsed))
}

/// Plans a chapter write over tag bytes already in memory: `tag` is the file's leading ID3v2
/// tag (exactly its bytes, header to end) or `None`, `file_len` the whole file's length.
/// The pure core of [`plan_write`], for callers that read the file themselves and for fuzzing.
pub fn plan_write_tag(
    tag: Option<&[u8]>,
    file_len: u64,
    list: &ChapterList,
    duration: SampleTime,
    opts: &Id3Options,
) -> Result<Plan, Id3Error> {
    plan::plan_region(tag, file_len, Action::Write { list, duration }, opts)
}

fn io_err<'a>(path: &'a Path, action: &'static str) -> impl FnOnce(io::Error) -> Id3Error + 'a {
    move |source| Id3Error::Io {
        path: path.to_path_buf(),
        action,
        source,
    }
}

/// Reads the leading ID3v2 tag (bounded by [`MAX_TAG_SIZE`]) and the file length, after
/// recovering an interrupted write.
fn read_region(path: &Path) -> Result<(Option<Vec<u8>>, u64), Id3Error> {
    match safe::recover(path) {
        // Not ours to apply; the caller that wants to write has refused already.
        Err(WriteError::ForeignJournal { .. }) => {}
        other => {
            other?;
        }
    }
    let mut f = File::open(path).map_err(io_err(path, "opening"))?;
    let len = f
        .metadata()
        .map_err(io_err(path, "reading metadata"))?
        .len();
    let mut head = [0u8; HEADER_LEN];
    let mut got = 0;
    while got < HEADER_LEN {
        match f.read(&mut head[got..]) {
            Ok(0) => break,
            Ok(n) => got += n,
            Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
            Err(e) => return Err(io_err(path, "reading the tag header")(e)),
        }
    }
    let Some(header) = TagHeader::parse(&head[..got])? else {
        return Ok((None, len));
    };
    let total = header.total_len();
    if total > MAX_TAG_SIZE {
        return Err(Id3Error::TagTooLarge {
            size: total,
            cap: MAX_TAG_SIZE,
        });
    }
    if total > len {
        return Err(Id3Error::Damaged {
            offset: 6,
            detail: format!("the tag claims {total} bytes but the file has only {len}"),
        });
    }
    let mut buf = vec![0u8; total as usize];
    buf[..HEADER_LEN].copy_from_slice(&head);
    f.read_exact(&mut buf[HEADER_LEN..])
        .map_err(io_err(path, "reading the tag"))?;
    Ok((Some(buf), len))
}
