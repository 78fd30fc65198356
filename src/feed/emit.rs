//! Adds `<podcast:chapters>` tags to a feed by splicing at recorded offsets.

use super::{Feed, PODCAST_NS};

/// One tag to add: the item (index into [`Feed::items`]) and the chapters file's URL.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ChapterLink {
    /// Index of the item in [`Feed::items`].
    pub item: usize,
    /// Absolute URL of the item's `chapters.json`.
    pub url: String,
}

/// A file-name stem for an item's chapters file: the guid (else the title, else `item-N`)
/// with everything but ASCII letters, digits, `.`, `_` and `-` turned into `-`, at most 80
/// characters. Safe in a path and in a URL; `used` resolves collisions with `-2`, `-3`, ….
pub fn item_file_stem(
    feed: &Feed,
    index: usize,
    used: &mut std::collections::HashSet<String>,
) -> String {
    let item = feed.items.get(index);
    let raw = item
        .map(|i| {
            if i.guid.is_empty() {
                i.title.as_str()
            } else {
                i.guid.as_str()
            }
        })
        .unwrap_or("");
    // A URL guid's scheme only makes the name longer.
    let raw = ["https://", "http://"]
        .iter()
        .find_map(|p| raw.strip_prefix(p))
        .unwrap_or(raw);
    let mut stem: String = raw
        .chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() || matches!(c, '.' | '_' | '-') {
                c
            } else {
                '-'
            }
        })
        .take(80)
        .collect();
    stem = stem.trim_matches(['-', '.']).to_string();
    if stem.is_empty() {
        stem = format!("item-{}", index + 1);
    }
    let mut candidate = stem.clone();
    let mut n = 1;
    while !used.insert(candidate.clone()) {
        n += 1;
        candidate = format!("{stem}-{n}");
    }
    candidate
}

use crate::format::html::escape_attr;

/// The whitespace right before `at` (back to and including a line break), so the new tag
/// gets its own line indented like the item's children.
fn indent_before(feed: &str, at: usize) -> &str {
    let head = feed.get(..at).unwrap_or("");
    let trimmed = head.trim_end_matches([' ', '\t']);
    match trimmed.strip_suffix('\n') {
        Some(rest) => {
            let rest = rest.strip_suffix('\r').unwrap_or(rest);
            feed.get(rest.len()..at).unwrap_or("")
        }
        None => "",
    }
}

/// The feed with one `<podcast:chapters url=… type="application/json+chapters"/>` per link,
/// inserted before each item's `</item>`, and `xmlns:podcast` added to `<rss>` when the
/// namespace is not declared. Every other byte is copied unchanged.
pub fn add_chapter_links(feed_text: &str, feed: &Feed, links: &[ChapterLink]) -> String {
    let mut inserts: Vec<(usize, String)> = Vec::with_capacity(links.len() + 1);
    if let Some(at) = feed.namespace_insert.filter(|_| !links.is_empty()) {
        inserts.push((at, format!(" xmlns:podcast=\"{PODCAST_NS}\"")));
    }
    for link in links {
        let Some(item) = feed.items.get(link.item) else {
            continue;
        };
        let ws = indent_before(feed_text, item.close);
        let tag = format!(
            "<podcast:chapters url=\"{}\" type=\"application/json+chapters\"/>",
            escape_attr(&link.url)
        );
        // Before `</item>`'s own indentation: one level deeper (a tab in tab-indented feeds,
        // else two spaces), the tag, then the line break and indentation `</item>` had.
        let unit = if ws.ends_with('\t') { "\t" } else { "  " };
        let text = if ws.is_empty() {
            tag
        } else {
            format!("{unit}{tag}{ws}")
        };
        inserts.push((item.close, text));
    }
    inserts.sort_by_key(|(at, _)| *at);
    let extra: usize = inserts.iter().map(|(_, t)| t.len()).sum();
    let mut out = String::with_capacity(feed_text.len() + extra);
    let mut from = 0;
    for (at, text) in &inserts {
        out.push_str(feed_text.get(from..*at).unwrap_or(""));
        out.push_str(text);
        from = *at;
    }
    out.push_str(feed_text.get(from..).unwrap_or(""));
    out
}
