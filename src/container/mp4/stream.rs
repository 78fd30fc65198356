//! ISO BMFF box reading by offset, for the probe: headers (decoded by
//! [`boxes::decode_header`](super::boxes::decode_header), shared with the in-memory tree of
//! the chapter reader and writer) and small fixed fields.
//!
//! Boxes are never loaded whole: a parser asks for a header, the few bytes of a field, or a
//! streamed table, and `mdat` is skipped by its size.

use super::boxes::{HeaderProblem, decode_header};
use crate::container::io::Source;
use std::io::{self, Read, Seek};

/// A box header.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct BoxHeader {
    /// Four-character type.
    pub kind: [u8; 4],
    /// Offset of the first header byte.
    pub start: u64,
    /// 8, or 16 for a 64-bit `largesize`.
    pub header_len: u64,
    /// Whole box size, header included.
    pub size: u64,
}

impl BoxHeader {
    /// First byte of the body.
    pub(crate) fn body(&self) -> u64 {
        self.start + self.header_len
    }

    /// One past the last byte.
    pub(crate) fn end(&self) -> u64 {
        self.start.saturating_add(self.size)
    }

    /// The type as text, for messages.
    pub(crate) fn name(&self) -> String {
        self.kind
            .iter()
            .map(|&c| {
                if c.is_ascii_graphic() || c == b' ' {
                    c as char
                } else {
                    '?'
                }
            })
            .collect()
    }
}

/// Why a box header could not be used.
#[derive(Debug)]
pub(crate) enum BoxError {
    /// Reading failed.
    Io(io::Error),
    /// The header is malformed (size smaller than the header).
    Bad { at: u64, detail: String },
}

impl From<io::Error> for BoxError {
    fn from(e: io::Error) -> Self {
        BoxError::Io(e)
    }
}

/// Reads the box header at `pos`, inside a parent ending at `parent_end`. `Ok(None)` when fewer
/// than 8 bytes remain (the end of the parent). The returned box may extend past
/// `parent_end`; callers decide whether that means truncation.
pub(crate) fn header_at<R: Read + Seek>(
    src: &mut Source<R>,
    pos: u64,
    parent_end: u64,
) -> Result<Option<BoxHeader>, BoxError> {
    if parent_end.saturating_sub(pos) < 8 {
        return Ok(None);
    }
    let w = src.window(pos, 16)?;
    if w.len() < 8 {
        return Ok(None);
    }
    let room = parent_end - pos;
    let h = match decode_header(w, room) {
        Ok(Some(h)) => h,
        Ok(None) => return Ok(None),
        Err(HeaderProblem::CutLargeSize) => {
            return Err(BoxError::Bad {
                at: pos,
                detail: "a 64-bit box header is cut".to_string(),
            });
        }
        Err(HeaderProblem::TooSmall(size)) => {
            return Err(BoxError::Bad {
                at: pos,
                detail: format!(
                    "box '{}' has size {size}, smaller than its header",
                    String::from_utf8_lossy(&w[4..8])
                ),
            });
        }
    };
    Ok(Some(BoxHeader {
        kind: h.typ,
        start: pos,
        header_len: h.header_len as u64,
        size: h.size,
    }))
}

/// The child boxes of the range `[from, to)`, stopping at the first malformed or overrunning
/// child (returned as `Err` only for I/O; an overrun is reported through the last child's
/// `end() > to`). Capped so a hostile file cannot make a huge list.
pub(crate) fn children<R: Read + Seek>(
    src: &mut Source<R>,
    from: u64,
    to: u64,
) -> Result<Vec<BoxHeader>, BoxError> {
    const MAX_CHILDREN: usize = 4096;
    let mut out = Vec::new();
    let mut pos = from;
    while out.len() < MAX_CHILDREN {
        let Some(h) = header_at(src, pos, to)? else {
            break;
        };
        out.push(h);
        if h.end() > to {
            break;
        }
        pos = h.end();
    }
    Ok(out)
}

/// Big-endian integer helpers over the source; `None` past the end of the file.
pub(crate) fn u16_at<R: Read + Seek>(src: &mut Source<R>, pos: u64) -> io::Result<Option<u16>> {
    Ok(src.bytes::<2>(pos)?.map(u16::from_be_bytes))
}

/// See [`u16_at`].
pub(crate) fn u32_at<R: Read + Seek>(src: &mut Source<R>, pos: u64) -> io::Result<Option<u32>> {
    Ok(src.bytes::<4>(pos)?.map(u32::from_be_bytes))
}

/// See [`u16_at`].
pub(crate) fn u64_at<R: Read + Seek>(src: &mut Source<R>, pos: u64) -> io::Result<Option<u64>> {
    Ok(src.bytes::<8>(pos)?.map(u64::from_be_bytes))
}

/// Up to `max` bytes of `[from, to)` as an owned vector (for small boxes: `esds`, `chpl`
/// entries, `iTunSMPB` text).
pub(crate) fn small_body<R: Read + Seek>(
    src: &mut Source<R>,
    from: u64,
    to: u64,
    max: usize,
) -> io::Result<Vec<u8>> {
    let n = usize::try_from(to.saturating_sub(from))
        .unwrap_or(usize::MAX)
        .min(max);
    Ok(src.window(from, n)?.to_vec())
}
