//! chapmark: podcast chapter markers, done exactly.
//!
//! The functions at the crate root are the library API — [`probe()`], [`read_chapters`],
//! [`read_embedded`], [`validate()`], [`write()`], [`strip`] — doing what the command-line tool
//! does (same lock, recovery, validation and plans), with one [`Error`]; see [`api`] for an
//! example. Underneath, the library follows the data flow of the command-line tool:
//!
//! * [`probe`](mod@probe) reads audio and measures its exact playable length (sample-accurate);
//! * [`format`](mod@format) holds the chapter-file formats as pure functions, model ⇄ bytes,
//!   and turns any text (show notes, via [`format::text`], or a chapter file) into a
//!   [`ChapterList`];
//! * [`feed`] reads an RSS feed's items and their chapter sources and adds
//!   `<podcast:chapters>` links to it byte-for-byte (pure: text in, text out);
//! * [`validate`](mod@validate) checks a list against the real duration and platform rules;
//! * [`write`](mod@write) puts chapters into MP3 (ID3v2 CHAP/CTOC) and MP4 files, crash-safely;
//! * [`report`] renders diagnostics for people and for CI.
//!
//! The library never prints; it logs through the `log` facade. Only [`probe`](mod@probe),
//! [`write`](mod@write) and the [`api`] touch files. The command-line parts (clap, anyhow,
//! indicatif, env_logger) are behind the default `cli` feature.
#![warn(missing_docs)]

pub mod api;
pub mod audio;
pub mod batch;
pub mod chapter;
pub mod container;
pub mod feed;
pub mod format;
pub mod image;
pub mod limits;
#[cfg(feature = "plot")]
pub mod plot;
pub mod probe;
pub mod remap;
#[cfg(feature = "s3")]
pub mod remote;
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
