//! CUE sheets: `FILE`, then `TRACK nn AUDIO` entries with `TITLE "…"` and
//! `INDEX 01 MM:SS:FF`, where `FF` is a frame of 1/75 s and `MM` may exceed 99.
//!
//! Reading takes the sheet's `TITLE` and `PERFORMER` into
//! [`ListMeta`](crate::chapter::ListMeta) (title, author), and per track its `TITLE`, its
//! `INDEX 01` as the start, and a `REM URL "…"` line as the URL (our convention: `REM` is the
//! CUE comment, so other tools ignore it). Commands are case-insensitive; unknown ones
//! (`FLAGS`, `ISRC`, `INDEX 00`, …) are ignored. A track without `INDEX 01` is an error, and
//! so is a second `FILE` after tracks have begun, because its times would be relative to a
//! different file.
//!
//! Precision: times are written as frames, rounded to the nearest 1/75 s, so a CUE round
//! trip keeps times exactly only on frame boundaries (multiples of 40 ms are: 40 ms =
//! 3 frames); others move by at most 7 ms.
//!
//! Quotes: CUE has no escape for `"` inside a quoted value. Writing replaces each `"` in a
//! title, alternately, by `“` and `”` (so `say "hi"` becomes `say “hi”`) — lossy, but every
//! CUE reader then sees the whole title. Line breaks become spaces. Reading takes the text
//! between the first and the last `"`, so hand-written inner quotes survive. More than 99
//! tracks is beyond the CD specification; they are written (three-digit numbers) with a
//! warning in the log.
//!
//! The `FILE` line names [`WriteOptions::audio_file`](super::WriteOptions) (file name only),
//! or `audio.mp3` when it is unknown, with the type from its extension (`MP3`, `AIFF`,
//! otherwise `WAVE`, which players use for any decodable file).

mod read;
mod write;

pub use read::read;
pub use write::write;

/// A `TRACK nn AUDIO`, `INDEX 01 mm:ss:ff` or `FILE "…" MP3|WAVE|AIFF|…` line anywhere.
pub(crate) fn sniff(body: &str) -> bool {
    body.lines().any(|l| {
        let t = l.trim();
        if t.len() >= 5 && t.get(..5).is_some_and(|c| c.eq_ignore_ascii_case("FILE ")) {
            let kind = t.rsplit(char::is_whitespace).next().unwrap_or("");
            let typed = ["MP3", "WAVE", "AIFF", "BINARY", "MOTOROLA"]
                .iter()
                .any(|k| kind.eq_ignore_ascii_case(k));
            if typed && t.contains('"') {
                return true;
            }
        }
        let words: Vec<&str> = l.split_whitespace().collect();
        match words.as_slice() {
            [a, b, c] => {
                let track = a.eq_ignore_ascii_case("TRACK")
                    && !b.is_empty()
                    && b.bytes().all(|x| x.is_ascii_digit())
                    && c.eq_ignore_ascii_case("AUDIO");
                let index =
                    a.eq_ignore_ascii_case("INDEX") && *b == "01" && read::parse_time(c).is_ok();
                track || index
            }
            _ => false,
        }
    })
}
