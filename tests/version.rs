//! `chapmark --version` names the commit it was built from (build.rs), whatever the build
//! context offers: an environment variable, a packaged crate's `.cargo_vcs_info.json`, a git
//! checkout, or nothing.

use std::path::Path;
use std::process::Command;

use assert_cmd::cargo::CommandCargoExt;

#[allow(dead_code)]
#[path = "../build.rs"]
mod build_script;

use build_script::git;

#[test]
fn version_flag_prints_version_and_commit() {
    let out = Command::cargo_bin("chapmark")
        .unwrap()
        .arg("--version")
        .output()
        .unwrap();
    assert!(out.status.success());
    let printed = String::from_utf8(out.stdout).unwrap();
    let version = env!("CARGO_PKG_VERSION");
    let manifest = Path::new(env!("CARGO_MANIFEST_DIR"));
    // The commit the binary should name: what build.rs finds for this very checkout.
    let expected = match option_env!("CHAPMARK_COMMIT") {
        Some(c) => Some(c[..7].to_ascii_lowercase()),
        None => git(manifest, &["rev-parse", "--short=7", "HEAD"]),
    };
    match expected {
        Some(c) => {
            assert_eq!(printed, format!("chapmark {version} (commit {c})\n"));
            assert_eq!(c.len(), 7);
        }
        None => assert_eq!(printed, format!("chapmark {version}\n")),
    }
    // -V is the same flag.
    let short = Command::cargo_bin("chapmark")
        .unwrap()
        .arg("-V")
        .output()
        .unwrap();
    assert_eq!(String::from_utf8(short.stdout).unwrap(), printed);
}

#[test]
fn environment_variable_wins() {
    let dir = tempfile::tempdir().unwrap();
    let sha = "0123456789ABCDEF0123456789abcdef01234567";
    assert_eq!(
        build_script::find_commit(dir.path(), Some(sha)).as_deref(),
        Some("0123456")
    );
    // Not a hash: ignored, the next source answers (none here).
    assert_eq!(build_script::find_commit(dir.path(), Some("main")), None);
    assert_eq!(build_script::find_commit(dir.path(), Some("")), None);
}

#[test]
fn packaged_crate_uses_cargo_vcs_info_not_the_enclosing_repository() {
    // A packaged crate unpacked inside some git repository (here: in this checkout's target/):
    // the commit is the one cargo recorded, not the enclosing repository's HEAD.
    let target = Path::new(env!("CARGO_MANIFEST_DIR")).join("target");
    std::fs::create_dir_all(&target).unwrap();
    let dir = tempfile::tempdir_in(&target).unwrap();
    let info = dir.path().join(".cargo_vcs_info.json");
    std::fs::write(
        &info,
        "{\n  \"git\": {\n    \"sha1\": \"fedcba9876543210fedcba9876543210fedcba98\"\n  },\n  \"path_in_vcs\": \"\"\n}",
    )
    .unwrap();
    assert_eq!(
        build_script::find_commit(dir.path(), None).as_deref(),
        Some("fedcba9")
    );
    // A record without a hash: no commit rather than the enclosing repository's.
    std::fs::write(&info, "{\"path_in_vcs\": \"\"}").unwrap();
    assert_eq!(build_script::find_commit(dir.path(), None), None);
}

#[test]
fn no_source_prints_the_version_alone() {
    // The system temporary directory is outside any repository (checked, not assumed).
    let dir = tempfile::tempdir().unwrap();
    if git(dir.path(), &["rev-parse", "HEAD"]).is_some() {
        eprintln!(
            "skipped: {} is inside a git repository",
            dir.path().display()
        );
        return;
    }
    assert_eq!(build_script::find_commit(dir.path(), None), None);
    assert_eq!(build_script::long_version("1.2.3", None), "1.2.3");
    assert_eq!(
        build_script::long_version("1.2.3", Some("abcdef0")),
        "1.2.3 (commit abcdef0)"
    );
}

#[test]
fn git_checkout_gives_its_head() {
    let manifest = Path::new(env!("CARGO_MANIFEST_DIR"));
    let Some(head) = git(manifest, &["rev-parse", "--short=7", "HEAD"]) else {
        eprintln!("skipped: no git checkout");
        return;
    };
    assert_eq!(build_script::find_commit(manifest, None), Some(head));
}
