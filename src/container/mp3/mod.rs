//! MPEG audio (MP3, MP2, MP1): exact length by walking every frame header.
//!
//! * `header`: the 4-byte frame header → frame length and samples per frame;
//! * `vbr`: Xing/Info + LAME tag (gapless delay/padding) and VBRI in the first frame;
//! * `tags`: ID3v2 (leading, stacked, appended, in-stream), ID3v1, APE, Lyrics3 — the byte
//!   ranges that are not audio;
//! * `frames`: the frame walk with resync over junk;
//! * `segments`: stitched streams (parts encoded separately, concatenated) and the length
//!   rule for them.
//!
//! The playable length follows what a gapless decoder (ffmpeg, mpg123, foobar2000) outputs:
//! frames × samples per frame, minus the LAME encoder delay and padding. When the LAME tag's
//! frame count and the walk disagree (a cut or concatenated file) the walk wins, with the same
//! trimming rules ffmpeg applies, and a warning.

mod duration;
mod frames;
mod header;
mod proven;
mod segments;
mod vbr;

pub(crate) use duration::probe;
pub use header::MpegVersion;
pub use segments::{Segment, TIME_BASE};
pub use vbr::VbrHeaderKind;

use crate::container::id3v2;
use crate::container::io::Source;
use crate::probe::ProbeError;
use serde::Serialize;
use std::io::{Read, Seek};

/// The MPEG decoder delay (mpglib/ffmpeg): decoders output this many samples of the
/// synthesis filter's warm-up before the encoder's first sample. LAME's padding value
/// includes it; its delay value does not.
const DECODER_DELAY: u64 = 529;

/// Where the leading ID3v2 tag ends and the audio starts: what the ID3 writer needs to replace
/// the tag in place (reusing its padding) without touching a byte of audio.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Id3v2Region {
    /// Bytes from offset 0 to the end of the leading ID3v2 tag(s), including the header,
    /// footer and padding; 0 when the file starts with no tag. Stacked tags are all included.
    pub size: u64,
    /// Offset of the first MPEG audio frame (the Xing/Info frame when there is one). Equal to
    /// `size` in a clean file; larger when zero bytes or junk follow the tag.
    pub first_frame: u64,
    /// Major version of the first tag (2, 3 or 4), if any.
    pub version: Option<u8>,
    /// Padding of the first tag in bytes.
    pub padding: u64,
    /// Number of ID3v2 tags at the start (more than one is rare but real).
    pub tags: usize,
}

/// Locates the leading ID3v2 tag region and the first MPEG frame of an MP3.
///
/// `name` is used in error messages. Fails like the probe does when the file holds no MPEG
/// audio, so a writer never edits a file it cannot measure.
pub fn id3v2_region<R: Read + Seek>(reader: R, name: &str) -> Result<Id3v2Region, ProbeError> {
    let mut src = Source::new(reader).map_err(|e| ProbeError::io(name, e))?;
    let lead = leading_tags(&mut src, name)?;
    let trailing =
        id3v2::tags::trailing(&mut src, lead.end).map_err(|e| ProbeError::io(name, e))?;
    let (first, _) = first_frame(&mut src, name, lead.end, trailing.audio_end)?;
    let first_tag = lead.tags.first().map(|t| &t.summary);
    Ok(Id3v2Region {
        size: lead.end,
        first_frame: first,
        version: first_tag.map(|s| s.version),
        padding: first_tag.map_or(0, |s| s.padding),
        tags: lead.tags.len(),
    })
}

/// What the frame walk found, for people debugging a length.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Mp3Details {
    /// MPEG version.
    pub version: MpegVersion,
    /// Layer (1, 2 or 3).
    pub layer: u8,
    /// 1152 (MPEG-1 layer II/III, layer II), 576 (MPEG-2/2.5 layer III) or 384 (layer I).
    pub samples_per_frame: u32,
    /// `cbr` when every frame has the same bitrate, else `vbr`.
    pub bitrate_mode: &'static str,
    /// The VBR header in the first frame, if any.
    pub vbr_header: Option<VbrHeaderKind>,
    /// Frame count the VBR header states (excluding its own frame).
    pub header_frames: Option<u64>,
    /// Encoder named in the LAME tag (`LAME3.100`, `Lavc59.37`).
    pub encoder: Option<String>,
    /// End of the leading ID3v2 tag(s).
    pub id3v2_end: u64,
    /// Offset of the first frame (the VBR header frame when there is one).
    pub first_frame: u64,
    /// End of the audio: where the trailing tags (or the file) begin.
    pub audio_end: u64,
    /// Non-audio bytes skipped between frames.
    pub junk_bytes: u64,
    /// Bytes missing from a truncated last frame.
    pub truncated_bytes: u64,
    /// The separately encoded parts of the stream (one for an ordinary file): see
    /// [`Segment`] for where a stitched file is split and how its length is counted.
    pub segments: Vec<Segment>,
    /// The frames were not walked: the Xing/LAME header proved the frame and byte counts
    /// (checked at the start and end of the audio; see the `proven` module), so `frames`,
    /// `audio_bytes` and one segment come from it, and the bitrates from the frames looked
    /// at. Never set when the caller asked to verify.
    #[serde(skip_serializing_if = "std::ops::Not::not")]
    pub length_from_header: bool,
}

struct LeadingTags {
    end: u64,
    tags: Vec<id3v2::tags::Id3Tag>,
}

fn leading_tags<R: Read + Seek>(
    src: &mut Source<R>,
    name: &str,
) -> Result<LeadingTags, ProbeError> {
    match id3v2::tags::leading(src) {
        Ok(l) => Ok(LeadingTags {
            end: l.end,
            tags: l.tags,
        }),
        Err(e) if e.kind() == std::io::ErrorKind::UnexpectedEof => {
            Err(ProbeError::truncated(name, "mp3", e.to_string()))
        }
        Err(e) => Err(ProbeError::io(name, e)),
    }
}

fn first_frame<R: Read + Seek>(
    src: &mut Source<R>,
    name: &str,
    from: u64,
    end: u64,
) -> Result<(u64, header::FrameHeader), ProbeError> {
    match frames::find_first(src, from, end).map_err(|e| ProbeError::io(name, e))? {
        Ok(found) => Ok(found),
        Err(frames::SyncFailure::FreeFormat) => Err(ProbeError::FreeFormat {
            file: name.to_string(),
        }),
        Err(frames::SyncFailure::NoFrames) => Err(ProbeError::NoMpegFrames {
            file: name.to_string(),
        }),
    }
}

/// Whether the content at `from` starts an MPEG audio stream (used by detection when no
/// other magic matched).
pub(crate) fn looks_like_mpeg<R: Read + Seek>(
    src: &mut Source<R>,
    from: u64,
) -> std::io::Result<bool> {
    let end = src.len();
    Ok(frames::find_first(src, from, end.min(from.saturating_add(64 * 1024)))?.is_ok())
}

/// Reads the leading ID3v2 tags for detection (which must skip them to see the real magic).
pub(crate) fn detect_leading<R: Read + Seek>(
    src: &mut Source<R>,
    name: &str,
) -> Result<(u64, Option<crate::probe::Id3Summary>, usize), ProbeError> {
    let l = leading_tags(src, name)?;
    Ok((
        l.end,
        l.tags.first().map(|t| t.summary.clone()),
        l.tags.len(),
    ))
}
