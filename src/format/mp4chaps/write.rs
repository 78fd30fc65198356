//! Model → mp4chaps.

use crate::chapter::ChapterList;
use crate::format::WriteOptions;
use crate::format::common::one_line;

/// Writes one `HH:MM:SS.mmm Title` line per chapter, with ` <url>` when there is a URL.
/// mp4chaps has no ends, so the options are unused.
pub fn write(list: &ChapterList, _opts: &WriteOptions) -> Vec<u8> {
    let mut out = String::new();
    for c in &list.chapters {
        out.push_str(&c.start.hms_millis());
        out.push(' ');
        out.push_str(&one_line(&c.title));
        if let Some(url) = c.url() {
            out.push_str(" <");
            out.push_str(url);
            out.push('>');
        }
        out.push('\n');
    }
    out.into_bytes()
}
