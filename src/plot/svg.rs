//! The picture as SVG text.

use super::raster::FONT_FAMILIES;
use super::{LEFT, MARK_COLOR, Picture, STRIP_SPAN, column_of, plot_width};
use crate::audio::Frames;
use crate::report::xml_escape as esc;
use crate::time::Time;
use crate::validate::{Diagnostic, Severity};
use std::fmt::Write as _;

const TITLE_H: u32 = 30;
/// The overview: label rows on top, then the waveform, then the diagnostics row.
const LABEL_ROWS: u32 = 3;
const LABEL_ROW_H: u32 = 16;
const WAVE_H: u32 = 170;
const DIAG_H: u32 = 34;
const STRIP_W: u32 = 380;
const STRIP_H: u32 = 100;
const GAP: u32 = 12;
const PEAK: &str = "#9ecae1";
const RMS: &str = "#3182bd";
const END: &str = "#2ca02c";
const ERROR: &str = "#d62728";
const WARNING: &str = "#e6850e";
const SNAP: &str = "#9467bd";
/// Longest title shown in full in the overview (the strips have more room).
const LABEL_CHARS: usize = 28;

/// The picture as an SVG document.
pub fn svg(pic: &Picture<'_>) -> String {
    let width = pic.width.max(LEFT + super::RIGHT + 100);
    let wave_top = TITLE_H + LABEL_ROWS * LABEL_ROW_H + 4;
    let strips_top = wave_top + WAVE_H + DIAG_H;
    let cols = strip_columns(width);
    let rows = u32::try_from(pic.strips.len())
        .unwrap_or(u32::MAX)
        .div_ceil(cols);
    let footer = whole_list(pic.diagnostics).count() as u32 * 16;
    let height = strips_top + rows * (STRIP_H + GAP) + footer + GAP;
    let mut o = String::new();
    let _ = write!(
        o,
        r#"<svg xmlns="http://www.w3.org/2000/svg" width="{width}" height="{height}" viewBox="0 0 {width} {height}" font-family="{FONT_FAMILIES}" font-size="12">"#
    );
    let _ = write!(o, r#"<rect width="100%" height="100%" fill="white"/>"#);
    let dur = pic.envelope.duration.to_time_round();
    let _ = write!(
        o,
        r#"<text x="{LEFT}" y="20" font-size="15" font-weight="bold">{} — {} chapters, {}</text>"#,
        esc(&pic.title),
        pic.chapters.len(),
        dur.hms_millis()
    );
    overview(&mut o, pic, width, wave_top);
    for (k, (idx, frames)) in pic.strips.iter().enumerate() {
        let k = u32::try_from(k).unwrap_or(0);
        let pw = (plot_width(width) + GAP) / cols - GAP;
        let x = LEFT + (k % cols) * (pw + GAP);
        let y = strips_top + (k / cols) * (STRIP_H + GAP);
        strip(&mut o, pic, *idx, frames, (x, y, pw));
    }
    let mut y = strips_top + rows * (STRIP_H + GAP) + 12;
    for d in whole_list(pic.diagnostics) {
        let _ = write!(
            o,
            r#"<text x="{LEFT}" y="{y}" fill="{}">{}[{}] {}</text>"#,
            severity_color(d.severity),
            d.severity,
            d.rule,
            esc(&d.message)
        );
        y += 16;
    }
    o.push_str("</svg>\n");
    o
}

fn strip_columns(width: u32) -> u32 {
    ((plot_width(width) + GAP) / (STRIP_W + GAP)).max(1)
}

fn whole_list(diags: &[Diagnostic]) -> impl Iterator<Item = &Diagnostic> {
    diags.iter().filter(|d| d.chapter.is_none())
}

fn severity_color(s: Severity) -> &'static str {
    match s {
        Severity::Error => ERROR,
        _ => WARNING,
    }
}

/// The whole episode: envelope, end, chapter marks with labels, diagnostics.
fn overview(o: &mut String, pic: &Picture<'_>, width: u32, top: u32) {
    let env = pic.envelope.resample(plot_width(width) as usize);
    let mid = f64::from(top) + f64::from(WAVE_H) / 2.0;
    let scale = f64::from(env.peaks.iter().copied().fold(1e-3, f32::max)).recip();
    let half = f64::from(WAVE_H) / 2.0 - 2.0;
    for (vals, colour) in [(&env.peaks, PEAK), (&env.rms, RMS)] {
        let mut d = String::new();
        for (k, v) in vals.iter().enumerate() {
            let h = (f64::from(*v) * scale * half).max(0.5);
            let x = f64::from(LEFT) + k as f64 + 0.5;
            let _ = write!(d, "M{x} {:.1}V{:.1}", mid - h, mid + h);
        }
        let _ = write!(
            o,
            r#"<path d="{d}" stroke="{colour}" stroke-width="1" fill="none"/>"#
        );
    }
    let dur = pic.envelope.duration.to_time_round();
    let (wave_top, wave_bottom) = (top, top + WAVE_H);
    let end_x = column_of(dur, dur, width);
    let _ = write!(
        o,
        r#"<line x1="{end_x}.5" y1="{wave_top}" x2="{end_x}.5" y2="{wave_bottom}" stroke="{END}" stroke-width="1" shape-rendering="crispEdges"/><text x="{end_x}" y="{}" fill="{END}" text-anchor="end" font-size="11">end {}</text>"#,
        wave_bottom + 12,
        dur.hms_millis()
    );
    let hex = format!(
        "#{:02x}{:02x}{:02x}",
        MARK_COLOR[0], MARK_COLOR[1], MARK_COLOR[2]
    );
    for (i, ch) in pic.chapters.chapters.iter().enumerate() {
        let past = ch.start >= dur;
        let x = column_of(ch.start, dur, width);
        let colour = if past { ERROR } else { hex.as_str() };
        let row = u32::try_from(i).unwrap_or(0) % LABEL_ROWS;
        let ly = TITLE_H + row * LABEL_ROW_H + 12;
        let _ = write!(
            o,
            r#"<line x1="{x}.5" y1="{ly}" x2="{x}.5" y2="{wave_bottom}" stroke="{colour}" stroke-width="1" shape-rendering="crispEdges"{}/>"#,
            if past {
                r#" stroke-dasharray="3 2""#
            } else {
                ""
            }
        );
        let label = format!("{} {}", i + 1, clip(&ch.title, LABEL_CHARS));
        let label = if past {
            format!("{label} ({} past end)", ch.start.short())
        } else {
            label
        };
        let anchor = if x > width * 3 / 4 { "end" } else { "start" };
        let dx = if anchor == "end" { -3 } else { 3 };
        let _ = write!(
            o,
            r#"<text x="{}" y="{ly}" fill="{colour}" text-anchor="{anchor}">{}</text>"#,
            i64::from(x) + dx,
            esc(&label)
        );
    }
    diagnostics(o, pic, width, wave_bottom);
}

/// A marker and the rule code under the chapter each diagnostic is about.
fn diagnostics(o: &mut String, pic: &Picture<'_>, width: u32, wave_bottom: u32) {
    let dur = pic.envelope.duration.to_time_round();
    let mut stacked: Vec<(u32, u32)> = Vec::new();
    for d in pic.diagnostics {
        let Some(ch) = d
            .chapter
            .and_then(|c| pic.chapters.chapters.get(c.wrapping_sub(1)))
        else {
            continue;
        };
        let x = column_of(ch.start, dur, width);
        // Several diagnostics on one chapter stack downwards.
        let n = stacked.iter().filter(|(sx, _)| sx.abs_diff(x) < 60).count() as u32;
        stacked.push((x, n));
        let y = wave_bottom + 12 + (n % 2) * 11 + 11;
        let c = severity_color(d.severity);
        // Near the right edge the code goes left of the marker, so it is not cut off.
        let (tx, anchor) = if x > width * 3 / 4 {
            (x.saturating_sub(5), "end")
        } else {
            (x + 5, "start")
        };
        let _ = write!(
            o,
            r#"<path d="M{x}.5 {} l-4 7 h8 z" fill="{c}"/><text x="{tx}" y="{y}" fill="{c}" font-size="10" text-anchor="{anchor}">{}</text>"#,
            wave_bottom + 1,
            d.rule
        );
    }
}

/// One chapter start, ±5 s: its envelope, the start, a suggested snap.
fn strip(o: &mut String, pic: &Picture<'_>, idx: usize, f: &Frames, (x, y, w): (u32, u32, u32)) {
    let Some(ch) = pic.chapters.chapters.get(idx) else {
        return;
    };
    let wave_top = y + 18;
    let wave_h = STRIP_H - 22;
    let span = STRIP_SPAN.as_millis() * 2;
    let from = ch.start.as_millis().saturating_sub(STRIP_SPAN.as_millis());
    let col = |t: Time| {
        let off = t.as_millis().saturating_sub(from).min(span);
        x + u32::try_from(off * u64::from(w) / span).unwrap_or(0)
    };
    let _ = write!(
        o,
        r##"<rect x="{x}" y="{wave_top}" width="{w}" height="{wave_h}" fill="#f7f7f7"/><text x="{x}" y="{}" font-size="11">{} {} — {}</text>"##,
        y + 13,
        idx + 1,
        ch.start.short(),
        esc(&clip(&ch.title, (w / 14) as usize))
    );
    let scale = f64::from(f.peak.iter().copied().fold(1e-3, f32::max)).recip();
    let mid = f64::from(wave_top) + f64::from(wave_h) / 2.0;
    let half = f64::from(wave_h) / 2.0 - 1.0;
    for (vals, colour) in [(&f.peak, PEAK), (&f.rms, RMS)] {
        let mut d = String::new();
        for (k, v) in vals.iter().enumerate() {
            let h = (f64::from(*v) * scale * half).max(0.5);
            let _ = write!(d, "M{}.5 {:.1}V{:.1}", col(f.time_of(k)), mid - h, mid + h);
        }
        let _ = write!(o, r#"<path d="{d}" stroke="{colour}" fill="none"/>"#);
    }
    let bottom = wave_top + wave_h;
    let cx = col(ch.start);
    let _ = write!(
        o,
        r#"<line x1="{cx}.5" y1="{wave_top}" x2="{cx}.5" y2="{bottom}" stroke="{ERROR}" shape-rendering="crispEdges"/>"#
    );
    for s in pic.snaps.iter().filter(|s| s.index == idx) {
        let sx = col(s.to);
        let _ = write!(
            o,
            r#"<line x1="{sx}.5" y1="{wave_top}" x2="{sx}.5" y2="{bottom}" stroke="{SNAP}" stroke-dasharray="4 2" shape-rendering="crispEdges"/><text x="{}" y="{}" fill="{SNAP}" font-size="10">snap {}</text>"#,
            sx + 3,
            bottom - 3,
            s.to.short()
        );
    }
}

/// At most `n` characters, with `…` when cut.
fn clip(s: &str, n: usize) -> String {
    if s.chars().count() <= n {
        s.to_string()
    } else {
        let mut t: String = s.chars().take(n.saturating_sub(1)).collect();
        t.push('…');
        t
    }
}
