//! `drift` between any two chapter sources (the file, a JSON sidecar, the feed's PSC, the
//! description), for `check --chapters A --chapters B` and `check --feed`: apps merge these
//! sources and disagree when they differ, so every difference is reported with both values.

use super::drift::{delta_words, pair_chapters, quoted, same_title};
use super::{DRIFT_TOLERANCE, Diagnostic, Rule, Severity};
use crate::chapter::{Chapter, ChapterList};

/// A named chapter list: what the messages call it (`the file`, `ep.json`, `feed psc`).
#[derive(Debug, Clone, Copy)]
pub struct Source<'a> {
    /// The name used in messages.
    pub name: &'a str,
    /// Its chapters.
    pub list: &'a ChapterList,
}

/// Where `b` differs from `a`: chapters missing from either, moved starts (with both
/// values and the difference) and changed titles. Chapters are paired as in
/// [`super::drift`] (by title, then by start). Diagnostics are `drift` warnings pointing at
/// `b`'s chapter (index and line) where there is one.
pub fn drift_between(a: Source<'_>, b: Source<'_>) -> Vec<Diagnostic> {
    let (pair, used) = pair_chapters(&a.list.chapters, &b.list.chapters);
    let mut out = Vec::new();
    for (bi, bc) in b.list.chapters.iter().enumerate() {
        let paired = pair.get(bi).copied().flatten();
        match paired.and_then(|ai| a.list.chapters.get(ai)) {
            Some(ac) => compare(&mut out, (a.name, ac), (b.name, bi + 1, bc)),
            None => out.push(warning(
                Some((bi + 1, bc)),
                format!(
                    "{} at {} is in {} but not in {}",
                    quoted(&bc.title),
                    bc.start,
                    b.name,
                    a.name
                ),
            )),
        }
    }
    for (ai, ac) in a.list.chapters.iter().enumerate() {
        if !used.get(ai).copied().unwrap_or(false) {
            out.push(warning(
                None,
                format!(
                    "{} at {} is in {} but not in {}",
                    quoted(&ac.title),
                    ac.start,
                    a.name,
                    b.name
                ),
            ));
        }
    }
    out
}

fn compare(out: &mut Vec<Diagnostic>, a: (&str, &Chapter), b: (&str, usize, &Chapter)) {
    let ((an, ac), (bn, idx, bc)) = (a, b);
    let moved = ac.start.as_millis().abs_diff(bc.start.as_millis()) > DRIFT_TOLERANCE.as_millis();
    if moved {
        out.push(warning(
            Some((idx, bc)),
            format!(
                "{} starts at {} in {bn} and at {} in {an} ({} in {bn})",
                quoted(&bc.title),
                bc.start,
                ac.start,
                delta_words(bc.start, ac.start)
            ),
        ));
    }
    if !same_title(&ac.title, &bc.title) && !same_title(&bc.title, &ac.title) {
        out.push(warning(
            Some((idx, bc)),
            format!(
                "the chapter at {} is {} in {bn} and {} in {an}",
                bc.start,
                quoted(&bc.title),
                quoted(&ac.title)
            ),
        ));
    }
}

fn warning(b: Option<(usize, &Chapter)>, message: String) -> Diagnostic {
    Diagnostic {
        severity: Severity::Warning,
        rule: Rule::Drift,
        chapter: b.map(|(i, _)| i),
        line: b.and_then(|(_, c)| c.line()),
        timestamp: b.map(|(_, c)| c.written_timestamp()),
        message,
        hint: Some("make every source say the same (write one from the other)".to_string()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::time::Time;

    #[test]
    fn one_second_is_drift_with_both_values() {
        let a = ChapterList::new(vec![
            Chapter::new(Time::ZERO, "Intro"),
            Chapter::new(Time::from_secs(100), "Main"),
        ]);
        let b = ChapterList::new(vec![
            Chapter::new(Time::ZERO, "Intro"),
            Chapter::new(Time::from_secs(101), "Main"),
            Chapter::new(Time::from_secs(200), "Extra"),
        ]);
        let d = drift_between(
            Source {
                name: "the file",
                list: &a,
            },
            Source {
                name: "the description",
                list: &b,
            },
        );
        let msgs: Vec<&str> = d.iter().map(|d| d.message.as_str()).collect();
        assert_eq!(
            msgs,
            [
                "\"Main\" starts at 01:41 in the description and at 01:40 in the file (1 s later in the description)",
                "\"Extra\" at 03:20 is in the description but not in the file",
            ]
        );
        assert!(d.iter().all(|d| d.rule == Rule::Drift));
        assert_eq!(d[0].chapter, Some(2));
    }
}
