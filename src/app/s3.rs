//! `s3://bucket/key` arguments: `probe`, `show`, `write`, `strip` and `batch` on objects in
//! S3-compatible storage, through the library's `remote` module.

use super::common;
use super::{Outcome, Ui};
use crate::cli::{Command, ExitStatus, Id3Version, ProbeArgs, ShowArgs, StripArgs, WriteArgs};
use chapmark::EmbedOptions;
use chapmark::probe::ProbeOptions;
use chapmark::remote::{Remote, RemoteError, RemoteWritten, S3Url, Transfer, is_s3_url};
use chapmark::report::FileReport;
use std::path::Path;
use std::sync::Arc;

mod batch;

/// Whether `p` is an `s3://` address.
pub fn is_s3(p: &Path) -> bool {
    p.to_str().is_some_and(is_s3_url)
}

/// Whether the command names an object (then [`run`] handles it).
pub fn wants(command: &Command) -> bool {
    match command {
        Command::Probe(a) => a.audio.iter().any(|p| is_s3(p)),
        Command::Write(a) => is_s3(&a.audio),
        Command::Strip(a) => is_s3(&a.audio),
        Command::Show(a) => is_s3(&a.audio),
        Command::Batch(a) => a.paths.iter().any(|p| is_s3(p)),
        _ => false,
    }
}

/// Runs a command that [`wants`] said names an object.
pub fn run(command: Command, ui: Ui) -> Outcome {
    match command {
        Command::Probe(a) => probe(a, ui),
        Command::Write(a) => write(a, ui),
        Command::Strip(a) => strip(a, ui),
        Command::Show(a) => show(a),
        Command::Batch(a) => batch::run(a, ui),
        _ => Err(super::io::usage(
            "s3:// addresses work with probe, show, write, strip and batch",
        )),
    }
}

fn url_of(p: &Path) -> anyhow::Result<S3Url> {
    let s = p.to_str().unwrap_or_default();
    S3Url::parse(s).map_err(|e| super::io::usage(e.to_string()))
}

/// A failed remote operation as the binary's error (an invalid one is printed by the caller).
fn fail(e: RemoteError) -> anyhow::Error {
    anyhow::Error::new(e)
}

fn probe(args: ProbeArgs, ui: Ui) -> Outcome {
    let remote = Remote::from_env()?;
    let mut failed = false;
    for p in &args.audio {
        let done = url_of(p).and_then(|url| {
            let t = Arc::new(Transfer::default());
            let o = chapmark::remote::probe_remote(&remote, &url, &t, ProbeOptions::VERIFY)
                .map_err(fail)?;
            log::info!(
                "{url}: {} bytes down in {} requests",
                t.down(),
                t.requests()
            );
            Ok((url, o.info))
        });
        match done {
            Ok((url, info)) => {
                let name = url.to_string();
                let text = if args.json {
                    super::probe::json_line(&name, &info)?
                } else {
                    super::probe::human(&name, &info)
                };
                print!("{text}");
            }
            Err(e) => {
                failed = true;
                let prefix = if ui.color_err {
                    "\x1b[1;31merror\x1b[0m"
                } else {
                    "error"
                };
                eprintln!("chapmark: {prefix}: {}", super::error_text(&e));
            }
        }
    }
    Ok(if failed {
        ExitStatus::Input
    } else {
        ExitStatus::Ok
    })
}

fn show(args: ShowArgs) -> Outcome {
    if args.images.is_some() {
        return Err(super::io::usage(
            "show --images is not supported for s3:// objects",
        ));
    }
    let url = url_of(&args.audio)?;
    let remote = Remote::from_env()?;
    let t = Arc::new(Transfer::default());
    let mut o =
        chapmark::remote::probe_remote(&remote, &url, &t, ProbeOptions::VERIFY).map_err(fail)?;
    let list = chapmark::remote::embedded_of(&url, &mut o).map_err(fail)?;
    let opts = chapmark::format::WriteOptions::with_duration(Some(o.info.duration.to_time_round()));
    common::emit(None, &chapmark::format::write(args.to, &list, &opts))?;
    Ok(ExitStatus::Ok)
}

/// `check`'s audio side for an object: its measurement and embedded chapters (when its
/// container holds chapters).
pub fn check_audio(
    audio: &Path,
) -> anyhow::Result<(chapmark::probe::ProbeInfo, Option<chapmark::ChapterList>)> {
    let url = url_of(audio)?;
    let remote = Remote::from_env()?;
    let t = Arc::new(Transfer::default());
    let mut o =
        chapmark::remote::probe_remote(&remote, &url, &t, ProbeOptions::VERIFY).map_err(fail)?;
    let embedded = match chapmark::api::embed::target_for(o.info.container) {
        Some(_) => Some(chapmark::remote::embedded_of(&url, &mut o).map_err(fail)?),
        None => None,
    };
    Ok((o.info, embedded))
}

fn write(args: WriteArgs, ui: Ui) -> Outcome {
    if args.output.is_some() || args.snap.is_some() {
        return Err(super::io::usage(
            "write -o and --snap are not supported for s3:// objects",
        ));
    }
    let url = url_of(&args.audio)?;
    let loaded = common::load_chapters(args.chapters_path(), None)?;
    let mut opts: EmbedOptions = super::write::embed_options(
        args.id3v2.map(Id3Version::number),
        args.descriptions,
        args.mp4_chapters,
    );
    opts.profile = args.validate.profile;
    opts.deny_warnings = args.validate.deny_warnings;
    opts.intro = args.intro.clone();
    opts.verify = args.verify;
    let remote = Remote::from_env()?;
    let list = &loaded.parsed.list;
    let done = if args.dry_run {
        let t = Arc::new(Transfer::default());
        chapmark::remote::probe_remote(&remote, &url, &t, ProbeOptions::for_write(opts.verify))
            .and_then(|mut o| chapmark::remote::plan_remote(&url, &mut o, Some(list), &opts))
            .map(|(plan, _)| {
                eprintln!(
                    "chapmark: dry run: {url}: {} bytes of new data planned",
                    plan.bytes_written()
                );
            })
    } else {
        chapmark::remote::write_remote(&remote, &url, list, &opts).map(|w| {
            if !ui.quiet {
                say(
                    &url,
                    &w,
                    &format!("wrote {} chapters to", list.len()),
                    "already has these chapters",
                );
            }
        })
    };
    finish(done, ui, &url, &loaded.name, opts.deny_warnings)
}

fn strip(args: StripArgs, ui: Ui) -> Outcome {
    if args.output.is_some() {
        return Err(super::io::usage(
            "strip -o is not supported for s3:// objects",
        ));
    }
    let url = url_of(&args.audio)?;
    let remote = Remote::from_env()?;
    let done = chapmark::remote::strip_remote(&remote, &url).map(|w| {
        if !ui.quiet {
            say(
                &url,
                &w,
                "removed chapters from",
                "has no chapters; nothing to strip",
            );
        }
    });
    finish(done, ui, &url, "", false)
}

fn say(url: &S3Url, w: &RemoteWritten, did: &str, nothing: &str) {
    let t = &w.transfer;
    if w.changed {
        eprintln!(
            "chapmark: {did} {url} (multipart upload of {} parts: {} bytes down, {} up, {} copied by the service)",
            w.parts,
            t.down(),
            t.up(),
            t.copied()
        );
    } else {
        eprintln!("chapmark: {url} {nothing} ({} bytes down)", t.down());
    }
}

/// Exit status of a remote write: validation failures print their report.
fn finish(done: Result<(), RemoteError>, ui: Ui, url: &S3Url, source: &str, deny: bool) -> Outcome {
    match done {
        Ok(()) => Ok(ExitStatus::Ok),
        Err(RemoteError::Api(e)) if e.kind() == chapmark::ErrorKind::Invalid => {
            let report = FileReport {
                path: url.to_string(),
                source: (!source.is_empty()).then(|| source.to_string()),
                duration: None,
                diagnostics: e.diagnostics().to_vec(),
                chapters: 0,
            };
            common::print_rejection(ui, &report, deny);
            eprintln!("chapmark: {url} was not changed");
            Ok(ExitStatus::Invalid)
        }
        Err(e) => Err(fail(e)),
    }
}
