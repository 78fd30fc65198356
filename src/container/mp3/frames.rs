//! The frame walk: from header to header by frame length, never decoding.
//!
//! Once in sync, each step reads 4 bytes from the shared 256 KiB buffer and jumps by the frame
//! length, so a 40-minute file costs ~150 reads and ~100 000 header decodes. Out of sync (junk,
//! a tag in the middle, a cut), the walk searches for the next header that is followed by
//! another one of the same stream, so a stray `0xFFE` pattern in junk does not count as audio.

use super::header::{self, FrameHeader, HeaderError, SAME_STREAM_MASK};
use crate::container::id3v2::tags::{self, Id3Tag};
use crate::container::io::Source;
use std::io::{self, Read, Seek};

/// How far past the tags the first frame may start before we give up: real files have at most
/// a few KiB of junk there; random data must not cost a whole-file search.
pub(crate) const SYNC_SEARCH_LIMIT: u64 = 4 * 1024 * 1024;

/// Consecutive frames required to accept the first frame (unless the stream ends sooner).
const FIRST_SYNC_CHAIN: u32 = 3;

/// Why no first frame was found.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum SyncFailure {
    /// Nothing that looks like a stream of MPEG frames.
    NoFrames,
    /// Headers are present but free-format (bitrate index 0).
    FreeFormat,
}

fn word(w: &[u8]) -> Option<u32> {
    Some(u32::from_be_bytes(w.get(..4)?.try_into().ok()?))
}

/// Checks that `chain` more headers of the same stream follow the frame at `pos`, or that the
/// stream ends exactly at a frame boundary (or inside a last, truncated frame) before that.
/// A lone frame ending exactly at `end` counts only when `lone_ok` (a candidate in random
/// data lands on the end of the file often enough to matter).
fn confirm<R: Read + Seek>(
    src: &mut Source<R>,
    pos: u64,
    h: &FrameHeader,
    end: u64,
    chain: u32,
    lone_ok: bool,
) -> io::Result<bool> {
    let bits = h.raw & SAME_STREAM_MASK;
    let mut p = pos + u64::from(h.len);
    let mut matched = 0;
    while matched < chain {
        if p == end {
            return Ok(matched > 0 || lone_ok);
        }
        if p > end {
            // Only a truncated tail frame may overrun, and only after a real chain.
            return Ok(matched > 0);
        }
        let Some(raw) = word(src.window(p, 4)?) else {
            return Ok(false);
        };
        if raw & SAME_STREAM_MASK != bits {
            return Ok(false);
        }
        match header::parse(raw) {
            Ok(next) => p += u64::from(next.len),
            Err(_) => return Ok(false),
        }
        matched += 1;
    }
    Ok(true)
}

/// Next position in `[from, to)` holding a plausible header (matching `bits` when given).
fn next_candidate<R: Read + Seek>(
    src: &mut Source<R>,
    from: u64,
    to: u64,
    bits: Option<u32>,
) -> io::Result<Option<(u64, FrameHeader)>> {
    let mut base = from;
    while base + 4 <= to {
        let w = src.window(base, crate::container::io::MAX_WINDOW)?;
        if w.len() < 4 {
            return Ok(None);
        }
        let limit = (w.len() - 3).min((to - base - 3) as usize);
        for i in 0..limit {
            if w[i] != 0xFF || w[i + 1] & 0xE0 != 0xE0 {
                continue;
            }
            let raw = u32::from_be_bytes([w[i], w[i + 1], w[i + 2], w[i + 3]]);
            if let Some(b) = bits {
                if raw & SAME_STREAM_MASK != b {
                    continue;
                }
            }
            if let Ok(h) = header::parse(raw) {
                return Ok(Some((base + i as u64, h)));
            }
        }
        base += limit as u64;
    }
    Ok(None)
}

/// Finds the first frame at or after `from`: a header followed by a chain of the same stream.
pub(crate) fn find_first<R: Read + Seek>(
    src: &mut Source<R>,
    from: u64,
    end: u64,
) -> io::Result<Result<(u64, FrameHeader), SyncFailure>> {
    let to = end.min(from.saturating_add(SYNC_SEARCH_LIMIT));
    // A free-format header right at the start is the stream itself, not junk. (Elsewhere a
    // free-format-looking word is as likely to be noise, so it does not decide the error.)
    if let Some(raw) = src.bytes::<4>(from)? {
        if header::parse(u32::from_be_bytes(raw)) == Err(HeaderError::FreeFormat) {
            return Ok(Err(SyncFailure::FreeFormat));
        }
    }
    let mut pos = from;
    while let Some((p, h)) = next_candidate(src, pos, to, None)? {
        // A file that is one frame long must start with it.
        if confirm(src, p, &h, end, FIRST_SYNC_CHAIN, p == from)? {
            return Ok(Ok((p, h)));
        }
        pos = p + 1;
    }
    Ok(Err(SyncFailure::NoFrames))
}

/// What the walk found.
#[derive(Debug, Clone, Default)]
pub(crate) struct Walk {
    /// Frames counted from the start position (a truncated last frame included).
    pub frames: u64,
    /// Bytes of those frames that are in the file.
    pub audio_bytes: u64,
    /// Bytes skipped between frames that were neither frames nor tags.
    pub junk_bytes: u64,
    /// Places where junk was skipped.
    pub junk_runs: u64,
    /// Bytes missing from a truncated last frame (0 when the last frame is whole).
    pub truncated_bytes: u64,
    /// Bytes after the last frame that are not a frame (before the trailing tags).
    pub trailing_bytes: u64,
    /// Smallest and largest bitrate seen, kbit/s.
    pub min_kbps: u32,
    /// See `min_kbps`.
    pub max_kbps: u32,
    /// ID3v2 tags met between frames.
    pub inner_tags: Vec<Id3Tag>,
    /// Where the walk stopped because another segment starts there (see `segments`): a
    /// frame of another stream or channel count, a Xing/Info frame, or an ID3v2 tag.
    pub next: Option<u64>,
    /// Runs of skipped bytes, `(start, next frame)`, at most [`MAX_GAPS`] (the length rule
    /// in `segments` looks at what decoders make of them).
    pub gaps: Vec<(u64, u64)>,
}

/// Most junk runs remembered per walk: a damaged file can have thousands, and the ones past
/// this are counted in `junk_bytes` only.
pub(crate) const MAX_GAPS: usize = 1024;

/// Bytes read at each frame: the header plus, for a Layer III frame, the Xing/Info magic that
/// marks the start of a stitched segment (side info of at most 32 bytes and a CRC word).
const FRAME_PEEK: usize = 4 + 2 + 32 + 4;

/// Walks frames from `pos` (a confirmed frame start) to `end`, with the stream's fixed bits
/// and channel count (`mono`). Stops with `next` where another segment starts.
pub(crate) fn walk<R: Read + Seek>(
    src: &mut Source<R>,
    mut pos: u64,
    end: u64,
    bits: u32,
    mono: bool,
) -> io::Result<Walk> {
    let mut w = Walk {
        min_kbps: u32::MAX,
        ..Walk::default()
    };
    let xing_at = xing_offset(bits, mono);
    while pos < end {
        if end - pos >= 4 {
            let peek = src.window(pos, FRAME_PEEK)?;
            let raw = match word(peek) {
                Some(r) => r,
                None => break,
            };
            if raw & SAME_STREAM_MASK == bits {
                if let Ok(h) = header::parse(raw) {
                    let crc = if h.crc { 2 } else { 0 };
                    let vbr = xing_at.is_some_and(|at| has_vbr_magic(peek, at + crc));
                    if (h.channels == 1) != mono || vbr {
                        w.next = Some(pos);
                        break;
                    }
                    let next = pos + u64::from(h.len);
                    w.frames += 1;
                    w.min_kbps = w.min_kbps.min(h.bitrate_kbps);
                    w.max_kbps = w.max_kbps.max(h.bitrate_kbps);
                    if next > end {
                        w.truncated_bytes = next - end;
                        w.audio_bytes += end - pos;
                        break;
                    }
                    w.audio_bytes += u64::from(h.len);
                    pos = next;
                    continue;
                }
            }
            if starts_part(src, pos, raw, bits, end)? {
                w.next = Some(pos);
                break;
            }
        }
        match resync(src, pos, end, bits)? {
            Some((_, true)) => {
                // Another stream after junk: the next segment starts with that junk.
                w.next = Some(pos);
                break;
            }
            Some((p, false)) => {
                w.junk_bytes += p - pos;
                w.junk_runs += 1;
                if w.gaps.len() < MAX_GAPS {
                    w.gaps.push((pos, p));
                }
                pos = p;
            }
            None => {
                w.trailing_bytes = end - pos;
                break;
            }
        }
    }
    if w.frames == 0 {
        w.min_kbps = 0;
    }
    Ok(w)
}

/// Lost sync at `pos`: the next header that starts a chain of this stream (`false`), or of
/// another one (`true`: a stitched segment after junk).
fn resync<R: Read + Seek>(
    src: &mut Source<R>,
    pos: u64,
    end: u64,
    bits: u32,
) -> io::Result<Option<(u64, bool)>> {
    let mut from = pos + 1;
    while let Some((p, h)) = next_candidate(src, from, end, None)? {
        let other = h.raw & SAME_STREAM_MASK != bits;
        // Another stream must prove itself like the first frame of a file.
        let chain = if other { FIRST_SYNC_CHAIN } else { 1 };
        if confirm(src, p, &h, end, chain, !other)? {
            return Ok(Some((p, other)));
        }
        from = p + 1;
    }
    Ok(None)
}

/// Whether the next part of a stitched file starts at `pos` (`raw`: its first 4 bytes): a
/// chain of frames of another stream, the ID3v1 tag that ends the previous part, or an
/// ID3v2 tag.
fn starts_part<R: Read + Seek>(
    src: &mut Source<R>,
    pos: u64,
    raw: u32,
    bits: u32,
    end: u64,
) -> io::Result<bool> {
    if raw & SAME_STREAM_MASK != bits && starts_stream(src, pos, raw, end)? {
        return Ok(true);
    }
    if raw >> 8 == u32::from_be_bytes([0, b'T', b'A', b'G']) {
        return Ok(end - pos >= 128);
    }
    if raw >> 8 == u32::from_be_bytes([0, b'I', b'D', b'3']) {
        if let Ok(Some(tag)) = tags::id3v2_at(src, pos, true) {
            return Ok(pos + tag.summary.size <= end);
        }
    }
    Ok(false)
}

/// Whether a header of another stream at `pos` starts a chain of frames (the same test as
/// for the first frame of the file).
fn starts_stream<R: Read + Seek>(
    src: &mut Source<R>,
    pos: u64,
    raw: u32,
    end: u64,
) -> io::Result<bool> {
    match header::parse(raw) {
        Ok(h) => confirm(src, pos, &h, end, FIRST_SYNC_CHAIN, false),
        Err(_) => Ok(false),
    }
}

/// Whether a Layer III frame carries a Xing/Info header (`peek`: the frame's first bytes).
/// Mid-stream, such a frame is the first frame of a segment encoded on its own.
pub(crate) fn is_vbr_frame(h: &FrameHeader, peek: &[u8]) -> bool {
    h.layer == 3 && has_vbr_magic(peek, h.xing_offset())
}

/// Where the Xing/Info magic sits in a frame of the stream with these fixed bits and channel
/// count (before a CRC word, which adds 2); `None` for layers I and II, which have none.
/// Worked out once per walk: the check runs for every frame of every file.
fn xing_offset(bits: u32, mono: bool) -> Option<usize> {
    if (bits >> 17) & 3 != 1 {
        return None;
    }
    let mpeg1 = (bits >> 19) & 3 == 3;
    let side_info = match (mpeg1, mono) {
        (true, true) => 17,
        (true, false) => 32,
        (false, true) => 9,
        (false, false) => 17,
    };
    Some(4 + side_info)
}

/// Whether `peek` holds `Xing` or `Info` at `at` (compared as one word).
fn has_vbr_magic(peek: &[u8], at: usize) -> bool {
    match peek.get(at..at + 4).and_then(word) {
        Some(m) => m == u32::from_be_bytes(*b"Xing") || m == u32::from_be_bytes(*b"Info"),
        None => false,
    }
}
