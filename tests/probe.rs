//! The probe against committed fixtures with known ground truth (fixtures/audio/truth.json,
//! written by fixtures/audio/make.sh from how each file was made), plus robustness checks:
//! every prefix and many corruptions of real files give a result or a typed error, never a
//! panic, and a 3-hour stream is measured through a bounded buffer.

use chapmark::probe::{self, Method, ProbeError, ProbeInfo};
use serde_json::Value;
use std::io::{Cursor, Read, Seek, SeekFrom};
use std::path::{Path, PathBuf};

fn dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("fixtures/audio")
}

fn truth() -> Value {
    let text = std::fs::read_to_string(dir().join("truth.json")).expect("truth.json");
    serde_json::from_str(&text).expect("truth.json parses")
}

fn method_name(m: Method) -> String {
    serde_json::to_value(m)
        .unwrap()
        .as_str()
        .unwrap()
        .to_string()
}

fn error_name(e: &ProbeError) -> &'static str {
    match e {
        ProbeError::Io { .. } => "Io",
        ProbeError::Empty { .. } => "Empty",
        ProbeError::UnknownFormat { .. } => "UnknownFormat",
        ProbeError::NoMpegFrames { .. } => "NoMpegFrames",
        ProbeError::FreeFormat { .. } => "FreeFormat",
        ProbeError::Unsupported { .. } => "Unsupported",
        ProbeError::Truncated { .. } => "Truncated",
        ProbeError::Invalid { .. } => "Invalid",
        _ => "other",
    }
}

/// Compares one probe result with its truth row; returns the mismatches.
fn check(info: &ProbeInfo, t: &Value) -> Vec<String> {
    let mut bad = Vec::new();
    let mut eq = |what: &str, got: Value, want: Option<&Value>| {
        if let Some(want) = want {
            if &got != want {
                bad.push(format!("{what}: got {got}, want {want}"));
            }
        }
    };
    eq(
        "container",
        info.container.name().into(),
        t.get("container"),
    );
    eq("codec", info.codec.clone().into(), t.get("codec"));
    eq("samples", info.duration.samples.into(), t.get("samples"));
    eq("method", method_name(info.method).into(), t.get("method"));
    eq("frames", info.frames.into(), t.get("frames"));
    eq("channels", info.channels.into(), t.get("channels"));
    eq("delay", info.encoder_delay.into(), t.get("delay"));
    let id3 = info.tags.id3.as_ref();
    eq(
        "id3_version",
        id3.map(|i| i.version).into(),
        t.get("id3_version"),
    );
    eq(
        "id3_padding",
        id3.map(|i| i.padding).into(),
        t.get("id3_padding"),
    );
    eq(
        "id3_chapters",
        id3.map(|i| i.chapters).into(),
        t.get("id3_chapters"),
    );
    eq("id3_toc", id3.map(|i| i.toc).into(), t.get("id3_toc"));
    eq(
        "id3_appended",
        id3.map(|i| i.appended).into(),
        t.get("id3_appended"),
    );
    eq("ape", info.tags.ape.into(), t.get("ape"));
    eq("id3v1", info.tags.id3v1.into(), t.get("id3v1"));
    let ch = info.tags.mp4_chapters.as_ref();
    eq("nero", ch.map(|c| c.nero).into(), t.get("nero"));
    eq(
        "quicktime",
        ch.map(|c| c.quicktime).into(),
        t.get("quicktime"),
    );
    let mp3 = info.mp3.as_ref();
    eq(
        "id3v2_size",
        mp3.map(|m| m.id3v2_end).into(),
        t.get("id3v2_size"),
    );
    eq(
        "first_frame",
        mp3.map(|m| m.first_frame).into(),
        t.get("first_frame"),
    );
    eq(
        "junk_bytes",
        mp3.map(|m| m.junk_bytes).into(),
        t.get("junk_bytes"),
    );
    eq(
        "truncated",
        mp3.map(|m| m.truncated_bytes > 0).into(),
        t.get("truncated"),
    );
    eq(
        "vbr_header",
        mp3.and_then(|m| m.vbr_header)
            .map(|k| serde_json::to_value(k).unwrap())
            .into(),
        t.get("vbr_header"),
    );
    // Sample rate: stated in truth only for some; always consistent with the duration.
    if info.duration.sample_rate != info.sample_rate {
        bad.push("duration.sample_rate differs from sample_rate".into());
    }
    bad
}

#[test]
fn every_fixture_matches_ground_truth() {
    let truth = truth();
    let rows = truth["fixtures"].as_array().unwrap();
    assert!(rows.len() >= 30, "truth.json lists {} fixtures", rows.len());
    let mut failures = Vec::new();
    for t in rows {
        let file = t["file"].as_str().unwrap();
        match probe::probe_path(&dir().join(file)) {
            Ok(info) => {
                let bad = check(&info, t);
                if !bad.is_empty() {
                    failures.push(format!("{file}: {}", bad.join("; ")));
                }
            }
            Err(e) => failures.push(format!("{file}: unexpected error: {e}")),
        }
    }
    assert!(failures.is_empty(), "\n{}", failures.join("\n"));
}

#[test]
fn bad_files_give_typed_errors_naming_the_file() {
    let truth = truth();
    let rows = truth["errors"].as_array().unwrap();
    assert!(rows.len() >= 8);
    for t in rows {
        let file = t["file"].as_str().unwrap();
        let path = dir().join(file);
        let err = probe::probe_path(&path).expect_err(file);
        assert_eq!(
            error_name(&err),
            t["error"].as_str().unwrap(),
            "{file}: {err}"
        );
        let msg = err.to_string();
        assert!(msg.starts_with(&path.display().to_string()), "{msg}");
        assert_eq!(err.file(), path.display().to_string());
        let rest = &msg[path.display().to_string().len()..];
        if !matches!(err, ProbeError::UnknownFormat { .. }) {
            assert_eq!(rest, rest.to_lowercase(), "lowercase message: {msg}");
        }
    }
}

#[test]
fn error_messages_read_well() {
    let e = probe::probe_reader(
        Cursor::new(b"not audio at all, just text".repeat(10)),
        Some("episode.mp3"),
    )
    .unwrap_err();
    assert_eq!(
        e.to_string(),
        "episode.mp3: no mpeg audio frames found (is this an mp3?)"
    );
    let free = std::fs::read(dir().join("free-format.mp3")).unwrap();
    let e = probe::probe_reader(Cursor::new(free), Some("x.mp3")).unwrap_err();
    assert_eq!(e.to_string(), "x.mp3: free-format mp3 is not supported");
    let e = probe::probe_path(&dir().join("does-not-exist.mp3")).unwrap_err();
    assert!(matches!(e, ProbeError::Io { .. }), "{e}");
}

#[test]
fn reader_and_path_agree() {
    for f in [
        "lame-vbr-v5.mp3",
        "aac-moov-end.m4a",
        "opus.opus",
        "flac-id3.flac",
        "pcm16-mono.wav",
    ] {
        let data = std::fs::read(dir().join(f)).unwrap();
        let a = probe::probe_reader(Cursor::new(data), Some(f)).unwrap();
        let b = probe::probe_path(&dir().join(f)).unwrap();
        assert_eq!(a, b, "{f}");
    }
}

#[test]
fn id3v2_region_for_the_writer() {
    let mut f = std::fs::File::open(dir().join("id3-zero-padding.mp3")).unwrap();
    let r = probe::id3v2_region(&mut f, "id3-zero-padding.mp3").unwrap();
    assert_eq!(
        (r.size, r.first_frame, r.version, r.padding, r.tags),
        (42, 42 + 2048, Some(4), 10, 1)
    );

    let f = std::fs::File::open(dir().join("tagged-id3v23-apic-v1-ape.mp3")).unwrap();
    let r = probe::id3v2_region(f, "t.mp3").unwrap();
    let info = probe::probe_path(&dir().join("tagged-id3v23-apic-v1-ape.mp3")).unwrap();
    let id3 = info.tags.id3.unwrap();
    assert_eq!(r.size, id3.size);
    assert_eq!(r.first_frame, r.size);
    assert_eq!(r.padding, 500);
    // The first frame is where the untagged encoder output starts.
    let tagged = std::fs::read(dir().join("tagged-id3v23-apic-v1-ape.mp3")).unwrap();
    let plain = std::fs::read(dir().join("lame-vbr-v5.mp3")).unwrap();
    assert_eq!(&tagged[r.first_frame as usize..][..plain.len()], &plain[..]);

    let f = std::fs::File::open(dir().join("lame-cbr128.mp3")).unwrap();
    let r = probe::id3v2_region(f, "plain.mp3").unwrap();
    assert_eq!((r.size, r.first_frame, r.version, r.tags), (0, 0, None, 0));

    let f = std::fs::File::open(dir().join("random.mp3")).unwrap();
    assert!(matches!(
        probe::id3v2_region(f, "random.mp3"),
        Err(ProbeError::NoMpegFrames { .. })
    ));
}

/// Every prefix (at a stride) of real files: a result or a typed error, never a panic; and a
/// cut MP3 never reports more frames than the whole file.
#[test]
fn every_prefix_is_safe() {
    for (f, stride) in [
        ("tagged-id3v23-apic-v1-ape.mp3", 61),
        ("lame-mpeg2-22k-mono.mp3", 17),
        ("aac-faststart.m4a", 37),
        ("aac-co64-largesize.m4a", 53),
        ("opus.opus", 29),
        ("flac.flac", 101),
        ("vorbis.ogg", 31),
        ("extensible-24bit-3ch.wav", 211),
    ] {
        let data = std::fs::read(dir().join(f)).unwrap();
        let whole = probe::probe_reader(Cursor::new(data.clone()), Some(f)).unwrap();
        for n in (0..data.len()).step_by(stride) {
            let r = probe::probe_reader(Cursor::new(data[..n].to_vec()), Some(f));
            match (&r, whole.container) {
                (Ok(info), probe::Container::Mp3) => {
                    let (a, b) = (info.frames.unwrap(), whole.frames.unwrap());
                    assert!(a <= b, "{f}[..{n}]: {a} frames > {b}");
                }
                // A cut MP4 always lacks part of a box it declares.
                (_, probe::Container::Mp4) if n >= 8 => {
                    assert!(
                        matches!(r, Err(ProbeError::Truncated { .. })),
                        "{f}[..{n}]: {r:?}"
                    );
                }
                _ => {}
            }
        }
    }
}

/// Deterministic corruptions (byte overwrites anywhere, including headers): never a panic.
#[test]
fn corrupted_files_do_not_panic() {
    let mut seed = 0x9E37_79B9_7F4A_7C15u64;
    let mut next = move || {
        seed ^= seed << 13;
        seed ^= seed >> 7;
        seed ^= seed << 17;
        seed
    };
    let mut results = 0;
    for f in [
        "lame-vbr-v5.mp3",
        "tagged-id3v24-v1.mp3",
        "aac-moov-end.m4a",
        "aac-chapters.m4a",
        "flac.flac",
        "opus.opus",
        "pcm16-mono.wav",
    ] {
        let data = std::fs::read(dir().join(f)).unwrap();
        for _ in 0..150 {
            let mut d = data.clone();
            for _ in 0..(1 + next() % 8) {
                // Bias towards the first 2 KiB, where the headers are.
                let pos = if next() % 2 == 0 {
                    (next() % 2048) as usize
                } else {
                    (next() % d.len() as u64) as usize
                };
                if let Some(b) = d.get_mut(pos) {
                    *b = next() as u8;
                }
            }
            let _ = probe::probe_reader(Cursor::new(d), Some(f));
            results += 1;
        }
    }
    assert_eq!(results, 7 * 150);
}

/// A virtual 3-hour CBR MP3 (128 kbit/s, 44.1 kHz, 173 MB) generated on the fly: the frame
/// count is exact and the probe never asks for more than its 256 KiB buffer at once, so
/// memory does not grow with the file.
#[test]
fn three_hour_stream_with_bounded_reads() {
    struct Virtual {
        frame: Vec<u8>,
        len: u64,
        pos: u64,
        max_read: usize,
        total_read: u64,
    }
    impl Read for Virtual {
        fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
            self.max_read = self.max_read.max(buf.len());
            let n = (buf.len() as u64).min(self.len - self.pos.min(self.len)) as usize;
            let fl = self.frame.len() as u64;
            let mut i = 0;
            while i < n {
                let off = ((self.pos + i as u64) % fl) as usize;
                let k = (self.frame.len() - off).min(n - i);
                buf[i..i + k].copy_from_slice(&self.frame[off..off + k]);
                i += k;
            }
            self.pos += n as u64;
            self.total_read += n as u64;
            Ok(n)
        }
    }
    impl Seek for Virtual {
        fn seek(&mut self, p: SeekFrom) -> std::io::Result<u64> {
            self.pos = match p {
                SeekFrom::Start(x) => x,
                SeekFrom::End(x) => (self.len as i64 + x) as u64,
                SeekFrom::Current(x) => (self.pos as i64 + x) as u64,
            };
            Ok(self.pos)
        }
    }
    // 128 kbit/s MPEG-1 layer III at 44.1 kHz without padding: 417-byte frames.
    let mut frame = vec![0u8; 417];
    frame[..4].copy_from_slice(&0xFFFB_9064u32.to_be_bytes());
    let frames = 3 * 3600 * 44_100 / 1152 + 1;
    let mut v = Virtual {
        len: frames * 417,
        frame,
        pos: 0,
        max_read: 0,
        total_read: 0,
    };
    let info = probe::probe_reader(&mut v, Some("long.mp3")).unwrap();
    assert_eq!(info.frames, Some(frames));
    assert_eq!(info.duration.samples, frames * 1152);
    assert_eq!(info.method, Method::FrameScan);
    assert!(v.max_read <= 256 * 1024, "a read of {} bytes", v.max_read);
    // Every byte is read about once (sequential scan, no re-reads).
    assert!(
        v.total_read < v.len + 4 * 256 * 1024,
        "{} of {}",
        v.total_read,
        v.len
    );
}

/// Random bytes are not mistaken for MPEG audio: the first frame must start a chain of
/// frames of one stream, so sync words in noise do not count.
#[test]
fn random_bytes_are_not_mp3() {
    let mut seed = 0x2545_F491_4F6C_DD1Du64;
    for i in 0..300 {
        let n = 512 + (i * 37) % 16_384;
        let data: Vec<u8> = (0..n)
            .map(|_| {
                seed ^= seed << 13;
                seed ^= seed >> 7;
                seed ^= seed << 17;
                (seed >> 24) as u8
            })
            .collect();
        let r = probe::probe_reader(Cursor::new(data), Some("noise.mp3"));
        assert!(
            matches!(
                r,
                Err(ProbeError::NoMpegFrames { .. } | ProbeError::FreeFormat { .. })
            ),
            "buffer {i} ({n} bytes): {r:?}"
        );
    }
}
