//! Plain description text: the chapter lines a producer pastes into a Spotify, YouTube or
//! Apple Podcasts episode description.
//!
//! Only the writer lives here. Descriptions are read by the show-notes parser
//! ([`crate::notes`]), which understands this output and much looser prose;
//! [`crate::format::read`] refuses [`Format::Text`](super::Format::Text) and says so.
//!
//! One chapter per line: `MM:SS Title`, or `H:MM:SS Title` for every line once any chapter
//! starts at or after one hour (one width for the whole list, so the column lines up and
//! platforms that compare formats see consistency). `.mmm` is added only to a time that is
//! not on a whole second. A URL follows the title after a space (`01:40 Title https://…`).
//! Titles are written as they are, except that a line break becomes a space (one chapter per
//! line is the whole contract).

mod write;

pub use write::write;
