//! Model → description text.

use crate::chapter::ChapterList;
use crate::format::WriteOptions;
use crate::format::common::one_line;
use crate::time::Time;

/// Writes one `MM:SS Title [url]` line per chapter (`H:MM:SS` for all once any chapter
/// starts past an hour), with an `Image: …` line under it when the chapter has an image. Descriptions carry no ends, so the options are unused.
pub fn write(list: &ChapterList, _opts: &WriteOptions) -> Vec<u8> {
    let with_hours = list
        .chapters
        .iter()
        .any(|c| c.start >= Time::from_secs(3600));
    let mut out = String::new();
    for c in &list.chapters {
        out.push_str(&c.start.clock(with_hours));
        out.push(' ');
        let title = one_line(&c.title);
        if super::shownotes::title_needs_separator(&title) {
            // `01:40 - :)`: without it the parser would take the `:` for a separator.
            out.push_str("- ");
        }
        out.push_str(&title);
        if let Some(url) = c.url() {
            if super::shownotes::url_appends_cleanly(&title, url) {
                out.push(' ');
            } else {
                // `01:40 Q&A: https://…` would read back as the title `Q&A`.
                out.push_str("\nLink: ");
            }
            out.push_str(url);
        }
        out.push('\n');
        if let Some(image) = c
            .image
            .as_deref()
            .filter(|i| !i.contains(char::is_whitespace))
        {
            // Read back as the chapter's image (see `shownotes`); a reference with spaces
            // would not be, so it is left out.
            out.push_str("Image: ");
            out.push_str(image);
            out.push('\n');
        }
    }
    out.into_bytes()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::chapter::Chapter;

    #[test]
    fn one_width_for_all_lines() {
        let short = ChapterList::new(vec![
            Chapter::new(Time::ZERO, "Intro"),
            Chapter::new(Time::from_millis(100_250), "Two").with_url("https://x.test/"),
        ]);
        assert_eq!(
            String::from_utf8(write(&short, &WriteOptions::default())).unwrap(),
            "00:00 Intro\n01:40.250 Two https://x.test/\n"
        );
        let long = ChapterList::new(vec![
            Chapter::new(Time::ZERO, "Intro"),
            Chapter::new(Time::from_secs(3723), "Late\nnight"),
        ]);
        assert_eq!(
            String::from_utf8(write(&long, &WriteOptions::default())).unwrap(),
            "0:00:00 Intro\n1:02:03 Late night\n"
        );
    }

    #[test]
    fn image_lines_read_back() {
        let mut one = Chapter::new(Time::ZERO, "Q&A: more").with_url("https://x.test/");
        one.image = Some("art/01.jpg".into());
        let mut two = Chapter::new(Time::from_secs(60), "Two");
        two.image = Some("https://x.test/2.png".into());
        let list = ChapterList::new(vec![one, two]);
        let text = String::from_utf8(write(&list, &WriteOptions::default())).unwrap();
        assert_eq!(
            text,
            "00:00 Q&A: more https://x.test/\nImage: art/01.jpg\n01:00 Two\nImage: https://x.test/2.png\n"
        );
        let back = super::super::parse_shownotes(&text).list;
        let images: Vec<_> = back.chapters.iter().map(|c| c.image.as_deref()).collect();
        assert_eq!(images, [Some("art/01.jpg"), Some("https://x.test/2.png")]);
        assert_eq!(back.chapters[0].url(), Some("https://x.test/"));
    }
}
