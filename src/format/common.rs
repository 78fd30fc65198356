//! Helpers shared by the readers and writers: line splitting, strict clock parsing, the
//! chapter cap, and line lookup by byte offset.

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

/// How the fractional part of a clock value may be written.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Fraction {
    /// `.` and exactly three digits (WebVTT).
    Exactly3,
    /// Optional `.` and 1–9 digits, rounded to the nearest millisecond.
    Optional,
}

/// The shape of a clock timestamp in one format.
#[derive(Debug, Clone, Copy)]
pub(crate) struct ClockRules {
    /// Fewest `:`-separated fields (1 = plain seconds allowed).
    pub min_fields: usize,
    /// Most fields (3 = hours, minutes, seconds).
    pub max_fields: usize,
    /// Fewest digits in a field after the first (minutes and seconds).
    pub minor_min_digits: usize,
    /// How the fraction may be written.
    pub fraction: Fraction,
}

/// Most digits accepted in the leading field: plenty for any real length, and small enough
/// that the arithmetic below cannot overflow.
const MAX_LEADING_DIGITS: usize = 12;

/// Parses `[[H:]M:]S[.fff]` strictly: fields after the first must be below 60 (no carrying),
/// digits are ASCII only. The error is a lowercase phrase for the caller to prefix.
pub(crate) fn parse_clock(text: &str, rules: ClockRules) -> Result<Time, String> {
    let bad = |why: &str| format!("bad timestamp `{text}`: {why}");
    let (clock, frac) = match text.split_once('.') {
        Some((c, f)) => (c, Some(f)),
        None => (text, None),
    };
    let fields: Vec<&str> = clock.split(':').collect();
    if fields.len() < rules.min_fields || fields.len() > rules.max_fields {
        return Err(bad(&expected_shape(rules)));
    }
    let mut total: u64 = 0;
    let names = match fields.len() {
        1 => ["seconds", "", ""],
        2 => ["minutes", "seconds", ""],
        _ => ["hours", "minutes", "seconds"],
    };
    for (i, field) in fields.iter().enumerate() {
        if field.is_empty() || !field.bytes().all(|b| b.is_ascii_digit()) {
            return Err(bad(&expected_shape(rules)));
        }
        let name = names.get(i).copied().unwrap_or("");
        let value: u64 = if i == 0 {
            if field.len() > MAX_LEADING_DIGITS {
                return Err(bad("too large"));
            }
            field.parse().map_err(|_| bad("too large"))?
        } else {
            if field.len() < rules.minor_min_digits || field.len() > 2 {
                return Err(bad(&expected_shape(rules)));
            }
            let v: u64 = field.parse().map_err(|_| bad("not a number"))?;
            if v >= 60 {
                return Err(bad(&format!("{name} {v} out of range (must be below 60)")));
            }
            v
        };
        total = total
            .checked_mul(60)
            .and_then(|t| t.checked_add(value))
            .ok_or_else(|| bad("too large"))?;
    }
    let ms = match (frac, rules.fraction) {
        (None, Fraction::Exactly3) => return Err(bad(&expected_shape(rules))),
        (None, Fraction::Optional) => 0,
        (Some(f), Fraction::Exactly3) if f.len() != 3 => return Err(bad(&expected_shape(rules))),
        (Some(f), _) => parse_fraction_ms(f).ok_or_else(|| bad(&expected_shape(rules)))?,
    };
    total
        .checked_mul(1000)
        .and_then(|t| t.checked_add(ms))
        .map(Time::from_millis)
        .ok_or_else(|| bad("too large"))
}

/// `.fff` digits → milliseconds, rounded (so `.2505` → 251 and `.9996` → 1000).
fn parse_fraction_ms(frac: &str) -> Option<u64> {
    if frac.is_empty() || frac.len() > 9 || !frac.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    let digits: u64 = frac.parse().ok()?;
    let scale = 10u64.pow(frac.len() as u32);
    Some((digits * 1000 + scale / 2) / scale)
}

fn expected_shape(rules: ClockRules) -> String {
    let frac = match rules.fraction {
        Fraction::Exactly3 => ".mmm",
        Fraction::Optional => "[.mmm]",
    };
    match (rules.min_fields, rules.max_fields) {
        (3, 3) => format!("expected HH:MM:SS{frac}"),
        (2, 3) => format!("expected HH:MM:SS{frac} or MM:SS{frac}"),
        _ => format!("expected HH:MM:SS{frac}, MM:SS{frac} or seconds"),
    }
}

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

    const NPT: ClockRules = ClockRules {
        min_fields: 1,
        max_fields: 3,
        minor_min_digits: 1,
        fraction: Fraction::Optional,
    };
    const VTT: ClockRules = ClockRules {
        min_fields: 2,
        max_fields: 3,
        minor_min_digits: 2,
        fraction: Fraction::Exactly3,
    };

    #[test]
    fn clock_forms() {
        let ms = |s: &str, r| parse_clock(s, r).map(Time::as_millis);
        assert_eq!(ms("01:35:52", NPT), Ok(5_752_000));
        assert_eq!(ms("7:48", NPT), Ok(468_000));
        assert_eq!(ms("35:12.250", NPT), Ok(2_112_250));
        assert_eq!(ms("37", NPT), Ok(37_000));
        assert_eq!(ms("3725.5", NPT), Ok(3_725_500));
        assert_eq!(ms("0.9996", NPT), Ok(1_000));
        assert_eq!(ms("100:00:00.000", VTT), Ok(360_000_000));
        assert_eq!(ms("12:59.000", VTT), Ok(779_000));
    }

    #[test]
    fn clock_is_strict() {
        let e = parse_clock("00:12:75.000", VTT).unwrap_err();
        assert_eq!(
            e,
            "bad timestamp `00:12:75.000`: seconds 75 out of range (must be below 60)"
        );
        assert!(parse_clock("00:75:00.000", VTT).is_err());
        assert!(parse_clock("00:01:40", VTT).is_err());
        assert!(parse_clock("00:01:40.5", VTT).is_err());
        assert!(parse_clock("1:2", VTT).is_err());
        assert!(parse_clock("", NPT).is_err());
        assert!(parse_clock("1:", NPT).is_err());
        assert!(parse_clock("-5", NPT).is_err());
        assert!(parse_clock("１２", NPT).is_err());
        assert!(parse_clock("1:2:3:4", NPT).is_err());
        assert!(parse_clock("99999999999999999:00", NPT).is_err());
    }

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
