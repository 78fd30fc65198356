//! `chapmark convert`: any chapters input → any chapter format.

use super::common::{self, emit, parse_duration_arg};
use super::{Outcome, Ui};
use crate::cli::{ConvertArgs, ExitStatus};
use chapmark::format::text::Parsed;
use chapmark::format::{self, WriteOptions};
use chapmark::report;
use chapmark::validate::{Profile, Target};

pub fn run(args: ConvertArgs, ui: Ui) -> Outcome {
    let mut loaded = match &args.item {
        Some(guid) => load_feed_item(&args.input, guid)?,
        None => common::load_chapters(&args.input, args.from)?,
    };
    if let Some(pattern) = &args.skip_markers {
        skip_markers(&mut loaded.parsed.list, pattern)?;
    }
    let duration = args
        .duration
        .as_deref()
        .map(parse_duration_arg)
        .transpose()?;
    // A converted file is a sidecar; only errors that make the list meaningless stop it
    // (impossible timestamps, disorder, an empty list). Platform advice is `check`'s job.
    let ctx = common::context(duration, Profile::Default, Some(Target::Sidecar));
    let report = common::validate_report(loaded.name.clone(), None, &loaded.parsed, &ctx);
    if !report::passed(&report.diagnostics, false) {
        common::print_rejection(ui, &report, false);
        return Ok(ExitStatus::Invalid);
    }
    common::print_warnings(ui, &report);
    let opts = WriteOptions::with_duration(duration.map(|d| d.to_time_round()));
    let bytes = format::write(args.to, &loaded.parsed.list, &opts);
    emit(args.output.as_deref(), &bytes)?;
    Ok(ExitStatus::Ok)
}

/// One feed item's chapters: its PSC, else its description.
fn load_feed_item(feed: &std::path::Path, guid: &str) -> anyhow::Result<common::Loaded> {
    let (text, scanned) = super::feed::load(feed)?;
    let item = super::feed::find_item(&scanned, feed, guid)?;
    let name = format!("{} item {guid}", super::io::display_name(feed));
    if let Some(list) = item.psc_chapters(&text)? {
        let parsed = Parsed {
            list,
            ..Parsed::default()
        };
        return Ok(common::Loaded { name, parsed });
    }
    match item.description_chapters()? {
        Some(parsed) => Ok(common::Loaded { name, parsed }),
        None => anyhow::bail!("{name}: no psc:chapters and no chapters in the description"),
    }
}

/// Drops chapters whose title matches `pattern` (editor note markers).
fn skip_markers(list: &mut chapmark::ChapterList, pattern: &str) -> anyhow::Result<()> {
    let re = regex::Regex::new(pattern)
        .map_err(|e| super::io::usage(format!("--skip-markers {pattern:?}: {e}")))?;
    let before = list.chapters.len();
    list.chapters.retain(|c| !re.is_match(&c.title));
    log::info!(
        "--skip-markers dropped {} chapter(s)",
        before - list.chapters.len()
    );
    Ok(())
}
