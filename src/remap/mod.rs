//! Chapters that survive an edit: the chapters of an old encode mapped onto a new, re-edited
//! or re-encoded one by matching the audio itself ([`remap`]), or through a known edit list
//! ([`apply`]).
//!
//! Both files are decoded on demand into a 100 Hz feature sequence ([`features`]); [`walk`]
//! finds sparse anchors of the old audio in the new (decoding a small part of each file) and
//! [`align`] places the edit's boundaries frame by frame; each chapter start then moves with
//! the stretch it lies in, its confidence measured on the few seconds round it. A start inside
//! audio that was removed moves to where the remaining audio resumes (`remap-cut`); a start
//! in a weakly matching stretch is flagged (`remap-uncertain`). Times are those of the
//! playable audio (encoder delay removed), so they are what players show.

pub mod align;
pub mod edit;
pub mod features;
pub mod walk;

pub use edit::{Edit, EditError, parse_edit, parse_shift};

use crate::chapter::ChapterList;
use crate::probe::{ProbeError, probe_path};
use crate::time::{SampleTime, Time};
use crate::validate::{Diagnostic, Rule, Severity};
use features::{FRAME_RATE, Track};
use std::path::Path;
use walk::Source;

/// Below this mean correlation a chapter's new start is reported as uncertain.
pub const UNCERTAIN: f32 = 0.85;

/// Why a remap could not be done.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum RemapError {
    /// Measuring one of the files failed.
    #[error(transparent)]
    Probe(#[from] ProbeError),
    /// Decoding failed.
    #[error("{file}: decoding: {reason}")]
    Decode {
        /// The file.
        file: String,
        /// What went wrong.
        reason: String,
    },
    /// The new audio does not contain the old (no confident match).
    #[error(
        "{new}: no confident match with {old} ({matched} of {blocks} stretches of 5 s found); is it the same episode?"
    )]
    Unrelated {
        /// The old file.
        old: String,
        /// The new file.
        new: String,
        /// Informative 5 s stretches found.
        matched: usize,
        /// Informative 5 s stretches looked for.
        blocks: usize,
    },
    /// The old audio is too short to match (under 2.5 s).
    #[error("{0}: too short to match (under 2.5 s of audio)")]
    TooShort(String),
}

/// A stretch of old audio present in the new, in seconds of old time `[start, end)`.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Segment {
    /// Start in the old audio.
    pub start: f64,
    /// End (exclusive) in the old audio.
    pub end: f64,
    /// New time − old time.
    pub shift: f64,
    /// How well it matched (correlation, 1.0 for a stated edit).
    pub confidence: f32,
}

/// One chapter's move.
#[derive(Debug, Clone, PartialEq)]
pub struct Mapped {
    /// The title.
    pub title: String,
    /// Start in the old audio.
    pub old: Time,
    /// Start in the new audio.
    pub new: Time,
    /// Start in the new audio in its samples (when remapped from audio).
    pub new_samples: Option<SampleTime>,
    /// `new − old` in milliseconds.
    pub shift_ms: i64,
    /// How well the audio round the start matched (1.0 for a stated edit).
    pub confidence: f32,
    /// The start lay in removed audio.
    pub cut: bool,
}

/// The result of a remap.
#[derive(Debug, Clone, PartialEq)]
pub struct Remap {
    /// The remapped chapters (ends cleared: they follow from the next start).
    pub list: ChapterList,
    /// Per chapter, old and new start.
    pub chapters: Vec<Mapped>,
    /// The edit found (or stated), in old time.
    pub edits: Vec<Edit>,
    /// `remap-cut` and `remap-uncertain` warnings.
    pub diagnostics: Vec<Diagnostic>,
    /// The stretches of old audio kept.
    pub segments: Vec<Segment>,
}

/// Maps the chapters of `list` (of the audio `old`) onto the audio `new` by matching audio.
pub fn remap(old: &Path, new: &Path, list: &ChapterList) -> Result<Remap, RemapError> {
    let oi = probe_path(old)?;
    let ni = probe_path(new)?;
    let mut ot = Track::open(old, &oi)?;
    let mut nt = Track::open(new, &ni)?;
    let names = (old.display().to_string(), new.display().to_string());
    let segments = align_tracks(&mut ot, &mut nt, &names)?;
    let confidence = list
        .chapters
        .iter()
        .map(|ch| chapter_confidence(&mut ot, &mut nt, &segments, ch.start))
        .collect::<Result<Vec<_>, _>>()?;
    log::debug!(
        "remap: decoded {} of {} old frames, {} of {} new",
        ot.decoded,
        ot.len(),
        nt.decoded,
        nt.len()
    );
    let mut out = apply_segments(list, &segments, Some(nt.sample_rate), Some(&confidence));
    out.edits = edit::summarise(
        &segments,
        oi.duration.as_secs_f64(),
        ni.duration.as_secs_f64(),
    );
    Ok(out)
}

/// The match round a chapter start (`None` when it lies in removed audio).
fn chapter_confidence<O: Source, N: Source>(
    old: &mut O,
    new: &mut N,
    segs: &[Segment],
    start: Time,
) -> Result<Option<f32>, RemapError> {
    let t = start.as_secs_f64();
    let Some(s) = segs.iter().find(|s| s.start <= t && t < s.end) else {
        return Ok(None);
    };
    let frame = |x: f64| (x * f64::from(FRAME_RATE)).round() as usize;
    let lag = s.shift * f64::from(FRAME_RATE);
    walk::local_confidence(old, new, frame(t), (frame(s.start), frame(s.end)), lag).map(Some)
}

/// The stretches of `old` found in `new`; refuses an unrelated pair.
pub fn align_tracks<O: Source, N: Source>(
    old: &mut O,
    new: &mut N,
    names: &(String, String),
) -> Result<Vec<Segment>, RemapError> {
    if old.frames().len() < 250 || new.frames().len() < 250 {
        return Err(RemapError::TooShort(names.0.clone()));
    }
    let blocks = walk::match_blocks(old, new)?;
    let informative = blocks.iter().filter(|b| b.informative).count();
    let matched = blocks.iter().filter(|b| b.lag.is_some()).count();
    log::debug!("remap: {matched} of {informative} informative anchors matched");
    if matched == 0 || matched * 3 < informative {
        return Err(RemapError::Unrelated {
            old: names.0.clone(),
            new: names.1.clone(),
            matched,
            blocks: informative,
        });
    }
    let mut spans = align::segments(&blocks);
    walk::cover(old, new, &spans)?;
    align::refine(old.frames(), new.frames(), &mut spans);
    let mut segs: Vec<Segment> = Vec::new();
    for s in spans {
        let mut seg = Segment {
            start: align::secs(s.start),
            end: align::secs(s.end),
            shift: align::secs(s.lag),
            confidence: s.score,
        };
        // Keep the stretches ordered and the new audio non-overlapping.
        if let Some(p) = segs.last() {
            seg.start = seg.start.max(p.end).max(p.end + p.shift - seg.shift);
        }
        if seg.end > seg.start {
            segs.push(seg);
        }
    }
    // A first or last frame that differs (an encoder's start-up, a fade) is not an edit.
    let old_end = align::secs(old.frames().len() as f64);
    if let Some(first) = segs.first_mut().filter(|s| s.start < edit::MIN_EDIT) {
        first.start = 0.0;
    }
    if let Some(last) = segs.last_mut().filter(|s| old_end - s.end < edit::MIN_EDIT) {
        last.end = last.end.max(old_end);
    }
    Ok(segs)
}

/// Applies a stated edit list and shift (in old time) to `list`.
pub fn apply(list: &ChapterList, edits: &[Edit], shift: f64) -> Remap {
    let segments = edit::segments_of(edits, shift);
    let mut out = apply_segments(list, &segments, None, None);
    out.edits = edits.to_vec();
    out
}

/// Moves every chapter with the segment its start lies in. `confidence` (per chapter, when
/// measured round each start) replaces the segment's own.
pub fn apply_segments(
    list: &ChapterList,
    segs: &[Segment],
    rate: Option<u32>,
    confidence: Option<&[Option<f32>]>,
) -> Remap {
    let mut out = list.clone();
    let mut chapters = Vec::new();
    let mut diagnostics = Vec::new();
    for (i, ch) in out.chapters.iter_mut().enumerate() {
        let t = ch.start.as_secs_f64();
        let (new, seg_confidence, cut) = locate(segs, t);
        let confidence = confidence
            .and_then(|c| c.get(i).copied().flatten())
            .unwrap_or(seg_confidence);
        let new = new.max(0.0);
        let new_ms = Time::from_millis((new * 1000.0).round() as u64);
        let m = Mapped {
            title: ch.title.clone(),
            old: ch.start,
            new: new_ms,
            new_samples: rate.map(|r| SampleTime::new((new * f64::from(r)).round() as u64, r)),
            shift_ms: new_ms.as_millis() as i64 - ch.start.as_millis() as i64,
            confidence,
            cut,
        };
        if let Some(d) = diagnostic(i, &m) {
            diagnostics.push(d);
        }
        ch.start = new_ms;
        ch.end = None;
        ch.origin = None;
        chapters.push(m);
    }
    Remap {
        list: out,
        chapters,
        edits: Vec::new(),
        diagnostics,
        segments: segs.to_vec(),
    }
}

/// New time, confidence and whether `t` (old seconds) lay in removed audio.
fn locate(segs: &[Segment], t: f64) -> (f64, f32, bool) {
    if let Some(s) = segs.iter().find(|s| s.start <= t && t < s.end) {
        return (t + s.shift, s.confidence, false);
    }
    // Removed: where the remaining audio resumes, i.e. the next kept stretch's start.
    if let Some(s) = segs.iter().find(|s| s.start > t) {
        return (s.start + s.shift, s.confidence, true);
    }
    match segs.last() {
        Some(s) => (s.end + s.shift, s.confidence, true),
        None => (t, 0.0, true),
    }
}

fn diagnostic(i: usize, m: &Mapped) -> Option<Diagnostic> {
    let (rule, message, hint) = if m.cut {
        (
            Rule::RemapCut,
            format!(
                "chapter {} \"{}\" started at {}, in audio the edit removed; moved to {}, where the remaining audio resumes",
                i + 1,
                m.title,
                m.old.hms_millis(),
                m.new.hms_millis()
            ),
            "check that the chapter still belongs in the episode",
        )
    } else if m.confidence < UNCERTAIN {
        (
            Rule::RemapUncertain,
            format!(
                "chapter {} \"{}\": the audio round {} matched only weakly (confidence {:.2}); new start {}",
                i + 1,
                m.title,
                m.old.hms_millis(),
                m.confidence,
                m.new.hms_millis()
            ),
            "listen at the new start to confirm",
        )
    } else {
        return None;
    };
    Some(Diagnostic {
        severity: Severity::Warning,
        rule,
        chapter: Some(i),
        line: None,
        timestamp: Some(m.new.hms_millis()),
        message,
        hint: Some(hint.to_string()),
    })
}
