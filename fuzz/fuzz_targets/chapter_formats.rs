//! Every chapter-file reader (JSON, PSC, WebVTT, ffmetadata, mp4chaps, CUE, text); the first
//! byte picks the reader, so one corpus covers all of them. A list that reads is written
//! back in every format and read again, which must not fail for the format's own output.
#![no_main]
use chapmark::format::{self, Format, WriteOptions};
use libfuzzer_sys::fuzz_target;

#[path = "common.rs"]
mod common;

fuzz_target!(init: common::contained_panics_are_not_crashes(), |data: &[u8]| {
    let Some((&pick, rest)) = data.split_first() else {
        return;
    };
    let fmt = Format::ALL[usize::from(pick) % Format::ALL.len()];
    let Ok(text) = std::str::from_utf8(rest) else {
        return;
    };
    let Ok(list) = format::read(fmt, text) else {
        return;
    };
    for out in Format::ALL {
        let bytes = format::write(out, &list, &WriteOptions::default());
        // Writers never panic on what a reader produced; reading their output back must not
        // panic either (it may legitimately be refused, e.g. a list a format cannot hold).
        if let Ok(s) = std::str::from_utf8(&bytes) {
            let _ = format::read(out, s);
        }
    }
});
