//! Profiles (the platform whose rules apply, as a [`Policy`] of thresholds) and targets (the
//! container the chapters go to).

use super::Severity;
use crate::time::Time;
use std::fmt;
use std::str::FromStr;

/// The platform whose published chapter rules a list must meet.
///
/// Rules shared by every profile: a chapter starts before the end of the audio, starts are
/// strictly ascending, titles are not empty, URLs are absolute `http(s)`, and a timestamp
/// that cannot be read is an error.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
#[cfg_attr(feature = "cli", derive(clap::ValueEnum))]
#[non_exhaustive]
pub enum Profile {
    /// Embedded ID3/MP4 chapters, read by players from the file itself. The first chapter
    /// need not start at 0:00 (the ID3 chapter addendum and MP4 chapter tracks allow any
    /// start); chapters under 5 s, a last chapter in the final 10 s and gaps are warnings.
    #[default]
    Default,
    /// Apple Podcasts: chapters in the episode description must start at 00:00:00 and number
    /// at least three.
    Apple,
    /// Spotify description timestamps: the first at 00:00, at least three, ascending; titles
    /// under about 40 characters and chapters of about 30 s or more are recommended
    /// (warnings).
    Spotify,
    /// YouTube description chapters: the first at 0:00, at least three, ascending, each at
    /// least 10 s long (errors: YouTube ignores the whole list otherwise); titles are cut at
    /// about 49 characters on hover (warning).
    Youtube,
    /// Podcasting 2.0 JSON chapters (podcastindex.org, spec 1.2): chapters are assumed in
    /// ascending `startTime` order, `img` and `url` are URLs, and `title` is optional, so a
    /// chapter hidden from the table of contents (`toc: false`) may have none.
    Podcastindex,
    /// The default rules with every warning raised to an error, for pipelines that want
    /// nothing questionable published.
    Strict,
}

impl Profile {
    /// Every profile, for help texts.
    pub const ALL: [Profile; 6] = [
        Profile::Default,
        Profile::Apple,
        Profile::Spotify,
        Profile::Youtube,
        Profile::Podcastindex,
        Profile::Strict,
    ];

    /// The name used on the command line and in messages.
    pub fn name(self) -> &'static str {
        match self {
            Profile::Default => "default",
            Profile::Apple => "apple",
            Profile::Spotify => "spotify",
            Profile::Youtube => "youtube",
            Profile::Podcastindex => "podcastindex",
            Profile::Strict => "strict",
        }
    }

    pub(super) fn policy(self) -> Policy {
        let base = Policy {
            min_count: 1,
            first_at_zero: false,
            min_chapter: Time::from_secs(5),
            min_chapter_severity: Severity::Warning,
            title_chars: None,
            check_images: false,
            hidden_may_be_untitled: false,
            escalate: false,
            min_overridden: false,
        };
        match self {
            Profile::Default => base,
            Profile::Apple => Policy {
                min_count: 3,
                first_at_zero: true,
                ..base
            },
            Profile::Spotify => Policy {
                min_count: 3,
                first_at_zero: true,
                min_chapter: Time::from_secs(30),
                title_chars: Some(40),
                ..base
            },
            Profile::Youtube => Policy {
                min_count: 3,
                first_at_zero: true,
                min_chapter: Time::from_secs(10),
                min_chapter_severity: Severity::Error,
                title_chars: Some(49),
                ..base
            },
            Profile::Podcastindex => Policy {
                check_images: true,
                hidden_may_be_untitled: true,
                ..base
            },
            Profile::Strict => Policy {
                escalate: true,
                ..base
            },
        }
    }
}

impl fmt::Display for Profile {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

/// A profile name chapmark does not know.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error(
    "unknown profile `{0}`; expected one of: default, apple, spotify, youtube, podcastindex, strict"
)]
pub struct UnknownProfile(pub String);

impl FromStr for Profile {
    type Err = UnknownProfile;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let lower = s.trim().to_ascii_lowercase();
        match lower.as_str() {
            "podcast-index" | "podcasting2" | "podcasting-2.0" => Ok(Profile::Podcastindex),
            _ => Profile::ALL
                .into_iter()
                .find(|p| p.name() == lower)
                .ok_or_else(|| UnknownProfile(s.to_string())),
        }
    }
}

/// What the chapters will be written to. It decides what the container can represent: the
/// 255-chapter limit of ID3 `CTOC` and MP4 `chpl`, Latin-1 URLs in ID3 `WXXX`, 255-byte
/// titles in `chpl`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum Target {
    /// ID3v2 `CHAP`/`CTOC` in an MP3.
    Id3,
    /// MP4 `chpl` and a QuickTime chapter track in an M4A.
    Mp4,
    /// A chapter file next to the audio (Podcasting 2.0 JSON, WebVTT, …): no count limit.
    Sidecar,
    /// `CHAPTERxxx` Vorbis comments in Opus, Ogg Vorbis and FLAC: 999 chapters (three
    /// digits), UTF-8 titles and URLs of any length.
    Vorbis,
}

impl Target {
    /// The name used on the command line.
    pub fn name(self) -> &'static str {
        match self {
            Target::Id3 => "id3",
            Target::Mp4 => "mp4",
            Target::Sidecar => "sidecar",
            Target::Vorbis => "vorbis",
        }
    }
}

impl fmt::Display for Target {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

/// A target name chapmark does not know.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("unknown target `{0}`; expected one of: id3, mp4, vorbis, sidecar")]
pub struct UnknownTarget(pub String);

impl FromStr for Target {
    type Err = UnknownTarget;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        match s.trim().to_ascii_lowercase().as_str() {
            "id3" | "mp3" => Ok(Target::Id3),
            "mp4" | "m4a" | "m4b" => Ok(Target::Mp4),
            "sidecar" | "json" => Ok(Target::Sidecar),
            "vorbis" | "ogg" | "opus" | "oga" | "flac" => Ok(Target::Vorbis),
            _ => Err(UnknownTarget(s.to_string())),
        }
    }
}

/// What a profile asks for, as data, so every rule reads its thresholds from one place.
#[derive(Debug, Clone, Copy)]
pub(super) struct Policy {
    pub(super) min_count: usize,
    pub(super) first_at_zero: bool,
    pub(super) min_chapter: Time,
    pub(super) min_chapter_severity: Severity,
    pub(super) title_chars: Option<usize>,
    pub(super) check_images: bool,
    pub(super) hidden_may_be_untitled: bool,
    pub(super) escalate: bool,
    pub(super) min_overridden: bool,
}
