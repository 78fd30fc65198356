//! `--snap` for `check` and `write`: the window argument and the library call.

use super::common;
use chapmark::ChapterList;
use chapmark::Time;
use chapmark::audio::{Snap, SnapOptions};
use chapmark::probe::ProbeInfo;
use std::path::Path;

/// `2s`, `1.5s`, `500ms`, or plain seconds (`2`).
pub fn parse_window(s: &str) -> anyhow::Result<Time> {
    let t = s.trim();
    let (num, scale) = if let Some(ms) = t.strip_suffix("ms") {
        (ms, 1.0)
    } else {
        (t.strip_suffix('s').unwrap_or(t), 1000.0)
    };
    match num.trim().parse::<f64>() {
        Ok(v) if v.is_finite() && v > 0.0 && v * scale <= 60_000.0 => {
            Ok(Time::from_millis((v * scale).round() as u64))
        }
        _ => Err(super::io::usage(format!(
            "--snap={s}: give a window up to 60s, like 2s, 1.5s or 500ms"
        ))),
    }
}

/// The suggested moves for `list` against `audio` (probed as `info`, or probed here).
pub fn suggest(
    audio: &Path,
    info: Option<&ProbeInfo>,
    list: &ChapterList,
    window: &str,
) -> anyhow::Result<Vec<Snap>> {
    let opts = SnapOptions::with_window(parse_window(window)?);
    let probed;
    let info = match info {
        Some(i) => i,
        None => {
            probed = common::probe_audio(audio)?;
            &probed
        }
    };
    Ok(chapmark::audio::suggest(audio, info, list, &opts)?)
}

/// `write --snap`: moves the starts in `list`; `show` prints each move (for `--dry-run`).
pub fn apply(
    audio: &Path,
    info: &ProbeInfo,
    list: &mut ChapterList,
    window: &str,
    show: bool,
) -> anyhow::Result<()> {
    let snaps = suggest(audio, Some(info), list, window)?;
    if show {
        for line in describe(list, &snaps) {
            eprintln!("chapmark: {line}");
        }
    }
    chapmark::audio::snap::apply(list, &snaps);
    Ok(())
}

/// One line per move for `--dry-run`: `snap: chapter 3 "Title" 5:01 → 5:00.420`.
pub fn describe(list: &ChapterList, snaps: &[Snap]) -> Vec<String> {
    snaps
        .iter()
        .filter_map(|s| {
            let ch = list.chapters.get(s.index)?;
            Some(format!(
                "snap: chapter {} \"{}\" {} -> {}",
                s.index + 1,
                ch.title,
                s.from.hms_millis(),
                s.to.hms_millis()
            ))
        })
        .collect()
}
