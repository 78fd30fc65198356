//! `chapmark batch s3://bucket/prefix/`: every episode under a prefix, its sidecar found next
//! to it as on disk, processed `--jobs` at a time, with the same JSON Lines report (plus the
//! bytes moved for each episode).

use super::super::{Outcome, Ui};
use crate::cli::{BatchArgs, ExitStatus};
use chapmark::EmbedOptions;
use chapmark::batch::{Record, Shard, Status, expand_pattern, is_audio_path, sidecar_candidates};
use chapmark::probe::ProbeOptions;
use chapmark::remote::{self, Remote, RemoteError, S3Url, Transfer};
use rayon::prelude::*;
use std::collections::HashSet;
use std::path::Path;
use std::sync::Arc;
use std::time::Instant;

/// Largest sidecar read (as [`chapmark::api::MAX_TEXT_INPUT`] for a local one).
const MAX_SIDECAR: u64 = chapmark::api::MAX_TEXT_INPUT;

/// One episode: its object and its sidecar's key.
struct Episode {
    url: S3Url,
    sidecar: Option<String>,
}

pub fn run(args: BatchArgs, ui: Ui) -> Outcome {
    if args.remap_from.is_some() || args.plot.is_some() {
        return Err(super::super::io::usage(
            "batch --remap-from and --plot are not supported for s3:// prefixes",
        ));
    }
    let shard: Option<Shard> = match &args.shard {
        Some(s) => Some(
            s.parse()
                .map_err(|e: chapmark::batch::BatchError| super::super::io::usage(e.to_string()))?,
        ),
        None => None,
    };
    let remote = Remote::from_env()?;
    let mut episodes = Vec::new();
    for p in &args.paths {
        episodes.extend(list_episodes(&remote, &super::url_of(p)?, &args, shard)?);
    }
    let mut opts = EmbedOptions::default();
    opts.profile = args.validate.profile;
    opts.deny_warnings = args.validate.deny_warnings;
    opts.intro = args.intro.clone();
    opts.verify = args.verify;
    let jobs = args.jobs.unwrap_or(8).max(1);
    let pool = rayon::ThreadPoolBuilder::new().num_threads(jobs).build()?;
    let records: Vec<serde_json::Value> = pool.install(|| {
        episodes
            .par_iter()
            .map(|e| one(&remote, e, &args, &opts))
            .collect()
    });
    finish(&args, ui, &records)
}

/// The episodes under `prefix` (a key or a prefix), with their sidecars, in this shard.
fn list_episodes(
    remote: &Remote,
    prefix: &S3Url,
    args: &BatchArgs,
    shard: Option<Shard>,
) -> anyhow::Result<Vec<Episode>> {
    let keys = remote.list(prefix, &Transfer::default())?;
    let all: HashSet<&str> = keys.iter().map(String::as_str).collect();
    let mut out = Vec::new();
    for key in &keys {
        let path = Path::new(key);
        if !is_audio_path(path) {
            continue;
        }
        let rel = key.strip_prefix(&prefix.key).unwrap_or(key);
        if shard.is_some_and(|s| !s.contains(rel)) {
            continue;
        }
        let sidecar = match &args.chapters_pattern {
            Some(p) => {
                let k = expand_pattern(p, path).to_string_lossy().into_owned();
                let k = k.strip_prefix("./").map(str::to_string).unwrap_or(k);
                all.contains(k.as_str()).then_some(k)
            }
            None => sidecar_candidates(path)
                .into_iter()
                .map(|c| c.to_string_lossy().into_owned())
                .find(|c| all.contains(c.as_str())),
        };
        out.push(Episode {
            url: prefix.with_key(key.clone()),
            sidecar,
        });
    }
    Ok(out)
}

/// Processes one episode into its report record (with the bytes moved).
fn one(remote: &Remote, e: &Episode, args: &BatchArgs, opts: &EmbedOptions) -> serde_json::Value {
    let started = Instant::now();
    let transfer = Arc::new(Transfer::default());
    let mut rec = Record {
        path: e.url.to_string(),
        chapters_file: e
            .sidecar
            .as_ref()
            .map(|k| e.url.with_key(k.clone()).to_string()),
        status: Status::Unreadable,
        duration: None,
        chapters: 0,
        diagnostics: Vec::new(),
        bytes_written: 0,
        elapsed_ms: 0,
        error: None,
    };
    if let Err(err) = process(remote, e, args, opts, &transfer, &mut rec) {
        match err {
            RemoteError::Api(a) if a.kind() == chapmark::ErrorKind::Invalid => {
                rec.status = Status::Invalid;
                rec.diagnostics = a.diagnostics().to_vec();
            }
            other => {
                rec.status = Status::Unreadable;
                rec.error = Some(other.to_string());
            }
        }
    }
    rec.elapsed_ms = u64::try_from(started.elapsed().as_millis()).unwrap_or(u64::MAX);
    let mut v = serde_json::to_value(&rec).unwrap_or_default();
    if let Some(m) = v.as_object_mut() {
        m.insert("bytes_down".into(), transfer.down().into());
        m.insert("bytes_up".into(), transfer.up().into());
        m.insert("bytes_copied".into(), transfer.copied().into());
        m.insert("requests".into(), transfer.requests().into());
    }
    v
}

fn process(
    remote: &Remote,
    e: &Episode,
    args: &BatchArgs,
    opts: &EmbedOptions,
    transfer: &Arc<Transfer>,
    rec: &mut Record,
) -> Result<(), RemoteError> {
    let Some(key) = &e.sidecar else {
        return Err(RemoteError::Request {
            url: e.url.to_string(),
            action: "finding its chapters".into(),
            detail: "no sidecar chapters file next to it".into(),
        });
    };
    let side = e.url.with_key(key.clone());
    let head = remote.head(&side, transfer)?;
    if head.len > MAX_SIDECAR {
        return Err(RemoteError::Request {
            url: side.to_string(),
            action: "reading the chapters".into(),
            detail: format!("larger than {MAX_SIDECAR} bytes"),
        });
    }
    let text = remote.get_range(&side, &head.etag, 0, head.len, transfer)?;
    let chapters = chapmark::read_chapters(&text).map_err(RemoteError::Api)?;
    rec.chapters = chapters.list.len();
    let mut o = remote::probe_remote(
        remote,
        &e.url,
        transfer,
        ProbeOptions::for_write(opts.verify),
    )?;
    rec.duration =
        Some(o.info.duration.samples as f64 / f64::from(o.info.duration.sample_rate.max(1)));
    let (plan, diagnostics) = remote::plan_remote(&e.url, &mut o, Some(&chapters.list), opts)?;
    rec.diagnostics = diagnostics;
    if args.check {
        rec.status = Status::Ok;
        return Ok(());
    }
    let parts = remote::apply_remote(remote, &e.url, &mut o, &plan, transfer)?;
    rec.status = if parts == 0 {
        Status::Unchanged
    } else {
        Status::Written
    };
    rec.bytes_written = if parts == 0 {
        0
    } else {
        plan.output_len(o.head.len)
    };
    Ok(())
}

fn finish(args: &BatchArgs, ui: Ui, records: &[serde_json::Value]) -> Outcome {
    let mut lines = String::new();
    let mut counts = std::collections::BTreeMap::new();
    for r in records {
        lines.push_str(&r.to_string());
        lines.push('\n');
        let status = r
            .get("status")
            .and_then(|s| s.as_str())
            .unwrap_or("unreadable");
        *counts.entry(status.to_string()).or_insert(0usize) += 1;
        if status == "unreadable" && !ui.quiet {
            let err = r.get("error").and_then(|s| s.as_str()).unwrap_or_default();
            eprintln!("chapmark: {err}");
        }
    }
    if let Some(path) = &args.report {
        std::fs::write(path, lines.as_bytes())
            .map_err(|e| anyhow::anyhow!("cannot write {}: {e}", path.display()))?;
    }
    if !ui.quiet {
        let summary: Vec<String> = counts.iter().map(|(k, v)| format!("{v} {k}")).collect();
        eprintln!(
            "chapmark: {} episodes: {}",
            records.len(),
            summary.join(", ")
        );
    }
    let has = |s: &str| counts.contains_key(s);
    Ok(if has("unreadable") {
        ExitStatus::Input
    } else if has("invalid") {
        ExitStatus::Invalid
    } else {
        ExitStatus::Ok
    })
}
