//! Audacity labels → model.

use crate::chapter::{Chapter, ChapterList, Origin};
use crate::format::common::{
    ClockRules, Fraction, ensure_not_empty, numbered_lines, parse_clock, push_capped,
};
use crate::format::markers::{is_note, log_skipped};
use crate::format::{Format, FormatError};
use crate::time::Time;
use std::borrow::Cow;

const F: Format = Format::Audacity;

/// Plain seconds with an optional fraction.
const SECONDS: ClockRules = ClockRules {
    min_fields: 1,
    max_fields: 1,
    minor_min_digits: 1,
    fraction: Fraction::Optional,
};

/// One parsed label line.
pub(crate) struct Label<'a> {
    pub start: Time,
    pub end: Time,
    pub written: &'a str,
    pub name: &'a str,
}

fn seconds(field: &str) -> Result<Time, String> {
    let field = field.trim();
    // Older Audacity builds wrote the locale's decimal comma.
    let text: Cow<'_, str> = if field.matches(',').count() == 1 && !field.contains('.') {
        Cow::Owned(field.replace(',', "."))
    } else {
        Cow::Borrowed(field)
    };
    if !text.starts_with(|c: char| c.is_ascii_digit()) || text.contains(':') {
        return Err(format!(
            "bad time `{field}`: expected seconds such as 85.180378"
        ));
    }
    // Tools that post-process label tracks write more digits than Audacity's six; beyond
    // nanoseconds they cannot change the millisecond.
    let cut = match text.split_once('.') {
        Some((whole, frac)) if frac.len() > 9 && frac.bytes().all(|b| b.is_ascii_digit()) => {
            Cow::Owned(format!("{whole}.{}", frac.get(..9).unwrap_or(frac)))
        }
        _ => text,
    };
    parse_clock(&cut, SECONDS).map_err(|m| m.replace(&*cut, field))
}

/// Parses `start<TAB>end[<TAB>label]`.
pub(crate) fn parse_label(line: &str) -> Result<Label<'_>, String> {
    let mut parts = line.splitn(3, '\t');
    let written = parts.next().unwrap_or("");
    let Some(end_text) = parts.next() else {
        return Err(format!(
            "expected `start<TAB>end<TAB>label`, found `{line}`"
        ));
    };
    let name = parts.next().unwrap_or("");
    let start = seconds(written)?;
    let end = seconds(end_text)?;
    if end < start {
        return Err(format!(
            "label ends at {} before it starts at {}",
            end_text.trim(),
            written.trim()
        ));
    }
    Ok(Label {
        start,
        end,
        written: written.trim(),
        name,
    })
}

/// Reads an Audacity label export (standard or extended format).
pub fn read(text: &str) -> Result<ChapterList, FormatError> {
    ensure_not_empty(F, text)?;
    let mut chapters = Vec::new();
    let mut notes = 0;
    for (n, line) in numbered_lines(text) {
        if line.trim().is_empty() || line.starts_with('\\') {
            continue;
        }
        let label = parse_label(line).map_err(|m| FormatError::at(F, n, m))?;
        if is_note(label.name) {
            notes += 1;
            continue;
        }
        let mut c = Chapter::new(label.start, label.name);
        c.end = (label.end > label.start).then_some(label.end);
        c.origin = Some(Origin {
            line: n,
            timestamp: label.written.to_string(),
        });
        push_capped(F, &mut chapters, c, n)?;
    }
    log_skipped(F, notes);
    Ok(ChapterList::new(chapters))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_points_regions_frequency_lines_and_notes() {
        let text = "0.000000\t0.000000\tIntro\n\\\t120.5\t3000.0\n85.180378\t90.000000\tRegion\n100,5\t100,5\t// fix breath\n543.822379\t543.822379\n";
        let list = read(text).unwrap();
        assert_eq!(list.len(), 3);
        assert_eq!(list.chapters[1].start, Time::from_millis(85_180));
        assert_eq!(list.chapters[1].end, Some(Time::from_secs(90)));
        assert_eq!(list.chapters[0].end, None);
        assert_eq!(list.chapters[2].title, "");
        assert_eq!(list.chapters[2].line(), Some(5));
    }

    #[test]
    fn errors_name_lines() {
        let e = read("0.0\t0.0\ta\n5.0\t4.0\tb\n").unwrap_err();
        assert_eq!(
            e.to_string(),
            "audacity line 2: label ends at 4.0 before it starts at 5.0"
        );
        assert_eq!(read("0.0\t0.0\ta\nhello\n").unwrap_err().line(), Some(2));
        assert_eq!(read("1:30\t1:30\ta\n").unwrap_err().line(), Some(1));
    }
}
