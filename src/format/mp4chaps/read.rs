//! mp4chaps → model.

use crate::chapter::{Chapter, ChapterList, Link, Origin};
use crate::format::common::{
    ClockRules, Fraction, ensure_not_empty, numbered_lines, parse_clock, push_capped,
};
use crate::format::{Format, FormatError};
use crate::time::Time;

const F: Format = Format::Mp4chaps;

const CLOCK: ClockRules = ClockRules {
    min_fields: 3,
    max_fields: 3,
    minor_min_digits: 2,
    fraction: Fraction::Optional,
};

/// Splits a trimmed line into the time token and the rest (title, maybe URL).
pub(crate) fn split_line(line: &str) -> Option<(&str, &str)> {
    let end = line.find([' ', '\t']).unwrap_or(line.len());
    let time = line.get(..end)?;
    if !time.starts_with(|c: char| c.is_ascii_digit()) || !time.contains(':') {
        return None;
    }
    Some((time, line.get(end..).unwrap_or("").trim()))
}

pub(crate) fn parse_time(time: &str) -> Result<Time, String> {
    parse_clock(time, CLOCK)
}

/// Splits a trailing ` <url>` off the title when it holds an absolute URL.
fn split_url(rest: &str) -> (&str, Option<&str>) {
    if let Some(inner) = rest.strip_suffix('>')
        && let Some(open) = inner.rfind('<')
    {
        let url = inner.get(open + 1..).unwrap_or("");
        let title = inner.get(..open).unwrap_or("");
        let spaced = title.is_empty() || title.ends_with([' ', '\t']);
        if spaced
            && !url.contains(char::is_whitespace)
            && url::Url::parse(url).is_ok_and(|u| !u.cannot_be_a_base())
        {
            return (title.trim_end(), Some(url));
        }
    }
    (rest, None)
}

/// Reads mp4chaps text.
pub fn read(text: &str) -> Result<ChapterList, FormatError> {
    ensure_not_empty(F, text)?;
    let mut chapters = Vec::new();
    for (n, line) in numbered_lines(text) {
        let t = line.trim();
        if t.is_empty() || t.starts_with('#') {
            continue;
        }
        let Some((time, rest)) = split_line(t) else {
            return Err(FormatError::at(
                F,
                n,
                format!("expected `HH:MM:SS.mmm title`, found `{t}`"),
            ));
        };
        let start = parse_time(time).map_err(|m| FormatError::at(F, n, m))?;
        let (title, url) = split_url(rest);
        let mut c = Chapter::new(start, title);
        c.link = url.map(Link::new);
        c.origin = Some(Origin {
            line: n,
            timestamp: time.to_string(),
        });
        push_capped(F, &mut chapters, c, n)?;
    }
    Ok(ChapterList::new(chapters))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_lines_urls_and_comments() {
        let text = "# chapters\n00:00:00.000 Intro\n\n00:01:40 Title <https://x.test/a>\n100:00:00.5 Long <beta>\r\n00:01:41 Mail <mailto:a@b.test>\n00:02:00.000\n";
        let list = read(text).unwrap();
        assert_eq!(list.len(), 5);
        assert_eq!(list.chapters[3].title, "Mail <mailto:a@b.test>");
        assert_eq!(list.chapters[1].title, "Title");
        assert_eq!(list.chapters[1].url(), Some("https://x.test/a"));
        assert_eq!(list.chapters[1].start, Time::from_secs(100));
        assert_eq!(list.chapters[1].line(), Some(4));
        assert_eq!(list.chapters[2].title, "Long <beta>");
        assert_eq!(list.chapters[2].start, Time::from_millis(360_000_500));
        assert_eq!(list.chapters[4].title, "");
    }

    #[test]
    fn errors_name_lines() {
        assert_eq!(
            read("00:00:00.000 a\n00:12:75.000 b\n")
                .unwrap_err()
                .to_string(),
            "mp4chaps line 2: bad timestamp `00:12:75.000`: seconds 75 out of range (must be below 60)"
        );
        assert_eq!(read("00:00:00.000 a\nhello\n").unwrap_err().line(), Some(2));
        assert_eq!(read("01:40 a\n").unwrap_err().line(), Some(1));
    }
}
