//! Tags around MPEG audio: ID3v2 (leading, stacked, appended with a footer, or in the middle
//! of the stream), and at the end ID3v1 (+ `TAG+`), APEv1/v2 and Lyrics3v2.
//!
//! Only headers and frame headers are read; frame bodies (a 5 MB cover picture) are skipped
//! by offset, so memory stays bounded.

use super::header::{TagHeader, syncsafe};
use crate::container::io::Source;
use crate::probe::Id3Summary;
use std::io::{self, Read, Seek};

/// An ID3v2 tag located in the file.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Id3Tag {
    pub summary: Id3Summary,
    /// Problems met while walking its frames.
    pub warnings: Vec<String>,
}

/// The header fields of an ID3v2 tag at `pos`, if one starts there: (version, flags, body
/// size, total size including header and footer).
fn header_at<R: Read + Seek>(
    src: &mut Source<R>,
    pos: u64,
) -> io::Result<Option<(u8, u8, u64, u64)>> {
    let Some(h) = src.bytes::<10>(pos)? else {
        return Ok(None);
    };
    Ok(TagHeader::sniff(&h).map(|t| (t.major, t.flags, u64::from(t.size), t.total_len())))
}

fn is_frame_id(id: &[u8]) -> bool {
    !id.is_empty()
        && id
            .iter()
            .all(|&c| c.is_ascii_uppercase() || c.is_ascii_digit())
}

/// Parses the ID3v2 tag starting at `pos`, if there is one that fits in the file.
///
/// `Ok(None)` means no tag header at `pos`. A tag whose declared size runs past the end of
/// the file is reported with `Err` kind `UnexpectedEof` so callers can call it truncated.
pub(crate) fn id3v2_at<R: Read + Seek>(
    src: &mut Source<R>,
    pos: u64,
    appended: bool,
) -> io::Result<Option<Id3Tag>> {
    let Some((version, flags, body, total)) = header_at(src, pos)? else {
        return Ok(None);
    };
    if pos.saturating_add(total) > src.len() {
        return Err(io::Error::new(
            io::ErrorKind::UnexpectedEof,
            format!(
                "the id3v2 tag at offset {pos} declares {total} bytes but the file ends after {}",
                src.len() - pos
            ),
        ));
    }
    let mut warnings = Vec::new();
    let body_start = pos + 10;
    let body_end = body_start + body;
    let mut at = body_start;
    if flags & 0x80 != 0 && version < 4 {
        warnings.push(
            "the id3v2 tag is unsynchronised; its chapter count and padding may be approximate"
                .to_string(),
        );
    }
    if flags & 0x40 != 0 && version >= 3 {
        let ext = src.bytes::<4>(at)?.unwrap_or([0; 4]);
        let skip = if version == 3 {
            u64::from(u32::from_be_bytes(ext)) + 4
        } else {
            u64::from(syncsafe(&ext).unwrap_or(0))
        };
        at = at.saturating_add(skip.max(4));
    }
    let FrameCounts {
        chapters,
        toc,
        padding,
    } = count_frames(src, at, body_end, version, &mut warnings)?;
    Ok(Some(Id3Tag {
        summary: Id3Summary {
            version,
            offset: pos,
            size: total,
            padding,
            chapters,
            toc,
            appended,
        },
        warnings,
    }))
}

/// What walking a tag's frame headers found.
struct FrameCounts {
    chapters: usize,
    toc: bool,
    padding: u64,
}

/// Walks the frame headers from `at` to `body_end` (frame bodies are skipped by size):
/// `CHAP` frames, whether there is a `CTOC`, and the padding after the last frame.
fn count_frames<R: Read + Seek>(
    src: &mut Source<R>,
    mut at: u64,
    body_end: u64,
    version: u8,
    warnings: &mut Vec<String>,
) -> io::Result<FrameCounts> {
    let (id_len, hdr_len) = if version == 2 { (3, 6) } else { (4, 10) };
    let mut chapters = 0usize;
    let mut toc = false;
    let mut padding = 0u64;
    loop {
        if at >= body_end {
            break;
        }
        if at + hdr_len > body_end {
            // Too short for a frame header: whatever is left is padding (or garbage).
            padding = body_end - at;
            break;
        }
        let Some(fh) = src.bytes::<10>(at)? else {
            break;
        };
        if fh[0] == 0 {
            padding = body_end - at;
            break;
        }
        let id = &fh[..id_len];
        if !is_frame_id(id) {
            warnings.push(format!(
                "the id3v2 tag has an unreadable frame at offset {at}; its padding is unknown"
            ));
            break;
        }
        let size = match version {
            2 => u64::from(u32::from_be_bytes([0, fh[3], fh[4], fh[5]])),
            3 => u64::from(u32::from_be_bytes([fh[4], fh[5], fh[6], fh[7]])),
            _ => v4_frame_size(src, at, [fh[4], fh[5], fh[6], fh[7]], body_end)?,
        };
        if id == b"CHAP" {
            chapters += 1;
        } else if id == b"CTOC" {
            toc = true;
        }
        let next = at + hdr_len + size;
        if next > body_end {
            warnings.push(format!(
                "the id3v2 frame {} at offset {at} runs past the end of the tag",
                String::from_utf8_lossy(id)
            ));
            break;
        }
        at = next;
    }
    Ok(FrameCounts {
        chapters,
        toc,
        padding,
    })
}

/// ID3v2.4 frame sizes are syncsafe, but iTunes and others wrote plain integers. Take the
/// reading that lands on another frame (or the end/padding), preferring the standard one.
fn v4_frame_size<R: Read + Seek>(
    src: &mut Source<R>,
    at: u64,
    raw: [u8; 4],
    body_end: u64,
) -> io::Result<u64> {
    let plain = u64::from(u32::from_be_bytes(raw));
    let Some(safe) = syncsafe(&raw).map(u64::from) else {
        return Ok(plain);
    };
    if safe == plain {
        return Ok(safe);
    }
    for size in [safe, plain] {
        let next = at + 10 + size;
        if next == body_end {
            return Ok(size);
        }
        if next + 4 <= body_end {
            if let Some(id) = src.bytes::<4>(next)? {
                if id[0] == 0 || is_frame_id(&id) {
                    return Ok(size);
                }
            }
        }
    }
    Ok(safe)
}

/// The leading ID3v2 tags (some files carry two or more in a row).
#[derive(Debug, Clone, Default)]
pub(crate) struct Leading {
    /// Where the tags end (0 when there are none).
    pub end: u64,
    /// The tags in file order.
    pub tags: Vec<Id3Tag>,
}

/// Reads every ID3v2 tag at the start of the file.
pub(crate) fn leading<R: Read + Seek>(src: &mut Source<R>) -> io::Result<Leading> {
    let mut out = Leading::default();
    // Bounded: each tag is at least 10 bytes, and a file with more than 16 stacked tags is
    // not one a tagger produced.
    while out.tags.len() < 16 {
        match id3v2_at(src, out.end, false)? {
            Some(tag) => {
                out.end += tag.summary.size;
                out.tags.push(tag);
            }
            None => break,
        }
    }
    Ok(out)
}

/// Tags found at the end of the file.
#[derive(Debug, Clone, Default)]
pub(crate) struct Trailing {
    /// Where the audio ends: the first byte of the first trailing tag (or the file length).
    pub audio_end: u64,
    /// An ID3v1 tag is present.
    pub id3v1: bool,
    /// An APE tag is present.
    pub ape: bool,
    /// A Lyrics3v2 block is present.
    pub lyrics3: bool,
    /// An ID3v2 tag appended with a footer.
    pub id3v2: Option<Id3Tag>,
}

/// Peels tags off the end of the file, in any order, down to `floor`.
pub(crate) fn trailing<R: Read + Seek>(src: &mut Source<R>, floor: u64) -> io::Result<Trailing> {
    let mut t = Trailing {
        audio_end: src.len(),
        ..Trailing::default()
    };
    for _ in 0..8 {
        let end = t.audio_end;
        let room = end.saturating_sub(floor);
        if room >= 128 && !t.id3v1 {
            if let Some(b) = src.bytes::<3>(end - 128)? {
                if &b == b"TAG" {
                    t.id3v1 = true;
                    t.audio_end -= 128;
                    // The unofficial extended tag sits right before it.
                    if t.audio_end.saturating_sub(floor) >= 227
                        && src.bytes::<4>(t.audio_end - 227)? == Some(*b"TAG+")
                    {
                        t.audio_end -= 227;
                    }
                    continue;
                }
            }
        }
        if room >= 32 && !t.ape {
            if let Some(f) = src.bytes::<32>(end - 32)? {
                if &f[..8] == b"APETAGEX" {
                    let size = u64::from(u32::from_le_bytes([f[12], f[13], f[14], f[15]]));
                    let flags = u32::from_le_bytes([f[20], f[21], f[22], f[23]]);
                    let total = size + if flags & 0x8000_0000 != 0 { 32 } else { 0 };
                    if size >= 32 && total <= room {
                        t.ape = true;
                        t.audio_end -= total;
                        continue;
                    }
                }
            }
        }
        if room >= 15 + 11 && !t.lyrics3 {
            if let Some(f) = src.bytes::<15>(end - 15)? {
                if &f[6..] == b"LYRICS200" {
                    let size = std::str::from_utf8(&f[..6])
                        .ok()
                        .and_then(|s| s.parse::<u64>().ok());
                    if let Some(size) = size {
                        let total = size + 15;
                        if total <= room && src.bytes::<11>(end - total)? == Some(*b"LYRICSBEGIN") {
                            t.lyrics3 = true;
                            t.audio_end -= total;
                            continue;
                        }
                    }
                }
            }
        }
        if room >= 20 && t.id3v2.is_none() {
            if let Some(f) = src.bytes::<10>(end - 10)? {
                if &f[..3] == b"3DI" {
                    if let Some(size) = syncsafe(&[f[6], f[7], f[8], f[9]]) {
                        let total = u64::from(size) + 20;
                        if total <= room {
                            let start = end - total;
                            if let Ok(Some(tag)) = id3v2_at(src, start, true) {
                                if tag.summary.size == total {
                                    t.audio_end = start;
                                    t.id3v2 = Some(tag);
                                    continue;
                                }
                            }
                        }
                    }
                }
            }
        }
        break;
    }
    Ok(t)
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::io::Cursor;

    fn frame_v3(id: &[u8; 4], body: &[u8]) -> Vec<u8> {
        let mut f = id.to_vec();
        f.extend_from_slice(&(body.len() as u32).to_be_bytes());
        f.extend_from_slice(&[0, 0]);
        f.extend_from_slice(body);
        f
    }

    fn tag(version: u8, frames: &[u8], padding: usize, footer: bool) -> Vec<u8> {
        let size = frames.len() + padding;
        let ss = [
            ((size >> 21) & 0x7F) as u8,
            ((size >> 14) & 0x7F) as u8,
            ((size >> 7) & 0x7F) as u8,
            (size & 0x7F) as u8,
        ];
        let mut t = b"ID3".to_vec();
        t.extend_from_slice(&[version, 0, if footer { 0x10 } else { 0 }]);
        t.extend_from_slice(&ss);
        t.extend_from_slice(frames);
        t.extend(std::iter::repeat_n(0u8, padding));
        if footer {
            t.extend_from_slice(b"3DI");
            t.extend_from_slice(&[version, 0, 0x10]);
            t.extend_from_slice(&ss);
        }
        t
    }

    #[test]
    fn counts_chapters_and_padding() {
        let mut frames = frame_v3(b"TIT2", b"\0hello");
        frames.extend(frame_v3(b"CTOC", b"toc\0\x03\x01ch0\0"));
        frames.extend(frame_v3(b"CHAP", &[0; 20]));
        frames.extend(frame_v3(b"CHAP", &[0; 20]));
        let t = tag(3, &frames, 300, false);
        let total = t.len() as u64;
        let mut data = t;
        data.extend_from_slice(&[0xFF; 50]);
        let mut src = Source::new(Cursor::new(data)).unwrap();
        let lead = leading(&mut src).unwrap();
        assert_eq!(lead.end, total);
        let s = &lead.tags[0].summary;
        assert_eq!((s.version, s.size, s.padding), (3, total, 300));
        assert_eq!((s.chapters, s.toc), (2, true));
    }

    #[test]
    fn trailing_tags_in_any_order() {
        let mut data = vec![0xAAu8; 1000];
        let appended = tag(4, &frame_v3(b"TXXX", b"\0a\0b"), 0, true);
        data.extend_from_slice(&appended);
        let mut ape = vec![0u8; 10];
        let mut footer = b"APETAGEX".to_vec();
        footer.extend_from_slice(&2000u32.to_le_bytes());
        footer.extend_from_slice(&(10u32 + 32).to_le_bytes());
        footer.extend_from_slice(&0u32.to_le_bytes());
        footer.extend_from_slice(&0u32.to_le_bytes());
        footer.extend_from_slice(&[0; 8]);
        ape.extend_from_slice(&footer);
        data.extend_from_slice(&ape);
        let mut v1 = b"TAG".to_vec();
        v1.resize(128, b' ');
        data.extend_from_slice(&v1);
        let mut src = Source::new(Cursor::new(data)).unwrap();
        let t = trailing(&mut src, 0).unwrap();
        assert!(t.id3v1 && t.ape);
        assert_eq!(t.audio_end, 1000);
        assert!(t.id3v2.as_ref().unwrap().summary.appended);
    }

    #[test]
    fn oversized_tag_is_an_error_not_a_panic() {
        let mut t = tag(3, &frame_v3(b"TIT2", b"\0x"), 0, false);
        t[6..10].copy_from_slice(&[0x7F, 0x7F, 0x7F, 0x7F]);
        let mut src = Source::new(Cursor::new(t)).unwrap();
        let e = leading(&mut src).unwrap_err();
        assert_eq!(e.kind(), io::ErrorKind::UnexpectedEof);
    }
}
