//! Validation of a chapter list against the audio and platform rules.
//!
//! One pass, [`validate`], looks at a [`ChapterList`], the [`ParseIssue`]s its reader found, and
//! the exact audio length from the probe, and returns every problem at once as a
//! [`Diagnostic`]: a producer fixing show notes wants the whole list, not the first error.
//! Each diagnostic carries a stable [`Rule`] code (for CI filters and JSON consumers), the
//! source line and the timestamp exactly as written, so the message points at the text the
//! producer typed rather than at our normalised form.
//!
//! Which rules apply and how severe they are depends on the [`Profile`] (the platform whose
//! published rules the chapters must meet) and the [`Target`] (the container the chapters will
//! be written to, which decides the 255-chapter limit and how URLs are stored).
//!
//! [`drift`] compares the chapters embedded in a file with a listed source, for `check` runs
//! that want to know whether a file is still in sync with its notes.

use crate::chapter::{Chapter, ChapterList};
use crate::notes::{IssueKind, ParseIssue};
use crate::time::{SampleTime, Time};
use serde::{Deserialize, Deserializer, Serialize, Serializer};
use std::collections::HashMap;
use std::fmt;
use std::str::FromStr;

/// How bad a diagnostic is: errors fail validation, warnings fail it only when the caller
/// denies warnings (or under [`Profile::Strict`], which makes every warning an error).
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
    /// be stored in ID3, whose `WXXX` URL is Latin-1.
    UrlNotAscii,
    /// `url-too-long`: a URL longer than the 255 bytes an MP4 chapter-track `href` can hold.
    UrlTooLong,
    /// `drift`: the chapters embedded in a file differ from the listed ones.
    Drift,
}

impl Rule {
    /// Every rule, in the order diagnostics of one line are reported.
    pub const ALL: [Rule; 18] = [
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

/// The platform whose published chapter rules a list must meet.
///
/// Rules shared by every profile: a chapter starts before the end of the audio, starts are
/// strictly ascending, titles are not empty, URLs are absolute `http(s)`, and a timestamp
/// that cannot be read is an error.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default, clap::ValueEnum)]
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

    fn policy(self) -> Policy {
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
    /// `CHAPTERxxx` Vorbis comments in Ogg Opus/Vorbis and FLAC: 999 chapters (three
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

/// Everything validation needs besides the chapters themselves.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Context {
    /// The exact audio length from the probe; `None` when no audio was given, which skips
    /// the rules that need it (`past-end`, `last-too-late`).
    pub duration: Option<SampleTime>,
    /// The platform rules to apply.
    pub profile: Profile,
    /// Where the chapters will be written; `None` means "not decided yet", which reports the
    /// container limits of both ID3 and MP4 as warnings.
    pub target: Option<Target>,
    /// Overrides the profile's minimum chapter length (keeping the profile's severity).
    pub min_chapter: Option<Time>,
}

/// Most chapters an ID3 `CTOC` or MP4 `chpl` can hold: both store the count in one byte.
pub const MAX_CONTAINER_CHAPTERS: usize = 255;
/// Most bytes of a title an MP4 `chpl` entry holds (u8 length).
pub const CHPL_TITLE_BYTES: usize = 255;
/// Most bytes of a URL an MP4 chapter-track `href` box holds (u8 length).
pub const HREF_URL_BYTES: usize = 255;
/// A last chapter starting less than this before the end is reported as `last-too-late`.
pub const LAST_CHAPTER_WINDOW: Time = Time::from_secs(10);
/// Stated ends this close to the next start (or the end of the audio) are not gaps or
/// overlaps: CUE frames (1/75 s) and other timebases round by a few milliseconds.
pub const END_TOLERANCE: Time = Time::from_millis(1000);
/// Starts this close are the same start in [`drift`]: MP4 timescales other than 1000 round.
pub const DRIFT_TOLERANCE: Time = Time::from_millis(1);

/// What a profile asks for, as data, so every rule reads its thresholds from one place.
#[derive(Debug, Clone, Copy)]
struct Policy {
    min_count: usize,
    first_at_zero: bool,
    min_chapter: Time,
    min_chapter_severity: Severity,
    title_chars: Option<usize>,
    check_images: bool,
    hidden_may_be_untitled: bool,
    escalate: bool,
    min_overridden: bool,
}

/// Why a URL cannot be stored as a chapter link.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum UrlError {
    /// Not a URL at all, or a relative one.
    #[error("url `{url}` is not an absolute url ({source})")]
    Parse {
        /// The URL as written.
        url: String,
        /// What the URL parser said.
        source: url::ParseError,
    },
    /// A URL with another scheme (`ftp:`, `mailto:`, `javascript:`).
    #[error("url `{url}` is not http(s) (scheme `{scheme}`)")]
    NotHttp {
        /// The URL as written.
        url: String,
        /// Its scheme.
        scheme: String,
    },
    /// `https://` with nothing after it.
    #[error("url `{url}` has no host")]
    NoHost {
        /// The URL as written.
        url: String,
    },
}

/// Checks that `url` is an absolute `http(s)` URL and returns it in pure ASCII: the host
/// through IDNA (punycode), the rest percent-encoded, as the `url` crate serialises it.
///
/// ID3 stores `WXXX` URLs as Latin-1, and players expect ASCII there, so the ID3 writer uses
/// this for every link. A URL that is already ASCII and has no spaces or control characters
/// is returned unchanged (no added trailing slash): a correct URL is left alone.
pub fn ascii_url(url: &str) -> Result<String, UrlError> {
    let parsed = url::Url::parse(url).map_err(|source| UrlError::Parse {
        url: url.to_string(),
        source,
    })?;
    match parsed.scheme() {
        "http" | "https" => {}
        other => {
            return Err(UrlError::NotHttp {
                url: url.to_string(),
                scheme: other.to_string(),
            });
        }
    }
    if parsed.host_str().is_none_or(str::is_empty) {
        return Err(UrlError::NoHost {
            url: url.to_string(),
        });
    }
    Ok(crate::chapter::ascii_url(url).unwrap_or_else(|| parsed.as_str().to_string()))
}

/// How real audio lengths appear in messages: `40:00.000`, `1:02:03.250` — always with
/// milliseconds, because the point is that this length is measured, not estimated.
pub fn format_length(t: Time) -> String {
    let (h, m, s, ms) = t.parts();
    if h > 0 {
        format!("{h}:{m:02}:{s:02}.{ms:03}")
    } else {
        format!("{m:02}:{s:02}.{ms:03}")
    }
}

/// A span in words for messages: `4 s`, `2.5 s`, `3 min 20 s`.
fn format_span(t: Time) -> String {
    let ms = t.as_millis();
    if ms >= 60_000 {
        let (h, m, s, _) = t.parts();
        let mins = h * 60 + m;
        if s == 0 {
            format!("{mins} min")
        } else {
            format!("{mins} min {s} s")
        }
    } else if ms % 1000 == 0 {
        format!("{} s", ms / 1000)
    } else {
        let frac = format!("{:03}", ms % 1000);
        format!("{}.{} s", ms / 1000, frac.trim_end_matches('0'))
    }
}

/// `chapter 3 (line 14)` or `chapter 3`.
fn who(index: usize, ch: &Chapter) -> String {
    match ch.line() {
        Some(line) => format!("chapter {index} (line {line})"),
        None => format!("chapter {index}"),
    }
}

struct Builder {
    policy: Policy,
    profile: Profile,
    out: Vec<Diagnostic>,
}

impl Builder {
    fn push(
        &mut self,
        severity: Severity,
        rule: Rule,
        chapter: Option<(usize, &Chapter)>,
        message: String,
        hint: Option<String>,
    ) {
        let severity = if self.policy.escalate {
            Severity::Error
        } else {
            severity
        };
        let (index, line, timestamp) = match chapter {
            Some((i, ch)) => (Some(i), ch.line(), Some(ch.written_timestamp())),
            None => (None, None, None),
        };
        self.out.push(Diagnostic {
            severity,
            rule,
            chapter: index,
            line,
            timestamp,
            message,
            hint,
        });
    }
}

/// Checks a chapter list against the audio length and the profile's rules.
///
/// `issues` are the lines the reader could not turn into chapters; they become
/// `bad-timestamp` / `ambiguous-timestamp` diagnostics so one run shows every problem. The
/// result is sorted deterministically: whole-list diagnostics first, then by line, chapter
/// and rule.
pub fn validate(list: &ChapterList, issues: &[ParseIssue], ctx: &Context) -> Vec<Diagnostic> {
    let mut policy = ctx.profile.policy();
    if let Some(min) = ctx.min_chapter {
        policy.min_chapter = min;
        policy.min_overridden = true;
    }
    let mut b = Builder {
        policy,
        profile: ctx.profile,
        out: Vec::new(),
    };
    let end = ctx.duration.map(SampleTime::to_time_floor);

    for issue in issues {
        let (rule, severity, hint) = match issue.kind {
            IssueKind::BadTimestamp => (
                Rule::BadTimestamp,
                Severity::Error,
                "fix the timestamp (minutes and seconds run 00–59); the line is not a chapter until then",
            ),
            IssueKind::AmbiguousTimestamp => (
                Rule::AmbiguousTimestamp,
                Severity::Warning,
                "write the timestamp in full, e.g. 1:02:03 or 62:03, so it reads one way only",
            ),
        };
        let severity = if b.policy.escalate {
            Severity::Error
        } else {
            severity
        };
        b.out.push(Diagnostic {
            severity,
            rule,
            chapter: None,
            line: Some(issue.line).filter(|&l| l > 0),
            timestamp: Some(issue.timestamp.clone()),
            message: if issue.line > 0 {
                format!("line {}: {}", issue.line, issue.message)
            } else {
                issue.message.clone()
            },
            hint: Some(hint.to_string()),
        });
    }

    check_counts(&mut b, list, ctx.target);
    check_times(&mut b, list, ctx.duration, end);
    check_texts(&mut b, list, ctx.target);

    sort_diagnostics(&mut b.out);
    b.out
}

/// Whole-list rules: `too-few`, `too-many-for-container`, `first-not-zero`.
fn check_counts(b: &mut Builder, list: &ChapterList, target: Option<Target>) {
    let n = list.len();
    let profile = b.profile;
    if n == 0 {
        b.push(
            Severity::Error,
            Rule::TooFew,
            None,
            "no chapters found".to_string(),
            Some("a chapter line starts with a timestamp, e.g. `00:00 Intro`".to_string()),
        );
    } else if n < b.policy.min_count {
        let need = b.policy.min_count;
        b.push(
            Severity::Error,
            Rule::TooFew,
            None,
            format!(
                "only {n} chapter{}; {profile} shows chapters only when there are at least {need}",
                if n == 1 { "" } else { "s" }
            ),
            Some(format!("add chapters until there are at least {need}")),
        );
    }

    let limit = match target {
        Some(Target::Vorbis) => crate::container::vorbis_comment::MAX_CHAPTERS,
        _ => MAX_CONTAINER_CHAPTERS,
    };
    if n > limit {
        let (severity, what) = match target {
            Some(Target::Id3) => (Some(Severity::Error), "an id3 ctoc holds"),
            Some(Target::Mp4) => (Some(Severity::Error), "an mp4 chpl holds"),
            Some(Target::Vorbis) => (
                Some(Severity::Error),
                "vorbis comments (CHAPTER001–999) hold",
            ),
            Some(Target::Sidecar) => (None, ""),
            None => (Some(Severity::Warning), "id3 ctoc and mp4 chpl hold"),
        };
        if let Some(severity) = severity {
            b.push(
                severity,
                Rule::TooManyForContainer,
                None,
                format!("{n} chapters; {what} at most {limit}"),
                Some(
                    "merge chapters, or publish them as a podcasting 2.0 json sidecar, which has no limit"
                        .to_string(),
                ),
            );
        }
    }

    if b.policy.first_at_zero
        && let Some(first) = list.chapters.first()
        && first.start != Time::ZERO
    {
        b.push(
            Severity::Error,
            Rule::FirstNotZero,
            Some((1, first)),
            format!(
                "{}: the first chapter starts at {}; {profile} needs the first chapter at 0:00",
                who(1, first),
                first.written_timestamp()
            ),
            Some(
                "add an intro chapter at 0:00 to the notes, or let `chapmark write` add one with --intro \"Intro\""
                    .to_string(),
            ),
        );
    }
}

/// Timeline rules: `past-end`, `duplicate-start`, `not-ascending`, `too-short`,
/// `last-too-late`, `gap`, `overlap`.
fn check_times(
    b: &mut Builder,
    list: &ChapterList,
    duration: Option<SampleTime>,
    end: Option<Time>,
) {
    let chapters = &list.chapters;
    let mut first_at: HashMap<Time, (usize, Option<usize>)> = HashMap::new();
    let min = b.policy.min_chapter;
    let min_severity = b.policy.min_chapter_severity;
    let profile = b.profile;

    for (i, ch) in chapters.iter().enumerate() {
        let idx = i + 1;
        let w = who(idx, ch);
        let ts = ch.written_timestamp();

        // past-end: compared in samples, so a start is past the end exactly when its sample
        // would be at or after the last one.
        let past_end = match duration {
            Some(d) => {
                ch.start.as_millis() as u128 * d.sample_rate as u128 >= d.samples as u128 * 1000
            }
            None => false,
        };
        if past_end && let Some(end) = end {
            let how = if ch.start > end { "past" } else { "at" };
            b.push(
                Severity::Error,
                Rule::PastEnd,
                Some((idx, ch)),
                format!(
                    "{w}: start {ts} is {how} the end of the audio ({})",
                    format_length(end)
                ),
                Some(
                    "the audio is shorter than these chapters expect: were they written for another edit?"
                        .to_string(),
                ),
            );
        }

        // Ordering against earlier chapters.
        if let Some(&(first_idx, first_line)) = first_at.get(&ch.start) {
            let where_ = match first_line {
                Some(l) => format!("chapter {first_idx} (line {l})"),
                None => format!("chapter {first_idx}"),
            };
            b.push(
                Severity::Error,
                Rule::DuplicateStart,
                Some((idx, ch)),
                format!("{w}: start {ts} is the same as the start of {where_}"),
                Some(
                    "two chapters cannot start at the same moment; remove one or fix its timestamp"
                        .to_string(),
                ),
            );
        } else {
            first_at.insert(ch.start, (idx, ch.line()));
            if let Some(prev) = i.checked_sub(1).and_then(|p| chapters.get(p))
                && ch.start < prev.start
            {
                b.push(
                    Severity::Error,
                    Rule::NotAscending,
                    Some((idx, ch)),
                    format!(
                        "{w}: start {ts} comes before {}, the start of {}",
                        prev.written_timestamp(),
                        who(idx - 1, prev)
                    ),
                    Some(
                        "chapters must be in time order; sort them or fix the timestamp"
                            .to_string(),
                    ),
                );
            }
        }

        // Length checks only make sense for a chapter that starts inside the audio and
        // before its successor; otherwise the ordering or past-end error says it all.
        if past_end {
            continue;
        }
        let next = chapters.get(i + 1);
        let is_last = next.is_none();
        let stop = match (next, end) {
            (Some(n), Some(e)) => Some(n.start.min(e)),
            (Some(n), None) => Some(n.start),
            (None, Some(e)) => Some(e),
            (None, None) => ch.end,
        };
        // The last chapter inside the audio always has a length to judge, even one that
        // rounds to 0 ms (it starts in the audio's final sub-millisecond).
        let last_in_audio = is_last && end.is_some_and(|e| e >= ch.start);
        let Some(stop) = stop.filter(|&s| s > ch.start || last_in_audio) else {
            continue;
        };
        let length = stop.saturating_sub(ch.start);
        if last_in_audio && length < LAST_CHAPTER_WINDOW {
            let span = if length == Time::ZERO {
                "a fraction of a millisecond".to_string()
            } else {
                format_span(length)
            };
            let severity = if length < min {
                min_severity
            } else {
                Severity::Warning
            };
            b.push(
                severity,
                Rule::LastTooLate,
                Some((idx, ch)),
                format!(
                    "{w}: the last chapter starts at {ts}, only {span} before the end of the audio ({})",
                    format_length(stop)
                ),
                Some(
                    "listeners barely reach it; check the timestamp against this edit".to_string(),
                ),
            );
        } else if length < min {
            b.push(
                min_severity,
                Rule::TooShort,
                Some((idx, ch)),
                format!(
                    "{w}: lasts only {} (until {}); the {} minimum is {}",
                    format_span(length),
                    stop,
                    if b.policy.min_overridden {
                        "requested".to_string()
                    } else {
                        profile.to_string()
                    },
                    format_span(min)
                ),
                Some("merge it into a neighbouring chapter, or check its timestamp".to_string()),
            );
        }
    }

    // Stated ends (ID3 CHAP, WebVTT, ffmetadata): gaps and overlaps.
    for (i, ch) in chapters.iter().enumerate() {
        let Some(stated) = ch.end else { continue };
        let idx = i + 1;
        let w = who(idx, ch);
        match chapters.get(i + 1) {
            Some(next) if next.start > ch.start => {
                if stated.saturating_add(END_TOLERANCE) < next.start {
                    b.push(
                        Severity::Warning,
                        Rule::Gap,
                        Some((idx, ch)),
                        format!(
                            "{w}: ends at {stated} but {} starts at {}, leaving {} outside any chapter",
                            who(idx + 1, next),
                            next.written_timestamp(),
                            format_span(next.start.saturating_sub(stated))
                        ),
                        Some("writers end each chapter at the next start, closing the gap".to_string()),
                    );
                } else if stated > next.start.saturating_add(END_TOLERANCE) {
                    b.push(
                        Severity::Warning,
                        Rule::Overlap,
                        Some((idx, ch)),
                        format!(
                            "{w}: ends at {stated}, after {} starts at {}",
                            who(idx + 1, next),
                            next.written_timestamp()
                        ),
                        Some("writers end each chapter at the next start instead".to_string()),
                    );
                }
            }
            Some(_) => {}
            None => {
                if let Some(e) = end
                    && stated > ch.start
                    && stated.saturating_add(END_TOLERANCE) < e
                {
                    b.push(
                        Severity::Warning,
                        Rule::Gap,
                        Some((idx, ch)),
                        format!(
                            "{w}: the last chapter ends at {stated} but the audio runs to {}, leaving {} outside any chapter",
                            format_length(e),
                            format_span(e.saturating_sub(stated))
                        ),
                        Some("writers end the last chapter at the end of the audio".to_string()),
                    );
                }
            }
        }
    }
}

/// Text rules: `empty-title`, `title-too-long`, `bad-url`, `url-not-ascii`, `url-too-long`.
fn check_texts(b: &mut Builder, list: &ChapterList, target: Option<Target>) {
    let profile = b.profile;
    let chpl_applies = matches!(target, None | Some(Target::Mp4));
    let id3_applies = matches!(target, None | Some(Target::Id3));
    for (i, ch) in list.chapters.iter().enumerate() {
        let idx = i + 1;
        let w = who(idx, ch);

        if ch.title.trim().is_empty() && (ch.toc || !b.policy.hidden_may_be_untitled) {
            b.push(
                Severity::Error,
                Rule::EmptyTitle,
                Some((idx, ch)),
                format!("{w}: the title is empty"),
                Some("give the chapter a title; players show it in the chapter list".to_string()),
            );
        }

        let chars = ch.title.chars().count();
        if let Some(limit) = b.policy.title_chars
            && chars > limit
        {
            let why = match profile {
                Profile::Youtube => {
                    format!("youtube cuts titles at about {limit} characters on hover")
                }
                _ => format!("{profile} recommends titles under {limit} characters"),
            };
            b.push(
                Severity::Warning,
                Rule::TitleTooLong,
                Some((idx, ch)),
                format!("{w}: the title is {chars} characters; {why}"),
                None,
            );
        } else if chpl_applies && ch.title.len() > CHPL_TITLE_BYTES {
            b.push(
                Severity::Warning,
                Rule::TitleTooLong,
                Some((idx, ch)),
                format!(
                    "{w}: the title is {} bytes; an mp4 chpl entry keeps at most {CHPL_TITLE_BYTES} and it will be cut",
                    ch.title.len()
                ),
                None,
            );
        }

        if let Some(url) = ch.url() {
            match ascii_url(url) {
                Err(e) => b.push(
                    Severity::Error,
                    Rule::BadUrl,
                    Some((idx, ch)),
                    format!("{w}: {e}"),
                    Some("links must be absolute, e.g. https://example.com/page".to_string()),
                ),
                Ok(ascii) => {
                    if id3_applies && ascii != url {
                        b.push(
                            Severity::Warning,
                            Rule::UrlNotAscii,
                            Some((idx, ch)),
                            format!(
                                "{w}: url `{url}` is not plain ascii; id3 stores urls as latin-1, so it will be written as `{ascii}`"
                            ),
                            None,
                        );
                    }
                    if matches!(target, None | Some(Target::Mp4)) && ascii.len() > HREF_URL_BYTES {
                        b.push(
                            Severity::Warning,
                            Rule::UrlTooLong,
                            Some((idx, ch)),
                            format!(
                                "{w}: url is {} bytes; an mp4 chapter-track href holds at most {HREF_URL_BYTES}, so it cannot be stored there",
                                ascii.len()
                            ),
                            Some("use a shorter link (a redirect) for mp4 files".to_string()),
                        );
                    }
                }
            }
        }

        if b.policy.check_images
            && let Some(img) = ch.image.as_deref()
            && let Err(e) = ascii_url(img)
        {
            b.push(
                Severity::Error,
                Rule::BadUrl,
                Some((idx, ch)),
                format!("{w}: image {e}"),
                Some("podcasting 2.0 `img` must be an absolute http(s) url".to_string()),
            );
        }
    }
}

/// The deterministic order of diagnostics: whole-list first, then by line, chapter, rule
/// and message.
fn sort_diagnostics(diags: &mut [Diagnostic]) {
    diags.sort_by(|a, b| {
        let key = |d: &Diagnostic| (d.line.is_some() || d.chapter.is_some(), d.line, d.chapter);
        key(a)
            .cmp(&key(b))
            .then(a.rule.cmp(&b.rule))
            .then_with(|| a.message.cmp(&b.message))
    });
}

/// Titles are the same if equal, or if `embedded` is what an MP4 `chpl` keeps of a longer
/// listed title (cut at 255 bytes on a character boundary).
fn same_title(embedded: &str, listed: &str) -> bool {
    embedded == listed
        || (listed.len() > CHPL_TITLE_BYTES
            && embedded.len() + 4 > CHPL_TITLE_BYTES
            && listed.starts_with(embedded))
}

/// URLs are the same if equal as written or equal once parsed: the ID3 writer stores the
/// punycode form, and reading it back must not look like a change.
fn same_url(a: Option<&str>, b: Option<&str>) -> bool {
    match (a, b) {
        (None, None) => true,
        (Some(a), Some(b)) => {
            a == b || matches!((url::Url::parse(a), url::Url::parse(b)), (Ok(x), Ok(y)) if x == y)
        }
        _ => false,
    }
}

fn quoted(title: &str) -> String {
    format!("\"{title}\"")
}

/// Signed difference `embedded - listed` in words: `+1.5 s later`, `0.25 s earlier`.
fn delta_words(embedded: Time, listed: Time) -> String {
    if embedded >= listed {
        format!("{} later", format_span(embedded.saturating_sub(listed)))
    } else {
        format!("{} earlier", format_span(listed.saturating_sub(embedded)))
    }
}

/// Where the chapters embedded in a file differ from the listed ones (notes, a sidecar):
/// missing and extra chapters, moved starts with the difference, changed titles and URLs.
///
/// Chapters are paired by title first (the nearest start among equal titles), then the rest
/// by equal start, so a retimed chapter reads as "moved" and a retitled one as "changed".
/// All diagnostics are `drift` warnings, referring to the listed chapter (index and line)
/// where there is one.
pub fn drift(embedded: &ChapterList, listed: &ChapterList) -> Vec<Diagnostic> {
    let emb = &embedded.chapters;
    let mut used = vec![false; emb.len()];
    let mut pair: Vec<Option<usize>> = vec![None; listed.len()];

    for (li, l) in listed.chapters.iter().enumerate() {
        let best = emb
            .iter()
            .enumerate()
            .filter(|(ei, e)| {
                !used.get(*ei).copied().unwrap_or(true) && same_title(&e.title, &l.title)
            })
            .min_by_key(|(ei, e)| (e.start.as_millis().abs_diff(l.start.as_millis()), *ei))
            .map(|(ei, _)| ei);
        if let Some(ei) = best {
            if let Some(u) = used.get_mut(ei) {
                *u = true;
            }
            if let Some(p) = pair.get_mut(li) {
                *p = Some(ei);
            }
        }
    }
    for (li, l) in listed.chapters.iter().enumerate() {
        if pair.get(li).copied().flatten().is_some() {
            continue;
        }
        let found = emb.iter().enumerate().find(|(ei, e)| {
            !used.get(*ei).copied().unwrap_or(true)
                && e.start.as_millis().abs_diff(l.start.as_millis()) <= DRIFT_TOLERANCE.as_millis()
        });
        if let Some((ei, _)) = found {
            if let Some(u) = used.get_mut(ei) {
                *u = true;
            }
            if let Some(p) = pair.get_mut(li) {
                *p = Some(ei);
            }
        }
    }

    let mut out = Vec::new();
    let mut push =
        |l: Option<(usize, &Chapter)>, ts: Option<String>, message: String, hint: Option<&str>| {
            out.push(Diagnostic {
                severity: Severity::Warning,
                rule: Rule::Drift,
                chapter: l.map(|(i, _)| i),
                line: l.and_then(|(_, c)| c.line()),
                timestamp: ts.or_else(|| l.map(|(_, c)| c.written_timestamp())),
                message,
                hint: hint.map(str::to_string),
            });
        };
    const REWRITE: &str = "write the chapters again to bring the file in line with the list";

    for (li, l) in listed.chapters.iter().enumerate() {
        let idx = li + 1;
        let w = who(idx, l);
        let Some(e) = pair.get(li).copied().flatten().and_then(|ei| emb.get(ei)) else {
            push(
                Some((idx, l)),
                None,
                format!(
                    "{w}: {} {} is in the list but not in the file",
                    l.written_timestamp(),
                    quoted(&l.title)
                ),
                Some(REWRITE),
            );
            continue;
        };
        if e.start.as_millis().abs_diff(l.start.as_millis()) > DRIFT_TOLERANCE.as_millis() {
            push(
                Some((idx, l)),
                None,
                format!(
                    "{w}: {} starts at {} in the file, {} than the listed {}",
                    quoted(&l.title),
                    e.start,
                    delta_words(e.start, l.start),
                    l.written_timestamp()
                ),
                Some(REWRITE),
            );
        }
        if !same_title(&e.title, &l.title) {
            push(
                Some((idx, l)),
                None,
                format!(
                    "{w}: the file has the title {} where the list has {}",
                    quoted(&e.title),
                    quoted(&l.title)
                ),
                Some(REWRITE),
            );
        }
        if !same_url(e.url(), l.url()) {
            let message = match (e.url(), l.url()) {
                (Some(eu), Some(lu)) => {
                    format!("{w}: the file links to `{eu}` where the list has `{lu}`")
                }
                (None, Some(lu)) => format!("{w}: the file has no link where the list has `{lu}`"),
                (Some(eu), None) => format!("{w}: the file links to `{eu}`, the list has no link"),
                (None, None) => continue,
            };
            push(Some((idx, l)), None, message, Some(REWRITE));
        }
    }
    for (ei, e) in emb.iter().enumerate() {
        if used.get(ei).copied().unwrap_or(false) {
            continue;
        }
        push(
            None,
            Some(e.start.short()),
            format!(
                "the file has a chapter at {} {} that is not in the list",
                e.start,
                quoted(&e.title)
            ),
            Some(REWRITE),
        );
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lengths_and_spans() {
        assert_eq!(format_length(Time::from_secs(2400)), "40:00.000");
        assert_eq!(format_length(Time::from_millis(3_723_250)), "1:02:03.250");
        assert_eq!(format_span(Time::from_secs(4)), "4 s");
        assert_eq!(format_span(Time::from_millis(2_500)), "2.5 s");
        assert_eq!(format_span(Time::from_millis(250)), "0.25 s");
        assert_eq!(format_span(Time::from_secs(200)), "3 min 20 s");
        assert_eq!(format_span(Time::from_secs(120)), "2 min");
    }

    #[test]
    fn ascii_url_converts_idn_and_keeps_clean_urls() {
        assert_eq!(
            ascii_url("https://www.a16z.news/p/the-physical-ai-deployment-gap").as_deref(),
            Ok("https://www.a16z.news/p/the-physical-ai-deployment-gap")
        );
        // No trailing slash is added to an already-correct URL.
        assert_eq!(
            ascii_url("https://ihj.global").as_deref(),
            Ok("https://ihj.global")
        );
        assert_eq!(
            ascii_url("https://例え.jp/パス?q=ü").as_deref(),
            Ok("https://xn--r8jz45g.jp/%E3%83%91%E3%82%B9?q=%C3%BC")
        );
        assert_eq!(
            ascii_url("https://bücher.example/").as_deref(),
            Ok("https://xn--bcher-kva.example/")
        );
    }

    #[test]
    fn ascii_url_rejects_non_http() {
        assert!(matches!(
            ascii_url("ftp://example.com/x"),
            Err(UrlError::NotHttp { .. })
        ));
        assert!(matches!(
            ascii_url("mailto:a@b.c"),
            Err(UrlError::NotHttp { .. })
        ));
        assert!(matches!(
            ascii_url("www.example.com"),
            Err(UrlError::Parse { .. })
        ));
        assert!(matches!(
            ascii_url("/relative/path"),
            Err(UrlError::Parse { .. })
        ));
        assert!(ascii_url("https://").is_err());
        let msg = ascii_url("ftp://example.com/x").unwrap_err().to_string();
        assert_eq!(
            msg,
            "url `ftp://example.com/x` is not http(s) (scheme `ftp`)"
        );
    }

    #[test]
    fn rule_codes_round_trip_and_are_unique() {
        let mut seen = std::collections::HashSet::new();
        for r in Rule::ALL {
            assert!(seen.insert(r.code()), "duplicate code {}", r.code());
            assert_eq!(r.code().parse::<Rule>(), Ok(r));
            assert_eq!(
                serde_json::to_string(&r).ok(),
                Some(format!("\"{}\"", r.code()))
            );
        }
        assert!("nope".parse::<Rule>().is_err());
    }

    #[test]
    fn profile_and_target_names_round_trip() {
        for p in Profile::ALL {
            assert_eq!(p.name().parse::<Profile>(), Ok(p));
        }
        assert_eq!("YouTube".parse::<Profile>(), Ok(Profile::Youtube));
        assert_eq!(
            "podcast-index".parse::<Profile>(),
            Ok(Profile::Podcastindex)
        );
        assert!("tiktok".parse::<Profile>().is_err());
        for t in [Target::Id3, Target::Mp4, Target::Sidecar, Target::Vorbis] {
            assert_eq!(t.name().parse::<Target>(), Ok(t));
        }
        assert_eq!("opus".parse::<Target>(), Ok(Target::Vorbis));
        assert!("aiff".parse::<Target>().is_err());
    }

    #[test]
    fn same_title_accepts_chpl_cut() {
        let long = "é".repeat(200); // 400 bytes
        let cut: String = long.chars().take(127).collect(); // 254 bytes
        assert!(same_title(&cut, &long));
        assert!(!same_title("é", &long));
        assert!(same_title("a", "a"));
    }
}
