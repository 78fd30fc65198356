//! Real published show notes (`fixtures/notes/real/`) through the real reader.
//!
//! Each notes file has a hand-written `NAME.expected.tsv` next to it: the chapters a listener
//! sees (`start<TAB>title<TAB>url`, `#` lines are comments, a file with none has no chapters).
//! A chapter is *exact* when a parsed chapter has the same start and exactly the same title;
//! a parsed chapter at a start no expected chapter has is *false* (invented); one at an
//! expected start with another title is a miss, not a false chapter.
//! The corpus figures are printed per file and in total (`cargo test --test notes_real --
//! --nocapture`), and the test fails below the targets of issue 22. `holdout/` holds notes set
//! aside while the reader was tuned; its figures estimate how well the rules generalise.

use chapmark::format::text::{NoteKind, parse_timestamp};
use chapmark::validate::{Context, Rule};
use std::collections::HashMap;
use std::fmt::Write as _;
use std::path::{Path, PathBuf};

/// One expected chapter.
struct Want {
    start: u64,
    title: String,
    url: Option<String>,
}

fn corpus_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("fixtures/notes/real")
}

/// The notes files of one directory (everything but the expected files and the README).
fn notes_files(dir: &Path) -> Vec<PathBuf> {
    let mut files: Vec<PathBuf> = std::fs::read_dir(dir)
        .unwrap_or_else(|e| panic!("{}: {e}", dir.display()))
        .filter_map(|e| e.ok().map(|e| e.path()))
        .filter(|p| p.is_file())
        .filter(|p| {
            let name = p.file_name().and_then(|n| n.to_str()).unwrap_or("");
            !name.ends_with(".expected.tsv") && name != "SOURCES.md"
        })
        .collect();
    files.sort();
    files
}

fn expected_path(notes: &Path) -> PathBuf {
    let stem = notes.file_stem().and_then(|s| s.to_str()).unwrap_or("");
    notes.with_file_name(format!("{stem}.expected.tsv"))
}

fn read_expected(path: &Path) -> Vec<Want> {
    let text = std::fs::read_to_string(path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    text.lines()
        .filter(|l| !l.trim().is_empty() && !l.starts_with('#'))
        .map(|l| {
            let mut cols = l.split('\t');
            let start = cols.next().unwrap_or("");
            let title = cols.next().unwrap_or("").to_string();
            let url = cols.next().filter(|u| !u.is_empty()).map(str::to_string);
            let start = parse_timestamp(start)
                .unwrap_or_else(|e| panic!("{}: bad expected time {start:?}: {e}", path.display()))
                .as_millis();
            Want { start, title, url }
        })
        .collect()
}

/// Figures for a set of files.
#[derive(Default)]
struct Tally {
    files: usize,
    expected: usize,
    exact: usize,
    parsed: usize,
    invented: usize,
    urls_expected: usize,
    urls_right: usize,
    /// Files without chapters that produced chapters anyway.
    no_chapter_files_with_chapters: Vec<String>,
    /// Files without chapters whose rejection message does not say what the reader saw.
    unclear_rejections: Vec<String>,
    report: String,
}

impl Tally {
    fn exact_rate(&self) -> f64 {
        ratio(self.exact, self.expected)
    }
    fn false_rate(&self) -> f64 {
        ratio(self.invented, self.parsed)
    }
}

fn ratio(a: usize, b: usize) -> f64 {
    if b == 0 { 0.0 } else { a as f64 / b as f64 }
}

fn run(dir: &Path) -> Tally {
    let mut t = Tally::default();
    for path in notes_files(dir) {
        let name = path
            .file_name()
            .and_then(|n| n.to_str())
            .unwrap_or("?")
            .to_string();
        let want = read_expected(&expected_path(&path));
        let bytes = std::fs::read(&path).unwrap_or_else(|e| panic!("{name}: {e}"));
        let (_, parsed) =
            chapmark::format::read_any(&bytes, None).unwrap_or_else(|e| panic!("{name}: {e}"));
        let got = &parsed.list.chapters;

        // Multiset match on (start, exact title).
        let mut pool: HashMap<(u64, &str), usize> = HashMap::new();
        for c in got {
            *pool
                .entry((c.start.as_millis(), c.title.as_str()))
                .or_default() += 1;
        }
        let mut exact = 0;
        let mut misses = Vec::new();
        for w in &want {
            match pool.get_mut(&(w.start, w.title.as_str())) {
                Some(n) if *n > 0 => {
                    *n -= 1;
                    exact += 1;
                    if let Some(url) = &w.url {
                        t.urls_expected += 1;
                        let same = got.iter().any(|c| {
                            c.start.as_millis() == w.start
                                && c.title == w.title
                                && c.url() == Some(url.as_str())
                        });
                        if same {
                            t.urls_right += 1;
                        } else {
                            misses.push(format!("    url of {:?}: want {url}", w.title));
                        }
                    }
                }
                _ => misses.push(format!(
                    "    missing {} {:?}",
                    chapmark::Time::from_millis(w.start).short(),
                    w.title
                )),
            }
        }
        // Parsed chapters left over: a wrong title at an expected start, or an invented one.
        let mut starts: HashMap<u64, usize> = HashMap::new();
        for w in &want {
            *starts.entry(w.start).or_default() += 1;
        }
        for c in got {
            if pool.get(&(c.start.as_millis(), c.title.as_str())) == Some(&0) {
                if let Some(n) = starts.get_mut(&c.start.as_millis()) {
                    *n = n.saturating_sub(1);
                }
            }
        }
        let mut invented = Vec::new();
        for c in got {
            let key = (c.start.as_millis(), c.title.as_str());
            let Some(n) = pool.get_mut(&key).filter(|n| **n > 0) else {
                continue;
            };
            *n -= 1;
            match starts.get_mut(&c.start.as_millis()).filter(|n| **n > 0) {
                Some(s) => {
                    *s -= 1;
                    misses.push(format!("    got     {} {:?}", c.start.short(), c.title));
                }
                None => invented.push(format!("    invented {} {:?}", c.start.short(), c.title)),
            }
        }

        t.files += 1;
        t.expected += want.len();
        t.exact += exact;
        t.parsed += got.len();
        t.invented += invented.len();
        let _ = writeln!(
            t.report,
            "{name:48} {exact:3}/{:<3} exact, {:2} false",
            want.len(),
            invented.len()
        );
        for l in misses.iter().chain(&invented) {
            let _ = writeln!(t.report, "{l}");
        }

        if want.is_empty() {
            if !got.is_empty() {
                t.no_chapter_files_with_chapters.push(name.clone());
            }
            // The rejection must say what the reader saw, not only the generic hint.
            let diags = parsed.validate(&Context::default());
            let clear = diags.iter().any(|d| {
                d.rule == Rule::TooFew && d.hint.as_deref().is_some_and(|h| h.contains("lines"))
            });
            let seen = parsed.notes.iter().any(|n| n.kind == NoteKind::NoChapters);
            if got.is_empty() && !(clear && seen) {
                t.unclear_rejections.push(name.clone());
            }
            if let Some(d) = diags.iter().find(|d| d.rule == Rule::TooFew) {
                let _ = writeln!(
                    t.report,
                    "    rejected: {} ({})",
                    d.message,
                    d.hint.as_deref().unwrap_or("")
                );
            }
        }
    }
    let _ = writeln!(
        t.report,
        "{} files: {}/{} chapters exact ({:.1} %), {} of {} parsed chapters false ({:.1} %), urls {}/{}",
        t.files,
        t.exact,
        t.expected,
        100.0 * t.exact_rate(),
        t.invented,
        t.parsed,
        100.0 * t.false_rate(),
        t.urls_right,
        t.urls_expected,
    );
    t
}

fn assert_targets(t: &Tally, exact: f64, false_max: f64) {
    assert!(
        t.exact_rate() >= exact,
        "exact-match rate {:.1} % is below {:.0} %",
        100.0 * t.exact_rate(),
        100.0 * exact
    );
    assert!(
        t.false_rate() <= false_max,
        "false-chapter rate {:.1} % is above {:.0} %",
        100.0 * t.false_rate(),
        100.0 * false_max
    );
    assert!(
        t.no_chapter_files_with_chapters.is_empty(),
        "chapters invented in notes without chapters: {:?}",
        t.no_chapter_files_with_chapters
    );
    assert!(
        t.unclear_rejections.is_empty(),
        "notes without chapters rejected without saying what was seen: {:?}",
        t.unclear_rejections
    );
}

#[test]
fn corpus_of_real_notes() {
    let t = run(&corpus_dir());
    println!("{}", t.report);
    assert!(
        t.files >= 37 && t.expected >= 400,
        "corpus shrank: {} files",
        t.files
    );
    assert_targets(&t, 0.98, 0.01);
}

#[test]
fn holdout_notes_generalise() {
    let t = run(&corpus_dir().join("holdout"));
    println!("holdout:\n{}", t.report);
    assert!(t.files >= 8, "holdout shrank: {} files", t.files);
    // The hidden evaluation's targets for notes the rules were not tuned on.
    assert_targets(&t, 0.95, 0.01);
}
