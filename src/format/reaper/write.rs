//! Model → REAPER region/marker CSV.

use super::HEADER;
use crate::chapter::ChapterList;
use crate::format::WriteOptions;
use crate::format::common::one_line;

/// Quotes a field when it holds a comma or a quote. (Edge spaces are not kept: readers,
/// ours included, trim fields.)
fn csv_field(s: &str) -> String {
    if s.contains([',', '"']) {
        format!("\"{}\"", s.replace('"', "\"\""))
    } else {
        s.to_string()
    }
}

fn hms(t: crate::time::Time) -> String {
    let (h, m, s, ms) = t.parts();
    format!("{h}:{m:02}:{s:02}.{ms:03}")
}

/// Writes regions when every chapter's end is known, else markers (see the module docs).
pub fn write(list: &ChapterList, opts: &WriteOptions) -> Vec<u8> {
    // A stated end (a region read back) wins over the next chapter's start.
    let ends: Vec<_> = list
        .chapters
        .iter()
        .enumerate()
        .map(|(i, c)| {
            c.end
                .filter(|e| *e > c.start)
                .or_else(|| list.end_of(i, opts.duration))
        })
        .collect();
    let regions = !list.is_empty() && ends.iter().all(Option::is_some);
    let mut out = String::from(HEADER);
    out.push('\n');
    for (i, (c, end)) in list.chapters.iter().zip(&ends).enumerate() {
        let name = csv_field(&one_line(&c.title));
        match end.filter(|_| regions) {
            Some(end) => out.push_str(&format!(
                "R{},{name},{},{},{}\n",
                i + 1,
                hms(c.start),
                hms(end),
                hms(end.saturating_sub(c.start))
            )),
            None => out.push_str(&format!("M{},{name},{},,\n", i + 1, hms(c.start))),
        }
    }
    out.into_bytes()
}
