//! Model → ffmetadata.

use crate::chapter::ChapterList;
use crate::format::WriteOptions;

/// Writes an ffmetadata file ffmpeg can map with `-map_chapters`.
pub fn write(list: &ChapterList, opts: &WriteOptions) -> Vec<u8> {
    let mut out = String::from(";FFMETADATA1\n");
    let meta = &list.meta;
    let keys = [
        ("title", meta.title.as_deref()),
        ("artist", meta.author.as_deref()),
        ("album", meta.podcast.as_deref()),
    ];
    push_keys(&mut out, &keys);
    for (i, c) in list.chapters.iter().enumerate() {
        let end = list
            .end_of(i, opts.duration)
            .unwrap_or(c.start)
            .max(c.start);
        out.push_str("\n[CHAPTER]\nTIMEBASE=1/1000\n");
        out.push_str(&format!("START={}\n", c.start.as_millis()));
        out.push_str(&format!("END={}\n", end.as_millis()));
        let keys = [
            ("title", Some(c.title.as_str())),
            ("url", c.url()),
            ("image", c.image.as_deref()),
        ];
        push_keys(&mut out, &keys);
    }
    out.into_bytes()
}

/// A `key=value` line for each key that has a value.
fn push_keys(out: &mut String, keys: &[(&str, Option<&str>)]) {
    for (key, value) in keys {
        if let Some(v) = value {
            out.push_str(key);
            out.push('=');
            out.push_str(&escape(v));
            out.push('\n');
        }
    }
}

/// Backslash-escapes what ffmetadata treats specially.
fn escape(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for ch in s.chars() {
        if matches!(ch, '=' | ';' | '#' | '\\' | '\n' | '\r') {
            out.push('\\');
        }
        out.push(ch);
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::chapter::Chapter;
    use crate::time::Time;

    #[test]
    fn escapes_round_trip() {
        let title = "a=b;c#d\\e\nf\r\ng";
        let list = ChapterList::new(vec![Chapter::new(Time::from_millis(1_500), title)]);
        let text = String::from_utf8(write(&list, &WriteOptions::default())).unwrap();
        assert!(
            text.contains("title=a\\=b\\;c\\#d\\\\e\\\nf\\\r\\\ng\n"),
            "{text:?}"
        );
        assert!(text.contains("START=1500\nEND=1500\n"));
        let back = super::super::read(&text).unwrap();
        assert_eq!(back.chapters[0].title, title);
    }

    #[test]
    fn url_and_image_keys_round_trip() {
        let mut c = Chapter::new(Time::ZERO, "One");
        c.link = Some(crate::chapter::Link::new("https://x.test/a?b=1"));
        c.image = Some("art/one=1.jpg".into());
        let list = ChapterList::new(vec![c]);
        let text = String::from_utf8(write(&list, &WriteOptions::default())).unwrap();
        assert!(text.contains("url=https://x.test/a?b\\=1\nimage=art/one\\=1.jpg\n"));
        let back = super::super::read(&text).unwrap();
        assert_eq!(back.chapters[0].image.as_deref(), Some("art/one=1.jpg"));
        assert_eq!(back.chapters[0].url(), Some("https://x.test/a?b=1"));
    }
}
