//! What the destination of the chapters can hold: the one place that maps a [`Target`] to the
//! container limits the `too-many-for-container`, `title-too-long` (bytes), `url-not-ascii`
//! and `url-too-long` rules check.
//!
//! Validation takes a [`Limits`] value rather than reading constants, so a container's
//! capabilities can be passed straight in ([`super::validate_with`]).

use super::{Severity, Target};
use crate::container::mp4::{self, Mp4Chapters};
use crate::container::{Capabilities, ChapterForm, id3v2, vorbis_comment};
use crate::limits::{
    ID3_CTOC_MAX_ENTRIES, MP4_CHPL_MAX_CHAPTERS, MP4_CHPL_TITLE_BYTES, MP4_HREF_URL_BYTES,
};

/// How ID3 and MP4 store chapter URLs, for `url-not-ascii` messages.
const ID3_URLS: &str = "id3 stores urls as latin-1";
const MP4_URLS: &str = "an mp4 chapter-track href holds ascii";

/// The container limits a chapter list is checked against.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Limits {
    /// Most chapters the container can hold; `None` for no limit.
    pub max_chapters: Option<CountLimit>,
    /// Most bytes of a title the container keeps (longer titles are cut); `None` for no limit.
    pub title_bytes: Option<usize>,
    /// URLs are stored as ASCII (ID3 `WXXX` is Latin-1, an MP4 `href` is ASCII), so a URL
    /// that needs converting is reported; the text says how the container stores them.
    pub ascii_urls: Option<&'static str>,
    /// Most bytes of a URL the container holds (longer links are left out); `None` for no
    /// limit.
    pub url_bytes: Option<usize>,
}

/// A chapter-count limit, with how severe exceeding it is and the structure named in the
/// message (`an id3 ctoc holds`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct CountLimit {
    /// Most chapters.
    pub max: usize,
    /// An error when the container is known, a warning while it is not decided.
    pub severity: Severity,
    /// What holds the chapters, as the subject of `… at most N` in the message.
    pub holder: &'static str,
}

impl Limits {
    /// No limits at all (a sidecar chapter file).
    pub const NONE: Limits = Limits {
        max_chapters: None,
        title_bytes: None,
        ascii_urls: None,
        url_bytes: None,
    };

    /// What a container holds when written with the given forms ([`Capabilities`]): the
    /// count limit is an error, and its message names the structure that counts.
    pub fn from_capabilities(caps: &Capabilities) -> Limits {
        let holder = if caps.forms.contains(&ChapterForm::Id3) {
            "an id3 ctoc holds"
        } else if caps.forms.contains(&ChapterForm::VorbisComment) {
            "vorbis comments (CHAPTER001–999) hold"
        } else if caps.forms.contains(&ChapterForm::Nero) {
            "an mp4 chpl holds"
        } else {
            "an mp4 chapter track holds"
        };
        Limits {
            max_chapters: caps.max_chapters.map(|max| CountLimit {
                max,
                severity: Severity::Error,
                holder,
            }),
            title_bytes: caps.max_title_bytes,
            // ID3 `WXXX` is Latin-1 and a chapter-track `href` ASCII: a URL that needs
            // converting is worth a warning in both (a Nero list stores no URL).
            ascii_urls: if caps.forms.contains(&ChapterForm::Id3) {
                Some(ID3_URLS)
            } else if caps.forms.contains(&ChapterForm::QuickTime) {
                Some(MP4_URLS)
            } else {
                None
            },
            url_bytes: caps.max_url_bytes,
        }
    }

    /// The limits of a target (its container's [`Capabilities`] with the default forms);
    /// `None` (not decided yet) applies those of both ID3 and MP4, with the count limit as a
    /// warning.
    pub fn for_target(target: Option<Target>) -> Limits {
        match target {
            Some(Target::Id3) => Limits::from_capabilities(&id3v2::CAPABILITIES),
            Some(Target::Mp4) => Limits::from_capabilities(&mp4::capabilities(Mp4Chapters::Both)),
            Some(Target::Sidecar) => Limits::NONE,
            Some(Target::Vorbis) => Limits::from_capabilities(&vorbis_comment::CAPABILITIES),
            None => Limits {
                max_chapters: Some(CountLimit {
                    max: ID3_CTOC_MAX_ENTRIES.min(MP4_CHPL_MAX_CHAPTERS),
                    severity: Severity::Warning,
                    holder: "id3 ctoc and mp4 chpl hold",
                }),
                title_bytes: Some(MP4_CHPL_TITLE_BYTES),
                ascii_urls: Some(ID3_URLS),
                url_bytes: Some(MP4_HREF_URL_BYTES),
            },
        }
    }
}
