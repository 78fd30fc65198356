//! Crash safety of `chapmark write` through the real binary, for MP3, M4A, Opus and FLAC.
//!
//! Each container gets 200 interrupted writes, half on a file whose chapters do not fit (no
//! room for the tag / `moov`) and half on a file whose chapters are rewritten in place (room
//! left by an earlier write: journal + patch). An ID3 tag or a faststart `moov` that does not
//! fit grows in place (journal + `FALLOC_FL_INSERT_RANGE` + patch), or is rebuilt (temporary
//! sibling + rename) where the file system cannot insert (the case then checks a rebuild); a
//! `moov` at the end of the file grows there (journal + extend + patch). A run is interrupted
//! either at a fault point (`CHAPMARK_FAULT=n`, every point in turn, the process aborts there)
//! or by SIGKILL after a delay drawn from a fixed seed. After every run `chapmark show` must
//! succeed, which has to finish the interrupted write first, and then the file must be byte
//! for byte either the original or the finished result, with no temporary file or journal
//! left beside it. Fault runs are checked more tightly: each point must leave exactly the
//! state it promises before `show` runs, and the state `show` restores.

#![cfg(unix)]

mod common;

use common::{Rng, fixture};

use std::fs;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

const RUNS_PER_CASE: usize = 100;
const FAULT_POINTS: u8 = 9;

fn bin() -> PathBuf {
    PathBuf::from(env!("CARGO_BIN_EXE_chapmark"))
}

fn chapters(dir: &Path, name: &str, titles: &[&str]) -> PathBuf {
    let text: String = titles
        .iter()
        .enumerate()
        .map(|(i, t)| {
            let s = i * 30;
            format!("{}:{:02} {t} https://example.com/{i}\n", s / 60, s % 60)
        })
        .collect();
    let p = dir.join(name);
    fs::write(&p, text).unwrap();
    p
}

fn write_cmd(audio: &Path, chapters: &Path) -> Command {
    let mut c = Command::new(bin());
    c.arg("-q")
        .arg("write")
        .arg(audio)
        .arg("-c")
        .arg(chapters)
        .env_remove("CHAPMARK_FAULT")
        .stdout(Stdio::null())
        .stderr(Stdio::null());
    c
}

/// `chapmark show FILE` must succeed (recovering first); returns its JSON.
fn show(audio: &Path) -> String {
    let o = Command::new(bin())
        .arg("show")
        .arg(audio)
        .env_remove("CHAPMARK_FAULT")
        .output()
        .unwrap();
    assert!(
        o.status.success(),
        "show failed after an interrupted write: {}",
        String::from_utf8_lossy(&o.stderr)
    );
    String::from_utf8(o.stdout).unwrap()
}

fn journal(audio: &Path) -> PathBuf {
    sibling(audio, "journal")
}

fn temp(audio: &Path) -> PathBuf {
    sibling(audio, "tmp")
}

fn sibling(audio: &Path, kind: &str) -> PathBuf {
    let name = audio.file_name().unwrap().to_string_lossy();
    audio.with_file_name(format!(".{name}.chapmark-{kind}"))
}

/// Every file in the directory other than the audio and the chapter lists.
fn strays(dir: &Path, audio: &Path) -> Vec<PathBuf> {
    fs::read_dir(dir)
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p != audio && p.extension().is_none_or(|e| e != "txt"))
        .collect()
}

/// How a case's write is applied.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Kind {
    /// Temporary sibling + rename (fault points 5–7).
    Rebuild,
    /// Same-length patch under a journal (fault points 1–4).
    Patch,
    /// Space inserted at the start, then patched, under a journal (fault points 1–4 and 8).
    Insert,
    /// The file extended at its end, then patched, under a journal (fault points 1–4 and 9):
    /// an M4A whose `moov` is at the end.
    Extend,
}

/// What a case starts from and must end in.
struct Case {
    name: &'static str,
    start: Vec<u8>,
    done: Vec<u8>,
    show_start: String,
    show_done: String,
    kind: Kind,
    chapters: PathBuf,
    /// How long an uninterrupted write takes, for the SIGKILL delays.
    clean: Duration,
}

/// Builds a case: `start` is the file before the write of `chapters`; `grows` says whether
/// the chapters do not fit (rebuild or insert) or do (patch).
fn case(
    name: &'static str,
    dir: &Path,
    ext: &str,
    start: Vec<u8>,
    chapters: PathBuf,
    grows: bool,
) -> Case {
    let audio = dir.join(format!("probe-{name}.{ext}"));
    fs::write(&audio, &start).unwrap();
    let show_start = show(&audio);
    let mut kind = Kind::Patch;
    let mut times = Vec::new();
    let mut done: Option<Vec<u8>> = None;
    for _ in 0..3 {
        fs::write(&audio, &start).unwrap();
        let ino = inode(&audio);
        let t = Instant::now();
        assert!(write_cmd(&audio, &chapters).status().unwrap().success());
        times.push(t.elapsed());
        let bytes = fs::read(&audio).unwrap();
        if let Some(d) = &done {
            assert!(*d == bytes, "{name}: writing is not deterministic");
        }
        done = Some(bytes);
        // A rebuild renames a new file into place; patch and insert keep the inode.
        kind = match (grows, inode(&audio) == ino) {
            (false, _) => Kind::Patch,
            (true, true) if name.ends_with("at-end") => Kind::Extend,
            (true, true) => Kind::Insert,
            (true, false) => Kind::Rebuild,
        };
    }
    let done = done.unwrap();
    assert!(done != start);
    assert_eq!(done.len() == start.len(), !grows, "{name}: plan kind");
    if name.starts_with("rebuild") {
        assert_ne!(kind, Kind::Insert, "{name}: grows by a rebuild");
    }
    let show_done = show(&audio);
    assert_ne!(show_start, show_done);
    fs::remove_file(&audio).unwrap();
    times.sort();
    Case {
        name,
        start,
        done,
        show_start,
        show_done,
        kind,
        chapters,
        clean: times[1],
    }
}

#[derive(Debug, Default)]
struct Tally {
    start: usize,
    done: usize,
    recovered: usize,
}

fn inode(p: &Path) -> u64 {
    use std::os::unix::fs::MetadataExt;
    fs::metadata(p).unwrap().ino()
}

fn hammer(case: &Case, dir: &Path, ext: &str, rng: &mut Rng) -> Tally {
    let audio = dir.join(format!("episode.{ext}"));
    let mut tally = Tally::default();
    for run in 0..RUNS_PER_CASE {
        fs::write(&audio, &case.start).unwrap();
        let what;
        let mut fault = None;
        if run % 2 == 0 {
            let point = (run / 2) as u8 % FAULT_POINTS + 1;
            fault = Some(point);
            what = format!("CHAPMARK_FAULT={point}");
            let out = write_cmd(&audio, &case.chapters)
                .env("CHAPMARK_FAULT", point.to_string())
                .stderr(Stdio::piped())
                .output()
                .unwrap();
            // What the process said, so an unexpected state names its cause.
            let said = format!(
                "{}, stderr: {}",
                out.status,
                String::from_utf8_lossy(&out.stderr).trim()
            );
            check_fault_point(case, &audio, point, out.status.success(), &said);
        } else {
            // Up to 1.5× an uninterrupted write, so some kills land after it finished.
            let max = (case.clean.as_micros() as u64 * 3 / 2).max(1);
            let delay = Duration::from_micros(rng.below(max));
            what = format!("SIGKILL after {delay:?}");
            let mut child = write_cmd(&audio, &case.chapters).spawn().unwrap();
            std::thread::sleep(delay);
            let _ = child.kill();
            let _ = child.wait();
        }
        let left_behind = journal(&audio).exists() || temp(&audio).exists();
        let shown = show(&audio);
        let bytes = fs::read(&audio).unwrap();
        let ctx = format!("{} run {run} ({what})", case.name);
        if bytes == case.start {
            assert_eq!(shown, case.show_start, "{ctx}");
            tally.start += 1;
        } else if bytes == case.done {
            assert_eq!(shown, case.show_done, "{ctx}");
            tally.done += 1;
        } else {
            panic!("{ctx}: the file is neither the original nor the finished result");
        }
        if left_behind {
            tally.recovered += 1;
        }
        assert!(
            strays(dir, &audio).is_empty(),
            "{ctx}: {:?}",
            strays(dir, &audio)
        );
        if let Some(point) = fault {
            check_after_show(case, &bytes, point);
        }
    }
    tally
}

/// The state a fault point leaves, before anything recovers.
fn check_fault_point(case: &Case, audio: &Path, point: u8, exited_ok: bool, said: &str) {
    let bytes = fs::read(audio).unwrap();
    let (j, t) = (journal(audio).exists(), temp(audio).exists());
    let ctx = format!("{}: fault {point} ({said})", case.name);
    match (case.kind, point) {
        // Patch points on a patch or insert: aborted with a journal; the file is the original
        // until the insert or patch starts, then partly (whether the first half of the patch
        // bytes already holds every change depends on the layout) or fully patched.
        (Kind::Patch | Kind::Insert | Kind::Extend, 1..=4) => {
            assert!(!exited_ok && j && !t, "{ctx}: journal {j}, temp {t}");
            match point {
                1 | 2 => assert!(bytes == case.start, "{ctx}: touched before the journal"),
                3 => assert_eq!(bytes.len(), case.done.len(), "{ctx}"),
                _ => assert!(bytes == case.done, "{ctx}"),
            }
        }
        // Insert: the space is there (zeros), the original follows it, nothing patched yet.
        (Kind::Insert, 8) => {
            assert!(!exited_ok && j && !t, "{ctx}: journal {j}, temp {t}");
            assert_eq!(bytes.len(), case.done.len(), "{ctx}: space inserted");
            let grown = case.done.len() - case.start.len();
            assert!(
                bytes[..grown].iter().all(|&b| b == 0),
                "{ctx}: patched early"
            );
            assert!(bytes[grown..] == case.start[..], "{ctx}: original shifted");
        }
        // Extend: the original, then zeros up to the new length, nothing patched yet.
        (Kind::Extend, 9) => {
            assert!(!exited_ok && j && !t, "{ctx}: journal {j}, temp {t}");
            assert_eq!(bytes.len(), case.done.len(), "{ctx}: extended");
            let n = case.start.len();
            assert!(bytes[..n] == case.start[..], "{ctx}: patched early");
            assert!(bytes[n..].iter().all(|&b| b == 0), "{ctx}: not zeros");
        }
        // Rebuild points on a rebuild: the original stays until the rename.
        (Kind::Rebuild, 5 | 6) => {
            assert!(!exited_ok && t && !j, "{ctx}: journal {j}, temp {t}");
            assert!(
                bytes == case.start,
                "{ctx}: original changed before the rename"
            );
        }
        (Kind::Rebuild, 7) => {
            assert!(!exited_ok && !t && !j, "{ctx}: journal {j}, temp {t}");
            assert!(bytes == case.done, "{ctx}: renamed, so finished");
        }
        // A point this kind of write never reaches: it just finishes.
        _ => {
            assert!(exited_ok && !t && !j, "{ctx}: should have finished");
            assert!(bytes == case.done, "{ctx}");
        }
    }
}

/// What `show` must have made of each fault point.
fn check_after_show(case: &Case, bytes: &[u8], point: u8) {
    let rolled_back = match (case.kind, point) {
        (Kind::Patch | Kind::Insert | Kind::Extend, 1..=4)
        | (Kind::Insert, 8)
        | (Kind::Extend, 9)
        | (Kind::Rebuild, 5 | 6) => true,
        (Kind::Rebuild, 7) | (_, _) => false,
    };
    let want = if rolled_back { &case.start } else { &case.done };
    assert!(
        bytes == want.as_slice(),
        "{}: fault {point}: expected the {} file after show",
        case.name,
        if rolled_back { "original" } else { "finished" }
    );
}

/// A JSON chapter file naming one image file per chapter (`kb` KiB of pseudo-random bytes
/// behind a JPEG signature each), so the tag holds several MiB of images.
fn image_chapters(dir: &Path, name: &str, titles: &[&str], kb: usize, rng: &mut Rng) -> PathBuf {
    let mut items = Vec::new();
    for (i, t) in titles.iter().enumerate() {
        let img = format!("{name}-{i}.jpg");
        let mut data = vec![0xFF, 0xD8, 0xFF, 0xE0];
        data.extend((0..kb * 1024).map(|_| rng.next() as u8));
        fs::write(dir.join(&img), data).unwrap();
        items.push(format!(
            r#"{{"startTime": {}, "title": "{t}", "img": "{img}"}}"#,
            i * 30
        ));
    }
    let p = dir.join(format!("{name}.json"));
    let json = format!(
        r#"{{"version": "1.2.0", "chapters": [{}]}}"#,
        items.join(",")
    );
    fs::write(&p, json).unwrap();
    p
}

fn run_container(ext: &str, original: Vec<u8>, seed: u64) {
    let dir = tempfile::tempdir().unwrap();
    let (first, second) = four_chapters_twice(dir.path());
    run_cases(ext, original, seed, dir.path(), first, second);
}

/// Two chapter files of four chapters with different titles: the first write, then an edit.
fn four_chapters_twice(dir: &Path) -> (PathBuf, PathBuf) {
    let first = chapters(
        dir,
        "first.txt",
        &["Intro", "Part one", "Part two", "Outro"],
    );
    let titles = ["Cold open", "Segment A", "Segment B", "Goodbye"];
    (first, chapters(dir, "second.txt", &titles))
}

fn run_cases(ext: &str, original: Vec<u8>, seed: u64, dir: &Path, first: PathBuf, second: PathBuf) {
    run_cases_named("grow", ext, original, seed, (dir, first, second));
}

/// `grow` names the first case; one ending in `at-end` must grow the file at its end.
fn run_cases_named(
    grow: &'static str,
    ext: &str,
    original: Vec<u8>,
    seed: u64,
    (dir, first, second): (&Path, PathBuf, PathBuf),
) {
    let started = Instant::now();
    let grow = case(grow, dir, ext, original, first.clone(), true);
    // The finished write has room for the next edit, so writing other titles patches it.
    let patch = case("patch", dir, ext, grow.done.clone(), second, false);
    let mut rng = Rng(seed);
    for case in [&grow, &patch] {
        let t = hammer(case, dir, ext, &mut rng);
        eprintln!(
            "{ext} {} ({:?}): {} runs, {} original, {} finished, {} recovered by show; clean \
             write {:?}",
            case.name, case.kind, RUNS_PER_CASE, t.start, t.done, t.recovered, case.clean
        );
        assert!(t.start > 0 && t.done > 0, "{ext} {}: {t:?}", case.name);
        assert!(t.recovered > 0, "{ext} {}: {t:?}", case.name);
    }
    eprintln!("{ext}: {:?}", started.elapsed());
}

#[test]
fn interrupted_mp3_writes_leave_the_original_or_the_result() {
    let original = fs::read(fixture("episode/pep-think-38min.mp3")).unwrap();
    assert!(
        original.len() > 4 << 20,
        "a few MB, so a rebuild takes a while"
    );
    run_container("mp3", original, 0x6368_6170_6d61_726b);
}

/// The whole fault-point and SIGKILL run for an MP3 whose first write grows the tag (by an
/// insert here), with a tag already there: a full tag with a cover and no padding.
#[test]
fn interrupted_mp3_writes_over_a_full_tag_leave_the_original_or_the_result() {
    let audio = fs::read(fixture("episode/pep-think-38min.mp3")).unwrap();
    assert!(!audio.starts_with(b"ID3"));
    // TIT2 + a 100 KB pseudo-random APIC, no padding.
    let mut apic = b"\x00image/jpeg\x00\x03\x00".to_vec();
    let mut rng = Rng(7);
    apic.extend((0..100_000).map(|_| rng.next() as u8));
    let mut frames = Vec::new();
    for (id, data) in [(&b"TIT2"[..], &b"\x00Covered"[..]), (b"APIC", &apic[..])] {
        frames.extend_from_slice(id);
        frames.extend_from_slice(&(data.len() as u32).to_be_bytes());
        frames.extend_from_slice(&[0, 0]);
        frames.extend_from_slice(data);
    }
    let n = frames.len() as u32;
    let mut original = b"ID3\x03\x00\x00".to_vec();
    original.extend([21, 14, 7, 0].map(|s| (n >> s) as u8 & 0x7F));
    original.extend_from_slice(&frames);
    original.extend_from_slice(&audio);
    run_container("mp3", original, 0x636f_7665_7265_6421);
}

/// The same run for a write that embeds chapter images: 4 × 768 KiB `APIC`s, a 3 MiB tag
/// inserted in front of the audio; the second write swaps in other images of the same size.
#[test]
fn interrupted_mp3_writes_with_images_leave_the_original_or_the_result() {
    let original = fs::read(fixture("episode/pep-think-38min.mp3")).unwrap();
    let dir = tempfile::tempdir().unwrap();
    // The chapter files and images live apart from the audio's folder, whose every other
    // file counts as a stray.
    let art = tempfile::tempdir().unwrap();
    let mut rng = Rng(12);
    let titles = ["Intro", "Part one", "Part two", "Outro"];
    let first = image_chapters(art.path(), "first", &titles, 768, &mut rng);
    let titles = ["Cold open", "Segment A", "Segment B", "Goodbye"];
    let second = image_chapters(art.path(), "second", &titles, 768, &mut rng);
    run_cases("mp3", original, 0x696d_6167_6573, dir.path(), first, second);
}

#[test]
fn interrupted_m4a_writes_leave_the_original_or_the_result() {
    require_tools!("ffmpeg");
    let (dir, original) = noise_m4a(true);
    run_container("m4a", original, 0x6d34_615f_6b69_6c6c);
    drop(dir);
}

/// The m4a run for a file whose `moov` is at the end: the first write grows the file there
/// (journal + extend + patch), the second patches the padding it left.
#[test]
fn interrupted_m4a_writes_at_the_end_leave_the_original_or_the_result() {
    require_tools!("ffmpeg");
    let (dir, original) = noise_m4a(false);
    let (first, second) = four_chapters_twice(dir.path());
    let work = tempfile::tempdir().unwrap();
    let paths = (work.path(), first, second);
    run_cases_named("grow-at-end", "m4a", original, 0x6d34_6165_6e64, paths);
    drop(dir);
}

/// The m4a run for a write that adds a chapter-image track: 4 × 768 KiB JPEG samples.
#[test]
fn interrupted_m4a_writes_with_images_leave_the_original_or_the_result() {
    require_tools!("ffmpeg");
    let (dir, original) = noise_m4a(true);
    let art = tempfile::tempdir().unwrap();
    let mut rng = Rng(13);
    let titles = ["Intro", "Part one", "Part two", "Outro"];
    let first = image_chapters(art.path(), "first", &titles, 768, &mut rng);
    let titles = ["Cold open", "Segment A", "Segment B", "Goodbye"];
    let second = image_chapters(art.path(), "second", &titles, 768, &mut rng);
    let work = tempfile::tempdir().unwrap();
    run_cases(
        "m4a",
        original,
        0x6d34_6169_6d67,
        work.path(),
        first,
        second,
    );
    drop(dir);
}

/// A few MB of AAC (noise does not compress), faststart or with `moov` at the end, made here
/// rather than committed; the directory holding it comes back too, to live as long as the
/// bytes are needed.
fn noise_m4a(faststart: bool) -> (tempfile::TempDir, Vec<u8>) {
    let dir = tempfile::tempdir().unwrap();
    let src = dir.path().join("noise.m4a");
    let st = Command::new("ffmpeg")
        .args(["-nostdin", "-v", "error", "-f", "lavfi", "-i"])
        .arg("anoisesrc=d=150:c=pink:r=44100:a=0.2:s=7")
        .args(["-ac", "2", "-c:a", "aac", "-b:a", "192k"])
        .args(if faststart {
            &["-movflags", "+faststart"][..]
        } else {
            &[]
        })
        .args(["-fflags", "+bitexact", "-flags:a", "+bitexact"])
        .arg(&src)
        .status()
        .unwrap();
    assert!(st.success());
    let original = fs::read(&src).unwrap();
    assert!(original.len() > 3 << 20, "{} bytes", original.len());
    (dir, original)
}

/// A few MB of pink noise encoded by ffmpeg with `args`, made here rather than committed.
fn noise(dir: &Path, name: &str, seconds: u32, args: &[&str]) -> Vec<u8> {
    let out = dir.join(name);
    let st = Command::new("ffmpeg")
        .args(["-nostdin", "-v", "error", "-f", "lavfi", "-i"])
        .arg(format!("anoisesrc=d={seconds}:c=pink:r=48000:a=0.2:s=7"))
        .args(["-ac", "2"])
        .args(args)
        .args(["-fflags", "+bitexact", "-flags:a", "+bitexact"])
        .arg(&out)
        .status()
        .unwrap();
    assert!(st.success());
    let bytes = fs::read(&out).unwrap();
    assert!(bytes.len() > 3 << 20, "{name}: {} bytes", bytes.len());
    bytes
}

/// One case that must be a rebuild (temporary file + rename), hammered like the others.
fn run_rebuild(ext: &str, original: Vec<u8>, chapters: PathBuf, seed: u64) {
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path();
    let c = case("rebuild", dir, ext, original, chapters, true);
    assert_eq!(c.kind, Kind::Rebuild, "{ext}");
    let t = hammer(&c, dir, ext, &mut Rng(seed));
    eprintln!(
        "{ext} rebuild: {} runs, {} original, {} finished, {} recovered by show; clean write {:?}",
        RUNS_PER_CASE, t.start, t.done, t.recovered, c.clean
    );
    assert!(t.start > 0 && t.done > 0 && t.recovered > 0, "{ext}: {t:?}");
}

/// Opus: the first write grows the comment pages (ffmpeg leaves no padding): an insert, or
/// a rebuild where the file system cannot insert; the second is a patch into the padding
/// left. Then a comment header that needs more pages: a rebuild whose audio pages are
/// renumbered and re-checksummed while copied.
#[test]
fn interrupted_opus_writes_leave_the_original_or_the_result() {
    let dir = tempfile::tempdir().unwrap();
    let original = noise(
        dir.path(),
        "noise.opus",
        100,
        &["-c:a", "libopus", "-b:a", "320k"],
    );
    run_container("opus", original.clone(), 0x6f70_7573_6b69_6c6c);
    let title = "a long chapter title ".repeat(10);
    let many: String = (0..300)
        .map(|i| {
            let ms = i * 300;
            format!(
                "{}:{:02}.{:03} {title}{i}\n",
                ms / 60_000,
                ms / 1000 % 60,
                ms % 1000
            )
        })
        .collect();
    let many_path = dir.path().join("many.txt");
    fs::write(&many_path, many).unwrap();
    run_rebuild("opus", original, many_path, 0x6f70_7573_7265_6275);
}

/// FLAC: without padding the first write grows the metadata (insert, or rebuild), the
/// second patches the padding left; with an ID3v2 tag before `fLaC` a growing write is
/// always a rebuild.
#[test]
fn interrupted_flac_writes_leave_the_original_or_the_result() {
    let dir = tempfile::tempdir().unwrap();
    let src = dir.path().join("noise.flac");
    fs::write(
        &src,
        noise(dir.path(), "padded.flac", 100, &["-c:a", "flac"]),
    )
    .unwrap();
    let st = Command::new("metaflac")
        .args(["--remove", "--block-type=PADDING", "--dont-use-padding"])
        .arg(&src)
        .status()
        .unwrap();
    assert!(st.success());
    let original = fs::read(&src).unwrap();
    run_container("flac", original.clone(), 0x666c_6163_6b69_6c6c);
    let mut tagged =
        b"ID3\x03\x00\x00\x00\x00\x00\x11TIT2\x00\x00\x00\x07\x00\x00\x00Tagged".to_vec();
    tagged.extend_from_slice(&original);
    let first = chapters(
        dir.path(),
        "id3.txt",
        &["Intro", "Part one", "Part two", "Outro"],
    );
    run_rebuild("flac", tagged, first, 0x666c_6163_6964_3321);
}

#[test]
fn every_command_that_reads_audio_recovers_first() {
    let dir = tempfile::tempdir().unwrap();
    let first = chapters(dir.path(), "first.txt", &["Intro", "Part one", "Outro"]);
    let second = chapters(dir.path(), "second.txt", &["Cold open", "Segment", "Bye"]);
    for ext in ["mp3", "m4a"] {
        let src = fixture(&format!("episode/pep-think-38min.{ext}"));
        let audio = dir.path().join(format!("episode.{ext}"));
        fs::copy(&src, &audio).unwrap();
        assert!(write_cmd(&audio, &first).status().unwrap().success());
        let tagged = fs::read(&audio).unwrap();
        let commands: [&[&str]; 5] = [
            &["show"],
            &["probe"],
            &["check"],
            &["write", "--dry-run", "-c"],
            &["strip", "-o"],
        ];
        for args in commands {
            // Abort an in-place rewrite half way: a journal and a half-patched file.
            let st = write_cmd(&audio, &second)
                .env("CHAPMARK_FAULT", "3")
                .status()
                .unwrap();
            assert!(!st.success());
            assert!(journal(&audio).exists());
            let mut c = Command::new(bin());
            c.arg(args[0]).arg(&audio).args(&args[1..]);
            match args.last() {
                Some(&"-c") => {
                    c.arg(&second);
                }
                Some(&"-o") => {
                    c.arg(dir.path().join(format!("copy.{ext}")));
                }
                _ => {}
            }
            let o = c.env_remove("CHAPMARK_FAULT").output().unwrap();
            assert!(
                o.status.success(),
                "{ext} {args:?}: {}",
                String::from_utf8_lossy(&o.stderr)
            );
            assert!(!journal(&audio).exists(), "{ext} {args:?} left the journal");
            assert!(
                fs::read(&audio).unwrap() == tagged,
                "{ext} {args:?}: not rolled back"
            );
        }
    }
}
