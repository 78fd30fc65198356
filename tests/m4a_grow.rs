//! First chapter writes into M4A files whose `moov` must grow, through the real binary: the
//! file grows in place (blocks inserted at the start of a faststart file, the end of a
//! `moov`-at-end file extended, a `moov` in the middle moved to the end), never rewritten
//! whole. Checked against ffprobe, a full ffmpeg decode, mutagen and the audio packets.

#![cfg(target_os = "linux")]

mod common;

use assert_cmd::Command;
use common::{copy_fixture, ffprobe_chapters, fixture};
use std::fs;
use std::os::unix::fs::MetadataExt;
use std::path::Path;

fn chapmark() -> Command {
    let mut c = Command::cargo_bin("chapmark").unwrap();
    c.env_remove("CHAPMARK_FAULT").env_remove("CHAPMARK_LOG");
    c
}

/// `chapmark write AUDIO -c CHAPTERS`; returns its stderr.
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

/// 40 chapters (more than the 4 KiB left free would hold with images), each with `img`
/// when given, as a Podcasting 2.0 chapter file in `dir`.
fn chapters(dir: &Path, img: Option<&str>) -> std::path::PathBuf {
    let items: Vec<serde_json::Value> = (0..40)
        .map(|i| {
            let mut c = serde_json::json!({
                "startTime": f64::from(i) * 0.45,
                "title": format!("Chapter {i:02} of a first write that outgrows the padding"),
            });
            if let Some(img) = img {
                c["img"] = img.into();
            }
            c
        })
        .collect();
    let doc = serde_json::json!({"version": "1.2.0", "chapters": items});
    let path = dir.join("c.json");
    fs::write(&path, doc.to_string()).unwrap();
    path
}

fn tool(cmd: &str, args: &[&str], path: &Path) -> (Vec<u8>, String) {
    let o = std::process::Command::new(cmd)
        .args(if cmd == "ffmpeg" {
            &["-nostdin"][..]
        } else {
            &[]
        })
        .args(["-v", "error", "-i"])
        .arg(path)
        .args(args)
        .output()
        .unwrap();
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    (o.stdout, String::from_utf8_lossy(&o.stderr).into_owned())
}

/// The audio packets as demuxed (`-map 0:a -c copy`), hashed.
fn audio_md5(path: &Path) -> Vec<u8> {
    tool(
        "ffmpeg",
        &["-map", "0:a", "-c", "copy", "-f", "md5", "-"],
        path,
    )
    .0
}

fn mutagen_titles(path: &Path) -> Vec<String> {
    let o = std::process::Command::new(common::python())
        .args([
            "-c",
            "import sys\nfrom mutagen.mp4 import MP4\n\
             print('\\n'.join(c.title for c in MP4(sys.argv[1]).chapters))",
        ])
        .arg(path)
        .output()
        .unwrap();
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    String::from_utf8(o.stdout)
        .unwrap()
        .lines()
        .map(str::to_string)
        .collect()
}

/// Top-level boxes `(type, offset, size)` of the first `limit` bytes' worth of headers.
fn top_level(path: &Path) -> Vec<(String, u64, u64)> {
    use std::io::{Read, Seek, SeekFrom};
    let mut f = fs::File::open(path).unwrap();
    let len = f.metadata().unwrap().len();
    let mut out = Vec::new();
    let mut at = 0;
    while at + 8 <= len {
        let mut h = [0u8; 16];
        f.seek(SeekFrom::Start(at)).unwrap();
        let n = f.read(&mut h).unwrap();
        let mut size = u64::from(u32::from_be_bytes(h[..4].try_into().unwrap()));
        if size == 1 && n == 16 {
            size = u64::from_be_bytes(h[8..16].try_into().unwrap());
        }
        out.push((String::from_utf8_lossy(&h[4..8]).into_owned(), at, size));
        assert!(size >= 8, "{}: box at {at}", path.display());
        at += size;
    }
    out
}

/// Writes chapters for the first time and checks the growth was in place and every reader
/// agrees; a second identical write changes nothing.
fn check_first_write(audio: &Path, json: &Path, images: bool) {
    let label = audio.display().to_string();
    let (ino, before) = (fs::metadata(audio).unwrap().ino(), audio_md5(audio));
    let len = fs::metadata(audio).unwrap().len();
    let stderr = write_ok(audio, json);
    assert!(stderr.contains("in place"), "{label}: {stderr}");
    let meta = fs::metadata(audio).unwrap();
    assert_eq!(meta.ino(), ino, "{label}: replaced, not grown in place");
    assert!(meta.len() > len, "{label}: did not grow");
    assert_eq!(audio_md5(audio), before, "{label}: audio packets changed");
    let (_, err) = tool("ffmpeg", &["-f", "null", "-"], audio);
    assert_eq!(err, "", "{label}: ffmpeg decode");
    let want: Vec<String> = (0..40)
        .map(|i| format!("Chapter {i:02} of a first write that outgrows the padding"))
        .collect();
    let probed: Vec<String> = ffprobe_chapters(audio).into_iter().map(|c| c.2).collect();
    assert_eq!(probed, want, "{label}: ffprobe");
    assert_eq!(mutagen_titles(audio), want, "{label}: mutagen");
    if images {
        let (out, _) = tool(
            "ffprobe",
            &["-show_entries", "stream=codec_name", "-of", "csv=p=0"],
            audio,
        );
        let codecs = String::from_utf8(out).unwrap();
        assert!(
            codecs.contains("mjpeg"),
            "{label}: no image track: {codecs}"
        );
    }
    let done = fs::read(audio).unwrap();
    write_ok(audio, json);
    assert!(fs::read(audio).unwrap() == done, "{label}: not idempotent");
}

#[test]
fn first_writes_grow_faststart_and_moov_at_end_files_in_place() {
    require_tools!("ffmpeg", "ffprobe", "mutagen");
    let dir = tempfile::tempdir().unwrap();
    copy_fixture("images/red.jpg", dir.path());
    for name in ["faststart.m4a", "plain.m4a", "chapters-image-track.m4a"] {
        for images in [false, true] {
            let audio = copy_fixture(&format!("m4a/{name}"), dir.path());
            let json = chapters(dir.path(), images.then_some("red.jpg"));
            let orig = fs::read(&audio).unwrap();
            let moov = top_level(&audio).into_iter().find(|b| b.0 == "moov");
            let moov_at = moov.unwrap().1 as usize;
            check_first_write(&audio, &json, images);
            let d = fs::read(&audio).unwrap();
            let types: Vec<String> = top_level(&audio).into_iter().map(|b| b.0).collect();
            if name.starts_with("faststart") {
                // Whole 4 KiB blocks inserted at the start; still faststart, one mdat.
                assert_eq!((d.len() - orig.len()) % 4096, 0, "{name}");
                assert_eq!(types, ["ftyp", "moov", "free", "mdat"], "{name}");
                assert!(d.ends_with(&orig[2490 + 8..]), "{name}: audio moved");
            } else {
                // moov at the end: everything before it untouched, byte for byte.
                assert!(d[..moov_at] == orig[..moov_at], "{name}: audio rewritten");
                assert_eq!(types.last().map(String::as_str), Some("free"), "{name}");
            }
            fs::remove_file(&audio).unwrap();
        }
    }
}

#[test]
fn a_moov_in_the_middle_is_freed_and_appended() {
    require_tools!("ffmpeg", "ffprobe", "mutagen");
    let dir = tempfile::tempdir().unwrap();
    let audio = copy_fixture("m4a/plain.m4a", dir.path());
    // A box after moov that is neither free space nor media data keeps moov from the end.
    let mut bytes = fs::read(&audio).unwrap();
    let orig_len = bytes.len();
    bytes.extend_from_slice(&24u32.to_be_bytes());
    bytes.extend_from_slice(b"uuid");
    bytes.extend_from_slice(b"chapmark-testbox");
    fs::write(&audio, &bytes).unwrap();
    let json = chapters(dir.path(), None);
    check_first_write(&audio, &json, false);
    let d = fs::read(&audio).unwrap();
    let top = top_level(&audio);
    let types: Vec<&str> = top.iter().map(|b| b.0.as_str()).collect();
    // The old moov is free space; the new one, its chapter samples and the padding follow.
    assert_eq!(
        types,
        [
            "ftyp", "free", "mdat", "free", "uuid", "moov", "mdat", "free"
        ]
    );
    assert!(d[..41763] == bytes[..41763], "audio rewritten");
    assert!(
        d[orig_len..orig_len + 24] == bytes[orig_len..],
        "uuid box moved"
    );
}

/// Adds `delta` to every 32-bit `stco` entry at or after `from`, in every track; returns the
/// largest offset before the shift.
fn shift_stco(moov: &mut [u8], from: u64, delta: u64) -> u64 {
    let mut max = 0;
    let mut search = 0;
    while let Some(i) = moov[search..].windows(4).position(|w| w == b"stco") {
        let at = search + i + 4;
        let count = u32::from_be_bytes(moov[at + 4..at + 8].try_into().unwrap()) as usize;
        for k in 0..count {
            let p = at + 8 + 4 * k;
            let o = u64::from(u32::from_be_bytes(moov[p..p + 4].try_into().unwrap()));
            max = max.max(o);
            let o = if o >= from { o + delta } else { o };
            moov[p..p + 4].copy_from_slice(&u32::try_from(o).unwrap().to_be_bytes());
        }
        search = at;
    }
    max
}

/// A sparse faststart file of about 4 GiB: a hole after the first audio chunk (of two
/// interleaved tracks) puts the last chunk offset just under 4 GiB, so inserting a block at
/// the start pushes it past and `stco` must become `co64` (which grows `moov` again). The
/// file stays sparse: nothing but the head is written.
#[test]
fn insertion_past_4_gib_switches_to_co64_and_keeps_the_file_sparse() {
    require_tools!("ffmpeg", "ffprobe", "mutagen");
    let dir = tempfile::tempdir().unwrap();
    let small = fs::read(fixture("m4a/twotracks-faststart.m4a")).unwrap();
    // The layout assumed: ftyp 28, moov 5227, free 8, mdat whose payload starts at 5271 with
    // the first chunk (5271..7477) of one track.
    assert_eq!(&small[32..36], b"moov");
    assert_eq!(&small[5259..5263], b"free");
    assert_eq!(&small[5267..5271], b"mdat");
    let (ftyp, moov, audio) = (&small[..28], &small[28..5255], &small[5271..]);
    let split = 7477;
    let mut moov = moov.to_vec();
    // The last chunk starts 100 bytes below 4 GiB.
    let hole = (1u64 << 32) - 100 - shift_stco(&mut moov, u64::MAX, 0);
    shift_stco(&mut moov, split, hole);
    let (ahead, behind) = audio.split_at(split as usize - 5271);
    let big = dir.path().join("big.m4a");
    {
        use std::io::{Seek, SeekFrom, Write};
        let mut f = fs::File::create(&big).unwrap();
        f.write_all(ftyp).unwrap();
        f.write_all(&moov).unwrap();
        // The audio begins where it did (a 16-byte header replaces free + mdat headers).
        f.write_all(&1u32.to_be_bytes()).unwrap();
        f.write_all(b"mdat").unwrap();
        let mdat = 16 + hole + audio.len() as u64;
        f.write_all(&mdat.to_be_bytes()).unwrap();
        f.write_all(ahead).unwrap();
        f.seek(SeekFrom::Current(hole as i64)).unwrap();
        f.write_all(behind).unwrap();
    }
    let json = chapters(dir.path(), None);
    check_first_write(&big, &json, false);
    let meta = fs::metadata(&big).unwrap();
    assert!(
        meta.blocks() * 512 < 8 << 20,
        "{} bytes allocated: the write filled the holes",
        meta.blocks() * 512
    );
    use std::io::Read;
    let mut head = vec![0u8; 1 << 16];
    fs::File::open(&big).unwrap().read_exact(&mut head).unwrap();
    let co64 = head.windows(4).filter(|w| w == b"co64").count();
    assert_eq!(co64, 2, "both tracks' offsets moved past 4 GiB");
}
