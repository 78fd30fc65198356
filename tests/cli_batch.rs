//! End-to-end tests of `chapmark batch` on a generated archive: every status, the JSON Lines
//! report, exit codes and their precedence, the summary table, plain progress lines,
//! manifests, `--chapters-pattern`, sharding, `--jobs` determinism and resuming after an
//! interruption (a partial run, and a process killed in the middle of a write).
//!
//! The archive is built in a temporary folder from the committed fixtures (3 s MP3s, 20 s
//! M4As, `fixtures/audio/random.mp3` as the unreadable file) and sidecars written here.

mod common;

use chapmark::batch::{Record, Status};
use common::fixture;
use std::collections::{BTreeMap, BTreeSet};
use std::fs;
use std::path::{Path, PathBuf};
use std::process::Command;

const BIN: &str = env!("CARGO_BIN_EXE_chapmark");

// Sidecars for the 3 s MP3 fixtures (3.032 s / 3.056 s of audio).
const MP3_JSON: &str = r#"{"version":"1.2.0","chapters":[
  {"startTime":0,"title":"Intro"},
  {"startTime":1,"title":"Interview"},
  {"startTime":2,"title":"Outro"}]}
"#;
const MP3_DECOY_TXT: &str = "00:00 Decoy: the .chapters.json sidecar wins over this one\n";
const MP3_TXT: &str = "Episode 2 show notes.\n\n00:00 Welcome\n00:01 Main topic\n00:02 Goodbye\n";
const MP3_PSC: &str = r#"<?xml version="1.0" encoding="UTF-8"?>
<psc:chapters version="1.2" xmlns:psc="http://podlove.org/simple-chapters">
  <psc:chapter start="00:00:00.000" title="Cold open"/>
  <psc:chapter start="00:00:01.000" title="News"/>
  <psc:chapter start="00:00:02.000" title="Mailbag"/>
</psc:chapters>
"#;
const MP3_VTT: &str = "WEBVTT\n\n00:00:00.000 --> 00:00:01.000\nNew intro\n\n\
00:00:01.000 --> 00:00:02.000\nNew middle\n\n00:00:02.000 --> 00:00:03.000\nNew end\n";
// A chapter at 0:09 in a 3 s file: valid syntax, fails validation (past-end).
const MP3_PAST_END: &str = "00:00 Intro\n00:01 Main\n00:09 Listener questions\n";

// Sidecars for the 20 s M4A fixtures.
const M4A_FFMETA: &str = ";FFMETADATA1\n[CHAPTER]\nTIMEBASE=1/1000\nSTART=0\nEND=8000\n\
title=Start\n[CHAPTER]\nTIMEBASE=1/1000\nSTART=8000\nEND=14000\ntitle=Middle\n\
[CHAPTER]\nTIMEBASE=1/1000\nSTART=14000\nEND=20000\ntitle=Finish\n";
const M4A_MP4CHAPS: &str = "00:00:00.000 Opening\n00:00:07.500 Discussion\n00:00:13.000 Wrap-up\n";
const M4A_MD: &str = "# Episode 7\n\nIn this episode:\n\n- 00:00 Hello\n- 00:06 The story\n\
- 00:12 What next\n";
const M4A_CUE: &str = "TITLE \"Episode 8\"\nFILE \"ep08.m4a\" MP4\n  TRACK 01 AUDIO\n\
    TITLE \"Part one\"\n    INDEX 01 00:00:00\n  TRACK 02 AUDIO\n    TITLE \"Part two\"\n\
    INDEX 01 00:09:00\n  TRACK 03 AUDIO\n    TITLE \"Part three\"\n    INDEX 01 00:13:00\n";

/// One episode of the generated archive.
struct Episode {
    /// Path relative to the archive root.
    path: &'static str,
    /// Audio fixture it is a copy of.
    audio: &'static str,
    /// Sidecars written next to it: (suffix, content).
    sidecars: &'static [(&'static str, &'static str)],
    /// The sidecar chapmark must pick (suffix), if any.
    picked: Option<&'static str>,
    /// Status of a writing run on a fresh archive.
    status: Status,
    /// Titles that end up embedded (good episodes).
    titles: &'static [&'static str],
}

const EPISODES: &[Episode] = &[
    Episode {
        path: "season1/ep01.mp3",
        audio: "mp3/notag.mp3",
        sidecars: &[(".chapters.json", MP3_JSON), (".txt", MP3_DECOY_TXT)],
        picked: Some(".chapters.json"),
        status: Status::Written,
        titles: &["Intro", "Interview", "Outro"],
    },
    Episode {
        path: "season1/ep02.mp3",
        audio: "mp3/v23.mp3",
        sidecars: &[(".txt", MP3_TXT)],
        picked: Some(".txt"),
        status: Status::Written,
        titles: &["Welcome", "Main topic", "Goodbye"],
    },
    Episode {
        path: "season1/ep03.mp3",
        audio: "mp3/v24.mp3",
        sidecars: &[(".psc", MP3_PSC), (".md", MP3_DECOY_TXT)],
        picked: Some(".psc"),
        status: Status::Written,
        titles: &["Cold open", "News", "Mailbag"],
    },
    Episode {
        path: "season1/ep04.mp3",
        audio: "mp3/ffchap23.mp3",
        sidecars: &[(".vtt", MP3_VTT)],
        picked: Some(".vtt"),
        status: Status::Written,
        titles: &["New intro", "New middle", "New end"],
    },
    Episode {
        path: "season2/ep05.m4a",
        audio: "m4a/plain.m4a",
        sidecars: &[(".ffmetadata", M4A_FFMETA)],
        picked: Some(".ffmetadata"),
        status: Status::Written,
        titles: &["Start", "Middle", "Finish"],
    },
    Episode {
        path: "season2/ep06.m4a",
        audio: "m4a/faststart.m4a",
        sidecars: &[(".chapters.txt", M4A_MP4CHAPS)],
        picked: Some(".chapters.txt"),
        status: Status::Written,
        titles: &["Opening", "Discussion", "Wrap-up"],
    },
    Episode {
        path: "season2/ep07.m4a",
        audio: "m4a/chapters.m4a",
        sidecars: &[(".md", M4A_MD)],
        picked: Some(".md"),
        status: Status::Written,
        titles: &["Hello", "The story", "What next"],
    },
    Episode {
        path: "season2/ep08.m4a",
        audio: "m4a/cover.m4a",
        sidecars: &[(".cue", M4A_CUE)],
        picked: Some(".cue"),
        status: Status::Written,
        titles: &["Part one", "Part two", "Part three"],
    },
    Episode {
        path: "broken/late.mp3",
        audio: "mp3/v24.mp3",
        sidecars: &[(".txt", MP3_PAST_END)],
        picked: Some(".txt"),
        status: Status::Invalid,
        titles: &[],
    },
    Episode {
        path: "broken/garbled.m4a",
        audio: "m4a/plain.m4a",
        sidecars: &[(".chapters.json", "")], // replaced by fixtures/formats/bad/malformed.json
        picked: Some(".chapters.json"),
        status: Status::Unreadable,
        titles: &[],
    },
    Episode {
        path: "broken/orphan.mp3",
        audio: "mp3/notag.mp3",
        sidecars: &[],
        picked: None,
        status: Status::Unreadable,
        titles: &[],
    },
    Episode {
        path: "broken/noise.mp3",
        audio: "audio/random.mp3",
        sidecars: &[(".txt", MP3_TXT)],
        picked: Some(".txt"),
        status: Status::Unreadable,
        titles: &[],
    },
];

fn good() -> impl Iterator<Item = &'static Episode> {
    EPISODES.iter().filter(|e| e.status == Status::Written)
}

fn episode(path: &str) -> &'static Episode {
    EPISODES
        .iter()
        .find(|e| path.ends_with(e.path))
        .unwrap_or_else(|| panic!("{path} is not an episode of the archive"))
}

fn stem_path(ep: &Episode) -> String {
    let dot = ep.path.rfind('.').unwrap();
    ep.path[..dot].to_string()
}

/// The archive in a temporary folder; `root` holds `season1/`, `season2/`, `broken/`.
struct Archive {
    _dir: tempfile::TempDir,
    root: PathBuf,
}

fn archive() -> Archive {
    let dir = tempfile::tempdir().unwrap();
    let root = dir.path().join("show");
    for ep in EPISODES {
        let audio = root.join(ep.path);
        fs::create_dir_all(audio.parent().unwrap()).unwrap();
        fs::copy(fixture(ep.audio), &audio).unwrap();
        for (suffix, content) in ep.sidecars {
            let side = root.join(format!("{}{suffix}", stem_path(ep)));
            if ep.path == "broken/garbled.m4a" {
                fs::copy(fixture("formats/bad/malformed.json"), side).unwrap();
            } else {
                fs::write(side, content).unwrap();
            }
        }
    }
    // Things the walk must ignore: other files, hidden folders, chapmark's own siblings.
    fs::write(root.join("README.txt"), "not an episode\n").unwrap();
    fs::create_dir_all(root.join(".trash")).unwrap();
    fs::copy(fixture("mp3/notag.mp3"), root.join(".trash/old.mp3")).unwrap();
    fs::copy(fixture("mp3/notag.mp3"), root.join("season1/.ep09.mp3")).unwrap();
    Archive { _dir: dir, root }
}

/// Every file under `root` with its bytes (to prove what was and was not touched).
fn snapshot(root: &Path) -> BTreeMap<PathBuf, Vec<u8>> {
    fn go(dir: &Path, out: &mut BTreeMap<PathBuf, Vec<u8>>) {
        for item in fs::read_dir(dir).unwrap() {
            let path = item.unwrap().path();
            if path.is_dir() {
                go(&path, out);
            } else {
                out.insert(path.clone(), fs::read(&path).unwrap());
            }
        }
    }
    let mut out = BTreeMap::new();
    go(root, &mut out);
    out
}

/// The result of one `chapmark batch` run.
struct Run {
    code: Option<i32>,
    stderr: String,
    /// Report records by path, in file order.
    records: Vec<Record>,
}

impl Run {
    fn by_path(&self) -> BTreeMap<String, &Record> {
        let map: BTreeMap<String, &Record> =
            self.records.iter().map(|r| (r.path.clone(), r)).collect();
        assert_eq!(map.len(), self.records.len(), "duplicate records");
        map
    }

    fn status_of(&self, path: &str) -> Status {
        self.records
            .iter()
            .find(|r| r.path.ends_with(path))
            .unwrap_or_else(|| panic!("no record for {path}"))
            .status
    }

    fn statuses(&self) -> BTreeMap<String, Status> {
        self.records
            .iter()
            .map(|r| (r.path.clone(), r.status))
            .collect()
    }

    /// The summary table at the end of stderr: status → count.
    fn summary(&self) -> BTreeMap<String, usize> {
        let lines: Vec<&str> = self.stderr.lines().collect();
        let start = lines
            .iter()
            .rposition(|l| l.split_whitespace().eq(["status", "episodes"]))
            .unwrap_or_else(|| panic!("no summary table in:\n{}", self.stderr));
        lines[start + 1..]
            .iter()
            .map(|l| {
                let mut w = l.split_whitespace();
                let name = w.next().unwrap().to_string();
                let n = w.next().unwrap().parse().unwrap();
                assert_eq!(w.next(), None, "{l}");
                (name, n)
            })
            .collect()
    }

    fn count(&self, s: Status) -> usize {
        self.records.iter().filter(|r| r.status == s).count()
    }
}

/// Runs `chapmark batch ARGS --report <dir>/report-<n>.jsonl` in `cwd`.
fn batch(cwd: &Path, args: &[&str]) -> Run {
    batch_env(cwd, args, &[])
}

fn batch_env(cwd: &Path, args: &[&str], env: &[(&str, &str)]) -> Run {
    let report = tempfile::NamedTempFile::new().unwrap();
    let out = Command::new(BIN)
        .current_dir(cwd)
        .arg("batch")
        .args(args)
        .arg("--report")
        .arg(report.path())
        .envs(env.iter().copied())
        .env_remove("CHAPMARK_LOG")
        .output()
        .unwrap();
    let stderr = String::from_utf8(out.stderr).unwrap();
    let text = fs::read_to_string(report.path()).unwrap();
    let records = text
        .lines()
        .map(|l| {
            serde_json::from_str::<Record>(l)
                .unwrap_or_else(|e| panic!("bad report line {l:?}: {e}\n{stderr}"))
        })
        .collect();
    Run {
        code: out.status.code(),
        stderr,
        records,
    }
}

fn titles_in(audio: &Path) -> Vec<String> {
    let list = if audio.extension().unwrap() == "mp3" {
        chapmark::container::id3v2::read_chapters(audio).unwrap()
    } else {
        chapmark::container::mp4::read_chapters(audio).unwrap()
    };
    list.chapters.into_iter().map(|c| c.title).collect()
}

fn expected_counts(
    ok: usize,
    written: usize,
    unchanged: usize,
    invalid: usize,
    unreadable: usize,
) -> BTreeMap<String, usize> {
    [
        ("ok", ok),
        ("written", written),
        ("unchanged", unchanged),
        ("invalid", invalid),
        ("unreadable", unreadable),
        ("total", ok + written + unchanged + invalid + unreadable),
    ]
    .into_iter()
    .map(|(k, v)| (k.to_string(), v))
    .collect()
}

/// The central scenario: check, write, write again, check again — every status, every
/// record field, the exit code and the summary table.
#[test]
fn check_write_rewrite_cycle() {
    let a = archive();
    let root = a.root.parent().unwrap();
    let before = snapshot(&a.root);

    // 1. --check: validates only, touches nothing.
    let run = batch(root, &["show", "--check"]);
    assert_eq!(run.code, Some(3), "{}", run.stderr);
    assert_eq!(run.records.len(), EPISODES.len(), "{}", run.stderr);
    assert_eq!(
        run.summary(),
        expected_counts(8, 0, 0, 1, 3),
        "{}",
        run.stderr
    );
    for r in &run.records {
        let ep = episode(&r.path);
        let want = if ep.status == Status::Written {
            Status::Ok
        } else {
            ep.status
        };
        assert_eq!(r.status, want, "{r:?}");
        assert_eq!(r.bytes_written, 0, "{r:?}");
    }
    assert_eq!(
        snapshot(&a.root),
        before,
        "--check must not change any file"
    );

    // 2. Writing run.
    let run = batch(root, &["show"]);
    assert_eq!(run.code, Some(3), "{}", run.stderr);
    assert_eq!(
        run.summary(),
        expected_counts(0, 8, 0, 1, 3),
        "{}",
        run.stderr
    );
    let records = run.by_path();
    assert_eq!(records.len(), EPISODES.len());
    for ep in EPISODES {
        let path = format!("show/{}", ep.path);
        let r = records
            .get(&path)
            .unwrap_or_else(|| panic!("no record for {path}"));
        assert_eq!(r.status, ep.status, "{r:?}");
        let sidecar = ep.picked.map(|s| format!("show/{}{s}", stem_path(ep)));
        assert_eq!(r.chapters_file, sidecar, "{r:?}");
        assert!(r.elapsed_ms < 60_000, "{r:?}");
        let audio = a.root.join(ep.path);
        let original = fixture(ep.audio);
        match ep.status {
            Status::Written => {
                let want = if ep.path.ends_with(".mp3") {
                    3.0..3.1
                } else {
                    20.0..20.001
                };
                let d = r.duration.expect("duration measured");
                assert!(want.contains(&d), "{r:?}");
                assert_eq!(r.chapters, 3, "{r:?}");
                assert!(r.bytes_written > 0, "{r:?}");
                assert!(r.error.is_none(), "{r:?}");
                assert!(
                    r.diagnostics
                        .iter()
                        .all(|d| d.severity == chapmark::validate::Severity::Warning)
                );
                assert_eq!(titles_in(&audio), ep.titles, "{}", ep.path);
            }
            Status::Invalid => {
                assert_eq!(r.chapters, 3, "{r:?}");
                assert!(r.duration.is_some(), "{r:?}");
                assert_eq!(r.bytes_written, 0);
                assert!(r.error.is_none(), "{r:?}");
                let errors: Vec<_> = r
                    .diagnostics
                    .iter()
                    .filter(|d| d.severity == chapmark::validate::Severity::Error)
                    .collect();
                assert_eq!(errors.len(), 1, "{r:?}");
                assert_eq!(errors[0].rule.code(), "past-end");
                assert_eq!(errors[0].chapter, Some(3));
                assert_eq!(errors[0].line, Some(3));
                assert_eq!(errors[0].timestamp.as_deref(), Some("00:09"));
                assert_eq!(fs::read(&audio).unwrap(), fs::read(&original).unwrap());
            }
            _ => {
                assert_eq!(r.bytes_written, 0);
                assert_eq!(r.chapters, 0, "{r:?}");
                assert!(r.diagnostics.is_empty(), "{r:?}");
                let error = r.error.as_deref().expect("unreadable records say why");
                match ep.path {
                    "broken/garbled.m4a" => {
                        assert!(error.contains("garbled.chapters.json"), "{error}");
                        // The audio was measured before the chapters failed to parse.
                        assert_eq!(r.duration, Some(20.0));
                    }
                    "broken/orphan.mp3" => {
                        assert!(error.contains("no chapters sidecar found"), "{error}");
                        assert_eq!(r.duration, None);
                    }
                    "broken/noise.mp3" => {
                        assert!(error.contains("noise.mp3"), "{error}");
                        assert_eq!(r.duration, None);
                    }
                    other => panic!("{other}"),
                }
                assert_eq!(fs::read(&audio).unwrap(), fs::read(&original).unwrap());
            }
        }
    }
    // The ignored files are untouched, and no temporary or journal file is left behind.
    let after_write = snapshot(&a.root);
    for p in [".trash/old.mp3", "season1/.ep09.mp3", "README.txt"] {
        assert_eq!(after_write[&a.root.join(p)], before[&a.root.join(p)], "{p}");
    }
    assert_eq!(
        after_write.keys().collect::<Vec<_>>(),
        before.keys().collect::<Vec<_>>(),
        "a write run must not leave extra files"
    );

    // 3. Again: idempotent, everything good is `unchanged` and not rewritten.
    let mtimes: Vec<_> = good()
        .map(|e| {
            fs::metadata(a.root.join(e.path))
                .unwrap()
                .modified()
                .unwrap()
        })
        .collect();
    let run = batch(root, &["show"]);
    assert_eq!(run.code, Some(3));
    assert_eq!(
        run.summary(),
        expected_counts(0, 0, 8, 1, 3),
        "{}",
        run.stderr
    );
    for ep in good() {
        let r = run.by_path()[&format!("show/{}", ep.path)].clone();
        assert_eq!(r.status, Status::Unchanged, "{r:?}");
        assert_eq!(r.bytes_written, 0);
        assert_eq!(r.chapters, 3);
    }
    assert_eq!(
        snapshot(&a.root),
        after_write,
        "an unchanged run wrote something"
    );
    let mtimes_after: Vec<_> = good()
        .map(|e| {
            fs::metadata(a.root.join(e.path))
                .unwrap()
                .modified()
                .unwrap()
        })
        .collect();
    assert_eq!(mtimes, mtimes_after);

    // 4. --check after writing: still ok (check does not compare with what is embedded).
    let run = batch(root, &["show", "--check"]);
    assert_eq!(
        run.summary(),
        expected_counts(8, 0, 0, 1, 3),
        "{}",
        run.stderr
    );
}

/// Exit codes: 0 all good, 1 some invalid, 3 some unreadable; when both invalid and
/// unreadable episodes exist, 3 wins (an unreadable file may hide more invalid chapters,
/// and I/O trouble usually needs a person first).
#[test]
fn exit_codes_and_precedence() {
    let a = archive();
    let root = a.root.as_path();
    let cases: &[(&[&str], i32, Status)] = &[
        (&["season1", "season2"], 0, Status::Ok),
        (&["season1", "broken/late.mp3"], 1, Status::Invalid),
        (&["season2", "broken/orphan.mp3"], 3, Status::Unreadable),
        (&["season2", "broken/noise.mp3"], 3, Status::Unreadable),
        (&["broken/garbled.m4a", "season2"], 3, Status::Unreadable),
        (
            &["broken/late.mp3", "broken/noise.mp3"],
            3,
            Status::Unreadable,
        ),
    ];
    for (paths, code, worst) in cases {
        let mut args = paths.to_vec();
        args.push("--check");
        let run = batch(root, &args);
        assert_eq!(run.code, Some(*code), "{paths:?}\n{}", run.stderr);
        assert!(run.count(*worst) >= 1, "{paths:?}");
    }
    // The same with writing.
    let run = batch(root, &["season1", "broken/late.mp3"]);
    assert_eq!(run.code, Some(1), "{}", run.stderr);
    assert_eq!(run.count(Status::Written), 4);
    let run = batch(root, &["season1", "season2"]);
    assert_eq!(run.code, Some(0), "{}", run.stderr);
    assert_eq!(run.count(Status::Unchanged), 4);
    assert_eq!(run.count(Status::Written), 4);

    // Usage errors are 2 and process nothing.
    for bad in [
        &["season1", "--shard", "0/3"][..],
        &["season1", "--shard", "4/3"],
        &["season1", "--shard", "two"],
        &["season1", "--jobs", "0"],
    ] {
        let run = batch(root, bad);
        assert_eq!(run.code, Some(2), "{bad:?}: {}", run.stderr);
        assert!(run.records.is_empty());
    }
    // A path that does not exist stops the run (exit 3) rather than passing with nothing.
    let run = batch(root, &["season1", "no-such-folder", "--check"]);
    assert_eq!(run.code, Some(3), "{}", run.stderr);
    assert!(run.stderr.contains("no-such-folder"), "{}", run.stderr);
}

/// Without a terminal on stderr, progress is one plain line per episode; `-q` silences it.
#[test]
fn plain_progress_lines_without_a_tty() {
    let a = archive();
    let run = batch(&a.root, &[".", "--check", "--jobs", "2"]);
    let n = EPISODES.len();
    let progress: Vec<&str> = run.stderr.lines().filter(|l| l.starts_with('[')).collect();
    assert_eq!(progress.len(), n, "{}", run.stderr);
    let mut seen = BTreeSet::new();
    for line in &progress {
        // `[3/12] invalid    ./broken/late.mp3: chapter 3 (line 3): start 00:09 is past …`
        let (counter, rest) = line.split_once("] ").unwrap();
        let (i, total) = counter[1..].split_once('/').unwrap();
        assert_eq!(total.parse::<usize>().unwrap(), n);
        assert!(seen.insert(i.parse::<usize>().unwrap()), "{line}");
        let mut words = rest.split_whitespace();
        let status = words.next().unwrap();
        let path = words.next().unwrap().trim_end_matches(':');
        let r = run.records.iter().find(|r| r.path == path).unwrap();
        assert_eq!(status, r.status.name(), "{line}");
        match r.status {
            Status::Invalid => assert!(line.contains("past the end"), "{line}"),
            Status::Unreadable => {
                // The error follows, without the path said twice.
                assert!(line.len() > path.len() + 14, "{line}");
                assert_eq!(line.matches(path).count(), 1, "{line}");
            }
            _ => {}
        }
    }
    assert_eq!(seen, (1..=n).collect());
    // No terminal control sequences (no bar) in a pipe.
    assert!(!run.stderr.contains('\x1b'), "{:?}", run.stderr);

    let out = Command::new(BIN)
        .current_dir(&a.root)
        .args(["-q", "batch", ".", "--check"])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(3));
    let stderr = String::from_utf8(out.stderr).unwrap();
    assert!(
        !stderr.contains("[1/") && !stderr.contains("episodes"),
        "{stderr}"
    );
}

/// Manifests: CSV (header, comment, quoting, empty chapters column → sidecar) and JSON
/// Lines; chapters files named by the manifest win over sidecars; paths are relative to the
/// manifest; a listed file that does not exist is one unreadable record.
#[test]
fn manifests() {
    let a = archive();
    let root = a.root.as_path();
    fs::create_dir_all(root.join("lists/chapters")).unwrap();
    fs::write(
        root.join("lists/chapters/first episode.json"),
        r#"{"version":"1.2.0","chapters":[{"startTime":0,"title":"From the manifest"},{"startTime":1.5,"title":"Second half"}]}"#,
    )
    .unwrap();
    fs::write(
        root.join("lists/episodes.csv"),
        "audio,chapters\n\
         # relative to this file\n\
         ../season1/ep01.mp3,\"chapters/first episode.json\"\n\
         \"../season2/ep05.m4a\",\n\
         ../broken/late.mp3,../broken/late.txt\n\
         ../missing.mp3,chapters/first episode.json\n",
    )
    .unwrap();
    let run = batch(root, &["lists/episodes.csv"]);
    assert_eq!(run.code, Some(3), "{}", run.stderr);
    let by = run.by_path();
    assert_eq!(by.len(), 4, "{:?}", run.records);
    let ep01 = by["lists/../season1/ep01.mp3"];
    assert_eq!(ep01.status, Status::Written);
    assert_eq!(
        ep01.chapters_file.as_deref(),
        Some("lists/chapters/first episode.json")
    );
    assert_eq!(ep01.chapters, 2);
    assert_eq!(
        titles_in(&root.join("season1/ep01.mp3")),
        ["From the manifest", "Second half"]
    );
    let ep05 = by["lists/../season2/ep05.m4a"];
    assert_eq!(ep05.status, Status::Written);
    assert_eq!(
        ep05.chapters_file.as_deref(),
        Some("lists/../season2/ep05.ffmetadata")
    );
    assert_eq!(by["lists/../broken/late.mp3"].status, Status::Invalid);
    let missing = by["lists/../missing.mp3"];
    assert_eq!(missing.status, Status::Unreadable);
    assert!(missing.error.as_deref().unwrap().contains("missing.mp3"));

    // JSON Lines, absolute and relative paths; the same file twice is processed once.
    let abs = root.join("season2/ep06.m4a");
    let jsonl = format!(
        "{{\"audio\": \"../season1/ep02.mp3\", \"chapters\": \"../season1/ep02.txt\"}}\n\
         \n\
         {{\"audio\": {abs:?}}}\n\
         {{\"audio\": \"../season2/ep06.m4a\"}}\n\
         {{\"audio\": \"../broken/noise.mp3\", \"chapters\": null}}\n"
    );
    fs::write(root.join("lists/episodes.jsonl"), jsonl).unwrap();
    let run = batch(root, &["lists/episodes.jsonl", "--check"]);
    assert_eq!(run.code, Some(3), "{}", run.stderr);
    assert_eq!(run.records.len(), 3, "{:?}", run.records);
    assert_eq!(run.status_of("season1/ep02.mp3"), Status::Ok);
    assert_eq!(run.status_of("season2/ep06.m4a"), Status::Ok);
    assert_eq!(run.status_of("broken/noise.mp3"), Status::Unreadable);

    // A malformed manifest names the line and stops before processing anything.
    fs::write(
        root.join("lists/bad.jsonl"),
        "{\"audio\": \"a.mp3\"}\n{\"audio\": \n",
    )
    .unwrap();
    let run = batch(root, &["lists/bad.jsonl", "--check"]);
    assert_eq!(run.code, Some(3), "{}", run.stderr);
    assert!(
        run.stderr.contains("lists/bad.jsonl line 2"),
        "{}",
        run.stderr
    );
    assert!(run.records.is_empty());

    // Also when writing: the manifest is streamed to the workers, but every line is parsed
    // before the first episode is touched (here a writable episode on line 1, a bad quote on
    // line 3).
    fs::write(
        root.join("lists/bad.csv"),
        "../season1/ep03.mp3,../season1/ep03.txt\n# fine\n\"../season1/ep04.mp3,x\n",
    )
    .unwrap();
    let before = snapshot(root);
    let run = batch(root, &["lists/bad.csv"]);
    assert_eq!(run.code, Some(3), "{}", run.stderr);
    assert!(
        run.stderr.contains("lists/bad.csv line 3"),
        "{}",
        run.stderr
    );
    assert!(run.records.is_empty());
    assert_eq!(snapshot(root), before, "nothing written");
}

/// `--chapters-pattern` replaces the sidecar search, with `{dir}`, `{stem}`, `{name}` and
/// `{ext}` placeholders; a missing file is unreadable and names the path it looked for.
#[test]
fn chapters_pattern() {
    let a = archive();
    let root = a.root.as_path();
    fs::create_dir_all(root.join("season1/notes")).unwrap();
    fs::write(
        root.join("season1/notes/ep01-mp3.txt"),
        "00:00 Pattern intro\n00:02 Pattern end\n",
    )
    .unwrap();
    fs::write(
        root.join("season1/notes/ep02-mp3.txt"),
        "00:00 Second intro\n00:01 Second end\n",
    )
    .unwrap();
    let run = batch(
        root,
        &[
            "season1",
            "--chapters-pattern",
            "{dir}/notes/{stem}-{ext}.txt",
        ],
    );
    assert_eq!(run.code, Some(3), "{}", run.stderr);
    let by = run.by_path();
    assert_eq!(by.len(), 4);
    assert_eq!(by["season1/ep01.mp3"].status, Status::Written);
    assert_eq!(
        by["season1/ep01.mp3"].chapters_file.as_deref(),
        Some("season1/notes/ep01-mp3.txt")
    );
    assert_eq!(
        titles_in(&root.join("season1/ep01.mp3")),
        ["Pattern intro", "Pattern end"]
    );
    assert_eq!(by["season1/ep02.mp3"].status, Status::Written);
    // ep03 has a sidecar, but the pattern is the only place looked at.
    let ep03 = by["season1/ep03.mp3"];
    assert_eq!(ep03.status, Status::Unreadable);
    assert_eq!(ep03.chapters_file, None);
    assert!(
        ep03.error
            .as_deref()
            .unwrap()
            .contains("season1/notes/ep03-mp3.txt"),
        "{ep03:?}"
    );

    // `{name}` and a pattern relative to the working directory.
    fs::create_dir_all(root.join("all-notes")).unwrap();
    fs::write(root.join("all-notes/ep05.m4a.vtt"), MP3_VTT).unwrap();
    let run = batch(
        root,
        &[
            "season2/ep05.m4a",
            "--check",
            "--chapters-pattern",
            "all-notes/{name}.vtt",
        ],
    );
    assert_eq!(run.code, Some(0), "{}", run.stderr);
    assert_eq!(
        run.records[0].chapters_file.as_deref(),
        Some("all-notes/ep05.m4a.vtt")
    );
}

/// Shards 1..N together process every episode exactly once, with the same results as one
/// unsharded run, whatever N; the split depends only on paths relative to the folder walked,
/// so machines that mount the archive at different places agree.
#[test]
fn shards_cover_everything_exactly_once() {
    let a = archive();
    let root = a.root.parent().unwrap();
    let full = batch(root, &["show", "--check"]);
    let full_statuses = full.statuses();
    assert_eq!(full_statuses.len(), EPISODES.len());

    for n in [1u32, 2, 3, 5, 16] {
        let mut union: Vec<Record> = Vec::new();
        let mut exit_codes = Vec::new();
        for k in 1..=n {
            let run = batch(root, &["show", "--check", "--shard", &format!("{k}/{n}")]);
            exit_codes.push(run.code);
            // The summary counts only this shard.
            assert_eq!(run.summary()["total"], run.records.len(), "{}", run.stderr);
            union.extend(run.records);
        }
        let paths: Vec<&String> = union.iter().map(|r| &r.path).collect();
        let unique: BTreeSet<&String> = paths.iter().copied().collect();
        assert_eq!(paths.len(), unique.len(), "n={n}: an episode in two shards");
        let statuses: BTreeMap<String, Status> =
            union.iter().map(|r| (r.path.clone(), r.status)).collect();
        assert_eq!(statuses, full_statuses, "n={n}");
        if n == 16 {
            // More shards than episodes: some are empty, and an empty shard succeeds.
            assert!(exit_codes.contains(&Some(0)), "{exit_codes:?}");
        }
    }

    // Another machine, another mount point, an absolute path: the same shard.
    let b = archive();
    let elsewhere = tempfile::tempdir().unwrap();
    let shard_here = batch(root, &["show", "--check", "--shard", "2/3"]);
    let abs = b.root.to_str().unwrap();
    let shard_there = batch(elsewhere.path(), &[abs, "--check", "--shard", "2/3"]);
    let rel = |run: &Run, prefix: &str| -> BTreeSet<String> {
        run.records
            .iter()
            .map(|r| r.path.strip_prefix(prefix).unwrap().to_string())
            .collect()
    };
    assert!(!rel(&shard_here, "show/").is_empty());
    assert_eq!(
        rel(&shard_here, "show/"),
        rel(&shard_there, &format!("{abs}/"))
    );

    // Reports from shards concatenate into one valid report.
    let mut all = String::new();
    for k in 1..=3 {
        let report = root.join(format!("shard-{k}.jsonl"));
        let out = Command::new(BIN)
            .current_dir(root)
            .args(["batch", "show", "--check", "--shard", &format!("{k}/3")])
            .arg("--report")
            .arg(&report)
            .output()
            .unwrap();
        assert!(out.status.code().is_some());
        all.push_str(&fs::read_to_string(&report).unwrap());
    }
    let records: Vec<Record> = all
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    let statuses: BTreeMap<String, Status> =
        records.iter().map(|r| (r.path.clone(), r.status)).collect();
    assert_eq!(records.len(), EPISODES.len());
    assert_eq!(statuses, full_statuses);
}

/// `--jobs 1` and `--jobs 2` produce the same records (only `elapsed_ms` and the order of
/// lines may differ) and the same files.
#[test]
fn jobs_do_not_change_results() {
    let mut results = Vec::new();
    for jobs in ["1", "2"] {
        let a = archive();
        let run = batch(&a.root, &[".", "--jobs", jobs]);
        assert_eq!(run.code, Some(3), "{}", run.stderr);
        let mut records = run.records.clone();
        for r in &mut records {
            r.elapsed_ms = 0;
        }
        records.sort_by(|a, b| a.path.cmp(&b.path));
        let files: Vec<Vec<u8>> = snapshot(&a.root).into_values().collect();
        results.push((records, files));
    }
    assert_eq!(results[0].0.len(), EPISODES.len());
    assert_eq!(results[0].0, results[1].0);
    assert!(results[0].1 == results[1].1, "the written files differ");
}

/// A partial run (one shard of two, as if the job had been cancelled halfway) followed by a
/// full run: what was done is `unchanged`, the rest is `written`.
#[test]
fn resume_after_partial_run() {
    let a = archive();
    let root = a.root.parent().unwrap();
    let first = batch(root, &["show", "--shard", "1/2"]);
    let done: BTreeSet<String> = first
        .records
        .iter()
        .filter(|r| r.status == Status::Written)
        .map(|r| r.path.clone())
        .collect();
    assert!(!done.is_empty() && done.len() < 8, "{done:?}");

    let second = batch(root, &["show"]);
    assert_eq!(
        second.summary(),
        expected_counts(0, 8 - done.len(), done.len(), 1, 3)
    );
    for r in &second.records {
        let want = match episode(&r.path).status {
            Status::Written if done.contains(&r.path) => Status::Unchanged,
            s => s,
        };
        assert_eq!(r.status, want, "{r:?}");
    }
    for ep in good() {
        assert_eq!(titles_in(&a.root.join(ep.path)), ep.titles);
    }
}

/// The process killed in the middle of a write (fault injection: abort with no cleanup) at
/// each stage of both write kinds; running again finishes the archive, leaves no temporary
/// or journal files, and every episode ends up with exactly its sidecar's chapters.
/// Needs the fault hook: `cargo test --features fault-injection` (as `.ci/run` does).
#[cfg(feature = "fault-injection")]
#[test]
fn resume_after_a_killed_run() {
    // 2: journal written; 3: patch half written; 4: patched, journal not deleted;
    // 8: space inserted at the start; 9: file extended at its end. With one job, episodes
    // are done in path order: in `show` the first write is season1/ep01.mp3 (no tag: space
    // inserted at the start) and the first growth at the end season2/ep05.m4a (moov at the
    // end, after the MP3s). No episode here is rebuilt (points 5–7): tests/kill.rs covers
    // those. The M4As of `show/season2` are tagged and stripped first, which leaves room in
    // `moov`, so the killed write of ep05.m4a is in place.
    let mp3 = ["2", "3", "4", "8", "9"].map(|f| ("show", f));
    let m4a = ["2", "3", "4"].map(|f| ("show/season2", f));
    for (scope, fault) in mp3.into_iter().chain(m4a) {
        let a = archive();
        let root = a.root.parent().unwrap();
        if scope == "show/season2" {
            assert_eq!(batch(root, &[scope]).count(Status::Written), 4);
            for ep in good().filter(|e| e.path.starts_with("season2/")) {
                let out = Command::new(BIN)
                    .args(["-q", "strip"])
                    .arg(a.root.join(ep.path))
                    .output()
                    .unwrap();
                assert!(out.status.success());
                assert!(titles_in(&a.root.join(ep.path)).is_empty());
            }
        }
        let killed = batch_env(
            root,
            &[scope, "--jobs", "1"],
            &[(chapmark::write::apply::FAULT_ENV, fault)],
        );
        let fault = format!("{scope} fault {fault}");
        assert_eq!(
            killed.code, None,
            "fault {fault}: not killed\n{}",
            killed.stderr
        );
        // The report is a valid prefix (one JSON object per line) of the full one.
        assert!(killed.records.len() < EPISODES.len(), "fault {fault}");

        let resumed = batch(root, &["show", "--jobs", "2"]);
        assert_eq!(resumed.code, Some(3), "fault {fault}: {}", resumed.stderr);
        let mut finished = 0;
        for r in &resumed.records {
            let ep = episode(&r.path);
            if ep.status == Status::Written {
                assert!(
                    matches!(r.status, Status::Written | Status::Unchanged),
                    "fault {fault}: {r:?}"
                );
                finished += 1;
            } else {
                assert_eq!(r.status, ep.status, "fault {fault}: {r:?}");
            }
        }
        assert_eq!(finished, 8, "fault {fault}");
        assert!(
            resumed.count(Status::Unchanged) >= killed.count(Status::Written),
            "fault {fault}"
        );
        for ep in good() {
            assert_eq!(
                titles_in(&a.root.join(ep.path)),
                ep.titles,
                "fault {fault}: {}",
                ep.path
            );
        }
        let leftovers: Vec<PathBuf> = snapshot(&a.root)
            .into_keys()
            .filter(|p| p.to_string_lossy().contains(".chapmark"))
            .collect();
        assert!(leftovers.is_empty(), "fault {fault}: {leftovers:?}");
        // And a third run has nothing left to do.
        let again = batch(root, &["show"]);
        assert_eq!(again.count(Status::Unchanged), 8, "fault {fault}");
    }
}
