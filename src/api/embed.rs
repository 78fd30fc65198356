//! Chapters into, out of and off audio files: the per-container dispatch and the steps the
//! CLI's `write`, `show`, `strip`, `check` and `batch` share with [`super::write`].
//!
//! Every `match` on [`Container`] for chapter I/O is in this file; adding a container that
//! holds chapters means one arm in each of [`plan_write`], [`plan_strip`], [`read_embedded_of`]
//! and [`target_for`].

use super::{Error, ErrorKind};
use crate::chapter::ChapterList;
use crate::limits::MP4_HREF_URL_BYTES;
use crate::probe::{Container, ProbeInfo};
use crate::validate::{Diagnostic, Profile, Target};
use crate::write::mp4::Mp4Chapters;
use crate::write::{Plan, id3, mp4, safe};
use crate::{Chapter, Time};
use std::fmt;
use std::path::{Path, PathBuf};

/// How [`super::write`] writes chapters; the defaults are the CLI's.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
#[non_exhaustive]
pub struct EmbedOptions {
    /// The platform rules the chapters must meet.
    pub profile: Profile,
    /// Refuse to write when validation has warnings, not only errors.
    pub deny_warnings: bool,
    /// Overrides the profile's minimum chapter length.
    pub min_chapter: Option<Time>,
    /// Insert a chapter with this title at 0:00 when the first chapter starts later.
    pub intro: Option<String>,
    /// ID3v2 version for MP3 files (3 or 4); `None` keeps an existing v2.4 tag when ffmpeg
    /// can read every chapter in it, else v2.3.
    pub id3v2: Option<u8>,
    /// Write chapter descriptions (ID3 `TIT3`) for MP3 files.
    pub descriptions: bool,
    /// Which MP4 chapter forms to write.
    pub mp4_chapters: Mp4Chapters,
    /// Write to this file instead of changing the input in place.
    pub output: Option<PathBuf>,
}

/// How a plan was carried out.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum PlanKind {
    /// The file already held exactly this; nothing written.
    Unchanged,
    /// Nothing to change, but an output path was given: the input was copied there.
    Copied,
    /// Patched in place (same length).
    InPlace,
    /// Grown at its start in place (the tag got bigger; the audio was not copied).
    GrownInPlace,
    /// Written as a new file (renamed over the input, or to the output path).
    Rewritten,
}

impl PlanKind {
    /// The words used in the CLI's summary line (`in place`, `grown in place`, …).
    pub fn as_str(self) -> &'static str {
        match self {
            PlanKind::Unchanged => "unchanged",
            PlanKind::Copied => "copied",
            PlanKind::InPlace => "in place",
            PlanKind::GrownInPlace => "grown in place",
            PlanKind::Rewritten => "rewritten",
        }
    }
}

impl fmt::Display for PlanKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// What a write did.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct Written {
    /// How the plan was carried out.
    pub kind: PlanKind,
    /// Bytes written to disk.
    pub bytes: u64,
    /// Warnings validation found (from [`super::write`]; empty from [`apply`]).
    pub diagnostics: Vec<Diagnostic>,
}

/// Whether chapmark writes and reads chapters in this container.
pub fn holds_chapters(container: Container) -> bool {
    target_for(container).is_some()
}

/// Where chapters of this container are written, for the container-specific rules; `None`
/// for containers chapmark does not write chapters into.
pub fn target_for(container: Container) -> Option<Target> {
    match container {
        Container::Mp3 => Some(Target::Id3),
        Container::Mp4 => Some(Target::Mp4),
        _ => None,
    }
}

/// The validation target of a write with `kinds`: an M4A that gets only a chapter track has
/// none of the `chpl`'s limits.
pub fn write_target(container: Container, kinds: Mp4Chapters) -> Option<Target> {
    match (target_for(container), kinds) {
        (Some(Target::Mp4), Mp4Chapters::QuickTime) => Some(Target::Mp4Track),
        (t, _) => t,
    }
}

/// The rules about the file a write of `list` produces: `extension-mismatch`, and for an
/// MP3 whose tag will be ID3v2.4, `ffmpeg-drops-chapter`.
pub fn file_diagnostics(
    audio: &Path,
    info: &ProbeInfo,
    list: &ChapterList,
    opts: &EmbedOptions,
) -> Result<Vec<Diagnostic>, Error> {
    let mut out: Vec<Diagnostic> =
        crate::validate::extension_mismatch(audio, info.container, opts.profile)
            .into_iter()
            .collect();
    if info.container == Container::Mp3 {
        let id3_opts = id3::Id3Options {
            version: opts.id3v2,
            descriptions: opts.descriptions,
            ..id3::Id3Options::default()
        };
        let version = id3::write_version(audio, list, &id3_opts)
            .map_err(|e| Error::wrap(ErrorKind::Write, audio, e))?;
        if version == 4 {
            out.extend(crate::validate::ffmpeg_drops_chapter(
                list,
                opts.descriptions,
                opts.profile,
            ));
        }
    }
    Ok(out)
}

/// The error for a container that cannot take chapters.
pub fn unsupported(audio: &Path, container: Container) -> Error {
    Error::new(
        ErrorKind::Unsupported,
        audio,
        format!(
            "{}: writing chapters into {} files is not supported (mp3 and m4a/m4b/mp4 are)",
            audio.display(),
            container.name()
        ),
    )
}

/// Plans writing `list` into `audio` (already probed as `info`), as the container will
/// store it ([`as_stored`]).
pub fn plan_write(
    audio: &Path,
    info: &ProbeInfo,
    list: &ChapterList,
    opts: &EmbedOptions,
) -> Result<Plan, Error> {
    let list = &as_stored(list, info.container, opts.mp4_chapters);
    match info.container {
        Container::Mp3 => {
            let id3_opts = id3::Id3Options {
                version: opts.id3v2,
                descriptions: opts.descriptions,
                ..id3::Id3Options::default()
            };
            id3::plan_write(audio, list, info.duration, &id3_opts)
                .map_err(|e| Error::wrap(ErrorKind::Write, audio, e))
        }
        Container::Mp4 => {
            let mp4_opts = mp4::Mp4Options {
                kinds: opts.mp4_chapters,
                ..mp4::Mp4Options::default()
            };
            mp4::plan_write(audio, list, info.duration, &mp4_opts)
                .map_err(|e| Error::wrap(ErrorKind::Write, audio, e))
        }
        other => Err(unsupported(audio, other)),
    }
}

/// Plans removing every chapter from `audio` (already probed as `info`).
pub fn plan_strip(audio: &Path, info: &ProbeInfo) -> Result<Plan, Error> {
    match info.container {
        Container::Mp3 => {
            id3::plan_strip(audio).map_err(|e| Error::wrap(ErrorKind::Write, audio, e))
        }
        Container::Mp4 => {
            mp4::plan_strip(audio).map_err(|e| Error::wrap(ErrorKind::Write, audio, e))
        }
        other => Err(unsupported(audio, other)),
    }
}

/// The chapters embedded in `path`, a file of `container` (no lock taken: see
/// [`super::read_embedded`]).
pub fn read_embedded_of(path: &Path, container: Container) -> Result<ChapterList, Error> {
    match container {
        Container::Mp3 => {
            id3::read_chapters(path).map_err(|e| Error::wrap(ErrorKind::Write, path, e))
        }
        Container::Mp4 => {
            mp4::read_chapters(path).map_err(|e| Error::wrap(ErrorKind::Write, path, e))
        }
        other => Err(Error::new(
            ErrorKind::Unsupported,
            path,
            format!(
                "{}: reading chapters from {} files is not supported (mp3 and m4a/mp4 are)",
                path.display(),
                other.name()
            ),
        )),
    }
}

/// The chapters as the container will hold them: URLs in the ASCII form both writers store
/// ([`Link::ascii`](crate::Link::ascii): IDNA host, percent-encoded path), and none where the
/// container has no room for them — in MP4 files when only the Nero list (no URL field) is
/// written, or when the URL is longer than an `href` box holds (validation has already warned
/// `url-too-long`; the chapter is written without its link rather than failing the whole
/// write). What is planned is exactly what `write --dry-run` prints.
pub fn as_stored(list: &ChapterList, container: Container, kinds: Mp4Chapters) -> ChapterList {
    let mut stored = list.clone();
    let mp4 = container == Container::Mp4;
    for c in &mut stored.chapters {
        let Some(link) = &mut c.link else { continue };
        // A URL that is not absolute http(s) never gets here through `write` (validation
        // rejects it); left as written, the writer reports it.
        if let Ok(ascii) = link.ascii() {
            link.url = ascii;
        }
        if mp4 && (kinds == Mp4Chapters::Nero || link.url.len() > MP4_HREF_URL_BYTES) {
            c.link = None;
        }
    }
    stored
}

/// Inserts an intro chapter at 0:00 when the first listed chapter starts later.
pub fn add_intro(list: &mut ChapterList, title: Option<&str>) {
    let Some(title) = title else { return };
    if list.chapters.first().is_some_and(|c| c.start > Time::ZERO) {
        list.chapters.insert(0, Chapter::new(Time::ZERO, title));
    }
}

/// Applies a plan in place or to `out`. An `out` that names the input itself (or a link to
/// it) is an in-place write, so it keeps the input's permissions and links like one.
pub fn apply(audio: &Path, out: Option<&Path>, plan: &Plan) -> Result<Written, Error> {
    let out = out.filter(|o| !same_target(audio, o));
    let kind = match (plan, out) {
        (Plan::Unchanged, None) => PlanKind::Unchanged,
        (Plan::Unchanged, Some(_)) => PlanKind::Copied,
        (Plan::Patch(_), None) => PlanKind::InPlace,
        (Plan::Insert { .. }, None) => PlanKind::GrownInPlace,
        (Plan::Patch(_) | Plan::Insert { .. }, Some(_)) | (Plan::Rebuild(_), _) => {
            PlanKind::Rewritten
        }
    };
    let bytes = match out {
        Some(out) => safe::apply_to(audio, out, plan),
        None => safe::apply(audio, plan),
    }
    .map_err(|e| Error::wrap(ErrorKind::Write, audio, e))?;
    Ok(Written {
        kind,
        bytes,
        diagnostics: Vec::new(),
    })
}

/// Whether `out` is the same file as `audio` (both exist and resolve to one path).
pub fn same_target(audio: &Path, out: &Path) -> bool {
    match (safe::resolve_target(audio), safe::resolve_target(out)) {
        (Ok(a), Ok(b)) => a == b,
        _ => false,
    }
}
