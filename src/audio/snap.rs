//! Snapping chapter starts to pauses: a start typed by hand from the show notes is often a
//! little inside speech, so "skip to chapter" cuts a word. For each start, the audio around it
//! is decoded and the nearest pause found; the suggested start is just before speech resumes.

use super::pause::{self, Pause};
use super::{AudioError, Decoder, Frames};
use crate::chapter::ChapterList;
use crate::probe::ProbeInfo;
use crate::time::Time;
use std::path::Path;

/// Frame length of the loudness curve. 10 ms places a resumption to within one frame.
const HOP_MS: u32 = 10;
/// How many one-second samples of the episode set its loudness reference, besides the windows.
const SPARSE_SAMPLES: u64 = 8;
/// A move smaller than this is no move (a frame and a bit).
const NEGLIGIBLE: Time = Time::from_millis(20);

/// How snapping looks for pauses.
#[derive(Debug, Clone, Copy, PartialEq)]
#[non_exhaustive]
pub struct SnapOptions {
    /// How far from the written start a pause may be (each side).
    pub window: Time,
    /// The shortest quiet stretch that counts as a pause (gaps between words are shorter).
    pub min_pause: Time,
    /// Quiet means this many dB below the episode's loudness reference (negative).
    pub threshold_db: f32,
    /// The suggested start is this much before speech resumes (a breath of margin).
    pub lead: Time,
}

impl Default for SnapOptions {
    fn default() -> Self {
        SnapOptions {
            window: Time::from_secs(2),
            min_pause: Time::from_millis(150),
            threshold_db: -26.0,
            lead: Time::from_millis(10),
        }
    }
}

impl SnapOptions {
    /// Default options with another window.
    pub fn with_window(window: Time) -> Self {
        SnapOptions {
            window,
            ..SnapOptions::default()
        }
    }
}

/// A suggested move of one chapter's start to a pause.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize)]
pub struct Snap {
    /// Index of the chapter in the list (0-based).
    pub index: usize,
    /// The start as written.
    pub from: Time,
    /// The suggested start: just before speech resumes after `pause`.
    pub to: Time,
    /// The pause found.
    pub pause: Pause,
}

/// The suggested moves for `list` against the audio at `path` (probed as `info`): one per
/// chapter whose start is in sound and has a pause within the window; none for a chapter
/// already in a pause, at 0:00, or with no pause near (e.g. over a music bed). A move never
/// reaches the previous or the next chapter's start, nor the end of the audio.
pub fn suggest(
    path: &Path,
    info: &ProbeInfo,
    list: &ChapterList,
    opts: &SnapOptions,
) -> Result<Vec<Snap>, AudioError> {
    let mut dec = Decoder::open(path, info)?;
    let end = info.duration.to_time_floor();
    // A pause that starts or ends just outside the window still decides what is inside it.
    let margin = opts.min_pause.saturating_add(Time::from_millis(100));
    let mut windows: Vec<(usize, Frames)> = Vec::new();
    for (i, ch) in list.chapters.iter().enumerate() {
        if ch.start == Time::ZERO || ch.start >= end {
            continue;
        }
        let from = ch.start.saturating_sub(opts.window).saturating_sub(margin);
        let to = ch
            .start
            .saturating_add(opts.window)
            .saturating_add(margin)
            .min(end);
        windows.push((i, dec.frames(from, to, HOP_MS)?));
    }
    if windows.is_empty() {
        return Ok(Vec::new());
    }
    let sparse = sparse_sample(&mut dec, end)?;
    let reference = pause::reference_level(windows.iter().map(|(_, f)| f).chain(sparse.iter()));
    let threshold = reference * 10f32.powf(opts.threshold_db / 20.0);
    log::debug!(
        "{}: snap reference rms {reference:.4}, threshold {threshold:.5}",
        path.display()
    );
    let mut out = Vec::new();
    for (i, frames) in &windows {
        let reaches_end = frames.time_of(frames.len()) >= end;
        let pauses = pause::find(frames, threshold, opts.min_pause, reaches_end);
        if let Some(s) = choose(list, *i, &pauses, opts, end) {
            out.push(s);
        }
    }
    Ok(out)
}

/// A few one-second samples spread over the episode, for its loudness: the windows alone may
/// all sit in quiet transitions.
fn sparse_sample(dec: &mut Decoder, end: Time) -> Result<Vec<Frames>, AudioError> {
    let step = end.as_millis() / (SPARSE_SAMPLES + 1);
    if step < 1000 {
        return Ok(Vec::new());
    }
    (1..=SPARSE_SAMPLES)
        .map(|k| {
            let at = Time::from_millis(step * k);
            dec.frames(at, at.saturating_add(Time::from_secs(1)), HOP_MS)
        })
        .collect()
}

/// The move for chapter `i`, if its start is in sound and a pause is within reach.
fn choose(
    list: &ChapterList,
    i: usize,
    pauses: &[Pause],
    opts: &SnapOptions,
    end: Time,
) -> Option<Snap> {
    let ch = list.chapters.get(i)?;
    let t = ch.start;
    // Already at a pause (inside it, or right where speech resumes): nothing is cut.
    if pauses
        .iter()
        .any(|p| p.start <= t && t <= p.end.saturating_add(NEGLIGIBLE))
    {
        return None;
    }
    let prev = i
        .checked_sub(1)
        .and_then(|p| list.chapters.get(p))
        .map_or(Time::ZERO, |c| c.start);
    let next = list.chapters.get(i + 1).map_or(end, |c| c.start.min(end));
    pauses
        .iter()
        .map(|p| (p, p.end.saturating_sub(opts.lead).max(p.start)))
        .filter(|&(_, to)| to > prev && to < next)
        .filter(|&(_, to)| distance(to, t) <= opts.window && distance(to, t) >= NEGLIGIBLE)
        .min_by_key(|&(_, to)| distance(to, t))
        .map(|(p, to)| Snap {
            index: i,
            from: t,
            to,
            pause: *p,
        })
}

fn distance(a: Time, b: Time) -> Time {
    if a > b {
        a.saturating_sub(b)
    } else {
        b.saturating_sub(a)
    }
}

/// `list` with the moves applied.
pub fn apply(list: &mut ChapterList, snaps: &[Snap]) {
    for s in snaps {
        if let Some(ch) = list.chapters.get_mut(s.index) {
            ch.start = s.to;
        }
    }
}
