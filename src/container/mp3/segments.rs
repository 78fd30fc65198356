//! Stitched streams: MP3 files made by concatenating separately encoded files (dynamic ad
//! insertion: pre-, mid- and post-rolls around an episode), each part with its own ID3v2 tag
//! and Xing/Info header, sometimes at another sample rate or channel count.
//!
//! The frame walk splits the stream into [`Segment`]s where one of these starts: a frame of
//! another MPEG version, layer or sample rate, a change between mono and stereo, a Xing/Info
//! frame, or an ID3v2 tag between frames. Bitrate changes alone (VBR) are not boundaries.
//!
//! # The length rule (what ffmpeg plays)
//!
//! Measured with ffmpeg 5.1 (`ffmpeg -i F -af ashowinfo -f null -`, which lists every decoded
//! frame with its rate and sample count, and `ffmpeg -i F -f s16le - | wc -c`) on the
//! fixtures of `fixtures/audio/stitched/make.sh`, and read in `libavformat/mp3dec.c`
//! (`mp3_parse_info_tag`) and `libavformat/demux.c` (skip/discard samples):
//!
//! 1. Only the **first** frame's Xing/Info/LAME header is read. Its encoder delay is skipped
//!    (`delay + 529` samples at the start). Its padding is trimmed at the *stated* frame count
//!    of that header — unless the file is larger than the header's byte count by more than
//!    1/16 ("invalid concatenated file detected"): then the frame count is dropped and no end
//!    trim happens at all. The byte test uses the file size from the first frame on (ID3v1
//!    and other trailing tags included), as ffmpeg does.
//! 2. Every later Xing/Info frame is decoded as an ordinary frame (one frame of silence), and
//!    the encoder delay and padding in later LAME tags are ignored: each later segment plays
//!    `(frames + 1 for its Info frame) × samples per frame`.
//! 3. Each frame plays at its own rate. The decoder keeps no samples across a change.
//! 4. Non-audio bytes between frames (the next part's ID3v2 tag, the previous part's ID3v1
//!    tag, junk) are glued by ffmpeg's parser to the next frame header it finds, and its
//!    decoder drops such a packet unless only zero bytes precede the header: the first frame
//!    after a tag is lost (two when a false sync inside the tag runs into the audio). See
//!    `ffmpeg_dropped`; each segment lists these as `dropped_frames`. Measured: ID3v1 only
//!    between parts costs 1 frame per boundary (the next part's Info frame), ID3v2 only 2,
//!    both 2; no tags, none. Junk at the very start is skipped by the demuxer, not dropped.
//!
//! The total is therefore exact in samples per segment; it is summed in
//! [`TIME_BASE`] (14 112 000 Hz, the least common multiple of every MPEG sample rate, which
//! ffmpeg also uses as the MP3 stream time base), so no rate's samples are rounded.
//!
//! Known deviation: ffmpeg 5.1's decoder labels the *first* frame after a rate change with the
//! previous rate (it updates the context's rate after allocating the frame), so `ffmpeg`'s
//! resampled output differs from this sum by under one frame per rate change. Other players
//! mis-time such files in their own ways, which is why `check` warns (`mixed-stream`).

use super::frames::{self as scan, SyncFailure, Walk};
use super::header::{self, FrameHeader, MpegVersion, SAME_STREAM_MASK};
use super::vbr::{self, VbrHeader, VbrHeaderKind};
use crate::container::id3v2::tags;
use crate::container::io::{MAX_WINDOW, Source};
use crate::time::SampleTime;
use serde::Serialize;
use std::io::{self, Read, Seek};

/// A time base in which every MPEG audio sample rate has a whole number of ticks per sample.
pub const TIME_BASE: u32 = 14_112_000;

/// Most segments listed; a stream that changes more often is damaged rather than stitched,
/// and the rest is counted in the last segment's totals.
const MAX_SEGMENTS: usize = 4096;

/// One separately encoded part of an MPEG audio stream.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Segment {
    /// Byte offset where the segment begins: its ID3v2 tag when one precedes it, else its
    /// first frame.
    pub offset: u64,
    /// Offset of its first frame (its Xing/Info frame when it has one).
    pub first_frame: u64,
    /// Offset just after its last frame.
    pub end: u64,
    /// MPEG version.
    pub version: MpegVersion,
    /// Layer (1, 2 or 3).
    pub layer: u8,
    /// Samples per second.
    pub sample_rate: u32,
    /// 1 or 2.
    pub channels: u16,
    /// Audio frames, not counting its Xing/Info frame.
    pub frames: u64,
    /// The VBR header in its first frame, if any.
    pub vbr_header: Option<VbrHeaderKind>,
    /// Frames its VBR header states.
    pub header_frames: Option<u64>,
    /// Encoder named in its LAME tag.
    pub encoder: Option<String>,
    /// Encoder delay from its LAME tag (applied by decoders only in the first segment).
    pub encoder_delay: Option<u64>,
    /// Encoder padding from its LAME tag (applied by decoders only in the first segment).
    pub encoder_padding: Option<u64>,
    /// ID3v2 tags between the previous segment and this one.
    pub id3v2_tags: usize,
    /// Frames ffmpeg does not play because non-audio bytes (tags, junk) precede them (rule 4
    /// in the module docs); already left out of `samples`.
    pub dropped_frames: u64,
    /// Samples per channel it plays, at `sample_rate`, under the rule in the module docs.
    pub samples: u64,
    /// Where it starts in the playback, in milliseconds (rounded down, so a chapter placed
    /// there starts inside it).
    pub start_ms: u64,
    /// Its playing time in milliseconds (rounded to nearest).
    pub duration_ms: u64,
}

impl Segment {
    fn new(offset: u64, first_frame: u64, h: &FrameHeader, v: Option<&VbrHeader>) -> Self {
        let lame = v.and_then(|v| v.lame.as_ref());
        Segment {
            offset,
            first_frame,
            end: first_frame,
            version: h.version,
            layer: h.layer,
            sample_rate: h.sample_rate,
            channels: h.channels,
            frames: 0,
            vbr_header: v.map(|v| v.kind),
            header_frames: v.and_then(|v| v.frames),
            encoder: lame.map(|l| l.encoder.clone()),
            encoder_delay: lame.map(|l| u64::from(l.delay)),
            encoder_padding: lame.map(|l| u64::from(l.padding)),
            id3v2_tags: 0,
            dropped_frames: 0,
            samples: 0,
            start_ms: 0,
            duration_ms: 0,
        }
    }

    fn samples_per_frame(&self) -> u64 {
        match (self.layer, self.version) {
            (1, _) => 384,
            (2, _) | (_, MpegVersion::V1) => 1152,
            _ => 576,
        }
    }
}

/// The whole walk: totals over every segment, and the segments.
pub(crate) struct Stitched {
    /// Counts summed over the segments (frames exclude every Xing/Info frame).
    pub walk: Walk,
    /// At least one.
    pub segments: Vec<Segment>,
}

impl Stitched {
    /// One segment of `frames` audio frames (`audio_bytes` bytes, bitrates `kbps`) after the
    /// VBR header frame at `first_pos`, ending at `end`: what a walk finds in a file whose
    /// header proved its length (see `proven`).
    pub(crate) fn single(
        first_pos: u64,
        first: &FrameHeader,
        vbr: &VbrHeader,
        proven: &super::proven::Proven,
        end: u64,
    ) -> Stitched {
        let mut seg = Segment::new(first_pos, first_pos, first, Some(vbr));
        seg.frames = proven.frames;
        seg.end = end;
        Stitched {
            walk: Walk {
                frames: proven.frames,
                audio_bytes: proven.audio_bytes,
                min_kbps: proven.kbps.0,
                max_kbps: proven.kbps.1,
                ..Walk::default()
            },
            segments: vec![seg],
        }
    }

    /// Audio frames of the first segment: what its VBR header's count describes.
    pub(crate) fn first_frames(&self) -> u64 {
        self.segments.first().map_or(0, |s| s.frames)
    }

    /// Applies the length rule: the first segment plays `first_samples` (its gapless length,
    /// computed by the caller from its LAME tag), every later one all its frames including
    /// its Xing/Info frame. Fills each segment's samples and times; returns the total, in
    /// the segments' rate when they share one, else in [`TIME_BASE`].
    pub(crate) fn finish(&mut self, first_samples: u64) -> SampleTime {
        let mut ticks: u128 = 0;
        for (i, s) in self.segments.iter_mut().enumerate() {
            let dropped = s.dropped_frames.saturating_mul(s.samples_per_frame());
            s.samples = if i == 0 {
                first_samples
            } else {
                let info = u64::from(s.vbr_header.is_some());
                s.frames
                    .saturating_add(info)
                    .saturating_mul(s.samples_per_frame())
            }
            .saturating_sub(dropped);
            let per = u128::from(TIME_BASE / s.sample_rate.max(1));
            s.start_ms = u64::try_from(ticks * 1000 / u128::from(TIME_BASE)).unwrap_or(u64::MAX);
            let len = u128::from(s.samples) * per;
            s.duration_ms =
                u64::try_from((len * 1000 + u128::from(TIME_BASE / 2)) / u128::from(TIME_BASE))
                    .unwrap_or(u64::MAX);
            ticks += len;
        }
        let rate = self.segments.first().map_or(0, |s| s.sample_rate);
        if self.segments.iter().all(|s| s.sample_rate == rate) {
            let samples = self
                .segments
                .iter()
                .map(|s| s.samples)
                .fold(0u64, u64::saturating_add);
            SampleTime::new(samples, rate)
        } else {
            SampleTime::new(u64::try_from(ticks).unwrap_or(u64::MAX), TIME_BASE)
        }
    }

    /// Warnings about the segment structure, for the probe report.
    pub(crate) fn warnings(&self) -> Vec<String> {
        let mut out = Vec::new();
        if self.segments.len() > 1 {
            out.push(format!(
                "the stream is stitched from {} separately encoded segments; only the first one's gapless data is applied (as ffmpeg does)",
                self.segments.len()
            ));
        }
        let dropped: u64 = self.segments.iter().map(|s| s.dropped_frames).sum();
        if dropped > 0 {
            out.push(format!(
                "{dropped} frame(s) right after non-audio bytes (tags, junk) are left out of the length: ffmpeg drops them"
            ));
        }
        for pair in self.segments.windows(2) {
            let [a, b] = pair else { continue };
            if a.sample_rate != b.sample_rate || a.channels != b.channels {
                out.push(format!(
                    "the stream changes from {} Hz {} ch to {} Hz {} ch at byte {} ({} ms); some players mis-time such files",
                    a.sample_rate, a.channels, b.sample_rate, b.channels, b.offset, b.start_ms
                ));
            }
        }
        out
    }
}

/// Whether ffmpeg takes the file for a concatenation of several encodes and so ignores the
/// first VBR header's frame count (no end trim): the file from the first frame's header on
/// is larger than the header's byte count by more than 1/16 (`mp3_parse_info_tag`).
pub(crate) fn concatenated(v: &VbrHeader, file_len: u64, first_frame: u64) -> bool {
    let Some(stated) = v.bytes.filter(|&b| b > 0) else {
        return false;
    };
    if v.kind == VbrHeaderKind::Vbri {
        return false;
    }
    let fsize = file_len.saturating_sub(first_frame.saturating_add(4));
    fsize > stated && fsize - stated > stated.min(fsize) >> 4
}

/// Walks the stream from the first frame (`first_pos`, header `first`, VBR header `vbr`,
/// audio from `audio_start`) to `end`, segment by segment.
pub(crate) fn walk<R: Read + Seek>(
    src: &mut Source<R>,
    first_pos: u64,
    first: &FrameHeader,
    vbr: Option<&VbrHeader>,
    audio_start: u64,
    end: u64,
) -> io::Result<Stitched> {
    let mut total = Walk::default();
    let (mut min_kbps, mut max_kbps) = (u32::MAX, 0);
    let mut segments = Vec::new();
    let mut seg = Segment::new(first_pos, first_pos, first, vbr);
    let mut header = *first;
    let mut from = audio_start;
    let mut last_stop: Option<u64> = None;
    loop {
        let w = scan::walk(
            src,
            from,
            end,
            header.raw & SAME_STREAM_MASK,
            header.channels == 1,
        )?;
        seg.frames = seg.frames.saturating_add(w.frames);
        for &(gap, frame) in &w.gaps {
            seg.dropped_frames += ffmpeg_dropped(src, gap, frame, end)?;
        }
        seg.end = w
            .next
            .unwrap_or(end.saturating_sub(w.trailing_bytes))
            .max(from);
        if w.frames > 0 {
            min_kbps = min_kbps.min(w.min_kbps);
            max_kbps = max_kbps.max(w.max_kbps);
        }
        add(&mut total, &w);
        // Every stop must be past the previous one; anything else would loop forever.
        let Some(next) = w.next else { break };
        if last_stop.is_some_and(|l| next <= l) {
            total.trailing_bytes = end.saturating_sub(next);
            break;
        }
        last_stop = Some(next);
        let Some(start) = next_segment(src, next, end, &mut total)? else {
            break;
        };
        if segments.len() + 1 >= MAX_SEGMENTS {
            // Keep counting into the last segment rather than growing without bound.
            header = start.header;
            from = start.audio_start;
            continue;
        }
        segments.push(std::mem::replace(
            &mut seg,
            Segment::new(start.offset, start.frame, &start.header, start.vbr.as_ref()),
        ));
        seg.id3v2_tags = start.tags;
        if start.frame > next {
            seg.dropped_frames += ffmpeg_dropped(src, next, start.frame, end)?;
        }
        header = start.header;
        from = start.audio_start;
    }
    segments.push(seg);
    total.min_kbps = if min_kbps == u32::MAX { 0 } else { min_kbps };
    total.max_kbps = max_kbps;
    Ok(Stitched {
        walk: total,
        segments,
    })
}

fn add(total: &mut Walk, w: &Walk) {
    total.frames = total.frames.saturating_add(w.frames);
    total.audio_bytes = total.audio_bytes.saturating_add(w.audio_bytes);
    total.junk_bytes = total.junk_bytes.saturating_add(w.junk_bytes);
    total.junk_runs = total.junk_runs.saturating_add(w.junk_runs);
    total.truncated_bytes = w.truncated_bytes;
    total.trailing_bytes = w.trailing_bytes;
}

/// Where the next segment's audio begins.
struct NextStart {
    /// Its first byte (its first ID3v2 tag, else its first frame).
    offset: u64,
    /// Its first frame.
    frame: u64,
    header: FrameHeader,
    vbr: Option<VbrHeader>,
    /// Where its audio frames start (after the Xing/Info frame).
    audio_start: u64,
    /// ID3v2 tags before it.
    tags: usize,
}

/// Reads what starts a segment at `pos`: the previous part's ID3v1 tag and this part's
/// ID3v2 tags (kept in `total.inner_tags`), junk, then the first frame and its VBR header.
/// `None` when no frame follows (the rest is not audio).
fn next_segment<R: Read + Seek>(
    src: &mut Source<R>,
    pos: u64,
    end: u64,
    total: &mut Walk,
) -> io::Result<Option<NextStart>> {
    let mut at = pos;
    let mut tags = 0;
    let mut offset = None;
    loop {
        // The previous part's ID3v1 tag, then this part's ID3v2 tag(s), in any order.
        if src.window(at, 3)? == b"TAG" && end.saturating_sub(at) >= 128 {
            at += 128;
            continue;
        }
        let Ok(Some(tag)) = tags::id3v2_at(src, at, true) else {
            break;
        };
        let size = tag.summary.size;
        if size == 0 || at.saturating_add(size) > end {
            break;
        }
        offset.get_or_insert(at);
        at += size;
        tags += 1;
        total.inner_tags.push(tag);
    }
    let (frame, header) = match scan::find_first(src, at, end)? {
        Ok(found) => found,
        Err(SyncFailure::NoFrames | SyncFailure::FreeFormat) => {
            total.trailing_bytes = end - at;
            return Ok(None);
        }
    };
    if frame > at {
        total.junk_bytes += frame - at;
        total.junk_runs += 1;
    }
    let bytes = src.window(frame, header.len as usize)?;
    let vbr = vbr::parse(&header, bytes);
    // The walk stopped at this frame because it carries a Xing/Info magic, so it is skipped
    // even when its header is too damaged to parse (else the walk would stop here again).
    let audio_start = if vbr.is_some() || scan::is_vbr_frame(&header, bytes) {
        frame + u64::from(header.len)
    } else {
        frame
    };
    Ok(Some(NextStart {
        offset: offset.unwrap_or(frame),
        frame,
        header,
        vbr,
        audio_start,
        tags,
    }))
}

/// Most packets followed through one gap; each step moves forward by a frame length, so a
/// real gap (a tag, some junk) resolves within a few.
const MAX_GAP_STEPS: usize = 64;

/// How many real frames ffmpeg drops after the non-audio bytes `[gap, frame)`, `frame` being
/// the next real frame (rule 4 in the module docs).
///
/// ffmpeg's parser (`mpegaudio_parser.c`) cuts a packet from where the last one ended to the
/// end of the first thing that looks like a frame header (any valid header, real or a false
/// sync inside the junk). Its decoder (`mpegaudiodec_template.c`, `decode_frame`) skips
/// leading zero bytes, then drops the whole packet unless a valid header follows ("TAG":
/// "discarding ID3 tag"; anything else: "Header missing"). So a packet that starts with
/// non-zero junk is lost with the frame it ends with, and a false sync that runs into the
/// real frames loses those too, until a packet starts exactly on a real frame.
fn ffmpeg_dropped<R: Read + Seek>(
    src: &mut Source<R>,
    gap: u64,
    frame: u64,
    end: u64,
) -> io::Result<u64> {
    let mut real = RealFrames {
        next: frame,
        end,
        dropped: 0,
    };
    let mut pos = gap;
    for _ in 0..MAX_GAP_STEPS {
        let Some((p, len)) = ffmpeg_sync(src, pos, end)? else {
            return real.drop_before(src, end);
        };
        if real.starts_at(src, p)? && zeros(src, pos, p)? {
            return real.drop_before(src, p);
        }
        pos = p + u64::from(len);
    }
    real.drop_before(src, pos)
}

/// The chain of real frames from a known frame start, walked as far as needed.
struct RealFrames {
    next: u64,
    end: u64,
    dropped: u64,
}

impl RealFrames {
    /// Counts the real frames that start before `until` as dropped; returns the count.
    fn drop_before<R: Read + Seek>(&mut self, src: &mut Source<R>, until: u64) -> io::Result<u64> {
        while self.next < until.min(self.end) {
            match src
                .bytes::<4>(self.next)?
                .map(|b| ffmpeg_header(u32::from_be_bytes(b)))
            {
                Some(Some(len)) => {
                    self.next += u64::from(len);
                    self.dropped += 1;
                }
                _ => break,
            }
        }
        Ok(self.dropped)
    }

    /// Whether a real frame starts at `p` (walking the chain up to it).
    fn starts_at<R: Read + Seek>(&mut self, src: &mut Source<R>, p: u64) -> io::Result<bool> {
        let mut at = self.next;
        while at < p {
            match src
                .bytes::<4>(at)?
                .map(|b| ffmpeg_header(u32::from_be_bytes(b)))
            {
                Some(Some(len)) => at += u64::from(len),
                _ => return Ok(false),
            }
        }
        Ok(at == p)
    }
}

/// A frame header as ffmpeg's parser accepts it (`ff_mpa_check_header`): like ours, except
/// that the emphasis field is not checked. Returns the frame length.
fn ffmpeg_header(raw: u32) -> Option<u32> {
    let raw = if raw & 3 == 2 { raw & !3 } else { raw };
    header::parse(raw).ok().map(|h| h.len)
}

/// The first position at or after `from` where ffmpeg's parser finds a header.
fn ffmpeg_sync<R: Read + Seek>(
    src: &mut Source<R>,
    from: u64,
    end: u64,
) -> io::Result<Option<(u64, u32)>> {
    let mut base = from;
    while base.saturating_add(4) <= end {
        let w = src.window(base, MAX_WINDOW)?;
        let avail = (w.len() as u64).min(end - base) as usize;
        if avail < 4 {
            return Ok(None);
        }
        for (i, q) in w[..avail].windows(4).enumerate() {
            if q[0] == 0xFF
                && let Some(len) = ffmpeg_header(u32::from_be_bytes([q[0], q[1], q[2], q[3]]))
            {
                return Ok(Some((base + i as u64, len)));
            }
        }
        base += (avail - 3) as u64;
    }
    Ok(None)
}

/// Whether every byte in `[from, to)` is zero.
fn zeros<R: Read + Seek>(src: &mut Source<R>, mut from: u64, to: u64) -> io::Result<bool> {
    while from < to {
        let w = src.window(from, MAX_WINDOW)?;
        let n = (w.len() as u64).min(to - from) as usize;
        if n == 0 {
            return Ok(true);
        }
        if w[..n].iter().any(|&b| b != 0) {
            return Ok(false);
        }
        from += n as u64;
    }
    Ok(true)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn time_base_fits_every_rate() {
        for r in [
            48_000, 44_100, 32_000, 24_000, 22_050, 16_000, 12_000, 11_025, 8_000,
        ] {
            assert_eq!(TIME_BASE % r, 0, "{r}");
        }
    }

    fn vbr(bytes: Option<u64>) -> VbrHeader {
        VbrHeader {
            kind: VbrHeaderKind::Info,
            frames: Some(100),
            bytes,
            lame: None,
            vbri_delay: None,
        }
    }

    #[test]
    fn concatenation_test_follows_ffmpeg() {
        // 1/16 of 16 000 is 1 000: up to that many extra bytes is the same file.
        assert!(!concatenated(&vbr(Some(16_000)), 17_004, 0));
        assert!(concatenated(&vbr(Some(16_000)), 17_005, 0));
        // A smaller file (cut) never counts as concatenated.
        assert!(!concatenated(&vbr(Some(16_000)), 8_000, 0));
        assert!(!concatenated(&vbr(None), 1_000_000, 0));
    }
}
