//! WebVTT → model.

use crate::chapter::{Chapter, ChapterList, Link, Origin};
use crate::format::common::{
    ClockRules, Fraction, ensure_not_empty, numbered_lines, parse_clock, push_capped,
};
use crate::format::{Format, FormatError};

const F: Format = Format::Vtt;

/// WebVTT timestamps: `HH:MM:SS.mmm` or `MM:SS.mmm`, three fraction digits.
const CLOCK: ClockRules = ClockRules {
    min_fields: 2,
    max_fields: 3,
    minor_min_digits: 2,
    fraction: Fraction::Exactly3,
};

/// `WEBVTT` alone or followed by a space or tab and free text.
pub(crate) fn is_header(line: &str) -> bool {
    let line = line.strip_prefix('\u{feff}').unwrap_or(line);
    match line.strip_prefix("WEBVTT") {
        Some(rest) => rest.is_empty() || rest.starts_with([' ', '\t']) || rest == "\r",
        None => false,
    }
}

/// Reads a WebVTT chapters file.
pub fn read(text: &str) -> Result<ChapterList, FormatError> {
    ensure_not_empty(F, text)?;
    let mut lines = numbered_lines(text).peekable();
    match lines.next() {
        Some((_, first)) if is_header(first) => {}
        _ => return Err(FormatError::at(F, 1, "missing WEBVTT header")),
    }
    // Header lines run to the first blank line (or a line that is already a cue timing).
    while let Some(&(_, l)) = lines.peek() {
        if l.trim().is_empty() || l.contains("-->") {
            break;
        }
        lines.next();
    }
    let mut chapters = Vec::new();
    let mut block: Vec<(usize, &str)> = Vec::new();
    for (n, l) in lines {
        if l.trim().is_empty() {
            if !block.is_empty() {
                read_block(&block, &mut chapters)?;
                block.clear();
            }
        } else {
            block.push((n, l));
        }
    }
    if !block.is_empty() {
        read_block(&block, &mut chapters)?;
    }
    Ok(ChapterList::new(chapters))
}

fn is_keyword_block(first: &str, keyword: &str) -> bool {
    match first.strip_prefix(keyword) {
        Some(rest) => rest.is_empty() || rest.starts_with([' ', '\t']),
        None => false,
    }
}

fn read_block(block: &[(usize, &str)], chapters: &mut Vec<Chapter>) -> Result<(), FormatError> {
    let Some(&(first_line, first)) = block.first() else {
        return Ok(());
    };
    if ["NOTE", "STYLE", "REGION"]
        .iter()
        .any(|k| is_keyword_block(first, k))
        && !first.contains("-->")
    {
        return Ok(());
    }
    let (identifier, timing_at) = if first.contains("-->") {
        (None, 0)
    } else {
        match block.get(1) {
            Some((_, l)) if l.contains("-->") => (Some(first), 1),
            _ => {
                return Err(FormatError::at(
                    F,
                    first_line,
                    "expected a cue timing line (`00:01:40.000 --> 00:12:59.000`)",
                ));
            }
        }
    };
    let Some(&(line, timing)) = block.get(timing_at) else {
        return Ok(());
    };
    let (left, right) = timing.split_once("-->").unwrap_or((timing, ""));
    let start_text = left.trim();
    let end_text = right.split_whitespace().next().unwrap_or("");
    let start = parse_clock(start_text, CLOCK).map_err(|m| FormatError::at(F, line, m))?;
    if end_text.is_empty() {
        return Err(FormatError::at(F, line, "missing cue end time after `-->`"));
    }
    let end = parse_clock(end_text, CLOCK).map_err(|m| FormatError::at(F, line, m))?;
    let payload: Vec<&str> = block
        .get(timing_at + 1..)
        .unwrap_or(&[])
        .iter()
        .map(|&(_, l)| l)
        .collect();
    let mut chapter = Chapter::new(start, unescape(&payload.join("\n")));
    chapter.end = Some(end);
    chapter.link = identifier.and_then(url_of_identifier).map(Link::new);
    chapter.origin = Some(Origin {
        line,
        timestamp: start_text.to_string(),
    });
    push_capped(F, chapters, chapter, line)
}

/// The URL carried in a cue identifier (see the module docs), if there is one.
fn url_of_identifier(id: &str) -> Option<String> {
    let word = id.split_whitespace().next()?;
    let url = url::Url::parse(word).ok()?;
    matches!(url.scheme(), "http" | "https").then(|| word.to_string())
}

/// Decodes WebVTT character references; unknown ones stay as written.
pub(crate) fn unescape(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    let mut rest = s;
    while let Some(amp) = rest.find('&') {
        out.push_str(rest.get(..amp).unwrap_or(""));
        let tail = rest.get(amp..).unwrap_or("");
        let semi = tail.bytes().take(12).position(|b| b == b';');
        let decoded = semi.and_then(|i| tail.get(1..i)).and_then(decode_reference);
        match (decoded, semi) {
            (Some(ch), Some(i)) => {
                out.push(ch);
                rest = tail.get(i + 1..).unwrap_or("");
            }
            _ => {
                out.push('&');
                rest = tail.get(1..).unwrap_or("");
            }
        }
    }
    out.push_str(rest);
    out
}

fn decode_reference(name: &str) -> Option<char> {
    match name {
        "amp" => Some('&'),
        "lt" => Some('<'),
        "gt" => Some('>'),
        "nbsp" => Some('\u{a0}'),
        "lrm" => Some('\u{200e}'),
        "rlm" => Some('\u{200f}'),
        "quot" => Some('"'),
        "apos" => Some('\''),
        _ => {
            let num = name.strip_prefix('#')?;
            let code = match num.strip_prefix(['x', 'X']) {
                Some(hex) => u32::from_str_radix(hex, 16).ok()?,
                None => num.parse().ok()?,
            };
            char::from_u32(code).filter(|&c| c != '\0')
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::time::Time;

    #[test]
    fn reads_identifiers_short_times_and_notes() {
        let vtt = "\u{feff}WEBVTT - chapters\nKind: chapters\n\nNOTE made by hand\nsecond note line\n\n1\n00:00.000 --> 01:40.000\nIntro\n\nhttps://x.test/a?b=1 2\n00:01:40.000 --> 00:12:59.000 align:start\nA &amp;日本語 B &lt;c&gt; &#x65E5;&#26412; &unknown; & done\n\n00:12:59.000 --> 01:00:00.000\nline one\nline two\n";
        let list = read(vtt).unwrap();
        assert_eq!(list.len(), 3);
        assert_eq!(list.chapters[0].url(), None);
        assert_eq!(list.chapters[0].end, Some(Time::from_secs(100)));
        assert_eq!(list.chapters[0].written_timestamp(), "00:00.000");
        assert_eq!(list.chapters[1].url(), Some("https://x.test/a?b=1"));
        assert_eq!(
            list.chapters[1].title,
            "A &日本語 B <c> 日本 &unknown; & done"
        );
        assert_eq!(list.chapters[1].line(), Some(12));
        assert_eq!(list.chapters[2].title, "line one\nline two");
        assert_eq!(list.chapters[2].end, Some(Time::from_secs(3600)));
    }

    #[test]
    fn errors_name_lines() {
        assert_eq!(
            read("WEBVTT\n\n00:00:00.000 --> 00:12:75.000\nx\n")
                .unwrap_err()
                .to_string(),
            "vtt line 3: bad timestamp `00:12:75.000`: seconds 75 out of range (must be below 60)"
        );
        assert_eq!(
            read("chapters\n").unwrap_err().to_string(),
            "vtt line 1: missing WEBVTT header"
        );
        assert_eq!(
            read("WEBVTT\n\nintro\nno timing\n").unwrap_err().line(),
            Some(3)
        );
        assert_eq!(
            read("WEBVTT\n\n00:00:00.000 -->\nx\n").unwrap_err().line(),
            Some(3)
        );
    }
}
