//! The diagnostic model: what validation reports, with stable rule codes.

use serde::{Deserialize, Deserializer, Serialize, Serializer};
use std::fmt;
use std::str::FromStr;

/// How bad a diagnostic is: errors fail validation, warnings fail it only when the caller
/// denies warnings (or under [`Profile::Strict`](super::Profile::Strict), which makes every warning an error).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Severity {
    /// The chapters cannot be published as they are.
    Error,
    /// Probably a mistake, or something a platform recommends against.
    Warning,
}

impl Severity {
    /// The lowercase word used in every output format.
    pub fn as_str(self) -> &'static str {
        match self {
            Severity::Error => "error",
            Severity::Warning => "warning",
        }
    }
}

impl fmt::Display for Severity {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// The rule a diagnostic comes from. The codes are stable: CI configurations, JSON consumers
/// and the README refer to them, so a code never changes meaning once released.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
#[non_exhaustive]
pub enum Rule {
    /// `bad-timestamp`: a chapter-looking line whose timestamp is impossible (`12:75`); the
    /// line is left out of the chapters, so it must be fixed rather than guessed.
    BadTimestamp,
    /// `ambiguous-timestamp`: a timestamp that can be read more than one way.
    AmbiguousTimestamp,
    /// `too-few`: fewer chapters than the profile needs (none at all for the default profile).
    TooFew,
    /// `too-many-for-container`: more than 255 chapters, which neither an ID3 `CTOC` (u8
    /// entry count) nor an MP4 `chpl` (u8 count) can hold.
    TooManyForContainer,
    /// `first-not-zero`: the platform only shows chapters when the first one starts at 0:00.
    FirstNotZero,
    /// `past-end`: a chapter starts at or after the end of the audio, so no player can seek
    /// to it — usually notes written for another edit.
    PastEnd,
    /// `duplicate-start`: two chapters start at the same moment.
    DuplicateStart,
    /// `not-ascending`: a chapter starts before the one listed before it.
    NotAscending,
    /// `too-short`: a chapter shorter than the profile's minimum.
    TooShort,
    /// `last-too-late`: the last chapter starts in the final seconds of the audio.
    LastTooLate,
    /// `gap`: a stated chapter end leaves audio outside any chapter.
    Gap,
    /// `overlap`: a stated chapter end runs past the next chapter's start.
    Overlap,
    /// `empty-title`: a chapter with no visible title.
    EmptyTitle,
    /// `title-too-long`: a title longer than the platform shows or the container stores.
    TitleTooLong,
    /// `bad-url`: a URL that is not an absolute `http(s)` URL.
    BadUrl,
    /// `url-not-ascii`: a URL that must be converted (IDN → punycode, percent-encoding) to
    /// be stored in ID3, whose `WXXX` URL is Latin-1, or in an MP4 `href`, which is ASCII.
    UrlNotAscii,
    /// `url-too-long`: a URL longer than the 255 bytes an MP4 chapter-track `href` can hold.
    UrlTooLong,
    /// `drift`: the chapters embedded in a file differ from the listed ones.
    Drift,
    /// `image-not-jpeg-png`: a chapter image that is neither JPEG nor PNG (by its bytes).
    ImageNotJpegPng,
    /// `image-alpha`: a PNG chapter image with transparency, which Apple rejects.
    ImageAlpha,
    /// `image-not-square`: a chapter image that is not square.
    ImageNotSquare,
    /// `image-size`: a chapter image under 1400 or over 3000 pixels on a side.
    ImageSize,
    /// `image-too-large`: a chapter image over 512 KiB, downloaded by every listener.
    ImageTooLarge,
    /// `image-missing`: the image file a chapter names cannot be read.
    ImageMissing,
    /// `image-fetch-failed`: `--fetch-images` could not fetch a chapter's `http(s)` image
    /// (timeout, error status, over the size cap, not a JPEG or PNG).
    ImageFetchFailed,
    /// `image-track-skipped`: an M4A gets its chapters without their images, because its
    /// one chapter-image track needs an image for every chapter, all of one type.
    ImageTrackSkipped,
    /// `ffmpeg-drops-chapter`: a chapter in an ID3v2.4 tag that ffmpeg 5.x does not list,
    /// because a sub-frame of it (title, description, URL, image) holds 128 bytes or more.
    FfmpegDropsChapter,
    /// `extension-mismatch`: the file's extension names another container than its content
    /// (an M4A named `.mp3`), so hosts serve it with the wrong content type.
    ExtensionMismatch,
    /// `mixed-stream`: the audio changes sample rate or channel count part-way through (a
    /// stitched MP3), which some players mis-time.
    MixedStream,
    /// `snap`: a chapter starts in sound and a pause (where speech resumes) is near; the
    /// diagnostic names the suggested start (`check --snap`, applied by `write --snap`).
    Snap,
    /// `remap`: a chapter's start fell inside audio that the edit removed; it was moved to
    /// where the remaining audio resumes.
    RemapCut,
    /// `remap`: the audio around a chapter's start matched only weakly.
    RemapUncertain,
}

impl Rule {
    /// Every rule, in the order diagnostics of one line are reported.
    pub const ALL: [Rule; 32] = [
        Rule::BadTimestamp,
        Rule::AmbiguousTimestamp,
        Rule::TooFew,
        Rule::TooManyForContainer,
        Rule::FirstNotZero,
        Rule::PastEnd,
        Rule::DuplicateStart,
        Rule::NotAscending,
        Rule::TooShort,
        Rule::LastTooLate,
        Rule::Gap,
        Rule::Overlap,
        Rule::EmptyTitle,
        Rule::TitleTooLong,
        Rule::BadUrl,
        Rule::UrlNotAscii,
        Rule::UrlTooLong,
        Rule::Drift,
        Rule::ImageNotJpegPng,
        Rule::ImageAlpha,
        Rule::ImageNotSquare,
        Rule::ImageSize,
        Rule::ImageTooLarge,
        Rule::ImageMissing,
        Rule::ImageFetchFailed,
        Rule::ImageTrackSkipped,
        Rule::FfmpegDropsChapter,
        Rule::ExtensionMismatch,
        Rule::MixedStream,
        Rule::Snap,
        Rule::RemapCut,
        Rule::RemapUncertain,
    ];

    /// The stable kebab-case code.
    pub fn code(self) -> &'static str {
        match self {
            Rule::BadTimestamp => "bad-timestamp",
            Rule::AmbiguousTimestamp => "ambiguous-timestamp",
            Rule::TooFew => "too-few",
            Rule::TooManyForContainer => "too-many-for-container",
            Rule::FirstNotZero => "first-not-zero",
            Rule::PastEnd => "past-end",
            Rule::DuplicateStart => "duplicate-start",
            Rule::NotAscending => "not-ascending",
            Rule::TooShort => "too-short",
            Rule::LastTooLate => "last-too-late",
            Rule::Gap => "gap",
            Rule::Overlap => "overlap",
            Rule::EmptyTitle => "empty-title",
            Rule::TitleTooLong => "title-too-long",
            Rule::BadUrl => "bad-url",
            Rule::UrlNotAscii => "url-not-ascii",
            Rule::UrlTooLong => "url-too-long",
            Rule::Drift => "drift",
            Rule::ImageNotJpegPng => "image-not-jpeg-png",
            Rule::ImageAlpha => "image-alpha",
            Rule::ImageNotSquare => "image-not-square",
            Rule::ImageSize => "image-size",
            Rule::ImageTooLarge => "image-too-large",
            Rule::ImageMissing => "image-missing",
            Rule::ImageFetchFailed => "image-fetch-failed",
            Rule::ImageTrackSkipped => "image-track-skipped",
            Rule::FfmpegDropsChapter => "ffmpeg-drops-chapter",
            Rule::ExtensionMismatch => "extension-mismatch",
            Rule::MixedStream => "mixed-stream",
            Rule::Snap => "snap",
            Rule::RemapCut => "remap-cut",
            Rule::RemapUncertain => "remap-uncertain",
        }
    }
}

impl fmt::Display for Rule {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.code())
    }
}

/// A rule code that chapmark does not know, e.g. in a `--allow` list.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("unknown rule code `{0}`")]
pub struct UnknownRule(pub String);

impl FromStr for Rule {
    type Err = UnknownRule;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Rule::ALL
            .into_iter()
            .find(|r| r.code() == s)
            .ok_or_else(|| UnknownRule(s.to_string()))
    }
}

impl Serialize for Rule {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(self.code())
    }
}

impl<'de> Deserialize<'de> for Rule {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let s = String::deserialize(d)?;
        s.parse().map_err(serde::de::Error::custom)
    }
}

/// One problem found in a chapter list. Self-contained: `message` already names the chapter
/// and line, so it can be printed alone; the structured fields are for machines (JSON, CI
/// annotations, editors jumping to a line).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Diagnostic {
    /// Error or warning, after the profile has been applied.
    pub severity: Severity,
    /// The rule; serialised as its code under the key `code`.
    #[serde(rename = "code")]
    pub rule: Rule,
    /// 1-based index of the chapter in source order; `None` for whole-list diagnostics and
    /// for lines that never became chapters.
    pub chapter: Option<usize>,
    /// 1-based source line, when the source has lines.
    pub line: Option<usize>,
    /// The timestamp exactly as written in the source.
    pub timestamp: Option<String>,
    /// Lowercase sentence with context, e.g. `chapter 3 (line 14): start 41:30 is past the
    /// end of the audio (40:00.000)`.
    pub message: String,
    /// What to do about it, when there is a concrete suggestion.
    pub hint: Option<String>,
}
