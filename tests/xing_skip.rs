//! The frame walk skipped where the Xing/LAME header proves the length
//! (`container::mp3::proven`): on every MP3 fixture the skip path gives what the walk gives,
//! and files whose counts lie are walked.

use chapmark::probe::{self, ProbeInfo, ProbeOptions};
use std::path::{Path, PathBuf};

fn mp3_fixtures() -> Vec<PathBuf> {
    let mut out = Vec::new();
    let mut dirs = vec![Path::new(env!("CARGO_MANIFEST_DIR")).join("fixtures")];
    while let Some(d) = dirs.pop() {
        for e in std::fs::read_dir(&d).unwrap() {
            let p = e.unwrap().path();
            if p.is_dir() {
                dirs.push(p);
            } else if matches!(
                p.extension().and_then(|x| x.to_str()),
                Some("mp3" | "mp2" | "mp1")
            ) {
                out.push(p);
            }
        }
    }
    out.sort();
    out
}

/// What must not depend on the path taken.
fn essentials(i: &ProbeInfo) -> String {
    let m = i.mp3.as_ref().unwrap();
    format!(
        "{:?} {:?} {} {} {:?} {:?} {:?} segments={} delay={} padding={}",
        i.duration,
        i.method,
        i.sample_rate,
        i.channels,
        i.frames,
        i.audio_bytes,
        i.bitrate,
        m.segments.len(),
        i.encoder_delay,
        i.encoder_padding
    )
}

fn from_header(i: &ProbeInfo) -> bool {
    i.mp3.as_ref().is_some_and(|m| m.length_from_header)
}

#[test]
fn skip_path_equals_walk_on_every_fixture() {
    let mut proven = Vec::new();
    let mut walked = 0;
    for f in mp3_fixtures() {
        let Ok(walk) = probe::probe_path_with(&f, ProbeOptions::VERIFY) else {
            continue;
        };
        if walk.mp3.is_none() {
            continue;
        }
        assert!(!from_header(&walk), "{}: verify walked", f.display());
        let fast = probe::probe_path_with(&f, ProbeOptions::TRUST_PROVEN).unwrap();
        assert_eq!(essentials(&fast), essentials(&walk), "{}", f.display());
        if from_header(&fast) {
            proven.push(f.file_name().unwrap().to_string_lossy().into_owned());
        } else {
            walked += 1;
        }
    }
    eprintln!("proven by header: {proven:?}; walked: {walked}");
    assert!(proven.len() >= 3, "too few fixtures take the skip path: {proven:?}");
    assert!(walked >= 10);
}
