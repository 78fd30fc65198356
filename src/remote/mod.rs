//! Audio that lives in S3-compatible object storage (`s3://bucket/key`): read with ranged
//! requests, written by moving only the tag.
//!
//! Three parts, each usable alone:
//! * [`RangeReader`]: one object as a `Read + Seek` source. Reads are ranged GETs pinned to
//!   the ETag seen first; the read-ahead starts small (a tag, a box header costs one small
//!   request) and doubles while reads stay sequential, so an MP3 frame walk streams the
//!   object once in a few large requests and never holds it whole. Every prober that takes
//!   a reader ([`crate::probe::probe_reader`]) works on it unchanged, so an MP3 probe that
//!   stops early (a Xing/LAME header that proves the length) simply reads less.
//! * [`shadow`]: the planners are pure but read a local path; a *shadow* is a sparse local
//!   file of the object's length holding only the byte ranges a planner reads (the leading
//!   ID3v2 tag; MP4 box headers, `moov`, small top-level boxes and chapter samples). The
//!   [`Plan`](crate::write::Plan) made from it names ranges of the original object, which is
//!   what the uploader needs.
//! * [`upload`]: a plan becomes a multipart upload: new bytes (padded with following audio up
//!   to the 5 MiB minimum part size) and `UploadPartCopy` of the untouched ranges, each copy
//!   conditional on the ETag we read (`x-amz-copy-source-if-match`), completed only if the
//!   object is still that one; otherwise aborted and reported as changed underneath.
//!
//! The S3 client is the AWS SDK's, configured the way AWS tools are (environment, profiles,
//! `AWS_ENDPOINT_URL`); its standard retry mode retries throttling and 5xx with bounded,
//! jittered exponential backoff. Credentials never reach our messages or logs: we log
//! bucket, key, ranges and byte counts only.

mod client;
mod error;
mod ops;
mod reader;
pub mod shadow;
pub mod upload;
mod url;

pub use client::{ObjectHead, Remote, Transfer};
pub use error::RemoteError;
pub use ops::{
    Opened, RemoteWritten, apply_remote, embedded_of, plan_remote, probe_remote,
    read_embedded_remote, strip_remote, write_remote,
};
pub use reader::RangeReader;
pub use url::{S3Url, is_s3_url};
