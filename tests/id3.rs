//! MP3 chapters end to end: write → read back, byte preservation, interop with ffprobe and
//! mutagen, and crash safety (fault injection and SIGKILL through `examples/apply_chapters`).

mod common;

use chapmark::container::id3v2::{
    Id3Error, Id3Options, plan_strip, plan_write, plan_write_tag, read_chapters,
};
use chapmark::write::apply::{self as safe, Recovery};
#[cfg(feature = "fault-injection")]
use chapmark::write::apply::{FAULT_ENV, FaultPoint};
use chapmark::write::{Plan, WriteError};
use chapmark::{Chapter, ChapterList, Link, SampleTime, Time};
use std::fs;
use std::path::{Path, PathBuf};
use std::process::Command;

/// All fixtures are 3 s of silence at 44.1 kHz: 132300 playable samples.
const DURATION: SampleTime = SampleTime::new(132_300, 44_100);
const FIXTURES: &[&str] = &["notag", "v23", "v24", "ffchap23", "ffchap24", "v1ape"];

fn fixture(name: &str) -> PathBuf {
    common::fixture(&format!("mp3/{name}.mp3"))
}

/// Copies a fixture into a fresh temp dir (fixtures are never written).
fn copy_fixture(name: &str) -> (tempfile::TempDir, PathBuf) {
    let dir = tempfile::tempdir().unwrap();
    let p = dir.path().join(format!("{name}.mp3"));
    fs::copy(fixture(name), &p).unwrap();
    (dir, p)
}

fn chapters() -> ChapterList {
    let mut a = Chapter::new(Time::ZERO, "Intro");
    a.description = Some("Where we say hello".into());
    let mut b = Chapter::new(Time::from_millis(1_250), "Ünïcode — 日本語のタイトル");
    b.link = Some(Link {
        url: "https://example.com/notes?id=7".into(),
        label: Some("Shownotes – Quelle".into()),
    });
    let c = Chapter::new(Time::from_millis(2_000), "Outro").with_url("https://bücher.example/ä");
    ChapterList::new(vec![a, b, c])
}

fn write(path: &Path, list: &ChapterList, opts: &Id3Options) -> Plan {
    let plan = plan_write(path, list, DURATION, opts).unwrap();
    safe::apply(path, &plan).unwrap();
    plan
}

// ---------------------------------------------------------------- a small independent parser

struct Tag {
    major: u8,
    /// Bytes the tag occupies (header + size field).
    end: usize,
    size: usize,
    frames: Vec<(String, [u8; 2], Vec<u8>)>,
}

fn syncsafe(b: &[u8]) -> usize {
    b.iter().fold(0, |a, &x| (a << 7) | usize::from(x & 0x7F))
}

fn walk(body: &[u8], major: u8) -> Vec<(String, [u8; 2], Vec<u8>)> {
    let mut out = Vec::new();
    let mut pos = 0;
    while pos + 10 <= body.len() && body[pos] != 0 {
        let h = &body[pos..pos + 10];
        let size = if major == 4 {
            syncsafe(&h[4..8])
        } else {
            u32::from_be_bytes(h[4..8].try_into().unwrap()) as usize
        };
        let id = String::from_utf8(h[..4].to_vec()).unwrap();
        out.push((id, [h[8], h[9]], body[pos + 10..pos + 10 + size].to_vec()));
        pos += 10 + size;
    }
    out
}

fn parse(file: &[u8]) -> Option<Tag> {
    if &file[..3] != b"ID3" {
        return None;
    }
    let size = syncsafe(&file[6..10]);
    Some(Tag {
        major: file[3],
        end: 10 + size,
        size,
        frames: walk(&file[10..10 + size], file[3]),
    })
}

fn tag_end(file: &[u8]) -> usize {
    parse(file).map_or(0, |t| t.end)
}

fn other_frames(t: &Tag) -> Vec<(String, [u8; 2], Vec<u8>)> {
    t.frames
        .iter()
        .filter(|f| !matches!(f.0.as_str(), "CHAP" | "CTOC" | "TLEN"))
        .cloned()
        .collect()
}

/// CHAP sub-frames of a CHAP frame's data.
fn chap_subframes(data: &[u8], major: u8) -> Vec<(String, [u8; 2], Vec<u8>)> {
    let nul = data.iter().position(|&b| b == 0).unwrap();
    walk(&data[nul + 1 + 16..], major)
}

/// (start ms, end ms, title, URL, link label).
type Row = (u64, Option<u64>, String, Option<String>, Option<String>);

fn comparable(list: &ChapterList) -> Vec<Row> {
    list.chapters
        .iter()
        .map(|c| {
            (
                c.start.as_millis(),
                c.end.map(Time::as_millis),
                c.title.clone(),
                c.url().map(str::to_string),
                c.link.as_ref().and_then(|l| l.label.clone()),
            )
        })
        .collect()
}

fn expected_readback() -> Vec<Row> {
    vec![
        (0, Some(1250), "Intro".into(), None, None),
        (
            1250,
            Some(2000),
            "Ünïcode — 日本語のタイトル".into(),
            Some("https://example.com/notes?id=7".into()),
            Some("Shownotes – Quelle".into()),
        ),
        (
            2000,
            Some(3000),
            "Outro".into(),
            Some("https://xn--bcher-kva.example/%C3%A4".into()),
            None,
        ),
    ]
}

// ---------------------------------------------------------------- round trips and layout

#[test]
fn round_trip_on_every_fixture() {
    for name in FIXTURES {
        let (_d, p) = copy_fixture(name);
        let before = fs::read(&p).unwrap();
        write(&p, &chapters(), &Id3Options::default());
        let after = fs::read(&p).unwrap();
        let read = read_chapters(&p).unwrap();
        assert_eq!(comparable(&read), expected_readback(), "{name}");
        assert_eq!(
            read.chapters[0].description.as_deref(),
            Some("Where we say hello")
        );
        assert!(read.chapters.iter().all(|c| c.toc));

        let tag = parse(&after).unwrap();
        let want_major = if name.ends_with("24") { 4 } else { 3 };
        assert_eq!(tag.major, want_major, "{name}: version kept / v2.3 default");
        // Exactly one CTOC and three CHAP, in time order after the other frames.
        let ids: Vec<&str> = tag.frames.iter().map(|f| f.0.as_str()).collect();
        assert_eq!(ids.iter().filter(|&&i| i == "CTOC").count(), 1, "{name}");
        assert_eq!(ids.iter().filter(|&&i| i == "CHAP").count(), 3, "{name}");
        let chap_ids: Vec<&[u8]> = tag
            .frames
            .iter()
            .filter(|f| f.0 == "CHAP")
            .map(|f| &f.2[..5])
            .collect();
        assert_eq!(chap_ids, [b"chp0\0", b"chp1\0", b"chp2\0"]);
        let ctoc = &tag.frames.iter().find(|f| f.0 == "CTOC").unwrap().2;
        assert_eq!(&ctoc[..21], b"toc\0\x03\x03chp0\0chp1\0chp2\0");
        assert_eq!(&ctoc[21..25], b"TIT2");
        // Byte offsets unused, WXXX without a trailing NUL, no unsynchronisation.
        for f in tag.frames.iter().filter(|f| f.0 == "CHAP") {
            assert_eq!(&f.2[13..21], &[0xFF; 8]);
            for s in chap_subframes(&f.2, tag.major) {
                if s.0 == "WXXX" {
                    assert_ne!(s.2.last(), Some(&0), "{name}: WXXX ends with NUL");
                    // Skip the (possibly UTF-16) label to reach the Latin-1 URL.
                    let url = match s.2[0] {
                        0 | 3 => {
                            let nul = 1 + s.2[1..].iter().position(|&b| b == 0).unwrap();
                            &s.2[nul + 1..]
                        }
                        _ => {
                            let pairs = s.2[1..].chunks(2).position(|c| c == [0, 0]).unwrap();
                            &s.2[1 + 2 * pairs + 2..]
                        }
                    };
                    assert!(url.starts_with(b"https://"), "{name}");
                    assert!(url.iter().all(|&b| (0x21..0x7F).contains(&b)), "{name}");
                }
            }
        }
        assert_eq!(after[5], 0, "{name}: header flags");
        // TLEN is the exact length.
        let tlen = &tag.frames.iter().find(|f| f.0 == "TLEN").unwrap().2;
        assert_eq!(tlen.as_slice(), b"\x003000", "{name}");
        // Everything after the old tag (audio, APE, ID3v1) is byte-identical.
        assert_eq!(
            &after[tag.end..],
            &before[tag_end(&before)..],
            "{name}: payload moved or changed"
        );
    }
}

#[test]
fn other_frames_are_kept_byte_for_byte() {
    for name in ["v23", "v24", "v1ape", "ffchap23"] {
        let (_d, p) = copy_fixture(name);
        let before = fs::read(&p).unwrap();
        write(&p, &chapters(), &Id3Options::default());
        let after = fs::read(&p).unwrap();
        let (old, new) = (parse(&before).unwrap(), parse(&after).unwrap());
        assert_eq!(other_frames(&old), other_frames(&new), "{name}");
        assert!(!other_frames(&new).is_empty());
    }
    // The unknown frame the fixture script injected survives.
    let (_d, p) = copy_fixture("v23");
    write(&p, &chapters(), &Id3Options::default());
    let t = parse(&fs::read(&p).unwrap()).unwrap();
    let unknown = t.frames.iter().find(|f| f.0 == "XCHM").unwrap();
    assert_eq!(unknown.2, b"\x01\x02opaque payload\x00\xff\xfe");
    // ID3v1 and APE at the end are still there, in place.
    let (_d, p) = copy_fixture("v1ape");
    write(&p, &chapters(), &Id3Options::default());
    let after = fs::read(&p).unwrap();
    assert_eq!(&after[after.len() - 128..after.len() - 125], b"TAG");
    assert!(after.windows(8).any(|w| w == b"APETAGEX"));
}

#[test]
fn wrong_tlen_is_replaced_in_place_and_right_one_kept() {
    let (_d, p) = copy_fixture("v24");
    let before = parse(&fs::read(&p).unwrap()).unwrap();
    let pos_before = before.frames.iter().position(|f| f.0 == "TLEN").unwrap();
    assert!(before.frames[pos_before].2.starts_with(b"\x001234"));
    write(&p, &chapters(), &Id3Options::default());
    let after = parse(&fs::read(&p).unwrap()).unwrap();
    let pos_after = after.frames.iter().position(|f| f.0 == "TLEN").unwrap();
    assert_eq!(pos_after, pos_before);
    assert_eq!(after.frames[pos_after].2, b"\x003000");
    assert_eq!(after.frames.iter().filter(|f| f.0 == "TLEN").count(), 1);
}

#[test]
fn second_write_is_unchanged_and_rewrites_are_deterministic() {
    for name in FIXTURES {
        let (_d, p) = copy_fixture(name);
        let opts = Id3Options::default();
        write(&p, &chapters(), &opts);
        let first = fs::read(&p).unwrap();
        let again = plan_write(&p, &chapters(), DURATION, &opts).unwrap();
        assert_eq!(again, Plan::Unchanged, "{name}");
        // Other chapters, then the first ones again: same bytes as after the first write.
        let other = ChapterList::new(vec![
            Chapter::new(Time::ZERO, "Something else entirely"),
            Chapter::new(Time::from_millis(500), "B"),
        ]);
        let plan = write(&p, &other, &opts);
        assert!(matches!(plan, Plan::Patch(_)), "{name}: {plan:?}");
        write(&p, &chapters(), &opts);
        assert_eq!(fs::read(&p).unwrap(), first, "{name}");
    }
}

#[test]
fn growing_pads_and_patch_keeps_the_audio_in_place() {
    let (_d, p) = copy_fixture("v1ape");
    let before = fs::read(&p).unwrap();
    let old_end = tag_end(&before);
    // The tag has no padding: it grows by whole 4 KiB blocks, at least 4 KiB of padding.
    let plan = write(&p, &chapters(), &Id3Options::default());
    let Plan::Insert { len, fallback, .. } = &plan else {
        panic!("expected an insert, got {plan:?}")
    };
    assert_eq!(fallback.len(), 2);
    assert_eq!(len % 4096, 0);
    let after = fs::read(&p).unwrap();
    assert_eq!(after.len() as u64, before.len() as u64 + len);
    let t = parse(&after).unwrap();
    assert_eq!(
        t.end as u64,
        old_end as u64 + len,
        "old region + inserted space"
    );
    let frames_len: usize = t.frames.iter().map(|f| 10 + f.2.len()).sum();
    assert_eq!(
        t.size,
        t.end - 10,
        "size field covers the grown region exactly"
    );
    let padding = t.end - 10 - frames_len;
    assert!((4096..4096 + 4096).contains(&padding), "{padding}");
    assert!(after[10 + frames_len..t.end].iter().all(|&b| b == 0));
    assert_eq!(
        &after[t.end..t.end + 2],
        &[0xFF, 0xF3],
        "MPEG sync right after the tag"
    );
    assert_eq!(&after[t.end..], &before[old_end..]);
    // Now it fits: an in-place patch of only the changed bytes, audio not moved.
    let mut list = chapters();
    list.chapters[2].title = "Outro, renamed".into();
    let plan = plan_write(&p, &list, DURATION, &Id3Options::default()).unwrap();
    let Plan::Patch(patches) = &plan else {
        panic!("expected a patch, got {plan:?}")
    };
    assert!(
        patches
            .iter()
            .all(|x| x.offset + x.data.len() as u64 <= t.end as u64)
    );
    assert!(plan.bytes_written() < 1024, "{}", plan.bytes_written());
    safe::apply(&p, &plan).unwrap();
    let patched = fs::read(&p).unwrap();
    assert_eq!(patched.len(), after.len());
    assert_eq!(tag_end(&patched), t.end);
    assert_eq!(&patched[t.end..], &before[old_end..]);
    assert_eq!(
        read_chapters(&p).unwrap().chapters[2].title,
        "Outro, renamed"
    );
}

/// A tagless file and a full tag (no padding, big cover) both grow by an insertion: only the
/// tag region changes, every byte after the old region stays, and the result is byte for byte
/// what the plan's fallback rebuild makes.
#[test]
fn a_tag_that_does_not_fit_is_grown_by_an_insert() {
    let dir = tempfile::tempdir().unwrap();
    let (cover, _) = with_big_cover(dir.path(), 300_000);
    let (_d, notag) = copy_fixture("notag");
    for p in [notag, cover] {
        let before = fs::read(&p).unwrap();
        let old_end = tag_end(&before);
        let plan = plan_write(&p, &chapters(), DURATION, &Id3Options::default()).unwrap();
        let Plan::Insert {
            len,
            patches,
            fallback,
        } = &plan
        else {
            panic!("{}: expected an insert, got {plan:?}", p.display())
        };
        assert_eq!(len % 4096, 0);
        assert_eq!(patches.len(), 1);
        assert_eq!(patches[0].offset, 0);
        assert_eq!(patches[0].data.len() as u64, old_end as u64 + len);
        assert_eq!(plan.bytes_written(), old_end as u64 + len);
        let via_fallback = dir.path().join("fallback.mp3");
        safe::apply_to(&p, &via_fallback, &plan).unwrap();
        assert_eq!(fs::read(&p).unwrap(), before, "apply_to leaves the source");
        assert_eq!(
            fallback.first(),
            Some(&chapmark::write::Piece::Bytes(patches[0].data.clone()))
        );
        safe::apply(&p, &plan).unwrap();
        let after = fs::read(&p).unwrap();
        assert_eq!(after, fs::read(&via_fallback).unwrap(), "{}", p.display());
        assert_eq!(&after[old_end + *len as usize..], &before[old_end..]);
        assert_eq!(comparable(&read_chapters(&p).unwrap()), expected_readback());
        // Idempotent, and the next edit fits in the padding.
        let again = plan_write(&p, &chapters(), DURATION, &Id3Options::default()).unwrap();
        assert_eq!(again, Plan::Unchanged);
        let mut list = chapters();
        list.chapters[0].title = "Hello again".into();
        let next = plan_write(&p, &list, DURATION, &Id3Options::default()).unwrap();
        assert!(matches!(next, Plan::Patch(_)), "{next:?}");
        assert!(next.bytes_written() < 1024);
    }
}

/// Builds an ID3v2.3 tag with a big cover in front of the silent MP3.
fn with_big_cover(dir: &Path, cover_len: usize) -> (PathBuf, Vec<u8>) {
    let mut apic = b"\x00image/jpeg\x00\x03\x00".to_vec();
    let mut x = 0x1234_5678u32;
    apic.extend((0..cover_len).map(|_| {
        x ^= x << 13;
        x ^= x >> 17;
        x ^= x << 5;
        x as u8
    }));
    let mut frames = Vec::new();
    for (id, data) in [
        (&b"TIT2"[..], &b"\x00Big cover episode"[..]),
        (b"APIC", &apic[..]),
    ] {
        frames.extend_from_slice(id);
        frames.extend_from_slice(&(data.len() as u32).to_be_bytes());
        frames.extend_from_slice(&[0, 0]);
        frames.extend_from_slice(data);
    }
    frames.resize(frames.len() + 100, 0);
    let n = frames.len() as u32;
    let mut file = b"ID3\x03\x00\x00".to_vec();
    file.extend([
        (n >> 21) as u8 & 0x7F,
        (n >> 14) as u8 & 0x7F,
        (n >> 7) as u8 & 0x7F,
        n as u8 & 0x7F,
    ]);
    file.extend_from_slice(&frames);
    file.extend_from_slice(&fs::read(fixture("notag")).unwrap());
    let p = dir.join("cover.mp3");
    fs::write(&p, &file).unwrap();
    (p, apic)
}

#[test]
fn big_cover_survives_and_later_edits_do_not_rewrite_it() {
    require_tools!("mutagen");
    let dir = tempfile::tempdir().unwrap();
    let (p, apic) = with_big_cover(dir.path(), 300_000);
    let before = fs::read(&p).unwrap();
    write(&p, &chapters(), &Id3Options::default());
    assert_eq!(comparable(&read_chapters(&p).unwrap()), expected_readback());
    let after = fs::read(&p).unwrap();
    let t = parse(&after).unwrap();
    assert_eq!(t.frames.iter().find(|f| f.0 == "APIC").unwrap().2, apic);
    assert_eq!(&after[t.end..], &before[tag_end(&before)..]);
    // A second edit patches only the chapter frames after the cover.
    let mut list = chapters();
    list.chapters[0].title = "Hello again".into();
    let plan = plan_write(&p, &list, DURATION, &Id3Options::default()).unwrap();
    assert!(matches!(plan, Plan::Patch(_)));
    assert!(plan.bytes_written() < 2048, "{}", plan.bytes_written());
    safe::apply(&p, &plan).unwrap();
    assert_eq!(read_chapters(&p).unwrap().chapters[0].title, "Hello again");
    let interop = mutagen(&p);
    assert_eq!(interop["apic_len"], apic.len() - 14);
}

#[test]
fn one_and_255_chapters_and_256_is_an_error() {
    require_tools!("ffprobe");
    let (_d, p) = copy_fixture("notag");
    let long = SampleTime::new(44_100 * 3600, 44_100);
    let one = ChapterList::new(vec![Chapter::new(Time::ZERO, "Only")]);
    let plan = plan_write(&p, &one, long, &Id3Options::default()).unwrap();
    safe::apply(&p, &plan).unwrap();
    let read = read_chapters(&p).unwrap();
    assert_eq!(read.len(), 1);
    assert_eq!(read.chapters[0].end, Some(Time::from_secs(3600)));

    let many: Vec<Chapter> = (0..255)
        .map(|i| Chapter::new(Time::from_secs(i * 10), format!("Chapter {i}")))
        .collect();
    let plan = plan_write(
        &p,
        &ChapterList::new(many.clone()),
        long,
        &Id3Options::default(),
    )
    .unwrap();
    safe::apply(&p, &plan).unwrap();
    let read = read_chapters(&p).unwrap();
    assert_eq!(read.len(), 255);
    assert!(
        read.chapters
            .iter()
            .zip(&many)
            .all(|(a, b)| a.start == b.start && a.title == b.title)
    );
    let ff = ffprobe(&p);
    assert_eq!(ff.len(), 255);
    assert_eq!(ff[254], (2_540_000, 3_600_000, "Chapter 254".to_string()));

    let before = fs::read(&p).unwrap();
    let mut too_many = many;
    too_many.push(Chapter::new(Time::from_secs(2550), "One too many"));
    let err = plan_write(
        &p,
        &ChapterList::new(too_many),
        long,
        &Id3Options::default(),
    )
    .unwrap_err();
    assert!(
        matches!(err, Id3Error::TooManyChapters { count: 256 }),
        "{err}"
    );
    assert_eq!(fs::read(&p).unwrap(), before);
}

#[test]
fn invalid_lists_are_refused_before_anything_is_written() {
    let (_d, p) = copy_fixture("v23");
    let before = fs::read(&p).unwrap();
    let mut c = Chapter::new(Time::from_millis(1000), "B");
    c.origin = Some(chapmark::Origin {
        line: 14,
        timestamp: "0:01".into(),
    });
    let unordered = ChapterList::new(vec![Chapter::new(Time::from_millis(2000), "A"), c]);
    let err = plan_write(&p, &unordered, DURATION, &Id3Options::default()).unwrap_err();
    assert_eq!(
        err.to_string(),
        "chapter 2 (line 14): start 00:01 is not after the previous chapter's start 00:02"
    );
    let past = ChapterList::new(vec![Chapter::new(Time::from_millis(3000), "A")]);
    let err = plan_write(&p, &past, DURATION, &Id3Options::default()).unwrap_err();
    assert_eq!(
        err.to_string(),
        "chapter 1: start 00:03 is not before the end of the audio (00:00:03.000)"
    );
    let bad_version = Id3Options {
        version: Some(2),
        ..Id3Options::default()
    };
    assert!(matches!(
        plan_write(&p, &chapters(), DURATION, &bad_version),
        Err(Id3Error::BadVersionOption { version: 2 })
    ));
    assert_eq!(fs::read(&p).unwrap(), before);
}

#[test]
fn hidden_chapters_are_left_out_of_the_toc() {
    require_tools!("mutagen");
    let (_d, p) = copy_fixture("notag");
    let mut list = chapters();
    list.chapters[1].toc = false;
    write(&p, &list, &Id3Options::default());
    let m = mutagen(&p);
    assert_eq!(m["toc"][0]["children"], serde_json::json!(["chp0", "chp2"]));
    let read = read_chapters(&p).unwrap();
    assert_eq!(
        read.chapters
            .iter()
            .map(|c| (c.title.as_str(), c.toc))
            .collect::<Vec<_>>(),
        [
            ("Intro", true),
            ("Outro", true),
            ("Ünïcode — 日本語のタイトル", false)
        ]
    );
}

#[test]
fn descriptions_only_when_asked() {
    let (_d, p) = copy_fixture("notag");
    let opts = Id3Options {
        descriptions: false,
        ..Id3Options::default()
    };
    write(&p, &chapters(), &opts);
    assert_eq!(read_chapters(&p).unwrap().chapters[0].description, None);
}

#[test]
fn strip_removes_only_chapters() {
    let (_d, p) = copy_fixture("ffchap23");
    let before = fs::read(&p).unwrap();
    assert_eq!(read_chapters(&p).unwrap().len(), 2);
    let plan = plan_strip(&p).unwrap();
    assert!(matches!(plan, Plan::Patch(_)));
    safe::apply(&p, &plan).unwrap();
    assert!(read_chapters(&p).unwrap().is_empty());
    let after = fs::read(&p).unwrap();
    assert_eq!(after.len(), before.len());
    let t = parse(&after).unwrap();
    assert_eq!(
        t.frames.iter().map(|f| f.0.as_str()).collect::<Vec<_>>(),
        ["TIT2"]
    );
    assert_eq!(other_frames(&t), other_frames(&parse(&before).unwrap()));
    assert_eq!(plan_strip(&p).unwrap(), Plan::Unchanged);
    let (_d2, q) = copy_fixture("notag");
    assert_eq!(plan_strip(&q).unwrap(), Plan::Unchanged);
}

#[test]
fn existing_ffmpeg_chapters_are_read() {
    for name in ["ffchap23", "ffchap24"] {
        let read = read_chapters(&fixture(name)).unwrap();
        assert_eq!(
            comparable(&read),
            [
                (0, Some(1000), "Old intro".to_string(), None, None),
                (1000, Some(3000), "Old main part".to_string(), None, None)
            ],
            "{name}"
        );
        assert_eq!(read.meta.title.as_deref(), Some("ffmpeg chapters"));
    }
    assert!(read_chapters(&fixture("notag")).unwrap().is_empty());
    assert_eq!(
        read_chapters(&fixture("v23"))
            .unwrap()
            .meta
            .author
            .as_deref(),
        Some("The Host")
    );
}

#[test]
fn explicit_version_conversion() {
    require_tools!("mutagen");
    // v2.4 → v2.3: UTF-8 text re-encoded, TDRC becomes TYER/TDAT, other frames readable.
    let (_d, p) = copy_fixture("v24");
    let opts = Id3Options {
        version: Some(3),
        ..Id3Options::default()
    };
    write(&p, &chapters(), &opts);
    assert_eq!(fs::read(&p).unwrap()[3], 3);
    assert_eq!(comparable(&read_chapters(&p).unwrap()), expected_readback());
    let m = mutagen(&p);
    let orig = mutagen(&fixture("v24"));
    assert_eq!(m["version"], 3);
    for key in [
        "TIT2",
        "TPE1",
        "TALB",
        "COMM::eng",
        "TXXX:PODCAST_ID",
        "WXXX:Show page",
    ] {
        assert_eq!(m["text"][key], orig["text"][key], "{key}");
    }
    assert_eq!(
        m["text"]["TDRC"], "2026-11-03",
        "mutagen reads TYER+TDAT back as a date"
    );
    assert_eq!(m["apic_len"], orig["apic_len"]);
    // v2.3 → v2.4.
    let (_d, p) = copy_fixture("v23");
    let opts = Id3Options {
        version: Some(4),
        ..Id3Options::default()
    };
    write(&p, &chapters(), &opts);
    assert_eq!(fs::read(&p).unwrap()[3], 4);
    let (mut m, orig) = (mutagen(&p), mutagen(&fixture("v23")));
    assert_eq!(m["text"]["TLEN"], "3000");
    m["text"].as_object_mut().unwrap().remove("TLEN");
    assert_eq!(m["text"], orig["text"]);
    assert_eq!(comparable(&read_chapters(&p).unwrap()), expected_readback());
}

/// Wraps frames in a tag header of version `major` with header flags `flags`.
fn raw_tag(major: u8, flags: u8, body: &[u8]) -> Vec<u8> {
    let n = body.len() as u32;
    let mut t = vec![b'I', b'D', b'3', major, 0, flags];
    t.extend([
        (n >> 21) as u8 & 0x7F,
        (n >> 14) as u8 & 0x7F,
        (n >> 7) as u8 & 0x7F,
        n as u8 & 0x7F,
    ]);
    t.extend_from_slice(body);
    t
}

#[test]
fn unsynchronised_and_v22_tags_are_normalised() {
    require_tools!("mutagen");
    let dir = tempfile::tempdir().unwrap();
    let audio = fs::read(fixture("notag")).unwrap();
    // v2.3 with whole-tag unsynchronisation: PRIV data FF E0 stored as FF 00 E0.
    let mut body = b"PRIV\x00\x00\x00\x06\x00\x00o\x00\xff\xe0\xff\x00".to_vec();
    body.extend_from_slice(b"TIT2\x00\x00\x00\x03\x00\x00\x00hi");
    let mut unsynced = Vec::new();
    for (i, &b) in body.iter().enumerate() {
        unsynced.push(b);
        if b == 0xFF && body.get(i + 1).is_some_and(|&n| n == 0 || n >= 0xE0) {
            unsynced.push(0);
        }
    }
    unsynced.resize(unsynced.len() + 16, 0);
    let p = dir.path().join("unsync.mp3");
    fs::write(&p, [raw_tag(3, 0x80, &unsynced), audio.clone()].concat()).unwrap();
    let want_priv = serde_json::json!([[0xff, 0xe0, 0xff, 0]]);
    assert_eq!(mutagen(&p)["priv"], want_priv);
    write(&p, &chapters(), &Id3Options::default());
    let after = fs::read(&p).unwrap();
    assert_eq!(after[5], 0, "no unsynchronisation flag");
    let t = parse(&after).unwrap();
    assert_eq!(t.frames[0].2, b"o\x00\xff\xe0\xff\x00");
    assert_eq!(mutagen(&p)["text"]["TIT2"], "hi");
    assert_eq!(mutagen(&p)["priv"], want_priv);
    assert_eq!(&after[t.end..], &audio[..]);

    // v2.2: TT2 and PIC become TIT2 and APIC.
    let mut body = b"TT2\x00\x00\x07\x00Old 22".to_vec();
    let pic = b"\x00PNG\x03\x00\x89PNGfake";
    body.extend_from_slice(b"PIC\x00\x00");
    body.push(pic.len() as u8);
    body.extend_from_slice(pic);
    let p = dir.path().join("v22.mp3");
    fs::write(&p, [raw_tag(2, 0, &body), audio.clone()].concat()).unwrap();
    write(&p, &chapters(), &Id3Options::default());
    let m = mutagen(&p);
    assert_eq!(m["version"], 3);
    assert_eq!(m["text"]["TIT2"], "Old 22");
    assert_eq!(m["apic_mime"], "image/png");
    assert_eq!(comparable(&read_chapters(&p).unwrap()), expected_readback());
}

#[test]
fn damaged_and_oversized_tags() {
    let dir = tempfile::tempdir().unwrap();
    let audio = fs::read(fixture("notag")).unwrap();
    // A frame that claims more bytes than the tag holds.
    let mut body = b"TIT2\x00\x00\x00\x03\x00\x00\x00ok".to_vec();
    body.extend_from_slice(b"TPE1\x00\x00\x01\x00\x00\x00\x00abc");
    let p = dir.path().join("damaged.mp3");
    let file = [raw_tag(3, 0, &body), audio.clone()].concat();
    fs::write(&p, &file).unwrap();
    let err = plan_write(&p, &chapters(), DURATION, &Id3Options::default()).unwrap_err();
    assert!(matches!(err, Id3Error::Damaged { .. }), "{err}");
    assert!(
        err.to_string().contains("frame TPE1 claims 256 bytes"),
        "{err}"
    );
    assert!(read_chapters(&p).unwrap().is_empty());
    assert_eq!(fs::read(&p).unwrap(), file);
    // A header claiming 100 MB is refused before anything is allocated.
    let mut huge = b"ID3\x03\x00\x00\x30\x00\x00\x00".to_vec();
    huge.extend_from_slice(&audio);
    fs::write(&p, &huge).unwrap();
    assert!(matches!(
        read_chapters(&p),
        Err(Id3Error::TagTooLarge { .. })
    ));
    // A tag longer than the file.
    let mut short = b"ID3\x03\x00\x00\x00\x00\x7f\x7f".to_vec();
    short.extend_from_slice(b"TIT2");
    fs::write(&p, &short).unwrap();
    assert!(matches!(read_chapters(&p), Err(Id3Error::Damaged { .. })));
    // The pure entry point never panics on hostile bytes.
    let chap: &[u8] = b"CHAP\x00\x00\x00\x1echp0\x00\x00\x00\x00\x00\x00\x00\x03\xe8\xff\xff\xff\xff\xff\xff\xff\xffTIT2\x00\x00\x00\x7f";
    for cut in 0..=chap.len() {
        let t = raw_tag(4, 0, &chap[..cut]);
        let _ = plan_write_tag(
            Some(&t),
            t.len() as u64,
            &chapters(),
            DURATION,
            &Id3Options::default(),
        );
        let _ = chapmark::container::id3v2::chapters_from_tag(&t);
    }
}

#[cfg(unix)]
#[test]
fn writing_through_a_symlink_keeps_the_link_and_mode() {
    use std::os::unix::fs::PermissionsExt;
    let (d, real) = copy_fixture("v23");
    fs::set_permissions(&real, fs::Permissions::from_mode(0o640)).unwrap();
    let links = tempfile::tempdir().unwrap();
    let link = links.path().join("link.mp3");
    std::os::unix::fs::symlink(&real, &link).unwrap();
    write(&link, &chapters(), &Id3Options::default()); // rebuild
    let mut list = chapters();
    list.chapters[0].title = "Patched".into();
    let plan = write(&link, &list, &Id3Options::default());
    assert!(matches!(plan, Plan::Patch(_)));
    assert!(
        fs::symlink_metadata(&link)
            .unwrap()
            .file_type()
            .is_symlink()
    );
    assert_eq!(read_chapters(&real).unwrap().chapters[0].title, "Patched");
    assert_eq!(
        fs::metadata(&real).unwrap().permissions().mode() & 0o777,
        0o640
    );
    assert_eq!(dir_names(links.path()), ["link.mp3"]);
    assert_eq!(dir_names(d.path()), ["v23.mp3"]);
}

fn dir_names(d: &Path) -> Vec<String> {
    let mut v: Vec<String> = fs::read_dir(d)
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    v.sort();
    v
}

// ---------------------------------------------------------------- interop with real tools

/// `ffprobe -show_chapters`: (start ms, end ms, title).
fn ffprobe(p: &Path) -> Vec<(u64, u64, String)> {
    let out = Command::new("ffprobe")
        .args(["-v", "error", "-show_chapters", "-of", "json"])
        .arg(p)
        .output()
        .expect("ffprobe is installed");
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let v: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    v["chapters"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| {
            assert_eq!(c["time_base"], "1/1000");
            (
                c["start"].as_u64().unwrap(),
                c["end"].as_u64().unwrap(),
                c["tags"]["title"].as_str().unwrap_or("").to_string(),
            )
        })
        .collect()
}

const MUTAGEN_DUMP: &str = r#"
import json, sys
from mutagen.id3 import ID3
t = ID3(sys.argv[1])
out = {"version": t.version[1], "chapters": [], "toc": [], "text": {}, "priv": [],
       "tlen": str(t["TLEN"]) if "TLEN" in t else None}
for k, f in t.items():
    if k.startswith(("T", "COMM", "WXXX")):
        out["text"][k] = f.url if k.startswith("WXXX") else str(f)
for f in t.getall("PRIV"):
    out["priv"].append(list(f.data))
pics = t.getall("APIC")
out["apic_len"] = len(pics[0].data) if pics else None
out["apic_mime"] = pics[0].mime if pics else None
for c in t.getall("CHAP"):
    s = c.sub_frames
    w = s.getall("WXXX")
    out["chapters"].append({"id": c.element_id, "start": c.start_time, "end": c.end_time,
        "title": str(s["TIT2"]) if "TIT2" in s else None,
        "url": w[0].url if w else None, "label": w[0].desc if w else None,
        "desc": str(s["TIT3"]) if "TIT3" in s else None})
for c in t.getall("CTOC"):
    out["toc"].append({"id": c.element_id, "flags": int(c.flags),
        "children": c.child_element_ids,
        "title": str(c.sub_frames["TIT2"]) if "TIT2" in c.sub_frames else None})
print(json.dumps(out))
"#;

fn mutagen(p: &Path) -> serde_json::Value {
    let out = Command::new(common::python())
        .args(["-c", MUTAGEN_DUMP])
        .arg(p)
        .output()
        .expect("python3 with mutagen is installed");
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    serde_json::from_slice(&out.stdout).unwrap()
}

#[test]
fn ffprobe_and_mutagen_read_what_we_wrote() {
    require_tools!("ffprobe", "mutagen");
    for (name, version) in [
        ("notag", None),
        ("v23", None),
        ("v24", None),
        ("notag", Some(4)),
    ] {
        let (_d, p) = copy_fixture(name);
        let opts = Id3Options {
            version,
            ..Id3Options::default()
        };
        write(&p, &chapters(), &opts);
        let want = expected_readback();
        let ff = ffprobe(&p);
        assert_eq!(
            ff,
            want.iter()
                .map(|w| (w.0, w.1.unwrap(), w.2.clone()))
                .collect::<Vec<_>>(),
            "{name} {version:?}"
        );
        let m = mutagen(&p);
        assert_eq!(m["tlen"], "3000");
        assert_eq!(
            m["toc"],
            serde_json::json!([{"id": "toc", "flags": 3, "children": ["chp0", "chp1", "chp2"],
                                "title": "Chapters"}])
        );
        let chaps = m["chapters"].as_array().unwrap();
        assert_eq!(chaps.len(), 3);
        for (c, w) in chaps.iter().zip(&want) {
            assert_eq!(c["start"], w.0);
            assert_eq!(c["end"], w.1.unwrap());
            assert_eq!(c["title"], w.2.as_str());
            assert_eq!(c["url"].as_str(), w.3.as_deref());
            assert_eq!(
                c["label"].as_str(),
                w.4.as_deref().or(w.3.as_ref().map(|_| ""))
            );
        }
        assert_eq!(chaps[0]["desc"], "Where we say hello");
    }
}

#[test]
fn long_titles_in_v23_are_read_by_ffprobe() {
    require_tools!("ffprobe");
    // ffprobe 5.x drops every chapter of a v2.4 tag whose sub-frame is 128 bytes or more;
    // v2.3 (our default) has no such limit.
    let (_d, p) = copy_fixture("notag");
    let title = "A rather long chapter title that goes on and on ".repeat(4);
    let list = ChapterList::new(vec![
        Chapter::new(Time::ZERO, title.trim()),
        Chapter::new(Time::from_millis(1500), "Short"),
    ]);
    write(&p, &list, &Id3Options::default());
    let ff = ffprobe(&p);
    assert_eq!(ff.len(), 2);
    assert_eq!(ff[0].2, title.trim());
}

// ---------------------------------------------------------------- crash safety

/// The `apply_chapters` example next to this test binary (`target/<profile>/examples/`).
/// Plain `cargo test` builds examples but `cargo test --test id3` does not, and a binary left
/// from an older build would test old code: so `cargo build --example` runs once per test
/// process (a no-op when it is up to date; cargo has released its lock while tests run).
fn example_binary() -> PathBuf {
    static BUILT: std::sync::OnceLock<bool> = std::sync::OnceLock::new();
    let exe = std::env::current_exe().unwrap();
    let profile_dir = exe.parent().and_then(Path::parent).unwrap();
    let bin = profile_dir
        .join("examples")
        .join(format!("apply_chapters{}", std::env::consts::EXE_SUFFIX));
    let built = *BUILT.get_or_init(|| {
        let cargo = std::env::var("CARGO").unwrap_or_else(|_| "cargo".into());
        let mut cmd = Command::new(cargo);
        cmd.args(["build", "--quiet", "--example", "apply_chapters"])
            .current_dir(env!("CARGO_MANIFEST_DIR"));
        if profile_dir.file_name().is_some_and(|n| n == "release") {
            cmd.arg("--release");
        }
        // The same features as this test, so the example has the fault hook when we do.
        if cfg!(feature = "fault-injection") {
            cmd.args(["--features", "fault-injection"]);
        }
        cmd.status().is_ok_and(|s| s.success())
    });
    assert!(
        built || bin.exists(),
        "could not build {}: run `cargo build --example apply_chapters`",
        bin.display()
    );
    if !built {
        eprintln!("warning: using a possibly stale {}", bin.display());
    }
    bin
}

/// Deterministic pseudo-random numbers (xorshift64*).
struct Rng(u64);
impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_F491_4F6C_DD1D)
    }
}

#[cfg_attr(not(feature = "fault-injection"), allow(dead_code))]
struct KillCase {
    name: &'static str,
    base: Vec<u8>,
    expected: Vec<u8>,
}

const KILL_DURATION_MS: u64 = 600_000;
const KILL_CHAPTERS: &str =
    "00:00 Cold open\n01:30 Ünïcode segment\n05:00 Interview\n09:59 Outro\n";

#[cfg(unix)]
fn inode(p: &Path) -> u64 {
    use std::os::unix::fs::MetadataExt;
    fs::metadata(p).unwrap().ino()
}

#[cfg(not(unix))]
fn inode(_: &Path) -> u64 {
    0
}

fn kill_cases(dir: &Path) -> Vec<KillCase> {
    // 3 MB of "audio" behind the fixture, so a rebuild takes a while to copy.
    let mut big = fs::read(fixture("notag")).unwrap();
    let mut rng = Rng(42);
    big.extend((0..3_000_000).map(|_| rng.next() as u8));
    let duration = SampleTime::new(KILL_DURATION_MS, 1000);
    let list = ChapterList::new(
        KILL_CHAPTERS
            .lines()
            .map(|l| {
                let (ts, title) = l.split_once(' ').unwrap();
                let (m, s) = ts.split_once(':').unwrap();
                Chapter::new(
                    Time::from_hmsm(0, m.parse().unwrap(), s.parse().unwrap(), 0).unwrap(),
                    title,
                )
            })
            .collect(),
    );
    // Patch case: a file that already has a padded tag with other chapters.
    let patch_base = dir.join("patch-base.mp3");
    fs::write(&patch_base, &big).unwrap();
    let old = ChapterList::new(vec![
        Chapter::new(Time::ZERO, "Old one"),
        Chapter::new(Time::from_secs(60), "Old two"),
    ]);
    let plan = plan_write(&patch_base, &old, duration, &Id3Options::default()).unwrap();
    safe::apply(&patch_base, &plan).unwrap();
    let mut cases = Vec::new();
    // "rebuild" is the untagged file written through the insert plan's fallback (the example
    // binary's `rebuild` argument), "insert" the same write grown in place.
    // Where the file system cannot insert (tmpfs), the insert plan falls back to the same
    // rebuild, so that case would only repeat "rebuild".
    let probe = dir.join("insert-probe.mp3");
    fs::write(&probe, &big).unwrap();
    let plan = plan_write(&probe, &list, duration, &Id3Options::default()).unwrap();
    let ino = inode(&probe);
    safe::apply(&probe, &plan).unwrap();
    let inserts = inode(&probe) == ino;
    if !inserts {
        eprintln!("no in-place insert on this file system: skipping the insert case");
    }
    for (name, base) in [
        ("rebuild", big.clone()),
        ("insert", big),
        ("patch", fs::read(&patch_base).unwrap()),
    ] {
        if name == "insert" && !inserts {
            continue;
        }
        let src = dir.join(format!("{name}-src.mp3"));
        fs::write(&src, &base).unwrap();
        let plan = plan_write(&src, &list, duration, &Id3Options::default()).unwrap();
        match name {
            "rebuild" | "insert" => assert!(matches!(plan, Plan::Insert { .. })),
            _ => assert!(matches!(plan, Plan::Patch(_))),
        }
        let out = dir.join(format!("{name}-expected.mp3"));
        safe::apply_to(&src, &out, &plan).unwrap();
        cases.push(KillCase {
            name,
            base,
            expected: fs::read(&out).unwrap(),
        });
    }
    cases
}

#[cfg_attr(not(feature = "fault-injection"), allow(dead_code))]
#[derive(Debug, PartialEq, Eq, Clone, Copy)]
enum Outcome {
    Original,
    Finished,
}

/// Checks the work dir after a run: recover, then the file must be the original or the
/// finished result, with no journal or temporary file left.
#[cfg_attr(not(feature = "fault-injection"), allow(dead_code))]
fn settle(work: &Path, case: &KillCase) -> (Outcome, Recovery) {
    let rec = safe::recover(work).unwrap();
    let now = fs::read(work).unwrap();
    let outcome = if now == case.base {
        Outcome::Original
    } else if now == case.expected {
        Outcome::Finished
    } else {
        panic!(
            "{}: after {rec:?} the file is neither original nor finished",
            case.name
        )
    };
    assert_eq!(
        dir_names(work.parent().unwrap()),
        ["ep.mp3"],
        "{}",
        case.name
    );
    (outcome, rec)
}

/// Needs the fault hook: `cargo test --features fault-injection` (as `.ci/run` does).
#[cfg(all(unix, feature = "fault-injection"))]
#[test]
fn every_fault_point_and_random_kills_leave_old_or_new() {
    use std::os::unix::process::ExitStatusExt;
    use std::time::{Duration, Instant};
    let bin = example_binary();
    let scratch = tempfile::tempdir().unwrap();
    let cases = kill_cases(scratch.path());
    let chapters_txt = scratch.path().join("chapters.txt");
    fs::write(&chapters_txt, KILL_CHAPTERS).unwrap();
    let workdir = tempfile::tempdir().unwrap();
    let work = workdir.path().join("ep.mp3");
    let run = |case: &KillCase, fault: Option<u8>| {
        fs::write(&work, &case.base).unwrap();
        let mut cmd = Command::new(&bin);
        cmd.arg(&work)
            .arg(KILL_DURATION_MS.to_string())
            .arg(&chapters_txt)
            .args((case.name == "rebuild").then_some("rebuild"))
            .stdout(std::process::Stdio::null())
            .stderr(std::process::Stdio::null());
        cmd.env_remove(FAULT_ENV);
        if let Some(f) = fault {
            cmd.env(FAULT_ENV, f.to_string());
        }
        cmd
    };

    // Each fault point, for a rebuild, an insert and an in-place patch.
    use FaultPoint as F;
    let mut runs = 0;
    for case in &cases {
        for point in FaultPoint::ALL {
            let status = run(case, Some(point.number())).status().unwrap();
            runs += 1;
            let reached = match case.name {
                "rebuild" => matches!(
                    point,
                    F::RebuildHalfCopied | F::BeforeRename | F::AfterRename
                ),
                "insert" => matches!(
                    point,
                    F::JournalHalfWritten
                        | F::JournalWritten
                        | F::Inserted
                        | F::PatchHalfWritten
                        | F::Patched
                ),
                _ => matches!(
                    point,
                    F::JournalHalfWritten | F::JournalWritten | F::PatchHalfWritten | F::Patched
                ),
            };
            assert_eq!(
                status.signal().is_some(),
                reached,
                "{} {point:?}: {status}",
                case.name
            );
            if !reached {
                assert!(status.success());
            }
            if reached && point == F::PatchHalfWritten {
                let now = fs::read(&work).unwrap();
                if case.name == "insert" {
                    // The second half of the new tag is mostly padding, zeros like the
                    // inserted space it lands on, so the file may already look finished.
                    assert_eq!(now.len(), case.expected.len(), "space inserted");
                    assert!(now != case.base);
                } else {
                    assert!(
                        now != case.base && now != case.expected,
                        "the fault hit mid-patch"
                    );
                }
            }
            if reached && point == F::Inserted {
                let now = fs::read(&work).unwrap();
                assert_eq!(now.len(), case.expected.len(), "space inserted");
                let grown = now.len() - case.base.len();
                assert!(now[..grown].iter().all(|&b| b == 0), "nothing patched yet");
                assert!(now[grown..] == case.base[..], "the original, shifted");
            }
            if reached && point == F::Patched {
                assert!(
                    fs::read(&work).unwrap() == case.expected,
                    "patched before the abort"
                );
            }
            let (outcome, rec) = settle(&work, case);
            let (want_outcome, want_rec) = match (case.name, point) {
                (_, F::AfterRename) => (Outcome::Finished, "Clean"),
                _ if !reached => (Outcome::Finished, "Clean"),
                ("rebuild", _) => (Outcome::Original, "Clean"),
                (_, F::JournalHalfWritten) => (Outcome::Original, "DiscardedIncomplete"),
                _ => (Outcome::Original, "RolledBack"),
            };
            assert_eq!(outcome, want_outcome, "{} {point:?}", case.name);
            assert!(
                format!("{rec:?}").starts_with(want_rec),
                "{} {point:?}: {rec:?}",
                case.name
            );
        }
    }

    // SIGKILL after random delays around the time a normal run takes.
    let mut timing = Vec::new();
    for case in &cases {
        let t = Instant::now();
        assert!(run(case, None).status().unwrap().success());
        timing.push(t.elapsed());
        assert_eq!(fs::read(&work).unwrap(), case.expected);
    }
    let mut rng = Rng(0x5EED);
    let mut tally = std::collections::BTreeMap::new();
    while runs < 300 {
        let which = runs % cases.len();
        let case = &cases[which];
        let span = timing[which].as_micros() as u64 * 3 / 2 + 1;
        let delay = Duration::from_micros(rng.next() % span);
        let mut child = run(case, None).spawn().unwrap();
        std::thread::sleep(delay);
        let _ = child.kill();
        let status = child.wait().unwrap();
        let (outcome, rec) = settle(&work, case);
        let key = format!(
            "{} {:?} {} {:?}",
            case.name,
            outcome,
            if status.signal().is_some() {
                "killed"
            } else {
                "exited"
            },
            rec
        );
        *tally.entry(key).or_insert(0) += 1;
        runs += 1;
    }
    eprintln!("normal run times: {timing:?}");
    for (k, v) in &tally {
        eprintln!("{v:4}  {k}");
    }
    assert!(
        tally.keys().any(|k| k.contains("killed")),
        "no run was actually killed"
    );
}

#[cfg(unix)]
#[test]
fn a_full_disk_during_a_rebuild_leaves_the_original() {
    // `ulimit -f` makes writes past 1 MiB fail (EFBIG, with SIGXFSZ ignored): the same path as
    // ENOSPC. The rebuild's temporary file must be removed and the original left alone.
    let bin = example_binary();
    let scratch = tempfile::tempdir().unwrap();
    let cases = kill_cases(scratch.path());
    let case = &cases[0];
    let chapters_txt = scratch.path().join("chapters.txt");
    fs::write(&chapters_txt, KILL_CHAPTERS).unwrap();
    let workdir = tempfile::tempdir().unwrap();
    let work = workdir.path().join("ep.mp3");
    fs::write(&work, &case.base).unwrap();
    let out = Command::new("bash")
        .arg("-c")
        .arg(r#"trap '' XFSZ; ulimit -f 1024; exec "$0" "$1" "$2" "$3" "$4""#)
        .arg(&bin)
        .arg(&work)
        .arg(KILL_DURATION_MS.to_string())
        .arg(&chapters_txt)
        .arg("rebuild")
        .env_remove("CHAPMARK_FAULT")
        .output()
        .unwrap();
    assert_eq!(
        out.status.code(),
        Some(1),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("writing"), "{err}");
    assert_eq!(fs::read(&work).unwrap(), case.base);
    assert_eq!(dir_names(workdir.path()), ["ep.mp3"]);
}

#[test]
fn stale_plan_after_an_interrupted_write_is_refused() {
    // Plans are made after recovery; applying a plan made before a rollback is refused.
    let (_d, p) = copy_fixture("ffchap23");
    write(&p, &chapters(), &Id3Options::default());
    let mut list = chapters();
    list.chapters[1].title = "Changed".into();
    let plan = plan_write(&p, &list, DURATION, &Id3Options::default()).unwrap();
    let target = safe::resolve_target(&p).unwrap();
    let journal = safe::journal_path(&target);
    // Fake an interrupted patch: a complete journal restoring the first three bytes.
    assert!(matches!(plan, Plan::Patch(_)));
    let len = fs::metadata(&target).unwrap().len();
    let mut j = b"CHMKJNL1".to_vec();
    let path = target.as_os_str().as_encoded_bytes();
    j.extend((path.len() as u32).to_le_bytes());
    j.extend_from_slice(path);
    j.extend(len.to_le_bytes());
    j.extend(1u32.to_le_bytes());
    j.extend(0u64.to_le_bytes());
    j.extend(3u64.to_le_bytes());
    j.extend_from_slice(b"ID3");
    let crc = crc32(&j);
    j.extend(crc.to_le_bytes());
    fs::write(&journal, &j).unwrap();
    assert!(matches!(
        safe::apply(&p, &plan),
        Err(WriteError::StalePlan { .. })
    ));
    assert!(!journal.exists());
    safe::apply(
        &p,
        &plan_write(&p, &list, DURATION, &Id3Options::default()).unwrap(),
    )
    .unwrap();
    assert_eq!(read_chapters(&p).unwrap().chapters[1].title, "Changed");
}

/// Bitwise CRC-32 (IEEE), independent of the crate's implementation.
fn crc32(data: &[u8]) -> u32 {
    let mut crc = !0u32;
    for &b in data {
        crc ^= u32::from(b);
        for _ in 0..8 {
            crc = if crc & 1 != 0 {
                (crc >> 1) ^ 0xEDB8_8320
            } else {
                crc >> 1
            };
        }
    }
    !crc
}

#[test]
fn footer_and_extended_headers_are_replaced_cleanly() {
    require_tools!("mutagen");
    let dir = tempfile::tempdir().unwrap();
    let audio = fs::read(fixture("notag")).unwrap();
    // v2.4 with an extended header (6 bytes, syncsafe size including itself) and a footer.
    let mut body = vec![0, 0, 0, 6, 1, 0];
    body.extend_from_slice(b"TPE1\x00\x00\x00\x05\x00\x00\x03Host");
    let mut tag = raw_tag(4, 0x50, &body);
    let mut footer = tag[..10].to_vec();
    footer[..3].copy_from_slice(b"3DI");
    tag.extend_from_slice(&footer);
    let p = dir.path().join("footer.mp3");
    fs::write(&p, [tag.clone(), audio.clone()].concat()).unwrap();
    write(&p, &chapters(), &Id3Options::default());
    let after = fs::read(&p).unwrap();
    let t = parse(&after).unwrap();
    assert_eq!((t.major, after[5]), (4, 0));
    assert_eq!(t.frames[0], ("TPE1".into(), [0, 0], b"\x03Host".to_vec()));
    assert_eq!(&after[t.end..], &audio[..]);
    assert_eq!(comparable(&read_chapters(&p).unwrap()), expected_readback());
    assert_eq!(mutagen(&p)["text"]["TPE1"], "Host");
    // v2.3 with an extended header (size excludes itself: 6).
    let mut body = vec![0, 0, 0, 6, 0, 0, 0, 0, 0, 0];
    body.extend_from_slice(b"TPE1\x00\x00\x00\x05\x00\x00\x00Host");
    body.resize(body.len() + 400, 0);
    let p = dir.path().join("ext23.mp3");
    fs::write(&p, [raw_tag(3, 0x40, &body), audio.clone()].concat()).unwrap();
    let plan = write(&p, &chapters(), &Id3Options::default());
    assert!(matches!(plan, Plan::Patch(_)), "fits in the old padding");
    let after = fs::read(&p).unwrap();
    let t = parse(&after).unwrap();
    assert_eq!(after[5], 0);
    assert_eq!(t.frames[0], ("TPE1".into(), [0, 0], b"\x00Host".to_vec()));
    assert_eq!(&after[t.end..], &audio[..]);
}

proptest::proptest! {
    #![proptest_config(proptest::prelude::ProptestConfig::with_cases(400))]
    /// Arbitrary bytes behind a plausible header never panic the reader or the planner.
    #[test]
    fn hostile_tag_bytes_never_panic(
        major in 2u8..=4,
        flags in proptest::prelude::any::<u8>(),
        body in proptest::collection::vec(proptest::prelude::any::<u8>(), 0..600),
        frames in proptest::collection::vec(
            (proptest::sample::select(vec![&b"CHAP"[..], b"CTOC", b"TIT2", b"TLEN", b"WXXX", b"APIC", b"TXXX", b"COMM"]),
             proptest::collection::vec(proptest::prelude::any::<u8>(), 0..80)),
            0..6),
    ) {
        let mut b = Vec::new();
        for (id, data) in &frames {
            b.extend_from_slice(id);
            b.extend_from_slice(&(data.len() as u32).to_be_bytes());
            b.extend_from_slice(&[0, 0]);
            b.extend_from_slice(data);
        }
        b.extend_from_slice(&body);
        let mut t = raw_tag(major, flags, &b);
        if flags & 0x10 != 0 {
            t.extend_from_slice(b"3DI\x04\x00\x10\x00\x00\x00\x00");
        }
        let _ = chapmark::container::id3v2::chapters_from_tag(&t);
        for version in [None, Some(3), Some(4)] {
            let opts = Id3Options { version, ..Id3Options::default() };
            let plan = plan_write_tag(Some(&t), t.len() as u64 + 1000, &chapters(), DURATION, &opts);
            if let Ok(Plan::Patch(patches)) = plan {
                // Patches stay inside the old tag.
                proptest::prop_assert!(patches.iter().all(|p| p.offset as usize + p.data.len() <= t.len()));
            }
        }
    }
}
