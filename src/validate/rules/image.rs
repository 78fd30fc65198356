//! Image rules: `image-not-jpeg-png`, `image-alpha`, `image-not-square`, `image-size`,
//! `image-too-large` on embedded images (read from their headers only), and `image-missing`
//! for image files that could not be loaded.

use crate::chapter::{Chapter, ChapterList};
use crate::image::{JPEG, LoadFailure, PNG, inspect};
use crate::validate::{Builder, Diagnostic, Profile, Rule, Severity, who};

/// Apple's chapter art is 3000 × 3000; it asks for at least 1400 on a side.
const MIN_SIDE: usize = 1400;
/// Largest side Apple accepts.
const MAX_SIDE: usize = 3000;
/// Every image is in every listener's download: past this it costs more than it shows.
const MAX_BYTES: usize = 512 * 1024;

/// The embedded image of a chapter, when it has one.
pub(super) fn picture(b: &mut Builder, (idx, ch): (usize, &Chapter)) {
    let Some(pic) = &ch.picture else { return };
    let w = who(idx, ch);
    let info = inspect(&pic.data);
    let at = Some((idx, ch));
    if info.mime.is_none() {
        b.push(
            Severity::Error,
            Rule::ImageNotJpegPng,
            at,
            format!("{w}: image is {}, not jpeg or png", pic.mime),
            Some("podcast apps show jpeg and png chapter images only".into()),
        );
        return;
    }
    if info.alpha {
        let severity = if b.profile == Profile::Apple {
            Severity::Error
        } else {
            Severity::Warning
        };
        b.push(
            severity,
            Rule::ImageAlpha,
            at,
            format!("{w}: png image has transparency"),
            Some("apple podcasts rejects transparent images; flatten it or save as jpeg".into()),
        );
    }
    if let Some((width, height)) = info.size {
        if width != height {
            b.push(
                Severity::Warning,
                Rule::ImageNotSquare,
                at,
                format!("{w}: image is {width} × {height}, not square"),
                Some("players crop chapter art to a square".into()),
            );
        }
        if width.min(height) < MIN_SIDE || width.max(height) > MAX_SIDE {
            b.push(
                Severity::Warning,
                Rule::ImageSize,
                at,
                format!(
                    "{w}: image is {width} × {height}; apple asks for {MIN_SIDE} to {MAX_SIDE} pixels a side"
                ),
                Some("use 3000 × 3000 (or at least 1400 × 1400)".into()),
            );
        }
    }
    if pic.data.len() > MAX_BYTES {
        b.push(
            Severity::Warning,
            Rule::ImageTooLarge,
            at,
            format!(
                "{w}: image is {} KiB; every listener downloads it with the episode",
                pic.data.len().div_ceil(1024)
            ),
            Some(format!(
                "keep chapter images under {} KiB",
                MAX_BYTES / 1024
            )),
        );
    }
}

/// `image-missing` errors for the chapters whose image file [`crate::image::load_images`]
/// could not read (`image-fetch-failed` for an image `fetch_images` could not fetch), naming
/// the chapter and its line.
pub fn missing_images(list: &ChapterList, failures: &[LoadFailure]) -> Vec<Diagnostic> {
    failures
        .iter()
        .filter_map(|f| {
            let ch = list.chapters.get(f.index)?;
            let (rule, hint) = if f.error.is_fetch() {
                (
                    Rule::ImageFetchFailed,
                    "check the url, or write without --fetch-images to keep it as a link",
                )
            } else {
                (
                    Rule::ImageMissing,
                    "image paths are relative to the chapter file's folder",
                )
            };
            Some(Diagnostic {
                severity: Severity::Error,
                rule,
                chapter: Some(f.index + 1),
                line: ch.line(),
                timestamp: Some(ch.written_timestamp()),
                message: format!("{}: {}", who(f.index + 1, ch), f.error),
                hint: Some(hint.into()),
            })
        })
        .collect()
}

/// `image-track-skipped` for an M4A write: its chapter images go in one QuickTime image track,
/// which needs an image for every chapter (a sample per chapter) and holds one type (ffmpeg
/// decodes every sample with the codec of one sample entry, and an undecodable track makes
/// `ffmpeg -i F -f null -` fail). Otherwise the chapters are written without their images;
/// this says so and which chapters are the cause. `None` when the track can be written or
/// no chapter has an image.
pub fn image_track_skipped(list: &ChapterList) -> Option<Diagnostic> {
    let chapters = || list.chapters.iter().enumerate();
    let of = |mime: Option<&str>| -> Vec<usize> {
        chapters()
            .filter(|(_, c)| c.picture.as_ref().map(|p| p.mime.as_str()) == mime)
            .map(|(i, _)| i)
            .collect()
    };
    let (none, jpeg, png) = (of(None), of(Some(JPEG)), of(Some(PNG)));
    if none.len() == list.len() {
        return None;
    }
    // `chapter 3 has` / `chapters 3, 4 have`.
    let names = |idx: &[usize], one: &str, many: &str| {
        let n: Vec<String> = idx.iter().map(|i| (i + 1).to_string()).collect();
        match n.len() {
            1 => format!("chapter {} {one}", n.join(", ")),
            _ => format!("chapters {} {many}", n.join(", ")),
        }
    };
    let (cause, what, hint) = if !none.is_empty() {
        let what = format!("{} no image", names(&none, "has", "have"));
        let hint = "give every chapter an image (one may repeat), or none";
        (none, what, hint)
    } else if !jpeg.is_empty() && !png.is_empty() {
        let (few, few_kind, many_kind) = if png.len() <= jpeg.len() {
            (png, "png", "jpeg")
        } else {
            (jpeg, "jpeg", "png")
        };
        let what = format!(
            "{} {few_kind}, the others {many_kind}",
            names(&few, "is", "are")
        );
        let hint = "convert the images to one type (e.g. ffmpeg -i art.png art.jpg)";
        (few, what, hint)
    } else {
        // One type (or other types, which `image-not-jpeg-png` already refuses).
        return None;
    };
    let first = *cause.first()?;
    let ch = list.chapters.get(first)?;
    Some(Diagnostic {
        severity: Severity::Warning,
        rule: Rule::ImageTrackSkipped,
        chapter: Some(first + 1),
        line: ch.line(),
        timestamp: Some(ch.written_timestamp()),
        message: format!(
            "{}: the m4a gets the chapters without their images: {what}, and its one \
             chapter-image track needs an image of one type for every chapter",
            who(first + 1, ch)
        ),
        hint: Some(hint.into()),
    })
}
