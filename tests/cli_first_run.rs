//! What a producer meets in the first ten minutes (issue 11, items 8–14), through the binary:
//! the chapters file as a second argument, messages in their words, which input is missing,
//! `--id3v2` values, `show` without chapters, the 0:00 note, completions and the man page.

mod common;

use assert_cmd::Command;
use common::fixture;
use std::fs;
use std::path::PathBuf;
use std::process::Output;

fn chapmark() -> Command {
    let mut c = Command::cargo_bin("chapmark").unwrap();
    c.env_remove("CHAPMARK_FAULT").env_remove("CHAPMARK_LOG");
    c
}

fn text(b: &[u8]) -> String {
    String::from_utf8_lossy(b).into_owned()
}

/// A temp dir with a copy of the 2.3-second untagged MP3 and notes for it.
fn episode(notes: &str) -> (tempfile::TempDir, PathBuf, PathBuf) {
    let dir = tempfile::tempdir().unwrap();
    let audio = dir.path().join("ep.mp3");
    fs::copy(fixture("audio/lame-cbr128.mp3"), &audio).unwrap();
    let n = dir.path().join("notes.txt");
    fs::write(&n, notes).unwrap();
    (dir, audio, n)
}

fn run(c: &mut Command) -> (Output, String, String) {
    let o = c.output().unwrap();
    let (out, err) = (text(&o.stdout), text(&o.stderr));
    (o, out, err)
}

#[test]
fn the_chapters_file_may_be_the_second_argument() {
    let (_d, audio, notes) = episode("0:00 Intro\n0:01 Main\n");
    let (o, _, err) = run(chapmark().arg("write").arg(&audio).arg(&notes));
    assert!(o.status.success(), "{err}");
    let (_, shown, _) = run(chapmark().arg("show").arg(&audio));
    assert!(shown.contains("\"Main\""), "{shown}");
    // check takes it the same way, and --intro works with it.
    let (o, out, err) = run(chapmark().arg("check").arg(&audio).arg(&notes));
    assert!(o.status.success(), "{out}{err}");
    let (o, _, _) = run(chapmark()
        .arg("check")
        .arg(&audio)
        .arg(&notes)
        .args(["--intro", "Hi"]));
    assert!(o.status.success());
    // Both forms at once is a usage error, not a silent pick.
    let (o, _, _) = run(chapmark()
        .arg("write")
        .arg(&audio)
        .arg(&notes)
        .arg("-c")
        .arg(&notes));
    assert_eq!(o.status.code(), Some(2));
}

#[test]
fn a_write_says_the_audio_was_untouched_and_bytes_only_with_verbose() {
    let (_d, audio, notes) = episode("0:00 Intro\n0:01 Main\n");
    let (o, _, err) = run(chapmark().arg("write").arg(&audio).arg(&notes));
    assert!(o.status.success());
    assert!(err.contains("wrote 2 chapters"), "{err}");
    assert!(err.contains("audio untouched"), "{err}");
    assert!(!err.contains("bytes"), "{err}");
    assert!(!err.contains("rewritten"), "{err}");
    fs::write(&notes, "0:00 Opening\n0:01 Main\n").unwrap();
    let (o, _, err) = run(chapmark().arg("-v").arg("write").arg(&audio).arg(&notes));
    assert!(o.status.success());
    assert!(
        err.contains("audio untouched; tag updated in place"),
        "{err}"
    );
    assert!(err.contains("bytes written"), "{err}");
    let out = audio.with_file_name("copy.mp3");
    let (_, _, err) = run(chapmark()
        .arg("write")
        .arg(&audio)
        .arg(&notes)
        .arg("-o")
        .arg(&out));
    assert!(
        err.contains("audio copied unchanged into the new file"),
        "{err}"
    );
}

#[test]
fn a_missing_input_is_named_as_the_chapters_or_the_audio() {
    let (d, audio, _) = episode("");
    let (o, _, err) = run(chapmark()
        .current_dir(d.path())
        .args(["write", "ep.mp3", "ja.tx"]));
    assert_eq!(o.status.code(), Some(3));
    assert!(err.contains("chapters file ja.tx: not found"), "{err}");
    assert!(!err.contains("os error"), "{err}");
    let (o, _, err) =
        run(chapmark()
            .current_dir(d.path())
            .args(["write", "nope.mp3", "notes.txt"]));
    assert_eq!(o.status.code(), Some(3));
    assert!(err.contains("audio file nope.mp3: not found"), "{err}");
    let (_, _, err) = run(chapmark().current_dir(d.path()).args(["show", "nope.mp3"]));
    assert!(err.contains("audio file nope.mp3: not found"), "{err}");
    assert!(audio.exists());
}

#[test]
fn id3v2_lists_its_values() {
    let (_, help, _) = run(chapmark().args(["write", "--help"]));
    let at = help.find("--id3v2").unwrap();
    let part = &help[at..];
    let values = part
        .find("Possible values")
        .expect("possible values listed");
    assert!(
        part[values..].contains("- 3") && part[values..].contains("- 4"),
        "{part}"
    );
    let (o, _, err) = run(chapmark().args(["write", "a.mp3", "b.txt", "--id3v2", "5"]));
    assert_eq!(o.status.code(), Some(2));
    assert!(err.contains("possible values: 3, 4"), "{err}");
}

#[test]
fn show_without_chapters_says_so_on_stderr_only() {
    let (_d, audio, _) = episode("");
    let (o, out, err) = run(chapmark().arg("show").arg(&audio));
    assert!(o.status.success());
    let v: serde_json::Value = serde_json::from_str(&out).unwrap();
    assert_eq!(v["chapters"].as_array().map(Vec::len), Some(0));
    assert!(err.contains("has no embedded chapters"), "{err}");
    let (_, out, err) = run(chapmark().args(["show", "--to", "mp4chaps"]).arg(&audio));
    assert_eq!(out, "");
    assert!(err.contains("ep.mp3 has no embedded chapters"), "{err}");
    let (_, _, err) = run(chapmark().args(["-q", "show"]).arg(&audio));
    assert_eq!(err, "");
}

#[test]
fn a_first_chapter_after_zero_gets_one_note_under_the_default_profile() {
    let (_d, audio, notes) = episode("0:01 Main\n0:02 End\n");
    let note = "Apple Podcasts, Spotify and YouTube show chapters only when one starts at 0:00";
    // A note from `write`, where it matters; `check` reports stay as they were.
    let (o, out, err) = run(chapmark()
        .args(["check", "--format", "json"])
        .arg(&audio)
        .arg(&notes));
    assert!(o.status.success());
    assert!(!out.contains("0:00") && !err.contains(note), "{out}{err}");
    let (o, _, err) = run(chapmark()
        .args(["write", "--dry-run"])
        .arg(&audio)
        .arg(&notes));
    assert!(o.status.success());
    assert_eq!(err.matches(note).count(), 1, "{err}");
    let (o, _, err) = run(chapmark().arg("write").arg(&audio).arg(&notes));
    assert!(o.status.success());
    assert_eq!(err.matches(note).count(), 1, "{err}");
    // Not with --intro (it fixes it), not under -q, and a profile that needs 0:00 says so as
    // its own error instead.
    for extra in [&["--intro", "Intro"][..], &["--profile", "strict"][..]] {
        let (_, _, err) = run(chapmark()
            .args(["write", "--dry-run"])
            .arg(&audio)
            .arg(&notes)
            .args(extra));
        assert!(!err.contains(note), "{extra:?}: {err}");
    }
    let (_, _, err) = run(chapmark().args(["-q", "write"]).arg(&audio).arg(&notes));
    assert!(!err.contains(note));
    fs::write(&notes, "0:00 Intro\n0:01 Main\n").unwrap();
    let (_, _, err) = run(chapmark().arg("write").arg(&audio).arg(&notes));
    assert!(!err.contains(note));
}

#[test]
fn completions_and_man_pages_come_from_the_cli() {
    for shell in ["bash", "zsh", "fish", "powershell", "elvish"] {
        let (o, out, err) = run(chapmark().args(["completions", shell]));
        assert!(o.status.success(), "{shell}: {err}");
        for word in ["chapmark", "write", "mp4-chapters"] {
            assert!(out.contains(word), "{shell}: no {word}");
        }
    }
    let (_, bash, _) = run(chapmark().args(["completions", "bash"]));
    if std::process::Command::new("bash")
        .arg("--version")
        .output()
        .is_ok()
    {
        let dir = tempfile::tempdir().unwrap();
        let f = dir.path().join("chapmark.bash");
        fs::write(&f, &bash).unwrap();
        let st = std::process::Command::new("bash")
            .arg("-n")
            .arg(&f)
            .status()
            .unwrap();
        assert!(st.success(), "bash -n rejects the completion script");
    }
    let (o, _, _) = run(chapmark().args(["completions", "tcsh"]));
    assert_eq!(o.status.code(), Some(2));

    let (o, page, _) = run(chapmark().arg("man"));
    assert!(o.status.success());
    assert!(page.contains(".TH chapmark 1"), "{page}");
    assert!(page.contains("completions"));
    let dir = tempfile::tempdir().unwrap();
    let (o, _, err) = run(chapmark()
        .args(["man", "--out-dir"])
        .arg(dir.path().join("man1")));
    assert!(o.status.success(), "{err}");
    let write = fs::read_to_string(dir.path().join("man1/chapmark-write.1")).unwrap();
    assert!(write.contains("\\-\\-id3v2"), "{write}");
    assert!(write.contains("\\-\\-mp4\\-chapters"));
}

#[test]
fn strip_after_write_gives_back_the_original_bytes() {
    let original = fs::read(fixture("audio/lame-cbr128.mp3")).unwrap();
    let (_d, audio, notes) = episode("0:00 Intro\n0:01 Main\n");
    let (o, _, err) = run(chapmark().arg("write").arg(&audio).arg(&notes));
    assert!(o.status.success(), "{err}");
    assert_eq!(&fs::read(&audio).unwrap()[..3], b"ID3");
    let (o, _, err) = run(chapmark().arg("strip").arg(&audio));
    assert!(o.status.success(), "{err}");
    assert!(
        fs::read(&audio).unwrap() == original,
        "write + strip is not an undo"
    );
    // A tag that held other frames before keeps them (and its place): only chapters go.
    let dir = tempfile::tempdir().unwrap();
    let tagged = dir.path().join("t.mp3");
    fs::copy(fixture("audio/tagged-id3v24-v1.mp3"), &tagged).unwrap();
    let before = fs::read(&tagged).unwrap();
    let (o, _, _) = run(chapmark().arg("write").arg(&tagged).arg(&notes));
    assert!(o.status.success());
    let (o, _, _) = run(chapmark().arg("strip").arg(&tagged));
    assert!(o.status.success());
    let after = fs::read(&tagged).unwrap();
    assert_eq!(&after[..3], b"ID3");
    assert_eq!(after.len(), before.len());
    let (_, shown, _) = run(chapmark().arg("show").arg(&tagged));
    assert!(shown.contains("\"chapters\": []"), "{shown}");
}
