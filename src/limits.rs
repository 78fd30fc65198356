//! The size limits of the chapter structures chapmark writes, named once.
//!
//! Each is a hard limit of a byte-sized field in the container format, so it is the same for
//! every file of that container. Writers enforce them; validation warns about them ahead of a
//! write (through [`crate::validate::Limits`], the one place that maps a target to its
//! limits). Per-container capability values are built from these constants.

/// Most entries an ID3 `CTOC` frame lists: its entry count is one byte.
pub const ID3_CTOC_MAX_ENTRIES: usize = 255;
/// Most chapters an MP4 Nero `chpl` box holds: its count is one byte. The QuickTime chapter
/// track follows the same list, so both forms always agree.
pub const MP4_CHPL_MAX_CHAPTERS: usize = 255;
/// Most bytes of a title a `chpl` entry holds (one length byte); longer titles are cut.
pub const MP4_CHPL_TITLE_BYTES: usize = 255;
/// Most bytes of a URL a chapter-track `href` box holds (one length byte).
pub const MP4_HREF_URL_BYTES: usize = 255;
/// Most bytes of the link text an `href` box holds (one length byte); longer text is cut.
pub const MP4_HREF_TEXT_BYTES: usize = 255;
