//! The library API: what the `chapmark` command does, as functions.
//!
//! [`probe`], [`read_chapters`], [`read_embedded`], [`validate`], [`write()`] and [`strip`]
//! (re-exported at the crate root) take the same advisory lock, recover from an interrupted
//! earlier write, validate and plan exactly as the CLI does; every failure is one [`Error`]
//! with an [`ErrorKind`]. The steps they are made of ([`embed`]) are public too, for callers
//! that want to look at a plan before applying it, as `write --dry-run` does.
//!
//! ```
//! # fn main() -> Result<(), Box<dyn std::error::Error>> {
//! use chapmark::validate::{Profile, Severity};
//!
//! // A copy of a fixture, since writing changes the file.
//! let dir = tempfile::tempdir()?;
//! let audio = dir.path().join("episode.mp3");
//! std::fs::copy(
//!     concat!(env!("CARGO_MANIFEST_DIR"), "/fixtures/mp3/notag.mp3"),
//!     &audio,
//! )?;
//!
//! let info = chapmark::probe(&audio)?;
//! let notes = b"00:00 Intro\n00:01 The news\n00:02 Outro\n";
//! let chapters = chapmark::read_chapters(&notes[..])?;
//! let diagnostics = chapmark::validate(&chapters.list, &info, &Profile::Default);
//! assert!(diagnostics.iter().all(|d| d.severity != Severity::Error));
//!
//! let written = chapmark::write(&audio, &chapters.list, &chapmark::EmbedOptions::default())?;
//! assert!(written.bytes > 0);
//! let back = chapmark::read_embedded(&audio)?;
//! assert_eq!(back.len(), 3);
//! assert_eq!(back.chapters[1].title, "The news");
//!
//! chapmark::strip(&audio)?;
//! assert!(chapmark::read_embedded(&audio)?.is_empty());
//! # Ok(())
//! # }
//! ```

use crate::chapter::ChapterList;
use crate::format::text::ParseIssue;
use crate::format::{self, Format};
use crate::probe::ProbeInfo;
use crate::report;
use crate::validate::{self as rules, Context, Diagnostic, Profile};
use std::io::Read;
use std::path::Path;

pub mod embed;
mod error;
pub mod lock;

pub use embed::{EmbedOptions, PlanKind, Written};
pub use error::{Error, ErrorKind};
use lock::{Access, prepare_audio};

/// Largest chapters file [`read_chapters`] reads: far above any real one, small enough that
/// a mistaken path to an audio file or a device cannot exhaust memory.
pub const MAX_TEXT_INPUT: u64 = 16 * 1024 * 1024;

/// Measures an audio file: container, codec, and the exact playable length in samples.
///
/// Waits for a chapmark process writing the file and finishes an interrupted earlier write
/// first, so the length is never measured from a half-written file.
///
/// ```
/// let fixture = concat!(env!("CARGO_MANIFEST_DIR"), "/fixtures/mp3/notag.mp3");
/// let info = chapmark::probe(fixture)?;
/// assert_eq!(info.container.name(), "mp3");
/// assert!(info.duration.samples > 0);
/// # Ok::<(), chapmark::Error>(())
/// ```
pub fn probe(path: impl AsRef<Path>) -> Result<ProbeInfo, Error> {
    let path = path.as_ref();
    let _guard = prepare_audio(path, Access::Read)?;
    probe_unlocked(path)
}

fn probe_unlocked(path: &Path) -> Result<ProbeInfo, Error> {
    crate::probe::probe_path(path).map_err(|e| Error::wrap(ErrorKind::Probe, path, e))
}

/// Where [`read_chapters`] reads from: a file, or bytes already in memory.
#[derive(Debug, Clone, Copy)]
pub enum Input<'a> {
    /// A show-notes or chapter file.
    Path(&'a Path),
    /// The bytes of one.
    Bytes(&'a [u8]),
}

impl<'a> From<&'a Path> for Input<'a> {
    fn from(p: &'a Path) -> Self {
        Input::Path(p)
    }
}

impl<'a> From<&'a std::path::PathBuf> for Input<'a> {
    fn from(p: &'a std::path::PathBuf) -> Self {
        Input::Path(p)
    }
}

impl<'a> From<&'a [u8]> for Input<'a> {
    fn from(b: &'a [u8]) -> Self {
        Input::Bytes(b)
    }
}

impl<'a> From<&'a Vec<u8>> for Input<'a> {
    fn from(b: &'a Vec<u8>) -> Self {
        Input::Bytes(b)
    }
}

/// Chapters read from text: the list, the format they were read as, and the lines that
/// looked like chapters but could not be trusted (reported by [`rules::validate`]).
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct Chapters {
    /// The format detected from the content.
    pub format: Format,
    /// The chapters in source order.
    pub list: ChapterList,
    /// Suspicious lines (show notes only).
    pub issues: Vec<ParseIssue>,
}

/// Reads chapters from show notes or any chapter file (Podcasting 2.0 JSON, PSC, WebVTT,
/// ffmetadata, mp4chaps, CUE), detecting the format from the content.
///
/// ```
/// let read = chapmark::read_chapters(&b"WEBVTT\n\n00:00:00.000 --> 00:01:00.000\nIntro\n"[..])?;
/// assert_eq!(read.format, chapmark::format::Format::Vtt);
/// assert_eq!(read.list.chapters[0].title, "Intro");
/// # Ok::<(), chapmark::Error>(())
/// ```
pub fn read_chapters<'a>(input: impl Into<Input<'a>>) -> Result<Chapters, Error> {
    let (name, owned);
    let bytes: &[u8] = match input.into() {
        Input::Bytes(b) => {
            name = Path::new("<bytes>");
            b
        }
        Input::Path(p) => {
            name = p;
            owned = read_capped(p)?;
            &owned
        }
    };
    let (format, parsed) = format::read_any(bytes, None).map_err(|e| {
        let message = format!("{}: {e}", name.display());
        Error::new(ErrorKind::Chapters, name, message)
    })?;
    Ok(Chapters {
        format,
        list: parsed.list,
        issues: parsed.issues,
    })
}

fn read_capped(path: &Path) -> Result<Vec<u8>, Error> {
    let fail = |e: std::io::Error| {
        let message = format!("{}: {e}", path.display());
        Error::new(ErrorKind::Chapters, path, message)
    };
    let mut buf = Vec::new();
    std::fs::File::open(path)
        .map_err(fail)?
        .take(MAX_TEXT_INPUT + 1)
        .read_to_end(&mut buf)
        .map_err(fail)?;
    if buf.len() as u64 > MAX_TEXT_INPUT {
        let message = format!(
            "{}: larger than {} MiB; this does not look like a chapters file",
            path.display(),
            MAX_TEXT_INPUT / 1024 / 1024
        );
        return Err(Error::new(ErrorKind::Chapters, path, message));
    }
    Ok(buf)
}

/// The chapters embedded in an audio file (ID3v2 `CHAP`/`CTOC` in MP3, Nero or QuickTime
/// chapters in MP4), under the same lock and recovery as [`probe`].
pub fn read_embedded(path: impl AsRef<Path>) -> Result<ChapterList, Error> {
    let path = path.as_ref();
    let _guard = prepare_audio(path, Access::Read)?;
    let info = probe_unlocked(path)?;
    embed::read_embedded_of(path, info.container)
}

/// Checks `list` against the measured audio and the profile's rules, with the limits of the
/// file's container. Every problem is returned at once, sorted; use
/// [`report::passed`] to decide.
pub fn validate(list: &ChapterList, info: &ProbeInfo, profile: &Profile) -> Vec<Diagnostic> {
    rules::validate(list, &[], &context(info, *profile, None))
}

fn context(info: &ProbeInfo, profile: Profile, min_chapter: Option<crate::Time>) -> Context {
    Context {
        duration: Some(info.duration),
        profile,
        target: embed::target_for(info.container),
        min_chapter,
        stream_changes: rules::stream_changes(info),
    }
}

/// Writes `list` into the audio file at `path` as the CLI's `write` does: takes the lock,
/// finishes an interrupted earlier write, measures the audio, adds the intro chapter if
/// asked, validates (refusing with [`ErrorKind::Invalid`] and the diagnostics, nothing
/// written), plans the smallest change and applies it crash-safely.
pub fn write(
    path: impl AsRef<Path>,
    list: &ChapterList,
    options: &EmbedOptions,
) -> Result<Written, Error> {
    let path = path.as_ref();
    let _guard = prepare_audio(path, Access::Write)?;
    let probe_opts = crate::probe::ProbeOptions::for_write(options.verify);
    let info = crate::probe::probe_path_with(path, probe_opts)
        .map_err(|e| Error::wrap(ErrorKind::Probe, path, e))?;
    if !embed::holds_chapters(info.container) {
        return Err(embed::unsupported(path, info.container));
    }
    let mut list = list.clone();
    embed::add_intro(&mut list, options.intro.as_deref());
    let diagnostics = validate_for_write(path, &info, &list, options)?;
    if !report::passed(&diagnostics, options.deny_warnings) {
        return Err(Error::invalid(path, diagnostics));
    }
    let plan = embed::plan_write(path, &info, &list, options)?;
    let written = embed::apply(path, options.output.as_deref(), &plan)?;
    Ok(Written {
        diagnostics,
        ..written
    })
}

/// The diagnostics [`write()`] decides on, without writing: `list` (intro already added)
/// checked against the probed audio with the profile's rules, the limits of the forms the
/// write would store, and the file's own rules (tag version, existing frames). An editor
/// shows these live, so the refusal on Save never comes as a surprise. Sorted as `check`
/// prints them: whole-list diagnostics first, then by line and chapter.
pub fn validate_for_write(
    path: &Path,
    info: &ProbeInfo,
    list: &ChapterList,
    options: &EmbedOptions,
) -> Result<Vec<Diagnostic>, Error> {
    let ctx = context(info, options.profile, options.min_chapter);
    // The limits of the forms actually written (a QuickTime-only MP4 has no 255 limit).
    let limits = embed::write_limits(info.container, options);
    let mut diagnostics = rules::validate_with(list, &[], &ctx, &limits);
    diagnostics.extend(embed::file_diagnostics(path, info, list, options)?);
    diagnostics.sort_by_key(|d| (d.line.is_some() || d.chapter.is_some(), d.line, d.chapter));
    Ok(diagnostics)
}

/// Removes every chapter from the audio file at `path`, in place, as the CLI's `strip` does.
pub fn strip(path: impl AsRef<Path>) -> Result<Written, Error> {
    let path = path.as_ref();
    let _guard = prepare_audio(path, Access::Write)?;
    let info = probe_unlocked(path)?;
    let plan = embed::plan_strip(path, &info)?;
    embed::apply(path, None, &plan)
}
