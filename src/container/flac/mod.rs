//! Native FLAC: the exact length from STREAMINFO (or a packet count), measured through
//! symphonia (`container/symph.rs`, shared with Ogg). No chapters are written yet (a
//! `CUESHEET` or Vorbis-comment writer would live here as `chapters.rs` + `plan.rs`).

use super::{Capabilities, Container, symph};
use crate::probe::{ProbeError, ProbeInfo};
use std::io::{Read, Seek};

/// FLAC chapters are not written yet.
pub const CAPABILITIES: Capabilities = Capabilities::READ_ONLY;

/// Measures a FLAC stream whose `fLaC` marker is at `start`.
pub(crate) fn probe<R: Read + Seek + Send + Sync>(
    reader: R,
    name: &str,
    start: u64,
) -> Result<ProbeInfo, ProbeError> {
    symph::probe(reader, name, Container::Flac, start)
}
