//! ffmetadata → model.

use crate::chapter::{Chapter, ChapterList, Link, ListMeta, Origin};
use crate::format::common::{ensure_not_empty, push_capped, strip_bom};
use crate::format::{Format, FormatError};
use crate::time::Time;

const F: Format = Format::Ffmetadata;

/// ffmpeg's time base when a chapter states none.
const DEFAULT_TIMEBASE: (u64, u64) = (1, 1_000_000_000);

/// One logical line: escapes still in place, escaped line breaks joined.
struct Logical {
    line: usize,
    raw: String,
}

/// Splits into logical lines. A `\` escapes the next character, including a line break,
/// which then continues the value on the next physical line.
fn logical_lines(text: &str) -> Vec<Logical> {
    let mut out = Vec::new();
    let mut line = 1usize;
    let mut start_line = 1usize;
    let mut raw = String::new();
    let mut chars = text.chars().peekable();
    while let Some(c) = chars.next() {
        match c {
            '\\' => {
                raw.push(c);
                if let Some(next) = chars.next() {
                    if next == '\n' {
                        line += 1;
                    }
                    if next == '\r' && chars.peek() == Some(&'\n') {
                        // An escaped CRLF is one escaped line break.
                        chars.next();
                        raw.push('\n');
                        line += 1;
                    } else {
                        raw.push(next);
                    }
                }
            }
            '\n' | '\r' => {
                if c == '\r' && chars.peek() == Some(&'\n') {
                    chars.next();
                }
                out.push(Logical {
                    line: start_line,
                    raw: std::mem::take(&mut raw),
                });
                line += 1;
                start_line = line;
            }
            _ => raw.push(c),
        }
    }
    if !raw.is_empty() {
        out.push(Logical {
            line: start_line,
            raw,
        });
    }
    out
}

/// Splits `key=value` at the first unescaped `=` and unescapes both halves.
fn split_key_value(raw: &str) -> Option<(String, String)> {
    let mut key = String::new();
    let mut chars = raw.chars();
    let mut found = false;
    while let Some(c) = chars.next() {
        match c {
            '\\' => {
                if let Some(n) = chars.next() {
                    key.push(n);
                }
            }
            '=' => {
                found = true;
                break;
            }
            _ => key.push(c),
        }
    }
    if !found {
        return None;
    }
    Some((key, unescape(chars.as_str())))
}

fn unescape(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    let mut chars = s.chars();
    while let Some(c) = chars.next() {
        if c == '\\' {
            if let Some(n) = chars.next() {
                out.push(n);
            }
        } else {
            out.push(c);
        }
    }
    out
}

/// A `[CHAPTER]` section being collected.
struct Section {
    line: usize,
    timebase: Option<(u64, u64)>,
    start: Option<(usize, String)>,
    end: Option<(usize, String)>,
    title: Option<String>,
    url: Option<String>,
    image: Option<String>,
}

impl Section {
    fn new(line: usize) -> Self {
        Section {
            line,
            timebase: None,
            start: None,
            end: None,
            title: None,
            url: None,
            image: None,
        }
    }

    /// Takes one `key=value` of the section (keys case-insensitive; unknown ones ignored).
    fn set(&mut self, key: &str, value: String, line: usize) -> Result<(), FormatError> {
        let is = |k: &str| key.eq_ignore_ascii_case(k);
        if is("TIMEBASE") {
            let tb = parse_timebase(&value).ok_or_else(|| {
                FormatError::at(
                    F,
                    line,
                    format!(
                        "TIMEBASE={value} is not a valid time base (expected num/den, both above zero)"
                    ),
                )
            })?;
            self.timebase = Some(tb);
        } else if is("START") {
            self.start = Some((line, value));
        } else if is("END") {
            self.end = Some((line, value));
        } else if is("title") {
            self.title = Some(value);
        } else if is("url") {
            self.url = Some(value);
        } else if is("image") {
            self.image = Some(value);
        }
        Ok(())
    }

    fn finish(self, n: usize) -> Result<Chapter, FormatError> {
        let tb = self.timebase.unwrap_or(DEFAULT_TIMEBASE);
        let Some((start_line, start_text)) = self.start else {
            return Err(FormatError::at(
                F,
                self.line,
                format!("chapter {n} has no START"),
            ));
        };
        let start = ticks_to_time("START", &start_text, tb)
            .map_err(|m| FormatError::at(F, start_line, m))?;
        let end = match self.end {
            Some((line, text)) => {
                Some(ticks_to_time("END", &text, tb).map_err(|m| FormatError::at(F, line, m))?)
            }
            None => None,
        };
        let mut c = Chapter::new(start, self.title.unwrap_or_default());
        c.end = end;
        c.link = self.url.filter(|u| !u.is_empty()).map(Link::new);
        c.image = self.image.filter(|i| !i.is_empty());
        c.origin = Some(Origin {
            line: start_line,
            timestamp: start_text,
        });
        Ok(c)
    }
}

/// A START/END tick count in time base `num/den` → ms, rounded, in integer math.
fn ticks_to_time(key: &str, text: &str, (num, den): (u64, u64)) -> Result<Time, String> {
    let t = text.trim();
    if t.strip_prefix('-')
        .is_some_and(|d| !d.is_empty() && d.bytes().all(|b| b.is_ascii_digit()))
    {
        return Err(format!("{key}={text} is negative"));
    }
    if t.is_empty() || !t.bytes().all(|b| b.is_ascii_digit()) {
        return Err(format!("{key}={text} is not a number"));
    }
    let ticks: u64 = t
        .parse()
        .map_err(|_| format!("{key}={text} is too large"))?;
    let ms = (u128::from(ticks) * u128::from(num) * 1000 + u128::from(den) / 2) / u128::from(den);
    u64::try_from(ms)
        .ok()
        .filter(|&ms| ms <= 1 << 53)
        .map(Time::from_millis)
        .ok_or_else(|| format!("{key}={text} is too large"))
}

/// `num/den`, both positive 32-bit integers as in ffmpeg's `AVRational`.
fn parse_timebase(value: &str) -> Option<(u64, u64)> {
    let (n, d) = value.trim().split_once('/')?;
    let n: u32 = n.trim().parse().ok()?;
    let d: u32 = d.trim().parse().ok()?;
    (n > 0 && d > 0).then_some((u64::from(n), u64::from(d)))
}

#[derive(PartialEq, Eq)]
enum Where {
    Global,
    Chapter,
    Other,
}

/// Reads an ffmetadata file.
pub fn read(text: &str) -> Result<ChapterList, FormatError> {
    ensure_not_empty(F, text)?;
    let lines = logical_lines(strip_bom(text));
    let mut iter = lines.iter();
    match iter.next() {
        Some(first) if first.raw.starts_with(";FFMETADATA") => {}
        _ => return Err(FormatError::at(F, 1, "missing ;FFMETADATA1 header")),
    }
    let mut meta = ListMeta::default();
    let mut chapters = Vec::new();
    let mut current: Option<Section> = None;
    let mut place = Where::Global;
    for l in iter {
        let raw = l.raw.as_str();
        if raw.trim().is_empty() || raw.starts_with(';') || raw.starts_with('#') {
            continue;
        }
        let trimmed = raw.trim();
        if trimmed.starts_with('[') && trimmed.ends_with(']') {
            if let Some(s) = current.take() {
                let c = s.finish(chapters.len() + 1)?;
                push_capped(F, &mut chapters, c, l.line)?;
            }
            if trimmed == "[CHAPTER]" {
                current = Some(Section::new(l.line));
                place = Where::Chapter;
            } else {
                place = Where::Other;
            }
            continue;
        }
        let Some((key, value)) = split_key_value(raw) else {
            log::warn!("ffmetadata line {}: not key=value; ignored", l.line);
            continue;
        };
        match (&place, current.as_mut()) {
            (Where::Global, _) => {
                let slot = if key.eq_ignore_ascii_case("title") {
                    &mut meta.title
                } else if key.eq_ignore_ascii_case("artist") {
                    &mut meta.author
                } else if key.eq_ignore_ascii_case("album") {
                    &mut meta.podcast
                } else {
                    continue;
                };
                *slot = Some(value);
            }
            (Where::Chapter, Some(s)) => s.set(&key, value, l.line)?,
            _ => {}
        }
    }
    if let Some(s) = current.take() {
        let line = s.line;
        let c = s.finish(chapters.len() + 1)?;
        push_capped(F, &mut chapters, c, line)?;
    }
    Ok(ChapterList { chapters, meta })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_escapes_timebases_and_meta() {
        let text = ";FFMETADATA1\ntitle=Ep \\= 1\nartist=Me\nalbum=Show\n# comment\n\n[STREAM]\ntitle=ignored\n[CHAPTER]\nTIMEBASE=1/75\nSTART=7500\nEND=15000\ntitle=A \\; b \\# c \\\\ d \\= e\\\nline2\nURL=https://x.test/?a=1\n\n[CHAPTER]\nSTART=100000000000\nEND=101000000000\ntitle=nanoseconds\n";
        let list = read(text).unwrap();
        assert_eq!(list.meta.title.as_deref(), Some("Ep = 1"));
        assert_eq!(list.meta.author.as_deref(), Some("Me"));
        assert_eq!(list.meta.podcast.as_deref(), Some("Show"));
        let a = &list.chapters[0];
        assert_eq!(a.start, Time::from_secs(100));
        assert_eq!(a.end, Some(Time::from_secs(200)));
        assert_eq!(a.title, "A ; b # c \\ d = e\nline2");
        assert_eq!(a.url(), Some("https://x.test/?a=1"));
        assert_eq!(a.line(), Some(11));
        assert_eq!(a.written_timestamp(), "7500");
        let b = &list.chapters[1];
        assert_eq!(b.start, Time::from_secs(100));
        assert_eq!(b.line(), Some(18));
    }

    #[test]
    fn rounding_in_odd_timebases() {
        assert_eq!(
            ticks_to_time("START", "1", (1, 75)),
            Ok(Time::from_millis(13))
        );
        assert_eq!(
            ticks_to_time("START", "3", (1, 75)),
            Ok(Time::from_millis(40))
        );
        assert_eq!(
            ticks_to_time("START", "5", (1001, 30000)),
            Ok(Time::from_millis(167))
        );
    }

    #[test]
    fn errors_name_lines() {
        let e = |t: &str| read(t).unwrap_err().to_string();
        assert_eq!(
            e(";FFMETADATA1\n[CHAPTER]\nTIMEBASE=1/1000\nSTART=abc\nEND=5\n"),
            "ffmetadata line 4: START=abc is not a number"
        );
        assert_eq!(
            e(";FFMETADATA1\n[CHAPTER]\nTIMEBASE=1/0\nSTART=1\n"),
            "ffmetadata line 3: TIMEBASE=1/0 is not a valid time base (expected num/den, both above zero)"
        );
        assert_eq!(
            e(";FFMETADATA1\n\n[CHAPTER]\nTIMEBASE=1/1000\ntitle=x\n[CHAPTER]\nSTART=1\n"),
            "ffmetadata line 3: chapter 1 has no START"
        );
        assert_eq!(
            e(";FFMETADATA1\n[CHAPTER]\nSTART=-5\n"),
            "ffmetadata line 3: START=-5 is negative"
        );
        assert_eq!(
            e("title=x\n"),
            "ffmetadata line 1: missing ;FFMETADATA1 header"
        );
        assert_eq!(e("\u{feff}  \n"), "ffmetadata: empty file");
    }
}
