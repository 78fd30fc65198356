//! Audio in → exact duration.
//!
//! Chapter validation is only as good as the length it checks against, and the usual tools
//! estimate it: a VBR MP3 without a Xing header is measured from its first frames, encoder
//! delay and padding are ignored, MP4 edit lists are skipped. The probe instead reports the
//! exact playable length, to the sample, and says where the figure came from ([`Method`]).
//!
//! * MP3 (MPEG-1/2/2.5 layers I–III): every frame header is walked (no decoding) and the
//!   LAME/Xing gapless delay and padding are applied when present ([`crate::container::mp3`]).
//! * MP4/M4A (AAC, ALAC, …): the audio track's sample table, corrected by the edit list or
//!   `iTunSMPB` ([`crate::container::mp4`]).
//! * WAV via hound, FLAC and Ogg (Vorbis, Opus, FLAC) via symphonia.
//!
//! The container is detected from the content, never from the extension (`detect.rs`); the
//! measuring itself lives in each container's folder under [`crate::container`], reached
//! through its dispatch table. Reads are streaming with a fixed 256 KiB buffer, so memory
//! does not grow with the file.

pub(crate) mod detect;

use crate::time::SampleTime;
use serde::Serialize;
use std::io::{Read, Seek};
use std::path::Path;

pub use crate::container::Container;
pub use crate::container::mp3::{
    Id3v2Region, Mp3Details, MpegVersion, Segment, TIME_BASE, VbrHeaderKind, id3v2_region,
};
use crate::container::{self, io};

/// Where the sample count came from, so a reader of the report can judge how far to trust it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize)]
#[non_exhaustive]
pub enum Method {
    /// MP3: every frame counted, then the LAME tag's encoder delay and padding removed.
    #[serde(rename = "xing+lame")]
    XingLame,
    /// MP3 without gapless information: every frame counted × samples per frame. Exactly what
    /// a decoder outputs, including the encoder's delay and padding (which nobody recorded).
    #[serde(rename = "frame-scan")]
    FrameScan,
    /// MP4: sample table corrected by the edit list (`elst`), e.g. AAC priming removed.
    #[serde(rename = "elst")]
    Elst,
    /// MP4: sample table corrected by Apple's `iTunSMPB` gapless tag.
    #[serde(rename = "itunsmpb")]
    ITunSmpb,
    /// MP4: the sample table's total duration (`stts`), no edit to apply.
    #[serde(rename = "stts")]
    Stts,
    /// A length field in the stream header: WAV data size, FLAC STREAMINFO total samples.
    #[serde(rename = "header")]
    Header,
    /// Ogg: the last page's granule position minus the start offset (and Opus pre-skip).
    #[serde(rename = "granule")]
    Granule,
    /// Every packet counted by the demuxer (FLAC without a total in STREAMINFO).
    #[serde(rename = "packet-scan")]
    PacketScan,
}

/// An ID3v2 tag found in the file.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Id3Summary {
    /// Major version: 2, 3 or 4.
    pub version: u8,
    /// Byte offset of the tag (0 for a leading tag).
    pub offset: u64,
    /// Total size in bytes, including the 10-byte header, the footer (if any) and padding —
    /// the region a writer may reuse.
    pub size: u64,
    /// Padding bytes after the last frame (room a writer can fill without moving audio).
    pub padding: u64,
    /// Number of `CHAP` frames.
    pub chapters: usize,
    /// Whether a `CTOC` frame is present (Overcast and Apple need one to show chapters).
    pub toc: bool,
    /// `true` when the tag sits at the end of the file (appended), not at the start.
    pub appended: bool,
}

/// Chapters already present in an MP4 file.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Mp4Chapters {
    /// Entries in the Nero `chpl` box.
    pub nero: usize,
    /// Samples of the QuickTime chapter text track.
    pub quicktime: usize,
}

/// The tags and chapters already in the file: what a writer will replace or keep.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize)]
pub struct TagSummary {
    /// The ID3v2 tag (the leading one, else an appended one).
    pub id3: Option<Id3Summary>,
    /// An APEv1/v2 tag at the end.
    pub ape: bool,
    /// An ID3v1 tag in the last 128 bytes.
    pub id3v1: bool,
    /// MP4 chapters (only for MP4 files).
    pub mp4_chapters: Option<Mp4Chapters>,
    /// Vorbis comments (Opus, Ogg Vorbis, FLAC).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub vorbis: Option<VorbisSummary>,
}

/// The Vorbis comment block of an Opus, Ogg Vorbis or FLAC file.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct VorbisSummary {
    /// Comments in all, chapter comments included.
    pub comments: usize,
    /// Chapters (`CHAPTERxxx` with a readable time).
    pub chapters: usize,
    /// Room a writer can fill in place: FLAC `PADDING` bytes, Opus padding after the comments.
    pub padding: u64,
}

/// What the probe measured about one file.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct ProbeInfo {
    /// Container detected from the content.
    pub container: Container,
    /// Codec: `mp3`, `mp2`, `mp1`, `aac`, `alac`, `flac`, `vorbis`, `opus`, `pcm_s16le`, …
    pub codec: String,
    /// Samples per second.
    pub sample_rate: u32,
    /// Channel count.
    pub channels: u16,
    /// The exact playable length, in samples at `sample_rate`.
    pub duration: SampleTime,
    /// Where `duration` came from.
    pub method: Method,
    /// Samples the encoder put before the audio and players skip (LAME tag, elst media time,
    /// iTunSMPB, Opus pre-skip). For MP3 this is the LAME value; decoders skip it plus 529.
    pub encoder_delay: u64,
    /// Samples after the audio that players drop.
    pub encoder_padding: u64,
    /// Codec frames or packets in the stream (MP3 frames excluding the Xing/Info frame, MP4
    /// samples), when counted.
    pub frames: Option<u64>,
    /// Size of the file in bytes.
    pub file_size: u64,
    /// Bytes of coded audio (MP3 frames, MP4 `mdat` payload, WAV data), when known.
    pub audio_bytes: Option<u64>,
    /// Average bitrate over the playable length in bit/s, when `audio_bytes` is known.
    pub bitrate: Option<u64>,
    /// Tags and existing chapters.
    pub tags: TagSummary,
    /// MP3 stream details (frame scan, VBR header, layout); `None` for other containers.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub mp3: Option<Mp3Details>,
    /// Things worth knowing that did not stop the measurement (junk skipped, a truncated last
    /// frame, a Xing count that disagrees with the scan, …), lowercase sentences.
    pub warnings: Vec<String>,
}

impl ProbeInfo {
    /// Fills `bitrate` from `audio_bytes` and the playable length.
    fn with_bitrate(mut self) -> Self {
        self.bitrate = match (self.audio_bytes, self.duration.samples) {
            (Some(bytes), samples) if samples > 0 && self.duration.sample_rate > 0 => {
                let bps = bytes as u128 * 8 * self.duration.sample_rate as u128 / samples as u128;
                u64::try_from(bps).ok()
            }
            _ => None,
        };
        self
    }
}

/// Why a file could not be measured. Every message starts with the file name.
///
/// The CLI maps every variant to exit code 3 ("unreadable input"); the variants exist so a
/// library caller can tell "not audio" from "broken audio" from "I/O failed".
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum ProbeError {
    /// Reading failed.
    #[error("{file}: {action}: {source}")]
    Io {
        /// The file concerned.
        file: String,
        /// What we were doing (`reading`, `opening`).
        action: &'static str,
        /// The underlying error.
        source: std::io::Error,
    },
    /// The file has no bytes.
    #[error("{file}: the file is empty")]
    Empty {
        /// The file concerned.
        file: String,
    },
    /// No known container magic at the start of the file.
    #[error("{file}: not a recognised audio file (starts with {magic})")]
    UnknownFormat {
        /// The file concerned.
        file: String,
        /// The first bytes, as text for the message.
        magic: String,
    },
    /// The file looked like (or was named as) MP3 but holds no chain of MPEG audio frames.
    #[error("{file}: no mpeg audio frames found (is this an mp3?)")]
    NoMpegFrames {
        /// The file concerned.
        file: String,
    },
    /// Free-format MP3 (bitrate index 0): frame lengths cannot be read from headers.
    #[error("{file}: free-format mp3 is not supported")]
    FreeFormat {
        /// The file concerned.
        file: String,
    },
    /// A known container or codec variant we do not measure.
    #[error("{file}: {what} is not supported")]
    Unsupported {
        /// The file concerned.
        file: String,
        /// What it is (`fragmented mp4`, `aiff`).
        what: String,
    },
    /// The file ends before a structure it declares.
    #[error("{file}: truncated {container} file: {detail}")]
    Truncated {
        /// The file concerned.
        file: String,
        /// Container name.
        container: &'static str,
        /// What is missing.
        detail: String,
    },
    /// The structure is broken.
    #[error("{file}: invalid {container} file: {detail}")]
    Invalid {
        /// The file concerned.
        file: String,
        /// Container name.
        container: &'static str,
        /// What is wrong.
        detail: String,
    },
}

impl ProbeError {
    /// The file name the error is about.
    pub fn file(&self) -> &str {
        match self {
            ProbeError::Io { file, .. }
            | ProbeError::Empty { file }
            | ProbeError::UnknownFormat { file, .. }
            | ProbeError::NoMpegFrames { file }
            | ProbeError::FreeFormat { file }
            | ProbeError::Unsupported { file, .. }
            | ProbeError::Truncated { file, .. }
            | ProbeError::Invalid { file, .. } => file,
        }
    }

    pub(crate) fn io(file: &str, source: std::io::Error) -> Self {
        ProbeError::Io {
            file: file.to_string(),
            action: "reading",
            source,
        }
    }

    pub(crate) fn invalid(file: &str, container: &'static str, detail: impl Into<String>) -> Self {
        ProbeError::Invalid {
            file: file.to_string(),
            container,
            detail: detail.into(),
        }
    }

    pub(crate) fn truncated(
        file: &str,
        container: &'static str,
        detail: impl Into<String>,
    ) -> Self {
        ProbeError::Truncated {
            file: file.to_string(),
            container,
            detail: detail.into(),
        }
    }

    pub(crate) fn unsupported(file: &str, what: impl Into<String>) -> Self {
        ProbeError::Unsupported {
            file: file.to_string(),
            what: what.into(),
        }
    }
}

/// How much of the file the probe may take on trust.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub struct ProbeOptions {
    /// Walk every MP3 frame even when the Xing/LAME header proves the length (`--verify`).
    /// Without it, a file whose header passes the checks described in
    /// `container::mp3::proven` is measured from a few reads at the start and end of its
    /// audio, with the same result.
    pub verify: bool,
}

impl ProbeOptions {
    /// Every frame walked: what [`probe_path`] and [`probe_reader`] do, and `--verify`.
    pub const VERIFY: ProbeOptions = ProbeOptions { verify: true };
    /// The frame walk skipped where the file proves its length: what `write` and `batch`
    /// do unless asked to verify.
    pub const TRUST_PROVEN: ProbeOptions = ProbeOptions { verify: false };

    /// What a write probes with: [`VERIFY`](Self::VERIFY) when asked (`--verify`), else
    /// [`TRUST_PROVEN`](Self::TRUST_PROVEN).
    pub fn for_write(verify: bool) -> ProbeOptions {
        ProbeOptions { verify }
    }
}

/// Measures one file, walking every frame of an MP3. Errors name the file by its path as
/// given.
pub fn probe_path(path: &Path) -> Result<ProbeInfo, ProbeError> {
    probe_path_with(path, ProbeOptions::VERIFY)
}

/// [`probe_path`] with options.
pub fn probe_path_with(path: &Path, opts: ProbeOptions) -> Result<ProbeInfo, ProbeError> {
    let name = path.display().to_string();
    let file = crate::write::special::open_regular(path).map_err(|source| ProbeError::Io {
        file: name.clone(),
        action: "opening",
        source,
    })?;
    probe_reader_with(file, Some(&name), opts)
}

/// Measures audio from any seekable reader.
///
/// `name` is the file name used in messages (`<stream>` when `None`); its extension is only
/// used to word the error for content that matches no container (an unknown file named
/// `.mp3` gets "no mpeg audio frames found"), never to choose the parser.
pub fn probe_reader<R: Read + Seek + Send + Sync>(
    reader: R,
    name: Option<&str>,
) -> Result<ProbeInfo, ProbeError> {
    probe_reader_with(reader, name, ProbeOptions::VERIFY)
}

/// [`probe_reader`] with options: a reader over a remote object (ranged reads) should pass
/// [`ProbeOptions::TRUST_PROVEN`], so a proven MP3 costs a few reads.
pub fn probe_reader_with<R: Read + Seek + Send + Sync>(
    reader: R,
    name: Option<&str>,
    opts: ProbeOptions,
) -> Result<ProbeInfo, ProbeError> {
    let name = name.unwrap_or("<stream>");
    let mut src = io::Source::new(reader).map_err(|e| ProbeError::io(name, e))?;
    let found = detect::detect(&mut src, name)?;
    let info = container::probe(found.container, src, name, &found, opts.verify)?;
    let mut info = info.with_bitrate();
    if info.container != Container::Mp3 {
        // A leading ID3v2 tag on a non-MP3 file (seen on FLAC): report it too.
        if let Some(id3) = found.id3 {
            if info.tags.id3.is_none() {
                info.tags.id3 = Some(id3);
            }
            info.warnings.push(format!(
                "an id3v2 tag precedes the {} stream; many players ignore it",
                info.container.name()
            ));
        }
    }
    Ok(info)
}
