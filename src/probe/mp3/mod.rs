//! MPEG audio (MP3, MP2, MP1): exact length by walking every frame header.
//!
//! * `header`: the 4-byte frame header → frame length and samples per frame;
//! * `vbr`: Xing/Info + LAME tag (gapless delay/padding) and VBRI in the first frame;
//! * `tags`: ID3v2 (leading, stacked, appended, in-stream), ID3v1, APE, Lyrics3 — the byte
//!   ranges that are not audio;
//! * `scan`: the frame walk with resync over junk.
//!
//! The playable length follows what a gapless decoder (ffmpeg, mpg123, foobar2000) outputs:
//! frames × samples per frame, minus the LAME encoder delay and padding. When the LAME tag's
//! frame count and the walk disagree (a cut or concatenated file) the walk wins, with the same
//! trimming rules ffmpeg applies, and a warning.

mod header;
mod scan;
mod tags;
mod vbr;

pub use header::MpegVersion;
pub use vbr::VbrHeaderKind;

use super::detect::Detected;
use super::io::Source;
use super::{Container, Method, ProbeError, ProbeInfo, TagSummary};
use crate::time::SampleTime;
use serde::Serialize;
use std::io::{Read, Seek};

/// The MPEG decoder delay (mpglib/ffmpeg): decoders output this many samples of the
/// synthesis filter's warm-up before the encoder's first sample. LAME's padding value
/// includes it; its delay value does not.
const DECODER_DELAY: u64 = 529;

/// Where the leading ID3v2 tag ends and the audio starts: what the ID3 writer needs to replace
/// the tag in place (reusing its padding) without touching a byte of audio.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Id3v2Region {
    /// Bytes from offset 0 to the end of the leading ID3v2 tag(s), including the header,
    /// footer and padding; 0 when the file starts with no tag. Stacked tags are all included.
    pub size: u64,
    /// Offset of the first MPEG audio frame (the Xing/Info frame when there is one). Equal to
    /// `size` in a clean file; larger when zero bytes or junk follow the tag.
    pub first_frame: u64,
    /// Major version of the first tag (2, 3 or 4), if any.
    pub version: Option<u8>,
    /// Padding of the first tag in bytes.
    pub padding: u64,
    /// Number of ID3v2 tags at the start (more than one is rare but real).
    pub tags: usize,
}

/// Locates the leading ID3v2 tag region and the first MPEG frame of an MP3.
///
/// `name` is used in error messages. Fails like the probe does when the file holds no MPEG
/// audio, so a writer never edits a file it cannot measure.
pub fn id3v2_region<R: Read + Seek>(reader: R, name: &str) -> Result<Id3v2Region, ProbeError> {
    let mut src = Source::new(reader).map_err(|e| ProbeError::io(name, e))?;
    let lead = leading_tags(&mut src, name)?;
    let trailing = tags::trailing(&mut src, lead.end).map_err(|e| ProbeError::io(name, e))?;
    let (first, _) = first_frame(&mut src, name, lead.end, trailing.audio_end)?;
    let first_tag = lead.tags.first().map(|t| &t.summary);
    Ok(Id3v2Region {
        size: lead.end,
        first_frame: first,
        version: first_tag.map(|s| s.version),
        padding: first_tag.map_or(0, |s| s.padding),
        tags: lead.tags.len(),
    })
}

/// What the frame walk found, for people debugging a length.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Mp3Details {
    /// MPEG version.
    pub version: MpegVersion,
    /// Layer (1, 2 or 3).
    pub layer: u8,
    /// 1152 (MPEG-1 layer II/III, layer II), 576 (MPEG-2/2.5 layer III) or 384 (layer I).
    pub samples_per_frame: u32,
    /// `cbr` when every frame has the same bitrate, else `vbr`.
    pub bitrate_mode: &'static str,
    /// The VBR header in the first frame, if any.
    pub vbr_header: Option<VbrHeaderKind>,
    /// Frame count the VBR header states (excluding its own frame).
    pub header_frames: Option<u64>,
    /// Encoder named in the LAME tag (`LAME3.100`, `Lavc59.37`).
    pub encoder: Option<String>,
    /// End of the leading ID3v2 tag(s).
    pub id3v2_end: u64,
    /// Offset of the first frame (the VBR header frame when there is one).
    pub first_frame: u64,
    /// End of the audio: where the trailing tags (or the file) begin.
    pub audio_end: u64,
    /// Non-audio bytes skipped between frames.
    pub junk_bytes: u64,
    /// Bytes missing from a truncated last frame.
    pub truncated_bytes: u64,
}

struct LeadingTags {
    end: u64,
    tags: Vec<tags::Id3Tag>,
}

fn leading_tags<R: Read + Seek>(
    src: &mut Source<R>,
    name: &str,
) -> Result<LeadingTags, ProbeError> {
    match tags::leading(src) {
        Ok(l) => Ok(LeadingTags {
            end: l.end,
            tags: l.tags,
        }),
        Err(e) if e.kind() == std::io::ErrorKind::UnexpectedEof => {
            Err(ProbeError::truncated(name, "mp3", e.to_string()))
        }
        Err(e) => Err(ProbeError::io(name, e)),
    }
}

fn first_frame<R: Read + Seek>(
    src: &mut Source<R>,
    name: &str,
    from: u64,
    end: u64,
) -> Result<(u64, header::FrameHeader), ProbeError> {
    match scan::find_first(src, from, end).map_err(|e| ProbeError::io(name, e))? {
        Ok(found) => Ok(found),
        Err(scan::SyncFailure::FreeFormat) => Err(ProbeError::FreeFormat {
            file: name.to_string(),
        }),
        Err(scan::SyncFailure::NoFrames) => Err(ProbeError::NoMpegFrames {
            file: name.to_string(),
        }),
    }
}

/// Whether the content at `from` starts an MPEG audio stream (used by detection when no
/// other magic matched).
pub(crate) fn looks_like_mpeg<R: Read + Seek>(
    src: &mut Source<R>,
    from: u64,
) -> std::io::Result<bool> {
    let end = src.len();
    Ok(scan::find_first(src, from, end.min(from.saturating_add(64 * 1024)))?.is_ok())
}

/// Reads the leading ID3v2 tags for detection (which must skip them to see the real magic).
pub(crate) fn detect_leading<R: Read + Seek>(
    src: &mut Source<R>,
    name: &str,
) -> Result<(u64, Option<super::Id3Summary>, usize), ProbeError> {
    let l = leading_tags(src, name)?;
    Ok((
        l.end,
        l.tags.first().map(|t| t.summary.clone()),
        l.tags.len(),
    ))
}

/// Length of the playable audio under ffmpeg's gapless rules (`mp3dec.c` + `demux.c`).
///
/// The decoder outputs `frames × spf` samples; it skips `delay + 529` at the start, and drops
/// the samples from `stated × spf − padding + 529` to `stated × spf` where they exist (only
/// when the padding covers the decoder delay). With `frames == stated` this is the familiar
/// `frames × spf − delay − padding`.
fn gapless_length(frames: u64, stated: u64, spf: u64, delay: u64, padding: u64) -> u64 {
    let total = frames.saturating_mul(spf);
    let start_skip = delay + DECODER_DELAY;
    let end_trim = if padding >= DECODER_DELAY {
        let first_discard = stated
            .saturating_mul(spf)
            .saturating_sub(padding - DECODER_DELAY);
        let last_discard = stated.saturating_mul(spf);
        total.min(last_discard).saturating_sub(first_discard)
    } else {
        0
    };
    total.saturating_sub(end_trim).saturating_sub(start_skip)
}

/// Measures an MPEG audio stream. `found` carries the leading tags detection already read.
pub(crate) fn probe<R: Read + Seek>(
    src: &mut Source<R>,
    name: &str,
    found: &Detected,
) -> Result<ProbeInfo, ProbeError> {
    let io = |e| ProbeError::io(name, e);
    let mut warnings = Vec::new();
    let lead = leading_tags(src, name)?;
    for t in &lead.tags {
        warnings.extend(t.warnings.iter().cloned());
    }
    if lead.tags.len() > 1 {
        warnings.push(format!(
            "{} id3v2 tags are stacked at the start; players read only the first",
            lead.tags.len()
        ));
    }
    let trailing = tags::trailing(src, lead.end).map_err(io)?;
    let audio_end = trailing.audio_end;
    let (first_pos, first) = first_frame(src, name, lead.end, audio_end)?;
    debug_assert_eq!(found.start, lead.end);
    if first_pos > lead.end {
        warnings.push(format!(
            "{} bytes between the {} and the first frame are not audio",
            first_pos - lead.end,
            if lead.end > 0 {
                "id3v2 tag"
            } else {
                "start of the file"
            }
        ));
    }

    // The first frame: a VBR header frame is metadata, not audio.
    let frame_bytes = src
        .window(first_pos, first.len as usize)
        .map_err(io)?
        .to_vec();
    let vbr = vbr::parse(&first, &frame_bytes);
    let audio_start = match &vbr {
        Some(_) => first_pos + u64::from(first.len),
        None => first_pos,
    };
    let bits = first.raw & header::SAME_STREAM_MASK;
    let walk = scan::walk(src, audio_start, audio_end, bits).map_err(io)?;

    let spf = u64::from(first.samples);
    let frames = walk.frames;
    let mut delay = 0u64;
    let mut padding = 0u64;
    let mut method = Method::FrameScan;
    let mut samples = frames * spf;
    let mut encoder = None;
    if let Some(v) = &vbr {
        if let Some(stated) = v.frames {
            if stated != frames {
                warnings.push(format!(
                    "the {} header says {stated} frames but the file has {frames}; the frame count from the file is used",
                    match v.kind {
                        VbrHeaderKind::Xing => "xing",
                        VbrHeaderKind::Info => "info",
                        VbrHeaderKind::Vbri => "vbri",
                    }
                ));
            }
        }
        if let Some(lame) = &v.lame {
            encoder = Some(lame.encoder.clone());
            delay = u64::from(lame.delay);
            padding = u64::from(lame.padding);
            let stated = v.frames.unwrap_or(frames);
            samples = gapless_length(frames, stated, spf, delay, padding);
            method = Method::XingLame;
            if !lame.crc_ok {
                warnings.push(
                    "the lame tag checksum does not match; its delay and padding were used anyway (as ffmpeg does)"
                        .to_string(),
                );
            }
            if padding < DECODER_DELAY {
                warnings.push(format!(
                    "the lame tag's padding ({padding}) is below the decoder delay (529): players keep the tail"
                ));
            }
        } else if let Some(d) = v.vbri_delay {
            warnings.push(format!(
                "the vbri header's delay ({d}) is not applied: decoders ignore it"
            ));
        }
    }
    if method == Method::FrameScan {
        warnings.push(
            "no gapless (lame) information: the length includes the encoder's delay and padding, as decoders play it"
                .to_string(),
        );
    }
    if walk.junk_bytes > 0 {
        warnings.push(format!(
            "skipped {} bytes of non-audio data between frames in {} place(s)",
            walk.junk_bytes, walk.junk_runs
        ));
    }
    if walk.truncated_bytes > 0 {
        warnings.push(format!(
            "the last frame is truncated ({} bytes missing); it is counted, as decoders play it",
            walk.truncated_bytes
        ));
    }
    if walk.trailing_bytes > 0 {
        warnings.push(format!(
            "{} bytes after the last frame are not audio",
            walk.trailing_bytes
        ));
    }
    for t in &walk.inner_tags {
        warnings.push(format!(
            "an id3v2 tag ({} bytes) sits between frames at offset {}",
            t.summary.size, t.summary.offset
        ));
    }

    let mut id3 = lead.tags.first().map(|t| t.summary.clone());
    if id3.is_none() {
        id3 = trailing
            .id3v2
            .as_ref()
            .map(|t| t.summary.clone())
            .or_else(|| walk.inner_tags.last().map(|t| t.summary.clone()));
    }
    if trailing.lyrics3 {
        warnings.push("a lyrics3v2 block precedes the id3v1 tag".to_string());
    }
    let bitrate_mode = if walk.min_kbps == walk.max_kbps {
        "cbr"
    } else {
        "vbr"
    };
    Ok(ProbeInfo {
        container: Container::Mp3,
        codec: first.codec().to_string(),
        sample_rate: first.sample_rate,
        channels: first.channels,
        duration: SampleTime::new(samples, first.sample_rate),
        method,
        encoder_delay: delay,
        encoder_padding: padding,
        frames: Some(frames),
        file_size: src.len(),
        audio_bytes: Some(walk.audio_bytes),
        bitrate: None,
        tags: TagSummary {
            id3,
            ape: trailing.ape,
            id3v1: trailing.id3v1,
            mp4_chapters: None,
            vorbis: None,
        },
        mp3: Some(Mp3Details {
            version: first.version,
            layer: first.layer,
            samples_per_frame: first.samples,
            bitrate_mode,
            vbr_header: vbr.as_ref().map(|v| v.kind),
            header_frames: vbr.as_ref().and_then(|v| v.frames),
            encoder,
            id3v2_end: lead.end,
            first_frame: first_pos,
            audio_end,
            junk_bytes: walk.junk_bytes,
            truncated_bytes: walk.truncated_bytes,
        }),
        warnings,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn gapless_matches_lame_when_counts_agree() {
        // 100 003 samples encoded by LAME 3.100: 88 frames, delay 576, padding 797.
        assert_eq!(gapless_length(88, 88, 1152, 576, 797), 100_003);
    }

    #[test]
    fn gapless_cut_file_keeps_decoder_delay_rule() {
        // 10 frames missing: no end trim is reached; start skip is delay + 529.
        assert_eq!(
            gapless_length(78, 88, 1152, 576, 797),
            78 * 1152 - 576 - 529
        );
        // Extra frames after the stated end: only the padding inside the stated end is cut.
        assert_eq!(
            gapless_length(90, 88, 1152, 576, 797),
            90 * 1152 - 576 - 797
        );
        // Zero padding: ffmpeg trims nothing at the end but still skips 529 at the start.
        assert_eq!(gapless_length(10, 10, 1152, 0, 0), 10 * 1152 - 529);
        assert_eq!(gapless_length(0, 0, 1152, 576, 797), 0);
    }
}
