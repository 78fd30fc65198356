//! FLAC duration from `STREAMINFO`, measured by us rather than through symphonia (whose
//! reader refuses some valid files, e.g. a `CUESHEET` whose track offsets are not CD-aligned,
//! which ffprobe and mutagen read).
//!
//! `STREAMINFO` holds the total sample count; every encoder that can seek back writes it. A
//! cut file still declares its original total, so the last complete frame is found from the
//! end of the file (frame header with a valid CRC-8, frame body with a valid CRC-16) and its
//! end is compared with the total: one read of the file's tail, no decoding.

use super::blocks::{self, Metadata};
use crate::container::vorbis_comment::VorbisError;
use crate::probe::{Container, Method, ProbeError, ProbeInfo, TagSummary};
use crate::time::SampleTime;
use std::io::{Read, Seek, SeekFrom};

/// The fields of `STREAMINFO` we use.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct StreamInfo {
    /// Smallest block size in samples (every block but the last, for a fixed-size stream).
    pub min_block: u16,
    /// Largest frame in bytes, 0 when unknown.
    pub max_frame: u32,
    /// Samples per second.
    pub sample_rate: u32,
    /// Channel count.
    pub channels: u8,
    /// Bits per sample.
    pub bits: u8,
    /// Total samples per channel; 0 when unknown (a streamed encode).
    pub total: u64,
    /// MD5 of the decoded audio.
    pub md5: [u8; 16],
}

impl StreamInfo {
    /// Parses the 34-byte body.
    pub fn parse(b: &[u8]) -> Option<StreamInfo> {
        let b: &[u8; 34] = b.get(..34)?.try_into().ok()?;
        let sample_rate =
            (u32::from(b[10]) << 12) | (u32::from(b[11]) << 4) | u32::from(b[12] >> 4);
        let total = (u64::from(b[13] & 0x0F) << 32)
            | u64::from(u32::from_be_bytes([b[14], b[15], b[16], b[17]]));
        let mut md5 = [0u8; 16];
        md5.copy_from_slice(&b[18..34]);
        Some(StreamInfo {
            min_block: u16::from_be_bytes([b[0], b[1]]),
            max_frame: u32::from_be_bytes([0, b[7], b[8], b[9]]),
            sample_rate,
            channels: ((b[12] >> 1) & 0x07) + 1,
            bits: (((b[12] & 1) << 4) | (b[13] >> 4)) + 1,
            total,
            md5,
        })
    }
}

/// Measures a FLAC file. `Ok(None)` when `STREAMINFO` has no total: the caller counts the
/// frames another way.
pub(crate) fn probe<R: Read + Seek>(
    r: &mut R,
    name: &str,
) -> Result<Option<ProbeInfo>, ProbeError> {
    let meta = blocks::read(r, name).map_err(|e| match e {
        VorbisError::Io { source, .. } => ProbeError::io(name, source),
        VorbisError::Malformed { detail, .. } => ProbeError::invalid(name, "flac", detail),
        other => ProbeError::invalid(name, "flac", other.to_string()),
    })?;
    let si = meta
        .find(blocks::STREAMINFO)
        .and_then(|b| StreamInfo::parse(&b.body))
        .ok_or_else(|| ProbeError::invalid(name, "flac", "the streaminfo block is too short"))?;
    if si.sample_rate == 0 {
        return Err(ProbeError::invalid(
            name,
            "flac",
            "streaminfo gives no sample rate",
        ));
    }
    if si.total == 0 {
        return Ok(None);
    }
    let vorbis =
        super::comments_of(&meta, name)
            .ok()
            .flatten()
            .map(|c| crate::probe::VorbisSummary {
                comments: c.entries.len(),
                chapters: c.chapters().len(),
                padding: meta
                    .blocks
                    .iter()
                    .filter(|b| b.kind == blocks::PADDING)
                    .map(|b| b.len as u64)
                    .sum(),
            });
    let mut warnings = Vec::new();
    let (samples, method) = match frames_end(r, &meta, &si).map_err(|e| ProbeError::io(name, e))? {
        Some(end) if end < si.total => {
            warnings.push(format!(
                "streaminfo says {} samples but the frames end at {end}; the file is cut",
                si.total
            ));
            (end, Method::PacketScan)
        }
        Some(_) => (si.total, Method::Header),
        None => {
            warnings.push(
                "could not check that the last flac frame is present; streaminfo's total is used"
                    .to_string(),
            );
            (si.total, Method::Header)
        }
    };
    Ok(Some(ProbeInfo {
        container: Container::Flac,
        codec: "flac".to_string(),
        sample_rate: si.sample_rate,
        channels: u16::from(si.channels),
        duration: SampleTime::new(samples, si.sample_rate),
        method,
        encoder_delay: 0,
        encoder_padding: 0,
        frames: None,
        file_size: meta.file_len,
        audio_bytes: Some(meta.file_len - meta.audio_offset),
        bitrate: None,
        tags: TagSummary {
            vorbis,
            ..TagSummary::default()
        },
        mp3: None,
        warnings,
    }))
}

/// Largest tail we read to find the last frame.
const MAX_TAIL: u64 = 4 << 20;

/// Where the complete frames end, in samples: the end of the last frame whose CRC-16
/// checks, searched from the end of the file. `None` when no complete frame is found in the
/// tail.
fn frames_end<R: Read + Seek>(
    r: &mut R,
    meta: &Metadata,
    si: &StreamInfo,
) -> std::io::Result<Option<u64>> {
    let audio = meta.file_len - meta.audio_offset;
    let want = if si.max_frame > 0 {
        u64::from(si.max_frame) * 2 + 64
    } else {
        1 << 20
    };
    let tail_len = audio.min(want.max(64 << 10)).min(MAX_TAIL);
    let tail_start = meta.file_len - tail_len;
    let mut tail = vec![0u8; tail_len as usize];
    r.seek(SeekFrom::Start(tail_start))?;
    r.read_exact(&mut tail)?;
    let mut p = tail.len().saturating_sub(2);
    while p > 0 {
        p -= 1;
        let Some(h) = frame_header(&tail[p..], si) else {
            continue;
        };
        if frame_complete(&tail[p..], h.header_len) {
            return Ok(Some(h.first_sample.saturating_add(h.block_size)));
        }
    }
    Ok(None)
}

struct FrameHeader {
    first_sample: u64,
    block_size: u64,
    header_len: usize,
}

/// Parses a frame header at the start of `b`, checking its CRC-8 and that it agrees with
/// `STREAMINFO` (bits per sample), so random audio bytes are not taken for one.
fn frame_header(b: &[u8], si: &StreamInfo) -> Option<FrameHeader> {
    if *b.first()? != 0xFF || !matches!(*b.get(1)?, 0xF8 | 0xF9) {
        return None;
    }
    let variable = b[1] == 0xF9;
    let (bs_code, sr_code) = (b.get(2)? >> 4, b[2] & 0x0F);
    let b3 = *b.get(3)?;
    let bits_code = (b3 >> 1) & 0x07;
    if bs_code == 0 || sr_code == 15 || b3 >> 4 >= 11 || b3 & 1 != 0 || bits_code == 3 {
        return None;
    }
    let bits = [0u8, 8, 12, 0, 16, 20, 24, 32][usize::from(bits_code)];
    if bits != 0 && bits != si.bits {
        return None;
    }
    let (number, mut at) = coded_number(b, 4)?;
    let block_size = match bs_code {
        1 => 192,
        2..=5 => 576u64 << (bs_code - 2),
        6 => {
            at += 1;
            u64::from(*b.get(at - 1)?) + 1
        }
        7 => {
            at += 2;
            u64::from(u16::from_be_bytes([*b.get(at - 2)?, *b.get(at - 1)?])) + 1
        }
        _ => 256u64 << (bs_code - 8),
    };
    at += match sr_code {
        12 => 1,
        13 | 14 => 2,
        _ => 0,
    };
    if *b.get(at)? != crc8(b.get(..at)?) {
        return None;
    }
    let first_sample = if variable {
        number
    } else {
        number.checked_mul(u64::from(si.min_block))?
    };
    Some(FrameHeader {
        first_sample,
        block_size,
        header_len: at + 1,
    })
}

/// The UTF-8-like coded frame or sample number at `b[at..]`: value and the offset after it.
fn coded_number(b: &[u8], at: usize) -> Option<(u64, usize)> {
    let first = *b.get(at)?;
    let ones = first.leading_ones() as usize;
    if ones == 0 {
        return Some((u64::from(first), at + 1));
    }
    if ones == 1 || ones > 7 {
        return None;
    }
    // `ones` bytes in all; the first keeps 7 - ones value bits.
    let mask = (1u16 << (7 - ones)) - 1;
    let mut v = u64::from(u16::from(first) & mask);
    for i in 1..ones {
        let c = *b.get(at + i)?;
        if c & 0xC0 != 0x80 {
            return None;
        }
        v = (v << 6) | u64::from(c & 0x3F);
    }
    Some((v, at + ones))
}

/// Whether the frame at the start of `b` ends with a matching CRC-16, either at the end of
/// `b` or right before the next frame's sync code.
fn frame_complete(b: &[u8], header_len: usize) -> bool {
    let mut crc = 0u16;
    for (q, &byte) in b.iter().enumerate() {
        if q > header_len && q + 2 <= b.len() {
            let stored = u16::from_be_bytes([b[q], b[q + 1]]);
            let next = b.get(q + 2..q + 4);
            if stored == crc && (next.is_none() || matches!(next, Some([0xFF, 0xF8 | 0xF9]))) {
                return true;
            }
        }
        crc = crc16_step(crc, byte);
    }
    false
}

fn crc8(data: &[u8]) -> u8 {
    let mut crc = 0u8;
    for &b in data {
        crc ^= b;
        for _ in 0..8 {
            crc = if crc & 0x80 != 0 {
                (crc << 1) ^ 0x07
            } else {
                crc << 1
            };
        }
    }
    crc
}

fn crc16_step(crc: u16, byte: u8) -> u16 {
    let mut crc = crc ^ (u16::from(byte) << 8);
    for _ in 0..8 {
        crc = if crc & 0x8000 != 0 {
            (crc << 1) ^ 0x8005
        } else {
            crc << 1
        };
    }
    crc
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn coded_numbers() {
        assert_eq!(coded_number(&[0x05], 0), Some((5, 1)));
        assert_eq!(
            coded_number(&[0xC2, 0xA9], 0),
            Some((0xA9 & 0x3F | 2 << 6, 2))
        );
        assert_eq!(coded_number(&[0x80], 0), None);
        assert_eq!(coded_number(&[0xE0, 0x80], 0), None);
    }

    #[test]
    fn crcs() {
        // Check values of CRC-8/SMBUS and CRC-16/UMTS (FLAC's polynomials, no reflection).
        assert_eq!(crc8(b"123456789"), 0xF4);
        assert_eq!(
            b"123456789".iter().fold(0, |c, &b| crc16_step(c, b)),
            0xFEE8
        );
    }
}
