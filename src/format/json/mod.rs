//! Podcasting 2.0 JSON chapters (`application/json+chapters`, spec 1.2).
//!
//! The format Podcast Index apps fetch from the feed's `<podcast:chapters>` URL, and the only
//! one that carries everything our model has: title, URL, image, hidden chapters (`toc`) and
//! ends. Times are JSON numbers of seconds; we read them to the nearest millisecond and write
//! them from integer milliseconds (`100`, `12.5`), so there is never float noise like
//! `12.499999`.
//!
//! Reading keeps the spec fields (`startTime`, `endTime`, `title`, `img`, `url`, `toc`, and the
//! top-level `title`, `author`, `podcastName`) and ignores the rest (`location`, `waypoints`,
//! …). `serde_json` does not report where a value sat, so a small scanner over the (already
//! validated) text recovers each chapter object's line and the `startTime` as written.
//!
//! Writing includes `endTime` only when the exact audio length is known
//! ([`WriteOptions::duration`](super::WriteOptions)); then every chapter gets one, from
//! [`ChapterList::end_of`](crate::chapter::ChapterList::end_of). `toc` is written only for
//! hidden chapters (`"toc": false`), as the spec's default is visible.

mod budget;
mod read;
mod write;

pub use read::read;
pub use write::write;

/// A JSON object that mentions `"chapters"`: even when malformed, the JSON reader gives a
/// better error for it than the show-notes parser would.
pub(crate) fn sniff(body: &str) -> bool {
    body.starts_with('{') && body.contains("\"chapters\"")
}
