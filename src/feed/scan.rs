//! One pass over the feed with quick-xml, recording items and splice offsets.

use super::{Feed, FeedError, Item, MAX_ITEMS, PODCAST_NS};
use crate::format::common::line_of_offset;
use quick_xml::Reader;
use quick_xml::escape::resolve_predefined_entity;
use quick_xml::events::{BytesRef, BytesStart, Event};

/// The item child whose text is being collected.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Field {
    Guid,
    Title,
    Description,
    Content,
}

/// Scanner state between events.
#[derive(Default)]
struct State {
    depth: usize,
    item: Option<(usize, Item)>,
    field: Option<(Field, String)>,
    content: Option<String>,
    psc_open: Option<(usize, usize)>,
    saw_rss: bool,
    /// The last (offset, line) computed, so finding lines stays linear in the feed size.
    line_at: (usize, usize),
}

impl State {
    /// 1-based line of `at`, counting only the newlines since the last call.
    fn line(&mut self, feed: &str, at: usize) -> usize {
        let (from, line) = self.line_at;
        if at < from {
            return line_of_offset(feed, at);
        }
        let newlines = feed
            .as_bytes()
            .get(from..at)
            .map_or(0, |b| b.iter().filter(|&&c| c == b'\n').count());
        self.line_at = (at, line + newlines);
        line + newlines
    }
}

/// Scans a feed: its items and where tags can be inserted (see the module docs).
pub fn scan(feed: &str) -> Result<Feed, FeedError> {
    let mut reader = Reader::from_str(feed);
    let mut out = Feed::default();
    let mut st = State {
        line_at: (0, 1),
        ..State::default()
    };
    loop {
        let before = offset(reader.buffer_position());
        let event = reader.read_event().map_err(|e| FeedError::Xml {
            line: line_of_offset(feed, offset(reader.error_position())),
            message: e.to_string(),
        })?;
        let after = offset(reader.buffer_position());
        match event {
            Event::Start(e) => {
                st.depth += 1;
                start(feed, &mut out, &mut st, &e, (before, after))?;
            }
            Event::Empty(e) => {
                st.depth += 1;
                start(feed, &mut out, &mut st, &e, (before, after))?;
                end(&mut out, &mut st, e.name().as_ref(), (before, after));
                st.depth -= 1;
            }
            Event::End(e) => {
                end(&mut out, &mut st, e.name().as_ref(), (before, after));
                st.depth = st.depth.saturating_sub(1);
            }
            Event::Text(t) => push_text(&mut st, &t.decode().unwrap_or_default()),
            Event::CData(t) => push_text(&mut st, &t.decode().unwrap_or_default()),
            Event::GeneralRef(r) => push_text(&mut st, &resolve_ref(&r)),
            Event::Eof => break,
            _ => {}
        }
    }
    if !st.saw_rss {
        return Err(FeedError::NotRss);
    }
    Ok(out)
}

fn offset(pos: u64) -> usize {
    usize::try_from(pos).unwrap_or(usize::MAX)
}

/// `&amp;`, `&#233;`: the character, or the reference as written when unknown.
fn resolve_ref(r: &BytesRef<'_>) -> String {
    if let Ok(Some(c)) = r.resolve_char_ref() {
        return c.to_string();
    }
    let name = r.decode().unwrap_or_default();
    resolve_predefined_entity(&name).map_or_else(|| format!("&{name};"), str::to_string)
}

fn push_text(st: &mut State, text: &str) {
    if let Some((_, buf)) = st.field.as_mut() {
        buf.push_str(text);
    }
}

fn attr(e: &BytesStart<'_>, key: &[u8]) -> Option<String> {
    e.attributes()
        .flatten()
        .find(|a| a.key.as_ref() == key)
        .and_then(|a| a.unescape_value().ok().map(|v| v.into_owned()))
}

fn start(
    feed: &str,
    out: &mut Feed,
    st: &mut State,
    e: &BytesStart<'_>,
    (before, after): (usize, usize),
) -> Result<(), FeedError> {
    let name = e.name();
    let name = name.as_ref();
    if name == b"rss" && !st.saw_rss {
        st.saw_rss = true;
        match attr(e, b"xmlns:podcast") {
            Some(ns) if ns != PODCAST_NS => return Err(FeedError::PrefixTaken(ns)),
            Some(_) => {}
            None => out.namespace_insert = Some(tag_close(feed, after)),
        }
        return Ok(());
    }
    if name == b"item" && st.item.is_none() {
        if out.items.len() >= MAX_ITEMS {
            return Err(FeedError::TooManyItems {
                line: st.line(feed, before),
                max: MAX_ITEMS,
            });
        }
        let item = Item {
            line: st.line(feed, before),
            ..Item::default()
        };
        st.item = Some((st.depth, item));
        return Ok(());
    }
    let Some((item_depth, item)) = st.item.as_mut() else {
        return Ok(());
    };
    if name == b"psc:chapters" || (e.local_name().as_ref() == b"chapters" && is_psc(e)) {
        st.psc_open.get_or_insert((st.depth, before));
        return Ok(());
    }
    if st.depth != *item_depth + 1 {
        return Ok(());
    }
    match name {
        b"guid" => st.field = Some((Field::Guid, String::new())),
        b"title" => st.field = Some((Field::Title, String::new())),
        b"description" => st.field = Some((Field::Description, String::new())),
        b"content:encoded" => st.field = Some((Field::Content, String::new())),
        b"enclosure" => item.enclosure = attr(e, b"url"),
        _ if e.local_name().as_ref() == b"chapters" => item.chapters_url = attr(e, b"url"),
        _ => {}
    }
    Ok(())
}

/// A `chapters` element in the PSC namespace under another prefix.
fn is_psc(e: &BytesStart<'_>) -> bool {
    attr(e, b"xmlns").is_some_and(|ns| ns == crate::format::psc::NAMESPACE)
}

/// The offset of the `>` (or of `/` in `/>`) that closes the start tag ending at `after`.
fn tag_close(feed: &str, after: usize) -> usize {
    let close = after.saturating_sub(1);
    if feed.as_bytes().get(close.saturating_sub(1)) == Some(&b'/') {
        close - 1
    } else {
        close
    }
}

fn end(out: &mut Feed, st: &mut State, name: &[u8], (before, after): (usize, usize)) {
    if let Some((depth, from)) = st.psc_open
        && depth == st.depth
    {
        if let Some((_, item)) = st.item.as_mut() {
            item.psc.get_or_insert(from..after);
        }
        st.psc_open = None;
        return;
    }
    let Some((item_depth, item)) = st.item.as_mut() else {
        return;
    };
    if st.depth == *item_depth && name == b"item" {
        item.close = before;
        if item.description.is_none() {
            item.description = st.content.take();
        }
        st.content = None;
        if let Some((_, item)) = st.item.take() {
            out.items.push(item);
        }
        return;
    }
    if st.depth == *item_depth + 1
        && let Some((field, text)) = st.field.take()
    {
        match field {
            Field::Guid => item.guid = text.trim().to_string(),
            Field::Title => item.title = text.trim().to_string(),
            Field::Description => item.description = Some(text),
            Field::Content => st.content = Some(text),
        }
    }
}
