//! `chapmark feed`: list a feed's items and their chapter sources, or write a
//! `chapters.json` per item and add `<podcast:chapters>` links to the feed.

use super::common::emit;
use super::io::{display_name, read_text_input};
use super::{Outcome, Ui};
use crate::cli::{ExitStatus, FeedArgs};
use anyhow::Context as _;
use chapmark::feed::{self, ChapterLink, Feed, Item};
use chapmark::format::{self, Format, WriteOptions};
use std::collections::HashSet;
use std::fmt::Write as _;
use std::path::Path;

/// Reads and scans a feed; the text is kept for splicing and PSC slices.
pub fn load(path: &Path) -> anyhow::Result<(String, Feed)> {
    let name = display_name(path);
    let bytes = read_text_input(path)?;
    let text = String::from_utf8(bytes)
        .map_err(|e| anyhow::anyhow!("{name}: not UTF-8 ({e}); feeds are read as UTF-8"))?;
    let feed = feed::scan(&text).map_err(|e| anyhow::anyhow!("{name}: {e}"))?;
    Ok((text, feed))
}

/// An item by guid (or title), with a usage error listing how to find guids.
pub fn find_item<'a>(feed: &'a Feed, path: &Path, guid: &str) -> anyhow::Result<&'a Item> {
    feed.item(guid).ok_or_else(|| {
        super::io::usage(format!(
            "{}: no item with guid or title {guid:?} (`chapmark feed {}` lists them)",
            display_name(path),
            display_name(path)
        ))
    })
}

pub fn run(args: FeedArgs, ui: Ui) -> Outcome {
    let (text, feed) = load(&args.feed)?;
    match (&args.emit_json, &args.base_url) {
        (Some(dir), Some(base)) => emit_json(&args, &text, &feed, (dir, base), ui),
        _ => {
            emit(None, list(&text, &feed).as_bytes())?;
            Ok(ExitStatus::Ok)
        }
    }
}

/// One block per item: guid and title, enclosure, chapter sources.
fn list(text: &str, feed: &Feed) -> String {
    let mut out = String::new();
    for item in &feed.items {
        let _ = writeln!(out, "{}\t{}", item.guid, item.title);
        let _ = writeln!(
            out,
            "  enclosure: {}",
            item.enclosure.as_deref().unwrap_or("(none)")
        );
        let mut sources = Vec::new();
        if let Some(url) = &item.chapters_url {
            sources.push(format!("podcast:chapters {url}"));
        }
        match item.psc_chapters(text) {
            Ok(Some(list)) => sources.push(format!("psc ({})", count(list.len()))),
            Ok(None) => {}
            Err(e) => sources.push(format!("psc (unreadable: {e})")),
        }
        match item.description_chapters() {
            Ok(Some(parsed)) => sources.push(format!("description ({})", count(parsed.list.len()))),
            Ok(None) => {}
            Err(e) => sources.push(format!("description (unreadable: {e})")),
        }
        if sources.is_empty() {
            sources.push("none".to_string());
        }
        let _ = writeln!(out, "  chapters: {}", sources.join("; "));
    }
    out
}

fn count(n: usize) -> String {
    if n == 1 {
        "1 chapter".to_string()
    } else {
        format!("{n} chapters")
    }
}

fn emit_json(
    args: &FeedArgs,
    text: &str,
    feed: &Feed,
    (dir, base): (&Path, &String),
    ui: Ui,
) -> Outcome {
    std::fs::create_dir_all(dir).with_context(|| format!("{}: cannot create", dir.display()))?;
    let base = base.trim_end_matches('/');
    let mut used = HashSet::new();
    let mut links = Vec::new();
    for (i, item) in feed.items.iter().enumerate() {
        if item.chapters_url.is_some() {
            log::info!("{}: already links chapters; left as is", item.guid);
            continue;
        }
        let Some((source, list)) = item.chapters(text)? else {
            continue;
        };
        let stem = feed::item_file_stem(feed, i, &mut used);
        let path = dir.join(format!("{stem}.json"));
        let bytes = format::write(Format::Json, &list, &WriteOptions::default());
        std::fs::write(&path, bytes)
            .with_context(|| format!("{}: cannot write", path.display()))?;
        log::info!(
            "{}: {} chapters from {source} → {}",
            item.guid,
            list.len(),
            path.display()
        );
        links.push(ChapterLink {
            item: i,
            url: format!("{base}/{stem}.json"),
        });
    }
    let out = feed::add_chapter_links(text, feed, &links);
    emit(args.output.as_deref(), out.as_bytes())?;
    if !ui.quiet {
        eprintln!(
            "chapmark: wrote {} chapters file(s) to {} and linked them in the feed",
            links.len(),
            dir.display()
        );
    }
    Ok(ExitStatus::Ok)
}
