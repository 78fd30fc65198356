//! VBR headers in the first frame: Xing/Info (with the LAME extension) and Fraunhofer VBRI.
//!
//! The frame holding one of these decodes to silence and every gapless-aware decoder skips it,
//! so it is not counted as audio. The LAME extension carries the encoder delay and padding:
//! what makes an MP3's length exact rather than "frames × 1152".

use super::header::FrameHeader;
use serde::Serialize;

/// Which VBR header the first frame carries.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum VbrHeaderKind {
    /// `Xing`: written by LAME for VBR/ABR.
    Xing,
    /// `Info`: the same layout, written by LAME for CBR.
    Info,
    /// `VBRI`: Fraunhofer's header.
    Vbri,
}

/// A parsed VBR header.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct VbrHeader {
    pub kind: VbrHeaderKind,
    /// Audio frames after this one, when the header states it.
    pub frames: Option<u64>,
    /// Bytes of the stream, when stated (informational).
    pub bytes: Option<u64>,
    /// The LAME extension (Xing/Info only).
    pub lame: Option<LameTag>,
    /// VBRI's own delay field (not applied by decoders; reported only).
    pub vbri_delay: Option<u16>,
}

/// The part of the LAME tag the length depends on.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct LameTag {
    /// Encoder short version, e.g. `LAME3.100` or `Lavc59.37`.
    pub encoder: String,
    /// Samples the encoder added at the start (decoders skip this + 529).
    pub delay: u16,
    /// Samples the encoder added at the end (decoders drop this − 529).
    pub padding: u16,
    /// Whether the tag's CRC-16 over the first 190 bytes of the frame matches.
    pub crc_ok: bool,
    /// Whether the CRC matches either as LAME computes it (every byte before it: fewer than
    /// 190 in a mono MPEG-1 frame, whose side info is shorter) or as ffmpeg's muxer does
    /// (always the first 190 bytes, the CRC field zero). Both cover the Xing counts.
    pub sealed: bool,
    /// The tag's own copy of the stream's byte count (`MusicLength`, VBR header frame
    /// included); LAME and ffmpeg write the Xing byte count here too.
    pub music_length: Option<u32>,
}

/// Looks for a VBR header in `frame` (the first frame's bytes, as many as are available).
pub(crate) fn parse(h: &FrameHeader, frame: &[u8]) -> Option<VbrHeader> {
    if h.layer != 3 {
        return None;
    }
    // LAME puts Xing right after the side info; a few writers ignore the CRC word, so try
    // both positions when the frame is protected.
    let mut offsets = vec![h.xing_offset()];
    if h.crc {
        offsets.push(h.xing_offset() - 2);
    }
    for off in offsets {
        if let Some(v) = parse_xing(frame, off) {
            return Some(v);
        }
    }
    parse_vbri(frame)
}

fn be32(b: &[u8], at: usize) -> Option<u32> {
    let s = b.get(at..at.checked_add(4)?)?;
    Some(u32::from_be_bytes([s[0], s[1], s[2], s[3]]))
}

fn be16(b: &[u8], at: usize) -> Option<u16> {
    let s = b.get(at..at.checked_add(2)?)?;
    Some(u16::from_be_bytes([s[0], s[1]]))
}

fn parse_xing(frame: &[u8], off: usize) -> Option<VbrHeader> {
    let magic = frame.get(off..off + 4)?;
    let kind = match magic {
        b"Xing" => VbrHeaderKind::Xing,
        b"Info" => VbrHeaderKind::Info,
        _ => return None,
    };
    let flags = be32(frame, off + 4)?;
    let mut at = off + 8;
    let mut frames = None;
    let mut bytes = None;
    if flags & 1 != 0 {
        frames = Some(u64::from(be32(frame, at)?));
        at += 4;
    }
    if flags & 2 != 0 {
        bytes = Some(u64::from(be32(frame, at)?));
        at += 4;
    }
    if flags & 4 != 0 {
        at += 100;
    }
    if flags & 8 != 0 {
        at += 4;
    }
    let lame = parse_lame(frame, at);
    Some(VbrHeader {
        kind,
        frames,
        bytes,
        lame,
        vbri_delay: None,
    })
}

/// Bytes ffmpeg's muxer covers with the LAME tag CRC whatever the frame layout
/// (`mp3enc.c`, `mp3_update_xing`).
const FFMPEG_CRC_SPAN: usize = 190;

/// The bytes ffmpeg's CRC covers when they run past the CRC field at `crc_at`: the first
/// [`FFMPEG_CRC_SPAN`], with the field as it was when computed (zero).
fn ffmpeg_span(frame: &[u8], crc_at: usize) -> Option<Vec<u8>> {
    let mut span = frame.get(..FFMPEG_CRC_SPAN)?.to_vec();
    span.get_mut(crc_at..crc_at + 2)?.fill(0);
    Some(span)
}

/// The LAME extension at `at`: 9-byte encoder version, then fields; delay and padding are
/// two 12-bit values at +21, the tag CRC at +34 covers every frame byte before it.
fn parse_lame(frame: &[u8], at: usize) -> Option<LameTag> {
    let version = frame.get(at..at + 9)?;
    // The same three encoder families ffmpeg trusts for gapless values.
    if !(version.starts_with(b"LAME")
        || version.starts_with(b"Lavf")
        || version.starts_with(b"Lavc"))
    {
        return None;
    }
    let dp = frame.get(at + 21..at + 24)?;
    let delay = (u16::from(dp[0]) << 4) | (u16::from(dp[1]) >> 4);
    let padding = (u16::from(dp[1] & 0x0F) << 8) | u16::from(dp[2]);
    let music_length = be32(frame, at + 28);
    let stored = be16(frame, at + 34);
    let matches = |covered: Option<&[u8]>| match (stored, covered) {
        (Some(stored), Some(covered)) => crc16_lame(covered) == stored,
        _ => false,
    };
    let crc_ok = matches(frame.get(..at + 34));
    let sealed =
        crc_ok || (at + 34 < FFMPEG_CRC_SPAN && matches(ffmpeg_span(frame, at + 34).as_deref()));
    let encoder = version
        .iter()
        .take_while(|&&b| b != 0)
        .map(|&b| {
            if b.is_ascii_graphic() || b == b' ' {
                b as char
            } else {
                '?'
            }
        })
        .collect::<String>()
        .trim_end()
        .to_string();
    Some(LameTag {
        encoder,
        delay,
        padding,
        crc_ok,
        sealed,
        music_length,
    })
}

/// VBRI sits at a fixed 32 bytes after the header, whatever the mode.
fn parse_vbri(frame: &[u8]) -> Option<VbrHeader> {
    const OFF: usize = 36;
    if frame.get(OFF..OFF + 4)? != b"VBRI" {
        return None;
    }
    let delay = be16(frame, OFF + 6)?;
    let bytes = be32(frame, OFF + 10)?;
    let frames = be32(frame, OFF + 14)?;
    Some(VbrHeader {
        kind: VbrHeaderKind::Vbri,
        frames: Some(u64::from(frames)),
        bytes: Some(u64::from(bytes)),
        lame: None,
        vbri_delay: Some(delay),
    })
}

/// CRC-16 as LAME computes its tag checksum (polynomial 0x8005, reflected, initial 0).
fn crc16_lame(data: &[u8]) -> u16 {
    let mut crc: u16 = 0;
    for &b in data {
        crc ^= u16::from(b);
        for _ in 0..8 {
            crc = if crc & 1 != 0 {
                (crc >> 1) ^ 0xA001
            } else {
                crc >> 1
            };
        }
    }
    crc
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn crc16_reference_value() {
        // CRC-16/ARC check value.
        assert_eq!(crc16_lame(b"123456789"), 0xBB3D);
    }

    #[test]
    fn ffmpeg_crc_over_190_bytes_seals_a_mono_frame() {
        // MPEG-1 layer III 128 kb/s 44.1 kHz mono: Xing at 21, LAME tag at 141, CRC at 175.
        let raw = 0xFFFB_90C0u32;
        let h = super::super::header::parse(raw).unwrap();
        let mut frame = vec![0u8; h.len as usize];
        frame[..4].copy_from_slice(&raw.to_be_bytes());
        frame[21..25].copy_from_slice(b"Info");
        frame[28] = 0x0F;
        frame[141..145].copy_from_slice(b"Lavf");
        let crc = crc16_lame(&frame[..190]);
        frame[175..177].copy_from_slice(&crc.to_be_bytes());
        let lame = parse(&h, &frame).unwrap().lame.unwrap();
        assert!(!lame.crc_ok && lame.sealed);
        // A count changed afterwards breaks the seal.
        frame[32] = 1;
        assert!(!parse(&h, &frame).unwrap().lame.unwrap().sealed);
    }

    #[test]
    fn truncated_frames_do_not_panic() {
        let h = super::super::header::parse(0xFFFB_9064).unwrap();
        let mut frame = vec![0u8; 417];
        frame[..4].copy_from_slice(&0xFFFB_9064u32.to_be_bytes());
        frame[36..40].copy_from_slice(b"Xing");
        frame[43] = 0x0F;
        for n in 0..frame.len() {
            let _ = parse(&h, &frame[..n]);
        }
        let v = parse(&h, &frame).unwrap();
        assert_eq!(v.kind, VbrHeaderKind::Xing);
        assert_eq!(v.frames, Some(0));
        assert!(v.lame.is_none());
    }
}
