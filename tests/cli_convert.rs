//! `chapmark convert` end to end: the documented outputs, every format, and the error
//! contract (message names the file and line, exit code, nothing written).

use assert_cmd::Command;
use predicates::prelude::*;
use std::path::Path;

fn chapmark() -> Command {
    let mut c = Command::cargo_bin("chapmark").expect("binary built");
    c.current_dir(env!("CARGO_MANIFEST_DIR"))
        .env("NO_COLOR", "1");
    c
}

const PEP: &str = "fixtures/notes/pep-think-episode.txt";

#[test]
fn pep_think_sample_prints_three_chapters_with_urls() {
    let out = chapmark().args(["convert", PEP]).assert().success();
    let v: serde_json::Value = serde_json::from_slice(&out.get_output().stdout).unwrap();
    assert_eq!(v["version"], "1.2.0");
    let ch = v["chapters"].as_array().unwrap();
    let got: Vec<(f64, &str, &str)> = ch
        .iter()
        .map(|c| {
            (
                c["startTime"].as_f64().unwrap(),
                c["title"].as_str().unwrap(),
                c["url"].as_str().unwrap(),
            )
        })
        .collect();
    assert_eq!(
        got,
        vec![
            (
                100.0,
                "Physical AIの「実装ギャップ」──研究と現場のあいだにある深い溝",
                "https://www.a16z.news/p/the-physical-ai-deployment-gap"
            ),
            (
                779.0,
                "レアアース輸出規制と台湾抑止──中国の「経済的シグナリング」と日本の課題",
                "https://www.csis.org/analysis/chinas-rare-earth-campaign-against-japan"
            ),
            (
                1505.0,
                "AI競争という神話──非対称的な「AI二極化」と日本の立ち位置",
                "https://www.foreignaffairs.com/united-states/myth-ai-race"
            ),
        ]
    );
}

#[test]
fn every_target_format_reads_back_through_detection() {
    let dir = tempfile::tempdir().unwrap();
    for to in [
        "json",
        "psc",
        "vtt",
        "ffmetadata",
        "mp4chaps",
        "cue",
        "text",
    ] {
        let out = dir.path().join(format!("pep.{to}"));
        chapmark()
            .args(["convert", PEP, "--to", to, "--duration", "38:00", "-o"])
            .arg(&out)
            .assert()
            .success()
            .stdout("");
        // Converting the output back to JSON (format detected from content) keeps the list.
        let back = chapmark().args(["convert"]).arg(&out).assert().success();
        let v: serde_json::Value = serde_json::from_slice(&back.get_output().stdout).unwrap();
        let starts: Vec<f64> = v["chapters"]
            .as_array()
            .unwrap()
            .iter()
            .map(|c| c["startTime"].as_f64().unwrap())
            .collect();
        assert_eq!(starts, vec![100.0, 779.0, 1505.0], "via {to}");
        let urls = v["chapters"]
            .as_array()
            .unwrap()
            .iter()
            .filter(|c| c["url"].is_string())
            .count();
        assert_eq!(urls, 3, "urls lost via {to}");
    }
}

#[test]
fn stdin_and_forced_format() {
    chapmark()
        .args(["convert", "-", "--to", "mp4chaps"])
        .write_stdin("0:00 Intro\n01:40 Topic https://example.com/a\n")
        .assert()
        .success()
        .stdout("00:00:00.000 Intro\n00:01:40.000 Topic <https://example.com/a>\n");
    // Forcing JSON on text is a well-formedness error naming the input.
    chapmark()
        .args(["convert", "-", "--from", "json"])
        .write_stdin("0:00 Intro\n")
        .assert()
        .code(3)
        .stderr(predicate::str::contains("<stdin>"));
}

#[test]
fn bad_timestamp_names_file_and_line_and_writes_nothing() {
    let dir = tempfile::tempdir().unwrap();
    let notes = dir.path().join("notes.txt");
    std::fs::write(&notes, "0:00 Intro\n12:75 Broken\n20:00 Fine\n").unwrap();
    let out = dir.path().join("out.json");
    chapmark()
        .arg("convert")
        .arg(&notes)
        .arg("-o")
        .arg(&out)
        .assert()
        .code(1)
        .stderr(predicate::str::contains("12:75").and(predicate::str::contains("line 2")));
    assert!(!out.exists(), "nothing may be written on error");
}

#[test]
fn unreadable_inputs_exit_3_and_empty_notes_exit_1() {
    let dir = tempfile::tempdir().unwrap();
    let empty = dir.path().join("empty.txt");
    std::fs::write(&empty, "").unwrap();
    let binary = dir.path().join("bin.txt");
    std::fs::write(&binary, [0u8, 159, 146, 150, 0, 1, 2, 3, 0, 0, 255, 254, 0]).unwrap();
    let prose = dir.path().join("prose.txt");
    std::fs::write(
        &prose,
        "We recorded this at 7:30 in the evening.\nThanks!\n",
    )
    .unwrap();

    for (path, code, needle) in [
        (empty.as_path(), 3, "empty"),
        (binary.as_path(), 3, "bin.txt"),
        (dir.path(), 3, "directory"),
        (Path::new("does/not/exist.txt"), 3, "exist.txt"),
        (prose.as_path(), 1, "no chapters"),
    ] {
        chapmark()
            .arg("convert")
            .arg(path)
            .assert()
            .code(code)
            .stdout("")
            .stderr(predicate::str::contains(needle));
    }
}

#[test]
fn usage_errors_exit_2() {
    chapmark().args(["convert"]).assert().code(2);
    chapmark()
        .args(["convert", PEP, "--to", "docx"])
        .assert()
        .code(2);
    chapmark()
        .args(["convert", PEP, "--duration", "12:75"])
        .assert()
        .code(2)
        .stderr(predicate::str::contains("--duration"));
}
