//! Decoding audio with symphonia into a loudness curve: short frames of RMS and peak, placed
//! on the *playable* timeline that `probe` measures (so a frame at 12.000 s is what a player
//! plays 12 s after the start, encoder delay removed).
//!
//! The decoder runs with gapless trimming off and the skip at the start is applied here from
//! the probe's own numbers (MP3: LAME delay + 529 decoder delay; MP4: the edit list / iTunSMPB
//! delay), so snapping and the picture agree with `chapmark probe` to the sample.

use super::AudioError;
use crate::probe::{Container, ProbeInfo};
use crate::time::Time;
use std::fs::File;
use std::path::Path;
use symphonia::core::codecs::audio::{AudioDecoder, AudioDecoderOptions};
use symphonia::core::formats::probe::Hint;
use symphonia::core::formats::{FormatOptions, FormatReader, SeekMode, SeekTo, TrackType};
use symphonia::core::io::{MediaSourceStream, MediaSourceStreamOptions};
use symphonia::core::meta::MetadataOptions;
use symphonia::core::units::Timestamp;

/// MPEG layer III decoders output 529 samples of filter delay before the first real one.
const MP3_DECODER_DELAY: u64 = 529;

/// How much earlier than asked a window seek lands, so the MP3 bit reservoir and the AAC
/// overlap are primed before the samples we keep.
const PRIME: Time = Time::from_millis(250);

/// A loudness curve: `rms[i]` and `peak[i]` describe the samples of
/// `[start + i·hop, start + (i+1)·hop)`, mono (channels averaged), full scale = 1.0.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Frames {
    /// Playable time of the first frame.
    pub start: Time,
    /// Length of one frame, in samples at `sample_rate`.
    pub hop: u32,
    /// Sample rate of the audio.
    pub sample_rate: u32,
    /// Root mean square per frame.
    pub rms: Vec<f32>,
    /// Largest absolute sample per frame.
    pub peak: Vec<f32>,
}

impl Frames {
    /// Playable time where frame `i` starts (ms, rounded down).
    pub fn time_of(&self, i: usize) -> Time {
        let rate = u64::from(self.sample_rate.max(1));
        let off = (i as u64).saturating_mul(u64::from(self.hop)) * 1000 / rate;
        Time::from_millis(self.start.as_millis().saturating_add(off))
    }

    /// Number of frames.
    pub fn len(&self) -> usize {
        self.rms.len()
    }

    /// No frames at all.
    pub fn is_empty(&self) -> bool {
        self.rms.is_empty()
    }
}

/// An open, decodable audio file.
pub struct Decoder {
    format: Box<dyn FormatReader>,
    decoder: Box<dyn AudioDecoder>,
    track: u32,
    sample_rate: u32,
    /// Time base of packet timestamps, as (numerator, denominator) of a second.
    time_base: (u64, u64),
    /// Samples decoded before playable time 0 (the skip `probe` applies).
    skip: u64,
    /// Symphonia's own delay: its timestamps start at `-delay`.
    sym_delay: u64,
    name: String,
}

impl std::fmt::Debug for Decoder {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Decoder")
            .field("name", &self.name)
            .field("sample_rate", &self.sample_rate)
            .field("skip", &self.skip)
            .finish_non_exhaustive()
    }
}

/// The samples a player drops at the start, per `probe`'s exact-duration logic.
pub fn start_skip(info: &ProbeInfo) -> u64 {
    match info.container {
        Container::Mp3 => info.encoder_delay + MP3_DECODER_DELAY,
        Container::Mp4 => info.encoder_delay,
        // Ogg/FLAC/WAV: symphonia's own timestamps already are the playable timeline.
        _ => 0,
    }
}

impl Decoder {
    /// Opens `path` (already probed as `info`) for decoding.
    pub fn open(path: &Path, info: &ProbeInfo) -> Result<Self, AudioError> {
        let name = path.display().to_string();
        let file = File::open(path).map_err(|e| AudioError::io(&name, e))?;
        let mss = MediaSourceStream::new(Box::new(file), MediaSourceStreamOptions::default());
        let mut hint = Hint::new();
        if let Some(ext) = path.extension().and_then(|e| e.to_str()) {
            hint.with_extension(ext);
        }
        let format = symphonia::default::get_probe()
            .probe(
                &hint,
                mss,
                FormatOptions::default(),
                MetadataOptions::default(),
            )
            .map_err(|e| AudioError::decode(&name, e))?;
        let track = format
            .default_track(TrackType::Audio)
            .ok_or_else(|| AudioError::unsupported(&name, "no audio track"))?;
        let params = track
            .codec_params
            .as_ref()
            .and_then(|p| p.audio())
            .ok_or_else(|| AudioError::unsupported(&name, "no audio codec parameters"))?;
        let opts = AudioDecoderOptions::default().gapless(false);
        let decoder = symphonia::default::get_codecs()
            .make_audio_decoder(params, &opts)
            .map_err(|e| AudioError::decode(&name, e))?;
        let sample_rate = params
            .sample_rate
            .unwrap_or(info.duration.sample_rate)
            .max(1);
        let time_base = track.time_base.map_or((1, u64::from(sample_rate)), |tb| {
            (u64::from(tb.numer.get()), u64::from(tb.denom.get()))
        });
        let sym_delay = u64::from(track.delay.unwrap_or(0));
        let track = track.id;
        let skip = match info.container {
            Container::Mp3 | Container::Mp4 => start_skip(info),
            _ => sym_delay,
        };
        Ok(Decoder {
            format,
            decoder,
            track,
            sample_rate,
            time_base,
            skip,
            sym_delay,
            name,
        })
    }

    /// The decoded sample rate.
    pub fn sample_rate(&self) -> u32 {
        self.sample_rate
    }

    /// Playable sample index of a packet timestamp (may be negative: before the start).
    fn playable(&self, pts: i64) -> i64 {
        let (n, d) = self.time_base;
        let rate = i128::from(self.sample_rate);
        // Symphonia counts from `-sym_delay`; the raw decoded index is pts + sym_delay.
        let raw = i128::from(pts) * i128::from(n) * rate / i128::from(d.max(1))
            + i128::from(self.sym_delay);
        i64::try_from(raw - i128::from(self.skip)).unwrap_or(i64::MAX)
    }

    /// Seeks so that decoding resumes a little before playable time `at`.
    pub fn seek_before(&mut self, at: Time) -> Result<(), AudioError> {
        let from = at.as_millis().saturating_sub(PRIME.as_millis());
        let raw = from * u64::from(self.sample_rate) / 1000 + self.skip;
        let raw = raw.saturating_sub(self.sym_delay);
        let (n, d) = self.time_base;
        let ts = raw * d / (n.max(1) * u64::from(self.sample_rate));
        let ts = Timestamp::from(i64::try_from(ts).unwrap_or(i64::MAX));
        let to = SeekTo::Timestamp {
            ts,
            track_id: self.track,
        };
        match self.format.seek(SeekMode::Accurate, to) {
            Ok(_) => {}
            // Seeking to 0 on a stream that was never read can be refused; reading on from
            // the start is right then.
            Err(e) if from == 0 => log::debug!("{}: seek to start: {e}", self.name),
            Err(e) => return Err(AudioError::decode(&self.name, e)),
        }
        self.decoder.reset();
        Ok(())
    }

    /// The loudness curve of playable `[from, to)` in frames of `hop_ms` milliseconds.
    /// Frames past the end of the audio are left out.
    pub fn frames(&mut self, from: Time, to: Time, hop_ms: u32) -> Result<Frames, AudioError> {
        self.seek_before(from)?;
        let hop = (u64::from(self.sample_rate) * u64::from(hop_ms.max(1)) / 1000).max(1);
        let first = i64::try_from(from.as_millis() * u64::from(self.sample_rate) / 1000)
            .unwrap_or(i64::MAX);
        let last =
            i64::try_from(to.as_millis() * u64::from(self.sample_rate) / 1000).unwrap_or(i64::MAX);
        let mut acc = Accumulator::new(hop as usize);
        self.decode_range(first, last, &mut acc)?;
        acc.flush();
        Ok(Frames {
            start: from,
            hop: u32::try_from(hop).unwrap_or(u32::MAX),
            sample_rate: self.sample_rate,
            rms: acc.rms,
            peak: acc.peak,
        })
    }

    /// Feeds the mono samples of playable sample range `[first, last)` into `acc`.
    pub(crate) fn decode_range(
        &mut self,
        first: i64,
        last: i64,
        acc: &mut Accumulator,
    ) -> Result<(), AudioError> {
        self.decode_with(first, last, &mut |x| acc.push(x))
    }

    /// Hands the mono samples of playable sample range `[first, last)` to `sink`, in order.
    pub fn decode_with<F: FnMut(f32)>(
        &mut self,
        first: i64,
        last: i64,
        sink: &mut F,
    ) -> Result<(), AudioError> {
        let mut buf: Vec<f32> = Vec::new();
        loop {
            let packet = match self.format.next_packet() {
                Ok(Some(p)) => p,
                Ok(None) => break,
                // A damaged or cut tail: what was decoded so far is what plays.
                Err(e) => {
                    log::debug!("{}: demux stops: {e}", self.name);
                    break;
                }
            };
            if packet.track_id != self.track {
                continue;
            }
            let start = self.playable(packet.pts.get());
            if start >= last {
                break;
            }
            let decoded = match self.decoder.decode(&packet) {
                Ok(d) => d,
                // A frame that does not decode (e.g. its bit reservoir is before the seek
                // point) is skipped, as players do.
                Err(e) => {
                    log::debug!("{}: skipping a packet: {e}", self.name);
                    continue;
                }
            };
            let channels = decoded.spec().channels().count().max(1);
            buf.clear();
            decoded.copy_to_vec_interleaved(&mut buf);
            for (k, frame) in buf.chunks(channels).enumerate() {
                let pos = start.saturating_add(k as i64);
                if pos < first {
                    continue;
                }
                if pos >= last {
                    break;
                }
                let mono = frame.iter().sum::<f32>() / channels as f32;
                sink(mono);
            }
        }
        Ok(())
    }
}

/// Sums samples into frames of `hop` samples.
#[derive(Debug)]
pub(crate) struct Accumulator {
    hop: usize,
    n: usize,
    sum_sq: f64,
    max: f32,
    pub(crate) rms: Vec<f32>,
    pub(crate) peak: Vec<f32>,
}

impl Accumulator {
    pub(crate) fn new(hop: usize) -> Self {
        Accumulator {
            hop: hop.max(1),
            n: 0,
            sum_sq: 0.0,
            max: 0.0,
            rms: Vec::new(),
            peak: Vec::new(),
        }
    }

    pub(crate) fn push(&mut self, s: f32) {
        self.sum_sq += f64::from(s) * f64::from(s);
        self.max = self.max.max(s.abs());
        self.n += 1;
        if self.n == self.hop {
            self.flush();
        }
    }

    /// Closes the current frame (a short last frame counts as one).
    pub(crate) fn flush(&mut self) {
        if self.n == 0 {
            return;
        }
        self.rms.push((self.sum_sq / self.n as f64).sqrt() as f32);
        self.peak.push(self.max);
        self.n = 0;
        self.sum_sq = 0.0;
        self.max = 0.0;
    }
}
