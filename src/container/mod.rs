//! One folder per container: everything chapmark knows about a file format.
//!
//! Each container module holds the whole of its knowledge under fixed file roles —
//! `frames.rs`/`boxes.rs` (the structure reader), `duration.rs` (exact length),
//! `chapters.rs` (read chapters), `plan.rs` (plan a chapter write or strip) — and a
//! [`Capabilities`] value that says what its chapter forms can hold. This module is the one
//! dispatch table: `probe` (crate-internal, called by [`crate::probe`](mod@crate::probe)), [`read_chapters`], [`plan_write`] and
//! [`plan_strip`]. Adding a container is one new folder plus one arm in each `match` here
//! (and its magic in `probe/detect.rs`).
//!
//! * [`mp3`]: MPEG audio frame walk, Xing/LAME gapless info, duration;
//! * [`id3v2`]: the ID3v2 tag — header parsing (one syncsafe reader), tag skipping for the
//!   probe, `CHAP`/`CTOC` reading and the tag write plan (MP3's chapter form);
//! * [`mp4`]: ISO boxes — duration, Nero `chpl` and QuickTime chapter track, write plan;
//! * [`ogg`], [`flac`]: duration, and `CHAPTERxxx` Vorbis comments read and planned
//!   (shared model in [`vorbis_comment`]; Ogg pages renumbered when a header grows);
//! * [`wav`]: duration only.

pub mod flac;
pub mod id3v2;
pub(crate) mod io;
pub mod mp3;
pub mod mp4;
pub mod ogg;
mod symph;
pub mod vorbis_comment;
pub mod wav;

use crate::chapter::ChapterList;
use crate::probe::detect::Detected;
use crate::probe::{ProbeError, ProbeInfo};
use crate::time::SampleTime;
use crate::write::Plan;
use serde::Serialize;
use std::io::{Read, Seek};
use std::path::{Path, PathBuf};

/// The file format, detected from magic bytes.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize)]
#[serde(rename_all = "lowercase")]
#[non_exhaustive]
pub enum Container {
    /// An MPEG audio elementary stream (MP3, or MP1/MP2), possibly with ID3/APE tags.
    Mp3,
    /// ISO base media (MP4, M4A, M4B, MOV audio).
    Mp4,
    /// RIFF WAVE.
    Wav,
    /// Native FLAC.
    Flac,
    /// Ogg (Vorbis, Opus or FLAC inside).
    Ogg,
}

impl Container {
    /// The short lowercase name used in messages and JSON.
    pub fn name(self) -> &'static str {
        match self {
            Container::Mp3 => "mp3",
            Container::Mp4 => "mp4",
            Container::Wav => "wav",
            Container::Flac => "flac",
            Container::Ogg => "ogg",
        }
    }
}

/// A chapter form a container can carry.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize)]
#[serde(rename_all = "lowercase")]
#[non_exhaustive]
pub enum ChapterForm {
    /// ID3v2 `CHAP` frames listed by a `CTOC` (MP3).
    Id3,
    /// The Nero `chpl` list in `moov/udta` (MP4).
    Nero,
    /// The QuickTime chapter text track referenced by `tref/chap` (MP4).
    QuickTime,
    /// `CHAPTERxxx` / `…NAME` / `…URL` Vorbis comments (Opus, Ogg Vorbis, FLAC).
    VorbisComment,
}

/// What a container's chapter forms can hold, for validation and for the writer.
///
/// The limits follow the forms that are actually written: an MP4 written with the QuickTime
/// track only has no 255-entry `chpl` limit.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[non_exhaustive]
pub struct Capabilities {
    /// Whether chapmark writes chapters into this container at all.
    pub writable: bool,
    /// Most chapters the written forms can count; `None` when nothing is written.
    pub max_chapters: Option<usize>,
    /// Longest title in bytes every written form keeps whole (longer ones are cut on a
    /// character boundary); `None` for no limit below the chapter limit's own.
    pub max_title_bytes: Option<usize>,
    /// Whether a per-chapter URL is stored.
    pub urls: bool,
    /// Longest URL in bytes that is stored; `None` for no limit.
    pub max_url_bytes: Option<usize>,
    /// Whether per-chapter images are stored.
    pub images: bool,
    /// The chapter forms written.
    pub forms: &'static [ChapterForm],
}

impl Capabilities {
    /// A container chapmark measures but does not write chapters into.
    pub const READ_ONLY: Capabilities = Capabilities {
        writable: false,
        max_chapters: None,
        max_title_bytes: None,
        urls: false,
        max_url_bytes: None,
        images: false,
        forms: &[],
    };
}

/// How to write chapters, per container; each container reads its own part.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
#[non_exhaustive]
pub struct PlanOptions {
    /// For MP3 (ID3v2 tag).
    pub id3: id3v2::Id3Options,
    /// For MP4.
    pub mp4: mp4::Mp4Options,
}

/// Errors of the per-container readers and planners.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum ContainerError {
    /// From the ID3v2 reader or planner (MP3).
    #[error("{}: {source}", path.display())]
    Id3 {
        /// The file concerned.
        path: PathBuf,
        /// The underlying error.
        source: id3v2::Id3Error,
    },
    /// From the MP4 reader or planner (names the file itself).
    #[error(transparent)]
    Mp4(#[from] mp4::Mp4Error),
    /// From the Ogg or FLAC reader or planner (names the file itself).
    #[error(transparent)]
    Vorbis(#[from] vorbis_comment::VorbisError),
    /// The container holds no chapter form chapmark reads or writes.
    #[error(
        "{}: {verb} chapters in {} files is not supported (mp3, m4a/m4b/mp4, opus, ogg and flac are)",
        path.display(),
        container.name()
    )]
    Unsupported {
        /// The file concerned.
        path: PathBuf,
        /// Its container.
        container: Container,
        /// `reading` or `writing`.
        verb: &'static str,
    },
}

impl PlanOptions {
    /// Options for every container at once.
    pub fn new(id3: id3v2::Id3Options, mp4: mp4::Mp4Options) -> PlanOptions {
        PlanOptions { id3, mp4 }
    }
}

impl Container {
    /// What this container's chapters can hold when written with `opts`.
    pub fn capabilities(self, opts: &PlanOptions) -> Capabilities {
        match self {
            Container::Mp3 => id3v2::CAPABILITIES,
            Container::Mp4 => mp4::capabilities(opts.mp4.kinds),
            Container::Wav => wav::CAPABILITIES,
            Container::Flac => flac::CAPABILITIES,
            Container::Ogg => ogg::CAPABILITIES,
        }
    }
}

/// Measures the file whose container detection found (`found`), walking every MP3 frame
/// when `verify`.
pub(crate) fn probe<R: Read + Seek + Send + Sync>(
    container: Container,
    mut src: io::Source<R>,
    name: &str,
    found: &Detected,
    verify: bool,
) -> Result<ProbeInfo, ProbeError> {
    match container {
        Container::Mp3 => mp3::probe(&mut src, name, found, verify),
        Container::Mp4 => mp4::probe(&mut src, name, found.start),
        Container::Wav => wav::probe(src.into_inner(), name, found.start),
        Container::Flac => flac::probe(src.into_inner(), name, found.start),
        Container::Ogg => ogg::probe(src.into_inner(), name, found.start),
    }
}

fn id3_err(path: &Path) -> impl FnOnce(id3v2::Id3Error) -> ContainerError + '_ {
    move |source| ContainerError::Id3 {
        path: path.to_path_buf(),
        source,
    }
}

fn unsupported(path: &Path, container: Container, verb: &'static str) -> ContainerError {
    ContainerError::Unsupported {
        path: path.to_path_buf(),
        container,
        verb,
    }
}

/// Reads the chapters embedded in the file at `path`, a `container` file.
pub fn read_chapters(container: Container, path: &Path) -> Result<ChapterList, ContainerError> {
    match container {
        Container::Mp3 => id3v2::read_chapters(path).map_err(id3_err(path)),
        Container::Mp4 => Ok(mp4::read_chapters(path)?),
        Container::Flac => Ok(flac::read_chapters(path)?),
        Container::Ogg => Ok(ogg::read_chapters(path)?),
        other => Err(unsupported(path, other, "reading")),
    }
}

/// Plans writing `list` (already in the form the container stores) into the file at `path`;
/// `duration` is its exact playable length.
pub fn plan_write(
    container: Container,
    path: &Path,
    list: &ChapterList,
    duration: SampleTime,
    opts: &PlanOptions,
) -> Result<Plan, ContainerError> {
    match container {
        Container::Mp3 => id3v2::plan_write(path, list, duration, &opts.id3).map_err(id3_err(path)),
        Container::Mp4 => Ok(mp4::plan_write(path, list, duration, &opts.mp4)?),
        Container::Flac => Ok(flac::plan_write(path, list)?),
        Container::Ogg => Ok(ogg::plan_write(path, list)?),
        other => Err(unsupported(path, other, "writing")),
    }
}

/// Plans removing every chapter from the file at `path`.
pub fn plan_strip(container: Container, path: &Path) -> Result<Plan, ContainerError> {
    match container {
        Container::Mp3 => id3v2::plan_strip(path).map_err(id3_err(path)),
        Container::Mp4 => Ok(mp4::plan_strip(path)?),
        Container::Flac => Ok(flac::plan_strip(path)?),
        Container::Ogg => Ok(ogg::plan_strip(path)?),
        other => Err(unsupported(path, other, "writing")),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn mp4_limits_follow_the_forms_written() {
        let with = |kinds| {
            let opts = PlanOptions {
                mp4: mp4::Mp4Options {
                    kinds,
                    ..mp4::Mp4Options::default()
                },
                ..PlanOptions::default()
            };
            Container::Mp4.capabilities(&opts)
        };
        let both = with(mp4::Mp4Chapters::Both);
        assert_eq!(both.max_chapters, Some(255));
        assert!(both.urls);
        let nero = with(mp4::Mp4Chapters::Nero);
        assert_eq!(nero.max_chapters, Some(255));
        assert!(!nero.urls);
        assert_eq!(nero.forms, &[ChapterForm::Nero]);
        // The chapter track counts in 32 bits: no 255 limit without `chpl`.
        let qt = with(mp4::Mp4Chapters::QuickTime);
        assert!(qt.max_chapters.is_some_and(|m| m > 255));
        assert_eq!(qt.max_title_bytes, None);
        assert_eq!(qt.max_url_bytes, Some(255));
    }

    #[test]
    fn wav_is_not_written() {
        let opts = PlanOptions::default();
        assert_eq!(Container::Mp3.capabilities(&opts).max_chapters, Some(255));
        for c in [Container::Flac, Container::Ogg] {
            let caps = c.capabilities(&opts);
            assert!(caps.writable && caps.urls);
            assert_eq!(caps.max_chapters, Some(999));
            assert_eq!((caps.max_title_bytes, caps.max_url_bytes), (None, None));
        }
        assert!(!Container::Wav.capabilities(&opts).writable);
        let err = plan_strip(Container::Wav, Path::new("x")).unwrap_err();
        assert!(matches!(err, ContainerError::Unsupported { .. }), "{err}");
    }
}
