//! `chapmark probe`: exact durations, for people or as JSON Lines.

use super::{Outcome, Ui};
use crate::cli::{ExitStatus, ProbeArgs};
use chapmark::probe::ProbeInfo;
use chapmark::time::Time;
use chapmark::validate::format_length;
use std::io::Write;
use std::path::Path;

pub fn run(args: ProbeArgs, ui: Ui) -> Outcome {
    let mut stdout = std::io::stdout().lock();
    let mut failed = false;
    if args.audio.iter().filter(|p| *p == Path::new("-")).count() > 1 {
        return Err(super::io::usage(
            "`-` (standard input) can be given only once",
        ));
    }
    for path in &args.audio {
        let input = super::stdin::audio_input(path);
        // The library's probe finishes an interrupted chapmark write first, so it never
        // measures a half-patched file.
        let probed = input
            .as_ref()
            .map_err(|e| anyhow::anyhow!("{e}"))
            .and_then(|input| {
                chapmark::probe(input.path()).map_err(|e| input.rename_error(e.into()))
            });
        let name = input
            .as_ref()
            .map_or_else(|_| path.display().to_string(), |i| i.name());
        match probed {
            Ok(info) => {
                let text = if args.json {
                    json_line(&name, &info)?
                } else {
                    human(&name, &info)
                };
                stdout.write_all(text.as_bytes())?;
            }
            Err(e) => {
                failed = true;
                stdout.flush()?;
                let prefix = if ui.color_err {
                    "\x1b[1;31merror\x1b[0m"
                } else {
                    "error"
                };
                eprintln!("chapmark: {prefix}: {e}");
            }
        }
    }
    stdout.flush()?;
    Ok(if failed {
        ExitStatus::Input
    } else {
        ExitStatus::Ok
    })
}

/// One JSON object: the documented keys first, then everything the probe knows.
pub(super) fn json_line(path: &str, info: &ProbeInfo) -> anyhow::Result<String> {
    let mut v = serde_json::to_value(info)?;
    if let Some(obj) = v.as_object_mut() {
        let mut out = serde_json::Map::new();
        out.insert("path".into(), path.into());
        out.insert("format".into(), info.container.name().into());
        out.insert("sample_rate".into(), info.sample_rate.into());
        out.insert("samples".into(), info.duration.samples.into());
        if info.duration.sample_rate != info.sample_rate {
            // A stream whose rate changes (stitched MP3): `samples` counts in this time base.
            out.insert("time_base".into(), info.duration.sample_rate.into());
        }
        out.insert("duration".into(), info.duration.as_secs_f64().into());
        for (k, val) in std::mem::take(obj) {
            if k != "duration" {
                out.entry(k).or_insert(val);
            }
        }
        v = serde_json::Value::Object(out);
    }
    Ok(format!("{}\n", serde_json::to_string(&v)?))
}

pub(super) fn human(path: &str, info: &ProbeInfo) -> String {
    let d = info.duration;
    let method = serde_json::to_value(info.method)
        .ok()
        .and_then(|v| v.as_str().map(str::to_owned))
        .unwrap_or_default();
    let at = if d.sample_rate == info.sample_rate {
        String::new()
    } else {
        format!(" at {} Hz", d.sample_rate)
    };
    let mut s = format!(
        "{path}\n  format      {} ({}), {} Hz, {} ch\n  duration    {} ({} samples{at}, from {method})\n",
        info.container.name(),
        info.codec,
        info.sample_rate,
        info.channels,
        format_length(d.to_time_round()),
        d.samples,
    );
    if info.encoder_delay > 0 || info.encoder_padding > 0 {
        s.push_str(&format!(
            "  gapless     delay {} + padding {} samples\n",
            info.encoder_delay, info.encoder_padding
        ));
    }
    if let Some(id3) = &info.tags.id3 {
        s.push_str(&format!(
            "  id3v2.{}     {} bytes ({} padding), {} chapters{}\n",
            id3.version,
            id3.size,
            id3.padding,
            id3.chapters,
            if id3.toc { " + toc" } else { "" }
        ));
    }
    if let Some(m) = &info.tags.mp4_chapters {
        s.push_str(&format!(
            "  chapters    {} nero (chpl), {} quicktime\n",
            m.nero, m.quicktime
        ));
    }
    let segments = info.mp3.as_ref().map_or(&[][..], |m| &m.segments[..]);
    if segments.len() > 1 {
        for (i, seg) in segments.iter().enumerate() {
            s.push_str(&format!(
                "  segment {:<3} {} at byte {}: {} Hz, {} ch, {} frames, {}\n",
                i + 1,
                format_length(Time::from_millis(seg.start_ms)),
                seg.offset,
                seg.sample_rate,
                seg.channels,
                seg.frames,
                format_length(Time::from_millis(seg.duration_ms)),
            ));
        }
    }
    if let Some(v) = &info.tags.vorbis {
        s.push_str(&format!(
            "  comments    {} ({} chapters), {} bytes padding\n",
            v.comments, v.chapters, v.padding
        ));
    }
    for w in &info.warnings {
        s.push_str(&format!("  warning     {w}\n"));
    }
    s
}
