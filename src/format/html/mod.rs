//! An HTML fragment of linked timestamps, the way podcast hosts show chapters in an episode
//! description: one `<p>` per chapter, the time a media-fragment link (`#t=0:01:40`, which
//! web players seek to) and the title after it, with the chapter URL as a link when there is
//! one:
//!
//! ```html
//! <p><a href="#t=0:01:40">01:40</a> Intro <a href="https://example.com/">https://example.com/</a></p>
//! ```
//!
//! Its visible text is exactly what the description writer ([`super::text`]) produces, so a
//! reader of descriptions reads it back. Text is escaped (`&amp;`, `&lt;`, `&gt;`) and
//! attribute values also `&quot;`. Reading delegates to the description reader
//! ([`super::text::read`]); HTML is not sniffed, since descriptions are detected as text and
//! the text reader is what understands them.

mod read;
mod write;

pub use read::read;
pub(crate) use write::escape_attr;
pub use write::write;
