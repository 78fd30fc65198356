//! Container detection from content: magic bytes after any leading ID3v2 tag.
//!
//! Extensions lie (an M4A renamed `.mp3`, an MP3 served as `.m4a`), so they never pick the
//! parser; the name's extension only words the error when nothing matches.

use super::{Container, Id3Summary, ProbeError};
use crate::container::io::Source;
use crate::container::mp3;
use std::io::{Read, Seek};

/// The detection result.
#[derive(Debug, Clone)]
pub(crate) struct Detected {
    /// The container.
    pub container: Container,
    /// Where the container's own bytes start (after leading ID3v2 tags).
    pub start: u64,
    /// The first leading ID3v2 tag, if any.
    pub id3: Option<Id3Summary>,
}

/// Box types that may open an ISO media file.
const MP4_FIRST_BOXES: [&[u8; 4]; 7] = [
    b"ftyp", b"moov", b"mdat", b"free", b"skip", b"wide", b"pnot",
];

fn show_magic(b: &[u8]) -> String {
    let mut s = String::from("\"");
    for &c in b.iter().take(8) {
        if c.is_ascii_graphic() || c == b' ' {
            s.push(c as char);
        } else {
            s.push_str(&format!("\\x{c:02x}"));
        }
    }
    s.push('"');
    s
}

fn ext_is_mpeg(name: &str) -> bool {
    let lower = name.to_ascii_lowercase();
    [".mp3", ".mp2", ".mp1", ".mpga", ".mpa"]
        .iter()
        .any(|e| lower.ends_with(e))
}

/// Detects the container of `src`.
pub(crate) fn detect<R: Read + Seek>(
    src: &mut Source<R>,
    name: &str,
) -> Result<Detected, ProbeError> {
    if src.len() == 0 {
        return Err(ProbeError::Empty {
            file: name.to_string(),
        });
    }
    let (start, id3, _count) = mp3::detect_leading(src, name)?;
    let head = src
        .window(start, 16)
        .map_err(|e| ProbeError::io(name, e))?
        .to_vec();
    let found = |container| {
        Ok(Detected {
            container,
            start,
            id3: id3.clone(),
        })
    };
    let unsupported = |what: &str| Err(ProbeError::unsupported(name, what));
    if head.is_empty() {
        // Only a tag, no audio after it.
        return Err(ProbeError::NoMpegFrames {
            file: name.to_string(),
        });
    }
    let at = |range: std::ops::Range<usize>| head.get(range).unwrap_or(&[]);
    match at(0..4) {
        b"fLaC" => return found(Container::Flac),
        b"OggS" => return found(Container::Ogg),
        b"RIFF" => {
            return match at(8..12) {
                b"WAVE" => found(Container::Wav),
                other => unsupported(&format!("riff {} file", show_magic(other))),
            };
        }
        b"RF64" | b"BW64" => return unsupported("rf64/bw64 wav (over 4 gb)"),
        b"FORM" => return unsupported("aiff"),
        b"caff" => return unsupported("core audio format (caf)"),
        [0x1A, 0x45, 0xDF, 0xA3] => return unsupported("matroska/webm"),
        b"wvpk" => return unsupported("wavpack"),
        b"MAC " => return unsupported("monkey's audio"),
        _ => {}
    }
    if MP4_FIRST_BOXES.iter().any(|m| at(4..8) == &m[..]) {
        return found(Container::Mp4);
    }
    if let [0xFF, b1, ..] = head[..] {
        if b1 & 0xF6 == 0xF0 {
            return unsupported("raw aac (adts)");
        }
        if b1 & 0xE0 == 0xE0 {
            return found(Container::Mp3);
        }
    }
    // No magic: an MP3 may still start with junk before its first frame.
    if mp3::looks_like_mpeg(src, start).map_err(|e| ProbeError::io(name, e))? {
        return found(Container::Mp3);
    }
    if start > 0 || ext_is_mpeg(name) {
        return Err(ProbeError::NoMpegFrames {
            file: name.to_string(),
        });
    }
    Err(ProbeError::UnknownFormat {
        file: name.to_string(),
        magic: show_magic(&head),
    })
}
