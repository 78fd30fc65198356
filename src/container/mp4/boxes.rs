//! ISO BMFF boxes: the top-level scan (headers only, the payload stays on disk) and an
//! in-memory tree of `moov` in which every box we do not edit keeps its original bytes.

use std::fs::File;
use std::io::{Read, Seek, SeekFrom};

/// A box type.
pub(crate) type FourCc = [u8; 4];

/// Whether to descend into `typ` under `parent`. Only the path to the boxes we read or edit
/// is parsed; everything else (`meta`/`ilst`, `stsd`, a track's `udta`, ...) stays an opaque
/// leaf that is re-emitted byte for byte, so odd but valid contents there never stop a write.
fn is_container(parent: Option<&FourCc>, typ: &FourCc) -> bool {
    matches!(
        (parent, typ),
        (None, b"moov")
            | (Some(b"moov"), b"trak" | b"udta")
            | (Some(b"trak"), b"tref" | b"mdia" | b"edts")
            | (Some(b"mdia"), b"minf")
            | (Some(b"minf"), b"stbl" | b"dinf")
    )
}

/// Nesting deeper than this is not a real `moov` and is refused rather than recursed into.
const MAX_DEPTH: usize = 12;

/// A problem found in the box structure, before the caller adds the file name.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct BoxProblem {
    /// Where, e.g. `moov/trak[1]/mdia/minf/stbl/stco`.
    pub box_path: String,
    /// What, lowercase.
    pub problem: String,
}

impl BoxProblem {
    pub(crate) fn new(box_path: impl Into<String>, problem: impl Into<String>) -> Self {
        BoxProblem {
            box_path: box_path.into(),
            problem: problem.into(),
        }
    }
}

/// Printable form of a box type (`©nam` stays readable, binary junk is escaped).
pub(crate) fn fourcc_str(t: &FourCc) -> String {
    t.iter()
        .map(|&b| {
            if b.is_ascii_graphic() || b == b' ' {
                (b as char).to_string()
            } else if b == 0xA9 {
                "©".to_string()
            } else {
                format!("\\x{b:02x}")
            }
        })
        .collect()
}

/// One top-level box of the file, located by its header.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct TopBox {
    pub typ: FourCc,
    pub offset: u64,
    pub size: u64,
}

impl TopBox {
    pub(crate) fn end(&self) -> u64 {
        self.offset + self.size
    }
}

/// Top-level boxes are at least 8 bytes, so this only stops a file made of millions of
/// empty boxes from turning the scan into a long loop with a large list.
const MAX_TOP_BOXES: usize = 1 << 20;

/// Reads the top-level box headers. Handles 64-bit sizes (`size == 1`) and `size == 0`
/// (the box runs to the end of the file). A box claiming to extend past the end of the file
/// is an error: the file is truncated and writing into it would make things worse.
pub(crate) fn scan_top_level(file: &mut File, file_len: u64) -> Result<Vec<TopBox>, ScanError> {
    let mut boxes = Vec::new();
    let mut pos = 0u64;
    while pos < file_len {
        if boxes.len() >= MAX_TOP_BOXES {
            return Err(ScanError::Problem(BoxProblem::new(
                "file",
                format!("more than {MAX_TOP_BOXES} top-level boxes"),
            )));
        }
        let remaining = file_len - pos;
        if remaining < 8 {
            return Err(ScanError::Problem(BoxProblem::new(
                "file",
                format!("{remaining} stray bytes at offset {pos} after the last box"),
            )));
        }
        let mut hdr = [0u8; 16];
        let want = remaining.min(16) as usize;
        file.seek(SeekFrom::Start(pos)).map_err(ScanError::Io)?;
        file.read_exact(&mut hdr[..want]).map_err(ScanError::Io)?;
        let size32 = u32::from_be_bytes([hdr[0], hdr[1], hdr[2], hdr[3]]);
        let typ: FourCc = [hdr[4], hdr[5], hdr[6], hdr[7]];
        let (size, header_len) = match size32 {
            0 => (remaining, 8),
            1 => {
                if want < 16 {
                    return Err(ScanError::Problem(BoxProblem::new(
                        fourcc_str(&typ),
                        format!(
                            "64-bit size header at offset {pos} is cut off by the end of the file"
                        ),
                    )));
                }
                let large = u64::from_be_bytes([
                    hdr[8], hdr[9], hdr[10], hdr[11], hdr[12], hdr[13], hdr[14], hdr[15],
                ]);
                (large, 16)
            }
            n => (u64::from(n), 8),
        };
        if size < header_len {
            return Err(ScanError::Problem(BoxProblem::new(
                fourcc_str(&typ),
                format!("box at offset {pos} has size {size}, smaller than its header"),
            )));
        }
        if size > remaining {
            return Err(ScanError::Problem(BoxProblem::new(
                fourcc_str(&typ),
                format!(
                    "box at offset {pos} has size {size} but only {remaining} bytes remain (truncated file?)"
                ),
            )));
        }
        boxes.push(TopBox {
            typ,
            offset: pos,
            size,
        });
        pos += size;
    }
    Ok(boxes)
}

/// Failure of the top-level scan.
#[derive(Debug)]
pub(crate) enum ScanError {
    Io(std::io::Error),
    Problem(BoxProblem),
}

/// A box in the in-memory `moov` tree.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Node {
    pub typ: FourCc,
    pub kind: Kind,
}

/// Leaf or container.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Kind {
    /// The whole original box, header included, so it is re-emitted unchanged.
    Leaf { raw: Vec<u8>, header_len: usize },
    /// Children, plus any bytes after the last child too short to be a box (QuickTime's
    /// 32-bit zero terminator at the end of `udta`), kept as they were.
    Container {
        children: Vec<Node>,
        trailing: Vec<u8>,
    },
}

impl Node {
    /// A new leaf from its payload.
    pub(crate) fn leaf(typ: &FourCc, payload: &[u8]) -> Node {
        let mut raw = Vec::with_capacity(payload.len() + 16);
        let header_len = write_header(&mut raw, typ, payload.len() as u64);
        raw.extend_from_slice(payload);
        Node {
            typ: *typ,
            kind: Kind::Leaf { raw, header_len },
        }
    }

    /// A new container.
    pub(crate) fn container(typ: &FourCc, children: Vec<Node>) -> Node {
        Node {
            typ: *typ,
            kind: Kind::Container {
                children,
                trailing: Vec::new(),
            },
        }
    }

    /// Payload of a leaf (empty for a container).
    pub(crate) fn payload(&self) -> &[u8] {
        match &self.kind {
            Kind::Leaf { raw, header_len } => raw.get(*header_len..).unwrap_or(&[]),
            Kind::Container { .. } => &[],
        }
    }

    /// Children of a container (empty for a leaf).
    pub(crate) fn children(&self) -> &[Node] {
        match &self.kind {
            Kind::Container { children, .. } => children,
            Kind::Leaf { .. } => &[],
        }
    }

    /// Mutable children; `None` for a leaf.
    pub(crate) fn children_mut(&mut self) -> Option<&mut Vec<Node>> {
        match &mut self.kind {
            Kind::Container { children, .. } => Some(children),
            Kind::Leaf { .. } => None,
        }
    }

    /// First child of this type.
    pub(crate) fn child(&self, typ: &FourCc) -> Option<&Node> {
        self.children().iter().find(|c| &c.typ == typ)
    }

    /// First child of this type, mutably.
    pub(crate) fn child_mut(&mut self, typ: &FourCc) -> Option<&mut Node> {
        self.children_mut()?.iter_mut().find(|c| &c.typ == typ)
    }

    /// Follows a path of child types.
    pub(crate) fn find(&self, path: &[&FourCc]) -> Option<&Node> {
        let mut n = self;
        for t in path {
            n = n.child(t)?;
        }
        Some(n)
    }

    /// Follows a path of child types, mutably.
    pub(crate) fn find_mut(&mut self, path: &[&FourCc]) -> Option<&mut Node> {
        let mut n = self;
        for t in path {
            n = n.child_mut(t)?;
        }
        Some(n)
    }

    /// Serialised size in bytes.
    pub(crate) fn size(&self) -> u64 {
        match &self.kind {
            Kind::Leaf { raw, .. } => raw.len() as u64,
            Kind::Container { children, trailing } => {
                let body: u64 =
                    children.iter().map(Node::size).sum::<u64>() + trailing.len() as u64;
                body + header_len_for(body)
            }
        }
    }

    /// Appends the serialised box to `out`.
    pub(crate) fn write(&self, out: &mut Vec<u8>) {
        match &self.kind {
            Kind::Leaf { raw, .. } => out.extend_from_slice(raw),
            Kind::Container { children, trailing } => {
                let body: u64 =
                    children.iter().map(Node::size).sum::<u64>() + trailing.len() as u64;
                write_header(out, &self.typ, body);
                for c in children {
                    c.write(out);
                }
                out.extend_from_slice(trailing);
            }
        }
    }

    /// The serialised box.
    pub(crate) fn to_bytes(&self) -> Vec<u8> {
        let mut out = Vec::with_capacity(usize::try_from(self.size()).unwrap_or(0));
        self.write(&mut out);
        out
    }
}

fn header_len_for(body: u64) -> u64 {
    if body + 8 <= u64::from(u32::MAX) {
        8
    } else {
        16
    }
}

/// Writes a box header for a payload of `body` bytes; returns the header length.
pub(crate) fn write_header(out: &mut Vec<u8>, typ: &FourCc, body: u64) -> usize {
    if header_len_for(body) == 8 {
        out.extend_from_slice(&((body + 8) as u32).to_be_bytes());
        out.extend_from_slice(typ);
        8
    } else {
        out.extend_from_slice(&1u32.to_be_bytes());
        out.extend_from_slice(typ);
        out.extend_from_slice(&(body + 16).to_be_bytes());
        16
    }
}

/// Parses a whole box (e.g. `moov`) from memory.
pub(crate) fn parse_box(data: &[u8]) -> Result<Node, BoxProblem> {
    let mut nodes = Vec::new();
    let trailing = parse_into(data, None, "", 0, &mut nodes)?;
    match (nodes.len(), trailing.is_empty()) {
        (1, true) => nodes
            .pop()
            .ok_or_else(|| BoxProblem::new("file", "empty box")),
        _ => Err(BoxProblem::new(
            "file",
            "expected exactly one box in the buffer",
        )),
    }
}

/// Parses consecutive boxes of `data` into `out`; returns the trailing bytes (< 8) that
/// could not be a box.
/// A box header as decoded from its first bytes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct RawHeader {
    /// Four-character type.
    pub typ: FourCc,
    /// Whole box size, header included.
    pub size: u64,
    /// 8, or 16 for a 64-bit `largesize`.
    pub header_len: usize,
}

/// Why a box header is unusable.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum HeaderProblem {
    /// Size 1 (64-bit size follows) but fewer than 16 bytes are there.
    CutLargeSize,
    /// The size is smaller than the header itself.
    TooSmall(u64),
}

impl std::fmt::Display for HeaderProblem {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            HeaderProblem::CutLargeSize => f.write_str("64-bit size header is cut off"),
            HeaderProblem::TooSmall(size) => {
                write!(f, "size {size} is smaller than the box header")
            }
        }
    }
}

/// Decodes the box header at the start of `h` (8 or 16 bytes are looked at), in a parent
/// with `room` bytes left from the header on (a size of 0 means "to the end of the parent").
/// `Ok(None)` when fewer than 8 bytes are there. The one place box sizes are interpreted:
/// both the in-memory tree ([`parse_box`]) and the by-offset reader of the probe use it.
pub(crate) fn decode_header(h: &[u8], room: u64) -> Result<Option<RawHeader>, HeaderProblem> {
    let (Some(size), Some(typ)) = (h.get(0..4), h.get(4..8)) else {
        return Ok(None);
    };
    let size32 = u32::from_be_bytes([size[0], size[1], size[2], size[3]]);
    let typ: FourCc = [typ[0], typ[1], typ[2], typ[3]];
    let (size, header_len) = match size32 {
        0 => (room, 8usize),
        1 => {
            let Some(b) = h.get(8..16).filter(|_| room >= 16) else {
                return Err(HeaderProblem::CutLargeSize);
            };
            let mut a = [0u8; 8];
            a.copy_from_slice(b);
            (u64::from_be_bytes(a), 16usize)
        }
        n => (u64::from(n), 8usize),
    };
    if size < header_len as u64 {
        return Err(HeaderProblem::TooSmall(size));
    }
    Ok(Some(RawHeader {
        typ,
        size,
        header_len,
    }))
}

fn parse_into(
    data: &[u8],
    parent_type: Option<&FourCc>,
    parent: &str,
    depth: usize,
    out: &mut Vec<Node>,
) -> Result<Vec<u8>, BoxProblem> {
    if depth > MAX_DEPTH {
        return Err(BoxProblem::new(parent, "boxes nested too deeply"));
    }
    let mut pos = 0usize;
    let mut trak_count = 0usize;
    while pos < data.len() {
        let rest = &data[pos..];
        if rest.len() < 8 {
            return Ok(rest.to_vec());
        }
        let typ: FourCc = [rest[4], rest[5], rest[6], rest[7]];
        let mut name = fourcc_str(&typ);
        if &typ == b"trak" {
            trak_count += 1;
            name = format!("trak[{trak_count}]");
        }
        let path = if parent.is_empty() {
            name
        } else {
            format!("{parent}/{name}")
        };
        let (size, header_len) = match decode_header(rest, rest.len() as u64) {
            Ok(Some(h)) => (h.size, h.header_len),
            Ok(None) => return Ok(rest.to_vec()),
            Err(p) => return Err(BoxProblem::new(path, p.to_string())),
        };
        if size > rest.len() as u64 {
            return Err(BoxProblem::new(
                path,
                format!(
                    "size {size} exceeds the {} bytes left in its parent",
                    rest.len()
                ),
            ));
        }
        let size = size as usize;
        let raw = &rest[..size];
        let node = if is_container(parent_type, &typ) {
            // A container re-emits with the compact header form; an unusual original header
            // (64-bit size on a small box, size 0) is normalised, which readers cannot tell.
            let mut children = Vec::new();
            let trailing = parse_into(
                &raw[header_len..],
                Some(&typ),
                &path,
                depth + 1,
                &mut children,
            )?;
            Node {
                typ,
                kind: Kind::Container { children, trailing },
            }
        } else {
            Node {
                typ,
                kind: Kind::Leaf {
                    raw: raw.to_vec(),
                    header_len,
                },
            }
        };
        out.push(node);
        pos += size;
    }
    Ok(Vec::new())
}

/// A bounds-checked big-endian reader over a payload.
#[derive(Debug, Clone)]
pub(crate) struct Rd<'a> {
    b: &'a [u8],
    pos: usize,
}

impl<'a> Rd<'a> {
    pub(crate) fn new(b: &'a [u8]) -> Self {
        Rd { b, pos: 0 }
    }
    pub(crate) fn remaining(&self) -> usize {
        self.b.len().saturating_sub(self.pos)
    }
    pub(crate) fn bytes(&mut self, n: usize) -> Option<&'a [u8]> {
        let end = self.pos.checked_add(n)?;
        let s = self.b.get(self.pos..end)?;
        self.pos = end;
        Some(s)
    }
    pub(crate) fn skip(&mut self, n: usize) -> Option<()> {
        self.bytes(n).map(|_| ())
    }
    pub(crate) fn u8(&mut self) -> Option<u8> {
        self.bytes(1).map(|b| b[0])
    }
    pub(crate) fn u16(&mut self) -> Option<u16> {
        self.bytes(2).map(|b| u16::from_be_bytes([b[0], b[1]]))
    }
    pub(crate) fn u32(&mut self) -> Option<u32> {
        self.bytes(4)
            .map(|b| u32::from_be_bytes([b[0], b[1], b[2], b[3]]))
    }
    pub(crate) fn u64(&mut self) -> Option<u64> {
        self.bytes(8).map(|b| {
            let mut a = [0u8; 8];
            a.copy_from_slice(b);
            u64::from_be_bytes(a)
        })
    }
}

/// Version and flags of a full box payload.
pub(crate) fn full_box(payload: &[u8]) -> Option<(u8, u32)> {
    let v = *payload.first()?;
    let f = payload.get(1..4)?;
    Some((v, u32::from_be_bytes([0, f[0], f[1], f[2]])))
}

/// Chunk offsets of an `stco` or `co64` payload, with the entry count checked against the
/// box size before anything is allocated.
pub(crate) fn chunk_offsets(typ: &FourCc, payload: &[u8]) -> Result<Vec<u64>, String> {
    let mut r = Rd::new(payload);
    r.skip(4).ok_or("box is too short")?;
    let count = r.u32().ok_or("box is too short")? as usize;
    let width = if typ == b"co64" { 8 } else { 4 };
    if count
        .checked_mul(width)
        .is_none_or(|need| need > r.remaining())
    {
        return Err(format!("entry count {count} exceeds the box size"));
    }
    let mut v = Vec::with_capacity(count);
    for _ in 0..count {
        let o = if width == 8 {
            r.u64()
        } else {
            r.u32().map(u64::from)
        };
        v.push(o.ok_or("box is too short")?);
    }
    Ok(v)
}

/// An `stco` (when every offset fits 32 bits) or `co64` box holding `offsets`. A box that
/// was already `co64` stays `co64` so rewrites never flip between the two.
pub(crate) fn chunk_offset_box(offsets: &[u64], force_co64: bool) -> Node {
    let co64 = force_co64 || offsets.iter().any(|&o| o > u64::from(u32::MAX));
    let width = if co64 { 8 } else { 4 };
    let mut p = Vec::with_capacity(8 + offsets.len() * width);
    p.extend_from_slice(&[0, 0, 0, 0]);
    p.extend_from_slice(&(offsets.len() as u32).to_be_bytes());
    for &o in offsets {
        if co64 {
            p.extend_from_slice(&o.to_be_bytes());
        } else {
            p.extend_from_slice(&(o as u32).to_be_bytes());
        }
    }
    Node::leaf(if co64 { b"co64" } else { b"stco" }, &p)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn round_trip_keeps_bytes() {
        let mut ilst = Vec::new();
        write_header(&mut ilst, b"ilst", 4);
        ilst.extend_from_slice(&[1, 2, 3, 4]);
        let mut udta_body = Vec::new();
        udta_body.extend_from_slice(&ilst);
        udta_body.extend_from_slice(&[0, 0, 0, 0]);
        let mut moov = Vec::new();
        write_header(&mut moov, b"moov", (udta_body.len() + 8) as u64);
        write_header(&mut moov, b"udta", udta_body.len() as u64);
        moov.extend_from_slice(&udta_body);
        let n = parse_box(&moov).unwrap();
        assert_eq!(n.to_bytes(), moov);
        let udta = n.child(b"udta").unwrap();
        assert_eq!(udta.children().len(), 1);
        assert_eq!(udta.children()[0].payload(), &[1, 2, 3, 4]);
    }

    #[test]
    fn bad_sizes_are_errors_not_panics() {
        // Child claims more than the parent holds.
        let data = [
            0, 0, 0, 16, b'm', b'o', b'o', b'v', 0, 0, 0, 99, b'u', b'd', b't', b'a',
        ];
        let e = parse_box(&data).unwrap_err();
        assert_eq!(e.box_path, "moov/udta");
        // 64-bit header cut off.
        let data = [
            0, 0, 0, 20, b'm', b'o', b'o', b'v', 0, 0, 0, 1, b'u', b'd', b't', b'a', 0, 0, 0, 0,
        ];
        assert!(parse_box(&data).is_err());
        // Size smaller than header.
        let data = [0, 0, 0, 4, b'm', b'o', b'o', b'v'];
        assert!(parse_box(&data).is_err());
    }

    #[test]
    fn chunk_offset_count_is_checked() {
        let p = [0, 0, 0, 0, 0xEE, 0x6B, 0x28, 0x00, 0, 0, 0, 1];
        let e = chunk_offsets(b"stco", &p).unwrap_err();
        assert_eq!(e, "entry count 4000000000 exceeds the box size");
        let b = chunk_offset_box(&[1, u64::from(u32::MAX) + 1], false);
        assert_eq!(&b.typ, b"co64");
        assert_eq!(
            chunk_offsets(&b.typ, b.payload()).unwrap(),
            vec![1, u64::from(u32::MAX) + 1]
        );
    }

    proptest::proptest! {
        #[test]
        fn parsing_arbitrary_bytes_never_panics(data in proptest::collection::vec(proptest::num::u8::ANY, 0..512)) {
            let _ = parse_box(&data);
            let _ = chunk_offsets(b"stco", &data);
            let _ = chunk_offsets(b"co64", &data);
        }

        #[test]
        fn parsed_boxes_reserialise_identically(body in proptest::collection::vec(proptest::num::u8::ANY, 0..64)) {
            // An opaque leaf inside udta inside moov comes back byte for byte.
            let mut leaf = Vec::new();
            write_header(&mut leaf, b"ilst", body.len() as u64);
            leaf.extend_from_slice(&body);
            let mut udta = Vec::new();
            write_header(&mut udta, b"udta", leaf.len() as u64);
            udta.extend_from_slice(&leaf);
            let mut moov = Vec::new();
            write_header(&mut moov, b"moov", udta.len() as u64);
            moov.extend_from_slice(&udta);
            let n = parse_box(&moov).unwrap();
            proptest::prop_assert_eq!(n.to_bytes(), moov);
        }
    }
}
