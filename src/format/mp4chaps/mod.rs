//! mp4chaps text: one `HH:MM:SS.mmm Title` per line, the format of mp4v2's `mp4chaps`
//! (`episode.chapters.txt`) and of many podcast editors' exports.
//!
//! Hours may run past two digits; reading also accepts `HH:MM:SS` without milliseconds and
//! 1–9 fraction digits (rounded to the millisecond), strictly (`00:12:75.000` is an error).
//! Lines starting with `#` are comments, blank lines are skipped. A chapter URL follows the
//! common convention of a trailing ` <url>` (`00:01:40.000 Title <https://…>`); a trailing
//! `<…>` that is not an absolute URL stays part of the title. A title's line breaks cannot be
//! represented and are written as spaces.

mod read;
mod write;

pub use read::read;
pub use write::write;

/// Every non-blank, non-comment line is `H+:MM:SS.mmm title`. Detection insists on the
/// milliseconds (mp4chaps tools always write them) and on no bare trailing URL, so a
/// description written as `1:02:03 Title https://…` is left to the show-notes parser, which
/// reads such URLs; the reader itself is more lenient.
pub(crate) fn sniff(body: &str) -> bool {
    let mut any = false;
    for line in body.lines() {
        let t = line.trim();
        if t.is_empty() || t.starts_with('#') {
            continue;
        }
        let Some((time, rest)) = read::split_line(t) else {
            return false;
        };
        let has_millis = time.rsplit_once('.').is_some_and(|(_, ms)| ms.len() == 3);
        let bare_url = rest
            .rsplit(char::is_whitespace)
            .next()
            .is_some_and(|w| w.starts_with("http://") || w.starts_with("https://"));
        if !has_millis || bare_url || read::parse_time(time).is_err() {
            return false;
        }
        any = true;
    }
    any
}
