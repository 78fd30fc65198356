//! Vorbis comments (Ogg Vorbis, Ogg Opus, FLAC) ⇄ the chapter model.
//!
//! Chapters follow the `CHAPTERxxx` convention of ffmpeg, VLC, Auphonic and AntennaPod:
//! `CHAPTER001=00:01:40.000`, `CHAPTER001NAME=Title`, `CHAPTER001URL=https://…`. We write three
//! digits from 001 (what Auphonic writes; ffmpeg reads any number) and times as
//! `HH:MM:SS.mmm`, and read two or three digits (some tools write `CHAPTER01`).
//!
//! Comments are kept as raw bytes: a comment we do not own goes back byte for byte, even one
//! that is not valid UTF-8, and so does the vendor string.

use crate::chapter::{Chapter, ChapterList, Link, Origin};
use crate::container::{Capabilities, ChapterForm};
use crate::time::Time;
use crate::write::WriteError;
use std::collections::BTreeMap;

/// Most chapters the three-digit numbering can count (001–999).
pub const MAX_CHAPTERS: usize = 999;

/// What `CHAPTERxxx` comments hold (Ogg and FLAC): 999 chapters, UTF-8 titles and URLs of
/// any length, no images.
pub const CAPABILITIES: Capabilities = Capabilities {
    writable: true,
    max_chapters: Some(MAX_CHAPTERS),
    max_title_bytes: None,
    urls: true,
    max_url_bytes: None,
    images: false,
    forms: &[ChapterForm::VorbisComment],
};

/// Cap on the number of comments we accept from a file (a hostile count could otherwise ask
/// for a huge allocation before the data runs out).
const MAX_COMMENTS: usize = 1 << 20;

/// Errors while reading or planning chapters in an Ogg or FLAC file. Messages start with the
/// file name.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum VorbisError {
    /// Reading failed.
    #[error("{file}: {action}: {source}")]
    Io {
        /// The file.
        file: String,
        /// What we were doing.
        action: &'static str,
        /// The underlying error.
        source: std::io::Error,
    },
    /// The structure is broken in a way we will not write over.
    #[error("{file}: invalid {container} file: {detail}")]
    Malformed {
        /// The file.
        file: String,
        /// `flac` or `ogg`.
        container: &'static str,
        /// What is wrong.
        detail: String,
    },
    /// A codec or layout we do not handle.
    #[error("{file}: {what} is not supported")]
    Unsupported {
        /// The file.
        file: String,
        /// What it is.
        what: String,
    },
    /// More metadata than we hold in memory.
    #[error("{file}: the {what} is larger than the {cap}-byte limit")]
    TooLarge {
        /// The file.
        file: String,
        /// What (`flac metadata`, `ogg header packets`).
        what: &'static str,
        /// The limit.
        cap: u64,
    },
    /// The comment block is damaged, or the new one cannot be built.
    #[error("{file}: {source}")]
    Comment {
        /// The file.
        file: String,
        /// What is wrong.
        source: CommentError,
    },
    /// Recovering an interrupted earlier write failed.
    #[error(transparent)]
    Recovery(#[from] WriteError),
}

/// Errors while reading or building a comment block.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum CommentError {
    /// The block ends before a length it declares.
    #[error("the vorbis comment block is truncated at byte {offset}: {detail}")]
    Truncated {
        /// Byte offset in the block.
        offset: usize,
        /// What was being read.
        detail: &'static str,
    },
    /// More chapters than three digits can number.
    #[error("{count} chapters: vorbis comments number chapters CHAPTER001 to CHAPTER999")]
    TooManyChapters {
        /// How many there were.
        count: usize,
    },
    /// A comment or the whole block longer than its 32-bit length field.
    #[error("a vorbis comment is longer than 4 gib")]
    TooLong,
}

/// A comment block: vendor string and `KEY=value` comments, as raw bytes.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Comments {
    /// The vendor string (the encoder's name), kept byte for byte.
    pub vendor: Vec<u8>,
    /// The comments in file order, each `KEY=value` as stored.
    pub entries: Vec<Vec<u8>>,
}

fn read_u32(data: &[u8], at: &mut usize, detail: &'static str) -> Result<u32, CommentError> {
    let bytes = data
        .get(*at..at.saturating_add(4))
        .and_then(|b| <[u8; 4]>::try_from(b).ok())
        .ok_or(CommentError::Truncated {
            offset: *at,
            detail,
        })?;
    *at += 4;
    Ok(u32::from_le_bytes(bytes))
}

fn read_bytes<'a>(
    data: &'a [u8],
    at: &mut usize,
    len: u32,
    detail: &'static str,
) -> Result<&'a [u8], CommentError> {
    let end = at.saturating_add(len as usize);
    let b = data.get(*at..end).ok_or(CommentError::Truncated {
        offset: *at,
        detail,
    })?;
    *at = end;
    Ok(b)
}

impl Comments {
    /// Parses a block (without any codec framing: the Vorbis `\x03vorbis` and Opus
    /// `OpusTags` prefixes are the caller's). Returns the block and the bytes it used, so the
    /// caller can keep what follows (Vorbis' framing bit, Opus padding).
    pub fn parse(data: &[u8]) -> Result<(Comments, usize), CommentError> {
        let mut at = 0;
        let vlen = read_u32(data, &mut at, "vendor length")?;
        let vendor = read_bytes(data, &mut at, vlen, "vendor string")?.to_vec();
        let count = read_u32(data, &mut at, "comment count")? as usize;
        // Every comment takes at least its 4-byte length.
        let possible = data.len().saturating_sub(at) / 4;
        let mut entries = Vec::with_capacity(count.min(possible).min(MAX_COMMENTS));
        for _ in 0..count {
            let len = read_u32(data, &mut at, "comment length")?;
            entries.push(read_bytes(data, &mut at, len, "comment")?.to_vec());
        }
        Ok((Comments { vendor, entries }, at))
    }

    /// The block as stored: vendor, count, comments (no framing).
    pub fn to_bytes(&self) -> Result<Vec<u8>, CommentError> {
        let len32 = |n: usize| u32::try_from(n).map_err(|_| CommentError::TooLong);
        let size = 8 + self.vendor.len() + self.entries.iter().map(|e| 4 + e.len()).sum::<usize>();
        let mut out = Vec::with_capacity(size);
        out.extend_from_slice(&len32(self.vendor.len())?.to_le_bytes());
        out.extend_from_slice(&self.vendor);
        out.extend_from_slice(&len32(self.entries.len())?.to_le_bytes());
        for e in &self.entries {
            out.extend_from_slice(&len32(e.len())?.to_le_bytes());
            out.extend_from_slice(e);
        }
        Ok(out)
    }

    /// Number of chapter comments (`CHAPTERxxx`, `…NAME`, `…URL`).
    pub fn chapter_entries(&self) -> usize {
        self.entries
            .iter()
            .filter(|e| chapter_key(e).is_some())
            .count()
    }

    /// The chapters these comments describe, by chapter number. A number without a valid
    /// time is skipped (logged): a chapter needs a start.
    pub fn chapters(&self) -> ChapterList {
        let mut by_number: BTreeMap<u32, Parts> = BTreeMap::new();
        for e in &self.entries {
            let Some((number, field)) = chapter_key(e) else {
                continue;
            };
            let value = value_of(e);
            let p = by_number.entry(number).or_default();
            match field {
                Field::Time => p.time = Some(value),
                Field::Name => p.name = Some(value),
                Field::Url => p.url = Some(value),
            }
        }
        let mut chapters = Vec::with_capacity(by_number.len());
        for (number, p) in by_number {
            let Some(raw) = p.time else {
                log::warn!("vorbis comments: chapter {number} has a name or url but no time");
                continue;
            };
            let Some(start) = parse_time(&raw) else {
                log::warn!("vorbis comments: chapter {number}: cannot read the time {raw:?}");
                continue;
            };
            let mut ch = Chapter::new(start, p.name.unwrap_or_default());
            ch.link = p.url.filter(|u| !u.is_empty()).map(Link::new);
            ch.origin = Some(Origin {
                line: 0,
                timestamp: raw,
            });
            chapters.push(ch);
        }
        ChapterList::new(chapters)
    }

    /// These comments with every chapter comment removed and, when `list` is given, its
    /// chapters written where the first old chapter comment was (at the end when there was
    /// none). Every other comment keeps its bytes and its place.
    pub fn with_chapters(&self, list: Option<&ChapterList>) -> Result<Comments, CommentError> {
        let new = match list {
            Some(l) => chapter_comments(l)?,
            None => Vec::new(),
        };
        let at = self
            .entries
            .iter()
            .position(|e| chapter_key(e).is_some())
            .unwrap_or(self.entries.len());
        let mut entries: Vec<Vec<u8>> = Vec::with_capacity(self.entries.len() + new.len());
        for (i, e) in self.entries.iter().enumerate() {
            if i == at {
                entries.extend(new.iter().cloned());
            }
            if chapter_key(e).is_none() {
                entries.push(e.clone());
            }
        }
        if at == self.entries.len() {
            entries.extend(new);
        }
        Ok(Comments {
            vendor: self.vendor.clone(),
            entries,
        })
    }
}

/// The comments that store `list`.
fn chapter_comments(list: &ChapterList) -> Result<Vec<Vec<u8>>, CommentError> {
    if list.len() > MAX_CHAPTERS {
        return Err(CommentError::TooManyChapters { count: list.len() });
    }
    let mut out = Vec::with_capacity(list.len() * 3);
    for (i, ch) in list.chapters.iter().enumerate() {
        let n = i + 1;
        out.push(format!("CHAPTER{n:03}={}", ch.start.hms_millis()).into_bytes());
        out.push(format!("CHAPTER{n:03}NAME={}", ch.title).into_bytes());
        if let Some(url) = ch.url() {
            out.push(format!("CHAPTER{n:03}URL={url}").into_bytes());
        }
    }
    Ok(out)
}

#[derive(Default)]
struct Parts {
    time: Option<String>,
    name: Option<String>,
    url: Option<String>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Field {
    Time,
    Name,
    Url,
}

/// `CHAPTER` + two or three digits + nothing, `NAME` or `URL` (field names are
/// case-insensitive in Vorbis comments). Returns the number and the field.
fn chapter_key(entry: &[u8]) -> Option<(u32, Field)> {
    let eq = entry.iter().position(|&b| b == b'=')?;
    let key = entry.get(..eq)?;
    let rest = key
        .get(..7)
        .filter(|p| p.eq_ignore_ascii_case(b"CHAPTER"))
        .and_then(|_| key.get(7..))?;
    let digits = rest.iter().take_while(|b| b.is_ascii_digit()).count();
    if !(2..=3).contains(&digits) {
        return None;
    }
    let number = rest
        .get(..digits)?
        .iter()
        .fold(0u32, |n, d| n * 10 + u32::from(d - b'0'));
    let field = match rest.get(digits..)? {
        b"" => Field::Time,
        s if s.eq_ignore_ascii_case(b"NAME") => Field::Name,
        s if s.eq_ignore_ascii_case(b"URL") => Field::Url,
        _ => return None,
    };
    Some((number, field))
}

/// The value after the first `=`, as text (invalid UTF-8 replaced).
fn value_of(entry: &[u8]) -> String {
    let v = entry
        .iter()
        .position(|&b| b == b'=')
        .and_then(|i| entry.get(i + 1..))
        .unwrap_or(&[]);
    String::from_utf8_lossy(v).into_owned()
}

/// `H:MM:SS`, `HH:MM:SS.mmm` or any number of fraction digits (floored to the millisecond);
/// `MM:SS[.mmm]` too, since some tools drop zero hours.
fn parse_time(s: &str) -> Option<Time> {
    let s = s.trim();
    let (clock, frac) = s.split_once('.').unwrap_or((s, ""));
    if !frac.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    let ms = frac
        .bytes()
        .chain(std::iter::repeat(b'0'))
        .take(3)
        .fold(0u64, |acc, b| acc * 10 + u64::from(b - b'0'));
    let parts: Vec<&str> = clock.split(':').collect();
    let num = |p: &str| -> Option<u64> {
        if p.is_empty() || p.len() > 10 || !p.bytes().all(|b| b.is_ascii_digit()) {
            return None;
        }
        p.parse().ok()
    };
    let (h, m, sec) = match parts.as_slice() {
        [h, m, s] => (num(h)?, num(m)?, num(s)?),
        [m, s] => (0, num(m)?, num(s)?),
        _ => return None,
    };
    if m > 59 || sec > 59 {
        return None;
    }
    Time::from_hmsm(h, m, sec, ms)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn block(entries: &[&str]) -> Comments {
        Comments {
            vendor: b"test vendor".to_vec(),
            entries: entries.iter().map(|e| e.as_bytes().to_vec()).collect(),
        }
    }

    #[test]
    fn round_trip_and_truncation() {
        let c = block(&["TITLE=x", "ARTIST=y"]);
        let bytes = c.to_bytes().unwrap();
        let (back, used) = Comments::parse(&bytes).unwrap();
        assert_eq!(back, c);
        assert_eq!(used, bytes.len());
        for cut in 0..bytes.len() {
            assert!(Comments::parse(&bytes[..cut]).is_err(), "cut at {cut}");
        }
        // A huge count with no data is an error, not an allocation.
        let mut evil = bytes[..4 + 11].to_vec();
        evil.extend_from_slice(&u32::MAX.to_le_bytes());
        assert!(Comments::parse(&evil).is_err());
    }

    #[test]
    fn reads_two_and_three_digit_chapters_in_number_order() {
        let c = block(&[
            "CHAPTER02=00:00:03.5",
            "chapter02name=Second",
            "CHAPTER01=00:00:00.000",
            "CHAPTER01NAME=First",
            "CHAPTER01URL=https://example.com",
            "CHAPTER003NAME=no time",
            "CHAPTER0001=00:00:09.000",
            "CHAPTERS=not one",
        ]);
        let l = c.chapters();
        assert_eq!(l.len(), 2);
        assert_eq!(l.chapters[0].title, "First");
        assert_eq!(l.chapters[0].url(), Some("https://example.com"));
        assert_eq!(l.chapters[1].start, Time::from_millis(3500));
        assert_eq!(l.chapters[1].title, "Second");
        assert_eq!(c.chapter_entries(), 6);
    }

    #[test]
    fn times() {
        assert_eq!(parse_time("01:02:03.456"), Time::from_hmsm(1, 2, 3, 456));
        assert_eq!(parse_time("1:02:03"), Time::from_hmsm(1, 2, 3, 0));
        assert_eq!(parse_time("02:03.4567"), Time::from_hmsm(0, 2, 3, 456));
        assert_eq!(parse_time("00:61:00.000"), None);
        assert_eq!(parse_time("x"), None);
        assert_eq!(parse_time("00:00:0a"), None);
    }

    #[test]
    fn writing_replaces_chapters_in_place_and_keeps_the_rest() {
        let c = block(&[
            "TITLE=t",
            "CHAPTER01=00:00:00.000",
            "CHAPTER01NAME=old",
            "X=\u{0}y",
        ]);
        let list = ChapterList::new(vec![
            Chapter::new(Time::ZERO, "A"),
            Chapter::new(Time::from_millis(61_500), "B").with_url("https://e.com/b"),
        ]);
        let w = c.with_chapters(Some(&list)).unwrap();
        let text: Vec<String> = w
            .entries
            .iter()
            .map(|e| String::from_utf8_lossy(e).into_owned())
            .collect();
        assert_eq!(
            text,
            [
                "TITLE=t",
                "CHAPTER001=00:00:00.000",
                "CHAPTER001NAME=A",
                "CHAPTER002=00:01:01.500",
                "CHAPTER002NAME=B",
                "CHAPTER002URL=https://e.com/b",
                "X=\u{0}y"
            ]
        );
        assert_eq!(w.vendor, c.vendor);
        assert_eq!(w.chapters().comparable(), list.comparable());
        let stripped = w.with_chapters(None).unwrap();
        assert_eq!(stripped.entries.len(), 2);
        // No chapters before: appended.
        let plain = block(&["TITLE=t"]).with_chapters(Some(&list)).unwrap();
        assert_eq!(plain.entries[0], b"TITLE=t");
        assert_eq!(plain.entries.len(), 6);
    }

    #[test]
    fn too_many_chapters() {
        let list = ChapterList::new(
            (0..1000)
                .map(|i| Chapter::new(Time::from_secs(i), "c"))
                .collect(),
        );
        assert!(matches!(
            block(&[]).with_chapters(Some(&list)),
            Err(CommentError::TooManyChapters { count: 1000 })
        ));
    }
}
