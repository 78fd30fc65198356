//! `chapmark plot`: the picture's size, the chapter marks at their pixel columns, Japanese
//! titles, and the peaks cache.

use assert_cmd::Command;
use chapmark::Time;
use std::path::Path;

const EPISODE: &str = "fixtures/episode/pep-think-38min.m4a";
const NOTES: &str = "fixtures/notes/pep-think-episode.txt";

fn root(p: &str) -> std::path::PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join(p)
}

/// Runs `chapmark plot AUDIO -o OUT` with `args` before them; the audio is a copy of the
/// fixture in `dir`.
fn plot(dir: &Path, args: &[&str], out: &str) -> std::path::PathBuf {
    let audio = dir.join("ep.m4a");
    if !audio.exists() {
        std::fs::copy(root(EPISODE), &audio).unwrap();
    }
    let out = dir.join(out);
    Command::cargo_bin("chapmark")
        .unwrap()
        .arg("plot")
        .args(args)
        .arg(&audio)
        .arg("-o")
        .arg(&out)
        .assert()
        .success();
    out
}

/// Columns holding a vertical run of at least `min_run` pixels of `rgb`.
fn vertical_runs(png: &tiny_skia::Pixmap, rgb: [u8; 3], min_run: u32) -> Vec<u32> {
    let (w, h) = (png.width(), png.height());
    let mut cols = Vec::new();
    for x in 0..w {
        let mut run = 0;
        let mut best = 0;
        for y in 0..h {
            let p = png.pixel(x, y).unwrap();
            if [p.red(), p.green(), p.blue()] == rgb {
                run += 1;
                best = best.max(run);
            } else {
                run = 0;
            }
        }
        if best >= min_run {
            cols.push(x);
        }
    }
    cols
}

#[test]
fn marks_are_at_the_chapters_columns() {
    let tmp = tempfile::tempdir().unwrap();
    let width = 1200u32;
    let notes = root(NOTES);
    let out = plot(
        tmp.path(),
        &["--width", "1200", "-c", notes.to_str().unwrap()],
        "wave.png",
    );
    let audio = tmp.path().join("ep.m4a");
    let png = tiny_skia::Pixmap::load_png(&out).unwrap();
    assert_eq!(png.width(), width);
    assert!(
        png.height() > 300 && png.height() < 1000,
        "{}",
        png.height()
    );

    let list = chapmark::read_chapters(&root(NOTES)).unwrap().list;
    let duration = chapmark::probe(&audio).unwrap().duration.to_time_round();
    // The overview's axis: LEFT..width-RIGHT, documented in chapmark::plot.
    let plot_w = u64::from(width - chapmark::plot::LEFT - chapmark::plot::RIGHT);
    let expected: Vec<u32> = list
        .chapters
        .iter()
        .map(|c| {
            let x =
                (c.start.as_millis() * plot_w + duration.as_millis() / 2) / duration.as_millis();
            chapmark::plot::LEFT + u32::try_from(x).unwrap()
        })
        .collect();
    assert_eq!(expected.len(), 3);
    // 01:40 of 38:00 on 1168 columns is column 16 + 51.
    assert_eq!(expected[0], 16 + (100 * 1168 + 1140) / 2280);
    let found = vertical_runs(&png, chapmark::plot::MARK_COLOR, 100);
    assert_eq!(found, expected);
}

#[test]
fn japanese_titles_are_drawn_as_glyphs() {
    // A title in Japanese only: with no font covering it, resvg draws nothing, so the
    // label's area stays white.
    let tmp = tempfile::tempdir().unwrap();
    let notes = tmp.path().join("notes.txt");
    std::fs::write(&notes, "0:00 はじめに\n10:00 日本語のタイトル\n").unwrap();
    let out = plot(
        tmp.path(),
        &["--width", "800", "-c", notes.to_str().unwrap()],
        "wave.png",
    );
    let png = tiny_skia::Pixmap::load_png(&out).unwrap();
    let dark = |x0: u32, x1: u32, y0: u32, y1: u32| {
        (x0..x1)
            .flat_map(|x| (y0..y1).map(move |y| (x, y)))
            .filter(|&(x, y)| png.pixel(x, y).is_some_and(|p| p.red() < 128))
            .count()
    };
    // The first label ("1 はじめに") starts right of the mark at column 16, row 1 of labels.
    let x = chapmark::plot::LEFT;
    assert!(dark(x + 14, x + 80, 30, 46) > 30, "no glyphs drawn");
}

#[test]
fn svg_output_keeps_the_titles_as_text() {
    let tmp = tempfile::tempdir().unwrap();
    let notes = root(NOTES);
    let out = plot(
        tmp.path(),
        &["--no-cache", "-c", notes.to_str().unwrap()],
        "wave.svg",
    );
    let svg = std::fs::read_to_string(&out).unwrap();
    assert!(svg.starts_with("<svg"));
    assert!(svg.contains("レアアース輸出規制"));
    assert!(svg.contains("end 00:38:00.000"));
    assert!(
        !tmp.path().join("ep.m4a.peaks").exists(),
        "--no-cache wrote a cache"
    );
}

#[test]
fn the_peaks_cache_is_reused_until_the_audio_changes() {
    let tmp = tempfile::tempdir().unwrap();
    let audio = tmp.path().join("ep.m4a");
    std::fs::copy(root(EPISODE), &audio).unwrap();
    let cache = chapmark::audio::envelope::cache_path(&audio);
    assert_eq!(cache, tmp.path().join("ep.m4a.peaks"));

    let first = chapmark::audio::envelope(&audio, 500).unwrap();
    assert_eq!(first.peaks.len(), 500);
    assert_eq!(first.duration.to_time_round(), Time::from_secs(38 * 60));
    let written = std::fs::metadata(&cache).unwrap().modified().unwrap();
    let again = chapmark::audio::envelope(&audio, 500).unwrap();
    assert_eq!(
        std::fs::metadata(&cache).unwrap().modified().unwrap(),
        written
    );
    for (a, b) in first.peaks.iter().zip(&again.peaks) {
        assert!((a - b).abs() <= 1.0 / 65535.0);
    }

    // A file touched since (same size, another modification time) is decoded again.
    let f = std::fs::File::options().write(true).open(&audio).unwrap();
    f.set_modified(written - std::time::Duration::from_secs(3600))
        .unwrap();
    drop(f);
    let stale = std::fs::read(&cache).unwrap();
    chapmark::audio::envelope(&audio, 500).unwrap();
    assert_ne!(std::fs::read(&cache).unwrap(), stale);
}

#[test]
fn batch_plot_writes_one_picture_per_episode() {
    let tmp = tempfile::tempdir().unwrap();
    let eps = tmp.path().join("eps");
    std::fs::create_dir_all(eps.join("2026")).unwrap();
    for name in ["a", "2026/b"] {
        std::fs::copy(root(EPISODE), eps.join(format!("{name}.m4a"))).unwrap();
        std::fs::copy(root(NOTES), eps.join(format!("{name}.txt"))).unwrap();
    }
    let pics = tmp.path().join("pics");
    Command::cargo_bin("chapmark")
        .unwrap()
        .args(["batch", "--check", "-j", "1", "--plot"])
        .arg(&pics)
        .arg(&eps)
        .assert()
        .success();
    let mut names: Vec<String> = std::fs::read_dir(&pics)
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    names.sort();
    assert_eq!(names, ["2026_b.m4a.png", "a.m4a.png"]);
    let png = tiny_skia::Pixmap::load_png(pics.join("a.m4a.png")).unwrap();
    assert_eq!(png.width(), chapmark::plot::DEFAULT_WIDTH);
    assert_eq!(
        vertical_runs(&png, chapmark::plot::MARK_COLOR, 100).len(),
        3,
        "three chapters marked"
    );
}
