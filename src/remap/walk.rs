//! Where each stretch of the old audio went, decoding as little as possible.
//!
//! A coarse alignment needs far less than the whole episode: 5 s *anchors* of the old audio,
//! one every 30 s, are each looked for in the new audio where the previous anchor's shift
//! predicts (a few seconds of decoding when nothing changed there). Only when an anchor is not
//! there is the new audio scanned onwards, in 30 s chunks, for it and the next few anchors (an
//! insertion costs its own length, a cut less than the anchor spacing). Then only the
//! neighbourhood of each change of shift is decoded frame by frame ([`cover`]) for
//! [`align::refine`] to place the edit's boundaries, and a few seconds round each chapter
//! start for its confidence ([`local_confidence`]).

use super::RemapError;
use super::align::{self, ACCEPT, BLOCK, Block, LOCAL, Probe, Span};
use super::features::{BANDS, Track};

/// Old frames from one anchor to the next (30 s).
const SPACING: usize = 3_000;
/// New frames decoded per step of a scan (30 s).
const CHUNK: usize = 3_000;
/// Anchors looked for at once while scanning (so a cut anchor does not cost a full scan).
const AHEAD: usize = 4;
/// Informative anchors found nowhere before a pair is given up as unrelated.
const GIVE_UP: usize = 12;
/// Half the window round a chapter start whose match is its confidence (2.5 s).
const HALF: usize = 250;

/// Where an anchor was found: integer lag (new − old frames) and correlation.
type Found = (i64, f32);

/// Feature frames that can be decoded on demand.
pub trait Source {
    /// All frames ([`super::features::MISSING`] where not decoded).
    fn frames(&self) -> &[[f32; BANDS]];
    /// Decodes frames `[from, to)` (clamped) if not yet done.
    fn ensure(&mut self, from: usize, to: usize) -> Result<(), RemapError>;
}

impl Source for Track {
    fn frames(&self) -> &[[f32; BANDS]] {
        &self.frames
    }
    fn ensure(&mut self, from: usize, to: usize) -> Result<(), RemapError> {
        Track::ensure(self, from, to)
    }
}

/// Fully decoded frames (tests, and anything already in memory).
impl Source for Vec<[f32; BANDS]> {
    fn frames(&self) -> &[[f32; BANDS]] {
        self
    }
    fn ensure(&mut self, _: usize, _: usize) -> Result<(), RemapError> {
        Ok(())
    }
}

/// Anchor starts: every `SPACING` frames, plus one ending at the very end.
fn anchors(len: usize) -> Vec<(usize, usize)> {
    if len <= BLOCK + BLOCK / 2 {
        return vec![(0, len)];
    }
    let mut out: Vec<(usize, usize)> = (0..=len - BLOCK)
        .step_by(SPACING)
        .map(|s| (s, BLOCK))
        .collect();
    if out
        .last()
        .is_some_and(|&(s, _)| s + BLOCK + BLOCK / 2 <= len)
    {
        out.push((len - BLOCK, BLOCK));
    }
    out
}

/// Finds the old anchors in the new audio (see the module notes). Stops early when the first
/// many informative anchors are found nowhere: an unrelated file.
pub fn match_blocks<O: Source, N: Source>(
    old: &mut O,
    new: &mut N,
) -> Result<Vec<Block>, RemapError> {
    let mut blocks = Vec::new();
    for (start, len) in anchors(old.frames().len()) {
        old.ensure(start, start + len)?;
        let informative = old
            .frames()
            .get(start..start + len)
            .is_some_and(align::informative);
        blocks.push(Block {
            start,
            len,
            lag: None,
            score: 0.0,
            informative,
        });
    }
    // Nothing changed is the first guess; an edit at the very start shows as a miss.
    let (mut prev, mut lo, mut misses, mut hits) = (Some(0i64), 0usize, 0usize, 0usize);
    let mut i = 0;
    while i < blocks.len() {
        let Some(b) = blocks.get(i).copied().filter(|b| b.informative) else {
            i += 1;
            continue;
        };
        if let Some(p) = prev
            && let Some(found) = near(old.frames(), new, &b, p)?
        {
            accept(&mut blocks, i, found, old.frames(), new.frames());
            (prev, lo, hits, i) = (Some(found.0), new_end(&b, found.0), hits + 1, i + 1);
            continue;
        }
        let cands: Vec<usize> = (i..blocks.len())
            .filter(|&k| blocks.get(k).is_some_and(|b| b.informative))
            .take(AHEAD)
            .collect();
        match scan(old.frames(), new, &blocks, &cands, lo)? {
            Some((j, found)) => {
                misses += cands.iter().filter(|&&k| k < j).count();
                accept(&mut blocks, j, found, old.frames(), new.frames());
                let bj = blocks.get(j).copied().unwrap_or(b);
                (prev, lo, hits, i) = (Some(found.0), new_end(&bj, found.0), hits + 1, j + 1);
            }
            None => {
                misses += cands.len();
                i = cands.last().map_or(blocks.len(), |&k| k + 1);
            }
        }
        if hits == 0 && misses >= GIVE_UP {
            break;
        }
    }
    Ok(blocks)
}

/// Where the new audio after a found anchor starts (later anchors cannot lie before it).
fn new_end(b: &Block, lag: i64) -> usize {
    usize::try_from(b.start as i64 + lag + b.len as i64 - LOCAL).unwrap_or(0)
}

/// Records anchor `i` found at `lag` with `score`, the lag refined to a fraction of a frame.
fn accept(
    blocks: &mut [Block],
    i: usize,
    (lag, score): (i64, f32),
    old: &[[f32; BANDS]],
    new: &[[f32; BANDS]],
) {
    if let Some(b) = blocks.get_mut(i) {
        let probe = Probe::new(old.get(b.start..b.start + b.len).unwrap_or_default());
        b.lag = Some(align::interpolate(&probe, new, b.start, lag, score));
        b.score = score;
    }
}

/// Anchor `b` near the previous shift `prev`, if it matches there.
fn near<N: Source>(
    old: &[[f32; BANDS]],
    new: &mut N,
    b: &Block,
    prev: i64,
) -> Result<Option<(i64, f32)>, RemapError> {
    let at = b.start as i64 + prev;
    let from = usize::try_from(at - LOCAL - 1).unwrap_or(0);
    let to = usize::try_from(at + b.len as i64 + LOCAL + 2).unwrap_or(0);
    new.ensure(from, to)?;
    let probe = Probe::new(old.get(b.start..b.start + b.len).unwrap_or_default());
    let found = align::best_fine(&probe, new.frames(), b.start, prev - LOCAL..=prev + LOCAL);
    Ok(found.filter(|&(_, s)| s >= ACCEPT))
}

/// Scans the new audio from `lo` onwards, a chunk at a time, for the anchors `cands` (in
/// order); the first found wins (anchors before it were cut or altered beyond recognition).
fn scan<N: Source>(
    old: &[[f32; BANDS]],
    new: &mut N,
    blocks: &[Block],
    cands: &[usize],
    lo: usize,
) -> Result<Option<(usize, Found)>, RemapError> {
    let total = new.frames().len();
    let mut pos = lo;
    while pos < total {
        let end = (pos + CHUNK + BLOCK).min(total);
        new.ensure(pos, end)?;
        // Windows starting up to a block before `pos` straddle the previous chunk's end.
        let from = pos.saturating_sub(BLOCK).max(lo);
        for &k in cands {
            let Some(b) = blocks.get(k) else { continue };
            let found = align::search(old, new.frames(), b.start, b.len, (from, end));
            if let Some(f) = found.filter(|&(_, s)| s >= ACCEPT) {
                return Ok(Some((k, f)));
            }
        }
        pos = end;
    }
    Ok(None)
}

/// Decodes what [`align::refine`] reads: round each span's first and last anchor, from the
/// previous span's last anchor to the next span's first (in both files, at the span's shift).
pub fn cover<O: Source, N: Source>(
    old: &mut O,
    new: &mut N,
    spans: &[Span],
) -> Result<(), RemapError> {
    let total = old.frames().len();
    let mut want: Vec<(usize, usize, i64)> = Vec::new();
    for (i, s) in spans.iter().enumerate() {
        let lag = s.lag.round() as i64;
        let lo = match i.checked_sub(1).and_then(|p| spans.get(p)) {
            Some(p) => p.end as usize - BLOCK.min(p.end as usize),
            None => 0,
        };
        let hi = spans.get(i + 1).map_or(total, |n| n.start as usize + BLOCK);
        want.push((lo, (s.start as usize + BLOCK).min(hi), lag));
        want.push(((s.end as usize).saturating_sub(BLOCK).max(lo), hi, lag));
    }
    for &(a, b, lag) in &want {
        old.ensure(a, b)?;
        let shift = |x: usize| usize::try_from(x as i64 + lag).unwrap_or(0);
        new.ensure(shift(a), shift(b))?;
    }
    Ok(())
}

/// How well the audio round old frame `t` matches the new at `lag` frames: the correlation
/// of a 5 s window round it, kept inside the segment `[seg_start, seg_end)` (so an edit next
/// to the chapter does not count against it), at the best lag within a frame either side.
pub fn local_confidence<O: Source, N: Source>(
    old: &mut O,
    new: &mut N,
    t: usize,
    (seg_start, seg_end): (usize, usize),
    lag: f64,
) -> Result<f32, RemapError> {
    let seg_end = seg_end.min(old.frames().len());
    let b = (t.saturating_sub(HALF).max(seg_start) + 2 * HALF).min(seg_end);
    let a = b.saturating_sub(2 * HALF).max(seg_start);
    let lag = lag.round() as i64;
    old.ensure(a, b)?;
    let shift = |x: usize| usize::try_from(x as i64 + lag).unwrap_or(0);
    new.ensure(shift(a).saturating_sub(2), shift(b) + 2)?;
    let window = old.frames().get(a..b).unwrap_or_default();
    if window.len() < HALF || !align::informative(window) {
        // Too little audio, or silence or a steady tone round the start: nothing to judge by.
        return Ok(1.0);
    }
    let probe = Probe::new(window);
    let best = align::best_fine(&probe, new.frames(), a, lag - 1..=lag + 1);
    Ok(best.map_or(0.0, |(_, s)| s.max(0.0)))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn anchors_cover_the_end() {
        assert_eq!(anchors(600), vec![(0, 600)]);
        let a = anchors(10_000);
        assert_eq!(a.first(), Some(&(0, BLOCK)));
        assert_eq!(a.last(), Some(&(10_000 - BLOCK, BLOCK)));
        assert!(a.windows(2).all(|w| w[0].0 < w[1].0));
    }
}
