//! `drift`: where the chapters embedded in a file differ from a listed source.

use super::{DRIFT_TOLERANCE, Diagnostic, Rule, Severity, format_span, who};
use crate::chapter::{Chapter, ChapterList};
use crate::limits::MP4_CHPL_TITLE_BYTES;
use crate::time::Time;

const REWRITE: &str = "write the chapters again to bring the file in line with the list";

/// Where the chapters embedded in a file differ from the listed ones (notes, a sidecar):
/// missing and extra chapters, moved starts with the difference, changed titles and URLs.
///
/// Chapters are paired by title first (the nearest start among equal titles), then the rest
/// by equal start, so a retimed chapter reads as "moved" and a retitled one as "changed".
/// All diagnostics are `drift` warnings, referring to the listed chapter (index and line)
/// where there is one.
pub fn drift(embedded: &ChapterList, listed: &ChapterList) -> Vec<Diagnostic> {
    let emb = &embedded.chapters;
    let (pair, used) = pair_chapters(emb, &listed.chapters);
    let mut out = Vec::new();
    for (li, l) in listed.chapters.iter().enumerate() {
        let at = (li + 1, l);
        match pair.get(li).copied().flatten().and_then(|ei| emb.get(ei)) {
            Some(e) => compare(&mut out, at, e),
            None => out.push(warning(
                Some(at),
                None,
                format!(
                    "{}: {} {} is in the list but not in the file",
                    who(li + 1, l),
                    l.written_timestamp(),
                    quoted(&l.title)
                ),
            )),
        }
    }
    for (ei, e) in emb.iter().enumerate() {
        if used.get(ei).copied().unwrap_or(false) {
            continue;
        }
        out.push(warning(
            None,
            Some(e.start.short()),
            format!(
                "the file has a chapter at {} {} that is not in the list",
                e.start,
                quoted(&e.title)
            ),
        ));
    }
    out
}

/// Pairs listed chapters with embedded ones: by title first (the nearest start among equal
/// titles), then the rest by equal start. Returns the embedded index for each listed chapter
/// and which embedded chapters were used.
pub(super) fn pair_chapters(
    emb: &[Chapter],
    listed: &[Chapter],
) -> (Vec<Option<usize>>, Vec<bool>) {
    let mut used = vec![false; emb.len()];
    let mut pair: Vec<Option<usize>> = vec![None; listed.len()];
    let free = |used: &[bool], ei: usize| !used.get(ei).copied().unwrap_or(true);
    for (li, l) in listed.iter().enumerate() {
        let best = emb
            .iter()
            .enumerate()
            .filter(|(ei, e)| free(&used, *ei) && same_title(&e.title, &l.title))
            .min_by_key(|(ei, e)| (e.start.as_millis().abs_diff(l.start.as_millis()), *ei))
            .map(|(ei, _)| ei);
        if let Some(ei) = best {
            take(&mut used, &mut pair, li, ei);
        }
    }
    for (li, l) in listed.iter().enumerate() {
        if pair.get(li).copied().flatten().is_some() {
            continue;
        }
        let found = emb.iter().enumerate().position(|(ei, e)| {
            free(&used, ei)
                && e.start.as_millis().abs_diff(l.start.as_millis()) <= DRIFT_TOLERANCE.as_millis()
        });
        if let Some(ei) = found {
            take(&mut used, &mut pair, li, ei);
        }
    }
    (pair, used)
}

fn take(used: &mut [bool], pair: &mut [Option<usize>], li: usize, ei: usize) {
    if let Some(u) = used.get_mut(ei) {
        *u = true;
    }
    if let Some(p) = pair.get_mut(li) {
        *p = Some(ei);
    }
}

/// The differences between a listed chapter and the embedded one paired with it.
fn compare(out: &mut Vec<Diagnostic>, (idx, l): (usize, &Chapter), e: &Chapter) {
    let w = who(idx, l);
    if e.start.as_millis().abs_diff(l.start.as_millis()) > DRIFT_TOLERANCE.as_millis() {
        out.push(warning(
            Some((idx, l)),
            None,
            format!(
                "{w}: {} starts at {} in the file, {} than the listed {}",
                quoted(&l.title),
                e.start,
                delta_words(e.start, l.start),
                l.written_timestamp()
            ),
        ));
    }
    if !same_title(&e.title, &l.title) {
        out.push(warning(
            Some((idx, l)),
            None,
            format!(
                "{w}: the file has the title {} where the list has {}",
                quoted(&e.title),
                quoted(&l.title)
            ),
        ));
    }
    if !same_url(e.url(), l.url()) {
        let message = match (e.url(), l.url()) {
            (Some(eu), Some(lu)) => {
                format!("{w}: the file links to `{eu}` where the list has `{lu}`")
            }
            (None, Some(lu)) => format!("{w}: the file has no link where the list has `{lu}`"),
            (Some(eu), None) => format!("{w}: the file links to `{eu}`, the list has no link"),
            (None, None) => return,
        };
        out.push(warning(Some((idx, l)), None, message));
    }
}

/// A `drift` warning about the listed chapter `l` (index and line), or about the file.
fn warning(l: Option<(usize, &Chapter)>, ts: Option<String>, message: String) -> Diagnostic {
    Diagnostic {
        severity: Severity::Warning,
        rule: Rule::Drift,
        chapter: l.map(|(i, _)| i),
        line: l.and_then(|(_, c)| c.line()),
        timestamp: ts.or_else(|| l.map(|(_, c)| c.written_timestamp())),
        message,
        hint: Some(REWRITE.to_string()),
    }
}

/// Titles are the same if equal, or if `embedded` is what an MP4 `chpl` keeps of a longer
/// listed title (cut at 255 bytes on a character boundary).
pub(super) fn same_title(embedded: &str, listed: &str) -> bool {
    embedded == listed
        || (listed.len() > MP4_CHPL_TITLE_BYTES
            && embedded.len() + 4 > MP4_CHPL_TITLE_BYTES
            && listed.starts_with(embedded))
}

/// URLs are the same if equal as written or equal once parsed: the ID3 writer stores the
/// punycode form, and reading it back must not look like a change.
fn same_url(a: Option<&str>, b: Option<&str>) -> bool {
    match (a, b) {
        (None, None) => true,
        (Some(a), Some(b)) => {
            a == b || matches!((url::Url::parse(a), url::Url::parse(b)), (Ok(x), Ok(y)) if x == y)
        }
        _ => false,
    }
}

pub(super) fn quoted(title: &str) -> String {
    format!("\"{title}\"")
}

/// Signed difference `embedded - listed` in words: `+1.5 s later`, `0.25 s earlier`.
pub(super) fn delta_words(embedded: Time, listed: Time) -> String {
    if embedded >= listed {
        format!("{} later", format_span(embedded.saturating_sub(listed)))
    } else {
        format!("{} earlier", format_span(listed.saturating_sub(embedded)))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn same_title_accepts_chpl_cut() {
        let long = "é".repeat(200); // 400 bytes
        let cut: String = long.chars().take(127).collect(); // 254 bytes
        assert!(same_title(&cut, &long));
        assert!(!same_title("é", &long));
        assert!(same_title("a", "a"));
    }
}
