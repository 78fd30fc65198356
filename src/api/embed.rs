//! Chapters into, out of and off audio files: the per-container dispatch and the steps the
//! CLI's `write`, `show`, `strip`, `check` and `batch` share with [`super::write`].
//!
//! Every `match` on [`Container`] for chapter I/O is in this file; adding a container that
//! holds chapters means one arm in each of [`plan_write`], [`plan_strip`], [`read_embedded_of`]
//! and [`target_for`].

use super::{Error, ErrorKind};
use crate::chapter::ChapterList;
use crate::container::mp4::Mp4Chapters;
use crate::container::{self, ContainerError, PlanOptions, id3v2, mp4};
use crate::limits::MP4_HREF_URL_BYTES;
use crate::probe::{Container, ProbeInfo};
use crate::validate::{Diagnostic, Profile, Target};
use crate::write::Plan;
use crate::write::apply as safe;
use crate::{Chapter, Time};
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
    /// Measure an MP3 by walking every frame even when its LAME/Xing header proves the
    /// length (see [`crate::probe::ProbeOptions`]); the CLI's `--verify`.
    pub verify: bool,
}

/// How a plan was carried out (`unchanged`, `in place`, `grown in place`, `rewritten`, …).
pub use crate::write::apply::Applied as PlanKind;

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
        Container::Flac | Container::Ogg => Some(Target::Vorbis),
        _ => None,
    }
}

/// The limits of the forms a write with `opts` produces (a QuickTime-only MP4 has no 255
/// limit).
pub fn write_limits(container: Container, opts: &EmbedOptions) -> crate::validate::Limits {
    crate::validate::Limits::from_capabilities(&container.capabilities(&plan_options(opts)))
}

/// The rules about the file a write of `list` produces: `extension-mismatch`, for an MP4
/// whose chapter images cannot all be stored `image-track-skipped`, and for an MP3 whose tag
/// will be ID3v2.4, `ffmpeg-drops-chapter`.
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
    let images = info.container.capabilities(&plan_options(opts)).images;
    if info.container == Container::Mp4 && images {
        out.extend(crate::validate::image_track_skipped(list));
    }
    if info.container == Container::Mp3 {
        let id3_opts = id3v2::Id3Options {
            version: opts.id3v2,
            descriptions: opts.descriptions,
            ..id3v2::Id3Options::default()
        };
        let version = id3v2::write_version(audio, list, &id3_opts)
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
            "{}: writing chapters into {} files is not supported (mp3, m4a/m4b/mp4, opus, ogg and flac are)",
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
    if !holds_chapters(info.container) {
        return Err(unsupported(audio, info.container));
    }
    let list = &as_stored(list, info.container, opts.mp4_chapters);
    container::plan_write(
        info.container,
        audio,
        list,
        info.duration,
        &plan_options(opts),
    )
    .map_err(container_err(audio))
}

/// The containers' options from the library's.
pub fn plan_options(opts: &EmbedOptions) -> PlanOptions {
    let id3 = id3v2::Id3Options {
        version: opts.id3v2,
        descriptions: opts.descriptions,
        ..id3v2::Id3Options::default()
    };
    let mp4 = mp4::Mp4Options {
        kinds: opts.mp4_chapters,
        ..mp4::Mp4Options::default()
    };
    PlanOptions::new(id3, mp4)
}

/// Wraps a container error: `unsupported` stays that kind, anything else is a write error.
fn container_err(path: &Path) -> impl FnOnce(ContainerError) -> Error + '_ {
    move |e| {
        let kind = match e {
            ContainerError::Unsupported { .. } => ErrorKind::Unsupported,
            _ => ErrorKind::Write,
        };
        Error::wrap(kind, path, e)
    }
}

/// Plans removing every chapter from `audio` (already probed as `info`).
pub fn plan_strip(audio: &Path, info: &ProbeInfo) -> Result<Plan, Error> {
    if !holds_chapters(info.container) {
        return Err(unsupported(audio, info.container));
    }
    container::plan_strip(info.container, audio).map_err(container_err(audio))
}

/// The chapters embedded in `path`, a file of `container` (no lock taken: see
/// [`super::read_embedded`]).
pub fn read_embedded_of(path: &Path, container: Container) -> Result<ChapterList, Error> {
    if !holds_chapters(container) {
        return Err(Error::new(
            ErrorKind::Unsupported,
            path,
            format!(
                "{}: reading chapters from {} files is not supported (mp3, m4a/mp4, opus, ogg and flac are)",
                path.display(),
                container.name()
            ),
        ));
    }
    container::read_chapters(container, path).map_err(container_err(path))
}

/// The chapters as the container will hold them: URLs in the ASCII form both writers store
/// ([`Link::ascii`](crate::Link::ascii): IDNA host, percent-encoded path), and none where the
/// container has no room for them — in MP4 files when only the Nero list (no URL field) is
/// written, or when the URL is longer than an `href` box holds (validation has already warned
/// `url-too-long`; the chapter is written without its link rather than failing the whole
/// write). Images are dropped where the container stores none. What is planned is exactly
/// what `write --dry-run` prints.
pub fn as_stored(list: &ChapterList, container: Container, kinds: Mp4Chapters) -> ChapterList {
    let mut stored = list.clone();
    let mp4 = container == Container::Mp4;
    let mp4_opts = mp4::Mp4Options {
        kinds,
        ..mp4::Mp4Options::default()
    };
    let opts = PlanOptions::new(id3v2::Id3Options::default(), mp4_opts);
    let images = container.capabilities(&opts).images;
    // MP4 stores images only as a whole track (every chapter, one type).
    let images = images
        && !(mp4
            && match mp4::images::storable(list) {
                Ok(()) => false,
                Err(why) => {
                    // `file_diagnostics` reports it to the user (`image-track-skipped`).
                    if let Some(why) = why {
                        log::debug!("{why}; writing the chapters without their images");
                    }
                    true
                }
            });
    for c in &mut stored.chapters {
        if !images {
            c.picture = None;
        }
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
    let kind = PlanKind::of(plan, out.is_some());
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

/// Applies the plans of several files in place as one group commit: the crash guarantee of
/// [`apply`], with two file-system syncs for the whole group instead of two or three per
/// file (see [`crate::write::apply::apply_group`]). One result per pair, in order; the files
/// must be distinct and locked for writing by the caller.
pub fn apply_group(items: &[(&Path, &Plan)]) -> Vec<Result<Written, Error>> {
    safe::apply_group(items)
        .into_iter()
        .zip(items)
        .map(|(result, (audio, plan))| {
            let bytes = result.map_err(|e| Error::wrap(ErrorKind::Write, audio, e))?;
            Ok(Written {
                kind: PlanKind::of(plan, false),
                bytes,
                diagnostics: Vec::new(),
            })
        })
        .collect()
}

/// Whether `out` is the same file as `audio` (both exist and resolve to one path).
pub fn same_target(audio: &Path, out: &Path) -> bool {
    match (safe::resolve_target(audio), safe::resolve_target(out)) {
        (Ok(a), Ok(b)) => a == b,
        _ => false,
    }
}
