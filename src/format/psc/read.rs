//! PSC XML → model.

use super::NAMESPACE;
use crate::chapter::{Chapter, ChapterList, Link, Origin};
use crate::format::common::{
    ClockRules, Fraction, ensure_not_empty, line_of_offset, parse_clock, push_capped, strip_bom,
};
use crate::format::{Format, FormatError};
use quick_xml::events::{BytesStart, Event};
use quick_xml::name::{Namespace, ResolveResult};
use quick_xml::reader::NsReader;

const F: Format = Format::Psc;

/// Normal Play Time as PSC uses it: `HH:MM:SS[.f]`, `MM:SS[.f]` or plain seconds.
const NPT: ClockRules = ClockRules {
    min_fields: 1,
    max_fields: 3,
    minor_min_digits: 1,
    fraction: Fraction::Optional,
};

/// Reads Podlove Simple Chapters, standalone or embedded in a feed.
pub fn read(text: &str) -> Result<ChapterList, FormatError> {
    ensure_not_empty(F, text)?;
    let body = strip_bom(text);
    let mut reader = NsReader::from_str(body);
    let mut inside = false;
    let mut found = false;
    let mut chapters = Vec::new();
    loop {
        let before = usize::try_from(reader.buffer_position()).unwrap_or(usize::MAX);
        let event = match reader.read_resolved_event() {
            Ok((ns, ev)) => (is_psc(&ns), ev),
            Err(e) => {
                let at = usize::try_from(reader.error_position()).unwrap_or(usize::MAX);
                return Err(FormatError::at(
                    F,
                    line_of_offset(body, at),
                    format!("malformed xml: {e}"),
                ));
            }
        };
        match event {
            (true, Event::Start(e)) if e.local_name().as_ref() == b"chapters" && !found => {
                inside = true;
                found = true;
            }
            (true, Event::Empty(e)) if e.local_name().as_ref() == b"chapters" && !found => {
                found = true;
                break;
            }
            (true, Event::End(e)) if inside && e.local_name().as_ref() == b"chapters" => break,
            (true, Event::Start(e) | Event::Empty(e))
                if inside && e.local_name().as_ref() == b"chapter" =>
            {
                let line = line_of_offset(body, before);
                let chapter = read_chapter(&reader, &e, line)?;
                push_capped(F, &mut chapters, chapter, line)?;
            }
            (_, Event::Eof) => break,
            _ => {}
        }
    }
    if !found {
        return Err(FormatError::at(
            F,
            1,
            format!("no psc:chapters element (namespace {NAMESPACE})"),
        ));
    }
    Ok(ChapterList::new(chapters))
}

fn is_psc(ns: &ResolveResult<'_>) -> bool {
    match ns {
        ResolveResult::Bound(Namespace(uri)) => *uri == NAMESPACE.as_bytes(),
        ResolveResult::Unknown(prefix) => prefix.as_slice() == b"psc",
        ResolveResult::Unbound => false,
    }
}

fn read_chapter(
    reader: &NsReader<&[u8]>,
    e: &BytesStart<'_>,
    line: usize,
) -> Result<Chapter, FormatError> {
    let mut start = None;
    let mut title = None;
    let mut href = None;
    let mut image = None;
    for attr in e.attributes() {
        let attr = attr.map_err(|err| FormatError::at(F, line, format!("malformed xml: {err}")))?;
        let value = attr
            .decode_and_unescape_value(reader.decoder())
            .map_err(|err| FormatError::at(F, line, format!("malformed xml: {err}")))?
            .into_owned();
        match attr.key.local_name().as_ref() {
            b"start" => start = Some(value),
            b"title" => title = Some(value),
            b"href" => href = Some(value),
            b"image" => image = Some(value),
            _ => {}
        }
    }
    let Some(written) = start else {
        return Err(FormatError::at(F, line, "missing start attribute"));
    };
    let time = parse_clock(written.trim(), NPT).map_err(|m| FormatError::at(F, line, m))?;
    let mut chapter = Chapter::new(time, title.unwrap_or_default());
    chapter.link = href.filter(|h| !h.is_empty()).map(Link::new);
    chapter.image = image.filter(|i| !i.is_empty());
    chapter.origin = Some(Origin {
        line,
        timestamp: written,
    });
    Ok(chapter)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::time::Time;

    #[test]
    fn reads_spec_example_forms() {
        let xml = r#"<?xml version="1.0" encoding="UTF-8"?>
<psc:chapters version="1.2" xmlns:psc="http://podlove.org/simple-chapters">
  <psc:chapter start="0" title="Welcome" />
  <psc:chapter start="7:48" title="A &amp; B &lt;c&gt; &quot;q&quot;" href="https://x.test/?a=1&amp;b=2" image="https://x.test/i.jpg"/>
  <psc:chapter start="35:12.250" title="日本語"></psc:chapter>
  <psc:chapter start="01:35:52" title="Late"/>
</psc:chapters>"#;
        let list = read(xml).unwrap();
        let starts: Vec<u64> = list.chapters.iter().map(|c| c.start.as_millis()).collect();
        assert_eq!(starts, [0, 468_000, 2_112_250, 5_752_000]);
        let c = &list.chapters[1];
        assert_eq!(c.title, "A & B <c> \"q\"");
        assert_eq!(c.url(), Some("https://x.test/?a=1&b=2"));
        assert_eq!(c.image.as_deref(), Some("https://x.test/i.jpg"));
        assert_eq!(c.line(), Some(4));
        assert_eq!(c.written_timestamp(), "7:48");
        assert_eq!(list.chapters[2].title, "日本語");
        assert_eq!(list.chapters[0].start, Time::ZERO);
    }

    #[test]
    fn finds_psc_inside_rss_and_default_namespace() {
        let rss = r#"<rss version="2.0" xmlns:psc="http://podlove.org/simple-chapters"><channel><item>
<title>Ep</title>
<psc:chapters version="1.2">
<psc:chapter start="00:00:00.000" title="Intro"/>
</psc:chapters>
</item><item><psc:chapters version="1.2"><psc:chapter start="1" title="second item"/></psc:chapters></item></channel></rss>"#;
        let list = read(rss).unwrap();
        assert_eq!(list.len(), 1);
        assert_eq!(list.chapters[0].line(), Some(4));
        let plain = r#"<chapters xmlns="http://podlove.org/simple-chapters"><chapter start="5" title="x"/></chapters>"#;
        assert_eq!(read(plain).unwrap().chapters[0].start, Time::from_secs(5));
    }

    #[test]
    fn errors_name_lines() {
        let xml = "<psc:chapters xmlns:psc=\"http://podlove.org/simple-chapters\">\n<psc:chapter start=\"1\" title=\"a\"/>\n<psc:chapter title=\"b\"/>\n</psc:chapters>";
        assert_eq!(
            read(xml).unwrap_err().to_string(),
            "psc line 3: missing start attribute"
        );
        let xml = "<psc:chapters xmlns:psc=\"http://podlove.org/simple-chapters\">\n\n<psc:chapter start=\"00:12:75\" title=\"a\"/>\n</psc:chapters>";
        assert_eq!(
            read(xml).unwrap_err().to_string(),
            "psc line 3: bad timestamp `00:12:75`: seconds 75 out of range (must be below 60)"
        );
        let err = read("<rss><channel></channel></rss>").unwrap_err();
        assert!(err.to_string().contains("no psc:chapters"), "{err}");
        let err = read("<psc:chapters xmlns:psc=\"http://podlove.org/simple-chapters\">\n<psc:chapter start=\"1\" title=\"a & b\"/>\n</psc:chapters>").unwrap_err();
        assert_eq!(err.line(), Some(2), "{err}");
    }
}
