//! The episode for `<audio>`, with byte ranges so the browser can seek anywhere in a long
//! episode without downloading it first.

use std::fs::File;
use std::io::{Read, Seek, SeekFrom};
use std::path::Path;
use tiny_http::{Header, Response, ResponseBox, StatusCode};

/// The response to a `GET` of `path` with the request's `Range` header.
pub fn serve(path: &Path, range: Option<&str>, mime: &str) -> ResponseBox {
    let mut file = match File::open(path) {
        Ok(f) => f,
        Err(e) => {
            log::warn!("{}: {e}", path.display());
            return super::api::text(404, "cannot open the file");
        }
    };
    let len = match file.metadata() {
        Ok(m) => m.len(),
        Err(_) => return super::api::text(500, "cannot read the file"),
    };
    let (status, from, to) = match range.map(|r| parse_range(r, len)) {
        None => (200, 0, len),
        Some(Some((a, b))) => (206, a, b),
        Some(None) => {
            let mut r = Response::empty(416);
            if let Some(h) = header("Content-Range", &format!("bytes */{len}")) {
                r.add_header(h);
            }
            return r.boxed();
        }
    };
    if file.seek(SeekFrom::Start(from)).is_err() {
        return super::api::text(500, "cannot read the file");
    }
    let count = to - from;
    let mut headers: Vec<Header> = [
        header("Content-Type", mime),
        header("Accept-Ranges", "bytes"),
    ]
    .into_iter()
    .flatten()
    .collect();
    if status == 206 {
        let last = to.saturating_sub(1);
        headers.extend(header(
            "Content-Range",
            &format!("bytes {from}-{last}/{len}"),
        ));
    }
    Response::new(
        StatusCode(status),
        headers,
        file.take(count),
        usize::try_from(count).ok(),
        None,
    )
    .boxed()
}

/// A header; `None` only for non-ASCII text, which the callers never pass.
pub fn header(name: &str, value: &str) -> Option<Header> {
    Header::from_bytes(name.as_bytes(), value.as_bytes()).ok()
}

/// `bytes=A-B`, `bytes=A-` or `bytes=-N` as the half-open span `[from, to)`; `None` when
/// unsatisfiable or not one byte range (multiple ranges are not worth it for `<audio>`).
pub fn parse_range(value: &str, len: u64) -> Option<(u64, u64)> {
    let spec = value.trim().strip_prefix("bytes=")?;
    if spec.contains(',') {
        return None;
    }
    let (a, b) = spec.split_once('-')?;
    let (a, b) = (a.trim(), b.trim());
    let (from, to) = if a.is_empty() {
        let n: u64 = b.parse().ok()?;
        (len.saturating_sub(n), len)
    } else {
        let from: u64 = a.parse().ok()?;
        let to = if b.is_empty() {
            len
        } else {
            b.parse::<u64>().ok()?.saturating_add(1).min(len)
        };
        (from, to)
    };
    (from < to && from < len).then_some((from, to))
}

/// The audio's MIME type by extension (what `<audio>` needs to pick a decoder).
pub fn audio_mime(name: &str) -> &'static str {
    let ext = name.rsplit('.').next().unwrap_or("").to_ascii_lowercase();
    match ext.as_str() {
        "mp3" => "audio/mpeg",
        "m4a" | "m4b" | "mp4" | "aac" => "audio/mp4",
        "ogg" | "oga" | "opus" => "audio/ogg",
        "flac" => "audio/flac",
        "wav" => "audio/wav",
        _ => "application/octet-stream",
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ranges() {
        assert_eq!(parse_range("bytes=0-", 100), Some((0, 100)));
        assert_eq!(parse_range("bytes=10-19", 100), Some((10, 20)));
        assert_eq!(parse_range("bytes=90-500", 100), Some((90, 100)));
        assert_eq!(parse_range("bytes=-10", 100), Some((90, 100)));
        assert_eq!(parse_range("bytes=100-", 100), None);
        assert_eq!(parse_range("bytes=5-2", 100), None);
        assert_eq!(parse_range("bytes=0-1,5-6", 100), None);
        assert_eq!(parse_range("items=0-1", 100), None);
        assert_eq!(parse_range("bytes=x-", 100), None);
    }
}
