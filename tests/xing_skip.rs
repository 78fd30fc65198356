//! The frame walk skipped where the Xing/LAME header proves the length
//! (`container::mp3::proven`): on every MP3 fixture the skip path gives what the walk gives,
//! and files whose counts lie are walked.

use chapmark::probe::{self, ProbeInfo, ProbeOptions};
use std::path::{Path, PathBuf};

fn mp3_fixtures() -> Vec<PathBuf> {
    let mut out = Vec::new();
    let mut dirs = vec![Path::new(env!("CARGO_MANIFEST_DIR")).join("fixtures")];
    while let Some(d) = dirs.pop() {
        for e in std::fs::read_dir(&d).unwrap() {
            let p = e.unwrap().path();
            if p.is_dir() {
                dirs.push(p);
            } else if matches!(
                p.extension().and_then(|x| x.to_str()),
                Some("mp3" | "mp2" | "mp1")
            ) {
                out.push(p);
            }
        }
    }
    out.sort();
    out
}

/// What must not depend on the path taken.
fn essentials(i: &ProbeInfo) -> String {
    let m = i.mp3.as_ref().unwrap();
    format!(
        "{:?} {:?} {} {} {:?} {:?} {:?} segments={} delay={} padding={}",
        i.duration,
        i.method,
        i.sample_rate,
        i.channels,
        i.frames,
        i.audio_bytes,
        i.bitrate,
        m.segments.len(),
        i.encoder_delay,
        i.encoder_padding
    )
}

fn from_header(i: &ProbeInfo) -> bool {
    i.mp3.as_ref().is_some_and(|m| m.length_from_header)
}

#[test]
fn skip_path_equals_walk_on_every_fixture() {
    let mut proven = Vec::new();
    let mut walked = 0;
    for f in mp3_fixtures() {
        let Ok(walk) = probe::probe_path_with(&f, ProbeOptions::VERIFY) else {
            continue;
        };
        if walk.mp3.is_none() {
            continue;
        }
        assert!(!from_header(&walk), "{}: verify walked", f.display());
        let fast = probe::probe_path_with(&f, ProbeOptions::TRUST_PROVEN).unwrap();
        assert_eq!(essentials(&fast), essentials(&walk), "{}", f.display());
        if from_header(&fast) {
            proven.push(f.file_name().unwrap().to_string_lossy().into_owned());
        } else {
            walked += 1;
        }
    }
    eprintln!("proven by header: {proven:?}; walked: {walked}");
    assert!(
        proven.len() >= 3,
        "too few fixtures take the skip path: {proven:?}"
    );
    assert!(walked >= 10);
}

/// Where the VBR header of a LAME-encoded fixture sits, to edit it.
struct Header {
    /// First frame.
    frame: usize,
    /// The `Xing`/`Info` magic.
    xing: usize,
    /// The LAME tag's version string.
    lame: usize,
}

fn locate(b: &[u8]) -> Header {
    let xing = b
        .windows(4)
        .position(|w| w == b"Xing" || w == b"Info")
        .expect("a vbr header");
    // The frame header is the last sync word before the magic (at most 38 bytes before).
    let frame = (xing.saturating_sub(40)..xing)
        .rev()
        .find(|&i| b[i] == 0xFF && b[i + 1] & 0xE0 == 0xE0)
        .expect("a frame header");
    let flags = u32::from_be_bytes(b[xing + 4..xing + 8].try_into().unwrap());
    assert_eq!(flags & 3, 3, "frames and bytes present");
    let mut lame = xing + 8 + 8;
    if flags & 4 != 0 {
        lame += 100;
    }
    if flags & 8 != 0 {
        lame += 4;
    }
    assert!(b[lame..].starts_with(b"LAME") || b[lame..].starts_with(b"Lav"));
    Header { frame, xing, lame }
}

fn be32(b: &[u8], at: usize) -> u32 {
    u32::from_be_bytes(b[at..at + 4].try_into().unwrap())
}

fn put32(b: &mut [u8], at: usize, v: u32) {
    b[at..at + 4].copy_from_slice(&v.to_be_bytes());
}

/// Recomputes the LAME tag CRC-16 (poly 0xA001 reflected) over the frame up to the CRC.
fn reseal(b: &mut [u8], h: &Header) {
    let mut crc: u16 = 0;
    for &x in &b[h.frame..h.lame + 34] {
        crc ^= u16::from(x);
        for _ in 0..8 {
            crc = if crc & 1 != 0 {
                (crc >> 1) ^ 0xA001
            } else {
                crc >> 1
            };
        }
    }
    b[h.lame + 34..h.lame + 36].copy_from_slice(&crc.to_be_bytes());
}

#[derive(Clone, Copy, Debug)]
enum Lie {
    /// The Xing frame count off by `d`, checksum left stale (as mp3splt does).
    Frames(i64),
    /// The same, with the checksum recomputed.
    FramesResealed(i64),
    /// The byte count (and the LAME copy of it) off by `d` mean frame lengths, resealed.
    BytesResealed(i64),
    /// The last `n` bytes cut off.
    Cut(usize),
    /// `n` bytes of silence-looking junk appended after the audio.
    Appended(usize),
    /// The header of the frame right after the VBR header frame zeroed (counts intact).
    FirstHeaderZeroed,
    /// The header of the last frame (of a 128 kb/s CBR file: 417 or 418 bytes) zeroed.
    LastHeaderZeroed,
}

fn lie(orig: &[u8], how: Lie) -> Vec<u8> {
    let mut b = orig.to_vec();
    let h = locate(&b);
    let frames_at = h.xing + 8;
    match how {
        Lie::Frames(d) | Lie::FramesResealed(d) => {
            let v = i64::from(be32(&b, frames_at)) + d;
            put32(&mut b, frames_at, v as u32);
            if matches!(how, Lie::FramesResealed(_)) {
                reseal(&mut b, &h);
            }
        }
        Lie::BytesResealed(d) => {
            // One frame of the stream: its mean length.
            let bytes = i64::from(be32(&b, frames_at + 4));
            let mean = bytes / i64::from(be32(&b, frames_at));
            let bytes = bytes + d * mean;
            put32(&mut b, frames_at + 4, bytes as u32);
            put32(&mut b, h.lame + 28, bytes as u32);
            reseal(&mut b, &h);
        }
        Lie::FirstHeaderZeroed => {
            let walk = probe_both(orig).0;
            let at =
                h.frame + be32(&b, frames_at + 4) as usize - walk.audio_bytes.unwrap() as usize;
            b[at..at + 4].fill(0);
        }
        Lie::LastHeaderZeroed => {
            let end = h.frame + be32(&b, frames_at + 4) as usize;
            let at = [end - 417, end - 418]
                .into_iter()
                .find(|&p| b[p] == 0xFF && b[p + 1] == 0xFB)
                .expect("the last frame");
            b[at..at + 4].fill(0);
        }
        Lie::Cut(n) => b.truncate(b.len() - n),
        Lie::Appended(n) => b.extend(std::iter::repeat_n(0x55, n)),
    }
    b
}

fn probe_both(bytes: &[u8]) -> (ProbeInfo, ProbeInfo) {
    let walk =
        probe::probe_reader_with(std::io::Cursor::new(bytes), None, ProbeOptions::VERIFY).unwrap();
    let fast = probe::probe_reader_with(
        std::io::Cursor::new(bytes),
        None,
        ProbeOptions::TRUST_PROVEN,
    )
    .unwrap();
    (walk, fast)
}

fn fixture(name: &str) -> Vec<u8> {
    std::fs::read(
        Path::new(env!("CARGO_MANIFEST_DIR"))
            .join("fixtures/audio")
            .join(name),
    )
    .unwrap()
}

#[test]
fn the_untouched_fixtures_are_proven() {
    for name in [
        "lame-cbr128.mp3",
        "lame-vbr-v5.mp3",
        "ffmpeg-libmp3lame.mp3",
    ] {
        let (walk, fast) = probe_both(&fixture(name));
        assert!(from_header(&fast), "{name}");
        assert_eq!(essentials(&fast), essentials(&walk), "{name}");
    }
}

#[test]
fn counts_that_lie_are_walked_and_exact() {
    let cases = [
        ("lame-cbr128.mp3", Lie::Frames(1)),
        ("lame-cbr128.mp3", Lie::Frames(-1)),
        ("lame-cbr128.mp3", Lie::FramesResealed(1)),
        ("lame-cbr128.mp3", Lie::FramesResealed(-1)),
        ("lame-cbr128.mp3", Lie::BytesResealed(1)),
        ("lame-cbr128.mp3", Lie::BytesResealed(-1)),
        ("lame-vbr-v5.mp3", Lie::Frames(1)),
        ("lame-vbr-v5.mp3", Lie::Frames(-1)),
        ("lame-vbr-v5.mp3", Lie::BytesResealed(1)),
        ("lame-vbr-v5.mp3", Lie::BytesResealed(-1)),
        ("lame-vbr-v5.mp3", Lie::Cut(100)),
        ("lame-vbr-v5.mp3", Lie::Cut(1)),
        ("lame-cbr128.mp3", Lie::Appended(417)),
        ("ffmpeg-libmp3lame.mp3", Lie::Frames(1)),
        ("ffmpeg-libmp3lame.mp3", Lie::BytesResealed(-1)),
        ("lame-vbr-v5.mp3", Lie::FirstHeaderZeroed),
        ("lame-cbr128.mp3", Lie::FirstHeaderZeroed),
        ("lame-cbr128.mp3", Lie::LastHeaderZeroed),
    ];
    for (name, how) in cases {
        let bytes = lie(&fixture(name), how);
        let (walk, fast) = probe_both(&bytes);
        assert!(!from_header(&fast), "{name} {how:?} was not walked");
        assert_eq!(essentials(&fast), essentials(&walk), "{name} {how:?}");
    }
}

/// The one lie the checks cannot see (module docs of `container::mp3::proven`): a VBR
/// count rewritten wrong and resealed. It is taken on trust; `--verify` walks.
#[test]
fn a_resealed_vbr_count_is_trusted_and_verify_walks() {
    let orig = fixture("lame-vbr-v5.mp3");
    let bytes = lie(&orig, Lie::FramesResealed(1));
    let (walk, fast) = probe_both(&bytes);
    assert!(from_header(&fast));
    assert_eq!(fast.frames, Some(89));
    assert!(!from_header(&walk));
    assert_eq!(walk.frames, Some(88));
}

#[test]
fn stitched_episodes_are_walked() {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("fixtures/audio/stitched");
    let mut seen = 0;
    for e in std::fs::read_dir(dir).unwrap() {
        let p = e.unwrap().path();
        if p.extension().and_then(|x| x.to_str()) != Some("mp3") {
            continue;
        }
        let (walk, fast) = probe_both(&std::fs::read(&p).unwrap());
        assert!(!from_header(&fast), "{}", p.display());
        assert_eq!(essentials(&fast), essentials(&walk), "{}", p.display());
        seen += 1;
    }
    assert!(seen >= 5);
}

/// Counts the bytes read through it.
struct Counting<R> {
    inner: R,
    read: std::sync::Arc<std::sync::atomic::AtomicU64>,
}

impl<R: std::io::Read> std::io::Read for Counting<R> {
    fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
        let n = self.inner.read(buf)?;
        self.read
            .fetch_add(n as u64, std::sync::atomic::Ordering::Relaxed);
        Ok(n)
    }
}

impl<R: std::io::Seek> std::io::Seek for Counting<R> {
    fn seek(&mut self, pos: std::io::SeekFrom) -> std::io::Result<u64> {
        self.inner.seek(pos)
    }
}

/// A 40-minute VBR stream: the Xing frame of `lame-vbr-v5.mp3` with its counts rewritten
/// and resealed (as LAME would have written them), then its 88 frames 1 045 times (92 000
/// frames of 1152 samples at 44.1 kHz: 40 min 3 s).
fn forty_minutes() -> Vec<u8> {
    let orig = fixture("lame-vbr-v5.mp3");
    let h = locate(&orig);
    let stated = be32(&orig, h.xing + 12) as usize;
    let audio = &orig[h.frame..h.frame + stated];
    // The header frame's length: the audio frames start where the walk says.
    let walk = probe_both(&orig).0;
    let header_len = stated - walk.audio_bytes.unwrap() as usize;
    let frames = &audio[header_len..];
    let reps = 1045;
    let mut b = orig[..h.frame + header_len].to_vec();
    for _ in 0..reps {
        b.extend_from_slice(frames);
    }
    let total = (b.len() - h.frame) as u32;
    put32(&mut b, h.xing + 8, 88 * reps as u32);
    put32(&mut b, h.xing + 12, total);
    put32(&mut b, h.lame + 28, total);
    reseal(&mut b, &h);
    b.extend_from_slice(&orig[h.frame + stated..]);
    b
}

#[test]
fn a_forty_minute_proven_stream_costs_under_a_megabyte_of_reads() {
    let bytes = forty_minutes();
    let count = |opts| {
        let read = std::sync::Arc::new(std::sync::atomic::AtomicU64::new(0));
        let r = Counting {
            inner: std::io::Cursor::new(&bytes[..]),
            read: read.clone(),
        };
        let info = probe::probe_reader_with(r, None, opts).unwrap();
        (info, read.load(std::sync::atomic::Ordering::Relaxed))
    };
    let (walk, walked) = count(ProbeOptions::VERIFY);
    let (fast, fast_read) = count(ProbeOptions::TRUST_PROVEN);
    eprintln!(
        "{} bytes, {} s: walk read {walked} bytes, proven {fast_read}",
        bytes.len(),
        walk.duration.as_secs_f64()
    );
    assert!(walk.duration.as_secs_f64() > 40.0 * 60.0);
    assert!(walked >= bytes.len() as u64);
    assert!(from_header(&fast));
    assert_eq!(essentials(&fast), essentials(&walk));
    assert!(fast_read < 1_000_000, "{fast_read}");
}

/// The same comparison over any folder of MP3s (`XING_SURVEY_DIR`), for gathering evidence
/// on real files: `XING_SURVEY_DIR=~/podcasts cargo test --test xing_skip -- --ignored`.
#[test]
#[ignore = "needs XING_SURVEY_DIR"]
fn survey() {
    let dir = PathBuf::from(std::env::var_os("XING_SURVEY_DIR").expect("XING_SURVEY_DIR"));
    let (mut proven, mut walked) = (0, 0);
    for e in std::fs::read_dir(dir).unwrap() {
        let p = e.unwrap().path();
        let Ok(walk) = probe::probe_path_with(&p, ProbeOptions::VERIFY) else {
            continue;
        };
        if walk.mp3.is_none() {
            continue;
        }
        let fast = probe::probe_path_with(&p, ProbeOptions::TRUST_PROVEN).unwrap();
        assert_eq!(essentials(&fast), essentials(&walk), "{}", p.display());
        let how = if from_header(&fast) {
            "proven"
        } else {
            "walked"
        };
        eprintln!("{how} {}", p.display());
        if from_header(&fast) {
            proven += 1;
        } else {
            walked += 1;
        }
    }
    eprintln!("{proven} proven, {walked} walked, all equal");
}
