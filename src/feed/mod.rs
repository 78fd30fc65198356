//! RSS feeds as a whole: list each item and where its chapters come from, read one item's
//! chapters, and add `<podcast:chapters>` links to a feed without touching anything else.
//!
//! [`scan`] reads the feed once with quick-xml and records, per `<item>`, its guid, title,
//! enclosure, `<podcast:chapters>` link, the byte range of an embedded `<psc:chapters>` and
//! the description text, plus byte offsets for splicing. [`Item::chapters`] reads an item's
//! chapters: the PSC when present, else the description through the show-notes reader
//! ([`crate::format::read_any`] as [`Format::Text`], which also understands the HTML hosts
//! put there). [`emit::add_chapter_links`] inserts one tag per item at recorded offsets and
//! declares the `podcast` namespace on `<rss>` when missing: the feed is never
//! re-serialised, so every other byte stays as it was.

mod emit;
mod scan;

pub use emit::{ChapterLink, add_chapter_links, item_file_stem};
pub use scan::scan;

use crate::chapter::ChapterList;
use crate::format::{Format, ReadError, read_any, text::Parsed};
use std::ops::Range;

/// The Podcasting 2.0 namespace.
pub const PODCAST_NS: &str = "https://podcastindex.org/namespace/1.0";

/// The most items a feed may have; far above real feeds, it bounds memory on hostile input.
pub const MAX_ITEMS: usize = 100_000;

/// What [`scan`] found in a feed.
#[derive(Debug, Clone, Default)]
pub struct Feed {
    /// The items, in document order.
    pub items: Vec<Item>,
    /// Where `xmlns:podcast="…"` goes: the offset of the `>` (or `/>`) closing `<rss …`, when
    /// the namespace is not declared there yet.
    pub(crate) namespace_insert: Option<usize>,
}

/// One `<item>` of a feed.
#[derive(Debug, Clone, Default)]
pub struct Item {
    /// `<guid>` text (empty when the item has none).
    pub guid: String,
    /// `<title>` text.
    pub title: String,
    /// `<enclosure url>`.
    pub enclosure: Option<String>,
    /// `<podcast:chapters url>`, when the item links a chapters file already.
    pub chapters_url: Option<String>,
    /// Byte range of the `<psc:chapters>` element in the feed.
    pub psc: Option<Range<usize>>,
    /// The description text (unescaped; CDATA as is); `content:encoded` when there is no
    /// `<description>`.
    pub description: Option<String>,
    /// 1-based line of `<item>`.
    pub line: usize,
    /// Offset of `</item>`, where a tag is inserted.
    pub(crate) close: usize,
}

/// Where an item's chapters were read from.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum ChapterSource {
    /// The item's `<psc:chapters>`.
    Psc,
    /// The item's description, read as show notes.
    Description,
}

impl std::fmt::Display for ChapterSource {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(match self {
            ChapterSource::Psc => "psc",
            ChapterSource::Description => "description",
        })
    }
}

/// Why a feed could not be used.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum FeedError {
    /// The XML is not well-formed.
    #[error("feed line {line}: malformed xml: {message}")]
    Xml {
        /// 1-based line.
        line: usize,
        /// quick-xml's explanation.
        message: String,
    },
    /// No `<rss>` root: not an RSS feed.
    #[error("not an rss feed (no <rss> element)")]
    NotRss,
    /// More items than [`MAX_ITEMS`].
    #[error("feed line {line}: more than {max} items; refusing to read further")]
    TooManyItems {
        /// Line of the first item over the limit.
        line: usize,
        /// The limit.
        max: usize,
    },
    /// `xmlns:podcast` is bound to another namespace, so a `podcast:` tag would mean
    /// something else.
    #[error("the feed binds the `podcast` prefix to `{0}`, not {PODCAST_NS}")]
    PrefixTaken(String),
    /// An item's chapters could not be read.
    #[error("item {guid} ({source_kind}): {error}")]
    Chapters {
        /// The item's guid.
        guid: String,
        /// Which source failed.
        source_kind: ChapterSource,
        /// The reader's error.
        error: ReadError,
    },
}

impl Item {
    /// The item's PSC chapters, when it has a `<psc:chapters>` element.
    pub fn psc_chapters(&self, feed: &str) -> Result<Option<ChapterList>, FeedError> {
        let Some(range) = self.psc.clone() else {
            return Ok(None);
        };
        let slice = feed.get(range).unwrap_or("");
        crate::format::read(Format::Psc, slice)
            .map(Some)
            .map_err(|e| self.failed(ChapterSource::Psc, e.into()))
    }

    /// The chapters in the item's description (with the reader's issues and notes), when it
    /// has one with at least one chapter line.
    pub fn description_chapters(&self) -> Result<Option<Parsed>, FeedError> {
        let Some(desc) = self.description.as_deref().filter(|d| !d.trim().is_empty()) else {
            return Ok(None);
        };
        let (_, parsed) = read_any(desc.as_bytes(), Some(Format::Text))
            .map_err(|e| self.failed(ChapterSource::Description, e))?;
        Ok((!parsed.list.is_empty()).then_some(parsed))
    }

    /// The item's chapters: the PSC when present, else the description.
    pub fn chapters(&self, feed: &str) -> Result<Option<(ChapterSource, ChapterList)>, FeedError> {
        if let Some(list) = self.psc_chapters(feed)? {
            return Ok(Some((ChapterSource::Psc, list)));
        }
        Ok(self
            .description_chapters()?
            .map(|parsed| (ChapterSource::Description, parsed.list)))
    }

    fn failed(&self, source_kind: ChapterSource, error: ReadError) -> FeedError {
        FeedError::Chapters {
            guid: self.guid.clone(),
            source_kind,
            error,
        }
    }
}

impl Feed {
    /// The item with this guid (exact match), else the one with this title.
    pub fn item(&self, guid: &str) -> Option<&Item> {
        self.items
            .iter()
            .find(|i| i.guid == guid)
            .or_else(|| self.items.iter().find(|i| i.title == guid))
    }
}
