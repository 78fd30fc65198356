//! Chapter-file formats, each a pure function model ⇄ bytes.
//!
//! One module per format with fixed roles: `mod.rs` (facade, documenting the format's
//! conventions and lossy corners), `read.rs`, `write.rs`. This module is the dispatcher the CLI
//! uses: [`detect`] picks a format from content (so `convert` needs no `--from` for files), and
//! [`read()`] / [`write()`] route to the per-format functions.
//!
//! Readers are strict about timestamps (`00:12:75.000` is an error, never a carry into the next
//! minute) and lenient about everything that does not change the timeline (unknown JSON
//! fields, unknown ffmetadata keys, CUE commands we do not use). Every reader error names the
//! format and the 1-based line, so a producer can fix the file without guessing.
//!
//! Plain description text ([`Format::Text`]) is only *written* here; it is *read* by the
//! show-notes parser in [`crate::notes`], because descriptions are prose with timestamps in
//! them rather than a chapter format.

use crate::chapter::ChapterList;
use crate::time::Time;
use serde::{Deserialize, Serialize};
use std::fmt;
use std::str::FromStr;

mod common;
pub mod cue;
pub mod ffmetadata;
pub mod json;
pub mod mp4chaps;
pub mod psc;
pub mod text;
pub mod vtt;

/// The most chapters any reader accepts. Real episodes have tens; a file claiming more than
/// this is hostile or broken, and refusing early keeps memory bounded.
pub const MAX_CHAPTERS: usize = 100_000;

/// The chapter formats chapmark reads and writes.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[cfg_attr(feature = "cli", derive(clap::ValueEnum))]
#[serde(rename_all = "lowercase")]
#[non_exhaustive]
pub enum Format {
    /// Podcasting 2.0 JSON chapters (spec 1.2).
    Json,
    /// Podlove Simple Chapters XML.
    Psc,
    /// WebVTT chapters.
    Vtt,
    /// ffmpeg's ffmetadata.
    Ffmetadata,
    /// mp4chaps text (`HH:MM:SS.mmm Title <url>`).
    Mp4chaps,
    /// CUE sheet.
    Cue,
    /// Plain description text / show notes.
    Text,
}

impl Format {
    /// Every format, in the order help texts and conversion matrices list them.
    pub const ALL: [Format; 7] = [
        Format::Json,
        Format::Psc,
        Format::Vtt,
        Format::Ffmetadata,
        Format::Mp4chaps,
        Format::Cue,
        Format::Text,
    ];

    /// The name used on the command line and in messages (`json`, `psc`, …); [`FromStr`]
    /// accepts it back.
    pub fn name(self) -> &'static str {
        match self {
            Format::Json => "json",
            Format::Psc => "psc",
            Format::Vtt => "vtt",
            Format::Ffmetadata => "ffmetadata",
            Format::Mp4chaps => "mp4chaps",
            Format::Cue => "cue",
            Format::Text => "text",
        }
    }

    /// The conventional file extension, without the leading dot, for naming output files
    /// next to the audio. mp4chaps uses `chapters.txt` because that is the name mp4v2's
    /// `mp4chaps -i` looks for (`episode.chapters.txt`).
    pub fn extension(self) -> &'static str {
        match self {
            Format::Json => "json",
            Format::Psc => "psc",
            Format::Vtt => "vtt",
            Format::Ffmetadata => "ffmetadata",
            Format::Mp4chaps => "chapters.txt",
            Format::Cue => "cue",
            Format::Text => "txt",
        }
    }

    /// Guesses the format from a file name's extension, for `-o out.vtt` style output
    /// paths. Returns `None` when the name says nothing useful; content detection
    /// ([`detect`]) is the better tool for input.
    pub fn from_file_name(name: &str) -> Option<Format> {
        let lower = name.to_ascii_lowercase();
        if lower.ends_with(".chapters.txt") {
            return Some(Format::Mp4chaps);
        }
        let ext = lower.rsplit_once('.').map(|(_, e)| e)?;
        match ext {
            "json" => Some(Format::Json),
            "psc" | "xml" => Some(Format::Psc),
            "vtt" | "webvtt" => Some(Format::Vtt),
            "ffmetadata" | "ffmeta" => Some(Format::Ffmetadata),
            "cue" => Some(Format::Cue),
            "txt" | "md" => Some(Format::Text),
            _ => None,
        }
    }
}

/// Shows [`Format::name`], so error messages read `psc line 7: …`.
impl fmt::Display for Format {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

/// A format name that is not one of ours; lists the accepted names so the user can fix it.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error(
    "unknown chapter format `{0}` (expected json, psc, vtt, ffmetadata, mp4chaps, cue or text)"
)]
pub struct UnknownFormat(pub String);

/// Parses the names of [`Format::name`] case-insensitively, plus a few obvious aliases
/// (`webvtt`, `podlove`, `ffmeta`, `txt`).
impl FromStr for Format {
    type Err = UnknownFormat;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        match s.trim().to_ascii_lowercase().as_str() {
            "json" => Ok(Format::Json),
            "psc" | "podlove" => Ok(Format::Psc),
            "vtt" | "webvtt" => Ok(Format::Vtt),
            "ffmetadata" | "ffmeta" => Ok(Format::Ffmetadata),
            "mp4chaps" => Ok(Format::Mp4chaps),
            "cue" => Ok(Format::Cue),
            "text" | "txt" => Ok(Format::Text),
            _ => Err(UnknownFormat(s.to_string())),
        }
    }
}

/// Why a chapter file could not be read. Messages name the format and the 1-based line, so
/// they can be shown to a producer as they are.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum FormatError {
    /// Something on a specific line is wrong (bad timestamp, missing attribute, bad syntax).
    #[error("{format} line {line}: {message}")]
    Line {
        /// The format being read.
        format: Format,
        /// 1-based line number.
        line: usize,
        /// Lowercase explanation without the prefix.
        message: String,
    },
    /// The input has no content at all (only whitespace or a byte-order mark).
    #[error("{format}: empty file")]
    Empty {
        /// The format being read.
        format: Format,
    },
    /// The file declares more chapters than [`MAX_CHAPTERS`].
    #[error("{format} line {line}: more than {max} chapters; refusing to read further")]
    TooManyChapters {
        /// The format being read.
        format: Format,
        /// Line of the first chapter over the limit.
        line: usize,
        /// The limit.
        max: usize,
    },
    /// [`Format::Text`] was passed to [`read`]: descriptions are read by the show-notes
    /// parser, which also reports suspicious lines instead of failing.
    #[error(
        "text: description text is read by the show-notes parser (chapmark::notes), not by chapmark::format::read"
    )]
    TextIsNotes,
}

impl FormatError {
    /// The format whose reader failed.
    pub fn format(&self) -> Format {
        match self {
            FormatError::Line { format, .. }
            | FormatError::Empty { format }
            | FormatError::TooManyChapters { format, .. } => *format,
            FormatError::TextIsNotes => Format::Text,
        }
    }

    /// The 1-based line the error is about, when there is one.
    pub fn line(&self) -> Option<usize> {
        match self {
            FormatError::Line { line, .. } | FormatError::TooManyChapters { line, .. } => {
                Some(*line)
            }
            FormatError::Empty { .. } | FormatError::TextIsNotes => None,
        }
    }

    pub(crate) fn at(format: Format, line: usize, message: impl Into<String>) -> Self {
        FormatError::Line {
            format,
            line: line.max(1),
            message: message.into(),
        }
    }
}

/// What writers need beyond the chapters themselves.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct WriteOptions {
    /// The exact audio length, when known (from the probe or `--duration`). It becomes the
    /// last chapter's end in WebVTT, ffmetadata and JSON `endTime`, so that end never comes
    /// from an estimate. Without it, ends come from [`ChapterList::end_of`] (next start, else
    /// the stated end).
    pub duration: Option<Time>,
    /// The audio file name for the CUE `FILE` line (a CUE sheet is useless to players that
    /// cannot find the audio). Only the file name part is used; `audio.mp3` when unknown.
    pub audio_file: Option<String>,
}

impl WriteOptions {
    /// Options with only the audio length set.
    pub fn with_duration(duration: Option<Time>) -> Self {
        WriteOptions {
            duration,
            audio_file: None,
        }
    }
}

/// Guesses the format of `text` from its content, so users need not say what they have.
///
/// Tolerates a byte-order mark and leading whitespace. Falls back to [`Format::Text`]
/// (show notes), which is what anything unrecognised most likely is.
pub fn detect(text: &str) -> Format {
    let body = common::strip_bom(text).trim_start();
    if json::sniff(body) {
        Format::Json
    } else if psc::sniff(body) {
        Format::Psc
    } else if vtt::sniff(body) {
        Format::Vtt
    } else if ffmetadata::sniff(body) {
        Format::Ffmetadata
    } else if cue::sniff(body) {
        Format::Cue
    } else if mp4chaps::sniff(body) {
        Format::Mp4chaps
    } else {
        Format::Text
    }
}

/// Reads a chapter file of the given format.
///
/// Every chapter gets an [`Origin`](crate::chapter::Origin) with its 1-based line and the
/// timestamp as written. [`Format::Text`] returns [`FormatError::TextIsNotes`]: use
/// [`crate::notes`] for descriptions.
pub fn read(format: Format, text: &str) -> Result<ChapterList, FormatError> {
    match format {
        Format::Json => json::read(text),
        Format::Psc => psc::read(text),
        Format::Vtt => vtt::read(text),
        Format::Ffmetadata => ffmetadata::read(text),
        Format::Mp4chaps => mp4chaps::read(text),
        Format::Cue => cue::read(text),
        Format::Text => Err(FormatError::TextIsNotes),
    }
}

/// Writes `list` in the given format. Deterministic: the same list and options always give
/// the same bytes (UTF-8, `\n` line endings, trailing newline).
pub fn write(format: Format, list: &ChapterList, opts: &WriteOptions) -> Vec<u8> {
    match format {
        Format::Json => json::write(list, opts),
        Format::Psc => psc::write(list, opts),
        Format::Vtt => vtt::write(list, opts),
        Format::Ffmetadata => ffmetadata::write(list, opts),
        Format::Mp4chaps => mp4chaps::write(list, opts),
        Format::Cue => cue::write(list, opts),
        Format::Text => text::write(list, opts),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_parse_back() {
        for f in Format::ALL {
            assert_eq!(f.name().parse::<Format>(), Ok(f));
            assert_eq!(f.to_string(), f.name());
        }
        assert_eq!("WebVTT".parse::<Format>(), Ok(Format::Vtt));
        let err = "srt".parse::<Format>().unwrap_err();
        assert!(err.to_string().contains("`srt`"), "{err}");
    }

    #[test]
    fn file_names() {
        assert_eq!(
            Format::from_file_name("ep.chapters.txt"),
            Some(Format::Mp4chaps)
        );
        assert_eq!(Format::from_file_name("ep.TXT"), Some(Format::Text));
        assert_eq!(Format::from_file_name("ep.vtt"), Some(Format::Vtt));
        assert_eq!(Format::from_file_name("ep"), None);
        for f in Format::ALL {
            let name = format!("episode.{}", f.extension());
            assert_eq!(Format::from_file_name(&name), Some(f), "{name}");
        }
    }

    #[test]
    fn text_is_not_read_here() {
        let err = read(Format::Text, "01:40 Intro").unwrap_err();
        assert_eq!(err, FormatError::TextIsNotes);
        assert!(err.to_string().contains("notes"));
        assert_eq!(err.format(), Format::Text);
    }

    #[test]
    fn errors_name_format_and_line() {
        let e = FormatError::at(Format::Psc, 7, "missing start attribute");
        assert_eq!(e.to_string(), "psc line 7: missing start attribute");
        assert_eq!(e.line(), Some(7));
        assert_eq!(FormatError::at(Format::Cue, 0, "x").line(), Some(1));
    }
}
