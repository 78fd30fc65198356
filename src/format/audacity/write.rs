//! Model → Audacity labels.

use crate::chapter::ChapterList;
use crate::format::WriteOptions;
use crate::format::markers::tab_field;
use crate::time::Time;

/// Seconds with the six decimals Audacity writes (`85.180000`).
pub(crate) fn six_decimals(t: Time) -> String {
    let ms = t.as_millis();
    format!("{}.{:03}000", ms / 1000, ms % 1000)
}

/// Writes one label per chapter: a region label when the chapter has an end, else a point
/// label. The options are unused (a label track needs no audio length).
pub fn write(list: &ChapterList, _opts: &WriteOptions) -> Vec<u8> {
    let mut out = String::new();
    for c in &list.chapters {
        let end = c.end.filter(|e| *e > c.start).unwrap_or(c.start);
        out.push_str(&six_decimals(c.start));
        out.push('\t');
        out.push_str(&six_decimals(end));
        out.push('\t');
        out.push_str(&tab_field(&c.title));
        out.push('\n');
    }
    out.into_bytes()
}
