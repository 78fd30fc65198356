//! REAPER region/marker CSV → model.

use crate::chapter::{Chapter, ChapterList, Origin};
use crate::format::common::{
    ClockRules, Fraction, ensure_not_empty, numbered_lines, parse_clock, push_capped,
};
use crate::format::markers::{is_note, log_skipped};
use crate::format::{Format, FormatError};
use crate::time::Time;

const F: Format = Format::Reaper;

/// `h:mm:ss.mmm`, `m:ss.mmm` or seconds.
const CLOCK: ClockRules = ClockRules {
    min_fields: 1,
    max_fields: 3,
    minor_min_digits: 2,
    fraction: Fraction::Optional,
};

// One CSV record, RFC 4180 quoting, fields trimmed: the manifest reader's splitter.
use crate::batch::split_csv;

/// A time as the ruler showed it.
pub(crate) fn parse_time(text: &str) -> Result<Time, String> {
    let dots = text.matches('.').count();
    if dots >= 2 && !text.contains(':') {
        return Err(format!(
            "`{text}` is bars.beats; set the ruler to minutes:seconds and export again"
        ));
    }
    if text.matches(':').count() >= 3 {
        return Err(format!(
            "`{text}` is frames timecode; set the ruler to minutes:seconds and export again"
        ));
    }
    parse_clock(text, CLOCK)
}

/// One row that parsed.
struct Row {
    line: usize,
    region: bool,
    chapter: Chapter,
}

fn parse_row(
    fields: &[String],
    cols: (usize, usize, usize, Option<usize>),
    n: usize,
) -> Result<Row, FormatError> {
    let (id_col, name_col, start_col, end_col) = cols;
    let get = |i: usize| fields.get(i).map_or("", |s| s.trim());
    let id = get(id_col);
    let region = match id.chars().next() {
        Some('R' | 'r') => true,
        Some('M' | 'm') => false,
        Some(c) if c.is_ascii_digit() => false,
        _ => {
            return Err(FormatError::at(
                F,
                n,
                format!("expected a marker (`M1`) or region (`R1`) id, found `{id}`"),
            ));
        }
    };
    let written = get(start_col);
    let start = parse_time(written).map_err(|m| FormatError::at(F, n, m))?;
    let mut chapter = Chapter::new(start, fields.get(name_col).map_or("", String::as_str));
    if region {
        let end_text = end_col.map_or("", get);
        if !end_text.is_empty() {
            let end = parse_time(end_text).map_err(|m| FormatError::at(F, n, m))?;
            if end < start {
                return Err(FormatError::at(
                    F,
                    n,
                    format!("region ends at {end_text} before it starts at {written}"),
                ));
            }
            chapter.end = (end > start).then_some(end);
        }
    }
    chapter.origin = Some(Origin {
        line: n,
        timestamp: written.to_string(),
    });
    Ok(Row {
        line: n,
        region,
        chapter,
    })
}

/// Reads a REAPER region/marker export.
pub fn read(text: &str) -> Result<ChapterList, FormatError> {
    ensure_not_empty(F, text)?;
    let mut lines = numbered_lines(text).filter(|(_, l)| !l.trim().is_empty());
    let Some((hn, header)) = lines.next() else {
        return Err(FormatError::Empty { format: F });
    };
    let names = split_csv(header).map_err(|m| FormatError::at(F, hn, m))?;
    let find = |want: &str| {
        names
            .iter()
            .position(|h| h.trim().eq_ignore_ascii_case(want))
    };
    let (Some(id), Some(name), Some(start)) = (find("#"), find("Name"), find("Start")) else {
        return Err(FormatError::at(
            F,
            hn,
            format!("expected the header `#,Name,Start,End,Length`, found `{header}`"),
        ));
    };
    let cols = (id, name, start, find("End"));
    let mut rows = Vec::new();
    for (n, line) in lines {
        let fields = split_csv(line).map_err(|m| FormatError::at(F, n, m))?;
        rows.push(parse_row(&fields, cols, n)?);
    }
    let any_region = rows.iter().any(|r| r.region);
    let mut chapters = Vec::new();
    let mut notes = 0;
    for row in rows {
        if row.region != any_region || is_note(&row.chapter.title) {
            notes += 1;
            continue;
        }
        push_capped(F, &mut chapters, row.chapter, row.line)?;
    }
    log_skipped(F, notes);
    // The manager lists markers and regions each in their own order; chapters go by time.
    chapters.sort_by_key(|c| c.start);
    Ok(ChapterList::new(chapters))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn regions_win_over_markers() {
        let text = "#,Name,Start,End,Length,Color\nR1,Intro,0:00.000,1:40.000,1:40.000,\nM1,edit here,0:50.000,,,\nR2,\"Q&A, \"\"live\"\"\",1:40.000,1:00:00.000,58:20.000,FF0000\n";
        let list = read(text).unwrap();
        assert_eq!(list.len(), 2);
        assert_eq!(list.chapters[1].title, "Q&A, \"live\"");
        assert_eq!(list.chapters[1].end, Some(Time::from_secs(3600)));
        let markers = "#,Name,Start,End,Length\nM1,Intro,0:00:00.000,,\nM2,// cut,0:00:05.000,,\nM3,Next,83.5,,\n";
        let list = read(markers).unwrap();
        assert_eq!(list.len(), 2);
        assert_eq!(list.chapters[1].start, Time::from_millis(83_500));
    }

    #[test]
    fn errors_name_lines_and_say_how_to_fix() {
        let e = read("#,Name,Start,End,Length\nR1,a,5.1.00,9.1.00,4.0.00\n").unwrap_err();
        assert_eq!(e.line(), Some(2));
        assert!(e.to_string().contains("bars.beats"), "{e}");
        assert_eq!(
            read("#,Name,Start\nM1,\"open,0:00\n").unwrap_err().line(),
            Some(2)
        );
        assert_eq!(
            read("#,Name,Start\nX1,a,0:00\n").unwrap_err().line(),
            Some(2)
        );
    }
}
