//! `chapmark check` end to end: the real binary, so the real show-notes parser, probe and
//! embedded-chapter readers, the exit codes and the four report formats.
//!
//! Every command runs from the crate root with relative paths, so paths in the output (and in
//! the snapshots) are stable. Anything that writes works on a copy in a temporary directory.

use assert_cmd::Command;
use serde_json::Value;
use std::collections::BTreeSet;
use std::path::{Path, PathBuf};

// ---------------------------------------------------------------------------------------
// helpers

const ROOT: &str = env!("CARGO_MANIFEST_DIR");

const PEP_MP3: &str = "fixtures/episode/pep-think-38min.mp3";
const PEP_M4A: &str = "fixtures/episode/pep-think-38min.m4a";
const PEP_NOTES: &str = "fixtures/check/pep-think.txt";
const MP3_40: &str = "fixtures/check/silence-40min.mp3";
const M4A_40: &str = "fixtures/check/silence-40min.m4a";

/// The binary, run from the crate root with colour and logging settings pinned.
fn chapmark() -> Command {
    let mut cmd = Command::cargo_bin("chapmark").expect("the chapmark binary is built");
    cmd.current_dir(ROOT)
        .env("NO_COLOR", "1")
        .env_remove("CHAPMARK_LOG");
    cmd
}

/// What one run produced.
struct Run {
    code: i32,
    stdout: String,
    stderr: String,
}

impl Run {
    /// The `--format json` report.
    fn json(&self) -> Value {
        serde_json::from_str(&self.stdout)
            .unwrap_or_else(|e| panic!("stdout is not JSON ({e}):\n{}", self.stdout))
    }

    /// The JSON report's diagnostics as sorted `severity[code]` strings.
    fn codes(&self) -> Vec<String> {
        let json = self.json();
        let mut v: Vec<String> = json["diagnostics"]
            .as_array()
            .expect("diagnostics array")
            .iter()
            .map(|d| {
                format!(
                    "{}[{}]",
                    d["severity"].as_str().expect("severity"),
                    d["code"].as_str().expect("code")
                )
            })
            .collect();
        v.sort();
        v
    }

    /// The JSON diagnostics with this code.
    fn diagnostics(&self, code: &str) -> Vec<Value> {
        self.json()["diagnostics"]
            .as_array()
            .expect("diagnostics array")
            .iter()
            .filter(|d| d["code"] == code)
            .cloned()
            .collect()
    }
}

fn run<I, S>(args: I) -> Run
where
    I: IntoIterator<Item = S>,
    S: AsRef<std::ffi::OsStr>,
{
    run_cmd(chapmark().args(args))
}

fn run_cmd(cmd: &mut Command) -> Run {
    let out = cmd.output().expect("chapmark runs");
    Run {
        code: out
            .status
            .code()
            .expect("exit code (not killed by a signal)"),
        stdout: String::from_utf8(out.stdout).expect("stdout is UTF-8"),
        stderr: String::from_utf8(out.stderr).expect("stderr is UTF-8"),
    }
}

fn root(rel: &str) -> PathBuf {
    Path::new(ROOT).join(rel)
}

/// Copies fixtures into a fresh temporary directory (anything that writes works there).
fn temp_copy(files: &[&str]) -> (tempfile::TempDir, Vec<PathBuf>) {
    let dir = tempfile::tempdir().expect("temp dir");
    let copies = files
        .iter()
        .map(|f| {
            let src = root(f);
            let dst = dir.path().join(src.file_name().expect("file name"));
            std::fs::copy(&src, &dst).unwrap_or_else(|e| panic!("{}: {e}", src.display()));
            dst
        })
        .collect();
    (dir, copies)
}

fn sorted(v: &[&str]) -> Vec<String> {
    let mut v: Vec<String> = v.iter().map(|s| s.to_string()).collect();
    v.sort();
    v
}

/// The audio fixture of an exact length, by container.
fn audio_of(length: &str, ext: &str) -> &'static str {
    match (length, ext) {
        ("38:00", "mp3") => PEP_MP3,
        ("38:00", "m4a") => PEP_M4A,
        ("40:00", "mp3") => MP3_40,
        ("40:00", "m4a") => M4A_40,
        _ => panic!("no {length} {ext} fixture; add one to fixtures/check/make-audio.sh"),
    }
}

// ---------------------------------------------------------------------------------------
// the fixture table, through the real CLI

struct Row {
    text: String,
    file: String,
    audio: String,
    profile: String,
    target: String,
    expect: Vec<String>,
}

fn table() -> Vec<Row> {
    let readme = std::fs::read_to_string(root("fixtures/check/README.md")).expect("README");
    readme
        .lines()
        .filter(|l| l.starts_with("| ") && l.contains(".txt"))
        .map(|l| {
            let cells: Vec<&str> = l.trim_matches('|').split('|').map(str::trim).collect();
            let [file, audio, profile, target, expect, _why] = cells.as_slice() else {
                panic!("bad README row: {l}");
            };
            let expect = if *expect == "passes" {
                Vec::new()
            } else {
                sorted(&expect.split(", ").collect::<Vec<_>>())
            };
            Row {
                text: l.to_string(),
                file: format!("fixtures/check/{file}"),
                audio: audio.to_string(),
                profile: profile.to_string(),
                target: target.to_string(),
                expect,
            }
        })
        .collect()
}

/// Runs `check` with these leading arguments, then the row's chapters and profile, and
/// asserts the diagnostics and the exit code (also with `--deny-warnings`).
fn assert_row(row: &Row, how: &[&str]) {
    let base: Vec<&str> = how
        .iter()
        .copied()
        .chain([
            "--chapters",
            &row.file,
            "--profile",
            &row.profile,
            "--format",
            "json",
        ])
        .collect();
    let r = run(std::iter::once("check").chain(base.iter().copied()));
    assert!(
        r.stderr.is_empty(),
        "{how:?} {}\nstderr: {}",
        row.text,
        r.stderr
    );
    assert_eq!(r.codes(), row.expect, "{how:?} {}\n{}", row.text, r.stdout);
    let errors = row.expect.iter().any(|c| c.starts_with("error["));
    assert_eq!(r.code, i32::from(errors), "exit code, {how:?} {}", row.text);
    assert_eq!(r.json()["ok"], !errors, "{how:?} {}", row.text);

    // Warnings fail the run only when denied.
    let r = run(std::iter::once("check")
        .chain(base.iter().copied())
        .chain(["--deny-warnings"]));
    assert_eq!(
        r.codes(),
        row.expect,
        "{how:?} --deny-warnings {}",
        row.text
    );
    let fails = !row.expect.is_empty();
    assert_eq!(
        r.code,
        i32::from(fails),
        "exit code, {how:?} --deny-warnings {}",
        row.text
    );
}

#[test]
fn every_fixture_row_gives_what_the_readme_says_through_the_cli() {
    let rows = table();
    // Fixtures whose result depends on the container have rows with an explicit target.
    let targeted: BTreeSet<&str> = rows
        .iter()
        .filter(|r| r.target != "–")
        .map(|r| r.file.as_str())
        .collect();

    let mut ran = 0;
    let mut left_to_the_library = Vec::new();
    for row in &rows {
        match (row.audio.as_str(), row.target.as_str()) {
            ("–", _) | (_, "sidecar") => {
                left_to_the_library.push(format!(
                    "{} {} {} {}",
                    row.file, row.audio, row.profile, row.target
                ));
            }
            (length, "–") => {
                assert_row(row, &["--duration", length]);
                if !targeted.contains(row.file.as_str()) {
                    // Real audio gives a target (id3 / mp4); for these fixtures it must not
                    // matter.
                    assert_row(row, &[audio_of(length, "mp3")]);
                    assert_row(row, &[audio_of(length, "m4a")]);
                }
                ran += 1;
            }
            (length, "id3") => {
                assert_row(row, &[audio_of(length, "mp3")]);
                ran += 1;
            }
            (length, "mp4") => {
                assert_row(row, &[audio_of(length, "m4a")]);
                ran += 1;
            }
            (_, other) => panic!("unknown target {other} in {}", row.text),
        }
    }
    assert!(ran >= 30, "only {ran} rows ran");
    // Exactly the rows the command line cannot express (see the README).
    assert_eq!(
        left_to_the_library,
        [
            "fixtures/check/pep-think.txt – default –",
            "fixtures/check/idn-url.txt 40:00 default sidecar",
            "fixtures/check/too-many.txt 40:00 default sidecar",
        ]
    );
}

#[test]
fn every_rule_the_notes_can_trigger_has_a_fixture_row() {
    let covered: BTreeSet<String> = table()
        .iter()
        .flat_map(|r| r.expect.iter())
        .filter_map(|c| {
            let code = c.split_once('[')?.1.strip_suffix(']')?;
            Some(code.to_string())
        })
        .collect();
    for code in [
        "bad-timestamp",
        "too-few",
        "too-many-for-container",
        "first-not-zero",
        "past-end",
        "duplicate-start",
        "not-ascending",
        "too-short",
        "last-too-late",
        "empty-title",
        "title-too-long",
        "bad-url",
        "url-not-ascii",
    ] {
        assert!(covered.contains(code), "no fixture row triggers {code}");
    }
    // Every profile appears in the table.
    let profiles: BTreeSet<String> = table().into_iter().map(|r| r.profile).collect();
    for p in [
        "default",
        "apple",
        "spotify",
        "youtube",
        "podcastindex",
        "strict",
    ] {
        assert!(profiles.contains(p), "no fixture row for profile {p}");
    }
}

// ---------------------------------------------------------------------------------------
// the named cases

#[test]
fn chapter_at_41_30_in_a_40_minute_mp3_names_both_times() {
    for audio in [MP3_40, M4A_40] {
        let r = run([
            "check",
            audio,
            "--chapters",
            "fixtures/check/past-end.txt",
            "--format",
            "json",
        ]);
        assert_eq!(r.code, 1, "{audio}");
        assert_eq!(r.codes(), ["error[past-end]"], "{audio}");
        let d = &r.diagnostics("past-end")[0];
        assert_eq!(
            d["message"],
            "chapter 3 (line 4): start 41:30 is past the end of the audio (40:00.000)"
        );
        assert_eq!(d["line"], 4);
        assert_eq!(d["chapter"], 3);
        assert_eq!(d["timestamp"], "41:30");
        let json = r.json();
        assert_eq!(json["duration"], 2400.0);
        assert_eq!(json["file"], audio);
        assert_eq!(json["source"], "fixtures/check/past-end.txt");

        // The human form says the same.
        let r = run(["check", audio, "--chapters", "fixtures/check/past-end.txt"]);
        assert_eq!(r.code, 1);
        assert!(r.stdout.contains("41:30"), "{}", r.stdout);
        assert!(
            r.stdout.contains("the audio is 40:00.000")
                && r.stdout
                    .contains("error[past-end] chapter 3 (line 4): start 41:30"),
            "{}",
            r.stdout
        );
    }
}

#[test]
fn ordering_and_timestamp_errors_quote_what_was_written() {
    let check = |file: &str| run(["check", MP3_40, "--chapters", file, "--format", "json"]);
    let r = check("fixtures/check/not-ascending.txt");
    assert_eq!(r.code, 1);
    assert_eq!(
        r.diagnostics("not-ascending")[0]["message"],
        "chapter 3 (line 3): start 05:00 comes before 10:00, the start of chapter 2 (line 2)"
    );
    let r = check("fixtures/check/duplicate-start.txt");
    assert_eq!(r.code, 1);
    assert_eq!(
        r.diagnostics("duplicate-start")[0]["message"],
        "chapter 3 (line 3): start 10:00 is the same as the start of chapter 2 (line 2)"
    );
    let r = check("fixtures/check/bad-timestamp.txt");
    assert_eq!(r.code, 1);
    let d = &r.diagnostics("bad-timestamp")[0];
    assert_eq!(d["line"], 2);
    assert_eq!(d["timestamp"], "12:75");
    assert!(d["message"].as_str().is_some_and(|m| m.contains("12:75")));
    // The line is not carried over as a chapter.
    assert_eq!(r.json()["chapters"], 2);
    // A `Link: ftp://…` line reaches validation instead of vanishing.
    let r = check("fixtures/check/bad-url.txt");
    assert_eq!(r.code, 1);
    assert_eq!(
        r.diagnostics("bad-url")[0]["message"],
        "chapter 2 (line 2): url `ftp://example.com/interview.pdf` is not http(s) (scheme `ftp`)"
    );
}

#[test]
fn pep_think_passes_default_and_fails_youtube_with_an_intro_hint() {
    for audio in [PEP_MP3, PEP_M4A] {
        let r = run(["check", audio, "--chapters", PEP_NOTES]);
        assert_eq!(r.code, 0, "{audio}: {}{}", r.stdout, r.stderr);
        assert_eq!(
            r.stdout,
            format!("✓ {audio}: 3 chapters fit 38:00.000\n"),
            "{audio}"
        );

        let r = run([
            "check",
            audio,
            "--chapters",
            PEP_NOTES,
            "--profile",
            "youtube",
            "--format",
            "json",
        ]);
        assert_eq!(r.code, 1, "{audio}");
        assert_eq!(r.codes(), ["error[first-not-zero]"], "{audio}");
        let d = &r.diagnostics("first-not-zero")[0];
        assert_eq!(d["line"], 2);
        assert_eq!(d["timestamp"], "01:40");
        let hint = d["hint"].as_str().expect("a hint");
        assert!(
            hint.contains("intro") && hint.contains("--intro"),
            "hint: {hint}"
        );
    }
}

#[test]
fn intro_written_into_a_copy_then_passes_youtube_from_the_embedded_chapters() {
    let (_dir, copies) = temp_copy(&[PEP_MP3, PEP_M4A]);
    for audio in &copies {
        let w = run_cmd(chapmark().arg("write").arg(audio).args([
            "--chapters",
            PEP_NOTES,
            "--intro",
            "Intro",
        ]));
        assert_eq!(w.code, 0, "{}: {}", audio.display(), w.stderr);

        // No --chapters: the chapters embedded in the file are checked.
        let r = run_cmd(chapmark().arg("check").arg(audio).args([
            "--profile",
            "youtube",
            "--format",
            "json",
        ]));
        assert_eq!(r.code, 0, "{}: {}", audio.display(), r.stdout);
        let json = r.json();
        assert_eq!(json["chapters"], 4);
        assert_eq!(json["diagnostics"], serde_json::json!([]));
        assert_eq!(json["source"], Value::Null);
        assert_eq!(json["duration"], 2280.0);

        // Against the notes (which have no intro), the intro is reported as drift.
        let r = run_cmd(chapmark().arg("check").arg(audio).args([
            "--chapters",
            PEP_NOTES,
            "--format",
            "json",
        ]));
        assert_eq!(r.code, 0);
        assert_eq!(r.codes(), ["warning[drift]"]);
        assert!(
            r.diagnostics("drift")[0]["message"]
                .as_str()
                .is_some_and(|m| m.contains("\"Intro\"") && m.contains("not in the list")),
            "{}",
            r.stdout
        );
    }
    // The fixtures themselves were not touched.
    for original in [PEP_MP3, PEP_M4A] {
        let r = run(["check", original, "--format", "json"]);
        assert_eq!(r.json()["chapters"], 0, "{original} was modified");
    }
}

#[test]
fn embedded_chapters_pass_and_drift_is_reported_when_the_notes_move() {
    let (dir, copies) = temp_copy(&[PEP_MP3, PEP_M4A]);
    // The notes with the second chapter moved from 12:59 to 13:10.
    let notes = std::fs::read_to_string(root(PEP_NOTES)).expect("notes");
    assert!(notes.contains("\n12:59 "));
    let moved = dir.path().join("moved.txt");
    std::fs::write(&moved, notes.replace("\n12:59 ", "\n13:10 ")).expect("write notes");

    for audio in &copies {
        let w = run_cmd(
            chapmark()
                .arg("write")
                .arg(audio)
                .args(["--chapters", PEP_NOTES]),
        );
        assert_eq!(w.code, 0, "{}: {}", audio.display(), w.stderr);

        // The embedded chapters alone.
        let r = run_cmd(
            chapmark()
                .arg("check")
                .arg(audio)
                .args(["--format", "json"]),
        );
        assert_eq!(r.code, 0, "{}", r.stdout);
        assert_eq!(r.json()["chapters"], 3);
        assert_eq!(r.codes(), Vec::<String>::new());

        // In sync with the notes they came from: no drift, even with warnings denied.
        let r = run_cmd(chapmark().arg("check").arg(audio).args([
            "--chapters",
            PEP_NOTES,
            "--deny-warnings",
            "--format",
            "json",
        ]));
        assert_eq!(r.code, 0, "{}", r.stdout);
        assert_eq!(r.codes(), Vec::<String>::new());

        // The moved notes: one drift warning on the moved chapter's line.
        let check_moved = |extra: &[&str]| {
            run_cmd(
                chapmark()
                    .arg("check")
                    .arg(audio)
                    .arg("--chapters")
                    .arg(&moved)
                    .args(extra),
            )
        };
        let r = check_moved(&["--format", "json"]);
        assert_eq!(r.code, 0, "warnings alone pass: {}", r.stdout);
        assert_eq!(r.codes(), ["warning[drift]"]);
        let d = &r.diagnostics("drift")[0];
        assert_eq!(d["line"], 5);
        assert_eq!(d["chapter"], 2);
        let m = d["message"].as_str().expect("message");
        assert!(
            m.contains("starts at 12:59 in the file, 11 s earlier than the listed 13:10"),
            "{m}"
        );
        assert_eq!(check_moved(&["--deny-warnings"]).code, 1);

        // Drift is merged into the line order: the moved chapter (line 5) before the one
        // that also runs past the 38-minute end (line 8, past-end then drift).
        let late = dir.path().join("late.txt");
        std::fs::write(
            &late,
            notes
                .replace("\n12:59 ", "\n13:10 ")
                .replace("\n25:05 ", "\n39:00 "),
        )
        .expect("write notes");
        let r = run_cmd(
            chapmark()
                .arg("check")
                .arg(audio)
                .arg("--chapters")
                .arg(&late)
                .args(["--format", "json"]),
        );
        assert_eq!(r.code, 1);
        let order: Vec<(String, u64)> = r.json()["diagnostics"]
            .as_array()
            .expect("diagnostics")
            .iter()
            .map(|d| {
                (
                    d["code"].as_str().unwrap_or_default().to_string(),
                    d["line"].as_u64().unwrap_or_default(),
                )
            })
            .collect();
        assert_eq!(
            order,
            [
                ("drift".to_string(), 5),
                ("past-end".to_string(), 8),
                ("drift".to_string(), 8)
            ]
        );

        // GitHub annotations point at the notes file and line.
        let r = check_moved(&["--format", "github"]);
        assert_eq!(r.code, 0);
        let moved_name = moved.display().to_string();
        assert!(
            r.stdout.starts_with(&format!(
                "::warning file={},line=5,title=drift::chapter 2 (line 5): ",
                moved_name.replace(':', "%3A").replace(',', "%2C")
            )),
            "{}",
            r.stdout
        );
    }
}

#[test]
fn a_file_without_chapters_or_a_format_without_them() {
    // An MP3 without embedded chapters, checked on its own: a validation failure that says so.
    let r = run(["check", PEP_MP3, "--format", "json"]);
    assert_eq!(r.code, 1);
    assert_eq!(r.codes(), ["error[too-few]"]);
    let d = &r.diagnostics("too-few")[0];
    assert_eq!(d["message"], "the file has no embedded chapters");
    assert!(d["hint"].as_str().is_some_and(|h| h.contains("--chapters")));
    // Notes that decode but hold no chapter line: invalid, not unreadable.
    let dir = tempfile::tempdir().expect("temp dir");
    let prose = dir.path().join("prose.txt");
    std::fs::write(&prose, "This week: no timestamps, just prose.\n").expect("write");
    let r = run_cmd(
        chapmark()
            .args(["check", "--duration", "38:00", "--chapters"])
            .arg(&prose)
            .args(["--format", "json"]),
    );
    assert_eq!(r.code, 1);
    assert_eq!(r.codes(), ["error[too-few]"]);
    assert_eq!(r.diagnostics("too-few")[0]["message"], "no chapters found");
    // A WAV has no chapter format we read: nothing to check without --chapters (usage), but
    // notes can be checked against it.
    let r = run(["check", "fixtures/audio/pcm16-mono.wav"]);
    assert_eq!(r.code, 2, "{}", r.stderr);
    assert!(r.stderr.contains("nothing to check"), "{}", r.stderr);
    let r = run([
        "check",
        "fixtures/audio/pcm16-mono.wav",
        "--chapters",
        "fixtures/check/two-chapters.txt",
        "--format",
        "json",
    ]);
    // Half a second of audio: 10:00 is past its end and 0:00 lasts only until that end.
    assert_eq!(r.code, 1);
    assert_eq!(r.codes(), ["error[past-end]", "warning[too-short]"]);
}

// ---------------------------------------------------------------------------------------
// --duration

#[test]
fn duration_checks_notes_alone() {
    for d in ["38:00", "2280", "2280.000000", "38:00.000", "0:38:00"] {
        let r = run([
            "check",
            "--duration",
            d,
            "--chapters",
            PEP_NOTES,
            "--format",
            "json",
        ]);
        assert_eq!(r.code, 0, "--duration {d}: {}", r.stderr);
        let json = r.json();
        assert_eq!(json["duration"], 2280.0, "--duration {d}");
        assert_eq!(json["file"], PEP_NOTES);
        assert_eq!(json["source"], Value::Null, "the notes are the only file");
        assert_eq!(json["chapters"], 3);
    }
    // Fractions are kept to the millisecond.
    let r = run([
        "check",
        "--duration",
        "1:02:03.500",
        "--chapters",
        PEP_NOTES,
        "--format",
        "json",
    ]);
    assert_eq!(r.json()["duration"], 3723.5);
    let r = run([
        "check",
        "--duration",
        "2280.5",
        "--chapters",
        PEP_NOTES,
        "--format",
        "json",
    ]);
    assert_eq!(r.json()["duration"], 2280.5);

    // The length rules use the stated length.
    let r = run([
        "check",
        "--duration",
        "25:00",
        "--chapters",
        PEP_NOTES,
        "--format",
        "json",
    ]);
    assert_eq!(r.code, 1);
    assert_eq!(
        r.diagnostics("past-end")[0]["message"],
        "chapter 3 (line 8): start 25:05 is past the end of the audio (25:00.000)"
    );

    // Human output names the notes file, and GitHub annotations point at it.
    let r = run(["check", "--duration", "38:00", "--chapters", PEP_NOTES]);
    assert_eq!(
        r.stdout,
        format!("✓ {PEP_NOTES}: 3 chapters fit 38:00.000\n")
    );
    let r = run([
        "check",
        "--duration",
        "38:00",
        "--chapters",
        PEP_NOTES,
        "--profile",
        "youtube",
        "--format",
        "github",
    ]);
    assert_eq!(r.code, 1);
    assert!(
        r.stdout
            .starts_with("::error file=fixtures/check/pep-think.txt,line=2,title=first-not-zero::"),
        "{}",
        r.stdout
    );
}

#[test]
fn bad_invocations_exit_2() {
    let cases: &[&[&str]] = &[
        &[],
        &["check"],
        &["check", "--chapters", PEP_NOTES],
        &["check", "--duration", "38:00"],
        &[
            "check",
            PEP_MP3,
            "--duration",
            "38:00",
            "--chapters",
            PEP_NOTES,
        ],
        &["check", "--duration", "abc", "--chapters", PEP_NOTES],
        &["check", "--duration", "12:75", "--chapters", PEP_NOTES],
        &["check", "--duration", "", "--chapters", PEP_NOTES],
        &["check", "--duration", "0", "--chapters", PEP_NOTES],
        &["check", "--duration", "0:00.000", "--chapters", PEP_NOTES],
        &["check", "--duration=-5", "--chapters", PEP_NOTES],
        &["check", "--duration", "1.2.3", "--chapters", PEP_NOTES],
        &[
            "check",
            PEP_MP3,
            "--chapters",
            PEP_NOTES,
            "--profile",
            "tiktok",
        ],
        &["check", PEP_MP3, "--chapters", PEP_NOTES, "--format", "xml"],
        &["check", PEP_MP3, "--chapters", PEP_NOTES, "--bogus"],
    ];
    for args in cases {
        let r = run(*args);
        assert_eq!(r.code, 2, "{args:?}: {}{}", r.stdout, r.stderr);
        assert!(r.stdout.is_empty(), "{args:?}: {}", r.stdout);
        assert!(!r.stderr.is_empty(), "{args:?}: no message");
    }
    let r = run(["check", "--duration", "0", "--chapters", PEP_NOTES]);
    assert_eq!(
        r.stderr,
        "chapmark: error: --duration \"0\": the length must be more than zero\n"
    );
}

#[test]
fn unreadable_inputs_exit_3_with_one_clear_message() {
    let dir = tempfile::tempdir().expect("temp dir");
    let empty = dir.path().join("empty.txt");
    std::fs::write(&empty, b"").expect("write");
    let missing = dir.path().join("missing.txt");
    let dir_name = dir.path().display().to_string();
    let (empty_name, missing_name) = (empty.display().to_string(), missing.display().to_string());

    let cases: Vec<(Vec<&str>, &str)> = vec![
        // Audio that is missing, a directory, not audio, or random bytes.
        (
            vec!["check", "fixtures/missing.mp3", "--chapters", PEP_NOTES],
            "fixtures/missing.mp3",
        ),
        (
            vec!["check", "fixtures/missing.mp3"],
            "fixtures/missing.mp3",
        ),
        (vec!["check", &dir_name, "--chapters", PEP_NOTES], &dir_name),
        (
            vec![
                "check",
                "fixtures/audio/random.mp3",
                "--chapters",
                PEP_NOTES,
            ],
            "fixtures/audio/random.mp3",
        ),
        (
            vec!["check", "fixtures/audio/random.mp3"],
            "fixtures/audio/random.mp3",
        ),
        (
            vec!["check", "fixtures/audio/empty.mp3", "--chapters", PEP_NOTES],
            "fixtures/audio/empty.mp3",
        ),
        (
            vec!["check", "fixtures/audio/text.mp3", "--chapters", PEP_NOTES],
            "fixtures/audio/text.mp3",
        ),
        (vec!["check", PEP_NOTES, "--chapters", PEP_NOTES], PEP_NOTES),
        // Chapters that are missing, a directory, empty or binary.
        (
            vec!["check", PEP_MP3, "--chapters", &missing_name],
            &missing_name,
        ),
        (
            vec!["check", "--duration", "38:00", "--chapters", &missing_name],
            &missing_name,
        ),
        (vec!["check", PEP_MP3, "--chapters", &dir_name], &dir_name),
        (
            vec!["check", "--duration", "38:00", "--chapters", &empty_name],
            &empty_name,
        ),
        (
            vec![
                "check",
                "--duration",
                "38:00",
                "--chapters",
                "fixtures/audio/random.bin",
            ],
            "fixtures/audio/random.bin",
        ),
        (vec!["check", PEP_MP3, "--chapters", PEP_MP3], PEP_MP3),
    ];
    for (args, culprit) in &cases {
        for format in ["text", "json"] {
            let mut r = run(args.iter().copied().chain(["--format", format]));
            assert_eq!(r.code, 3, "{args:?}: {}{}", r.stdout, r.stderr);
            assert!(r.stdout.is_empty(), "{args:?}: {}", r.stdout);
            // A missing or unreadable input may be named by its role (`audio file X: not found`).
            for role in ["audio file ", "chapters file "] {
                r.stderr = r.stderr.replacen(&format!("error: {role}"), "error: ", 1);
            }
            assert!(
                r.stderr
                    .starts_with(&format!("chapmark: error: {culprit}: ")),
                "{args:?}: {}",
                r.stderr
            );
            assert_eq!(r.stderr.lines().count(), 1, "{args:?}: {}", r.stderr);
            // The cause is not repeated (`…: No such file or directory: No such file…`).
            let after_name = &r.stderr[format!("chapmark: error: {culprit}: ").len()..];
            let parts: Vec<&str> = after_name.trim_end().split(": ").collect();
            let unique: BTreeSet<&str> = parts.iter().copied().collect();
            assert_eq!(unique.len(), parts.len(), "repeated cause: {}", r.stderr);
        }
    }
}

// ---------------------------------------------------------------------------------------
// snapshots of the four formats

fn snapshot_run(args: &[&str]) -> Run {
    let r = run_cmd(chapmark().args(args).args(["--color", "never"]));
    assert!(r.stderr.is_empty(), "{args:?}: {}", r.stderr);
    r
}

#[test]
fn snapshots_pep_think_youtube() {
    let args = [
        "check",
        PEP_MP3,
        "--chapters",
        PEP_NOTES,
        "--profile",
        "youtube",
    ];
    for (format, name) in [
        ("text", "pep_think_youtube_text"),
        ("json", "pep_think_youtube_json"),
        ("github", "pep_think_youtube_github"),
        ("junit", "pep_think_youtube_junit"),
    ] {
        let r = snapshot_run(&[&args[..], &["--format", format]].concat());
        assert_eq!(r.code, 1, "{format}");
        insta::assert_snapshot!(name, r.stdout);
    }
}

#[test]
fn snapshots_pep_think_default() {
    let args = ["check", PEP_MP3, "--chapters", PEP_NOTES];
    for (format, name) in [
        ("text", "pep_think_default_text"),
        ("json", "pep_think_default_json"),
        ("junit", "pep_think_default_junit"),
    ] {
        let r = snapshot_run(&[&args[..], &["--format", format]].concat());
        assert_eq!(r.code, 0, "{format}");
        insta::assert_snapshot!(name, r.stdout);
    }
    // Annotations are for problems: a passing check prints none.
    let r = snapshot_run(&[&args[..], &["--format", "github"]].concat());
    assert_eq!(r.code, 0);
    assert_eq!(r.stdout, "");
}

#[test]
fn snapshots_mixed_errors() {
    let args = ["check", MP3_40, "--chapters", "fixtures/check/mixed.txt"];
    for (format, name) in [
        ("text", "mixed_text"),
        ("json", "mixed_json"),
        ("github", "mixed_github"),
        ("junit", "mixed_junit"),
    ] {
        let r = snapshot_run(&[&args[..], &["--format", format]].concat());
        assert_eq!(r.code, 1, "{format}");
        insta::assert_snapshot!(name, r.stdout);
    }
}

#[test]
fn snapshots_warnings_only_and_denied() {
    let args = [
        "check",
        MP3_40,
        "--chapters",
        "fixtures/check/too-short.txt",
    ];
    let r = snapshot_run(&args);
    assert_eq!(r.code, 0);
    insta::assert_snapshot!("warnings_text", r.stdout);
    let r = snapshot_run(&[&args[..], &["--deny-warnings"]].concat());
    assert_eq!(r.code, 1);
    insta::assert_snapshot!("warnings_denied_text", r.stdout);
    let r = snapshot_run(&[&args[..], &["--deny-warnings", "--format", "junit"]].concat());
    assert_eq!(r.code, 1);
    insta::assert_snapshot!("warnings_denied_junit", r.stdout);
}

#[test]
fn colour_follows_the_flag_and_no_color() {
    let args = ["check", MP3_40, "--chapters", "fixtures/check/mixed.txt"];
    // Not a terminal, NO_COLOR set: plain.
    let plain = run(args);
    assert!(!plain.stdout.contains('\x1b'));
    // `--color always` wins over NO_COLOR; the text is the same apart from the escapes.
    let coloured = run_cmd(chapmark().args(args).args(["--color", "always"]));
    assert!(coloured.stdout.contains("\x1b[1;31merror[past-end]\x1b[0m"));
    let stripped = coloured
        .stdout
        .split('\x1b')
        .enumerate()
        .map(|(i, part)| {
            if i == 0 {
                part
            } else {
                part.split_once('m').map_or(part, |(_, rest)| rest)
            }
        })
        .collect::<String>();
    assert_eq!(stripped, plain.stdout);
    // Machine formats never colour.
    for format in ["json", "github", "junit"] {
        let r = run_cmd(
            chapmark()
                .args(args)
                .args(["--color", "always", "--format", format]),
        );
        assert!(!r.stdout.contains('\x1b'), "{format}");
    }
}

// ---------------------------------------------------------------------------------------
// scripts/chapmark-check-episodes.sh (the pre-commit hook's entry)

#[test]
fn episode_script_pairs_notes_with_audio_and_keeps_the_worst_status() {
    let dir = tempfile::tempdir().expect("temp dir");
    let d = dir.path();
    let copy = |from: &str, to: &str| {
        std::fs::copy(root(from), d.join(to)).unwrap_or_else(|e| panic!("{from}: {e}"));
    };
    copy(PEP_MP3, "ep 1.mp3");
    copy(PEP_NOTES, "ep 1.txt");
    copy(M4A_40, "ep2.m4a");
    copy("fixtures/check/past-end.txt", "ep2.md");
    copy("fixtures/check/two-chapters.txt", "notes-only.txt");
    copy(MP3_40, "audio-only.mp3");
    std::fs::write(d.join("cover.jpg"), b"not an episode").expect("write");

    let script = |args: &[&str], env: &[(&str, &str)]| {
        let mut cmd = std::process::Command::new("bash");
        cmd.arg(root("scripts/chapmark-check-episodes.sh"))
            .args(args)
            .current_dir(d)
            .env("CHAPMARK", env!("CARGO_BIN_EXE_chapmark"))
            .env("NO_COLOR", "1")
            .env_remove("CHAPMARK_REQUIRE_AUDIO");
        for (k, v) in env {
            cmd.env(k, v);
        }
        let out = cmd.output().expect("bash runs");
        (
            out.status.code().expect("exit code"),
            String::from_utf8_lossy(&out.stdout).into_owned(),
            String::from_utf8_lossy(&out.stderr).into_owned(),
        )
    };

    // Either half of an episode checks it, once; other files are ignored.
    let (code, out, err) = script(&["ep 1.txt", "ep 1.mp3", "cover.jpg"], &[]);
    assert_eq!(code, 0, "{out}{err}");
    assert_eq!(out, "✓ ep 1.mp3: 3 chapters fit 38:00.000\n");
    assert_eq!(err, "");

    // Options go to every check; the worst status wins.
    let (code, out, _) = script(&["--profile", "youtube", "ep 1.mp3"], &[]);
    assert_eq!(code, 1, "{out}");
    assert!(out.contains("error[first-not-zero]"), "{out}");
    let (code, out, err) = script(
        &[
            "--format",
            "github",
            "--",
            "ep2.m4a",
            "ep 1.txt",
            "notes-only.txt",
            "audio-only.mp3",
        ],
        &[],
    );
    assert_eq!(code, 1, "{out}{err}");
    assert!(
        out.starts_with("::error file=ep2.md,line=4,title=past-end::"),
        "{out}"
    );
    assert!(err.contains("notes-only.txt: no audio next to it"), "{err}");
    assert!(err.contains("audio-only.mp3: no notes next to it"), "{err}");

    // Missing audio fails only on request; bad options are a usage error.
    let (code, _, err) = script(&["notes-only.txt"], &[("CHAPMARK_REQUIRE_AUDIO", "1")]);
    assert_eq!(code, 3, "{err}");
    assert_eq!(script(&["notes-only.txt"], &[]).0, 0);
    assert_eq!(script(&["--profile", "nope", "ep 1.txt"], &[]).0, 2);
    assert_eq!(script(&["--duration", "38:00", "ep 1.txt"], &[]).0, 2);
    assert_eq!(
        script(&["ep 1.txt"], &[("CHAPMARK", "no-such-chapmark")]).0,
        127
    );
}

/// `check --intro` checks the list as `write --intro` wrote it: no drift for the added intro
/// chapter, and the youtube profile's first-not-zero rule is met.
#[test]
fn check_intro_matches_a_file_written_with_intro() {
    let (_dir, copies) = temp_copy(&[PEP_MP3]);
    let mp3 = &copies[0];
    chapmark()
        .arg("write")
        .arg(mp3)
        .args(["--chapters", PEP_NOTES, "--intro", "Intro"])
        .assert()
        .success();
    let without = chapmark()
        .arg("check")
        .arg(mp3)
        .args([
            "--chapters",
            PEP_NOTES,
            "--profile",
            "youtube",
            "--format",
            "json",
        ])
        .assert()
        .code(1);
    let v: serde_json::Value = serde_json::from_slice(&without.get_output().stdout).unwrap();
    let codes: Vec<&str> = v["diagnostics"]
        .as_array()
        .unwrap()
        .iter()
        .map(|d| d["code"].as_str().unwrap())
        .collect();
    assert!(
        codes.contains(&"drift") && codes.contains(&"first-not-zero"),
        "{codes:?}"
    );
    chapmark()
        .arg("check")
        .arg(mp3)
        .args([
            "--chapters",
            PEP_NOTES,
            "--profile",
            "youtube",
            "--intro",
            "Intro",
        ])
        .args(["--deny-warnings", "--format", "json"])
        .assert()
        .success();
}
