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
//!   time-first line at all, and a title-first line counts only when the line directly above
//!   or below it has the same shape (a list, not a stray sentence). `Title 12:34` with no
//!   bracket or separator is not read: too many sentences end that way.
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
//!   (that is a footer, not a chapter's source). The first link of a chapter wins. Links are
//!   http(s) URLs, except that a source line's `scheme://…` link of another scheme
//!   (`Link: ftp://…`) is kept too, so validation reports it (`bad-url`) instead of the
//!   producer's link disappearing silently;
//! * the lines directly under a chapter line, up to a blank line, source line, header or the
//!   next chapter, become its description (trimmed lines joined with `\n`);
//! * in that block (up to a blank line), an image line `Image: art/01.jpg` or a Markdown image
//!   alone on its line `![](art/01.jpg)` is the chapter's image (a path, relative to the notes'
//!   folder, or an `http(s)` URL); the first one wins.
//!
//! Ambiguity that is flagged ([`IssueKind::AmbiguousTimestamp`]): a two-part time (`1:10`)
//! following a chapter at or past one hour, which goes backwards when read as minutes:seconds
//! but would not when read as hours:minutes — the producer most likely meant `1:10:00`. The
//! chapter is still produced with the strict minutes:seconds reading, so validation also
//! reports the order problem. The same check applies to the end of a range (`1:02:10 - 1:30`).
//!
//! Everything is linear in the input size; no regular expressions, no backtracking.

use super::html;
use super::markdown::{self, Markup};
use super::timestamp::{
    is_colon_char, is_digit_char, is_fraction_char, parse_timestamp, scan_token,
};
use super::{IssueKind, NoteKind, ParseIssue, ParseNote, Parsed};
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
    if html::looks_like_html(text) {
        let r = html::render(text);
        return parse_lines(&r.text, Some(&r.lines), Some(Markup::Links));
    }
    let markup = markdown::is_markdown(text).then_some(Markup::Full);
    parse_lines(text, None, markup)
}

/// The line parser. `map` gives the source line of each line of `text` (HTML rendered to
/// lines); `markup` says how titles are rendered (`None`: plain text, kept as written).
fn parse_lines(text: &str, map: Option<&[usize]>, markup: Option<Markup>) -> Parsed {
    let joins = match markup {
        Some(Markup::Full) => Joins::scan(text),
        _ => Joins::default(),
    };

    // Pass 1: which style the notes use. Only one byte per line is kept (a 10 MB file of
    // empty lines must not cost a classified struct per line); pass 2 classifies again.
    let mut last_time_first = None;
    let mut title_shaped: Vec<bool> = Vec::new();
    for (i, raw) in Lines::new(text).enumerate() {
        let Some(raw) = joins.line(i, raw) else {
            title_shaped.push(false);
            continue;
        };
        let (time_first, title_first) = shape(raw);
        if time_first {
            last_time_first = Some(i);
        }
        title_shaped.push(title_first);
    }
    let style = Style {
        time_first: last_time_first.is_some(),
        title_shaped,
    };
    let last_entry = if style.time_first {
        last_time_first
    } else {
        (0..style.title_shaped.len())
            .rev()
            .find(|&i| style.is_title_first_chapter(i))
    };

    // Pass 2: build.
    let mut b = Builder {
        markup,
        map,
        ..Builder::default()
    };
    for (i, raw) in Lines::new(text).enumerate() {
        let Some(raw) = joins.line(i, raw) else {
            continue;
        };
        let mut kind = classify(raw);
        if let Line::Text(Some(e)) = kind {
            if style.is_title_first_chapter(i) {
                kind = Line::TitleFirst(e);
            }
        }
        b.line(i, raw, &kind, last_entry);
    }
    let time_first_lines = b.time_first_lines;
    b.finish(|| {
        // Only when nothing was found: what the notes contain instead, for the message.
        let mut stats = Stats {
            time_first: time_first_lines,
            ..Stats::default()
        };
        for (i, raw) in Lines::new(text).enumerate() {
            if let Some(raw) = joins.line(i, raw) {
                stats.count(i + 1, raw);
            }
        }
        stats
    })
}

impl<'a> Builder<'a> {
    /// One classified line of pass 2.
    fn line(&mut self, i: usize, raw: &'a str, kind: &Line<'a>, last_entry: Option<usize>) {
        let line = i + 1;
        if !matches!(kind, Line::Blank) {
            self.text_lines += 1;
        }
        let after_chapter_line = std::mem::take(&mut self.prev_was_chapter);
        if self.take_title(kind, raw) {
            return;
        }
        if let Some((idx, label)) = self.pending_source.take() {
            if let Line::Url(url) = kind {
                self.attach(idx, url, label);
                return;
            }
        }
        if let Some(e) = entry(kind) {
            self.time_first_lines += 1;
            self.chapter(line, e);
            if self.chapters.len() == 1 && self.first_nested.is_none() {
                let nested = raw.starts_with([' ', '\t']) && markdown::is_list_item(raw);
                self.first_nested = Some(nested || has_time(e.title));
            }
            return;
        }
        if let Some(idx) = self.current.filter(|_| !self.blank_since)
            && let Some(reference) = image_line(trim_line(raw))
        {
            if let Some(ch) = self.chapters.get_mut(idx)
                && ch.image.is_none()
            {
                ch.image = Some(reference.to_owned());
            }
            return;
        }
        match kind {
            Line::Blank => {
                self.desc_open = false;
                self.blank_since = true;
            }
            Line::Header => {
                self.current = None;
                self.desc_open = false;
            }
            Line::Source(src) => {
                self.desc_open = false;
                let footer = self.blank_since && last_entry.is_none_or(|last| i > last);
                let target = self.current.filter(|_| !footer);
                match (target, src.url) {
                    (Some(idx), Some(url)) => self.attach(idx, url, src.label),
                    (Some(idx), None) => self.pending_source = Some((idx, src.label)),
                    (None, _) => {}
                }
            }
            Line::Url(url) => match self.current {
                Some(idx) if after_chapter_line => {
                    self.attach(idx, url, None);
                    self.desc_open = false;
                }
                _ => self.describe(raw),
            },
            Line::Text(_) if self.reference(raw) => {}
            Line::TimeFirst(_) | Line::TitleFirst(_) | Line::Text(_) => self.describe(raw),
        }
    }
}

/// The chapter entry of a chapter line.
fn entry<'a>(k: &Line<'a>) -> Option<Entry<'a>> {
    match k {
        Line::TimeFirst(e) | Line::TitleFirst(e) => Some(*e),
        _ => None,
    }
}

/// Which chapter style the notes use, decided from the whole text.
struct Style {
    /// At least one time-first line: title-first lines are then prose.
    time_first: bool,
    /// Per line: has the title-first shape.
    title_shaped: Vec<bool>,
}

impl Style {
    /// A title-first-shaped line is a chapter only in notes without time-first lines, and only
    /// when the line right before or after it has the same shape (a list), so a lone prose
    /// line ending in `(7:30)` never becomes a chapter.
    fn is_title_first_chapter(&self, i: usize) -> bool {
        let shaped = |j: Option<usize>| {
            j.and_then(|j| self.title_shaped.get(j))
                .copied()
                .unwrap_or(false)
        };
        !self.time_first
            && shaped(Some(i))
            && (shaped(i.checked_sub(1)) || shaped(i.checked_add(1)))
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
    /// A chapter line, title first (only when [`Style`] says the notes use that style).
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
    /// A link around the time that is not a seek into the episode: the chapter's URL when
    /// the title has none.
    time_url: Option<&'a str>,
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
    /// How titles are written (`None`: plain text).
    markup: Option<Markup>,
    /// Source line of each text line, for notes rendered from HTML.
    map: Option<&'a [usize]>,
    /// A chapter whose time stood alone, waiting for its title on a following line, and the
    /// blank lines seen since.
    pending_title: Option<(usize, u8)>,
    /// Chapters whose title was taken from a following line.
    guessed: Vec<usize>,
    /// Non-blank lines seen.
    text_lines: usize,
    /// Lines read as chapter lines (those with impossible times included).
    time_first_lines: usize,
    /// Whether the first chapter line reads like a time in passing: a nested list item, or a
    /// title with another time in it (`- 9:47 に発生し 11:00 には回復`).
    first_nested: Option<bool>,
    notes: Vec<ParseNote>,
}

impl<'a> Builder<'a> {
    fn chapter(&mut self, line: usize, e: Entry<'a>) {
        let line = self.src_line(line);
        self.pending_title = None;
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
        let (title, mut link) = self.title(e.title);
        if link.is_none() {
            link = e.time_url.map(Link::new);
        }
        if title.is_empty() {
            self.pending_title = Some((self.chapters.len(), 0));
        }
        self.chapters.push(Chapter {
            start,
            end,
            title,
            link,
            description: None,
            image: None,
            picture: None,
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

    /// The source line of text line `line` (1-based).
    fn src_line(&self, line: usize) -> usize {
        self.map
            .and_then(|m| m.get(line.wrapping_sub(1)).copied())
            .unwrap_or(line)
    }

    /// Title and link of a chapter line, rendered as the notes are written.
    fn title(&self, raw: &str) -> (String, Option<Link>) {
        match self.markup {
            None => split_title(raw),
            Some(m) => markup_title(raw, m),
        }
    }

    /// A time that stood alone on its line takes the next text line (after at most two
    /// blank lines) as its title, said in a note since it is a guess. Returns whether the
    /// line was used up.
    fn take_title(&mut self, kind: &Line<'a>, raw: &str) -> bool {
        let Some((idx, blanks)) = self.pending_title else {
            return false;
        };
        match kind {
            Line::Blank if blanks < 2 => {
                self.pending_title = Some((idx, blanks + 1));
                false
            }
            Line::Text(_) | Line::Url(_) | Line::Header => {
                self.pending_title = None;
                let text = trim_line(raw);
                let text = match kind {
                    Line::Header => match markdown::heading_text(text) {
                        Some(h) if !has_time(h) => h,
                        _ => return false,
                    },
                    _ => strip_bullet(text),
                };
                let (title, link) = self.title(text);
                let Some(ch) = self.chapters.get_mut(idx).filter(|_| !title.is_empty()) else {
                    return false;
                };
                let line = ch.line().unwrap_or(0);
                let message = format!(
                    "the time {} stands alone; its title is taken from the next line: {title}",
                    ch.written_timestamp()
                );
                log::info!("line {line}: {message}");
                ch.title = title;
                if ch.link.is_none() {
                    ch.link = link;
                }
                self.guessed.push(idx);
                self.notes.push(ParseNote {
                    line,
                    kind: NoteKind::GuessedTitle,
                    message,
                });
                self.desc_open = true;
                true
            }
            _ => {
                self.pending_title = None;
                false
            }
        }
    }

    /// An indented list item under a chapter that is only a link (`  - [Docs](https://…)`)
    /// is a reference for that chapter, like a `Source:` line: its first one becomes the
    /// chapter's link when the title has none.
    fn reference(&mut self, raw: &str) -> bool {
        let (Some(idx), Some(m)) = (self.current, self.markup) else {
            return false;
        };
        let indented = raw.starts_with([' ', '\t']);
        if !indented || !markdown::is_list_item(raw) {
            return false;
        }
        let item = strip_bullet(trim_line(raw));
        let (shown, link) = markdown::render_inline(item, m);
        match link {
            Some(l) if shown.trim() == l.text => {
                let label = Some(l.text.as_str()).filter(|t| !t.is_empty());
                self.attach(idx, &l.url, label);
                true
            }
            _ => false,
        }
    }

    fn finish(mut self, stats: impl FnOnce() -> Stats) -> Parsed {
        let dropped = self.drop_backward_guesses();
        let lone = self.drop_lone_chapter();
        if self.chapters.is_empty() {
            let message = stats().explain(dropped, lone);
            log::info!("no chapters: {message}");
            self.notes.push(ParseNote {
                line: 0,
                kind: NoteKind::NoChapters,
                message,
            });
        }
        Parsed {
            list: ChapterList::new(self.chapters),
            issues: self.issues,
            notes: self.notes,
        }
    }

    /// Times standing alone whose following lines were taken as titles must run forward
    /// with the other chapters: a list of times that jumps back and forth is a list of
    /// references (to moments of other episodes), not this episode's chapters. Returns the
    /// line of the first such time when they were dropped.
    fn drop_backward_guesses(&mut self) -> Option<(usize, usize)> {
        let starts: Vec<_> = self.chapters.iter().map(|c| c.start).collect();
        let backward = self.guessed.iter().any(|&g| {
            let here = starts.get(g);
            let before = g.checked_sub(1).and_then(|p| starts.get(p));
            let after = starts.get(g + 1);
            before.is_some_and(|b| Some(b) > here) || after.is_some_and(|a| Some(a) < here)
        });
        if !backward {
            return None;
        }
        let first = self
            .guessed
            .first()
            .and_then(|&g| self.chapters.get(g)?.line());
        let n = self.guessed.len();
        let guessed = std::mem::take(&mut self.guessed);
        let mut i = 0;
        self.chapters.retain(|_| {
            i += 1;
            !guessed.contains(&(i - 1))
        });
        self.notes.retain(|n| n.kind != NoteKind::GuessedTitle);
        Some((n, first.unwrap_or(0)))
    }

    /// One chapter line in a long text, not at 0:00, nested in a list or with a second time
    /// in its text, is a time mentioned in passing (`  - 9:47 に発生し 11:00 には回復`), not a
    /// chapter list. Returns its line when dropped.
    fn drop_lone_chapter(&mut self) -> Option<usize> {
        let lone = match self.chapters.as_slice() {
            [only] => only.start != Time::ZERO && self.first_nested == Some(true),
            _ => false,
        };
        if !lone || self.text_lines < LONE_CHAPTER_TEXT_LINES {
            return None;
        }
        let line = self.chapters.first().and_then(Chapter::line).unwrap_or(0);
        self.chapters.clear();
        Some(line)
    }
}

/// Non-blank lines from which a single chapter line no longer makes a chapter list.
const LONE_CHAPTER_TEXT_LINES: usize = 10;

/// Title and link of a Markdown (or HTML-rendered) chapter line: the visible text, with the
/// first link as the chapter's URL. A trailing link after a separator (`Further reading:
/// [the post](…)`) keeps today's reading: the text before is the title, the link its URL
/// with the link text as label.
fn markup_title(raw: &str, m: Markup) -> (String, Option<Link>) {
    let raw = raw.trim();
    if let Some((text, url, prefix)) = trailing_markdown_link(raw) {
        let bare = strip_trailing_separator(prefix);
        if prefix.is_empty() || bare.len() < prefix.trim_end().len() {
            let label = markdown::render_inline(text, m).0;
            let title = if bare.is_empty() {
                label.clone()
            } else {
                markdown::render_inline(bare, m).0
            };
            let label = non_empty(&label).map(str::to_owned);
            return (
                title.trim().to_owned(),
                Some(Link {
                    url: url.to_owned(),
                    label,
                }),
            );
        }
    }
    let (shown, link) = markdown::render_inline(raw, m);
    match link {
        // An autolink `<https://…>` reads like a bare URL: at the end it is the link.
        Some(l) if l.text == l.url => split_title(&shown),
        Some(l) => (shown.trim().to_owned(), Some(Link::new(l.url))),
        None => split_title(&shown),
    }
}

/// What pass 1 saw, to say why there are no chapters when there are none.
#[derive(Default)]
struct Stats {
    lines: usize,
    nonblank: usize,
    time_first: usize,
    /// Lines with a time inside the text, and the first of them.
    inside: usize,
    first_inside: Option<(usize, String)>,
    /// Lines with `[@m:ss]`-style links.
    at_links: usize,
}

impl Stats {
    fn count(&mut self, line: usize, raw: &str) {
        self.lines = line;
        let t = trim_line(raw);
        if t.is_empty() {
            return;
        }
        self.nonblank += 1;
        if !t.contains(|c: char| is_colon_char(c)) || time_first(t).is_some() {
            return;
        }
        if t.contains("[@") && has_time(t) {
            self.at_links += 1;
        }
        if has_time(t) {
            self.inside += 1;
            if self.first_inside.is_none() {
                let shown: String = t.chars().take(60).collect();
                self.first_inside = Some((line, shown));
            }
        }
    }

    fn explain(&self, dropped: Option<(usize, usize)>, lone: Option<usize>) -> String {
        let mut s = format!(
            "{} lines ({} not blank), {} start with a time",
            self.lines, self.nonblank, self.time_first
        );
        if let Some(line) = lone {
            s.push_str(&format!(
                "; the only one (line {line}) is a time mentioned in a long text, not a chapter list"
            ));
        }
        if let Some((n, line)) = dropped {
            s.push_str(&format!(
                "; {n} times stand alone on their lines (from line {line}) but run backwards, so they read as references, not chapters"
            ));
        }
        if self.at_links > 0 {
            s.push_str(&format!(
                "; {} lines contain `[@m:ss]` links not at the start of the line",
                self.at_links
            ));
        }
        match &self.first_inside {
            Some((line, text)) => s.push_str(&format!(
                "; {} lines have a time inside the text (line {line}: `{text}`), which is not a chapter",
                self.inside
            )),
            None => s.push_str("; no other line has a time in its text"),
        }
        s
    }
}

/// A `m:ss`-shaped time anywhere in `s`, not part of a longer number (`2024:`) or a date.
fn has_time(s: &str) -> bool {
    let mut prev: Option<char> = None;
    for (i, c) in s.char_indices() {
        if is_digit_char(c) && !prev.is_some_and(|p| is_digit_char(p) || is_colon_char(p)) {
            let (n, colon) = scan_token(s.get(i..).unwrap_or(""));
            if colon && s.get(i..i + n).is_some_and(|t| parse_timestamp(t).is_ok()) {
                return true;
            }
        }
        prev = Some(c);
    }
    false
}

/// Markdown list items that run on over the next lines (`- [@09:09] - Sean: "…going from`
/// / `   600k developers…"`) are one line to a reader: continuation lines are joined to the
/// chapter line they continue, and HTML comments (templates) are skipped. Sparse, so plain
/// text costs nothing: the joined text per chapter line, one flag per line otherwise.
#[derive(Default)]
struct Joins {
    joined: std::collections::HashMap<usize, String>,
    skip: Vec<bool>,
}

impl Joins {
    fn scan(text: &str) -> Joins {
        let mut j = Joins::default();
        let (mut comment, mut fence) = (false, false);
        let mut lines = Lines::new(text).peekable();
        while let Some(raw) = lines.next() {
            let i = j.skip.len();
            let t = raw.trim();
            if comment || t.starts_with("<!--") {
                comment = !t.contains("-->");
                j.skip.push(true);
                continue;
            }
            j.skip.push(false);
            if t.starts_with("```") || t.starts_with("~~~") {
                fence = !fence;
            }
            if fence || markdown::is_heading(raw) {
                continue;
            }
            let Some(e) = time_first(trim_line(raw)) else {
                continue;
            };
            if !wrapped(raw, e.title) {
                continue;
            }
            let mut joined: Option<String> = None;
            while let Some(next) = lines.next_if(|n| continues(n)) {
                let text = joined.get_or_insert_with(|| raw.trim_end().to_string());
                text.push(' ');
                text.push_str(next.trim());
                j.skip.push(true);
            }
            if let Some(text) = joined {
                j.joined.insert(i, text);
            }
        }
        j
    }

    /// Line `i` as the parser should see it; `None` when it was joined into another line.
    fn line<'s>(&'s self, i: usize, raw: &'s str) -> Option<&'s str> {
        if self.skip.is_empty() {
            return Some(raw);
        }
        if self.skip.get(i).copied().unwrap_or(false) {
            return None;
        }
        if self.joined.is_empty() {
            return Some(raw);
        }
        Some(self.joined.get(&i).map_or(raw, String::as_str))
    }
}

/// Whether a chapter line was broken by the editor and runs on in the next line: a link
/// or quote left open, no title yet, or a line as long as editors wrap at. A short, complete
/// chapter line followed by text keeps that text as its description.
fn wrapped(raw: &str, title: &str) -> bool {
    let open = |o: char, c: char| title.matches(o).count() > title.matches(c).count();
    title.is_empty()
        || open('[', ']')
        || open('(', ')')
        || title.matches('"').count() % 2 == 1
        || raw.trim_end().chars().count() >= WRAP_COLUMN
}

/// Lines at least this long are taken as wrapped by an editor when text follows directly.
const WRAP_COLUMN: usize = 60;

/// A Markdown line that continues the list item or paragraph above it.
fn continues(line: &str) -> bool {
    let t = trim_line(line);
    !t.is_empty()
        && !markdown::is_list_item(line)
        && !markdown::is_heading(line)
        && !t.starts_with(['>', '|', '<', '#'])
        && !t.starts_with("```")
        && !is_header(t)
        && time_first(t).is_none()
        && source_line(t).is_none()
        && bare_url(t).is_none()
}

/// Lines split on LF, CRLF and lone CR, each one line end, so numbering matches editors.
/// A text ending in a line end has a final empty line, as editors show it.
struct Lines<'a> {
    text: &'a str,
    pos: usize,
    done: bool,
}

impl<'a> Lines<'a> {
    fn new(text: &'a str) -> Self {
        Lines {
            text,
            pos: 0,
            done: false,
        }
    }
}

impl<'a> Iterator for Lines<'a> {
    type Item = &'a str;

    fn next(&mut self) -> Option<&'a str> {
        if self.done {
            return None;
        }
        let rest = self.text.get(self.pos..).unwrap_or("");
        match rest.find(['\n', '\r']) {
            Some(i) => {
                let line = rest.get(..i).unwrap_or("");
                let crlf = rest.get(i..i + 2) == Some("\r\n");
                self.pos += i + if crlf { 2 } else { 1 };
                Some(line)
            }
            None => {
                self.done = true;
                Some(rest)
            }
        }
    }
}

/// `(time first, title-first shaped)` for a line: what [`classify`] would say, without the
/// work of reading sources and URLs (pass 1 only needs the shape).
fn shape(raw: &str) -> (bool, bool) {
    let t = trim_line(raw);
    if t.is_empty() {
        return (false, false);
    }
    if time_first(t).is_some() || markdown::heading_text(t).and_then(title_first).is_some() {
        return (true, false);
    }
    let title_shaped = title_first(t).is_some()
        && !is_header(t)
        && source_line(t).is_none()
        && bare_url(t).is_none();
    (false, title_shaped)
}

/// A chapter's image line: `Image: art/01.jpg` (any case) or a Markdown image alone on the
/// line, `![alt](art/01.jpg)` (an optional `"title"` and `<…>` around the target allowed).
/// Returns the reference (a path or URL) when it is one word.
fn image_line(t: &str) -> Option<&str> {
    let reference = if let Some(rest) = t.strip_prefix("![") {
        let (_, target) = rest.split_once("](")?;
        let target = target.strip_suffix(')')?.trim();
        let target = target.split_once([' ', '\t']).map_or(target, |(t, _)| t);
        target
            .strip_prefix('<')
            .and_then(|t| t.strip_suffix('>'))
            .unwrap_or(target)
    } else {
        let (key, value) = t.split_at_checked(6)?;
        if !key.eq_ignore_ascii_case("image:") {
            return None;
        }
        value.trim()
    };
    (!reference.is_empty() && !reference.contains(char::is_whitespace)).then_some(reference)
}

/// Surrounding whitespace plus the invisible characters pasted text carries (a BOM in the
/// middle of concatenated files, zero-width spaces from web editors).
fn trim_line(raw: &str) -> &str {
    raw.trim_matches(|c: char| {
        c.is_whitespace() || matches!(c, '\u{FEFF}' | '\u{200B}' | '\u{2060}')
    })
}

fn classify(raw: &str) -> Line<'_> {
    let t = trim_line(raw);
    if t.is_empty() {
        return Line::Blank;
    }
    if let Some(e) = time_first(t) {
        return Line::TimeFirst(e);
    }
    // `### Nginx のアーキテクチャ(7:26~)`: a heading that ends in its time.
    if let Some(e) = markdown::heading_text(t).and_then(title_first) {
        return Line::TimeFirst(e);
    }
    // Before source lines: `■参考: …` is a section of its own, not a chapter's source.
    if is_header(t) {
        return Line::Header;
    }
    if let Some(s) = source_line(t) {
        return Line::Source(s);
    }
    if let Some(u) = bare_url(t) {
        return Line::Url(u);
    }
    Line::Text(title_first(t))
}

/// Bullets people put before a chapter line.
const BULLETS: &[char] = &[
    '-', '*', '+', '•', '・', '‣', '◦', '▶', '►', '▸', '▷', '–', '—', '●', '○', '◆', '◇', '■', '□',
    '★', '☆',
];

/// Drops one list marker (`-`, `•`, `1.`, `12)`, or a symbol/emoji such as `▶️`, `⏱`, `※`)
/// and the whitespace after it.
fn strip_bullet(s: &str) -> &str {
    let s = s.trim_start();
    if let Some(c) = s.chars().next() {
        let symbol = !c.is_ascii()
            && !c.is_alphanumeric()
            && !c.is_whitespace()
            && closer_of(c).is_none()
            && !matches!(c, '「' | '『' | '“' | '‘' | '«' | '\u{FEFF}');
        if BULLETS.contains(&c) || symbol {
            // Emoji presentation selectors and joiners belong to the bullet.
            return s
                .get(c.len_utf8()..)
                .unwrap_or("")
                .trim_start_matches(['\u{FE0F}', '\u{FE0E}', '\u{200D}', '\u{20E3}'])
                .trim_start();
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
        '「' => Some('」'),
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
    let s = markdown::heading_text(line).unwrap_or(line);
    let s = strip_bullet(s);
    // `**[00:00](#t=00:00)** Welcome`: emphasis around the time.
    let (s, opened) = strip_emphasis(s, |c| matches!(c, '[' | '(' | '@') || is_digit_char(c));
    let first = s.chars().next()?;
    let close = closer_of(first);
    let s = match close {
        Some(_) => s.get(first.len_utf8()..)?.trim_start(),
        None => s,
    };
    // `[(00:12:34)](https://…&t=754s)`: a bracketed time as a link's text.
    let inner = s.strip_prefix('(').filter(|_| close == Some(']'));
    let s = inner.map_or(s, str::trim_start);
    // `[@0:00]`, `(@0:00)`, `@0:00`: "at".
    let s = s.strip_prefix('@').unwrap_or(s);
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
    } else {
        rest = strip_from_marker(rest);
    }
    if inner.is_some() {
        rest = rest.trim_start().strip_prefix(')')?;
    }
    let mut time_url = None;
    match close {
        Some(c) => {
            rest = rest.trim_start().strip_prefix(c)?;
            // `[00:41:09](https://…&t=2469)`: a deep link into the episode, not a chapter
            // URL; a link elsewhere is the chapter's URL unless the title has one.
            if c == ']' {
                if let Some(r) = rest.strip_prefix('(') {
                    if let Some(p) = r.find(')') {
                        let target = r.get(..p).unwrap_or("");
                        if !target.contains(char::is_whitespace) {
                            if !is_seek(target) && is_url(target) {
                                time_url = Some(target);
                            }
                            rest = r.get(p + 1..).unwrap_or("");
                        }
                    }
                }
            }
            rest = strip_from_marker(rest.trim_start_matches(['*', '_']));
        }
        None => {
            rest = rest.trim_start_matches(['*', '_']);
            if !is_boundary(rest) {
                return None;
            }
        }
    }
    let mut title = strip_separator(rest.trim_start()).trim();
    if let Some(run) = opened.filter(|run| title.matches(run).count() == 1) {
        // `**00:00 - Intro**`: the emphasis closes at the end of the title.
        title = title.strip_suffix(run).map_or(title, str::trim_end);
    }
    Some(Entry {
        start,
        end,
        title,
        time_url,
    })
}

/// Drops Markdown emphasis (`**`, `__`, `*`, `_`) opening a line when `then` accepts the
/// character after it; returns the rest and the run dropped.
fn strip_emphasis(s: &str, then: impl Fn(char) -> bool) -> (&str, Option<&str>) {
    let r = s.trim_start_matches(['*', '_']);
    let run = s.get(..s.len() - r.len()).unwrap_or("");
    if !run.is_empty() && run.len() <= 3 && r.chars().next().is_some_and(then) {
        (r, Some(run))
    } else {
        (s, None)
    }
}

/// The Japanese "from" mark after a time (`1:10:30~ Title`, `0:00 ~ : intro`, `(4:30〜)`),
/// when it does not start a range.
fn strip_from_marker(rest: &str) -> &str {
    let r = rest.trim_start();
    let Some(c) = r.chars().next().filter(|c| matches!(c, '~' | '〜' | '～')) else {
        return rest;
    };
    let after = r.get(c.len_utf8()..).unwrap_or("");
    if after.trim_start().chars().next().is_some_and(is_digit_char) {
        return rest;
    }
    after
}

/// A link target that seeks into the episode rather than pointing elsewhere: an anchor
/// (`#t=00:39`) or a `t=` parameter (`?t=495`, `&t=3910s`).
fn is_seek(target: &str) -> bool {
    target.starts_with('#')
        || ["?t=", "&t=", "#t=", "?start=", "&start="]
            .iter()
            .any(|k| target.contains(k))
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

/// True when a title written right after a timestamp would lose its first characters to
/// [`strip_separator`] or to the "from" mark (`00:00 ~`); the description writer then puts an
/// explicit ` - ` in between.
pub(crate) fn title_needs_separator(title: &str) -> bool {
    SEPARATORS.iter().any(|sep| title.starts_with(sep)) || title.starts_with(['~', '〜', '～'])
}

/// True when `title url` on a chapter line reads back as exactly this title and URL. When it
/// does not (a title ending in `:` or `(`), the description writer puts the URL on a
/// `Link:` line instead.
pub(crate) fn url_appends_cleanly(title: &str, url: &str) -> bool {
    let (t, link) = split_title(&format!("{title} {url}"));
    t == title && link.is_some_and(|l| l.url == url)
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
        let inner = inner.trim_end_matches(['~', '〜', '～']).trim_end();
        let (n, has_colon) = scan_token(inner);
        if n != inner.len() || !has_colon {
            return None;
        }
        let title = strip_trailing_separator(body.get(..open_pos)?);
        return (!title.is_empty()).then_some(Entry {
            start: inner,
            end: None,
            title,
            time_url: None,
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
        time_url: None,
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
    match find_url(rest).or_else(|| find_other_scheme_url(rest)) {
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
    if !has_http_scheme(s) || s.len() > MAX_URL_LEN + 16 {
        return None;
    }
    let u = trim_url_punct(s);
    (!u.contains(char::is_whitespace) && is_url(u)).then_some(u)
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
        let before = strip_trailing_openers(raw.get(..p).unwrap_or(""));
        // A title that is only a separator-like character (`:`) stays as written.
        let title = match strip_trailing_separator(before) {
            "" if before.is_empty() => raw,
            "" => before,
            t => t,
        };
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

/// The first `scheme://…` link with a scheme other than http(s) (`ftp://`, `sftp://`), for
/// source lines only: the line says it is a link, so it is kept and validation reports it as
/// `bad-url`, instead of the producer's link vanishing from the chapter without a word.
fn find_other_scheme_url(s: &str) -> Option<(usize, &str)> {
    let sep = s.find("://")?;
    let head = s.get(..sep)?;
    // The scheme is the run of scheme characters right before `://`, starting with a letter.
    let mut start = sep;
    for (i, c) in head.char_indices().rev() {
        if c.is_ascii_alphanumeric() || matches!(c, '+' | '-' | '.') {
            start = i;
        } else {
            break;
        }
    }
    let scheme_len = sep - start;
    if !head
        .get(start..)?
        .starts_with(|c: char| c.is_ascii_alphabetic())
    {
        return None;
    }
    let tail = s.get(start..)?;
    let u = trim_url_punct(tail.get(..url_end(tail))?);
    (u.len() > scheme_len + 3 && u.len() <= MAX_URL_LEN).then_some((start, u))
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

/// Longest URL we take as a chapter link. Real ones are far shorter; the cap keeps a
/// pathological megabyte-long "URL" from being parsed at all.
const MAX_URL_LEN: usize = 8192;

/// Starts with `http://` or `https://`, in any case.
fn has_http_scheme(u: &str) -> bool {
    u.get(..8)
        .is_some_and(|p| p.eq_ignore_ascii_case("https://"))
        || u.get(..7)
            .is_some_and(|p| p.eq_ignore_ascii_case("http://"))
}

/// An absolute http(s) URL with a host, of sane length.
fn is_url(u: &str) -> bool {
    u.len() <= MAX_URL_LEN
        && has_http_scheme(u)
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn image_lines_under_a_chapter() {
        let notes = "00:00 Intro\nImage: art/01.jpg\nImage: second.jpg\n\
                     05:00 Two\nA few words.\n![cover art](<art/two.png> \"Two\")\n\
                     10:00 Three\n\nImage: footer.jpg\n\
                     12:00 Four\nImage: has spaces.jpg\n![](https://x.test/4.jpg)\n";
        let p = parse_shownotes(notes);
        let got: Vec<_> = p.list.chapters.iter().map(|c| c.image.as_deref()).collect();
        assert_eq!(
            got,
            [
                Some("art/01.jpg"),
                Some("art/two.png"),
                None,
                Some("https://x.test/4.jpg")
            ]
        );
        assert_eq!(
            p.list.chapters[1].description.as_deref(),
            Some("A few words.")
        );
        assert_eq!(
            p.list.chapters[3].description.as_deref(),
            Some("Image: has spaces.jpg")
        );
    }
    use crate::format::text::NoteKind;

    fn starts(p: &Parsed) -> Vec<(u64, &str)> {
        p.list
            .chapters
            .iter()
            .map(|c| (c.start.as_millis(), c.title.as_str()))
            .collect()
    }

    #[test]
    fn line_splitting_counts_every_line_end_once() {
        let split = |s| Lines::new(s).collect::<Vec<_>>();
        assert_eq!(split("a\r\nb\rc\nd"), vec!["a", "b", "c", "d"]);
        assert_eq!(split(""), vec![""]);
        assert_eq!(split("\r\r\n"), vec!["", "", ""]);
    }

    #[test]
    fn separators_and_none() {
        for (line, title) in [
            ("01:40 Title", "Title"),
            ("01:40 - Title", "Title"),
            ("01:40 – Title", "Title"),
            ("01:40 — Title", "Title"),
            ("01:40: Title", "Title"),
            ("01:40 : Title", "Title"),
            ("01:40 | Title", "Title"),
            ("01:40｜Title", "Title"),
            ("01:40\tTitle", "Title"),
            ("01:40　タイトル", "タイトル"),
            ("01:40 -- Title - with - dashes", "Title - with - dashes"),
            ("▶️ 01:40 Title", "Title"),
            ("⏱01:40 Title", "Title"),
            ("「01:40」Title", "Title"),
            ("\u{200B}01:40 Title\u{FEFF}", "Title"),
        ] {
            let p = parse_shownotes(line);
            assert_eq!(starts(&p), vec![(100_000, title)], "{line:?}");
        }
    }

    #[test]
    fn not_chapter_lines() {
        for line in [
            "10:00am is early",
            "10:00から収録しました",
            "recorded at 7:30 in the evening",
            "2024: the year in review",
            "1.30 minutes",
            "v1:2",
        ] {
            let p = parse_shownotes(line);
            assert!(p.list.is_empty() && p.issues.is_empty(), "{line:?}: {p:?}");
        }
    }

    #[test]
    fn empty_title_is_kept_for_validation_to_report() {
        let p = parse_shownotes("0:00\n1:00 Next");
        assert_eq!(starts(&p), vec![(0, ""), (60_000, "Next")]);
    }

    #[test]
    fn title_first_needs_a_list() {
        let p = parse_shownotes("Intro (0:00)\nOutro (12:75)\nEnd - 13:00");
        assert_eq!(starts(&p), vec![(0, "Intro"), (780_000, "End")]);
        assert_eq!(p.issues.len(), 1);
        assert_eq!(p.issues[0].line, 2);
        assert_eq!(p.issues[0].kind, IssueKind::BadTimestamp);
        // One line is not a list.
        assert!(parse_shownotes("Doors open (19:30)").list.is_empty());
        // Time-first notes ignore title-first lines.
        let p = parse_shownotes("0:00 Intro\nThe show starts (0:00)\nBreak (5:00)");
        assert_eq!(starts(&p), vec![(0, "Intro")]);
    }

    #[test]
    fn ambiguous_range_end() {
        let p = parse_shownotes("1:02:10 - 1:30 Late segment");
        assert_eq!(p.list.chapters[0].end, Some(Time::from_secs(90)));
        assert_eq!(p.issues.len(), 1);
        assert_eq!(p.issues[0].kind, IssueKind::AmbiguousTimestamp);
        assert_eq!(p.issues[0].timestamp, "1:30");
        // Below an hour nothing is ambiguous, even going backwards (validation reports order).
        let p = parse_shownotes("30:00 A\n1:10 B");
        assert!(p.issues.is_empty());
        // A fraction says minutes:seconds explicitly.
        let p = parse_shownotes("1:02:10 A\n1:10.000 B");
        assert!(p.issues.is_empty());
    }

    #[test]
    fn first_link_wins_and_sources_stop_at_headers() {
        let p = parse_shownotes(
            "0:00 A https://a.example/\nSource: https://b.example/\n■Credits\nSource: https://c.example/",
        );
        assert_eq!(p.list.chapters[0].url(), Some("https://a.example/"));
        let p = parse_shownotes("0:00 A\n# Links\nLink: https://c.example/");
        assert_eq!(p.list.chapters[0].url(), None);
        let p = parse_shownotes("0:00 A\n■参考：https://c.example/");
        assert_eq!(p.list.chapters[0].url(), None);
        // A source line without URL followed by prose: nothing attaches.
        let p = parse_shownotes("0:00 A\n出典: 某誌\n本文です。\nhttps://late.example/");
        assert_eq!(p.list.chapters[0].url(), None);
        // A source line with a non-http link attaches it for validation to report (bad-url).
        let p = parse_shownotes("0:00 A\nLink: ftp://example.com/a.pdf\n5:00 B");
        assert_eq!(p.list.chapters[0].url(), Some("ftp://example.com/a.pdf"));
        assert_eq!(p.list.chapters[1].url(), None);
        // Blank lines between a chapter and its source, before the next chapter: attaches.
        let p = parse_shownotes("0:00 A\n\nSource: https://a.example/\n\n5:00 B");
        assert_eq!(p.list.chapters[0].url(), Some("https://a.example/"));
    }

    #[test]
    fn source_label_forms() {
        let s = source_line("Source: [The Gap](https://a.example/gap)").map(|s| (s.label, s.url));
        assert_eq!(s, Some((Some("The Gap"), Some("https://a.example/gap"))));
        let s =
            source_line("- 参考リンク：記事（https://a.example/x）。").map(|s| (s.label, s.url));
        assert_eq!(s, Some((Some("記事"), Some("https://a.example/x"))));
        let s = source_line("※出典：某誌 https://a.example/z").map(|s| (s.label, s.url));
        assert_eq!(s, Some((Some("某誌"), Some("https://a.example/z"))));
        let s = source_line("sources : https://a.example/").map(|s| (s.label, s.url));
        assert_eq!(s, Some((None, Some("https://a.example/"))));
        // Another scheme is still the producer's link: kept, so validation can report it.
        let s = source_line("Link: ftp://example.com/interview.pdf").map(|s| (s.label, s.url));
        assert_eq!(s, Some((None, Some("ftp://example.com/interview.pdf"))));
        let s = source_line("出典：資料 (sftp://files.example/a.pdf)。").map(|s| (s.label, s.url));
        assert_eq!(s, Some((Some("資料"), Some("sftp://files.example/a.pdf"))));
        // An http(s) link on the line wins; text without `scheme://` stays a label.
        let s = source_line("Links: ftp://a.example/x https://b.example/").map(|s| s.url);
        assert_eq!(s, Some(Some("https://b.example/")));
        for label in [
            "Source: 某誌",
            "Source: ://nothing",
            "Source: 9p://x",
            "Link: ftp://",
        ] {
            assert_eq!(source_line(label).and_then(|s| s.url), None, "{label}");
        }
        assert!(source_line("Sourcecode: x").is_none());
        assert!(source_line("参考になれば幸いです：x").is_none());
    }

    #[test]
    fn urls_in_titles() {
        assert_eq!(
            split_title("Read this: https://a.example/p?q=1."),
            (
                "Read this".to_owned(),
                Some(Link::new("https://a.example/p?q=1"))
            )
        );
        // A URL in the middle of a title stays part of the title.
        let (t, l) = split_title("See https://a.example/ for more");
        assert_eq!((t.as_str(), l), ("See https://a.example/ for more", None));
        // A title that is only a URL keeps it as the title too.
        let (t, l) = split_title("https://a.example/");
        assert_eq!(t, "https://a.example/");
        assert_eq!(l.map(|l| l.url), Some("https://a.example/".to_owned()));
        // Not a URL without a host.
        assert_eq!(split_title("x https://").1, None);
    }

    fn titled(p: &Parsed) -> Vec<(u64, &str, Option<&str>)> {
        p.list
            .chapters
            .iter()
            .map(|c| (c.start.as_millis(), c.title.as_str(), c.url()))
            .collect()
    }

    #[test]
    fn links_emphasis_and_at_around_the_time() {
        for (line, title) in [
            ("* **[00:39](#t=00:39)** Welcome", "Welcome"),
            ("- [@0:39] - Welcome", "Welcome"),
            ("(@0:39) Welcome", "Welcome"),
            ("@0:39 Welcome", "Welcome"),
            ("- **0:39 - Welcome**", "Welcome"),
            ("- [@0:39](https://youtu.be/x?t=39) Welcome", "Welcome"),
            ("[(0:39)](https://youtu.be/x?t=39) Welcome", "Welcome"),
            ("#### 0:39 Welcome", "Welcome"),
            ("### Welcome(0:39~)", "Welcome"),
            ("- 0:39~ Welcome", "Welcome"),
            ("- 0:39 ~ : Welcome", "Welcome"),
            ("- 0:39 ~: Welcome", "Welcome"),
            ("（0:39〜）Welcome", "Welcome"),
        ] {
            let p = parse_shownotes(&format!("## Notes\n{line}"));
            assert_eq!(titled(&p), vec![(39_000, title, None)], "{line:?}");
        }
        // A link around the time to another page is the chapter's URL.
        let p = parse_shownotes("- [0:39](https://other.example/) Welcome");
        assert_eq!(
            titled(&p),
            vec![(39_000, "Welcome", Some("https://other.example/"))]
        );
        // Still strict: `12:75` is an issue naming the line, prose times are not chapters.
        let p = parse_shownotes("## Notes\n- [@12:75] - Broken\nWe met at 10:00 sharp.");
        assert!(p.list.is_empty());
        assert_eq!(
            (p.issues[0].line, p.issues[0].kind),
            (2, IssueKind::BadTimestamp)
        );
        let p = parse_shownotes("## Notes\n- 18:00~21:00に放送\n- 29:45あたりの説明");
        assert!(p.list.is_empty(), "{:?}", titled(&p));
    }

    #[test]
    fn markdown_titles_read_as_rendered() {
        let p = parse_shownotes(
            "## Show Notes\n\
             - 0:00 Brought to you by [Sentry](https://sentry.example/).\n\
             - 1:00 [TPS546](https://ti.example/) voltage regulator\n\
             - 2:00 Further reading: [the post](https://blog.example/)\n\
             - 3:00 `async-std` and **more**",
        );
        assert_eq!(
            titled(&p),
            vec![
                (
                    0,
                    "Brought to you by Sentry.",
                    Some("https://sentry.example/")
                ),
                (
                    60_000,
                    "TPS546 voltage regulator",
                    Some("https://ti.example/")
                ),
                (120_000, "Further reading", Some("https://blog.example/")),
                (180_000, "async-std and more", None),
            ]
        );
        // Plain text keeps its characters.
        let p = parse_shownotes("0:00 `x` and **y** &amp; z");
        assert_eq!(titled(&p), vec![(0, "`x` and **y** &amp; z", None)]);
    }

    #[test]
    fn wrapped_items_and_references_belong_to_their_chapter() {
        let p = parse_shownotes(
            "## Notes\n\
             - [@1:00] - [A Critical\n  Retrospective](https://a.example/) by bunnie\n\
             - [@2:00] - Short\n  - [Docs](https://docs.example/)\n\
             - [@3:00] - Short\n  a description line",
        );
        assert_eq!(
            titled(&p),
            vec![
                (
                    60_000,
                    "A Critical Retrospective by bunnie",
                    Some("https://a.example/")
                ),
                (120_000, "Short", Some("https://docs.example/")),
                (180_000, "Short", None),
            ]
        );
        assert_eq!(
            p.list.chapters[2].description.as_deref(),
            Some("a description line")
        );
    }

    #[test]
    fn a_time_alone_takes_the_next_line_as_title() {
        let p = parse_shownotes("2:00\n\n* What is new?\n\n3:00\n\n## Contest\n\n4:00\n5:00 Next");
        assert_eq!(
            titled(&p),
            vec![
                (120_000, "What is new?", None),
                (180_000, "Contest", None),
                (240_000, "", None),
                (300_000, "Next", None)
            ]
        );
        let notes: Vec<_> = p.notes.iter().map(|n| (n.line, n.kind)).collect();
        assert_eq!(
            notes,
            vec![(1, NoteKind::GuessedTitle), (5, NoteKind::GuessedTitle)]
        );
        // Times that run backwards are references to other episodes, not chapters.
        let p = parse_shownotes(
            "- ep32\n  - 49:17 ~\n  - Ad\n- ep50\n  - 2:21:50 ~\n  - Verdict\n- ep64\n  - 1:53:47 ~\n  - Appeal",
        );
        assert!(p.list.is_empty(), "{:?}", titled(&p));
        let seen = &p.notes.last().map(|n| (n.kind, n.message.clone()));
        assert!(
            seen.as_ref()
                .is_some_and(|(k, m)| *k == NoteKind::NoChapters && m.contains("run backwards")),
            "{seen:?}"
        );
    }

    #[test]
    fn html_notes() {
        let p = parse_shownotes(
            "00:00 Intro<br />01:00 <a href=\"https://x.example/\">Second</a><br />",
        );
        assert_eq!(
            titled(&p),
            vec![
                (0, "Intro", None),
                (60_000, "Second", Some("https://x.example/"))
            ]
        );
        let p = parse_shownotes("<p><span>(00:00:35) Das M&auml;rchen der Skalierung</span></p>");
        assert_eq!(
            titled(&p),
            vec![(35_000, "Das Märchen der Skalierung", None)]
        );
    }

    #[test]
    fn empty_notes_say_what_they_contain() {
        let text = "Recorded live.\n\nThe stream starts at 20:00 UTC.\n- a\n- b\n- c\n- d\n- e\n- f\n- g\n  - 9:47 it broke, 11:00 it was fixed\n";
        let p = parse_shownotes(text);
        assert!(p.list.is_empty(), "{:?}", titled(&p));
        let msg = &p
            .notes
            .last()
            .map(|n| n.message.clone())
            .unwrap_or_default();
        assert!(
            msg.starts_with("12 lines (10 not blank), 1 start with a time"),
            "{msg}"
        );
        assert!(
            msg.contains("the only one (line 11) is a time mentioned in a long text"),
            "{msg}"
        );
        assert!(
            msg.contains("line 3: `The stream starts at 20:00 UTC.`"),
            "{msg}"
        );
    }

    #[test]
    fn headers() {
        for h in [
            "■今回のトピック",
            "【出演】",
            "# Links",
            "## Chapters",
            "---",
            "＝＝＝",
            "━━━━",
        ] {
            assert!(is_header(h), "{h}");
        }
        for t in ["#hashtag", "-- x", "普通の文"] {
            assert!(!is_header(t), "{t}");
        }
    }
}
