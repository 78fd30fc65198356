//! Property: a valid chapter list written as description text parses back to the same list.
//! This ties the description writer (`format::text`) to the show-notes parser (`notes`), so
//! whatever chapmark exports as "paste this into Spotify/YouTube" reads back identically.

use chapmark::format::text as notes;
use chapmark::format::{self, Format, WriteOptions};
use chapmark::{Chapter, ChapterList, Time};
use proptest::prelude::*;

/// Titles as producers write them: any printable text on one line, Japanese, emoji,
/// punctuation and brackets included. Excluded are only things a one-line description cannot
/// carry unambiguously: a URL inside the title (it would become the chapter's link) and
/// surrounding whitespace (descriptions do not preserve it).
fn title() -> impl Strategy<Value = String> {
    prop_oneof![
        "[A-Za-z0-9 ,.!?'\"&()\\[\\]#:;/+*%-]{1,40}",
        "[ぁ-んァ-ン一-龥「」──、。（）・ A-Za-z0-9]{1,30}",
        "\\PC{1,30}",
    ]
    .prop_map(|s| s.trim().to_string())
    .prop_filter("non-empty, single line, no URL", |s| {
        !s.is_empty() && !s.contains("://") && !s.chars().any(char::is_control)
    })
}

fn url() -> impl Strategy<Value = Option<String>> {
    prop::option::of("[a-z]{1,12}(/[a-z0-9_-]{1,10}){0,3}")
        .prop_map(|o| o.map(|p| format!("https://{p}.example/")))
}

fn chapter_list() -> impl Strategy<Value = ChapterList> {
    prop::collection::vec((1u64..600_000, title(), url()), 1..25).prop_map(|items| {
        let mut start = 0u64;
        let chapters = items
            .into_iter()
            .enumerate()
            .map(|(i, (gap, title, url))| {
                if i > 0 {
                    start += gap;
                }
                let mut c = Chapter::new(Time::from_millis(start), title);
                if let Some(u) = url {
                    c = c.with_url(u);
                }
                c
            })
            .collect();
        ChapterList::new(chapters)
    })
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(512))]

    #[test]
    fn description_text_round_trips(list in chapter_list()) {
        let bytes = format::write(Format::Text, &list, &WriteOptions::default());
        let text = String::from_utf8(bytes).expect("writer emits UTF-8");
        let parsed = notes::parse_shownotes(&text);
        prop_assert!(parsed.issues.is_empty(), "issues {:?} in\n{}", parsed.issues, text);
        let got: Vec<_> = parsed.list.chapters.iter().map(|c| (c.start, c.title.clone(), c.url().map(str::to_owned))).collect();
        let want: Vec<_> = list.chapters.iter().map(|c| (c.start, c.title.clone(), c.url().map(str::to_owned))).collect();
        prop_assert_eq!(got, want, "text was:\n{}", text);
    }
}
