//! The ID3v2 header and its syncsafe integers: the one parser used both by the probe (to
//! skip tags in front of, inside and after the audio) and by the chapter reader and writer.

use super::Id3Error;

/// Length of the ID3v2 header (and of the optional v2.4 footer).
pub(crate) const HEADER_LEN: usize = 10;

const FLAG_FOOTER: u8 = 0x10;

/// The fixed ten-byte ID3v2 header.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct TagHeader {
    /// 2, 3 or 4.
    pub major: u8,
    /// Header flags byte.
    pub flags: u8,
    /// Size of everything after the header, excluding a v2.4 footer.
    pub size: u32,
}

impl TagHeader {
    /// Reads a header leniently, as the probe skips tags: `None` unless the bytes start a
    /// well-formed ID3v2.2–2.4 header (a bad version or size is "no tag here").
    pub fn sniff(b: &[u8]) -> Option<TagHeader> {
        let h = b.get(..HEADER_LEN)?;
        if &h[..3] != b"ID3" || !(2..=4).contains(&h[3]) || h[4] == 0xFF {
            return None;
        }
        Some(TagHeader {
            major: h[3],
            flags: h[5],
            size: syncsafe(&h[6..10])?,
        })
    }

    /// Parses a header strictly, as the chapter reader and writer need it; `Ok(None)` when
    /// the bytes do not start an ID3v2 tag at all.
    pub fn parse(b: &[u8]) -> Result<Option<TagHeader>, Id3Error> {
        let Some(h) = b.get(..HEADER_LEN) else {
            return Ok(None);
        };
        if &h[..3] != b"ID3" {
            return Ok(None);
        }
        let major = h[3];
        if !(2..=4).contains(&major) {
            return Err(Id3Error::UnsupportedVersion { major });
        }
        let size = syncsafe(&h[6..10]).ok_or_else(|| Id3Error::Damaged {
            offset: 6,
            detail: "the tag size is not a syncsafe integer".into(),
        })?;
        Ok(Some(TagHeader {
            major,
            flags: h[5],
            size,
        }))
    }

    /// Bytes the whole tag occupies at the start of the file (header, body, footer).
    pub fn total_len(&self) -> u64 {
        let footer = if self.major == 4 && self.flags & FLAG_FOOTER != 0 {
            HEADER_LEN as u64
        } else {
            0
        };
        HEADER_LEN as u64 + u64::from(self.size) + footer
    }
}

/// Decodes a 28-bit syncsafe integer; `None` when a byte has its top bit set.
pub(crate) fn syncsafe(b: &[u8]) -> Option<u32> {
    let mut v = 0u32;
    for &x in b.get(..4)? {
        if x & 0x80 != 0 {
            return None;
        }
        v = (v << 7) | u32::from(x);
    }
    Some(v)
}

/// Encodes a value below 2^28 as a syncsafe integer.
pub(crate) fn to_syncsafe(v: u32) -> [u8; 4] {
    [
        ((v >> 21) & 0x7F) as u8,
        ((v >> 14) & 0x7F) as u8,
        ((v >> 7) & 0x7F) as u8,
        (v & 0x7F) as u8,
    ]
}
