//! Chapters in MP4/M4A files: the Nero `chpl` list and the QuickTime chapter track.
//!
//! Two chapter forms exist and different players read different ones: Apple Podcasts and
//! QuickTime read the chapter track (a disabled `text` track referenced by the audio track's
//! `tref/chap`), Nero-derived tools, mutagen and MediaInfo read `moov/udta/chpl`; ffprobe reads
//! both. We write both by default. Per-chapter URLs ride in the chapter track as 3GPP `href`
//! text modifiers.
//!
//! The boxes are written here rather than with `mp4ameta`, whose 0.13 release writes a
//! `chpl` version 0 that mutagen and MediaInfo ignore, wraps the chapter count at 256, panics
//! on titles whose 255th byte splits a character, and loads whole files into memory.
//!
//! Like every container writer this module never writes a file: [`plan_write`] and
//! [`plan_strip`] look at the original and return a [`Plan`](crate::write::Plan) for
//! [`safe::apply`](crate::write::apply::apply). Only `moov` and the chapter samples are held in
//! memory; the audio payload is referred to by [`Piece::Copy`](crate::write::Piece::Copy) ranges.
//!
//! Layout of what we write, after the boxes before it, which are left alone:
//! `moov` (edited) · `mdat` (only the chapter samples) · `free` (room for later edits). When
//! the new `moov` fits in the old `moov` plus adjacent `free` space (and an old
//! chapter-only `mdat`), the plan is a same-length [`Plan::Patch`](crate::write::Plan::Patch) of that
//! region; otherwise the file is rebuilt and every chunk offset after the region is shifted.
//! A faststart file (moov before the audio) therefore stays faststart.

mod boxes;
mod chapters;
mod duration;
mod grow;
pub mod images;
mod ours;
mod plan;
mod stream;

use crate::chapter::ChapterList;
use crate::container::{Capabilities, ChapterForm};

use crate::time::{SampleTime, Time};
pub(crate) use duration::probe;
use std::path::{Path, PathBuf};

pub use chapters::{Mp4ChapterForms, read_chapters, read_forms};

/// Which chapter forms to write. Whatever is chosen, existing chapters of both forms are
/// replaced, so a file never carries two disagreeing lists.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Mp4Chapters {
    /// Only the Nero `chpl` list (mutagen, MediaInfo, ffprobe; no URLs).
    Nero,
    /// Only the QuickTime chapter track (Apple Podcasts, QuickTime, ffprobe; with URLs).
    QuickTime,
    /// Both: what every player reads.
    #[default]
    Both,
}

impl Mp4Chapters {
    fn nero(self) -> bool {
        matches!(self, Mp4Chapters::Nero | Mp4Chapters::Both)
    }
    fn quicktime(self) -> bool {
        matches!(self, Mp4Chapters::QuickTime | Mp4Chapters::Both)
    }
}

/// Longest title kept whole by the Nero `chpl` list (one length byte); longer titles are
/// cut on a character boundary there (the chapter track keeps them whole).
pub const CHPL_TITLE_BYTES: usize = 255;

/// Longest URL an `href` text modifier holds (one length byte).
pub const HREF_URL_BYTES: usize = 255;

/// Most samples the chapter-track reader accepts: the limit of a QuickTime-only write.
pub const MAX_CHAPTER_TRACK_SAMPLES: usize = 65_536;

/// What MP4 chapters hold when written as `kinds`: the count limit follows the forms written
/// (`chpl` counts in a byte; the chapter track does not), URLs only in the chapter track.
pub fn capabilities(kinds: Mp4Chapters) -> Capabilities {
    let (max_chapters, max_title_bytes, forms): (_, _, &'static [ChapterForm]) = match kinds {
        Mp4Chapters::Nero => (MAX_CHAPTERS, Some(CHPL_TITLE_BYTES), &[ChapterForm::Nero]),
        Mp4Chapters::QuickTime => (MAX_CHAPTER_TRACK_SAMPLES, None, &[ChapterForm::QuickTime]),
        Mp4Chapters::Both => (
            MAX_CHAPTERS,
            Some(CHPL_TITLE_BYTES),
            &[ChapterForm::Nero, ChapterForm::QuickTime],
        ),
    };
    Capabilities {
        writable: true,
        max_chapters: Some(max_chapters),
        max_title_bytes,
        urls: kinds.quicktime(),
        max_url_bytes: kinds.quicktime().then_some(HREF_URL_BYTES),
        images: kinds.quicktime(),
        forms,
    }
}

/// Free space left after `moov` when a file has to be rebuilt anyway, so that later edits
/// (a fixed typo, one more chapter) fit in place and become a small patch.
pub const DEFAULT_PADDING: u32 = 4096;

/// Options for [`plan_write`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Mp4Options {
    /// Which forms to write (both by default).
    pub kinds: Mp4Chapters,
    /// Size of the `free` box left after `moov` when the file must be rebuilt; `0` for none.
    /// Ignored when the edit fits in place.
    pub padding: u32,
}

impl Default for Mp4Options {
    fn default() -> Self {
        Mp4Options {
            kinds: Mp4Chapters::Both,
            padding: DEFAULT_PADDING,
        }
    }
}

/// The largest `moov` we load. Real podcast `moov`s are kilobytes to a few megabytes
/// (a 10-hour AAC file at 44.1 kHz has ~1.5 MB of sample tables); anything bigger is a
/// hostile or broken file and is refused instead of allocated.
pub const MAX_MOOV_SIZE: u64 = 64 << 20;

/// At most this many chapters when the Nero `chpl` list is written: it stores the count in
/// one byte. A QuickTime-only write may hold up to [`MAX_CHAPTER_TRACK_SAMPLES`].
pub const MAX_CHAPTERS: usize = crate::limits::MP4_CHPL_MAX_CHAPTERS;

/// Errors while reading or planning a write of MP4 chapters. Every message names the file
/// and, for structural problems, the box path (`moov/trak[1]/mdia/minf/stbl/stco`, tracks
/// numbered from 1 in file order).
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum Mp4Error {
    /// Reading the file failed.
    #[error("{}: {action}: {source}", path.display())]
    Io {
        /// The file.
        path: PathBuf,
        /// What we were doing, lowercase.
        action: &'static str,
        /// The underlying error.
        source: std::io::Error,
    },
    /// The box structure is broken in a way we will not write over.
    #[error("{}: {box_path}: {problem}", path.display())]
    Malformed {
        /// The file.
        path: PathBuf,
        /// Where, e.g. `moov/trak[1]/mdia/minf/stbl/stco`.
        box_path: String,
        /// What is wrong, lowercase.
        problem: String,
    },
    /// No `moov` box: not an MP4 file, or a truncated recording.
    #[error("{}: no moov box (not an mp4/m4a file, or an unfinished recording)", path.display())]
    NoMoov {
        /// The file.
        path: PathBuf,
    },
    /// More than one top-level `moov`: players disagree on which counts.
    #[error("{}: {count} top-level moov boxes; refusing to guess which one players use", path.display())]
    MultipleMoov {
        /// The file.
        path: PathBuf,
        /// How many.
        count: usize,
    },
    /// `moov` is larger than [`MAX_MOOV_SIZE`].
    #[error("{}: moov is {size} bytes, more than the {limit}-byte limit", path.display())]
    MoovTooLarge {
        /// The file.
        path: PathBuf,
        /// Its size.
        size: u64,
        /// The limit.
        limit: u64,
    },
    /// A valid file using a feature we do not edit (fragmented MP4, external data).
    #[error("{}: {feature} is not supported", path.display())]
    Unsupported {
        /// The file.
        path: PathBuf,
        /// What, lowercase.
        feature: String,
    },
    /// There is no audio (or video) track to hang the chapter track on.
    #[error("{}: no audio or video track to attach the chapter track to", path.display())]
    NoMediaTrack {
        /// The file.
        path: PathBuf,
    },
    /// An empty list was given to [`plan_write`] (use [`plan_strip`] to remove chapters).
    #[error("{}: no chapters to write (strip removes chapters)", path.display())]
    NoChapters {
        /// The file.
        path: PathBuf,
    },
    /// More chapters than the forms written can hold ([`capabilities`]).
    #[error("{}: {count} chapters; these mp4 chapter forms hold at most {max}", path.display())]
    TooManyChapters {
        /// The file.
        path: PathBuf,
        /// How many were given.
        count: usize,
        /// The limit of the forms written.
        max: usize,
    },
    /// Chapter starts must strictly ascend: the chapter track stores durations, which
    /// cannot be negative or zero.
    #[error(
        "{}: chapter {index}: start {start} is not after the previous chapter's start {previous}",
        path.display()
    )]
    NotAscending {
        /// The file.
        path: PathBuf,
        /// 1-based chapter number.
        index: usize,
        /// Its start.
        start: Time,
        /// The previous chapter's start.
        previous: Time,
    },
    /// A chapter starts at or after the end of the audio.
    #[error(
        "{}: chapter {index}: start {start} is at or past the end of the audio ({})",
        path.display(),
        end.hms_millis()
    )]
    PastEnd {
        /// The file.
        path: PathBuf,
        /// 1-based chapter number.
        index: usize,
        /// Its start.
        start: Time,
        /// The audio length.
        end: Time,
    },
    /// A chapter URL that cannot be stored in an `href` box.
    #[error("{}: chapter {index}: url {url:?}: {problem}", path.display())]
    BadUrl {
        /// The file.
        path: PathBuf,
        /// 1-based chapter number.
        index: usize,
        /// The URL as given.
        url: String,
        /// Why, lowercase.
        problem: String,
    },
    /// The duration passed in has a zero sample rate or zero length.
    #[error("{}: the audio duration is empty ({samples} samples at {sample_rate} hz)", path.display())]
    BadDuration {
        /// The file.
        path: PathBuf,
        /// Samples given.
        samples: u64,
        /// Rate given.
        sample_rate: u32,
    },
}

impl Mp4Error {
    pub(crate) fn malformed(
        path: &Path,
        box_path: impl Into<String>,
        problem: impl Into<String>,
    ) -> Mp4Error {
        Mp4Error::Malformed {
            path: path.to_path_buf(),
            box_path: box_path.into(),
            problem: problem.into(),
        }
    }

    pub(crate) fn from_problem(path: &Path, p: boxes::BoxProblem) -> Mp4Error {
        Mp4Error::malformed(path, p.box_path, p.problem)
    }

    pub(crate) fn io(path: &Path, action: &'static str) -> impl FnOnce(std::io::Error) -> Mp4Error {
        let path = path.to_path_buf();
        move |source| Mp4Error::Io {
            path,
            action,
            source,
        }
    }
}

/// Plans writing `list` into the MP4 file at `path` as `opts.kinds` chapter forms,
/// replacing any chapters already there. `duration` is the exact audio length: the last
/// chapter ends there (rounded to the millisecond, the chapter track's time unit), never at
/// an estimate. Writing the same chapters again yields [`Plan::Unchanged`](crate::write::Plan::Unchanged).
pub fn plan_write(
    path: &Path,
    list: &ChapterList,
    duration: SampleTime,
    opts: &Mp4Options,
) -> Result<crate::write::Plan, Mp4Error> {
    plan::plan(
        path,
        plan::Edit::Write {
            list,
            duration,
            opts,
        },
    )
}

/// Plans removing every chapter (the `chpl` list, the chapter track and its `tref/chap`
/// entries) from the MP4 file at `path`. A file without chapters gives
/// [`Plan::Unchanged`](crate::write::Plan::Unchanged).
pub fn plan_strip(path: &Path) -> Result<crate::write::Plan, Mp4Error> {
    plan::plan(path, plan::Edit::Strip)
}

/// Every sample of the chapter tracks (`tref/chap`) as merged `[start, end)` byte ranges:
/// what the object-storage path fetches for the planner besides `moov` (`remote::shadow`).
#[cfg(feature = "s3")]
pub(crate) fn chapter_sample_ranges(path: &Path) -> Result<Vec<(u64, u64)>, Mp4Error> {
    let ld = chapters::load(path)?;
    let tracks = chapters::tracks(path, &ld.moov)?;
    let ids = chapters::chapter_track_ids(&tracks);
    let old: Vec<&chapters::Track> = tracks.iter().filter(|t| ids.contains(&t.id)).collect();
    Ok(ours::chapter_sample_ranges(path, &ld.moov, &old).unwrap_or_default())
}
