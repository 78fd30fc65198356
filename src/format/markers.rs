//! What the editor-export formats ([`super::audacity`], [`super::audition`],
//! [`super::reaper`]) share: the convention that tells a production note from a chapter, and
//! the field clean-up their one-line, separator-delimited rows need.
//!
//! Editors hold more than chapters: producers drop markers at edit points and for "fix this
//! breath". A marker whose name starts with [`NOTE_PREFIX`] (`// fix levels`) is a note, not
//! a chapter, in every editor format; readers skip it (logged at info). Reaper has one more
//! rule (regions are chapters when there are any, see its module). The binary's
//! `--skip-markers REGEX` drops any other names a producer uses for notes.

use std::borrow::Cow;

/// A marker name starting with this is a production note, never a chapter.
pub const NOTE_PREFIX: &str = "//";

/// Is this marker name a production note (see [`NOTE_PREFIX`])?
pub fn is_note(name: &str) -> bool {
    name.trim_start().starts_with(NOTE_PREFIX)
}

/// A title as one field of a tab-separated row: line breaks and tabs become spaces, since
/// both would split the row.
pub(crate) fn tab_field(title: &str) -> Cow<'_, str> {
    let line = super::common::one_line(title);
    if line.contains('\t') {
        Cow::Owned(line.replace('\t', " "))
    } else {
        line
    }
}

/// Logs how many notes a reader skipped, so `-v` explains a shorter list.
pub(crate) fn log_skipped(format: super::Format, notes: usize) {
    if notes > 0 {
        log::info!(
            "{format}: skipped {notes} note marker(s) (names starting with `{NOTE_PREFIX}`, or reaper markers next to regions)"
        );
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn notes_and_fields() {
        assert!(is_note("// fix breath"));
        assert!(is_note("  //edit"));
        assert!(!is_note("#42 Listener mail"));
        assert!(!is_note("Intro / Outro"));
        assert_eq!(tab_field("a\tb\nc"), "a b c");
        assert_eq!(tab_field("plain"), "plain");
    }
}
