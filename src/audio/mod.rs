//! What the audio itself says: loudness curves decoded with symphonia ([`decode`]), pauses in
//! speech ([`pause`]), and chapter starts snapped to the nearest pause ([`snap`]).
//!
//! Decoding is limited to what is asked for: snapping decodes a few seconds around each
//! chapter start (plus a sparse sample of the episode for its loudness), never the whole file.

pub mod decode;
pub mod envelope;
pub mod pause;
pub mod snap;

pub use decode::{Decoder, Frames};
pub use envelope::{Envelope, envelope};
pub use pause::Pause;
pub use snap::{Snap, SnapOptions, suggest};

/// Decoding audio failed.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum AudioError {
    /// Reading the file failed.
    #[error("{file}: reading: {source}")]
    Io {
        /// The file concerned.
        file: String,
        /// The underlying error.
        source: std::io::Error,
    },
    /// The demuxer or decoder refused the data.
    #[error("{file}: decoding: {message}")]
    Decode {
        /// The file concerned.
        file: String,
        /// Symphonia's message.
        message: String,
    },
    /// The file could not be measured (see [`crate::probe::ProbeError`]).
    #[error(transparent)]
    Probe(#[from] crate::probe::ProbeError),
    /// Nothing here that can be decoded.
    #[error("{file}: cannot decode: {message}")]
    Unsupported {
        /// The file concerned.
        file: String,
        /// Why.
        message: String,
    },
}

impl AudioError {
    pub(crate) fn io(file: &str, source: std::io::Error) -> Self {
        AudioError::Io {
            file: file.to_string(),
            source,
        }
    }

    pub(crate) fn decode(file: &str, e: symphonia::core::errors::Error) -> Self {
        match e {
            symphonia::core::errors::Error::IoError(source) => AudioError::io(file, source),
            other => AudioError::Decode {
                file: file.to_string(),
                message: other.to_string().to_lowercase(),
            },
        }
    }

    pub(crate) fn unsupported(file: &str, message: &str) -> Self {
        AudioError::Unsupported {
            file: file.to_string(),
            message: message.to_string(),
        }
    }
}
