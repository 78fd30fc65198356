//! Structure-aware: a real MP3 or M4A from `fixtures/` (so the audio demuxes), damaged at a
//! few chosen bytes and followed by arbitrary extra boxes, gets an arbitrary chapter list
//! written (or its chapters stripped). Invariants:
//!
//! * the plan never refers to bytes outside the file;
//! * applied to a copy, the plan never changes an audio packet: when the input demuxes
//!   (symphonia, independent of chapmark's own box reader), the output demuxes to exactly
//!   the same packets of its first audio track.
#![no_main]
use arbitrary::Arbitrary;
use chapmark::container::{id3v2 as id3, mp4};
use chapmark::write::{Plan, apply as safe};
use chapmark::{Chapter, ChapterList, SampleTime, Time};
use libfuzzer_sys::fuzz_target;
use std::path::Path;

#[path = "common.rs"]
mod common;

const TEMPLATES: [(&str, &[u8]); 6] = [
    (
        "m4a",
        include_bytes!("../../fixtures/audio/aac-chapters.m4a"),
    ),
    ("m4a", include_bytes!("../../fixtures/m4a/plain.m4a")),
    (
        "m4a",
        include_bytes!("../../fixtures/m4a/chapters-faststart.m4a"),
    ),
    ("mp3", include_bytes!("../../fixtures/mp3/v23.mp3")),
    ("mp3", include_bytes!("../../fixtures/mp3/notag.mp3")),
    (
        "mp3",
        include_bytes!("../../fixtures/audio/lame-cbr64-noxing.mp3"),
    ),
];

#[derive(Arbitrary, Debug)]
struct Input {
    template: u8,
    /// (position, new byte): positions are taken modulo the first 8 KiB, where the tags and
    /// (in faststart files) the box tree live.
    pokes: Vec<(u16, u8)>,
    /// Extra top-level boxes appended at the end: (type, payload).
    tail_boxes: Vec<([u8; 4], Vec<u8>)>,
    chapters: Vec<(u32, String, Option<String>)>,
    strip: bool,
    nero_only: bool,
}

fuzz_target!(init: common::contained_panics_are_not_crashes(), |input: Input| {
    let (ext, template) = TEMPLATES[usize::from(input.template) % TEMPLATES.len()];
    let mut file = template.to_vec();
    for &(pos, byte) in input.pokes.iter().take(8) {
        let i = usize::from(pos) % file.len().min(8192);
        file[i] = byte;
    }
    for (kind, payload) in input.tail_boxes.iter().take(4) {
        let size = u32::try_from(payload.len() + 8).unwrap_or(u32::MAX);
        file.extend_from_slice(&size.to_be_bytes());
        file.extend_from_slice(kind);
        file.extend_from_slice(payload);
    }
    let src = common::scratch("structured-in", ext);
    let out = common::scratch("structured-out", ext);
    if std::fs::write(&src, &file).is_err() {
        return;
    }
    let Some(plan) = plan(&src, ext, &input) else {
        return;
    };
    let len = file.len() as u64;
    common::check_bounds(&plan, len);
    let before = packets(&src);
    if safe::apply_to(&src, &out, &plan).is_err() {
        return;
    }
    if let Some(before) = before {
        let after = packets(&out).expect("the output no longer demuxes");
        assert_eq!(after.len(), before.len(), "packet count changed");
        if let Some(i) = (0..before.len()).find(|&i| before[i] != after[i]) {
            panic!("audio packet {i} (pts {}) changed", before[i].0);
        }
    }
});

fn plan(src: &Path, ext: &str, input: &Input) -> Option<Plan> {
    let list = ChapterList::new(
        input
            .chapters
            .iter()
            .take(300)
            .map(|(ms, title, url)| {
                let c = Chapter::new(Time::from_millis(u64::from(*ms)), title.clone());
                match url {
                    Some(u) => c.with_url(u.clone()),
                    None => c,
                }
            })
            .collect(),
    );
    let duration = SampleTime::new(3 * 44_100, 44_100);
    if ext == "mp3" {
        if input.strip {
            return id3::plan_strip(src).ok();
        }
        return id3::plan_write(src, &list, duration, &id3::Id3Options::default()).ok();
    }
    if input.strip {
        return mp4::plan_strip(src).ok();
    }
    let opts = mp4::Mp4Options {
        kinds: if input.nero_only {
            mp4::Mp4Chapters::Nero
        } else {
            mp4::Mp4Chapters::Both
        },
        ..mp4::Mp4Options::default()
    };
    mp4::plan_write(src, &list, duration, &opts).ok()
}

/// Every packet of the default audio track (timestamp, bytes), or `None` when the file does
/// not demux to the end.
fn packets(path: &Path) -> Option<Vec<(u64, Vec<u8>)>> {
    // symphonia's own panics on malformed input are not what this target looks for.
    std::panic::catch_unwind(|| demux(path)).ok().flatten()
}

fn demux(path: &Path) -> Option<Vec<(u64, Vec<u8>)>> {
    use symphonia::core::formats::probe::Hint;
    use symphonia::core::formats::{FormatOptions, TrackType};
    use symphonia::core::io::MediaSourceStream;
    use symphonia::core::meta::MetadataOptions;
    let file = std::fs::File::open(path).ok()?;
    let mss = MediaSourceStream::new(Box::new(file), Default::default());
    let mut reader = symphonia::default::get_probe()
        .probe(
            &Hint::new(),
            mss,
            FormatOptions::default(),
            MetadataOptions::default(),
        )
        .ok()?;
    let track = reader.default_track(TrackType::Audio)?.id;
    let mut out = Vec::new();
    while let Some(p) = reader.next_packet().ok()? {
        if p.track_id == track {
            out.push((p.pts.get() as u64, p.data.to_vec()));
        }
        if out.len() > 100_000 {
            return None;
        }
    }
    Some(out)
}
