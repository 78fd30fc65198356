//! The MP4 side: the probe's box walk and sample tables, the chapter reader (Nero `chpl` and
//! the QuickTime chapter track) and the write and strip planners, on a scratch copy of the
//! input (the readers and planners take a path, as the binary uses them).
#![no_main]
use chapmark::SampleTime;
use chapmark::container::mp4;
use libfuzzer_sys::fuzz_target;
use std::io::Cursor;

#[path = "common.rs"]
mod common;

fuzz_target!(init: common::contained_panics_are_not_crashes(), |data: &[u8]| {
    let _ = chapmark::probe::probe_reader(Cursor::new(data), Some("fuzz.m4a"));
    let path = common::scratch("mp4", "m4a");
    if std::fs::write(&path, data).is_err() {
        return;
    }
    let _ = mp4::read_forms(&path);
    let len = data.len() as u64;
    let duration = SampleTime::new(3 * 44_100, 44_100);
    for kinds in [mp4::Mp4Chapters::Both, mp4::Mp4Chapters::Nero] {
        let opts = mp4::Mp4Options {
            kinds,
            ..mp4::Mp4Options::default()
        };
        if let Ok(plan) = mp4::plan_write(&path, &common::chapters(), duration, &opts) {
            common::check_bounds(&plan, len);
        }
    }
    if let Ok(plan) = mp4::plan_strip(&path) {
        common::check_bounds(&plan, len);
    }
});
