//! A write [`Plan`] carried out as a multipart upload that copies the audio server-side.

use super::client::{changed_or, request_error};
use super::{ObjectHead, RangeReader, Remote, RemoteError, S3Url, Transfer};
use crate::write::{Patch, Piece, Plan};
use aws_sdk_s3::primitives::ByteStream;
use aws_sdk_s3::types::{CompletedMultipartUpload, CompletedPart};

/// S3's minimum size of every part but the last.
pub const MIN_PART: u64 = 5 * 1024 * 1024;
/// S3's maximum size of one part (a larger copy is split).
pub const MAX_PART: u64 = 5 * 1024 * 1024 * 1024;

/// One stretch of the new object.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Segment {
    /// New bytes.
    Bytes(Vec<u8>),
    /// A range of the original object.
    Original {
        /// Offset in the original.
        offset: u64,
        /// Length.
        len: u64,
    },
}

/// One part of the multipart upload.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Part {
    /// Sent from here: new bytes, and original ranges downloaded to reach the minimum size.
    Upload(Vec<Segment>),
    /// Copied by the service from the original (`UploadPartCopy`), never downloaded.
    Copy {
        /// Offset in the original.
        offset: u64,
        /// Length.
        len: u64,
    },
}

/// The new object as segments, or `None` when the plan writes nothing. Errors for plans the
/// remote path does not carry out (Ogg page renumbering).
pub fn segments(plan: &Plan, original_len: u64) -> Result<Option<Vec<Segment>>, String> {
    let pieces: Vec<Piece> = match plan {
        Plan::Unchanged => return Ok(None),
        Plan::Patch(patches) => {
            let mut sorted: Vec<&Patch> = patches.iter().collect();
            sorted.sort_by_key(|p| p.offset);
            crate::write::patch_pieces(&sorted, original_len)
        }
        Plan::Rebuild(pieces)
        | Plan::Insert {
            fallback: pieces, ..
        }
        | Plan::Extend {
            fallback: pieces, ..
        } => pieces.clone(),
    };
    pieces
        .into_iter()
        .map(|p| match p {
            Piece::Bytes(b) => Ok(Segment::Bytes(b)),
            Piece::Copy { offset, len } => Ok(Segment::Original { offset, len }),
            Piece::OggPages { .. } => {
                Err("ogg page renumbering is not done in object storage".into())
            }
        })
        .collect::<Result<Vec<_>, _>>()
        .map(Some)
}

/// Groups segments into parts: every original range long enough becomes a server-side copy;
/// new bytes are padded with the following original bytes up to `min` (S3 refuses smaller
/// parts except the last), and short original ranges are downloaded into their neighbour.
pub fn layout(segments: Vec<Segment>, min: u64, max: u64) -> Vec<Part> {
    let mut parts = Vec::new();
    let mut buf: Vec<Segment> = Vec::new();
    let mut buf_len = 0u64;
    for seg in segments {
        match seg {
            Segment::Bytes(b) => {
                buf_len += b.len() as u64;
                buf.push(Segment::Bytes(b));
            }
            Segment::Original { offset, len } => {
                let need = if buf.is_empty() {
                    0
                } else {
                    min.saturating_sub(buf_len)
                };
                if len >= need.saturating_add(min) {
                    if need > 0 {
                        buf.push(Segment::Original { offset, len: need });
                    }
                    if !buf.is_empty() {
                        parts.push(Part::Upload(std::mem::take(&mut buf)));
                        buf_len = 0;
                    }
                    push_copies(&mut parts, offset + need, len - need, max);
                } else {
                    buf.push(Segment::Original { offset, len });
                    buf_len += len;
                }
            }
        }
    }
    if !buf.is_empty() {
        parts.push(Part::Upload(buf));
    }
    parts
}

/// A copy of `len` (at least the minimum part size) in equal chunks of at most `max`.
fn push_copies(parts: &mut Vec<Part>, offset: u64, len: u64, max: u64) {
    let n = len.div_ceil(max.max(1)).max(1);
    let chunk = len.div_ceil(n);
    let mut at = 0;
    while at < len {
        let l = chunk.min(len - at);
        parts.push(Part::Copy {
            offset: offset + at,
            len: l,
        });
        at += l;
    }
}

/// Writes `parts` as the new content of `url`, whose version `head` was read. Aborts the
/// upload on any failure; completes only while the object still has `head.etag`.
pub fn upload(
    remote: &Remote,
    url: &S3Url,
    head: &ObjectHead,
    reader: &mut RangeReader,
    parts: &[Part],
    transfer: &Transfer,
) -> Result<(), RemoteError> {
    transfer.add_request();
    let created = remote
        .block_on(
            remote
                .client
                .create_multipart_upload()
                .bucket(&url.bucket)
                .key(&url.key)
                .set_content_type(head.content_type.clone())
                .set_cache_control(head.cache_control.clone())
                .set_content_disposition(head.content_disposition.clone())
                .set_content_encoding(head.content_encoding.clone())
                .set_content_language(head.content_language.clone())
                .set_metadata(Some(head.metadata.clone()))
                .send(),
        )
        .map_err(|e| request_error(url, "starting the multipart upload", e))?;
    let id = created.upload_id().unwrap_or_default().to_string();
    log::debug!("{url}: multipart upload of {} parts", parts.len());
    let result = send_parts(remote, url, head, reader, parts, transfer, &id)
        .and_then(|done| complete(remote, url, head, transfer, &id, done));
    if let Err(e) = &result {
        log::debug!("{url}: aborting the multipart upload: {e}");
        transfer.add_request();
        let aborted = remote.block_on(
            remote
                .client
                .abort_multipart_upload()
                .bucket(&url.bucket)
                .key(&url.key)
                .upload_id(&id)
                .send(),
        );
        if let Err(a) = aborted {
            log::warn!("{}", request_error(url, "aborting the multipart upload", a));
        }
    }
    result
}

fn send_parts(
    remote: &Remote,
    url: &S3Url,
    head: &ObjectHead,
    reader: &mut RangeReader,
    parts: &[Part],
    transfer: &Transfer,
    id: &str,
) -> Result<Vec<CompletedPart>, RemoteError> {
    let mut done = Vec::with_capacity(parts.len());
    for (i, part) in parts.iter().enumerate() {
        let number = i32::try_from(i + 1).unwrap_or(i32::MAX);
        let etag = match part {
            Part::Upload(segs) => {
                let mut body = Vec::new();
                for s in segs {
                    match s {
                        Segment::Bytes(b) => body.extend_from_slice(b),
                        Segment::Original { offset, len } => {
                            body.extend(reader.range(*offset, offset.saturating_add(*len))?)
                        }
                    }
                }
                let n = body.len() as u64;
                let out = remote
                    .block_on(
                        remote
                            .client
                            .upload_part()
                            .bucket(&url.bucket)
                            .key(&url.key)
                            .upload_id(id)
                            .part_number(number)
                            .body(ByteStream::from(body))
                            .send(),
                    )
                    .map_err(|e| request_error(url, &format!("uploading part {number}"), e))?;
                transfer.add_up(n);
                out.e_tag().map(str::to_string)
            }
            Part::Copy { offset, len } => {
                let range = format!("bytes={offset}-{}", offset + len - 1);
                let out = remote
                    .block_on(
                        remote
                            .client
                            .upload_part_copy()
                            .bucket(&url.bucket)
                            .key(&url.key)
                            .upload_id(id)
                            .part_number(number)
                            .copy_source(url.copy_source())
                            .copy_source_range(&range)
                            .copy_source_if_match(&head.etag)
                            .send(),
                    )
                    .map_err(|e| changed_or(url, &head.etag, &format!("copying {range}"), e))?;
                transfer.add_copied(*len);
                out.copy_part_result()
                    .and_then(|r| r.e_tag())
                    .map(str::to_string)
            }
        };
        done.push(
            CompletedPart::builder()
                .set_e_tag(etag)
                .part_number(number)
                .build(),
        );
    }
    Ok(done)
}

fn complete(
    remote: &Remote,
    url: &S3Url,
    head: &ObjectHead,
    transfer: &Transfer,
    id: &str,
    parts: Vec<CompletedPart>,
) -> Result<(), RemoteError> {
    // Services without conditional completion still get the check as late as we can make it.
    let now = remote.head(url, transfer)?;
    if now.etag != head.etag {
        return Err(RemoteError::ChangedUnderneath {
            url: url.to_string(),
            read: head.etag.clone(),
            now: now.etag,
        });
    }
    transfer.add_request();
    let done = remote.block_on(
        remote
            .client
            .complete_multipart_upload()
            .bucket(&url.bucket)
            .key(&url.key)
            .upload_id(id)
            .if_match(&head.etag)
            .multipart_upload(
                CompletedMultipartUpload::builder()
                    .set_parts(Some(parts))
                    .build(),
            )
            .send(),
    );
    done.map(|_| ()).or_else(|e| {
        // moto_server (the tests' server) answers with a `CompleteMultipartUploadResponse`
        // root the SDK does not parse; the upload did complete.
        let done = e.raw_response().is_some_and(|r| {
            r.status().as_u16() == 200
                && r.body()
                    .bytes()
                    .is_some_and(|b| contains(b, b"<CompleteMultipartUploadResponse"))
        });
        if done {
            log::debug!("{url}: completed (non-standard answer accepted)");
            return Ok(());
        }
        Err(changed_or(
            url,
            &head.etag,
            "completing the multipart upload",
            e,
        ))
    })
}

fn contains(hay: &[u8], needle: &[u8]) -> bool {
    hay.windows(needle.len()).any(|w| w == needle)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn orig(offset: u64, len: u64) -> Segment {
        Segment::Original { offset, len }
    }

    #[test]
    fn tag_then_audio_pads_the_first_part() {
        let parts = layout(vec![Segment::Bytes(vec![1; 10]), orig(4, 100)], 30, 1000);
        assert_eq!(
            parts,
            vec![
                Part::Upload(vec![Segment::Bytes(vec![1; 10]), orig(4, 20)]),
                Part::Copy {
                    offset: 24,
                    len: 80
                }
            ]
        );
    }

    #[test]
    fn short_ranges_are_downloaded_and_long_copies_split() {
        let parts = layout(
            vec![orig(0, 5), Segment::Bytes(vec![2; 3]), orig(9, 95)],
            30,
            40,
        );
        assert_eq!(
            parts,
            vec![
                Part::Upload(vec![orig(0, 5), Segment::Bytes(vec![2; 3]), orig(9, 22)]),
                Part::Copy {
                    offset: 31,
                    len: 37
                },
                Part::Copy {
                    offset: 68,
                    len: 36
                },
            ]
        );
        // Too little left after padding to stand alone: all of it goes in one last part.
        let parts = layout(vec![Segment::Bytes(vec![1; 10]), orig(0, 40)], 30, 1000);
        assert_eq!(parts.len(), 1);
    }

    #[test]
    fn patches_become_copies_around_new_bytes() {
        let plan = Plan::Patch(vec![Patch {
            offset: 10,
            data: vec![7; 5],
        }]);
        let segs = segments(&plan, 100).unwrap().unwrap();
        assert_eq!(
            segs,
            vec![orig(0, 10), Segment::Bytes(vec![7; 5]), orig(15, 85)]
        );
        assert_eq!(segments(&Plan::Unchanged, 100).unwrap(), None);
    }
}
