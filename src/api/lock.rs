//! The advisory lock every command takes on an audio file, and the recovery it makes safe
//! (the lock itself is [`crate::write::apply::lock`]).

use super::{Error, ErrorKind};
use crate::write::apply::lock;
use std::path::Path;

pub use crate::write::apply::lock::Access;

/// Held while a command works on an audio file; dropping it lets other chapmark processes in.
pub type AudioGuard = lock::Guard;

/// Gets a file ready for any read: waits for a chapmark process that is writing it, then
/// finishes whatever an interrupted write left ([`lock::prepare`]), so the probe, the chapter
/// reader and the planner never see a half-written file.
pub fn prepare_audio(path: &Path, access: Access) -> Result<AudioGuard, Error> {
    lock::prepare(path, access).map_err(|e| Error::wrap(ErrorKind::Write, path, e))
}
