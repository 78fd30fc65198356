//! `probe`, `write`, `strip` and chapter reading for objects, as the local API does them.

use super::shadow::Shadow;
use super::upload::{self, MAX_PART, MIN_PART};
use super::{ObjectHead, RangeReader, Remote, RemoteError, S3Url, Transfer};
use crate::api::embed::{self, EmbedOptions};
use crate::chapter::ChapterList;
use crate::probe::ProbeInfo;
use crate::report;
use crate::validate::{self as rules, Context, Diagnostic};
use crate::write::Plan;
use std::path::Path;
use std::sync::Arc;

/// What a remote write or strip did.
#[derive(Debug)]
#[non_exhaustive]
pub struct RemoteWritten {
    /// Whether a new object was written (`false`: it already held the result).
    pub changed: bool,
    /// Parts of the multipart upload (0 when unchanged).
    pub parts: usize,
    /// Warnings validation found.
    pub diagnostics: Vec<Diagnostic>,
    /// Bytes moved for this object.
    pub transfer: Arc<Transfer>,
}

/// An object opened for reading: its HEAD, a reader, and what the probe measured.
pub struct Opened {
    /// The object's length, ETag and metadata.
    pub head: ObjectHead,
    /// Its bytes, by ranges.
    pub reader: RangeReader,
    /// The probe's measurement.
    pub info: ProbeInfo,
}

/// Measures the object at `url` with ranged reads (bytes moved go to `transfer`). With
/// [`ProbeOptions::TRUST_PROVEN`](crate::probe::ProbeOptions::TRUST_PROVEN) an MP3 whose
/// Xing/LAME header proves its length costs a few ranged reads instead of a full stream.
pub fn probe_remote(
    remote: &Remote,
    url: &S3Url,
    transfer: &Arc<Transfer>,
    opts: crate::probe::ProbeOptions,
) -> Result<Opened, RemoteError> {
    let head = remote.head(url, transfer)?;
    let mut reader = RangeReader::new(remote.clone(), url.clone(), head.clone(), transfer.clone());
    let name = url.to_string();
    let info = crate::probe::probe_reader_with(&mut reader, Some(&name), opts).map_err(|e| {
        RemoteError::Api(crate::Error::wrap(
            crate::ErrorKind::Probe,
            Path::new(&name),
            e,
        ))
    })?;
    Ok(Opened { head, reader, info })
}

/// The chapters embedded in the object at `url`.
pub fn read_embedded_remote(
    remote: &Remote,
    url: &S3Url,
    transfer: &Arc<Transfer>,
) -> Result<ChapterList, RemoteError> {
    let mut o = probe_remote(remote, url, transfer, crate::probe::ProbeOptions::VERIFY)?;
    embedded_of(url, &mut o)
}

/// The chapters embedded in an opened object.
pub fn embedded_of(url: &S3Url, o: &mut Opened) -> Result<ChapterList, RemoteError> {
    let shadow = Shadow::fetch(url, &mut o.reader, o.head.len, &o.info)?;
    embed::read_embedded_of(shadow.path(), o.info.container).map_err(|e| named(e, &shadow, url))
}

/// Plans writing `list` (`Some`) or stripping (`None`) on an opened object, validating a
/// write as [`crate::write()`] does. Returns the plan and validation's warnings.
pub fn plan_remote(
    url: &S3Url,
    o: &mut Opened,
    list: Option<&ChapterList>,
    options: &EmbedOptions,
) -> Result<(Plan, Vec<Diagnostic>), RemoteError> {
    let name = url.to_string();
    let info = &o.info;
    if !embed::holds_chapters(info.container) {
        return Err(RemoteError::Api(embed::unsupported(
            Path::new(&name),
            info.container,
        )));
    }
    let shadow = Shadow::fetch(url, &mut o.reader, o.head.len, info)?;
    let Some(list) = list else {
        let plan = embed::plan_strip(shadow.path(), info).map_err(|e| named(e, &shadow, url))?;
        return Ok((plan, Vec::new()));
    };
    let mut list = list.clone();
    embed::add_intro(&mut list, options.intro.as_deref());
    let ctx = Context {
        duration: Some(info.duration),
        profile: options.profile,
        target: embed::target_for(info.container),
        min_chapter: options.min_chapter,
        stream_changes: rules::stream_changes(info),
    };
    let limits = embed::write_limits(info.container, options);
    let mut diagnostics = rules::validate_with(&list, &[], &ctx, &limits);
    diagnostics.extend(
        embed::file_diagnostics(shadow.path(), info, &list, options)
            .map_err(|e| named(e, &shadow, url))?,
    );
    diagnostics.sort_by_key(|d| (d.line.is_some() || d.chapter.is_some(), d.line, d.chapter));
    if !report::passed(&diagnostics, options.deny_warnings) {
        return Err(RemoteError::Api(crate::Error::invalid(
            Path::new(&name),
            diagnostics,
        )));
    }
    let plan = embed::plan_write(shadow.path(), info, &list, options)
        .map_err(|e| named(e, &shadow, url))?;
    Ok((plan, diagnostics))
}

/// Carries out `plan` on the opened object: nothing for an unchanged plan, else a multipart
/// upload completed only while the object is still the version read.
pub fn apply_remote(
    remote: &Remote,
    url: &S3Url,
    o: &mut Opened,
    plan: &Plan,
    transfer: &Transfer,
) -> Result<usize, RemoteError> {
    let segments = upload::segments(plan, o.head.len).map_err(|why| RemoteError::Request {
        url: url.to_string(),
        action: "planning the upload".into(),
        detail: why,
    })?;
    let Some(segments) = segments else {
        return Ok(0);
    };
    let parts = upload::layout(segments, MIN_PART, MAX_PART);
    upload::upload(remote, url, &o.head, &mut o.reader, &parts, transfer)?;
    Ok(parts.len())
}

/// Writes `list` into the object at `url` as [`crate::write()`] does a file.
pub fn write_remote(
    remote: &Remote,
    url: &S3Url,
    list: &ChapterList,
    options: &EmbedOptions,
) -> Result<RemoteWritten, RemoteError> {
    change(remote, url, Some(list), options)
}

/// Removes every chapter from the object at `url`.
pub fn strip_remote(remote: &Remote, url: &S3Url) -> Result<RemoteWritten, RemoteError> {
    change(remote, url, None, &EmbedOptions::default())
}

fn change(
    remote: &Remote,
    url: &S3Url,
    list: Option<&ChapterList>,
    options: &EmbedOptions,
) -> Result<RemoteWritten, RemoteError> {
    let transfer = Arc::new(Transfer::default());
    let popts = crate::probe::ProbeOptions::for_write(options.verify);
    let mut o = probe_remote(remote, url, &transfer, popts)?;
    let (plan, diagnostics) = plan_remote(url, &mut o, list, options)?;
    let parts = apply_remote(remote, url, &mut o, &plan, &transfer)?;
    Ok(RemoteWritten {
        changed: parts > 0,
        parts,
        diagnostics,
        transfer,
    })
}

/// A planner's error about the shadow, reworded to name the object.
fn named(e: crate::Error, shadow: &Shadow, url: &S3Url) -> RemoteError {
    let local = shadow.path().display().to_string();
    if e.kind() == crate::ErrorKind::Invalid {
        return RemoteError::Api(e);
    }
    RemoteError::Request {
        url: url.to_string(),
        action: "planning".into(),
        detail: e
            .to_string()
            .replace(&format!("{local}: "), "")
            .replace(&local, &url.to_string()),
    }
}
