//! Text → chapters: decoding whatever bytes people save notes in, and parsing show notes.
//!
//! Show notes are prose with timestamps in them, so parsing them yields not only chapters but
//! also [`ParseIssue`]s: lines that look like chapters but carry an impossible timestamp
//! (`12:75`). Those are not fatal here; [`crate::validate`] turns them into diagnostics so a
//! producer sees every problem at once.
//!
//! * [`decode`]: bytes (UTF-8 ± BOM, UTF-16 with BOM, Shift_JIS/CP932) → text with LF line ends;
//! * [`parse_shownotes`]: text → [`Parsed`] (chapters with their source line and timestamp as
//!   written, plus issues); [`parse_shownotes_bytes`] does both;
//! * [`parse_timestamp`]: the one strict timestamp reader every text format shares.

use crate::chapter::ChapterList;
use std::fmt;

mod decode;
mod html;
mod markdown;
pub(crate) mod shownotes;
pub mod timestamp;

pub use decode::{NotesError, decode};
pub use shownotes::parse_shownotes;
pub use timestamp::{TimestampError, parse_timestamp};

/// Decodes notes bytes and parses them in one step: what the CLI does with a notes file.
pub fn parse_shownotes_bytes(bytes: &[u8]) -> Result<Parsed, NotesError> {
    decode(bytes).map(|text| parse_shownotes(&text))
}

/// The result of reading chapter text: the chapters plus any suspicious lines.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Parsed {
    /// Chapters in source order.
    pub list: ChapterList,
    /// Lines that looked like chapters but could not be read as one ([`IssueKind::BadTimestamp`],
    /// no chapter made), or chapters whose timestamp is doubtful
    /// ([`IssueKind::AmbiguousTimestamp`], the chapter is in `list` with the strict reading).
    /// In line order.
    pub issues: Vec<ParseIssue>,
    /// What the reader guessed or concluded, for the producer to know (never an error): a
    /// title taken from the line under a time that stands alone ([`NoteKind::GuessedTitle`]),
    /// and, when no chapter was found, what the notes contain instead
    /// ([`NoteKind::NoChapters`]), which [`Parsed::validate`] puts into the `too-few` hint.
    pub notes: Vec<ParseNote>,
}

/// Something the reader wants the producer to know that is not a problem with a line.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ParseNote {
    /// 1-based line number; `0` for the whole text.
    pub line: usize,
    /// What kind of note.
    pub kind: NoteKind,
    /// A lowercase, human sentence (without the line prefix).
    pub message: String,
}

/// The kinds of [`ParseNote`].
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum NoteKind {
    /// A time stood alone on its line; the title was taken from the following text.
    GuessedTitle,
    /// No chapter was found; the message says what the notes contain instead.
    NoChapters,
}

impl Parsed {
    /// Validates the chapters like [`crate::validate::validate`], and when there are none,
    /// replaces the generic `too-few` hint with what the reader saw in the notes (how many
    /// lines, how many start with a time, times inside sentences, …).
    pub fn validate(&self, ctx: &crate::validate::Context) -> Vec<crate::validate::Diagnostic> {
        let mut diags = crate::validate::validate(&self.list, &self.issues, ctx);
        if let Some(seen) = self.notes.iter().find(|n| n.kind == NoteKind::NoChapters) {
            for d in diags
                .iter_mut()
                .filter(|d| d.rule == crate::validate::Rule::TooFew && self.list.is_empty())
            {
                d.hint = Some(format!(
                    "{}; a chapter line starts with its time, e.g. `00:00 Intro`",
                    seen.message
                ));
            }
        }
        diags
    }
}

/// A line that looks like a chapter but whose timestamp cannot be trusted.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ParseIssue {
    /// 1-based line number.
    pub line: usize,
    /// The timestamp exactly as written.
    pub timestamp: String,
    /// What is wrong.
    pub kind: IssueKind,
    /// A lowercase, human sentence explaining it (without the line prefix).
    pub message: String,
}

/// The kinds of [`ParseIssue`].
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum IssueKind {
    /// A field out of range, e.g. `12:75` (seconds ≥ 60) — never silently carried over.
    BadTimestamp,
    /// A timestamp that can be read more than one way. The show-notes parser flags a
    /// two-part time (`1:10`) after a chapter at or past one hour when it goes backwards as
    /// minutes:seconds but not as hours:minutes (the producer probably meant `1:10:00`).
    /// Unlike [`IssueKind::BadTimestamp`], the chapter is still produced, read strictly as
    /// minutes:seconds, so validation reports the resulting order problem too.
    AmbiguousTimestamp,
}

/// `line 14: seconds 75 out of range in 12:75`: the form used in reports.
impl fmt::Display for ParseIssue {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "line {}: {}", self.line, self.message)
    }
}

use crate::format::{self, Format, FormatError};

/// Why a chapters input could not be read at all (as opposed to [`ParseIssue`]s, which are
/// reported as diagnostics).
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum ReadError {
    /// The bytes are not text we can decode (empty, binary, unknown encoding).
    #[error(transparent)]
    Decode(#[from] NotesError),
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
pub fn read(bytes: &[u8], from: Option<Format>) -> Result<(Format, Parsed), ReadError> {
    let text = decode(bytes)?;
    let fmt = from.unwrap_or_else(|| format::detect(&text));
    let parsed = match fmt {
        Format::Text => parse_shownotes(&text),
        other => Parsed {
            list: format::read(other, &text)?,
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
