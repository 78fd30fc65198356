//! Chapter images end to end: `APIC` inside `CHAP` read from a file in Auphonic's shape,
//! written from a chapter file naming local images (checked with mutagen and ffprobe), shown
//! back out byte for byte, stripped, and validated.

mod common;

use assert_cmd::Command;
use common::{copy_fixture, fixture, fixture_bytes};
use serde_json::Value;
use std::path::Path;

fn chapmark() -> Command {
    let mut c = Command::cargo_bin("chapmark").unwrap();
    c.env_remove("CHAPMARK_FAULT").env_remove("CHAPMARK_LOG");
    c
}

fn show_json(audio: &Path, images: Option<&Path>) -> Value {
    let mut c = chapmark();
    c.arg("show").arg(audio);
    if let Some(dir) = images {
        c.arg("--images").arg(dir);
    }
    let o = c.output().unwrap();
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    serde_json::from_slice(&o.stdout).unwrap()
}

fn imgs(v: &Value) -> Vec<Option<String>> {
    v["chapters"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| c["img"].as_str().map(str::to_string))
        .collect()
}

/// A Podcasting 2.0 chapter file `c.json` in `dir` with (start s, title, img) chapters (an
/// empty img: none).
fn chapters_json(dir: &Path, chapters: &[(f64, &str, &str)]) -> std::path::PathBuf {
    let items: Vec<Value> = chapters
        .iter()
        .map(|(s, t, i)| match *i {
            "" => serde_json::json!({"startTime": s, "title": t}),
            i => serde_json::json!({"startTime": s, "title": t, "img": i}),
        })
        .collect();
    let doc = serde_json::json!({"version": "1.2.0", "chapters": items});
    let path = dir.join("c.json");
    std::fs::write(&path, doc.to_string()).unwrap();
    path
}

/// `chapmark write AUDIO -c CHAPTERS`, which must succeed; returns its stderr.
fn write_ok(audio: &Path, chapters: &Path) -> String {
    let o = chapmark()
        .arg("write")
        .arg(audio)
        .arg("-c")
        .arg(chapters)
        .output()
        .unwrap();
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    String::from_utf8_lossy(&o.stderr).into_owned()
}

/// The audio after the ID3v2 tag (header + size + footer).
fn after_tag(bytes: &[u8]) -> &[u8] {
    if !bytes.starts_with(b"ID3") {
        return bytes;
    }
    let size = bytes[6..10]
        .iter()
        .fold(0usize, |acc, &b| (acc << 7) | usize::from(b & 0x7F));
    let footer = if bytes[5] & 0x10 != 0 { 10 } else { 0 };
    &bytes[10 + size + footer..]
}

/// mutagen's APIC frames inside each CHAP: (element id, mime, picture type, data hex).
fn mutagen_apics(path: &Path) -> Vec<(String, String, u64, String)> {
    const SCRIPT: &str = r#"
import json, sys
from mutagen.id3 import ID3
t = ID3(sys.argv[1])
out = []
for c in t.getall("CHAP"):
    for k, f in c.sub_frames.items():
        if k.startswith("APIC"):
            out.append([c.element_id, f.mime, int(f.type), f.data.hex()])
print(json.dumps({"version": t.version[1], "apics": out}))
"#;
    let o = std::process::Command::new("/usr/bin/python3")
        .args(["-c", SCRIPT])
        .arg(path)
        .output()
        .unwrap();
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    let v: Value = serde_json::from_slice(&o.stdout).unwrap();
    assert_eq!(v["version"], 3, "chapter images are written as id3v2.3");
    serde_json::from_value(v["apics"].clone()).unwrap()
}

/// ffprobe's JSON for `args` on `path`.
fn ffprobe(args: &[&str], path: &Path) -> Value {
    let o = std::process::Command::new("ffprobe")
        .args(["-v", "error", "-of", "json"])
        .args(args)
        .arg(path)
        .output()
        .unwrap();
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    serde_json::from_slice(&o.stdout).unwrap()
}

fn ffprobe_titles(path: &Path) -> Vec<String> {
    ffprobe(&["-show_chapters"], path)["chapters"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| c["tags"]["title"].as_str().unwrap_or("").to_string())
        .collect()
}

#[test]
fn auphonic_shaped_file_shows_its_four_images() {
    let jpeg = fixture_bytes("images/red.jpg");
    let audio = fixture("images/auphonic-shape.mp3");
    let summary = format!("image/jpeg {} bytes", jpeg.len());
    assert_eq!(imgs(&show_json(&audio, None)), vec![Some(summary); 4]);
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("art");
    let v = show_json(&audio, Some(&out));
    for (i, img) in imgs(&v).into_iter().enumerate() {
        let expect = out.join(format!("chapter-{:02}.jpg", i + 1));
        assert_eq!(img.as_deref(), Some(expect.to_str().unwrap()));
        assert_eq!(std::fs::read(&expect).unwrap(), jpeg, "chapter {}", i + 1);
    }
}

#[test]
fn mp3_write_show_round_trip_is_byte_identical() {
    let dir = tempfile::tempdir().unwrap();
    let audio = copy_fixture("audio/lame-cbr128.mp3", dir.path());
    let before = std::fs::read(&audio).unwrap();
    let stderr = write_ok(&audio, &fixture("images/chapters.json"));
    let red = fixture_bytes("images/red.jpg");
    let blue = fixture_bytes("images/blue.png");
    let note = format!("with 2 images ({} bytes)", red.len() + blue.len());
    assert!(stderr.contains(&note));

    let link = b"https://example.com/art.jpg".to_vec();
    let hex = |b: &[u8]| b.iter().map(|x| format!("{x:02x}")).collect::<String>();
    let expect = vec![
        ("chp0".to_string(), "image/jpeg".to_string(), 3, hex(&red)),
        ("chp1".to_string(), "image/png".to_string(), 3, hex(&blue)),
        ("chp2".to_string(), "-->".to_string(), 3, hex(&link)),
    ];
    assert_eq!(mutagen_apics(&audio), expect);
    assert_eq!(ffprobe_titles(&audio), ["Red", "Blue", "Linked"]);
    let after = std::fs::read(&audio).unwrap();
    assert_eq!(
        after_tag(&after),
        after_tag(&before),
        "audio payload changed"
    );

    let out = dir.path().join("out");
    let v = show_json(&audio, Some(&out));
    assert_eq!(std::fs::read(out.join("chapter-01.jpg")).unwrap(), red);
    assert_eq!(std::fs::read(out.join("chapter-02.png")).unwrap(), blue);
    assert_eq!(imgs(&v)[2].as_deref(), Some("https://example.com/art.jpg"));

    // Strip takes the images with the chapters.
    let o = chapmark().arg("strip").arg(&audio).output().unwrap();
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    // The original had no tag; the one `write` made held only chapters (and its `TLEN`), so
    // strip removes it whole and gives back the original bytes.
    assert!(!before.starts_with(b"ID3"));
    assert_eq!(std::fs::read(&audio).unwrap(), before);
}

#[test]
fn image_rules_report_stable_codes() {
    let dir = tempfile::tempdir().unwrap();
    for f in ["alpha.png", "tiny.gif", "red.jpg"] {
        copy_fixture(&format!("images/{f}"), dir.path());
    }
    // One chapter a line, so the diagnostics name lines 2–5.
    let json = dir.path().join("c.json");
    let body = r#"{"version": "1.2.0", "chapters": [
  {"startTime": 0, "title": "A", "img": "alpha.png"},
  {"startTime": 60, "title": "B", "img": "tiny.gif"},
  {"startTime": 120, "title": "C", "img": "gone.jpg"},
  {"startTime": 180, "title": "D", "img": "red.jpg"}
]}"#;
    std::fs::write(&json, body).unwrap();
    let codes = |profile: &str| -> Vec<(String, String, Option<u64>)> {
        let o = chapmark()
            .args([
                "check",
                "--duration",
                "300",
                "--format",
                "json",
                "--profile",
                profile,
            ])
            .arg("-c")
            .arg(&json)
            .output()
            .unwrap();
        let v: Value = serde_json::from_slice(&o.stdout)
            .unwrap_or_else(|_| panic!("{}", String::from_utf8_lossy(&o.stdout)));
        v["diagnostics"]
            .as_array()
            .unwrap()
            .iter()
            .filter(|d| d["code"].as_str().unwrap().starts_with("image-"))
            .map(|d| {
                (
                    d["code"].as_str().unwrap().to_string(),
                    d["severity"].as_str().unwrap().to_string(),
                    d["line"].as_u64(),
                )
            })
            .collect()
    };
    let s = |c: &str, sev: &str, line: u64| (c.to_string(), sev.to_string(), Some(line));
    let mut got = codes("default");
    got.sort();
    assert_eq!(
        got,
        vec![
            s("image-alpha", "warning", 2),
            s("image-missing", "error", 4),
            s("image-not-jpeg-png", "error", 3),
            s("image-not-square", "warning", 2),
            s("image-size", "warning", 2),
        ]
    );
    assert!(codes("apple").contains(&s("image-alpha", "error", 2)));
}

#[test]
fn images_turn_an_existing_v24_tag_into_v23_so_ffprobe_keeps_the_chapters() {
    let dir = tempfile::tempdir().unwrap();
    let audio = copy_fixture("audio/tagged-id3v24-v1.mp3", dir.path());
    write_ok(&audio, &fixture("images/chapters.json"));
    // mutagen_apics asserts version 3.
    assert_eq!(mutagen_apics(&audio).len(), 3);
    assert_eq!(ffprobe_titles(&audio), ["Red", "Blue", "Linked"]);
}

/// ffprobe's streams: (codec, disposition flags set).
fn ffprobe_streams(path: &Path) -> Vec<(String, Vec<String>)> {
    let v = ffprobe(&["-show_streams"], path);
    v["streams"]
        .as_array()
        .unwrap()
        .iter()
        .map(|s| {
            let flags = s["disposition"]
                .as_object()
                .unwrap()
                .iter()
                .filter(|(_, v)| v.as_i64() == Some(1))
                .map(|(k, _)| k.clone())
                .collect();
            (s["codec_name"].as_str().unwrap().to_string(), flags)
        })
        .collect()
}

/// ffprobe's packets of stream `index`: (pts ms, size), pts ≥ 0 only (ffmpeg also shows the
/// first image once more, before 0, as the stream's attached picture).
fn ffprobe_packets(path: &Path, index: usize) -> Vec<(i64, u64)> {
    let index = index.to_string();
    let v = ffprobe(&["-select_streams", &index, "-show_packets"], path);
    v["packets"]
        .as_array()
        .unwrap()
        .iter()
        .map(|p| {
            let pts: f64 = p["pts_time"].as_str().unwrap().parse().unwrap();
            let size: u64 = p["size"].as_str().unwrap().parse().unwrap();
            ((pts * 1000.0).round() as i64, size)
        })
        .filter(|(pts, _)| *pts >= 0)
        .collect()
}

/// mp4box.js (an outside parser, `tests/node`) finds one presented image sample per chapter
/// at the chapter times with these (start ms, bytes); skipped where node or its modules are
/// missing, unless in CI.
fn mp4box_image_samples(audio: &Path, want: &[(u64, u64)]) {
    let ci = common::in_ci();
    let have = common::on_path("node") && common::node_modules().join("mp4box").is_dir();
    if !have {
        assert!(
            !ci,
            "node and tests/node/node_modules (npm ci) are required in CI"
        );
        return;
    }
    let script = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/node/mp4box.mjs");
    let o = std::process::Command::new("node")
        .arg(script)
        .arg(audio)
        .output()
        .unwrap();
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    let v: Value = serde_json::from_slice(&o.stdout).unwrap();
    let tracks = v["tracks"].as_array().unwrap();
    let vide: Vec<&Value> = tracks.iter().filter(|t| t["handler"] == "vide").collect();
    assert_eq!(vide.len(), 1, "{v}");
    let got: Vec<(u64, u64)> = vide[0]["images"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|s| s["presented"] == true)
        .map(|s| {
            (
                s["startMs"].as_f64().unwrap().round() as u64,
                s["size"].as_u64().unwrap(),
            )
        })
        .collect();
    assert_eq!(got, want, "{v}");
}

#[test]
fn m4a_chapter_images_are_a_disabled_video_track_and_the_cover_stays() {
    let dir = tempfile::tempdir().unwrap();
    let audio = copy_fixture("audio/aac-faststart.m4a", dir.path());
    copy_fixture("images/red.jpg", dir.path());
    let cover = fixture("images/blue.png");
    const COVER: &str = r#"
import sys
from mutagen.mp4 import MP4, MP4Cover
f = MP4(sys.argv[1])
if len(sys.argv) > 2:
    f["covr"] = [MP4Cover(open(sys.argv[2], "rb").read(), MP4Cover.FORMAT_PNG)]
    f.save()
print(bytes(f["covr"][0]).hex())
"#;
    let py = |args: &[&Path]| {
        let o = std::process::Command::new("/usr/bin/python3")
            .args(["-c", COVER])
            .args(args)
            .output()
            .unwrap();
        assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
        String::from_utf8(o.stdout).unwrap()
    };
    let cover_hex = py(&[&audio, &cover]);
    let json = chapters_json(
        dir.path(),
        &[
            (0.0, "One", "red.jpg"),
            (0.5, "Half", "red.jpg"),
            (1.0, "Two", "red.jpg"),
            (2.0, "Three", "red.jpg"),
        ],
    );
    let stderr = write_ok(&audio, &json);
    let jpeg = fixture_bytes("images/red.jpg").len() as u64;
    assert!(stderr.contains(&format!("with 4 images ({} bytes)", 4 * jpeg)));

    assert_eq!(py(&[&audio]), cover_hex, "covr changed");
    let streams = ffprobe_streams(&audio);
    let thumbs: Vec<usize> = (0..streams.len())
        .filter(|&i| streams[i].1.iter().any(|f| f == "timed_thumbnails"))
        .collect();
    assert_eq!(thumbs.len(), 1, "{streams:?}");
    assert_eq!(streams[thumbs[0]].0, "mjpeg");
    assert_eq!(
        ffprobe_packets(&audio, thumbs[0]),
        vec![(0, jpeg), (500, jpeg), (1000, jpeg), (2000, jpeg)]
    );
    assert_eq!(ffprobe_titles(&audio), ["One", "Half", "Two", "Three"]);
    mp4box_image_samples(
        &audio,
        &[(0, jpeg), (500, jpeg), (1000, jpeg), (2000, jpeg)],
    );
    let o = std::process::Command::new("ffmpeg")
        .args(["-v", "error", "-i"])
        .arg(&audio)
        .args(["-f", "null", "-"])
        .output()
        .unwrap();
    assert!(
        o.status.success() && o.stderr.is_empty(),
        "{}",
        String::from_utf8_lossy(&o.stderr)
    );

    // Round trip: show writes the track's images back out byte for byte.
    let out = dir.path().join("out");
    let v = show_json(&audio, Some(&out));
    let red = fixture_bytes("images/red.jpg");
    for i in 1..=4 {
        let f = out.join(format!("chapter-{i:02}.jpg"));
        assert_eq!(std::fs::read(&f).unwrap(), red, "{}", f.display());
    }
    assert_eq!(imgs(&v).len(), 4);

    // Strip takes the image track with the chapter track; the cover stays.
    let o = chapmark().arg("strip").arg(&audio).output().unwrap();
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    assert!(
        ffprobe_streams(&audio)
            .iter()
            .all(|s| !s.1.iter().any(|f| f == "timed_thumbnails"))
    );
    assert_eq!(py(&[&audio]), cover_hex);
}

#[test]
fn m4a_with_mixed_or_missing_images_gets_the_chapters_and_an_image_track_skipped_warning() {
    let dir = tempfile::tempdir().unwrap();
    copy_fixture("images/red.jpg", dir.path());
    copy_fixture("images/blue.png", dir.path());
    type Chapters<'a> = &'a [(f64, &'a str, &'a str)];
    let cases: [(Chapters, &str); 2] = [
        (
            &[
                (0.0, "One", "red.jpg"),
                (1.0, "Two", "blue.png"),
                (2.0, "Three", "red.jpg"),
            ],
            "chapter 2 (line 1): the m4a gets the chapters without their images: chapter 2 is png, the others jpeg",
        ),
        (
            &[
                (0.0, "One", "red.jpg"),
                (1.0, "Two", ""),
                (2.0, "Three", ""),
            ],
            "chapter 2 (line 1): the m4a gets the chapters without their images: chapters 2, 3 have no image",
        ),
    ];
    for (chapters, message) in cases {
        let audio = copy_fixture("audio/aac-faststart.m4a", dir.path());
        let json = chapters_json(dir.path(), chapters);
        let stderr = write_ok(&audio, &json);
        let warning = format!("warning[image-track-skipped] {message}");
        assert!(stderr.contains(&warning), "{stderr}");
        assert!(
            !stderr.contains("images ("),
            "no image is counted: {stderr}"
        );
        assert_eq!(ffprobe_titles(&audio), ["One", "Two", "Three"]);
        assert!(
            ffprobe_streams(&audio)
                .iter()
                .all(|s| !s.1.iter().any(|f| f == "timed_thumbnails"))
        );
        // With --deny-warnings the write is refused instead.
        let audio = copy_fixture("audio/aac-faststart.m4a", dir.path());
        let o = chapmark()
            .args(["write", "--deny-warnings", "-c"])
            .arg(&json)
            .arg(&audio)
            .output()
            .unwrap();
        assert_eq!(o.status.code(), Some(1));
    }
    // An MP3 stores each chapter's image on its own: no warning there.
    let audio = copy_fixture("audio/lame-cbr64-noxing.mp3", dir.path());
    let stderr = write_ok(&audio, &chapters_json(dir.path(), cases[0].0));
    assert!(!stderr.contains("image-track-skipped"), "{stderr}");
}

#[test]
fn show_notes_and_ffmetadata_name_images_relative_to_their_folder() {
    let dir = tempfile::tempdir().unwrap();
    let art = dir.path().join("art");
    std::fs::create_dir(&art).unwrap();
    copy_fixture("images/red.jpg", &art);
    copy_fixture("images/blue.png", &art);
    let notes = dir.path().join("notes.txt");
    std::fs::write(
        &notes,
        "00:00 Red\nImage: art/red.jpg\n\n00:01 Blue\n![](art/blue.png)\n",
    )
    .unwrap();
    let ffmeta = dir.path().join("chapters.ffmetadata");
    std::fs::write(
        &ffmeta,
        ";FFMETADATA1\n\n[CHAPTER]\nTIMEBASE=1/1000\nSTART=0\nEND=1000\ntitle=Red\nimage=art/red.jpg\n\n\
         [CHAPTER]\nTIMEBASE=1/1000\nSTART=1000\nEND=2000\ntitle=Blue\nimage=art/blue.png\n",
    )
    .unwrap();
    for (i, chapters) in [notes, ffmeta].iter().enumerate() {
        // Run from elsewhere: the paths resolve against the chapter file, not the cwd.
        let audio = copy_fixture("audio/lame-cbr64-noxing.mp3", dir.path());
        let o = chapmark()
            .current_dir(std::env::temp_dir())
            .arg("write")
            .arg(&audio)
            .arg(chapters)
            .output()
            .unwrap();
        assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
        let out = dir.path().join(format!("out{i}"));
        show_json(&audio, Some(&out));
        assert_eq!(
            std::fs::read(out.join("chapter-01.jpg")).unwrap(),
            fixture_bytes("images/red.jpg")
        );
        assert_eq!(
            std::fs::read(out.join("chapter-02.png")).unwrap(),
            fixture_bytes("images/blue.png")
        );
    }
    // Converting keeps the references: ffmetadata `image=`, show notes `Image:`.
    let o = chapmark()
        .args(["convert", "--to", "ffmetadata"])
        .arg(dir.path().join("notes.txt"))
        .output()
        .unwrap();
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    let text = String::from_utf8(o.stdout).unwrap();
    assert!(text.contains("title=Red\nimage=art/red.jpg\n"), "{text}");
    assert!(text.contains("title=Blue\nimage=art/blue.png\n"), "{text}");
}

/// AntennaPod's own test files (`fixtures/images/antennapod/README.md`): the chapter images
/// its `ChapterReaderTest` finds, as (file offset, length), are what `show --images` writes.
#[test]
fn antennapods_auphonic_and_hindenburg_files_show_the_images_it_expects() {
    let cases: [(&str, &[(usize, usize)]); 2] = [
        (
            "auphonic.mp3",
            &[(765, 308), (1271, 308), (1771, 308), (2259, 308)],
        ),
        (
            "hindenburg-journalist-pro.mp3",
            &[(5330, 4015), (9498, 4364)],
        ),
    ];
    let dir = tempfile::tempdir().unwrap();
    for (name, images) in cases {
        let rel = format!("images/antennapod/{name}");
        let bytes = fixture_bytes(&rel);
        let summaries: Vec<_> = images
            .iter()
            .map(|(_, len)| Some(format!("image/jpeg {len} bytes")))
            .collect();
        assert_eq!(imgs(&show_json(&fixture(&rel), None)), summaries, "{name}");
        let out = dir.path().join(name);
        show_json(&fixture(&rel), Some(&out));
        for (i, &(at, len)) in images.iter().enumerate() {
            let got = std::fs::read(out.join(format!("chapter-{:02}.jpg", i + 1))).unwrap();
            assert_eq!(got, bytes[at..at + len], "{name} chapter {}", i + 1);
        }
    }
}
