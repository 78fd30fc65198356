//! `batch --shard auto`: the shard comes from a Kubernetes indexed Job, an AWS Batch array
//! job or a Slurm array's environment, and is the same split as `--shard K/N`; no runner, or
//! values that do not add up, is a usage error (exit 2).

mod common;

use chapmark::batch::Record;
use std::collections::BTreeSet;
use std::path::Path;
use std::process::Command;

const BIN: &str = env!("CARGO_BIN_EXE_chapmark");

const RUNNER_VARS: &[&str] = &[
    "JOB_COMPLETION_INDEX",
    "AWS_BATCH_JOB_ARRAY_INDEX",
    "AWS_BATCH_JOB_ARRAY_SIZE",
    "SLURM_ARRAY_TASK_ID",
    "SLURM_ARRAY_TASK_COUNT",
    "SLURM_ARRAY_TASK_MIN",
    "SLURM_ARRAY_TASK_MAX",
    "SLURM_ARRAY_TASK_STEP",
];

/// Runner variables set for one run.
type Env<'a> = Vec<(&'a str, String)>;

/// Twelve episodes with show notes.
fn archive(dir: &Path) {
    for i in 0..12 {
        let mp3 = dir.join(format!("ep{i:02}.mp3"));
        std::fs::copy(common::fixture("mp3/notag.mp3"), &mp3).unwrap();
        std::fs::write(mp3.with_extension("txt"), "00:00 Intro\n00:01 Main\n").unwrap();
    }
}

/// Runs `batch --check` with `args` and the runner variables `env`; the exit code and the
/// episodes reported.
fn run(
    dir: &Path,
    args: &[&str],
    env: &[(&str, String)],
) -> (Option<i32>, BTreeSet<String>, String) {
    let report = dir.join("report.jsonl");
    let _ = std::fs::remove_file(&report);
    let mut cmd = Command::new(BIN);
    cmd.current_dir(dir)
        .args(["batch", ".", "--check", "-q", "--report"])
        .arg(&report)
        .args(args);
    for v in RUNNER_VARS {
        cmd.env_remove(v);
    }
    for (k, v) in env {
        cmd.env(k, v);
    }
    let out = cmd.output().unwrap();
    let paths = std::fs::read_to_string(&report)
        .unwrap_or_default()
        .lines()
        .map(|l| serde_json::from_str::<Record>(l).unwrap().path)
        .collect();
    (
        out.status.code(),
        paths,
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

fn explicit(dir: &Path, k: u32, n: u32) -> BTreeSet<String> {
    let (code, paths, err) = run(dir, &["--shard", &format!("{k}/{n}")], &[]);
    assert_eq!(code, Some(0), "{err}");
    paths
}

#[test]
fn each_runner_gives_the_same_split_as_k_of_n() {
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path();
    archive(dir);
    let n = 3u32;
    let mut union = BTreeSet::new();
    for k in 1..=n {
        let want = explicit(dir, k, n);
        union.extend(want.iter().cloned());
        let i0 = (k - 1).to_string();
        let kube = run(
            dir,
            &["--shard", "auto", "--shard-count", "3"],
            &[("JOB_COMPLETION_INDEX", i0.clone())],
        );
        let aws = run(
            dir,
            &["--shard", "auto"],
            &[
                ("AWS_BATCH_JOB_ARRAY_INDEX", i0.clone()),
                ("AWS_BATCH_JOB_ARRAY_SIZE", n.to_string()),
            ],
        );
        // sbatch --array=1-3
        let slurm = run(
            dir,
            &["--shard", "auto"],
            &[
                ("SLURM_ARRAY_TASK_ID", k.to_string()),
                ("SLURM_ARRAY_TASK_MIN", "1".into()),
                ("SLURM_ARRAY_TASK_MAX", "3".into()),
                ("SLURM_ARRAY_TASK_STEP", "1".into()),
                ("SLURM_ARRAY_TASK_COUNT", "3".into()),
            ],
        );
        // sbatch --array=10-30:10
        let stepped = run(
            dir,
            &["--shard", "auto"],
            &[
                ("SLURM_ARRAY_TASK_ID", (k * 10).to_string()),
                ("SLURM_ARRAY_TASK_MIN", "10".into()),
                ("SLURM_ARRAY_TASK_MAX", "30".into()),
                ("SLURM_ARRAY_TASK_STEP", "10".into()),
                ("SLURM_ARRAY_TASK_COUNT", "3".into()),
            ],
        );
        for (name, (code, got, err)) in [
            ("kubernetes", kube),
            ("aws", aws),
            ("slurm", slurm),
            ("slurm stepped", stepped),
        ] {
            assert_eq!(code, Some(0), "{name} {k}: {err}");
            assert_eq!(got, want, "{name} shard {k}");
        }
    }
    assert_eq!(union.len(), 12);
}

#[test]
fn unclear_environments_are_usage_errors() {
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path();
    archive(dir);
    let s = |v: &str| v.to_string();
    let cases: Vec<(Vec<&str>, Env, &str)> = vec![
        (vec!["--shard", "auto"], vec![], "no job runner"),
        (
            vec!["--shard", "auto"],
            vec![("JOB_COMPLETION_INDEX", s("0"))],
            "--shard-count",
        ),
        (
            vec!["--shard", "auto", "--shard-count", "4"],
            vec![("JOB_COMPLETION_INDEX", s("4"))],
            "outside 4 shards",
        ),
        (
            vec!["--shard", "auto", "--shard-count", "5"],
            vec![
                ("AWS_BATCH_JOB_ARRAY_INDEX", s("1")),
                ("AWS_BATCH_JOB_ARRAY_SIZE", s("4")),
            ],
            "AWS_BATCH_JOB_ARRAY_SIZE=4 but --shard-count 5",
        ),
        (
            vec!["--shard", "auto"],
            vec![
                ("SLURM_ARRAY_TASK_ID", s("4")),
                ("SLURM_ARRAY_TASK_MIN", s("1")),
                ("SLURM_ARRAY_TASK_MAX", s("5")),
                ("SLURM_ARRAY_TASK_COUNT", s("3")),
            ],
            "not an even range",
        ),
        (
            vec!["--shard", "auto", "--shard-count", "2"],
            vec![
                ("JOB_COMPLETION_INDEX", s("0")),
                ("AWS_BATCH_JOB_ARRAY_INDEX", s("0")),
            ],
            "several job runners",
        ),
        (
            vec!["--shard", "1/2", "--shard-count", "2"],
            vec![],
            "--shard auto only",
        ),
    ];
    for (args, env, msg) in cases {
        let (code, paths, err) = run(dir, &args, &env);
        assert_eq!(code, Some(2), "{args:?} {env:?}: {err}");
        assert!(err.contains(msg), "{args:?} {env:?}: {err}");
        assert!(paths.is_empty());
    }
}
