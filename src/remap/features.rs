//! Decoding to a compact feature sequence: per 10 ms frame, the log energy of the mono mix in
//! two bands (full band, and a first-difference high band). 100 values a second per band
//! whatever the sample rate, so 44.1 and 48 kHz files line up frame for frame, and a 40-minute
//! episode is 240 000 frames — no whole-episode PCM is ever held.
//!
//! Frame `k` covers the samples `[k·rate/100, (k+1)·rate/100)` of the *playable* audio: the
//! encoder delay is removed first (symphonia trims MP3's LAME delay itself; for MP4 the delay
//! the probe measured from `elst`/`iTunSMPB` is skipped here), so frame times are chapter
//! times.

use super::RemapError;
use crate::container::Container;
use crate::probe::ProbeInfo;
use std::fs::File;
use std::panic::{AssertUnwindSafe, catch_unwind};
use std::path::Path;
use symphonia::core::codecs::audio::AudioDecoderOptions;
use symphonia::core::formats::probe::Hint;
use symphonia::core::formats::{FormatOptions, TrackType};
use symphonia::core::io::MediaSourceStream;
use symphonia::core::meta::MetadataOptions;

/// Feature frames per second.
pub const FRAME_RATE: u32 = 100;
/// Bands per frame.
pub const BANDS: usize = 2;
/// Energy floor (digital silence) so that the log stays finite.
const FLOOR: f64 = 1e-10;

/// The feature sequence of one file.
#[derive(Debug, Clone, PartialEq)]
pub struct Features {
    /// The file's sample rate.
    pub sample_rate: u32,
    /// Per frame, log energy (dB) per band.
    pub frames: Vec<[f32; BANDS]>,
}

impl Features {
    /// Number of frames.
    pub fn len(&self) -> usize {
        self.frames.len()
    }

    /// Whether there are no frames.
    pub fn is_empty(&self) -> bool {
        self.frames.is_empty()
    }
}

/// Accumulates mono samples into frames.
struct Framer {
    rate: u64,
    index: u64,
    frame: u64,
    next_edge: u64,
    energy: [f64; BANDS],
    count: u32,
    prev: f32,
    out: Vec<[f32; BANDS]>,
}

impl Framer {
    fn new(rate: u32) -> Self {
        let rate = u64::from(rate.max(1));
        Framer {
            rate,
            index: 0,
            frame: 0,
            next_edge: rate / u64::from(FRAME_RATE),
            energy: [0.0; BANDS],
            count: 0,
            prev: 0.0,
            out: Vec::new(),
        }
    }

    fn push(&mut self, x: f32) {
        let hp = x - self.prev;
        self.prev = x;
        self.energy[0] += f64::from(x) * f64::from(x);
        self.energy[1] += f64::from(hp) * f64::from(hp);
        self.count += 1;
        self.index += 1;
        if self.index >= self.next_edge {
            self.flush();
            self.frame += 1;
            self.next_edge = (self.frame + 1) * self.rate / u64::from(FRAME_RATE);
        }
    }

    fn flush(&mut self) {
        if self.count == 0 {
            return;
        }
        let n = f64::from(self.count);
        let db = |e: f64| (10.0 * (e / n + FLOOR).log10()) as f32;
        self.out.push([db(self.energy[0]), db(self.energy[1])]);
        self.energy = [0.0; BANDS];
        self.count = 0;
    }
}

/// Decodes the playable audio of `path` (measured as `info`) into features.
pub fn extract(path: &Path, info: &ProbeInfo) -> Result<Features, RemapError> {
    let mut framer = Framer::new(info.sample_rate);
    decode_mono(path, info, &mut |x| framer.push(x))?;
    // A partial last frame is dropped: it is shorter than the others, so its energy is noisier.
    Ok(Features {
        sample_rate: info.sample_rate,
        frames: framer.out,
    })
}

/// Decodes the playable audio of `path` and hands every mono sample to `sink`, stopping after
/// the probe's exact duration (so MP3 and AAC padding is never fed).
pub fn decode_mono(
    path: &Path,
    info: &ProbeInfo,
    sink: &mut dyn FnMut(f32),
) -> Result<(), RemapError> {
    let name = path.display().to_string();
    match catch_unwind(AssertUnwindSafe(|| decode_inner(path, info, sink))) {
        Ok(r) => r,
        Err(_) => Err(RemapError::Decode {
            file: name,
            reason: "the decoder failed on malformed data".into(),
        }),
    }
}

fn decode_inner(
    path: &Path,
    info: &ProbeInfo,
    sink: &mut dyn FnMut(f32),
) -> Result<(), RemapError> {
    let name = path.display().to_string();
    let err = |reason: String| RemapError::Decode {
        file: name.clone(),
        reason,
    };
    let file = File::open(path).map_err(|e| err(format!("opening: {e}")))?;
    let mss = MediaSourceStream::new(Box::new(file), Default::default());
    let mut hint = Hint::new();
    if let Some(ext) = path.extension().and_then(|e| e.to_str()) {
        hint.with_extension(ext);
    }
    let mut format = symphonia::default::get_probe()
        .probe(
            &hint,
            mss,
            FormatOptions::default(),
            MetadataOptions::default(),
        )
        .map_err(|e| err(e.to_string()))?;
    let track = format
        .default_track(TrackType::Audio)
        .ok_or_else(|| err("no audio track".into()))?;
    let track_id = track.id;
    let params = track
        .codec_params
        .as_ref()
        .and_then(|p| p.audio())
        .ok_or_else(|| err("no audio codec parameters".into()))?;
    let mut decoder = symphonia::default::get_codecs()
        .make_audio_decoder(params, &AudioDecoderOptions::default())
        .map_err(|e| err(e.to_string()))?;
    // Symphonia's MP4 reader ignores edit lists and iTunSMPB: skip the priming ourselves.
    let mut skip = match info.container {
        Container::Mp4 => info.encoder_delay,
        _ => 0,
    };
    let mut left = info.duration.samples;
    let mut planes: Vec<Vec<f32>> = Vec::new();
    while left > 0 {
        let packet = match format.next_packet() {
            Ok(Some(p)) => p,
            Ok(None) => break,
            Err(symphonia::core::errors::Error::IoError(_)) => break,
            Err(e) => return Err(err(e.to_string())),
        };
        if packet.track_id != track_id {
            continue;
        }
        let buf = match decoder.decode(&packet) {
            Ok(b) => b,
            // One corrupt packet costs a few ms of features, not the whole remap.
            Err(symphonia::core::errors::Error::DecodeError(e)) => {
                log::debug!("{name}: skipping an undecodable packet: {e}");
                continue;
            }
            Err(e) => return Err(err(e.to_string())),
        };
        buf.copy_to_vecs_planar(&mut planes);
        mix(&planes, &mut skip, &mut left, sink);
    }
    Ok(())
}

/// Feeds the mono mix of one decoded buffer, minus the samples still to skip, up to `left`.
fn mix(planes: &[Vec<f32>], skip: &mut u64, left: &mut u64, sink: &mut dyn FnMut(f32)) {
    let Some(first) = planes.first() else {
        return;
    };
    let scale = 1.0 / planes.len() as f32;
    for i in 0..first.len() {
        if *skip > 0 {
            *skip -= 1;
            continue;
        }
        if *left == 0 {
            return;
        }
        *left -= 1;
        let sum: f32 = planes.iter().filter_map(|p| p.get(i)).sum();
        sink(sum * scale);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn framer_makes_100_frames_a_second_at_any_rate() {
        for rate in [22_050u32, 44_100, 48_000] {
            let mut f = Framer::new(rate);
            for i in 0..rate {
                f.push(if i % 2 == 0 { 0.5 } else { -0.5 });
            }
            assert_eq!(f.out.len(), 100, "rate {rate}");
            // A full-scale square at ±0.5 has power 0.25: −6 dB.
            let e = f.out.first().map(|b| b[0]).unwrap_or_default();
            assert!((e + 6.02).abs() < 0.01, "{e}");
        }
    }
}
