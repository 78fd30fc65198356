//! Ogg (Vorbis, Opus, FLAC): the exact length from granule positions, measured through
//! symphonia (`container/symph.rs`, shared with FLAC). No chapters are written yet
//! (Vorbis-comment `CHAPTERnnn` would live here as `chapters.rs` + `plan.rs`).

use super::{Capabilities, Container, symph};
use crate::probe::{ProbeError, ProbeInfo};
use std::io::{Read, Seek};

/// Ogg chapters are not written yet.
pub const CAPABILITIES: Capabilities = Capabilities::READ_ONLY;

/// Measures an Ogg stream whose pages start at `start`.
pub(crate) fn probe<R: Read + Seek + Send + Sync>(
    reader: R,
    name: &str,
    start: u64,
) -> Result<ProbeInfo, ProbeError> {
    symph::probe(reader, name, Container::Ogg, start)
}
