//! ffmpeg's ffmetadata (`;FFMETADATA1`), the chapter input of
//! `ffmpeg -i audio -i chapters.ffmetadata -map_metadata 1 -map_chapters 1 …`.
//!
//! Reading takes the global `title`, `artist` and `album` keys into
//! [`ListMeta`](crate::chapter::ListMeta) (title, author, podcast) and every `[CHAPTER]`
//! section's `TIMEBASE`, `START`, `END`, `title`, `url` and `image` (keys case-insensitive, because
//! Matroska round trips turn `url` into `URL`); other sections and keys are ignored. Any
//! `TIMEBASE=num/den` is converted to milliseconds with integer rounding; without one, ffmpeg's
//! default of 1/1000000000 applies. Values are unescaped (`\=`, `\;`, `\#`, `\\`, and `\`
//! before a line break continues the value on the next line).
//!
//! Writing always emits `TIMEBASE=1/1000`, then `START`, then `END`, in that order, because
//! ffmpeg's reader expects exactly that sequence: measured with ffmpeg 5.1, a section without
//! `END` makes it swallow the next line (the title was lost). So `END` is always written —
//! the next start, else the audio length ([`WriteOptions::duration`](super::WriteOptions)),
//! else the stated end, else the chapter's own start (zero length; pass the duration). The
//! URL is a `url=` key and the chapter image (a path relative to the file's folder, or an
//! `http(s)` URL) an `image=` key: ffmpeg keeps both as chapter metadata (checked with
//! ffprobe 5.1 `-f ffmetadata -show_chapters`: `"tags": {"title": …, "image": …}`). `= ; # \`, CR and LF are
//! escaped with `\`. A title ending in `\` is escaped correctly but ffmpeg itself misreads
//! it (it treats `\\` + newline as a continuation); that corner is ffmpeg's.

mod read;
mod write;

pub use read::read;
pub use write::write;

/// `;FFMETADATA` header.
pub(crate) fn sniff(body: &str) -> bool {
    body.starts_with(";FFMETADATA")
}
