//! Ogg Opus and Ogg Vorbis (and reading Ogg FLAC): chapters in the comment header.
//!
//! * [`pages`]: page parsing, building, the Ogg CRC and the renumbering copy.
//! * [`chapters`]: the header packets of the first stream and the `CHAPTERxxx` comments.
//! * [`plan_write`] / [`plan_strip`] (`plan`): a [`Plan`] over the comment pages. The
//!   identification page, the Vorbis setup packet, every other comment, the vendor string and
//!   the audio pages are kept byte for byte; granule positions never change.
//!
//! The duration is measured by the probe (last granule − pre-skip).

pub mod chapters;
pub mod pages;
mod plan;

use crate::chapter::ChapterList;
use crate::container::vorbis_comment::CommentError;
use crate::write::{Plan, WriteError, safe};
use std::fs::File;
use std::path::Path;

pub use chapters::{Codec, Headers, read_headers};
pub use plan::OPUS_PADDING;

/// Errors while reading or planning Ogg chapters. Messages start with the file name.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum OggError {
    /// Reading failed.
    #[error("{file}: {action}: {source}")]
    Io {
        /// The file.
        file: String,
        /// What we were doing.
        action: &'static str,
        /// The underlying error.
        source: std::io::Error,
    },
    /// The pages are broken in a way we will not write over.
    #[error("{file}: invalid ogg file: {detail}")]
    Malformed {
        /// The file.
        file: String,
        /// What is wrong.
        detail: String,
    },
    /// A codec or layout we do not handle.
    #[error("{file}: {what} is not supported")]
    Unsupported {
        /// The file.
        file: String,
        /// What it is.
        what: String,
    },
    /// Header packets larger than we hold in memory.
    #[error("{file}: the ogg header packets are larger than the {cap}-byte limit")]
    TooLarge {
        /// The file.
        file: String,
        /// The limit.
        cap: u64,
    },
    /// The comment header is damaged, or the new one cannot be built.
    #[error("{file}: {source}")]
    Comment {
        /// The file.
        file: String,
        /// What is wrong.
        source: CommentError,
    },
    /// Recovering an interrupted earlier write failed.
    #[error(transparent)]
    Recovery(#[from] WriteError),
}

fn headers(path: &Path) -> Result<(Headers, String), OggError> {
    let name = path.display().to_string();
    let mut f = File::open(path).map_err(|source| OggError::Io {
        file: name.clone(),
        action: "opening",
        source,
    })?;
    Ok((read_headers(&mut f, &name)?, name))
}

/// What the probe reports about the comments; `None` when they cannot be read (the probe
/// measures the file anyway).
pub(crate) fn summary<R: std::io::Read + std::io::Seek>(
    r: &mut R,
    name: &str,
) -> Option<crate::probe::VorbisSummary> {
    let h = read_headers(r, name).ok()?;
    let (c, tail) = h.comments().ok()?;
    let padding = match h.codec {
        Codec::Opus if tail.first().is_none_or(|b| b & 1 == 0) => tail.len() as u64,
        _ => 0,
    };
    Some(crate::probe::VorbisSummary {
        comments: c.entries.len(),
        chapters: c.chapters().len(),
        padding,
    })
}

/// The chapters in an Ogg file's comment header (empty when there are none).
pub fn read_chapters(path: &Path) -> Result<ChapterList, OggError> {
    let (h, name) = headers(path)?;
    let (c, _) = h
        .comments()
        .map_err(|source| OggError::Comment { file: name, source })?;
    Ok(c.chapters())
}

/// Plans writing `list` as the file's chapters, replacing any `CHAPTERxxx` comments.
pub fn plan_write(path: &Path, list: &ChapterList) -> Result<Plan, OggError> {
    safe::recover(path)?;
    let (h, name) = headers(path)?;
    plan::plan(&h, Some(list), &name)
}

/// Plans removing every chapter comment; [`Plan::Unchanged`] when there is none.
pub fn plan_strip(path: &Path) -> Result<Plan, OggError> {
    safe::recover(path)?;
    let (h, name) = headers(path)?;
    plan::plan(&h, None, &name)
}
