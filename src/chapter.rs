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

/// A URL in pure ASCII, as containers that store Latin-1 or byte-limited URLs need it (ID3
/// `WXXX`, the MP4 `href` box): a URL that is already printable ASCII is returned exactly as
/// written (a correct URL is left alone); otherwise the `url` crate serialises it with the host
/// in punycode and the rest percent-encoded. `None` when it is not ASCII and does not parse.
pub fn ascii_url(url: &str) -> Option<String> {
    if url.chars().all(|c| c.is_ascii_graphic()) {
        return Some(url.to_string());
    }
    url::Url::parse(url.trim())
        .ok()
        .map(|u| u.as_str().to_string())
}

impl Link {
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
    /// Optional image reference (URL or path), as Podcasting 2.0 `img` / PSC `image`.
    pub image: Option<String>,
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
