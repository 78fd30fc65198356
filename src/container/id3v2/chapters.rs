//! ID3v2 tag bytes → frames → chapters. Pure functions over an in-memory tag region.
//!
//! The parser keeps every frame as raw bytes ([`RawFrame`]) so the writer can put frames it
//! does not touch back byte for byte; only chapter frames are decoded into the model.

use super::Id3Error;
pub(crate) use super::header::{HEADER_LEN, TagHeader, syncsafe, to_syncsafe};
use crate::chapter::{Chapter, ChapterList, Link, Origin};
use crate::image::{MAX_IMAGE_BYTES, Picture};
use crate::time::Time;
use std::sync::Arc;

const FLAG_UNSYNC: u8 = 0x80;
const FLAG_EXTENDED: u8 = 0x40;
const FLAG_V22_COMPRESSION: u8 = 0x40;

/// How deep CTOC frames may nest before we stop following them (hostile tags can loop).
pub(super) const MAX_TOC_DEPTH: usize = 8;
/// Sub-frames nest at most this deep (CHAP inside CTOC is not allowed, but hostile tags try).
const MAX_SUBFRAME_DEPTH: usize = 2;

fn be32(b: &[u8]) -> Option<u32> {
    Some(u32::from_be_bytes(b.get(..4)?.try_into().ok()?))
}

/// Reverses unsynchronisation: every `FF 00` becomes `FF`.
pub(crate) fn deunsync(data: &[u8]) -> Vec<u8> {
    let mut out = Vec::with_capacity(data.len());
    let mut prev_ff = false;
    for &b in data {
        if prev_ff && b == 0 {
            prev_ff = false;
            continue;
        }
        out.push(b);
        prev_ff = b == 0xFF;
    }
    out
}

/// One frame as stored, in the tag's own version.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct RawFrame {
    /// Four-character frame ID.
    pub id: [u8; 4],
    /// The two flag bytes, in the layout of the tag's version.
    pub flags: [u8; 2],
    /// Everything after the frame header (unsynchronisation already removed), or, with a
    /// `tail`, its start.
    pub data: Vec<u8>,
    /// Bytes that follow `data` in the frame: the image of a `CHAP` we build, whose `APIC`
    /// sub-frame comes last. Shared with the chapter list, so several MiB of images are
    /// copied once (into the tag), not once per layer of frames. Always `None` when parsed.
    pub tail: Option<Arc<[u8]>>,
}

impl RawFrame {
    /// A frame with no flags.
    pub fn new(id: &[u8; 4], data: Vec<u8>) -> Self {
        RawFrame {
            id: *id,
            flags: [0, 0],
            data,
            tail: None,
        }
    }

    /// The frame ID as text (IDs are validated to be `[A-Z0-9]{4}`).
    pub fn id_str(&self) -> &str {
        std::str::from_utf8(&self.id).unwrap_or("????")
    }

    /// The frame's content with the format-flag prefixes (grouping byte, data-length
    /// indicator…) skipped; `None` when it is compressed or encrypted, which chapter frames
    /// never are and which we do not decode.
    pub fn content(&self, major: u8) -> Option<&[u8]> {
        let f = self.flags[1];
        if major == 4 {
            if f & 0x0C != 0 {
                return None;
            }
            let mut skip = 0;
            if f & 0x40 != 0 {
                skip += 1;
            }
            if f & 0x01 != 0 {
                skip += 4;
            }
            self.data.get(skip..)
        } else {
            if f & 0xC0 != 0 {
                return None;
            }
            let skip = if f & 0x20 != 0 { 1 } else { 0 };
            self.data.get(skip..)
        }
    }

    /// Length of the frame's content (`data` and `tail`).
    pub fn content_len(&self) -> usize {
        self.data.len() + self.tail.as_ref().map_or(0, |t| t.len())
    }

    /// Length of the frame as [`encode`](Self::encode) writes it.
    pub fn encoded_len(&self) -> usize {
        FRAME_HEADER_LEN + self.content_len()
    }

    /// Serialises the frame for a tag of version `major` (3 or 4).
    pub fn encode(&self, major: u8, out: &mut Vec<u8>) {
        encode_frame_header(&self.id, self.content_len(), self.flags, major, out);
        out.extend_from_slice(&self.data);
        if let Some(tail) = &self.tail {
            out.extend_from_slice(tail);
        }
    }
}

/// Bytes of a v2.3/v2.4 frame header.
pub(crate) const FRAME_HEADER_LEN: usize = 10;

/// A frame header: ID, size (sync-safe in v2.4), flags.
pub(crate) fn encode_frame_header(
    id: &[u8; 4],
    len: usize,
    flags: [u8; 2],
    major: u8,
    out: &mut Vec<u8>,
) {
    out.extend_from_slice(id);
    let len = u32::try_from(len).unwrap_or(u32::MAX);
    if major == 4 {
        out.extend_from_slice(&to_syncsafe(len));
    } else {
        out.extend_from_slice(&len.to_be_bytes());
    }
    out.extend_from_slice(&flags);
}

/// A parsed tag: its header and frames, plus whether the frame walk hit damage.
#[derive(Debug, Clone)]
pub(crate) struct ParsedTag {
    /// The original header.
    pub header: TagHeader,
    /// Version the frames below are laid out in: 3 or 4 (v2.2 frames are converted to v2.3
    /// while parsing, since v2.2 has no chapter frames and nobody writes it any more).
    pub major: u8,
    /// Frames in file order.
    pub frames: Vec<RawFrame>,
    /// Set when a frame ran past the end of the tag: readers keep what came before, the
    /// writer refuses to rewrite a tag it cannot fully read.
    pub damage: Option<(u64, String)>,
}

fn valid_id(id: &[u8]) -> bool {
    !id.is_empty()
        && id
            .iter()
            .all(|b| b.is_ascii_uppercase() || b.is_ascii_digit())
}

/// Parses a whole tag region (`region` starts with the `ID3` header and holds at least
/// [`TagHeader::total_len`] bytes).
pub(crate) fn parse_tag(region: &[u8]) -> Result<ParsedTag, Id3Error> {
    let header = TagHeader::parse(region)?.ok_or_else(|| Id3Error::Damaged {
        offset: 0,
        detail: "no id3v2 header".into(),
    })?;
    let body_end = HEADER_LEN + header.size as usize;
    let body = region.get(HEADER_LEN..body_end).ok_or(Id3Error::Damaged {
        offset: 0,
        detail: format!(
            "the tag claims {} bytes but only {} are present",
            body_end,
            region.len()
        ),
    })?;
    match header.major {
        2 => parse_v22(header, body),
        3 => {
            let owned;
            let mut body = body;
            if header.flags & FLAG_UNSYNC != 0 {
                owned = deunsync(body);
                body = &owned;
            }
            let start = if header.flags & FLAG_EXTENDED != 0 {
                // v2.3: the size excludes its own four bytes.
                let ext =
                    be32(body).ok_or_else(|| damaged(HEADER_LEN, "truncated extended header"))?;
                4usize.saturating_add(ext as usize)
            } else {
                0
            };
            let body = body.get(start..).unwrap_or(&[]);
            let (frames, damage) = walk_frames(body, 3, false, HEADER_LEN + start);
            Ok(ParsedTag {
                header,
                major: 3,
                frames,
                damage,
            })
        }
        _ => {
            let start = if header.flags & FLAG_EXTENDED != 0 {
                // v2.4: a syncsafe size that includes itself.
                let ext = body
                    .get(..4)
                    .and_then(syncsafe)
                    .ok_or_else(|| damaged(HEADER_LEN, "bad extended header size"))?;
                ext as usize
            } else {
                0
            };
            let body = body.get(start..).unwrap_or(&[]);
            let tag_unsync = header.flags & FLAG_UNSYNC != 0;
            let (frames, damage) = walk_frames(body, 4, tag_unsync, HEADER_LEN + start);
            if damage.is_some() {
                // iTunes and others wrote v2.4 frame sizes as plain integers; try that reading
                // and keep it if it walks the tag cleanly.
                let (plain, plain_damage) = walk_frames(body, 34, tag_unsync, HEADER_LEN + start);
                if plain_damage.is_none() {
                    log::debug!("id3v2.4 tag with non-syncsafe frame sizes; read them as plain");
                    return Ok(ParsedTag {
                        header,
                        major: 4,
                        frames: plain,
                        damage: None,
                    });
                }
            }
            Ok(ParsedTag {
                header,
                major: 4,
                frames,
                damage,
            })
        }
    }
}

fn damaged(offset: usize, detail: &str) -> Id3Error {
    Id3Error::Damaged {
        offset: offset as u64,
        detail: detail.into(),
    }
}

/// Walks frames of a v2.3 (`mode` 3), v2.4 (`mode` 4) or v2.4-with-plain-sizes (`mode` 34)
/// body. Stops at padding (a zero byte) or at bytes that cannot start a frame; reports damage
/// when a frame runs past the end. v2.4 frames stored unsynchronised are normalised: their
/// data is decoded and the flag cleared, since we never write unsynchronisation.
fn walk_frames(
    body: &[u8],
    mode: u8,
    tag_unsync: bool,
    base: usize,
) -> (Vec<RawFrame>, Option<(u64, String)>) {
    let mut frames = Vec::new();
    let mut pos = 0usize;
    while let Some(h) = body.get(pos..pos + HEADER_LEN) {
        if h[0] == 0 {
            break;
        }
        let id: [u8; 4] = [h[0], h[1], h[2], h[3]];
        if !valid_id(&id) {
            log::warn!(
                "id3: bytes at tag offset {} are not a frame; treating the rest as padding",
                base + pos
            );
            break;
        }
        let size = match mode {
            4 => syncsafe(&h[4..8]),
            _ => be32(&h[4..8]),
        };
        let Some(size) = size else {
            return (
                frames,
                Some((
                    (base + pos) as u64,
                    format!("frame {} has a bad size", id_text(&id)),
                )),
            );
        };
        let start = pos + HEADER_LEN;
        let Some(data) = start
            .checked_add(size as usize)
            .and_then(|end| body.get(start..end))
        else {
            return (
                frames,
                Some((
                    (base + pos) as u64,
                    format!(
                        "frame {} claims {} bytes but only {} remain in the tag",
                        id_text(&id),
                        size,
                        body.len().saturating_sub(start)
                    ),
                )),
            );
        };
        let mut flags = [h[8], h[9]];
        let data = if mode != 3 && (tag_unsync || flags[1] & 0x02 != 0) {
            flags[1] &= !0x02;
            deunsync(data)
        } else {
            data.to_vec()
        };
        frames.push(RawFrame {
            id,
            flags,
            data,
            tail: None,
        });
        pos = start + size as usize;
    }
    (frames, None)
}

fn id_text(id: &[u8]) -> String {
    String::from_utf8_lossy(id).into_owned()
}

/// Parses a v2.2 body and converts its frames to v2.3 layout (3-character IDs mapped by the
/// id3 crate's table, `PIC` rewritten as `APIC`). Frames with no v2.3 equivalent are dropped
/// with a warning: v2.2 is only ever converted, never written.
fn parse_v22(header: TagHeader, body: &[u8]) -> Result<ParsedTag, Id3Error> {
    if header.flags & FLAG_V22_COMPRESSION != 0 {
        return Err(Id3Error::Unsupported {
            detail: "id3v2.2 tag compression".into(),
        });
    }
    let owned;
    let mut body = body;
    if header.flags & FLAG_UNSYNC != 0 {
        owned = deunsync(body);
        body = &owned;
    }
    let mut frames = Vec::new();
    let mut pos = 0usize;
    let mut damage = None;
    while let Some(h) = body.get(pos..pos + 6) {
        if h[0] == 0 {
            break;
        }
        if !valid_id(&h[..3]) {
            log::warn!(
                "id3v2.2: bytes at tag offset {} are not a frame",
                HEADER_LEN + pos
            );
            break;
        }
        let size = (usize::from(h[3]) << 16) | (usize::from(h[4]) << 8) | usize::from(h[5]);
        let Some(data) = body.get(pos + 6..pos + 6 + size) else {
            damage = Some((
                (HEADER_LEN + pos) as u64,
                format!("frame {} runs past the end of the tag", id_text(&h[..3])),
            ));
            break;
        };
        let id3 = std::str::from_utf8(&h[..3]).unwrap_or("XXX");
        // The id3 crate converts v2.2 IDs when a frame is built from one.
        let mapped = ::id3::Frame::with_content(
            id3,
            ::id3::Content::Unknown(::id3::frame::Unknown {
                data: Vec::new(),
                version: ::id3::Version::Id3v22,
            }),
        );
        let new_id = mapped.id().as_bytes();
        match <[u8; 4]>::try_from(new_id) {
            Ok(id) if valid_id(&id) => {
                let data = if &id == b"APIC" {
                    pic_to_apic(data)
                } else {
                    data.to_vec()
                };
                frames.push(RawFrame::new(&id, data));
            }
            _ => log::warn!("id3v2.2 frame {id3} has no id3v2.3 equivalent; dropped"),
        }
        pos += 6 + size;
    }
    Ok(ParsedTag {
        header,
        major: 3,
        frames,
        damage,
    })
}

/// v2.2 `PIC` (encoding, 3-letter image format, type, description, data) → v2.3 `APIC`
/// (encoding, MIME type, type, description, data).
fn pic_to_apic(data: &[u8]) -> Vec<u8> {
    let (Some(&enc), Some(fmt), Some(rest)) = (data.first(), data.get(1..4), data.get(4..)) else {
        return data.to_vec();
    };
    let mime = match fmt.to_ascii_uppercase().as_slice() {
        b"JPG" => "image/jpeg".to_string(),
        b"PNG" => "image/png".to_string(),
        b"-->" => "-->".to_string(),
        other => format!("image/{}", String::from_utf8_lossy(other).to_lowercase()),
    };
    let mut out = Vec::with_capacity(data.len() + 8);
    out.push(enc);
    out.extend_from_slice(mime.as_bytes());
    out.push(0);
    out.extend_from_slice(rest);
    out
}

/// Length of the string terminator in text encoding `enc`.
pub(crate) fn terminator_len(enc: u8) -> usize {
    if enc == 1 || enc == 2 { 2 } else { 1 }
}

/// Splits `data` at the first terminator of encoding `enc`: (string bytes, rest after the
/// terminator). Without a terminator the whole input is the string.
pub(crate) fn split_terminated(enc: u8, data: &[u8]) -> (&[u8], &[u8]) {
    if terminator_len(enc) == 2 {
        let mut i = 0;
        while i + 1 < data.len() {
            if data[i] == 0 && data[i + 1] == 0 {
                return (&data[..i], &data[i + 2..]);
            }
            i += 2;
        }
        (data, &[])
    } else {
        match data.iter().position(|&b| b == 0) {
            Some(i) => (&data[..i], &data[i + 1..]),
            None => (data, &[]),
        }
    }
}

/// Decodes text in ID3 encoding `enc` (0 Latin-1, 1 UTF-16 with BOM, 2 UTF-16BE, 3 UTF-8).
/// Malformed sequences become U+FFFD rather than failing: a reader should show what it can.
pub(crate) fn decode_text(enc: u8, data: &[u8]) -> String {
    match enc {
        0 => data.iter().map(|&b| char::from(b)).collect(),
        1 | 2 => {
            let (le, body) = match data {
                [0xFF, 0xFE, rest @ ..] => (true, rest),
                [0xFE, 0xFF, rest @ ..] => (false, rest),
                _ => (false, data),
            };
            let units = body.chunks_exact(2).map(|c| {
                if le {
                    u16::from_le_bytes([c[0], c[1]])
                } else {
                    u16::from_be_bytes([c[0], c[1]])
                }
            });
            char::decode_utf16(units)
                .map(|r| r.unwrap_or(char::REPLACEMENT_CHARACTER))
                .collect()
        }
        _ => String::from_utf8_lossy(data).into_owned(),
    }
}

/// The first value of a text frame (`TIT2`, `TLEN`…): the encoding byte, then the text up
/// to the first terminator (v2.4 separates multiple values with one; v2.3 writers such as
/// ffmpeg end the text with one).
pub(crate) fn text_frame_value(content: &[u8]) -> Option<String> {
    let (&enc, rest) = content.split_first()?;
    let (s, _) = split_terminated(enc, rest);
    Some(decode_text(enc, s))
}

/// A `WXXX` frame: (description, URL). The URL is Latin-1 and may or may not end with NUL.
pub(crate) fn wxxx_value(content: &[u8]) -> Option<(String, String)> {
    let (&enc, rest) = content.split_first()?;
    let (desc, url) = split_terminated(enc, rest);
    let (url, _) = split_terminated(0, url);
    Some((decode_text(enc, desc), decode_text(0, url)))
}

/// A decoded `CHAP` frame.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct ChapFrame {
    pub element_id: Vec<u8>,
    pub start: u32,
    pub end: u32,
    pub title: Option<String>,
    pub description: Option<String>,
    pub link: Option<(String, String)>,
    /// The chapter image: embedded bytes or a linked URL, with its picture type.
    pub image: Option<(u8, ApicImage)>,
}

/// What an `APIC` frame holds: the image bytes, or (MIME type `-->`) the image's URL.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum ApicImage {
    Embedded(Picture),
    Linked(String),
}

/// Picture type "Cover (front)": the one AntennaPod prefers when a chapter has several.
pub(crate) const APIC_COVER: u8 = 3;

/// An `APIC` frame: (picture type, image). Layout: encoding, Latin-1 MIME type, picture
/// type, description in the encoding, then the image bytes (or a Latin-1 URL for `-->`).
pub(crate) fn apic_value(content: &[u8]) -> Option<(u8, ApicImage)> {
    let (&enc, rest) = content.split_first()?;
    let (mime, rest) = split_terminated(0, rest);
    let (&kind, rest) = rest.split_first()?;
    let (_desc, data) = split_terminated(enc, rest);
    let mime = decode_text(0, mime);
    if mime == "-->" {
        let (url, _) = split_terminated(0, data);
        return Some((kind, ApicImage::Linked(decode_text(0, url))));
    }
    if data.is_empty() || data.len() > MAX_IMAGE_BYTES {
        return None;
    }
    Some((
        kind,
        ApicImage::Embedded(Picture::new(data.to_vec(), Some(&mime))),
    ))
}

/// A decoded `CTOC` frame.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct TocFrame {
    pub element_id: Vec<u8>,
    pub top_level: bool,
    pub children: Vec<Vec<u8>>,
}

fn element_id(data: &[u8]) -> Option<(&[u8], &[u8])> {
    let i = data.iter().position(|&b| b == 0)?;
    Some((&data[..i], &data[i + 1..]))
}

/// Walks the sub-frames embedded in a CHAP/CTOC frame.
fn sub_frames(data: &[u8], major: u8, depth: usize) -> Vec<RawFrame> {
    if depth > MAX_SUBFRAME_DEPTH {
        return Vec::new();
    }
    let (frames, damage) = walk_frames(data, major, false, 0);
    if damage.is_some() && major == 4 {
        let (plain, plain_damage) = walk_frames(data, 34, false, 0);
        if plain_damage.is_none() {
            return plain;
        }
    }
    if let Some((_, d)) = damage {
        log::warn!("id3: chapter sub-frames are damaged: {d}");
    }
    frames
}

pub(crate) fn decode_chap(content: &[u8], major: u8) -> Option<ChapFrame> {
    let (id, rest) = element_id(content)?;
    let times = rest.get(..16)?;
    let start = be32(&times[0..4])?;
    let end = be32(&times[4..8])?;
    let mut chap = ChapFrame {
        element_id: id.to_vec(),
        start,
        end,
        title: None,
        description: None,
        link: None,
        image: None,
    };
    for f in sub_frames(rest.get(16..)?, major, 1) {
        let Some(c) = f.content(major) else { continue };
        match &f.id {
            b"TIT2" if chap.title.is_none() => chap.title = text_frame_value(c),
            b"TIT3" if chap.description.is_none() => chap.description = text_frame_value(c),
            b"WXXX" if chap.link.is_none() => chap.link = wxxx_value(c),
            // The first image, unless a later one is the front cover (AntennaPod's choice).
            b"APIC" if chap.image.as_ref().is_none_or(|(t, _)| *t != APIC_COVER) => {
                if let Some(img) = apic_value(c)
                    && (chap.image.is_none() || img.0 == APIC_COVER)
                {
                    chap.image = Some(img);
                }
            }
            _ => {}
        }
    }
    Some(chap)
}

pub(crate) fn decode_ctoc(content: &[u8]) -> Option<TocFrame> {
    let (id, rest) = element_id(content)?;
    let (&flags, rest) = rest.split_first()?;
    let (&count, mut rest) = rest.split_first()?;
    let mut children = Vec::with_capacity(usize::from(count));
    for _ in 0..count {
        let Some((child, after)) = element_id(rest) else {
            break;
        };
        children.push(child.to_vec());
        rest = after;
    }
    Some(TocFrame {
        element_id: id.to_vec(),
        top_level: flags & 0x02 != 0,
        children,
    })
}

/// Turns a parsed tag into the chapter model: CHAP frames in the order of the top-level CTOC
/// (following nested tables of contents), then any CHAP the table does not list, by start
/// time and marked hidden (`toc: false`). Without a top-level CTOC, all chapters by start.
pub(crate) fn chapters_of(tag: &ParsedTag) -> ChapterList {
    let major = tag.major;
    let mut chaps = Vec::new();
    let mut tocs = Vec::new();
    let mut list = ChapterList::default();
    for f in &tag.frames {
        let Some(c) = f.content(major) else { continue };
        match &f.id {
            b"CHAP" => match decode_chap(c, major) {
                Some(ch) => chaps.push(ch),
                None => log::warn!("id3: skipping a malformed CHAP frame"),
            },
            b"CTOC" => match decode_ctoc(c) {
                Some(t) => tocs.push(t),
                None => log::warn!("id3: skipping a malformed CTOC frame"),
            },
            b"TIT2" if list.meta.title.is_none() => list.meta.title = text_frame_value(c),
            b"TPE1" if list.meta.author.is_none() => list.meta.author = text_frame_value(c),
            b"TALB" if list.meta.podcast.is_none() => list.meta.podcast = text_frame_value(c),
            _ => {}
        }
    }
    let order = super::toc::order(&tocs, &chaps);
    let mut in_toc = vec![false; chaps.len()];
    for &i in &order {
        in_toc[i] = true;
    }
    let listed = order.clone();
    let mut rest: Vec<usize> = (0..chaps.len()).filter(|&i| !in_toc[i]).collect();
    rest.sort_by_key(|&i| (chaps[i].start, i));
    let has_toc = !listed.is_empty();
    for (pos, i) in listed.into_iter().chain(rest).enumerate() {
        let ch = &chaps[i];
        let start = Time::from_millis(u64::from(ch.start));
        list.chapters.push(Chapter {
            start,
            end: Some(Time::from_millis(u64::from(ch.end))),
            title: ch.title.clone().unwrap_or_default(),
            link: ch.link.as_ref().map(|(label, url)| Link {
                url: url.clone(),
                label: if label.is_empty() {
                    None
                } else {
                    Some(label.clone())
                },
            }),
            description: ch.description.clone().filter(|d| !d.is_empty()),
            image: match &ch.image {
                Some((_, ApicImage::Linked(url))) => Some(url.clone()),
                _ => None,
            },
            picture: match &ch.image {
                Some((_, ApicImage::Embedded(p))) => Some(p.clone()),
                _ => None,
            },
            toc: !has_toc || pos < order.len(),
            origin: Some(Origin {
                line: 0,
                timestamp: start.hms_millis(),
            }),
        });
    }
    list
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn round_trips_syncsafe() {
        for v in [0u32, 127, 128, 0x0FFF_FFFF, 300_000] {
            assert_eq!(syncsafe(&to_syncsafe(v)), Some(v));
        }
        assert_eq!(syncsafe(&[0, 0, 0x80, 0]), None);
    }

    #[test]
    fn deunsync_drops_inserted_zeroes() {
        assert_eq!(
            deunsync(&[0xFF, 0x00, 0xE0, 0xFF, 0x00, 0x00]),
            vec![0xFF, 0xE0, 0xFF, 0x00]
        );
    }

    #[test]
    fn text_decoding() {
        assert_eq!(decode_text(0, b"caf\xe9"), "café");
        assert_eq!(decode_text(1, &[0xFF, 0xFE, b'h', 0, b'i', 0]), "hi");
        assert_eq!(decode_text(1, &[0xFE, 0xFF, 0, b'h', 0, b'i']), "hi");
        assert_eq!(decode_text(3, "ü".as_bytes()), "ü");
        assert_eq!(text_frame_value(b"\x00abc\x00def"), Some("abc".into()));
        assert_eq!(
            wxxx_value(b"\x00label\x00https://x.org/\x00"),
            Some(("label".into(), "https://x.org/".into()))
        );
        // An odd-aligned 00 00 in UTF-16 is not a terminator.
        let (s, rest) = split_terminated(1, &[0xFF, 0xFE, 0x00, 0x01, 0x00, 0x00, b'x']);
        assert_eq!(s, &[0xFF, 0xFE, 0x00, 0x01]);
        assert_eq!(rest, b"x");
    }

    #[test]
    fn hostile_tags_do_not_panic() {
        let mut tag = b"ID3\x04\x00\x00\x00\x00\x00\x20".to_vec();
        tag.extend_from_slice(b"CHAP\x00\x00\x00\x7fxx");
        tag.resize(42, 0);
        let parsed = parse_tag(&tag).unwrap();
        assert!(parsed.damage.is_some());
        // A CTOC that lists itself.
        let mut ctoc = b"toc\x00\x03\x01toc\x00".to_vec();
        let toc = decode_ctoc(&ctoc).unwrap();
        assert!(super::super::toc::order(std::slice::from_ref(&toc), &[]).is_empty());
        ctoc.truncate(5);
        assert!(decode_ctoc(&ctoc).is_none());
        assert!(decode_chap(b"chp0\x00\x00", 3).is_none());
    }
}
