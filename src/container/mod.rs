//! One folder per container: how its structure is read, how long its audio is, where its
//! chapters live and how a write is planned.
//!
//! * [`vorbis_comment`]: the `CHAPTERxxx` comments Ogg and FLAC share;
//! * [`flac`]: native FLAC;
//! * [`ogg`]: Ogg Opus and Vorbis.

pub mod flac;
pub mod ogg;
pub mod vorbis_comment;

use crate::container::vorbis_comment::CommentError;
use crate::write::WriteError;

/// Errors while reading or planning chapters in an Ogg or FLAC file. Messages start with the
/// file name.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum ContainerError {
    /// Reading failed.
    #[error("{file}: {action}: {source}")]
    Io {
        /// The file.
        file: String,
        /// What we were doing.
        action: &'static str,
        /// The underlying error.
        source: std::io::Error,
    },
    /// The structure is broken in a way we will not write over.
    #[error("{file}: invalid {container} file: {detail}")]
    Malformed {
        /// The file.
        file: String,
        /// `flac` or `ogg`.
        container: &'static str,
        /// What is wrong.
        detail: String,
    },
    /// A codec or layout we do not handle.
    #[error("{file}: {what} is not supported")]
    Unsupported {
        /// The file.
        file: String,
        /// What it is.
        what: String,
    },
    /// More metadata than we hold in memory.
    #[error("{file}: the {what} is larger than the {cap}-byte limit")]
    TooLarge {
        /// The file.
        file: String,
        /// What (`flac metadata`, `ogg header packets`).
        what: &'static str,
        /// The limit.
        cap: u64,
    },
    /// The comment block is damaged, or the new one cannot be built.
    #[error("{file}: {source}")]
    Comment {
        /// The file.
        file: String,
        /// What is wrong.
        source: CommentError,
    },
    /// Recovering an interrupted earlier write failed.
    #[error(transparent)]
    Recovery(#[from] WriteError),
}
