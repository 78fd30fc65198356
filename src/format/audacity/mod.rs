//! Audacity label tracks, as `File › Export › Export Labels` writes them: one
//! `start<TAB>end<TAB>label` line per label, times in seconds with six decimals
//! (`85.180378`). A point label has start = end; a region label's end becomes the chapter's
//! end. The extended format (Audacity 2.2+, "with frequency ranges") adds a
//! `\<TAB>low<TAB>high` line after a label; those lines are skipped.
//!
//! Reading is strict: every other non-blank line must be a label with two valid times
//! (`1:75` or `12.5.3` is an error naming the line), and an end before the start is an error.
//! A decimal comma (`85,180378`, older Audacity in some locales) is read as a point. Times
//! are rounded to the millisecond. Labels named `// …` are notes (see [`super::markers`]).
//!
//! Writing uses six decimals, the chapter's end when it has one (else a point label), and
//! replaces tabs and line breaks in titles with spaces. URLs, images and descriptions are not
//! carried.

mod read;
mod write;

pub use read::read;
pub use write::write;

/// Every non-blank line is a label or a frequency line, and there is at least one label.
pub(crate) fn sniff(body: &str) -> bool {
    let mut any = false;
    for line in body.lines() {
        if line.trim().is_empty() || line.starts_with('\\') {
            continue;
        }
        if read::parse_label(line.strip_suffix('\r').unwrap_or(line)).is_err() {
            return false;
        }
        any = true;
    }
    any
}
