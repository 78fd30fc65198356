//! Model → Audition marker list.

use super::HEADER;
use crate::chapter::ChapterList;
use crate::format::WriteOptions;
use crate::format::markers::tab_field;
use crate::time::Time;

/// `m:ss.ddd`, or `h:mm:ss.ddd` past an hour, as Audition writes decimal times.
pub(crate) fn decimal(t: Time) -> String {
    let (h, m, s, ms) = t.parts();
    if h > 0 {
        format!("{h}:{m:02}:{s:02}.{ms:03}")
    } else {
        format!("{m}:{s:02}.{ms:03}")
    }
}

/// Writes one `Cue` marker per chapter (a range when the chapter has an end). The options
/// are unused.
pub fn write(list: &ChapterList, _opts: &WriteOptions) -> Vec<u8> {
    let mut out = String::from(HEADER);
    out.push('\n');
    for c in &list.chapters {
        let dur = c.end.map_or(Time::ZERO, |e| e.saturating_sub(c.start));
        let desc = c.description.as_deref().map(tab_field).unwrap_or_default();
        out.push_str(&format!(
            "{}\t{}\t{}\tdecimal\tCue\t{desc}\n",
            tab_field(&c.title),
            decimal(c.start),
            decimal(dur)
        ));
    }
    out.into_bytes()
}
