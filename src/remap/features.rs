//! Decoding to a compact feature sequence: per 10 ms frame, the log energy of the mono mix in
//! two bands (full band, and a first-difference high band). 100 values a second per band
//! whatever the sample rate, so 44.1 and 48 kHz files line up frame for frame.
//!
//! Decoding is on demand ([`Track::ensure`]): the alignment asks for the stretches it needs
//! (a few seconds every half minute, then the neighbourhood of each edit), so most of an
//! episode is never decoded, and no PCM is ever held beyond one packet.
//!
//! Frame `k` covers the samples `[k·rate/100, (k+1)·rate/100)` of the *playable* audio, as
//! [`crate::audio::Decoder`] places it (encoder delay removed per the probe's exact-duration
//! logic), so frame times are chapter times.

use super::RemapError;
use crate::audio::Decoder;
use crate::probe::ProbeInfo;
use crate::time::Time;
use std::panic::{AssertUnwindSafe, catch_unwind};
use std::path::{Path, PathBuf};

/// Feature frames per second.
pub const FRAME_RATE: u32 = 100;
/// Bands per frame.
pub const BANDS: usize = 2;
/// Energy floor (digital silence) so that the log stays finite.
const FLOOR: f64 = 1e-10;
/// The level of [`FLOOR`].
const SILENT_DB: f32 = -100.0;
/// A frame not decoded yet (a decoded frame is never exactly this: the framer nudges it).
pub const MISSING: [f32; BANDS] = [0.0; BANDS];
/// Marks frames the decoder did not deliver (below any level a frame can have).
const UNDELIVERED: f32 = -1_000.0;
/// At most a week of frames (caps the allocation for a nonsense duration).
const MAX_FRAMES: u64 = 7 * 86_400 * FRAME_RATE as u64;

/// The feature sequence of one file, decoded on demand: only the stretches the alignment asks
/// for ([`Track::ensure`]) are decoded, the rest stays [`MISSING`].
pub struct Track {
    dec: Decoder,
    path: PathBuf,
    info: ProbeInfo,
    name: String,
    /// The file's sample rate.
    pub sample_rate: u32,
    /// Per frame, log energy (dB) per band; [`MISSING`] where not decoded yet.
    pub frames: Vec<[f32; BANDS]>,
    /// Frames decoded so far (with re-decodes), for the log.
    pub decoded: usize,
}

impl std::fmt::Debug for Track {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Track")
            .field("name", &self.name)
            .field("frames", &self.frames.len())
            .field("decoded", &self.decoded)
            .finish_non_exhaustive()
    }
}

/// Whether frame `f` has been decoded.
pub fn present(f: &[f32; BANDS]) -> bool {
    *f != MISSING
}

impl Track {
    /// Opens `path` (measured as `info`); nothing is decoded yet.
    pub fn open(path: &Path, info: &ProbeInfo) -> Result<Self, RemapError> {
        let name = path.display().to_string();
        let dec = Decoder::open(path, info).map_err(|e| RemapError::Decode {
            file: name.clone(),
            reason: e.to_string(),
        })?;
        let sample_rate = dec.sample_rate();
        // Whole frames of the playable audio; a partial last frame is noisier and left out.
        let len = info.duration.samples.saturating_mul(u64::from(FRAME_RATE))
            / u64::from(sample_rate.max(1));
        let len = usize::try_from(len.min(MAX_FRAMES)).unwrap_or(0);
        Ok(Track {
            dec,
            path: path.to_path_buf(),
            info: info.clone(),
            name,
            sample_rate,
            // Zeroed: the pages of what is never decoded are never touched, so memory follows
            // what the alignment decodes, not the episode's length.
            frames: vec![MISSING; len],
            decoded: 0,
        })
    }

    /// Number of frames.
    pub fn len(&self) -> usize {
        self.frames.len()
    }

    /// Whether there are no frames.
    pub fn is_empty(&self) -> bool {
        self.frames.is_empty()
    }

    /// Makes sure frames `[from, to)` (clamped to the audio) are decoded.
    pub fn ensure(&mut self, from: usize, to: usize) -> Result<(), RemapError> {
        let to = to.min(self.len());
        let missing = |f: &[f32; BANDS]| !present(f);
        let Some(first) = self
            .frames
            .get(from..to)
            .and_then(|w| w.iter().position(missing))
        else {
            return Ok(());
        };
        let first = from + first;
        let last = self
            .frames
            .get(first..to)
            .and_then(|w| w.iter().rposition(missing))
            .map_or(to, |l| first + l + 1);
        self.decode_once(first, last)?;
        let short = |t: &Self| {
            t.frames
                .get(first..last)
                .is_some_and(|w| w.iter().any(|f| f[0] == UNDELIVERED))
        };
        if short(self) {
            // Symphonia's MP4 reader cannot always seek back once it reached the end: a fresh
            // reader decodes what the old one would not.
            log::debug!("{}: reopening to decode frames {first}..{last}", self.name);
            self.dec = Decoder::open(&self.path, &self.info).map_err(|e| RemapError::Decode {
                file: self.name.clone(),
                reason: e.to_string(),
            })?;
            for f in self.frames.get_mut(first..last).into_iter().flatten() {
                *f = MISSING;
            }
            self.decode_once(first, last)?;
        }
        // What still did not come (damaged data) stays unmatched rather than being asked for
        // again: digital silence.
        for f in self.frames.get_mut(first..last).into_iter().flatten() {
            if f[0] == UNDELIVERED {
                *f = [SILENT_DB; BANDS];
            }
        }
        Ok(())
    }

    /// Decodes frames `[a, b)`: seeks, then feeds one sample before `a` (to prime the
    /// difference filter) and the frames' samples to a framer.
    fn decode_once(&mut self, a: usize, b: usize) -> Result<(), RemapError> {
        let rate = u64::from(self.sample_rate.max(1));
        let edge = |k: usize| (k as u64) * rate / u64::from(FRAME_RATE);
        let (s0, s1) = (edge(a), edge(b));
        self.dec
            .seek_before(Time::from_millis((a as u64) * 1000 / u64::from(FRAME_RATE)))
            .map_err(|e| RemapError::Decode {
                file: self.name.clone(),
                reason: e.to_string(),
            })?;
        let mut framer = Framer::at(self.sample_rate, a);
        let primed = s0 > 0;
        let first = if primed { s0 - 1 } else { s0 };
        let mut pos = first;
        let to_i = |x: u64| i64::try_from(x).unwrap_or(i64::MAX);
        let frames = &mut self.frames;
        let dec = &mut self.dec;
        // Symphonia may panic on malformed data: that is a decode error, not a crash.
        let r = catch_unwind(AssertUnwindSafe(|| {
            dec.decode_with(to_i(first), to_i(s1), &mut |x| {
                if pos < s0 {
                    framer.prev = x;
                } else if let Some((k, f)) = framer.push(x) {
                    if let Some(slot) = frames.get_mut(k) {
                        *slot = f;
                    }
                }
                pos += 1;
            })
        }));
        let reason = match r {
            Ok(Ok(())) => None,
            Ok(Err(e)) => Some(e.to_string()),
            Err(_) => Some("the decoder failed on malformed data".to_string()),
        };
        if let Some(reason) = reason {
            return Err(RemapError::Decode {
                file: self.name.clone(),
                reason,
            });
        }
        self.decoded += b - a;
        for f in self.frames.get_mut(a..b).into_iter().flatten() {
            if !present(f) {
                *f = [UNDELIVERED; BANDS];
            }
        }
        Ok(())
    }
}

/// Accumulates mono samples into frames.
struct Framer {
    rate: u64,
    frame: u64,
    next_edge: u64,
    index: u64,
    energy: [f64; BANDS],
    count: u32,
    prev: f32,
}

impl Framer {
    /// A framer whose first sample is the first of frame `frame`.
    fn at(rate: u32, frame: usize) -> Self {
        let rate = u64::from(rate.max(1));
        let frame = frame as u64;
        Framer {
            rate,
            frame,
            index: frame * rate / u64::from(FRAME_RATE),
            next_edge: (frame + 1) * rate / u64::from(FRAME_RATE),
            energy: [0.0; BANDS],
            count: 0,
            prev: 0.0,
        }
    }

    /// Adds one sample; returns a frame (index, bands) when one is complete.
    fn push(&mut self, x: f32) -> Option<(usize, [f32; BANDS])> {
        let hp = x - self.prev;
        self.prev = x;
        self.energy[0] += f64::from(x) * f64::from(x);
        self.energy[1] += f64::from(hp) * f64::from(hp);
        self.count += 1;
        self.index += 1;
        if self.index < self.next_edge {
            return None;
        }
        let n = f64::from(self.count.max(1));
        let db = |e: f64| (10.0 * (e / n + FLOOR).log10()) as f32;
        let mut bands = [db(self.energy[0]), db(self.energy[1])];
        if bands == MISSING {
            // Exactly 0 dB in both bands: a hair lower, so it does not read as not decoded.
            bands[0] = -f32::EPSILON;
        }
        let out = (usize::try_from(self.frame).unwrap_or(usize::MAX), bands);
        self.energy = [0.0; BANDS];
        self.count = 0;
        self.frame += 1;
        self.next_edge = (self.frame + 1) * self.rate / u64::from(FRAME_RATE);
        Some(out)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn framer_makes_100_frames_a_second_at_any_rate() {
        for rate in [22_050u32, 44_100, 48_000] {
            let mut f = Framer::at(rate, 0);
            let out: Vec<_> = (0..rate)
                .filter_map(|i| f.push(if i % 2 == 0 { 0.5 } else { -0.5 }))
                .collect();
            assert_eq!(out.len(), 100, "rate {rate}");
            assert_eq!(out.last().map(|o| o.0), Some(99));
            // A full-scale square at ±0.5 has power 0.25: −6 dB.
            let e = out.get(1).map(|b| b.1[0]).unwrap_or_default();
            assert!((e + 6.02).abs() < 0.01, "{e}");
        }
    }
}
