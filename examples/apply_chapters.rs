//! Test helper (used by tests/id3.rs kill tests): writes chapters into an MP3 through
//! `write::id3::plan_write` and `write::safe::apply`, so a test can run it as a child process
//! and kill it (or set `CHAPMARK_FAULT`) mid-write.
//!
//! Usage: `apply_chapters FILE DURATION_MS CHAPTERS.txt [rebuild]` where each line of
//! CHAPTERS.txt is `MM:SS title` (lines that do not start like that are ignored). With
//! `rebuild`, a tag that has to grow is written by the plan's fallback rebuild instead of an
//! in-place insertion, so tests can interrupt both.

use chapmark::container::id3v2::{Id3Options, plan_write};
use chapmark::write::{Plan, apply as safe};
use chapmark::{Chapter, ChapterList, SampleTime, Time};
use std::path::Path;
use std::process::ExitCode;

fn parse_line(line: &str) -> Option<Chapter> {
    let (ts, title) = line.split_once(' ')?;
    let (m, s) = ts.split_once(':')?;
    let start = Time::from_hmsm(0, m.parse().ok()?, s.parse().ok()?, 0)?;
    Some(Chapter::new(start, title.trim()))
}

fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().collect();
    let (file, duration_ms, chapters, rebuild) = match args.as_slice() {
        [_, f, d, c] => (f, d, c, false),
        [_, f, d, c, r] if r == "rebuild" => (f, d, c, true),
        _ => {
            eprintln!("usage: apply_chapters FILE DURATION_MS CHAPTERS.txt [rebuild]");
            return ExitCode::from(2);
        }
    };
    let Ok(ms) = duration_ms.parse::<u64>() else {
        eprintln!("bad duration {duration_ms}");
        return ExitCode::from(2);
    };
    let text = match std::fs::read_to_string(chapters) {
        Ok(t) => t,
        Err(e) => {
            eprintln!("{chapters}: {e}");
            return ExitCode::from(2);
        }
    };
    let list = ChapterList::new(text.lines().filter_map(parse_line).collect());
    let path = Path::new(file);
    let result = plan_write(
        path,
        &list,
        SampleTime::new(ms, 1000),
        &Id3Options::default(),
    )
    .map_err(|e| e.to_string())
    .map(|plan| match plan {
        Plan::Insert { fallback, .. } if rebuild => Plan::Rebuild(fallback),
        other => other,
    })
    .and_then(|plan| safe::apply(path, &plan).map_err(|e| e.to_string()));
    match result {
        Ok(n) => {
            println!("{n}");
            ExitCode::SUCCESS
        }
        Err(e) => {
            eprintln!("{file}: {e}");
            ExitCode::FAILURE
        }
    }
}
