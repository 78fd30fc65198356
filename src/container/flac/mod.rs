//! Native FLAC: duration from `STREAMINFO`, chapters in the `VORBIS_COMMENT` block.
//!
//! * [`blocks`]: the metadata blocks up to the first audio frame.
//! * [`duration`]: the exact length (`STREAMINFO` total, checked against the last frame).
//! * [`read_chapters`]: `CHAPTERxxx` comments ([`crate::container::vorbis_comment`]).
//! * [`plan_write`] / [`plan_strip`] (`plan`): a [`Plan`] that replaces the comment block.
//!   Every other block (`STREAMINFO`, `SEEKTABLE`, `CUESHEET`, `APPLICATION`, `PICTURE`) goes
//!   back byte for byte and the audio frames are never touched, so `STREAMINFO`'s MD5 still
//!   matches. When the new block fits the old one plus the `PADDING` space the plan is a
//!   same-length patch; otherwise the metadata grows by whole 4 KiB blocks inserted at the
//!   start of the file ([`Plan::Insert`], with a rebuild to the same bytes as fallback) and
//!   keeps at least [`DEFAULT_PADDING`] bytes of padding for the next edit.

pub mod blocks;
pub mod duration;
mod plan;

use super::{Capabilities, Container, symph};
use crate::chapter::ChapterList;
use crate::container::vorbis_comment::Comments;
use crate::container::vorbis_comment::VorbisError;
use crate::probe::{ProbeError, ProbeInfo};
use crate::write::Plan;
use crate::write::apply as safe;
use std::fs::File;
use std::path::Path;

pub use plan::DEFAULT_PADDING;

/// `CHAPTERxxx` comments: 999 chapters, titles and URLs of any length (UTF-8).
pub const CAPABILITIES: Capabilities = crate::container::vorbis_comment::CAPABILITIES;

/// Measures a FLAC stream whose `fLaC` marker is at `start`: STREAMINFO's total, read here
/// (symphonia refuses valid files, e.g. with a `CUESHEET` that is not CD-aligned); without
/// a total there, symphonia counts the frames.
pub(crate) fn probe<R: std::io::Read + std::io::Seek + Send + Sync>(
    mut reader: R,
    name: &str,
    start: u64,
) -> Result<ProbeInfo, ProbeError> {
    match duration::probe(&mut reader, name)? {
        Some(info) => Ok(info),
        None => symph::probe(reader, name, Container::Flac, start),
    }
}

fn open(path: &Path) -> Result<(File, String), VorbisError> {
    let name = path.display().to_string();
    let f = File::open(path).map_err(|source| VorbisError::Io {
        file: name.clone(),
        action: "opening",
        source,
    })?;
    Ok((f, name))
}

/// The comments of the file's `VORBIS_COMMENT` block (`None` when it has none).
pub fn read_comments(path: &Path) -> Result<Option<Comments>, VorbisError> {
    let (mut f, name) = open(path)?;
    let meta = blocks::read(&mut f, &name)?;
    comments_of(&meta, &name)
}

fn comments_of(meta: &blocks::Metadata, name: &str) -> Result<Option<Comments>, VorbisError> {
    meta.find(blocks::VORBIS_COMMENT)
        .map(|b| {
            Comments::parse(&b.body)
                .map(|(c, _)| c)
                .map_err(|source| VorbisError::Comment {
                    file: name.to_string(),
                    source,
                })
        })
        .transpose()
}

/// The chapters in a FLAC file's comments (empty when there are none).
pub fn read_chapters(path: &Path) -> Result<ChapterList, VorbisError> {
    Ok(read_comments(path)?
        .map(|c| c.chapters())
        .unwrap_or_default())
}

/// Plans writing `list` as the file's chapters, replacing any `CHAPTERxxx` comments.
/// [`Plan::Unchanged`] when the file already holds exactly these.
pub fn plan_write(path: &Path, list: &ChapterList) -> Result<Plan, VorbisError> {
    plan_path(path, Some(list))
}

/// Plans removing every chapter comment; [`Plan::Unchanged`] when there is none.
pub fn plan_strip(path: &Path) -> Result<Plan, VorbisError> {
    plan_path(path, None)
}

fn plan_path(path: &Path, list: Option<&ChapterList>) -> Result<Plan, VorbisError> {
    safe::recover(path)?;
    let (mut f, name) = open(path)?;
    let meta = blocks::read(&mut f, &name)?;
    let comments = comments_of(&meta, &name)?;
    plan::plan(&meta, comments.as_ref(), list, DEFAULT_PADDING).map_err(|source| {
        VorbisError::Comment {
            file: name.clone(),
            source,
        }
    })
}
