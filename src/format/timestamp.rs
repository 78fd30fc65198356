//! Strict timestamps as people type them: `M:SS`, `MM:SS`, `H:MM:SS`, `HH:MM:SS`, with an
//! optional `.mmm` / `,mmm` fraction and full-width digits or colons (`０１：４０`).
//!
//! Strictness is the point: `12:75` is an error, never 13:15, because a silently carried
//! timestamp puts a chapter in the wrong place and nobody notices until a listener does.
//! The same function serves the show-notes parser and the chapter-file readers, so every
//! source agrees on what a timestamp means.

use crate::time::Time;
use unicode_normalization::UnicodeNormalization;

/// Longest input we attempt to read, in bytes. The longest real timestamp (`u64::MAX` ms as
/// `HHHHHHHHHHHHH:MM:SS.mmm`, every character full-width) is well below this; anything longer
/// is rejected before normalisation so hostile input costs nothing.
const MAX_LEN: usize = 96;

/// How many characters of the input an error message quotes before shortening it.
const QUOTE_CHARS: usize = 40;

/// Why a string is not a timestamp.
///
/// Every message names the timestamp as written (shortened if absurdly long) so it can be
/// shown to a producer as is.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum TimestampError {
    /// Nothing to read.
    #[error("empty timestamp")]
    Empty,
    /// A character that has no place in a timestamp (letters, spaces, signs, …).
    #[error("unexpected character {ch:?} in timestamp {written}")]
    InvalidChar {
        /// The offending character.
        ch: char,
        /// The input as written.
        written: String,
    },
    /// The right characters in the wrong arrangement, e.g. `1:5`, `1:2:3:4`, `:30`.
    #[error("{written} is not a timestamp: {reason}")]
    Shape {
        /// The input as written.
        written: String,
        /// What is wrong with the arrangement.
        reason: &'static str,
    },
    /// Seconds of 60 or more (`12:75`); never carried into the minutes.
    #[error("seconds {value} out of range in {written}")]
    SecondsOutOfRange {
        /// The seconds field.
        value: u64,
        /// The input as written.
        written: String,
    },
    /// Minutes of 60 or more in a three-part time (`1:75:00`); never carried into the hours.
    #[error("minutes {value} out of range in {written}")]
    MinutesOutOfRange {
        /// The minutes field.
        value: u64,
        /// The input as written.
        written: String,
    },
    /// A fraction with more than three digits; chapter times are millisecond-precise and
    /// silently rounding would hide a typo.
    #[error("fraction in {written} has more than 3 digits")]
    FractionTooLong {
        /// The input as written.
        written: String,
    },
    /// A value beyond what a millisecond count can hold, or an absurdly long input.
    #[error("timestamp {written} is too large")]
    Overflow {
        /// The input as written (shortened if long).
        written: String,
    },
}

/// Reads one timestamp, strictly.
///
/// Accepted forms, after mapping full-width digits, colons and fraction marks to ASCII
/// (Unicode NFKC, applied to the timestamp only):
///
/// * `M:SS` / `MM:SS` — minutes and seconds; minutes may exceed 59 (`75:10` is 75 min 10 s)
///   and may have any number of digits; seconds must have exactly two digits.
/// * `H:MM:SS` / `HH:MM:SS` — hours of any number of digits, then exactly two-digit minutes
///   and seconds, each below 60.
/// * either form followed by `.f`, `.ff`, `.fff` (or `,` instead of `.`): tenths, hundredths
///   or milliseconds, so `.5` is 500 ms, not 5 ms.
///
/// The input must be the timestamp alone: no surrounding spaces, brackets or signs (callers
/// strip those, since what surrounds a timestamp depends on the format). Never panics and
/// never overflows; fields out of range are errors, never carried into the next unit.
pub fn parse_timestamp(s: &str) -> Result<Time, TimestampError> {
    let ascii = to_ascii(s)?;
    let shape = |reason| TimestampError::Shape {
        written: quote(s),
        reason,
    };
    let overflow = || TimestampError::Overflow { written: quote(s) };

    let (main, frac) = match ascii.find(['.', ',']) {
        Some(i) => (&ascii[..i], Some(&ascii[i + 1..])),
        None => (ascii.as_str(), None),
    };
    let millis = match frac {
        None => 0,
        Some(f) if f.is_empty() || !f.bytes().all(|b| b.is_ascii_digit()) => {
            return Err(shape("the fraction must be 1 to 3 digits after the mark"));
        }
        Some(f) if f.len() > 3 => {
            return Err(TimestampError::FractionTooLong { written: quote(s) });
        }
        Some(f) => {
            let v = digits_value(f).ok_or_else(overflow)?;
            // 1 digit = tenths, 2 = hundredths, 3 = milliseconds.
            v * 10u64.pow(3 - f.len() as u32)
        }
    };

    let parts: Vec<&str> = main.split(':').collect();
    if parts.iter().any(|p| p.is_empty()) {
        return Err(shape("every field needs at least one digit"));
    }
    match parts.len() {
        1 => return Err(shape("expected m:ss, mm:ss, h:mm:ss or hh:mm:ss")),
        2 | 3 => {}
        _ => return Err(shape("too many fields; expected at most h:mm:ss")),
    }
    let secs = clock_seconds(&parts, 2).map_err(|e| match e {
        FieldError::Width { field: "minutes" } => shape("minutes must have exactly two digits"),
        FieldError::Width { .. } | FieldError::NotDigits { .. } => {
            shape("seconds must have exactly two digits")
        }
        FieldError::Range {
            field: "minutes",
            value,
        } => TimestampError::MinutesOutOfRange {
            value,
            written: quote(s),
        },
        FieldError::Range { value, .. } => TimestampError::SecondsOutOfRange {
            value,
            written: quote(s),
        },
        FieldError::Overflow => overflow(),
    })?;
    secs.checked_mul(1000)
        .and_then(|ms| ms.checked_add(millis))
        .map(Time::from_millis)
        .ok_or_else(overflow)
}

/// The timestamp in ASCII digits, `:`, `.` and `,` (full-width forms mapped by NFKC), after
/// the checks that need no parsing: empty, absurdly long, characters with no place in a time.
fn to_ascii(s: &str) -> Result<String, TimestampError> {
    if s.is_empty() {
        return Err(TimestampError::Empty);
    }
    if s.len() > MAX_LEN {
        return Err(TimestampError::Overflow { written: quote(s) });
    }
    if let Some(ch) = s.chars().find(|&c| !is_timestamp_char(c)) {
        return Err(TimestampError::InvalidChar {
            ch,
            written: quote(s),
        });
    }
    let ascii: String = if s.is_ascii() {
        s.to_owned()
    } else {
        s.nfkc().collect()
    };
    // Defensive: the allow-list above only admits characters whose NFKC form is one of these.
    if let Some(ch) = ascii
        .chars()
        .find(|c| !(c.is_ascii_digit() || matches!(c, ':' | '.' | ',')))
    {
        return Err(TimestampError::InvalidChar {
            ch,
            written: quote(s),
        });
    }
    Ok(ascii)
}

/// What is wrong with the `[[h:]m:]s` fields of a clock value; each reader words it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum FieldError {
    /// A field that is empty or not ASCII digits.
    NotDigits {
        /// `hours`, `minutes` or `seconds`.
        field: &'static str,
    },
    /// A field after the first with too few or too many digits.
    Width {
        /// `minutes` or `seconds`.
        field: &'static str,
    },
    /// A field after the first of 60 or more: never carried into the next unit.
    Range {
        /// `minutes` or `seconds`.
        field: &'static str,
        /// Its value.
        value: u64,
    },
    /// More seconds than a `u64` holds.
    Overflow,
}

/// The strict core every timestamp reader shares (show notes here, the chapter-file formats
/// through [`parse_clock`]): `[[h:]m:]s` fields of ASCII digits, each after the first of
/// `minor_min_digits` to 2 digits and below 60 (never carried), summed to seconds without
/// overflow. The first field may have any number of digits and any value.
pub(crate) fn clock_seconds(fields: &[&str], minor_min_digits: usize) -> Result<u64, FieldError> {
    let names: &[&'static str] = match fields.len() {
        1 => &["seconds"],
        2 => &["minutes", "seconds"],
        _ => &["hours", "minutes", "seconds"],
    };
    let mut total: u64 = 0;
    for (i, field) in fields.iter().enumerate() {
        let name = names.get(i).copied().unwrap_or("seconds");
        if field.is_empty() || !field.bytes().all(|b| b.is_ascii_digit()) {
            return Err(FieldError::NotDigits { field: name });
        }
        if i > 0 && (field.len() < minor_min_digits || field.len() > 2) {
            return Err(FieldError::Width { field: name });
        }
        let value = digits_value(field).ok_or(FieldError::Overflow)?;
        if i > 0 && value >= 60 {
            return Err(FieldError::Range { field: name, value });
        }
        total = total
            .checked_mul(60)
            .and_then(|t| t.checked_add(value))
            .ok_or(FieldError::Overflow)?;
    }
    Ok(total)
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

/// Parses `[[H:]M:]S[.fff]` strictly, as the chapter-file formats write it (the fields through
/// [`clock_seconds`]): fields after the first must be below 60 (no carrying),
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
    if fields.first().is_some_and(|f| f.len() > MAX_LEADING_DIGITS) {
        return Err(bad("too large"));
    }
    let secs = clock_seconds(&fields, rules.minor_min_digits).map_err(|e| match e {
        FieldError::NotDigits { .. } | FieldError::Width { .. } => bad(&expected_shape(rules)),
        FieldError::Range { field, value } => {
            bad(&format!("{field} {value} out of range (must be below 60)"))
        }
        FieldError::Overflow => bad("too large"),
    })?;
    let ms = match (frac, rules.fraction) {
        (None, Fraction::Exactly3) => return Err(bad(&expected_shape(rules))),
        (None, Fraction::Optional) => 0,
        (Some(f), Fraction::Exactly3) if f.len() != 3 => return Err(bad(&expected_shape(rules))),
        (Some(f), _) => parse_fraction_ms(f).ok_or_else(|| bad(&expected_shape(rules)))?,
    };
    secs.checked_mul(1000)
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

/// Value of a run of ASCII digits, `None` on overflow (the caller has checked the digits).
fn digits_value(s: &str) -> Option<u64> {
    s.bytes().try_fold(0u64, |acc, b| {
        acc.checked_mul(10)?
            .checked_add(u64::from(b.wrapping_sub(b'0')))
    })
}

/// The input for an error message, shortened so a hostile 10 MB "timestamp" stays readable.
fn quote(s: &str) -> String {
    let mut chars = s.chars();
    let head: String = chars.by_ref().take(QUOTE_CHARS).collect();
    if chars.next().is_some() {
        format!("{head}…")
    } else {
        head
    }
}

/// A digit as written: ASCII or full-width (`０`–`９`).
pub(crate) fn is_digit_char(c: char) -> bool {
    c.is_ascii_digit() || ('\u{FF10}'..='\u{FF19}').contains(&c)
}

/// A colon as written: ASCII, full-width `：`, small `﹕` or vertical `︓`.
pub(crate) fn is_colon_char(c: char) -> bool {
    matches!(c, ':' | '\u{FF1A}' | '\u{FE55}' | '\u{FE13}')
}

/// A fraction mark as written: `.`/`,` and their full-width and small forms.
pub(crate) fn is_fraction_char(c: char) -> bool {
    matches!(
        c,
        '.' | ',' | '\u{FF0E}' | '\u{FF0C}' | '\u{FE52}' | '\u{FE50}'
    )
}

/// Every character [`parse_timestamp`] accepts. Deliberately narrower than "anything NFKC
/// maps to a digit": `①:30` or superscripts are not timestamps anyone means.
fn is_timestamp_char(c: char) -> bool {
    is_digit_char(c) || is_colon_char(c) || is_fraction_char(c)
}

/// Length in bytes of the timestamp-shaped token at the start of `s`: digits, then any number
/// of `:digits` groups, then an optional `.digits`/`,digits` fraction. A colon or fraction mark
/// is only taken when a digit follows, so `01:40: Title` yields `01:40`. Returns the length and
/// whether at least one colon was taken (a token without one is just a number).
///
/// The shape is deliberately looser than [`parse_timestamp`] (`12:75`, `1:2:3:4` are scanned
/// whole) so that a mistyped chapter line is reported instead of being read as prose.
pub(crate) fn scan_token(s: &str) -> (usize, bool) {
    let mut end = 0;
    let mut has_colon = false;
    let mut iter = s.char_indices().peekable();
    // Leading digits.
    while let Some(&(i, c)) = iter.peek() {
        if !is_digit_char(c) {
            break;
        }
        end = i + c.len_utf8();
        iter.next();
    }
    if end == 0 {
        return (0, false);
    }
    let rest_from = |pos: usize| s.get(pos..).unwrap_or("");
    // `:digits` groups.
    loop {
        let rest = rest_from(end);
        let mut cs = rest.chars();
        match (cs.next(), cs.next()) {
            (Some(c), Some(d)) if is_colon_char(c) && is_digit_char(d) => {
                end += c.len_utf8();
                end += digit_run(rest_from(end));
                has_colon = true;
            }
            _ => break,
        }
    }
    // Optional fraction.
    let rest = rest_from(end);
    let mut cs = rest.chars();
    if let (Some(c), Some(d)) = (cs.next(), cs.next())
        && is_fraction_char(c)
        && is_digit_char(d)
    {
        end += c.len_utf8();
        end += digit_run(rest_from(end));
    }
    (end, has_colon)
}

/// Byte length of the run of digit characters at the start of `s`.
fn digit_run(s: &str) -> usize {
    s.char_indices()
        .find(|&(_, c)| !is_digit_char(c))
        .map_or(s.len(), |(i, _)| i)
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

    fn ms(s: &str) -> u64 {
        parse_timestamp(s).map(Time::as_millis).unwrap_or(u64::MAX)
    }

    #[test]
    fn forms() {
        assert_eq!(ms("0:00"), 0);
        assert_eq!(ms("01:40"), 100_000);
        assert_eq!(ms("1:40"), 100_000);
        assert_eq!(ms("75:10"), 4_510_000);
        assert_eq!(ms("1:02:03"), 3_723_000);
        assert_eq!(ms("01:02:03"), 3_723_000);
        assert_eq!(ms("100:00:00"), 360_000_000);
    }

    #[test]
    fn fractions_are_decimal_not_digit_counts() {
        assert_eq!(ms("00:00:01.5"), 1_500);
        assert_eq!(ms("00:00:01.50"), 1_500);
        assert_eq!(ms("00:00:01.500"), 1_500);
        assert_eq!(ms("00:00:01.05"), 1_050);
        assert_eq!(ms("00:00:01,005"), 1_005);
        assert_eq!(ms("1:05.25"), 65_250);
        assert!(matches!(
            parse_timestamp("00:00:01.5000"),
            Err(TimestampError::FractionTooLong { .. })
        ));
        assert!(matches!(
            parse_timestamp("1:05."),
            Err(TimestampError::Shape { .. })
        ));
        assert!(matches!(
            parse_timestamp("1:05.2.5"),
            Err(TimestampError::Shape { .. })
        ));
    }

    #[test]
    fn full_width() {
        assert_eq!(ms("０１：４０"), 100_000);
        assert_eq!(ms("１：０２：０３．５"), 3_723_500);
        assert_eq!(ms("01﹕40"), 100_000);
        assert!(matches!(
            parse_timestamp("①:30"),
            Err(TimestampError::InvalidChar { ch: '①', .. })
        ));
    }

    #[test]
    fn out_of_range_is_never_carried() {
        let e = parse_timestamp("12:75").unwrap_err();
        assert_eq!(e.to_string(), "seconds 75 out of range in 12:75");
        let e = parse_timestamp("1:75:00").unwrap_err();
        assert_eq!(e.to_string(), "minutes 75 out of range in 1:75:00");
        let e = parse_timestamp("１２：７５").unwrap_err();
        assert_eq!(e.to_string(), "seconds 75 out of range in １２：７５");
        assert!(parse_timestamp("0:60").is_err());
        assert!(parse_timestamp("1:60:00").is_err());
    }

    #[test]
    fn shapes() {
        for bad in [
            "",
            "12",
            "1:5",
            "1:2:03",
            "1:02:3",
            ":30",
            "1::30",
            "1:30:",
            "1:02:03:04",
            " 1:30",
            "1:30 ",
            "-1:30",
            "+1:30",
            "1:3O",
        ] {
            assert!(parse_timestamp(bad).is_err(), "{bad:?} should be rejected");
        }
    }

    #[test]
    fn overflow_is_an_error() {
        assert!(matches!(
            parse_timestamp("99999999999999999999999:00:00"),
            Err(TimestampError::Overflow { .. })
        ));
        assert!(matches!(
            parse_timestamp("9999999999999:00:00"),
            Err(TimestampError::Overflow { .. })
        ));
        let long = "1".repeat(10_000) + ":00";
        let e = parse_timestamp(&long).unwrap_err();
        assert!(
            e.to_string().len() < 100,
            "message quotes a shortened input"
        );
        let max = Time::from_millis(u64::MAX);
        assert_eq!(parse_timestamp(&max.hms_millis()), Ok(max));
    }

    #[test]
    fn token_scan() {
        assert_eq!(scan_token("01:40 Title"), (5, true));
        assert_eq!(scan_token("01:40: Title"), (5, true));
        assert_eq!(scan_token("12:75 x"), (5, true));
        assert_eq!(scan_token("1:02:03.5- x"), (9, true));
        assert_eq!(scan_token("01:40. Title"), (5, true));
        assert_eq!(scan_token("2024 年"), (4, false));
        assert_eq!(scan_token("０１：４０　x"), ("０１：４０".len(), true));
        assert_eq!(scan_token("abc"), (0, false));
    }
}
