//! WebVTT chapters (`<track kind="chapters">`), the chapter format of HTML5 players.
//!
//! Cues are `HH:MM:SS.mmm --> HH:MM:SS.mmm` followed by the title. Reading also accepts the
//! short `MM:SS.mmm` form, cue identifiers, cue settings after the end time (ignored), and
//! skips `NOTE`, `STYLE` and `REGION` blocks. Times are strict: `.mmm` must be three digits
//! and minutes/seconds below 60. A multi-line payload becomes a title with `\n` in it.
//!
//! Titles are chapter title text: `&`, `<` and `>` are written as `&amp;`, `&lt;`, `&gt;`
//! (escaping `>` also guarantees a title can never contain the `-->` cue separator), and
//! reading decodes those plus `&nbsp;`, `&lrm;`, `&rlm;`, `&quot;`, `&apos;` and numeric
//! references. Blank lines inside a title cannot exist in a cue and are dropped (lossy).
//!
//! # URL convention
//!
//! WebVTT has no place for a chapter URL. Every text line of a cue's payload is displayed by
//! players, and `NOTE` blocks are comments that belong to no cue, so neither is used. The
//! URL goes in the **cue identifier**, the optional line before the timing line that exists
//! to name a cue and that players never display:
//!
//! ```text
//! https://www.a16z.news/p/the-physical-ai-deployment-gap
//! 00:01:40.000 --> 00:12:59.000
//! Physical AIの「実装ギャップ」
//! ```
//!
//! Identifiers must be unique within a file, so when two chapters share a URL the later cue's
//! identifier is the URL, a space and its 1-based chapter number (`https://… 4`). On reading,
//! an identifier whose first space-separated word is an absolute `http`/`https` URL gives the
//! chapter's URL; any other identifier (`1`, `intro`) is ignored. URLs containing whitespace
//! or `-->` cannot be an identifier and are not written.
//!
//! # Ends
//!
//! A cue needs an end. Chapter `i` ends at the next chapter's start; the last one at the
//! audio length ([`WriteOptions::duration`](super::WriteOptions)), else its stated end, else
//! its own start (a zero-length cue — pass the duration to avoid that).

mod read;
mod write;

pub use read::read;
pub use write::write;

/// `WEBVTT` as the first line.
pub(crate) fn sniff(body: &str) -> bool {
    read::is_header(body.lines().next().unwrap_or(""))
}
