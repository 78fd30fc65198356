//! `s3://` objects against a real S3-compatible server: moto_server (PyPI `moto[server]`) on
//! a random loopback port, behind tests/s3/proxy.py, which injects a concurrent writer, a
//! failing part upload or throttling.
#![cfg(feature = "s3")]

mod common;

use std::io::{BufRead, BufReader};
use std::net::{TcpListener, TcpStream};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Output, Stdio};
use std::sync::OnceLock;
use std::time::{Duration, Instant};

/// The secret the tests give chapmark; it must never appear in anything it prints.
const SECRET: &str = "Zq9wXk-s3cret-vT7pLm2Rb8Nd";
const MIB: u64 = 1024 * 1024;
const NOTES: &str = "00:00 Intro\n02:00 Middle part\n09:00 The end\n";
/// Same lengths as NOTES' titles: a rewrite that fits in the same tag.
const NOTES_SAME_SIZE: &str = "00:00 Intrx\n02:00 Middle parx\n09:00 The enx\n";

struct Server {
    moto: Child,
    proxy: Child,
    moto_port: u16,
    proxy_port: u16,
    dir: tempfile::TempDir,
}

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.proxy.kill();
        let _ = self.moto.kill();
        let _ = self.proxy.wait();
        let _ = self.moto.wait();
    }
}

fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .map(|a| a.port())
        .unwrap()
}

fn script(name: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/s3")
        .join(name)
}

impl Server {
    /// moto_server and the proxy in `mode` (see proxy.py), with bucket `bkt`.
    fn start(mode: &str) -> Option<Server> {
        if !common::require(&["moto_server"]) {
            return None;
        }
        let moto_port = free_port();
        let moto = Command::new("moto_server")
            .args(["-H", "127.0.0.1", "-p", &moto_port.to_string()])
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .unwrap();
        let start = Instant::now();
        while TcpStream::connect(("127.0.0.1", moto_port)).is_err() {
            assert!(
                start.elapsed() < Duration::from_secs(60),
                "moto_server did not start"
            );
            std::thread::sleep(Duration::from_millis(100));
        }
        let dir = tempfile::tempdir().unwrap();
        let mut proxy = Command::new(common::python())
            .arg(script("proxy.py"))
            .arg(moto_port.to_string())
            .arg(mode)
            .arg(dir.path().join("proxy.log"))
            .stdout(Stdio::piped())
            .spawn()
            .unwrap();
        let mut line = String::new();
        BufReader::new(proxy.stdout.take().unwrap())
            .read_line(&mut line)
            .unwrap();
        let proxy_port = line.trim().parse().unwrap();
        let s = Server {
            moto,
            proxy,
            moto_port,
            proxy_port,
            dir,
        };
        s.bucket(&["create", "bkt"]);
        Some(s)
    }

    /// bucket.py straight against moto (setup and inspection never meet the proxy's faults).
    fn bucket(&self, args: &[&str]) -> String {
        let out = Command::new(common::python())
            .arg(script("bucket.py"))
            .arg(format!("http://127.0.0.1:{}", self.moto_port))
            .args(args)
            .output()
            .unwrap();
        assert!(
            out.status.success(),
            "bucket.py {args:?}: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        String::from_utf8(out.stdout).unwrap()
    }

    fn put(&self, key: &str, file: &Path) {
        self.bucket(&["put", "bkt", key, file.to_str().unwrap()]);
    }

    fn get(&self, key: &str) -> Vec<u8> {
        let out = self.dir.path().join("got");
        self.bucket(&["get", "bkt", key, out.to_str().unwrap()]);
        std::fs::read(out).unwrap()
    }

    fn uploads_in_progress(&self) -> usize {
        self.bucket(&["uploads", "bkt"]).trim().parse().unwrap()
    }

    fn proxy_log(&self) -> String {
        std::fs::read_to_string(self.dir.path().join("proxy.log")).unwrap_or_default()
    }

    /// chapmark with AWS-style configuration pointing at the proxy.
    fn chapmark(&self, args: &[&str]) -> Output {
        let out = Command::new(env!("CARGO_BIN_EXE_chapmark"))
            .args(args)
            .env("AWS_ACCESS_KEY_ID", "testing")
            .env("AWS_SECRET_ACCESS_KEY", SECRET)
            .env("AWS_REGION", "us-east-1")
            .env(
                "AWS_ENDPOINT_URL",
                format!("http://127.0.0.1:{}", self.proxy_port),
            )
            .env("AWS_CONFIG_FILE", self.dir.path().join("no-config"))
            .env(
                "AWS_SHARED_CREDENTIALS_FILE",
                self.dir.path().join("no-credentials"),
            )
            .env("AWS_EC2_METADATA_DISABLED", "true")
            .env("RUST_LOG", "trace")
            .current_dir(self.dir.path())
            .output()
            .unwrap();
        for stream in [&out.stdout, &out.stderr] {
            let text = String::from_utf8_lossy(stream);
            assert!(
                !text.contains(SECRET),
                "the secret leaked into the output:\n{text}"
            );
        }
        out
    }

    fn file(&self, name: &str, bytes: &[u8]) -> PathBuf {
        let p = self.dir.path().join(name);
        std::fs::write(&p, bytes).unwrap();
        p
    }
}

/// Long test audio (700 s, ~11 MB: more than two 5 MiB parts), made once per run.
fn long_audio(ext: &str) -> Option<PathBuf> {
    static DIR: OnceLock<PathBuf> = OnceLock::new();
    if !common::require(&["ffmpeg"]) {
        return None;
    }
    let dir = DIR.get_or_init(|| {
        let d = Path::new(env!("CARGO_TARGET_TMPDIR")).join("s3-audio");
        std::fs::create_dir_all(&d).unwrap();
        d
    });
    let out = dir.join(format!("long.{ext}"));
    // Tests run as threads of one process: one makes the file while the others wait.
    static MAKING: std::sync::Mutex<()> = std::sync::Mutex::new(());
    let _making = MAKING.lock().unwrap_or_else(|e| e.into_inner());
    if !out.exists() {
        let tmp = dir.join(format!("part-{}.{ext}", std::process::id()));
        let codec: &[&str] = match ext {
            "mp3" => &["-c:a", "libmp3lame", "-b:a", "128k"],
            _ => &["-c:a", "aac", "-b:a", "128k", "-movflags", "+faststart"],
        };
        let ok = Command::new("ffmpeg")
            .args(["-nostdin", "-loglevel", "error", "-y", "-f", "lavfi", "-i"])
            .arg("sine=frequency=440:sample_rate=44100:duration=700")
            .args(["-ac", "1"])
            .args(codec)
            .arg(&tmp)
            .status()
            .unwrap();
        assert!(ok.success());
        std::fs::rename(&tmp, &out).unwrap();
    }
    Some(out)
}

fn stderr(o: &Output) -> String {
    String::from_utf8_lossy(&o.stderr).into_owned()
}

/// `chapmark ARGS` on a local copy of `audio`: the bytes a local write produces.
fn local_result(s: &Server, audio: &[u8], name: &str, args: &[&str]) -> Vec<u8> {
    let p = s.file(name, audio);
    let mut full: Vec<&str> = vec![args[0], p.to_str().unwrap()];
    full.extend(&args[1..]);
    let out = s.chapmark(&full);
    assert!(out.status.success(), "{}", stderr(&out));
    std::fs::read(p).unwrap()
}

/// `(down, up)` from "… N bytes down, M up …".
fn moved(err: &str) -> (u64, u64) {
    let num = |tag: &str| -> u64 {
        let at = err
            .find(tag)
            .unwrap_or_else(|| panic!("no {tag:?} in {err}"));
        err[..at]
            .split_whitespace()
            .last()
            .unwrap()
            .parse()
            .unwrap()
    };
    (num(" bytes down"), num(" up,"))
}

#[test]
fn mp3_write_rewrite_strip_match_local_and_move_only_the_tag() {
    let Some(s) = Server::start("pass") else {
        return;
    };
    let Some(long) = long_audio("mp3") else {
        return;
    };
    let original = std::fs::read(&long).unwrap();
    let key = "shows/a b+c%d/épisode 1.mp3";
    let url = format!("s3://bkt/{key}");
    s.bucket(&[
        "put",
        "bkt",
        key,
        long.to_str().unwrap(),
        "audio/mpeg",
        "max-age=60",
        "show=demo",
    ]);
    let notes = s.file("notes.txt", NOTES.as_bytes());
    let notes = notes.to_str().unwrap();

    let out = s.chapmark(&["-vv", "write", &url, notes]);
    assert!(out.status.success(), "{}", stderr(&out));
    let (down, up) = moved(&stderr(&out));
    let want = local_result(&s, &original, "local.mp3", &["write", notes]);
    let got = s.get(key);
    assert!(got == want, "the object differs from a local write");
    let tag = (want.len() - original.len()) as u64 + 4096;
    // At most: the frame walk streams the object once (a probe that trusts the Xing header
    // reads only its first frames), then one 5 MiB part of audio after the new tag.
    assert!(
        down <= original.len() as u64 + 6 * MIB + tag,
        "downloaded {down}"
    );
    assert!(up <= 5 * MIB + tag, "uploaded {up}");
    let head = s.bucket(&["head", "bkt", key]);
    assert!(head.contains("\"content_type\": \"audio/mpeg\""), "{head}");
    assert!(head.contains("\"cache_control\": \"max-age=60\""), "{head}");
    assert!(head.contains("\"show\": \"demo\""), "{head}");

    // check measures the object and reads its embedded chapters by ranges too.
    let out = s.chapmark(&["check", &url, notes]);
    assert!(out.status.success(), "{}", stderr(&out));
    let out = s.chapmark(&["check", &url]);
    assert!(out.status.success(), "{}", stderr(&out));

    // Again: already there, nothing uploaded.
    let out = s.chapmark(&["write", &url, notes]);
    assert!(out.status.success());
    assert!(
        stderr(&out).contains("already has these chapters"),
        "{}",
        stderr(&out)
    );

    // Titles of the same length: a same-size rewrite.
    let same = s.file("same.txt", NOTES_SAME_SIZE.as_bytes());
    let out = s.chapmark(&["write", &url, same.to_str().unwrap()]);
    assert!(out.status.success(), "{}", stderr(&out));
    let want2 = local_result(&s, &want, "local2.mp3", &["write", same.to_str().unwrap()]);
    assert_eq!(want2.len(), want.len());
    assert!(s.get(key) == want2, "same-size rewrite differs from local");

    let out = s.chapmark(&["strip", &url]);
    assert!(out.status.success(), "{}", stderr(&out));
    let want3 = local_result(&s, &want2, "local3.mp3", &["strip"]);
    assert!(s.get(key) == want3, "strip differs from local");
    let shown = s.chapmark(&["show", &url]);
    assert!(shown.status.success());
    assert_eq!(s.uploads_in_progress(), 0);
}

#[test]
fn faststart_m4a_write_matches_local() {
    let Some(s) = Server::start("pass") else {
        return;
    };
    let Some(long) = long_audio("m4a") else {
        return;
    };
    let original = std::fs::read(&long).unwrap();
    s.put("ep.m4a", &long);
    let notes = s.file("notes.txt", NOTES.as_bytes());
    let out = s.chapmark(&["write", "s3://bkt/ep.m4a", notes.to_str().unwrap()]);
    assert!(out.status.success(), "{}", stderr(&out));
    let (down, up) = moved(&stderr(&out));
    let want = local_result(
        &s,
        &original,
        "local.m4a",
        &["write", notes.to_str().unwrap()],
    );
    assert!(
        s.get("ep.m4a") == want,
        "the object differs from a local write"
    );
    let grown = want.len().abs_diff(original.len()) as u64;
    // The moov (~50 KB for 700 s) is read and rewritten; the audio moves only to pad a part.
    assert!(down <= 5 * MIB + 512 * 1024, "downloaded {down}");
    assert!(up <= 5 * MIB + grown + 512 * 1024, "uploaded {up}");
    let probe = s.chapmark(&["probe", "--json", "s3://bkt/ep.m4a"]);
    assert!(probe.status.success(), "{}", stderr(&probe));
}

#[test]
fn batch_under_a_prefix_with_sidecars() {
    let Some(s) = Server::start("pass") else {
        return;
    };
    for (key, fixture) in [
        ("show/one.mp3", "mp3/notag.mp3"),
        ("show/two é.mp3", "mp3/v23.mp3"),
        ("show/three.mp3", "mp3/notag.mp3"),
    ] {
        s.put(key, &common::fixture(fixture));
    }
    s.put("show/one.txt", &s.file("n1", b"00:00 Intro\n00:01 Next\n"));
    s.put(
        "show/two é.chapters.json",
        &s.file(
            "n2",
            br#"{"version":"1.2.0","chapters":[{"startTime":0,"title":"Only"}]}"#,
        ),
    );
    // --check validates and writes nothing.
    let out = s.chapmark(&["batch", "--check", "s3://bkt/show/"]);
    assert_eq!(out.status.code(), Some(3), "{}", stderr(&out));
    assert!(
        stderr(&out).contains("3 episodes: 2 ok, 1 unreadable"),
        "{}",
        stderr(&out)
    );
    // The shards split the prefix: each episode in exactly one.
    let mut seen = 0;
    for k in 1..=2 {
        let out = s.chapmark(&[
            "batch",
            "--check",
            "--shard",
            &format!("{k}/2"),
            "s3://bkt/show/",
        ]);
        let err = stderr(&out);
        seen += err
            .split(" episodes:")
            .next()
            .unwrap()
            .rsplit(' ')
            .next()
            .unwrap()
            .parse::<usize>()
            .unwrap_or(0);
    }
    assert_eq!(seen, 3);
    // three.mp3 has no sidecar: unreadable, reported, the others still done.
    let report = s.dir.path().join("report.jsonl");
    let out = s.chapmark(&[
        "batch",
        "s3://bkt/show/",
        "--jobs",
        "4",
        "--report",
        report.to_str().unwrap(),
    ]);
    assert_eq!(out.status.code(), Some(3), "{}", stderr(&out));
    let text = std::fs::read_to_string(&report).unwrap();
    let records: Vec<serde_json::Value> = text
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    assert_eq!(records.len(), 3);
    let status = |name: &str| {
        let r = records
            .iter()
            .find(|r| r["path"].as_str().unwrap().ends_with(name))
            .unwrap();
        (
            r["status"].as_str().unwrap().to_string(),
            r["bytes_down"].as_u64().unwrap(),
            r["bytes_up"].as_u64().unwrap(),
        )
    };
    assert_eq!(status("one.mp3").0, "written");
    assert_eq!(status("two é.mp3").0, "written");
    assert_eq!(status("three.mp3").0, "unreadable");
    assert!(status("one.mp3").2 > 0);
    let want = local_result(
        &s,
        &common::fixture_bytes("mp3/v23.mp3"),
        "two.mp3",
        &["write", s.dir.path().join("n2").to_str().unwrap()],
    );
    assert!(s.get("show/two é.mp3") == want);

    // Idempotent: the second run rewrites nothing.
    let out = s.chapmark(&[
        "batch",
        "s3://bkt/show/",
        "--report",
        report.to_str().unwrap(),
    ]);
    assert_eq!(out.status.code(), Some(3));
    let text = std::fs::read_to_string(&report).unwrap();
    assert_eq!(text.matches("\"unchanged\"").count(), 2, "{text}");
    assert!(!text.contains("\"written\""));
    let ups: u64 = text
        .lines()
        .map(|l| {
            serde_json::from_str::<serde_json::Value>(l).unwrap()["bytes_up"]
                .as_u64()
                .unwrap()
        })
        .sum();
    assert_eq!(ups, 0);
}

/// `write` of the long MP3 (as `s3://bkt/ep.mp3`) through the proxy in `mode`.
fn write_long_through(mode: &str) -> Option<(Server, PathBuf, Output)> {
    let s = Server::start(mode)?;
    let long = long_audio("mp3")?;
    s.put("ep.mp3", &long);
    let notes = s.file("notes.txt", NOTES.as_bytes());
    let out = s.chapmark(&["write", "s3://bkt/ep.mp3", notes.to_str().unwrap()]);
    Some((s, long, out))
}

#[test]
fn a_concurrent_overwrite_is_detected_and_nothing_is_lost() {
    let Some((s, _, out)) = write_long_through("overwrite") else {
        return;
    };
    assert_eq!(
        out.status.code(),
        Some(3),
        "{}\n{}",
        stderr(&out),
        s.proxy_log()
    );
    assert!(
        stderr(&out).contains("changed underneath"),
        "{}",
        stderr(&out)
    );
    // The other writer's bytes are what the object holds; our upload was aborted.
    assert_eq!(s.get("ep.mp3"), b"a concurrent writer\r\n");
    assert_eq!(s.uploads_in_progress(), 0);
    assert!(
        s.proxy_log().contains("x-id=AbortMultipartUpload"),
        "{}",
        s.proxy_log()
    );
}

#[test]
fn a_server_failing_mid_upload_leaves_the_object_alone() {
    let Some((s, long, out)) = write_long_through("fail-part:2") else {
        return;
    };
    assert_eq!(out.status.code(), Some(3), "{}", stderr(&out));
    assert!(
        s.get("ep.mp3") == std::fs::read(&long).unwrap(),
        "a partial object became visible"
    );
    assert_eq!(s.uploads_in_progress(), 0);
    let log = s.proxy_log();
    // The client retried the failing part (bounded), then aborted.
    assert!(log.matches("partNumber=2").count() >= 2, "{log}");
    assert!(log.contains("x-id=AbortMultipartUpload"), "{log}");
}

#[test]
fn throttling_is_retried() {
    let Some(s) = Server::start("throttle:3") else {
        return;
    };
    s.put("ep.mp3", &common::fixture("mp3/notag.mp3"));
    let notes = s.file("notes.txt", b"00:00 Intro\n00:01 Next\n");
    let out = s.chapmark(&["write", "s3://bkt/ep.mp3", notes.to_str().unwrap()]);
    assert!(out.status.success(), "{}", stderr(&out));
    let want = local_result(
        &s,
        &common::fixture_bytes("mp3/notag.mp3"),
        "l.mp3",
        &["write", notes.to_str().unwrap()],
    );
    assert!(s.get("ep.mp3") == want);
    assert!(s.proxy_log().lines().count() > 3);
}

#[test]
fn m4a_with_moov_at_the_end_and_old_chapters_match_local() {
    let Some(s) = Server::start("pass") else {
        return;
    };
    let notes = s.file("notes.txt", b"00:00 Intro\n00:01 Next\n");
    let notes = notes.to_str().unwrap();
    for fixture in [
        "m4a/chapters.m4a",
        "m4a/chapters-image-track.m4a",
        "audio/aac-moov-end.m4a",
    ] {
        let original = common::fixture_bytes(fixture);
        s.put("ep.m4a", &common::fixture(fixture));
        // The old chapters (text samples in mdat, read into the planner's shadow) read as
        // they do from a local copy.
        let local = s.file("local.m4a", &original);
        let want = s.chapmark(&["show", local.to_str().unwrap(), "--to", "mp4chaps"]);
        let got = s.chapmark(&["show", "s3://bkt/ep.m4a", "--to", "mp4chaps"]);
        assert!(got.status.success(), "{fixture}: {}", stderr(&got));
        assert_eq!(got.stdout, want.stdout, "{fixture}");
        for args in [vec!["write", notes], vec!["strip"]] {
            let before = s.get("ep.m4a");
            let mut remote = vec![args[0], "s3://bkt/ep.m4a"];
            remote.extend(&args[1..]);
            let out = s.chapmark(&remote);
            assert!(out.status.success(), "{fixture} {args:?}: {}", stderr(&out));
            let want = local_result(&s, &before, "l.m4a", &args);
            assert!(
                s.get("ep.m4a") == want,
                "{fixture} {args:?}: differs from local"
            );
        }
    }
}
