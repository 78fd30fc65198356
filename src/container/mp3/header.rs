//! MPEG audio frame headers: the 4 bytes that give a frame's length without decoding it.

use serde::Serialize;

/// MPEG audio version.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize)]
pub enum MpegVersion {
    /// MPEG-1 (32, 44.1, 48 kHz).
    #[serde(rename = "1")]
    V1,
    /// MPEG-2 LSF (16, 22.05, 24 kHz).
    #[serde(rename = "2")]
    V2,
    /// MPEG-2.5 (8, 11.025, 12 kHz), an unofficial extension every decoder supports.
    #[serde(rename = "2.5")]
    V25,
}

/// Bits of a header that stay the same in every frame of one stream: sync, version, layer and
/// sample rate (the mask ffmpeg's parser uses). Bitrate, padding and mode may change.
pub(crate) const SAME_STREAM_MASK: u32 = 0xFFFE_0C00;

/// A decoded frame header.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct FrameHeader {
    /// The raw 32 bits.
    pub raw: u32,
    pub version: MpegVersion,
    /// 1, 2 or 3.
    pub layer: u8,
    /// `true` when a 16-bit CRC follows the header.
    pub crc: bool,
    /// kbit/s.
    pub bitrate_kbps: u32,
    pub sample_rate: u32,
    pub padding: bool,
    /// 1 (mono) or 2.
    pub channels: u16,
    /// Whole frame length in bytes, header included.
    pub len: u32,
    /// PCM samples per channel this frame decodes to.
    pub samples: u32,
}

/// How a 4-byte word failed to be a usable frame header.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum HeaderError {
    /// Not a header at all (no sync, reserved values).
    Invalid,
    /// A valid header of a free-format frame (bitrate index 0): its length is not in the
    /// header, so we cannot walk the stream.
    FreeFormat,
}

const BITRATES_V1: [[u32; 16]; 3] = [
    // Layer I
    [
        0, 32, 64, 96, 128, 160, 192, 224, 256, 288, 320, 352, 384, 416, 448, 0,
    ],
    // Layer II
    [
        0, 32, 48, 56, 64, 80, 96, 112, 128, 160, 192, 224, 256, 320, 384, 0,
    ],
    // Layer III
    [
        0, 32, 40, 48, 56, 64, 80, 96, 112, 128, 160, 192, 224, 256, 320, 0,
    ],
];

const BITRATES_V2: [[u32; 16]; 2] = [
    // Layer I
    [
        0, 32, 48, 56, 64, 80, 96, 112, 128, 144, 160, 176, 192, 224, 256, 0,
    ],
    // Layers II and III
    [
        0, 8, 16, 24, 32, 40, 48, 56, 64, 80, 96, 112, 128, 144, 160, 0,
    ],
];

/// Decodes a header word. Never panics; any reserved value gives [`HeaderError::Invalid`].
pub(crate) fn parse(raw: u32) -> Result<FrameHeader, HeaderError> {
    if raw & 0xFFE0_0000 != 0xFFE0_0000 {
        return Err(HeaderError::Invalid);
    }
    let version = match (raw >> 19) & 3 {
        0 => MpegVersion::V25,
        2 => MpegVersion::V2,
        3 => MpegVersion::V1,
        _ => return Err(HeaderError::Invalid),
    };
    let layer = match (raw >> 17) & 3 {
        1 => 3,
        2 => 2,
        3 => 1,
        _ => return Err(HeaderError::Invalid),
    };
    let crc = (raw >> 16) & 1 == 0;
    let bitrate_index = ((raw >> 12) & 0xF) as usize;
    let sr_index = (raw >> 10) & 3;
    let padding = (raw >> 9) & 1 == 1;
    let mode = (raw >> 6) & 3;
    let emphasis = raw & 3;
    if bitrate_index == 15 || sr_index == 3 || emphasis == 2 {
        return Err(HeaderError::Invalid);
    }
    let base_rate = [44_100, 48_000, 32_000][sr_index as usize];
    let sample_rate = match version {
        MpegVersion::V1 => base_rate,
        MpegVersion::V2 => base_rate / 2,
        MpegVersion::V25 => base_rate / 4,
    };
    if bitrate_index == 0 {
        return Err(HeaderError::FreeFormat);
    }
    let layer_idx = (layer - 1) as usize;
    let bitrate_kbps = match version {
        MpegVersion::V1 => BITRATES_V1[layer_idx][bitrate_index],
        _ => BITRATES_V2[usize::from(layer != 1)][bitrate_index],
    };
    let bps = bitrate_kbps * 1000;
    let pad = u32::from(padding);
    let (len, samples) = match (layer, version) {
        (1, _) => ((12 * bps / sample_rate + pad) * 4, 384),
        (2, _) => (144 * bps / sample_rate + pad, 1152),
        (_, MpegVersion::V1) => (144 * bps / sample_rate + pad, 1152),
        _ => (72 * bps / sample_rate + pad, 576),
    };
    if len < 4 {
        return Err(HeaderError::Invalid);
    }
    Ok(FrameHeader {
        raw,
        version,
        layer,
        crc,
        bitrate_kbps,
        sample_rate,
        padding,
        channels: if mode == 3 { 1 } else { 2 },
        len,
        samples,
    })
}

impl FrameHeader {
    /// Offset of the Xing/Info tag inside a Layer III frame: right after the side info.
    pub(crate) fn xing_offset(&self) -> usize {
        let side_info = match (self.version, self.channels) {
            (MpegVersion::V1, 1) => 17,
            (MpegVersion::V1, _) => 32,
            (_, 1) => 9,
            (_, _) => 17,
        };
        4 + side_info + if self.crc { 2 } else { 0 }
    }

    /// Codec name for reports.
    pub(crate) fn codec(&self) -> &'static str {
        match self.layer {
            1 => "mp1",
            2 => "mp2",
            _ => "mp3",
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lame_128k_44k() {
        let h = parse(0xFFFB_9064).unwrap();
        assert_eq!(h.version, MpegVersion::V1);
        assert_eq!(h.layer, 3);
        assert_eq!(h.bitrate_kbps, 128);
        assert_eq!(h.sample_rate, 44_100);
        assert_eq!(h.len, 417);
        assert_eq!(h.samples, 1152);
        assert_eq!(h.channels, 2);
        assert!(!h.crc);
    }

    #[test]
    fn mpeg2_and_25() {
        // MPEG-2 layer III, 32 kbit/s, 22.05 kHz, mono.
        let h = parse(0xFFF3_40C4).unwrap();
        assert_eq!(h.version, MpegVersion::V2);
        assert_eq!(h.sample_rate, 22_050);
        assert_eq!(h.samples, 576);
        assert_eq!(h.len, 72 * 32_000 / 22_050);
        assert_eq!(h.channels, 1);
        // MPEG-2.5, 8 kHz.
        let h = parse(0xFFE3_88C4).unwrap();
        assert_eq!(h.version, MpegVersion::V25);
        assert_eq!(h.sample_rate, 8_000);
    }

    #[test]
    fn rejects_reserved_and_free() {
        assert_eq!(parse(0x0000_0000), Err(HeaderError::Invalid));
        assert_eq!(parse(0xFFFB_F064), Err(HeaderError::Invalid)); // bitrate 15
        assert_eq!(parse(0xFFFB_9C64), Err(HeaderError::Invalid)); // sample rate 3
        assert_eq!(parse(0xFFF9_9064), Err(HeaderError::Invalid)); // layer 0 (ADTS-like)
        assert_eq!(parse(0xFFEB_9064), Err(HeaderError::Invalid)); // version 01
        assert_eq!(parse(0xFFFB_0064), Err(HeaderError::FreeFormat));
    }

    #[test]
    fn every_word_is_safe() {
        // Exhaustive over the fields that matter; the low 8 bits only carry mode/emphasis.
        for hi in 0..=0xFFFFu32 {
            for lo in [0u32, 0x44, 0xC3, 0xFF] {
                if let Ok(h) = parse(0xFFE0_0000 | (hi << 8) & 0x001F_FF00 | lo) {
                    assert!(h.len >= 4 && h.len <= 2881, "{h:?}");
                    assert!([384, 576, 1152].contains(&h.samples));
                }
            }
        }
    }
}
