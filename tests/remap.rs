//! `chapmark remap` against audio with a known edit: a generated, non-repeating episode
//! (`fixtures/remap/make_remap.py`), edited (insert at the start and mid-way, cut mid-way and
//! at the very start, both) and encoded differently on each side (MP3 ↔ AAC, 44.1 ↔ 48 kHz,
//! mono ↔ stereo, ±6 dB). Every remapped start must be within 25 ms (one MP3 frame) of the
//! truth, every chapter in a cut flagged, and an unrelated file refused.
//!
//! The episode is the 10 minutes (about 3 minutes of test time on two cores, most of
//! it generating and encoding the audio); `CHAPMARK_REMAP_SECONDS=180` runs a shorter one
//! while developing.

use assert_cmd::Command;
use chapmark::remap::{self, Edit};
use chapmark::{Chapter, ChapterList, Time};
use serde_json::Value;
use std::path::{Path, PathBuf};
use std::sync::OnceLock;

const TOLERANCE: f64 = 0.025;

struct Generated {
    _dir: tempfile::TempDir,
    truth: Value,
    chapters: PathBuf,
}

/// Generates the audio once for all tests of this file.
fn generated() -> &'static Generated {
    static GEN: OnceLock<Generated> = OnceLock::new();
    GEN.get_or_init(|| {
        let dir = tempfile::tempdir().expect("temp dir");
        let seconds = std::env::var("CHAPMARK_REMAP_SECONDS").unwrap_or_else(|_| "600".into());
        let script = Path::new(env!("CARGO_MANIFEST_DIR")).join("fixtures/remap/make_remap.py");
        let status = std::process::Command::new("python3")
            .arg(&script)
            .arg(dir.path())
            .arg(&seconds)
            .stderr(std::process::Stdio::null())
            .status()
            .expect("running make_remap.py (needs python3, sox, lame, ffmpeg)");
        assert!(status.success(), "make_remap.py failed");
        let text = std::fs::read_to_string(dir.path().join("truth.json")).expect("truth.json");
        let truth: Value = serde_json::from_str(&text).expect("truth.json is JSON");
        let list = old_list(&truth);
        let chapters = dir.path().join("chapters.json");
        let json = chapmark::format::write(
            chapmark::format::Format::Json,
            &list,
            &chapmark::format::WriteOptions::default(),
        );
        std::fs::write(&chapters, json).expect("writing chapters.json");
        Generated {
            _dir: dir,
            truth,
            chapters,
        }
    })
}

fn old_list(truth: &Value) -> ChapterList {
    let starts = truth["chapters"].as_array().expect("chapters");
    ChapterList::new(
        starts
            .iter()
            .enumerate()
            .map(|(i, s)| {
                let ms = (s.as_f64().expect("start") * 1000.0).round() as u64;
                Chapter::new(Time::from_millis(ms), format!("Chapter {}", i + 1))
            })
            .collect(),
    )
}

fn variant(name: &str) -> &'static Value {
    generated().truth["variants"]
        .as_array()
        .and_then(|v| v.iter().find(|x| x["name"] == name))
        .unwrap_or_else(|| panic!("no variant {name}"))
}

/// Remaps one variant through the library and checks every chapter against the truth.
fn check(name: &str) {
    let g = generated();
    let v = variant(name);
    let old = PathBuf::from(v["old"].as_str().expect("old"));
    let new = PathBuf::from(v["new"].as_str().expect("new"));
    let r = remap::remap(&old, &new, &old_list(&g.truth)).expect("remap");
    let truth = v["truth"].as_array().expect("truth");
    assert_eq!(r.chapters.len(), truth.len());
    for (i, (m, t)) in r.chapters.iter().zip(truth).enumerate() {
        let want = t["new"].as_f64().expect("new");
        let got = m
            .new_samples
            .map(|s| s.samples as f64 / f64::from(s.sample_rate))
            .expect("sample position");
        assert!(
            (got - want).abs() <= TOLERANCE,
            "{name}: chapter {} at {}: remapped to {got:.4} s, truth {want:.3} s",
            i + 1,
            m.old
        );
        let cut = t["cut"].as_bool().expect("cut");
        assert_eq!(m.cut, cut, "{name}: chapter {} cut flag", i + 1);
        let flagged = r
            .diagnostics
            .iter()
            .any(|d| d.chapter == Some(i) && d.rule.code() == "remap-cut");
        assert_eq!(flagged, cut, "{name}: chapter {} remap-cut warning", i + 1);
    }
    // Uncertain exactly where the audio round the start was altered.
    let uncertain: Vec<usize> = v["uncertain"]
        .as_array()
        .expect("uncertain")
        .iter()
        .map(|i| i.as_u64().expect("index") as usize)
        .collect();
    for (i, m) in r.chapters.iter().enumerate() {
        let flagged = r
            .diagnostics
            .iter()
            .any(|d| d.chapter == Some(i) && d.rule.code() == "remap-uncertain");
        assert_eq!(
            flagged,
            uncertain.contains(&i),
            "{name}: chapter {} remap-uncertain (confidence {})",
            i + 1,
            m.confidence
        );
    }
    // The edit found is the edit made (positions within a few frames, lengths within 25 ms).
    let made = v["edits"].as_array().expect("edits");
    assert_eq!(r.edits.len(), made.len(), "{name}: edits {:?}", r.edits);
    for (found, e) in r.edits.iter().zip(made) {
        let (a, b) = (e[1].as_f64().expect("at"), e[2].as_f64().expect("len/to"));
        let (at, len) = match *found {
            Edit::Insert { at, len } => {
                assert_eq!(e[0], "insert", "{name}: {found}");
                (at.as_secs_f64(), len.as_secs_f64())
            }
            Edit::Cut { from, to } => {
                assert_eq!(e[0], "cut", "{name}: {found}");
                (from.as_secs_f64(), to.as_secs_f64())
            }
        };
        assert!((at - a).abs() <= 0.1, "{name}: {found} vs {e}");
        assert!((len - b).abs() <= 0.1, "{name}: {found} vs {e}");
    }
}

#[test]
fn insert_at_start_mp3_to_aac_48k_stereo() {
    check("insert_start");
}

#[test]
fn insert_mid_aac_to_mp3_48k_mono_quieter() {
    check("insert_mid");
}

#[test]
fn cut_mid_mp3_48k_to_aac_44k_mono() {
    check("cut_mid");
}

#[test]
fn cut_at_very_start_aac_to_mp3() {
    check("cut_start");
}

#[test]
fn insert_and_cut_together() {
    check("both");
}

#[test]
fn chapter_in_heavily_altered_audio_is_uncertain() {
    check("altered");
}

fn chapmark() -> Command {
    let mut c = Command::cargo_bin("chapmark").expect("binary built");
    c.env("NO_COLOR", "1");
    c
}

#[test]
fn unrelated_file_is_refused_with_exit_1() {
    let g = generated();
    let v = variant("insert_mid");
    let out = chapmark()
        .arg("remap")
        .arg(v["old"].as_str().expect("old"))
        .arg(g.truth["unrelated"].as_str().expect("unrelated"))
        .arg("--chapters")
        .arg(&g.chapters)
        .assert()
        .code(1);
    let err = String::from_utf8_lossy(&out.get_output().stderr).into_owned();
    assert!(err.contains("no confident match"), "{err}");
    assert!(out.get_output().stdout.is_empty());
}

#[test]
fn cli_prints_the_edit_and_writes_into_the_new_mp3() {
    let g = generated();
    let v = variant("insert_mid");
    let dir = tempfile::tempdir().expect("temp dir");
    let new = dir.path().join("new.mp3");
    std::fs::copy(v["new"].as_str().expect("new"), &new).expect("copy");
    let out = chapmark()
        .arg("remap")
        .arg(v["old"].as_str().expect("old"))
        .arg(&new)
        .arg("--chapters")
        .arg(&g.chapters)
        .arg("--write")
        .assert()
        .success();
    let err = String::from_utf8_lossy(&out.get_output().stderr).into_owned();
    assert!(err.contains("inserted 30.0 s at"), "{err}");
    assert!(err.contains("wrote 8 chapters"), "{err}");
    let written = chapmark::read_embedded(&new).expect("read back");
    let truth = v["truth"].as_array().expect("truth");
    for (c, t) in written.chapters.iter().zip(truth) {
        let want = t["new"].as_f64().expect("new");
        assert!(
            (c.start.as_secs_f64() - want).abs() <= TOLERANCE,
            "{c:?} vs {want}"
        );
    }
}

#[test]
fn manual_edits_move_chapters_without_audio() {
    let dir = tempfile::tempdir().expect("temp dir");
    let notes = dir.path().join("notes.txt");
    std::fs::write(&notes, "00:00 Intro\n02:00 Two\n06:05 Gone\n07:00 Three\n").expect("notes");
    let out = chapmark()
        .args(["remap", "--chapters"])
        .arg(&notes)
        .args([
            "--edit",
            "insert 03:00 30s",
            "--edit",
            "cut 06:00-06:20",
            "--shift",
            "+2.5s",
        ])
        .args(["--to", "mp4chaps"])
        .assert()
        .success();
    let text = String::from_utf8_lossy(&out.get_output().stdout).into_owned();
    assert_eq!(
        text.lines().collect::<Vec<_>>(),
        [
            "00:00:02.500 Intro",
            "00:02:02.500 Two",
            "00:06:32.500 Gone",
            "00:07:12.500 Three"
        ]
    );
    let err = String::from_utf8_lossy(&out.get_output().stderr).into_owned();
    assert!(err.contains("remap-cut"), "{err}");
    assert!(err.contains("inserted 30.0 s at 03:00.000"), "{err}");
    assert!(err.contains("removed 20.0 s at 06:00.000"), "{err}");
}

#[test]
fn batch_remaps_a_back_catalogue_from_the_old_folder() {
    let v = variant("insert_mid");
    let g = generated();
    let dir = tempfile::tempdir().expect("temp dir");
    let (old_dir, new_dir) = (dir.path().join("old/show"), dir.path().join("new/show"));
    std::fs::create_dir_all(&old_dir).expect("mkdir");
    std::fs::create_dir_all(&new_dir).expect("mkdir");
    // Old: an M4A with the chapters embedded; new: re-edited and re-encoded to MP3.
    let old = old_dir.join("ep1.m4a");
    std::fs::copy(v["old"].as_str().expect("old"), &old).expect("copy");
    chapmark::write(
        &old,
        &old_list(&g.truth),
        &chapmark::EmbedOptions::default(),
    )
    .expect("embedding the old chapters");
    let new = new_dir.join("ep1.mp3");
    std::fs::copy(v["new"].as_str().expect("new"), &new).expect("copy");
    chapmark()
        .arg("batch")
        .arg(dir.path().join("new"))
        .arg("--remap-from")
        .arg(dir.path().join("old"))
        .assert()
        .success();
    let written = chapmark::read_embedded(&new).expect("read back");
    let truth = v["truth"].as_array().expect("truth");
    assert_eq!(written.chapters.len(), truth.len());
    for (c, t) in written.chapters.iter().zip(truth) {
        let want = t["new"].as_f64().expect("new");
        assert!(
            (c.start.as_secs_f64() - want).abs() <= TOLERANCE,
            "{c:?} vs {want}"
        );
    }
}
