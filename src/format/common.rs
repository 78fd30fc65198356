//! Helpers shared by the readers and writers: line splitting, the chapter cap, and line
//! lookup by byte offset (the strict clock reader is in [`super::timestamp`]).

use super::{Format, FormatError, MAX_CHAPTERS};
use crate::chapter::Chapter;
use crate::time::Time;

/// Drops a UTF-8 byte-order mark; editors on Windows add one and it is not content.
pub(crate) fn strip_bom(text: &str) -> &str {
    text.strip_prefix('\u{feff}').unwrap_or(text)
}

/// Lines with their 1-based numbers, without the `\n` or `\r\n` terminator.
pub(crate) fn numbered_lines(text: &str) -> impl Iterator<Item = (usize, &str)> {
    strip_bom(text)
        .split('\n')
        .map(|l| l.strip_suffix('\r').unwrap_or(l))
        .enumerate()
        .map(|(i, l)| (i + 1, l))
}

/// 1-based line number of a byte offset (clamped to the text).
pub(crate) fn line_of_offset(text: &str, offset: usize) -> usize {
    let end = offset.min(text.len());
    text.as_bytes()
        .get(..end)
        .map_or(0, |b| b.iter().filter(|&&c| c == b'\n').count())
        + 1
}

/// Fails with [`FormatError::Empty`] when there is nothing but whitespace, so that every
/// reader reports an empty file the same way.
pub(crate) fn ensure_not_empty(format: Format, text: &str) -> Result<(), FormatError> {
    if strip_bom(text).trim().is_empty() {
        Err(FormatError::Empty { format })
    } else {
        Ok(())
    }
}

/// Pushes a chapter unless the list is already at [`MAX_CHAPTERS`].
pub(crate) fn push_capped(
    format: Format,
    chapters: &mut Vec<Chapter>,
    chapter: Chapter,
    line: usize,
) -> Result<(), FormatError> {
    if chapters.len() >= MAX_CHAPTERS {
        return Err(FormatError::TooManyChapters {
            format,
            line: line.max(1),
            max: MAX_CHAPTERS,
        });
    }
    chapters.push(chapter);
    Ok(())
}

// The chapter-file formats' clock reader is a front end of the one strict timestamp reader.
pub(crate) use super::timestamp::{ClockRules, Fraction, parse_clock};

/// Milliseconds as a decimal count of seconds with no float noise: `100`, `12.5`, `0.04`.
pub(crate) fn decimal_seconds(t: Time) -> String {
    let ms = t.as_millis();
    let (s, frac) = (ms / 1000, ms % 1000);
    if frac == 0 {
        return s.to_string();
    }
    let digits = format!("{frac:03}");
    format!("{s}.{}", digits.trim_end_matches('0'))
}

/// Escapes text for markup (WebVTT cue text, HTML): `&`, `<` and `>` (which also rules out
/// WebVTT's `-->`).
pub(crate) fn escape_text(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for ch in s.chars() {
        match ch {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            c => out.push(c),
        }
    }
    out
}

/// Joins a multi-line title into one line for formats with one chapter per line. Line breaks
/// cannot be represented there; a space is the least surprising stand-in.
pub(crate) fn one_line(title: &str) -> std::borrow::Cow<'_, str> {
    if title.contains(['\n', '\r']) {
        log::warn!("title {title:?} has a line break; written as a space");
        std::borrow::Cow::Owned(title.replace("\r\n", " ").replace(['\r', '\n'], " "))
    } else {
        std::borrow::Cow::Borrowed(title)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn decimal_seconds_has_no_float_noise() {
        assert_eq!(decimal_seconds(Time::from_millis(100_000)), "100");
        assert_eq!(decimal_seconds(Time::from_millis(12_500)), "12.5");
        assert_eq!(decimal_seconds(Time::from_millis(40)), "0.04");
        assert_eq!(decimal_seconds(Time::from_millis(1_001)), "1.001");
        assert_eq!(decimal_seconds(Time::ZERO), "0");
    }

    #[test]
    fn offsets_to_lines() {
        let t = "a\nbb\r\nc";
        assert_eq!(line_of_offset(t, 0), 1);
        assert_eq!(line_of_offset(t, 2), 2);
        assert_eq!(line_of_offset(t, 6), 3);
        assert_eq!(line_of_offset(t, 999), 3);
    }
}
