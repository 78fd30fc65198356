//! Model → JSON chapters.

use crate::chapter::ChapterList;
use crate::format::WriteOptions;
use crate::format::common::decimal_seconds;
use std::fmt::Write as _;

/// Writes a Podcasting 2.0 JSON chapters document (version 1.2.0), pretty-printed with a
/// fixed key order so output is stable and diffs stay readable.
pub fn write(list: &ChapterList, opts: &WriteOptions) -> Vec<u8> {
    let mut out = String::new();
    out.push_str("{\n  \"version\": \"1.2.0\",\n");
    let meta = [
        ("title", &list.meta.title),
        ("author", &list.meta.author),
        ("podcastName", &list.meta.podcast),
    ];
    for (key, value) in meta {
        if let Some(v) = value {
            let _ = writeln!(out, "  \"{key}\": {},", json_string(v));
        }
    }
    if list.chapters.is_empty() {
        out.push_str("  \"chapters\": []\n}\n");
        return out.into_bytes();
    }
    out.push_str("  \"chapters\": [\n");
    let last = list.chapters.len() - 1;
    for (i, c) in list.chapters.iter().enumerate() {
        let mut fields = vec![format!("\"startTime\": {}", decimal_seconds(c.start))];
        if opts.duration.is_some()
            && let Some(end) = list.end_of(i, opts.duration)
        {
            fields.push(format!("\"endTime\": {}", decimal_seconds(end)));
        }
        fields.push(format!("\"title\": {}", json_string(&c.title)));
        if let Some(img) = &c.image {
            fields.push(format!("\"img\": {}", json_string(img)));
        }
        if let Some(url) = c.url() {
            fields.push(format!("\"url\": {}", json_string(url)));
        }
        if !c.toc {
            fields.push("\"toc\": false".to_string());
        }
        out.push_str("    {\n      ");
        out.push_str(&fields.join(",\n      "));
        out.push_str("\n    }");
        out.push_str(if i == last { "\n" } else { ",\n" });
    }
    out.push_str("  ]\n}\n");
    out.into_bytes()
}

/// A JSON string literal. Non-ASCII stays UTF-8 (readable Japanese titles); only what JSON
/// requires is escaped.
pub(crate) fn json_string(s: &str) -> String {
    let mut out = String::with_capacity(s.len() + 2);
    out.push('"');
    for ch in s.chars() {
        match ch {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            '\n' => out.push_str("\\n"),
            '\r' => out.push_str("\\r"),
            '\t' => out.push_str("\\t"),
            c if (c as u32) < 0x20 => {
                let _ = write!(out, "\\u{:04x}", c as u32);
            }
            c => out.push(c),
        }
    }
    out.push('"');
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::chapter::Chapter;
    use crate::time::Time;

    #[test]
    fn strings_escape_what_json_needs() {
        assert_eq!(
            json_string("a\"b\\c\n\u{1}日本"),
            r#""a\"b\\c\n\u0001日本""#
        );
        let parsed: String = serde_json::from_str(&json_string("x\u{7}\t\"y")).unwrap();
        assert_eq!(parsed, "x\u{7}\t\"y");
    }

    #[test]
    fn end_times_only_with_duration() {
        let list = ChapterList::new(vec![
            Chapter::new(Time::ZERO, "a"),
            Chapter::new(Time::from_millis(12_500), "b"),
        ]);
        let without = String::from_utf8(write(&list, &WriteOptions::default())).unwrap();
        assert!(!without.contains("endTime"));
        assert!(without.contains("\"startTime\": 12.5,"));
        let with = String::from_utf8(write(
            &list,
            &WriteOptions::with_duration(Some(Time::from_secs(60))),
        ))
        .unwrap();
        assert!(with.contains("\"endTime\": 12.5,"));
        assert!(with.contains("\"endTime\": 60,"));
        let v: serde_json::Value = serde_json::from_str(&with).unwrap();
        assert_eq!(v["chapters"][1]["endTime"], serde_json::json!(60));
    }
}
