//! Line and scatter plots as standalone SVG.
//!
//! ```
//! use synod_viz::plot::{Plot, Series};
//!
//! let mut plot = Plot::new("Messages per decision", "nodes", "messages")
//!     .series(Series::line_with_points("paxos", vec![(3.0, 12.0), (5.0, 40.0), (7.0, 84.0)]))
//!     .series(Series::scatter("raft", vec![(3.0, 8.0), (5.0, 16.0), (7.0, 24.0)]));
//! plot.log_y = true;
//! let svg = plot.to_svg();
//! assert!(svg.contains("paxos") && svg.contains("raft"));
//! ```
//!
//! Axes get "nice" ticks (steps of 1, 2 or 5 times a power of ten on linear axes, decades on
//! logarithmic ones). Points that cannot be drawn (NaN, infinite, or not positive on a log axis)
//! are skipped and counted under the title; an empty plot draws its axes and says "no data".
//! Class names start with `sp-` and the SVG uses no `id`s, so plots can be inlined together.

use crate::svg::{escape_xml, num, open_svg, sans_width, PALETTE};
use std::fmt::Write as _;

/// How a series is drawn.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash)]
pub enum SeriesStyle {
    /// Points joined by straight lines, in the order given.
    #[default]
    Line,
    /// Points only.
    Scatter,
    /// Points joined by lines, with each point marked.
    LineWithPoints,
}

/// One named set of points.
#[derive(Clone, Debug, PartialEq)]
pub struct Series {
    /// The name shown in the legend and tooltips.
    pub name: String,
    /// The points `(x, y)`; non-finite ones are skipped.
    pub points: Vec<(f64, f64)>,
    /// How to draw it.
    pub style: SeriesStyle,
}

impl Series {
    /// A series named `name` drawn in `style`.
    pub fn new(name: &str, points: Vec<(f64, f64)>, style: SeriesStyle) -> Series {
        Series {
            name: name.to_string(),
            points,
            style,
        }
    }

    /// A line through `points`.
    pub fn line(name: &str, points: Vec<(f64, f64)>) -> Series {
        Series::new(name, points, SeriesStyle::Line)
    }

    /// Unjoined `points`.
    pub fn scatter(name: &str, points: Vec<(f64, f64)>) -> Series {
        Series::new(name, points, SeriesStyle::Scatter)
    }

    /// A line through `points`, each marked.
    pub fn line_with_points(name: &str, points: Vec<(f64, f64)>) -> Series {
        Series::new(name, points, SeriesStyle::LineWithPoints)
    }
}

/// A plot: axes, labels and any number of series.
#[derive(Clone, Debug, PartialEq)]
pub struct Plot {
    /// The heading drawn at the top (and the SVG's `<title>`).
    pub title: String,
    /// The x axis' label.
    pub x_label: String,
    /// The y axis' label.
    pub y_label: String,
    /// Logarithmic x axis (points with x ≤ 0 are skipped).
    pub log_x: bool,
    /// Logarithmic y axis (points with y ≤ 0 are skipped).
    pub log_y: bool,
    /// The series, drawn in order, colored in turn.
    pub series: Vec<Series>,
    /// Page width in pixels.
    pub width: u32,
    /// Page height in pixels.
    pub height: u32,
}

const CSS: &str = "\
.sp-title{font-size:15px;font-weight:600;fill:#101828}\
.sp-note{font-size:11px;fill:#667085}\
.sp-label{font-size:12px;fill:#344054}\
.sp-tick{font-size:10.5px;fill:#475467;font-variant-numeric:tabular-nums}\
.sp-grid{stroke:#eaecf0;stroke-width:1}\
.sp-minor{stroke:#f2f4f7;stroke-width:1}\
.sp-axis{stroke:#667085;stroke-width:1;fill:none}\
.sp-line{fill:none;stroke-width:2;stroke-linejoin:round;stroke-linecap:round}\
.sp-pt{stroke:#fff;stroke-width:1}\
.sp-hit{fill:#000;fill-opacity:0}\
.sp-pt:hover,.sp-hit:hover{fill-opacity:1;stroke:#101828}\
.sp-leg{font-size:11.5px;fill:#344054}\
.sp-empty{font-size:14px;fill:#98a2b3}";

impl Plot {
    /// An empty 720×420 plot with linear axes.
    pub fn new(title: &str, x_label: &str, y_label: &str) -> Plot {
        Plot {
            title: title.to_string(),
            x_label: x_label.to_string(),
            y_label: y_label.to_string(),
            log_x: false,
            log_y: false,
            series: Vec::new(),
            width: 720,
            height: 420,
        }
    }

    /// Adds a series.
    pub fn series(mut self, s: Series) -> Plot {
        self.series.push(s);
        self
    }

    /// Chooses logarithmic (`true`) or linear axes.
    pub fn log_axes(mut self, log_x: bool, log_y: bool) -> Plot {
        self.log_x = log_x;
        self.log_y = log_y;
        self
    }

    /// Sets the page size in pixels.
    pub fn size(mut self, width: u32, height: u32) -> Plot {
        self.width = width;
        self.height = height;
        self
    }

    /// Draws the plot as a standalone SVG document.
    pub fn to_svg(&self) -> String {
        let data = self.drawable();
        let frame = Frame::new(self, &data);
        let mut out = String::new();
        open_svg(&mut out, frame.width, frame.height, &self.title, CSS);
        self.draw_header(&mut out, &data);
        frame.draw_grid(&mut out);
        frame.draw_axes_labels(&mut out, self);
        if data.iter().all(|(_, pts)| pts.is_empty()) {
            frame.draw_empty(&mut out);
        }
        for (i, (s, pts)) in data.iter().enumerate() {
            frame.draw_series(&mut out, s, pts, PALETTE[i % PALETTE.len()]);
        }
        frame.draw_legend(&mut out, &data);
        out.push_str("</svg>\n");
        out
    }

    /// Each series with the points that can be drawn on these axes.
    fn drawable(&self) -> Vec<(&Series, Vec<(f64, f64)>)> {
        let ok = |v: f64, log: bool| v.is_finite() && (!log || v > 0.0);
        self.series
            .iter()
            .map(|s| {
                let pts = s
                    .points
                    .iter()
                    .copied()
                    .filter(|&(x, y)| ok(x, self.log_x) && ok(y, self.log_y))
                    .collect();
                (s, pts)
            })
            .collect()
    }

    fn draw_header(&self, out: &mut String, data: &[(&Series, Vec<(f64, f64)>)]) {
        let _ = writeln!(
            out,
            "<text class=\"sp-title\" x=\"16\" y=\"24\">{}</text>",
            escape_xml(&self.title)
        );
        let skipped: usize = data.iter().map(|(s, p)| s.points.len() - p.len()).sum();
        if skipped > 0 {
            let why = if self.log_x || self.log_y {
                "not finite or not positive on a log axis"
            } else {
                "not finite"
            };
            let _ = writeln!(
                out,
                "<text class=\"sp-note\" x=\"16\" y=\"40\">{skipped} point(s) not shown ({why})</text>"
            );
        }
    }
}

/// One axis: its range (in log10 units on a log axis) and ticks.
#[derive(Clone, Debug, PartialEq)]
struct Axis {
    log: bool,
    lo: f64,
    hi: f64,
    /// Labelled ticks, in data units.
    ticks: Vec<f64>,
    /// Unlabelled ticks (log axes), in data units.
    minor: Vec<f64>,
    /// The step between linear ticks (for choosing decimals).
    step: f64,
}

impl Axis {
    fn new(values: impl Iterator<Item = f64>, log: bool) -> Axis {
        let (mut min, mut max) = (f64::INFINITY, f64::NEG_INFINITY);
        for v in values {
            let v = if log { v.log10() } else { v };
            min = min.min(v);
            max = max.max(v);
        }
        if log {
            log_axis(min, max)
        } else {
            linear_axis(min, max)
        }
    }

    /// Where `v` falls on the axis, from 0 (low end) to 1 (high end).
    fn frac(&self, v: f64) -> f64 {
        let v = if self.log { v.log10() } else { v };
        (v - self.lo) / (self.hi - self.lo)
    }

    fn label(&self, v: f64) -> String {
        if self.log {
            fmt_power(v)
        } else {
            fmt_tick(v, self.step)
        }
    }
}

fn linear_axis(min: f64, max: f64) -> Axis {
    let (min, max) = if !min.is_finite() || !max.is_finite() {
        (0.0, 1.0)
    } else if max - min <= f64::EPSILON * max.abs().max(1.0) {
        let pad = if min == 0.0 { 1.0 } else { min.abs() * 0.1 };
        (min - pad, max + pad)
    } else {
        (min, max)
    };
    let step = nice_step((max - min) / 5.0);
    let lo = (min / step).floor() * step;
    let hi = (max / step).ceil() * step;
    let count = ((hi - lo) / step).round() as usize;
    let ticks = (0..=count.min(100))
        .map(|k| lo + k as f64 * step)
        .map(|v| if v.abs() < step * 1e-9 { 0.0 } else { v })
        .collect();
    Axis {
        log: false,
        lo,
        hi,
        ticks,
        minor: Vec::new(),
        step,
    }
}

fn log_axis(min: f64, max: f64) -> Axis {
    let (min, max) = if min.is_finite() && max.is_finite() {
        (min, max)
    } else {
        (0.0, 1.0)
    };
    let lo = min.floor();
    let mut hi = max.ceil();
    if hi <= lo {
        hi = lo + 1.0;
    }
    let decades = (hi - lo) as usize;
    let every = decades.div_ceil(8).max(1);
    let mut ticks = Vec::new();
    let mut minor = Vec::new();
    for d in 0..=decades {
        let base = 10f64.powi(lo as i32 + d as i32);
        if d % every == 0 {
            ticks.push(base);
        }
        if d < decades && decades <= 6 {
            for m in 2..=9 {
                let v = base * f64::from(m);
                if decades <= 2 && (m == 2 || m == 5) {
                    ticks.push(v);
                } else {
                    minor.push(v);
                }
            }
        }
    }
    Axis {
        log: true,
        lo,
        hi,
        ticks,
        minor,
        step: 1.0,
    }
}

/// The smallest of {1, 2, 5} × 10^k that is at least `raw`.
fn nice_step(raw: f64) -> f64 {
    if !(raw.is_finite() && raw > 0.0) {
        return 1.0;
    }
    let base = 10f64.powf(raw.log10().floor());
    for m in [1.0, 2.0, 5.0, 10.0] {
        if base * m >= raw * (1.0 - 1e-9) {
            return base * m;
        }
    }
    base * 10.0
}

/// A linear tick label with as many decimals as the step needs.
fn fmt_tick(v: f64, step: f64) -> String {
    if v != 0.0 && (v.abs() >= 1e6 || v.abs() < 1e-4) {
        return fmt_sci(v);
    }
    let decimals = (-step.log10().floor()).max(0.0) as usize;
    format!("{v:.decimals$}")
}

/// A power of ten (or 2× / 5× one) as a tick label.
fn fmt_power(v: f64) -> String {
    if (1e-3..1e6).contains(&v.abs()) {
        let s = format!("{v:.3}");
        s.trim_end_matches('0').trim_end_matches('.').to_string()
    } else {
        fmt_sci(v)
    }
}

/// `1.5e6`-style text.
fn fmt_sci(v: f64) -> String {
    let s = format!("{v:.2e}");
    match s.split_once('e') {
        Some((m, e)) => {
            let m = m.trim_end_matches('0').trim_end_matches('.');
            format!("{m}e{e}")
        }
        None => s,
    }
}

/// A data value for tooltips: up to 6 significant digits.
fn fmt_value(v: f64) -> String {
    if v == 0.0 {
        return "0".to_string();
    }
    if v.abs() >= 1e6 || v.abs() < 1e-3 {
        return fmt_sci(v);
    }
    let decimals = (5 - v.abs().log10().floor() as i64).clamp(0, 9) as usize;
    let s = format!("{v:.decimals$}");
    if s.contains('.') {
        s.trim_end_matches('0').trim_end_matches('.').to_string()
    } else {
        s
    }
}

/// The plot's geometry.
struct Frame {
    width: f64,
    height: f64,
    /// Plot area: left, top, right, bottom.
    left: f64,
    top: f64,
    right: f64,
    bottom: f64,
    x: Axis,
    y: Axis,
}

impl Frame {
    fn new(plot: &Plot, data: &[(&Series, Vec<(f64, f64)>)]) -> Frame {
        let width = f64::from(plot.width.max(240));
        let height = f64::from(plot.height.max(180));
        let all = || data.iter().flat_map(|(_, p)| p.iter());
        let x = Axis::new(all().map(|p| p.0), plot.log_x);
        let y = Axis::new(all().map(|p| p.1), plot.log_y);
        let legend_w = data
            .iter()
            .map(|(s, _)| sans_width(&s.name, 11.5))
            .fold(0.0, f64::max)
            .min(width * 0.3);
        let y_tick_w = y
            .ticks
            .iter()
            .map(|v| sans_width(&y.label(*v), 10.5))
            .fold(0.0, f64::max);
        let left = 38.0 + y_tick_w;
        let right = if data.is_empty() {
            width - 24.0
        } else {
            width - legend_w - 52.0
        };
        Frame {
            width,
            height,
            left,
            top: 52.0,
            right: right.max(left + 40.0),
            bottom: height - 52.0,
            x,
            y,
        }
    }

    fn px(&self, v: f64) -> f64 {
        self.left + self.x.frac(v) * (self.right - self.left)
    }

    fn py(&self, v: f64) -> f64 {
        self.bottom - self.y.frac(v) * (self.bottom - self.top)
    }

    fn draw_grid(&self, out: &mut String) {
        for &v in &self.x.minor {
            let x = num(self.px(v));
            let _ = write!(
                out,
                "<path class=\"sp-minor\" d=\"M{x} {}V{}\"/>",
                num(self.top),
                num(self.bottom)
            );
        }
        for &v in &self.y.minor {
            let y = num(self.py(v));
            let _ = write!(
                out,
                "<path class=\"sp-minor\" d=\"M{} {y}H{}\"/>",
                num(self.left),
                num(self.right)
            );
        }
        for &v in &self.x.ticks {
            let x = num(self.px(v));
            let _ = writeln!(
                out,
                "<path class=\"sp-grid\" d=\"M{x} {t}V{b}\"/><path class=\"sp-axis\" d=\"M{x} {b}v5\"/>\
                 <text class=\"sp-tick\" x=\"{x}\" y=\"{ty}\" text-anchor=\"middle\">{}</text>",
                escape_xml(&self.x.label(v)),
                t = num(self.top),
                b = num(self.bottom),
                ty = num(self.bottom + 18.0)
            );
        }
        for &v in &self.y.ticks {
            let y = num(self.py(v));
            let _ = writeln!(
                out,
                "<path class=\"sp-grid\" d=\"M{l} {y}H{r}\"/><path class=\"sp-axis\" d=\"M{l} {y}h-5\"/>\
                 <text class=\"sp-tick\" x=\"{tx}\" y=\"{ty}\" text-anchor=\"end\">{}</text>",
                escape_xml(&self.y.label(v)),
                l = num(self.left),
                r = num(self.right),
                tx = num(self.left - 8.0),
                ty = num(self.py(v) + 3.5)
            );
        }
        let _ = writeln!(
            out,
            "<rect class=\"sp-axis\" x=\"{}\" y=\"{}\" width=\"{}\" height=\"{}\"/>",
            num(self.left),
            num(self.top),
            num(self.right - self.left),
            num(self.bottom - self.top)
        );
    }

    fn draw_axes_labels(&self, out: &mut String, plot: &Plot) {
        let cx = (self.left + self.right) / 2.0;
        let cy = (self.top + self.bottom) / 2.0;
        let log = |on: bool, label: &str| {
            if on && !label.to_ascii_lowercase().contains("log") {
                " (log scale)"
            } else {
                ""
            }
        };
        let _ = write!(
            out,
            "<text class=\"sp-label\" x=\"{}\" y=\"{}\" text-anchor=\"middle\">{}{}</text>\n\
             <text class=\"sp-label\" transform=\"translate(16 {}) rotate(-90)\" \
             text-anchor=\"middle\">{}{}</text>\n",
            num(cx),
            num(self.bottom + 40.0),
            escape_xml(&plot.x_label),
            log(plot.log_x, &plot.x_label),
            num(cy),
            escape_xml(&plot.y_label),
            log(plot.log_y, &plot.y_label)
        );
    }

    fn draw_empty(&self, out: &mut String) {
        let _ = writeln!(
            out,
            "<text class=\"sp-empty\" x=\"{}\" y=\"{}\" text-anchor=\"middle\">no data</text>",
            num((self.left + self.right) / 2.0),
            num((self.top + self.bottom) / 2.0)
        );
    }

    fn draw_series(&self, out: &mut String, s: &Series, pts: &[(f64, f64)], color: &str) {
        if pts.is_empty() {
            return;
        }
        let name = escape_xml(&s.name);
        let _ = write!(out, "<g class=\"sp-series\"><title>{name}</title>");
        if s.style != SeriesStyle::Scatter && pts.len() > 1 {
            let d: Vec<String> = pts
                .iter()
                .map(|&(x, y)| format!("{},{}", num(self.px(x)), num(self.py(y))))
                .collect();
            let _ = write!(
                out,
                "<polyline class=\"sp-line\" stroke=\"{color}\" points=\"{}\"/>",
                d.join(" ")
            );
        }
        let (r, visible) = match s.style {
            SeriesStyle::Line => (4.5, pts.len() == 1),
            SeriesStyle::Scatter => (3.2, true),
            SeriesStyle::LineWithPoints => (3.4, true),
        };
        for &(x, y) in pts {
            let class = if visible { "sp-pt" } else { "sp-hit" };
            let _ = write!(
                out,
                "<circle class=\"{class}\" cx=\"{}\" cy=\"{}\" r=\"{}\" fill=\"{color}\">\
                 <title>{name}: x = {}, y = {}</title></circle>",
                num(self.px(x)),
                num(self.py(y)),
                num(r),
                fmt_value(x),
                fmt_value(y)
            );
        }
        out.push_str("</g>\n");
    }

    fn draw_legend(&self, out: &mut String, data: &[(&Series, Vec<(f64, f64)>)]) {
        let x = self.right + 16.0;
        for (i, (s, pts)) in data.iter().enumerate() {
            let color = PALETTE[i % PALETTE.len()];
            let y = self.top + 8.0 + i as f64 * 20.0;
            if y > self.height - 8.0 {
                break;
            }
            out.push_str("<g class=\"sp-legend\">");
            if s.style != SeriesStyle::Scatter {
                let _ = write!(
                    out,
                    "<path class=\"sp-line\" stroke=\"{color}\" d=\"M{} {}h20\"/>",
                    num(x),
                    num(y)
                );
            }
            if s.style != SeriesStyle::Line {
                let _ = write!(
                    out,
                    "<circle class=\"sp-pt\" cx=\"{}\" cy=\"{}\" r=\"3.4\" fill=\"{color}\"/>",
                    num(x + 10.0),
                    num(y)
                );
            }
            let _ = writeln!(
                out,
                "<text class=\"sp-leg\" x=\"{}\" y=\"{}\">{}</text><title>{} ({} points)</title></g>",
                num(x + 26.0),
                num(y + 4.0),
                escape_xml(&s.name),
                escape_xml(&s.name),
                pts.len()
            );
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn nice_steps() {
        assert_eq!(nice_step(0.13), 0.2);
        assert_eq!(nice_step(3.0), 5.0);
        assert_eq!(nice_step(7.0), 10.0);
        assert_eq!(nice_step(1.0), 1.0);
        assert_eq!(nice_step(f64::NAN), 1.0);
    }

    #[test]
    fn linear_ticks_cover_the_data() {
        let a = linear_axis(0.3, 9.2);
        assert_eq!(a.step, 2.0);
        assert_eq!(a.ticks, vec![0.0, 2.0, 4.0, 6.0, 8.0, 10.0]);
        let flat = linear_axis(5.0, 5.0);
        assert!(flat.lo < 5.0 && flat.hi > 5.0);
    }

    #[test]
    fn log_ticks_are_decades() {
        let a = log_axis(0.5_f64.log10(), 2000.0_f64.log10());
        assert_eq!(a.ticks, vec![0.1, 1.0, 10.0, 100.0, 1000.0, 10000.0]);
        let narrow = log_axis(2.0_f64.log10(), 30.0_f64.log10());
        assert!(narrow.ticks.contains(&2.0) && narrow.ticks.contains(&50.0));
    }

    #[test]
    fn tick_labels() {
        assert_eq!(fmt_tick(0.2, 0.2), "0.2");
        assert_eq!(fmt_tick(400.0, 100.0), "400");
        assert_eq!(fmt_tick(2.0e7, 1.0e7), "2e7");
        assert_eq!(fmt_power(0.001), "0.001");
        assert_eq!(fmt_power(1e9), "1e9");
        assert_eq!(fmt_value(1234.5678), "1234.57");
    }
}
