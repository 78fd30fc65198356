//! FLAC and Ogg (Vorbis, Opus, FLAC) through symphonia's demuxers — no decoding.
//!
//! * FLAC: STREAMINFO's total sample count (exact; written by every encoder that can seek
//!   back). When it is 0 (a streamed encode), every frame is demuxed and counted.
//! * Ogg: symphonia reads the last page's granule position (the stream's end in samples) and
//!   the first audio page's start. Playable = last granule − start; for Opus also minus the
//!   pre-skip from `OpusHead` (granules count the pre-skip; 312 from libopus). This is exact
//!   as the Ogg mappings define it. Symphonia has no Opus decoder, but none is needed.

use super::Container;
use super::io::Offset;
use crate::probe::{Method, ProbeError, ProbeInfo, TagSummary};
use crate::time::SampleTime;
use std::io::{Read, Seek, SeekFrom};
use std::panic::{AssertUnwindSafe, catch_unwind};
use symphonia::core::codecs::audio::well_known::{CODEC_ID_FLAC, CODEC_ID_OPUS, CODEC_ID_VORBIS};
use symphonia::core::formats::probe::Hint;
use symphonia::core::formats::{FormatOptions, TrackType};
use symphonia::core::io::{MediaSource, MediaSourceStream, MediaSourceStreamOptions};
use symphonia::core::meta::MetadataOptions;

/// A seekable source of known length, as symphonia wants it.
struct Src<R> {
    inner: R,
    len: u64,
}

impl<R: Read> Read for Src<R> {
    fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
        self.inner.read(buf)
    }
}

impl<R: Seek> Seek for Src<R> {
    fn seek(&mut self, pos: SeekFrom) -> std::io::Result<u64> {
        self.inner.seek(pos)
    }
}

impl<R: Read + Seek + Send + Sync> MediaSource for Src<R> {
    fn is_seekable(&self) -> bool {
        true
    }

    fn byte_len(&self) -> Option<u64> {
        Some(self.len)
    }
}

/// Measures a FLAC or Ogg file whose own bytes start at `start`.
pub(crate) fn probe<R: Read + Seek + Send + Sync>(
    reader: R,
    name: &str,
    container: Container,
    start: u64,
) -> Result<ProbeInfo, ProbeError> {
    let cname = container.name();
    let mut view = Offset::new(reader, start).map_err(|e| ProbeError::io(name, e))?;
    let len = view
        .seek(SeekFrom::End(0))
        .and_then(|l| view.seek(SeekFrom::Start(0)).map(|_| l))
        .map_err(|e| ProbeError::io(name, e))?;
    // Symphonia is robust, but the promise is "never panic on any input": contain it.
    match catch_unwind(AssertUnwindSafe(|| measure(view, len, name, container))) {
        Ok(r) => r.map(|mut info| {
            info.file_size = start + len;
            info
        }),
        Err(_) => Err(ProbeError::invalid(
            name,
            cname,
            "the demuxer failed on malformed data",
        )),
    }
}

fn measure<R: Read + Seek + Send + Sync>(
    view: R,
    len: u64,
    name: &str,
    container: Container,
) -> Result<ProbeInfo, ProbeError> {
    let cname = container.name();
    let sym = |e: symphonia::core::errors::Error| match e {
        symphonia::core::errors::Error::IoError(io)
            if io.kind() == std::io::ErrorKind::UnexpectedEof =>
        {
            ProbeError::truncated(name, cname, "the stream ends inside its headers")
        }
        symphonia::core::errors::Error::IoError(io) => ProbeError::io(name, io),
        other => ProbeError::invalid(name, cname, other.to_string()),
    };
    let mss = MediaSourceStream::new(
        Box::new(Src { inner: view, len }),
        MediaSourceStreamOptions::default(),
    );
    let mut hint = Hint::new();
    hint.with_extension(match container {
        Container::Flac => "flac",
        _ => "ogg",
    });
    let mut format = symphonia::default::get_probe()
        .probe(
            &hint,
            mss,
            FormatOptions::default(),
            MetadataOptions::default(),
        )
        .map_err(sym)?;
    let track = format
        .default_track(TrackType::Audio)
        .ok_or_else(|| ProbeError::invalid(name, cname, "no audio track"))?
        .clone();
    let (codec, sample_rate, channels) = audio_params(&track, name, cname)?;
    let mut warnings = Vec::new();
    let is_opus = codec == "opus";
    let pre_skip = if is_opus {
        u64::from(track.delay.unwrap_or(0))
    } else {
        0
    };
    let (samples, method) =
        length(&mut *format, &track, container, pre_skip, &mut warnings).map_err(sym)?;
    Ok(ProbeInfo {
        container,
        codec: codec.to_string(),
        sample_rate,
        channels,
        duration: SampleTime::new(samples, sample_rate),
        method,
        encoder_delay: pre_skip,
        encoder_padding: u64::from(track.padding.unwrap_or(0)),
        frames: None,
        file_size: len,
        audio_bytes: None,
        bitrate: None,
        tags: TagSummary::default(),
        mp3: None,
        warnings,
    })
}

/// Codec name, sample rate and channel count of an audio track we measure.
fn audio_params(
    track: &symphonia::core::formats::Track,
    name: &str,
    cname: &'static str,
) -> Result<(&'static str, u32, u16), ProbeError> {
    let params = track
        .codec_params
        .as_ref()
        .and_then(|p| p.audio())
        .ok_or_else(|| ProbeError::unsupported(name, format!("this {cname} codec")))?
        .clone();
    let codec = match params.codec {
        c if c == CODEC_ID_FLAC => "flac",
        c if c == CODEC_ID_VORBIS => "vorbis",
        c if c == CODEC_ID_OPUS => "opus",
        _ => return Err(ProbeError::unsupported(name, format!("this {cname} codec"))),
    };
    let sample_rate = params
        .sample_rate
        .filter(|&r| r > 0)
        .ok_or_else(|| ProbeError::invalid(name, cname, "no sample rate"))?;
    let channels = params
        .channels
        .as_ref()
        .map(|c| u16::try_from(c.count()).unwrap_or(u16::MAX))
        .unwrap_or(0);
    Ok((codec, sample_rate, channels))
}

/// The playable length in samples and where it came from: STREAMINFO checked against the
/// last frame (FLAC), the last granule (Ogg), or every packet counted.
fn length(
    format: &mut dyn symphonia::core::formats::FormatReader,
    track: &symphonia::core::formats::Track,
    container: Container,
    pre_skip: u64,
    warnings: &mut Vec<String>,
) -> Result<(u64, Method), symphonia::core::errors::Error> {
    let cname = container.name();
    let start_ts = track.start_ts.get();
    Ok(match (container, track.num_frames) {
        (Container::Flac, Some(n)) if n > 0 => match flac_frames_end(format, track.id, n) {
            Some(end) if end < n => {
                warnings.push(format!(
                    "streaminfo says {n} samples but the frames end at {end}; the file is cut"
                ));
                (end, Method::PacketScan)
            }
            Some(_) => (n, Method::Header),
            None => {
                warnings.push(
                    "could not check that the last flac frame is present; streaminfo's total is used"
                        .to_string(),
                );
                (n, Method::Header)
            }
        },
        (Container::Ogg, Some(last_granule)) => {
            // Granules before 0 are discarded by the decoder; a positive start means the
            // stream was cut from a longer one and starts late.
            let start = u64::try_from(start_ts).unwrap_or(0);
            if start > 0 {
                warnings.push(format!(
                    "the stream starts at granule {start}, not 0 (cut from a longer stream)"
                ));
            }
            (
                last_granule.saturating_sub(start).saturating_sub(pre_skip),
                Method::Granule,
            )
        }
        _ => {
            warnings.push(format!(
                "the {cname} header gives no total length; every packet was counted"
            ));
            (count_packets(format, track.id)?, Method::PacketScan)
        }
    })
}

/// Where the FLAC frames really end: seek near the STREAMINFO end and demux what is left.
/// A cut file still declares its original total; this costs one seek and a frame or two.
/// `None` when the check itself fails (seek refused).
fn flac_frames_end(
    format: &mut dyn symphonia::core::formats::FormatReader,
    track: u32,
    total: u64,
) -> Option<u64> {
    use symphonia::core::formats::{SeekMode, SeekTo};
    use symphonia::core::units::Timestamp;
    let ts = Timestamp::try_from(total.saturating_sub(1)).ok()?;
    let mut end = match format.seek(
        SeekMode::Accurate,
        SeekTo::Timestamp {
            ts,
            track_id: track,
        },
    ) {
        Ok(seeked) => u64::try_from(seeked.actual_ts.get()).ok()?,
        // The seek fails when no frame near the end exists (a badly cut file): count from
        // the start instead.
        Err(_) => {
            let zero = SeekTo::Timestamp {
                ts: Timestamp::ZERO,
                track_id: track,
            };
            format.seek(SeekMode::Accurate, zero).ok()?;
            0
        }
    };
    // Demux errors here mean a damaged tail: what was read so far is what plays.
    while let Ok(Some(p)) = format.next_packet() {
        if p.track_id == track {
            let start = u64::try_from(p.pts.get()).unwrap_or(0);
            end = end.max(start.saturating_add(p.dur.get()));
        }
    }
    Some(end)
}

/// Sums the playable duration of every packet of `track` (duration minus trims).
fn count_packets(
    format: &mut dyn symphonia::core::formats::FormatReader,
    track: u32,
) -> Result<u64, symphonia::core::errors::Error> {
    let mut total = 0u64;
    while let Some(p) = format.next_packet()? {
        if p.track_id == track {
            let d = p
                .dur
                .get()
                .saturating_sub(p.trim_start.get())
                .saturating_sub(p.trim_end.get());
            total = total.saturating_add(d);
        }
    }
    Ok(total)
}
