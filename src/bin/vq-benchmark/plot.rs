//! The original tool's plot set: compression vs reconstruction distortion, compression vs
//! recall@10, pairwise distortion and rank distortion against compression, each with its
//! Pareto-optimal configurations highlighted and labelled, plus `comparison_table.md`; and
//! the newer tool's `pareto_frontier`, the runs Pareto-optimal in compression and quality
//! (recall@10 when the runs have it, else reconstruction distortion) joined by a step line,
//! the dominated ones faded. Combined (every method on one chart) or, with
//! `--separate-methods`, one directory per method. Runs under different `--metric`s never
//! share a chart (their recalls rank different neighbours): a selection that mixes them
//! gets one directory per metric (`l2/`, `ip/`, `cosine/`), each as above. Drawn as SVG,
//! written as SVG, PNG or PDF (`render`).
//!
//! Each call writes a new `OUTPUT/YYYYMMDD_HHMMSS/`, built in a temporary directory and
//! renamed into place, so a failed call leaves no partial plot set.

use crate::cli::PlotFormat;
use crate::csv::{metric, object, rank_distortion};
use crate::runlog::Run;
use plotters::prelude::*;
use std::path::{Path, PathBuf};

/// One run, reduced to what the plots need.
#[derive(Clone, Debug)]
pub struct Point {
    pub method: String,
    /// `l2`, `ip` or `cosine` (`csv::metric`).
    pub metric: String,
    pub label: String,
    pub compression: f64,
    pub mse: Option<f64>,
    pub recall10: Option<f64>,
    pub recall100: Option<f64>,
    pub pairwise: Option<f64>,
    pub rank: Option<(u64, f64)>,
    pub bytes: Option<f64>,
    pub train_seconds: Option<f64>,
    pub search_qps: Option<f64>,
    pub sweep_id: String,
}

pub fn points(runs: &[Run]) -> Vec<Point> {
    runs.iter()
        .filter_map(|r| {
            let m = object(&r.metrics_json);
            let c = object(&r.config_json);
            let f = |k: &str| m.get(k).and_then(|v| v.as_f64());
            let method = r.method.clone().unwrap_or_else(|| "?".into()).to_lowercase();
            let label = crate::csv::label(Some(&method), &c, false)
                .unwrap_or_else(|| format!("{} #{}", display_name(&method), r.id));
            Some(Point {
                compression: f("compression_ratio")?,
                mse: f("reconstruction_distortion"),
                recall10: f("recall@10"),
                recall100: f("recall@100"),
                pairwise: f("pairwise_distortion_mean"),
                rank: rank_distortion(&m),
                bytes: f("bytes_per_vector"),
                train_seconds: f("train_seconds"),
                search_qps: f("search_qps"),
                sweep_id: r.sweep_id.clone().unwrap_or_default(),
                metric: metric(&c),
                method,
                label,
            })
        })
        .collect()
}

/// Indices of the Pareto-optimal points of `(x, y)`: higher x is better, and higher y if
/// `higher_y`, else lower. A point is optimal when no other is at least as good in both and
/// better in one.
pub fn pareto(xy: &[(f64, f64)], higher_y: bool) -> Vec<bool> {
    let better_y = |a: f64, b: f64| if higher_y { a >= b } else { a <= b };
    xy.iter().map(|&(x, y)| !xy.iter().any(|&(x2, y2)| x2 >= x && better_y(y2, y) && (x2 > x || y2 != y))).collect()
}

struct Chart<'a> {
    /// The file name without its extension.
    file: &'a str,
    title: String,
    y_label: String,
    higher_y: bool,
    y: fn(&Point) -> Option<f64>,
    /// The newer tool's style: the front as a step line, dominated runs faded.
    frontier: bool,
}

/// matplotlib's tab10 blue, orange, green, purple and cyan (not its red: the Pareto front's).
const COLORS: [RGBColor; 5] = [
    RGBColor(31, 119, 180),
    RGBColor(255, 127, 14),
    RGBColor(44, 160, 44),
    RGBColor(148, 103, 189),
    RGBColor(23, 190, 207),
];

/// Each method's colour, the same in every chart and plot set (PQ blue, SQ orange, OPQ
/// green, as a PQ-and-SQ chart had them before OPQ; RaBitQ cyan; any other method
/// purple), so a method is recognised across the combined, per-method and per-metric plots.
fn method_color(method: &str) -> RGBColor {
    COLORS[match method {
        "pq" => 0,
        "sq" => 1,
        "opq" => 2,
        "rabitq" => 4,
        _ => 3,
    }]
}

/// How a method is written in legends and titles: its name in capitals, as the papers
/// write PQ, OPQ and SQ, except RaBitQ, whose authors write it so.
fn display_name(method: &str) -> String {
    match method {
        "rabitq" => "RaBitQ".into(),
        m => m.to_uppercase(),
    }
}

/// The points `chart` can show (those with its metric), each with its metric and whether it
/// is Pareto-optimal among them.
fn front<'p>(chart: &Chart<'_>, pts: &[&'p Point]) -> (Vec<(&'p Point, f64)>, Vec<bool>) {
    let data: Vec<(&Point, f64)> = pts.iter().filter_map(|p| (chart.y)(p).map(|y| (*p, y))).collect();
    let xy: Vec<(f64, f64)> = data.iter().map(|(p, y)| (p.compression, *y)).collect();
    let front = pareto(&xy, chart.higher_y);
    (data, front)
}

/// The chart as SVG, or `None` when no point has its metric.
fn draw(chart: &Chart<'_>, pts: &[&Point]) -> Result<Option<String>, String> {
    let (data, front) = front(chart, pts);
    if data.is_empty() {
        return Ok(None);
    }
    let xy: Vec<(f64, f64)> = data.iter().map(|(p, y)| (p.compression, *y)).collect();
    // A metric spanning more than two decades (SQ16's MSE beside PQ's) is drawn on a log
    // axis, else the small values sit flat on zero; the axis is labelled in real values.
    let (ymin, ymax) = xy.iter().fold((f64::INFINITY, f64::NEG_INFINITY), |(a, b), &(_, y)| (a.min(y), b.max(y)));
    let log_y = ymin > 0.0 && ymax / ymin > 100.0;
    let ty = |y: f64| if log_y { y.log10() } else { y };
    let data: Vec<(&Point, f64)> = data.into_iter().map(|(p, y)| (p, ty(y))).collect();
    let (ymin, ymax) = (ty(ymin), ty(ymax));
    let (xmin, xmax) = xy.iter().fold((f64::INFINITY, 0f64), |(a, b), &(x, _)| (a.min(x), b.max(x)));
    let span = (ymax - ymin).max(ymax.abs() * 0.05).max(1e-9);
    let (y0, y1) = (ymin - 0.12 * span, ymax + 0.18 * span);
    // x is drawn as log2(compression) on a linear axis labelled 2^v: compression ratios are
    // mostly powers of two, and plotters' log axis labels only powers of ten (a PQ-only
    // sweep spanning 256..1024 would get a single tick).
    let (x0, x1) = (xmin.log2() - 0.5, xmax.log2() + 0.5);
    let x_ticks = (x1.floor() - x0.ceil()) as usize + 1;
    let legend_at = emptiest_corner(&data, (x0, x1), (y0, y1));
    let y_desc = if log_y { format!("{} (log scale)", chart.y_label) } else { chart.y_label.clone() };
    let mut svg = String::new();
    {
        let root = SVGBackend::with_string(&mut svg, (960, 620)).into_drawing_area();
        root.fill(&WHITE).map_err(|e| e.to_string())?;
        let mut ch = ChartBuilder::on(&root)
            .caption(&chart.title, ("sans-serif", 22))
            .margin(18)
            .x_label_area_size(48)
            .y_label_area_size(80)
            .build_cartesian_2d(x0..x1, y0..y1)
            .map_err(|e| e.to_string())?;
        ch.configure_mesh()
            .x_desc("compression ratio (× smaller than float32, log scale)")
            .y_desc(y_desc.as_str())
            .x_labels(x_ticks.max(2))
            .x_label_formatter(&|v| {
                if (v - v.round()).abs() < 1e-9 {
                    format!("{}", 2f64.powf(v.round()))
                } else {
                    String::new()
                }
            })
            .y_label_formatter(&|v| fmt_num(if log_y { 10f64.powf(*v) } else { *v }))
            .label_style(("sans-serif", 14))
            .axis_desc_style(("sans-serif", 16))
            .light_line_style(RGBColor(235, 235, 235))
            .draw()
            .map_err(|e| e.to_string())?;
        let mut methods: Vec<&str> = data.iter().map(|(p, _)| p.method.as_str()).collect();
        methods.dedup();
        methods.sort_unstable();
        methods.dedup();
        let alpha = |optimal: bool| match (chart.frontier, optimal) {
            (false, _) => 0.55,
            (true, true) => 0.9,
            (true, false) => 0.3,
        };
        for method in &methods {
            let color = method_color(method);
            let pts: Vec<(f64, f64, bool)> = data
                .iter()
                .zip(&front)
                .filter(|((p, _), _)| p.method == *method)
                .map(|((p, y), &f)| (p.compression.log2(), *y, f))
                .collect();
            ch.draw_series(pts.iter().map(|&(x, y, f)| Circle::new((x, y), 5, color.mix(alpha(f)).filled())))
                .map_err(|e| e.to_string())?
                .label(display_name(method))
                .legend(move |(x, y)| Circle::new((x, y), 5, color.filled()));
        }
        // The Pareto front: a line through the optimal points, each ringed and labelled.
        let mut opt: Vec<(f64, f64, &str)> = data
            .iter()
            .zip(&front)
            .filter(|(_, &f)| f)
            .map(|((p, y), _)| (p.compression.log2(), *y, p.label.as_str()))
            .collect();
        opt.sort_by(|a, b| a.0.total_cmp(&b.0));
        let mut line: Vec<(f64, f64)> = opt.iter().map(|&(x, y, _)| (x, y)).collect();
        if chart.frontier {
            // The edge of what the runs attain: a run also serves every smaller ratio at its
            // quality, so between two optimal runs' ratios the edge is at the quality of the
            // more compressed one, and steps at each run's ratio (not a diagonal between them).
            line = opt.iter().zip(opt.iter().skip(1).map(Some).chain([None])).fold(Vec::new(), |mut l, (a, b)| {
                l.push((a.0, a.1));
                if let Some(b) = b {
                    l.push((a.0, b.1));
                }
                l
            });
        }
        ch.draw_series(LineSeries::new(line, RGBColor(200, 30, 30).stroke_width(2)))
            .map_err(|e| e.to_string())?
            .label(if chart.frontier { "Pareto frontier" } else { "Pareto-optimal" })
            .legend(|(x, y)| PathElement::new(vec![(x - 8, y), (x + 8, y)], RGBColor(200, 30, 30).stroke_width(2)));
        ch.draw_series(opt.iter().map(|&(x, y, _)| Circle::new((x, y), 8, RGBColor(200, 30, 30).stroke_width(2))))
            .map_err(|e| e.to_string())?;
        // Labels alternate above and below the front, so neighbours do not collide.
        use plotters::style::text_anchor::{HPos, Pos, VPos};
        ch.draw_series(opt.iter().enumerate().map(|(i, &(x, y, label))| {
            let dy = if i % 2 == 0 { -26 } else { 12 };
            let style = ("sans-serif", 13).into_font().color(&BLACK).pos(Pos::new(HPos::Center, VPos::Top));
            EmptyElement::at((x, y)) + Text::new(label.to_string(), (0, dy), style)
        }))
        .map_err(|e| e.to_string())?;
        ch.configure_series_labels()
            .position(legend_at)
            .background_style(WHITE.mix(0.9))
            .border_style(RGBColor(180, 180, 180))
            .label_font(("sans-serif", 14))
            .draw()
            .map_err(|e| e.to_string())?;
        root.present().map_err(|e| e.to_string())?;
    }
    Ok(Some(svg))
}

/// The plot corner with the fewest points (in a 35% × 30% box), for the legend.
fn emptiest_corner(data: &[(&Point, f64)], (lx0, lx1): (f64, f64), (y0, y1): (f64, f64)) -> SeriesLabelPosition {
    let corners = [
        (SeriesLabelPosition::UpperRight, 1.0, 1.0),
        (SeriesLabelPosition::UpperLeft, 0.0, 1.0),
        (SeriesLabelPosition::LowerRight, 1.0, 0.0),
        (SeriesLabelPosition::LowerLeft, 0.0, 0.0),
    ];
    let count = |cx: f64, cy: f64| {
        data.iter()
            .filter(|(p, y)| {
                let u = (p.compression.log2() - lx0) / (lx1 - lx0);
                let v = (y - y0) / (y1 - y0);
                (u - cx).abs() < 0.35 && (v - cy).abs() < 0.30
            })
            .count()
    };
    corners.into_iter().min_by_key(|&(_, cx, cy)| count(cx, cy)).map(|(c, _, _)| c).expect("four corners")
}

fn fmt_num(v: f64) -> String {
    let a = v.abs();
    let s = if a < 1e-12 {
        return "0".into();
    } else if a >= 100.0 {
        format!("{v:.0}")
    } else if a >= 0.01 {
        format!("{v:.3}")
    } else {
        return format!("{v:.0e}");
    };
    // 1.000 → 1, 0.100 → 0.1: the tick values are round, so their labels should be.
    if s.contains('.') {
        s.trim_end_matches('0').trim_end_matches('.').to_string()
    } else {
        s
    }
}

/// Every chart of a plot set of `pts`.
fn charts(pts: &[&Point]) -> Vec<Chart<'static>> {
    let rank_k = pts.iter().find_map(|p| p.rank.map(|(k, _)| k));
    vec![
        Chart {
            file: "compression_vs_distortion",
            title: "Compression vs reconstruction distortion".into(),
            y_label: "reconstruction distortion (MSE, per-vector sum)".into(),
            higher_y: false,
            y: |p| p.mse,
            frontier: false,
        },
        Chart {
            file: "compression_vs_recall",
            title: "Compression vs recall@10".into(),
            y_label: "recall@10 (ADC search)".into(),
            higher_y: true,
            y: |p| p.recall10,
            frontier: false,
        },
        Chart {
            file: "pairwise_distortion",
            title: "Compression vs pairwise distance distortion".into(),
            y_label: "mean |d'/d - 1| over random pairs".into(),
            higher_y: false,
            y: |p| p.pairwise,
            frontier: false,
        },
        Chart {
            file: "rank_distortion",
            title: format!("Compression vs rank distortion@{}", rank_k.map_or("k".into(), |k| k.to_string())),
            y_label: format!("rank distortion@{} (1 - recall)", rank_k.map_or("k".into(), |k| k.to_string())),
            higher_y: false,
            y: |p| p.rank.map(|(_, v)| v),
            frontier: false,
        },
        frontier_chart(pts),
    ]
}

/// The newer tool's `pareto_frontier`: compression against recall@10 when any run has it,
/// else against reconstruction distortion.
fn frontier_chart(pts: &[&Point]) -> Chart<'static> {
    let recall = pts.iter().any(|p| p.recall10.is_some());
    let y: fn(&Point) -> Option<f64> = if recall { |p| p.recall10 } else { |p| p.mse };
    let (what, y_label) = match recall {
        true => ("recall@10", "recall@10 (ADC search)"),
        false => ("reconstruction distortion", "reconstruction distortion (MSE, per-vector sum)"),
    };
    Chart {
        file: "pareto_frontier",
        title: format!("Pareto frontier: compression vs {what}"),
        y_label: y_label.into(),
        higher_y: recall,
        y,
        frontier: true,
    }
}

/// The comparison table: every run, Pareto membership on the distortion and recall plots.
pub fn table(pts: &[&Point]) -> String {
    let xy_mse: Vec<(f64, f64)> = pts.iter().map(|p| (p.compression, p.mse.unwrap_or(f64::INFINITY))).collect();
    let xy_rec: Vec<(f64, f64)> =
        pts.iter().map(|p| (p.compression, p.recall10.unwrap_or(f64::NEG_INFINITY))).collect();
    let (fm, fr) = (pareto(&xy_mse, false), pareto(&xy_rec, true));
    let mut idx: Vec<usize> = (0..pts.len()).collect();
    idx.sort_by(|&a, &b| pts[a].method.cmp(&pts[b].method).then(pts[a].compression.total_cmp(&pts[b].compression)));
    let o = |v: Option<f64>, p: usize| {
        v.map_or("–".to_string(), |v| if v != 0.0 && v.abs() < 0.001 { format!("{v:.2e}") } else { format!("{v:.p$}") })
    };
    let rank_k = pts.iter().find_map(|p| p.rank.map(|(k, _)| k));
    let mut s = String::from("# Comparison table\n\n");
    s.push_str(&format!(
        "| configuration | compression | bytes/vector | MSE | pairwise mean | rank distortion@{} | recall@10 | recall@100 | train s | search QPS | Pareto (MSE / recall@10) |\n",
        rank_k.map_or("k".into(), |k| k.to_string())
    ));
    s.push_str("|---|---|---|---|---|---|---|---|---|---|---|\n");
    for i in idx {
        let p = pts[i];
        let mark = match (fm[i] && p.mse.is_some(), fr[i] && p.recall10.is_some()) {
            (true, true) => "MSE, recall",
            (true, false) => "MSE",
            (false, true) => "recall",
            _ => "",
        };
        s.push_str(&format!(
            "| {} | {:.1}× | {} | {} | {} | {} | {} | {} | {} | {} | {} |\n",
            p.label,
            p.compression,
            o(p.bytes, 0),
            o(p.mse, 3),
            o(p.pairwise, 4),
            o(p.rank.map(|(_, v)| v), 3),
            o(p.recall10, 3),
            o(p.recall100, 3),
            o(p.train_seconds, 2),
            o(p.search_qps, 0),
            mark
        ));
    }
    let mut sweeps: Vec<&str> = pts.iter().map(|p| p.sweep_id.as_str()).filter(|s| !s.is_empty()).collect();
    sweeps.sort_unstable();
    sweeps.dedup();
    if !sweeps.is_empty() {
        s.push_str(&format!("\nSweeps: {}\n", sweeps.join(", ")));
    }
    s
}

/// Writes the plot set for `runs` under a new `output/YYYYMMDD_HHMMSS/`; returns it and the
/// files written.
pub fn write_all(
    output: &Path,
    runs: &[Run],
    separate: bool,
    format: PlotFormat,
    dpi: u32,
) -> Result<(PathBuf, Vec<PathBuf>), String> {
    let pts = points(runs);
    if pts.is_empty() {
        return Err("no runs with a compression_ratio to plot in the selection".into());
    }
    let stamp = crate::provenance::compact_time();
    let mut dest = output.join(&stamp);
    let mut n = 2;
    while dest.exists() {
        dest = output.join(format!("{stamp}_{n}"));
        n += 1;
    }
    std::fs::create_dir_all(output).map_err(|e| format!("--output {}: {e}", output.display()))?;
    let tmp = output.join(format!(".{stamp}.tmp{}", std::process::id()));
    let result = (|| {
        std::fs::create_dir_all(&tmp).map_err(|e| format!("{}: {e}", tmp.display()))?;
        let mut files = Vec::new();
        // Each group: its metric (only when the runs mix metrics), its method (only with
        // --separate-methods), and its points.
        let distinct = |f: fn(&Point) -> &String| {
            let mut v: Vec<String> = pts.iter().map(|p| f(p).clone()).collect();
            v.sort();
            v.dedup();
            v
        };
        let metrics: Vec<Option<String>> = match distinct(|p| &p.metric) {
            m if m.len() > 1 => m.into_iter().map(Some).collect(),
            _ => vec![None],
        };
        let methods: Vec<Option<String>> =
            if separate { distinct(|p| &p.method).into_iter().map(Some).collect() } else { vec![None] };
        let mut groups: Vec<(Option<&String>, Option<&String>, Vec<&Point>)> = Vec::new();
        for me in &metrics {
            for mt in &methods {
                let group: Vec<&Point> = pts
                    .iter()
                    .filter(|p| me.as_ref().is_none_or(|m| p.metric == *m))
                    .filter(|p| mt.as_ref().is_none_or(|m| p.method == *m))
                    .collect();
                if !group.is_empty() {
                    groups.push((me.as_ref(), mt.as_ref(), group));
                }
            }
        }
        for (metric, method, group) in groups {
            let mut dir = tmp.clone();
            for part in [metric, method].into_iter().flatten() {
                dir = dir.join(part);
            }
            std::fs::create_dir_all(&dir).map_err(|e| format!("{}: {e}", dir.display()))?;
            let tag: Vec<String> =
                method.map(|m| display_name(m)).into_iter().chain(metric.map(|m| m.to_uppercase())).collect();
            for mut chart in charts(&group) {
                if !tag.is_empty() {
                    chart.title = format!("{} ({})", chart.title, tag.join(", "));
                }
                if let Some(svg) = draw(&chart, &group)? {
                    let f = dir.join(format!("{}.{}", chart.file, format.ext()));
                    crate::render::save(&f, &svg, format, dpi)?;
                    files.push(f);
                }
            }
            let t = dir.join("comparison_table.md");
            std::fs::write(&t, table(&group)).map_err(|e| format!("{}: {e}", t.display()))?;
            files.push(t);
        }
        Ok(files)
    })();
    match result {
        Ok(files) => {
            std::fs::rename(&tmp, &dest).map_err(|e| {
                let _ = std::fs::remove_dir_all(&tmp);
                format!("{}: {e}", dest.display())
            })?;
            let files = files.into_iter().map(|f| dest.join(f.strip_prefix(&tmp).expect("under tmp"))).collect();
            Ok((dest, files))
        }
        Err(e) => {
            let _ = std::fs::remove_dir_all(&tmp);
            Err(e)
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn pareto_front() {
        // (compression, mse): lower mse better.
        let pts = [(4.0, 1.0), (8.0, 2.0), (8.0, 3.0), (16.0, 2.5), (2.0, 1.5), (16.0, 2.5)];
        assert_eq!(pareto(&pts, false), vec![true, true, false, true, false, true]);
        // recall: higher better.
        let r = [(4.0, 0.9), (8.0, 0.95), (16.0, 0.5)];
        assert_eq!(pareto(&r, true), vec![false, true, true]);
    }

    fn point(label: &str, compression: f64, mse: Option<f64>, recall10: Option<f64>) -> Point {
        Point {
            method: "pq".into(),
            metric: "l2".into(),
            label: label.into(),
            compression,
            mse,
            recall10,
            recall100: None,
            pairwise: None,
            rank: None,
            bytes: None,
            train_seconds: None,
            search_qps: None,
            sweep_id: String::new(),
        }
    }

    fn on_front(pts: &[Point]) -> Vec<&str> {
        let refs: Vec<&Point> = pts.iter().collect();
        let chart = frontier_chart(&refs);
        let (data, front) = front(&chart, &refs);
        let mut labels: Vec<&str> =
            data.iter().zip(&front).filter(|(_, &f)| f).map(|((p, _), _)| p.label.as_str()).collect();
        labels.sort_unstable();
        labels
    }

    #[test]
    fn pareto_frontier_ranks_by_recall_when_present_else_distortion() {
        let runs = [
            point("a", 8.0, Some(1.0), Some(0.9)),
            // Same compression as a, lower recall: dominated (though its MSE is lower).
            point("b", 8.0, Some(0.5), Some(0.8)),
            point("c", 16.0, Some(2.0), Some(0.85)),
            // More compression than c at the same recall: c is dominated by it.
            point("d", 32.0, Some(3.0), Some(0.85)),
            point("e", 64.0, Some(4.0), Some(0.4)),
            // Less compression and less recall than a.
            point("f", 4.0, Some(0.1), Some(0.7)),
            // No recall: not on the recall frontier.
            point("g", 128.0, Some(9.0), None),
        ];
        assert_eq!(on_front(&runs), ["a", "d", "e"]);
        // Without recall@10 anywhere, lower distortion is better: f is optimal now.
        let no_recall: Vec<Point> = runs.iter().map(|p| Point { recall10: None, ..p.clone() }).collect();
        assert_eq!(on_front(&no_recall), ["b", "c", "d", "e", "f", "g"]);
    }
}
