//! Edit lists: stated (`insert 03:00 30s`, `cut 06:00-06:20`, a global shift) or found by
//! matching audio, all in the old audio's time, so a found edit can be replayed as stated.

use super::Segment;
use crate::format::timestamp::parse_timestamp;
use crate::time::Time;
use std::fmt;

/// Gaps and insertions shorter than this (seconds) are alignment noise, not edits.
pub const MIN_EDIT: f64 = 0.25;
/// Longest duration or time accepted (a week), so arithmetic never overflows.
const MAX_SECS: f64 = 7.0 * 86_400.0;

/// One edit, positioned in the old audio.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Edit {
    /// `len` of new audio inserted at old time `at`.
    Insert {
        /// Where (old time).
        at: Time,
        /// How long.
        len: Time,
    },
    /// Old audio `[from, to)` removed.
    Cut {
        /// Start of the removed audio (old time).
        from: Time,
        /// End of it.
        to: Time,
    },
}

impl Edit {
    fn at(&self) -> Time {
        match *self {
            Edit::Insert { at, .. } => at,
            Edit::Cut { from, .. } => from,
        }
    }
}

/// `MM:SS.mmm` (or `H:MM:SS.mmm`), always with milliseconds: edits are exact.
fn stamp(t: Time) -> String {
    crate::validate::format_length(t)
}

fn span(t: Time) -> String {
    format!("{:.1} s", t.as_secs_f64())
}

impl fmt::Display for Edit {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match *self {
            Edit::Insert { at, len } => write!(f, "inserted {} at {}", span(len), stamp(at)),
            Edit::Cut { from, to } => write!(
                f,
                "removed {} at {}",
                span(to.saturating_sub(from)),
                stamp(from)
            ),
        }
    }
}

/// A stated edit or shift that could not be read.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("edit `{text}`: {reason}")]
#[non_exhaustive]
pub struct EditError {
    /// What was given.
    pub text: String,
    /// What is wrong with it.
    pub reason: String,
}

fn bad(text: &str, reason: impl Into<String>) -> EditError {
    EditError {
        text: text.to_string(),
        reason: reason.into(),
    }
}

/// Seconds from `30s`, `2.5s`, `500ms`, `30`, or a clock time `1:30`.
fn seconds(s: &str) -> Option<f64> {
    let s = s.trim();
    let v = if let Some(ms) = s.strip_suffix("ms") {
        ms.trim().parse::<f64>().ok()? / 1000.0
    } else if let Some(sec) = s.strip_suffix('s') {
        sec.trim().parse::<f64>().ok()?
    } else if s.contains(':') {
        parse_timestamp(s).ok()?.as_secs_f64()
    } else {
        s.parse::<f64>().ok()?
    };
    (v.is_finite() && v.abs() <= MAX_SECS).then_some(v)
}

fn time(s: &str) -> Option<Time> {
    let v = seconds(s)?;
    (v >= 0.0).then(|| Time::from_millis((v * 1000.0).round() as u64))
}

/// Reads `insert AT LEN` or `cut FROM-TO` / `cut FROM LEN`.
pub fn parse_edit(text: &str) -> Result<Edit, EditError> {
    let mut words = text.split_whitespace();
    let kind = words.next().unwrap_or_default().to_ascii_lowercase();
    let rest: Vec<&str> = words.collect();
    match (kind.as_str(), rest.as_slice()) {
        ("insert", [at, len]) => {
            let at = time(at).ok_or_else(|| bad(text, format!("`{at}` is not a time")))?;
            let len = time(len)
                .filter(|l| *l > Time::ZERO)
                .ok_or_else(|| bad(text, format!("`{len}` is not a positive duration")))?;
            Ok(Edit::Insert { at, len })
        }
        ("cut", [range]) => {
            let (a, b) = range
                .split_once('-')
                .ok_or_else(|| bad(text, "expected `cut FROM-TO` or `cut FROM LEN`"))?;
            cut(text, a, |from| time(b).filter(|to| *to > from))
        }
        ("cut", [a, len]) => cut(text, a, |from| {
            time(len)
                .filter(|l| *l > Time::ZERO)
                .map(|l| from.saturating_add(l))
        }),
        _ => Err(bad(
            text,
            "expected `insert AT LEN` (`insert 03:00 30s`) or `cut FROM-TO` (`cut 06:00-06:20`)",
        )),
    }
}

fn cut(text: &str, from: &str, to: impl Fn(Time) -> Option<Time>) -> Result<Edit, EditError> {
    let from = time(from).ok_or_else(|| bad(text, format!("`{from}` is not a time")))?;
    let to = to(from).ok_or_else(|| bad(text, "the cut must end after it starts"))?;
    Ok(Edit::Cut { from, to })
}

/// Reads a signed shift in seconds: `+2.5s`, `-1.2s`, `-500ms`, `3`.
pub fn parse_shift(text: &str) -> Result<f64, EditError> {
    let t = text.trim();
    let (sign, body) = match t.strip_prefix('-') {
        Some(b) => (-1.0, b),
        None => (1.0, t.strip_prefix('+').unwrap_or(t)),
    };
    seconds(body)
        .filter(|v| *v >= 0.0)
        .map(|v| sign * v)
        .ok_or_else(|| bad(text, "expected a shift such as `+2.5s` or `-500ms`"))
}

/// The kept stretches of old audio, and their shifts, under a stated edit list.
pub fn segments_of(edits: &[Edit], shift: f64) -> Vec<Segment> {
    let mut sorted = edits.to_vec();
    sorted.sort_by_key(Edit::at);
    let mut out = Vec::new();
    let (mut start, mut cur) = (0.0f64, shift);
    let mut push = |s: f64, e: f64, sh: f64| {
        if e > s {
            out.push(Segment {
                start: s,
                end: e,
                shift: sh,
                confidence: 1.0,
            });
        }
    };
    for e in sorted {
        match e {
            Edit::Insert { at, len } => {
                push(start, at.as_secs_f64(), cur);
                start = start.max(at.as_secs_f64());
                cur += len.as_secs_f64();
            }
            Edit::Cut { from, to } => {
                push(start, from.as_secs_f64(), cur);
                let (f, t) = (from.as_secs_f64(), to.as_secs_f64());
                // Overlapping cuts remove the union, not twice the overlap.
                cur -= (t - f.max(start)).max(0.0);
                start = start.max(t);
            }
        }
    }
    push(start, f64::INFINITY, cur);
    out
}

fn ms(secs: f64) -> Time {
    Time::from_millis((secs.max(0.0) * 1000.0).round() as u64)
}

/// The edit that turns the old audio (`old_len` s) into the new (`new_len` s), given the
/// kept stretches: between two stretches, old audio not kept was removed and new audio not
/// from the old was inserted.
pub fn summarise(segs: &[Segment], old_len: f64, new_len: f64) -> Vec<Edit> {
    let mut out = Vec::new();
    let tail = Segment {
        start: old_len,
        end: old_len,
        shift: new_len - old_len,
        confidence: 1.0,
    };
    let mut prev = (0.0f64, 0.0f64); // (old end, shift) of the previous stretch
    for s in segs.iter().chain(std::iter::once(&tail)) {
        let mut removed = s.start - prev.0;
        let mut inserted = (s.start + s.shift) - (prev.0 + prev.1);
        // The shift difference is exact (averaged over whole stretches); a boundary is only
        // frame-exact: of a pure cut or insertion, state the exact one.
        if inserted.abs() < MIN_EDIT {
            removed = prev.1 - s.shift;
        } else if removed.abs() < MIN_EDIT {
            inserted = s.shift - prev.1;
        }
        let at = ms(prev.0);
        if removed >= MIN_EDIT {
            out.push(Edit::Cut {
                from: at,
                to: ms(prev.0 + removed),
            });
        }
        if inserted >= MIN_EDIT {
            out.push(Edit::Insert {
                at,
                len: ms(inserted),
            });
        }
        prev = (s.end, s.shift);
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_stated_edits() {
        assert_eq!(
            parse_edit("insert 03:00 30s"),
            Ok(Edit::Insert {
                at: Time::from_secs(180),
                len: Time::from_secs(30)
            })
        );
        assert_eq!(
            parse_edit("cut 06:00-06:20"),
            Ok(Edit::Cut {
                from: Time::from_secs(360),
                to: Time::from_secs(380)
            })
        );
        assert_eq!(parse_edit("cut 06:00 20s"), parse_edit("cut 06:00-06:20"));
        assert!(parse_edit("cut 06:20-06:00").is_err());
        assert!(parse_edit("move 1:00").is_err());
        assert_eq!(parse_shift("+2.5s"), Ok(2.5));
        assert_eq!(parse_shift("-500ms"), Ok(-0.5));
        assert!(parse_shift("soon").is_err());
    }

    #[test]
    fn displays_like_the_summary() {
        let e = parse_edit("insert 03:00 30s").unwrap_or(Edit::Cut {
            from: Time::ZERO,
            to: Time::ZERO,
        });
        assert_eq!(e.to_string(), "inserted 30.0 s at 03:00.000");
        let c = Edit::Cut {
            from: Time::from_secs(360),
            to: Time::from_secs(380),
        };
        assert_eq!(c.to_string(), "removed 20.0 s at 06:00.000");
    }

    #[test]
    fn stated_edits_round_trip_through_segments() {
        let edits = vec![
            Edit::Insert {
                at: Time::from_secs(180),
                len: Time::from_secs(30),
            },
            Edit::Cut {
                from: Time::from_secs(360),
                to: Time::from_secs(380),
            },
        ];
        let mut segs = segments_of(&edits, 0.0);
        assert_eq!(segs.len(), 3);
        if let Some(last) = segs.last_mut() {
            last.end = 600.0;
        }
        assert_eq!(summarise(&segs, 600.0, 610.0), edits);
    }
}
