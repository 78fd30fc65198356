//! The header packets of an Ogg Opus / Vorbis / FLAC stream, and the chapters in its comments.

use super::pages::{BOS, Page, PageError, read_page};
use crate::chapter::ChapterList;
use crate::container::vorbis_comment::Comments;
use crate::container::vorbis_comment::VorbisError;
use std::io::{BufReader, Read, Seek, SeekFrom};

/// Cap on the header packets we hold (comments can carry a cover picture).
pub const MAX_HEADERS: u64 = 64 << 20;

/// The codec of the first logical stream.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Codec {
    /// Opus: `OpusHead`, then `OpusTags` (comments, then optional padding).
    Opus,
    /// Vorbis: identification, comment (`\x03vorbis`), setup.
    Vorbis,
    /// FLAC in Ogg: `\x7FFLAC` + STREAMINFO, then metadata blocks (comments first).
    Flac,
}

impl Codec {
    /// Bytes before the comment block in the comment packet.
    pub fn prefix(self) -> &'static [u8] {
        match self {
            Codec::Opus => b"OpusTags",
            Codec::Vorbis => b"\x03vorbis",
            // A VORBIS_COMMENT metadata block header, built by the planner (it has a length).
            Codec::Flac => b"",
        }
    }

    /// Header packets after the identification packet that we read.
    fn packets_after_id(self) -> usize {
        match self {
            Codec::Vorbis => 2,
            Codec::Opus | Codec::Flac => 1,
        }
    }
}

/// The headers of the first logical stream.
#[derive(Debug, Clone)]
pub struct Headers {
    /// The codec.
    pub codec: Codec,
    /// Its serial number.
    pub serial: u32,
    /// Where the identification (BOS) page starts.
    pub start: u64,
    /// The identification page's bytes.
    pub bos: Vec<u8>,
    /// Where the pages holding the comment (and setup) packets start.
    pub header_start: u64,
    /// Where they end: the first audio page starts here.
    pub header_end: u64,
    /// Those pages, in order, with their body lengths.
    pub pages: Vec<Page>,
    /// Comment packet, then (Vorbis) the setup packet.
    pub packets: Vec<Vec<u8>>,
    /// Another logical stream is interleaved (a video or skeleton track), or the header
    /// pages hold more than the header packets: the layout cannot be rewritten safely.
    pub unusual: Option<String>,
    /// Length of the file.
    pub file_len: u64,
}

impl Headers {
    /// The comments, and the bytes after them in the packet (Vorbis framing bit, Opus
    /// padding or binary data).
    pub fn comments(
        &self,
    ) -> Result<(Comments, &[u8]), crate::container::vorbis_comment::CommentError> {
        let packet = self.packets.first().map(Vec::as_slice).unwrap_or(&[]);
        let skip = match self.codec {
            Codec::Opus => 8,
            Codec::Vorbis => 7,
            Codec::Flac => 4,
        };
        let data = packet.get(skip..).unwrap_or(&[]);
        let (c, used) = Comments::parse(data)?;
        Ok((c, data.get(used..).unwrap_or(&[])))
    }
}

fn codec_of(id: &[u8]) -> Option<Codec> {
    if id.starts_with(b"OpusHead") {
        Some(Codec::Opus)
    } else if id.starts_with(b"\x01vorbis") {
        Some(Codec::Vorbis)
    } else if id.starts_with(b"\x7FFLAC") {
        Some(Codec::Flac)
    } else {
        None
    }
}

/// Reads the header pages of the first logical stream.
pub fn read_headers<R: Read + Seek>(r: &mut R, name: &str) -> Result<Headers, VorbisError> {
    let io = |source| VorbisError::Io {
        file: name.to_string(),
        action: "reading",
        source,
    };
    let bad = |detail: String| VorbisError::Malformed {
        file: name.to_string(),
        container: "ogg",
        detail,
    };
    let file_len = r.seek(SeekFrom::End(0)).map_err(io)?;
    let start = crate::container::flac::blocks::skip_id3(r, file_len).map_err(io)?;
    r.seek(SeekFrom::Start(start)).map_err(io)?;
    let mut br = BufReader::new(r);
    let mut next = |what: &str| -> Result<(Page, Vec<u8>), VorbisError> {
        match read_page(&mut br) {
            Ok(Some(p)) => Ok(p),
            Ok(None) => Err(bad(format!("the file ends inside the {what}"))),
            Err(PageError::Io(e)) => Err(io(e)),
            Err(PageError::Bad(m)) => Err(bad(m)),
        }
    };
    let (first, id) = next("identification header")?;
    if first.flags & BOS == 0
        || !first.ends_packet()
        || first.lacing.iter().filter(|&&l| l < 255).count() != 1
    {
        return Err(bad(
            "the first page does not hold exactly one identification packet".to_string(),
        ));
    }
    let codec = codec_of(&id).ok_or_else(|| VorbisError::Unsupported {
        file: name.to_string(),
        what: "this ogg codec (opus, vorbis and flac are supported)".to_string(),
    })?;
    let bos = first.build(&id);
    let header_start = start + bos.len() as u64;
    let (pages, packets, header_end, unusual) =
        collect(&mut next, &first, codec, header_start, name)?;
    Ok(Headers {
        codec,
        serial: first.serial,
        start,
        bos,
        header_start,
        header_end,
        pages,
        packets,
        unusual,
        file_len,
    })
}

/// Pages, packets, where they end and what is unusual about them: the comment (and setup)
/// packets of `first`'s stream, read with `next` from `header_start` on.
type Collected = (Vec<Page>, Vec<Vec<u8>>, u64, Option<String>);

fn collect(
    next: &mut impl FnMut(&str) -> Result<(Page, Vec<u8>), VorbisError>,
    first: &Page,
    codec: Codec,
    header_start: u64,
    name: &str,
) -> Result<Collected, VorbisError> {
    let mut pos = header_start;
    let mut pages = Vec::new();
    let mut packets: Vec<Vec<u8>> = Vec::new();
    let mut partial: Vec<u8> = Vec::new();
    let mut unusual = None;
    let want = codec.packets_after_id();
    let mut held = 0u64;
    while packets.len() < want {
        let (page, body) = next("header packets")?;
        let len = page.total_len() as u64;
        if page.serial != first.serial {
            // Another stream's page (a video or skeleton track): read past it; a write would
            // have to keep it in place between ours, which the planner does not do.
            unusual = Some("an ogg file with several interleaved streams".to_string());
            pos += len;
            continue;
        }
        held += len;
        if held > MAX_HEADERS {
            return Err(VorbisError::TooLarge {
                file: name.to_string(),
                what: "ogg header packets",
                cap: MAX_HEADERS,
            });
        }
        let mut at = 0usize;
        for &l in &page.lacing {
            let end = at + usize::from(l);
            if packets.len() >= want {
                unusual = Some("an audio packet shares a page with the headers".to_string());
                break;
            }
            partial.extend_from_slice(body.get(at..end).unwrap_or(&[]));
            at = end;
            if l < 255 {
                packets.push(std::mem::take(&mut partial));
            }
        }
        pos += len;
        pages.push(page);
    }
    Ok((pages, packets, pos, unusual))
}

/// The chapters of an Ogg file (empty when its comments have none).
pub fn read_chapters<R: Read + Seek>(r: &mut R, name: &str) -> Result<ChapterList, VorbisError> {
    let h = read_headers(r, name)?;
    let (c, _) = h.comments().map_err(|source| VorbisError::Comment {
        file: name.to_string(),
        source,
    })?;
    Ok(c.chapters())
}
