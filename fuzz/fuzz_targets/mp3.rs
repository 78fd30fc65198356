//! The MP3 side: the probe's frame walk (Xing/VBRI/LAME, free format, resync), the ID3v2
//! reader (region, frames, CHAP/CTOC) and the ID3 write planner over whatever tag it found.
#![no_main]
use chapmark::SampleTime;
use chapmark::container::id3v2 as id3;
use libfuzzer_sys::fuzz_target;

#[path = "common.rs"]
mod common;
use std::io::Cursor;

fuzz_target!(init: common::contained_panics_are_not_crashes(), |data: &[u8]| {
    let _ = id3::chapters_from_tag(data);
    let _ = chapmark::probe::probe_reader(Cursor::new(data), Some("fuzz.mp3"));
    let Ok(region) = chapmark::probe::id3v2_region(Cursor::new(data), "fuzz.mp3") else {
        return;
    };
    let end = usize::try_from(region.size).map_or(data.len(), |e| e.min(data.len()));
    let tag = data.get(..end);
    let _ = tag.map(id3::chapters_from_tag);
    let list = common::chapters();
    let len = data.len() as u64;
    let plan = id3::plan_write_tag(
        tag.filter(|t| !t.is_empty()),
        len,
        &list,
        SampleTime::new(3 * 44_100, 44_100),
        &id3::Id3Options::default(),
    );
    if let Ok(plan) = plan {
        common::check_bounds(&plan, len);
    }
});
