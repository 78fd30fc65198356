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
    let (h, m, sec) = match parts.as_slice() {
        [m, sec] => {
            if sec.len() != 2 {
                return Err(shape("seconds must have exactly two digits"));
            }
            (0, digits_value(m).ok_or_else(overflow)?, digits_value(sec))
        }
        [h, m, sec] => {
            if m.len() != 2 {
                return Err(shape("minutes must have exactly two digits"));
            }
            if sec.len() != 2 {
                return Err(shape("seconds must have exactly two digits"));
            }
            let mv = digits_value(m).ok_or_else(overflow)?;
            if mv >= 60 {
                return Err(TimestampError::MinutesOutOfRange {
                    value: mv,
                    written: quote(s),
                });
            }
            (digits_value(h).ok_or_else(overflow)?, mv, digits_value(sec))
        }
        [_] => return Err(shape("expected m:ss, mm:ss, h:mm:ss or hh:mm:ss")),
        _ => return Err(shape("too many fields; expected at most h:mm:ss")),
    };
    let sec = sec.ok_or_else(overflow)?;
    if sec >= 60 {
        return Err(TimestampError::SecondsOutOfRange {
            value: sec,
            written: quote(s),
        });
    }
    Time::from_hmsm(h, m, sec, millis).ok_or_else(overflow)
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
