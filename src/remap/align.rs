//! Finding the edit: which stretches of the old audio appear in the new, and shifted by how
//! much.
//!
//! 1. 5 s blocks of the old features (the anchors [`super::walk`] picks) are looked for in
//!    the new: near a predicted shift ([`best_fine`]) or over a stretch ([`search`]: a 100 ms
//!    decimation, then the 10 ms frames). The score is the Pearson correlation per band (so a
//!    gain change or a different codec's level does not matter), and the peak is
//!    interpolated to a fraction of a frame.
//! 2. Blocks with the same shift form segments; between two segments the exact boundaries
//!    are found frame by frame: how far the old audio still matches the new at the first
//!    shift, and from where it matches at the second. What lies between was removed; what the
//!    new audio has between the two ends was inserted.

use super::features::{BANDS, FRAME_RATE, present};

/// Frames per block (5 s).
pub const BLOCK: usize = 500;
/// Decimation factor for the global search (10 ms → 100 ms).
const DECIM: usize = 10;
/// Search radius around the previous block's shift, in frames.
pub const LOCAL: i64 = 30;
/// Correlation accepted as a match.
pub const ACCEPT: f32 = 0.75;
/// Blocks flatter than this (dB standard deviation, full band) carry no timing information.
const FLAT_DB: f64 = 1.0;
/// Per-frame error (dB) above which a frame is counted as not matching.
const PENALTY: f32 = 4.0;
/// Cap of the per-frame error, so one click does not outweigh a second of agreement.
const CAP: f32 = 12.0;
/// Levels below this (dB) are all "silence": one codec's silence is digital zero, another's
/// a noise floor 40 dB higher, and neither says anything about timing.
const QUIET_DB: f32 = -60.0;
/// Shifts closer than this (frames) are the same segment.
const SAME: f64 = 2.0;

/// Where one old block was found.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Block {
    /// First old frame.
    pub start: usize,
    /// Frames.
    pub len: usize,
    /// New frame − old frame (fractional), or `None` when not found or flat.
    pub lag: Option<f64>,
    /// The correlation (0 when flat).
    pub score: f32,
    /// Whether the block has enough variation to be matched at all.
    pub informative: bool,
}

/// A stretch of old audio found in the new at one shift, in old frames `[start, end)`.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Span {
    /// First old frame.
    pub start: f64,
    /// End (exclusive) old frame.
    pub end: f64,
    /// New − old, in frames.
    pub lag: f64,
    /// Mean block score.
    pub score: f32,
}

/// Mean and standard deviation of band `b` over `x`.
fn stats(x: &[[f32; BANDS]], b: usize) -> (f64, f64) {
    let n = x.len().max(1) as f64;
    let (s, q) = x.iter().fold((0.0f64, 0.0f64), |(s, q), f| {
        let v = f64::from(f[b]);
        (s + v, q + v * v)
    });
    let mean = s / n;
    (mean, (q / n - mean * mean).max(0.0).sqrt())
}

/// Whether the full-band level of `x` varies enough to carry timing information.
pub fn informative(x: &[[f32; BANDS]]) -> bool {
    stats(x, 0).1 >= FLAT_DB
}

/// A normalised probe block: per band, zero mean and unit variance.
pub struct Probe {
    bands: Vec<[f32; BANDS]>,
    flat: [bool; BANDS],
}

impl Probe {
    /// The probe for the old frames `x`.
    pub fn new(x: &[[f32; BANDS]]) -> Self {
        let mut bands = x.to_vec();
        let mut flat = [false; BANDS];
        for (b, fl) in flat.iter_mut().enumerate() {
            let (m, s) = stats(x, b);
            *fl = s < 1e-3;
            let inv = if *fl { 0.0 } else { 1.0 / s };
            for f in &mut bands {
                f[b] = ((f64::from(f[b]) - m) * inv) as f32;
            }
        }
        Probe { bands, flat }
    }

    /// Frames.
    pub fn len(&self) -> usize {
        self.bands.len()
    }

    /// Whether the probe is empty.
    pub fn is_empty(&self) -> bool {
        self.bands.is_empty()
    }

    /// Mean per-band correlation with `hay[at..at+len]` (−1 where it cannot be computed,
    /// e.g. frames not decoded).
    pub fn score(&self, hay: &[[f32; BANDS]], at: usize) -> f32 {
        let n = self.bands.len();
        let Some(window) = hay.get(at..at + n) else {
            return -1.0;
        };
        let mut total = 0.0f64;
        let mut used = 0;
        for b in 0..BANDS {
            if self.flat[b] {
                continue;
            }
            let (_, s) = stats(window, b);
            if s.is_nan() || s < 1e-3 {
                continue;
            }
            // Σ z·(y−m) = Σ z·y because Σ z = 0.
            let dot: f64 = self
                .bands
                .iter()
                .zip(window)
                .map(|(z, y)| f64::from(z[b]) * f64::from(y[b]))
                .sum();
            total += dot / (n as f64 * s);
            used += 1;
        }
        let r = if used == 0 {
            -1.0
        } else {
            (total / f64::from(used)) as f32
        };
        if r.is_finite() { r } else { -1.0 }
    }
}

/// Averages `DECIM` frames into one.
fn decimate(x: &[[f32; BANDS]]) -> Vec<[f32; BANDS]> {
    x.chunks_exact(DECIM)
        .map(|c| {
            let mut m = [0.0f32; BANDS];
            for f in c {
                for b in 0..BANDS {
                    m[b] += f[b] / DECIM as f32;
                }
            }
            m
        })
        .collect()
}

/// Best integer lag (and score) for `probe` (old frames from `start`) among `lags`.
pub fn best_fine(
    probe: &Probe,
    new: &[[f32; BANDS]],
    start: usize,
    lags: std::ops::RangeInclusive<i64>,
) -> Option<(i64, f32)> {
    let mut best: Option<(i64, f32)> = None;
    for lag in lags {
        let Some(at) = usize::try_from(start as i64 + lag).ok() else {
            continue;
        };
        let s = probe.score(new, at);
        if best.is_none_or(|(_, b)| s > b) {
            best = Some((lag, s));
        }
    }
    best
}

/// Sub-frame lag by a parabola through the peak and its neighbours.
pub fn interpolate(probe: &Probe, new: &[[f32; BANDS]], start: usize, lag: i64, peak: f32) -> f64 {
    let at = |l: i64| {
        usize::try_from(start as i64 + l)
            .map(|a| probe.score(new, a))
            .unwrap_or(-1.0)
    };
    let (l, r) = (f64::from(at(lag - 1)), f64::from(at(lag + 1)));
    let c = f64::from(peak);
    let denom = l - 2.0 * c + r;
    let off = if denom < -1e-9 {
        0.5 * (l - r) / denom
    } else {
        0.0
    };
    lag as f64 + off.clamp(-0.5, 0.5)
}

/// Searches new frames `[lo, hi)` for the old block `old[start..start+len]`: the best few
/// candidates on a 100 ms decimation, each refined on the 10 ms frames.
pub fn search(
    old: &[[f32; BANDS]],
    new: &[[f32; BANDS]],
    start: usize,
    len: usize,
    (lo, hi): (usize, usize),
) -> Option<(i64, f32)> {
    let clen = len / DECIM;
    let coarse_old = decimate(old.get(start..start + clen * DECIM)?);
    let probe = Probe::new(&coarse_old);
    let hay = decimate(new.get(lo..hi.min(new.len()))?);
    let mut cands: Vec<(f32, usize)> = (0..=hay.len().saturating_sub(clen))
        .map(|at| (probe.score(&hay, at), at))
        .collect();
    cands.sort_by(|a, b| b.0.total_cmp(&a.0));
    let fine_probe = Probe::new(old.get(start..start + len)?);
    cands
        .iter()
        .take(3)
        .filter_map(|&(_, at)| {
            let lag = (lo + at * DECIM) as i64 - start as i64;
            best_fine(
                &fine_probe,
                new,
                start,
                lag - DECIM as i64..=lag + DECIM as i64,
            )
        })
        .max_by(|a, b| a.1.total_cmp(&b.1))
}

/// Groups matched blocks into segments of one shift (score-weighted mean lag).
pub fn segments(blocks: &[Block]) -> Vec<Span> {
    let mut out: Vec<(Span, f64, usize)> = Vec::new();
    for b in blocks {
        let Some(lag) = b.lag else { continue };
        let (start, end) = (b.start as f64, (b.start + b.len) as f64);
        let w = f64::from(b.score);
        match out.last_mut() {
            Some((span, wsum, n)) if (span.lag - lag).abs() <= SAME => {
                span.lag = (span.lag * *wsum + lag * w) / (*wsum + w);
                span.score = (span.score * *n as f32 + b.score) / (*n + 1) as f32;
                span.end = end;
                *wsum += w;
                *n += 1;
            }
            _ => out.push((
                Span {
                    start,
                    end,
                    lag,
                    score: b.score,
                },
                w,
                1,
            )),
        }
    }
    out.into_iter().map(|(s, _, _)| s).collect()
}

/// Old frame `t` and the new frame `lag` later, when both exist.
fn pair<'a>(
    old: &'a [[f32; BANDS]],
    new: &'a [[f32; BANDS]],
    t: usize,
    lag: i64,
) -> Option<(&'a [f32; BANDS], &'a [f32; BANDS])> {
    let w = usize::try_from(t as i64 + lag)
        .ok()
        .and_then(|i| new.get(i))?;
    let o = old.get(t)?;
    // Frames not decoded say nothing.
    (present(o) && present(w)).then_some((o, w))
}

/// Per-band mean level difference new − old over a segment (the gain change).
fn gain(old: &[[f32; BANDS]], new: &[[f32; BANDS]], span: &Span) -> [f32; BANDS] {
    let mut sum = [0.0f64; BANDS];
    let mut n = 0usize;
    let lag = span.lag.round() as i64;
    for t in (span.start as usize..span.end as usize).step_by(5) {
        let Some((o, w)) = pair(old, new, t, lag) else {
            continue;
        };
        for b in 0..BANDS {
            sum[b] += f64::from(w[b] - o[b]);
        }
        n += 1;
    }
    let n = n.max(1) as f64;
    let mut g = [0.0f32; BANDS];
    for b in 0..BANDS {
        g[b] = (sum[b] / n) as f32;
    }
    g
}

/// Error of old frame `t` against the new at `lag` after the gain `g`, minus the penalty:
/// negative where the frame matches.
fn excess(old: &[[f32; BANDS]], new: &[[f32; BANDS]], t: usize, lag: i64, g: &[f32; BANDS]) -> f32 {
    let Some((o, w)) = pair(old, new, t, lag) else {
        return CAP - PENALTY;
    };
    let e: f32 = (0..BANDS)
        .map(|b| {
            ((o[b] + g[b]).max(QUIET_DB) - w[b].max(QUIET_DB))
                .abs()
                .min(CAP)
        })
        .sum::<f32>()
        / BANDS as f32;
    e - PENALTY
}

/// Refines segment boundaries frame by frame: each segment's end is pushed as far as the old
/// audio still matches at its shift, its start pulled back likewise. The result spans are
/// disjoint and ordered; old frames between two spans were removed.
pub fn refine(old: &[[f32; BANDS]], new: &[[f32; BANDS]], spans: &mut [Span]) {
    let gains: Vec<[f32; BANDS]> = spans.iter().map(|s| gain(old, new, s)).collect();
    for i in 0..spans.len() {
        let (Some(span), Some(g)) = (spans.get(i).copied(), gains.get(i)) else {
            continue;
        };
        let lag = span.lag.round() as i64;
        let lo = if i == 0 {
            0.0
        } else {
            spans.get(i - 1).map_or(0.0, |p| p.end - BLOCK as f64)
        };
        let hi = spans
            .get(i + 1)
            .map_or(old.len() as f64, |n| n.start + BLOCK as f64);
        let first_block_end = (span.start + BLOCK as f64).min(span.end);
        let last_block_start = (span.end - BLOCK as f64).max(span.start);
        let start = extend(
            old,
            new,
            lag,
            g,
            first_block_end as usize,
            lo.max(0.0) as usize,
            true,
        );
        let end = extend(
            old,
            new,
            lag,
            g,
            last_block_start as usize,
            hi as usize,
            false,
        );
        if let Some(s) = spans.get_mut(i) {
            s.start = start as f64;
            s.end = end as f64;
        }
    }
    // Overlaps (an insertion: both shifts claim the frames round the boundary) are split
    // where the sum of errors is least.
    for i in 1..spans.len() {
        let (Some(a), Some(b)) = (spans.get(i - 1).copied(), spans.get(i).copied()) else {
            continue;
        };
        if b.start >= a.end {
            continue;
        }
        let (Some(ga), Some(gb)) = (gains.get(i - 1), gains.get(i)) else {
            continue;
        };
        let (la, lb) = (a.lag.round() as i64, b.lag.round() as i64);
        let (from, to) = (b.start as usize, a.end as usize);
        let mut best = (f32::MAX, from);
        let mut cost: f32 = (from..to).map(|t| excess(old, new, t, lb, gb)).sum();
        for x in from..=to {
            if cost < best.0 {
                best = (cost, x);
            }
            cost += excess(old, new, x, la, ga) - excess(old, new, x, lb, gb);
        }
        if let Some(s) = spans.get_mut(i - 1) {
            s.end = best.1 as f64;
        }
        if let Some(s) = spans.get_mut(i) {
            s.start = best.1 as f64;
        }
    }
}

/// From old frame `from` (inside a matching block), walks towards `limit` and returns how far
/// the frames keep matching at `lag`: the point of least cumulative excess.
fn extend(
    old: &[[f32; BANDS]],
    new: &[[f32; BANDS]],
    lag: i64,
    g: &[f32; BANDS],
    from: usize,
    limit: usize,
    backwards: bool,
) -> usize {
    let mut best = (0.0f32, from);
    let mut cost = 0.0f32;
    if backwards {
        for t in (limit..from).rev() {
            cost += excess(old, new, t, lag, g);
            if cost < best.0 {
                best = (cost, t);
            }
        }
    } else {
        for t in from..limit.min(old.len()) {
            cost += excess(old, new, t, lag, g);
            if cost < best.0 {
                best = (cost, t + 1);
            }
        }
    }
    best.1
}

/// Frames to seconds.
pub fn secs(frames: f64) -> f64 {
    frames / f64::from(FRAME_RATE)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A deterministic, non-repeating feature sequence (mean-reverting random levels, like
    /// speech loudness).
    fn walk(n: usize, seed: u64) -> Vec<[f32; BANDS]> {
        let mut x = seed;
        let mut level = -30.0f32;
        (0..n)
            .map(|_| {
                x = x
                    .wrapping_mul(6_364_136_223_846_793_005)
                    .wrapping_add(1_442_695_040_888_963_407);
                let r = ((x >> 33) as f32 / (1u64 << 31) as f32) - 0.5;
                level = (0.9 * level - 3.5 + 12.0 * r).clamp(-70.0, -5.0);
                [level, level - 6.0 + 2.0 * r]
            })
            .collect()
    }

    #[test]
    fn finds_an_insertion_with_a_gain_change() {
        let old = walk(6_000, 1);
        let filler = walk(300, 2);
        let mut new: Vec<[f32; BANDS]> = Vec::new();
        new.extend_from_slice(&old[..1_000]);
        new.extend_from_slice(&filler);
        new.extend_from_slice(&old[1_000..]);
        for f in &mut new {
            f[0] += 3.0;
            f[1] += 3.0;
        }
        let (mut o, mut n) = (old.clone(), new.clone());
        let blocks = crate::remap::walk::match_blocks(&mut o, &mut n).expect("in memory");
        let mut spans = segments(&blocks);
        refine(&old, &new, &mut spans);
        assert_eq!(spans.len(), 2, "{spans:?}");
        assert!(spans[0].lag.abs() < 0.5 && (spans[1].lag - 300.0).abs() < 0.5);
        assert!((spans[0].end - 1_000.0).abs() <= 2.0, "{spans:?}");
        assert!((spans[1].start - 1_000.0).abs() <= 2.0, "{spans:?}");
    }

    #[test]
    fn an_unrelated_sequence_matches_nowhere() {
        let (mut o, mut n) = (walk(6_000, 3), walk(6_000, 4));
        let blocks = crate::remap::walk::match_blocks(&mut o, &mut n).expect("in memory");
        let informative = blocks.iter().filter(|b| b.informative).count();
        let matched = blocks.iter().filter(|b| b.lag.is_some()).count();
        // Below the third `align_tracks` needs before it accepts a pair.
        assert!(informative > 0 && matched * 3 < informative, "{blocks:?}");
    }
}
