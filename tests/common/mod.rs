//! Helpers shared by the integration tests; each test file declares `mod common;`: fixture
//! paths and copies, and the outside tools of the interop tests.
//!
//! The README says ffmpeg, mutagen, MediaInfo and the others are used "when installed", so a
//! developer without one gets its tests skipped with a message naming the tool instead of an
//! unnamed `NotFound`. CI installs all of them (`.ci/run`), so there (`CI=true`) a missing
//! tool fails the test: a green run must not hide interop checks that never ran.
// Every test crate uses a different subset.
#![allow(dead_code)]

use std::io::Write as _;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};

/// A committed fixture, by its path under `fixtures/`.
pub fn fixture(rel: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("fixtures")
        .join(rel)
}

/// The bytes of a committed fixture.
pub fn fixture_bytes(rel: &str) -> Vec<u8> {
    let path = fixture(rel);
    std::fs::read(&path).unwrap_or_else(|e| panic!("reading {}: {e}", path.display()))
}

/// The text of a committed fixture.
pub fn fixture_text(rel: &str) -> String {
    let path = fixture(rel);
    std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()))
}

/// Copies a fixture into `dir` under its own file name (fixtures are never written).
pub fn copy_fixture(rel: &str, dir: &Path) -> PathBuf {
    let src = fixture(rel);
    let name = src
        .file_name()
        .unwrap_or_else(|| panic!("{rel}: no file name"));
    let dst = dir.join(name);
    std::fs::copy(&src, &dst).unwrap_or_else(|e| panic!("copying {}: {e}", src.display()));
    dst
}

/// Skips the calling test (returns from it) unless every named tool is available; under
/// `CI=true` a missing tool fails the test instead. Names: see [`available`].
#[macro_export]
macro_rules! require_tools {
    ($($tool:expr),+ $(,)?) => {
        if !$crate::common::require(&[$($tool),+]) {
            return;
        }
    };
}

/// Whether this run is CI's (`CI=true`, as .ci/run is started).
pub fn in_ci() -> bool {
    std::env::var("CI").is_ok_and(|v| v.eq_ignore_ascii_case("true") || v == "1")
}

/// `true` when every tool in `tools` is available. Otherwise: under CI, panics naming the
/// missing ones; elsewhere prints which test is skipped and why, and returns `false`.
pub fn require(tools: &[&str]) -> bool {
    decide(tools, in_ci(), available)
}

/// [`require`] with the CI flag and the availability check given, so it can be tested.
pub fn decide(tools: &[&str], ci: bool, is_available: impl Fn(&str) -> bool) -> bool {
    let missing: Vec<&str> = tools.iter().copied().filter(|t| !is_available(t)).collect();
    if missing.is_empty() {
        return true;
    }
    let list = missing.join(", ");
    let test = std::thread::current()
        .name()
        .unwrap_or("this test")
        .to_string();
    if ci {
        panic!("{test} needs {list}, which is not installed (CI=true; .ci/run installs it)");
    }
    // Straight to the process's stderr: libtest captures `eprintln!` of passing tests, and a
    // skip nobody sees would read as a pass.
    let _ = writeln!(
        std::io::stderr(),
        "skipped: {test} needs {list}, which is not installed"
    );
    false
}

/// Whether `tool` can be used: an executable on `PATH` (`ffmpeg`, `ffprobe`, `lame`, `sox`,
/// `mediainfo`, `node`, …), or one of the library checks `mutagen` (importable by the
/// `python3` on `PATH`), `music-metadata` and `mp4box` (installed under tests/node).
pub fn available(tool: &str) -> bool {
    match tool {
        "mutagen" => Command::new(python())
            .args(["-c", "import mutagen"])
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .status()
            .is_ok_and(|s| s.success()),
        "music-metadata" | "mp4box" | "playwright-core" => {
            on_path("node") && node_modules().join(tool).join("package.json").is_file()
        }
        _ => on_path(tool),
    }
}

/// The Python that runs mutagen: the first `python3` on `PATH` (a venv's, when active).
pub fn python() -> &'static str {
    "python3"
}

/// Where `.ci/run` (or `npm ci --prefix tests/node`) installs the Node readers.
pub fn node_modules() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/node/node_modules")
}

/// Whether an executable named `name` is in a directory of `PATH`.
pub fn on_path(name: &str) -> bool {
    let Some(path) = std::env::var_os("PATH") else {
        return false;
    };
    std::env::split_paths(&path).any(|dir| is_executable(&dir.join(name)))
}

#[cfg(unix)]
fn is_executable(p: &Path) -> bool {
    use std::os::unix::fs::PermissionsExt;
    std::fs::metadata(p).is_ok_and(|m| m.is_file() && m.permissions().mode() & 0o111 != 0)
}

#[cfg(not(unix))]
fn is_executable(p: &Path) -> bool {
    p.is_file() || p.with_extension("exe").is_file()
}

/// ffprobe's chapters: (start ms, end ms, title).
pub fn ffprobe_chapters(path: &Path) -> Vec<(u64, u64, String)> {
    let o = std::process::Command::new("ffprobe")
        .args(["-v", "error", "-show_chapters", "-of", "json"])
        .arg(path)
        .output()
        .unwrap();
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    let v: serde_json::Value = serde_json::from_slice(&o.stdout).unwrap();
    v["chapters"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| {
            let tb: Vec<f64> = c["time_base"]
                .as_str()
                .unwrap()
                .split('/')
                .map(|x| x.parse().unwrap())
                .collect();
            let to_ms = |x: &serde_json::Value| {
                (x.as_f64().unwrap() * tb[0] / tb[1] * 1000.0).round() as u64
            };
            (
                to_ms(&c["start"]),
                to_ms(&c["end"]),
                c["tags"]["title"].as_str().unwrap_or("").to_string(),
            )
        })
        .collect()
}

/// SplitMix64: a fixed seed gives the same pseudo-random sequence (kill delays, test bytes)
/// every run.
pub struct Rng(pub u64);

impl Rng {
    pub fn next(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }

    /// Below `n` (`n` 0 counts as 1).
    pub fn below(&mut self, n: u64) -> u64 {
        self.next() % n.max(1)
    }
}
