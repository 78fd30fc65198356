//! HTML show notes → the line-shaped text the notes parser reads.
//!
//! Feeds carry episode descriptions as HTML (`<description>`, `content:encoded`): chapters
//! sit in `<p>` paragraphs separated by `<br />`, in `<li>` items, wrapped in `<span>` or
//! `<strong>`, with `<a href>` around the time or the title, entities and CDATA. Rather than a
//! second parser, the HTML is rendered to the lines a reader sees — block elements and `<br>`
//! end a line, list items become `- ` bullets (indented by nesting), headings become `#`
//! headings, links become Markdown links `[text](url)` — and the one line parser reads those.
//! Tokenising is html5ever's (entities, malformed markup, comments); a feed element around the
//! HTML (`<description>…</description>`, XML-escaped or CDATA) is unwrapped with quick-xml's
//! unescaper first.

use html5ever::tendril::StrTendril;
use html5ever::tokenizer::{
    BufferQueue, TagKind, Token, TokenSink, TokenSinkResult, Tokenizer, TokenizerOpts,
};
use std::cell::RefCell;

/// Rendered HTML: the text, and for each of its lines (0-based) the 1-based source line.
#[derive(Debug, Default)]
pub(crate) struct Rendered {
    pub text: String,
    pub lines: Vec<usize>,
}

/// Tags that end a line before and after them.
const BLOCKS: &[&str] = &[
    "p",
    "div",
    "ul",
    "ol",
    "li",
    "h1",
    "h2",
    "h3",
    "h4",
    "h5",
    "h6",
    "table",
    "tr",
    "td",
    "th",
    "blockquote",
    "pre",
    "section",
    "article",
    "header",
    "footer",
    "dl",
    "dt",
    "dd",
    "hr",
    "figure",
    "figcaption",
    "main",
    "aside",
    "nav",
];

/// Feed elements that carry an episode description.
const FEED_ELEMENTS: &[&str] = &[
    "description",
    "content:encoded",
    "itunes:summary",
    "summary",
    "content",
    "media:description",
];

/// Whether `text` is HTML rather than plain or Markdown notes: it starts with a tag, a CDATA
/// section or a feed element, or it is mostly lines broken by `<br>`/`</p>`/`</li>` (a
/// pasted description on one line). A Markdown file mentioning `<script>` in prose is not.
pub(crate) fn looks_like_html(text: &str) -> bool {
    let t = text.trim_start_matches('\u{FEFF}').trim_start();
    if t.starts_with("<![CDATA[") {
        return true;
    }
    if let Some(rest) = t.strip_prefix('<') {
        let name: String = rest
            .chars()
            .take_while(|c| c.is_ascii_alphanumeric() || *c == ':')
            .collect::<String>()
            .to_ascii_lowercase();
        if BLOCKS.contains(&name.as_str())
            || FEED_ELEMENTS.contains(&name.as_str())
            || matches!(
                name.as_str(),
                "br" | "a" | "span" | "strong" | "b" | "em" | "i" | "!--"
            )
            || rest.starts_with("!--")
        {
            return true;
        }
    }
    if !t.contains('<') {
        return false;
    }
    let lower = t.to_ascii_lowercase();
    let breaks = ["<br", "</p>", "</li>", "</div>"]
        .iter()
        .map(|m| lower.matches(m).count())
        .sum::<usize>();
    let lines = t.lines().filter(|l| !l.trim().is_empty()).count();
    breaks > 0 && breaks * 2 >= lines
}

/// Renders HTML notes (optionally wrapped in a feed element or CDATA) to lines.
pub(crate) fn render(text: &str) -> Rendered {
    let (html, offset) = unwrap_feed_element(text);
    let html = html.replace("<![CDATA[", "").replace("]]>", "");
    let sink = Sink::default();
    let input = BufferQueue::default();
    input.push_back(StrTendril::from_slice(&html));
    let tok = Tokenizer::new(sink, TokenizerOpts::default());
    let _ = tok.feed(&input);
    tok.end();
    let mut st = tok.sink.state.into_inner();
    st.flush();
    while st.out.last().is_some_and(|(_, l)| l.is_empty()) {
        st.out.pop();
    }
    let mut out = Rendered::default();
    for (line, s) in st.out {
        out.text.push_str(&s);
        out.text.push('\n');
        out.lines.push(line + offset);
    }
    out
}

/// `<description>…</description>` as written in a feed: its content (CDATA kept for the
/// caller, XML entities of escaped HTML decoded) and the number of source lines before it.
fn unwrap_feed_element(text: &str) -> (String, usize) {
    let t = text.trim_start_matches('\u{FEFF}');
    let lead = t.len() - t.trim_start().len();
    let body = t.trim();
    let Some(rest) = body.strip_prefix('<') else {
        return (text.to_string(), 0);
    };
    let name: String = rest
        .chars()
        .take_while(|c| c.is_ascii_alphanumeric() || *c == ':')
        .collect();
    if !FEED_ELEMENTS.contains(&name.to_ascii_lowercase().as_str()) {
        return (text.to_string(), 0);
    }
    let (Some(open_end), Some(close)) = (body.find('>'), body.rfind("</")) else {
        return (text.to_string(), 0);
    };
    let Some(inner) = body.get(open_end + 1..close).filter(|_| close > open_end) else {
        return (text.to_string(), 0);
    };
    let offset = t
        .get(..lead + open_end + 1)
        .unwrap_or("")
        .matches('\n')
        .count();
    if inner.trim_start().starts_with("<![CDATA[") {
        return (inner.to_string(), offset);
    }
    match quick_xml::escape::unescape(inner) {
        Ok(s) => (s.into_owned(), offset),
        Err(_) => (inner.to_string(), offset),
    }
}

#[derive(Default)]
struct Sink {
    state: RefCell<State>,
}

#[derive(Default)]
struct State {
    /// Finished lines with their 1-based source line.
    out: Vec<(usize, String)>,
    buf: String,
    /// Source line where `buf` started.
    buf_line: usize,
    /// Current source line.
    line: usize,
    /// List nesting.
    depth: usize,
    /// Open links: target and where their text starts in `buf`.
    links: Vec<(Option<String>, usize)>,
    /// Inside `<script>`/`<style>`: text is not shown.
    hidden: usize,
    /// The last pushed line was a paragraph break.
    blank: bool,
}

impl State {
    fn flush(&mut self) {
        if self.buf.trim().is_empty() {
            self.buf.clear();
            return;
        }
        let s = std::mem::take(&mut self.buf);
        self.out
            .push((self.buf_line.max(1), s.trim_end().to_string()));
        self.links.iter_mut().for_each(|l| l.1 = 0);
        self.blank = false;
    }

    /// A paragraph break: a blank line, once.
    fn paragraph(&mut self) {
        self.flush();
        if !self.blank && !self.out.is_empty() {
            self.out.push((self.line.max(1), String::new()));
            self.blank = true;
        }
    }

    fn push_text(&mut self, s: &str) {
        if self.hidden > 0 {
            return;
        }
        for c in s.chars() {
            if c == '\n' {
                // A line break in the source text: producers who paste plain-text chapter
                // lists into a feed mean it as one.
                self.flush();
                self.line += 1;
                continue;
            }
            if self.buf.is_empty() {
                if c.is_whitespace() {
                    continue;
                }
                self.buf_line = self.line;
            }
            self.buf.push(c);
        }
    }

    fn start_line_with(&mut self, prefix: &str) {
        self.flush();
        self.buf_line = self.line;
        self.buf.push_str(prefix);
    }

    fn tag(&mut self, kind: TagKind, name: &str, href: Option<String>) {
        let start = kind == TagKind::StartTag;
        match name {
            "script" | "style" | "head" | "title" => {
                self.hidden = if start {
                    self.hidden + 1
                } else {
                    self.hidden.saturating_sub(1)
                };
            }
            "br" => {
                if self.buf.trim().is_empty() {
                    self.paragraph();
                } else {
                    self.flush();
                }
            }
            "p" | "div" | "blockquote" | "pre" | "table" | "section" | "article" | "hr" => {
                self.paragraph()
            }
            "ul" | "ol" => {
                self.flush();
                self.depth = if start {
                    self.depth + 1
                } else {
                    self.depth.saturating_sub(1)
                };
                if !start && self.depth == 0 {
                    self.paragraph();
                }
            }
            "li" if start => {
                let indent = "  ".repeat(self.depth.saturating_sub(1));
                self.start_line_with(&format!("{indent}- "));
            }
            "h1" | "h2" | "h3" | "h4" | "h5" | "h6" if start => {
                self.paragraph();
                let level = name[1..].parse::<usize>().unwrap_or(1);
                self.start_line_with(&format!("{} ", "#".repeat(level)));
            }
            "a" if start => {
                let at = self.buf.len();
                self.links.push((href, at));
            }
            "a" => self.close_link(),
            n if BLOCKS.contains(&n) => self.flush(),
            _ => {}
        }
    }

    /// `</a>`: the link text becomes `[text](url)` when the target is a web link and the text
    /// is not the URL itself.
    fn close_link(&mut self) {
        let Some((Some(url), at)) = self.links.pop() else {
            return;
        };
        let Some(text) = self.buf.get(at..).map(str::to_string) else {
            return;
        };
        let shown = text.trim();
        let web = url.starts_with("http://") || url.starts_with("https://");
        if !web || shown.is_empty() || shown == url || url.contains(char::is_whitespace) {
            return;
        }
        let lead = &text[..text.len() - text.trim_start().len()];
        let md = format!("{lead}[{shown}]({url})");
        self.buf.truncate(at);
        if self.buf.is_empty() && !md.trim().is_empty() {
            self.buf_line = self.line;
        }
        self.buf.push_str(&md);
    }
}

impl TokenSink for Sink {
    type Handle = ();

    fn process_token(&self, token: Token, line_number: u64) -> TokenSinkResult<()> {
        let mut st = self.state.borrow_mut();
        if st.line == 0 {
            st.line = 1;
        }
        match token {
            Token::CharacterTokens(s) => st.push_text(&s),
            Token::TagToken(tag) => {
                st.line = usize::try_from(line_number).unwrap_or(st.line).max(st.line);
                let name = tag.name.to_ascii_lowercase();
                let href = tag
                    .attrs
                    .iter()
                    .find(|a| &*a.name.local == "href")
                    .map(|a| a.value.trim().to_string());
                st.tag(tag.kind, &name, href);
            }
            _ => {}
        }
        TokenSinkResult::Continue
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn breaks_blocks_and_links() {
        let r = render("00:00 Intro<br />01:00 <a href=\"https://x.example/\">Second</a><br />");
        assert_eq!(r.text, "00:00 Intro\n01:00 [Second](https://x.example/)\n");
        let r =
            render("<p><span>(00:00:35) Das M&auml;rchen</span></p><ul><li>a</li><li>b</li></ul>");
        assert_eq!(r.text, "(00:00:35) Das Märchen\n\n- a\n- b\n");
        let r = render("<description>&lt;p&gt;0:00 A&lt;br&gt;\n1:00 B&lt;/p&gt;</description>");
        assert_eq!(r.text, "0:00 A\n1:00 B\n");
        assert_eq!(r.lines, vec![1, 2]);
        let r = render("<![CDATA[<h2>Kapitel</h2><p>0:00 A &amp; B</p>]]>");
        assert_eq!(r.text, "## Kapitel\n\n0:00 A & B\n");
    }

    #[test]
    fn detection() {
        assert!(looks_like_html("<p>00:00 Intro</p>"));
        assert!(looks_like_html("00:00 Intro<br />01:00 Second<br />"));
        assert!(!looks_like_html(
            "# Notes\n\n- 00:00 Intro\n- 01:00 Files can include `<script>`\n"
        ));
        assert!(!looks_like_html("00:00 Intro\n01:00 Second"));
    }
}
