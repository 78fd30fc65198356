//! When the file proves its own length, the frame walk is skipped.
//!
//! Walking every frame header reads the whole file (frames are 100–1 441 bytes, so every
//! page is touched): ~7 ms and 38 MB for a 40-minute 128 kb/s episode. A LAME (or ffmpeg)
//! encoded file states its length in the first frame: the Xing/Info header's frame count and
//! byte count. The walk is skipped only when a few reads at the start and the end of the
//! audio prove those counts, and then the length is computed exactly as after a walk (the
//! LAME delay and padding applied to the stated frame count, which the walk would have
//! found equal). `--verify` (write and batch) always walks.
//!
//! # The checks, and why each is there
//!
//! 1. **A LAME tag whose CRC-16 matches.** The checksum covers the first 190 bytes of the
//!    frame, the Xing frame and byte counts included, so a count edited after encoding
//!    without recomputing it is caught. Evidence: mp3splt, the one tool known to write a
//!    wrong frame count (it counts the Info frame too; mp3splt bug #206), patches the counts
//!    in place and leaves the checksum stale (`mp3_utils.c`: "TODO2: update lame crc16").
//!    VBRI has no checksum and is always walked. ffmpeg's muxer computes the checksum over
//!    first 190 bytes whatever the layout, the checksum field zeroed (LAME: every byte before
//!    the checksum, fewer in a mono MPEG-1 frame); either is accepted, both cover the counts.
//! 2. **The LAME tag's own byte count (`MusicLength`) equals the Xing byte count.** LAME and
//!    ffmpeg's muxer write the same value into both; a tool that rewrites one (mp3splt
//!    again) leaves them different.
//! 3. **The byte count ends exactly at the trailing tags**, and the VBR header frame starts
//!    right after the ID3v2 tag: no byte of the region is unaccounted for. A cut, grown or
//!    stitched file (issue 23: several LAME headers, only the first counts, ads appended)
//!    fails here, because its first header describes only the first part.
//! 4. **A frame of the same stream starts right after the header frame** (and is not another
//!    Xing/Info frame), and **the last frames chain backwards to the region's end**: three
//!    frames of the same stream, each ending where the next starts, the last one ending on
//!    the last byte of the region (no truncated or trailing bytes).
//! 5. **The frame count fits the byte count.** Every frame is between the lowest and highest
//!    bitrate's length; for an `Info` (CBR) header the arithmetic is exact: a CBR encoder
//!    pads frames so that `n` frames take `n × spf × bitrate / 8 / rate` bytes to within one
//!    byte, and one frame more or less is at least 48 bytes away. A count wrong by one frame
//!    therefore fails even with a recomputed checksum.
//!
//! What stays unproven: in a VBR (`Xing`) file whose counts were rewritten wrong *and*
//! resealed with a new checksum and `MusicLength`, a count off by a few frames cannot be told
//! from the right one without reading every frame. No encoder or tool is known to do this;
//! `--verify` is there for whoever distrusts the file.
//!
//! Nor is a file damaged in place in its middle (bytes overwritten, length unchanged): only
//! LAME's music CRC, which covers every frame, would tell, and checking it reads the file.
//!
//! Evidence that the checks pass where they should and change nothing (`tests/xing_skip.rs`,
//! its ignored `survey` test runs the same comparison on any folder):
//!
//! * every MP3 fixture of the repository: 11 proven, 22 walked (stitched, cut, junk, no LAME
//!   tag, VBRI, …), and for each the length, frame count, audio bytes, bitrate and gapless
//!   figures equal the walk's;
//! * 40 files encoded for the purpose (lame 3.100 CBR 32–320 kb/s at 32/44.1/48 kHz mono and
//!   stereo, `-p` CRC frames, VBR `-V0`…`-V9` at 44.1 kHz stereo and 22.05 kHz mono, ABR;
//!   ffmpeg 5.1 libmp3lame CBR and VBR; libshine through ffmpeg's muxer): 35 proven, all equal
//!   to the walk; the 5 walked are 8–32 kb/s files whose first frame is too small for a LAME
//!   tag (or, from ffmpeg, for the 190 bytes its checksum covers);
//! * two 40-minute episodes (ffmpeg stream copies of an ffmpeg libmp3lame mono CBR encode and
//!   of a LAME VBR encode, `benches/xing-skip-reads.sh`): proven, and a chapter write reads
//!   527 728 bytes of each instead of 38.6 and 20.3 MB.

use super::frames;
use super::header::{self, FrameHeader, SAME_STREAM_MASK};
use super::vbr::{VbrHeader, VbrHeaderKind};
use crate::container::io::Source;
use std::io::{self, Read, Seek};

/// Frames chained backwards from the end of the audio region.
const TAIL_CHAIN: u32 = 3;

/// Bytes either way an `Info` (CBR) stream may differ from its exact mean length.
const CBR_SLACK_BYTES: u128 = 2;

/// Bytes read after a frame start: the header and the Xing/Info magic (see `frames`).
const PEEK: usize = 4 + 2 + 32 + 4;

/// What a proven header states.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Proven {
    /// Audio frames after the VBR header frame.
    pub frames: u64,
    /// Their bytes.
    pub audio_bytes: u64,
    /// Lowest and highest bitrate among the frames looked at (kbit/s).
    pub kbps: (u32, u32),
}

/// Whether the VBR header `vbr` in the first frame (`first`, at `first_pos`, right after the
/// leading tags ending at `lead_end`) proves the length of the audio ending at `audio_end`.
/// `Err` says why not (the walk is then needed).
pub(crate) fn prove<R: Read + Seek>(
    src: &mut Source<R>,
    lead_end: u64,
    first_pos: u64,
    first: &FrameHeader,
    vbr: &VbrHeader,
    audio_end: u64,
) -> io::Result<Result<Proven, &'static str>> {
    let (frames, audio) = match claim(vbr, first, first_pos, lead_end, audio_end) {
        Ok(c) => c,
        Err(why) => return Ok(Err(why)),
    };
    let audio_start = first_pos + u64::from(first.len);
    let bits = first.raw & SAME_STREAM_MASK;
    let mono = first.channels == 1;
    let Some(next) = frame_at(src, audio_start, bits, mono)? else {
        return Ok(Err(
            "no frame of the stream right after the vbr header frame",
        ));
    };
    let lens = len_bounds(first).unwrap_or((u32::MAX, 0));
    let Some(last) = tail(src, (audio_start, audio_end), bits, mono, lens)? else {
        return Ok(Err(
            "the last frames do not end exactly at the end of the audio",
        ));
    };
    if vbr.kind == VbrHeaderKind::Info {
        if last.bitrate_kbps != next.bitrate_kbps {
            return Ok(Err(
                "an info (cbr) stream whose first and last bitrates differ",
            ));
        }
        if !cbr_fits(&next, frames, audio) {
            return Ok(Err("the frame count does not match the cbr byte count"));
        }
    }
    let lo = next.bitrate_kbps.min(last.bitrate_kbps);
    let hi = next.bitrate_kbps.max(last.bitrate_kbps);
    Ok(Ok(Proven {
        frames,
        audio_bytes: audio,
        kbps: (lo, hi),
    }))
}

/// Checks 1, 2, 3 and the loose half of 5 on the header alone: the frame count and the
/// audio bytes after the header frame.
fn claim(
    vbr: &VbrHeader,
    first: &FrameHeader,
    first_pos: u64,
    lead_end: u64,
    audio_end: u64,
) -> Result<(u64, u64), &'static str> {
    if first_pos != lead_end {
        return Err("bytes between the leading tags and the first frame");
    }
    if vbr.kind == VbrHeaderKind::Vbri {
        return Err("a vbri header has no checksum");
    }
    let lame = vbr.lame.as_ref().ok_or("no lame tag")?;
    if !lame.sealed {
        return Err("the lame tag checksum does not match");
    }
    let frames = vbr
        .frames
        .filter(|&f| f >= u64::from(TAIL_CHAIN))
        .ok_or("no frame count (or too few frames)")?;
    let bytes = vbr.bytes.ok_or("no byte count")?;
    if lame.music_length.map(u64::from) != Some(bytes) {
        return Err("the lame tag's byte count differs from the xing header's");
    }
    if first_pos.checked_add(bytes) != Some(audio_end) {
        return Err("the byte count does not end where the trailing tags start");
    }
    let audio = bytes
        .checked_sub(u64::from(first.len))
        .ok_or("the byte count is smaller than the header frame")?;
    let (min, max) = len_bounds(first).ok_or("no frame length bounds")?;
    if audio < frames.saturating_mul(u64::from(min)) || audio > frames * u64::from(max) {
        return Err("the frame count cannot fill the byte count");
    }
    Ok((frames, audio))
}

/// Shortest and longest frame of the stream `h` belongs to (lowest bitrate unpadded,
/// highest padded).
fn len_bounds(h: &FrameHeader) -> Option<(u32, u32)> {
    let base = h.raw & !(0xF << 12) & !(1 << 9);
    let min = header::parse(base | (1 << 12)).ok()?.len;
    let max = header::parse(base | (14 << 12) | (1 << 9)).ok()?.len;
    Some((min, max))
}

/// Whether `frames` frames at `h`'s bitrate take `audio` bytes: their exact mean length is
/// `spf × kbps × 125 / rate`, and padding keeps the total within a byte or two of it.
fn cbr_fits(h: &FrameHeader, frames: u64, audio: u64) -> bool {
    let rate = u128::from(h.sample_rate);
    let exact = u128::from(frames) * u128::from(h.samples) * u128::from(h.bitrate_kbps) * 125;
    let got = u128::from(audio) * rate;
    got.abs_diff(exact) <= CBR_SLACK_BYTES * rate
}

/// The header at `pos` when it is an audio frame of the stream (`bits`, `mono`): not a
/// Xing/Info frame, which would start another segment.
fn frame_at<R: Read + Seek>(
    src: &mut Source<R>,
    pos: u64,
    bits: u32,
    mono: bool,
) -> io::Result<Option<FrameHeader>> {
    let peek = src.window(pos, PEEK)?;
    Ok(header_in(peek, bits, mono).filter(|h| !frames::is_vbr_frame(h, peek)))
}

fn header_in(b: &[u8], bits: u32, mono: bool) -> Option<FrameHeader> {
    let raw = u32::from_be_bytes(b.get(..4)?.try_into().ok()?);
    if raw & SAME_STREAM_MASK != bits {
        return None;
    }
    header::parse(raw)
        .ok()
        .filter(|h| (h.channels == 1) == mono)
}

/// The last frame, when [`TAIL_CHAIN`] frames of the stream (lengths within `lens`) chain
/// backwards from `audio_end` without reaching before `audio_start`.
fn tail<R: Read + Seek>(
    src: &mut Source<R>,
    (audio_start, audio_end): (u64, u64),
    bits: u32,
    mono: bool,
    lens: (u32, u32),
) -> io::Result<Option<FrameHeader>> {
    let span = u64::from(lens.1) * u64::from(TAIL_CHAIN) + PEEK as u64;
    let base = audio_end.saturating_sub(span).max(audio_start);
    let window = src.window(base, (audio_end - base) as usize)?.to_vec();
    let chain = Chain {
        window: &window,
        base,
        bits,
        mono,
        lens,
    };
    Ok(chain.back(audio_end, TAIL_CHAIN))
}

/// Frames found backwards in a window of the file that starts at offset `base`.
struct Chain<'a> {
    window: &'a [u8],
    base: u64,
    bits: u32,
    mono: bool,
    lens: (u32, u32),
}

impl Chain<'_> {
    /// A frame ending at `end` that is preceded by `depth - 1` more, each ending where the
    /// next begins; the one ending at `end` is returned.
    fn back(&self, end: u64, depth: u32) -> Option<FrameHeader> {
        let (min, max) = self.lens;
        for len in min..=max {
            let Some(pos) = end.checked_sub(u64::from(len)).filter(|&p| p >= self.base) else {
                break;
            };
            let Some(at) = self.window.get((pos - self.base) as usize..) else {
                continue;
            };
            let Some(h) = header_in(at, self.bits, self.mono) else {
                continue;
            };
            if h.len != len || frames::is_vbr_frame(&h, at) {
                continue;
            }
            if depth <= 1 || self.back(pos, depth - 1).is_some() {
                return Some(h);
            }
        }
        None
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bounds_of_mpeg1_layer3_at_44100() {
        let h = header::parse(0xFFFB_9064).unwrap();
        // 32 kb/s unpadded, 320 kb/s padded.
        assert_eq!(len_bounds(&h), Some((104, 1045)));
    }

    #[test]
    fn cbr_arithmetic_rejects_one_frame_off() {
        let h = header::parse(0xFFFB_9064).unwrap();
        assert_eq!(h.bitrate_kbps, 128);
        // 1 000 frames of 128 kb/s at 44.1 kHz: 417 959.18 bytes on average.
        assert!(cbr_fits(&h, 1000, 417_959));
        assert!(cbr_fits(&h, 1000, 417_960));
        assert!(!cbr_fits(&h, 1001, 417_959));
        assert!(!cbr_fits(&h, 999, 417_959));
    }
}
