//! Chapter images: the bytes a container embeds, what kind of image they are, and loading the
//! local files a chapter file refers to.
//!
//! A chapter's [`image`](crate::Chapter::image) is a reference as a chapter file writes it
//! (an `http(s)` URL or a path); its [`picture`](crate::Chapter::picture) is the embedded bytes
//! (read from an ID3 `APIC`, or loaded from the referenced file by [`load_images`]). The type
//! is always detected from the bytes, never from a file name or a declared MIME type, and
//! only the header is read to learn the size: images are never decoded.

#[cfg(feature = "fetch")]
mod fetch;
#[cfg(feature = "fetch")]
pub use fetch::{FetchOptions, fetch_images};

use crate::chapter::ChapterList;
use std::io::Read;
use std::path::{Path, PathBuf};
use std::sync::Arc;

/// Largest chapter image read from a file or a tag. Apple's chapter art is at most
/// 3000 × 3000 and should stay well under 1 MiB; 16 MiB leaves room for any real image while
/// keeping a hostile tag or a mistaken path (a video) out of memory.
pub const MAX_IMAGE_BYTES: usize = 16 * 1024 * 1024;

/// MIME type of JPEG images.
pub const JPEG: &str = "image/jpeg";
/// MIME type of PNG images.
pub const PNG: &str = "image/png";

/// Embedded image bytes with their MIME type.
#[derive(Clone, PartialEq, Eq, Hash)]
pub struct Picture {
    /// `image/jpeg` or `image/png` when the bytes are one of those; otherwise the type the
    /// container declared (validation reports it as `image-not-jpeg-png`).
    pub mime: String,
    /// The image file's bytes, shared: the chapter list a container stores
    /// ([`as_stored`](crate::api::embed::as_stored)) and the planners refer to the bytes
    /// loaded once instead of copying several MiB of images at every step.
    pub data: Arc<[u8]>,
}

impl std::fmt::Debug for Picture {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        // The bytes would flood every debug print of a chapter list.
        write!(f, "Picture({})", self.summary())
    }
}

impl Picture {
    /// Wraps image bytes, detecting the type from them; `declared` (an `APIC` MIME type) is
    /// kept only when the bytes are neither JPEG nor PNG.
    pub fn new(data: Vec<u8>, declared: Option<&str>) -> Picture {
        let other = if data.starts_with(b"GIF8") {
            Some("image/gif")
        } else if data.get(8..12) == Some(b"WEBP") {
            Some("image/webp")
        } else {
            None
        };
        let mime = match sniff(&data).or(other) {
            Some(m) => m.to_string(),
            None => declared
                .filter(|d| !d.is_empty())
                .unwrap_or("application/octet-stream")
                .to_ascii_lowercase(),
        };
        Picture {
            mime,
            data: data.into(),
        }
    }

    /// File extension for this type (`jpg`, `png`, else `bin`).
    pub fn extension(&self) -> &'static str {
        match self.mime.as_str() {
            JPEG => "jpg",
            PNG => "png",
            _ => "bin",
        }
    }

    /// `image/jpeg 308 bytes`: how `show` describes an image it does not write out.
    pub fn summary(&self) -> String {
        format!("{} {} bytes", self.mime, self.data.len())
    }
}

/// `image/jpeg` or `image/png` when `data` starts like one, else `None`.
pub fn sniff(data: &[u8]) -> Option<&'static str> {
    if data.starts_with(&[0xFF, 0xD8, 0xFF]) {
        Some(JPEG)
    } else if data.starts_with(b"\x89PNG\r\n\x1a\n") {
        Some(PNG)
    } else {
        None
    }
}

/// What validation needs to know about an image, from its header only.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ImageInfo {
    /// `image/jpeg` / `image/png`, or `None` for anything else.
    pub mime: Option<&'static str>,
    /// Width and height in pixels, when the header could be read.
    pub size: Option<(usize, usize)>,
    /// A PNG with an alpha channel or a transparency chunk.
    pub alpha: bool,
}

/// Reads the type, size and transparency of `data` from its header.
pub fn inspect(data: &[u8]) -> ImageInfo {
    let mime = sniff(data);
    let size = mime
        .and_then(|_| imagesize::blob_size(data).ok())
        .map(|s| (s.width, s.height));
    ImageInfo {
        mime,
        size,
        alpha: mime == Some(PNG) && png_has_alpha(data),
    }
}

/// Colour types 4 (grey + alpha) and 6 (RGBA) carry alpha; any other type may still be made
/// transparent by a `tRNS` chunk, which must come before the first `IDAT`.
fn png_has_alpha(data: &[u8]) -> bool {
    // Signature (8), IHDR length + type (8), width, height (8), bit depth (1), colour type.
    if matches!(data.get(25), Some(4 | 6)) {
        return true;
    }
    let mut pos = 8usize;
    while let Some(head) = data.get(pos..pos + 8) {
        let len = u32::from_be_bytes([head[0], head[1], head[2], head[3]]) as usize;
        match &head[4..8] {
            b"tRNS" => return true,
            b"IDAT" | b"IEND" => return false,
            _ => {}
        }
        pos = match pos.checked_add(12).and_then(|p| p.checked_add(len)) {
            Some(p) => p,
            None => return false,
        };
    }
    false
}

/// Where a chapter's image reference points.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ImageRef {
    /// An `http(s)` URL, kept as a URL.
    Url(String),
    /// A local file (relative references resolved against the chapter file's folder).
    File(PathBuf),
}

/// Resolves a reference as a chapter file wrote it: `http(s)` URLs stay URLs, `file:` URLs
/// and paths become files, relative ones under `base` (the chapter file's folder).
pub fn resolve(reference: &str, base: Option<&Path>) -> ImageRef {
    let lower = reference.get(..8).unwrap_or(reference).to_ascii_lowercase();
    if lower.starts_with("http://") || lower.starts_with("https://") {
        return ImageRef::Url(reference.to_string());
    }
    let path = match url::Url::parse(reference) {
        Ok(u) if u.scheme() == "file" => u.to_file_path().unwrap_or_else(|_| reference.into()),
        _ => PathBuf::from(reference),
    };
    match base {
        Some(b) if path.is_relative() => ImageRef::File(b.join(path)),
        _ => ImageRef::File(path),
    }
}

/// A chapter image that could not be loaded.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum ImageError {
    /// The file is missing or unreadable.
    #[error("image `{}` cannot be read: {source}", path.display())]
    Read {
        /// The resolved path.
        path: PathBuf,
        /// Why.
        source: std::io::Error,
    },
    /// The file is larger than [`MAX_IMAGE_BYTES`].
    #[error("image `{}` is larger than {} bytes", path.display(), MAX_IMAGE_BYTES)]
    TooLarge {
        /// The resolved path.
        path: PathBuf,
    },
    /// An `http(s)` image could not be fetched: no answer in time, an error status, or a body
    /// that is not a JPEG or PNG image.
    #[error("image <{url}> cannot be fetched: {detail}")]
    Fetch {
        /// The URL.
        url: String,
        /// Why, lowercase.
        detail: String,
    },
    /// An `http(s)` image is larger than the fetch size cap.
    #[error("image <{url}> is larger than {cap} bytes")]
    FetchTooLarge {
        /// The URL.
        url: String,
        /// The cap, in bytes.
        cap: usize,
    },
}

impl ImageError {
    /// Whether this is about a URL (fetched) rather than a local file.
    pub fn is_fetch(&self) -> bool {
        matches!(
            self,
            ImageError::Fetch { .. } | ImageError::FetchTooLarge { .. }
        )
    }
}

/// Reads one image file, refusing files over [`MAX_IMAGE_BYTES`].
pub fn read_image_file(path: &Path) -> Result<Picture, ImageError> {
    let read_err = |source| ImageError::Read {
        path: path.to_path_buf(),
        source,
    };
    let file = std::fs::File::open(path).map_err(read_err)?;
    let mut data = Vec::new();
    file.take(MAX_IMAGE_BYTES as u64 + 1)
        .read_to_end(&mut data)
        .map_err(read_err)?;
    if data.len() > MAX_IMAGE_BYTES {
        return Err(ImageError::TooLarge {
            path: path.to_path_buf(),
        });
    }
    Ok(Picture::new(data, None))
}

/// A chapter whose image file could not be loaded: its index in the list and why.
#[derive(Debug)]
pub struct LoadFailure {
    /// 0-based chapter index.
    pub index: usize,
    /// What went wrong.
    pub error: ImageError,
}

/// Loads the local image files `list` refers to into each chapter's picture (relative
/// references resolve against `base`, the chapter file's folder). URLs are left as
/// references: fetching them is not done here. Returns the chapters whose file could not be
/// read, for the `image-missing` rule ([`crate::validate::missing_images`]).
pub fn load_images(list: &mut ChapterList, base: Option<&Path>) -> Vec<LoadFailure> {
    let mut failures = Vec::new();
    for (index, ch) in list.chapters.iter_mut().enumerate() {
        if ch.picture.is_some() {
            continue;
        }
        let Some(reference) = ch.image.as_deref() else {
            continue;
        };
        if let ImageRef::File(path) = resolve(reference, base) {
            match read_image_file(&path) {
                Ok(p) => ch.picture = Some(p),
                Err(error) => failures.push(LoadFailure { index, error }),
            }
        }
    }
    failures
}

/// Bytes of all embedded images in `list`.
pub fn image_bytes(list: &ChapterList) -> u64 {
    list.chapters
        .iter()
        .filter_map(|c| c.picture.as_ref())
        .map(|p| p.data.len() as u64)
        .sum()
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A minimal PNG header: signature and IHDR with the given colour type, then `chunk`.
    fn png(w: u32, h: u32, colour: u8, chunk: &[u8; 4]) -> Vec<u8> {
        let mut d = b"\x89PNG\r\n\x1a\n".to_vec();
        d.extend_from_slice(&13u32.to_be_bytes());
        d.extend_from_slice(b"IHDR");
        d.extend_from_slice(&w.to_be_bytes());
        d.extend_from_slice(&h.to_be_bytes());
        d.extend_from_slice(&[8, colour, 0, 0, 0]);
        d.extend_from_slice(&[0; 4]);
        d.extend_from_slice(&0u32.to_be_bytes());
        d.extend_from_slice(chunk);
        d.extend_from_slice(&[0; 4]);
        d
    }

    #[test]
    fn detects_type_size_and_alpha_from_bytes() {
        let rgb = png(1400, 1400, 2, b"IDAT");
        assert_eq!(
            inspect(&rgb),
            ImageInfo {
                mime: Some(PNG),
                size: Some((1400, 1400)),
                alpha: false
            }
        );
        assert!(inspect(&png(10, 20, 6, b"IDAT")).alpha);
        assert!(inspect(&png(10, 20, 3, b"tRNS")).alpha);
        let gif = b"GIF89a\x01\x00\x01\x00".to_vec();
        assert_eq!(inspect(&gif).mime, None);
        assert_eq!(Picture::new(gif, None).mime, "image/gif");
        assert_eq!(
            Picture::new(vec![1, 2], Some("image/BMP")).mime,
            "image/bmp"
        );
        // The bytes win over a wrong declared type.
        assert_eq!(Picture::new(rgb, Some("image/jpeg")).mime, PNG);
    }

    #[test]
    fn references_resolve_against_the_chapter_file() {
        let base = Path::new("/show/ep1");
        assert_eq!(
            resolve("https://x.test/a.jpg", Some(base)),
            ImageRef::Url("https://x.test/a.jpg".into())
        );
        assert_eq!(
            resolve("img/a.jpg", Some(base)),
            ImageRef::File("/show/ep1/img/a.jpg".into())
        );
        assert_eq!(
            resolve("/abs/a.png", Some(base)),
            ImageRef::File("/abs/a.png".into())
        );
        assert_eq!(
            resolve("file:///abs/a.png", None),
            ImageRef::File("/abs/a.png".into())
        );
    }
}
