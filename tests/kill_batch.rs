//! Crash safety of `chapmark batch`'s group commit through the real binary.
//!
//! A batch of 50 episodes — MP3s whose tag must grow (insertion at the start, under a
//! journal), MP3s whose tag is rewritten in its own room (same-length patch, under a
//! journal), faststart M4As whose `moov` must grow (block insertion at the start), M4As with
//! `moov` last (grown at the end) and Ogg Vorbis files whose comment outgrows its pages
//! (rebuilt into a temporary sibling and renamed) —
//! is interrupted again and again: at every fault point in turn (`CHAPMARK_FAULT=n`, the
//! first episode of a group to reach it aborts the process) and by SIGKILL after a delay
//! drawn from a fixed seed. After each interruption:
//!
//! - every line of the JSON-lines report is complete, and every episode it calls `written`
//!   holds the finished result (the report is a valid prefix and never claims a write that
//!   recovery could undo);
//! - `chapmark batch --check` (which recovers every file before reading it) succeeds, and
//!   then every file is byte for byte its original or its finished result, with no journal
//!   or temporary file left anywhere;
//! - running the batch again finishes the rest: every file is the finished result, and the
//!   episodes the first report called `written` are now `unchanged`.

#![cfg(unix)]

mod common;

use common::{Rng, fixture};
use std::collections::HashMap;
use std::fs;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

const EPISODES: usize = 50;
const RUNS: usize = 32;
const FAULT_POINTS: u8 = 9;

fn bin() -> PathBuf {
    PathBuf::from(env!("CARGO_BIN_EXE_chapmark"))
}

fn batch(dir: &Path, report: &Path, extra: &[&str]) -> Command {
    let mut c = Command::new(bin());
    c.arg("-q")
        .arg("batch")
        .arg(dir)
        .args(["--jobs", "2", "--report"])
        .arg(report)
        .args(extra)
        .env_remove("CHAPMARK_FAULT")
        .stdout(Stdio::null())
        .stderr(Stdio::null());
    c
}

/// One minute of pink noise as a 64 kbps mono MP3 (no tag), made here rather than committed.
fn noise_mp3(dir: &Path) -> Vec<u8> {
    let out = dir.join("noise.mp3");
    let st = Command::new("ffmpeg")
        .args(["-nostdin", "-v", "error", "-f", "lavfi", "-i"])
        .arg("anoisesrc=d=60:c=pink:r=44100:a=0.2:s=3")
        .args(["-ac", "1", "-c:a", "libmp3lame", "-b:a", "64k"])
        .arg(&out)
        .status()
        .unwrap();
    assert!(st.success());
    fs::read(&out).unwrap()
}

/// The pristine archive: `(file name, bytes)` of every episode, and its sidecar texts.
fn pristine(scratch: &Path) -> Vec<(String, Vec<u8>, String)> {
    let mp3 = noise_mp3(scratch);
    let m4a = fs::read(fixture("episode/pep-think-38min.m4a")).unwrap();
    let short = "0:00 Intro\n0:15 One\n0:30 Two\n0:45 Three\n";
    let long = "0:00 Intro\n5:00 One\n10:00 Two\n";
    // An MP3 already tagged by chapmark (room to spare), to be retitled by a patch.
    let tagged = {
        let dir = scratch.join("tag");
        fs::create_dir_all(&dir).unwrap();
        let audio = dir.join("t.mp3");
        fs::write(&audio, &mp3).unwrap();
        let chapters = dir.join("t.txt");
        fs::write(&chapters, "0:00 Old intro\n0:20 Old one\n0:40 Old two\n").unwrap();
        let st = Command::new(bin())
            .args(["-q", "write"])
            .arg(&audio)
            .arg("-c")
            .arg(&chapters)
            .status()
            .unwrap();
        assert!(st.success());
        fs::read(&audio).unwrap()
    };
    // Every apply strategy: MP3 insert and patch, M4A insert (faststart), M4A growth at the
    // end (`moov` last: `Plan::Extend`, applied outside the group), and a rebuild (Ogg Vorbis
    // whose comment packet outgrows its pages).
    let vorbis = fs::read(fixture("ogg_flac/vorbis.ogg")).unwrap();
    let plain = fs::read(fixture("m4a/plain.m4a")).unwrap();
    let wide = format!(
        "0:00 {}\n0:01 {}\n0:02 Three\n",
        "a".repeat(250),
        "b".repeat(250)
    );
    (1..=EPISODES)
        .map(|i| match i % 5 {
            0 => (format!("ep{i:02}.mp3"), mp3.clone(), short.to_string()),
            1 => (format!("ep{i:02}.mp3"), tagged.clone(), short.to_string()),
            2 => (format!("ep{i:02}.m4a"), m4a.clone(), long.to_string()),
            3 => (format!("ep{i:02}.ogg"), vorbis.clone(), wide.clone()),
            _ => (
                format!("ep{i:02}.m4a"),
                plain.clone(),
                "0:00 A\n0:01 B\n".to_string(),
            ),
        })
        .collect()
}

fn lay_out(dir: &Path, episodes: &[(String, Vec<u8>, String)]) {
    let _ = fs::remove_dir_all(dir);
    fs::create_dir_all(dir).unwrap();
    for (name, bytes, chapters) in episodes {
        fs::write(dir.join(name), bytes).unwrap();
        let stem = name.rsplit_once('.').unwrap().0;
        fs::write(dir.join(format!("{stem}.txt")), chapters).unwrap();
    }
}

/// Every line parses; returns `path -> status`.
fn read_report(report: &Path, ctx: &str) -> HashMap<String, String> {
    let text = fs::read_to_string(report).unwrap_or_default();
    let mut out = HashMap::new();
    for line in text.lines() {
        let v: serde_json::Value = serde_json::from_str(line)
            .unwrap_or_else(|e| panic!("{ctx}: report line {line:?} is not JSON: {e}"));
        let path = v["path"].as_str().unwrap().to_string();
        let name = Path::new(&path).file_name().unwrap();
        out.insert(
            name.to_string_lossy().into_owned(),
            v["status"].as_str().unwrap().to_string(),
        );
    }
    out
}

/// Anything in the folder that is neither an episode nor a sidecar.
fn debris(dir: &Path) -> Vec<String> {
    fs::read_dir(dir)
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .filter(|n| n.starts_with('.') || n.contains("chapmark"))
        .collect()
}

#[test]
fn interrupted_batches_leave_every_file_original_or_finished() {
    let scratch = tempfile::tempdir().unwrap();
    let episodes = pristine(scratch.path());
    // The finished results, from one uninterrupted run.
    let expected_dir = scratch.path().join("expected");
    lay_out(&expected_dir, &episodes);
    let report = scratch.path().join("report.jsonl");
    let t = Instant::now();
    assert!(
        batch(&expected_dir, &report, &[])
            .status()
            .unwrap()
            .success()
    );
    let clean = t.elapsed();
    let done: HashMap<String, Vec<u8>> = episodes
        .iter()
        .map(|(n, ..)| (n.clone(), fs::read(expected_dir.join(n)).unwrap()))
        .collect();
    let statuses = read_report(&report, "clean run");
    assert!(statuses.values().all(|s| s == "written"), "{statuses:?}");
    assert_eq!(statuses.len(), EPISODES);
    assert!(
        debris(&expected_dir).is_empty(),
        "{:?}",
        debris(&expected_dir)
    );

    let dir = scratch.path().join("run");
    let mut rng = Rng(0x6772_6f75_7021);
    let (mut originals, mut finished, mut recovered) = (0, 0, 0);
    for run in 0..RUNS {
        lay_out(&dir, &episodes);
        let _ = fs::remove_file(&report);
        let what = if run % 2 == 0 {
            let point = (run / 2) as u8 % FAULT_POINTS + 1;
            let st = batch(&dir, &report, &[])
                .env("CHAPMARK_FAULT", point.to_string())
                .status()
                .unwrap();
            assert!(!st.success(), "run {run}: fault {point} never reached");
            format!("CHAPMARK_FAULT={point}")
        } else {
            // Up to 1.2× an uninterrupted run, so some kills land after it finished.
            let max = (clean.as_micros() as u64 * 6 / 5).max(1);
            let delay = Duration::from_micros(rng.below(max));
            let mut child = batch(&dir, &report, &[]).spawn().unwrap();
            std::thread::sleep(delay);
            let _ = child.kill();
            let _ = child.wait();
            format!("SIGKILL after {delay:?}")
        };
        let ctx = format!("run {run} ({what})");
        let claimed = read_report(&report, &ctx);
        for (name, status) in &claimed {
            assert_eq!(status, "written", "{ctx}: {name}");
            assert!(
                fs::read(dir.join(name)).unwrap() == done[name],
                "{ctx}: {name} reported written but not finished"
            );
        }
        if !debris(&dir).is_empty() {
            recovered += 1;
        }
        // Recovery only: --check rolls back what the interruption left, writes nothing.
        let check = scratch.path().join("check.jsonl");
        assert!(
            batch(&dir, &check, &["--check"])
                .status()
                .unwrap()
                .success(),
            "{ctx}: --check after the interruption failed"
        );
        assert!(debris(&dir).is_empty(), "{ctx}: {:?}", debris(&dir));
        for (name, start, _) in &episodes {
            let bytes = fs::read(dir.join(name)).unwrap();
            if bytes == *start {
                originals += 1;
            } else if bytes == done[name] {
                finished += 1;
            } else {
                panic!("{ctx}: {name} is neither the original nor the finished result");
            }
        }
        // The rerun finishes the rest.
        assert!(
            batch(&dir, &report, &[]).status().unwrap().success(),
            "{ctx}"
        );
        let second = read_report(&report, &ctx);
        for (name, ..) in &episodes {
            assert!(
                fs::read(dir.join(name)).unwrap() == done[name],
                "{ctx}: {name}"
            );
            if claimed.contains_key(name) {
                assert_eq!(second[name], "unchanged", "{ctx}: {name}");
            }
        }
    }
    eprintln!(
        "{RUNS} interrupted batches of {EPISODES}: {originals} files original, {finished} \
         finished, {recovered} runs left something to recover; clean run {clean:?}"
    );
    assert!(originals > 0 && finished > 0 && recovered > 0);
}
