//! Whole-list rules: `too-few`, `too-many-for-container`, `first-not-zero`.

use crate::chapter::ChapterList;
use crate::time::Time;
use crate::validate::{Builder, Limits, Rule, Severity, who};

/// `too-few`: no chapters at all, or fewer than the profile needs.
pub(super) fn too_few(b: &mut Builder, list: &ChapterList) {
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
}

/// `too-many-for-container`: more chapters than the destination can count.
pub(super) fn too_many_for_container(b: &mut Builder, list: &ChapterList, limits: &Limits) {
    let n = list.len();
    let Some(limit) = limits.max_chapters.filter(|l| n > l.max) else {
        return;
    };
    b.push(
        limit.severity,
        Rule::TooManyForContainer,
        None,
        format!("{n} chapters; {} at most {}", limit.holder, limit.max),
        Some(
            "merge chapters, or publish them as a podcasting 2.0 json sidecar, which has no limit"
                .to_string(),
        ),
    );
}

/// `first-not-zero`: the profile only shows chapters when the first starts at 0:00.
pub(super) fn first_not_zero(b: &mut Builder, list: &ChapterList) {
    let profile = b.profile;
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
