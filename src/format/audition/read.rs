//! Audition marker list → model.

use crate::chapter::{Chapter, ChapterList, Origin};
use crate::format::common::{
    ClockRules, Fraction, ensure_not_empty, numbered_lines, parse_clock, push_capped,
};
use crate::format::markers::{is_note, log_skipped};
use crate::format::{Format, FormatError};
use crate::time::Time;

const F: Format = Format::Audition;

/// `m:ss.ddd` or `h:mm:ss.ddd`.
const DECIMAL: ClockRules = ClockRules {
    min_fields: 2,
    max_fields: 3,
    minor_min_digits: 2,
    fraction: Fraction::Optional,
};

/// Column positions found in the header.
struct Columns {
    name: usize,
    start: usize,
    duration: Option<usize>,
    time_format: Option<usize>,
    description: Option<usize>,
}

fn columns(header: &str, line: usize) -> Result<Columns, FormatError> {
    let names: Vec<&str> = header.split('\t').map(str::trim).collect();
    let find = |want: &str| names.iter().position(|n| n.eq_ignore_ascii_case(want));
    let (Some(name), Some(start)) = (find("Name"), find("Start")) else {
        return Err(FormatError::at(
            F,
            line,
            format!(
                "expected the header `Name<TAB>Start<TAB>Duration<TAB>Time Format<TAB>Type<TAB>Description`, found `{header}`"
            ),
        ));
    };
    Ok(Columns {
        name,
        start,
        duration: find("Duration"),
        time_format: find("Time Format"),
        description: find("Description"),
    })
}

/// Reads a time in the row's time format.
pub(crate) fn parse_time(text: &str, time_format: &str) -> Result<Time, String> {
    let tf = time_format.trim();
    let lower = tf.to_ascii_lowercase();
    if lower.is_empty() || lower == "decimal" {
        return parse_clock(text, DECIMAL);
    }
    if let Some(rate) = lower.strip_suffix("hz") {
        let rate: u64 = rate
            .trim()
            .parse()
            .map_err(|_| format!("bad sample rate in time format `{tf}`"))?;
        let samples: u64 = text
            .parse()
            .map_err(|_| format!("bad sample count `{text}` (time format `{tf}`)"))?;
        return Time::from_units(samples, rate)
            .ok_or_else(|| format!("bad time `{text}` at `{tf}`"));
    }
    if let Some(rate) = lower.strip_suffix("fps") {
        return frames(text, rate.trim(), tf);
    }
    Err(format!(
        "unknown time format `{tf}` (expected `decimal`, `<rate> Hz` or `<rate> fps`; a bare sample count needs its rate)"
    ))
}

/// `h:mm:ss:ff` at a nominal frame rate; NTSC rates count at the nominal rate on the
/// 1000/1001 clock.
fn frames(text: &str, rate: &str, tf: &str) -> Result<Time, String> {
    let (nominal, ntsc) = match rate {
        "29.97" => (30, true),
        "23.976" => (24, true),
        "59.94" => (60, true),
        r => (
            r.parse::<u64>()
                .ok()
                .filter(|n| (1..=1000).contains(n))
                .ok_or_else(|| format!("unsupported frame rate in time format `{tf}`"))?,
            false,
        ),
    };
    if text.contains(';') {
        return Err(format!(
            "drop-frame timecode `{text}` is not supported; export in decimal"
        ));
    }
    let (clock, ff) = text
        .rsplit_once(':')
        .ok_or_else(|| format!("bad timecode `{text}`: expected h:mm:ss:ff"))?;
    let ff: u64 = ff
        .parse()
        .ok()
        .filter(|f| *f < nominal)
        .ok_or_else(|| format!("bad timecode `{text}`: frame out of range at `{tf}`"))?;
    if clock.contains('.') {
        return Err(format!("bad timecode `{text}`: expected h:mm:ss:ff"));
    }
    let whole = parse_clock(clock, DECIMAL)
        .map_err(|_| format!("bad timecode `{text}`: expected h:mm:ss:ff"))?;
    let count = (whole.as_millis() / 1000) * nominal + ff;
    let (units, per_sec) = if ntsc {
        (count * 1001, nominal * 1000)
    } else {
        (count, nominal)
    };
    Time::from_units(units, per_sec).ok_or_else(|| format!("bad timecode `{text}`"))
}

/// Reads an Audition marker list.
pub fn read(text: &str) -> Result<ChapterList, FormatError> {
    ensure_not_empty(F, text)?;
    let mut lines = numbered_lines(text).filter(|(_, l)| !l.trim().is_empty());
    let Some((hn, header)) = lines.next() else {
        return Err(FormatError::Empty { format: F });
    };
    let cols = columns(header, hn)?;
    let mut chapters = Vec::new();
    let mut notes = 0;
    for (n, line) in lines {
        let fields: Vec<&str> = line.split('\t').collect();
        let get = |i: Option<usize>| i.and_then(|i| fields.get(i)).map_or("", |s| s.trim());
        let name = fields.get(cols.name).copied().unwrap_or("");
        let tf = get(cols.time_format);
        let written = get(Some(cols.start));
        if written.is_empty() {
            return Err(FormatError::at(F, n, format!("no start time in `{line}`")));
        }
        let start = parse_time(written, tf).map_err(|m| FormatError::at(F, n, m))?;
        let dur = match get(cols.duration) {
            "" => Time::ZERO,
            d => parse_time(d, tf).map_err(|m| FormatError::at(F, n, m))?,
        };
        if is_note(name) {
            notes += 1;
            continue;
        }
        let mut c = Chapter::new(start, name);
        c.end = (dur > Time::ZERO).then(|| start.saturating_add(dur));
        c.description = Some(get(cols.description).to_string()).filter(|d| !d.is_empty());
        c.origin = Some(Origin {
            line: n,
            timestamp: written.to_string(),
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
    fn time_formats() {
        assert_eq!(
            parse_time("1:16.655", "decimal"),
            Ok(Time::from_millis(76_655))
        );
        assert_eq!(
            parse_time("1:44:53.111", "decimal"),
            Ok(Time::from_millis(6_293_111))
        );
        assert_eq!(parse_time("96000", "48000 Hz"), Ok(Time::from_secs(2)));
        assert_eq!(
            parse_time("0:00:02:12", "25 fps"),
            Ok(Time::from_millis(2_480))
        );
        assert_eq!(
            parse_time("0:00:10:00", "29.97 fps"),
            Ok(Time::from_millis(10_010))
        );
        assert!(
            parse_time("96000", "samples")
                .unwrap_err()
                .contains("needs its rate")
        );
        assert!(parse_time("0:00:02;12", "29.97 fps").is_err());
        assert!(parse_time("1:75.000", "decimal").is_err());
    }

    #[test]
    fn errors_name_lines() {
        let text = "Name\tStart\tDuration\tTime Format\tType\tDescription\na\t0:01.000\t0:00.000\tdecimal\tCue\t\nb\t0:99.000\t0:00.000\tdecimal\tCue\t\n";
        assert_eq!(read(text).unwrap_err().line(), Some(3));
        assert_eq!(read("Title\tTime\n").unwrap_err().line(), Some(1));
    }
}
