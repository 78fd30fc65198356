//! `chapmark remap`: chapters of an old encode onto a re-edited or re-encoded one.

use super::common::{self, emit};
use super::io::usage;
use super::{Outcome, Ui};
use crate::cli::{ExitStatus, RemapArgs};
use chapmark::format::{self, WriteOptions};
use chapmark::remap::{self, Remap, RemapError};
use chapmark::report::{self, FileReport};
use chapmark::{ChapterList, EmbedOptions, ErrorKind};
use std::path::Path;

pub fn run(args: RemapArgs, ui: Ui) -> Outcome {
    let (result, source) = match (&args.old, &args.new) {
        (Some(old), Some(new)) => {
            let (list, source) = old_chapters(old, args.chapters.as_deref())?;
            match remap::remap(old, new, &list) {
                Ok(r) => (r, source),
                Err(e @ RemapError::Unrelated { .. }) => {
                    eprintln!("chapmark: {e}");
                    return Ok(ExitStatus::Invalid);
                }
                Err(e) => return Err(e.into()),
            }
        }
        _ => manual(&args)?,
    };
    if !ui.quiet {
        print_summary(&result, args.old.is_some());
    }
    let report = FileReport {
        path: args
            .new
            .as_deref()
            .map_or_else(|| "chapters".to_string(), |p| p.display().to_string()),
        source: Some(source),
        duration: None,
        diagnostics: result.diagnostics.clone(),
        chapters: result.list.len(),
    };
    common::print_warnings(ui, &report);
    match (&args.new, args.write) {
        (Some(new), true) => write_into(new, &result.list, &args, ui),
        _ => {
            let bytes = format::write(args.to, &result.list, &WriteOptions::default());
            emit(args.output.as_deref(), &bytes)?;
            Ok(ExitStatus::Ok)
        }
    }
}

/// The old chapters: from `--chapters`, else embedded in the old audio.
fn old_chapters(old: &Path, chapters: Option<&Path>) -> anyhow::Result<(ChapterList, String)> {
    match chapters {
        Some(c) => {
            let loaded = common::load_chapters(c, None)?;
            Ok((loaded.parsed.list, loaded.name))
        }
        None => {
            let list = chapmark::read_embedded(old)?;
            if list.is_empty() {
                return Err(usage(format!(
                    "{}: has no embedded chapters; give them with --chapters",
                    old.display()
                )));
            }
            Ok((list, old.display().to_string()))
        }
    }
}

/// `--edit` / `--shift` without audio.
fn manual(args: &RemapArgs) -> anyhow::Result<(Remap, String)> {
    let Some(path) = args.chapters.as_deref() else {
        return Err(usage(
            "give OLD and NEW audio, or --chapters with --edit/--shift",
        ));
    };
    let loaded = common::load_chapters(path, None)?;
    let edits = args
        .edit
        .iter()
        .map(|e| remap::parse_edit(e))
        .collect::<Result<Vec<_>, _>>()
        .map_err(|e| usage(format!("--edit {e}")))?;
    let shift = args
        .shift
        .as_deref()
        .map(remap::parse_shift)
        .transpose()
        .map_err(|e| usage(format!("--shift {e}")))?
        .unwrap_or(0.0);
    Ok((
        remap::apply(&loaded.parsed.list, &edits, shift),
        loaded.name,
    ))
}

fn print_summary(r: &Remap, from_audio: bool) {
    let edits: Vec<String> = r.edits.iter().map(ToString::to_string).collect();
    let what = if edits.is_empty() {
        "no edit found".to_string()
    } else {
        edits.join("; ")
    };
    let kind = if from_audio { "found" } else { "applied" };
    eprintln!("chapmark: edit {kind}: {what} (times in the old audio)");
    for (i, c) in r.chapters.iter().enumerate() {
        let samples = c
            .new_samples
            .map(|s| format!(" (sample {} at {} Hz)", s.samples, s.sample_rate))
            .unwrap_or_default();
        eprintln!(
            "  {:>3}  {} -> {}{samples}  {:+.3} s  confidence {:.2}{}  {}",
            i + 1,
            c.old.hms_millis(),
            c.new.hms_millis(),
            c.shift_ms as f64 / 1000.0,
            c.confidence,
            if c.cut { "  [cut]" } else { "" },
            c.title
        );
    }
}

/// Writes the remapped list into the new audio through the library's validated write.
fn write_into(new: &Path, list: &ChapterList, args: &RemapArgs, ui: Ui) -> Outcome {
    let mut opts = EmbedOptions::default();
    opts.profile = args.validate.profile;
    opts.deny_warnings = args.validate.deny_warnings;
    match chapmark::write(new, list, &opts) {
        Ok(written) => {
            let report = FileReport {
                path: new.display().to_string(),
                source: None,
                duration: None,
                diagnostics: written.diagnostics.clone(),
                chapters: list.len(),
            };
            common::print_warnings(ui, &report);
            if !ui.quiet {
                eprintln!(
                    "chapmark: wrote {} chapters to {} ({}, {} bytes written)",
                    list.len(),
                    new.display(),
                    written.kind,
                    written.bytes
                );
            }
            Ok(ExitStatus::Ok)
        }
        Err(e) if e.kind() == ErrorKind::Invalid => {
            let report = FileReport {
                path: new.display().to_string(),
                source: None,
                duration: None,
                diagnostics: e.diagnostics().to_vec(),
                chapters: list.len(),
            };
            eprint!(
                "{}",
                report::render_text(&report, ui.color_err, args.validate.deny_warnings)
            );
            eprintln!("chapmark: {} was not changed", new.display());
            Ok(ExitStatus::Invalid)
        }
        Err(e) => Err(e.into()),
    }
}
