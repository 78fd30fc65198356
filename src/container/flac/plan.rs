//! The write plan for a FLAC file: the new comment block in place when padding allows
//! (every other block staying where it is), else new metadata blocks over the old region,
//! grown when needed.

use super::blocks::{self, MAX_BLOCK_LEN, Metadata, PADDING, STREAMINFO, VORBIS_COMMENT};
use crate::chapter::ChapterList;
use crate::container::vorbis_comment::{CommentError, Comments};
use crate::write::{Patch, Piece, Plan};

/// Least padding left after the metadata when it has to grow, so the next edit fits in place.
pub const DEFAULT_PADDING: usize = 4096;

/// Growth unit: a multiple of the file system block, so the insert path can shift extents.
const GROW_UNIT: u64 = 4096;

/// Vendor string of a comment block we create (a file without one).
const VENDOR: &str = concat!("chapmark ", env!("CARGO_PKG_VERSION"));

/// Plans replacing the chapter comments of `meta` (`comments` is its parsed comment block)
/// with `list`, or removing them for `None`.
pub(super) fn plan(
    meta: &Metadata,
    comments: Option<&Comments>,
    list: Option<&ChapterList>,
    padding: usize,
) -> Result<Plan, CommentError> {
    let old = match comments {
        Some(c) => c.clone(),
        None if list.is_none() => return Ok(Plan::Unchanged),
        None => Comments {
            vendor: VENDOR.as_bytes().to_vec(),
            entries: Vec::new(),
        },
    };
    let new = old.with_chapters(list)?;
    if comments.is_some() && new == old {
        return Ok(Plan::Unchanged);
    }
    let body = new.to_bytes()?;
    if body.len() > MAX_BLOCK_LEN {
        return Err(CommentError::TooLong);
    }
    if let Some(patches) = local_patches(meta, &body) {
        return Ok(Plan::Patch(patches));
    }
    let kept = kept_blocks(meta, &body, comments.is_some());
    let content: u64 = kept.iter().map(|(_, b)| 4 + b.len() as u64).sum();
    let region_start = meta.start + 4;
    let old_region = meta.audio_offset - region_start;
    if content == old_region || content + 4 <= old_region {
        let region = serialize(&kept, old_region - content);
        return Ok(Plan::Patch(vec![Patch {
            offset: region_start,
            data: region,
        }]));
    }
    let need = content + 4 + padding as u64;
    let grow = (need - old_region).div_ceil(GROW_UNIT) * GROW_UNIT;
    let mut data = b"fLaC".to_vec();
    data.extend(serialize(&kept, old_region + grow - content));
    let audio = Piece::Copy {
        offset: meta.audio_offset,
        len: meta.file_len - meta.audio_offset,
    };
    if meta.start > 0 {
        // A leading ID3v2 tag: the insert would have to rewrite it too; rebuild instead.
        return Ok(Plan::Rebuild(vec![
            Piece::Copy {
                offset: 0,
                len: meta.start,
            },
            Piece::Bytes(data),
            audio,
        ]));
    }
    Ok(Plan::Insert {
        len: grow,
        patches: vec![Patch {
            offset: 0,
            data: data.clone(),
        }],
        fallback: vec![Piece::Bytes(data), audio],
    })
}

/// Same-length rewrites that leave every other block where it is (a cover picture after the
/// comments is not rewritten): the comment block over itself and the padding right after
/// it; else the old comment block turned into padding and the new one written into the
/// padding that ends the metadata. `None` when neither has room.
fn local_patches(meta: &Metadata, body: &[u8]) -> Option<Vec<Patch>> {
    let blocks = &meta.blocks;
    let size = |b: &blocks::Block| 4 + b.len as u64;
    let v = blocks.iter().position(|b| b.kind == VORBIS_COMMENT);
    if let Some(v) = v {
        let after = blocks.get(v + 1..).unwrap_or(&[]);
        let run_end = v + 1 + after.iter().take_while(|b| b.kind == PADDING).count();
        let room: u64 = blocks.get(v..run_end)?.iter().map(size).sum();
        if let Some(data) = fill(body, room, run_end == blocks.len()) {
            return Some(vec![Patch {
                offset: blocks.get(v)?.offset,
                data,
            }]);
        }
    }
    let trailing = blocks.last().filter(|b| b.kind == PADDING)?;
    let data = fill(body, size(trailing), true)?;
    let mut patches = Vec::with_capacity(2);
    if let Some(old) = v.and_then(|v| blocks.get(v)) {
        // Not the last block: the trailing padding comes after it.
        let mut blank = blocks::header(PADDING, false, old.len).to_vec();
        blank.resize(4 + old.len, 0);
        patches.push(Patch {
            offset: old.offset,
            data: blank,
        });
    }
    patches.push(Patch {
        offset: trailing.offset,
        data,
    });
    Some(patches)
}

/// A comment block with `body` and a padding block filling exactly `room` bytes (none when
/// the comment block fills them); `None` when it does not fit. With `last`, the final block
/// carries the last-block flag.
fn fill(body: &[u8], room: u64, last: bool) -> Option<Vec<u8>> {
    let new = 4 + body.len() as u64;
    let pad = match room.checked_sub(new)? {
        0 => None,
        left if left >= 4 && left - 4 <= MAX_BLOCK_LEN as u64 => Some((left - 4) as usize),
        _ => return None,
    };
    let mut out = Vec::with_capacity(usize::try_from(room).ok()?);
    out.extend_from_slice(&blocks::header(
        VORBIS_COMMENT,
        last && pad.is_none(),
        body.len(),
    ));
    out.extend_from_slice(body);
    if let Some(p) = pad {
        out.extend_from_slice(&blocks::header(PADDING, last, p));
        out.resize(out.len() + p, 0);
    }
    Some(out)
}

/// Every block but padding, in order, with the comment block replaced by `body` (or, when
/// the file has none, added after STREAMINFO).
fn kept_blocks<'a>(meta: &'a Metadata, body: &'a [u8], had_comments: bool) -> Vec<(u8, &'a [u8])> {
    let mut kept: Vec<(u8, &[u8])> = Vec::with_capacity(meta.blocks.len() + 1);
    let mut placed = false;
    for b in &meta.blocks {
        match b.kind {
            PADDING => {}
            VORBIS_COMMENT if !placed => {
                kept.push((VORBIS_COMMENT, body));
                placed = true;
            }
            kind => {
                kept.push((kind, &b.body));
                if kind == STREAMINFO && !had_comments && !placed {
                    kept.push((VORBIS_COMMENT, body));
                    placed = true;
                }
            }
        }
    }
    kept
}

/// The blocks, then `room` bytes as one padding block (header included; none when 0).
/// The last block carries the last-block flag.
fn serialize(kept: &[(u8, &[u8])], room: u64) -> Vec<u8> {
    let total: u64 = kept.iter().map(|(_, b)| 4 + b.len() as u64).sum::<u64>() + room;
    let mut out = Vec::with_capacity(usize::try_from(total).unwrap_or(0));
    for (i, (kind, body)) in kept.iter().enumerate() {
        let last = room == 0 && i + 1 == kept.len();
        out.extend_from_slice(&blocks::header(*kind, last, body.len()));
        out.extend_from_slice(body);
    }
    if room > 0 {
        // Padding beyond one block's 24-bit length is split over several blocks.
        let mut left = room;
        while left > 0 {
            let body = (left - 4).min(MAX_BLOCK_LEN as u64);
            let body = if left - 4 - body > 0 && left - 4 - body < 4 {
                body - 4
            } else {
                body
            };
            left -= 4 + body;
            out.extend_from_slice(&blocks::header(PADDING, left == 0, body as usize));
            out.resize(out.len() + body as usize, 0);
        }
    }
    out
}
