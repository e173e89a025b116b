//! Plots as image files: the SVG `plot` draws, written as is, or rendered to PNG (resvg) or
//! PDF (svg2pdf, from the same parsed tree) with the `raster` feature.
//!
//! Text is set in the DejaVu Sans subset compiled into the binary (`fonts/README.md`), and
//! the renderer is given no other font, so a plot is the same on every machine, including
//! one with no fonts installed. A plot's canvas is 960 × 620 SVG pixels, taken as 100 per
//! inch (matplotlib's default figure dpi): a 9.6 × 6.2 in figure.

use crate::cli::PlotFormat;
use std::path::Path;

/// Fails, before anything is read or written, when this build cannot write `format`.
pub fn check(format: PlotFormat) -> Result<(), String> {
    if format != PlotFormat::Svg && !cfg!(feature = "raster") {
        return Err(format!(
            "--format {}: this vq-benchmark was built without the `raster` feature that renders png and pdf; \
             rebuild it with `cargo install --path . --features raster`, or use --format svg",
            format.ext()
        ));
    }
    Ok(())
}

/// Writes `svg` to `path` in `format` (`dpi` sets a PNG's pixel size).
pub fn save(path: &Path, svg: &str, format: PlotFormat, dpi: u32) -> Result<(), String> {
    let bytes = match format {
        PlotFormat::Svg => svg.as_bytes().to_vec(),
        #[cfg(feature = "raster")]
        PlotFormat::Png => raster::png(svg, dpi)?,
        #[cfg(feature = "raster")]
        PlotFormat::Pdf => raster::pdf(svg)?,
        #[cfg(not(feature = "raster"))]
        PlotFormat::Png | PlotFormat::Pdf => {
            let _ = dpi;
            return check(format);
        }
    };
    std::fs::write(path, bytes).map_err(|e| format!("{}: {e}", path.display()))
}

#[cfg(feature = "raster")]
mod raster {
    use resvg::{tiny_skia, usvg};

    /// SVG pixels per inch of a plot's canvas.
    const CANVAS_DPI: u32 = 100;

    const FONT: &[u8] = include_bytes!("fonts/DejaVuSans-Latin.ttf");
    const FAMILY: &str = "DejaVu Sans";

    /// The plot parsed with the embedded font as every family plotters names.
    fn tree(svg: &str) -> Result<usvg::Tree, String> {
        let mut opt = usvg::Options { font_family: FAMILY.into(), ..usvg::Options::default() };
        let db = opt.fontdb_mut();
        db.load_font_data(FONT.to_vec());
        db.set_sans_serif_family(FAMILY);
        db.set_serif_family(FAMILY);
        db.set_monospace_family(FAMILY);
        usvg::Tree::from_str(svg, &opt).map_err(|e| format!("rendering a plot: {e}"))
    }

    pub fn png(svg: &str, dpi: u32) -> Result<Vec<u8>, String> {
        let tree = tree(svg)?;
        let scale = dpi as f32 / CANVAS_DPI as f32;
        let size = tree.size();
        let (w, h) = ((size.width() * scale).round() as u32, (size.height() * scale).round() as u32);
        let mut pixmap = tiny_skia::Pixmap::new(w.max(1), h.max(1))
            .ok_or_else(|| format!("--dpi {dpi}: a {w} × {h} pixel image is too large to render"))?;
        resvg::render(&tree, tiny_skia::Transform::from_scale(scale, scale), &mut pixmap.as_mut());
        pixmap.encode_png().map_err(|e| format!("encoding a PNG plot: {e}"))
    }

    pub fn pdf(svg: &str) -> Result<Vec<u8>, String> {
        let tree = tree(svg)?;
        let page = svg2pdf::PageOptions { dpi: CANVAS_DPI as f32 };
        svg2pdf::to_pdf(&tree, svg2pdf::ConversionOptions::default(), page)
            .map_err(|e| format!("converting a plot to PDF: {e}"))
    }
}
