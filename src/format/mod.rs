//! Chapter-file formats, each a pure function model ⇄ bytes.
//!
//! One module per format with fixed roles: `mod.rs` (facade), `read.rs`, `write.rs`.

use serde::{Deserialize, Serialize};

/// The chapter formats chapmark reads and writes.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
#[non_exhaustive]
pub enum Format {
    /// Podcasting 2.0 JSON chapters (spec 1.2).
    Json,
    /// Podlove Simple Chapters XML.
    Psc,
    /// WebVTT chapters.
    Vtt,
    /// ffmpeg's ffmetadata.
    Ffmetadata,
    /// mp4chaps text (`HH:MM:SS.mmm Title <url>`).
    Mp4chaps,
    /// CUE sheet.
    Cue,
    /// Plain description text / show notes.
    Text,
}
