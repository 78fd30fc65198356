//! `snap`: chapter starts that sit in sound with a pause near, from [`crate::audio::snap`].

use super::{Diagnostic, Rule, Severity, format_span, who};
use crate::audio::Snap;
use crate::chapter::ChapterList;

/// One `snap` warning per suggested move, naming the suggested start in the message and
/// the hint (`hint` is `move it to 5:00.420`, a machine can read the time after `to `).
pub fn snap(list: &ChapterList, snaps: &[Snap]) -> Vec<Diagnostic> {
    snaps
        .iter()
        .filter_map(|s| {
            let ch = list.chapters.get(s.index)?;
            let (dir, by) = if s.to < s.from {
                ("earlier", s.from.saturating_sub(s.to))
            } else {
                ("later", s.to.saturating_sub(s.from))
            };
            Some(Diagnostic {
                severity: Severity::Warning,
                rule: Rule::Snap,
                chapter: Some(s.index + 1),
                line: ch.line(),
                timestamp: Some(ch.written_timestamp()),
                message: format!(
                    "{}: start {} is in sound; speech resumes after a pause at {} ({} {dir})",
                    who(s.index + 1, ch),
                    ch.written_timestamp(),
                    s.to.hms_millis(),
                    format_span(by),
                ),
                hint: Some(format!("move it to {}", s.to.hms_millis())),
            })
        })
        .collect()
}
