//! The chapter model every stage shares.
//!
//! Readers produce a [`ChapterList`], validation inspects it, writers consume it. Titles are
//! stored exactly as the producer wrote them: we normalise timestamps, never titles.

use crate::time::Time;
use serde::{Deserialize, Serialize};

/// Where a chapter came from in its source text, so that every error can name the line and
/// the timestamp exactly as the producer typed it (`０１：４０`, not `01:40`).
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize, Default)]
pub struct Origin {
    /// 1-based line number in the decoded source text; `0` when the source has no lines
    /// (an embedded ID3 or MP4 chapter).
    pub line: usize,
    /// The timestamp text as written in the source.
    pub timestamp: String,
}

/// A link attached to a chapter: the URL and, when the notes gave one, its human label
/// (the `出典:` text, a Markdown link text, the ID3 `WXXX` description).
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct Link {
    /// The URL as written (validation checks it is absolute http(s)).
    pub url: String,
    /// The label shown for it, if any.
    pub label: Option<String>,
}

/// Why a URL cannot be stored as a chapter link.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum UrlError {
    /// Not a URL at all, or a relative one.
    #[error("url `{url}` is not an absolute url ({source})")]
    Parse {
        /// The URL as written.
        url: String,
        /// What the URL parser said.
        source: url::ParseError,
    },
    /// A URL with another scheme (`ftp:`, `mailto:`, `javascript:`).
    #[error("url `{url}` is not http(s) (scheme `{scheme}`)")]
    NotHttp {
        /// The URL as written.
        url: String,
        /// Its scheme.
        scheme: String,
    },
    /// `https://` with nothing after it.
    #[error("url `{url}` has no host")]
    NoHost {
        /// The URL as written.
        url: String,
    },
}

/// Checks that `url` is an absolute `http(s)` URL and returns it in pure ASCII, as containers
/// that store Latin-1 or byte-limited URLs need it (ID3 `WXXX`, the MP4 `href` box): the host
/// through IDNA (punycode), the rest percent-encoded, as the `url` crate serialises it.
///
/// This is the one URL conversion: validation reports its errors (`bad-url`) and its
/// changes (`url-not-ascii`), and the writers store its result. A URL that is already
/// printable ASCII is returned exactly as written (no added trailing slash): a correct URL
/// is left alone.
pub fn ascii_url(url: &str) -> Result<String, UrlError> {
    let parsed = url::Url::parse(url).map_err(|source| UrlError::Parse {
        url: url.to_string(),
        source,
    })?;
    match parsed.scheme() {
        "http" | "https" => {}
        other => {
            return Err(UrlError::NotHttp {
                url: url.to_string(),
                scheme: other.to_string(),
            });
        }
    }
    if parsed.host_str().is_none_or(str::is_empty) {
        return Err(UrlError::NoHost {
            url: url.to_string(),
        });
    }
    if url.chars().all(|c| c.is_ascii_graphic()) {
        return Ok(url.to_string());
    }
    Ok(parsed.as_str().to_string())
}

impl Link {
    /// The URL as containers store it: see [`ascii_url`].
    pub fn ascii(&self) -> Result<String, UrlError> {
        ascii_url(&self.url)
    }

    /// A link with no label.
    pub fn new(url: impl Into<String>) -> Self {
        Link {
            url: url.into(),
            label: None,
        }
    }
}

/// One chapter marker.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct Chapter {
    /// Start on the episode timeline.
    pub start: Time,
    /// End, when the source states one (ID3 CHAP, WebVTT, ffmetadata). Writers that need an
    /// end derive it from the next start and the audio length instead of trusting this.
    pub end: Option<Time>,
    /// Title, byte-for-byte as written.
    pub title: String,
    /// Optional link.
    pub link: Option<Link>,
    /// Optional longer description (ID3 `TIT3`).
    pub description: Option<String>,
    /// Optional image reference (URL or path), as Podcasting 2.0 `img` / PSC `image`, or
    /// the URL of an ID3 linked image (`APIC` with MIME type `-->`).
    pub image: Option<String>,
    /// Embedded image bytes: read from the container, or loaded from the file `image`
    /// names ([`crate::image::load_images`]). Not serialised: `show` writes images out as
    /// files or summaries instead.
    #[serde(skip)]
    pub picture: Option<crate::image::Picture>,
    /// `false` for chapters hidden from the table of contents (Podcasting 2.0 `toc: false`).
    pub toc: bool,
    /// Where it came from, for messages.
    pub origin: Option<Origin>,
}

impl Chapter {
    /// A visible chapter with only a start and a title.
    pub fn new(start: Time, title: impl Into<String>) -> Self {
        Chapter {
            start,
            end: None,
            title: title.into(),
            link: None,
            description: None,
            image: None,
            picture: None,
            toc: true,
            origin: None,
        }
    }

    /// Adds a URL (builder style, handy in tests and readers).
    pub fn with_url(mut self, url: impl Into<String>) -> Self {
        self.link = Some(Link::new(url));
        self
    }

    /// The URL, if any.
    pub fn url(&self) -> Option<&str> {
        self.link.as_ref().map(|l| l.url.as_str())
    }

    /// The source line, if known and non-zero.
    pub fn line(&self) -> Option<usize> {
        self.origin.as_ref().map(|o| o.line).filter(|&l| l > 0)
    }

    /// The timestamp as the producer wrote it, falling back to our short form.
    pub fn written_timestamp(&self) -> String {
        match &self.origin {
            Some(o) if !o.timestamp.is_empty() => o.timestamp.clone(),
            _ => self.start.short(),
        }
    }
}

/// Episode-level metadata some chapter formats carry (Podcasting 2.0 JSON, CUE, ffmetadata).
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
pub struct ListMeta {
    /// Episode title.
    pub title: Option<String>,
    /// Podcast (show) name.
    pub podcast: Option<String>,
    /// Author / performer.
    pub author: Option<String>,
}

/// An ordered list of chapters as read from one source. Order is the source's order:
/// validation, not the reader, decides whether it is ascending.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
pub struct ChapterList {
    /// The chapters in source order.
    pub chapters: Vec<Chapter>,
    /// Episode-level metadata, when the source had any.
    pub meta: ListMeta,
}

impl ChapterList {
    /// Wraps chapters with no metadata.
    pub fn new(chapters: Vec<Chapter>) -> Self {
        ChapterList {
            chapters,
            meta: ListMeta::default(),
        }
    }

    /// Number of chapters.
    pub fn len(&self) -> usize {
        self.chapters.len()
    }

    /// True when there are no chapters.
    pub fn is_empty(&self) -> bool {
        self.chapters.is_empty()
    }

    /// End of chapter `i`: the next chapter's start, else the stated end, else `total`.
    /// This is the end every container writer uses, so ends never come from an estimate.
    pub fn end_of(&self, i: usize, total: Option<Time>) -> Option<Time> {
        if let Some(next) = self.chapters.get(i + 1) {
            return Some(next.start);
        }
        total.or_else(|| self.chapters.get(i).and_then(|c| c.end))
    }

    /// The same chapters without source positions or stated ends: what "the same chapters"
    /// means when comparing an embedded list with a sidecar.
    pub fn comparable(&self) -> Vec<(Time, &str, Option<&str>)> {
        self.chapters
            .iter()
            .map(|c| (c.start, c.title.as_str(), c.url()))
            .collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ascii_url_converts_idn_and_keeps_clean_urls() {
        assert_eq!(
            ascii_url("https://www.a16z.news/p/the-physical-ai-deployment-gap").as_deref(),
            Ok("https://www.a16z.news/p/the-physical-ai-deployment-gap")
        );
        // No trailing slash is added to an already-correct URL.
        assert_eq!(
            ascii_url("https://ihj.global").as_deref(),
            Ok("https://ihj.global")
        );
        assert_eq!(
            ascii_url("https://例え.jp/パス?q=ü").as_deref(),
            Ok("https://xn--r8jz45g.jp/%E3%83%91%E3%82%B9?q=%C3%BC")
        );
        assert_eq!(
            ascii_url("https://bücher.example/").as_deref(),
            Ok("https://xn--bcher-kva.example/")
        );
    }

    #[test]
    fn ascii_url_rejects_non_http() {
        assert!(matches!(
            ascii_url("ftp://example.com/x"),
            Err(UrlError::NotHttp { .. })
        ));
        assert!(matches!(
            ascii_url("mailto:a@b.c"),
            Err(UrlError::NotHttp { .. })
        ));
        assert!(matches!(
            ascii_url("www.example.com"),
            Err(UrlError::Parse { .. })
        ));
        assert!(matches!(
            ascii_url("/relative/path"),
            Err(UrlError::Parse { .. })
        ));
        assert!(ascii_url("https://").is_err());
        let msg = ascii_url("ftp://example.com/x").unwrap_err().to_string();
        assert_eq!(
            msg,
            "url `ftp://example.com/x` is not http(s) (scheme `ftp`)"
        );
    }

    #[test]
    fn link_ascii_is_ascii_url() {
        let link = Link::new("https://bücher.example/");
        assert_eq!(link.ascii(), ascii_url(&link.url));
    }
}
