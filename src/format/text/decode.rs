//! Bytes → text for show notes, whatever editor saved them.
//!
//! Producers paste notes from web forms (UTF-8), save them from Notepad (UTF-8 with BOM or
//! UTF-16 with BOM) or from older Japanese Windows tools (Shift_JIS / CP932). We accept those,
//! and refuse everything else loudly: a wrong guess would put mojibake into chapter titles
//! that then get written into audio files, which is far worse than an error.

use encoding_rs::{EUC_JP, Encoding, SHIFT_JIS, UTF_16BE, UTF_16LE};

/// Why bytes could not be turned into notes text.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum NotesError {
    /// No bytes at all (or only a byte-order mark): usually a wrong path or a failed export.
    #[error("the notes are empty")]
    Empty,
    /// Only spaces and line breaks: there is nothing to parse, which is never intended.
    #[error("the notes contain only whitespace")]
    Blank,
    /// NUL bytes, or mostly control characters: an audio file or archive passed by mistake.
    #[error("the notes look like binary data, not text: {reason}")]
    Binary {
        /// What gave it away.
        reason: String,
    },
    /// A byte-order mark promised an encoding the data then broke.
    #[error("the notes are not valid {encoding}: malformed data at byte {offset}")]
    Malformed {
        /// The encoding the byte-order mark announced.
        encoding: &'static str,
        /// Byte offset of the first malformed sequence.
        offset: usize,
    },
    /// Neither UTF-8 nor Shift_JIS/CP932 (nor EUC-JP): we do not guess further.
    #[error(
        "the notes are neither utf-8 nor shift_jis (cp932): invalid byte 0x{byte:02x} at offset {offset}; save them as utf-8"
    )]
    UnknownEncoding {
        /// Byte offset of the first byte that is not valid UTF-8.
        offset: usize,
        /// That byte.
        byte: u8,
    },
    /// A recognisable encoding we deliberately do not read.
    #[error("the notes are {encoding}, which is not supported; save them as utf-8")]
    UnsupportedEncoding {
        /// The encoding recognised from its byte-order mark.
        encoding: &'static str,
    },
}

/// Turns the bytes of a notes file into text ready for [`super::parse_shownotes`].
///
/// * UTF-8, with or without a BOM, is read as is;
/// * UTF-16 LE/BE is read when it starts with a BOM (without one it is reported as binary,
///   with a hint, because guessing byte order is unreliable);
/// * anything else that is not valid UTF-8 is tried as Shift_JIS/CP932 (the WHATWG
///   `Shift_JIS` decoder, which is Windows code page 932), and as EUC-JP only when the
///   Shift_JIS reading is implausible (mostly half-width katakana) and EUC-JP reads cleanly.
///
/// The BOM is removed, a trailing DOS end-of-file mark (`0x1A`) is dropped, and CRLF and lone
/// CR line ends become LF; every other character is kept, so line `n` of the result is line
/// `n` as the producer's editor shows it.
pub fn decode(bytes: &[u8]) -> Result<String, NotesError> {
    if bytes.is_empty() {
        return Err(NotesError::Empty);
    }
    let text = if bytes.starts_with(&[0xFF, 0xFE, 0x00, 0x00]) {
        return Err(NotesError::UnsupportedEncoding {
            encoding: "utf-32le",
        });
    } else if bytes.starts_with(&[0x00, 0x00, 0xFE, 0xFF]) {
        return Err(NotesError::UnsupportedEncoding {
            encoding: "utf-32be",
        });
    } else if let Some(rest) = bytes.strip_prefix(&[0xEF, 0xBB, 0xBF]) {
        match std::str::from_utf8(rest) {
            Ok(s) => s.to_owned(),
            Err(e) => {
                return Err(NotesError::Malformed {
                    encoding: "utf-8",
                    offset: e.valid_up_to() + 3,
                });
            }
        }
    } else if let Some(rest) = bytes.strip_prefix(&[0xFF, 0xFE]) {
        decode_strict(UTF_16LE, rest).map_err(|offset| NotesError::Malformed {
            encoding: "utf-16le",
            offset: offset + 2,
        })?
    } else if let Some(rest) = bytes.strip_prefix(&[0xFE, 0xFF]) {
        decode_strict(UTF_16BE, rest).map_err(|offset| NotesError::Malformed {
            encoding: "utf-16be",
            offset: offset + 2,
        })?
    } else {
        decode_unmarked(bytes)?
    };
    finish(text)
}

/// Text without a byte-order mark: UTF-8, else Shift_JIS/CP932, else (rarely) EUC-JP.
fn decode_unmarked(bytes: &[u8]) -> Result<String, NotesError> {
    if let Some(pos) = memchr_nul(bytes) {
        let reason = if looks_like_bomless_utf16(bytes) {
            "it looks like utf-16 without a byte-order mark; save it as utf-8 or utf-16 with a bom"
                .to_owned()
        } else {
            format!("nul byte at offset {pos}")
        };
        return Err(NotesError::Binary { reason });
    }
    let utf8_err = match std::str::from_utf8(bytes) {
        Ok(s) => return Ok(s.to_owned()),
        Err(e) => e,
    };
    let offset = utf8_err.valid_up_to();
    let byte = bytes.get(offset).copied().unwrap_or(0);
    // Control-heavy raw bytes are binary whatever a legacy decoder might make of them.
    let controls = bytes
        .iter()
        .filter(|&&b| b < 0x20 && !matches!(b, b'\t' | b'\n' | b'\r' | 0x0B | 0x0C))
        .count();
    if too_many_controls(controls, bytes.len()) {
        return Err(NotesError::Binary {
            reason: format!("{controls} control bytes in {} bytes", bytes.len()),
        });
    }
    for encoding in [SHIFT_JIS, EUC_JP] {
        if let Ok(text) = decode_strict(encoding, bytes)
            && plausible_japanese(&text)
        {
            log::debug!(
                "notes are not utf-8 (first invalid byte at {offset}); decoded as {}",
                encoding.name()
            );
            return Ok(text);
        }
    }
    Err(NotesError::UnknownEncoding { offset, byte })
}

/// Removes the BOM and DOS EOF mark, rejects binary or blank text, and normalises line ends.
fn finish(mut text: String) -> Result<String, NotesError> {
    if text.starts_with('\u{FEFF}') {
        text.drain(..'\u{FEFF}'.len_utf8());
    }
    if text.ends_with('\u{1A}') {
        text.pop();
    }
    if text.is_empty() {
        return Err(NotesError::Empty);
    }
    if let Some(pos) = text.find('\0') {
        return Err(NotesError::Binary {
            reason: format!("nul character at byte {pos} of the decoded text"),
        });
    }
    let mut total = 0usize;
    let mut controls = 0usize;
    for c in text.chars() {
        total += 1;
        if c.is_control() && !c.is_whitespace() {
            controls += 1;
        }
    }
    if too_many_controls(controls, total) {
        return Err(NotesError::Binary {
            reason: format!("{controls} control characters in {total} characters"),
        });
    }
    if text.chars().all(char::is_whitespace) {
        return Err(NotesError::Blank);
    }
    Ok(normalize_line_ends(text))
}

/// More than 1 % control characters (other than whitespace) is not something anyone typed.
fn too_many_controls(controls: usize, total: usize) -> bool {
    controls > 0 && controls.saturating_mul(100) > total
}

/// CRLF and lone CR → LF, in one pass; untouched (no copy) when there is no CR.
fn normalize_line_ends(text: String) -> String {
    if !text.contains('\r') {
        return text;
    }
    let mut out = String::with_capacity(text.len());
    let mut chars = text.chars().peekable();
    while let Some(c) = chars.next() {
        if c == '\r' {
            if chars.peek() == Some(&'\n') {
                chars.next();
            }
            out.push('\n');
        } else {
            out.push(c);
        }
    }
    out
}

/// Decodes with no replacement characters; on malformed input returns the byte offset of the
/// first malformed sequence.
fn decode_strict(encoding: &'static Encoding, bytes: &[u8]) -> Result<String, usize> {
    let mut decoder = encoding.new_decoder_without_bom_handling();
    let Some(cap) = decoder.max_utf8_buffer_length_without_replacement(bytes.len()) else {
        return Err(0);
    };
    let mut out = String::with_capacity(cap);
    let (result, read) = decoder.decode_to_string_without_replacement(bytes, &mut out, true);
    match result {
        encoding_rs::DecoderResult::InputEmpty => Ok(out),
        encoding_rs::DecoderResult::Malformed(bad, after) => {
            Err(read.saturating_sub(usize::from(bad) + usize::from(after)))
        }
        // Cannot happen with a worst-case sized buffer; treat as malformed rather than panic.
        encoding_rs::DecoderResult::OutputFull => Err(read),
    }
}

/// Whether a legacy decoding reads like Japanese text rather than mojibake. It does not
/// when it contains C1 controls (WHATWG Shift_JIS passes byte 0x80 through as U+0080) or when
/// most of its non-ASCII characters are half-width katakana: that is what EUC-JP, and Latin-1
/// letters such as `Ä Ö Ü ß`, look like read as Shift_JIS, while real notes are mostly kanji
/// and full-width kana. (Notes written almost only in half-width katakana are refused too;
/// that is the price of never writing mojibake into titles.)
fn plausible_japanese(s: &str) -> bool {
    let mut non_ascii = 0usize;
    let mut halfwidth_kana = 0usize;
    for c in s.chars().filter(|c| !c.is_ascii()) {
        if ('\u{80}'..='\u{9F}').contains(&c) {
            return false;
        }
        non_ascii += 1;
        if ('\u{FF61}'..='\u{FF9F}').contains(&c) {
            halfwidth_kana += 1;
        }
    }
    halfwidth_kana.saturating_mul(2) <= non_ascii
}

/// Position of the first NUL byte.
fn memchr_nul(bytes: &[u8]) -> Option<usize> {
    bytes.iter().position(|&b| b == 0)
}

/// UTF-16 text without a BOM has NULs in nearly every other byte (for Latin text): mostly at
/// odd offsets for little-endian, even offsets for big-endian, and almost none on the other.
fn looks_like_bomless_utf16(bytes: &[u8]) -> bool {
    let sample = bytes.get(..bytes.len().min(4096)).unwrap_or(bytes);
    if sample.len() < 4 {
        return false;
    }
    let (mut even, mut odd) = (0usize, 0usize);
    for (i, &b) in sample.iter().enumerate() {
        if b == 0 {
            if i % 2 == 0 {
                even += 1;
            } else {
                odd += 1;
            }
        }
    }
    let pairs = sample.len() / 2;
    let (many, few) = if odd > even { (odd, even) } else { (even, odd) };
    many * 4 >= pairs && few * 20 <= many
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn utf8_plain_and_bom() {
        assert_eq!(decode(b"01:40 a\n").as_deref(), Ok("01:40 a\n"));
        assert_eq!(decode(b"\xEF\xBB\xBF01:40 a").as_deref(), Ok("01:40 a"));
    }

    #[test]
    fn line_ends() {
        assert_eq!(decode(b"a\r\nb\rc\n\r\nd").as_deref(), Ok("a\nb\nc\n\nd"));
    }

    #[test]
    fn utf16_with_bom() {
        let le: Vec<u8> = [0xFF, 0xFE]
            .into_iter()
            .chain(
                "０１：４０ 題\r\n"
                    .encode_utf16()
                    .flat_map(u16::to_le_bytes),
            )
            .collect();
        assert_eq!(decode(&le).as_deref(), Ok("０１：４０ 題\n"));
        let be: Vec<u8> = [0xFE, 0xFF]
            .into_iter()
            .chain("1:00 x".encode_utf16().flat_map(u16::to_be_bytes))
            .collect();
        assert_eq!(decode(&be).as_deref(), Ok("1:00 x"));
        // Unpaired surrogate.
        assert!(matches!(
            decode(&[0xFF, 0xFE, 0x61, 0x00, 0x00, 0xD8, 0x61, 0x00]),
            Err(NotesError::Malformed {
                encoding: "utf-16le",
                ..
            })
        ));
        // Odd length.
        assert!(matches!(
            decode(&[0xFF, 0xFE, 0x61, 0x00, 0x61]),
            Err(NotesError::Malformed { .. })
        ));
    }

    #[test]
    fn shift_jis() {
        // "01:40 出典" in Shift_JIS.
        let (bytes, _, _) = SHIFT_JIS.encode("01:40 出典：テスト①");
        assert_eq!(
            decode(&bytes).as_deref(),
            Ok("01:40 出典：テスト①"),
            "cp932 extensions (①) decode too"
        );
    }

    #[test]
    fn euc_jp_only_when_shift_jis_is_implausible() {
        let (bytes, _, _) = EUC_JP.encode("00:00 オープニングと近況");
        assert_eq!(decode(&bytes).as_deref(), Ok("00:00 オープニングと近況"));
    }

    #[test]
    fn errors() {
        assert_eq!(decode(b""), Err(NotesError::Empty));
        assert_eq!(decode(b"\xEF\xBB\xBF"), Err(NotesError::Empty));
        assert_eq!(decode(b" \r\n\t\n"), Err(NotesError::Blank));
        assert_eq!(
            decode("\u{3000}\n".as_bytes()),
            Err(NotesError::Blank),
            "ideographic space is whitespace"
        );
        assert!(matches!(
            decode(b"ID3\x04\x00\x00\x00"),
            Err(NotesError::Binary { .. })
        ));
        assert!(matches!(
            decode(b"\x01\x02\x03\x04abc"),
            Err(NotesError::Binary { .. })
        ));
        let bomless: Vec<u8> = "hello world, chapters"
            .encode_utf16()
            .flat_map(u16::to_le_bytes)
            .collect();
        match decode(&bomless) {
            Err(NotesError::Binary { reason }) => assert!(reason.contains("utf-16")),
            other => panic!("unexpected {other:?}"),
        }
        assert!(matches!(
            decode(b"\xFF\xFE\x00\x00a\x00\x00\x00"),
            Err(NotesError::UnsupportedEncoding { .. })
        ));
        assert!(matches!(
            decode(b"\xEF\xBB\xBFok \xFF"),
            Err(NotesError::Malformed {
                encoding: "utf-8",
                offset: 6
            })
        ));
        // 0x80 is not a Shift_JIS lead byte and not UTF-8.
        assert_eq!(
            decode(b"abc \x80\x80\x80 def"),
            Err(NotesError::UnknownEncoding {
                offset: 4,
                byte: 0x80
            })
        );
        // Latin-1 German is not Shift_JIS, even where the bytes happen to be valid Shift_JIS.
        assert!(matches!(
            decode(b"\xc4rger \xfcber \xd6l und Gr\xfc\xdfe"),
            Err(NotesError::UnknownEncoding {
                offset: 0,
                byte: 0xc4
            })
        ));
        // A DOS EOF mark is dropped, one stray control character in real text is kept.
        assert_eq!(decode(b"0:00 a\x1a").as_deref(), Ok("0:00 a"));
        let long = format!("{}\x07", "x".repeat(200));
        assert!(decode(long.as_bytes()).is_ok());
    }

    #[test]
    fn error_messages_are_lowercase() {
        for e in [
            NotesError::Empty,
            NotesError::Blank,
            NotesError::UnknownEncoding { offset: 1, byte: 2 },
        ] {
            let m = e.to_string();
            assert!(m.starts_with(|c: char| c.is_lowercase()), "{m}");
        }
    }
}
