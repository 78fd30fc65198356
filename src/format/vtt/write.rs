//! Model → WebVTT.

use crate::chapter::ChapterList;
use crate::format::WriteOptions;
use std::collections::HashSet;

/// Writes a WebVTT chapters file; URLs go in cue identifiers (see the module docs).
pub fn write(list: &ChapterList, opts: &WriteOptions) -> Vec<u8> {
    let mut out = String::from("WEBVTT\n");
    let mut used_ids: HashSet<String> = HashSet::new();
    for (i, c) in list.chapters.iter().enumerate() {
        out.push('\n');
        if let Some(url) = c.url() {
            if url.is_empty() || url.contains("-->") || url.contains(char::is_whitespace) {
                log::warn!("vtt: url {url:?} cannot be a cue identifier; not written");
            } else {
                let mut id = url.to_string();
                if used_ids.contains(&id) {
                    id = format!("{url} {}", i + 1);
                }
                out.push_str(&id);
                out.push('\n');
                used_ids.insert(id);
            }
        }
        let end = list
            .end_of(i, opts.duration)
            .unwrap_or(c.start)
            .max(c.start);
        out.push_str(&c.start.hms_millis());
        out.push_str(" --> ");
        out.push_str(&end.hms_millis());
        out.push('\n');
        let title = c.title.replace("\r\n", "\n").replace('\r', "\n");
        for line in title.split('\n').filter(|l| !l.trim().is_empty()) {
            out.push_str(&escape(line));
            out.push('\n');
        }
    }
    out.into_bytes()
}

// Chapter title text is escaped like any markup text (`&`, `<`, `>`; rules out `-->`).
use crate::format::common::escape_text as escape;

#[cfg(test)]
mod tests {
    use super::*;
    use crate::chapter::Chapter;
    use crate::time::Time;

    #[test]
    fn duplicate_urls_get_unique_identifiers() {
        let list = ChapterList::new(vec![
            Chapter::new(Time::ZERO, "a --> b").with_url("https://x.test/"),
            Chapter::new(Time::from_secs(10), "<b>").with_url("https://x.test/"),
            Chapter::new(Time::from_secs(20), "c").with_url("not a url with spaces"),
        ]);
        let text = String::from_utf8(write(&list, &WriteOptions::default())).unwrap();
        assert_eq!(
            text,
            "WEBVTT\n\nhttps://x.test/\n00:00:00.000 --> 00:00:10.000\na --&gt; b\n\nhttps://x.test/ 2\n00:00:10.000 --> 00:00:20.000\n&lt;b&gt;\n\n00:00:20.000 --> 00:00:20.000\nc\n"
        );
        let back = super::super::read(&text).unwrap();
        assert_eq!(back.chapters[0].title, "a --> b");
        assert_eq!(back.chapters[1].url(), Some("https://x.test/"));
        assert_eq!(back.chapters[1].title, "<b>");
        assert_eq!(back.chapters[2].url(), None);
    }
}
