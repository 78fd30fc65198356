//! Puts the commit chapmark is built from into `chapmark --version`.
//!
//! Sources, first that answers: `CHAPMARK_COMMIT` (set by the Dockerfile and the release
//! workflow, whose build contexts have no `.git`), the `.cargo_vcs_info.json` cargo writes into a
//! packaged crate (a crates.io build: asking git there could name the commit of whatever
//! repository the crate was unpacked in), then `git rev-parse` in a checkout (`cargo install
//! --git`, `--path .`). Without any of them the version is printed alone.
//!
//! `tests/version.rs` includes this file to test the sources one by one.

use std::path::{Path, PathBuf};
use std::process::Command;

/// Abbreviated hashes are 7 hex digits whichever source gives them.
const SHORT: usize = 7;

#[allow(dead_code)] // unused where tests/version.rs includes this file
fn main() {
    println!("cargo:rerun-if-env-changed=CHAPMARK_COMMIT");
    let dir = PathBuf::from(std::env::var_os("CARGO_MANIFEST_DIR").unwrap_or_default());
    let commit = find_commit(&dir, std::env::var("CHAPMARK_COMMIT").ok().as_deref());
    let version = long_version(env!("CARGO_PKG_VERSION"), commit.as_deref());
    println!("cargo:rustc-env=CHAPMARK_VERSION={version}");
}

/// `0.1.0 (commit 1a2b3c4)`, or the version alone when the commit is unknown.
pub fn long_version(version: &str, commit: Option<&str>) -> String {
    match commit {
        Some(c) => format!("{version} (commit {c})"),
        None => version.to_owned(),
    }
}

/// The short hash of the commit the package in `dir` is built from, if any source knows it.
pub fn find_commit(dir: &Path, env_commit: Option<&str>) -> Option<String> {
    if let Some(c) = env_commit.and_then(short_hash) {
        return Some(c);
    }
    let vcs_info = dir.join(".cargo_vcs_info.json");
    if vcs_info.exists() {
        // A packaged crate: its own record or nothing, never an enclosing repository's HEAD.
        println!("cargo:rerun-if-changed={}", vcs_info.display());
        return from_vcs_info(&vcs_info);
    }
    from_git(dir)
}

/// A hex hash cut to `SHORT` digits, or nothing if `s` is not one.
fn short_hash(s: &str) -> Option<String> {
    let s = s.trim();
    let ok = s.len() >= SHORT && s.bytes().all(|b| b.is_ascii_hexdigit());
    ok.then(|| s[..SHORT].to_ascii_lowercase())
}

/// `{"git": {"sha1": "<40 hex>", ...}, ...}`: the one value needed, without a JSON dependency.
fn from_vcs_info(path: &Path) -> Option<String> {
    let text = std::fs::read_to_string(path).ok()?;
    let after = text.split("\"sha1\"").nth(1)?;
    let value = after.split('"').nth(1)?;
    short_hash(value)
}

/// `git -C dir ARGS` standard output, trimmed; nothing if git is missing or fails.
pub fn git(dir: &Path, args: &[&str]) -> Option<String> {
    let out = Command::new("git")
        .arg("-C")
        .arg(dir)
        .args(args)
        .output()
        .ok()?;
    if !out.status.success() {
        return None;
    }
    Some(String::from_utf8(out.stdout).ok()?.trim().to_owned())
}

fn from_git(dir: &Path) -> Option<String> {
    let hash = short_hash(&git(dir, &["rev-parse", "HEAD"])?)?;
    // Rebuild when HEAD moves: HEAD itself (checkout), the branch it names (commit), packed refs.
    // Only files that exist: a missing watched file makes cargo rerun this script every build.
    let git_path = |p: &str| {
        git(
            dir,
            &["rev-parse", "--path-format=absolute", "--git-path", p],
        )
    };
    let mut watch = vec![git_path("HEAD"), git_path("packed-refs")];
    if let Some(branch) = git(dir, &["symbolic-ref", "-q", "HEAD"]) {
        watch.push(git_path(&branch));
    }
    for path in watch.into_iter().flatten() {
        if Path::new(&path).exists() {
            println!("cargo:rerun-if-changed={path}");
        }
    }
    Some(hash)
}
