//! Plain description text: the chapter lines a producer pastes into a Spotify, YouTube or
//! Apple Podcasts episode description.
//!
//! Reading is the show-notes parser: descriptions are prose with timestamps in them, so the
//! reader understands this output and much looser prose, and besides chapters it yields
//! [`ParseIssue`]s: lines that look like chapters but carry an impossible timestamp (`12:75`).
//! Those are not fatal here; [`crate::validate`](mod@crate::validate) turns them into diagnostics so a producer
//! sees every problem at once.
//!
//! * [`decode`]: bytes (UTF-8 ± BOM, UTF-16 with BOM, Shift_JIS/CP932) → text with LF line ends;
//! * [`parse_shownotes`]: text → [`Parsed`] (chapters with their source line and timestamp as
//!   written, plus issues); [`parse_shownotes_bytes`] does both; [`read`] keeps the chapters
//!   only (what [`crate::format::read`] returns for [`Format::Text`](super::Format::Text)).
//!
//! One chapter per line: `MM:SS Title`, or `H:MM:SS Title` for every line once any chapter
//! starts at or after one hour (one width for the whole list, so the column lines up and
//! platforms that compare formats see consistency). `.mmm` is added only to a time that is
//! not on a whole second. A URL follows the title after a space (`01:40 Title https://…`).
//! Titles are written as they are, except that a line break becomes a space (one chapter per
//! line is the whole contract).

use crate::chapter::ChapterList;
use std::fmt;

mod decode;
mod html;
mod markdown;
pub(crate) mod shownotes;
mod write;

// The shared strict timestamp reader; `shownotes` reaches it as `super::timestamp`.
use super::timestamp;

pub use super::timestamp::{TimestampError, parse_timestamp};
pub use decode::{NotesError, decode};
pub use shownotes::parse_shownotes;
pub use write::write;

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
        let diags = crate::validate::validate(&self.list, &self.issues, ctx);
        self.explain_too_few(diags)
    }

    /// [`Parsed::validate`] with explicit container limits.
    pub fn validate_with(
        &self,
        ctx: &crate::validate::Context,
        limits: &crate::validate::Limits,
    ) -> Vec<crate::validate::Diagnostic> {
        let diags = crate::validate::validate_with(&self.list, &self.issues, ctx, limits);
        self.explain_too_few(diags)
    }

    fn explain_too_few(
        &self,
        mut diags: Vec<crate::validate::Diagnostic>,
    ) -> Vec<crate::validate::Diagnostic> {
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

/// Reads description text as a chapter list, keeping the chapters only; use
/// [`parse_shownotes`] for the suspicious lines as well.
pub fn read(text: &str) -> Result<ChapterList, super::FormatError> {
    Ok(parse_shownotes(text).list)
}
