//! What outside readers make of the files chapmark writes (issue 11, items 1–7), through the
//! binary and checked with the readers themselves: ffprobe, music-metadata and mp4box.js
//! (Node, installed under tests/node by .ci/run), plus the rule codes that warn where a
//! reader would lose something.

mod common;

use common::{ffprobe_chapters, fixture};

use assert_cmd::Command;
use serde_json::Value;
use std::fs;
use std::path::{Path, PathBuf};
use std::process::Output;

fn chapmark() -> Command {
    let mut c = Command::cargo_bin("chapmark").unwrap();
    c.env_remove("CHAPMARK_FAULT").env_remove("CHAPMARK_LOG");
    c
}

fn run(c: &mut Command) -> (Output, String, String) {
    let o = c.output().unwrap();
    let out = String::from_utf8_lossy(&o.stdout).into_owned();
    let err = String::from_utf8_lossy(&o.stderr).into_owned();
    (o, out, err)
}

fn codes(report: &Value) -> Vec<String> {
    report["diagnostics"]
        .as_array()
        .map(|a| {
            a.iter()
                .filter_map(|d| d["code"].as_str().map(str::to_string))
                .collect()
        })
        .unwrap_or_default()
}

/// The one diagnostic with `code` in a report (the short fixtures add length warnings).
fn only<'a>(report: &'a Value, code: &str) -> &'a Value {
    let all: Vec<&Value> = report["diagnostics"]
        .as_array()
        .into_iter()
        .flatten()
        .filter(|d| d["code"] == code)
        .collect();
    assert_eq!(all.len(), 1, "{code}: {report}");
    all[0]
}

fn check_json(args: &[&dyn AsRef<std::ffi::OsStr>]) -> (i32, Value) {
    let mut c = chapmark();
    c.args(["check", "--format", "json"]);
    for a in args {
        c.arg(a.as_ref());
    }
    let (o, out, err) = run(&mut c);
    let v = serde_json::from_str(&out).unwrap_or_else(|e| panic!("{e}: {out}{err}"));
    (o.status.code().unwrap_or(-1), v)
}

fn ffmpeg(args: &[&str], out: &Path) {
    let st = std::process::Command::new("ffmpeg")
        .args(["-nostdin", "-v", "error", "-y"])
        .args(args)
        .arg(out)
        .status()
        .unwrap();
    assert!(st.success());
}

const UTM_URL: &str = "https://www.csis.org/analysis/chinas-rare-earth-campaign-against-japan?utm_source=podcast&utm_medium=shownotes&utm_campaign=episode-42&utm_content=chapter-2";

/// The reproduction: a 60 s MP3 that ffmpeg tagged ID3v2.4, and notes whose second
/// chapter has a URL of 158 bytes.
fn v24_episode(dir: &Path) -> (PathBuf, PathBuf) {
    let audio = dir.join("in.mp3");
    ffmpeg(
        &[
            "-f",
            "lavfi",
            "-i",
            "sine=d=60",
            "-c:a",
            "libmp3lame",
            "-id3v2_version",
            "4",
            "-metadata",
            "title=x",
        ],
        &audio,
    );
    assert_eq!(fs::read(&audio).unwrap()[3], 4, "ffmpeg wrote id3v2.4");
    let notes = dir.join("n.txt");
    fs::write(
        &notes,
        format!("0:00 Intro\n0:20 Main {UTM_URL}\n0:40 End\n"),
    )
    .unwrap();
    (audio, notes)
}

#[test]
fn no_chapter_is_lost_in_ffmpeg_by_default() {
    require_tools!("ffmpeg", "ffprobe");
    let dir = tempfile::tempdir().unwrap();
    let (audio, notes) = v24_episode(dir.path());
    // Checking first says nothing: the default write does not lose the chapter.
    let (code, report) = check_json(&[&audio, &notes]);
    assert_eq!(code, 0);
    assert!(!codes(&report).contains(&"ffmpeg-drops-chapter".to_string()));
    let (o, _, err) = run(chapmark().arg("write").arg(&audio).arg(&notes));
    assert!(o.status.success(), "{err}");
    assert!(!err.contains("ffmpeg-drops-chapter"), "{err}");
    let got = ffprobe_chapters(&audio);
    assert_eq!(
        got,
        vec![
            (0, 20_000, "Intro".to_string()),
            (20_000, 40_000, "Main".to_string()),
            (40_000, 60_000, "End".to_string()),
        ]
    );
    // Written as v2.3, with ffmpeg's own frames converted, not dropped.
    assert_eq!(fs::read(&audio).unwrap()[3], 3);
    let o = std::process::Command::new("ffprobe")
        .args([
            "-v",
            "error",
            "-show_entries",
            "format_tags=title",
            "-of",
            "csv=p=0",
        ])
        .arg(&audio)
        .output()
        .unwrap();
    assert_eq!(String::from_utf8_lossy(&o.stdout).trim(), "x");
    let (_, shown, _) = run(chapmark().arg("show").arg(&audio));
    assert!(shown.contains(UTM_URL), "{shown}");
}

#[test]
fn an_explicit_id3v2_4_write_is_a_rule_every_output_sees() {
    require_tools!("ffmpeg", "ffprobe");
    let dir = tempfile::tempdir().unwrap();
    let (audio, notes) = v24_episode(dir.path());
    let before = fs::read(&audio).unwrap();
    // --deny-warnings and strict refuse it; the file stays as it was.
    for extra in [&["--deny-warnings"][..], &["--profile", "strict"][..]] {
        let (o, _, err) = run(chapmark()
            .arg("write")
            .arg(&audio)
            .arg(&notes)
            .args(["--id3v2", "4"])
            .args(extra));
        assert_eq!(o.status.code(), Some(1), "{extra:?}: {err}");
        assert!(
            err.contains("[ffmpeg-drops-chapter] chapter 2 (line 2)"),
            "{err}"
        );
        assert_eq!(fs::read(&audio).unwrap(), before);
    }
    let (o, _, err) = run(chapmark()
        .arg("write")
        .arg(&audio)
        .arg(&notes)
        .args(["--id3v2", "4"]));
    assert!(o.status.success());
    assert!(err.contains("warning[ffmpeg-drops-chapter]"), "{err}");
    // The rule tells the truth: ffprobe lists two of the three chapters.
    let got: Vec<String> = ffprobe_chapters(&audio).into_iter().map(|c| c.2).collect();
    assert_eq!(got, ["Intro", "End"]);
    assert_eq!(fs::read(&audio).unwrap()[3], 4);

    // check of the file as it is, in every format.
    let (code, report) = check_json(&[&audio]);
    assert_eq!(code, 0);
    assert_eq!(codes(&report), ["ffmpeg-drops-chapter"]);
    assert_eq!(report["warnings"], 1);
    assert_eq!(report["diagnostics"][0]["chapter"], 2);
    let (code, _) = check_json(&[&audio, &"--deny-warnings"]);
    assert_eq!(code, 1);
    let (code, report) = check_json(&[&audio, &"--profile", &"strict"]);
    assert_eq!(code, 1);
    assert_eq!(report["errors"], 1);
    for (format, want) in [
        ("github", "::warning file="),
        ("junit", "ffmpeg-drops-chapter"),
        ("text", "warning[ffmpeg-drops-chapter]"),
    ] {
        let (_, out, _) = run(chapmark().args(["check", "--format", format]).arg(&audio));
        assert!(
            out.contains(want) && out.contains("ffmpeg"),
            "{format}: {out}"
        );
    }
    // Quiet does not hide it from the report.
    let (_, out, _) = run(chapmark().args(["-q", "check"]).arg(&audio));
    assert!(out.contains("ffmpeg-drops-chapter"), "{out}");
}

/// An MP3 whose ID3v2.4 tag has an encrypted frame: it cannot be converted to v2.3, so even
/// the default write keeps v2.4, and `batch` must report the chapter ffmpeg will drop.
#[test]
fn batch_reports_the_rule_when_the_tag_must_stay_v2_4() {
    require_tools!("ffmpeg");
    let dir = tempfile::tempdir().unwrap();
    let (plain, notes) = v24_episode(dir.path());
    let data = fs::read(&plain).unwrap();
    let size = |b: &[u8]| {
        b.iter()
            .fold(0usize, |acc, &x| (acc << 7) | usize::from(x & 0x7f))
    };
    let audio_start = 10 + size(&data[6..10]);
    let mut frame = b"PRIV".to_vec();
    let body = b"\x80example.com\0secret";
    frame.extend_from_slice(&[0, 0, 0, body.len() as u8, 0, 0x04]);
    frame.extend_from_slice(body);
    frame.extend(std::iter::repeat_n(0u8, 64));
    let mut tag = b"ID3\x04\x00\x00".to_vec();
    let n = frame.len();
    tag.extend_from_slice(&[
        (n >> 21) as u8 & 0x7f,
        (n >> 14) as u8 & 0x7f,
        (n >> 7) as u8 & 0x7f,
        n as u8 & 0x7f,
    ]);
    tag.extend_from_slice(&frame);
    tag.extend_from_slice(&data[audio_start..]);
    let eps = dir.path().join("eps");
    fs::create_dir(&eps).unwrap();
    fs::write(eps.join("ep1.mp3"), &tag).unwrap();
    fs::copy(&notes, eps.join("ep1.txt")).unwrap();
    let report = dir.path().join("r.jsonl");
    let (o, _, err) = run(chapmark()
        .arg("batch")
        .arg(&eps)
        .arg("--report")
        .arg(&report)
        .arg("--deny-warnings"));
    assert_eq!(o.status.code(), Some(1), "{err}");
    let rec: Value = serde_json::from_str(fs::read_to_string(&report).unwrap().trim()).unwrap();
    assert_eq!(rec["status"], "invalid");
    assert_eq!(codes(&rec), ["ffmpeg-drops-chapter"], "{rec}");
    let (o, _, _) = run(chapmark()
        .arg("batch")
        .arg(&eps)
        .arg("--report")
        .arg(&report));
    assert!(o.status.success());
    let rec: Value = serde_json::from_str(fs::read_to_string(&report).unwrap().trim()).unwrap();
    assert_eq!(rec["status"], "written");
    assert_eq!(codes(&rec), ["ffmpeg-drops-chapter"]);
    assert_eq!(fs::read(eps.join("ep1.mp3")).unwrap()[3], 4);
}

/// `n` chapters a second apart.
fn many(dir: &Path, n: usize) -> PathBuf {
    let p = dir.join(format!("{n}.txt"));
    let text: String = (0..n)
        .map(|i| format!("{}:{:02} Chapter {}\n", i / 60, i % 60, i + 1))
        .collect();
    fs::write(&p, text).unwrap();
    p
}

#[test]
fn a_chapter_track_alone_takes_more_than_255_chapters() {
    require_tools!("ffmpeg", "ffprobe");
    let dir = tempfile::tempdir().unwrap();
    let audio = dir.path().join("long.m4a");
    ffmpeg(
        &[
            "-f",
            "lavfi",
            "-i",
            "sine=d=300",
            "-c:a",
            "aac",
            "-b:a",
            "32k",
        ],
        &audio,
    );
    let notes = many(dir.path(), 256);
    let (o, _, err) = run(chapmark().arg("write").arg(&audio).arg(&notes));
    assert_eq!(o.status.code(), Some(1));
    assert!(
        err.contains("too-many-for-container") && err.contains("chpl"),
        "{err}"
    );
    let (o, _, err) = run(chapmark()
        .arg("write")
        .arg(&audio)
        .arg(&notes)
        .args(["--mp4-chapters", "quicktime"]));
    assert!(o.status.success(), "{err}");
    assert!(!err.contains("too-many"), "{err}");
    let got = ffprobe_chapters(&audio);
    assert_eq!(got.len(), 256);
    assert_eq!(got[255].2, "Chapter 256");
    // Nero alone still has its limit.
    let (o, _, err) = run(chapmark()
        .arg("write")
        .arg(&audio)
        .arg(&notes)
        .args(["--mp4-chapters", "nero"]));
    assert_eq!(o.status.code(), Some(1), "{err}");
}

#[test]
fn an_idn_url_warns_for_m4a_as_for_mp3() {
    let dir = tempfile::tempdir().unwrap();
    let notes = dir.path().join("n.txt");
    fs::write(
        &notes,
        "0:00 Intro\n0:01 Shop https://bücher.example/straße\n",
    )
    .unwrap();
    for (name, fixture_path) in [
        ("ep.m4a", "audio/aac-faststart.m4a"),
        ("ep.mp3", "audio/lame-cbr128.mp3"),
    ] {
        let audio = dir.path().join(name);
        fs::copy(fixture(fixture_path), &audio).unwrap();
        let (code, report) = check_json(&[&audio, &notes]);
        assert_eq!(code, 0, "{report}");
        let d = only(&report, "url-not-ascii");
        let msg = d["message"].as_str().unwrap();
        assert!(msg.contains("xn--bcher-kva.example"), "{msg}");
        let (o, _, err) = run(chapmark().arg("write").arg(&audio).arg(&notes));
        assert!(o.status.success());
        assert!(err.contains("warning[url-not-ascii]"), "{name}: {err}");
        let (_, shown, _) = run(chapmark().arg("show").arg(&audio));
        assert!(
            shown.contains("https://xn--bcher-kva.example/stra%C3%9Fe"),
            "{shown}"
        );
    }
}

#[test]
fn an_extension_that_names_another_container_is_a_warning() {
    let dir = tempfile::tempdir().unwrap();
    let notes = dir.path().join("ep.txt");
    fs::write(&notes, "0:00 Intro\n0:01 Main\n").unwrap();
    let audio = dir.path().join("ep.mp3");
    fs::copy(fixture("audio/m4a-named.mp3"), &audio).unwrap();
    let (code, report) = check_json(&[&audio, &notes]);
    assert_eq!(code, 0);
    let d = only(&report, "extension-mismatch");
    let msg = d["message"].as_str().unwrap();
    assert!(msg.contains(".mp3") && msg.contains("mp4"), "{msg}");
    assert_eq!(d["hint"], "rename it to .m4a");
    let (o, _, err) = run(chapmark().arg("write").arg(&audio).arg(&notes));
    assert!(o.status.success());
    assert!(err.contains("warning[extension-mismatch]"), "{err}");
    let r = dir.path().join("r.jsonl");
    let (o, _, _) = run(chapmark()
        .args(["batch", "--check", "--report"])
        .arg(&r)
        .arg(dir.path().join("ep.mp3")));
    assert!(o.status.success());
    let rec: Value = serde_json::from_str(fs::read_to_string(&r).unwrap().trim()).unwrap();
    only(&rec, "extension-mismatch");
    // The other way round, and a right name says nothing.
    let mp3 = dir.path().join("x.m4a");
    fs::copy(fixture("audio/mp3-named.m4a"), &mp3).unwrap();
    let (_, report) = check_json(&[&mp3, &notes]);
    assert_eq!(
        only(&report, "extension-mismatch")["hint"],
        "rename it to .mp3"
    );
    let right = dir.path().join("x.mp3");
    fs::rename(&mp3, &right).unwrap();
    let (_, report) = check_json(&[&right, &notes]);
    assert!(
        !codes(&report).contains(&"extension-mismatch".to_string()),
        "{report}"
    );
}

/// `node tests/node/SCRIPT FILE`, parsed.
fn node(script: &str, file: &Path) -> Value {
    let o = std::process::Command::new("node")
        .arg(
            Path::new(env!("CARGO_MANIFEST_DIR"))
                .join("tests/node")
                .join(script),
        )
        .arg(file)
        .output()
        .unwrap();
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    serde_json::from_slice(&o.stdout).unwrap()
}

const SEED_NOTES: &str = "check/pep-think.txt";

#[test]
fn a_first_chapter_after_zero_shows_no_blank_chapter() {
    require_tools!("ffprobe", "mp4box");
    let dir = tempfile::tempdir().unwrap();
    let audio = dir.path().join("ep.m4a");
    fs::copy(fixture("episode/pep-think-38min.m4a"), &audio).unwrap();
    let (o, _, err) = run(chapmark()
        .arg("write")
        .arg(&audio)
        .arg("-c")
        .arg(fixture(SEED_NOTES)));
    assert!(o.status.success(), "{err}");
    let starts = [100_000u64, 779_000, 1_505_000];
    let ends = [779_000u64, 1_505_000, 2_280_000];

    let ff = ffprobe_chapters(&audio);
    assert_eq!(ff.len(), 3, "{ff:?}");
    for (i, (s, e, title)) in ff.iter().enumerate() {
        assert_eq!((*s, *e), (starts[i], ends[i]), "ffprobe chapter {i}");
        assert!(!title.is_empty(), "ffprobe lists a blank chapter: {ff:?}");
    }

    let v = node("mp4box.mjs", &audio);
    assert_eq!(v["ok"], true, "{v}");
    let text = v["tracks"]
        .as_array()
        .unwrap()
        .iter()
        .find(|t| t["handler"] == "text")
        .expect("a chapter track");
    // The media keeps an untitled filler from 0:00 (readers that ignore edit lists, like
    // music-metadata, still get every time right); the edit list never presents it.
    let samples = text["samples"].as_array().unwrap();
    let presented: Vec<&Value> = samples.iter().filter(|s| s["presented"] == true).collect();
    assert_eq!(presented.len(), 3, "{text}");
    for (i, s) in presented.iter().enumerate() {
        assert!(!s["title"].as_str().unwrap().is_empty(), "{text}");
        assert_eq!(s["startMs"].as_f64().unwrap() as u64, starts[i], "{text}");
        assert_eq!(s["mediaMs"].as_f64().unwrap() as u64, starts[i], "{text}");
    }
    assert_eq!(text["edits"][0]["mediaTime"], -1, "{text}");
    assert_eq!(text["edits"][0]["duration"], 100_000, "{text}");
    assert_eq!(text["edits"][1]["mediaTime"], 100_000, "{text}");
    // Our own reader agrees, and a chapter at 0:00 needs no edit.
    let (_, shown, _) = run(chapmark().args(["show", "--to", "mp4chaps"]).arg(&audio));
    assert!(shown.starts_with("00:01:40.000 Physical AI"), "{shown}");
    assert_eq!(shown.lines().count(), 3);
    let (o, _, _) = run(chapmark()
        .arg("write")
        .arg(&audio)
        .arg("-c")
        .arg(fixture(SEED_NOTES))
        .args(["--intro", "Intro"]));
    assert!(o.status.success());
    let v = node("mp4box.mjs", &audio);
    let text = v["tracks"]
        .as_array()
        .unwrap()
        .iter()
        .find(|t| t["handler"] == "text")
        .unwrap()
        .clone();
    assert_eq!(text["edits"].as_array().unwrap().len(), 1, "{text}");
    assert_eq!(text["samples"][0]["title"], "Intro");
    assert_eq!(ffprobe_chapters(&audio).len(), 4);
}

#[test]
fn music_metadata_reads_chapters_and_cover_of_what_we_write() {
    require_tools!("music-metadata");
    let dir = tempfile::tempdir().unwrap();
    let notes = dir.path().join("n.txt");
    fs::write(
        &notes,
        "0:00 Intro\n0:05 Main https://example.com/x\n0:12 Outro — 終わり\n",
    )
    .unwrap();
    // Faststart (chapter samples inside the one mdat) and moov-at-end (their own mdat after
    // moov), each with cover art.
    for name in ["cover-faststart.m4a", "cover.m4a"] {
        let audio = dir.path().join(name);
        fs::copy(fixture(&format!("m4a/{name}")), &audio).unwrap();
        let (o, _, err) = run(chapmark().arg("write").arg(&audio).arg("-c").arg(&notes));
        assert!(o.status.success(), "{err}");
        let v = node("mm.mjs", &audio);
        assert_eq!(v["ok"], true, "{name}: {v}");
        let got: Vec<(u64, &str)> = v["chapters"]
            .as_array()
            .unwrap()
            .iter()
            .map(|c| {
                let ms = c["start"].as_f64().unwrap() * 1000.0 / c["timeScale"].as_f64().unwrap();
                (ms as u64, c["title"].as_str().unwrap())
            })
            .collect();
        assert_eq!(
            got,
            [(0, "Intro"), (5_000, "Main"), (12_000, "Outro — 終わり")],
            "{name}"
        );
        assert_eq!(v["pictures"][0]["format"], "image/jpeg", "{name}: {v}");
        assert!(v["pictures"][0]["bytes"].as_u64().unwrap() > 1000);
        // A later edit (in place; chapters of equal length) and a strip keep it readable.
        fs::write(&notes, "0:00 Intro\n0:05 Main part\n0:10 Q&A\n0:15 Outro\n").unwrap();
        let (o, _, _) = run(chapmark().arg("write").arg(&audio).arg("-c").arg(&notes));
        assert!(o.status.success());
        let v = node("mm.mjs", &audio);
        let starts: Vec<u64> = v["chapters"]
            .as_array()
            .unwrap()
            .iter()
            .map(|c| c["start"].as_u64().unwrap())
            .collect();
        assert_eq!(starts, [0, 5_000, 10_000, 15_000], "{name}: {v}");
        assert_eq!(v["chapters"][1]["title"], "Main part", "{name}: {v}");
        let (o, _, _) = run(chapmark().arg("strip").arg(&audio));
        assert!(o.status.success());
        let v = node("mm.mjs", &audio);
        assert_eq!(v["ok"], true, "{name}: {v}");
        assert_eq!(v["chapters"].as_array().map(Vec::len), Some(0));
        fs::write(
            &notes,
            "0:00 Intro\n0:05 Main https://example.com/x\n0:12 Outro — 終わり\n",
        )
        .unwrap();
    }
}

/// The library's `write` applies the same rules as the command.
#[test]
fn the_library_write_reports_what_ffmpeg_will_drop() {
    require_tools!("ffmpeg");
    let dir = tempfile::tempdir().unwrap();
    let (audio, notes) = v24_episode(dir.path());
    let list = chapmark::read_chapters(notes.as_path()).unwrap().list;
    let mut opts = chapmark::EmbedOptions::default();
    let written = chapmark::write(&audio, &list, &opts).unwrap();
    assert!(
        written
            .diagnostics
            .iter()
            .all(|d| d.rule.code() != "ffmpeg-drops-chapter")
    );
    assert_eq!(fs::read(&audio).unwrap()[3], 3, "converted to v2.3");
    opts.id3v2 = Some(4);
    let written = chapmark::write(&audio, &list, &opts).unwrap();
    let codes: Vec<&str> = written.diagnostics.iter().map(|d| d.rule.code()).collect();
    assert_eq!(codes, ["ffmpeg-drops-chapter"]);
    opts.deny_warnings = true;
    assert!(chapmark::write(&audio, &list, &opts).is_err());
}
