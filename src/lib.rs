//! chapmark: podcast chapter markers, done exactly.
//!
//! The library follows the data flow of the command-line tool:
//!
//! * [`probe`] reads audio and measures its exact playable length (sample-accurate);
//! * [`notes`] turns text (show notes, or any chapter file) into a [`ChapterList`];
//! * [`format`](mod@format) holds the chapter-file formats as pure functions, model ⇄ bytes;
//! * [`validate`] checks a list against the real duration and platform rules;
//! * [`write`](mod@write) puts chapters into MP3 (ID3v2 CHAP/CTOC) and MP4 files, crash-safely;
//! * [`report`] renders diagnostics for people and for CI.
//!
//! The library never prints; it logs through the `log` facade. Only [`probe`] and [`write`](mod@write)
//! touch files.
#![warn(missing_docs)]

pub mod batch;
pub mod chapter;
pub mod cli;
pub mod container;
pub mod format;
pub mod notes;
pub mod probe;
pub mod report;
pub mod time;
pub mod validate;
pub mod write;

pub use chapter::{Chapter, ChapterList, Link, ListMeta, Origin};
pub use time::{SampleTime, Time};
