//! Helpers shared by the fuzz targets.
#![allow(dead_code)]

use chapmark::write::{Piece, Plan};
use std::path::PathBuf;

/// Puts the default panic hook back. libfuzzer-sys installs one that aborts on every panic,
/// even one chapmark catches on purpose (`probe/symph.rs` contains symphonia's panics on
/// malformed FLAC/Ogg and reports an error); a panic that escapes chapmark still reaches
/// libfuzzer-sys's `catch_unwind` around the target, which aborts, so real crashes are kept.
pub fn contained_panics_are_not_crashes() {
    drop(std::panic::take_hook());
}

/// The planner never refers to bytes outside the file: patches inside it (inside the grown
/// file for an insertion), copies inside the original.
pub fn check_bounds(plan: &Plan, len: u64) {
    match plan {
        Plan::Unchanged => {}
        Plan::Patch(p) => {
            for p in p {
                let end = p.offset.checked_add(p.data.len() as u64);
                assert!(
                    end.is_some_and(|e| e <= len),
                    "patch past the end: {} of {len}",
                    p.offset
                );
            }
        }
        Plan::Rebuild(pieces) => check_pieces(pieces, len),
        Plan::Insert {
            len: ins,
            patches,
            fallback,
        } => {
            for p in patches {
                let end = p.offset.checked_add(p.data.len() as u64);
                assert!(
                    end.is_some_and(|e| e <= len + ins),
                    "insert patch past the end"
                );
            }
            check_pieces(fallback, len);
        }
        // A strategy added later: no bounds known to check here.
        _ => {}
    }
}

fn check_pieces(pieces: &[Piece], len: u64) {
    for p in pieces {
        if let Piece::Copy { offset, len: n } = p {
            let end = offset.checked_add(*n);
            assert!(
                end.is_some_and(|e| e <= len),
                "copy past the end: {offset}+{n} of {len}"
            );
        }
    }
}

/// A scratch file for planners that take a path: in memory (`/dev/shm`) where there is one,
/// one per process and target so parallel fuzzing jobs do not share it.
pub fn scratch(tag: &str, ext: &str) -> PathBuf {
    let dir = if std::path::Path::new("/dev/shm").is_dir() {
        PathBuf::from("/dev/shm")
    } else {
        std::env::temp_dir()
    };
    dir.join(format!("chapmark-fuzz-{tag}-{}.{ext}", std::process::id()))
}

/// Two chapters with a non-ASCII title and URL: what the planners are asked to write.
pub fn chapters() -> chapmark::ChapterList {
    use chapmark::{Chapter, ChapterList, Time};
    ChapterList::new(vec![
        Chapter::new(Time::ZERO, "Intro"),
        Chapter::new(Time::from_millis(1500), "Zwei \u{1F600}").with_url("https://example.com/ü"),
    ])
}
