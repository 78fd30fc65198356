//! REAPER's Region/Marker Manager CSV export: a header `#,Name,Start,End,Length` (newer
//! versions add `Color`) and one row per marker (`M1`, `M2`, …) or region (`R1`, …).
//! Comma-separated with RFC 4180 quoting (`"Q&A, part 2"`, `""` for a quote); fields are
//! trimmed, so a name's edge spaces are not kept.
//!
//! Times are as the ruler showed them when exporting. Read: `h:mm:ss.mmm`, `m:ss.mmm` and
//! plain seconds (`83.5`). Refused with a message saying how to re-export: bars/beats
//! (`5.1.00`) and frames timecode (`0:01:23:12`), which need the project tempo or frame rate.
//!
//! Which rows are chapters: when the export has regions, the regions are the chapters (a
//! region's end is the chapter's end) and markers are taken as edit notes; when it has only
//! markers, the markers are the chapters. Names starting with `//` are notes either way (see
//! [`super::markers`]). Rows whose `#` is a plain number (scripts that omit the `M`) are
//! markers.
//!
//! Writing gives regions when every chapter's end is known (stated, or the next start, with
//! `--duration` for the last), else markers; times as `h:mm:ss.mmm`. URLs, images and
//! descriptions are not carried.

mod read;
mod write;

pub use read::read;
pub use write::write;

/// The header REAPER writes (without the optional `Color` column).
pub(crate) const HEADER: &str = "#,Name,Start,End,Length";

/// The first line is REAPER's region/marker header.
pub(crate) fn sniff(body: &str) -> bool {
    body.lines()
        .next()
        .is_some_and(|l| l.starts_with("#,Name,Start"))
}
