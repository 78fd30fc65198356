//! Hostile files and bad luck, through the real binary: special files where audio is
//! expected, files the user may not write, hard links, another program changing a file during
//! a rebuild, journals that belong to another file, a full disk, stale temporary files.
//! Each test is the regression test of one defect of issue 20.

#![cfg(unix)]

use std::fs;
use std::os::unix::fs::MetadataExt;
use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};
use std::time::{Duration, Instant};

fn bin() -> PathBuf {
    PathBuf::from(env!("CARGO_BIN_EXE_chapmark"))
}

fn fixture(rel: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join(rel)
}

fn tempdir() -> tempfile::TempDir {
    tempfile::tempdir().unwrap()
}

/// Runs `cmd`, killing it after `secs` seconds; a test fails rather than hangs.
fn run_timeout(cmd: &mut Command, secs: u64) -> Output {
    let mut child = cmd
        .env_remove("CHAPMARK_FAULT")
        .env_remove("CHAPMARK_FAULT_ACTION")
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let start = Instant::now();
    loop {
        if child.try_wait().unwrap().is_some() {
            return child.wait_with_output().unwrap();
        }
        if start.elapsed() > Duration::from_secs(secs) {
            let _ = child.kill();
            let out = child.wait_with_output().unwrap();
            panic!(
                "{cmd:?} still running after {secs} s (hung); stderr: {}",
                String::from_utf8_lossy(&out.stderr)
            );
        }
        std::thread::sleep(Duration::from_millis(20));
    }
}

fn chapmark(args: &[&dyn AsRef<std::ffi::OsStr>]) -> Command {
    let mut c = Command::new(bin());
    for a in args {
        c.arg(a);
    }
    c
}

fn show_args(args: &[&dyn AsRef<std::ffi::OsStr>]) -> String {
    args.iter()
        .map(|a| a.as_ref().to_string_lossy().into_owned())
        .collect::<Vec<_>>()
        .join(" ")
}

fn stderr(o: &Output) -> String {
    String::from_utf8_lossy(&o.stderr).into_owned()
}

fn mkfifo(path: &Path) {
    let st = Command::new("mkfifo").arg(path).status().unwrap();
    assert!(st.success(), "mkfifo failed");
}

/// Two chapters that fit 20 s of audio.
fn chapters(dir: &Path) -> PathBuf {
    let p = dir.join("chapters.txt");
    fs::write(&p, "0:00 Intro\n0:05 Second part\n0:12 Third part\n").unwrap();
    p
}

/// An M4A whose chapter write is a rebuild (`moov` at the end, no free space).
/// An M4A that only a rebuild can give `moov` more room: faststart, but with a foreign
/// `mdat` before `moov`, so neither inserting at the start (which would rewrite that media
/// data) nor growing at the end (`moov` heads the audio) applies.
fn rebuild_m4a(dir: &Path) -> PathBuf {
    let p = dir.join("ep.m4a");
    let mut d = fs::read(fixture("fixtures/m4a/faststart.m4a")).unwrap();
    // faststart.m4a: ftyp (28 bytes), then moov, whose one stco has one chunk offset.
    assert_eq!(&d[32..36], b"moov");
    let stco = d.windows(4).position(|w| w == b"stco").unwrap();
    let at = stco + 12;
    let offset = u32::from_be_bytes(d[at..at + 4].try_into().unwrap()) + 24;
    d[at..at + 4].copy_from_slice(&offset.to_be_bytes());
    let mut foreign = vec![0, 0, 0, 24];
    foreign.extend_from_slice(b"mdatsome other media");
    d.splice(28..28, foreign);
    fs::write(&p, d).unwrap();
    p
}

fn siblings(dir: &Path) -> Vec<String> {
    let mut v: Vec<String> = fs::read_dir(dir)
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .filter(|n| n.contains(".chapmark-"))
        .collect();
    v.sort();
    v
}

// ---- 1. special files --------------------------------------------------------------------

#[test]
fn a_named_pipe_is_refused_at_once_by_every_command() {
    let dir = tempdir();
    let fifo = dir.path().join("x.mp3");
    mkfifo(&fifo);
    let ch = chapters(dir.path());
    let cases: Vec<Vec<&dyn AsRef<std::ffi::OsStr>>> = vec![
        vec![&"probe", &fifo],
        vec![&"show", &fifo],
        vec![&"check", &fifo],
        vec![&"strip", &fifo],
        vec![&"write", &fifo, &"-c", &ch],
    ];
    for args in cases {
        let o = run_timeout(&mut chapmark(&args), 20);
        assert_eq!(
            o.status.code(),
            Some(3),
            "{}: {}",
            show_args(&args),
            stderr(&o)
        );
        assert!(
            stderr(&o).contains("named pipe"),
            "{}: {}",
            show_args(&args),
            stderr(&o)
        );
    }
}

#[test]
fn batch_with_a_named_pipe_finishes_with_a_summary() {
    let dir = tempdir();
    mkfifo(&dir.path().join("a.mp3"));
    fs::copy(fixture("fixtures/mp3/v23.mp3"), dir.path().join("b.mp3")).unwrap();
    for n in ["a.txt", "b.txt"] {
        fs::write(dir.path().join(n), "0:00 Intro\n0:01 Two\n").unwrap();
    }
    let o = run_timeout(&mut chapmark(&[&"batch", &"--check", &dir.path()]), 60);
    let all = format!("{}{}", String::from_utf8_lossy(&o.stdout), stderr(&o));
    assert!(all.contains("named pipe"), "{all}");
    assert!(
        all.contains("episodes") && all.contains("[2/2]"),
        "no summary: {all}"
    );
}

#[test]
fn a_named_pipe_as_journal_does_not_hang_a_reader() {
    let dir = tempdir();
    let audio = dir.path().join("x.mp3");
    fs::copy(fixture("fixtures/mp3/v23.mp3"), &audio).unwrap();
    mkfifo(&dir.path().join(".x.mp3.chapmark-journal"));
    let o = run_timeout(&mut chapmark(&[&"show", &audio]), 20);
    assert_eq!(o.status.code(), Some(3), "{}", stderr(&o));
    assert!(stderr(&o).contains("named pipe"), "{}", stderr(&o));
}

#[test]
fn devices_are_not_called_empty_files() {
    for dev in ["/dev/zero", "/dev/urandom", "/dev/null"] {
        if !Path::new(dev).exists() {
            continue;
        }
        let o = run_timeout(&mut chapmark(&[&"probe", &dev]), 20);
        assert_eq!(o.status.code(), Some(3), "{dev}: {}", stderr(&o));
        let err = stderr(&o);
        assert!(!err.contains("empty"), "{dev}: {err}");
        assert!(err.contains("character device"), "{dev}: {err}");
    }
}

// ---- 2. read-only files as a user who may not write them ---------------------------------

/// Runs the binary as `nobody` when we are root (tests run as root here); `None` when
/// switching users is impossible (not root, or no `setpriv`).
fn as_nobody(args: &[&dyn AsRef<std::ffi::OsStr>]) -> Option<Command> {
    // SAFETY: geteuid has no preconditions.
    if unsafe { libc::geteuid() } != 0 || !Path::new("/usr/bin/setpriv").exists() {
        return None;
    }
    let mut c = Command::new("/usr/bin/setpriv");
    c.args(["--reuid=65534", "--regid=65534", "--clear-groups"]);
    c.arg(bin());
    for a in args {
        c.arg(a);
    }
    Some(c)
}

fn chown_nobody(p: &Path) {
    std::os::unix::fs::chown(p, Some(65534), Some(65534)).unwrap();
}

#[test]
fn a_read_only_m4a_is_never_replaced() {
    let dir = tempdir();
    let audio = rebuild_m4a(dir.path());
    let ch = chapters(dir.path());
    for p in [dir.path(), &audio, &ch] {
        chown_nobody(p);
    }
    // The folder stays writable for nobody: only the file's own mode forbids the write.
    fs::set_permissions(&audio, std::os::unix::fs::PermissionsExt::from_mode(0o444)).unwrap();
    let before = fs::read(&audio).unwrap();
    let ino = fs::metadata(&audio).unwrap().ino();
    for args in [
        vec![&"write" as &dyn AsRef<std::ffi::OsStr>, &audio, &"-c", &ch],
        vec![&"strip", &audio],
    ] {
        let Some(mut cmd) = as_nobody(&args) else {
            eprintln!("skipped: needs root and setpriv to run the binary as a non-root user");
            return;
        };
        let o = run_timeout(&mut cmd, 30);
        if args.len() > 2 {
            assert_eq!(o.status.code(), Some(3), "{}", stderr(&o));
            assert!(stderr(&o).contains("not writable"), "{}", stderr(&o));
        }
        assert_eq!(
            fs::read(&audio).unwrap(),
            before,
            "{}: file changed",
            show_args(&args)
        );
        assert_eq!(
            fs::metadata(&audio).unwrap().ino(),
            ino,
            "{}: replaced",
            show_args(&args)
        );
    }
    assert!(
        siblings(dir.path()).is_empty(),
        "{:?}",
        siblings(dir.path())
    );
    // Nor is a read-only output replaced by `-o`.
    let out = dir.path().join("out.m4a");
    fs::copy(&audio, &out).unwrap();
    chown_nobody(&out);
    fs::set_permissions(&out, std::os::unix::fs::PermissionsExt::from_mode(0o444)).unwrap();
    let plain = fixture("fixtures/m4a/plain.m4a");
    let args: [&dyn AsRef<std::ffi::OsStr>; 6] = [&"write", &plain, &"-c", &ch, &"-o", &out];
    let Some(mut cmd) = as_nobody(&args) else {
        return;
    };
    let o = run_timeout(&mut cmd, 30);
    assert_eq!(o.status.code(), Some(3), "{}", stderr(&o));
    assert_eq!(
        fs::read(&out).unwrap(),
        before,
        "-o replaced a read-only file"
    );
}

// ---- 5. another program appends during a rebuild ------------------------------------------

/// Needs the `fault-injection` feature (`cargo test --features fault-injection`, as CI runs).
#[cfg(feature = "fault-injection")]
#[test]
fn bytes_appended_during_a_rebuild_are_not_lost() {
    let dir = tempdir();
    let audio = rebuild_m4a(dir.path());
    let ch = chapters(dir.path());
    let before = fs::read(&audio).unwrap();
    // Stop the writer right before its rename (fault point 6), append, let it go on.
    let child = Command::new(bin())
        .arg("write")
        .arg(&audio)
        .arg("-c")
        .arg(&ch)
        .env("CHAPMARK_FAULT", "6")
        .env("CHAPMARK_FAULT_ACTION", "stop")
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let pid = child.id();
    let start = Instant::now();
    while !stopped(pid) {
        assert!(
            start.elapsed() < Duration::from_secs(30),
            "writer never stopped"
        );
        std::thread::sleep(Duration::from_millis(10));
    }
    let extra = b"appended by another program".repeat(10);
    {
        use std::io::Write;
        let mut f = fs::OpenOptions::new().append(true).open(&audio).unwrap();
        f.write_all(&extra).unwrap();
    }
    Command::new("kill")
        .args(["-CONT", &pid.to_string()])
        .status()
        .unwrap();
    let o = child.wait_with_output().unwrap();
    assert_eq!(o.status.code(), Some(3), "{}", stderr(&o));
    assert!(stderr(&o).contains("changed while"), "{}", stderr(&o));
    let mut expected = before;
    expected.extend_from_slice(&extra);
    assert_eq!(fs::read(&audio).unwrap(), expected, "appended bytes lost");
    assert!(
        siblings(dir.path()).is_empty(),
        "{:?}",
        siblings(dir.path())
    );
}

#[cfg(feature = "fault-injection")]
fn stopped(pid: u32) -> bool {
    let stat = fs::read_to_string(format!("/proc/{pid}/stat")).unwrap_or_default();
    // Field 3, after the parenthesised command name.
    stat.rsplit_once(") ")
        .is_some_and(|(_, rest)| rest.starts_with('T'))
}

// ---- 6. hard links ------------------------------------------------------------------------

#[test]
fn a_rebuild_never_splits_hard_links() {
    let dir = tempdir();
    let audio = rebuild_m4a(dir.path());
    let other = dir.path().join("same-episode.m4a");
    fs::hard_link(&audio, &other).unwrap();
    let ch = chapters(dir.path());
    let before = fs::read(&audio).unwrap();
    refused_unchanged(
        &audio,
        &before,
        &[&"write", &audio, &"-c", &ch],
        "hard links",
    );
    assert_eq!(
        fs::metadata(&audio).unwrap().ino(),
        fs::metadata(&other).unwrap().ino()
    );
    // `-o` makes a new file and is fine.
    let out = dir.path().join("out.m4a");
    let o = run_timeout(
        &mut chapmark(&[&"write", &audio, &"-c", &ch, &"-o", &out]),
        30,
    );
    assert!(o.status.success(), "{}", stderr(&o));
}

// ---- 7. a journal that belongs to another file --------------------------------------------

/// Needs the `fault-injection` feature (`cargo test --features fault-injection`, as CI runs).
#[cfg(feature = "fault-injection")]
#[test]
fn readers_never_apply_a_journal_of_another_file() {
    let dir = tempdir();
    let a = dir.path().join("a.m4a");
    fs::copy(fixture("fixtures/m4a/plain.m4a"), &a).unwrap();
    let ch = chapters(dir.path());
    // A first write leaves room, so the second is an in-place patch under a journal.
    let o = run_timeout(&mut chapmark(&[&"write", &a, &"-c", &ch]), 30);
    assert!(o.status.success(), "{}", stderr(&o));
    let ch2 = dir.path().join("chapters2.txt");
    fs::write(&ch2, "0:00 Intro again\n0:06 Another second part\n").unwrap();
    // Abort after patching, before deleting the journal (fault point 4).
    let st = Command::new(bin())
        .arg("-q")
        .args(["write"])
        .arg(&a)
        .arg("-c")
        .arg(&ch2)
        .env("CHAPMARK_FAULT", "4")
        .stderr(Stdio::null())
        .status()
        .unwrap();
    assert!(!st.success());
    let journal = dir.path().join(".a.m4a.chapmark-journal");
    assert!(journal.exists());
    // Another file with the same bytes (a copy: another inode), and the journal moved to it.
    let b = dir.path().join("b.m4a");
    fs::copy(&a, &b).unwrap();
    let b_journal = dir.path().join(".b.m4a.chapmark-journal");
    fs::rename(&journal, &b_journal).unwrap();
    let before = fs::read(&b).unwrap();
    for cmd in ["probe", "show", "check"] {
        let o = run_timeout(&mut chapmark(&[&cmd, &b]), 30);
        assert_eq!(fs::read(&b).unwrap(), before, "{cmd} changed the file");
        assert!(b_journal.exists(), "{cmd} deleted the journal");
        assert!(stderr(&o).contains("not provably"), "{cmd}: {}", stderr(&o));
    }
    // A write refuses too: the file may be half-written, and the journal is not proof.
    let o = run_timeout(&mut chapmark(&[&"write", &b, &"-c", &ch]), 30);
    assert_eq!(o.status.code(), Some(3), "{}", stderr(&o));
    assert_eq!(fs::read(&b).unwrap(), before);
    // Its own journal, back beside it, is applied by a reader.
    fs::rename(&b_journal, &journal).unwrap();
    let o = run_timeout(&mut chapmark(&[&"show", &a]), 30);
    assert!(o.status.success(), "{}", stderr(&o));
    assert!(!journal.exists());
    assert!(String::from_utf8_lossy(&o.stdout).contains("Second part"));
}

// ---- 11. disk space and stale temporary files ---------------------------------------------

/// A small tmpfs mounted for the test (root only); unmounted when dropped.
struct SmallFs(PathBuf);

impl SmallFs {
    fn mount(dir: &Path, size: &str) -> Option<SmallFs> {
        let ok = Command::new("mount")
            .args(["-t", "tmpfs", "-o", &format!("size={size}"), "tmpfs"])
            .arg(dir)
            .stderr(Stdio::null())
            .status()
            .is_ok_and(|s| s.success());
        ok.then(|| SmallFs(dir.to_path_buf()))
    }
}

impl Drop for SmallFs {
    fn drop(&mut self) {
        let _ = Command::new("umount").arg(&self.0).status();
    }
}

#[test]
fn a_rebuild_checks_free_space_before_it_starts() {
    let dir = tempdir();
    let mnt = dir.path().join("small");
    fs::create_dir(&mnt).unwrap();
    let Some(_fs) = SmallFs::mount(&mnt, "64k") else {
        eprintln!("skipped: cannot mount a small tmpfs (needs root)");
        return;
    };
    let audio = rebuild_m4a(&mnt);
    let ch = chapters(dir.path());
    let before = fs::read(&audio).unwrap();
    refused_unchanged(
        &audio,
        &before,
        &[&"write", &audio, &"-c", &ch],
        "free space",
    );
    assert!(siblings(&mnt).is_empty(), "{:?}", siblings(&mnt));
}

#[test]
fn batch_removes_stale_temporaries_but_not_live_ones() {
    let dir = tempdir();
    let sub = dir.path().join("season1");
    fs::create_dir(&sub).unwrap();
    fs::copy(fixture("fixtures/mp3/v23.mp3"), sub.join("ep.mp3")).unwrap();
    // Left by a killed rebuild of a file that is not even part of this batch's episodes.
    let stale = sub.join(".gone.m4a.chapmark-tmp");
    fs::write(&stale, vec![0u8; 4096]).unwrap();
    // One a live writer holds (its lock is what tells the two apart).
    let live = sub.join(".live.m4a.chapmark-tmp");
    fs::write(&live, b"being written").unwrap();
    let holder = fs::File::open(&live).unwrap();
    // SAFETY: flock on a descriptor we own.
    assert_eq!(
        unsafe { libc::flock(std::os::fd::AsRawFd::as_raw_fd(&holder), libc::LOCK_EX) },
        0
    );
    let o = run_timeout(&mut chapmark(&[&"batch", &"--check", &dir.path()]), 60);
    assert!(!stale.exists(), "stale temporary kept; {}", stderr(&o));
    assert!(live.exists(), "a live temporary was deleted");
    drop(holder);
}

// ---- 3. an M4A whose audio chunk points outside every mdat --------------------------------

/// A copy of `rel` as `a.m4a` in `dir` with the big-endian u32 at `at` changed from `was` to
/// `now`; returns its path and bytes.
fn damaged(dir: &Path, rel: &str, at: usize, was: u32, now: u32) -> (PathBuf, Vec<u8>) {
    let mut bytes = fs::read(fixture(rel)).unwrap();
    assert_eq!(bytes[at..at + 4], was.to_be_bytes(), "{rel} changed");
    bytes[at..at + 4].copy_from_slice(&now.to_be_bytes());
    let p = dir.join("a.m4a");
    fs::write(&p, &bytes).unwrap();
    (p, bytes)
}

#[test]
fn an_m4a_whose_sample_tables_do_not_add_up_is_refused_unchanged() {
    let dir = tempdir();
    // The audio track's only stco entry (offset 97, inside the mdat at 36) now says 7: inside
    // ftyp. The mdat then seems to hold only the chapter track's sample.
    let (audio, bytes) = damaged(dir.path(), "fixtures/audio/aac-chapters.m4a", 5261, 97, 7);
    // The audio is 1 s long.
    let ch = dir.path().join("one.txt");
    fs::write(&ch, "0:00 Only chapter\n").unwrap();
    refused_unchanged(&audio, &bytes, &[&"strip", &audio], "outside every mdat");
    refused_unchanged(
        &audio,
        &bytes,
        &[&"write", &audio, &"-c", &ch],
        "outside every mdat",
    );
}

/// Runs `args`, which must fail with exit 3 and `needle` in its message, leaving `audio`
/// holding exactly `bytes`.
fn refused_unchanged(
    audio: &Path,
    bytes: &[u8],
    args: &[&dyn AsRef<std::ffi::OsStr>],
    needle: &str,
) {
    let o = run_timeout(&mut chapmark(args), 30);
    let what = show_args(args);
    assert_eq!(o.status.code(), Some(3), "{what}: {}", stderr(&o));
    assert!(stderr(&o).contains(needle), "{what}: {}", stderr(&o));
    assert!(fs::read(audio).unwrap() == bytes, "{what}: file changed");
}

// ---- 10. waiting behind another process's lock --------------------------------------------

#[test]
fn a_reader_says_it_waits_and_gives_up_after_the_lock_timeout() {
    let dir = tempdir();
    let audio = dir.path().join("x.mp3");
    fs::copy(fixture("fixtures/mp3/v23.mp3"), &audio).unwrap();
    // Another process's exclusive lock, as a stopped `chapmark write` holds it.
    let holder = fs::File::open(&audio).unwrap();
    // SAFETY: flock on a descriptor we own.
    let fd = std::os::fd::AsRawFd::as_raw_fd(&holder);
    assert_eq!(unsafe { libc::flock(fd, libc::LOCK_EX) }, 0);
    let start = Instant::now();
    let o = run_timeout(
        &mut chapmark(&[&"show", &"--lock-timeout", &"1", &audio]),
        30,
    );
    assert_eq!(o.status.code(), Some(3), "{}", stderr(&o));
    assert!(
        stderr(&o).contains("waiting for another chapmark process"),
        "{}",
        stderr(&o)
    );
    assert!(stderr(&o).contains("gave up"), "{}", stderr(&o));
    assert!(start.elapsed() < Duration::from_secs(10));
    let o = run_timeout(
        &mut chapmark(&[&"--lock-timeout", &"0", &"probe", &audio]),
        30,
    );
    assert_eq!(o.status.code(), Some(3), "{}", stderr(&o));
    assert!(stderr(&o).contains("not waiting"), "{}", stderr(&o));
    // A batch waits the same way (and reports the file, not a hang).
    fs::write(dir.path().join("x.txt"), "0:00 Intro\n").unwrap();
    let o = run_timeout(
        &mut chapmark(&[&"batch", &"--lock-timeout", &"1", &dir.path()]),
        60,
    );
    let all = format!("{}{}", String::from_utf8_lossy(&o.stdout), stderr(&o));
    assert!(all.contains("gave up"), "{all}");
    // Released: it goes through.
    drop(holder);
    let o = run_timeout(&mut chapmark(&[&"show", &audio]), 30);
    assert!(o.status.success(), "{}", stderr(&o));
}

// ---- 9. chapter files whose parse would take far more memory than they hold ---------------

/// `chapmark convert FILE` under a 150 MB address-space limit, so a parse that balloons
/// fails the test instead of only using memory.
fn convert_capped(file: &Path) -> Output {
    let script = format!(
        "ulimit -v 150000 && exec '{}' convert '{}' > /dev/null",
        bin().display(),
        file.display()
    );
    run_timeout(Command::new("sh").args(["-c", &script]), 120)
}

/// A file `head`, then `n` times `unit`, then `tail`.
fn repeated(dir: &Path, name: &str, head: &str, unit: &str, n: usize, tail: &str) -> PathBuf {
    let mut s = String::with_capacity(head.len() + unit.len() * n + tail.len());
    s.push_str(head);
    for _ in 0..n {
        s.push_str(unit);
    }
    s.push_str(tail);
    let p = dir.join(name);
    fs::write(&p, s).unwrap();
    p
}

fn refused_json(file: &Path, needle: &str) {
    let o = convert_capped(file);
    assert_eq!(o.status.code(), Some(3), "{}", stderr(&o));
    assert!(stderr(&o).contains(needle), "{}", stderr(&o));
}

#[test]
fn json_chapter_files_are_capped_before_they_are_parsed() {
    let dir = tempdir();
    // Just under the 16 MiB input cap: 5.6 M empty chapter objects (387 MB to parse before).
    let many = repeated(
        dir.path(),
        "many.json",
        "{\"chapters\":[{}",
        ",{}",
        (16 << 20) / 3 - 10,
        "]}",
    );
    refused_json(&many, "more than 100000 chapters");
    // One chapter padded with millions of values.
    let head = "{\"chapters\":[{\"startTime\":0,\"title\":\"x\",\"junk\":[1";
    let padded = repeated(
        dir.path(),
        "padded.json",
        head,
        ",1",
        (8 << 20) - 40,
        "]}]}",
    );
    refused_json(&padded, "json values for 1 chapters");
    // A real file with extra fields per chapter still reads.
    let fine = dir.path().join("fine.json");
    fs::write(
        &fine,
        r#"{"version":"1.2.0","chapters":[{"startTime":0,"title":"A","location":{"name":"x","geo":"geo:1,2"}},{"startTime":60,"title":"B"}]}"#,
    )
    .unwrap();
    let o = convert_capped(&fine);
    assert!(o.status.success(), "{}", stderr(&o));
}

// ---- 8. `-` reads the audio from standard input -------------------------------------------

fn with_stdin(args: &[&str], input: &Path) -> Output {
    let mut c = Command::new(bin());
    c.args(args)
        .stdin(fs::File::open(input).unwrap())
        .env_remove("CHAPMARK_FAULT");
    c.output().unwrap()
}

#[test]
fn reading_commands_take_the_audio_from_standard_input() {
    let mp3 = fixture("fixtures/mp3/v23.mp3");
    let m4a = fixture("fixtures/m4a/chapters.m4a");
    // Same answers as for the file itself, with `<stdin>` as its name.
    for (args, file) in [
        (vec!["probe", "--json"], &mp3),
        (vec!["show"], &m4a),
        (vec!["check"], &m4a),
    ] {
        let piped = with_stdin(&[args.clone(), vec!["-"]].concat(), file);
        assert!(piped.status.success(), "{args:?}: {}", stderr(&piped));
        let direct = Command::new(bin()).args(&args).arg(file).output().unwrap();
        let name = file.display().to_string();
        let expected = String::from_utf8_lossy(&direct.stdout).replace(&name, "<stdin>");
        assert_eq!(String::from_utf8_lossy(&piped.stdout), expected, "{args:?}");
    }
    // Empty input: the probe's own error, named `<stdin>`, not a missing file called `-`.
    let o = with_stdin(&["probe", "-"], Path::new("/dev/null"));
    assert_eq!(o.status.code(), Some(3));
    assert!(
        stderr(&o).contains("<stdin>: the file is empty"),
        "{}",
        stderr(&o)
    );
    // Commands that change the file refuse `-` as a usage error.
    let dir = tempdir();
    let ch = chapters(dir.path());
    for args in [
        vec!["write", "-", "-c", ch.to_str().unwrap()],
        vec!["strip", "-"],
    ] {
        let o = with_stdin(&args, &mp3);
        assert_eq!(o.status.code(), Some(2), "{args:?}: {}", stderr(&o));
        assert!(stderr(&o).contains("needs a file"), "{}", stderr(&o));
    }
}

// ---- fuzzing finds --------------------------------------------------------------------------

/// Found by the `structured` fuzz target: the last audio sample (by `stsz`) runs into `moov`,
/// so rewriting `moov` changed audio bytes.
#[test]
fn an_m4a_whose_samples_run_into_moov_is_refused() {
    let dir = tempdir();
    // The audio track's last stsz entry (sample 432, 79 bytes, ending where moov starts).
    let (audio, bytes) = damaged(dir.path(), "fixtures/m4a/plain.m4a", 44078, 79, 179);
    let ch = chapters(dir.path());
    refused_unchanged(
        &audio,
        &bytes,
        &[&"write", &audio, &"-c", &ch],
        "sample 432",
    );
}

/// Every input a fuzz target ever crashed on (`fuzz/regressions/`), through the binary: any
/// exit status but a panic (101) or a signal.
#[test]
fn fuzz_regressions_never_crash_the_binary() {
    let root = fixture("fuzz/regressions");
    let dir = tempdir();
    let ch = chapters(dir.path());
    let mut seen = 0;
    for target in fs::read_dir(&root).unwrap() {
        let target = target.unwrap().path();
        if !target.is_dir() {
            continue;
        }
        for case in fs::read_dir(&target).unwrap() {
            let case = case.unwrap().path();
            seen += 1;
            for ext in ["mp3", "m4a", "flac"] {
                let copy = dir.path().join(format!("case.{ext}"));
                fs::copy(&case, &copy).unwrap();
                let runs: Vec<Vec<&dyn AsRef<std::ffi::OsStr>>> = vec![
                    vec![&"probe", &copy],
                    vec![&"show", &copy],
                    vec![&"check", &copy],
                    vec![&"write", &copy, &"-c", &ch],
                    vec![&"strip", &copy],
                ];
                for args in runs {
                    let o = run_timeout(&mut chapmark(&args), 20);
                    let code = o.status.code();
                    assert!(
                        code.is_some_and(|c| c != 101),
                        "{} on {}: {:?}: {}",
                        show_args(&args),
                        case.display(),
                        o.status,
                        stderr(&o)
                    );
                }
            }
        }
    }
    assert!(
        seen >= 2,
        "no regression inputs found in {}",
        root.display()
    );
}
