//! Show-notes decoding and parsing against committed fixtures (one per style), plus
//! property tests for the timestamp reader.

mod common;

use chapmark::format::text::{
    IssueKind, NotesError, Parsed, decode, parse_shownotes, parse_shownotes_bytes, parse_timestamp,
};
use chapmark::{Chapter, Time};
use proptest::prelude::*;
use std::time::Instant;

fn fixture_bytes(name: &str) -> Vec<u8> {
    common::fixture_bytes(&format!("notes/{name}"))
}

fn fixture(name: &str) -> Parsed {
    parse_shownotes_bytes(&fixture_bytes(name)).unwrap_or_else(|e| panic!("decoding {name}: {e}"))
}

/// `(start ms, title, url, line, timestamp as written)` for every chapter.
fn summary(p: &Parsed) -> Vec<(u64, &str, Option<&str>, usize, &str)> {
    p.list
        .chapters
        .iter()
        .map(|c| {
            let o = c
                .origin
                .as_ref()
                .expect("show-notes chapters carry their origin");
            (
                c.start.as_millis(),
                c.title.as_str(),
                c.url(),
                o.line,
                o.timestamp.as_str(),
            )
        })
        .collect()
}

fn label(c: &Chapter) -> Option<&str> {
    c.link.as_ref().and_then(|l| l.label.as_deref())
}

fn issues(p: &Parsed) -> Vec<(usize, IssueKind, &str, &str)> {
    p.issues
        .iter()
        .map(|i| (i.line, i.kind, i.timestamp.as_str(), i.message.as_str()))
        .collect()
}

#[test]
fn pep_think_episode_exactly() {
    let p = fixture("pep-think-episode.txt");
    assert!(p.issues.is_empty(), "{:?}", p.issues);
    assert_eq!(
        summary(&p),
        vec![
            (
                100_000,
                "Physical AIの「実装ギャップ」──研究と現場のあいだにある深い溝",
                Some("https://www.a16z.news/p/the-physical-ai-deployment-gap"),
                4,
                "01:40",
            ),
            (
                779_000,
                "レアアース輸出規制と台湾抑止──中国の「経済的シグナリング」と日本の課題",
                Some("https://www.csis.org/analysis/chinas-rare-earth-campaign-against-japan"),
                9,
                "12:59",
            ),
            (
                1_505_000,
                "AI競争という神話──非対称的な「AI二極化」と日本の立ち位置",
                Some("https://www.foreignaffairs.com/united-states/myth-ai-race"),
                13,
                "25:05",
            ),
        ]
    );
    let labels: Vec<_> = p.list.chapters.iter().map(label).collect();
    assert_eq!(
        labels,
        vec![
            Some("Andreessen Horowitz, “The Physical Deployment Gap”"),
            Some("CSIS, “China’s Rare Earth Campaign Against Japan”"),
            Some("Foreign Affairs, “The Myth of the AI Race”"),
        ]
    );
    // The organiser links in the footer are not chapter URLs.
    for c in &p.list.chapters {
        assert!(!c.url().unwrap_or("").contains("peplatform"));
        assert!(!c.url().unwrap_or("").contains("ihj.global"));
    }
    // Descriptions: the paragraphs under each chapter line, up to the 出典 line.
    let descs: Vec<&str> = p
        .list
        .chapters
        .iter()
        .map(|c| c.description.as_deref().unwrap_or(""))
        .collect();
    assert_eq!(descs[0].lines().count(), 2);
    assert!(descs[0].starts_with("Andreessen Horowitz のニュースレターに掲載された"));
    assert!(descs[0].ends_with("あわせて考えます。"));
    assert_eq!(descs[1].lines().count(), 1);
    assert!(descs[1].starts_with("CSIS(戦略国際問題研究所)の"));
    assert_eq!(descs[2].lines().count(), 2);
    assert!(descs[2].ends_with("どう独自のポジションを築きうるかを検討します。"));
    for d in &descs {
        assert!(!d.contains("出典") && !d.contains("https://") && !d.contains('■'));
    }
}

#[test]
fn pep_think_weekly_page_has_no_chapters() {
    let p = fixture("pep-think-weekly-page.txt");
    assert!(p.list.is_empty(), "{:?}", summary(&p));
    assert!(p.issues.is_empty(), "{:?}", p.issues);
}

#[test]
fn plain_list_forms_and_separators() {
    let p = fixture("plain-list.txt");
    assert!(p.issues.is_empty(), "{:?}", p.issues);
    let got: Vec<(u64, &str, &str)> = summary(&p)
        .into_iter()
        .map(|(t, title, _, _, w)| (t, title, w))
        .collect();
    assert_eq!(
        got,
        vec![
            (0, "Intro", "0:00"),
            (100_000, "Why Rust", "1:40"),
            (725_000, "Memory safety in practice", "12:05"),
            (1_530_000, "Async, tokio and friends", "25:30"),
            (2_292_000, "Listener questions", "38:12"),
            (2_700_000, "Tooling", "45:00"),
            (3_599_000, "Wrap-up before the hour", "59:59"),
            (4_510_000, "Minutes past sixty", "75:10"),
            (3_723_000, "Bonus: hiring", "1:02:03"),
            (4_530_250, "Outro and credits", "01:15:30.250"),
            (4_800_500, "Post-credits scene", "01:20:00,5"),
        ]
    );
    assert_eq!(p.list.chapters[0].line(), Some(6));
    // "Thanks for listening!" follows a blank line: not a description.
    assert_eq!(
        p.list
            .chapters
            .last()
            .and_then(|c| c.description.as_deref()),
        None
    );
}

#[test]
fn bracketed_times() {
    let p = fixture("brackets.txt");
    assert!(p.issues.is_empty(), "{:?}", p.issues);
    let got: Vec<(u64, &str, Option<&str>, &str)> = summary(&p)
        .into_iter()
        .map(|(t, title, url, _, w)| (t, title, url, w))
        .collect();
    assert_eq!(
        got,
        vec![
            (0, "Welcome", None, "00:00"),
            (754_000, "The interview", None, "12:34"),
            (2_469_000, "Lightning round", None, "00:41:09"),
            (3_120_000, "Listener mail", None, "00:52:00"),
            (3_600_000, "エンディング", None, "01:00:00"),
            // A deep link on the time itself points into the episode, not to a chapter page.
            (3_910_000, "After show", None, "01:05:10"),
        ]
    );
}

#[test]
fn bullets_before_the_time() {
    let p = fixture("bullets.txt");
    assert!(p.issues.is_empty(), "{:?}", p.issues);
    let got: Vec<(u64, &str)> = summary(&p)
        .into_iter()
        .map(|(t, title, ..)| (t, title))
        .collect();
    assert_eq!(
        got,
        vec![
            (0, "Cold open"),
            (135_000, "News of the week"),
            (630_000, "Deep dive: ID3 chapters"),
            (1_500_000, "Interview"),
            (2_400_000, "Picks"),
            (2_730_000, "おまけ"),
        ]
    );
}

#[test]
fn full_width_times_titles_untouched() {
    let p = fixture("fullwidth.txt");
    assert!(p.issues.is_empty(), "{:?}", p.issues);
    assert_eq!(
        summary(&p),
        vec![
            (0, "オープニング", None, 2, "０：００"),
            (
                100_000,
                "本題：Ｐｈｙｓｉｃａｌ　ＡＩ",
                None,
                3,
                "０１：４０"
            ),
            (
                3_723_000,
                "エンディング（まとめ）",
                None,
                4,
                "１：０２：０３"
            ),
        ]
    );
}

#[test]
fn markdown_and_trailing_urls() {
    let p = fixture("markdown-links.txt");
    assert!(p.issues.is_empty(), "{:?}", p.issues);
    let got: Vec<(u64, &str, Option<&str>)> = summary(&p)
        .into_iter()
        .map(|(t, title, url, ..)| (t, title, url))
        .collect();
    assert_eq!(
        got,
        vec![
            (0, "Introduction", Some("https://example.com/intro")),
            (
                190_000,
                "Release notes",
                Some("https://example.com/releases/1.2")
            ),
            (
                465_000,
                "The RFC",
                Some("https://example.org/rfcs/pull/2094")
            ),
            (
                720_000,
                "Wikipedia background",
                Some("https://en.wikipedia.org/wiki/Podcast_(disambiguation)")
            ),
            (
                920_000,
                "Further reading",
                Some("https://blog.example.org/post?id=7&ref=notes")
            ),
            (1_200_000, "Plain title, no link", None),
            (
                1_500_000,
                "Sponsor",
                Some("https://sponsor.example.com/offer")
            ),
        ]
    );
    let c = &p.list.chapters;
    assert_eq!(label(&c[0]), Some("Introduction"));
    assert_eq!(label(&c[1]), None);
    assert_eq!(label(&c[4]), Some("the blog post"));
    assert!(c.iter().all(|c| c.description.is_none()));
}

#[test]
fn english_source_lines() {
    let p = fixture("sources-en.txt");
    assert!(p.issues.is_empty(), "{:?}", p.issues);
    let c = &p.list.chapters;
    assert_eq!(c.len(), 5);
    assert_eq!(c[0].url(), None);
    assert_eq!(c[1].title, "Export controls explained");
    assert_eq!(
        c[1].url(),
        Some("https://news.example.com/technology/chips-2025-01-13/")
    );
    assert_eq!(label(&c[1]), Some("Example News, \"New chip rules\""));
    assert_eq!(
        c[1].description.as_deref(),
        Some("We walk through the latest rules.")
    );
    assert_eq!(
        c[2].url(),
        Some("https://think.example.org/analysis/supply-chain")
    );
    assert_eq!(label(&c[2]), None);
    assert_eq!(
        c[3].url(),
        Some("https://vc.example.com/startups-and-chips")
    );
    // The footer link after a blank line belongs to the show, not to the last chapter.
    assert_eq!(c[4].title, "Wrap-up");
    assert_eq!(c[4].url(), None);
}

#[test]
fn japanese_source_lines_with_full_width_colons() {
    let p = fixture("sources-ja.txt");
    assert!(p.issues.is_empty(), "{:?}", p.issues);
    let c = &p.list.chapters;
    assert_eq!(c.len(), 4);
    assert_eq!(c[0].url(), None);
    assert_eq!(
        c[1].url(),
        Some("https://example.jp/policy/semiconductor-digital")
    );
    assert_eq!(label(&c[1]), Some("経済産業省「半導体・デジタル産業戦略」"));
    assert_eq!(c[2].url(), Some("https://example.jp/news/rare-earth.html"));
    assert_eq!(label(&c[2]), Some("JOGMEC レアアース資源レポート"));
    assert_eq!(
        c[3].url(),
        Some("https://example.com/united-states/myth-ai-race")
    );
    assert_eq!(label(&c[3]), Some("Foreign Affairs"));
    assert!(
        c.iter()
            .all(|c| !c.url().unwrap_or("").contains("peplatform"))
    );
}

#[test]
fn crlf_bom_tabs_and_lone_cr() {
    let bytes = fixture_bytes("crlf-bom-tabs.txt");
    assert!(bytes.starts_with(b"\xEF\xBB\xBF") && bytes.windows(2).any(|w| w == b"\r\n"));
    let text = decode(&bytes).expect("decodes");
    assert!(!text.contains('\r') && !text.starts_with('\u{FEFF}'));
    let p = parse_shownotes(&text);
    assert!(p.issues.is_empty(), "{:?}", p.issues);
    assert_eq!(
        summary(&p),
        vec![
            (0, "Intro", None, 2, "00:00"),
            (90_000, "Topic with\ttab inside", None, 3, "01:30"),
            (165_000, "Old Mac line", None, 5, "02:45"),
            (180_000, "After a lone CR", None, 6, "03:00"),
            (240_000, "Last line without line end", None, 7, "04:00"),
        ]
    );
    // The raw (undecoded) text gives the same line numbers.
    let raw = String::from_utf8(bytes).expect("utf-8");
    assert_eq!(summary(&parse_shownotes(&raw)), summary(&p));
}

/// The expected reading of `encoded-source.txt`, whatever encoding it was saved in.
fn check_encoded_source(p: &Parsed) {
    assert!(p.issues.is_empty(), "{:?}", p.issues);
    assert_eq!(
        summary(p),
        vec![
            (0, "オープニング", None, 2, "00:00"),
            (
                195_000,
                "①最新ニュース：半導体と円相場",
                Some("https://example.jp/news/semiconductors"),
                3,
                "03:15"
            ),
            (
                1_660_000,
                "②リスナーからのお便り ― 質問コーナー",
                None,
                6,
                "27:40"
            ),
            (3_125_000, "エンディング", None, 7, "５２：０５"),
        ]
    );
    assert_eq!(
        label(&p.list.chapters[1]),
        Some("日本経済新聞「半導体の今」")
    );
}

#[test]
fn utf8_source_of_the_encoded_fixtures() {
    check_encoded_source(&fixture("encoded-source.txt"));
}

#[test]
fn utf16_le_and_be_with_bom() {
    let le = fixture_bytes("encoded-utf16le.txt");
    assert!(le.starts_with(&[0xFF, 0xFE]));
    check_encoded_source(&fixture("encoded-utf16le.txt"));
    let be = fixture_bytes("encoded-utf16be.txt");
    assert!(be.starts_with(&[0xFE, 0xFF]));
    check_encoded_source(&fixture("encoded-utf16be.txt"));
}

#[test]
fn shift_jis_cp932() {
    let bytes = fixture_bytes("encoded-cp932.txt");
    assert!(
        std::str::from_utf8(&bytes).is_err(),
        "fixture must not be utf-8"
    );
    check_encoded_source(&fixture("encoded-cp932.txt"));
}

#[test]
fn euc_jp_is_not_read_as_shift_jis_mojibake() {
    let p = fixture("encoded-eucjp.txt");
    let got: Vec<(u64, &str)> = summary(&p)
        .into_iter()
        .map(|(t, title, ..)| (t, title))
        .collect();
    assert_eq!(
        got,
        vec![
            (0, "オープニング"),
            (260_000, "今週のニュース：半導体と円相場"),
            (1_865_000, "エンディングと次回予告"),
        ]
    );
}

#[test]
fn title_first_lists() {
    let p = fixture("title-first.txt");
    assert!(p.issues.is_empty(), "{:?}", p.issues);
    assert_eq!(
        summary(&p),
        vec![
            (0, "Intro", None, 4, "0:00"),
            (85_000, "What are chapter markers?", None, 5, "1:25"),
            (250_000, "Parsing timestamps", None, 6, "4:10"),
            (754_000, "Edge cases", None, 7, "12:34"),
            (3_723_000, "Q&A", None, 8, "1:02:03"),
        ]
    );
}

#[test]
fn times_inside_sentences_are_not_chapters() {
    let p = fixture("prose-times.txt");
    assert!(p.list.is_empty(), "{:?}", summary(&p));
    assert!(p.issues.is_empty(), "{:?}", p.issues);
}

#[test]
fn impossible_times_are_issues_not_chapters() {
    let p = fixture("bad-timestamps.txt");
    let got: Vec<(u64, &str, Option<u64>)> = p
        .list
        .chapters
        .iter()
        .map(|c| {
            (
                c.start.as_millis(),
                c.title.as_str(),
                c.end.map(Time::as_millis),
            )
        })
        .collect();
    assert_eq!(
        got,
        vec![
            (0, "Intro", None),
            (900_000, "Real chapter", None),
            (1_200_000, "A range with a bad end", None),
            (1_800_000, "Last", None),
        ]
    );
    assert_eq!(
        issues(&p),
        vec![
            (
                2,
                IssueKind::BadTimestamp,
                "12:75",
                "seconds 75 out of range in 12:75"
            ),
            (
                4,
                IssueKind::BadTimestamp,
                "1:75:00",
                "minutes 75 out of range in 1:75:00"
            ),
            (
                5,
                IssueKind::BadTimestamp,
                "99:99",
                "seconds 99 out of range in 99:99"
            ),
            (
                6,
                IssueKind::BadTimestamp,
                "1:5",
                "1:5 is not a timestamp: seconds must have exactly two digits"
            ),
            (
                7,
                IssueKind::BadTimestamp,
                "19:75",
                "seconds 75 out of range in 19:75"
            ),
        ]
    );
    assert_eq!(
        p.issues[0].to_string(),
        "line 2: seconds 75 out of range in 12:75"
    );
    // Never a silent carry: no chapter anywhere near 13:15.
    assert!(
        p.list
            .chapters
            .iter()
            .all(|c| c.start != Time::from_secs(795))
    );
}

#[test]
fn two_part_time_after_an_hour_is_ambiguous() {
    let p = fixture("ambiguous.txt");
    let starts: Vec<u64> = p
        .list
        .chapters
        .iter()
        .map(|c| c.start.as_millis())
        .collect();
    assert_eq!(
        starts,
        vec![0, 1_500_000, 3_510_000, 3_730_000, 70_000, 4_500_000]
    );
    assert_eq!(
        issues(&p),
        vec![(
            5,
            IssueKind::AmbiguousTimestamp,
            "1:10",
            "1:10 after 1:02:10 goes backwards as minutes:seconds; if it means 1 h 10 min, write 1:10:00"
        )]
    );
}

#[test]
fn ranges_give_ends() {
    let p = fixture("ranges.txt");
    assert!(p.issues.is_empty(), "{:?}", p.issues);
    let got: Vec<(u64, Option<u64>, &str)> = p
        .list
        .chapters
        .iter()
        .map(|c| {
            (
                c.start.as_millis(),
                c.end.map(Time::as_millis),
                c.title.as_str(),
            )
        })
        .collect();
    assert_eq!(
        got,
        vec![
            (0, Some(330_000), "Intro"),
            (330_000, Some(1_200_000), "Main topic"),
            (1_200_000, Some(1_875_000), "Q&A"),
        ]
    );
}

#[test]
fn decode_errors_are_distinct() {
    assert_eq!(decode(b""), Err(NotesError::Empty));
    assert_eq!(decode(b"  \r\n\t \n"), Err(NotesError::Blank));
    assert!(matches!(
        decode(b"ID3\x04\x00\x00\x00\x00\x00\x00"),
        Err(NotesError::Binary { .. })
    ));
    assert!(matches!(
        decode(b"\x1b\x01\x02\x03\x04\x05\x06 hello"),
        Err(NotesError::Binary { .. })
    ));
    assert!(matches!(
        decode(b"00:00 Intro \x80\x80\x80"),
        Err(NotesError::UnknownEncoding { offset: 12, .. })
    ));
    for e in [
        decode(b"").unwrap_err(),
        decode(b" ").unwrap_err(),
        decode(b"\0\0").unwrap_err(),
        decode(b"a\x80\x80").unwrap_err(),
    ] {
        let m = e.to_string();
        assert!(m.starts_with("the notes "), "{m}");
        assert_eq!(m, m.to_lowercase(), "messages are lowercase");
    }
}

#[test]
fn large_input_is_linear() {
    // ~10 MB: chapter blocks with prose, sources and the odd pathological line.
    let mut text = String::new();
    let mut n = 0u64;
    while text.len() < 10_000_000 {
        let (h, m, s) = (n / 3600, (n / 60) % 60, n % 60);
        text.push_str(&format!("{h}:{m:02}:{s:02} Chapter {n} — タイトル\n"));
        text.push_str("Some prose at 7:30 with a (12:34) time and https://example.com/a link.\n");
        text.push_str("出典: Someone, “Something” https://example.com/source\n");
        n += 1;
    }
    text.push_str(&"(".repeat(200_000));
    text.push('\n');
    text.push_str(&format!("0:00 https://x.example/{}\n", ")".repeat(200_000)));
    text.push_str(&format!("Source: {}\n", "http://[".repeat(100_000)));
    let started = Instant::now();
    let p = parse_shownotes(&text);
    let elapsed = started.elapsed();
    assert_eq!(p.list.len() as u64, n + 1);
    assert!(
        p.list
            .chapters
            .iter()
            .take(n as usize)
            .all(|c| c.url() == Some("https://example.com/source"))
    );
    // Generous even for an unoptimised build on a busy machine; quadratic behaviour would
    // take hours here.
    assert!(elapsed.as_secs() < 60, "took {elapsed:?}");
}

#[test]
fn large_degenerate_inputs() {
    // 400 KB each: anything quadratic would need ~10^11 steps here and never finish in the
    // bound below, while the linear parser takes about half a second per input in a debug
    // build on a loaded 2-core machine (the bound is for blow-ups, not a speed target).
    // (Measured optimised: ~0.1-0.5 s for 10 MB versions of each.)
    const SIZE: usize = 400_000;
    let started = Instant::now();
    let blank = "\n".repeat(SIZE);
    assert!(parse_shownotes(&blank).list.is_empty());
    assert_eq!(decode(blank.as_bytes()), Err(NotesError::Blank));
    for unit in [
        "0:0",
        "1:00 ",
        "http://",
        "[](",
        "(0:00) ",
        "- 1:00",
        "出典：",
        "a (0:00)\n",
    ] {
        let line = unit.repeat(SIZE / unit.len());
        let _ = parse_shownotes(&line);
        let p = parse_shownotes(&format!("0:00 a\n{line}\n{line}"));
        assert!(!p.list.is_empty());
    }
    let elapsed = started.elapsed();
    assert!(elapsed.as_secs() < 60, "took {elapsed:?}");
}

#[test]
fn hostile_lines_never_panic() {
    for s in [
        "",
        "\n",
        "\r",
        "\r\n\r",
        ":",
        "0:",
        ":0",
        "[",
        "(",
        "【",
        "[0:00",
        "(0:00",
        "0:00)",
        "[](",
        "[x](",
        "[x](http://",
        "Source:",
        "出典：",
        "出典",
        "http://",
        "https://[",
        "- ",
        "1.",
        "1. ",
        "9999999999999999999999:00 x",
        "0:00 - ",
        "0:00 -",
        "0:00 ~ 1:",
        "0:00\u{FEFF}",
        "\u{FEFF}",
        "x (0:00",
        "x - 0:00",
        "x (０：００)",
        "０",
        "：",
        "0:00 [a](https://exa mple.com)",
        "参考資料長い長い長い長い：x",
    ] {
        let _ = parse_shownotes(s);
        let _ = parse_shownotes(&format!("0:00 a\n{s}\n{s}"));
    }
}

proptest! {
    #[test]
    fn parse_timestamp_never_panics(s in "\\PC{0,40}") {
        let _ = parse_timestamp(&s);
    }

    #[test]
    fn parse_timestamp_never_panics_on_timestamp_alphabet(s in "[0-9:.,０-９：．，]{0,40}") {
        let _ = parse_timestamp(&s);
    }

    #[test]
    fn formatted_times_parse_back(ms in any::<u64>()) {
        let t = Time::from_millis(ms);
        prop_assert_eq!(parse_timestamp(&t.hms_millis()), Ok(t));
        prop_assert_eq!(parse_timestamp(&t.short()), Ok(t));
    }

    #[test]
    fn formatted_everyday_times_parse_back(ms in 0u64..200 * 3_600_000) {
        let t = Time::from_millis(ms);
        prop_assert_eq!(parse_timestamp(&t.hms_millis()), Ok(t));
        prop_assert_eq!(parse_timestamp(&t.short()), Ok(t));
    }

    #[test]
    fn shownotes_never_panic(s in "\\PC{0,200}") {
        let _ = parse_shownotes(&s);
    }

    #[test]
    fn decode_never_panics(bytes in proptest::collection::vec(any::<u8>(), 0..300)) {
        if let Ok(text) = decode(&bytes) {
            prop_assert!(!text.contains('\r'));
            let _ = parse_shownotes(&text);
        }
    }

    #[test]
    fn chapter_lines_round_trip(secs in proptest::collection::vec(0u64..100_000, 1..20)) {
        let text: String = secs
            .iter()
            .enumerate()
            .map(|(i, s)| format!("{} Chapter {i}\n", Time::from_secs(*s).short()))
            .collect();
        let p = parse_shownotes(&text);
        let got: Vec<u64> = p.list.chapters.iter().map(|c| c.start.as_millis() / 1000).collect();
        prop_assert_eq!(got, secs);
    }
}
