//! Test helper (used by tests/id3.rs kill tests): writes chapters into an MP3 through
//! `write::id3::plan_write` and `write::safe::apply`, so a test can run it as a child process
//! and kill it (or set `CHAPMARK_FAULT`) mid-write.
//!
//! Usage: `apply_chapters FILE DURATION_MS CHAPTERS.txt` where each line of CHAPTERS.txt is
//! `MM:SS title` (lines that do not start like that are ignored).

use chapmark::write::id3::{Id3Options, plan_write};
use chapmark::write::safe;
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
    let [_, file, duration_ms, chapters] = args.as_slice() else {
        eprintln!("usage: apply_chapters FILE DURATION_MS CHAPTERS.txt");
        return ExitCode::from(2);
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
