//! The Markdown that podcast sites keep their show notes in, as far as chapter lines need it.
//!
//! A chapter title written in Markdown is shown to listeners rendered: `[Overtone](https://…)`
//! reads "Overtone", `` `async-std` `` reads "async-std", `**bold**` reads "bold", `&mdash;`
//! reads "—". [`render_inline`] produces that visible text and the first link (which becomes
//! the chapter's URL). Everything else in the title is kept exactly as written.
//!
//! Rendering only applies to notes that are Markdown ([`is_markdown`]): plain-text notes keep
//! their asterisks, brackets and ampersands, which there are simply characters.

/// Whether the notes are Markdown: a heading line (`## Show Notes`) or a Markdown link to a
/// web page or a seek anchor (`[text](https://…)`, `[00:00](#t=00:00)`).
pub(crate) fn is_markdown(text: &str) -> bool {
    text.contains("](http://")
        || text.contains("](https://")
        || text.contains("](#t=")
        || ((text.starts_with('#') || text.contains("\n#")) && text.lines().any(is_heading))
}

/// `#` to `######`, a space, and text.
pub(crate) fn is_heading(line: &str) -> bool {
    heading_text(line).is_some()
}

/// The text of a Markdown heading line, without its `#` marker.
pub(crate) fn heading_text(line: &str) -> Option<&str> {
    let t = line.trim_start();
    let hashes = t.bytes().take_while(|&b| b == b'#').count();
    if !(1..=6).contains(&hashes) {
        return None;
    }
    let rest = t.get(hashes..)?;
    let text = rest.trim();
    (rest.starts_with([' ', '\t']) && !text.is_empty()).then_some(text)
}

/// A list item marker at the start of a Markdown line (`-`, `*`, `+`, `1.`, `1)` followed by
/// a space), after any indentation.
pub(crate) fn is_list_item(line: &str) -> bool {
    let t = line.trim_start();
    let mut cs = t.chars();
    match cs.next() {
        Some('-' | '*' | '+' | '•') => cs.next().is_none_or(char::is_whitespace),
        Some(c) if c.is_ascii_digit() => {
            let digits = t.bytes().take_while(u8::is_ascii_digit).count();
            let rest = t.get(digits..).unwrap_or("");
            rest.starts_with(". ") || rest.starts_with(") ")
        }
        _ => false,
    }
}

/// A link found while rendering: target and visible text.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct FoundLink {
    pub url: String,
    pub text: String,
}

/// What to render: `Full` for Markdown notes; `Links` for notes rendered from HTML, where
/// only the `[text](url)` links the HTML renderer wrote are markup.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Markup {
    Full,
    Links,
}

/// The visible text of a Markdown inline span and its first web link.
pub(crate) fn render_inline(s: &str, markup: Markup) -> (String, Option<FoundLink>) {
    let mut out = String::with_capacity(s.len());
    let mut link = None;
    render_into(s, markup, &mut out, &mut link, 0);
    (out, link)
}

/// Nesting limit for links inside emphasis inside links: real titles nest once or twice.
const MAX_DEPTH: usize = 8;

fn render_into(
    s: &str,
    markup: Markup,
    out: &mut String,
    link: &mut Option<FoundLink>,
    depth: usize,
) {
    let full = markup == Markup::Full && depth < MAX_DEPTH;
    let mut i = 0;
    while let Some(c) = s.get(i..).and_then(|r| r.chars().next()) {
        let rest = s.get(i..).unwrap_or("");
        let step = match c {
            '[' if depth < MAX_DEPTH => inline_link(rest, markup, out, link, depth),
            '\\' if full => escape(rest, out),
            '`' if full => code_span(rest, out),
            '&' if full => entity(rest, out),
            '<' if full => autolink(rest, out, link),
            '*' | '_' if full => emphasis(s, i, markup, out, link, depth),
            _ => None,
        };
        match step {
            Some(n) => i += n,
            None => {
                out.push(c);
                i += c.len_utf8();
            }
        }
    }
}

/// `[text](dest)` at the start of `rest`: renders the text, records the link, returns the
/// bytes consumed. Not a link (no `(` right after `]`, whitespace in the destination): `None`.
fn inline_link(
    rest: &str,
    markup: Markup,
    out: &mut String,
    link: &mut Option<FoundLink>,
    depth: usize,
) -> Option<usize> {
    let close = matching(rest, '[', ']')?;
    let text = rest.get(1..close)?;
    let after = rest.get(close + 1..)?;
    if !after.starts_with('(') {
        return None;
    }
    let paren = matching(after, '(', ')')?;
    let dest = after.get(1..paren)?.trim();
    let dest = dest
        .strip_prefix('<')
        .and_then(|d| d.strip_suffix('>'))
        .unwrap_or(dest);
    if dest.is_empty() || dest.contains(char::is_whitespace) {
        return None;
    }
    let mut shown = String::new();
    let mut inner = None;
    render_into(text, markup, &mut shown, &mut inner, depth + 1);
    let web = dest.starts_with("http://") || dest.starts_with("https://");
    if link.is_none() && web {
        *link = Some(FoundLink {
            url: dest.to_string(),
            text: shown.trim().to_string(),
        });
    } else if link.is_none() {
        *link = inner;
    }
    out.push_str(&shown);
    Some(close + 1 + paren + 1)
}

/// Byte index of the bracket closing the one `s` starts with (nesting counted).
fn matching(s: &str, open: char, close: char) -> Option<usize> {
    let mut depth = 0usize;
    let mut escaped = false;
    for (i, c) in s.char_indices() {
        if escaped {
            escaped = false;
            continue;
        }
        if c == '\\' {
            escaped = true;
        } else if c == open {
            depth += 1;
        } else if c == close {
            depth = depth.checked_sub(1)?;
            if depth == 0 {
                return Some(i);
            }
        }
    }
    None
}

/// `\*` → `*` for ASCII punctuation.
fn escape(rest: &str, out: &mut String) -> Option<usize> {
    let c = rest.get(1..)?.chars().next()?;
    if !c.is_ascii_punctuation() {
        return None;
    }
    out.push(c);
    Some(2)
}

/// `` `code` `` → `code` (the run of backticks must be closed by a run of the same length).
fn code_span(rest: &str, out: &mut String) -> Option<usize> {
    let ticks = rest.bytes().take_while(|&b| b == b'`').count();
    let body = rest.get(ticks..)?;
    let fence = "`".repeat(ticks);
    let mut from = 0;
    loop {
        let at = from + body.get(from..)?.find(&fence)?;
        let run = body.get(at..)?.bytes().take_while(|&b| b == b'`').count();
        if run == ticks {
            let inner = body.get(..at)?;
            let inner = match (inner.strip_prefix(' '), inner.ends_with(' ')) {
                (Some(s), true) if !s.trim().is_empty() => s.strip_suffix(' ').unwrap_or(s),
                _ => inner,
            };
            out.push_str(inner);
            return Some(ticks + at + ticks);
        }
        from = at + run;
    }
}

/// `<https://…>` → the URL, recorded as a link.
fn autolink(rest: &str, out: &mut String, link: &mut Option<FoundLink>) -> Option<usize> {
    let end = rest.find('>')?;
    let url = rest.get(1..end)?;
    if !(url.starts_with("http://") || url.starts_with("https://"))
        || url.contains(char::is_whitespace)
    {
        return None;
    }
    if link.is_none() {
        *link = Some(FoundLink {
            url: url.to_string(),
            text: url.to_string(),
        });
    }
    out.push_str(url);
    Some(end + 1)
}

/// `&mdash;`, `&#8230;`, `&#x2014;` → the character.
fn entity(rest: &str, out: &mut String) -> Option<usize> {
    let end = rest.get(..rest.len().min(12))?.find(';')?;
    let name = rest.get(1..end)?;
    let c = if let Some(num) = name.strip_prefix('#') {
        let v = match num.strip_prefix(['x', 'X']) {
            Some(hex) => u32::from_str_radix(hex, 16).ok()?,
            None => num.parse::<u32>().ok()?,
        };
        char::from_u32(v).filter(|&c| c != '\0')?
    } else {
        named_entity(name)?
    };
    out.push(c);
    Some(end + 1)
}

fn named_entity(name: &str) -> Option<char> {
    Some(match name {
        "amp" => '&',
        "lt" => '<',
        "gt" => '>',
        "quot" => '"',
        "apos" => '\'',
        "nbsp" => '\u{a0}',
        "mdash" => '—',
        "ndash" => '–',
        "hellip" => '…',
        "lsquo" => '‘',
        "rsquo" => '’',
        "ldquo" => '“',
        "rdquo" => '”',
        "laquo" => '«',
        "raquo" => '»',
        "middot" => '·',
        "times" => '×',
        "copy" => '©',
        "reg" => '®',
        "trade" => '™',
        "euro" => '€',
        "auml" => 'ä',
        "ouml" => 'ö',
        "uuml" => 'ü',
        "Auml" => 'Ä',
        "Ouml" => 'Ö',
        "Uuml" => 'Ü',
        "szlig" => 'ß',
        "eacute" => 'é',
        _ => return None,
    })
}

/// `*em*`, `**strong**`, `_em_`, `__strong__` → the inner text, when the delimiter run opens
/// (no space after it; for `_` not inside a word) and a run of the same length closes it.
fn emphasis(
    s: &str,
    i: usize,
    markup: Markup,
    out: &mut String,
    link: &mut Option<FoundLink>,
    depth: usize,
) -> Option<usize> {
    let rest = s.get(i..)?;
    let d = rest.chars().next()?;
    let run = rest.chars().take_while(|&c| c == d).count();
    if run > 3 {
        return None;
    }
    let before = s.get(..i)?.chars().next_back();
    let after = rest.get(run..)?.chars().next()?;
    if after.is_whitespace() || (d == '_' && before.is_some_and(char::is_alphanumeric)) {
        return None;
    }
    let body = rest.get(run..)?;
    let delim: String = std::iter::repeat_n(d, run).collect();
    let mut from = 0;
    while let Some(at) = body
        .get(from..)
        .and_then(|b| b.find(&delim))
        .map(|a| a + from)
    {
        let prev = body.get(..at)?.chars().next_back();
        let next = body.get(at + run..)?.chars().next();
        let same_run = next == Some(d);
        let closes = prev.is_some_and(|p| !p.is_whitespace())
            && !same_run
            && !(d == '_' && next.is_some_and(char::is_alphanumeric));
        if closes && at > 0 {
            render_into(body.get(..at)?, markup, out, link, depth + 1);
            return Some(run + at + run);
        }
        from = at + run;
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;

    fn text(s: &str) -> String {
        render_inline(s, Markup::Full).0
    }

    #[test]
    fn links_emphasis_code_entities() {
        let (t, l) = render_inline("What is [Overtone](https://overtone.pro/)?", Markup::Full);
        assert_eq!(t, "What is Overtone?");
        assert_eq!(l.map(|l| l.url), Some("https://overtone.pro/".to_string()));
        assert_eq!(
            text("Part 2: `async-std` w/ Yoshua"),
            "Part 2: async-std w/ Yoshua"
        );
        assert_eq!(
            text("LLVM 18 brings `*128` ABI change"),
            "LLVM 18 brings *128 ABI change"
        );
        assert_eq!(
            text("_A Programmer's Brain_, by F."),
            "A Programmer's Brain, by F."
        );
        assert_eq!(text("really&mdash;I don't"), "really—I don't");
        assert_eq!(text("That's &#8230; challenging"), "That's … challenging");
        assert_eq!(
            text("[video] [Linux.conf.au](https://a.example/) x"),
            "[video] Linux.conf.au x"
        );
        assert_eq!(
            text("snake_case_name and 2 * 3 * 4"),
            "snake_case_name and 2 * 3 * 4"
        );
        assert_eq!(text("[a](https://x.example/ ) b"), "a b");
        assert_eq!(
            text("[a](https://x .example/) b"),
            "[a](https://x .example/) b"
        );
        assert_eq!(text("**Bold** and *it*"), "Bold and it");
    }

    #[test]
    fn links_only_for_html() {
        let (t, l) = render_inline("A *b* &amp; [c](https://c.example/)", Markup::Links);
        assert_eq!(t, "A *b* &amp; c");
        assert_eq!(l.map(|l| l.text), Some("c".to_string()));
    }

    #[test]
    fn markdown_detection() {
        assert!(is_markdown("## Show Notes\n- 00:00 Intro"));
        assert!(is_markdown("* **[00:00](#t=00:00)** Welcome"));
        assert!(!is_markdown("00:00 Intro\n#hashtag\n01:00 [x] y"));
        assert!(is_list_item("  - [@0:00] x"));
        assert!(is_list_item("12. x"));
        assert!(!is_list_item("-1 x"));
    }
}
