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
//!
//! Layout: [`Diagnostic`], [`Rule`] and [`Severity`] (the model) in `diagnostic.rs`;
//! [`Profile`] and [`Target`] in `profile.rs`; the container limits in `limits.rs`
//! ([`Limits`], the seam for per-container capabilities); `drift.rs`; and one small function
//! per rule under `rules/` (`count`, `timeline`, `text`, `url`).

use crate::chapter::{Chapter, ChapterList};
use crate::format::text::ParseIssue;
use crate::time::{SampleTime, Time};

mod container;
mod diagnostic;
mod drift;
mod limits;
mod profile;
mod rules;
mod snap;
mod sources;
mod stream;

pub use crate::chapter::{UrlError, ascii_url};
pub use container::{extension_mismatch, ffmpeg_drops_chapter};
pub use diagnostic::{Diagnostic, Rule, Severity, UnknownRule};
pub use drift::drift;
pub use limits::{CountLimit, Limits};
use profile::Policy;
pub use profile::{Profile, Target, UnknownProfile, UnknownTarget};
pub use rules::{image_track_skipped, missing_images};
pub use snap::snap;
pub use sources::{Source, drift_between};
pub use stream::{StreamChange, stream_changes};

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
    /// Where the audio changes sample rate or channel count ([`stream_changes`]); each
    /// gives a `mixed-stream` warning.
    pub stream_changes: Vec<StreamChange>,
}

/// A last chapter starting less than this before the end is reported as `last-too-late`.
pub const LAST_CHAPTER_WINDOW: Time = Time::from_secs(10);
/// Stated ends this close to the next start (or the end of the audio) are not gaps or
/// overlaps: CUE frames (1/75 s) and other timebases round by a few milliseconds.
pub const END_TOLERANCE: Time = Time::from_millis(1000);
/// Starts this close are the same start in [`drift`]: MP4 timescales other than 1000 round.
pub const DRIFT_TOLERANCE: Time = Time::from_millis(1);

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
    } else if ms.is_multiple_of(1000) {
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

/// Collects diagnostics, applying the profile's escalation to each.
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
        let (index, line, timestamp) = match chapter {
            Some((i, ch)) => (Some(i), ch.line(), Some(ch.written_timestamp())),
            None => (None, None, None),
        };
        self.emit(Diagnostic {
            severity,
            rule,
            chapter: index,
            line,
            timestamp,
            message,
            hint,
        });
    }

    fn emit(&mut self, mut diagnostic: Diagnostic) {
        if self.policy.escalate {
            diagnostic.severity = Severity::Error;
        }
        self.out.push(diagnostic);
    }
}

/// Checks a chapter list against the audio length and the profile's rules, with the
/// container limits of `ctx.target` ([`Limits::for_target`]).
///
/// `issues` are the lines the reader could not turn into chapters; they become
/// `bad-timestamp` / `ambiguous-timestamp` diagnostics so one run shows every problem. The
/// result is sorted deterministically: whole-list diagnostics first, then by line, chapter
/// and rule.
pub fn validate(list: &ChapterList, issues: &[ParseIssue], ctx: &Context) -> Vec<Diagnostic> {
    validate_with(list, issues, ctx, &Limits::for_target(ctx.target))
}

/// [`validate`] with explicit container limits (e.g. a container's capabilities) instead of
/// those implied by `ctx.target`.
pub fn validate_with(
    list: &ChapterList,
    issues: &[ParseIssue],
    ctx: &Context,
    limits: &Limits,
) -> Vec<Diagnostic> {
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
    rules::parse_issues(&mut b, issues);
    rules::check_all(&mut b, list, ctx.duration, limits);
    stream::check_stream(&mut b, &ctx.stream_changes);
    sort_diagnostics(&mut b.out);
    b.out
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
}
