//! FLAC metadata blocks: `fLaC`, then blocks of a 4-byte header (last-block flag, 7-bit type,
//! 24-bit length) and a body, up to the first audio frame.

use crate::container::vorbis_comment::VorbisError;
use std::io::{Read, Seek, SeekFrom};

/// `STREAMINFO`.
pub const STREAMINFO: u8 = 0;
/// `PADDING`.
pub const PADDING: u8 = 1;
/// `VORBIS_COMMENT`.
pub const VORBIS_COMMENT: u8 = 4;
/// Largest body a block header can declare (24-bit length).
pub const MAX_BLOCK_LEN: usize = (1 << 24) - 1;

/// Cap on the metadata we hold in memory (every block but padding). Real files carry a few
/// kilobytes plus a cover picture; the format allows 127 blocks of 16 MiB each, which would
/// be a hostile or broken file.
pub const MAX_METADATA: u64 = 64 << 20;

/// One metadata block.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Block {
    /// Block type (0 STREAMINFO … 6 PICTURE).
    pub kind: u8,
    /// Where its 4-byte header starts in the file.
    pub offset: u64,
    /// Body length.
    pub len: usize,
    /// The body; empty for `PADDING` (never loaded: it is only room).
    pub body: Vec<u8>,
}

/// The metadata of a FLAC file.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Metadata {
    /// Where `fLaC` starts (after a leading ID3v2 tag, if any).
    pub start: u64,
    /// The blocks in file order.
    pub blocks: Vec<Block>,
    /// Where the first audio frame starts (end of the last block).
    pub audio_offset: u64,
    /// Length of the whole file.
    pub file_len: u64,
}

impl Metadata {
    /// The first block of `kind`.
    pub fn find(&self, kind: u8) -> Option<&Block> {
        self.blocks.iter().find(|b| b.kind == kind)
    }
}

/// Skips a leading ID3v2 tag (some taggers put one before `fLaC` or `OggS`): its end, or 0.
pub(crate) fn skip_id3<R: Read + Seek>(r: &mut R, file_len: u64) -> std::io::Result<u64> {
    let mut head = [0u8; 10];
    r.seek(SeekFrom::Start(0))?;
    if file_len < 10 {
        return Ok(0);
    }
    r.read_exact(&mut head)?;
    if &head[..3] != b"ID3" || head[6..10].iter().any(|b| b & 0x80 != 0) {
        return Ok(0);
    }
    let size = head[6..10]
        .iter()
        .fold(0u64, |n, &b| (n << 7) | u64::from(b));
    let footer = if head[5] & 0x10 != 0 { 10 } else { 0 };
    Ok(10 + size + footer)
}

/// Reads every metadata block. `what` names the file in errors.
pub fn read<R: Read + Seek>(r: &mut R, name: &str) -> Result<Metadata, VorbisError> {
    let io = |action: &'static str| {
        move |source| VorbisError::Io {
            file: name.to_string(),
            action,
            source,
        }
    };
    let bad = |detail: String| VorbisError::Malformed {
        file: name.to_string(),
        container: "flac",
        detail,
    };
    let file_len = r.seek(SeekFrom::End(0)).map_err(io("reading"))?;
    let start = skip_id3(r, file_len).map_err(io("reading"))?;
    let mut magic = [0u8; 4];
    r.seek(SeekFrom::Start(start)).map_err(io("reading"))?;
    r.read_exact(&mut magic)
        .map_err(|_| bad("no flac stream marker".to_string()))?;
    if &magic != b"fLaC" {
        return Err(bad("no flac stream marker".to_string()));
    }
    let mut pos = start + 4;
    let mut blocks = Vec::new();
    let mut held = 0u64;
    loop {
        let (block, last) = read_block(r, pos, file_len, &mut held, name)?;
        pos = block.offset + 4 + block.len as u64;
        blocks.push(block);
        if last {
            break;
        }
    }
    if blocks
        .first()
        .is_none_or(|b| b.kind != STREAMINFO || b.len < 34)
    {
        return Err(bad(
            "the first metadata block is not a streaminfo".to_string()
        ));
    }
    Ok(Metadata {
        start,
        blocks,
        audio_offset: pos,
        file_len,
    })
}

/// Reads the block at `pos` (the reader is there): the block and its last-block flag.
/// `held` counts the bytes of bodies kept so far, against [`MAX_METADATA`].
fn read_block<R: Read + Seek>(
    r: &mut R,
    pos: u64,
    file_len: u64,
    held: &mut u64,
    name: &str,
) -> Result<(Block, bool), VorbisError> {
    let bad = |detail: String| VorbisError::Malformed {
        file: name.to_string(),
        container: "flac",
        detail,
    };
    let io = |source| VorbisError::Io {
        file: name.to_string(),
        action: "reading metadata",
        source,
    };
    let mut h = [0u8; 4];
    r.read_exact(&mut h)
        .map_err(|_| bad(format!("the metadata block header at byte {pos} is cut")))?;
    let last = h[0] & 0x80 != 0;
    let kind = h[0] & 0x7F;
    let len = (usize::from(h[1]) << 16) | (usize::from(h[2]) << 8) | usize::from(h[3]);
    if kind == 127 {
        return Err(bad(format!(
            "invalid metadata block type 127 at byte {pos}"
        )));
    }
    let body_end = pos + 4 + len as u64;
    if body_end > file_len {
        return Err(bad(format!(
            "the metadata block at byte {pos} claims {len} bytes past the end of the file"
        )));
    }
    let body = if kind == PADDING {
        r.seek(SeekFrom::Start(body_end)).map_err(io)?;
        Vec::new()
    } else {
        *held += len as u64;
        if *held > MAX_METADATA {
            return Err(VorbisError::TooLarge {
                file: name.to_string(),
                what: "flac metadata",
                cap: MAX_METADATA,
            });
        }
        let mut b = vec![0u8; len];
        r.read_exact(&mut b).map_err(io)?;
        b
    };
    let block = Block {
        kind,
        offset: pos,
        len,
        body,
    };
    Ok((block, last))
}

/// A block header: `last` flag, type and 24-bit length.
pub fn header(kind: u8, last: bool, len: usize) -> [u8; 4] {
    let l = (len as u32).to_be_bytes();
    [kind | if last { 0x80 } else { 0 }, l[1], l[2], l[3]]
}
