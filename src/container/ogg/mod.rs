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

use super::{Capabilities, Container, symph};
use crate::chapter::ChapterList;
use crate::container::vorbis_comment::VorbisError;
use crate::probe::{ProbeError, ProbeInfo};
use crate::write::Plan;
use crate::write::apply as safe;
use std::fs::File;
use std::path::Path;

pub use chapters::{Codec, Headers, read_headers};
pub use plan::OPUS_PADDING;

/// `CHAPTERxxx` comments: 999 chapters, titles and URLs of any length (UTF-8).
pub const CAPABILITIES: Capabilities = crate::container::vorbis_comment::CAPABILITIES;

/// Measures an Ogg stream whose pages start at `start` (last granule, through symphonia)
/// and summarises its comments.
pub(crate) fn probe<R: std::io::Read + std::io::Seek + Send + Sync>(
    mut reader: R,
    name: &str,
    start: u64,
) -> Result<ProbeInfo, ProbeError> {
    let vorbis = summary(&mut reader, name);
    let mut info = symph::probe(reader, name, Container::Ogg, start)?;
    info.tags.vorbis = vorbis;
    Ok(info)
}

fn headers(path: &Path) -> Result<(Headers, String), VorbisError> {
    let name = path.display().to_string();
    let mut f = File::open(path).map_err(|source| VorbisError::Io {
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
pub fn read_chapters(path: &Path) -> Result<ChapterList, VorbisError> {
    let (h, name) = headers(path)?;
    let (c, _) = h
        .comments()
        .map_err(|source| VorbisError::Comment { file: name, source })?;
    Ok(c.chapters())
}

/// Plans writing `list` as the file's chapters, replacing any `CHAPTERxxx` comments.
pub fn plan_write(path: &Path, list: &ChapterList) -> Result<Plan, VorbisError> {
    safe::recover(path)?;
    let (h, name) = headers(path)?;
    plan::plan(&h, Some(list), &name)
}

/// Plans removing every chapter comment; [`Plan::Unchanged`] when there is none.
pub fn plan_strip(path: &Path) -> Result<Plan, VorbisError> {
    safe::recover(path)?;
    let (h, name) = headers(path)?;
    plan::plan(&h, None, &name)
}
