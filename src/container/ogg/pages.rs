//! Ogg pages: parse, build, checksum, and the streaming renumbering copy.
//!
//! A page is a 27-byte header (`OggS`, version, flags, granule position, serial, sequence
//! number, CRC, segment count), a lacing table of up to 255 segment sizes, and the body. The
//! CRC covers the whole page with the CRC field zeroed; it is the non-reflected CRC-32 with
//! polynomial 0x04C11DB7, initial value 0 and no final xor (not zlib's).

use std::io::{self, Read, Write};

/// Page flag: the first packet continues one from the previous page.
pub const CONTINUED: u8 = 0x01;
/// Page flag: first page of a logical stream.
pub const BOS: u8 = 0x02;
/// Page flag: last page of a logical stream.
pub const EOS: u8 = 0x04;
/// Granule position of a page on which no packet ends.
pub const NO_GRANULE: u64 = u64::MAX;
/// Largest page: header, 255 lacing values, 255 × 255 body bytes.
pub const MAX_PAGE: usize = 27 + 255 + 255 * 255;

/// A parsed page header.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Page {
    /// Flags (`CONTINUED`, `BOS`, `EOS`).
    pub flags: u8,
    /// Granule position.
    pub granule: u64,
    /// Logical stream serial number.
    pub serial: u32,
    /// Page sequence number.
    pub seq: u32,
    /// The lacing values.
    pub lacing: Vec<u8>,
}

impl Page {
    /// Header length: 27 + lacing values.
    pub fn header_len(&self) -> usize {
        27 + self.lacing.len()
    }

    /// Body length: the sum of the lacing values.
    pub fn body_len(&self) -> usize {
        self.lacing.iter().map(|&l| usize::from(l)).sum()
    }

    /// Whole page length.
    pub fn total_len(&self) -> usize {
        self.header_len() + self.body_len()
    }

    /// Whether the page ends exactly at the end of a packet (its last lacing value is
    /// under 255). A page with no lacing values ends none.
    pub fn ends_packet(&self) -> bool {
        self.lacing.last().is_some_and(|&l| l < 255)
    }

    /// The page's bytes with `body`, its CRC computed.
    pub fn build(&self, body: &[u8]) -> Vec<u8> {
        let mut out = Vec::with_capacity(self.header_len() + body.len());
        out.extend_from_slice(b"OggS");
        out.push(0);
        out.push(self.flags);
        out.extend_from_slice(&self.granule.to_le_bytes());
        out.extend_from_slice(&self.serial.to_le_bytes());
        out.extend_from_slice(&self.seq.to_le_bytes());
        out.extend_from_slice(&[0; 4]);
        out.push(self.lacing.len() as u8);
        out.extend_from_slice(&self.lacing);
        out.extend_from_slice(body);
        let crc = crc(&out);
        out[22..26].copy_from_slice(&crc.to_le_bytes());
        out
    }
}

/// Why a page could not be read.
#[derive(Debug)]
pub enum PageError {
    /// Reading failed.
    Io(io::Error),
    /// Not a page, or a page whose CRC does not match.
    Bad(String),
}

impl From<io::Error> for PageError {
    fn from(e: io::Error) -> Self {
        PageError::Io(e)
    }
}

/// Reads one page at the reader's position: header and body (whose CRC is checked).
/// `Ok(None)` at a clean end of the stream.
pub fn read_page<R: Read>(r: &mut R) -> Result<Option<(Page, Vec<u8>)>, PageError> {
    let mut head = [0u8; 27];
    let mut got = 0;
    while got < 27 {
        match r.read(&mut head[got..]) {
            Ok(0) if got == 0 => return Ok(None),
            Ok(0) => return Err(PageError::Bad("a page header is cut".to_string())),
            Ok(n) => got += n,
            Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
            Err(e) => return Err(e.into()),
        }
    }
    if &head[..4] != b"OggS" || head[4] != 0 {
        return Err(PageError::Bad(
            "no ogg page where one should start".to_string(),
        ));
    }
    let mut lacing = vec![0u8; usize::from(head[26])];
    read_full(r, &mut lacing)?;
    let le32 = |at: usize| u32::from_le_bytes([head[at], head[at + 1], head[at + 2], head[at + 3]]);
    let page = Page {
        flags: head[5],
        granule: u64::from_le_bytes([
            head[6], head[7], head[8], head[9], head[10], head[11], head[12], head[13],
        ]),
        serial: le32(14),
        seq: le32(18),
        lacing,
    };
    let stored = le32(22);
    let mut body = vec![0u8; page.body_len()];
    read_full(r, &mut body)?;
    let mut zeroed = head;
    zeroed[22..26].fill(0);
    let sum = crc_update(crc_update(crc_update(0, &zeroed), &page.lacing), &body);
    if sum != stored {
        return Err(PageError::Bad(format!(
            "page {} of stream {:#x} has a bad checksum",
            page.seq, page.serial
        )));
    }
    Ok(Some((page, body)))
}

fn read_full<R: Read>(r: &mut R, buf: &mut [u8]) -> Result<(), PageError> {
    r.read_exact(buf).map_err(|e| match e.kind() {
        io::ErrorKind::UnexpectedEof => PageError::Bad("a page is cut".to_string()),
        _ => PageError::Io(e),
    })
}

/// Copies `len` bytes of whole pages from `input` to `out`, adding `delta` (wrapping) to the
/// sequence number of every page of stream `serial` (up to the next chained link) and
/// recomputing its CRC. Granules,
/// flags and bodies are copied as they are; one page is held at a time.
pub fn copy_renumbered<R: Read, W: Write>(
    input: &mut R,
    out: &mut W,
    len: u64,
    serial: u32,
    delta: u32,
) -> io::Result<()> {
    let mut done = 0u64;
    let mut buf = Vec::with_capacity(MAX_PAGE);
    // A chained file starts a new link with a BOS page, whose stream numbers its own pages
    // from 0 even when it reuses the serial: only the first link is renumbered.
    let mut renumber = true;
    while done < len {
        let (mut page, body) = match read_page(input) {
            Ok(Some(p)) => p,
            Ok(None) => {
                return Err(io::Error::new(
                    io::ErrorKind::UnexpectedEof,
                    "the file shrank while it was being written",
                ));
            }
            Err(PageError::Io(e)) => return Err(e),
            Err(PageError::Bad(m)) => return Err(io::Error::new(io::ErrorKind::InvalidData, m)),
        };
        if page.flags & BOS != 0 {
            renumber = false;
        }
        if renumber && page.serial == serial {
            page.seq = page.seq.wrapping_add(delta);
        }
        buf.clear();
        buf.extend_from_slice(&page.build(&body));
        done += buf.len() as u64;
        if done > len {
            return Err(io::Error::new(
                io::ErrorKind::InvalidData,
                "an ogg page crosses the end of the range being renumbered",
            ));
        }
        out.write_all(&buf)?;
    }
    Ok(())
}

const fn crc_table() -> [u32; 256] {
    let mut t = [0u32; 256];
    let mut i = 0;
    while i < 256 {
        let mut c = (i as u32) << 24;
        let mut k = 0;
        while k < 8 {
            c = if c & 0x8000_0000 != 0 {
                (c << 1) ^ 0x04C1_1DB7
            } else {
                c << 1
            };
            k += 1;
        }
        t[i] = c;
        i += 1;
    }
    t
}

static CRC_TABLE: [u32; 256] = crc_table();

fn crc_update(mut crc: u32, data: &[u8]) -> u32 {
    for &b in data {
        crc = (crc << 8) ^ CRC_TABLE[usize::from((crc >> 24) as u8 ^ b)];
    }
    crc
}

/// The Ogg CRC of `data`.
pub fn crc(data: &[u8]) -> u32 {
    crc_update(0, data)
}

/// Lays `packets` out as pages of stream `serial` numbered from `seq`, in exactly `pages`
/// pages when given (the caller checked it is possible), else in as few as possible. Pages
/// on which a packet ends get granule 0 (header packets), the others none; the last page
/// also gets `last_flags` (`EOS` for a stream that has only headers).
pub fn lay_out(
    packets: &[&[u8]],
    serial: u32,
    seq: u32,
    pages: Option<usize>,
    last_flags: u8,
) -> Vec<u8> {
    // One lacing value per 255 bytes, plus the closing one under 255.
    let mut lacing: Vec<u8> = Vec::new();
    for p in packets {
        lacing.extend(std::iter::repeat_n(255u8, p.len() / 255));
        lacing.push((p.len() % 255) as u8);
    }
    let body: Vec<u8> = packets.concat();
    let count = pages.unwrap_or(lacing.len().div_ceil(255)).max(1);
    let mut out = Vec::with_capacity(body.len() + count * (27 + 255));
    let (mut li, mut bi) = (0usize, 0usize);
    for i in 0..count {
        let left_pages = count - i - 1;
        let take = (lacing.len() - li).saturating_sub(left_pages).min(255);
        let seg = &lacing[li..li + take];
        let n: usize = seg.iter().map(|&l| usize::from(l)).sum();
        let continued = li > 0 && lacing[li - 1] == 255;
        let last = if i + 1 == count { last_flags } else { 0 };
        let page = Page {
            flags: if continued { CONTINUED | last } else { last },
            granule: if seg.iter().any(|&l| l < 255) {
                0
            } else {
                NO_GRANULE
            },
            serial,
            seq: seq.wrapping_add(i as u32),
            lacing: seg.to_vec(),
        };
        out.extend(page.build(&body[bi..bi + n]));
        li += take;
        bi += n;
    }
    out
}

/// Lacing values `packets` need in all.
pub fn lacing_count(packets: &[&[u8]]) -> usize {
    packets.iter().map(|p| p.len() / 255 + 1).sum()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn crc_check_value() {
        // CRC-32/MPEG-2 without its init and final xor: the Ogg variant of 0x04C11DB7.
        assert_eq!(crc(b"123456789"), 0x89A1_897F);
    }

    #[test]
    fn layout_round_trips_and_renumbers() {
        let big = vec![7u8; 70_000];
        let small = vec![1u8; 510];
        let bytes = lay_out(&[&big, &small], 9, 1, None, 0);
        let mut r = &bytes[..];
        let mut got = Vec::new();
        while let Some((p, body)) = read_page(&mut r).unwrap() {
            got.push((p, body));
        }
        assert_eq!(got.len(), 2);
        assert_eq!(got[1].0.flags, CONTINUED);
        assert_eq!(got[0].0.granule, NO_GRANULE);
        let all: Vec<u8> = got.iter().flat_map(|(_, b)| b.clone()).collect();
        assert_eq!(all.len(), 70_510);
        // Forced to three pages.
        let three = lay_out(&[&big, &small], 9, 1, Some(3), EOS);
        let mut out = Vec::new();
        copy_renumbered(&mut &three[..], &mut out, three.len() as u64, 9, 5).unwrap();
        let mut r = &out[..];
        let seqs: Vec<u32> =
            std::iter::from_fn(|| read_page(&mut r).unwrap().map(|p| p.0.seq)).collect();
        assert_eq!(seqs, [6, 7, 8]);
        let mut r = &out[..];
        let flags: Vec<u8> =
            std::iter::from_fn(|| read_page(&mut r).unwrap().map(|p| p.0.flags)).collect();
        assert_eq!(flags, [0, CONTINUED, CONTINUED | EOS]);
        // A chained link (BOS) with the same serial numbers its own pages: left alone.
        let page = |flags, seq| Page {
            flags,
            granule: 0,
            serial: 9,
            seq,
            lacing: vec![1],
        };
        let chain: Vec<u8> = [page(0, 3), page(BOS, 0), page(0, 1)]
            .iter()
            .flat_map(|p| p.build(b"x"))
            .collect();
        let mut out = Vec::new();
        copy_renumbered(&mut &chain[..], &mut out, chain.len() as u64, 9, 2).unwrap();
        let mut r = &out[..];
        let seqs: Vec<u32> =
            std::iter::from_fn(|| read_page(&mut r).unwrap().map(|p| p.0.seq)).collect();
        assert_eq!(seqs, [5, 0, 1]);
        // A packet of exactly 255 bytes needs a closing zero lacing value.
        assert_eq!(lacing_count(&[&[0u8; 255]]), 2);
    }
}
