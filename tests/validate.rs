//! Validation rules, profiles, drift and the four report renderers.
//!
//! Chapter lists come from `fixtures/check/` through a deliberately tiny reader below (the
//! real show-notes parser is tested on its own); its README table is the list of cases.

mod common;

use chapmark::format::text::{IssueKind, ParseIssue};
use chapmark::report::{
    FileReport, json_value, passed, render_github, render_json, render_junit, render_text,
};
use chapmark::validate::{
    Context, Diagnostic, Profile, Rule, Severity, Target, ascii_url, drift, validate,
};
use chapmark::{Chapter, ChapterList, Origin, SampleTime, Time};
use std::collections::BTreeMap;
use std::path::Path;

fn fixture(name: &str) -> String {
    common::fixture_text(&format!("check/{name}"))
}

// ---------------------------------------------------------------------------------------
// helpers

/// 44.1 kHz audio of exactly `secs` seconds.
fn audio(secs: u64) -> SampleTime {
    SampleTime::new(secs * 44_100, 44_100)
}

fn ctx(duration: Option<SampleTime>, profile: Profile) -> Context {
    Context {
        duration,
        profile,
        target: None,
        min_chapter: None,
        stream_changes: Vec::new(),
    }
}

fn at(secs: u64, title: &str) -> Chapter {
    Chapter::new(Time::from_secs(secs), title)
}

/// A chapter as a notes reader would produce it: with its line and written timestamp.
fn noted(line: usize, written: &str, start_ms: u64, title: &str) -> Chapter {
    let mut c = Chapter::new(Time::from_millis(start_ms), title);
    c.origin = Some(Origin {
        line,
        timestamp: written.to_string(),
    });
    c
}

fn list(chapters: Vec<Chapter>) -> ChapterList {
    ChapterList::new(chapters)
}

/// `(severity, code)` pairs, sorted, for order-free comparison.
fn codes(diags: &[Diagnostic]) -> Vec<String> {
    let mut v: Vec<String> = diags
        .iter()
        .map(|d| format!("{}[{}]", d.severity, d.rule.code()))
        .collect();
    v.sort();
    v
}

fn only(diags: &[Diagnostic], rule: Rule) -> Vec<&Diagnostic> {
    diags.iter().filter(|d| d.rule == rule).collect()
}

/// Parses `M:SS` / `MM:SS` / `H:MM:SS` into milliseconds; `Err(())` when a field is out of
/// range (the `12:75` case), `None` when the token is not a timestamp at all.
fn parse_ts(tok: &str) -> Option<Result<u64, ()>> {
    let parts: Vec<&str> = tok.split(':').collect();
    if !(2..=3).contains(&parts.len())
        || parts
            .iter()
            .any(|p| p.is_empty() || !p.bytes().all(|b| b.is_ascii_digit()))
    {
        return None;
    }
    let nums: Vec<u64> = parts
        .iter()
        .map(|p| p.parse().unwrap_or(u64::MAX))
        .collect();
    let (h, m, s) = match nums.as_slice() {
        [m, s] => (0, *m, *s),
        [h, m, s] => (*h, *m, *s),
        _ => return None,
    };
    if s >= 60 || (parts.len() == 3 && m >= 60) {
        return Some(Err(()));
    }
    Some(Ok((h * 3600 + m * 60 + s) * 1000))
}

/// The minimal show-notes reader the fixtures need: `TIMESTAMP [sep] Title` lines, and a link
/// (bare, or after `Link:`/`出典:`/`Source:`) on a following line attaches to the chapter.
fn read_notes(text: &str) -> (ChapterList, Vec<ParseIssue>) {
    let mut chapters: Vec<Chapter> = Vec::new();
    let mut issues = Vec::new();
    for (i, raw) in text.lines().enumerate() {
        let line_no = i + 1;
        let line = raw.trim();
        let (tok, rest) = line.split_once(char::is_whitespace).unwrap_or((line, ""));
        match parse_ts(tok) {
            Some(Ok(ms)) => {
                let title = rest
                    .trim()
                    .trim_start_matches(['-', '–', '—', ':', '|'])
                    .trim();
                chapters.push(noted(line_no, tok, ms, title));
            }
            Some(Err(())) => issues.push(ParseIssue {
                line: line_no,
                timestamp: tok.to_string(),
                kind: IssueKind::BadTimestamp,
                message: format!("timestamp {tok} is not a time: seconds must be below 60"),
            }),
            None => {
                let candidate = ["Link:", "Source:", "出典:"]
                    .iter()
                    .find_map(|p| line.strip_prefix(p))
                    .unwrap_or(line)
                    .trim();
                if candidate.contains("://")
                    && !candidate.contains(' ')
                    && let Some(last) = chapters.last_mut()
                    && last.link.is_none()
                {
                    *last = last.clone().with_url(candidate);
                }
            }
        }
    }
    (ChapterList::new(chapters), issues)
}

fn parse_mmss(s: &str) -> Option<SampleTime> {
    match parse_ts(s) {
        Some(Ok(ms)) => Some(audio(ms / 1000)),
        _ => None,
    }
}

// ---------------------------------------------------------------------------------------
// the README table of fixtures

#[test]
fn every_fixture_row_triggers_exactly_what_the_readme_says() {
    let readme = fixture("README.md");
    let mut rows = 0;
    for row in readme
        .lines()
        .filter(|l| l.starts_with("| ") && l.contains(".txt"))
    {
        let cells: Vec<&str> = row.trim_matches('|').split('|').map(str::trim).collect();
        let [file, audio_cell, profile, target, expect, _why] = cells.as_slice() else {
            panic!("bad README row: {row}");
        };
        let duration = parse_mmss(audio_cell);
        assert!(
            duration.is_some() || *audio_cell == "–",
            "bad audio cell in {row}"
        );
        let context = Context {
            duration,
            profile: profile.parse().expect("profile"),
            target: if *target == "–" {
                None
            } else {
                Some(target.parse().expect("target"))
            },
            min_chapter: None,
            stream_changes: Vec::new(),
        };
        let (chapters, issues) = read_notes(&fixture(file));
        let diags = validate(&chapters, &issues, &context);
        let mut expected: Vec<String> = if *expect == "passes" {
            Vec::new()
        } else {
            expect.split(", ").map(str::to_string).collect()
        };
        expected.sort();
        assert_eq!(codes(&diags), expected, "row: {row}\n{diags:#?}");
        rows += 1;
    }
    assert!(rows >= 30, "only {rows} rows read from the README table");
    // Every fixture file is used by at least one row.
    for entry in std::fs::read_dir(Path::new(env!("CARGO_MANIFEST_DIR")).join("fixtures/check"))
        .expect("fixtures/check")
    {
        let name = entry
            .expect("entry")
            .file_name()
            .to_string_lossy()
            .to_string();
        if name.ends_with(".txt") {
            assert!(
                readme.contains(&format!("| {name} |")),
                "{name} is not in the README table"
            );
        }
    }
}

// ---------------------------------------------------------------------------------------
// the issue's named cases

#[test]
fn chapter_past_the_end_names_written_time_and_real_length() {
    let (chapters, issues) = read_notes(&fixture("past-end.txt"));
    let diags = validate(
        &chapters,
        &issues,
        &ctx(Some(audio(40 * 60)), Profile::Default),
    );
    assert_eq!(codes(&diags), ["error[past-end]"]);
    let d = &diags[0];
    assert_eq!(
        d.message,
        "chapter 3 (line 4): start 41:30 is past the end of the audio (40:00.000)"
    );
    assert_eq!(d.chapter, Some(3));
    assert_eq!(d.line, Some(4));
    assert_eq!(d.timestamp.as_deref(), Some("41:30"));
    assert!(d.hint.is_some());
}

#[test]
fn past_end_is_sample_accurate_and_keeps_the_written_form() {
    // 40:00 plus half a millisecond: a chapter at 40:00.000 is still inside.
    let d = SampleTime::new(2400 * 48_000 + 24, 48_000);
    let l = list(vec![at(0, "a"), at(1200, "b"), at(2400, "c")]);
    let diags = validate(&l, &[], &ctx(Some(d), Profile::Default));
    assert!(only(&diags, Rule::PastEnd).is_empty(), "{diags:#?}");
    // ...but it is the last chapter and starts in the final seconds.
    assert_eq!(codes(&diags), ["warning[last-too-late]"]);

    // Exactly at the end: "at the end".
    let diags = validate(&l, &[], &ctx(Some(audio(2400)), Profile::Default));
    assert_eq!(codes(&diags), ["error[past-end]"]);
    assert!(
        diags[0]
            .message
            .contains("is at the end of the audio (40:00.000)")
    );

    // Full-width digits as written stay in the message.
    let l = list(vec![
        noted(2, "00:00", 0, "Intro"),
        noted(5, "４１：３０", 2_490_000, "Late"),
    ]);
    let diags = validate(&l, &[], &ctx(Some(audio(2400)), Profile::Default));
    assert_eq!(
        diags[0].message,
        "chapter 2 (line 5): start ４１：３０ is past the end of the audio (40:00.000)"
    );
    assert_eq!(diags[0].timestamp.as_deref(), Some("４１：３０"));

    // Over an hour the length shows hours.
    let l = list(vec![at(0, "a"), at(3 * 3600, "b")]);
    let diags = validate(&l, &[], &ctx(Some(audio(3723)), Profile::Default));
    assert!(
        diags[0].message.ends_with("(1:02:03.000)"),
        "{}",
        diags[0].message
    );
}

#[test]
fn out_of_order_starts_are_errors() {
    let (chapters, issues) = read_notes(&fixture("not-ascending.txt"));
    let diags = validate(
        &chapters,
        &issues,
        &ctx(Some(audio(2400)), Profile::Default),
    );
    assert_eq!(codes(&diags), ["error[not-ascending]"]);
    assert_eq!(
        diags[0].message,
        "chapter 3 (line 3): start 05:00 comes before 10:00, the start of chapter 2 (line 2)"
    );
    // Ascending lists do not trigger it.
    let l = list(vec![at(0, "a"), at(10, "b"), at(20, "c")]);
    assert!(validate(&l, &[], &ctx(None, Profile::Default)).is_empty());
}

#[test]
fn duplicate_starts_are_errors_even_when_not_adjacent() {
    let (chapters, issues) = read_notes(&fixture("duplicate-start.txt"));
    let diags = validate(
        &chapters,
        &issues,
        &ctx(Some(audio(2400)), Profile::Default),
    );
    assert_eq!(codes(&diags), ["error[duplicate-start]"]);
    assert_eq!(
        diags[0].message,
        "chapter 3 (line 3): start 10:00 is the same as the start of chapter 2 (line 2)"
    );
    // Non-adjacent duplicate: reported as a duplicate of the first, plus the descent.
    let l = list(vec![at(0, "a"), at(600, "b"), at(300, "c"), at(600, "d")]);
    let diags = validate(&l, &[], &ctx(None, Profile::Default));
    assert_eq!(
        codes(&diags),
        ["error[duplicate-start]", "error[not-ascending]"]
    );
    assert_eq!(only(&diags, Rule::DuplicateStart)[0].chapter, Some(4));
    assert_eq!(only(&diags, Rule::NotAscending)[0].chapter, Some(3));
}

#[test]
fn impossible_timestamp_12_75_is_reported_with_line_and_text() {
    let (chapters, issues) = read_notes(&fixture("bad-timestamp.txt"));
    assert_eq!(chapters.len(), 2, "12:75 must not become a chapter");
    let diags = validate(
        &chapters,
        &issues,
        &ctx(Some(audio(2400)), Profile::Default),
    );
    assert_eq!(codes(&diags), ["error[bad-timestamp]"]);
    let d = &diags[0];
    assert_eq!(d.line, Some(2));
    assert_eq!(d.chapter, None);
    assert_eq!(d.timestamp.as_deref(), Some("12:75"));
    assert_eq!(
        d.message,
        "line 2: timestamp 12:75 is not a time: seconds must be below 60"
    );
}

#[test]
fn ambiguous_timestamp_is_a_warning_and_strict_makes_it_an_error() {
    let issue = ParseIssue {
        line: 7,
        timestamp: "1.02.03".into(),
        kind: IssueKind::AmbiguousTimestamp,
        message: "timestamp 1.02.03 can be read as 1:02:03 or 1:02.03".into(),
    };
    let l = list(vec![at(0, "a"), at(60, "b"), at(120, "c")]);
    let diags = validate(
        &l,
        std::slice::from_ref(&issue),
        &ctx(None, Profile::Default),
    );
    assert_eq!(codes(&diags), ["warning[ambiguous-timestamp]"]);
    assert_eq!(diags[0].line, Some(7));
    let diags = validate(&l, &[issue], &ctx(None, Profile::Strict));
    assert_eq!(codes(&diags), ["error[ambiguous-timestamp]"]);
}

#[test]
fn pep_think_passes_default_and_fails_youtube_with_an_intro_hint() {
    let (chapters, issues) = read_notes(&fixture("pep-think.txt"));
    assert_eq!(
        chapters
            .chapters
            .iter()
            .map(|c| c.start.short())
            .collect::<Vec<_>>(),
        ["01:40", "12:59", "25:05"]
    );
    assert!(
        chapters
            .chapters
            .iter()
            .all(|c| c.url().is_some_and(|u| u.starts_with("https://")))
    );
    let d38 = Some(audio(38 * 60));
    for profile in [Profile::Default, Profile::Podcastindex, Profile::Strict] {
        let diags = validate(&chapters, &issues, &ctx(d38, profile));
        assert!(diags.is_empty(), "{profile}: {diags:#?}");
    }
    for target in [Target::Id3, Target::Mp4, Target::Sidecar] {
        let mut c = ctx(d38, Profile::Default);
        c.target = Some(target);
        assert!(validate(&chapters, &issues, &c).is_empty(), "{target}");
    }

    let diags = validate(&chapters, &issues, &ctx(d38, Profile::Youtube));
    assert_eq!(codes(&diags), ["error[first-not-zero]"]);
    let d = &diags[0];
    assert_eq!(d.chapter, Some(1));
    assert_eq!(d.line, Some(2));
    assert_eq!(d.timestamp.as_deref(), Some("01:40"));
    assert_eq!(
        d.message,
        "chapter 1 (line 2): the first chapter starts at 01:40; youtube needs the first chapter at 0:00"
    );
    assert!(
        d.hint
            .as_deref()
            .is_some_and(|h| h.contains("--intro \"Intro\"")),
        "{d:?}"
    );
    assert!(!passed(&diags, false));
    // Adding the intro the hint suggests fixes it.
    let mut fixed = chapters.clone();
    fixed.chapters.insert(0, at(0, "Intro"));
    assert!(validate(&fixed, &issues, &ctx(d38, Profile::Youtube)).is_empty());
}

// ---------------------------------------------------------------------------------------
// each rule, triggered and not

#[test]
fn too_few() {
    let empty = ChapterList::default();
    let diags = validate(&empty, &[], &ctx(None, Profile::Default));
    assert_eq!(codes(&diags), ["error[too-few]"]);
    assert_eq!(diags[0].message, "no chapters found");
    assert_eq!((diags[0].line, diags[0].chapter), (None, None));

    let one = list(vec![at(0, "only")]);
    assert!(validate(&one, &[], &ctx(None, Profile::Default)).is_empty());

    let two = list(vec![at(0, "a"), at(600, "b")]);
    for p in [Profile::Apple, Profile::Spotify, Profile::Youtube] {
        let diags = validate(&two, &[], &ctx(None, p));
        assert_eq!(codes(&diags), ["error[too-few]"], "{p}");
        assert_eq!(
            diags[0].message,
            format!("only 2 chapters; {p} shows chapters only when there are at least 3")
        );
    }
    let three = list(vec![at(0, "a"), at(600, "b"), at(1200, "c")]);
    for p in Profile::ALL {
        assert!(validate(&three, &[], &ctx(None, p)).is_empty(), "{p}");
    }
}

#[test]
fn first_not_zero_only_for_description_profiles() {
    let l = list(vec![at(1, "a"), at(600, "b"), at(1200, "c")]);
    for p in Profile::ALL {
        let diags = validate(&l, &[], &ctx(None, p));
        let expect: &[&str] = match p {
            Profile::Apple | Profile::Spotify | Profile::Youtube => &["error[first-not-zero]"],
            _ => &[],
        };
        assert_eq!(codes(&diags), expect, "{p}");
    }
}

#[test]
fn too_short_thresholds_per_profile_and_override() {
    // Chapter 2 lasts 9 s, chapter 3 lasts 25 s.
    let l = list(vec![at(0, "a"), at(60, "b"), at(69, "c"), at(94, "d")]);
    let d = Some(audio(1000));
    assert!(validate(&l, &[], &ctx(d, Profile::Default)).is_empty());
    assert!(validate(&l, &[], &ctx(d, Profile::Apple)).is_empty());
    assert_eq!(
        codes(&validate(&l, &[], &ctx(d, Profile::Youtube))),
        ["error[too-short]"]
    );
    assert_eq!(
        codes(&validate(&l, &[], &ctx(d, Profile::Spotify))),
        ["warning[too-short]", "warning[too-short]"]
    );
    let yt = validate(&l, &[], &ctx(d, Profile::Youtube));
    assert_eq!(
        yt[0].message,
        "chapter 2: lasts only 9 s (until 01:09); the youtube minimum is 10 s"
    );
    // Exactly the minimum is fine.
    let l10 = list(vec![at(0, "a"), at(60, "b"), at(70, "c")]);
    assert!(validate(&l10, &[], &ctx(Some(audio(1000)), Profile::Youtube)).is_empty());
    // Override: keeps the profile's severity.
    let mut c = ctx(d, Profile::Default);
    c.min_chapter = Some(Time::from_secs(30));
    assert_eq!(
        codes(&validate(&l, &[], &c)),
        ["warning[too-short]", "warning[too-short]"]
    );
    assert!(
        validate(&l, &[], &c)[0]
            .message
            .ends_with("the requested minimum is 30 s")
    );
    // A chapter's length stops at the end of the audio.
    let l = list(vec![at(0, "a"), at(100, "b"), at(2500, "c")]);
    let diags = validate(&l, &[], &ctx(Some(audio(103)), Profile::Default));
    assert_eq!(codes(&diags), ["error[past-end]", "warning[too-short]"]);
}

#[test]
fn last_too_late_and_the_last_chapter_length() {
    let (chapters, issues) = read_notes(&fixture("last-too-late.txt"));
    let diags = validate(
        &chapters,
        &issues,
        &ctx(Some(audio(2400)), Profile::Default),
    );
    assert_eq!(codes(&diags), ["warning[last-too-late]"]);
    assert_eq!(
        diags[0].message,
        "chapter 3 (line 3): the last chapter starts at 39:55, only 5 s before the end of the audio (40:00.000)"
    );
    // Unknown duration: the rule cannot run.
    assert!(validate(&chapters, &issues, &ctx(None, Profile::Default)).is_empty());
    // 20 s left: not "too late", but short for spotify's 30 s.
    let l = list(vec![at(0, "a"), at(600, "b"), at(2380, "c")]);
    assert!(validate(&l, &[], &ctx(Some(audio(2400)), Profile::Default)).is_empty());
    assert_eq!(
        codes(&validate(
            &l,
            &[],
            &ctx(Some(audio(2400)), Profile::Spotify)
        )),
        ["warning[too-short]"]
    );
    // Without audio a stated end still gives the last chapter a length.
    let mut short = at(600, "b");
    short.end = Some(Time::from_secs(602));
    let l = list(vec![at(0, "a"), short]);
    assert_eq!(
        codes(&validate(&l, &[], &ctx(None, Profile::Default))),
        ["warning[too-short]"]
    );
}

#[test]
fn gaps_and_overlaps_from_stated_ends() {
    let mut a = at(0, "a");
    a.end = Some(Time::from_secs(50)); // 10 s gap before b
    let mut b = at(60, "b");
    b.end = Some(Time::from_secs(130)); // overlaps c by 10 s
    let mut c = at(120, "c");
    c.end = Some(Time::from_secs(200)); // audio runs to 300
    let l = list(vec![a, b, c]);
    let diags = validate(&l, &[], &ctx(Some(audio(300)), Profile::Default));
    assert_eq!(
        codes(&diags),
        ["warning[gap]", "warning[gap]", "warning[overlap]"]
    );
    assert_eq!(
        diags[0].message,
        "chapter 1: ends at 00:50 but chapter 2 starts at 01:00, leaving 10 s outside any chapter"
    );
    assert_eq!(
        diags[1].message,
        "chapter 2: ends at 02:10, after chapter 3 starts at 02:00"
    );
    assert_eq!(
        diags[2].message,
        "chapter 3: the last chapter ends at 03:20 but the audio runs to 05:00.000, leaving 1 min 40 s outside any chapter"
    );
    let strict = validate(&l, &[], &ctx(Some(audio(300)), Profile::Strict));
    assert!(strict.iter().all(|d| d.severity == Severity::Error));

    // Ends that meet the next start (within CUE-style rounding) are clean.
    let mut a = at(0, "a");
    a.end = Some(Time::from_millis(59_987));
    let mut b = at(60, "b");
    b.end = Some(Time::from_secs(300));
    let l = list(vec![a, b]);
    assert!(validate(&l, &[], &ctx(Some(audio(300)), Profile::Default)).is_empty());
}

#[test]
fn empty_titles() {
    let l = list(vec![at(0, "a"), at(60, "  "), at(120, "c")]);
    let diags = validate(&l, &[], &ctx(None, Profile::Default));
    assert_eq!(codes(&diags), ["error[empty-title]"]);
    assert_eq!(diags[0].message, "chapter 2: the title is empty");
    // Titles keep their characters: a single non-space character is a title.
    let l = list(vec![at(0, "a"), at(60, "・"), at(120, "c")]);
    assert!(validate(&l, &[], &ctx(None, Profile::Default)).is_empty());

    // Podcasting 2.0: a hidden (toc: false) chapter may be untitled, a visible one may not.
    let mut hidden = at(60, "");
    hidden.toc = false;
    let l = list(vec![at(0, "a"), hidden.clone(), at(120, "")]);
    let diags = validate(&l, &[], &ctx(None, Profile::Podcastindex));
    assert_eq!(codes(&diags), ["error[empty-title]"]);
    assert_eq!(diags[0].chapter, Some(3));
    let diags = validate(&l, &[], &ctx(None, Profile::Default));
    assert_eq!(codes(&diags), ["error[empty-title]", "error[empty-title]"]);
}

#[test]
fn title_length_per_platform_and_container() {
    let t40 = "x".repeat(40);
    let t41 = "x".repeat(41);
    let t50 = "あ".repeat(50);
    let l = |t: &str| list(vec![at(0, "a"), at(60, t), at(120, "c")]);
    assert!(validate(&l(&t40), &[], &ctx(None, Profile::Spotify)).is_empty());
    let diags = validate(&l(&t41), &[], &ctx(None, Profile::Spotify));
    assert_eq!(codes(&diags), ["warning[title-too-long]"]);
    assert_eq!(
        diags[0].message,
        "chapter 2: the title is 41 characters; spotify recommends titles under 40 characters"
    );
    // Characters, not bytes: 49 Japanese characters are fine for youtube, 50 are not.
    let t49 = "あ".repeat(49);
    assert!(validate(&l(&t49), &[], &ctx(None, Profile::Youtube)).is_empty());
    let diags = validate(&l(&t50), &[], &ctx(None, Profile::Youtube));
    assert_eq!(
        diags[0].message,
        "chapter 2: the title is 50 characters; youtube cuts titles at about 49 characters on hover"
    );

    // MP4 chpl keeps 255 bytes: 86 × 3-byte characters = 258 bytes.
    let long = "あ".repeat(86);
    let mut c = ctx(None, Profile::Default);
    for (target, expect) in [
        (None, vec!["warning[title-too-long]"]),
        (Some(Target::Mp4), vec!["warning[title-too-long]"]),
        (Some(Target::Id3), vec![]),
        (Some(Target::Sidecar), vec![]),
    ] {
        c.target = target;
        assert_eq!(codes(&validate(&l(&long), &[], &c)), expect, "{target:?}");
    }
    c.target = Some(Target::Mp4);
    assert!(validate(&l(&"あ".repeat(85)), &[], &c).is_empty());
}

#[test]
fn urls_must_be_absolute_http() {
    let with = |u: &str| list(vec![at(0, "a"), at(60, "b").with_url(u), at(120, "c")]);
    for bad in [
        "ftp://example.com/x",
        "www.example.com",
        "/relative",
        "mailto:host@example.com",
        "javascript:alert(1)",
        "https://",
        "",
    ] {
        let diags = validate(&with(bad), &[], &ctx(None, Profile::Default));
        assert_eq!(codes(&diags), ["error[bad-url]"], "{bad:?}");
        assert!(
            diags[0].message.starts_with("chapter 2: url `"),
            "{}",
            diags[0].message
        );
    }
    for good in [
        "https://example.com",
        "http://example.com/a?b=c#d",
        "https://www.a16z.news/p/the-physical-ai-deployment-gap",
    ] {
        assert!(
            validate(&with(good), &[], &ctx(None, Profile::Default)).is_empty(),
            "{good}"
        );
    }
}

#[test]
fn urls_must_be_representable_in_the_target() {
    let idn = "https://例え.jp/パス";
    let l = list(vec![at(0, "a"), at(60, "b").with_url(idn), at(120, "c")]);
    let mut c = ctx(None, Profile::Default);
    for (target, expect) in [
        (None, vec!["warning[url-not-ascii]"]),
        (Some(Target::Id3), vec!["warning[url-not-ascii]"]),
        (Some(Target::Mp4), vec!["warning[url-not-ascii]"]),
        (Some(Target::Sidecar), vec![]),
    ] {
        c.target = target;
        assert_eq!(codes(&validate(&l, &[], &c)), expect, "{target:?}");
    }
    c.target = Some(Target::Id3);
    let diags = validate(&l, &[], &c);
    assert!(
        diags[0]
            .message
            .ends_with("it will be written as `https://xn--r8jz45g.jp/%E3%83%91%E3%82%B9`"),
        "{}",
        diags[0].message
    );
    assert_eq!(
        ascii_url(idn).as_deref(),
        Ok("https://xn--r8jz45g.jp/%E3%83%91%E3%82%B9")
    );

    // An href in an MP4 chapter track holds 255 bytes.
    let long = format!("https://example.com/{}", "a".repeat(240));
    let l = list(vec![at(0, "a"), at(60, "b").with_url(&long), at(120, "c")]);
    for (target, expect) in [
        (None, vec!["warning[url-too-long]"]),
        (Some(Target::Mp4), vec!["warning[url-too-long]"]),
        (Some(Target::Id3), vec![]),
    ] {
        c.target = target;
        assert_eq!(codes(&validate(&l, &[], &c)), expect, "{target:?}");
    }
}

#[test]
fn podcastindex_checks_images_as_urls() {
    let mut b = at(60, "b");
    b.image = Some("images/b.jpg".into());
    let mut c = at(120, "c");
    c.image = Some("https://example.com/c.jpg".into());
    let l = list(vec![at(0, "a"), b, c]);
    let diags = validate(&l, &[], &ctx(None, Profile::Podcastindex));
    assert_eq!(codes(&diags), ["error[bad-url]"]);
    assert_eq!(diags[0].chapter, Some(2));
    assert!(
        diags[0]
            .message
            .starts_with("chapter 2: image url `images/b.jpg`")
    );
    // Other profiles leave image paths alone (Podlove allows relative images).
    assert!(validate(&l, &[], &ctx(None, Profile::Default)).is_empty());
}

#[test]
fn too_many_for_container() {
    let chapters = |n: u64| list((0..n).map(|i| at(i * 10, "part")).collect());
    let mut c = ctx(Some(audio(3600)), Profile::Default);
    for target in [
        None,
        Some(Target::Id3),
        Some(Target::Mp4),
        Some(Target::Sidecar),
    ] {
        c.target = target;
        assert!(validate(&chapters(255), &[], &c).is_empty(), "{target:?}");
    }
    for (target, expect) in [
        (None, vec!["warning[too-many-for-container]"]),
        (Some(Target::Id3), vec!["error[too-many-for-container]"]),
        (Some(Target::Mp4), vec!["error[too-many-for-container]"]),
        (Some(Target::Sidecar), vec![]),
    ] {
        c.target = target;
        let diags = validate(&chapters(256), &[], &c);
        assert_eq!(codes(&diags), expect, "{target:?}");
    }
    c.target = Some(Target::Id3);
    let diags = validate(&chapters(300), &[], &c);
    assert_eq!(
        diags[0].message,
        "300 chapters; an id3 ctoc holds at most 255"
    );
    assert_eq!((diags[0].line, diags[0].chapter), (None, None));
}

#[test]
fn strict_makes_every_warning_an_error() {
    let (chapters, issues) = read_notes(&fixture("too-short.txt"));
    let d = Some(audio(2400));
    let default = validate(&chapters, &issues, &ctx(d, Profile::Default));
    let strict = validate(&chapters, &issues, &ctx(d, Profile::Strict));
    assert_eq!(codes(&default), ["warning[too-short]"]);
    assert_eq!(codes(&strict), ["error[too-short]"]);
    assert_eq!(
        default[0].message,
        strict[0].message.replace("strict", "default")
    );
    assert!(passed(&default, false));
    assert!(!passed(&default, true));
    assert!(!passed(&strict, false));
}

#[test]
fn diagnostics_are_sorted_list_first_then_by_line() {
    let l = list(vec![
        noted(3, "00:00", 0, "Intro"),
        noted(4, "00:02", 2_000, ""),
        noted(9, "41:30", 2_490_000, "Late"),
        noted(6, "10:00", 600_000, "Mid"),
    ]);
    let issues = [ParseIssue {
        line: 5,
        timestamp: "12:75".into(),
        kind: IssueKind::BadTimestamp,
        message: "bad".into(),
    }];
    let diags = validate(&l, &issues, &ctx(Some(audio(2400)), Profile::Youtube));
    let order: Vec<(Option<usize>, &str)> = diags.iter().map(|d| (d.line, d.rule.code())).collect();
    assert_eq!(
        order,
        [
            (Some(3), "too-short"),
            (Some(4), "empty-title"),
            (Some(5), "bad-timestamp"),
            (Some(6), "not-ascending"),
            (Some(9), "past-end"),
        ]
    );
    // Deterministic.
    assert_eq!(
        diags,
        validate(&l, &issues, &ctx(Some(audio(2400)), Profile::Youtube))
    );
    let empty = validate(
        &ChapterList::default(),
        &issues,
        &ctx(None, Profile::Youtube),
    );
    assert_eq!(
        empty[0].rule,
        Rule::TooFew,
        "whole-list diagnostics come first"
    );
}

// ---------------------------------------------------------------------------------------
// drift

#[test]
fn drift_reports_moves_renames_links_missing_and_extra() {
    let listed = list(vec![
        noted(2, "00:00", 0, "Intro"),
        noted(3, "12:59", 779_000, "News").with_url("https://例え.jp/パス"),
        noted(4, "25:05", 1_505_000, "Interview").with_url("https://example.com/a"),
        noted(5, "30:00", 1_800_000, "Questions"),
        noted(6, "35:00", 2_100_000, "Outro"),
    ]);
    // Same chapters with no differences (and the ID3 punycode form of the link).
    let mut same = listed.clone();
    for c in &mut same.chapters {
        c.origin = None;
    }
    same.chapters[1].link = Some(chapmark::Link::new(
        ascii_url("https://例え.jp/パス").expect("ascii"),
    ));
    assert!(drift(&same, &listed).is_empty());

    let embedded = list(vec![
        at(0, "Intro"),
        Chapter::new(Time::from_millis(778_500), "News")
            .with_url("https://xn--r8jz45g.jp/%E3%83%91%E3%82%B9"),
        at(1505, "The interview"),
        at(2000, "Bonus"),
        at(2100, "Outro").with_url("https://example.com/outro"),
    ]);
    let diags = drift(&embedded, &listed);
    assert!(
        diags
            .iter()
            .all(|d| d.rule == Rule::Drift && d.severity == Severity::Warning)
    );
    let messages: Vec<&str> = diags.iter().map(|d| d.message.as_str()).collect();
    assert_eq!(
        messages,
        [
            "chapter 2 (line 3): \"News\" starts at 12:58.500 in the file, 0.5 s earlier than the listed 12:59",
            "chapter 3 (line 4): the file has the title \"The interview\" where the list has \"Interview\"",
            "chapter 3 (line 4): the file has no link where the list has `https://example.com/a`",
            "chapter 4 (line 5): 30:00 \"Questions\" is in the list but not in the file",
            "chapter 5 (line 6): the file links to `https://example.com/outro`, the list has no link",
            "the file has a chapter at 33:20 \"Bonus\" that is not in the list",
        ]
    );
    assert_eq!(diags[0].line, Some(3));
    assert_eq!(diags[0].timestamp.as_deref(), Some("12:59"));
    assert_eq!((diags[5].chapter, diags[5].line), (None, None));
    assert_eq!(diags[5].timestamp.as_deref(), Some("33:20"));
}

#[test]
fn drift_accepts_a_title_cut_by_chpl() {
    let long = "あ".repeat(100); // 300 bytes
    let cut: String = long.chars().take(85).collect(); // 255 bytes
    let listed = list(vec![at(0, &long)]);
    let embedded = list(vec![at(0, &cut)]);
    assert!(drift(&embedded, &listed).is_empty());
    let embedded = list(vec![at(0, "あ")]);
    assert_eq!(drift(&embedded, &listed).len(), 1);
}

// ---------------------------------------------------------------------------------------
// robustness

proptest::proptest! {
    #[test]
    fn validate_never_panics_and_is_sorted(
        starts in proptest::collection::vec(0u64..5_000_000, 0..40),
        ends in proptest::collection::vec(proptest::option::of(0u64..5_000_000), 0..40),
        samples in 0u64..100_000_000,
        rate in 0u32..200_000,
        profile in 0usize..6,
        titles in proptest::collection::vec(".{0,60}", 0..40),
    ) {
        let chapters: Vec<Chapter> = starts.iter().enumerate().map(|(i, &s)| {
            let mut c = Chapter::new(Time::from_millis(s), titles.get(i).cloned().unwrap_or_default());
            c.end = ends.get(i).copied().flatten().map(Time::from_millis);
            c
        }).collect();
        let l = ChapterList::new(chapters);
        let p = Profile::ALL[profile];
        let c = Context { duration: Some(SampleTime::new(samples, rate)), profile: p, target: None, min_chapter: None, stream_changes: Vec::new() };
        let diags = validate(&l, &[], &c);
        let keys: Vec<_> = diags.iter().map(|d| (d.line.is_some() || d.chapter.is_some(), d.line, d.chapter)).collect();
        let mut sorted = keys.clone();
        sorted.sort();
        proptest::prop_assert_eq!(keys, sorted);
        let report = FileReport { path: "p".into(), source: None, duration: c.duration, diagnostics: diags, chapters: l.len() };
        let _ = render_text(&report, true, false);
        let _ = render_github(&report);
        let junit = render_junit(std::slice::from_ref(&report), false);
        proptest::prop_assert!(xml_is_well_formed(&junit));
        let _ = drift(&l, &l);
    }
}

// ---------------------------------------------------------------------------------------
// renderers

fn xml_is_well_formed(xml: &str) -> bool {
    let mut reader = quick_xml::Reader::from_str(xml);
    reader.config_mut().check_end_names = true;
    loop {
        match reader.read_event() {
            Ok(quick_xml::events::Event::Eof) => return true,
            Ok(_) => {}
            Err(_) => return false,
        }
    }
}

/// The mixed case for snapshots: a `12:75` line, a 3-second chapter, a chapter past the end
/// of a 40-minute file, an IDN link and a title with markup characters.
const MIXED_NOTES: &str = "Episode 12 — chapters
00:00 Intro
05:00 Sponsor: 50% off <today> & more
05:03 Interview
https://例え.jp/パス
12:75 Listener mail
41:30 Listener questions
";

fn mixed_report() -> FileReport {
    let (chapters, issues) = read_notes(MIXED_NOTES);
    let duration = Some(audio(40 * 60));
    let diagnostics = validate(&chapters, &issues, &ctx(duration, Profile::Default));
    FileReport {
        path: "episode 12.mp3".into(),
        source: Some("notes/ep12, final: v2.txt".into()),
        duration,
        diagnostics,
        chapters: chapters.len(),
    }
}

fn passing_report() -> FileReport {
    let (chapters, issues) = read_notes(&fixture("pep-think.txt"));
    let duration = Some(audio(38 * 60));
    let diagnostics = validate(&chapters, &issues, &ctx(duration, Profile::Default));
    FileReport {
        path: "pep-think.mp3".into(),
        source: Some("pep-think.txt".into()),
        duration,
        diagnostics,
        chapters: chapters.len(),
    }
}

#[test]
fn mixed_case_has_errors_and_warnings() {
    let r = mixed_report();
    assert_eq!(
        codes(&r.diagnostics),
        [
            "error[bad-timestamp]",
            "error[past-end]",
            "warning[too-short]",
            "warning[url-not-ascii]"
        ]
    );
    assert!(!passed(&r.diagnostics, false));
    assert!(passing_report().diagnostics.is_empty());
}

#[test]
fn snapshot_text() {
    insta::assert_snapshot!("mixed_text", render_text(&mixed_report(), false, false));
    insta::assert_snapshot!(
        "mixed_text_color",
        render_text(&mixed_report(), true, false)
    );
    insta::assert_snapshot!("passing_text", render_text(&passing_report(), false, false));
}

#[test]
fn text_colour_only_when_asked() {
    let plain = render_text(&mixed_report(), false, false);
    let colour = render_text(&mixed_report(), true, false);
    assert!(!plain.contains('\x1b'));
    assert!(colour.contains("\x1b[1;31merror[past-end]\x1b[0m"));
    assert!(
        render_text(&passing_report(), false, false)
            .starts_with("✓ pep-think.mp3: 3 chapters fit 38:00.000\n")
    );
    // Warnings only: passes, unless warnings are denied.
    let mut r = mixed_report();
    r.diagnostics.retain(|d| d.severity == Severity::Warning);
    assert!(
        render_text(&r, false, false)
            .starts_with("✓ episode 12.mp3: 4 chapters fit 40:00.000, 2 warnings\n")
    );
    assert!(
        render_text(&r, false, true)
            .starts_with("✗ episode 12.mp3: 0 errors, 2 warnings (warnings denied)")
    );
    // Unknown length.
    r.duration = None;
    r.diagnostics.clear();
    assert_eq!(
        render_text(&r, false, false),
        "✓ episode 12.mp3: 4 chapters ok (audio length not measured)\n"
    );
}

#[test]
fn snapshot_json() {
    insta::assert_snapshot!("mixed_json", render_json(&mixed_report(), false));
    insta::assert_snapshot!("passing_json", render_json(&passing_report(), false));
}

#[test]
fn json_shape() {
    let v: serde_json::Value =
        serde_json::from_str(&render_json(&mixed_report(), false)).expect("json");
    assert_eq!(v["ok"], false);
    assert_eq!(v["duration"], 2400.0);
    let d = &v["diagnostics"][0];
    for key in ["severity", "code", "line", "timestamp", "message"] {
        assert!(d.get(key).is_some(), "missing {key}");
    }
    assert_eq!(v["diagnostics"][0]["code"], "too-short");
    assert_eq!(v["diagnostics"][0]["severity"], "warning");
    assert_eq!(v["diagnostics"][0]["line"], 3);
    assert_eq!(v["diagnostics"][0]["timestamp"], "05:00");
    // Diagnostics round-trip through serde.
    let back: Vec<Diagnostic> =
        serde_json::from_value(v["diagnostics"].clone()).expect("diagnostics");
    assert_eq!(back, mixed_report().diagnostics);
    // ok follows deny_warnings.
    let mut r = mixed_report();
    r.diagnostics.retain(|d| d.severity == Severity::Warning);
    assert_eq!(json_value(&r, false)["ok"], true);
    assert_eq!(json_value(&r, true)["ok"], false);
    let mut r = passing_report();
    r.duration = None;
    assert!(json_value(&r, false)["duration"].is_null());
}

#[test]
fn snapshot_github() {
    insta::assert_snapshot!("mixed_github", render_github(&mixed_report()));
    assert_eq!(render_github(&passing_report()), "");
}

#[test]
fn github_commands_are_escaped() {
    let out = render_github(&mixed_report());
    for line in out.lines() {
        assert!(
            line.starts_with("::error file=notes/ep12%2C final%3A v2.txt,")
                || line.starts_with("::warning file=notes/ep12%2C final%3A v2.txt,"),
            "{line}"
        );
    }
    // One line per diagnostic: the hint's newline is escaped.
    assert_eq!(out.lines().count(), mixed_report().diagnostics.len());
    assert!(out.contains("%0Ahint: "));
    let mut r = mixed_report();
    r.diagnostics.truncate(1);
    r.diagnostics[0].message = "50% \r\n done".into();
    r.diagnostics[0].hint = None;
    assert_eq!(
        render_github(&r),
        "::warning file=notes/ep12%2C final%3A v2.txt,line=3,title=too-short::50%25 %0D%0A done\n"
    );
}

#[test]
fn snapshot_junit() {
    insta::assert_snapshot!("mixed_junit", render_junit(&[mixed_report()], false));
    insta::assert_snapshot!("passing_junit", render_junit(&[passing_report()], false));
    insta::assert_snapshot!(
        "batch_junit",
        render_junit(&[mixed_report(), passing_report()], false)
    );
}

#[test]
fn junit_is_well_formed_and_counts_failures() {
    let xml = render_junit(&[mixed_report(), passing_report()], false);
    assert!(xml_is_well_formed(&xml), "{xml}");
    assert_eq!(xml.matches("<testsuite ").count(), 2);
    // mixed: list (bad timestamp) + chapter 4 (past end) fail; the too-short warning does not.
    assert!(xml.contains("<testsuites name=\"chapmark\" tests=\"9\" failures=\"2\" errors=\"0\">"));
    let denied = render_junit(&[mixed_report()], true);
    assert!(denied.contains("failures=\"4\""), "{denied}");
    // Hostile titles cannot break the XML.
    let mut r = mixed_report();
    r.path = "a<b>&\"c\u{1}".into();
    r.diagnostics[0].message = "]]> <x/> \u{0} &amp;".into();
    assert!(xml_is_well_formed(&render_junit(&[r], false)));
    assert!(xml_is_well_formed(&render_junit(&[], false)));
}

#[test]
fn json_values_batch_into_an_array() {
    let all: Vec<serde_json::Value> = [mixed_report(), passing_report()]
        .iter()
        .map(|r| json_value(r, false))
        .collect();
    let by_file: BTreeMap<String, bool> = all
        .iter()
        .map(|v| {
            (
                v["file"].as_str().unwrap_or_default().to_string(),
                v["ok"].as_bool().unwrap_or(true),
            )
        })
        .collect();
    assert_eq!(by_file.get("episode 12.mp3"), Some(&false));
    assert_eq!(by_file.get("pep-think.mp3"), Some(&true));
}
