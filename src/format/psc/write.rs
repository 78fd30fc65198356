//! Model → PSC XML.

use super::NAMESPACE;
use crate::chapter::ChapterList;
use crate::format::WriteOptions;

/// Writes a standalone Podlove Simple Chapters 1.2 document. PSC has no ends, so the options
/// are unused; the signature matches the other writers.
pub fn write(list: &ChapterList, _opts: &WriteOptions) -> Vec<u8> {
    let mut out = String::new();
    out.push_str("<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n");
    out.push_str(&format!(
        "<psc:chapters version=\"1.2\" xmlns:psc=\"{NAMESPACE}\">\n"
    ));
    for c in &list.chapters {
        out.push_str("  <psc:chapter start=\"");
        out.push_str(&c.start.hms_millis());
        out.push_str("\" title=\"");
        out.push_str(&escape_attr(&c.title));
        out.push('"');
        if let Some(url) = c.url() {
            out.push_str(" href=\"");
            out.push_str(&escape_attr(url));
            out.push('"');
        }
        if let Some(img) = &c.image {
            out.push_str(" image=\"");
            out.push_str(&escape_attr(img));
            out.push('"');
        }
        out.push_str("/>\n");
    }
    out.push_str("</psc:chapters>\n");
    out.into_bytes()
}

/// Escapes an attribute value. Whitespace controls become character references because a
/// conforming parser turns literal ones into spaces; other C0 controls are not allowed in
/// XML 1.0 at all and are dropped.
fn escape_attr(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for ch in s.chars() {
        match ch {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\t' => out.push_str("&#9;"),
            '\n' => out.push_str("&#10;"),
            '\r' => out.push_str("&#13;"),
            c if (c as u32) < 0x20 || c == '\u{fffe}' || c == '\u{ffff}' => {
                log::warn!("psc: dropped {c:?}, which XML 1.0 cannot represent, from {s:?}");
            }
            c => out.push(c),
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::chapter::Chapter;
    use crate::time::Time;

    #[test]
    fn escapes_and_round_trips_awkward_titles() {
        let titles = [
            "A & B <c> \"q\" 'a'",
            "改行\nあり\tタブ",
            "]]> --> &amp; literally",
        ];
        let list = ChapterList::new(
            titles
                .iter()
                .enumerate()
                .map(|(i, t)| {
                    Chapter::new(Time::from_secs(i as u64 * 60), *t)
                        .with_url("https://x.test/?a=1&b=\"2\"")
                })
                .collect(),
        );
        let bytes = write(&list, &WriteOptions::default());
        let back = super::super::read(std::str::from_utf8(&bytes).unwrap()).unwrap();
        assert_eq!(back.comparable(), list.comparable());
        assert_eq!(escape_attr("a\u{1}b"), "ab");
    }
}
