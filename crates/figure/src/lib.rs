//! Figures as data and their SVG rendering.
//!
//! A [`Figure`] is a file name, a caption and a [`Plot`]: time series
//! ([`TimeSeriesPlot`]: log or linear axes, several series, optional bands,
//! an optional right y-axis, stacked panels) or a labelled [`HeatMap`] with
//! a colour bar. Claim families declare their figures as these values;
//! the report renders them with [`Figure::svg`].
//!
//! Drawn with plotters' SVG backend only: text is emitted as SVG `<text>`
//! in a generic `sans-serif` family and sized by plotters' built-in
//! estimate, so no font is loaded. Figures are 600 px wide.
//!
//! *Log axes* are plotters' logarithmic coordinates over whole decades: a
//! point with a non-positive or non-finite coordinate on a log axis is left
//! out, and decade ticks read `1e-3`.

use std::ops::Range;

use plotters::chart::SeriesAnno;
use plotters::coord::Shift;
use plotters::coord::ranged1d::{DefaultFormatting, KeyPointHint, SegmentValue};
use plotters::coord::types::RangedCoordf64;
use plotters::prelude::*;
use plotters::style::text_anchor::{HPos, Pos, VPos};

pub use plotters::prelude::SeriesLabelPosition;

/// One figure: where it is written, what it shows, and the plot.
#[derive(Debug, Clone)]
pub struct Figure {
    /// File name, written next to the report.
    pub file: String,
    /// What the figure shows, with its conventions (the markdown caption).
    pub caption: String,
    /// The plot.
    pub plot: Plot,
}

/// What a figure draws.
#[derive(Debug, Clone)]
pub enum Plot {
    /// Series against a shared x-axis.
    Lines(TimeSeriesPlot),
    /// A matrix as coloured cells.
    HeatMap(HeatMap),
}

impl Figure {
    /// The SVG document.
    pub fn svg(&self) -> Result<String, PlotError> {
        match &self.plot {
            Plot::Lines(p) => time_series_svg(p),
            Plot::HeatMap(m) => heat_map_svg(m),
        }
    }
}

/// A declared figure whose data are not among the results (its claims
/// were not run, or lack the details it draws).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{file}: {why}")]
pub struct Missing {
    /// The figure's file name.
    pub file: String,
    /// What is absent.
    pub why: String,
}

impl Missing {
    /// `file` lacks `why`.
    pub fn new(file: impl Into<String>, why: impl Into<String>) -> Self {
        Missing {
            file: file.into(),
            why: why.into(),
        }
    }
}

/// A figure as a claim family declares it: drawn from the results, or
/// what it lacks.
pub type Declared = Result<Figure, Missing>;

/// Width of every figure, in pixels.
pub const WIDTH: u32 = 600;

/// A plot that cannot be drawn.
#[derive(Debug, thiserror::Error)]
pub enum PlotError {
    /// A series' coordinates (or band) do not have matching lengths.
    #[error("series `{0}`: x, y and band lengths differ")]
    Ragged(String),
    /// A panel has no point that can be shown on its axes.
    #[error("panel `{0}`: no finite point to show")]
    NoData(String),
    /// A heat map is empty or its rows, labels or values do not match.
    #[error("heat map `{0}`: {1}")]
    HeatMap(String, String),
    /// The SVG backend failed.
    #[error("drawing: {0}")]
    Drawing(String),
}

fn drawing<E: std::fmt::Display>(e: E) -> PlotError {
    PlotError::Drawing(e.to_string())
}

/// Linear or decimal-logarithmic axis.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Scale {
    /// Linear.
    Linear,
    /// Base-10 logarithmic (positive values only).
    Log,
}

impl Scale {
    /// The value a point is plotted at, `None` when this axis cannot show it
    /// (non-finite, or not positive on a log axis).
    fn map(self, v: f64) -> Option<f64> {
        match self {
            _ if !v.is_finite() => None,
            Scale::Log if v <= 0.0 => None,
            _ => Some(v),
        }
    }

    /// The range covering `[lo, hi]`: whole decades on a log axis, 5 %
    /// padding on a linear one.
    fn range(self, lo: f64, hi: f64) -> Range<f64> {
        match self {
            Scale::Log => {
                let (a, b) = (lo.log10().floor() as i32, hi.log10().ceil() as i32);
                let (a, b) = if b > a { (a, b) } else { (a - 1, a + 1) };
                // Widened by 1e-9 relative, so that plotters' decade ticks,
                // which it finds through logarithms and products that round,
                // include both end decades.
                10f64.powi(a) * (1.0 - LOG_SLACK)..10f64.powi(b) * (1.0 + LOG_SLACK)
            }
            Scale::Linear => {
                let pad = if hi > lo {
                    0.05 * (hi - lo)
                } else {
                    0.1 * lo.abs().max(1.0)
                };
                lo - pad..hi + pad
            }
        }
    }

    /// plotters' coordinate of this scale over `range`.
    fn coord(self, range: Range<f64>) -> Coord {
        match self {
            Scale::Linear => Coord::Linear(range.into()),
            Scale::Log => Coord::Log(range.log_scale().into()),
        }
    }

    /// Tick label of a value: on a log axis `1e-3` for a decade and `2e-3`
    /// for a one-digit multiple of one, else short decimals.
    fn tick(self, v: f64) -> String {
        // The decade, nudged so that plotters' rounded products (1e-3·10·10)
        // land in theirs.
        let decade = (v.log10() + 1e-9).floor();
        let digit = v / 10f64.powf(decade);
        match self {
            Scale::Log if (digit - digit.round()).abs() < 1e-6 => {
                format!("{}e{}", digit.round(), decade)
            }
            _ => tick(v),
        }
    }
}

/// Relative widening of a log axis beyond its end decades.
const LOG_SLACK: f64 = 1e-9;

/// An axis' coordinate: plotters' linear or logarithmic one, so that every
/// axis of a chart has one type whatever its scale.
enum Coord {
    Linear(RangedCoordf64),
    Log(LogCoord<f64>),
}

impl Ranged for Coord {
    type FormatOption = DefaultFormatting;
    type ValueType = f64;

    fn map(&self, v: &f64, limit: (i32, i32)) -> i32 {
        match self {
            Coord::Linear(c) => c.map(v, limit),
            Coord::Log(c) => c.map(v, limit),
        }
    }

    /// plotters' key points; on a log axis of fewer than three decades,
    /// whose labelled points plotters keeps to the decades, the labelled
    /// points are 1, 2 and 5 times each decade instead.
    fn key_points<H: KeyPointHint>(&self, hint: H) -> Vec<f64> {
        match self {
            Coord::Linear(c) => c.key_points(hint),
            Coord::Log(c) => {
                let Range { start, end } = c.range();
                // The ends are decades widened by LOG_SLACK (`Scale::range`).
                let (lo, hi) = (start.log10().round() as i32, end.log10().round() as i32);
                let short: Vec<f64> = (lo..=hi)
                    .flat_map(|k| [1.0, 2.0, 5.0].map(|m| m * 10f64.powi(k)))
                    .filter(|v| (start..=end).contains(v))
                    .collect();
                let labelled = !hint.weight().allow_light_points();
                if labelled && hi - lo < 3 && short.len() <= hint.max_num_points() {
                    short
                } else {
                    c.key_points(hint)
                }
            }
        }
    }

    fn range(&self) -> Range<f64> {
        match self {
            Coord::Linear(c) => c.range(),
            Coord::Log(c) => c.range(),
        }
    }
}

/// A short linear tick label: up to four decimals, trailing zeros removed.
fn tick(v: f64) -> String {
    let a = v.abs();
    if a != 0.0 && !(1e-3..1e4).contains(&a) {
        return format!("{v:.1e}");
    }
    let s = format!("{v:.4}");
    let s = s.trim_end_matches('0').trim_end_matches('.');
    if s == "-0" {
        "0".to_owned()
    } else {
        s.to_owned()
    }
}

/// An axis: its label (with units and convention) and scale.
#[derive(Debug, Clone)]
pub struct Axis {
    /// Label, e.g. `time t (gradient-flow units)`.
    pub label: String,
    /// Scale.
    pub scale: Scale,
}

impl Axis {
    /// A linear axis.
    pub fn linear(label: impl Into<String>) -> Self {
        Axis {
            label: label.into(),
            scale: Scale::Linear,
        }
    }

    /// A log axis.
    pub fn log(label: impl Into<String>) -> Self {
        Axis {
            label: label.into(),
            scale: Scale::Log,
        }
    }
}

/// How a series is drawn.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Style {
    /// Solid line.
    Line,
    /// Dashed line (predictions).
    Dashed,
    /// Solid line with circles at the points.
    LineMarkers,
    /// Circles only.
    Circles,
    /// Crosses only.
    Crosses,
    /// Triangles only.
    Triangles,
}

/// One named series of a panel.
#[derive(Debug, Clone)]
pub struct Series {
    /// Legend entry (none when empty).
    pub name: String,
    /// Abscissae.
    pub x: Vec<f64>,
    /// Ordinates (non-finite values are gaps).
    pub y: Vec<f64>,
    /// Optional band `(lower, upper)` at the same abscissae, drawn shaded.
    pub band: Option<(Vec<f64>, Vec<f64>)>,
    /// Drawing style.
    pub style: Style,
    /// Index into the colour-blind-safe palette.
    pub colour: usize,
    /// Plot against the panel's right y-axis.
    pub right: bool,
}

impl Series {
    /// A solid-line series in palette colour `colour`.
    pub fn new(name: impl Into<String>, x: Vec<f64>, y: Vec<f64>, colour: usize) -> Self {
        Series {
            name: name.into(),
            x,
            y,
            band: None,
            style: Style::Line,
            colour,
            right: false,
        }
    }

    /// With drawing style `style`.
    pub fn style(mut self, style: Style) -> Self {
        self.style = style;
        self
    }

    /// With a shaded band between `lower` and `upper`.
    pub fn band(mut self, lower: Vec<f64>, upper: Vec<f64>) -> Self {
        self.band = Some((lower, upper));
        self
    }

    /// Against the right y-axis.
    pub fn on_right(mut self) -> Self {
        self.right = true;
        self
    }

    /// Plotted points (and band ends) that both axes can show.
    fn points(&self, xs: Scale, ys: Scale) -> Result<Vec<Point>, PlotError> {
        let n = self.x.len();
        let ragged = self.y.len() != n
            || self
                .band
                .as_ref()
                .is_some_and(|(l, u)| l.len() != n || u.len() != n);
        if ragged {
            return Err(PlotError::Ragged(self.name.clone()));
        }
        Ok((0..n)
            .filter_map(|i| {
                let (x, y) = (xs.map(self.x[i])?, ys.map(self.y[i])?);
                let band = self
                    .band
                    .as_ref()
                    .and_then(|(l, u)| Some((ys.map(l[i])?, ys.map(u[i])?)));
                Some((x, y, band))
            })
            .collect())
    }
}

/// A plotted point `(x, y)` and its band `(lower, upper)`, if any.
type Point = (f64, f64, Option<(f64, f64)>);

/// Okabe–Ito colour-blind-safe palette (without yellow, which is unreadable
/// on white).
const PALETTE: [RGBColor; 7] = [
    RGBColor(0, 114, 178),
    RGBColor(213, 94, 0),
    RGBColor(0, 158, 115),
    RGBColor(204, 121, 167),
    RGBColor(230, 159, 0),
    RGBColor(86, 180, 233),
    RGBColor(0, 0, 0),
];

fn colour(i: usize) -> RGBColor {
    PALETTE[i % PALETTE.len()]
}

/// One panel: a left y-axis, an optional right one, and its series.
#[derive(Debug, Clone)]
pub struct Panel {
    /// Left y-axis.
    pub y: Axis,
    /// Right y-axis, for series with [`Series::right`].
    pub y_right: Option<Axis>,
    /// The series.
    pub series: Vec<Series>,
    /// Where the legend goes.
    pub legend: SeriesLabelPosition,
}

impl Panel {
    /// A panel with a left axis and its series; legend upper right.
    pub fn new(y: Axis, series: Vec<Series>) -> Self {
        Panel {
            y,
            y_right: None,
            series,
            legend: SeriesLabelPosition::UpperRight,
        }
    }

    /// With a right y-axis.
    pub fn right_axis(mut self, axis: Axis) -> Self {
        self.y_right = Some(axis);
        self
    }

    /// With the legend at `at`.
    pub fn legend(mut self, at: SeriesLabelPosition) -> Self {
        self.legend = at;
        self
    }
}

/// Series against a shared x-axis, in one or more stacked panels.
#[derive(Debug, Clone)]
pub struct TimeSeriesPlot {
    /// Title above the panels.
    pub title: String,
    /// The x-axis of every panel.
    pub x: Axis,
    /// Panels from top to bottom.
    pub panels: Vec<Panel>,
}

/// Height of one panel, in pixels.
const PANEL_HEIGHT: u32 = 360;
/// Height of the title strip.
const TITLE_HEIGHT: u32 = 30;

fn font(size: u32) -> TextStyle<'static> {
    ("sans-serif", size).into_font().into()
}

/// The largest title font, from 17 px down to 11 px, at which `title` fits
/// the width of `area` with a margin of 10 px each side (a longer title at
/// 11 px is cut at both ends, as before).
fn title_font<DB: DrawingBackend>(
    area: &DrawingArea<DB, Shift>,
    title: &str,
) -> Result<TextStyle<'static>, PlotError> {
    let room = area.dim_in_pixel().0.saturating_sub(20);
    for size in (11..=17).rev() {
        let (w, _) = area
            .estimate_text_size(title, &font(size))
            .map_err(drawing)?;
        if w <= room {
            return Ok(font(size));
        }
    }
    Ok(font(11))
}

/// Draw `plot` as an SVG document.
pub fn time_series_svg(plot: &TimeSeriesPlot) -> Result<String, PlotError> {
    let height = TITLE_HEIGHT + PANEL_HEIGHT * plot.panels.len().max(1) as u32;
    let mut svg = String::new();
    {
        let root = SVGBackend::with_string(&mut svg, (WIDTH, height)).into_drawing_area();
        root.fill(&WHITE).map_err(drawing)?;
        let body = root
            .titled(&plot.title, title_font(&root, &plot.title)?)
            .map_err(drawing)?;
        let areas = body.split_evenly((plot.panels.len().max(1), 1));
        // One x-range for all panels, so stacked panels line up in time.
        let mut x_span: Option<(f64, f64)> = None;
        for panel in &plot.panels {
            for s in &panel.series {
                for x in s.x.iter().filter_map(|&x| plot.x.scale.map(x)) {
                    x_span = Some(x_span.map_or((x, x), |(lo, hi)| (lo.min(x), hi.max(x))));
                }
            }
        }
        let x_range = x_span.map(|(lo, hi)| plot.x.scale.range(lo, hi));
        for (panel, area) in plot.panels.iter().zip(&areas) {
            draw_panel(area, &plot.x, x_range.clone(), panel)?;
        }
        root.present().map_err(drawing)?;
    }
    Ok(svg)
}

/// The plotted range of the values `f` picks from the points of `series`.
fn span<'a>(
    series: impl Iterator<Item = &'a Vec<Point>>,
    f: impl Fn(&Point) -> Vec<f64>,
) -> Option<(f64, f64)> {
    series.flatten().flat_map(f).fold(None, |acc, v| match acc {
        None => Some((v, v)),
        Some((lo, hi)) => Some((lo.min(v), hi.max(v))),
    })
}

fn draw_panel(
    area: &DrawingArea<SVGBackend<'_>, Shift>,
    x_axis: &Axis,
    x_range: Option<Range<f64>>,
    panel: &Panel,
) -> Result<(), PlotError> {
    let right_scale = panel.y_right.as_ref().map_or(Scale::Linear, |a| a.scale);
    let points: Vec<Vec<Point>> = panel
        .series
        .iter()
        .map(|s| {
            let ys = if s.right { right_scale } else { panel.y.scale };
            s.points(x_axis.scale, ys)
        })
        .collect::<Result<_, _>>()?;
    let side = |right: bool| {
        panel
            .series
            .iter()
            .zip(&points)
            .filter(move |(s, _)| s.right == right)
            .map(|(_, p)| p)
    };
    let y_values = |p: &Point| {
        let mut v = vec![p.1];
        if let Some((l, u)) = p.2 {
            v.extend([l, u]);
        }
        v
    };
    let no_data = || PlotError::NoData(panel.y.label.clone());
    if points.iter().all(Vec::is_empty) {
        return Err(no_data());
    }
    let x_range = x_range.ok_or_else(no_data)?;
    let (y_lo, y_hi) = span(side(false), y_values).ok_or_else(no_data)?;
    let y_range = panel.y.scale.range(y_lo, y_hi);
    let y2_range = match span(side(true), y_values) {
        Some((lo, hi)) => right_scale.range(lo, hi),
        None => y_range.clone(),
    };

    let mut builder = ChartBuilder::on(area);
    builder
        .margin(8)
        .x_label_area_size(42)
        .y_label_area_size(62);
    if panel.y_right.is_some() {
        builder.right_y_label_area_size(62);
    }
    let (xs, ys) = (x_axis.scale, panel.y.scale);
    let mut chart = builder
        .build_cartesian_2d(xs.coord(x_range.clone()), ys.coord(y_range))
        .map_err(drawing)?
        .set_secondary_coord(xs.coord(x_range), right_scale.coord(y2_range));
    let x_fmt = move |v: &f64| xs.tick(*v);
    let y_fmt = move |v: &f64| ys.tick(*v);
    chart
        .configure_mesh()
        .x_desc(&x_axis.label)
        .y_desc(&panel.y.label)
        .x_labels(7)
        .y_labels(7)
        .x_label_formatter(&x_fmt)
        .y_label_formatter(&y_fmt)
        .label_style(font(13))
        .axis_desc_style(font(14))
        .light_line_style(RGBColor(235, 235, 235))
        .draw()
        .map_err(drawing)?;
    if let Some(right) = &panel.y_right {
        let rs = right.scale;
        let r_fmt = move |v: &f64| rs.tick(*v);
        chart
            .configure_secondary_axes()
            .y_desc(&right.label)
            .y_labels(7)
            .y_label_formatter(&r_fmt)
            .label_style(font(13))
            .axis_desc_style(font(14))
            .draw()
            .map_err(drawing)?;
    }

    for (s, pts) in panel.series.iter().zip(&points) {
        let c = colour(s.colour);
        let stroke = c.stroke_width(2);
        let xy: Vec<(f64, f64)> = pts.iter().map(|p| (p.0, p.1)).collect();
        // The band first, so the line sits on top of it.
        let band: Vec<(f64, f64)> = pts
            .iter()
            .filter_map(|p| p.2.map(|(l, _)| (p.0, l)))
            .chain(pts.iter().rev().filter_map(|p| p.2.map(|(_, u)| (p.0, u))))
            .collect();
        macro_rules! draw {
            ($elements:expr) => {
                if s.right {
                    chart.draw_secondary_series($elements).map(|_| ())
                } else {
                    chart.draw_series($elements).map(|_| ())
                }
                .map_err(drawing)?
            };
        }
        if band.len() >= 4 {
            draw!(std::iter::once(Polygon::new(band, c.mix(0.2).filled())));
        }
        match s.style {
            Style::Line | Style::LineMarkers => {
                draw!(std::iter::once(PathElement::new(xy.clone(), stroke)))
            }
            // Dashes of 6 px with gaps of 4 px, even on log axes.
            Style::Dashed => draw!(DashedLineSeries::new(xy.clone(), 6, 4, stroke)),
            _ => {}
        }
        match s.style {
            Style::LineMarkers | Style::Circles => {
                draw!(xy.iter().map(|&p| Circle::new(p, 4, c.filled())))
            }
            Style::Crosses => draw!(xy.iter().map(|&p| Cross::new(p, 5, stroke))),
            Style::Triangles => draw!(xy.iter().map(|&p| TriangleMarker::new(p, 5, c.filled()))),
            _ => {}
        }
        // The legend lives on the primary chart: an empty series carries
        // it. A series without a name has no legend entry.
        if s.name.is_empty() {
            continue;
        }
        let anno = chart
            .draw_series(std::iter::empty::<Circle<(f64, f64), i32>>())
            .map_err(drawing)?;
        anno.label(if s.right {
            format!("{} (right axis)", s.name)
        } else {
            s.name.clone()
        });
        legend_mark(anno, c, s.style);
    }
    chart
        .configure_series_labels()
        .position(panel.legend.clone())
        .label_font(font(13))
        .background_style(WHITE.mix(0.85))
        .border_style(RGBColor(160, 160, 160))
        .draw()
        .map_err(drawing)?;
    Ok(())
}

/// A legend segment from `from` to `to` pixels right of the anchor.
fn segment(from: i32, to: i32, c: RGBColor) -> PathElement<(i32, i32)> {
    PathElement::new(vec![(from, 0), (to, 0)], c.stroke_width(2))
}

/// The legend glyph of a series: its line and/or marker. Composed elements
/// take pixel offsets from the legend anchor.
fn legend_mark<'a, DB: DrawingBackend + 'a>(
    anno: &mut SeriesAnno<'a, DB>,
    c: RGBColor,
    style: Style,
) {
    let at = |x: i32, y: i32| EmptyElement::at((x, y));
    match style {
        Style::Line => anno.legend(move |(x, y)| at(x, y) + segment(0, 20, c)),
        Style::Dashed => anno.legend(move |(x, y)| {
            at(x, y) + segment(0, 6, c) + segment(9, 14, c) + segment(17, 20, c)
        }),
        Style::LineMarkers => anno.legend(move |(x, y)| {
            at(x, y) + segment(0, 20, c) + Circle::new((10, 0), 4, c.filled())
        }),
        Style::Circles => anno.legend(move |(x, y)| at(x, y) + Circle::new((10, 0), 4, c.filled())),
        Style::Crosses => {
            anno.legend(move |(x, y)| at(x, y) + Cross::new((10, 0), 5, c.stroke_width(2)))
        }
        Style::Triangles => {
            anno.legend(move |(x, y)| at(x, y) + TriangleMarker::new((10, 0), 5, c.filled()))
        }
    };
}

/// A matrix of values drawn as coloured cells, with row and column labels
/// and a colour bar.
#[derive(Debug, Clone)]
pub struct HeatMap {
    /// Title.
    pub title: String,
    /// Label of the columns' axis.
    pub x_label: String,
    /// Label of the rows' axis.
    pub y_label: String,
    /// One label per column.
    pub columns: Vec<String>,
    /// One label per row (row 0 is drawn at the top).
    pub rows: Vec<String>,
    /// `values[row][column]`; non-finite cells are drawn grey.
    pub values: Vec<Vec<f64>>,
    /// Label of the colour bar (the quantity and its convention).
    pub colour_label: String,
    /// Colour range; the finite values' range when `None`.
    pub range: Option<(f64, f64)>,
}

/// Matrices up to this many cells print their values in the cells.
const ANNOTATE_CELLS: usize = 144;

/// The viridis colour of `s ∈ [0, 1]` (clamped; non-finite: the low end).
pub fn viridis(s: f64) -> RGBColor {
    let s = if s.is_finite() {
        s.clamp(0.0, 1.0)
    } else {
        0.0
    };
    ViridisRGB.get_color(s)
}

/// Draw `map` as an SVG document.
pub fn heat_map_svg(map: &HeatMap) -> Result<String, PlotError> {
    let bad = |why: &str| PlotError::HeatMap(map.title.clone(), why.to_owned());
    let (nr, nc) = (map.rows.len(), map.columns.len());
    if nr == 0 || nc == 0 {
        return Err(bad("no rows or no columns"));
    }
    if map.values.len() != nr || map.values.iter().any(|r| r.len() != nc) {
        return Err(bad("values do not match the row and column labels"));
    }
    let finite = map
        .values
        .iter()
        .flatten()
        .copied()
        .filter(|v| v.is_finite());
    let (lo, hi) = match map.range {
        Some(r) => r,
        None => finite.fold((f64::INFINITY, f64::NEG_INFINITY), |(a, b), v| {
            (a.min(v), b.max(v))
        }),
    };
    if !(lo.is_finite() && hi.is_finite() && lo <= hi) {
        return Err(bad("no finite value to colour"));
    }
    let (lo, hi) = if hi > lo {
        (lo, hi)
    } else {
        (lo - 0.5, hi + 0.5)
    };
    let scale = |v: f64| (v - lo) / (hi - lo);
    let height = TITLE_HEIGHT + 60 + (nr as u32 * 36).clamp(240, 540);
    let mut svg = String::new();
    {
        let root = SVGBackend::with_string(&mut svg, (WIDTH, height)).into_drawing_area();
        root.fill(&WHITE).map_err(drawing)?;
        let body = root
            .titled(&map.title, title_font(&root, &map.title)?)
            .map_err(drawing)?;
        let (cells, bar) = body.split_horizontally(WIDTH - 110);

        let mut chart = ChartBuilder::on(&cells)
            .margin(8)
            .x_label_area_size(48)
            .y_label_area_size(80)
            // An integer range includes its end: 0..n−1 has the n segments.
            .build_cartesian_2d((0..nc - 1).into_segmented(), (0..nr - 1).into_segmented())
            .map_err(drawing)?;
        let label = |labels: &[String], v: &SegmentValue<usize>, flip: bool| match v {
            SegmentValue::CenterOf(i) if *i < labels.len() => {
                labels[if flip { labels.len() - 1 - i } else { *i }].clone()
            }
            _ => String::new(),
        };
        let x_fmt = |v: &SegmentValue<usize>| label(&map.columns, v, false);
        let y_fmt = |v: &SegmentValue<usize>| label(&map.rows, v, true);
        chart
            .configure_mesh()
            .disable_mesh()
            .x_desc(&map.x_label)
            .y_desc(&map.y_label)
            .x_labels(nc)
            .y_labels(nr)
            .x_label_formatter(&x_fmt)
            .y_label_formatter(&y_fmt)
            .label_style(font(13))
            .axis_desc_style(font(14))
            .draw()
            .map_err(drawing)?;
        let annotate = nr * nc <= ANNOTATE_CELLS;
        for (i, row) in map.values.iter().enumerate() {
            let y = nr - 1 - i;
            for (j, &v) in row.iter().enumerate() {
                let fill = if v.is_finite() {
                    viridis(scale(v))
                } else {
                    RGBColor(200, 200, 200)
                };
                let corners = [
                    (SegmentValue::Exact(j), SegmentValue::Exact(y)),
                    (SegmentValue::Exact(j + 1), SegmentValue::Exact(y + 1)),
                ];
                chart
                    .draw_series(std::iter::once(Rectangle::new(corners, fill.filled())))
                    .map_err(drawing)?;
                if annotate && v.is_finite() {
                    // Dark text on the light end of the map, white elsewhere.
                    let ink = if scale(v) > 0.6 { BLACK } else { WHITE };
                    let style = font(12)
                        .color(&ink)
                        .pos(Pos::new(HPos::Center, VPos::Center));
                    let at = (SegmentValue::CenterOf(j), SegmentValue::CenterOf(y));
                    chart
                        .draw_series(std::iter::once(Text::new(tick_short(v), at, style)))
                        .map_err(drawing)?;
                }
            }
        }

        // Colour bar: 64 strips from lo to hi, labelled on the right.
        let mut bar_chart = ChartBuilder::on(&bar)
            .margin_top(8)
            .margin_bottom(56)
            .margin_right(4)
            .right_y_label_area_size(78)
            .build_cartesian_2d(0.0..1.0, lo..hi)
            .map_err(drawing)?
            .set_secondary_coord(0.0..1.0, lo..hi);
        bar_chart
            .configure_mesh()
            .disable_mesh()
            .disable_axes()
            .draw()
            .map_err(drawing)?;
        let bar_fmt = |v: &f64| tick(*v);
        bar_chart
            .configure_secondary_axes()
            .y_desc(&map.colour_label)
            .y_labels(6)
            .y_label_formatter(&bar_fmt)
            .label_style(font(12))
            .axis_desc_style(font(13))
            .draw()
            .map_err(drawing)?;
        const STRIPS: usize = 64;
        let step = (hi - lo) / STRIPS as f64;
        bar_chart
            .draw_series((0..STRIPS).map(|k| {
                let v = lo + k as f64 * step;
                Rectangle::new(
                    [(0.0, v), (1.0, v + step)],
                    viridis((k as f64 + 0.5) / STRIPS as f64).filled(),
                )
            }))
            .map_err(drawing)?;
        root.present().map_err(drawing)?;
    }
    Ok(svg)
}

/// A cell annotation: two significant decimals for O(1) values.
fn tick_short(v: f64) -> String {
    if v != 0.0 && !(1e-2..1e3).contains(&v.abs()) {
        format!("{v:.1e}")
    } else {
        format!("{v:.2}")
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use plotters::coord::ranged1d::BoldPoints;

    fn two_panels() -> TimeSeriesPlot {
        let t: Vec<f64> = (0..20).map(|k| 0.01 * 1.5f64.powi(k)).collect();
        let loss: Vec<f64> = t.iter().map(|x| (-x).exp()).collect();
        let align: Vec<f64> = t.iter().map(|x| 1.0 - (-x).exp()).collect();
        TimeSeriesPlot {
            title: "Kernel alignment and loss".into(),
            x: Axis::log("time t (log scale)"),
            panels: vec![
                Panel::new(
                    Axis::log("training loss (MSE)"),
                    vec![
                        Series::new("loss", t.clone(), loss.clone(), 0).style(Style::LineMarkers),
                        Series::new("alignment", t.clone(), align.clone(), 1).on_right(),
                    ],
                )
                .right_axis(Axis::linear("kernel–target alignment (cosine)")),
                Panel::new(
                    Axis::linear("spread"),
                    vec![
                        Series::new("mean", t.clone(), align.clone(), 2).band(
                            align.iter().map(|a| a - 0.1).collect(),
                            align.iter().map(|a| a + 0.1).collect(),
                        ),
                        Series::new("prediction", t.clone(), align, 3).style(Style::Dashed),
                        Series::new("points", t.clone(), loss.clone(), 4).style(Style::Crosses),
                        Series::new("more points", t, loss, 5).style(Style::Triangles),
                    ],
                ),
            ],
        }
    }

    #[test]
    fn a_time_series_names_its_series_and_axes() {
        let svg = time_series_svg(&two_panels()).unwrap();
        assert!(svg.starts_with("<svg"));
        for needle in [
            "Kernel alignment and loss",
            "time t (log scale)",
            "training loss (MSE)",
            "kernel–target alignment (cosine)",
            "alignment (right axis)",
            "loss",
            "mean",
            "prediction",
            "points",
            "more points",
            "spread",
            // Decade tick labels of the log axes.
            "1e-2",
            "1e0",
        ] {
            assert!(svg.contains(needle), "`{needle}` missing");
        }
        // The band is a filled polygon.
        assert!(svg.contains("<polygon"));
    }

    #[test]
    fn log_axes_drop_points_they_cannot_show() {
        let plot = TimeSeriesPlot {
            title: "t".into(),
            x: Axis::log("x"),
            panels: vec![Panel::new(
                Axis::log("y"),
                vec![Series::new(
                    "s",
                    vec![0.0, 1.0, 10.0],
                    vec![1.0, -1.0, 100.0],
                    0,
                )],
            )],
        };
        assert!(time_series_svg(&plot).is_ok());
        let nothing = TimeSeriesPlot {
            panels: vec![Panel::new(
                Axis::log("y"),
                vec![Series::new("s", vec![0.0], vec![1.0], 0)],
            )],
            ..plot
        };
        assert!(matches!(
            time_series_svg(&nothing),
            Err(PlotError::NoData(_))
        ));
    }

    #[test]
    fn ragged_series_are_errors() {
        let plot = TimeSeriesPlot {
            title: "t".into(),
            x: Axis::linear("x"),
            panels: vec![Panel::new(
                Axis::linear("y"),
                vec![Series::new("s", vec![0.0, 1.0], vec![1.0], 0)],
            )],
        };
        assert!(matches!(time_series_svg(&plot), Err(PlotError::Ragged(n)) if n == "s"));
    }

    #[test]
    fn ticks_are_short() {
        // plotters' decade key points carry rounding (1e-3·10·10).
        assert_eq!(Scale::Log.tick(1e-3 * 10.0 * 10.0), "1e-1");
        assert_eq!(Scale::Log.tick(1.0), "1e0");
        assert_eq!(Scale::Log.tick(2.0), "2e0");
        assert_eq!(Scale::Log.tick(0.05), "5e-2");
        assert_eq!(Scale::Log.tick(3.5), "3.5");
        assert_eq!(Scale::Linear.tick(0.25), "0.25");
        assert_eq!(Scale::Linear.tick(-0.0), "0");
        assert_eq!(Scale::Linear.tick(2.0), "2");
        let decades = |r: Range<f64>| (r.start.log10().round(), r.end.log10().round());
        assert_eq!(
            decades(Scale::Log.range(10f64.powf(-2.3), 10f64.powf(0.4))),
            (-3.0, 1.0)
        );
        assert_eq!(decades(Scale::Log.range(2.0, 3.0)), (0.0, 1.0));
        // A short log axis is labelled at 1, 2 and 5 times each decade.
        let short = Scale::Log.coord(Scale::Log.range(0.2, 3.0));
        let labels: Vec<String> = short
            .key_points(BoldPoints(7))
            .into_iter()
            .map(|v| Scale::Log.tick(v))
            .collect();
        assert_eq!(labels, ["1e-1", "2e-1", "5e-1", "1e0", "2e0", "5e0", "1e1"]);
        // Both end decades are ticks of plotters' log coordinate (which
        // never ticks a value below f64::EPSILON, its stand-in for zero).
        for (lo, hi) in [(0.013, 97.0), (2e-15, 3.0), (0.5, 0.7)] {
            let r = Scale::Log.range(lo, hi);
            let (a, b) = decades(r.clone());
            let ticks: Vec<String> = Scale::Log
                .coord(r)
                .key_points(100)
                .into_iter()
                .map(|v| Scale::Log.tick(v))
                .collect();
            for end in [a, b] {
                assert!(ticks.contains(&format!("1e{end}")), "{lo}..{hi}: {ticks:?}");
            }
        }
    }

    #[test]
    fn a_heat_map_labels_rows_columns_and_colour_bar() {
        let map = HeatMap {
            title: "Specialisation".into(),
            x_label: "eigenfunction k".into(),
            y_label: "hidden unit".into(),
            columns: vec!["k=1".into(), "k=2".into(), "k=3".into()],
            rows: vec!["unit 1".into(), "unit 2".into()],
            values: vec![vec![0.9, 0.05, 0.05], vec![0.1, f64::NAN, 0.8]],
            colour_label: "share of the unit's weight norm".into(),
            range: None,
        };
        let svg = heat_map_svg(&map).unwrap();
        for needle in [
            "Specialisation",
            "eigenfunction k",
            "hidden unit",
            "k=1",
            "k=3",
            "unit 1",
            "unit 2",
            "share of the unit",
            "0.90",
        ] {
            assert!(svg.contains(needle), "`{needle}` missing");
        }
        let ragged = HeatMap {
            values: vec![vec![1.0]],
            ..map
        };
        assert!(matches!(heat_map_svg(&ragged), Err(PlotError::HeatMap(..))));
    }

    /// A title too long for the figure at 17 px is set smaller until it
    /// fits between 10 px margins; a short one keeps 17 px.
    #[test]
    fn titles_shrink_to_fit_the_width() {
        let mut svg = String::new();
        let root = SVGBackend::with_string(&mut svg, (WIDTH, 200)).into_drawing_area();
        let short = title_font(&root, "Kernel alignment").unwrap();
        assert_eq!(short.font.get_size(), 17.0);
        let long = "BMA24: NFA per layer during SGD (digits, code regime; band: 95 % interval over 5 seeds)";
        assert!(root.estimate_text_size(long, &font(17)).unwrap().0 > WIDTH - 20);
        let fitted = title_font(&root, long).unwrap();
        assert!(fitted.font.get_size() < 17.0);
        assert!(root.estimate_text_size(long, &fitted).unwrap().0 <= WIDTH - 20);
    }

    #[test]
    fn viridis_runs_from_purple_to_yellow() {
        assert_eq!(viridis(0.0), RGBColor(68, 1, 84));
        assert_eq!(viridis(1.0), RGBColor(254, 232, 37));
        assert_eq!(viridis(2.0), viridis(1.0));
    }
}
