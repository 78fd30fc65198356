//! The rules, one small function each, grouped by kind: [`count`] (whole-list), [`timeline`]
//! (starts, lengths, stated ends), [`text`] (titles), [`url`] (links and image URLs) and [`image`] (embedded images). Each
//! pushes its diagnostics into the [`Builder`], which applies the profile's escalation.

use super::{Builder, Diagnostic, Limits, Rule, Severity};
use crate::chapter::ChapterList;
use crate::format::text::{IssueKind, ParseIssue};
use crate::time::SampleTime;

pub use image::{image_track_skipped, missing_images};

mod count;
mod image;
mod text;
mod timeline;
mod url;

/// Runs every rule over `list`.
pub(super) fn check_all(
    b: &mut Builder,
    list: &ChapterList,
    duration: Option<SampleTime>,
    limits: &Limits,
) {
    count::too_few(b, list);
    count::too_many_for_container(b, list, limits);
    count::first_not_zero(b, list);
    timeline::check(b, list, duration);
    for (i, ch) in list.chapters.iter().enumerate() {
        let at = (i + 1, ch);
        text::empty_title(b, at);
        text::title_too_long(b, at, limits);
        url::link(b, at, limits);
        url::image(b, at);
        image::picture(b, at);
    }
}

/// `bad-timestamp` / `ambiguous-timestamp`: the lines the reader could not turn into
/// chapters, or read only one of several ways.
pub(super) fn parse_issues(b: &mut Builder, issues: &[ParseIssue]) {
    for issue in issues {
        let (rule, severity, hint) = match issue.kind {
            IssueKind::BadTimestamp => (
                Rule::BadTimestamp,
                Severity::Error,
                "fix the timestamp (minutes and seconds run 00–59); the line is not a chapter until then",
            ),
            IssueKind::AmbiguousTimestamp => (
                Rule::AmbiguousTimestamp,
                Severity::Warning,
                "write the timestamp in full, e.g. 1:02:03 or 62:03, so it reads one way only",
            ),
        };
        b.emit(Diagnostic {
            severity,
            rule,
            chapter: None,
            line: Some(issue.line).filter(|&l| l > 0),
            timestamp: Some(issue.timestamp.clone()),
            message: if issue.line > 0 {
                format!("line {}: {}", issue.line, issue.message)
            } else {
                issue.message.clone()
            },
            hint: Some(hint.to_string()),
        });
    }
}
