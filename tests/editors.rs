//! Editor exports (Audacity, Audition, REAPER) and the HTML fragment: real and hand-written
//! fixtures read field by field, detection, notes told apart from chapters, round trips and
//! line-numbered errors.

mod common;

use chapmark::format::{self, Format, WriteOptions};
use chapmark::{Chapter, ChapterList, Time};

fn fixture(name: &str) -> String {
    common::fixture_text(&format!("formats/{name}"))
}

fn starts_ms(list: &ChapterList) -> Vec<u64> {
    list.chapters.iter().map(|c| c.start.as_millis()).collect()
}

fn titles(list: &ChapterList) -> Vec<&str> {
    list.chapters.iter().map(|c| c.title.as_str()).collect()
}

fn read_detected(name: &str, want: Format) -> ChapterList {
    let text = fixture(name);
    assert_eq!(format::detect(&text), want, "{name}");
    format::read(want, &text).unwrap_or_else(|e| panic!("{name}: {e}"))
}

#[test]
fn real_audition_export() {
    let list = read_detected("real/audition-chapter-tagger.markers.csv", Format::Audition);
    assert_eq!(starts_ms(&list), [76_655, 640_290]);
    assert_eq!(
        titles(&list),
        [
            "First chapter in the list",
            "Second and last chapter in the list"
        ]
    );
    assert_eq!(list.chapters[1].line(), Some(3));
    assert_eq!(list.chapters[1].written_timestamp(), "10:40.290");
    assert!(
        list.chapters
            .iter()
            .all(|c| c.end.is_none() && c.description.is_none())
    );
}

#[test]
fn real_audacity_export() {
    let text = fixture("real/crowsetta-405_marron1.audacity.txt");
    let list = read_detected("real/crowsetta-405_marron1.audacity.txt", Format::Audacity);
    assert_eq!(list.len(), text.lines().count());
    // `4.8755150652	5.5349650372	H`, line 11: rounded to the millisecond.
    let h = &list.chapters[10];
    assert_eq!(
        (h.start.as_millis(), h.end.map(Time::as_millis)),
        (4_876, Some(5_535))
    );
    assert_eq!((h.title.as_str(), h.line()), ("H", Some(11)));
    assert_eq!(list.chapters[0].written_timestamp(), "0.0");
}

#[test]
fn audacity_extended_format_skips_frequency_lines_and_notes() {
    let list = read_detected("editors/pep-think-extended.audacity.txt", Format::Audacity);
    assert_eq!(starts_ms(&list), [0, 100_000, 779_000, 1_505_000]);
    assert_eq!(titles(&list)[2], "Rare earths & Japan");
    assert_eq!(list.chapters[2].end, Some(Time::from_secs(1505)));
    assert_eq!(list.chapters[1].end, None, "a point label has no end");
    assert_eq!(list.chapters[2].line(), Some(6));
}

#[test]
fn reaper_regions_are_chapters_and_markers_notes() {
    let list = read_detected("editors/pep-think.regions.csv", Format::Reaper);
    assert_eq!(starts_ms(&list), [0, 100_000, 779_000, 1_505_000]);
    assert_eq!(titles(&list)[2], "Rare earths, Japan & \"signalling\"");
    assert_eq!(list.chapters[3].end, Some(Time::from_secs(2280)));
    let list = read_detected("editors/pep-think-markers.reaper.csv", Format::Reaper);
    assert_eq!(starts_ms(&list), [0, 100_000, 779_000, 1_505_000]);
    assert!(!titles(&list).iter().any(|t| t.contains("cough")));
}

#[test]
fn audition_sample_and_frame_times() {
    let list = read_detected("editors/pep-think-samples.markers.csv", Format::Audition);
    assert_eq!(starts_ms(&list), [0, 100_000, 779_000]);
    assert_eq!(list.chapters[2].end, Some(Time::from_secs(1505)));
    assert_eq!(
        list.chapters[1].description.as_deref(),
        Some("https://www.a16z.news/p/the-physical-ai-deployment-gap")
    );
    let list = read_detected("editors/pep-think-frames.markers.csv", Format::Audition);
    assert_eq!(starts_ms(&list), [0, 100_000, 779_480]);
}

#[test]
fn errors_name_format_and_line() {
    let cases = [
        (
            "bad/bad-start.markers.csv",
            Format::Audition,
            3,
            "seconds 75 out of range",
        ),
        (
            "bad/bars-beats.regions.csv",
            Format::Reaper,
            2,
            "bars.beats",
        ),
        (
            "bad/backwards.audacity.txt",
            Format::Audacity,
            2,
            "ends at 10.000000 before",
        ),
    ];
    for (name, f, line, text) in cases {
        let err = format::read(f, &fixture(name)).unwrap_err();
        assert_eq!(err.line(), Some(line), "{name}: {err}");
        let msg = err.to_string();
        assert!(msg.starts_with(&format!("{f} line {line}: ")), "{msg}");
        assert!(msg.contains(text), "{msg}");
    }
}

fn sample_list() -> ChapterList {
    let mut c = vec![
        Chapter::new(Time::ZERO, "Intro"),
        Chapter::new(Time::from_millis(100_040), "Q&A, \"live\" <b> — 絵文字 😀"),
        Chapter::new(Time::from_millis(3_723_500), " spaced , title "),
    ];
    c[1].end = Some(Time::from_secs(3000));
    ChapterList::new(c)
}

#[test]
fn editor_formats_round_trip_the_fixtures_and_tricky_titles() {
    let fixtures = [
        ("real/audition-chapter-tagger.markers.csv", Format::Audition),
        ("real/crowsetta-405_marron1.audacity.txt", Format::Audacity),
        ("editors/pep-think-extended.audacity.txt", Format::Audacity),
        ("editors/pep-think.regions.csv", Format::Reaper),
        ("editors/pep-think-markers.reaper.csv", Format::Reaper),
        ("editors/pep-think-samples.markers.csv", Format::Audition),
    ];
    for (name, f) in fixtures {
        let list = read_detected(name, f);
        let text = String::from_utf8(format::write(f, &list, &WriteOptions::default())).unwrap();
        assert_eq!(format::detect(&text), f, "{name}\n{text}");
        let back = format::read(f, &text).unwrap_or_else(|e| panic!("{name}: {e}\n{text}"));
        assert_eq!(starts_ms(&back), starts_ms(&list), "{name}");
        assert_eq!(titles(&back), titles(&list), "{name}");
    }
    let list = sample_list();
    let opts = WriteOptions::with_duration(Some(Time::from_secs(4000)));
    for f in [Format::Audacity, Format::Audition, Format::Reaper] {
        let text = String::from_utf8(format::write(f, &list, &opts)).unwrap();
        assert_eq!(format::detect(&text), f, "{f}\n{text}");
        let back = format::read(f, &text).unwrap_or_else(|e| panic!("{f}: {e}\n{text}"));
        assert_eq!(starts_ms(&back), starts_ms(&list), "{f}\n{text}");
        // REAPER's CSV fields are trimmed on reading (see its module docs).
        let want: Vec<&str> = titles(&list)
            .into_iter()
            .map(|t| if f == Format::Reaper { t.trim() } else { t })
            .collect();
        assert_eq!(titles(&back), want, "{f}\n{text}");
        assert_eq!(
            back.chapters[1].end,
            Some(Time::from_secs(3000)),
            "{f}\n{text}"
        );
    }
}

#[test]
fn writers_use_each_editors_layout() {
    let list = sample_list();
    let w = |f| String::from_utf8(format::write(f, &list, &WriteOptions::default())).unwrap();
    assert_eq!(
        w(Format::Audacity).lines().nth(1),
        Some("100.040000\t3000.000000\tQ&A, \"live\" <b> — 絵文字 😀")
    );
    assert_eq!(
        w(Format::Audition).lines().nth(3),
        Some(" spaced , title \t1:02:03.500\t0:00.000\tdecimal\tCue\t")
    );
    // Without a length the last end is unknown, so REAPER gets markers.
    assert_eq!(
        w(Format::Reaper).lines().nth(3),
        Some("M3,\" spaced , title \",1:02:03.500,,")
    );
}

#[test]
fn html_fragment_links_timestamps_and_escapes() {
    let mut list = sample_list();
    list.chapters[0] = Chapter::new(Time::ZERO, "Intro").with_url("https://x.test/?a=1&b=\"2\"");
    let html =
        String::from_utf8(format::write(Format::Html, &list, &WriteOptions::default())).unwrap();
    let lines: Vec<&str> = html.lines().collect();
    assert_eq!(
        lines,
        [
            "<p><a href=\"#t=0:00:00\">0:00:00</a> Intro <a href=\"https://x.test/?a=1&amp;b=&quot;2&quot;\">https://x.test/?a=1&amp;b=\"2\"</a></p>",
            "<p><a href=\"#t=0:01:40.040\">0:01:40.040</a> Q&amp;A, \"live\" &lt;b&gt; — 絵文字 😀</p>",
            "<p><a href=\"#t=1:02:03.500\">1:02:03.500</a>  spaced , title </p>",
        ]
    );
    // Well-formed: every fragment parses as XML inside one root element.
    let doc = format!("<div>{html}</div>");
    let mut reader = quick_xml::Reader::from_str(&doc);
    let mut paragraphs = 0;
    loop {
        match reader.read_event() {
            Ok(quick_xml::events::Event::Start(e)) if e.name().as_ref() == b"p" => paragraphs += 1,
            Ok(quick_xml::events::Event::Eof) => break,
            Ok(_) => {}
            Err(e) => panic!("{e}\n{doc}"),
        }
    }
    assert_eq!(paragraphs, 3);
    assert_eq!(Format::from_file_name("notes.html"), Some(Format::Html));
}

#[test]
fn html_fragment_reads_back_through_the_description_reader() {
    let list = ChapterList::new(vec![
        Chapter::new(Time::from_secs(100), "Q&A <live>").with_url("https://x.test/?a=1&b=2"),
        Chapter::new(Time::from_secs(779), "Rare earths"),
    ]);
    let html = format::write(Format::Html, &list, &WriteOptions::default());
    let (_, parsed) = format::read_any(&html, Some(Format::Html)).unwrap();
    assert_eq!(parsed.list.comparable(), list.comparable());
}

fn chapmark() -> assert_cmd::Command {
    let mut cmd = assert_cmd::Command::cargo_bin("chapmark").expect("the chapmark binary is built");
    cmd.current_dir(env!("CARGO_MANIFEST_DIR"))
        .env("NO_COLOR", "1");
    cmd
}

#[test]
fn convert_skips_note_markers_by_prefix_and_by_regex() {
    let dir = tempfile::tempdir().unwrap();
    let labels = dir.path().join("ep.labels.txt");
    std::fs::write(
        &labels,
        "0.000000\t0.000000\tIntro\n61.500000\t61.500000\tEDIT: room tone\n100.000000\t100.000000\tMain\n200.000000\t200.000000\t// fix breath\n300.000000\t300.000000\tfix levels later\n",
    )
    .unwrap();
    let run = |extra: &[&str]| {
        let out = chapmark()
            .arg("convert")
            .arg(&labels)
            .args(["--to", "mp4chaps"])
            .args(extra)
            .output()
            .unwrap();
        (
            out.status.code(),
            String::from_utf8_lossy(&out.stdout).into_owned(),
            String::from_utf8_lossy(&out.stderr).into_owned(),
        )
    };
    // The `//` note is always skipped; the others need the regex.
    let (code, out, _) = run(&[]);
    assert_eq!(code, Some(0));
    assert_eq!(out.lines().count(), 4, "{out}");
    assert!(!out.contains("fix breath"));
    let (code, out, _) = run(&["--skip-markers", r"(?i)^(edit|fix)\b"]);
    assert_eq!(code, Some(0));
    assert_eq!(out, "00:00:00.000 Intro\n00:01:40.000 Main\n");
    let (code, _, err) = run(&["--skip-markers", "("]);
    assert_eq!(code, Some(2));
    assert!(err.contains("--skip-markers \"(\""), "{err}");
}
