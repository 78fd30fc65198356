//! SVG → PNG with resvg, text shaped from the system fonts.

use std::sync::Arc;

/// Rendering a picture failed.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum PlotError {
    /// Our own SVG did not parse (a bug).
    #[error("the picture's svg does not parse: {0}")]
    Svg(String),
    /// The picture is too large to allocate.
    #[error("the picture is too large ({width}×{height})")]
    TooLarge {
        /// Width in pixels.
        width: u32,
        /// Height in pixels.
        height: u32,
    },
    /// PNG encoding failed.
    #[error("encoding the png: {0}")]
    Png(String),
}

/// Families tried for text, in order: the CJK-capable fonts Debian ships first (so Japanese
/// titles render), then the usual sans fonts.
pub(super) const FONT_FAMILIES: &str =
    "'Noto Sans CJK JP', 'Noto Sans CJK SC', 'IPAGothic', 'VL Gothic', 'DejaVu Sans', sans-serif";

/// Rasterises `svg` (as made by [`super::svg`]) to PNG bytes.
pub fn png(svg: &str) -> Result<Vec<u8>, PlotError> {
    let mut opts = resvg::usvg::Options::default();
    let mut db = resvg::usvg::fontdb::Database::new();
    db.load_system_fonts();
    db.set_sans_serif_family("Noto Sans CJK JP");
    opts.fontdb = Arc::new(db);
    let tree =
        resvg::usvg::Tree::from_str(svg, &opts).map_err(|e| PlotError::Svg(e.to_string()))?;
    let size = tree.size().to_int_size();
    let (width, height) = (size.width(), size.height());
    let mut pixmap = resvg::tiny_skia::Pixmap::new(width, height)
        .ok_or(PlotError::TooLarge { width, height })?;
    pixmap.fill(resvg::tiny_skia::Color::WHITE);
    resvg::render(
        &tree,
        resvg::tiny_skia::Transform::default(),
        &mut pixmap.as_mut(),
    );
    pixmap
        .encode_png()
        .map_err(|e| PlotError::Png(e.to_string()))
}
