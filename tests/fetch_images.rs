//! `--fetch-images`: `http(s)` chapter images fetched for embedding from a local HTTP server
//! started by the test (a few lines of std networking): a good image is embedded byte for
//! byte; a timeout, an oversized body, a 404 and an HTML page served as 200 are each an
//! `image-fetch-failed` error naming the chapter and its line, and nothing is written.
//! Without the flag the URL stays a link.

mod common;

use assert_cmd::Command;
use common::{copy_fixture, fixture_bytes};
use serde_json::Value;
use std::io::{BufRead, BufReader, Write};
use std::net::TcpListener;
use std::path::{Path, PathBuf};
use std::time::Duration;

fn chapmark() -> Command {
    let mut c = Command::cargo_bin("chapmark").unwrap();
    c.env_remove("CHAPMARK_FAULT").env_remove("CHAPMARK_LOG");
    c
}

/// Serves, until the test process ends: `/red.jpg` (the fixture), `/slow.jpg` (answers
/// after 5 s), `/big.jpg` (3 MiB starting like a JPEG), `/page.jpg` (an HTML page, status
/// 200); anything else is a 404. Returns `http://127.0.0.1:PORT`.
fn serve() -> String {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let base = format!("http://{}", listener.local_addr().unwrap());
    let red = fixture_bytes("images/red.jpg");
    std::thread::spawn(move || {
        for stream in listener.incoming().flatten() {
            let red = red.clone();
            std::thread::spawn(move || {
                let mut reader = BufReader::new(stream.try_clone().unwrap());
                let mut request = String::new();
                reader.read_line(&mut request).unwrap();
                let path = request.split(' ').nth(1).unwrap_or("/").to_string();
                let mut line = String::new();
                while reader.read_line(&mut line).is_ok_and(|n| n > 2) {
                    line.clear();
                }
                let (status, kind, body) = match path.as_str() {
                    "/red.jpg" => ("200 OK", "image/jpeg", red),
                    "/slow.jpg" => {
                        std::thread::sleep(Duration::from_secs(5));
                        ("200 OK", "image/jpeg", red)
                    }
                    "/big.jpg" => {
                        let mut b = red;
                        b.resize(3 * 1024 * 1024, 0);
                        ("200 OK", "image/jpeg", b)
                    }
                    "/page.jpg" => ("200 OK", "text/html", b"<html>gone</html>".to_vec()),
                    _ => ("404 Not Found", "text/plain", b"no".to_vec()),
                };
                let mut s = stream;
                let head = format!(
                    "HTTP/1.1 {status}\r\nContent-Type: {kind}\r\nContent-Length: {}\r\nConnection: close\r\n\r\n",
                    body.len()
                );
                let _ = s.write_all(head.as_bytes());
                let _ = s.write_all(&body);
            });
        }
    });
    base
}

/// A Podlove Simple Chapters file in `dir` with one chapter per image URL, a second apart
/// (line 3 holds chapter 1).
fn chapters(dir: &Path, urls: &[String]) -> PathBuf {
    let mut psc = String::from(
        "<?xml version=\"1.0\"?>\n<psc:chapters version=\"1.2\" xmlns:psc=\"http://podlove.org/simple-chapters\">\n",
    );
    for (i, u) in urls.iter().enumerate() {
        psc.push_str(&format!(
            "<psc:chapter start=\"00:00:0{i}\" title=\"Chapter {}\" image=\"{u}\"/>\n",
            i + 1
        ));
    }
    psc.push_str("</psc:chapters>\n");
    let path = dir.join("c.psc");
    std::fs::write(&path, psc).unwrap();
    path
}

fn write(audio: &Path, chapters: &Path, fetch: bool) -> std::process::Output {
    let mut c = chapmark();
    c.arg("write").arg(audio).arg("-c").arg(chapters);
    if fetch {
        c.args(["--fetch-images", "--fetch-timeout", "1"]);
    }
    c.output().unwrap()
}

fn show(audio: &Path, images: &Path) -> Value {
    let o = chapmark()
        .arg("show")
        .arg(audio)
        .arg("--images")
        .arg(images)
        .output()
        .unwrap();
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    serde_json::from_slice(&o.stdout).unwrap()
}

#[test]
fn a_fetched_image_is_embedded_byte_for_byte_and_without_the_flag_stays_a_link() {
    let base = serve();
    let dir = tempfile::tempdir().unwrap();
    let url = format!("{base}/red.jpg");
    let list = chapters(dir.path(), &[url.clone(), url.clone()]);

    let audio = copy_fixture("audio/lame-cbr128.mp3", dir.path());
    let o = write(&audio, &list, true);
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    let out = dir.path().join("shown");
    let v = show(&audio, &out);
    let imgs: Vec<_> = v["chapters"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| PathBuf::from(c["img"].as_str().unwrap()))
        .collect();
    assert_eq!(
        imgs,
        [out.join("chapter-01.jpg"), out.join("chapter-02.jpg")]
    );
    for f in imgs {
        assert_eq!(std::fs::read(f).unwrap(), fixture_bytes("images/red.jpg"));
    }

    // Without --fetch-images nothing is fetched: the URL is written as a link.
    let plain = dir.path().join("plain");
    std::fs::create_dir(&plain).unwrap();
    let audio = copy_fixture("audio/lame-cbr128.mp3", &plain);
    let o = write(&audio, &list, false);
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    let v = show(&audio, &dir.path().join("plain-shown"));
    assert_eq!(v["chapters"][0]["img"], url.as_str());
}

#[test]
fn timeout_oversize_404_and_a_page_are_errors_naming_the_chapter_line() {
    let base = serve();
    let dir = tempfile::tempdir().unwrap();
    let urls: Vec<String> = ["red", "slow", "big", "missing", "page"]
        .iter()
        .map(|n| format!("{base}/{n}.jpg"))
        .collect();
    let list = chapters(dir.path(), &urls);
    let audio = copy_fixture("audio/lame-cbr128.mp3", dir.path());
    let before = std::fs::read(&audio).unwrap();
    let o = write(&audio, &list, true);
    assert_eq!(
        o.status.code(),
        Some(1),
        "{}",
        String::from_utf8_lossy(&o.stderr)
    );
    assert_eq!(std::fs::read(&audio).unwrap(), before, "nothing is written");
    let err = String::from_utf8_lossy(&o.stderr);
    let lines: Vec<&str> = err
        .lines()
        .filter(|l| l.contains("image-fetch-failed"))
        .collect();
    assert_eq!(lines.len(), 4, "{err}");
    let expect = [
        (2, "slow", "timed out"),
        (3, "big", "larger than 2097152 bytes"),
        (4, "missing", "the server answered 404"),
        (5, "page", "not a jpeg or png image (text/html, 17 bytes)"),
    ];
    for ((chapter, name, why), line) in expect.iter().zip(&lines) {
        assert!(line.contains(&format!("line {}", chapter + 2)), "{line}");
        assert!(line.contains(&format!("chapter {chapter}")), "{line}");
        assert!(line.contains(&format!("{base}/{name}.jpg")), "{line}");
        assert!(line.contains(why), "{line}");
    }
}
