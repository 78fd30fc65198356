//! Show notes → chapters.
//!
//! Episode descriptions are prose written for people, with a chapter list somewhere in the
//! middle. The parser therefore works line by line and only takes a line as a chapter when
//! its shape says so:
//!
//! * **time first** — the line starts with a timestamp, after an optional bullet (`-`, `*`,
//!   `•`, `・`, `1.`, …) and an optional bracket (`(12:34)`, `[00:41:09]`, `【01:40】`), and
//!   the timestamp is followed by the end of the line, whitespace, a separator or the closing
//!   bracket (so `10:00am` is not one). A separator (`-`, `–`, `—`, `:`, `|`, …) may sit between
//!   the time and the title, and a range `00:00 - 05:30 Title` gives the chapter an end;
//! * **title first** — `Title (12:34)`, `Title [12:34]` or `Title - 12:34` at the end of the
//!   line. Prose ends lines with times too, so this style is only used when the notes have no
//!   time-first line at all and at least two title-first lines.
//!
//! A time inside a sentence is never a chapter. A chapter-shaped line whose timestamp is
//! impossible (`12:75`) becomes a [`ParseIssue`] instead of a chapter.
//!
//! Around the chapter lines:
//!
//! * the link is a Markdown title `[Title](url)`, a URL at the end of the line, a bare URL on
//!   the very next line, or a source line (`Source:`, `Sources:`, `Link:`, `Links:`,
//!   `Reference:`, `出典:`, `参考:`, `参照:` and `参考文献:`-like variants, ASCII or full-width
//!   colon) whose URL is on the same or the next line; the source text becomes the link label.
//!   A source line attaches to the preceding chapter unless a section header (`■…`, `【…`,
//!   `# …`, a rule `---`) came between, or it follows the last chapter after a blank line
//!   (that is a footer, not a chapter's source). The first link of a chapter wins;
//! * the lines directly under a chapter line, up to a blank line, source line, header or the
//!   next chapter, become its description (trimmed lines joined with `\n`).
//!
//! Ambiguity that is flagged ([`IssueKind::AmbiguousTimestamp`]): a two-part time (`1:10`)
//! following a chapter at or past one hour, which goes backwards when read as minutes:seconds
//! but would not when read as hours:minutes — the producer most likely meant `1:10:00`. The
//! chapter is still produced with the strict minutes:seconds reading, so validation also
//! reports the order problem. The same check applies to the end of a range (`1:02:10 - 1:30`).
//!
//! Everything is linear in the input size; no regular expressions, no backtracking.

use super::timestamp::{is_colon_char, is_fraction_char, parse_timestamp, scan_token};
use super::{IssueKind, ParseIssue, Parsed};
use crate::chapter::{Chapter, ChapterList, Link, Origin};
use crate::time::Time;

/// Reads chapters from show notes text (as returned by [`super::decode`], or any `&str`).
///
/// Line numbers in [`Origin`] and [`ParseIssue`] are 1-based and count LF, CRLF and lone CR
/// as one line end each, so they match an editor's view of the decoded text. Titles are
/// kept exactly as written apart from the surrounding whitespace and separator; only
/// timestamps are normalised. Never panics.
pub fn parse_shownotes(text: &str) -> Parsed {
    let text = text.strip_prefix('\u{FEFF}').unwrap_or(text);
    let lines = split_lines(text);
    let mut kinds: Vec<Line<'_>> = lines.iter().map(|l| classify(l)).collect();
    if !kinds.iter().any(|k| matches!(k, Line::TimeFirst(_))) {
        promote_title_first(&mut kinds);
    }
    let last_entry = kinds.iter().rposition(|k| entry(k).is_some());

    let mut b = Builder::default();
    for (i, kind) in kinds.iter().enumerate() {
        let line = i + 1;
        let after_chapter_line = std::mem::take(&mut b.prev_was_chapter);
        if let Some((idx, label)) = b.pending_source.take() {
            if let Line::Url(url) = kind {
                b.attach(idx, url, label);
                continue;
            }
        }
        if let Some(e) = entry(kind) {
            b.chapter(line, e);
            continue;
        }
        match kind {
            Line::Blank => {
                b.desc_open = false;
                b.blank_since = true;
            }
            Line::Header => {
                b.current = None;
                b.desc_open = false;
            }
            Line::Source(src) => {
                b.desc_open = false;
                let footer = b.blank_since && last_entry.is_none_or(|last| i > last);
                let target = b.current.filter(|_| !footer);
                match (target, src.url) {
                    (Some(idx), Some(url)) => b.attach(idx, url, src.label),
                    (Some(idx), None) => b.pending_source = Some((idx, src.label)),
                    (None, _) => {}
                }
            }
            Line::Url(url) => match b.current {
                Some(idx) if after_chapter_line => {
                    b.attach(idx, url, None);
                    b.desc_open = false;
                }
                _ => b.describe(lines.get(i).copied().unwrap_or("")),
            },
            Line::TimeFirst(_) | Line::TitleFirst(_) | Line::Text(_) => {
                b.describe(lines.get(i).copied().unwrap_or(""))
            }
        }
    }
    b.finish()
}

/// The chapter entry of a chapter line.
fn entry<'a>(k: &Line<'a>) -> Option<Entry<'a>> {
    match k {
        Line::TimeFirst(e) | Line::TitleFirst(e) => Some(*e),
        _ => None,
    }
}

/// Turns title-first-shaped lines into chapter lines when they form a list: a candidate
/// counts only when the line right before or right after it is a candidate too, so a lone
/// prose line ending in `(7:30)` never becomes a chapter.
fn promote_title_first(kinds: &mut [Line<'_>]) {
    let is_candidate = |k: Option<&Line<'_>>| {
        k.is_some_and(|k| matches!(k, Line::Text(Some(_)) | Line::TitleFirst(_)))
    };
    let promote: Vec<usize> = (0..kinds.len())
        .filter(|&i| {
            is_candidate(kinds.get(i))
                && (is_candidate(i.checked_sub(1).and_then(|p| kinds.get(p)))
                    || is_candidate(kinds.get(i + 1)))
        })
        .collect();
    for i in promote {
        if let Some(k) = kinds.get_mut(i) {
            if let Line::Text(Some(e)) = *k {
                *k = Line::TitleFirst(e);
            }
        }
    }
}

/// One classified line.
#[derive(Debug, Clone, Copy)]
enum Line<'a> {
    /// Empty or whitespace only.
    Blank,
    /// A section header or rule: ends a chapter's block.
    Header,
    /// A chapter line, timestamp first.
    TimeFirst(Entry<'a>),
    /// A chapter line, title first (only after [`promote_title_first`]).
    TitleFirst(Entry<'a>),
    /// `Source: …` and friends.
    Source(Source<'a>),
    /// A line that is only a URL.
    Url(&'a str),
    /// Anything else; `Some` when it has the title-first chapter shape.
    Text(Option<Entry<'a>>),
}

/// The parts of a chapter-shaped line, as written.
#[derive(Debug, Clone, Copy)]
struct Entry<'a> {
    start: &'a str,
    end: Option<&'a str>,
    title: &'a str,
}

/// The parts of a source line, as written.
#[derive(Debug, Clone, Copy)]
struct Source<'a> {
    label: Option<&'a str>,
    url: Option<&'a str>,
}

/// The walk's state.
#[derive(Default)]
struct Builder<'a> {
    chapters: Vec<Chapter>,
    issues: Vec<ParseIssue>,
    /// The chapter that source lines attach to.
    current: Option<usize>,
    /// Whether the lines that follow are still the current chapter's description.
    desc_open: bool,
    /// A blank line was seen since the current chapter's line.
    blank_since: bool,
    /// The previous line was a chapter line (a bare URL right under it is its link).
    prev_was_chapter: bool,
    /// A source line without a URL, waiting for the URL on the next line.
    pending_source: Option<(usize, Option<&'a str>)>,
}

impl<'a> Builder<'a> {
    fn chapter(&mut self, line: usize, e: Entry<'a>) {
        self.desc_open = false;
        self.blank_since = false;
        self.current = None;
        let start = match parse_timestamp(e.start) {
            Ok(t) => t,
            Err(err) => {
                self.issue(line, e.start, IssueKind::BadTimestamp, err.to_string());
                return;
            }
        };
        if let Some(prev) = self.chapters.last() {
            let prev_written = prev.written_timestamp();
            if let Some(msg) = ambiguity(e.start, start, prev.start, &prev_written) {
                self.issue(line, e.start, IssueKind::AmbiguousTimestamp, msg);
            }
        }
        let end = e.end.and_then(|w| match parse_timestamp(w) {
            Ok(t) => {
                if let Some(msg) = ambiguity(w, t, start, e.start) {
                    self.issue(line, w, IssueKind::AmbiguousTimestamp, msg);
                }
                Some(t)
            }
            Err(err) => {
                self.issue(line, w, IssueKind::BadTimestamp, err.to_string());
                None
            }
        });
        let (title, link) = split_title(e.title);
        self.chapters.push(Chapter {
            start,
            end,
            title,
            link,
            description: None,
            image: None,
            toc: true,
            origin: Some(Origin {
                line,
                timestamp: e.start.to_owned(),
            }),
        });
        self.current = Some(self.chapters.len() - 1);
        self.desc_open = true;
        self.prev_was_chapter = true;
    }

    fn issue(&mut self, line: usize, written: &str, kind: IssueKind, message: String) {
        log::debug!("line {line}: {message}");
        self.issues.push(ParseIssue {
            line,
            timestamp: written.to_owned(),
            kind,
            message,
        });
    }

    fn attach(&mut self, idx: usize, url: &str, label: Option<&str>) {
        let Some(ch) = self.chapters.get_mut(idx) else {
            return;
        };
        if ch.link.is_some() {
            log::debug!(
                "chapter at line {}: keeping its first link, ignoring {url}",
                ch.line().unwrap_or(0)
            );
            return;
        }
        ch.link = Some(Link {
            url: url.to_owned(),
            label: label.map(str::to_owned),
        });
    }

    fn describe(&mut self, raw: &str) {
        if !self.desc_open {
            return;
        }
        let Some(ch) = self.current.and_then(|i| self.chapters.get_mut(i)) else {
            return;
        };
        let line = raw.trim();
        match &mut ch.description {
            Some(d) => {
                d.push('\n');
                d.push_str(line);
            }
            None => ch.description = Some(line.to_owned()),
        }
    }

    fn finish(self) -> Parsed {
        Parsed {
            list: ChapterList::new(self.chapters),
            issues: self.issues,
        }
    }
}

/// Splits on LF, CRLF and lone CR, each one line end, so numbering matches editors.
fn split_lines(text: &str) -> Vec<&str> {
    let bytes = text.as_bytes();
    let mut out = Vec::new();
    let mut start = 0;
    let mut i = 0;
    while i < bytes.len() {
        match bytes.get(i) {
            Some(b'\n') => {
                out.push(text.get(start..i).unwrap_or(""));
                i += 1;
                start = i;
            }
            Some(b'\r') => {
                out.push(text.get(start..i).unwrap_or(""));
                i += if bytes.get(i + 1) == Some(&b'\n') {
                    2
                } else {
                    1
                };
                start = i;
            }
            _ => i += 1,
        }
    }
    out.push(text.get(start..).unwrap_or(""));
    out
}

fn classify(raw: &str) -> Line<'_> {
    let t = raw.trim();
    if t.is_empty() {
        return Line::Blank;
    }
    if let Some(e) = time_first(t) {
        return Line::TimeFirst(e);
    }
    if let Some(s) = source_line(t) {
        return Line::Source(s);
    }
    if let Some(u) = bare_url(t) {
        return Line::Url(u);
    }
    if is_header(t) {
        return Line::Header;
    }
    Line::Text(title_first(t))
}

/// Bullets people put before a chapter line.
const BULLETS: &[char] = &[
    '-', '*', '+', '•', '・', '‣', '◦', '▶', '►', '▸', '▷', '–', '—', '●', '○', '◆', '◇', '■', '□',
    '★', '☆',
];

/// Drops one list marker (`-`, `•`, `1.`, `12)`) and the whitespace after it.
fn strip_bullet(s: &str) -> &str {
    let s = s.trim_start();
    if let Some(c) = s.chars().next() {
        if BULLETS.contains(&c) {
            return s.get(c.len_utf8()..).unwrap_or("").trim_start();
        }
    }
    let digits = s.bytes().take_while(u8::is_ascii_digit).count();
    if (1..=3).contains(&digits) {
        let rest = s.get(digits..).unwrap_or("");
        let mut cs = rest.chars();
        if let (Some('.' | ')'), Some(w)) = (cs.next(), cs.next()) {
            if w.is_whitespace() {
                return rest.get(1..).unwrap_or("").trim_start();
            }
        }
    }
    s
}

/// Opening brackets around a leading timestamp, with their closers.
fn closer_of(c: char) -> Option<char> {
    match c {
        '(' => Some(')'),
        '[' => Some(']'),
        '（' => Some('）'),
        '［' => Some('］'),
        '【' => Some('】'),
        _ => None,
    }
}

/// Closing brackets around a trailing timestamp, with their openers.
fn opener_of(c: char) -> Option<char> {
    match c {
        ')' => Some('('),
        ']' => Some('['),
        '）' => Some('（'),
        '］' => Some('［'),
        '】' => Some('【'),
        _ => None,
    }
}

/// Separators between a time and a title, longest first.
const SEPARATORS: &[&str] = &[
    "->", "=>", "--", "—", "–", "―", "-", "|", "｜", ":", "：", "－",
];

/// Characters that may follow a bare timestamp for the line to be a chapter line.
fn is_boundary(rest: &str) -> bool {
    match rest.chars().next() {
        None => true,
        Some(c) => c.is_whitespace() || SEPARATORS.iter().any(|s| rest.starts_with(s)),
    }
}

fn time_first(line: &str) -> Option<Entry<'_>> {
    let s = strip_bullet(line);
    let first = s.chars().next()?;
    let close = closer_of(first);
    let s = match close {
        Some(_) => s.get(first.len_utf8()..)?.trim_start(),
        None => s,
    };
    let (n, has_colon) = scan_token(s);
    if n == 0 || !has_colon {
        return None;
    }
    let start = s.get(..n)?;
    let mut rest = s.get(n..)?;
    let mut end = None;
    if let Some((e, after)) = range_end(rest, close) {
        end = Some(e);
        rest = after;
    }
    match close {
        Some(c) => {
            rest = rest.trim_start().strip_prefix(c)?;
            // `[00:41:09](https://…&t=2469)`: a deep link into the episode, not a chapter URL.
            if c == ']' {
                if let Some(r) = rest.strip_prefix('(') {
                    if let Some(p) = r.find(')') {
                        if r.get(..p).is_some_and(|u| !u.contains(char::is_whitespace)) {
                            rest = r.get(p + 1..).unwrap_or("");
                        }
                    }
                }
            }
        }
        None if !is_boundary(rest) => return None,
        None => {}
    }
    let title = strip_separator(rest.trim_start()).trim();
    Some(Entry { start, end, title })
}

/// `- 05:30` after a start time: the end of a range.
fn range_end(rest: &str, close: Option<char>) -> Option<(&str, &str)> {
    let r = rest.trim_start();
    let c = r.chars().next()?;
    if !matches!(c, '-' | '–' | '—' | '~' | '〜' | '～') {
        return None;
    }
    let r = r.get(c.len_utf8()..)?.trim_start();
    let (n, has_colon) = scan_token(r);
    if n == 0 || !has_colon {
        return None;
    }
    let after = r.get(n..)?;
    let closes = close.is_some_and(|c| after.trim_start().starts_with(c));
    if !closes && !is_boundary(after) {
        return None;
    }
    Some((r.get(..n)?, after))
}

fn strip_separator(s: &str) -> &str {
    for sep in SEPARATORS {
        if let Some(r) = s.strip_prefix(sep) {
            return r.trim_start();
        }
    }
    s
}

/// Drops a separator (and the whitespace before it) from the end of a title.
fn strip_trailing_separator(s: &str) -> &str {
    let s = s.trim_end();
    for sep in SEPARATORS {
        if let Some(r) = s.strip_suffix(sep) {
            return r.trim_end();
        }
    }
    s
}

fn title_first(line: &str) -> Option<Entry<'_>> {
    let s = strip_bullet(line).trim_end();
    let last = s.chars().next_back()?;
    if let Some(open) = opener_of(last) {
        let body_end = s.len() - last.len_utf8();
        let body = s.get(..body_end)?;
        let open_pos = body.rfind(open)?;
        let inner = body.get(open_pos + open.len_utf8()..)?.trim();
        let (n, has_colon) = scan_token(inner);
        if n != inner.len() || !has_colon {
            return None;
        }
        let title = strip_trailing_separator(body.get(..open_pos)?);
        return (!title.is_empty()).then_some(Entry {
            start: inner,
            end: None,
            title,
        });
    }
    let (ws, w) = s.char_indices().rev().find(|&(_, c)| c.is_whitespace())?;
    let token = s.get(ws + w.len_utf8()..)?;
    let (n, has_colon) = scan_token(token);
    if n != token.len() || !has_colon {
        return None;
    }
    let before = s.get(..ws)?.trim_end();
    let sep = before.chars().next_back()?;
    if !matches!(sep, '-' | '–' | '—' | '―' | '|' | '｜') {
        return None;
    }
    let title = before.get(..before.len() - sep.len_utf8())?.trim_end();
    (!title.is_empty()).then_some(Entry {
        start: token,
        end: None,
        title,
    })
}

/// Section headers and rules: they end a chapter's block.
fn is_header(t: &str) -> bool {
    let Some(first) = t.chars().next() else {
        return false;
    };
    if matches!(
        first,
        '■' | '□' | '◆' | '◇' | '▼' | '▽' | '★' | '☆' | '◎' | '【' | '＜' | '≪' | '《'
    ) {
        return true;
    }
    if first == '#' {
        let rest = t.trim_start_matches('#');
        return rest.is_empty() || rest.starts_with(char::is_whitespace);
    }
    if matches!(first, '-' | '=' | '_' | '*' | '─' | '━' | '—' | '~' | '＝') {
        return t.chars().count() >= 3 && t.chars().all(|c| c == first || c == ' ');
    }
    false
}

/// English source keys (ASCII, any case), longest first so `sources` wins over `source`.
const SOURCE_KEYS_EN: &[&str] = &[
    "references",
    "reference",
    "sources",
    "source",
    "links",
    "link",
];

/// Japanese source key stems; a short suffix is allowed (`参考文献`, `参考リンク`, `出典元`).
const SOURCE_KEYS_JA: &[&str] = &["出典", "参考", "参照"];

/// Longest suffix (in characters) allowed after a Japanese key stem.
const JA_SUFFIX_MAX: usize = 5;

fn source_line(line: &str) -> Option<Source<'_>> {
    let s = strip_bullet(line);
    let after_key = SOURCE_KEYS_EN
        .iter()
        .find_map(|k| {
            let head = s.get(..k.len())?;
            head.eq_ignore_ascii_case(k).then(|| s.get(k.len()..))?
        })
        .or_else(|| {
            SOURCE_KEYS_JA.iter().find_map(|k| {
                let r = s.strip_prefix(k)?;
                let suffix_end = r
                    .char_indices()
                    .take(JA_SUFFIX_MAX + 1)
                    .find(|&(_, c)| matches!(c, ':' | '：') || c.is_whitespace())
                    .map(|(i, _)| i)?;
                r.get(suffix_end..)
            })
        })?;
    let r = after_key.trim_start();
    let rest = r.strip_prefix(':').or_else(|| r.strip_prefix('：'))?.trim();
    if rest.is_empty() {
        return Some(Source {
            label: None,
            url: None,
        });
    }
    if let Some((text, url, prefix)) = trailing_markdown_link(rest) {
        let label = if text.is_empty() { prefix } else { text };
        return Some(Source {
            label: non_empty(label),
            url: Some(url),
        });
    }
    match find_url(rest) {
        Some((p, url)) => {
            let before = strip_trailing_openers(rest.get(..p).unwrap_or(""));
            Some(Source {
                label: non_empty(strip_trailing_separator(before)),
                url: Some(url),
            })
        }
        None => Some(Source {
            label: Some(rest),
            url: None,
        }),
    }
}

fn non_empty(s: &str) -> Option<&str> {
    let s = s.trim();
    (!s.is_empty()).then_some(s)
}

/// A line that is only a URL (optionally bulleted or in `<…>`).
fn bare_url(line: &str) -> Option<&str> {
    let s = strip_bullet(line).trim();
    let s = s
        .strip_prefix('<')
        .and_then(|r| r.strip_suffix('>'))
        .unwrap_or(s);
    let u = trim_url_punct(s);
    (u.len() + 8 >= s.len() && !u.contains(char::is_whitespace) && is_url(u)).then_some(u)
}

/// Splits a raw title into the title as written and its link: a whole-title or trailing
/// Markdown link `[text](url)`, or a trailing bare URL (optionally in brackets).
fn split_title(raw: &str) -> (String, Option<Link>) {
    let raw = raw.trim();
    if let Some((text, url, prefix)) = trailing_markdown_link(raw) {
        let prefix = strip_trailing_separator(prefix);
        let label = non_empty(text).map(str::to_owned);
        let title = if prefix.is_empty() { text } else { prefix };
        return (
            title.to_owned(),
            Some(Link {
                url: url.to_owned(),
                label,
            }),
        );
    }
    if let Some((p, url)) = rfind_url(raw) {
        let title = strip_trailing_separator(strip_trailing_openers(raw.get(..p).unwrap_or("")));
        let title = if title.is_empty() { raw } else { title };
        return (title.to_owned(), Some(Link::new(url)));
    }
    (raw.to_owned(), None)
}

/// `prefix [text](url)` at the end of `s` → `(text, url, prefix)`.
fn trailing_markdown_link(s: &str) -> Option<(&str, &str, &str)> {
    let body = s.strip_suffix(')')?;
    let mid = body.rfind("](")?;
    let url = body.get(mid + 2..)?;
    if url.contains(char::is_whitespace) || !is_url(url) {
        return None;
    }
    let head = body.get(..mid)?;
    let open = head.rfind('[')?;
    let text = head.get(open + 1..)?.trim();
    Some((text, url, head.get(..open)?.trim_end()))
}

fn strip_trailing_openers(s: &str) -> &str {
    s.trim_end()
        .trim_end_matches(['(', '（', '<', '[', '［', '「', '『', '【'])
        .trim_end()
}

/// Byte offsets where `http://` or `https://` (any case) starts a URL in `s`.
fn url_starts(s: &str) -> impl DoubleEndedIterator<Item = usize> + '_ {
    let b = s.as_bytes();
    (0..b.len()).filter(move |&i| {
        let at = |n: usize| b.get(i..i + n);
        let scheme = at(8).is_some_and(|p| p.eq_ignore_ascii_case(b"https://"))
            || at(7).is_some_and(|p| p.eq_ignore_ascii_case(b"http://"));
        let boundary = i == 0 || b.get(i - 1).is_some_and(|c| !c.is_ascii_alphanumeric());
        scheme && boundary
    })
}

/// Where a URL written inside text ends: at whitespace, quotes, angle brackets or Japanese
/// punctuation (notes often run a sentence straight on after a URL).
fn url_end(s: &str) -> usize {
    s.char_indices()
        .find(|&(_, c)| {
            c.is_whitespace()
                || matches!(
                    c,
                    '"' | '<'
                        | '>'
                        | '（'
                        | '）'
                        | '「'
                        | '」'
                        | '『'
                        | '』'
                        | '【'
                        | '】'
                        | '、'
                        | '。'
                )
        })
        .map_or(s.len(), |(i, _)| i)
}

/// The first URL in `s`: its start and the URL text. Linear: a candidate that fails skips
/// every other candidate inside the same run of URL characters.
fn find_url(s: &str) -> Option<(usize, &str)> {
    let mut skip_to = 0;
    for p in url_starts(s) {
        if p < skip_to {
            continue;
        }
        let tail = s.get(p..)?;
        let end = url_end(tail);
        let u = trim_url_punct(tail.get(..end)?);
        if is_url(u) {
            return Some((p, u));
        }
        skip_to = p + end.max(1);
    }
    None
}

/// The URL that ends `s` (only punctuation or closing brackets may follow it).
fn rfind_url(s: &str) -> Option<(usize, &str)> {
    let p = url_starts(s).next_back()?;
    let tail = s.get(p..)?;
    let end = url_end(tail);
    let u = trim_url_punct(tail.get(..end)?);
    let after = tail.get(u.len()..)?;
    let only_closers = after.chars().all(|c| {
        c.is_whitespace() || opener_of(c).is_some() || matches!(c, '>' | '」' | '』' | '.' | '。')
    });
    (only_closers && is_url(u)).then_some((p, u))
}

/// Drops sentence punctuation and unbalanced closing brackets from the end of a URL.
/// Bracket counts are taken once, so a URL ending in a million `)` stays linear.
fn trim_url_punct(mut u: &str) -> &str {
    let count = |c: char| u.chars().filter(|&x| x == c).count();
    let (open_paren, open_square) = (count('('), count('['));
    let (mut close_paren, mut close_square) = (count(')'), count(']'));
    loop {
        let Some(c) = u.chars().next_back() else {
            return u;
        };
        let drop = match c {
            '.' | ',' | ';' | ':' | '!' | '?' | '。' | '、' | '，' | '．' | '>' => true,
            '）' | '」' | '』' | '】' => true,
            ')' if close_paren > open_paren => {
                close_paren -= 1;
                true
            }
            ']' if close_square > open_square => {
                close_square -= 1;
                true
            }
            _ => false,
        };
        if !drop {
            return u;
        }
        u = u.get(..u.len() - c.len_utf8()).unwrap_or("");
    }
}

/// An absolute http(s) URL with a host.
fn is_url(u: &str) -> bool {
    let lower_ok = u
        .get(..8)
        .is_some_and(|p| p.eq_ignore_ascii_case("https://"))
        || u.get(..7)
            .is_some_and(|p| p.eq_ignore_ascii_case("http://"));
    lower_ok
        && url::Url::parse(u).is_ok_and(|p| {
            matches!(p.scheme(), "http" | "https") && p.host_str().is_some_and(|h| !h.is_empty())
        })
}

/// The hours:minutes reading of a two-part time that goes backwards as minutes:seconds.
fn ambiguity(written: &str, t: Time, prev: Time, prev_written: &str) -> Option<String> {
    let colons = written.chars().filter(|&c| is_colon_char(c)).count();
    if colons != 1 || written.chars().any(is_fraction_char) {
        return None;
    }
    const HOUR: u64 = 3_600_000;
    let as_hm = t.as_millis().checked_mul(60)?;
    if prev.as_millis() < HOUR || t >= prev || as_hm < prev.as_millis() {
        return None;
    }
    let (h, m, _, _) = Time::from_millis(as_hm).parts();
    Some(format!(
        "{written} after {prev_written} goes backwards as minutes:seconds; if it means {h} h {m} min, write {h}:{m:02}:00"
    ))
}
