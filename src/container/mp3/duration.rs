//! The playable length of an MPEG audio stream: every frame walked, then the LAME gapless
//! delay and padding applied as ffmpeg does.

use super::header::FrameHeader;
use super::segments::Stitched;
use super::vbr::{self, VbrHeader, VbrHeaderKind};
use super::{
    DECODER_DELAY, LeadingTags, Mp3Details, first_frame, frames, leading_tags, proven, segments,
};
use crate::container::io::Source;
use crate::container::{Container, id3v2};
use crate::probe::detect::Detected;
use crate::probe::{Method, ProbeError, ProbeInfo, TagSummary};
use std::io::{self, Read, Seek};

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
/// Every frame is walked when `verify`, else only when the VBR header does not prove the
/// length (see `proven`).
pub(crate) fn probe<R: Read + Seek>(
    src: &mut Source<R>,
    name: &str,
    found: &Detected,
    verify: bool,
) -> Result<ProbeInfo, ProbeError> {
    let io = |e| ProbeError::io(name, e);
    let mut warnings = Vec::new();
    let lead = leading_tags(src, name)?;
    lead_warnings(&lead, &mut warnings);
    let trailing = id3v2::tags::trailing(src, lead.end).map_err(io)?;
    let audio_end = trailing.audio_end;
    let (first_pos, first) = first_frame(src, name, lead.end, audio_end)?;
    debug_assert_eq!(found.start, lead.end);
    gap_warning(lead.end, first_pos, &mut warnings);

    // The first frame: a VBR header frame is metadata, not audio.
    let frame_bytes = src
        .window(first_pos, first.len as usize)
        .map_err(io)?
        .to_vec();
    let vbr = vbr::parse(&first, &frame_bytes);
    let stream = Stream {
        lead_end: lead.end,
        first_pos,
        first: &first,
        vbr: vbr.as_ref(),
        audio_end,
    };
    let (mut stitched, from_header) = measure(src, &stream, verify).map_err(io)?;
    let walk = std::mem::take(&mut stitched.walk);

    let spf = u64::from(first.samples);
    // The first segment's frames: what its VBR header and gapless data describe.
    let frames = stitched.first_frames();
    // ffmpeg drops the end trim of a file it takes for a concatenation.
    let concatenated = vbr
        .as_ref()
        .is_some_and(|v| segments::concatenated(v, src.len(), first_pos));
    let g = gapless(vbr.as_ref(), frames, spf, concatenated, &mut warnings);
    walk_warnings(&walk, &mut warnings);
    let duration = stitched.finish(g.samples);
    warnings.extend(stitched.warnings());

    let tags = tag_summary(&lead, &trailing, &walk, &mut warnings);
    Ok(ProbeInfo {
        container: Container::Mp3,
        codec: first.codec().to_string(),
        sample_rate: first.sample_rate,
        channels: first.channels,
        duration,
        method: g.method,
        encoder_delay: g.delay,
        encoder_padding: g.padding,
        frames: Some(walk.frames),
        file_size: src.len(),
        audio_bytes: Some(walk.audio_bytes),
        bitrate: None,
        tags,
        mp3: Some(Mp3Details {
            version: first.version,
            layer: first.layer,
            samples_per_frame: first.samples,
            bitrate_mode: bitrate_mode(&walk),
            vbr_header: vbr.as_ref().map(|v| v.kind),
            header_frames: vbr.as_ref().and_then(|v| v.frames),
            encoder: g.encoder,
            id3v2_end: lead.end,
            first_frame: first_pos,
            audio_end,
            junk_bytes: walk.junk_bytes,
            truncated_bytes: walk.truncated_bytes,
            segments: stitched.segments,
            length_from_header: from_header,
        }),
        warnings,
    })
}

/// `cbr` when every frame seen has the same bitrate, else `vbr`.
fn bitrate_mode(walk: &frames::Walk) -> &'static str {
    if walk.min_kbps == walk.max_kbps {
        "cbr"
    } else {
        "vbr"
    }
}

/// Where the stream is: after the leading tags (ending at `lead_end`), from its first frame
/// `first` at `first_pos` (carrying the VBR header `vbr`, if any) to `audio_end`.
struct Stream<'a> {
    lead_end: u64,
    first_pos: u64,
    first: &'a FrameHeader,
    vbr: Option<&'a VbrHeader>,
    audio_end: u64,
}

/// Walks the stream, or (unless `verify`) takes its frames from a VBR header that proves
/// them; `true` in the second place when the header did.
fn measure<R: Read + Seek>(
    src: &mut Source<R>,
    s: &Stream<'_>,
    verify: bool,
) -> io::Result<(Stitched, bool)> {
    if let (Some(v), false) = (s.vbr, verify) {
        match proven::prove(src, s.lead_end, s.first_pos, s.first, v, s.audio_end)? {
            Ok(p) => {
                let single = Stitched::single(s.first_pos, s.first, v, &p, s.audio_end);
                return Ok((single, true));
            }
            Err(why) => log::debug!("walking every frame: {why}"),
        }
    }
    let audio_start = match s.vbr {
        Some(_) => s.first_pos + u64::from(s.first.len),
        None => s.first_pos,
    };
    segments::walk(src, s.first_pos, s.first, s.vbr, audio_start, s.audio_end).map(|w| (w, false))
}

/// The playable length and gapless figures from the VBR header's LAME tag, if any.
struct Gapless {
    samples: u64,
    delay: u64,
    padding: u64,
    method: Method,
    encoder: Option<String>,
}

/// Applies the LAME tag of `vbr` (if any) to `frames` frames of `spf` samples; without the
/// end trim when ffmpeg takes the file for a `concatenated` one.
fn gapless(
    vbr: Option<&VbrHeader>,
    frames: u64,
    spf: u64,
    concatenated: bool,
    warnings: &mut Vec<String>,
) -> Gapless {
    let mut delay = 0u64;
    let mut padding = 0u64;
    let mut method = Method::FrameScan;
    let mut samples = frames * spf;
    let mut encoder = None;
    if let Some(v) = vbr {
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
            let trimmed = if concatenated { 0 } else { padding };
            samples = gapless_length(frames, stated, spf, delay, trimmed);
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
    Gapless {
        samples,
        delay,
        padding,
        method,
        encoder,
    }
}

/// The tags around the audio: the leading ID3v2 tag, else an appended one, else the last
/// one inside the stream.
fn tag_summary(
    lead: &LeadingTags,
    trailing: &id3v2::tags::Trailing,
    walk: &frames::Walk,
    warnings: &mut Vec<String>,
) -> TagSummary {
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
    TagSummary {
        id3,
        ape: trailing.ape,
        id3v1: trailing.id3v1,
        mp4_chapters: None,
        vorbis: None,
    }
}

/// A warning when bytes that are not audio sit between the leading tag (or the start of the
/// file) at `lead_end` and the first frame.
fn gap_warning(lead_end: u64, first_pos: u64, warnings: &mut Vec<String>) {
    if first_pos > lead_end {
        warnings.push(format!(
            "{} bytes between the {} and the first frame are not audio",
            first_pos - lead_end,
            if lead_end > 0 {
                "id3v2 tag"
            } else {
                "start of the file"
            }
        ));
    }
}

/// Warnings about the leading tags.
fn lead_warnings(lead: &LeadingTags, warnings: &mut Vec<String>) {
    for t in &lead.tags {
        warnings.extend(t.warnings.iter().cloned());
    }
    if lead.tags.len() > 1 {
        warnings.push(format!(
            "{} id3v2 tags are stacked at the start; players read only the first",
            lead.tags.len()
        ));
    }
}

/// Warnings about what the frame walk met.
fn walk_warnings(walk: &frames::Walk, warnings: &mut Vec<String>) {
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
