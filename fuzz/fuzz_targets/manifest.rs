//! `batch` manifests (CSV and JSON Lines): the streamed reader `batch` uses must never panic,
//! and on text it accepts it must give exactly what the whole-text parser gives.
#![no_main]
use chapmark::batch::{MANIFEST_LINE_CAP, ManifestReader, parse_manifest};
use libfuzzer_sys::fuzz_target;
use std::path::Path;

#[path = "common.rs"]
mod common;

fuzz_target!(init: common::contained_panics_are_not_crashes(), |data: &[u8]| {
    let Some((&pick, rest)) = data.split_first() else {
        return;
    };
    let json_lines = pick & 1 == 1;
    let base = Path::new("/archive");
    let streamed: Vec<_> = ManifestReader::new(rest, "m", base, json_lines).collect();
    // At most one error, and it is the last item.
    let errors = streamed.iter().filter(|r| r.is_err()).count();
    assert!(errors <= 1);
    assert!(errors == 0 || streamed.last().is_some_and(|r| r.is_err()));
    let Ok(text) = std::str::from_utf8(rest) else {
        return;
    };
    // The reader splits on '\n' only and caps lines; `str::lines` also ends a line at "\r\n".
    if text.lines().any(|l| l.len() >= MANIFEST_LINE_CAP) {
        return;
    }
    let whole = parse_manifest("m", text, base, json_lines);
    match whole {
        Ok(entries) => {
            let streamed: Vec<_> = streamed.into_iter().map(|r| r.unwrap()).collect();
            assert_eq!(streamed, entries);
        }
        Err(e) => {
            let last = streamed.last().and_then(|r| r.as_ref().err());
            assert_eq!(last.map(ToString::to_string), Some(e.to_string()));
        }
    }
});
