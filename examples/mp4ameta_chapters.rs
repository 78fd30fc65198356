//! Benchmark peer (benches/write-vs-peers.sh): writes chapters into an M4A the way a program
//! using the `mp4ameta` crate would — read the tag, set the Nero chapter list and the chapter
//! track, write it back (mp4ameta rewrites the file in place, moving the data after `moov`
//! when it grows). Not used by chapmark itself; see `src/write/mp4` for why.
//!
//! Usage: `mp4ameta_chapters FILE CHAPTERS.txt`, one `MM:SS title` per line.

use std::process::ExitCode;
use std::time::Duration;

fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().collect();
    let [_, file, chapters] = args.as_slice() else {
        eprintln!("usage: mp4ameta_chapters FILE CHAPTERS.txt");
        return ExitCode::from(2);
    };
    let text = match std::fs::read_to_string(chapters) {
        Ok(t) => t,
        Err(e) => {
            eprintln!("{chapters}: {e}");
            return ExitCode::from(2);
        }
    };
    let list: Vec<mp4ameta::Chapter> = text
        .lines()
        .filter_map(|line| {
            let (ts, title) = line.split_once(' ')?;
            let (m, s) = ts.split_once(':')?;
            let secs = m.parse::<u64>().ok()? * 60 + s.parse::<u64>().ok()?;
            Some(mp4ameta::Chapter::new(
                Duration::from_secs(secs),
                title.trim(),
            ))
        })
        .collect();
    let result = mp4ameta::Tag::read_from_path(file).and_then(|mut tag| {
        *tag.chapter_list_mut() = list.clone();
        *tag.chapter_track_mut() = list;
        tag.write_to_path(file)
    });
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("{file}: {e}");
            ExitCode::FAILURE
        }
    }
}
