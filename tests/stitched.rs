//! Stitched MP3s (dynamic ad insertion: separately encoded parts concatenated byte for byte)
//! against fixtures/audio/stitched/truth.json, written by make.sh from how each file was made
//! and what ffmpeg decodes of it: the probe's segments match the parts, its length matches
//! ffmpeg's decoded length, and `check` warns at rate/channel changes. Writing chapters at the
//! segment boundaries is tested with the other write interop tests (tests/cli_write.rs).

mod common;

use assert_cmd::Command;
use chapmark::probe::{self, ProbeInfo, TIME_BASE};
use common::{fixture, fixture_text};
use serde_json::Value;
use std::fs;
use std::path::PathBuf;

fn dir() -> PathBuf {
    fixture("audio/stitched")
}

fn truth() -> Vec<Value> {
    let text = fixture_text("audio/stitched/truth.json");
    let v: Value = serde_json::from_str(&text).expect("truth.json parses");
    v["fixtures"].as_array().expect("fixtures").clone()
}

fn chapmark() -> Command {
    let mut c = Command::cargo_bin("chapmark").expect("binary built");
    c.env("NO_COLOR", "1")
        .env_remove("CHAPMARK_FAULT")
        .env_remove("CHAPMARK_LOG");
    c
}

fn u(v: &Value) -> u64 {
    v.as_u64().unwrap_or_else(|| panic!("not a number: {v}"))
}

/// The probe's total length in ticks of 1/TIME_BASE s.
fn ticks(info: &ProbeInfo) -> u64 {
    let d = info.duration;
    assert_eq!(TIME_BASE % d.sample_rate, 0, "{d:?}");
    d.samples * u64::from(TIME_BASE / d.sample_rate)
}

fn samples_per_frame(rate: u64) -> u64 {
    if rate >= 32_000 { 1152 } else { 576 }
}

#[test]
fn segments_match_how_the_files_were_made() {
    for f in truth() {
        let name = f["file"].as_str().unwrap();
        let info = probe::probe_path(&dir().join(name)).unwrap();
        let segs = &info.mp3.as_ref().expect("mp3 details").segments;
        let want = f["segments"].as_array().unwrap();
        assert_eq!(segs.len(), want.len(), "{name}: segment count");
        for (i, (got, w)) in segs.iter().zip(want).enumerate() {
            let at = format!("{name} segment {}", i + 1);
            assert_eq!(got.first_frame, u(&w["first_frame"]), "{at}: first frame");
            if i > 0 {
                // The first part's tag is the file's tag; later parts start at their own.
                assert_eq!(got.offset, u(&w["offset"]), "{at}: offset");
            }
            assert_eq!(
                u64::from(got.sample_rate),
                u(&w["sample_rate"]),
                "{at}: rate"
            );
            assert_eq!(u64::from(got.channels), u(&w["channels"]), "{at}: channels");
            assert_eq!(got.frames, u(&w["frames"]), "{at}: frames");
            let kind = got
                .vbr_header
                .map(|k| serde_json::to_value(k).unwrap())
                .unwrap_or(Value::Null);
            assert_eq!(kind, w["vbr_header"], "{at}: vbr header");
            assert_eq!(
                got.encoder_delay.map(Value::from).unwrap_or(Value::Null),
                w["delay"],
                "{at}: delay"
            );
            assert_eq!(
                got.encoder_padding.map(Value::from).unwrap_or(Value::Null),
                w["padding"],
                "{at}: padding"
            );
        }
        // Segments tile the playback: each starts where the previous one ends.
        for pair in segs.windows(2) {
            let end = pair[0].start_ms + pair[0].duration_ms;
            assert!(pair[1].start_ms.abs_diff(end) <= 1, "{name}: {pair:?}");
        }
    }
}

#[test]
fn length_is_within_one_frame_of_ffmpeg() {
    for f in truth() {
        let name = f["file"].as_str().unwrap();
        let info = probe::probe_path(&dir().join(name)).unwrap();
        let got = ticks(&info);
        let want = u(&f["ffmpeg_ticks"]);
        let rates: Vec<u64> = f["segments"]
            .as_array()
            .unwrap()
            .iter()
            .map(|s| u(&s["sample_rate"]))
            .collect();
        // One frame of the shortest kind in the file, in ticks.
        let frame = rates
            .iter()
            .map(|&r| samples_per_frame(r) * (u64::from(TIME_BASE) / r))
            .min()
            .unwrap();
        if rates.iter().all(|&r| r == rates[0]) {
            // One rate: ffmpeg's frame timing has no quirk to allow for; exact.
            assert_eq!(got, want, "{name}: {got} ticks, ffmpeg {want}");
        } else {
            assert!(
                got.abs_diff(want) <= frame,
                "{name}: {got} ticks, ffmpeg {want} (one frame = {frame})"
            );
        }
        // The ffmpeg command line's PCM output (resampled to the first part's rate) agrees too.
        let cli_rate = u(&f["ffmpeg_cli_rate"]);
        let cli = u(&f["ffmpeg_cli_samples"]) * (u64::from(TIME_BASE) / cli_rate);
        assert!(
            got.abs_diff(cli) <= frame,
            "{name}: {got} ticks, ffmpeg cli {cli} (one frame = {frame})"
        );
    }
}

#[test]
fn probe_json_lists_segments_and_the_time_base() {
    let out = chapmark()
        .args(["probe", "--json"])
        .arg(dir().join("mixed-rate.mp3"))
        .arg(dir().join("same-rate.mp3"))
        .assert()
        .success();
    let lines: Vec<Value> = String::from_utf8(out.get_output().stdout.clone())
        .unwrap()
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    let mixed = &lines[0];
    assert_eq!(mixed["time_base"], u64::from(TIME_BASE));
    let secs = mixed["duration"].as_f64().unwrap();
    assert!((secs - u(&mixed["samples"]) as f64 / f64::from(TIME_BASE)).abs() < 1e-9);
    let segs = mixed["mp3"]["segments"].as_array().unwrap();
    assert_eq!(
        segs.iter()
            .map(|s| u(&s["sample_rate"]))
            .collect::<Vec<_>>(),
        [48_000, 44_100, 22_050]
    );
    for key in [
        "offset",
        "end",
        "channels",
        "frames",
        "encoder_delay",
        "encoder_padding",
        "samples",
        "start_ms",
        "duration_ms",
    ] {
        assert!(segs[0].get(key).is_some(), "segment key {key}");
    }
    // One rate: `samples` is at that rate, no separate time base.
    assert!(lines[1].get("time_base").is_none());
    assert_eq!(lines[1]["mp3"]["segments"].as_array().unwrap().len(), 3);
}

#[test]
fn check_warns_at_each_rate_or_channel_change() {
    let tmp = tempfile::tempdir().unwrap();
    for (name, changes) in [
        ("mixed-rate.mp3", 2),
        ("mono-stereo.mp3", 2),
        ("same-rate.mp3", 0),
    ] {
        let audio = dir().join(name);
        let info = probe::probe_path(&audio).unwrap();
        // The warnings do not depend on the chapters.
        let chapters = tmp.path().join("chapters.txt");
        fs::write(&chapters, "00:00 Episode\n").unwrap();
        let out = chapmark()
            .args(["check", "--format", "json", "--chapters"])
            .arg(&chapters)
            .arg(&audio)
            .output()
            .unwrap();
        let report: Value = serde_json::from_slice(&out.stdout).unwrap();
        let mixed: Vec<&Value> = report["diagnostics"]
            .as_array()
            .unwrap()
            .iter()
            .filter(|d| d["code"] == "mixed-stream")
            .collect();
        assert_eq!(mixed.len(), changes, "{name}: {report}");
        for d in &mixed {
            assert_eq!(d["severity"], "warning");
        }
        // Each warning names a segment boundary (its time and byte offset).
        let segs = &info.mp3.as_ref().unwrap().segments;
        for (d, seg) in mixed.iter().zip(segs.iter().skip(1)) {
            let msg = d["message"].as_str().unwrap();
            let ms = seg.start_ms;
            assert!(msg.contains(&format!("(byte {})", seg.offset)), "{msg}");
            let t = format!("{:02}:{:02}.{:03}", ms / 60_000, ms / 1000 % 60, ms % 1000);
            assert!(msg.starts_with(&format!("at {t}")), "{msg} / {t}");
        }
    }
}
