//! HTML fragment → model: the description reader reads it.

use crate::chapter::ChapterList;
use crate::format::FormatError;

/// Reads an HTML description with the show-notes reader ([`crate::format::text::read`]),
/// which handles the HTML that hosts put around chapter lines.
pub fn read(text: &str) -> Result<ChapterList, FormatError> {
    crate::format::text::read(text)
}
