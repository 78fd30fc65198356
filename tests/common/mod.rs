//! Helpers shared by the integration tests; each test file declares `mod common;`.
// Every test crate uses a different subset.
#![allow(dead_code)]

use std::path::{Path, PathBuf};

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
