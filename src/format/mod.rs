//! Chapter-file formats, each a pure function model ⇄ bytes.
//!
//! One module per format with fixed roles: `mod.rs` (facade, documenting the format's
//! conventions and lossy corners, and its `sniff`), `read.rs`, `write.rs`. This module is the
//! dispatcher: one table, [`FORMATS`], holds each format's names, file-name suffixes, sidecar
//! suffixes, detector, reader and writer, and everything else reads it — [`detect`] (so
//! `convert` needs no `--from` for files), [`read()`] / [`write()`], [`Format::from_file_name`]
//! and batch mode's sidecar search. A new format is one folder plus one row (and one variant).
//!
//! Readers are strict about timestamps (`00:12:75.000` is an error, never a carry into the next
//! minute) and lenient about everything that does not change the timeline (unknown JSON
//! fields, unknown ffmetadata keys, CUE commands we do not use). Every reader error names the
//! format and the 1-based line, so a producer can fix the file without guessing.
//!
//! Plain description text ([`Format::Text`]) is read by the show-notes parser in [`text`],
//! which also reports suspicious lines ([`text::ParseIssue`]); [`read_any`] returns them with
//! the chapters. [`timestamp`] is the strict timestamp reader the text formats share.

use crate::chapter::ChapterList;
use crate::time::Time;
use serde::{Deserialize, Serialize};
use std::fmt;
use std::str::FromStr;
use text::Parsed;

pub mod audacity;
pub mod audition;
pub(crate) mod common;
pub mod cue;
pub mod ffmetadata;
pub mod html;
pub mod json;
pub mod markers;
pub mod mp4chaps;
pub mod psc;
pub mod reaper;
pub mod text;
pub mod timestamp;
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
    /// Audacity label track export (`start<TAB>end<TAB>label`).
    Audacity,
    /// Adobe Audition marker list (tab-separated, `Name Start Duration …`).
    Audition,
    /// REAPER Region/Marker Manager CSV (`#,Name,Start,End,Length`).
    Reaper,
    /// Plain description text / show notes.
    Text,
    /// An HTML fragment of linked timestamps (written for descriptions; read as text).
    Html,
}

impl Format {
    /// Every format, in the order help texts and conversion matrices list them.
    pub const ALL: [Format; 11] = [
        Format::Json,
        Format::Psc,
        Format::Vtt,
        Format::Ffmetadata,
        Format::Mp4chaps,
        Format::Cue,
        Format::Audacity,
        Format::Audition,
        Format::Reaper,
        Format::Text,
        Format::Html,
    ];

    /// This format's row of [`FORMATS`].
    pub fn spec(self) -> &'static FormatSpec {
        // FORMATS lists the variants in declaration order (checked by a test).
        &FORMATS[self as usize]
    }

    /// The name used on the command line and in messages (`json`, `psc`, …); [`FromStr`]
    /// accepts it back.
    pub fn name(self) -> &'static str {
        self.spec().name
    }

    /// The conventional file extension, without the leading dot, for naming output files
    /// next to the audio. mp4chaps uses `chapters.txt` because that is the name mp4v2's
    /// `mp4chaps -i` looks for (`episode.chapters.txt`).
    pub fn extension(self) -> &'static str {
        self.spec().file_suffixes.first().copied().unwrap_or("txt")
    }

    /// Guesses the format from a file name's extension, for `-o out.vtt` style output
    /// paths (the longest matching suffix wins, so `ep.chapters.txt` is mp4chaps). Returns
    /// `None` when the name says nothing useful; content detection ([`detect`]) is the
    /// better tool for input.
    pub fn from_file_name(name: &str) -> Option<Format> {
        let lower = name.to_ascii_lowercase();
        FORMATS
            .iter()
            .flat_map(|spec| spec.file_suffixes.iter().map(move |s| (spec.format, *s)))
            .filter(|(_, suffix)| {
                lower
                    .strip_suffix(suffix)
                    .is_some_and(|rest| rest.ends_with('.'))
            })
            .max_by_key(|(_, suffix)| suffix.len())
            .map(|(format, _)| format)
    }
}

/// One row of the format table: everything the rest of chapmark needs to know about a
/// chapter-file format.
#[derive(Debug)]
pub struct FormatSpec {
    /// The variant this row describes.
    pub format: Format,
    /// Name on the command line and in messages.
    pub name: &'static str,
    /// Other names accepted on the command line.
    pub aliases: &'static [&'static str],
    /// File-name suffixes (without the leading dot) that say "this format"; the first is the
    /// conventional one used when naming output files.
    pub file_suffixes: &'static [&'static str],
    /// Sidecar suffixes tried next to `EP.mp3`, in priority order within the format.
    pub sidecar_suffixes: &'static [&'static str],
    /// Recognises the format from content (BOM and leading whitespace already stripped);
    /// `None` for the fallback, [`Format::Text`].
    pub sniff: Option<fn(&str) -> bool>,
    /// The reader.
    pub read: fn(&str) -> Result<ChapterList, FormatError>,
    /// The writer.
    pub write: fn(&ChapterList, &WriteOptions) -> Vec<u8>,
}

/// Every format, in [`Format::ALL`] order, which is also the sidecar priority: dedicated
/// chapter files first (most specific, least ambiguous), then show notes. Detection tries the
/// sniffers in this order too (they are mutually exclusive; text is the fallback).
pub static FORMATS: [FormatSpec; 11] = [
    FormatSpec {
        format: Format::Json,
        name: "json",
        aliases: &[],
        file_suffixes: &["json"],
        sidecar_suffixes: &[".chapters.json", ".json"],
        sniff: Some(json::sniff),
        read: json::read,
        write: json::write,
    },
    FormatSpec {
        format: Format::Psc,
        name: "psc",
        aliases: &["podlove"],
        file_suffixes: &["psc", "xml"],
        sidecar_suffixes: &[".psc"],
        sniff: Some(psc::sniff),
        read: psc::read,
        write: psc::write,
    },
    FormatSpec {
        format: Format::Vtt,
        name: "vtt",
        aliases: &["webvtt"],
        file_suffixes: &["vtt", "webvtt"],
        sidecar_suffixes: &[".chapters.vtt", ".vtt"],
        sniff: Some(vtt::sniff),
        read: vtt::read,
        write: vtt::write,
    },
    FormatSpec {
        format: Format::Ffmetadata,
        name: "ffmetadata",
        aliases: &["ffmeta"],
        file_suffixes: &["ffmetadata", "ffmeta"],
        sidecar_suffixes: &[".ffmetadata"],
        sniff: Some(ffmetadata::sniff),
        read: ffmetadata::read,
        write: ffmetadata::write,
    },
    FormatSpec {
        format: Format::Mp4chaps,
        name: "mp4chaps",
        aliases: &[],
        file_suffixes: &["chapters.txt", "mp4chaps"],
        sidecar_suffixes: &[".mp4chaps", ".chapters.txt"],
        sniff: Some(mp4chaps::sniff),
        read: mp4chaps::read,
        write: mp4chaps::write,
    },
    FormatSpec {
        format: Format::Cue,
        name: "cue",
        aliases: &[],
        file_suffixes: &["cue"],
        sidecar_suffixes: &[".cue"],
        sniff: Some(cue::sniff),
        read: cue::read,
        write: cue::write,
    },
    FormatSpec {
        format: Format::Audacity,
        name: "audacity",
        aliases: &["labels"],
        file_suffixes: &["audacity.txt", "labels.txt"],
        sidecar_suffixes: &[".labels.txt", ".audacity.txt"],
        sniff: Some(audacity::sniff),
        read: audacity::read,
        write: audacity::write,
    },
    FormatSpec {
        format: Format::Audition,
        name: "audition",
        aliases: &[],
        file_suffixes: &["audition.csv", "markers.csv"],
        sidecar_suffixes: &[".markers.csv", ".audition.csv"],
        sniff: Some(audition::sniff),
        read: audition::read,
        write: audition::write,
    },
    FormatSpec {
        format: Format::Reaper,
        name: "reaper",
        aliases: &[],
        file_suffixes: &["reaper.csv", "regions.csv"],
        sidecar_suffixes: &[".regions.csv", ".reaper.csv"],
        sniff: Some(reaper::sniff),
        read: reaper::read,
        write: reaper::write,
    },
    FormatSpec {
        format: Format::Text,
        name: "text",
        aliases: &["txt"],
        file_suffixes: &["txt", "md"],
        sidecar_suffixes: &[".txt", ".md"],
        sniff: None,
        read: text::read,
        write: text::write,
    },
    FormatSpec {
        format: Format::Html,
        name: "html",
        aliases: &["htm"],
        file_suffixes: &["html", "htm"],
        sidecar_suffixes: &[],
        sniff: None,
        read: html::read,
        write: html::write,
    },
];

/// Sidecar suffixes tried for `EP.mp3`, in priority order across all formats.
pub fn sidecar_suffixes() -> impl Iterator<Item = &'static str> {
    FORMATS
        .iter()
        .flat_map(|spec| spec.sidecar_suffixes.iter().copied())
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
    "unknown chapter format `{0}` (expected json, psc, vtt, ffmetadata, mp4chaps, cue, audacity, audition, reaper, text or html)"
)]
pub struct UnknownFormat(pub String);

/// Parses the names of [`Format::name`] case-insensitively, plus a few obvious aliases
/// (`webvtt`, `podlove`, `ffmeta`, `txt`).
impl FromStr for Format {
    type Err = UnknownFormat;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let lower = s.trim().to_ascii_lowercase();
        FORMATS
            .iter()
            .find(|spec| spec.name == lower || spec.aliases.contains(&lower.as_str()))
            .map(|spec| spec.format)
            .ok_or_else(|| UnknownFormat(s.to_string()))
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
}

impl FormatError {
    /// The format whose reader failed.
    pub fn format(&self) -> Format {
        match self {
            FormatError::Line { format, .. }
            | FormatError::Empty { format }
            | FormatError::TooManyChapters { format, .. } => *format,
        }
    }

    /// The 1-based line the error is about, when there is one.
    pub fn line(&self) -> Option<usize> {
        match self {
            FormatError::Line { line, .. } | FormatError::TooManyChapters { line, .. } => {
                Some(*line)
            }
            FormatError::Empty { .. } => None,
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
    FORMATS
        .iter()
        .find(|spec| spec.sniff.is_some_and(|sniff| sniff(body)))
        .map_or(Format::Text, |spec| spec.format)
}

/// Reads a chapter file of the given format.
///
/// Every chapter gets an [`Origin`](crate::chapter::Origin) with its 1-based line and the
/// timestamp as written. [`Format::Text`] keeps the chapters only; [`read_any`] and
/// [`text::parse_shownotes`] also return the suspicious lines.
pub fn read(format: Format, text: &str) -> Result<ChapterList, FormatError> {
    (format.spec().read)(text)
}

/// Writes `list` in the given format. Deterministic: the same list and options always give
/// the same bytes (UTF-8, `\n` line endings, trailing newline).
pub fn write(format: Format, list: &ChapterList, opts: &WriteOptions) -> Vec<u8> {
    (format.spec().write)(list, opts)
}

/// Why a chapters input could not be read at all (as opposed to [`text::ParseIssue`]s, which are
/// reported as diagnostics).
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum ReadError {
    /// The bytes are not text we can decode (empty, binary, unknown encoding).
    #[error(transparent)]
    Decode(#[from] text::NotesError),
    /// A chapter file that is not well-formed.
    #[error(transparent)]
    Format(#[from] FormatError),
}

impl ReadError {
    /// The 1-based line the error is about, when there is one.
    pub fn line(&self) -> Option<usize> {
        match self {
            ReadError::Format(e) => e.line(),
            ReadError::Decode(_) => None,
        }
    }
}

/// Reads chapters from any supported text — show notes or a chapter file — so every command
/// accepts whatever the producer has. The format is detected from the content unless `from`
/// forces one; the detected format is returned for messages.
pub fn read_any(bytes: &[u8], from: Option<Format>) -> Result<(Format, Parsed), ReadError> {
    let text = text::decode(bytes)?;
    let fmt = from.unwrap_or_else(|| detect(&text));
    let parsed = match fmt {
        Format::Text | Format::Html => text::parse_shownotes(&text),
        other => Parsed {
            list: read(other, &text)?,
            ..Parsed::default()
        },
    };
    log::debug!(
        "read {} chapters as {} ({} issues)",
        parsed.list.len(),
        fmt.name(),
        parsed.issues.len()
    );
    Ok((fmt, parsed))
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
    fn text_is_read_by_the_shownotes_parser() {
        let list = read(Format::Text, "01:40 Intro").unwrap();
        assert_eq!(list.chapters.len(), 1);
        assert_eq!(list.chapters[0].title, "Intro");
        assert_eq!(list.chapters[0].start, Time::from_millis(100_000));
    }

    #[test]
    fn table_rows_match_variants() {
        for (i, f) in Format::ALL.into_iter().enumerate() {
            assert_eq!(FORMATS[i].format, f);
            assert_eq!(f.spec().format, f);
        }
        assert_eq!(
            Format::from_file_name("ep.mp4chaps"),
            Some(Format::Mp4chaps)
        );
    }

    #[test]
    fn errors_name_format_and_line() {
        let e = FormatError::at(Format::Psc, 7, "missing start attribute");
        assert_eq!(e.to_string(), "psc line 7: missing start attribute");
        assert_eq!(e.line(), Some(7));
        assert_eq!(FormatError::at(Format::Cue, 0, "x").line(), Some(1));
    }
}
