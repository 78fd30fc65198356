//! CUE sheet → model.

use crate::chapter::{Chapter, ChapterList, Link, ListMeta, Origin};
use crate::format::common::{ensure_not_empty, numbered_lines, push_capped};
use crate::format::{Format, FormatError};
use crate::time::Time;

const F: Format = Format::Cue;

/// `MM:SS:FF` → ms, strictly (seconds below 60, frames below 75), rounded to the nearest ms.
pub(crate) fn parse_time(text: &str) -> Result<Time, String> {
    let bad = |why: String| format!("bad timestamp `{text}`: {why}");
    let shape = || bad("expected MM:SS:FF (FF = frames, 75 per second)".into());
    let fields: Vec<&str> = text.split(':').collect();
    let [m, s, f] = fields.as_slice() else {
        return Err(shape());
    };
    let digits = |x: &str, max_len: usize| {
        !x.is_empty() && x.len() <= max_len && x.bytes().all(|b| b.is_ascii_digit())
    };
    if !digits(m, 12) || !digits(s, 2) || !digits(f, 2) {
        return Err(shape());
    }
    let (m, s, f): (u64, u64, u64) = match (m.parse(), s.parse(), f.parse()) {
        (Ok(m), Ok(s), Ok(f)) => (m, s, f),
        _ => return Err(shape()),
    };
    if s >= 60 {
        return Err(bad(format!("seconds {s} out of range (must be below 60)")));
    }
    if f >= 75 {
        return Err(bad(format!("frames {f} out of range (must be below 75)")));
    }
    let frames = m
        .checked_mul(60)
        .and_then(|x| x.checked_add(s))
        .and_then(|x| x.checked_mul(75))
        .and_then(|x| x.checked_add(f))
        .ok_or_else(|| bad("too large".into()))?;
    Time::from_units(frames, 75).ok_or_else(|| bad("too large".into()))
}

/// The value after a command: the text between the first and last `"`, else the bare rest.
fn value(rest: &str) -> String {
    let rest = rest.trim();
    if let Some(inner) = rest.strip_prefix('"') {
        match inner.rfind('"') {
            Some(end) => inner.get(..end).unwrap_or(inner).to_string(),
            None => inner.to_string(),
        }
    } else {
        rest.to_string()
    }
}

/// `COMMAND rest` with the command upper-cased.
fn command(line: &str) -> (String, &str) {
    let t = line.trim();
    let end = t.find([' ', '\t']).unwrap_or(t.len());
    (
        t.get(..end).unwrap_or("").to_ascii_uppercase(),
        t.get(end..).unwrap_or("").trim_start(),
    )
}

struct Track {
    line: usize,
    number: String,
    title: Option<String>,
    url: Option<String>,
    start: Option<(usize, String, Time)>,
}

impl Track {
    fn finish(self) -> Result<Chapter, FormatError> {
        let Some((line, written, start)) = self.start else {
            return Err(FormatError::at(
                F,
                self.line,
                format!("track {} has no INDEX 01", self.number),
            ));
        };
        let mut c = Chapter::new(start, self.title.unwrap_or_default());
        c.link = self.url.filter(|u| !u.is_empty()).map(Link::new);
        c.origin = Some(Origin {
            line,
            timestamp: written,
        });
        Ok(c)
    }
}

/// Reads a CUE sheet.
pub fn read(text: &str) -> Result<ChapterList, FormatError> {
    ensure_not_empty(F, text)?;
    let mut meta = ListMeta::default();
    let mut chapters = Vec::new();
    let mut track: Option<Track> = None;
    let mut files = 0usize;
    for (n, line) in numbered_lines(text) {
        let (cmd, rest) = command(line);
        match cmd.as_str() {
            "" => {}
            "FILE" => {
                files += 1;
                if files > 1 && (track.is_some() || !chapters.is_empty()) {
                    return Err(FormatError::at(
                        F,
                        n,
                        "a second FILE: chapter times would be relative to different files",
                    ));
                }
            }
            "TRACK" => {
                if let Some(t) = track.take() {
                    let line = t.line;
                    push_capped(F, &mut chapters, t.finish()?, line)?;
                }
                let number = rest.split_whitespace().next().unwrap_or("").to_string();
                track = Some(Track {
                    line: n,
                    number,
                    title: None,
                    url: None,
                    start: None,
                });
            }
            "TITLE" => match track.as_mut() {
                Some(t) => t.title = Some(value(rest)),
                None => meta.title = Some(value(rest)),
            },
            "PERFORMER" if track.is_none() => meta.author = Some(value(rest)),
            "REM" => {
                let (sub, arg) = command(rest);
                if let (Some(t), "URL") = (track.as_mut(), sub.as_str()) {
                    t.url = Some(value(arg));
                }
            }
            "INDEX" => {
                let mut words = rest.split_whitespace();
                let (Some(idx), Some(time)) = (words.next(), words.next()) else {
                    return Err(FormatError::at(F, n, "expected `INDEX nn MM:SS:FF`"));
                };
                if idx != "01" && idx != "1" {
                    continue;
                }
                let Some(t) = track.as_mut() else {
                    return Err(FormatError::at(F, n, "INDEX outside a TRACK"));
                };
                let start = parse_time(time).map_err(|m| FormatError::at(F, n, m))?;
                t.start = Some((n, time.to_string(), start));
            }
            _ => {}
        }
    }
    if let Some(t) = track.take() {
        let line = t.line;
        push_capped(F, &mut chapters, t.finish()?, line)?;
    }
    Ok(ChapterList { chapters, meta })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn times_are_frames() {
        assert_eq!(parse_time("01:40:00"), Ok(Time::from_secs(100)));
        assert_eq!(parse_time("00:00:03"), Ok(Time::from_millis(40)));
        assert_eq!(parse_time("00:00:01"), Ok(Time::from_millis(13)));
        assert_eq!(parse_time("125:05:74"), Ok(Time::from_millis(7_505_987)));
        assert!(parse_time("00:60:00").is_err());
        assert!(parse_time("00:00:75").unwrap_err().contains("frames 75"));
        assert!(parse_time("00:00").is_err());
        assert!(parse_time("00:00:00.5").is_err());
    }

    #[test]
    fn reads_sheet() {
        let text = "REM GENRE Podcast\nPERFORMER \"Me\"\nTITLE \"Ep 1\"\nFILE \"ep.mp3\" MP3\n  TRACK 01 AUDIO\n    TITLE \"He said \"hi\"\"\n    PERFORMER \"Other\"\n    INDEX 01 00:00:00\n  track 02 audio\n    title Bare words\n    rem url \"https://x.test/\"\n    INDEX 00 01:39:00\n    INDEX 01 01:40:00\n";
        let list = read(text).unwrap();
        assert_eq!(list.meta.title.as_deref(), Some("Ep 1"));
        assert_eq!(list.meta.author.as_deref(), Some("Me"));
        assert_eq!(list.chapters[0].title, "He said \"hi\"");
        assert_eq!(list.chapters[1].title, "Bare words");
        assert_eq!(list.chapters[1].url(), Some("https://x.test/"));
        assert_eq!(list.chapters[1].start, Time::from_secs(100));
        assert_eq!(list.chapters[1].line(), Some(13));
        assert_eq!(list.chapters[1].written_timestamp(), "01:40:00");
    }

    #[test]
    fn errors_name_lines() {
        let e = |t: &str| read(t).unwrap_err().to_string();
        assert_eq!(
            e(
                "FILE \"a.mp3\" MP3\nTRACK 01 AUDIO\nTITLE \"x\"\nTRACK 02 AUDIO\nINDEX 01 00:01:00\n"
            ),
            "cue line 2: track 01 has no INDEX 01"
        );
        assert_eq!(
            e("FILE \"a.mp3\" MP3\nTRACK 01 AUDIO\nINDEX 01 00:75:00\n"),
            "cue line 3: bad timestamp `00:75:00`: seconds 75 out of range (must be below 60)"
        );
        assert_eq!(
            e("FILE \"a.mp3\" MP3\nTRACK 01 AUDIO\nINDEX 01 00:00:00\nFILE \"b.mp3\" MP3\n"),
            "cue line 4: a second FILE: chapter times would be relative to different files"
        );
    }
}
