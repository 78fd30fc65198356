//! `chapmark write`, `show` and `strip` end to end through the binary, on the 38-minute
//! episode fixtures (MP3 and faststart M4A; a moov-at-end M4A is made from the latter with
//! `ffmpeg -c copy`). Interop is checked with the real ffprobe/ffmpeg, mutagen (the
//! `python3` on `PATH`) and MediaInfo; the library-level layouts are covered by tests/id3.rs
//! and tests/mp4.rs, so these tests look at what a user of the command sees.

mod common;

use assert_cmd::Command;
use common::ffprobe_chapters;
use common::fixture;
use serde_json::Value;
use std::fs;
use std::path::{Path, PathBuf};
use std::process::Output;

const MP3: &str = "episode/pep-think-38min.mp3";
const M4A: &str = "episode/pep-think-38min.m4a";
/// The fixtures' exact length in milliseconds (2280 s).
const END_MS: u64 = 2_280_000;

fn chapmark() -> Command {
    let mut c = Command::cargo_bin("chapmark").unwrap();
    c.env_remove("CHAPMARK_FAULT").env_remove("CHAPMARK_LOG");
    c
}

/// Runs chapmark with `args`, returning the output (no assertion on the status).
fn run(args: &[&dyn AsRef<std::ffi::OsStr>]) -> Output {
    let mut c = chapmark();
    for a in args {
        c.arg(a.as_ref());
    }
    c.output().unwrap()
}

fn stderr(o: &Output) -> String {
    String::from_utf8_lossy(&o.stderr).into_owned()
}

fn ok(o: Output) -> Output {
    assert!(
        o.status.success(),
        "chapmark failed ({:?}): {}",
        o.status,
        stderr(&o)
    );
    o
}

/// A temp dir holding a copy of `rel` named `name`.
fn copy_of(rel: &str, name: &str) -> (tempfile::TempDir, PathBuf) {
    let dir = tempfile::tempdir().unwrap();
    let p = dir.path().join(name);
    fs::copy(fixture(rel), &p).unwrap();
    (dir, p)
}

/// The faststart fixture rewritten by ffmpeg with its default layout (moov after mdat).
fn moov_at_end(dir: &Path) -> PathBuf {
    let out = dir.join("moov-at-end.m4a");
    let st = std::process::Command::new("ffmpeg")
        .args(["-nostdin", "-v", "error", "-y", "-i"])
        .arg(fixture(M4A))
        .args(["-map", "0", "-c", "copy"])
        .arg(&out)
        .status()
        .unwrap();
    assert!(st.success());
    assert_eq!(top_level(&out).last().map(|b| b.0.as_str()), Some("moov"));
    out
}

/// Top-level MP4 boxes: (type, offset, size).
fn top_level(path: &Path) -> Vec<(String, u64, u64)> {
    let d = fs::read(path).unwrap();
    let mut out = Vec::new();
    let mut i = 0usize;
    while i + 8 <= d.len() {
        let mut size = u32::from_be_bytes(d[i..i + 4].try_into().unwrap()) as u64;
        let kind = String::from_utf8_lossy(&d[i + 4..i + 8]).into_owned();
        if size == 1 {
            size = u64::from_be_bytes(d[i + 8..i + 16].try_into().unwrap());
        } else if size == 0 {
            size = (d.len() - i) as u64;
        }
        out.push((kind, i as u64, size));
        i += size as usize;
    }
    out
}

/// One expected chapter: start and end in ms, title, URL.
type Expect = (u64, u64, String, Option<String>);

/// A Podcasting 2.0 JSON chapters file with tricky titles and some URLs, and what must be
/// read back from the 38-minute episode.
fn tricky_chapters(dir: &Path, titles: [&str; 4]) -> (PathBuf, Vec<Expect>) {
    let starts = [0u64, 61_500, 1_200_250, 2_000_000];
    let urls = [
        None,
        Some("https://example.com/a?b=1&c=2"),
        Some("https://example.org/日本"),
        None,
    ];
    let mut chapters = Vec::new();
    let mut expect = Vec::new();
    for i in 0..4 {
        let mut c = serde_json::json!({
            "startTime": starts[i] as f64 / 1000.0,
            "title": titles[i],
        });
        if let Some(u) = urls[i] {
            c["url"] = u.into();
        }
        chapters.push(c);
        let end = starts.get(i + 1).copied().unwrap_or(END_MS);
        expect.push((
            starts[i],
            end,
            titles[i].to_string(),
            urls[i].map(|u| u.replace("日本", "%E6%97%A5%E6%9C%AC")),
        ));
    }
    let p = dir.join(format!("chapters-{}.json", titles[0].len()));
    let doc = serde_json::json!({"version": "1.2.0", "chapters": chapters});
    fs::write(&p, serde_json::to_vec_pretty(&doc).unwrap()).unwrap();
    (p, expect)
}

const TITLES: [&str; 4] = [
    "Intro 🎙️",
    "Café & naïve — “quotes”  two spaces",
    "日本語のタイトル",
    "Outro\tend",
];
const TITLES2: [&str; 4] = ["Cold open", "Second", "Third: longer title", "Fourth"];

fn ms(v: &Value) -> u64 {
    (v.as_f64().unwrap() * 1000.0).round() as u64
}

/// `chapmark show FILE` (JSON) as expectations.
fn show(path: &Path) -> Vec<Expect> {
    let o = ok(run(&[&"show", &path]));
    let v: Value = serde_json::from_slice(&o.stdout).unwrap();
    v["chapters"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| {
            (
                ms(&c["startTime"]),
                ms(&c["endTime"]),
                c["title"].as_str().unwrap().to_string(),
                c["url"].as_str().map(str::to_string),
            )
        })
        .collect()
}

/// Runs a Python snippet under the `python3` on `PATH` (with mutagen); `sys.argv[1]` is `path`.
fn python(script: &str, path: &Path) -> Value {
    let o = std::process::Command::new(common::python())
        .args(["-c", script])
        .arg(path)
        .output()
        .unwrap();
    assert!(
        o.status.success(),
        "python failed: {}",
        String::from_utf8_lossy(&o.stderr)
    );
    serde_json::from_slice(&o.stdout).unwrap()
}

/// mutagen's view of an MP3's chapters: version, and per CHAP start, end, title, URL, TIT3.
/// One CHAP as mutagen reads it: start, end, title, URL, description.
type MutagenChapter = (u64, u64, String, Option<String>, Option<String>);

fn mutagen_mp3(path: &Path) -> (u64, Vec<MutagenChapter>) {
    const SCRIPT: &str = r#"
import json, sys
from mutagen.id3 import ID3
t = ID3(sys.argv[1])
toc = [f for f in t.getall("CTOC") if f.flags & 1]
order = toc[0].child_element_ids if toc else []
chaps = {f.element_id: f for f in t.getall("CHAP")}
out = []
for cid in order:
    f = chaps[cid]
    sub = f.sub_frames
    url = [s.url for s in sub.getall("WXXX")]
    desc = [str(s) for s in sub.getall("TIT3")]
    out.append([f.start_time, f.end_time, str(sub["TIT2"]), url[0] if url else None,
                desc[0] if desc else None])
print(json.dumps({"version": t.version[1], "chapters": out}))
"#;
    let v = python(SCRIPT, path);
    let chapters = v["chapters"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| {
            (
                c[0].as_u64().unwrap(),
                c[1].as_u64().unwrap(),
                c[2].as_str().unwrap().to_string(),
                c[3].as_str().map(str::to_string),
                c[4].as_str().map(str::to_string),
            )
        })
        .collect();
    (v["version"].as_u64().unwrap(), chapters)
}

/// mutagen's `MP4.chapters` (the Nero `chpl` list): (start ms, title).
fn mutagen_mp4(path: &Path) -> Vec<(u64, String)> {
    const SCRIPT: &str = r#"
import json, sys
from mutagen.mp4 import MP4
m = MP4(sys.argv[1])
print(json.dumps([[round(c.start * 1000), c.title] for c in (m.chapters or [])]))
"#;
    python(SCRIPT, path)
        .as_array()
        .unwrap()
        .iter()
        .map(|c| (c[0].as_u64().unwrap(), c[1].as_str().unwrap().to_string()))
        .collect()
}

/// Bytes after the leading ID3v2 tag (the MP3 audio payload and any trailing tags).
fn mp3_payload(path: &Path) -> Vec<u8> {
    let d = fs::read(path).unwrap();
    if d.len() < 10 || &d[..3] != b"ID3" {
        return d;
    }
    let size = d[6..10]
        .iter()
        .fold(0usize, |acc, b| (acc << 7) | (*b as usize & 0x7f));
    let footer = if d[5] & 0x10 != 0 { 10 } else { 0 };
    d[10 + size + footer..].to_vec()
}

/// A MediaInfo JSON string value; strings with control characters come base64-encoded.
fn mediainfo_text(v: &Value) -> String {
    if let Some(s) = v.as_str() {
        return s.to_string();
    }
    assert_eq!(v["@dt"], "binary.base64", "{v}");
    let mut bits = 0u32;
    let mut n = 0;
    let mut out = Vec::new();
    for c in v["#value"].as_str().unwrap().bytes() {
        let d = match c {
            b'A'..=b'Z' => c - b'A',
            b'a'..=b'z' => c - b'a' + 26,
            b'0'..=b'9' => c - b'0' + 52,
            b'+' => 62,
            b'/' => 63,
            _ => continue,
        };
        bits = (bits << 6) | d as u32;
        n += 6;
        if n >= 8 {
            n -= 8;
            out.push((bits >> n) as u8);
        }
    }
    String::from_utf8(out).unwrap()
}

fn ffmpeg_audio_md5(path: &Path) -> String {
    let o = std::process::Command::new("ffmpeg")
        .args(["-nostdin", "-v", "error", "-i"])
        .arg(path)
        .args(["-map", "0:a", "-c", "copy", "-f", "md5", "-"])
        .output()
        .unwrap();
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    String::from_utf8(o.stdout).unwrap()
}

/// `ffmpeg -v error -i FILE -f null -` prints nothing for a clean file.
fn assert_decodes_cleanly(path: &Path) {
    let o = std::process::Command::new("ffmpeg")
        .args(["-nostdin", "-v", "error", "-i"])
        .arg(path)
        .args(["-f", "null", "-"])
        .output()
        .unwrap();
    assert!(o.status.success());
    assert!(
        o.stderr.is_empty(),
        "{}: ffmpeg complained: {}",
        path.display(),
        String::from_utf8_lossy(&o.stderr)
    );
}

/// Files in `dir` other than `keep` (stray temporary files or journals).
fn strays(dir: &Path, keep: &[&Path]) -> Vec<PathBuf> {
    fs::read_dir(dir)
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| !keep.iter().any(|k| k == p))
        .filter(|p| {
            p.file_name()
                .unwrap()
                .to_string_lossy()
                .contains("chapmark")
        })
        .collect()
}

fn without_urls(e: &[Expect]) -> Vec<(u64, u64, String)> {
    e.iter().map(|(s, e, t, _)| (*s, *e, t.clone())).collect()
}

#[test]
fn mp3_round_trip_v23_and_v24_with_ffprobe_and_mutagen() {
    require_tools!("ffmpeg", "ffprobe", "mutagen");
    for version in [3u8, 4] {
        let (dir, audio) = copy_of(MP3, "episode.mp3");
        let (chapters, expect) = tricky_chapters(dir.path(), TITLES);
        let original_payload = mp3_payload(&audio);
        let v = version.to_string();
        let o = ok(run(&[
            &"write",
            &audio,
            &"--chapters",
            &chapters,
            &"--id3v2",
            &v,
        ]));
        assert!(stderr(&o).contains("wrote 4 chapters"), "{}", stderr(&o));
        let bytes = fs::read(&audio).unwrap();
        assert_eq!(&bytes[..4], &[b'I', b'D', b'3', version]);

        assert_eq!(show(&audio), expect, "v2.{version}: show");
        assert_eq!(ffprobe_chapters(&audio), without_urls(&expect), "ffprobe");
        let (mv, mchaps) = mutagen_mp3(&audio);
        assert_eq!(mv, version as u64);
        let mutagen: Vec<Expect> = mchaps
            .into_iter()
            .map(|(s, e, t, u, d)| {
                assert_eq!(d, None, "no descriptions without --descriptions");
                (s, e, t, u)
            })
            .collect();
        assert_eq!(mutagen, expect, "v2.{version}: mutagen");
        assert!(
            original_payload == mp3_payload(&audio),
            "audio payload changed"
        );
        assert_decodes_cleanly(&audio);

        // The same chapters again: nothing to do, byte for byte the same file.
        let o = ok(run(&[&"write", &audio, &"-c", &chapters, &"--id3v2", &v]));
        assert!(stderr(&o).contains("nothing written"), "{}", stderr(&o));
        assert!(
            fs::read(&audio).unwrap() == bytes,
            "second write changed the file"
        );

        // Different titles fit in the padding: patched in place, audio untouched.
        let (chapters2, expect2) = tricky_chapters(dir.path(), TITLES2);
        let o = ok(run(&[&"write", &audio, &"-c", &chapters2]));
        assert!(stderr(&o).contains("in place"), "{}", stderr(&o));
        assert_eq!(fs::read(&audio).unwrap().len(), bytes.len());
        assert_eq!(fs::read(&audio).unwrap()[3], version, "the version is kept");
        assert_eq!(show(&audio), expect2);
        assert!(original_payload == mp3_payload(&audio));
        assert!(strays(dir.path(), &[&audio]).is_empty());
    }
}

#[test]
fn m4a_round_trip_faststart_and_moov_at_end_with_ffprobe_mutagen_mediainfo() {
    require_tools!("ffmpeg", "ffprobe", "mediainfo", "mutagen");
    let (dir, faststart) = copy_of(M4A, "faststart.m4a");
    let at_end = moov_at_end(dir.path());
    let (chapters, expect) = tricky_chapters(dir.path(), TITLES);
    for audio in [&faststart, &at_end] {
        let layout_before: Vec<String> = top_level(audio).into_iter().map(|b| b.0).collect();
        let moov_first = layout_before.iter().position(|b| b == "moov")
            < layout_before.iter().position(|b| b == "mdat");
        let audio_md5 = ffmpeg_audio_md5(audio);

        ok(run(&[&"write", audio, &"--chapters", &chapters]));
        assert_eq!(show(audio), expect, "{}", audio.display());
        assert_eq!(ffprobe_chapters(audio), without_urls(&expect));
        let nero: Vec<(u64, String)> = expect.iter().map(|c| (c.0, c.2.clone())).collect();
        assert_eq!(mutagen_mp4(audio), nero);
        assert_eq!(ffmpeg_audio_md5(audio), audio_md5, "audio packets changed");
        assert_decodes_cleanly(audio);

        let mi = std::process::Command::new("mediainfo")
            .args(["--Output=JSON"])
            .arg(audio)
            .output()
            .unwrap();
        let mi: Value = serde_json::from_slice(&mi.stdout).unwrap();
        let menus: Vec<&Value> = mi["media"]["track"]
            .as_array()
            .unwrap()
            .iter()
            .filter(|t| t["@type"] == "Menu")
            .collect();
        assert!(!menus.is_empty(), "mediainfo lists no chapters");
        for menu in menus {
            let listed: Vec<String> = menu["extra"]
                .as_object()
                .unwrap()
                .iter()
                .filter(|(k, _)| k.starts_with("_0"))
                .map(|(_, v)| mediainfo_text(v))
                .collect();
            let titles: Vec<String> = expect.iter().map(|c| c.2.clone()).collect();
            assert_eq!(listed, titles, "mediainfo");
        }

        // Faststart stays faststart; moov-at-end stays at the end (before the chapter
        // samples and padding we append).
        let after: Vec<(String, u64, u64)> = top_level(audio);
        let moov = after.iter().position(|b| b.0 == "moov").unwrap();
        let first_mdat = after.iter().position(|b| b.0 == "mdat").unwrap();
        assert_eq!(moov < first_mdat, moov_first, "{after:?}");

        // Same chapters again: unchanged; new titles: in place.
        let bytes = fs::read(audio).unwrap();
        let o = ok(run(&[&"write", audio, &"-c", &chapters]));
        assert!(stderr(&o).contains("nothing written"), "{}", stderr(&o));
        assert!(fs::read(audio).unwrap() == bytes);
        let (chapters2, expect2) = tricky_chapters(dir.path(), TITLES2);
        let o = ok(run(&[&"write", audio, &"-c", &chapters2]));
        assert!(stderr(&o).contains("in place"), "{}", stderr(&o));
        assert_eq!(show(audio), expect2);
        assert_eq!(ffmpeg_audio_md5(audio), audio_md5);
        assert_decodes_cleanly(audio);
    }
    assert!(strays(dir.path(), &[&faststart, &at_end]).is_empty());
}

/// Chapters every 5 s; `n` of them.
fn many_chapters(dir: &Path, n: usize) -> PathBuf {
    let text: String = (0..n)
        .map(|i| format!("{}:{:02} Chapter {}\n", i * 5 / 60, i * 5 % 60, i + 1))
        .collect();
    let p = dir.join(format!("many-{n}.txt"));
    fs::write(&p, text).unwrap();
    p
}

#[test]
fn chapter_limit_255_is_written_256_is_refused_untouched() {
    require_tools!("ffprobe", "mutagen");
    for (rel, name) in [(MP3, "e.mp3"), (M4A, "e.m4a")] {
        let (dir, audio) = copy_of(rel, name);
        let before = fs::read(&audio).unwrap();
        let too_many = many_chapters(dir.path(), 256);
        let o = run(&[&"write", &audio, &"-c", &too_many]);
        assert_eq!(o.status.code(), Some(1), "{name}: {}", stderr(&o));
        let err = stderr(&o);
        assert!(err.contains("too-many-for-container"), "{err}");
        assert!(err.contains("was not changed"), "{err}");
        assert!(fs::read(&audio).unwrap() == before, "{name} changed");
        assert!(strays(dir.path(), &[&audio]).is_empty());

        let most = many_chapters(dir.path(), 255);
        ok(run(&[&"write", &audio, &"-c", &most]));
        let shown = show(&audio);
        assert_eq!(shown.len(), 255);
        assert_eq!(shown[254].0, 254 * 5000);
        assert_eq!(shown[254].1, END_MS);
        assert_eq!(shown[254].2, "Chapter 255");
        assert_eq!(ffprobe_chapters(&audio).len(), 255, "{name}: ffprobe");
    }
}

#[test]
fn invalid_chapters_exit_1_and_leave_the_file_byte_identical() {
    for (rel, name) in [(MP3, "e.mp3"), (M4A, "e.m4a")] {
        let (dir, audio) = copy_of(rel, name);
        // Write once so the file has chapters that a failed write must not disturb.
        let (good, expect) = tricky_chapters(dir.path(), TITLES);
        ok(run(&[&"write", &audio, &"-c", &good]));
        let before = fs::read(&audio).unwrap();
        let bad = dir.path().join("bad.txt");
        fs::write(
            &bad,
            "0:00 Intro\n12:00 Middle\n10:00 Out of order\n41:30 Too late\n",
        )
        .unwrap();
        for extra in [&[][..], &["-o", "out"][..], &["--dry-run"][..]] {
            let mut c = chapmark();
            c.arg("write").arg(&audio).arg("-c").arg(&bad).args(extra);
            let o = c.current_dir(dir.path()).output().unwrap();
            assert_eq!(o.status.code(), Some(1), "{name} {extra:?}: {}", stderr(&o));
            let err = stderr(&o);
            assert!(err.contains("past-end"), "{err}");
            assert!(err.contains("41:30"), "{err}");
            assert!(err.contains("not-ascending"), "{err}");
            assert!(o.stdout.is_empty(), "nothing on stdout");
            assert!(fs::read(&audio).unwrap() == before, "{name} changed");
            assert!(!dir.path().join("out").exists());
        }
        // --deny-warnings turns a warning (a 1-second chapter) into a refusal too.
        let warn = dir.path().join("warn.txt");
        fs::write(&warn, "0:00 Intro\n0:01 Blink\n10:00 Main\n").unwrap();
        let o = run(&[&"write", &audio, &"-c", &warn, &"--deny-warnings"]);
        assert_eq!(o.status.code(), Some(1), "{}", stderr(&o));
        assert!(fs::read(&audio).unwrap() == before);
        assert_eq!(show(&audio), expect);
        assert!(strays(dir.path(), &[&audio]).is_empty());
    }
}

#[test]
fn unreadable_inputs_and_unsupported_containers_exit_3_untouched() {
    require_tools!("ffmpeg");
    let dir = tempfile::tempdir().unwrap();
    let (chapters, _) = tricky_chapters(dir.path(), TITLES);
    // Not audio at all.
    let junk = dir.path().join("junk.mp3");
    fs::write(&junk, vec![0x55u8; 5000]).unwrap();
    let o = run(&[&"write", &junk, &"-c", &chapters]);
    assert_eq!(o.status.code(), Some(3), "{}", stderr(&o));
    assert_eq!(fs::read(&junk).unwrap(), vec![0x55u8; 5000]);
    // A missing file and a missing chapters file.
    let o = run(&[&"write", &dir.path().join("nope.mp3"), &"-c", &chapters]);
    assert_eq!(o.status.code(), Some(3));
    let (_d, audio) = copy_of(MP3, "e.mp3");
    let before = fs::read(&audio).unwrap();
    let o = run(&[&"write", &audio, &"-c", &dir.path().join("nope.txt")]);
    assert_eq!(o.status.code(), Some(3));
    assert!(fs::read(&audio).unwrap() == before);
    // WAV is probed but not a chapter container.
    let wav = dir.path().join("tone.wav");
    let st = std::process::Command::new("ffmpeg")
        .args(["-nostdin", "-v", "error", "-f", "lavfi", "-i"])
        .arg("anullsrc=r=8000:cl=mono")
        .args(["-t", "3"])
        .arg(&wav)
        .status()
        .unwrap();
    assert!(st.success());
    let wav_before = fs::read(&wav).unwrap();
    let short = dir.path().join("short.txt");
    fs::write(&short, "0:00 A\n0:01 B\n").unwrap();
    let o = run(&[&"write", &wav, &"-c", &short]);
    assert_eq!(o.status.code(), Some(3), "{}", stderr(&o));
    assert!(stderr(&o).contains("not supported"), "{}", stderr(&o));
    assert!(fs::read(&wav).unwrap() == wav_before);
}

#[test]
fn dry_run_prints_the_chapters_and_writes_nothing() {
    for (rel, name) in [(MP3, "e.mp3"), (M4A, "e.m4a")] {
        let (dir, audio) = copy_of(rel, name);
        let before = fs::read(&audio).unwrap();
        let (chapters, expect) = tricky_chapters(dir.path(), TITLES);
        let o = ok(run(&[&"write", &audio, &"-c", &chapters, &"--dry-run"]));
        let v: Value = serde_json::from_slice(&o.stdout).unwrap();
        let printed: Vec<Expect> = v["chapters"]
            .as_array()
            .unwrap()
            .iter()
            .map(|c| {
                (
                    ms(&c["startTime"]),
                    ms(&c["endTime"]),
                    c["title"].as_str().unwrap().to_string(),
                    c["url"].as_str().map(str::to_string),
                )
            })
            .collect();
        assert_eq!(printed, expect);
        assert!(stderr(&o).contains("dry run"), "{}", stderr(&o));
        assert!(stderr(&o).contains("nothing written"), "{}", stderr(&o));
        assert!(fs::read(&audio).unwrap() == before, "{name} changed");
        assert!(show(&audio).is_empty());
        // With -o the output is not created either.
        let out = dir.path().join(format!("out-{name}"));
        ok(run(&[
            &"write",
            &audio,
            &"-c",
            &chapters,
            &"--dry-run",
            &"-o",
            &out,
        ]));
        assert!(!out.exists());
        assert!(strays(dir.path(), &[&audio]).is_empty());
    }
}

#[test]
fn intro_is_inserted_only_when_the_first_chapter_starts_later() {
    let notes = fixture("notes/pep-think-episode.txt");
    for (rel, name) in [(MP3, "e.mp3"), (M4A, "e.m4a")] {
        let (dir, audio) = copy_of(rel, name);
        ok(run(&[&"write", &audio, &"-c", &notes]));
        let plain = show(&audio);
        assert_eq!(plain[0].0, 100_000, "the notes start at 1:40");
        ok(run(&[
            &"write",
            &audio,
            &"-c",
            &notes,
            &"--intro",
            &"Opening ✨",
        ]));
        let with_intro = show(&audio);
        assert_eq!(with_intro.len(), plain.len() + 1);
        assert_eq!(
            with_intro[0],
            (0, 100_000, "Opening ✨".to_string(), None),
            "{name}"
        );
        assert_eq!(&with_intro[1..], &plain[..]);
        // Chapters that already start at 0:00 get no intro.
        let (chapters, expect) = tricky_chapters(dir.path(), TITLES);
        ok(run(&[
            &"write", &audio, &"-c", &chapters, &"--intro", &"Opening",
        ]));
        assert_eq!(show(&audio), expect);
    }
}

#[cfg(unix)]
fn mode(p: &Path) -> u32 {
    use std::os::unix::fs::PermissionsExt;
    fs::metadata(p).unwrap().permissions().mode() & 0o7777
}

#[cfg(unix)]
#[test]
fn output_flag_leaves_the_input_untouched() {
    require_tools!("ffmpeg");
    for (rel, name) in [(MP3, "e.mp3"), (M4A, "e.m4a")] {
        let (dir, audio) = copy_of(rel, name);
        let before = fs::read(&audio).unwrap();
        let (chapters, expect) = tricky_chapters(dir.path(), TITLES);
        let out = dir.path().join(format!("tagged-{name}"));
        let o = ok(run(&[&"write", &audio, &"-c", &chapters, &"-o", &out]));
        assert!(
            stderr(&o).contains(&*out.display().to_string()),
            "{}",
            stderr(&o)
        );
        assert!(fs::read(&audio).unwrap() == before, "input changed");
        assert_eq!(show(&out), expect);
        assert_eq!(mode(&out), mode(&audio), "the output gets the input's mode");
        assert_decodes_cleanly(&out);
        // Strip to another file: the tagged file keeps its chapters.
        let tagged = fs::read(&out).unwrap();
        let stripped = dir.path().join(format!("stripped-{name}"));
        ok(run(&[&"strip", &out, &"-o", &stripped]));
        assert!(fs::read(&out).unwrap() == tagged);
        assert!(show(&stripped).is_empty());
        // -o naming the input itself is an ordinary in-place write.
        let (chapters2, expect2) = tricky_chapters(dir.path(), TITLES2);
        ok(run(&[&"write", &out, &"-c", &chapters2, &"-o", &out]));
        assert_eq!(show(&out), expect2);
        assert!(strays(dir.path(), &[&audio, &out, &stripped]).is_empty());
    }
}

#[cfg(unix)]
#[test]
fn permissions_are_kept_and_a_symlink_stays_a_link() {
    use std::os::unix::fs::PermissionsExt;
    for (rel, name) in [(MP3, "e.mp3"), (M4A, "e.m4a")] {
        let (dir, audio) = copy_of(rel, name);
        fs::set_permissions(&audio, fs::Permissions::from_mode(0o640)).unwrap();
        let link = dir.path().join(format!("link-{name}"));
        std::os::unix::fs::symlink(&audio, &link).unwrap();
        let (chapters, expect) = tricky_chapters(dir.path(), TITLES);
        let (chapters2, expect2) = tricky_chapters(dir.path(), TITLES2);
        // First a rebuild (no room), then an in-place patch, then a strip, all via the link.
        for (cmd, expected) in [
            (vec!["write", "-c"], Some((&chapters, &expect))),
            (vec!["write", "-c"], Some((&chapters2, &expect2))),
            (vec!["strip"], None),
        ] {
            let mut c = chapmark();
            c.arg(cmd[0]).arg(&link);
            if let Some((file, _)) = expected {
                c.arg(cmd[1]).arg(file);
            }
            let o = c.output().unwrap();
            assert!(o.status.success(), "{}", stderr(&o));
            assert!(
                fs::symlink_metadata(&link)
                    .unwrap()
                    .file_type()
                    .is_symlink()
            );
            assert!(fs::symlink_metadata(&audio).unwrap().file_type().is_file());
            assert_eq!(mode(&audio), 0o640, "{name} {cmd:?}");
            match expected {
                Some((_, e)) => assert_eq!(&show(&audio), e),
                None => assert!(show(&audio).is_empty()),
            }
        }
        assert!(strays(dir.path(), &[&audio, &link]).is_empty());
    }
}

#[test]
fn strip_removes_chapters_and_keeps_the_audio() {
    require_tools!("ffmpeg", "ffprobe", "mutagen");
    for (rel, name) in [(MP3, "e.mp3"), (M4A, "e.m4a")] {
        let (dir, audio) = copy_of(rel, name);
        let md5 = ffmpeg_audio_md5(&audio);
        let payload = mp3_payload(&audio);
        // Nothing to strip yet: untouched.
        let before = fs::read(&audio).unwrap();
        let o = ok(run(&[&"strip", &audio]));
        assert!(stderr(&o).contains("no chapters"), "{}", stderr(&o));
        assert!(fs::read(&audio).unwrap() == before);

        let (chapters, _) = tricky_chapters(dir.path(), TITLES);
        ok(run(&[&"write", &audio, &"-c", &chapters]));
        let o = ok(run(&[&"strip", &audio]));
        assert!(stderr(&o).contains("removed chapters"), "{}", stderr(&o));
        assert!(show(&audio).is_empty());
        assert!(
            ffprobe_chapters(&audio).is_empty(),
            "{name}: ffprobe still sees chapters"
        );
        assert_eq!(ffmpeg_audio_md5(&audio), md5);
        if name.ends_with("mp3") {
            assert!(mp3_payload(&audio) == payload);
            // The episode had no ID3 tag: the one write added goes whole (an undo).
            assert!(
                fs::read(&audio).unwrap() == before,
                "write + strip is not an undo"
            );
        } else {
            assert!(mutagen_mp4(&audio).is_empty());
        }
        assert_decodes_cleanly(&audio);
        let stripped = fs::read(&audio).unwrap();
        ok(run(&[&"strip", &audio]));
        assert!(
            fs::read(&audio).unwrap() == stripped,
            "second strip changed the file"
        );
        assert!(strays(dir.path(), &[&audio]).is_empty());
    }
}

#[test]
fn show_prints_other_formats() {
    let (dir, audio) = copy_of(M4A, "e.m4a");
    let (chapters, _) = tricky_chapters(dir.path(), TITLES);
    ok(run(&[&"write", &audio, &"-c", &chapters]));
    let o = ok(run(&[&"show", &audio, &"--to", &"mp4chaps"]));
    let text = String::from_utf8(o.stdout).unwrap();
    assert!(text.starts_with("00:00:00.000 Intro 🎙️\n"), "{text}");
    assert!(text.contains("00:20:00.250 日本語のタイトル"), "{text}");
    let o = ok(run(&[&"show", &audio, &"--to", &"ffmetadata"]));
    let text = String::from_utf8(o.stdout).unwrap();
    assert!(text.starts_with(";FFMETADATA1"), "{text}");
    assert!(text.contains("END=2280000"), "{text}");
    // A file without chapters shows an empty list, not an error.
    let (_d, plain) = copy_of(MP3, "p.mp3");
    assert!(show(&plain).is_empty());
}

#[test]
fn descriptions_are_written_only_when_asked() {
    require_tools!("mutagen");
    let (dir, audio) = copy_of(MP3, "e.mp3");
    let notes = dir.path().join("notes.txt");
    fs::write(
        &notes,
        "0:00 Welcome\nWhat this show is about.\n10:00 The interview\nWe talk to Ada.\n",
    )
    .unwrap();
    ok(run(&[&"write", &audio, &"-c", &notes]));
    let (_, chapters) = mutagen_mp3(&audio);
    assert!(chapters.iter().all(|c| c.4.is_none()), "{chapters:?}");
    ok(run(&[&"write", &audio, &"-c", &notes, &"--descriptions"]));
    let (_, chapters) = mutagen_mp3(&audio);
    let descs: Vec<Option<&str>> = chapters.iter().map(|c| c.4.as_deref()).collect();
    assert_eq!(
        descs,
        [Some("What this show is about."), Some("We talk to Ada.")]
    );
    let titles: Vec<&str> = chapters.iter().map(|c| c.2.as_str()).collect();
    assert_eq!(titles, ["Welcome", "The interview"]);
}

#[test]
fn mp4_chapter_forms_can_be_chosen() {
    require_tools!("ffmpeg", "ffprobe", "mutagen");
    let (dir, audio) = copy_of(M4A, "e.m4a");
    let (chapters, expect) = tricky_chapters(dir.path(), TITLES);
    let nero_expect: Vec<(u64, String)> = expect.iter().map(|c| (c.0, c.2.clone())).collect();

    ok(run(&[
        &"write",
        &audio,
        &"-c",
        &chapters,
        &"--mp4-chapters",
        &"nero",
    ]));
    assert_eq!(mutagen_mp4(&audio), nero_expect, "nero: chpl");
    assert_eq!(ffprobe_chapters(&audio), without_urls(&expect));
    // chpl has no URLs, so show reads titles and times only.
    let shown = show(&audio);
    assert_eq!(without_urls(&shown), without_urls(&expect));
    assert!(shown.iter().all(|c| c.3.is_none()));

    ok(run(&[
        &"write",
        &audio,
        &"-c",
        &chapters,
        &"--mp4-chapters",
        &"quicktime",
    ]));
    assert!(
        mutagen_mp4(&audio).is_empty(),
        "quicktime only: no chpl left"
    );
    assert_eq!(ffprobe_chapters(&audio), without_urls(&expect));
    assert_eq!(show(&audio), expect, "the chapter track carries URLs");

    ok(run(&[&"write", &audio, &"-c", &chapters]));
    assert_eq!(mutagen_mp4(&audio), nero_expect);
    assert_eq!(show(&audio), expect);
    assert_decodes_cleanly(&audio);
}

/// Takes `flock(2)` on `file` the way a running chapmark writer holds it.
#[cfg(unix)]
fn hold_lock(file: &fs::File) {
    use std::os::fd::AsRawFd;
    // SAFETY: flock only reads the descriptor, which `file` keeps open.
    assert_eq!(unsafe { libc::flock(file.as_raw_fd(), libc::LOCK_EX) }, 0);
}

#[cfg(unix)]
#[test]
fn commands_wait_for_a_process_holding_the_file() {
    // `show` may roll back a journal; doing that while a live `write` patches the file
    // would corrupt it, so every command takes the file's lock first. Hold it like a writer.
    let (dir, audio) = copy_of(M4A, "e.m4a");
    let (chapters, expect) = tricky_chapters(dir.path(), TITLES);
    let held = fs::File::open(&audio).unwrap();
    hold_lock(&held);
    let spawn = |args: &[&dyn AsRef<std::ffi::OsStr>]| {
        let mut c = std::process::Command::new(env!("CARGO_BIN_EXE_chapmark"));
        for a in args {
            c.arg(a.as_ref());
        }
        c.stdout(std::process::Stdio::piped())
            .stderr(std::process::Stdio::piped())
            .spawn()
            .unwrap()
    };
    let mut write = spawn(&[&"write", &audio, &"-c", &chapters]);
    std::thread::sleep(std::time::Duration::from_millis(400));
    assert!(write.try_wait().unwrap().is_none(), "write did not wait");
    drop(held);
    let o = write.wait_with_output().unwrap();
    assert!(o.status.success(), "{}", stderr(&o));
    // A reader waits too.
    let held = fs::File::open(&audio).unwrap();
    hold_lock(&held);
    let mut reader = spawn(&[&"show", &audio]);
    std::thread::sleep(std::time::Duration::from_millis(400));
    assert!(reader.try_wait().unwrap().is_none(), "show did not wait");
    drop(held);
    let o = reader.wait_with_output().unwrap();
    assert!(o.status.success(), "{}", stderr(&o));
    assert_eq!(show(&audio), expect);
}

#[test]
fn a_url_too_long_for_mp4_is_left_out_with_a_warning() {
    let dir = tempfile::tempdir().unwrap();
    let long = format!("https://example.com/{}", "a".repeat(300));
    let chapters = dir.path().join("long.json");
    let doc = serde_json::json!({"version": "1.2.0", "chapters": [
        {"startTime": 0, "title": "A", "url": long},
        {"startTime": 60, "title": "B", "url": "https://example.com/b"},
    ]});
    fs::write(&chapters, doc.to_string()).unwrap();
    for (rel, name, kept) in [(M4A, "e.m4a", false), (MP3, "e.mp3", true)] {
        let (_d, audio) = copy_of(rel, name);
        let dry = ok(run(&[&"write", &audio, &"-c", &chapters, &"--dry-run"]));
        let o = ok(run(&[&"write", &audio, &"-c", &chapters]));
        if !kept {
            assert!(stderr(&o).contains("url-too-long"), "{}", stderr(&o));
        }
        let shown = show(&audio);
        assert_eq!(
            shown[0].3.as_deref(),
            kept.then_some(long.as_str()),
            "{name}"
        );
        assert_eq!(shown[1].3.as_deref(), Some("https://example.com/b"));
        // The dry run printed exactly what was then stored.
        let printed: Value = serde_json::from_slice(&dry.stdout).unwrap();
        assert_eq!(
            printed["chapters"][0]["url"].as_str(),
            shown[0].3.as_deref()
        );
    }
}

/// Chapters at the segment boundaries of stitched MP3s (fixtures/audio/stitched, parts at
/// 48/44.1/22.05 kHz, inner ID3v2/ID3v1 tags and Info frames): the write keeps every byte
/// after the first tag, ffprobe lists the chapters, and the file measures the same after.
#[test]
fn chapters_at_stitched_segment_boundaries() {
    for name in ["mixed-rate.mp3", "same-rate.mp3", "no-gapless.mp3"] {
        let (dir, audio) = copy_of(&format!("audio/stitched/{name}"), name);
        let before = mp3_payload(&audio);
        let info = chapmark::probe::probe_path(&audio).unwrap();
        let segs = &info.mp3.as_ref().unwrap().segments;
        let starts: Vec<u64> = segs.iter().map(|s| s.start_ms).collect();
        let text: String = starts
            .iter()
            .enumerate()
            .map(|(i, ms)| {
                format!(
                    "{}:{:02}.{:03} Part {}\n",
                    ms / 60_000,
                    ms / 1000 % 60,
                    ms % 1000,
                    i + 1
                )
            })
            .collect();
        let chapters = dir.path().join("chapters.txt");
        fs::write(&chapters, text).unwrap();
        ok(run(&[&"write", &audio, &"--chapters", &chapters]));
        assert!(
            mp3_payload(&audio) == before,
            "{name}: bytes after the first tag changed"
        );

        let end = info.duration.to_time_round().as_millis();
        let want: Vec<(u64, u64, String)> = starts
            .iter()
            .enumerate()
            .map(|(i, &ms)| {
                (
                    ms,
                    starts.get(i + 1).copied().unwrap_or(end),
                    format!("Part {}", i + 1),
                )
            })
            .collect();
        assert_eq!(ffprobe_chapters(&audio), want, "{name}");

        let again = chapmark::probe::probe_path(&audio).unwrap();
        assert_eq!(again.duration, info.duration, "{name}");
        let new = &again.mp3.as_ref().unwrap().segments;
        assert_eq!(
            new.iter()
                .map(|s| (s.samples, s.start_ms))
                .collect::<Vec<_>>(),
            segs.iter()
                .map(|s| (s.samples, s.start_ms))
                .collect::<Vec<_>>(),
            "{name}"
        );
    }
}
