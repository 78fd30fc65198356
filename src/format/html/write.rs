//! Model → HTML fragment.

use crate::chapter::ChapterList;
use crate::format::WriteOptions;
use crate::format::common::{escape_text, one_line};
use crate::time::Time;

/// Escapes an attribute value (double-quoted).
pub(crate) fn escape_attr(s: &str) -> String {
    escape_text(s).replace('"', "&quot;")
}

/// Writes one `<p>` per chapter (see the module docs). The options are unused.
pub fn write(list: &ChapterList, _opts: &WriteOptions) -> Vec<u8> {
    let with_hours = list
        .chapters
        .iter()
        .any(|c| c.start >= Time::from_secs(3600));
    let mut out = String::new();
    for c in &list.chapters {
        let shown = c.start.clock(with_hours);
        out.push_str(&format!(
            "<p><a href=\"#t={}\">{shown}</a> {}",
            c.start.clock(true),
            escape_text(&one_line(&c.title))
        ));
        if let Some(url) = c.url() {
            let url_attr = escape_attr(url);
            out.push_str(&format!(" <a href=\"{url_attr}\">{}</a>", escape_text(url)));
        }
        out.push_str("</p>\n");
    }
    out.into_bytes()
}
