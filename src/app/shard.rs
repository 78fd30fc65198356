//! `batch --shard auto`: the shard index and count from the job runner's environment.
//!
//! | Runner                  | Index (from)                    | Count                         |
//! |-------------------------|---------------------------------|-------------------------------|
//! | Kubernetes indexed Job  | `JOB_COMPLETION_INDEX` (0)      | `--shard-count` (not in env)  |
//! | AWS Batch array job     | `AWS_BATCH_JOB_ARRAY_INDEX` (0) | `AWS_BATCH_JOB_ARRAY_SIZE`    |
//! | Slurm job array         | `SLURM_ARRAY_TASK_ID` (`MIN`)   | `SLURM_ARRAY_TASK_COUNT`      |
//!
//! A Slurm array need not start at 0 or 1 (`--array=5-12`) and may step (`--array=0-30:10`),
//! so its index is `(ID − MIN) / STEP`; an array that is not an even range (`--array=1,4,5`)
//! cannot be mapped to shards and is refused. GitHub Actions exposes the matrix position only
//! to the workflow (`strategy.job-index`), not to the process: pass `--shard K/N` there.
//!
//! Anything unclear is a usage error, never a guess: a wrong guess would process some
//! episodes twice and others never.

use chapmark::batch::Shard;

/// The variables each runner sets, for the message when none is found.
const RUNNERS: &str = "JOB_COMPLETION_INDEX (Kubernetes indexed Job), AWS_BATCH_JOB_ARRAY_INDEX \
                       (AWS Batch array job) or SLURM_ARRAY_TASK_ID (Slurm array)";

/// Resolves `--shard` (`K/N` or `auto`) with `--shard-count`, reading variables through
/// `env`. The error is the usage message.
pub fn resolve(
    arg: &str,
    count: Option<u32>,
    env: &dyn Fn(&str) -> Option<String>,
) -> Result<Shard, String> {
    if arg.trim() != "auto" {
        if count.is_some() {
            return Err("--shard-count goes with --shard auto only".to_string());
        }
        return arg
            .parse()
            .map_err(|e: chapmark::batch::BatchError| e.to_string());
    }
    let found: Vec<(&str, Indexed)> = [
        ("kubernetes", kubernetes(env, count)),
        ("aws batch", aws(env, count)),
        ("slurm", slurm(env, count)),
    ]
    .into_iter()
    .filter_map(|(name, r)| r.map(|r| (name, r)))
    .collect();
    let (name, result) = match found.as_slice() {
        [] => {
            return Err(format!(
                "--shard auto: no job runner found: expected {RUNNERS}"
            ));
        }
        [one] => one.clone(),
        many => {
            let names: Vec<&str> = many.iter().map(|(n, _)| *n).collect();
            return Err(format!(
                "--shard auto: the environment is that of several job runners ({}); pass --shard K/N",
                names.join(", ")
            ));
        }
    };
    let (index0, n) = result.map_err(|e| format!("--shard auto ({name}): {e}"))?;
    if n == 0 || index0 >= n {
        return Err(format!(
            "--shard auto ({name}): index {index0} (from 0) is outside {n} shards"
        ));
    }
    log::info!("shard {}/{n} from the {name} environment", index0 + 1);
    Ok(Shard {
        index: index0 + 1,
        count: n,
    })
}

/// A variable read as a number; `None` when unset, `Err` when set to something else.
fn number(env: &dyn Fn(&str) -> Option<String>, var: &str) -> Option<Result<u32, String>> {
    env(var).map(|v| {
        v.trim()
            .parse::<u32>()
            .map_err(|_| format!("{var}={v:?} is not a number"))
    })
}

/// The count from the runner (`from_env`) and `--shard-count`, which must agree when both
/// are given.
fn agree(from_env: Option<(u32, &str)>, flag: Option<u32>) -> Result<u32, String> {
    match (from_env, flag) {
        (Some((n, var)), Some(f)) if n != f => Err(format!("{var}={n} but --shard-count {f}")),
        (Some((n, _)), _) => Ok(n),
        (None, Some(f)) => Ok(f),
        (None, None) => {
            Err("the shard count is not in the environment: pass --shard-count N".into())
        }
    }
}

/// The 0-based index and the count, or why they cannot be trusted.
type Indexed = Result<(u32, u32), String>;

/// `None` when the runner's variables are not set.
type Found = Option<Indexed>;

fn kubernetes(env: &dyn Fn(&str) -> Option<String>, count: Option<u32>) -> Found {
    let index = number(env, "JOB_COMPLETION_INDEX")?;
    Some(index.and_then(|i| {
        // A Job's completions are not in the pod's environment.
        let n = agree(None, count).map_err(|_| {
            "JOB_COMPLETION_INDEX is set but the Job's completions are not in the environment: \
             pass --shard-count N (the Job's spec.completions)"
                .to_string()
        })?;
        Ok((i, n))
    }))
}

fn aws(env: &dyn Fn(&str) -> Option<String>, count: Option<u32>) -> Found {
    let index = number(env, "AWS_BATCH_JOB_ARRAY_INDEX")?;
    Some(index.and_then(|i| {
        let size = number(env, "AWS_BATCH_JOB_ARRAY_SIZE").transpose()?;
        let n = agree(size.map(|s| (s, "AWS_BATCH_JOB_ARRAY_SIZE")), count)?;
        Ok((i, n))
    }))
}

fn slurm(env: &dyn Fn(&str) -> Option<String>, count: Option<u32>) -> Found {
    let id = number(env, "SLURM_ARRAY_TASK_ID")?;
    Some(id.and_then(|id| {
        let get = |var| number(env, var).transpose();
        let min = get("SLURM_ARRAY_TASK_MIN")?.unwrap_or(0);
        let max = get("SLURM_ARRAY_TASK_MAX")?;
        let step = get("SLURM_ARRAY_TASK_STEP")?.unwrap_or(1).max(1);
        let n = agree(
            get("SLURM_ARRAY_TASK_COUNT")?.map(|c| (c, "SLURM_ARRAY_TASK_COUNT")),
            count,
        )?;
        let off = id
            .checked_sub(min)
            .filter(|o| o % step == 0)
            .ok_or_else(|| {
                format!("SLURM_ARRAY_TASK_ID={id} is not on the array's range from {min} by {step}")
            })?;
        // An even range has MAX = MIN + (COUNT − 1) × STEP; anything else is a list.
        if let Some(max) = max {
            let even = u64::from(min) + u64::from(n.saturating_sub(1)) * u64::from(step);
            if u64::from(max) != even {
                return Err(format!(
                    "the array ({min}-{max}:{step}, {n} tasks) is not an even range; pass --shard K/N"
                ));
            }
        }
        Ok((off / step, n))
    }))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn run(arg: &str, count: Option<u32>, vars: &[(&str, &str)]) -> Result<(u32, u32), String> {
        let env = |k: &str| {
            vars.iter()
                .find(|(name, _)| *name == k)
                .map(|(_, v)| v.to_string())
        };
        resolve(arg, count, &env).map(|s| (s.index, s.count))
    }

    #[test]
    fn explicit_shards_are_unchanged() {
        assert_eq!(run("2/4", None, &[]), Ok((2, 4)));
        assert!(run("2/4", Some(4), &[]).is_err());
        assert!(run("5/4", None, &[]).is_err());
    }

    #[test]
    fn kubernetes_needs_the_count() {
        let k = [("JOB_COMPLETION_INDEX", "3")];
        assert_eq!(run("auto", Some(8), &k), Ok((4, 8)));
        let e = run("auto", None, &k).unwrap_err();
        assert!(e.contains("--shard-count"), "{e}");
        assert!(
            run("auto", Some(3), &k)
                .unwrap_err()
                .contains("outside 3 shards")
        );
        assert!(run("auto", Some(8), &[("JOB_COMPLETION_INDEX", "x")]).is_err());
    }

    #[test]
    fn aws_batch_reads_index_and_size() {
        let a = [
            ("AWS_BATCH_JOB_ARRAY_INDEX", "0"),
            ("AWS_BATCH_JOB_ARRAY_SIZE", "10"),
        ];
        assert_eq!(run("auto", None, &a), Ok((1, 10)));
        assert_eq!(run("auto", Some(10), &a), Ok((1, 10)));
        assert!(
            run("auto", Some(9), &a)
                .unwrap_err()
                .contains("--shard-count 9")
        );
        let last = [
            ("AWS_BATCH_JOB_ARRAY_INDEX", "9"),
            ("AWS_BATCH_JOB_ARRAY_SIZE", "10"),
        ];
        assert_eq!(run("auto", None, &last), Ok((10, 10)));
    }

    #[test]
    fn slurm_offsets_and_steps() {
        let s = |id, min, max, step, count| {
            [
                ("SLURM_ARRAY_TASK_ID", id),
                ("SLURM_ARRAY_TASK_MIN", min),
                ("SLURM_ARRAY_TASK_MAX", max),
                ("SLURM_ARRAY_TASK_STEP", step),
                ("SLURM_ARRAY_TASK_COUNT", count),
            ]
        };
        // --array=1-4
        assert_eq!(run("auto", None, &s("1", "1", "4", "1", "4")), Ok((1, 4)));
        assert_eq!(run("auto", None, &s("4", "1", "4", "1", "4")), Ok((4, 4)));
        // --array=0-7
        assert_eq!(run("auto", None, &s("0", "0", "7", "1", "8")), Ok((1, 8)));
        // --array=5-12
        assert_eq!(run("auto", None, &s("7", "5", "12", "1", "8")), Ok((3, 8)));
        // --array=0-30:10 → 0, 10, 20, 30
        assert_eq!(
            run("auto", None, &s("20", "0", "30", "10", "4")),
            Ok((3, 4))
        );
        // --array=1,4,5: MIN 1, MAX 5, 3 tasks, not an even range.
        let e = run("auto", None, &s("4", "1", "5", "1", "3")).unwrap_err();
        assert!(e.contains("not an even range"), "{e}");
    }

    #[test]
    fn nothing_or_several_runners_is_an_error() {
        let e = run("auto", None, &[]).unwrap_err();
        assert!(e.contains("no job runner"), "{e}");
        let both = [
            ("JOB_COMPLETION_INDEX", "0"),
            ("SLURM_ARRAY_TASK_ID", "1"),
            ("SLURM_ARRAY_TASK_COUNT", "2"),
        ];
        assert!(run("auto", Some(2), &both).unwrap_err().contains("several"));
    }
}
