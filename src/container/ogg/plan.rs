//! The write plan for an Ogg Opus, Vorbis or FLAC file: new comment pages over the old ones.
//!
//! In order of preference:
//! 1. the new comment packet has the old one's length (Opus: padding absorbs the change) —
//!    same pages, same lacing, new bodies and CRCs: a same-length [`Plan::Patch`];
//! 2. the packets fit the same number of pages — later pages keep their sequence numbers and
//!    CRCs, so they are copied untouched. Opus grows by whole 4 KiB blocks (padding sized to
//!    match) as a [`Plan::Insert`]; Vorbis, which has no padding, is rebuilt;
//! 3. otherwise the file is rebuilt with every later page of the stream renumbered and
//!    re-checksummed while it is copied ([`Piece::OggPages`]); granules never change.

use super::chapters::{Codec, Headers};
use super::pages::{EOS, Page, lacing_count, lay_out};
use crate::chapter::ChapterList;
use crate::container::vorbis_comment::CommentError;
use crate::container::vorbis_comment::VorbisError;
use crate::write::{Patch, Piece, Plan};

/// Least padding an Opus comment packet keeps after growing (opusenc reserves 512).
pub const OPUS_PADDING: usize = 1024;

/// Growth unit of the insert path (a file-system block multiple).
const GROW_UNIT: u64 = 4096;

/// Plans replacing the chapter comments with `list` (`None`: remove them).
pub(super) fn plan(
    h: &Headers,
    list: Option<&ChapterList>,
    name: &str,
) -> Result<Plan, VorbisError> {
    let comment_err = |source| VorbisError::Comment {
        file: name.to_string(),
        source,
    };
    let (old, tail) = h.comments().map_err(comment_err)?;
    let new = old.with_chapters(list).map_err(comment_err)?;
    if new == old {
        return Ok(Plan::Unchanged);
    }
    if let Some(why) = &h.unusual {
        return Err(VorbisError::Unsupported {
            file: name.to_string(),
            what: format!("rewriting these headers ({why})"),
        });
    }
    let old_packet = h.packets.first().map_or(0, Vec::len);
    let body = new.to_bytes().map_err(comment_err)?;
    let (core, tail) = match h.codec {
        Codec::Flac => (flac_block(h, &body, tail).map_err(comment_err)?, &[][..]),
        _ => ([h.codec.prefix(), &body].concat(), tail),
    };
    // Opus data after the comments is padding unless its first byte's low bit says keep.
    let opus_pad = h.codec == Codec::Opus && tail.first().is_none_or(|b| b & 1 == 0);
    let mut packets: Vec<Vec<u8>> = vec![if opus_pad {
        core.clone()
    } else {
        [core.as_slice(), tail].concat()
    }];
    packets.extend(h.packets.iter().skip(1).cloned());
    if opus_pad && core.len() <= old_packet {
        packets[0].resize(old_packet, 0);
    }
    let sizes_same = packets
        .iter()
        .map(Vec::len)
        .eq(h.packets.iter().map(Vec::len));
    if sizes_same {
        return Ok(Plan::Patch(vec![Patch {
            offset: h.header_start,
            data: same_layout(&h.pages, &packets.concat()),
        }]));
    }
    if opus_pad {
        if let Some(plan) = opus_insert(h, &core) {
            return Ok(plan);
        }
        packets[0].resize(core.len() + OPUS_PADDING, 0);
    }
    Ok(rebuild(h, &packets))
}

/// A rebuild: the identification page, the new header pages, then the audio pages — copied
/// as they are when the headers keep their page count, else renumbered.
fn rebuild(h: &Headers, packets: &[Vec<u8>]) -> Plan {
    let rest = Piece::Copy {
        offset: h.header_end,
        len: h.file_len - h.header_end,
    };
    let head = Piece::Copy {
        offset: 0,
        len: h.header_start,
    };
    let count = h.pages.len();
    let serial = h.serial;
    let first_seq = h.pages.first().map_or(1, |p| p.seq);
    let eos = last_flags(h);
    let refs: Vec<&[u8]> = packets.iter().map(Vec::as_slice).collect();
    let s = lacing_count(&refs);
    if (count..=255 * count).contains(&s) {
        let pages = lay_out(&refs, serial, first_seq, Some(count), eos);
        return Plan::Rebuild(vec![head, Piece::Bytes(pages), rest]);
    }
    let pages = lay_out(&refs, serial, first_seq, None, eos);
    let new_count = s.div_ceil(255).max(1);
    let delta = (new_count as u32).wrapping_sub(count as u32);
    Plan::Rebuild(vec![
        head,
        Piece::Bytes(pages),
        Piece::OggPages {
            offset: h.header_end,
            len: h.file_len - h.header_end,
            serial,
            delta,
        },
    ])
}

/// `EOS` when the old header pages ended the stream (a file with no audio), which the new
/// last header page must keep.
fn last_flags(h: &Headers) -> u8 {
    h.pages.last().map_or(0, |p| p.flags & EOS)
}

/// An Ogg FLAC comment packet: the metadata block header (type and last-block flag kept,
/// new 24-bit length) and the comments, then whatever followed them in the old block.
fn flac_block(h: &Headers, body: &[u8], tail: &[u8]) -> Result<Vec<u8>, CommentError> {
    let len = body.len() + tail.len();
    if len >= 1 << 24 {
        return Err(CommentError::TooLong);
    }
    let first = h
        .packets
        .first()
        .and_then(|p| p.first())
        .copied()
        .unwrap_or(4);
    let l = (len as u32).to_be_bytes();
    Ok([&[first, l[1], l[2], l[3]][..], body, tail].concat())
}

/// The old pages (flags, granules, numbers, lacing) with a body of the same total length.
fn same_layout(pages: &[Page], body: &[u8]) -> Vec<u8> {
    let mut out = Vec::with_capacity(body.len() + pages.len() * 282);
    let mut at = 0;
    for p in pages {
        let n = p.body_len();
        out.extend(p.build(body.get(at..at + n).unwrap_or(&[])));
        at += n;
    }
    out
}

/// An Opus comment packet padded so that its pages grow by exactly whole 4 KiB blocks and
/// still number as many as before: an insert at the file's start. `None` when that cannot
/// be (a leading ID3 tag, or the packet needs more pages).
fn opus_insert(h: &Headers, core: &[u8]) -> Option<Plan> {
    if h.start != 0 {
        return None;
    }
    let count = h.pages.len();
    let old_total = h.header_end - h.header_start;
    // Bytes of `count` pages holding one packet of `l` bytes.
    let total = |l: usize| (27 * count + l / 255 + 1 + l) as u64;
    let min_len = core.len() + OPUS_PADDING;
    let least = (total(min_len).saturating_sub(old_total))
        .div_ceil(GROW_UNIT)
        .max(1);
    // A block count whose size no packet length hits exactly (total() skips a value every
    // 255 bytes) moves on to the next.
    for k in least..least + 4 {
        let target = old_total + k * GROW_UNIT;
        // total(l) grows by 1 per byte plus 1 per 255: start just below and step up.
        let guess = ((target.saturating_sub(27 * count as u64 + 1)) * 255 / 256) as usize;
        let found =
            (guess.saturating_sub(3)..guess + 4).find(|&l| total(l) == target && l >= min_len);
        if let Some(l) = found {
            if l / 255 + 1 > 255 * count {
                return None;
            }
            let mut packet = core.to_vec();
            packet.resize(l, 0);
            let first_seq = h.pages.first().map_or(1, |p| p.seq);
            let pages = lay_out(&[&packet], h.serial, first_seq, Some(count), last_flags(h));
            let mut data = h.bos.clone();
            data.extend_from_slice(&pages);
            let fallback = vec![
                Piece::Bytes(data.clone()),
                Piece::Copy {
                    offset: h.header_end,
                    len: h.file_len - h.header_end,
                },
            ];
            return Some(Plan::Insert {
                len: k * GROW_UNIT,
                patches: vec![Patch { offset: 0, data }],
                fallback,
            });
        }
    }
    None
}
