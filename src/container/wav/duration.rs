//! WAV via hound: the data chunk size divided by the block size is the exact length.
//!
//! hound reads the RIFF header up to the start of the data chunk (including
//! `WAVE_FORMAT_EXTENSIBLE`) and nothing more; we only add a check that the data chunk is
//! really there, because a cut file still declares its original size.

use crate::container::Container;
use crate::container::io::Offset;
use crate::probe::{Method, ProbeError, ProbeInfo, TagSummary};
use crate::time::SampleTime;
use std::io::{Read, Seek, SeekFrom};

/// Measures a RIFF WAVE file starting at `start`.
pub(crate) fn probe<R: Read + Seek>(
    reader: R,
    name: &str,
    start: u64,
) -> Result<ProbeInfo, ProbeError> {
    let io = |e| ProbeError::io(name, e);
    let view = Offset::new(reader, start).map_err(io)?;
    let wav = hound::WavReader::new(std::io::BufReader::with_capacity(8192, view)).map_err(
        |e| match e {
            hound::Error::IoError(e) if e.kind() == std::io::ErrorKind::UnexpectedEof => {
                ProbeError::truncated(name, "wav", "the file ends before the data chunk")
            }
            hound::Error::IoError(e) => io(e),
            hound::Error::Unsupported => ProbeError::unsupported(
                name,
                "this wav sample format (only pcm and ieee float are measured)",
            ),
            other => ProbeError::invalid(name, "wav", other.to_string()),
        },
    )?;
    let spec = wav.spec();
    let declared = u64::from(wav.duration());
    let block = u64::from(spec.channels) * u64::from(spec.bits_per_sample.div_ceil(8));
    let mut inner = wav.into_inner();
    // hound stopped right at the first data byte.
    let data_start = inner.stream_position().map_err(io)?;
    let end = inner.seek(SeekFrom::End(0)).map_err(io)?;
    let file_size = start + end;
    let available_bytes = end.saturating_sub(data_start);
    let mut warnings = Vec::new();
    let mut samples = declared;
    let declared_bytes = declared * block;
    if block > 0 && available_bytes < declared_bytes {
        samples = available_bytes / block;
        warnings.push(format!(
            "the data chunk declares {declared} samples but the file holds only {samples}; the file is cut"
        ));
    }
    let codec = match (spec.sample_format, spec.bits_per_sample) {
        (hound::SampleFormat::Float, b) => format!("pcm_f{b}le"),
        (hound::SampleFormat::Int, 8) => "pcm_u8".to_string(),
        (hound::SampleFormat::Int, b) => format!("pcm_s{b}le"),
    };
    if spec.sample_rate == 0 {
        return Err(ProbeError::invalid(name, "wav", "sample rate is 0"));
    }
    Ok(ProbeInfo {
        container: Container::Wav,
        codec,
        sample_rate: spec.sample_rate,
        channels: spec.channels,
        duration: SampleTime::new(samples, spec.sample_rate),
        method: Method::Header,
        encoder_delay: 0,
        encoder_padding: 0,
        frames: None,
        file_size,
        audio_bytes: Some(samples * block),
        bitrate: None,
        tags: TagSummary::default(),
        mp3: None,
        warnings,
    })
}
