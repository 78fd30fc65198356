//! Show notes and plain text: decoding (BOM, UTF-16, legacy encodings), format detection and
//! the show-notes parser, as `chapmark convert/check/write` run them on any text file.
#![no_main]
use libfuzzer_sys::fuzz_target;

#[path = "common.rs"]
mod common;

fuzz_target!(init: common::contained_panics_are_not_crashes(), |data: &[u8]| {
    let _ = chapmark::format::read_any(data, None);
    let _ = chapmark::format::read_any(data, Some(chapmark::format::Format::Text));
});
