//! RIFF WAVE: the exact length from the data chunk (`duration.rs`). No chapters are written
//! (a `cue `/`LIST adtl` writer would live here as `chapters.rs` + `plan.rs`).

mod duration;

pub(crate) use duration::probe;

use super::Capabilities;

/// WAV chapters are not written yet.
pub const CAPABILITIES: Capabilities = Capabilities::READ_ONLY;
