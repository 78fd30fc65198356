//! Pictures of an episode: the whole waveform (peak and RMS envelope) with each chapter as a
//! labelled mark, the exact end, every diagnostic where it happens, and a zoomed strip (±5 s)
//! per chapter start. Drawn as SVG ([`svg`]); PNG is that SVG rasterised by resvg, with
//! titles shaped from the system fonts (any script the installed fonts cover; Debian's
//! `fonts-noto-cjk` for Japanese).
//!
//! Geometry is public so tests and tools can find things in a picture: the overview's time
//! axis runs from column [`LEFT`] to `width - RIGHT`, and [`column_of`] gives a time's column.

mod raster;
mod svg;

pub use raster::{PlotError, png};
pub use svg::svg;

use crate::audio::{Envelope, Frames, Snap};
use crate::chapter::ChapterList;
use crate::time::Time;
use crate::validate::Diagnostic;

/// Left margin of the overview, in pixels.
pub const LEFT: u32 = 16;
/// Right margin of the overview, in pixels.
pub const RIGHT: u32 = 16;
/// The default picture width.
pub const DEFAULT_WIDTH: u32 = 1600;
/// The zoomed strips show this much on each side of a chapter start.
pub const STRIP_SPAN: Time = Time::from_secs(5);

/// The overview's colour for chapter marks (`#202020`), the one thing drawn in it.
pub const MARK_COLOR: [u8; 3] = [0x20, 0x20, 0x20];

/// Everything a picture shows.
#[derive(Debug, Clone)]
pub struct Picture<'a> {
    /// The episode's name, shown at the top.
    pub title: String,
    /// The whole episode's envelope (any bucket count; resampled to the width).
    pub envelope: &'a Envelope,
    /// The chapters to mark.
    pub chapters: &'a ChapterList,
    /// Diagnostics to draw at their chapters (and, for whole-list ones, under the picture).
    pub diagnostics: &'a [Diagnostic],
    /// Per chapter start (by chapter index), the loudness around it (±[`STRIP_SPAN`]).
    pub strips: Vec<(usize, Frames)>,
    /// Suggested snaps, drawn in the strips.
    pub snaps: &'a [Snap],
    /// Picture width in pixels.
    pub width: u32,
}

/// The column of time `t` in the overview of an episode `duration` long, `width` wide:
/// `LEFT + round(t / duration × (width − LEFT − RIGHT))`, clamped to the plot.
pub fn column_of(t: Time, duration: Time, width: u32) -> u32 {
    let plot = u64::from(plot_width(width));
    let d = duration.as_millis().max(1);
    let x = (t.as_millis().min(d) * plot + d / 2) / d;
    LEFT + u32::try_from(x).unwrap_or(0)
}

/// Width of the overview's time axis.
pub fn plot_width(width: u32) -> u32 {
    width.saturating_sub(LEFT + RIGHT).max(1)
}
