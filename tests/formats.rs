//! Chapter-file formats: fixtures read field by field, detection, round trips, a conversion
//! matrix across every readable format, exact writer bytes, error messages, and ffmpeg
//! reading our ffmetadata for real.

mod common;

use chapmark::format::{self, Format, FormatError, MAX_CHAPTERS, WriteOptions};
use chapmark::{Chapter, ChapterList, ListMeta, Time};
use std::path::PathBuf;

fn fixture(name: &str) -> String {
    common::fixture_text(&format!("formats/{name}"))
}

const T1: &str = "Physical AIの「実装ギャップ」──研究と現場のあいだにある深い溝";
const T2: &str = "レアアース輸出規制と台湾抑止──中国の「経済的シグナリング」と日本の課題";
const T3: &str = "AI競争という神話──非対称的な「AI二極化」と日本の立ち位置";
const U1: &str = "https://www.a16z.news/p/the-physical-ai-deployment-gap";
const U2: &str = "https://www.csis.org/analysis/chinas-rare-earth-campaign-against-japan";
const U3: &str = "https://www.foreignaffairs.com/united-states/myth-ai-race";

/// The PEP Think chapters as (start ms, title, url).
fn pep_expected() -> Vec<(Time, &'static str, Option<&'static str>)> {
    vec![
        (Time::from_secs(100), T1, Some(U1)),
        (Time::from_secs(779), T2, Some(U2)),
        (Time::from_secs(1505), T3, Some(U3)),
    ]
}

fn pep_meta() -> ListMeta {
    ListMeta {
        title: Some("テクノロジー競争と経済安全保障".into()),
        podcast: Some("PEP Think".into()),
        author: Some("政策起業家プラットフォーム(PEP)".into()),
    }
}

fn pep_list() -> ChapterList {
    ChapterList {
        chapters: pep_expected()
            .into_iter()
            .map(|(t, title, url)| {
                let c = Chapter::new(t, title);
                match url {
                    Some(u) => c.with_url(u),
                    None => c,
                }
            })
            .collect(),
        meta: pep_meta(),
    }
}

const PEP_DURATION: Time = Time::from_secs(2280);

/// (line, timestamp as written) of every chapter.
fn origins(list: &ChapterList) -> Vec<(usize, String)> {
    list.chapters
        .iter()
        .map(|c| {
            let o = c.origin.clone().expect("readers set an origin");
            (o.line, o.timestamp)
        })
        .collect()
}

fn lines_and_stamps(v: &[(usize, &str)]) -> Vec<(usize, String)> {
    v.iter().map(|&(l, s)| (l, s.to_string())).collect()
}

fn ends(list: &ChapterList) -> Vec<Option<Time>> {
    list.chapters.iter().map(|c| c.end).collect()
}

fn secs(v: &[u64]) -> Vec<Option<Time>> {
    v.iter().map(|&s| Some(Time::from_secs(s))).collect()
}

// ---------------------------------------------------------------- fixtures, field by field

#[test]
fn json_fixture() {
    let text = fixture("pep-think.json");
    assert_eq!(format::detect(&text), Format::Json);
    let list = format::read(Format::Json, &text).unwrap();
    assert_eq!(list.comparable(), pep_expected());
    assert_eq!(list.meta, pep_meta());
    assert_eq!(ends(&list), secs(&[779, 1505, 2280]));
    assert!(list.chapters.iter().all(|c| c.toc && c.image.is_none()));
    assert_eq!(
        origins(&list),
        lines_and_stamps(&[(7, "100"), (13, "779"), (19, "1505")])
    );
}

#[test]
fn json_fixture_with_every_field() {
    let text = fixture("features.json");
    assert_eq!(format::detect(&text), Format::Json);
    let list = format::read(Format::Json, &text).unwrap();
    let c = &list.chapters;
    assert_eq!(c.len(), 4);
    assert_eq!(c[0].title, "Cold open");
    assert!(!c[0].toc, "toc: false means hidden");
    assert!(c[1].toc);
    assert_eq!(c[1].start, Time::from_millis(12_500));
    assert_eq!(c[1].title, "A \"quoted\" & <tagged> title");
    assert_eq!(c[1].image.as_deref(), Some("https://example.com/art/2.jpg"));
    assert_eq!(c[1].url(), Some("https://example.com/?a=1&b=2"));
    assert_eq!(c[2].start, Time::from_millis(61_040));
    assert_eq!(c[2].end, Some(Time::from_secs(90)));
    assert_eq!(
        c[3].start,
        Time::from_millis(3_723_457),
        "rounded to the ms"
    );
    assert_eq!(
        origins(&list),
        lines_and_stamps(&[(4, "0"), (5, "12.5"), (6, "61.04"), (7, "3723.4567")])
    );
    assert_eq!(list.meta, ListMeta::default());
}

#[test]
fn psc_fixture() {
    let text = fixture("pep-think.psc");
    assert_eq!(format::detect(&text), Format::Psc);
    let list = format::read(Format::Psc, &text).unwrap();
    assert_eq!(list.comparable(), pep_expected());
    assert_eq!(
        origins(&list),
        lines_and_stamps(&[(4, "01:40"), (5, "00:12:59.000"), (6, "1505")])
    );
}

#[test]
fn psc_inside_an_rss_feed() {
    let text = fixture("pep-think-feed.rss");
    assert_eq!(format::detect(&text), Format::Psc);
    let list = format::read(Format::Psc, &text).unwrap();
    assert_eq!(list.comparable(), pep_expected());
    assert_eq!(
        list.chapters.iter().map(|c| c.line()).collect::<Vec<_>>(),
        [Some(15), Some(16), Some(17)]
    );
}

#[test]
fn vtt_fixture() {
    let text = fixture("pep-think.vtt");
    assert_eq!(format::detect(&text), Format::Vtt);
    let list = format::read(Format::Vtt, &text).unwrap();
    assert_eq!(list.comparable(), pep_expected());
    assert_eq!(ends(&list), secs(&[779, 1505, 2280]));
    assert_eq!(
        origins(&list),
        lines_and_stamps(&[
            (7, "00:01:40.000"),
            (11, "00:12:59.000"),
            (15, "00:25:05.000")
        ])
    );
}

#[test]
fn ffmetadata_fixture() {
    let text = fixture("pep-think.ffmetadata");
    assert_eq!(format::detect(&text), Format::Ffmetadata);
    let list = format::read(Format::Ffmetadata, &text).unwrap();
    assert_eq!(list.comparable(), pep_expected());
    assert_eq!(list.meta, pep_meta());
    assert_eq!(ends(&list), secs(&[779, 1505, 2280]));
    assert_eq!(
        origins(&list),
        lines_and_stamps(&[(9, "100000"), (16, "779000"), (23, "1505000")])
    );
}

#[test]
fn ffmetadata_written_by_ffmpeg_itself() {
    // Made by make-ffmpeg-fixture.sh: nanosecond TIMEBASE, upper-case ARTIST/ALBUM/URL.
    let text = fixture("pep-think.ffmpeg.ffmetadata");
    assert_eq!(format::detect(&text), Format::Ffmetadata);
    let list = format::read(Format::Ffmetadata, &text).unwrap();
    assert_eq!(list.comparable(), pep_expected());
    assert_eq!(list.meta, pep_meta());
    assert_eq!(ends(&list), secs(&[779, 1505, 2280]));
}

#[test]
fn mp4chaps_fixture() {
    let text = fixture("pep-think.chapters.txt");
    assert_eq!(format::detect(&text), Format::Mp4chaps);
    let list = format::read(Format::Mp4chaps, &text).unwrap();
    assert_eq!(list.comparable(), pep_expected());
    assert_eq!(
        origins(&list),
        lines_and_stamps(&[
            (2, "00:01:40.000"),
            (3, "00:12:59.000"),
            (4, "00:25:05.000")
        ])
    );
}

#[test]
fn cue_fixture() {
    let text = fixture("pep-think.cue");
    assert_eq!(format::detect(&text), Format::Cue);
    let list = format::read(Format::Cue, &text).unwrap();
    assert_eq!(list.comparable(), pep_expected());
    assert_eq!(list.meta.title, pep_meta().title);
    assert_eq!(list.meta.author, pep_meta().author);
    assert_eq!(
        origins(&list),
        lines_and_stamps(&[(10, "01:40:00"), (14, "12:59:00"), (18, "25:05:00")])
    );
}

#[test]
fn description_fixture_is_text_and_matches_the_writer() {
    let text = fixture("pep-think-description.txt");
    assert_eq!(format::detect(&text), Format::Text);
    let written = format::write(Format::Text, &pep_list(), &WriteOptions::default());
    assert_eq!(String::from_utf8(written).unwrap(), text);
}

// ---------------------------------------------------------------- detection

#[test]
fn detection_of_every_fixture() {
    let cases = [
        ("pep-think.json", Format::Json),
        ("features.json", Format::Json),
        ("pep-think.psc", Format::Psc),
        ("pep-think-feed.rss", Format::Psc),
        ("pep-think.vtt", Format::Vtt),
        ("pep-think.ffmetadata", Format::Ffmetadata),
        ("pep-think.ffmpeg.ffmetadata", Format::Ffmetadata),
        ("pep-think.chapters.txt", Format::Mp4chaps),
        ("pep-think.cue", Format::Cue),
        ("pep-think-description.txt", Format::Text),
        ("bad/malformed.json", Format::Json),
        ("bad/missing-start.json", Format::Json),
        ("bad/missing-start.psc", Format::Psc),
        ("bad/bad-timestamp.vtt", Format::Vtt),
        ("bad/bad-timebase.ffmetadata", Format::Ffmetadata),
        ("bad/bad-start.ffmetadata", Format::Ffmetadata),
        ("bad/bad-frames.cue", Format::Cue),
    ];
    for (name, want) in cases {
        assert_eq!(format::detect(&fixture(name)), want, "{name}");
    }
}

#[test]
fn detection_tolerates_bom_and_whitespace_and_defaults_to_text() {
    assert_eq!(format::detect("\u{feff}\n\n  WEBVTT\n"), Format::Vtt);
    assert_eq!(format::detect("\u{feff}  {\"chapters\": []}"), Format::Json);
    assert_eq!(format::detect("\r\n;FFMETADATA1\r\n"), Format::Ffmetadata);
    assert_eq!(format::detect(""), Format::Text);
    assert_eq!(
        format::detect("{\"title\": \"not chapters\"}"),
        Format::Text
    );
    assert_eq!(format::detect("<html><body>hi</body></html>"), Format::Text);
    // Show-notes styles stay Text: short times, bare URLs, prose around the chapter lines.
    assert_eq!(format::detect("0:00 Intro\n1:02:03 End\n"), Format::Text);
    assert_eq!(
        format::detect("0:00:00.000 Intro https://x.test/\n"),
        Format::Text
    );
    assert_eq!(
        format::detect("About this episode\n00:00:00.000 Intro\n"),
        Format::Text
    );
    assert_eq!(
        format::detect("# mp4chaps\n00:00:00.000 Intro\n123:00:00.500 Late\n"),
        Format::Mp4chaps
    );
    let long = ChapterList::new(vec![
        Chapter::new(Time::ZERO, "Intro"),
        Chapter::new(Time::from_secs(3723), "Late"),
    ]);
    let text = format::write(Format::Text, &long, &WriteOptions::default());
    assert_eq!(
        format::detect(std::str::from_utf8(&text).unwrap()),
        Format::Text
    );
    // The show-notes samples of the notes helper are descriptions, not chapter files.
    for name in ["pep-think-episode.txt", "pep-think-weekly-page.txt"] {
        let path = PathBuf::from(env!("CARGO_MANIFEST_DIR"))
            .join("fixtures/notes")
            .join(name);
        if let Ok(notes) = std::fs::read_to_string(&path) {
            assert_eq!(format::detect(&notes), Format::Text, "{name}");
        }
    }
}

// ---------------------------------------------------------------- round trips

const READABLE: [Format; 6] = [
    Format::Json,
    Format::Psc,
    Format::Vtt,
    Format::Ffmetadata,
    Format::Mp4chaps,
    Format::Cue,
];

fn write_str(f: Format, list: &ChapterList, opts: &WriteOptions) -> String {
    let bytes = format::write(f, list, opts);
    assert_eq!(
        bytes,
        format::write(f, list, opts),
        "{f} output is deterministic"
    );
    String::from_utf8(bytes).expect("writers emit UTF-8")
}

fn round_trip(f: Format, list: &ChapterList, opts: &WriteOptions) -> ChapterList {
    let text = write_str(f, list, opts);
    assert_eq!(
        format::detect(&text),
        f,
        "written {f} detects as {f}:\n{text}"
    );
    format::read(f, &text).unwrap_or_else(|e| panic!("{e}\n{text}"))
}

/// Titles every format must keep exactly (CUE only without `"`, see its module docs).
fn tricky_titles(with_quotes: bool) -> Vec<&'static str> {
    let mut v = vec![
        T1,
        "Q&A: <b>bold</b> & 'single' — a --> b",
        "ffmetadata = ; # \\ escapes",
        "絵文字 😀 and é, ñ, 한국어",
        "ends with a > sign >",
        "&amp; literally",
    ];
    if with_quotes {
        v.push("He said \"hi\" and left");
    }
    v
}

fn tricky_list(with_quotes: bool) -> ChapterList {
    let titles = tricky_titles(with_quotes);
    let chapters = titles
        .iter()
        .enumerate()
        .map(|(i, t)| {
            // 40 ms multiples, so the CUE frame grid (1/75 s) holds them exactly.
            let c = Chapter::new(Time::from_millis(i as u64 * 61_040 + 40), *t);
            if i % 2 == 0 {
                c.with_url(format!("https://example.com/{i}?a=1&b=2#frag"))
            } else {
                c
            }
        })
        .collect();
    ChapterList::new(chapters)
}

#[test]
fn every_format_round_trips_tricky_titles() {
    for f in READABLE {
        let list = tricky_list(f != Format::Cue);
        let back = round_trip(f, &list, &WriteOptions::with_duration(Some(PEP_DURATION)));
        assert_eq!(back.comparable(), list.comparable(), "{f}");
    }
}

#[test]
fn every_format_round_trips_the_pep_list_with_meta_where_carried() {
    for f in READABLE {
        let back = round_trip(f, &pep_list(), &WriteOptions::default());
        assert_eq!(back.comparable(), pep_expected(), "{f}");
        let want_meta = match f {
            Format::Json | Format::Ffmetadata => pep_meta(),
            Format::Cue => ListMeta {
                podcast: None,
                ..pep_meta()
            },
            _ => ListMeta::default(),
        };
        assert_eq!(back.meta, want_meta, "{f}");
    }
}

#[test]
fn millisecond_times_survive_every_format_but_cue() {
    let list = ChapterList::new(vec![
        Chapter::new(Time::from_millis(1), "one ms"),
        Chapter::new(Time::from_millis(12_345), "odd"),
        Chapter::new(Time::from_millis(360_000_999), "100 hours"),
    ]);
    for f in READABLE {
        let back = round_trip(f, &list, &WriteOptions::default());
        let starts: Vec<u64> = back.chapters.iter().map(|c| c.start.as_millis()).collect();
        if f == Format::Cue {
            // Rounded to the nearest 1/75 s: never more than 7 ms away.
            for (got, want) in starts.iter().zip([1u64, 12_345, 360_000_999]) {
                assert!(got.abs_diff(want) <= 7, "cue {got} vs {want}");
            }
        } else {
            assert_eq!(starts, [1, 12_345, 360_000_999], "{f}");
        }
    }
}

#[test]
fn json_and_psc_keep_images_and_json_keeps_hidden_chapters() {
    let mut list = pep_list();
    list.chapters[0].image = Some("https://example.com/a.jpg?x=1&y=2".into());
    list.chapters[1].toc = false;
    let back = round_trip(Format::Json, &list, &WriteOptions::default());
    assert_eq!(back.chapters[0].image, list.chapters[0].image);
    assert_eq!(
        back.chapters.iter().map(|c| c.toc).collect::<Vec<_>>(),
        [true, false, true]
    );
    let back = round_trip(Format::Psc, &list, &WriteOptions::default());
    assert_eq!(back.chapters[0].image, list.chapters[0].image);
}

#[test]
fn ends_follow_the_duration_where_formats_carry_them() {
    let opts = WriteOptions::with_duration(Some(PEP_DURATION));
    for f in [Format::Json, Format::Vtt, Format::Ffmetadata] {
        let back = round_trip(f, &pep_list(), &opts);
        assert_eq!(ends(&back), secs(&[779, 1505, 2280]), "{f}");
    }
    // Without the audio length JSON leaves endTime out entirely (optional in the spec).
    let back = round_trip(Format::Json, &pep_list(), &WriteOptions::default());
    assert_eq!(ends(&back), vec![None, None, None]);
}

#[test]
fn conversion_matrix_keeps_times_titles_and_urls() {
    let mut source = pep_list();
    source
        .chapters
        .insert(0, Chapter::new(Time::ZERO, "オープニング & intro <0>"));
    source
        .chapters
        .push(Chapter::new(Time::from_millis(2_000_040), "Q&A = ; # \\ -->").with_url(U1));
    let want = source.comparable();
    let opts = WriteOptions::with_duration(Some(PEP_DURATION));
    for from in READABLE {
        let first = round_trip(from, &source, &opts);
        for to in READABLE {
            let text = write_str(to, &first, &opts);
            let back = format::read(format::detect(&text), &text)
                .unwrap_or_else(|e| panic!("{from} → {to}: {e}\n{text}"));
            assert_eq!(back.comparable(), want, "{from} → {to}\n{text}");
        }
    }
}

#[test]
fn empty_lists_write_valid_files() {
    let empty = ChapterList::default();
    for f in [
        Format::Json,
        Format::Psc,
        Format::Vtt,
        Format::Ffmetadata,
        Format::Cue,
    ] {
        let back = round_trip(f, &empty, &WriteOptions::default());
        assert!(back.is_empty(), "{f}");
    }
    // mp4chaps and text have no header: an empty list is an empty file.
    assert!(format::write(Format::Mp4chaps, &empty, &WriteOptions::default()).is_empty());
    assert!(format::write(Format::Text, &empty, &WriteOptions::default()).is_empty());
}

// ---------------------------------------------------------------- exact bytes

#[test]
fn writer_snapshots_for_the_pep_list() {
    let opts = WriteOptions {
        duration: Some(PEP_DURATION),
        audio_file: Some("pep-think.mp3".into()),
    };
    let mut settings = insta::Settings::clone_current();
    settings.set_snapshot_path("../fixtures/formats/snapshots");
    settings.set_prepend_module_to_snapshot(false);
    settings.bind(|| {
        for f in Format::ALL {
            let text = write_str(f, &pep_list(), &opts);
            insta::assert_snapshot!(format!("pep-think-{}", f.name()), text);
        }
    });
}

// ---------------------------------------------------------------- errors

fn read_err(f: Format, name: &str) -> FormatError {
    format::read(f, &fixture(name)).expect_err(name)
}

#[test]
fn errors_name_format_and_line() {
    let malformed = read_err(Format::Json, "bad/malformed.json");
    assert_eq!(malformed.line(), Some(5), "{malformed}");
    assert!(
        malformed
            .to_string()
            .starts_with("json line 5: expected `,` or `]`"),
        "{malformed}"
    );
    assert_eq!(
        read_err(Format::Json, "bad/missing-start.json").to_string(),
        "json line 5: chapter 2: missing startTime"
    );
    assert_eq!(
        read_err(Format::Psc, "bad/missing-start.psc").to_string(),
        "psc line 7: missing start attribute"
    );
    assert_eq!(
        read_err(Format::Vtt, "bad/bad-timestamp.vtt").to_string(),
        "vtt line 6: bad timestamp `00:12:75.000`: seconds 75 out of range (must be below 60)"
    );
    assert_eq!(
        read_err(Format::Ffmetadata, "bad/bad-timebase.ffmetadata").to_string(),
        "ffmetadata line 11: TIMEBASE=1/0 is not a valid time base (expected num/den, both above zero)"
    );
    assert_eq!(
        read_err(Format::Ffmetadata, "bad/bad-start.ffmetadata").to_string(),
        "ffmetadata line 11: START=abc is not a number"
    );
    assert_eq!(
        read_err(Format::Mp4chaps, "bad/bad-timestamp.chapters.txt").to_string(),
        "mp4chaps line 2: bad timestamp `00:12:75.000`: seconds 75 out of range (must be below 60)"
    );
    assert_eq!(
        read_err(Format::Cue, "bad/bad-frames.cue").to_string(),
        "cue line 7: bad timestamp `01:02:80`: frames 80 out of range (must be below 75)"
    );
    assert_eq!(
        read_err(Format::Cue, "bad/empty.cue"),
        FormatError::Empty {
            format: Format::Cue
        }
    );
    assert_eq!(
        read_err(Format::Json, "bad/empty.json").to_string(),
        "json: empty file"
    );
    for f in READABLE {
        let e = format::read(f, " \n\t\n").unwrap_err();
        assert_eq!(e, FormatError::Empty { format: f });
        assert_eq!(e.format(), f);
    }
}

#[test]
fn json_value_errors() {
    let e = |t: &str| format::read(Format::Json, t).unwrap_err().to_string();
    assert_eq!(
        e("{\"chapters\": [\n{\"startTime\": -3}]}"),
        "json line 2: chapter 1: startTime -3 is negative"
    );
    assert_eq!(
        e("{\"chapters\": [{\"startTime\": 1},\n {\"startTime\": \"90\"}]}"),
        "json line 2: chapter 2: startTime must be a number of seconds, found \"90\""
    );
    assert_eq!(
        e("[1, 2]"),
        "json line 1: expected a json object with a \"chapters\" array"
    );
    assert_eq!(
        e("{\"version\": \"1.2.0\"}"),
        "json line 1: no \"chapters\" array"
    );
    assert_eq!(
        e("{\n\"chapters\": {}}"),
        "json line 2: \"chapters\" must be an array"
    );
    assert_eq!(
        e("{\"chapters\": [{\"startTime\": 1, \"toc\": \"no\"}]}"),
        "json line 1: chapter 1: toc must be true or false, found \"no\""
    );
}

#[test]
fn too_many_chapters_is_refused() {
    let mut text = String::with_capacity((MAX_CHAPTERS + 1) * 16);
    for i in 0..=MAX_CHAPTERS {
        text.push_str(&Time::from_millis(i as u64).hms_millis());
        text.push_str(" c\n");
    }
    let e = format::read(Format::Mp4chaps, &text).unwrap_err();
    assert_eq!(
        e,
        FormatError::TooManyChapters {
            format: Format::Mp4chaps,
            line: MAX_CHAPTERS + 1,
            max: MAX_CHAPTERS
        }
    );
    assert!(e.to_string().contains("more than 100000 chapters"), "{e}");
}

// ---------------------------------------------------------------- ffmpeg, for real

#[test]
fn ffmpeg_reads_our_ffmetadata() {
    require_tools!("ffmpeg", "ffprobe");
    let dir = tempfile::tempdir().unwrap();
    let mut list = tricky_list(true);
    list.meta.title = Some("Ep = 1; #1".into());
    let meta_path = dir.path().join("chapters.ffmetadata");
    let duration = Time::from_secs(400);
    std::fs::write(
        &meta_path,
        format::write(
            Format::Ffmetadata,
            &list,
            &WriteOptions::with_duration(Some(duration)),
        ),
    )
    .unwrap();
    let out = dir.path().join("out.mka");
    let status = std::process::Command::new("ffmpeg")
        .args(["-v", "error", "-y", "-f", "lavfi", "-t", "400", "-i"])
        .arg("anullsrc=r=8000:cl=mono")
        .arg("-i")
        .arg(&meta_path)
        .args([
            "-map",
            "0",
            "-map_metadata",
            "1",
            "-map_chapters",
            "1",
            "-c:a",
            "flac",
        ])
        .arg(&out)
        .status()
        .expect("ffmpeg is installed (CI installs it)");
    assert!(status.success());
    let probe = std::process::Command::new("ffprobe")
        .args([
            "-v",
            "error",
            "-show_chapters",
            "-show_format",
            "-of",
            "json",
        ])
        .arg(&out)
        .output()
        .expect("ffprobe is installed");
    assert!(probe.status.success());
    let v: serde_json::Value = serde_json::from_slice(&probe.stdout).unwrap();
    let chapters = v["chapters"].as_array().unwrap();
    assert_eq!(chapters.len(), list.len());
    for (i, (c, p)) in list.chapters.iter().zip(chapters).enumerate() {
        let start_ms = p["start_time"].as_str().unwrap().parse::<f64>().unwrap() * 1000.0;
        let end_ms = p["end_time"].as_str().unwrap().parse::<f64>().unwrap() * 1000.0;
        assert_eq!(start_ms.round() as u64, c.start.as_millis(), "chapter {i}");
        let want_end = list.end_of(i, Some(duration)).unwrap();
        assert_eq!(end_ms.round() as u64, want_end.as_millis(), "chapter {i}");
        assert_eq!(
            p["tags"]["title"].as_str(),
            Some(c.title.as_str()),
            "chapter {i}"
        );
        assert_eq!(p["tags"]["URL"].as_str(), c.url(), "chapter {i}");
    }
    assert_eq!(v["format"]["tags"]["title"].as_str(), Some("Ep = 1; #1"));
}

#[test]
fn ffmpeg_shows_vtt_titles_but_not_the_url_identifiers() {
    require_tools!("ffmpeg");
    // ffmpeg's WebVTT demuxer, like browsers, keeps the cue identifier out of the text.
    let dir = tempfile::tempdir().unwrap();
    let list = ChapterList::new(vec![
        Chapter::new(Time::ZERO, "Q&A <b> 日本語 a --> b").with_url(U1),
        Chapter::new(Time::from_secs(100), T1).with_url(U2),
    ]);
    let path = dir.path().join("chapters.vtt");
    std::fs::write(
        &path,
        format::write(
            Format::Vtt,
            &list,
            &WriteOptions::with_duration(Some(PEP_DURATION)),
        ),
    )
    .unwrap();
    let out = std::process::Command::new("ffmpeg")
        .args(["-v", "error", "-i"])
        .arg(&path)
        .args(["-f", "srt", "-"])
        .output()
        .expect("ffmpeg is installed (CI installs it)");
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let srt = String::from_utf8(out.stdout).unwrap();
    assert!(srt.contains("Q&A <b> 日本語 a --> b"), "{srt}");
    assert!(srt.contains(T1), "{srt}");
    assert!(srt.contains("00:01:40,000 --> 00:38:00,000"), "{srt}");
    assert!(
        !srt.contains("https://"),
        "identifiers must not be displayed:\n{srt}"
    );
}

// ---------------------------------------------------------------- properties

mod props {
    use super::*;
    use proptest::prelude::*;

    fn title() -> impl Strategy<Value = String> {
        "[a-zA-Z0-9 &<>'=;#\\\\日本語「」──é😀-]{1,24}"
            .prop_map(|s| s.trim().to_string())
            .prop_filter("non-empty after trim", |s| !s.is_empty())
    }

    fn url() -> impl Strategy<Value = Option<String>> {
        proptest::option::of("https://example\\.com/[a-z0-9/?=&%-]{0,20}")
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(48))]

        #[test]
        fn random_lists_round_trip(
            items in proptest::collection::vec((0u64..360_000_000, title(), url()), 1..8)
        ) {
            for f in READABLE {
                let chapters = items
                    .iter()
                    .map(|(ms, t, u)| {
                        // CUE keeps 1/75 s: use 40 ms steps there.
                        let ms = if f == Format::Cue { ms / 40 * 40 } else { *ms };
                        let c = Chapter::new(Time::from_millis(ms), t.clone());
                        match u {
                            Some(u) => c.with_url(u.clone()),
                            None => c,
                        }
                    })
                    .collect();
                let list = ChapterList::new(chapters);
                let text = String::from_utf8(format::write(f, &list, &WriteOptions::default())).unwrap();
                prop_assert_eq!(format::detect(&text), f);
                let back = format::read(f, &text);
                prop_assert!(back.is_ok(), "{} {:?}\n{}", f, back, text);
                let back = back.unwrap_or_default();
                prop_assert_eq!(back.comparable(), list.comparable(), "{}\n{}", f, text);
            }
        }

        #[test]
        fn readers_never_panic(text in "\\PC{0,200}", lines in proptest::collection::vec("[ -~\t]{0,40}", 0..12)) {
            let joined = lines.join("\n");
            for f in Format::ALL {
                let _ = format::read(f, &text);
                let _ = format::read(f, &joined);
                let _ = format::read(f, &format!("WEBVTT\n\n{joined}"));
                let _ = format::read(f, &format!(";FFMETADATA1\n[CHAPTER]\n{joined}"));
                let _ = format::read(f, &format!("{{\"chapters\":[{joined}]}}"));
            }
            let _ = format::detect(&text);
            let _ = format::detect(&joined);
        }
    }
}
