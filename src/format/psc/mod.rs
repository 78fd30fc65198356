//! Podlove Simple Chapters 1.2 (PSC), the XML chapter format of the Podlove publisher and web
//! player, usually embedded in an RSS `<item>`.
//!
//! Reading finds the first `psc:chapters` element (bound to
//! `http://podlove.org/simple-chapters`, or using the `psc:` prefix without declaring it, a
//! common slip) anywhere in the document, so a whole RSS or Atom feed can be passed in; only
//! that first element's chapters are read. `start` accepts every Normal Play Time form the
//! spec shows (`01:35:52`, `7:48`, `35:12.250`, `37`), strictly: `1:75` is an error, not
//! 2:15. A chapter without `start` is an error; one without `title` gets an empty title (the
//! validator reports it) rather than failing the whole file.
//!
//! Writing uses `HH:MM:SS.mmm` for every start, `href` for the URL and `image` for the image.
//! Attribute values are escaped (`&amp;`, `&lt;`, `&gt;`, `&quot;`) and tab/CR/LF are written
//! as character references so they survive XML attribute-value normalisation. Other control
//! characters cannot exist in XML 1.0 and are dropped (the only lossy case).

mod read;
mod write;

pub use read::read;
pub use write::write;

/// The Podlove Simple Chapters namespace.
pub const NAMESPACE: &str = "http://podlove.org/simple-chapters";

/// XML that contains PSC: a standalone file or a feed with PSC inside.
pub(crate) fn sniff(body: &str) -> bool {
    body.starts_with('<') && (body.contains(NAMESPACE) || body.contains("<psc:chapters"))
}
