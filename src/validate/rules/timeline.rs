//! Timeline rules: `past-end`, `duplicate-start`, `not-ascending`, `too-short`,
//! `last-too-late`, `gap`, `overlap`.

use crate::chapter::{Chapter, ChapterList};
use crate::time::{SampleTime, Time};
use crate::validate::{
    Builder, END_TOLERANCE, LAST_CHAPTER_WINDOW, Rule, Severity, format_length, format_span, who,
};
use std::collections::HashMap;

/// Where each start was first seen: 1-based chapter index and source line.
type FirstAt = HashMap<Time, (usize, Option<usize>)>;

/// Runs the timeline rules over every chapter.
pub(super) fn check(b: &mut Builder, list: &ChapterList, duration: Option<SampleTime>) {
    let chapters = &list.chapters;
    let end = duration.map(SampleTime::to_time_floor);
    let mut first_at = FirstAt::new();
    for (i, ch) in chapters.iter().enumerate() {
        let past_end = past_end(b, (i + 1, ch), duration, end);
        ordering(b, chapters, i, &mut first_at);
        // Length checks only make sense for a chapter that starts inside the audio and
        // before its successor; otherwise the ordering or past-end error says it all.
        if !past_end {
            length(b, chapters, i, end);
        }
    }
    // Stated ends (ID3 CHAP, WebVTT, ffmetadata): gaps and overlaps.
    for i in 0..chapters.len() {
        stated_end(b, chapters, i, end);
    }
}

/// `past-end`: compared in samples, so a start is past the end exactly when its sample would
/// be at or after the last one. Returns whether the chapter starts past the end.
fn past_end(
    b: &mut Builder,
    (idx, ch): (usize, &Chapter),
    duration: Option<SampleTime>,
    end: Option<Time>,
) -> bool {
    let past_end = match duration {
        Some(d) => ch.start.as_millis() as u128 * d.sample_rate as u128 >= d.samples as u128 * 1000,
        None => false,
    };
    if past_end && let Some(end) = end {
        let how = if ch.start > end { "past" } else { "at" };
        b.push(
            Severity::Error,
            Rule::PastEnd,
            Some((idx, ch)),
            format!(
                "{}: start {} is {how} the end of the audio ({})",
                who(idx, ch),
                ch.written_timestamp(),
                format_length(end)
            ),
            Some(
                "the audio is shorter than these chapters expect: were they written for another edit?"
                    .to_string(),
            ),
        );
    }
    past_end
}

/// `duplicate-start` and `not-ascending`: the chapter at `i` against earlier ones.
fn ordering(b: &mut Builder, chapters: &[Chapter], i: usize, first_at: &mut FirstAt) {
    let Some(ch) = chapters.get(i) else { return };
    let idx = i + 1;
    let (w, ts) = (who(idx, ch), ch.written_timestamp());
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
        return;
    }
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
            Some("chapters must be in time order; sort them or fix the timestamp".to_string()),
        );
    }
}

/// `last-too-late` and `too-short`: the length of the chapter at `i`, up to the next start
/// or the end of the audio.
fn length(b: &mut Builder, chapters: &[Chapter], i: usize, end: Option<Time>) {
    let Some(ch) = chapters.get(i) else { return };
    let next = chapters.get(i + 1);
    let stop = match (next, end) {
        (Some(n), Some(e)) => Some(n.start.min(e)),
        (Some(n), None) => Some(n.start),
        (None, Some(e)) => Some(e),
        (None, None) => ch.end,
    };
    // The last chapter inside the audio always has a length to judge, even one that rounds
    // to 0 ms (it starts in the audio's final sub-millisecond).
    let last_in_audio = next.is_none() && end.is_some_and(|e| e >= ch.start);
    let Some(stop) = stop.filter(|&s| s > ch.start || last_in_audio) else {
        return;
    };
    let length = stop.saturating_sub(ch.start);
    if last_in_audio && length < LAST_CHAPTER_WINDOW {
        last_too_late(b, (i + 1, ch), length, stop);
    } else if length < b.policy.min_chapter {
        too_short(b, (i + 1, ch), length, stop);
    }
}

/// `last-too-late`: the last chapter starts in the final seconds of the audio.
fn last_too_late(b: &mut Builder, (idx, ch): (usize, &Chapter), length: Time, stop: Time) {
    let span = if length == Time::ZERO {
        "a fraction of a millisecond".to_string()
    } else {
        format_span(length)
    };
    let severity = if length < b.policy.min_chapter {
        b.policy.min_chapter_severity
    } else {
        Severity::Warning
    };
    b.push(
        severity,
        Rule::LastTooLate,
        Some((idx, ch)),
        format!(
            "{}: the last chapter starts at {}, only {span} before the end of the audio ({})",
            who(idx, ch),
            ch.written_timestamp(),
            format_length(stop)
        ),
        Some("listeners barely reach it; check the timestamp against this edit".to_string()),
    );
}

/// `too-short`: a chapter shorter than the profile's (or the requested) minimum.
fn too_short(b: &mut Builder, (idx, ch): (usize, &Chapter), length: Time, stop: Time) {
    let minimum = if b.policy.min_overridden {
        "requested".to_string()
    } else {
        b.profile.to_string()
    };
    b.push(
        b.policy.min_chapter_severity,
        Rule::TooShort,
        Some((idx, ch)),
        format!(
            "{}: lasts only {} (until {}); the {minimum} minimum is {}",
            who(idx, ch),
            format_span(length),
            stop,
            format_span(b.policy.min_chapter)
        ),
        Some("merge it into a neighbouring chapter, or check its timestamp".to_string()),
    );
}

/// `gap` and `overlap`: a stated end against the next start (or the end of the audio).
fn stated_end(b: &mut Builder, chapters: &[Chapter], i: usize, end: Option<Time>) {
    let Some(ch) = chapters.get(i) else { return };
    let Some(stated) = ch.end else { return };
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
