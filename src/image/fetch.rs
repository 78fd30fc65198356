//! Downloading `http(s)` chapter images for embedding (feature `fetch`, the binary's
//! `--fetch-images`).
//!
//! Chapter files keep image URLs as URLs; only when a caller asks are they fetched, each with
//! a time limit and a size cap, and the body must be a JPEG or PNG (a CDN's HTML error page
//! served with status 200 is refused rather than embedded). Without this feature the library
//! does no network I/O at all.

use super::{ImageError, ImageRef, LoadFailure, MAX_IMAGE_BYTES, Picture, resolve, sniff};
use crate::chapter::ChapterList;
use std::time::Duration;

/// Limits for [`fetch_images`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub struct FetchOptions {
    /// Longest one image may take, from connecting to the last byte.
    pub timeout: Duration,
    /// Largest image accepted, in bytes (at most [`MAX_IMAGE_BYTES`]).
    pub max_bytes: usize,
}

impl Default for FetchOptions {
    /// 20 seconds and 2 MiB: four times the `image-too-large` warning, for art that should be
    /// ~500 KiB, and no episode waits long on a dead host.
    fn default() -> Self {
        FetchOptions {
            timeout: Duration::from_secs(20),
            max_bytes: 2 * 1024 * 1024,
        }
    }
}

/// Fetches the `http(s)` images of the chapters that have no embedded picture yet, and
/// returns the chapters whose image could not be fetched (for
/// [`crate::validate::missing_images`], which names the chapter and its line). URLs already
/// fetched for an earlier chapter are reused, not downloaded again.
pub fn fetch_images(list: &mut ChapterList, opts: &FetchOptions) -> Vec<LoadFailure> {
    let agent = ureq::Agent::new_with_config(
        ureq::Agent::config_builder()
            .timeout_global(Some(opts.timeout))
            .http_status_as_error(false)
            .user_agent(concat!("chapmark/", env!("CARGO_PKG_VERSION")))
            .build(),
    );
    let mut failures = Vec::new();
    let mut done: Vec<(String, Picture)> = Vec::new();
    for (index, ch) in list.chapters.iter_mut().enumerate() {
        if ch.picture.is_some() {
            continue;
        }
        let Some(ImageRef::Url(url)) = ch.image.as_deref().map(|r| resolve(r, None)) else {
            continue;
        };
        if let Some((_, p)) = done.iter().find(|(u, _)| *u == url) {
            ch.picture = Some(p.clone());
            continue;
        }
        match fetch_one(&agent, &url, opts) {
            Ok(p) => {
                log::info!("fetched {url}: {}", p.summary());
                ch.picture = Some(p.clone());
                done.push((url, p));
            }
            Err(error) => failures.push(LoadFailure { index, error }),
        }
    }
    failures
}

/// One image: status 200, at most `max_bytes`, JPEG or PNG bytes.
fn fetch_one(agent: &ureq::Agent, url: &str, opts: &FetchOptions) -> Result<Picture, ImageError> {
    let fail = |detail: String| ImageError::Fetch {
        url: url.to_string(),
        detail,
    };
    let mut resp = agent.get(url).call().map_err(|e| fail(describe(&e)))?;
    let status = resp.status();
    if status != 200 {
        return Err(fail(format!("the server answered {status}")));
    }
    let declared = resp
        .headers()
        .get("content-type")
        .and_then(|v| v.to_str().ok())
        .map(str::to_string);
    let cap = opts.max_bytes.min(MAX_IMAGE_BYTES);
    let data = resp
        .body_mut()
        .with_config()
        .limit(cap as u64)
        .read_to_vec()
        .map_err(|e| match e {
            ureq::Error::BodyExceedsLimit(_) => ImageError::FetchTooLarge {
                url: url.to_string(),
                cap,
            },
            e => fail(describe(&e)),
        })?;
    if sniff(&data).is_none() {
        let what = declared.unwrap_or_else(|| "no content type".into());
        return Err(fail(format!(
            "the body is not a jpeg or png image ({what}, {} bytes)",
            data.len()
        )));
    }
    Ok(Picture::new(data, None))
}

/// A transport error in words; a timeout says so plainly.
fn describe(e: &ureq::Error) -> String {
    match e {
        ureq::Error::Timeout(_) => "timed out".into(),
        e => e.to_string(),
    }
}
