//! `chapmark feed`, `convert FEED --item`, `check --feed`: listing items and their chapter
//! sources, reading one item, adding `<podcast:chapters>` links byte-for-byte (checked with a
//! diff and an XML parse), a generated 500-item feed's speed, and drift between sources.

mod common;

use assert_cmd::Command;
use chapmark::feed;
use chapmark::format::{self, Format};
use std::time::{Duration, Instant};

const FEED: &str = "fixtures/feed/show.rss";
const PEP_JSON: &str = "fixtures/formats/pep-think.json";

fn chapmark() -> Command {
    let mut cmd = Command::cargo_bin("chapmark").expect("the chapmark binary is built");
    cmd.current_dir(env!("CARGO_MANIFEST_DIR"))
        .env("NO_COLOR", "1");
    cmd
}

fn stdout_of(cmd: &mut Command) -> String {
    let out = cmd.output().expect("runs");
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8(out.stdout).expect("utf-8")
}

/// Parses `xml` to the end with quick-xml, counting `<podcast:chapters>` tags.
fn parse_counting_links(xml: &str) -> usize {
    let mut reader = quick_xml::Reader::from_str(xml);
    let mut links = 0;
    loop {
        match reader.read_event() {
            Ok(quick_xml::events::Event::Empty(e)) if e.name().as_ref() == b"podcast:chapters" => {
                links += 1
            }
            Ok(quick_xml::events::Event::Eof) => return links,
            Ok(_) => {}
            Err(e) => panic!("not well-formed at {}: {e}", reader.error_position()),
        }
    }
}

/// `new` with the lines that contain `needle` removed must be `old` exactly, apart from the
/// namespace declaration added to `<rss>`.
fn assert_only_links_added(old: &str, new: &str) {
    let stripped: String = new
        .split_inclusive('\n')
        .filter(|l| !l.contains("<podcast:chapters url=\"https://cdn.example.com/"))
        .collect();
    let ns = " xmlns:podcast=\"https://podcastindex.org/namespace/1.0\"";
    // Only `<rss` gains it (an item may declare it on its own tag already).
    let rss = stripped.find("<rss").expect("rss");
    let at = stripped[rss..].find(ns).expect("namespace added") + rss;
    assert!(!stripped[rss..at].contains('>'), "added inside <rss …>");
    assert_eq!(
        format!("{}{}", &stripped[..at], &stripped[at + ns.len()..]),
        old
    );
}

#[test]
fn lists_items_and_their_chapter_sources() {
    let out = stdout_of(chapmark().args(["feed", FEED]));
    let lines: Vec<&str> = out.lines().collect();
    assert_eq!(lines.len(), 12, "{out}");
    assert_eq!(lines[0], "pep-think-1\tテクノロジー競争 & 経済安全保障");
    assert_eq!(
        lines[1],
        "  enclosure: https://example.com/ep1.mp3?src=rss&x=1"
    );
    // The CDATA description is HTML (`<p>01:40 Physical AI</p>`), read by the notes reader.
    assert_eq!(
        lines[2],
        "  chapters: psc (3 chapters); description (1 chapter)"
    );
    assert_eq!(
        lines[3],
        "https://example.com/episodes/2?a=1&b=2\tEpisode two"
    );
    assert_eq!(lines[5], "  chapters: description (3 chapters)");
    assert_eq!(
        lines[8],
        "  chapters: podcast:chapters https://example.com/ep3.json; description (2 chapters)"
    );
    assert_eq!(lines[11], "  chapters: none");
}

#[test]
fn convert_reads_one_items_psc_else_its_description() {
    let psc =
        stdout_of(chapmark().args(["convert", FEED, "--item", "pep-think-1", "--to", "mp4chaps"]));
    assert!(psc.starts_with("00:01:40.000 Physical AI"), "{psc}");
    assert_eq!(psc.lines().count(), 3);
    let desc = stdout_of(chapmark().args([
        "convert",
        FEED,
        "--item",
        "https://example.com/episodes/2?a=1&b=2",
        "--to",
        "audacity",
    ]));
    let starts: Vec<&str> = desc
        .lines()
        .map(|l| l.split('\t').next().unwrap_or(""))
        .collect();
    assert_eq!(starts, ["100.000000", "780.000000", "1505.000000"]);
    let out = chapmark()
        .args(["convert", FEED, "--item", "nope"])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("no item with guid or title \"nope\""));
}

#[test]
fn emit_json_adds_only_the_links_and_writes_each_items_chapters() {
    let dir = tempfile::tempdir().unwrap();
    let json_dir = dir.path().join("chapters");
    let out_feed = dir.path().join("feed.xml");
    let run = chapmark()
        .args(["feed", FEED, "--emit-json"])
        .arg(&json_dir)
        .args(["--base-url", "https://cdn.example.com/ch/", "-o"])
        .arg(&out_feed)
        .output()
        .unwrap();
    assert!(
        run.status.success(),
        "{}",
        String::from_utf8_lossy(&run.stderr)
    );
    let old = common::fixture_text("feed/show.rss");
    let new = std::fs::read_to_string(&out_feed).unwrap();
    assert_only_links_added(&old, &new);
    // Two items get links; the one that had a link keeps its own, the trailer has none.
    assert_eq!(parse_counting_links(&new), 3);
    assert!(new.contains("\t\t\t<podcast:chapters url=\"https://cdn.example.com/ch/pep-think-1.json\" type=\"application/json+chapters\"/>\n\t\t</item>"));
    let mut names: Vec<String> = std::fs::read_dir(&json_dir)
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    names.sort();
    assert_eq!(
        names,
        ["example.com-episodes-2-a-1-b-2.json", "pep-think-1.json"]
    );
    let json =
        std::fs::read_to_string(json_dir.join("example.com-episodes-2-a-1-b-2.json")).unwrap();
    let list = format::read(Format::Json, &json).unwrap();
    let starts: Vec<u64> = list.chapters.iter().map(|c| c.start.as_millis()).collect();
    assert_eq!(starts, [100_000, 780_000, 1_505_000]);
    // Python's parser agrees that the result is XML.
    let py = std::process::Command::new("python3")
        .args([
            "-c",
            "import sys, xml.dom.minidom as m; m.parse(sys.argv[1])",
        ])
        .arg(&out_feed)
        .status()
        .unwrap();
    assert!(py.success());
    // Running again adds nothing: every item with chapters is linked now.
    let again = stdout_of(
        chapmark()
            .args(["feed"])
            .arg(&out_feed)
            .arg("--emit-json")
            .arg(dir.path().join("again"))
            .args(["--base-url", "https://cdn.example.com/ch"]),
    );
    assert_eq!(again, new);
}

/// A feed of `n` items, each with PSC chapters or a description with chapters, in the
/// layout of common hosts (CRLF line ends to make sure they are kept too).
fn generated_feed(n: usize) -> String {
    let mut s = String::from(
        "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\r\n<rss version=\"2.0\" xmlns:psc=\"http://podlove.org/simple-chapters\">\r\n  <channel>\r\n    <title>Big</title>\r\n",
    );
    for i in 0..n {
        s.push_str(&format!("    <item>\r\n      <title>Episode {i} &amp; more</title>\r\n      <guid isPermaLink=\"false\">ep-{i}</guid>\r\n      <enclosure url=\"https://example.com/{i}.mp3\" length=\"1\" type=\"audio/mpeg\"/>\r\n"));
        if i % 2 == 0 {
            s.push_str("      <psc:chapters version=\"1.2\">\r\n");
            for c in 0..10 {
                s.push_str(&format!("        <psc:chapter start=\"00:{c:02}:00.000\" title=\"Part {c} of {i}\"/>\r\n"));
            }
            s.push_str("      </psc:chapters>\r\n");
        } else {
            s.push_str("      <description><![CDATA[Show notes\n");
            for c in 0..10 {
                s.push_str(&format!("{c:02}:00 Part {c} of {i}\n"));
            }
            s.push_str("]]></description>\r\n");
        }
        s.push_str("    </item>\r\n");
    }
    s.push_str("  </channel>\r\n</rss>\r\n");
    s
}

#[test]
fn five_hundred_items_in_well_under_a_second_byte_for_byte() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("big.xml");
    let text = generated_feed(500);
    std::fs::write(&path, &text).unwrap();
    // The library alone: scan, read every item's chapters, splice.
    let t = Instant::now();
    let scanned = feed::scan(&text).unwrap();
    let links: Vec<feed::ChapterLink> = (0..scanned.items.len())
        .map(|i| {
            let (_, list) = scanned.items[i].chapters(&text).unwrap().unwrap();
            assert_eq!(list.len(), 10);
            feed::ChapterLink {
                item: i,
                url: format!("https://cdn.example.com/ch/ep-{i}.json"),
            }
        })
        .collect();
    let out = feed::add_chapter_links(&text, &scanned, &links);
    let lib = t.elapsed();
    assert_eq!(scanned.items.len(), 500);
    assert_eq!(parse_counting_links(&out), 500);
    assert_only_links_added(&text.replace("\r\n", "\n"), &out.replace("\r\n", "\n"));
    // The whole command, with 500 JSON files written.
    let t = Instant::now();
    let run = chapmark()
        .args(["feed"])
        .arg(&path)
        .arg("--emit-json")
        .arg(dir.path().join("ch"))
        .args(["--base-url", "https://cdn.example.com/ch", "-o"])
        .arg(dir.path().join("out.xml"))
        .output()
        .unwrap();
    let cli = t.elapsed();
    assert!(run.status.success());
    assert_eq!(
        std::fs::read_to_string(dir.path().join("out.xml")).unwrap(),
        out
    );
    assert_eq!(
        std::fs::read_dir(dir.path().join("ch")).unwrap().count(),
        500
    );
    eprintln!("500 items: library {lib:?}, command {cli:?}");
    // Generous for a debug build on a shared machine; the release figures are in benches/.
    assert!(cli < Duration::from_secs(5), "{cli:?}");
}

#[test]
fn check_reports_a_one_second_drift_between_description_and_file() {
    let dir = tempfile::tempdir().unwrap();
    let audio = common::copy_fixture("episode/pep-think-38min.mp3", dir.path());
    let w = chapmark()
        .arg("write")
        .arg(&audio)
        .args(["--chapters", PEP_JSON])
        .output()
        .unwrap();
    assert!(w.status.success(), "{}", String::from_utf8_lossy(&w.stderr));
    let item = "https://example.com/episodes/2?a=1&b=2";
    let out = chapmark()
        .arg("check")
        .arg(&audio)
        .args([
            "--feed",
            FEED,
            "--item",
            item,
            "--chapters",
            PEP_JSON,
            "--format",
            "json",
        ])
        .output()
        .unwrap();
    let report: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    let drift: Vec<&str> = report["diagnostics"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|d| d["code"] == "drift")
        .map(|d| d["message"].as_str().unwrap())
        .collect();
    // The file and the JSON agree; the description is one second late against both.
    let want = |other: &str| {
        format!(
            "starts at 13:00 in {FEED} description and at 12:59 in {other} (1 s later in {FEED} description)"
        )
    };
    assert_eq!(drift.len(), 2, "{drift:#?}");
    assert!(
        drift[0].ends_with(&want("the file")) || drift[1].ends_with(&want("the file")),
        "{drift:#?}"
    );
    assert!(
        drift.iter().any(|m| m.ends_with(&want(PEP_JSON))),
        "{drift:#?}"
    );
    assert_eq!(out.status.code(), Some(0), "drift is a warning");
    // Without the description the sources agree.
    let same = chapmark()
        .arg("check")
        .arg(&audio)
        .args([
            "--chapters",
            PEP_JSON,
            "--chapters",
            "fixtures/formats/pep-think.psc",
            "--deny-warnings",
        ])
        .output()
        .unwrap();
    assert!(
        same.status.success(),
        "{}",
        String::from_utf8_lossy(&same.stdout)
    );
}

#[test]
fn a_malformed_or_non_rss_feed_is_an_input_error_with_its_line() {
    let dir = tempfile::tempdir().unwrap();
    let bad = dir.path().join("bad.xml");
    std::fs::write(
        &bad,
        "<rss>\n<channel>\n<item><title>a</item>\n</channel></rss>\n",
    )
    .unwrap();
    let out = chapmark().arg("feed").arg(&bad).output().unwrap();
    assert_eq!(out.status.code(), Some(3));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("feed line 3: malformed xml"), "{err}");
    std::fs::write(
        &bad,
        "<feed xmlns=\"http://www.w3.org/2005/Atom\"></feed>\n",
    )
    .unwrap();
    let out = chapmark().arg("feed").arg(&bad).output().unwrap();
    assert_eq!(out.status.code(), Some(3));
    assert!(String::from_utf8_lossy(&out.stderr).contains("not an rss feed"));
}
