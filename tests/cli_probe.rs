//! `chapmark probe` end to end: the documented JSON keys carry the ground-truth sample counts,
//! and every broken input exits 3 with a message naming the file, never a panic.

use assert_cmd::Command;
use serde_json::Value;

fn chapmark() -> Command {
    let mut c = Command::cargo_bin("chapmark").expect("binary built");
    c.current_dir(env!("CARGO_MANIFEST_DIR"))
        .env("NO_COLOR", "1");
    c
}

fn truth() -> Value {
    let text = std::fs::read_to_string(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/fixtures/audio/truth.json"
    ))
    .unwrap();
    serde_json::from_str(&text).unwrap()
}

#[test]
fn json_lines_match_ground_truth() {
    let truth = truth();
    let fixtures = truth["fixtures"].as_array().unwrap();
    let mut cmd = chapmark();
    cmd.args(["probe", "--json"]);
    for f in fixtures {
        cmd.arg(format!("fixtures/audio/{}", f["file"].as_str().unwrap()));
    }
    let out = cmd.assert().success();
    let stdout = String::from_utf8(out.get_output().stdout.clone()).unwrap();
    let lines: Vec<Value> = stdout
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    assert_eq!(lines.len(), fixtures.len());
    for (got, want) in lines.iter().zip(fixtures) {
        let name = want["file"].as_str().unwrap();
        assert!(got["path"].as_str().unwrap().ends_with(name));
        assert_eq!(got["format"], want["container"], "{name}");
        assert_eq!(got["samples"], want["samples"], "{name}");
        assert_eq!(got["method"], want["method"], "{name}");
        let rate = got["sample_rate"].as_f64().unwrap();
        let secs = got["duration"].as_f64().unwrap();
        let samples = want["samples"].as_f64().unwrap();
        assert!((secs - samples / rate).abs() < 1e-9, "{name}: {secs}");
    }
}

#[test]
fn broken_inputs_exit_3_and_name_the_file() {
    let truth = truth();
    for e in truth["errors"].as_array().unwrap() {
        let name = e["file"].as_str().unwrap();
        let out = chapmark()
            .args(["probe", &format!("fixtures/audio/{name}")])
            .assert()
            .code(3);
        let stderr = String::from_utf8_lossy(&out.get_output().stderr).into_owned();
        assert!(stderr.contains(name), "{name}: {stderr}");
        assert!(!stderr.contains("panicked"), "{name}: {stderr}");
    }
}

#[test]
fn one_bad_file_does_not_hide_the_good_ones() {
    let out = chapmark()
        .args([
            "probe",
            "--json",
            "fixtures/audio/random.mp3",
            "fixtures/episode/pep-think-38min.mp3",
        ])
        .assert()
        .code(3);
    let stdout = String::from_utf8(out.get_output().stdout.clone()).unwrap();
    let v: Value = serde_json::from_str(stdout.trim()).unwrap();
    assert_eq!(v["samples"], 18_240_000);
    assert_eq!(v["duration"], 2280.0);
}

#[test]
fn human_output_shows_length_and_method() {
    chapmark()
        .args(["probe", "fixtures/episode/pep-think-38min.m4a"])
        .assert()
        .success()
        .stdout(predicates::str::contains(
            "38:00.000 (18240000 samples, from elst)",
        ));
}
