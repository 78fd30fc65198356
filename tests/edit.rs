//! `chapmark edit` end to end: the page driven in Debian's headless Chromium through
//! Playwright (tests/node/edit.mjs), and the server's refusals sent as raw HTTP (a browser
//! cannot forge `Host`). Screenshots go to a temporary folder, or to `docs/` with
//! `CHAPMARK_SCREENSHOTS=1` (how the README's pictures were made).

mod common;

use common::{fixture, require};
use serde_json::Value;
use std::io::{BufRead, BufReader, Read, Write};
use std::net::TcpStream;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::Duration;

const EPISODE: &str = "episode/pep-think-38min.m4a";
const NOTES: &str = "notes/pep-think-episode.txt";

/// A running `chapmark edit --no-open`, stopped (killed) when dropped.
struct Editor {
    child: Child,
    url: String,
    port: u16,
    token: String,
}

impl Editor {
    fn start(audio: &Path, chapters: Option<&Path>) -> Editor {
        let mut cmd = Command::new(env!("CARGO_BIN_EXE_chapmark"));
        cmd.arg("edit").arg("--no-open").arg(audio);
        if let Some(c) = chapters {
            cmd.arg("--chapters").arg(c);
        }
        let mut child = cmd
            .stdout(Stdio::piped())
            .stderr(Stdio::null())
            .spawn()
            .unwrap();
        let mut line = String::new();
        let stdout = child.stdout.take().unwrap();
        BufReader::new(stdout).read_line(&mut line).unwrap();
        let url = line.trim().to_string();
        let rest = url.strip_prefix("http://127.0.0.1:").expect(&url);
        let (port, token) = rest.split_once("/?token=").expect(&url);
        Editor {
            port: port.parse().unwrap(),
            token: token.to_string(),
            url,
            child,
        }
    }

    /// The status line of a raw request (`path` as sent, headers given).
    fn status(&self, path: &str, headers: &[(&str, String)]) -> u16 {
        let mut s = TcpStream::connect(("127.0.0.1", self.port)).unwrap();
        s.set_read_timeout(Some(Duration::from_secs(10))).unwrap();
        let mut req = format!("GET {path} HTTP/1.1\r\nConnection: close\r\n");
        for (k, v) in headers {
            req.push_str(&format!("{k}: {v}\r\n"));
        }
        req.push_str("\r\n");
        s.write_all(req.as_bytes()).unwrap();
        let mut head = [0u8; 12];
        s.read_exact(&mut head).unwrap();
        std::str::from_utf8(&head[9..12]).unwrap().parse().unwrap()
    }

    /// Waits up to `secs` for the server to stop by itself; its exit status.
    fn exits_within(&mut self, secs: u64) -> Option<std::process::ExitStatus> {
        for _ in 0..secs * 10 {
            if let Some(st) = self.child.try_wait().unwrap() {
                return Some(st);
            }
            std::thread::sleep(Duration::from_millis(100));
        }
        None
    }

    fn host(&self) -> (&'static str, String) {
        ("Host", format!("127.0.0.1:{}", self.port))
    }
}

impl Drop for Editor {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn browser_ready() -> bool {
    require(&["node", "chromium", "playwright-core"])
}

fn shots_dir(tmp: &Path) -> PathBuf {
    if std::env::var_os("CHAPMARK_SCREENSHOTS").is_some() {
        Path::new(env!("CARGO_MANIFEST_DIR")).join("docs")
    } else {
        tmp.to_path_buf()
    }
}

/// `node tests/node/edit.mjs SCENARIO URL AUDIO SHOTS`, its JSON line.
fn drive(scenario: &str, ed: &Editor, audio: &Path, shots: &Path) -> Value {
    let script = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/node/edit.mjs");
    let o = Command::new("node")
        .arg(script)
        .args([scenario, &ed.url])
        .arg(audio)
        .arg(shots)
        .output()
        .unwrap();
    assert!(
        o.status.success(),
        "{}{}",
        String::from_utf8_lossy(&o.stdout),
        String::from_utf8_lossy(&o.stderr)
    );
    serde_json::from_slice(&o.stdout).unwrap()
}

/// A copy of the silent PEP Think fixture; for the README's pictures, a speech-like MP3 of
/// the same length instead (benches/make-speechlike.sh), so the waveform shows something.
fn episode_for_pictures(dir: &Path) -> PathBuf {
    if std::env::var_os("CHAPMARK_SCREENSHOTS").is_none() {
        let audio = dir.join("pep-think.m4a");
        std::fs::copy(fixture(EPISODE), &audio).unwrap();
        return audio;
    }
    let audio = dir.join("pep-think.mp3");
    let script = Path::new(env!("CARGO_MANIFEST_DIR")).join("benches/make-speechlike.sh");
    let st = Command::new("bash")
        .arg(script)
        .arg("2280")
        .arg(&audio)
        .status()
        .unwrap();
    assert!(st.success());
    audio
}

fn show(audio: &Path) -> Value {
    let o = Command::new(env!("CARGO_BIN_EXE_chapmark"))
        .arg("show")
        .arg(audio)
        .output()
        .unwrap();
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    serde_json::from_slice(&o.stdout).unwrap()
}

#[test]
fn edit_move_refuse_fix_and_save_the_pep_think_episode() {
    if !browser_ready() {
        return;
    }
    let tmp = tempfile::tempdir().unwrap();
    let audio = episode_for_pictures(tmp.path());
    let mut ed = Editor::start(&audio, Some(&fixture(NOTES)));
    let out = drive("pep", &ed, &audio, &shots_dir(tmp.path()));
    // Closing the page stopped the server (its goodbye, then the reload grace period).
    let st = ed
        .exits_within(15)
        .expect("the server stops when the page is closed");
    assert!(st.success(), "{st}");

    eprintln!("{out}");
    assert_eq!(out["rows"], 3, "{out}");
    assert_eq!(
        out["firstTitle"],
        "Physical AIの「実装ギャップ」──研究と現場のあいだにある深い溝"
    );
    let apple = out["appleFirst"].as_str().unwrap();
    assert!(apple.contains("first-not-zero"), "{apple}");
    assert_eq!((&out["added"], &out["afterDelete"]), (&4.into(), &3.into()));
    assert_eq!(out["typed"], "13:30");
    // Dragged from 25:05 towards 27:00: within a few pixels (≈2 s each) of it.
    let dragged = out["draggedMs"].as_u64().unwrap();
    assert!((1_610_000..=1_630_000).contains(&dragged), "{out}");
    let past_end = out["pastEnd"].as_str().unwrap();
    assert!(
        past_end.contains("past-end") && past_end.contains("past the end of the audio"),
        "{past_end}"
    );
    assert!(
        out["refused"].as_str().unwrap().contains("not saved"),
        "{out}"
    );
    assert_eq!(
        out["unchanged"], true,
        "a refused save left the file as it was"
    );
    assert_eq!(out["fixedProblems"], "", "{out}");
    let name = audio.file_name().unwrap().to_string_lossy();
    let saved = format!("saved 3 chapters to {name}");
    assert!(out["saved"].as_str().unwrap().starts_with(&saved), "{out}");
    assert_eq!(out["changed"], true);
    assert_eq!(
        out["hash1"], out["hash2"],
        "two saves in a row: byte-identical"
    );
    assert!(
        out["saved2"].as_str().unwrap().contains("unchanged"),
        "{out}"
    );

    // Keyboard: the toolbar first, every control named, Alt+N and Alt+S work.
    assert_eq!(out["firstTab"], "profile");
    assert_eq!(out["unnamed"], serde_json::json!([]));
    assert_eq!(out["altN"], "Title of chapter 1");
    assert_eq!(out["altS"], "03:20.500");

    // Export, paste and reload.
    let vtt = std::fs::read_to_string(audio.with_extension("vtt")).unwrap();
    assert!(
        vtt.starts_with("WEBVTT") && vtt.contains("00:27:00.000 --> "),
        "{vtt}"
    );
    assert!(vtt.contains("物理AIの「実装ギャップ」(改訂)"), "{vtt}");
    let pasted = serde_json::json!([
        ["00:00", "はじめに", ""],
        ["05:00", "本題", "https://example.com/a"]
    ]);
    assert_eq!(out["pasted"], pasted);
    assert_eq!(out["reloaded"], out["afterSave"]);

    drop(ed);
    let shown = show(&audio);
    let chapters = shown["chapters"].as_array().unwrap();
    let got: Vec<(u64, &str)> = chapters
        .iter()
        .map(|c| {
            (
                (c["startTime"].as_f64().unwrap() * 1000.0).round() as u64,
                c["title"].as_str().unwrap(),
            )
        })
        .collect();
    assert_eq!(
        got,
        vec![
            (100_000, "物理AIの「実装ギャップ」(改訂)"),
            (
                810_000,
                "レアアース輸出規制と台湾抑止──中国の「経済的シグナリング」と日本の課題"
            ),
            (
                1_620_000,
                "AI競争という神話──非対称的な「AI二極化」と日本の立ち位置"
            ),
        ],
        "{shown}"
    );
}

#[test]
fn requests_without_the_token_from_elsewhere_or_for_other_files_are_refused() {
    let tmp = tempfile::tempdir().unwrap();
    let audio = tmp.path().join("ep.m4a");
    std::fs::copy(fixture(EPISODE), &audio).unwrap();
    std::fs::write(tmp.path().join("secret.txt"), "do not serve").unwrap();
    let ed = Editor::start(&audio, None);
    let t = &ed.token;
    let ok = [ed.host()];
    assert_eq!(ed.status(&format!("/?token={t}"), &ok), 200);
    assert_eq!(ed.status(&format!("/media/ep.m4a?token={t}"), &ok), 200);
    let range = [ed.host(), ("Range", "bytes=10-19".to_string())];
    assert_eq!(ed.status(&format!("/media/ep.m4a?token={t}"), &range), 206);

    assert_eq!(ed.status("/", &ok), 403, "no token");
    assert_eq!(ed.status("/api/state", &ok), 403, "no token");
    assert_eq!(
        ed.status("/media/ep.m4a?token=0000", &ok),
        403,
        "wrong token"
    );
    let rebound = [("Host", format!("attacker.example:{}", ed.port))];
    assert_eq!(
        ed.status(&format!("/?token={t}"), &rebound),
        403,
        "dns rebinding"
    );
    assert_eq!(ed.status(&format!("/?token={t}"), &[]), 403, "no host");
    let foreign = [
        ed.host(),
        ("Origin", "https://attacker.example".to_string()),
    ];
    assert_eq!(
        ed.status(&format!("/api/state?token={t}"), &foreign),
        403,
        "origin"
    );
    for path in [
        "/media/secret.txt",
        "/media/../secret.txt",
        "/media/%2e%2e/secret.txt",
        "/media/..%2Fsecret.txt",
        "/../secret.txt",
        "/%2e%2e%2fsecret.txt",
        "/media//etc/passwd",
        "/etc/passwd",
    ] {
        let got = ed.status(&format!("{path}?token={t}"), &ok);
        assert!(got == 403 || got == 400, "{path}: {got}");
    }
}

/// A 3 h 10 min episode (the 38-minute fixture five times, stream-copied: fast to make)
/// opens in under a second, the waveform being computed behind it.
#[test]
fn a_three_hour_episode_loads_in_under_a_second() {
    if !browser_ready() || !require(&["ffmpeg"]) {
        return;
    }
    let tmp = tempfile::tempdir().unwrap();
    let list = tmp.path().join("list.txt");
    let one = fixture(EPISODE);
    let line = format!("file '{}'\n", one.display());
    std::fs::write(&list, line.repeat(5)).unwrap();
    let audio = tmp.path().join("long.m4a");
    let st = Command::new("ffmpeg")
        .args(["-v", "error", "-y", "-f", "concat", "-safe", "0", "-i"])
        .arg(&list)
        .args(["-c", "copy"])
        .arg(&audio)
        .status()
        .unwrap();
    assert!(st.success());
    let notes = tmp.path().join("notes.txt");
    let text: String = (0..40)
        .map(|i| {
            format!(
                "{}:{:02}:00 第{}章 チャプター\n",
                i * 4 / 60,
                i * 4 % 60,
                i + 1
            )
        })
        .collect();
    std::fs::write(&notes, text).unwrap();
    let ed = Editor::start(&audio, Some(&notes));
    let out = drive("long", &ed, &audio, tmp.path());
    assert_eq!(out["rows"], 40, "{out}");
    let ready = out["readyMs"].as_u64().unwrap();
    eprintln!("3 h episode: page ready in {ready} ms");
    assert!(ready < 1000, "page load took {ready} ms");
}
