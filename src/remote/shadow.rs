//! The planner's view of an object: a sparse local file holding only the ranges it reads.
//!
//! The container planners are pure functions of a few regions of the file (the leading ID3v2
//! tag for MP3; the top-level box headers, `moov`, the small boxes beside it and the old
//! chapter samples for MP4). Rather than teach each planner a second way to read, the remote
//! path fetches exactly those regions into a sparse file of the object's length and plans on
//! it; the plan's [`Piece::Copy`](crate::write::Piece) ranges then name bytes of the object,
//! which the uploader copies server-side. Disk use is the fetched bytes, not the object.

use super::{RangeReader, RemoteError, S3Url};
use crate::probe::{Container, ProbeInfo};
use std::fs::File;
use std::io::{Seek, SeekFrom, Write};
use std::path::{Path, PathBuf};

/// Largest region fetched for the planner (`moov`, a tag, chapter samples), like the local
/// planners' own caps.
const MAX_REGION: u64 = 64 * 1024 * 1024;
/// Top-level boxes scanned at most (a damaged file must not turn into a million requests).
const MAX_TOP_BOXES: usize = 4096;

/// A sparse local stand-in for one object; deleted on drop.
pub struct Shadow {
    _dir: tempfile::TempDir,
    path: PathBuf,
    file: File,
    url: S3Url,
}

impl Shadow {
    /// Fetches what the planner of `info.container` reads from the object behind `reader`.
    pub fn fetch(
        url: &S3Url,
        reader: &mut RangeReader,
        len: u64,
        info: &ProbeInfo,
    ) -> Result<Shadow, RemoteError> {
        let mut shadow = Shadow::create(url, len)?;
        match info.container {
            Container::Mp3 => {
                // The planner reads the leading tag only; the probe measured its size.
                let tag = info
                    .tags
                    .id3
                    .as_ref()
                    .filter(|t| t.offset == 0 && !t.appended)
                    .map_or(10, |t| t.size);
                shadow.copy_in(reader, 0, tag.min(MAX_REGION))?;
            }
            Container::Mp4 => shadow.fetch_mp4(reader, len)?,
            // The FLAC and Ogg planners read more (the metadata chain, whole pages): refused
            // rather than planned from a shadow that lacks what they read.
            other => {
                return Err(RemoteError::Request {
                    url: url.to_string(),
                    action: "planning".into(),
                    detail: format!(
                        "{} objects are not tagged in object storage yet (mp3 and mp4 are)",
                        other.name()
                    ),
                });
            }
        }
        Ok(shadow)
    }

    fn create(url: &S3Url, len: u64) -> Result<Shadow, RemoteError> {
        let local = |action| {
            move |source| RemoteError::Local {
                url: url.to_string(),
                action,
                source,
            }
        };
        let dir = tempfile::tempdir().map_err(local("creating a temporary folder"))?;
        // The key's own file name, so extension checks see what a local copy would show.
        let name = url
            .key
            .rsplit('/')
            .next()
            .filter(|n| !n.is_empty() && *n != "." && *n != "..")
            .unwrap_or("object");
        let path = dir.path().join(name);
        let file = File::create(&path).map_err(local("creating the planner's shadow"))?;
        file.set_len(len)
            .map_err(local("sizing the planner's shadow"))?;
        Ok(Shadow {
            _dir: dir,
            path,
            file,
            url: url.clone(),
        })
    }

    /// The local file to plan on.
    pub fn path(&self) -> &Path {
        &self.path
    }

    fn copy_in(
        &mut self,
        reader: &mut RangeReader,
        start: u64,
        len: u64,
    ) -> Result<(), RemoteError> {
        let bytes = reader.range(start, start.saturating_add(len))?;
        let url = self.url.to_string();
        self.file
            .seek(SeekFrom::Start(start))
            .and_then(|_| self.file.write_all(&bytes))
            .map_err(|source| RemoteError::Local {
                url,
                action: "writing the planner's shadow",
                source,
            })
    }

    fn fetch_mp4(&mut self, reader: &mut RangeReader, len: u64) -> Result<(), RemoteError> {
        let mut pos = 0u64;
        let mut count = 0;
        while pos.saturating_add(8) <= len && count < MAX_TOP_BOXES {
            count += 1;
            let hdr = reader.range(pos, pos.saturating_add(16).min(len))?;
            let Some(size) = box_size(&hdr, len - pos) else {
                // Let the planner report the damage from the header it sees.
                self.copy_in(reader, pos, hdr.len() as u64)?;
                break;
            };
            let whole = hdr.get(4..8) != Some(b"mdat") && size <= MAX_REGION;
            self.copy_in(reader, pos, if whole { size } else { hdr.len() as u64 })?;
            pos = pos.saturating_add(size.max(8));
        }
        // The old chapter samples (text, images), which the planner compares and keeps.
        let ranges = crate::container::mp4::chapter_sample_ranges(&self.path).unwrap_or_default();
        let mut total = 0u64;
        for (s, e) in ranges {
            total = total.saturating_add(e - s);
            if total > MAX_REGION {
                break;
            }
            self.copy_in(reader, s, e - s)?;
        }
        Ok(())
    }
}

/// Size of the box whose header is `h`, `remaining` bytes before the end.
fn box_size(h: &[u8], remaining: u64) -> Option<u64> {
    let size32 = u32::from_be_bytes(h.get(..4)?.try_into().ok()?);
    let size = match size32 {
        0 => remaining,
        1 => u64::from_be_bytes(h.get(8..16)?.try_into().ok()?),
        n => u64::from(n),
    };
    (size >= 8 && size <= remaining).then_some(size)
}
