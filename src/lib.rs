//! chapmark: podcast chapter markers, done exactly.
//!
//! The library follows the data flow of the command-line tool:
//!
//! * [`probe`] reads audio and measures its exact playable length (sample-accurate);
//! * [`format`](mod@format) holds the chapter-file formats as pure functions, model ⇄ bytes,
//!   and turns any text (show notes, via [`format::text`], or a chapter file) into a
//!   [`ChapterList`];
//! * [`validate`] checks a list against the real duration and platform rules;
//! * [`write`](mod@write) puts chapters into MP3 (ID3v2 CHAP/CTOC) and MP4 files, crash-safely;
//! * [`report`] renders diagnostics for people and for CI.
//!
//! The library never prints; it logs through the `log` facade. Only [`probe`] and [`write`](mod@write)
//! touch files.
#![warn(missing_docs)]

pub mod api;
pub mod batch;
pub mod chapter;
pub mod format;
pub mod limits;
pub mod probe;
pub mod report;
pub mod time;
pub mod validate;
pub mod write;

pub use api::{
    EmbedOptions, Error, ErrorKind, PlanKind, Written, probe, read_chapters, read_embedded, strip,
    validate, write,
};
pub use chapter::{Chapter, ChapterList, Link, ListMeta, Origin};
pub use time::{SampleTime, Time};
