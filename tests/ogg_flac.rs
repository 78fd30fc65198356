//! Chapters in Ogg Opus, Ogg Vorbis and FLAC, end to end through the binary, checked with
//! the outside readers: ffprobe (chapters), mutagen (the comments, vendor string), metaflac
//! and `flac -t` (FLAC blocks, STREAMINFO MD5), `ffmpeg -map 0:a -c copy -f md5` (the audio
//! packets are unchanged) and `oggz-validate` (the Ogg pages). Fixtures: `fixtures/ogg_flac/`
//! (made by its `make.sh`) and real files from AntennaPod and mutagen (`real/README.md`).

use assert_cmd::Command;
use chapmark::container::flac::blocks;
use chapmark::container::ogg::pages::read_page;
use serde_json::Value;
use std::fs;
use std::path::{Path, PathBuf};
use std::process::Output;

mod common;

fn fixture(rel: &str) -> PathBuf {
    common::fixture(&format!("ogg_flac/{rel}"))
}

fn chapmark(args: &[&dyn AsRef<std::ffi::OsStr>]) -> Output {
    let mut c = Command::cargo_bin("chapmark").unwrap();
    c.env_remove("CHAPMARK_FAULT").env_remove("CHAPMARK_LOG");
    for a in args {
        c.arg(a.as_ref());
    }
    let o = c.output().unwrap();
    assert!(
        o.status.success(),
        "chapmark {:?} failed: {}",
        args.iter()
            .map(|a| a.as_ref().to_owned())
            .collect::<Vec<_>>(),
        String::from_utf8_lossy(&o.stderr)
    );
    o
}

fn tool(cmd: &str, args: &[&str], path: &Path) -> String {
    let o = std::process::Command::new(cmd)
        .args(args)
        .arg(path)
        .output()
        .unwrap_or_else(|e| panic!("{cmd} is installed: {e}"));
    assert!(
        o.status.success(),
        "{cmd} {args:?} {}: {}{}",
        path.display(),
        String::from_utf8_lossy(&o.stdout),
        String::from_utf8_lossy(&o.stderr)
    );
    String::from_utf8_lossy(&o.stdout).into_owned()
}

/// (start ms, title, url) as `chapmark show` prints them (Podcasting 2.0 JSON).
fn shown(path: &Path) -> Vec<(u64, String, Option<String>)> {
    let o = chapmark(&[&"show", &path]);
    let v: Value = serde_json::from_slice(&o.stdout).unwrap();
    v["chapters"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| {
            (
                (c["startTime"].as_f64().unwrap() * 1000.0).round() as u64,
                c["title"].as_str().unwrap().to_string(),
                c["url"].as_str().map(str::to_string),
            )
        })
        .collect()
}

/// ffprobe's chapters: (start ms, title).
fn ffprobe_chapters(path: &Path) -> Vec<(u64, String)> {
    let out = tool(
        "ffprobe",
        &["-v", "error", "-show_chapters", "-of", "json"],
        path,
    );
    let v: Value = serde_json::from_str(&out).unwrap();
    v["chapters"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| {
            let start = c["start_time"].as_str().unwrap().parse::<f64>().unwrap();
            (
                (start * 1000.0).round() as u64,
                c["tags"]["title"].as_str().unwrap_or("").to_string(),
            )
        })
        .collect()
}

/// mutagen's view: vendor string and every comment as (key, value), in file order.
fn mutagen_comments(path: &Path) -> (String, Vec<(String, String)>) {
    const SCRIPT: &str = r#"
import json, sys
from mutagen import File
t = File(sys.argv[1]).tags
print(json.dumps({"vendor": t.vendor, "comments": [[k, v] for k, v in t]}))
"#;
    let v: Value = serde_json::from_str(&tool("/usr/bin/python3", &["-c", SCRIPT], path)).unwrap();
    let comments = v["comments"]
        .as_array()
        .unwrap()
        .iter()
        .map(|kv| {
            (
                kv[0].as_str().unwrap().to_string(),
                kv[1].as_str().unwrap().to_string(),
            )
        })
        .collect();
    (v["vendor"].as_str().unwrap().to_string(), comments)
}

fn is_chapter_key(k: &str) -> bool {
    k.to_ascii_uppercase().starts_with("CHAPTER")
}

/// The audio packets' MD5 as ffmpeg copies them (no decoding).
fn audio_md5(path: &Path) -> String {
    tool(
        "ffmpeg",
        &[
            "-v", "error", "-map", "0:a", "-c", "copy", "-f", "md5", "-", "-i",
        ],
        path,
    )
}

/// The audio checks: unchanged packets, and a valid container.
fn assert_audio_kept(original: &Path, written: &Path) {
    if written.extension().is_some_and(|e| e == "flac") {
        let md5 = |p: &Path| tool("metaflac", &["--show-md5sum"], p);
        assert_eq!(md5(written), md5(original), "streaminfo md5");
        tool("flac", &["-t", "-s"], written);
        // Every block but the comments and padding, byte for byte.
        let kept = |p: &Path| {
            let mut f = fs::File::open(p).unwrap();
            let m = blocks::read(&mut f, "x").unwrap();
            let len = m.file_len - m.audio_offset;
            let blocks: Vec<(u8, Vec<u8>)> = m
                .blocks
                .into_iter()
                .filter(|b| b.kind != blocks::VORBIS_COMMENT && b.kind != blocks::PADDING)
                .map(|b| (b.kind, b.body))
                .collect();
            (blocks, len)
        };
        assert_eq!(kept(written), kept(original), "flac blocks and frames");
        let bytes = |p: &Path| {
            let d = fs::read(p).unwrap();
            let mut f = fs::File::open(p).unwrap();
            let m = blocks::read(&mut f, "x").unwrap();
            d[m.audio_offset as usize..].to_vec()
        };
        assert!(
            bytes(written) == bytes(original),
            "flac frames byte for byte"
        );
    } else {
        tool("oggz-validate", &[], written);
        assert_eq!(audio_md5(written), audio_md5(original), "ogg audio packets");
        assert_eq!(
            audio_granules(written),
            audio_granules(original),
            "granules"
        );
    }
}

/// Every page of the file: (serial, sequence number, granule, body).
fn pages(path: &Path) -> Vec<(u32, u32, u64, Vec<u8>)> {
    let data = fs::read(path).unwrap();
    let mut r = &data[..];
    let mut out = Vec::new();
    while let Some((p, body)) = read_page(&mut r).unwrap() {
        out.push((p.serial, p.seq, p.granule, body));
    }
    out
}

/// Granules and bodies of the pages with a granule above 0 (the audio pages); also checks
/// that sequence numbers run without a gap.
fn audio_granules(path: &Path) -> Vec<(u64, Vec<u8>)> {
    let all = pages(path);
    for (i, (_, seq, _, _)) in all.iter().enumerate() {
        assert_eq!(
            *seq as usize,
            i,
            "{}: page sequence numbers",
            path.display()
        );
    }
    all.into_iter()
        .filter(|p| p.2 != 0 && p.2 != u64::MAX)
        .map(|p| (p.2, p.3))
        .collect()
}

const NOTES: &str = "0:00 Intro ❤️😊 https://example.com/a\n0:01.5 Zwei ßöÄ\n\
                     0:02 Drei 爱 https://example.com/ü?q=1\n0:02.5 Vier\n";

fn expected() -> Vec<(u64, String, Option<String>)> {
    vec![
        (0, "Intro ❤️😊".into(), Some("https://example.com/a".into())),
        (1500, "Zwei ßöÄ".into(), None),
        (
            2000,
            "Drei 爱".into(),
            Some("https://example.com/%C3%BC?q=1".into()),
        ),
        (2500, "Vier".into(), None),
    ]
}

/// The comments chapmark writes for [`expected`].
fn expected_comments() -> Vec<(String, String)> {
    let mut out = Vec::new();
    for (i, (ms, title, url)) in expected().into_iter().enumerate() {
        let n = i + 1;
        out.push((
            format!("CHAPTER{n:03}"),
            format!("00:00:{:02}.{:03}", ms / 1000, ms % 1000),
        ));
        out.push((format!("CHAPTER{n:03}NAME"), title));
        if let Some(u) = url {
            out.push((format!("CHAPTER{n:03}URL"), u));
        }
    }
    out
}

fn copy_to(dir: &Path, rel: &str) -> PathBuf {
    common::copy_fixture(&format!("ogg_flac/{rel}"), dir)
}

#[test]
fn auphonic_files_show_their_four_chapters() {
    for f in ["real/auphonic.ogg", "real/auphonic.opus"] {
        let want: Vec<(u64, String, Option<String>)> = [
            "Chapter 1 - ❤️😊",
            "Chapter 2 - ßöÄ",
            "Chapter 3 - 爱",
            "Chapter 4",
        ]
        .iter()
        .enumerate()
        .map(|(i, t)| {
            (
                i as u64 * 3000,
                t.to_string(),
                Some("https://example.com".into()),
            )
        })
        .collect();
        assert_eq!(shown(&fixture(f)), want, "{f}");
        let titles: Vec<(u64, String)> = want.iter().map(|c| (c.0, c.1.clone())).collect();
        assert_eq!(ffprobe_chapters(&fixture(f)), titles, "{f}: ffprobe agrees");
        let check = chapmark(&[&"check", &fixture(f), &"--format", &"json"]);
        let v: Value = serde_json::from_slice(&check.stdout).unwrap();
        assert_eq!(v["chapters"], 4, "{f}");
    }
    // Two-digit keys as opusenc --comment wrote them.
    assert_eq!(
        shown(&fixture("chaptered.opus")),
        vec![
            (0, "Eins".into(), None),
            (
                1250,
                "Zwei ßöÄ".into(),
                Some("https://example.com/2".into())
            )
        ]
    );
}

#[test]
fn a_flac_with_a_cuesheet_is_measured_and_written() {
    let f = fixture("real/silence-44-s.flac");
    let info = chapmark::probe::probe_path(&f).unwrap();
    assert_eq!((info.duration.samples, info.sample_rate), (162_496, 44_100));
    assert_eq!(info.method, chapmark::probe::Method::Header);
    assert!(info.warnings.is_empty(), "{:?}", info.warnings);
    let dir = tempfile::tempdir().unwrap();
    let audio = copy_to(dir.path(), "real/silence-44-s.flac");
    let notes = dir.path().join("notes.txt");
    fs::write(&notes, NOTES).unwrap();
    chapmark(&[&"-q", &"write", &audio, &"-c", &notes]);
    assert_eq!(shown(&audio), expected());
    assert_audio_kept(&f, &audio);
    let list = tool("metaflac", &["--list"], &audio);
    assert!(list.contains("type: 5 (CUESHEET)") && list.contains("type: 6 (PICTURE)"));
    assert!(
        list.contains("comment[7]: CHAPTER001=00:00:00.000"),
        "{list}"
    );
}

struct Case {
    file: &'static str,
    /// What the first write does.
    first: &'static [&'static str],
}

const CASES: &[Case] = &[
    Case {
        file: "opus.opus",
        first: &["in place"],
    },
    Case {
        file: "opus-nopad.opus",
        // Where the file system cannot insert, the same bytes are rebuilt.
        first: &["grown in place", "rewritten"],
    },
    Case {
        file: "opus-cover.opus",
        first: &["in place"],
    },
    Case {
        file: "chaptered.opus",
        first: &["in place"],
    },
    Case {
        file: "vorbis.ogg",
        first: &["rewritten"],
    },
    Case {
        file: "flac.flac",
        first: &["in place"],
    },
    Case {
        file: "real/multipage-setup.ogg",
        first: &["rewritten"],
    },
    Case {
        file: "oggflac.oga",
        first: &["rewritten"],
    },
    Case {
        file: "flac-nopad.flac",
        first: &["grown in place", "rewritten"],
    },
];

#[test]
fn written_chapters_are_read_by_ffprobe_mutagen_and_metaflac_and_the_audio_is_kept() {
    let dir = tempfile::tempdir().unwrap();
    let notes = dir.path().join("notes.txt");
    fs::write(&notes, NOTES).unwrap();
    for case in CASES {
        let original = fixture(case.file);
        let audio = copy_to(dir.path(), case.file);
        let o = chapmark(&[&"write", &audio, &"-c", &notes]);
        let msg = String::from_utf8_lossy(&o.stderr).into_owned();
        assert!(
            case.first.iter().any(|k| msg.contains(&format!("({k},"))),
            "{}: {msg}",
            case.file
        );
        assert_eq!(shown(&audio), expected(), "{}: show", case.file);
        let titles: Vec<(u64, String)> = expected().into_iter().map(|c| (c.0, c.1)).collect();
        assert_eq!(ffprobe_chapters(&audio), titles, "{}: ffprobe", case.file);
        let (vendor0, before) = mutagen_comments(&original);
        let (vendor, after) = mutagen_comments(&audio);
        assert_eq!(vendor, vendor0, "{}: vendor", case.file);
        let others = |c: &[(String, String)]| -> Vec<(String, String)> {
            c.iter()
                .filter(|(k, _)| !is_chapter_key(k))
                .cloned()
                .collect()
        };
        assert_eq!(
            others(&after),
            others(&before),
            "{}: other comments",
            case.file
        );
        let chapters: Vec<(String, String)> = after
            .iter()
            .filter(|(k, _)| is_chapter_key(k))
            .cloned()
            .collect();
        assert_eq!(chapters, expected_comments(), "{}: mutagen", case.file);
        if case.file.ends_with(".flac") {
            let list = tool(
                "metaflac",
                &["--list", "--block-type=VORBIS_COMMENT"],
                &audio,
            );
            assert!(
                list.contains("CHAPTER003URL=https://example.com/%C3%BC?q=1"),
                "{list}"
            );
        }
        assert_audio_kept(&original, &audio);

        // A second write of the same chapters changes nothing; a changed one fits in place.
        let o = chapmark(&[&"write", &audio, &"-c", &notes]);
        assert!(String::from_utf8_lossy(&o.stderr).contains("nothing written"));
        let edited = dir.path().join("edited.txt");
        fs::write(&edited, NOTES.replace("Vier", "Vier (fixed)")).unwrap();
        let o = chapmark(&[&"write", &audio, &"-c", &edited]);
        let msg = String::from_utf8_lossy(&o.stderr).into_owned();
        if !matches!(
            case.file,
            "vorbis.ogg" | "oggflac.oga" | "real/multipage-setup.ogg"
        ) {
            assert!(msg.contains("(in place,"), "{}: {msg}", case.file);
        }
        assert_eq!(shown(&audio)[3].1, "Vier (fixed)");
        assert_audio_kept(&original, &audio);

        // Strip: the chapters go, everything else stays.
        chapmark(&[&"-q", &"strip", &audio]);
        assert!(shown(&audio).is_empty(), "{}: strip", case.file);
        assert!(ffprobe_chapters(&audio).is_empty());
        let (_, stripped) = mutagen_comments(&audio);
        assert_eq!(stripped, others(&before), "{}: after strip", case.file);
        assert_audio_kept(&original, &audio);
        if matches!(case.file, "opus.opus" | "flac.flac" | "opus-cover.opus") {
            // Padding took the change both ways: the original bytes come back.
            assert!(
                fs::read(&audio).unwrap() == fs::read(&original).unwrap(),
                "{}: strip restores the original bytes",
                case.file
            );
        }
    }
}

/// Comments that need more pages than the old comment header had: the audio pages are
/// renumbered and re-checksummed while copied, their granules and bodies unchanged; and back.
#[test]
fn a_comment_header_that_needs_more_pages_renumbers_the_audio_pages() {
    let dir = tempfile::tempdir().unwrap();
    for file in ["opus.opus", "opus-cover.opus", "vorbis.ogg"] {
        let original = fixture(file);
        let audio = copy_to(dir.path(), file);
        let title = "x".repeat(200);
        let notes: String = (0..400)
            .map(|i| format!("{}:{:02}.{:03} {title} {i}\n", 0, i / 200, (i % 200) * 5))
            .collect();
        let path = dir.path().join("many.txt");
        fs::write(&path, notes).unwrap();
        let pages_before = pages(&original).len();
        let o = chapmark(&[&"write", &audio, &"-c", &path, &"--profile", &"default"]);
        assert!(
            String::from_utf8_lossy(&o.stderr).contains("(rewritten,"),
            "{file}: {}",
            String::from_utf8_lossy(&o.stderr)
        );
        let pages_after = pages(&audio).len();
        assert!(
            pages_after > pages_before,
            "{file}: {pages_before} → {pages_after} pages"
        );
        assert_eq!(shown(&audio).len(), 400);
        assert_eq!(ffprobe_chapters(&audio).len(), 400, "{file}: ffprobe");
        assert_audio_kept(&original, &audio);
        chapmark(&[&"-q", &"strip", &audio]);
        assert_audio_kept(&original, &audio);
        assert!(shown(&audio).is_empty());
    }
}

#[test]
fn batch_walks_ogg_and_flac_files() {
    let dir = tempfile::tempdir().unwrap();
    for f in ["opus.opus", "vorbis.ogg", "flac.flac"] {
        let audio = copy_to(dir.path(), f);
        fs::write(audio.with_extension("txt"), NOTES).unwrap();
    }
    fs::copy(fixture("vorbis.ogg"), dir.path().join("other.oga")).unwrap();
    fs::write(dir.path().join("other.txt"), NOTES).unwrap();
    chapmark(&[&"-q", &"batch", &dir.path(), &"--profile", &"default"]);
    for f in ["opus.opus", "vorbis.ogg", "flac.flac", "other.oga"] {
        assert_eq!(shown(&dir.path().join(f)), expected(), "{f}");
    }
}

/// Every prefix (at a stride) and deterministic corruptions of the fixtures: reading and
/// planning give a result or a typed error, never a panic.
#[test]
fn damaged_files_never_panic() {
    use chapmark::container::{flac, ogg};
    let dir = tempfile::tempdir().unwrap();
    let p = dir.path().join("x");
    let list = chapmark::ChapterList::new(vec![chapmark::Chapter::new(chapmark::Time::ZERO, "A")]);
    let mut seed = 0x2545_F491_4F6C_DD1Du64;
    let mut next = move || {
        seed ^= seed << 13;
        seed ^= seed >> 7;
        seed ^= seed << 17;
        seed
    };
    let mut tried = 0;
    for f in [
        "opus.opus",
        "vorbis.ogg",
        "oggflac.oga",
        "flac.flac",
        "real/silence-44-s.flac",
    ] {
        let data = fs::read(fixture(f)).unwrap();
        let mut variants: Vec<Vec<u8>> = (0..data.len().min(9000))
            .step_by(97)
            .map(|n| data[..n].to_vec())
            .collect();
        for _ in 0..60 {
            let mut d = data.clone();
            for _ in 0..(1 + next() % 6) {
                let pos = (next() % 4096.min(d.len() as u64)) as usize;
                d[pos] = next() as u8;
            }
            variants.push(d);
        }
        for v in variants {
            fs::write(&p, &v).unwrap();
            if f.ends_with(".flac") {
                let _ = flac::read_chapters(&p);
                let _ = flac::plan_write(&p, &list);
            } else {
                let _ = ogg::read_chapters(&p);
                let _ = ogg::plan_write(&p, &list);
            }
            let _ = chapmark::probe::probe_path(&p);
            tried += 1;
        }
    }
    assert!(tried > 300, "{tried}");
}
