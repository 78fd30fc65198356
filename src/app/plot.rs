//! `chapmark plot`: a picture of the episode with its chapters (PNG or SVG).

use super::common;
use super::{Outcome, Ui};
use crate::cli::{ExitStatus, PlotArgs};
use anyhow::Context;
use chapmark::ChapterList;
use chapmark::api::embed;
use chapmark::api::lock::{Access, prepare_audio};
use chapmark::audio::envelope::envelope_of;
use chapmark::audio::{Decoder, Frames, Snap};
use chapmark::batch::Entry;
use chapmark::format::text::Parsed;
use chapmark::plot::{self, Picture, STRIP_SPAN};
use chapmark::probe::ProbeInfo;
use std::path::Path;

/// Frame length of the zoomed strips (10 s over a few hundred pixels).
const STRIP_HOP_MS: u32 = 20;

/// What a picture is made of, besides the audio.
pub struct PlotRequest<'a> {
    pub chapters: Option<&'a Path>,
    pub width: u32,
    pub snap: Option<&'a str>,
    pub cache: bool,
}

pub fn run(args: PlotArgs, ui: Ui) -> Outcome {
    let req = PlotRequest {
        chapters: args.chapters.as_deref(),
        width: args.width,
        snap: args.snap.as_deref(),
        cache: !args.no_cache,
    };
    let bytes = render(&args.audio, &args.output, &req)?;
    common::emit(Some(&args.output), &bytes)?;
    if !ui.quiet {
        eprintln!("chapmark: wrote {}", args.output.display());
    }
    Ok(ExitStatus::Ok)
}

/// `batch --plot DIR`: the episode's picture as `DIR/<key>.png`, where the key is the
/// episode's path relative to the batch root with `/` as `__` (unique within a batch).
pub fn plot_into(dir: &Path, entry: &Entry, chapters: Option<&str>) -> anyhow::Result<()> {
    std::fs::create_dir_all(dir).with_context(|| format!("{}: cannot create", dir.display()))?;
    let name: String = entry
        .key
        .chars()
        .map(|c| {
            if matches!(c, '/' | '\\' | ':') {
                '_'
            } else {
                c
            }
        })
        .collect();
    let out = dir.join(format!("{}.png", name.trim_start_matches('.')));
    let req = PlotRequest {
        chapters: chapters.map(Path::new).filter(|p| p.exists()),
        width: plot::DEFAULT_WIDTH,
        snap: None,
        cache: true,
    };
    let bytes = render(&entry.audio, &out, &req)?;
    common::emit(Some(&out), &bytes)
}

/// PNG or SVG bytes (by `output`'s extension) of the picture of `audio`.
pub fn render(audio: &Path, output: &Path, req: &PlotRequest<'_>) -> anyhow::Result<Vec<u8>> {
    let _guard = prepare_audio(audio, Access::Read)?;
    let info = common::probe_audio(audio)?;
    let (parsed, source) = chapters_for(audio, &info, req.chapters)?;
    let ctx = common::context(
        Some(info.duration),
        chapmark::validate::Profile::Default,
        embed::target_for(info.container),
    );
    let name = audio.display().to_string();
    let report = common::validate_report(name, source, &parsed, &ctx);
    let snaps: Vec<Snap> = match req.snap {
        Some(w) => super::snap::suggest(audio, Some(&info), &parsed.list, w)?,
        None => Vec::new(),
    };
    let mut diagnostics = report.diagnostics;
    diagnostics.extend(chapmark::validate::snap(&parsed.list, &snaps));
    let envelope = envelope_of(
        audio,
        &info,
        plot::plot_width(req.width) as usize,
        req.cache,
    )?;
    let strips = strips(audio, &info, &parsed.list)?;
    let title = audio.file_name().map_or_else(
        || audio.display().to_string(),
        |n| n.to_string_lossy().into_owned(),
    );
    let pic = Picture {
        title,
        envelope: &envelope,
        chapters: &parsed.list,
        diagnostics: &diagnostics,
        strips,
        snaps: &snaps,
        width: req.width,
    };
    let svg = plot::svg(&pic);
    let is_svg = output
        .extension()
        .is_some_and(|e| e.eq_ignore_ascii_case("svg"));
    Ok(if is_svg {
        svg.into_bytes()
    } else {
        plot::png(&svg)?
    })
}

/// The chapters to draw: from `--chapters`, else embedded in the audio (none is fine).
fn chapters_for(
    audio: &Path,
    info: &ProbeInfo,
    chapters: Option<&Path>,
) -> anyhow::Result<(Parsed, Option<String>)> {
    if let Some(path) = chapters {
        let loaded = common::load_chapters(path, None)?;
        return Ok((loaded.parsed, Some(loaded.name)));
    }
    let list = match embed::target_for(info.container) {
        Some(_) => embed::read_embedded_of(audio, info.container)?,
        None => ChapterList::default(),
    };
    Ok((
        Parsed {
            list,
            ..Parsed::default()
        },
        None,
    ))
}

/// ±5 s of loudness around each chapter start inside the audio.
fn strips(
    audio: &Path,
    info: &ProbeInfo,
    list: &ChapterList,
) -> anyhow::Result<Vec<(usize, Frames)>> {
    let end = info.duration.to_time_floor();
    let mut dec = Decoder::open(audio, info)?;
    let mut out = Vec::new();
    for (i, ch) in list.chapters.iter().enumerate() {
        if ch.start >= end {
            continue;
        }
        let from = ch.start.saturating_sub(STRIP_SPAN);
        let to = ch.start.saturating_add(STRIP_SPAN).min(end);
        out.push((i, dec.frames(from, to, STRIP_HOP_MS)?));
    }
    Ok(out)
}
