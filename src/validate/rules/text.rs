//! Title rules: `empty-title`, `title-too-long`.

use crate::chapter::Chapter;
use crate::validate::{Builder, Limits, Profile, Rule, Severity, who};

/// `empty-title`: a chapter with no visible title (allowed for a chapter hidden from the
/// table of contents when the profile says so).
pub(super) fn empty_title(b: &mut Builder, (idx, ch): (usize, &Chapter)) {
    if ch.title.trim().is_empty() && (ch.toc || !b.policy.hidden_may_be_untitled) {
        b.push(
            Severity::Error,
            Rule::EmptyTitle,
            Some((idx, ch)),
            format!("{}: the title is empty", who(idx, ch)),
            Some("give the chapter a title; players show it in the chapter list".to_string()),
        );
    }
}

/// `title-too-long`: longer than the profile recommends (characters) or, failing that, than
/// the container keeps (bytes).
pub(super) fn title_too_long(b: &mut Builder, (idx, ch): (usize, &Chapter), limits: &Limits) {
    let profile = b.profile;
    let w = who(idx, ch);
    let chars = ch.title.chars().count();
    if let Some(limit) = b.policy.title_chars
        && chars > limit
    {
        let why = match profile {
            Profile::Youtube => {
                format!("youtube cuts titles at about {limit} characters on hover")
            }
            _ => format!("{profile} recommends titles under {limit} characters"),
        };
        b.push(
            Severity::Warning,
            Rule::TitleTooLong,
            Some((idx, ch)),
            format!("{w}: the title is {chars} characters; {why}"),
            None,
        );
    } else if let Some(max) = limits.title_bytes
        && ch.title.len() > max
    {
        b.push(
            Severity::Warning,
            Rule::TitleTooLong,
            Some((idx, ch)),
            format!(
                "{w}: the title is {} bytes; an mp4 chpl entry keeps at most {max} and it will be cut",
                ch.title.len()
            ),
            None,
        );
    }
}
