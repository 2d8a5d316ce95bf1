//! The diagram's legend: one sample glyph per kind of mark, flowed into rows.

use super::causal;
use super::marks::{self, Stroke, GREEN, GREY, NET, ORANGE, PURPLE, RED, TEAL};
use crate::svg::{escape_xml, num, sans_width};
use std::fmt::Write as _;

const ROW_H: f64 = 18.0;
const SAMPLE_W: f64 = 26.0;
const FONT: f64 = 11.0;
const MARGIN: f64 = 16.0;
const WRAP_AT: f64 = 1000.0;

#[derive(Clone, Copy, Debug)]
enum Sample {
    Message,
    Duplicate,
    Dropped,
    InFlight,
    Crash,
    Down,
    Recover,
    Request,
    Indication,
    Timer,
    Network,
    /// The causal view's chosen event, its past, its future, events concurrent with it.
    Causal(&'static str),
}

fn items(show_timers: bool, causal: bool) -> Vec<(Sample, &'static str)> {
    let mut v = vec![
        (Sample::Message, "message (colour = sender)"),
        (Sample::Duplicate, "duplicate delivery"),
        (Sample::Dropped, "dropped (hover: reason)"),
        (Sample::InFlight, "in flight at end"),
        (Sample::Crash, "crash"),
        (Sample::Down, "node down"),
        (Sample::Recover, "recover"),
        (Sample::Request, "request"),
        (Sample::Indication, "indication"),
    ];
    if show_timers {
        v.push((Sample::Timer, "timer fired"));
    }
    v.push((Sample::Network, "network change"));
    if causal {
        v.extend([
            (Sample::Causal("sl-cfocus"), "chosen event"),
            (
                Sample::Causal("sl-cpast"),
                "causal past (happened before it)",
            ),
            (
                Sample::Causal("sl-cfuture"),
                "causal future (happened after it)",
            ),
            (Sample::Causal("sl-cconc"), "concurrent with it"),
        ]);
    }
    v
}

fn item_width(label: &str) -> f64 {
    SAMPLE_W + 6.0 + sans_width(label, FONT) + 18.0
}

/// Items with their x positions, one vector per row.
fn rows(width: f64, show_timers: bool, causal: bool) -> Vec<Vec<(Sample, &'static str, f64)>> {
    // Wrap early on wide diagrams so the whole legend is in view before scrolling.
    let width = width.min(WRAP_AT);
    let mut rows: Vec<Vec<(Sample, &'static str, f64)>> = vec![Vec::new()];
    let mut x = MARGIN;
    for (sample, label) in items(show_timers, causal) {
        let w = item_width(label);
        if x + w > width - MARGIN && x > MARGIN {
            rows.push(Vec::new());
            x = MARGIN;
        }
        if let Some(row) = rows.last_mut() {
            row.push((sample, label, x));
        }
        x += w;
    }
    rows
}

/// The legend's height at page width `width`.
pub(super) fn height(width: f64, show_timers: bool, causal: bool) -> f64 {
    rows(width, show_timers, causal).len() as f64 * ROW_H
}

/// Draws the legend with its top at `y`.
pub(super) fn draw(out: &mut String, width: f64, y: f64, show_timers: bool, causal: bool) {
    out.push_str("<g class=\"sl-legend\">");
    for (r, row) in rows(width, show_timers, causal).into_iter().enumerate() {
        let cy = y + r as f64 * ROW_H + ROW_H / 2.0;
        for (sample, label, x) in row {
            draw_sample(out, sample, x, cy);
            let _ = write!(
                out,
                "<text x=\"{}\" y=\"{}\" class=\"sl-leg\">{}</text>",
                num(x + SAMPLE_W + 6.0),
                num(cy + 4.0),
                escape_xml(label)
            );
        }
    }
    out.push_str("</g>\n");
}

fn draw_sample(out: &mut String, sample: Sample, x: f64, cy: f64) {
    let (a, b) = ((x, cy + 4.0), (x + SAMPLE_W, cy - 4.0));
    let mid = x + SAMPLE_W / 2.0;
    match sample {
        Sample::Message => marks::arrow(out, a, b, None, "#2563eb", Stroke::Solid, true),
        Sample::Duplicate => {
            marks::arrow(out, a, b, None, ORANGE, Stroke::Dashed, true);
            marks::ring(out, b.0, b.1, 2.6, ORANGE);
        }
        Sample::Dropped => {
            marks::arrow(
                out,
                a,
                (mid + 4.0, cy),
                None,
                "#2563eb",
                Stroke::Solid,
                false,
            );
            marks::cross(out, mid + 4.0, cy, 3.5, RED, 2.0);
        }
        Sample::InFlight => marks::arrow(out, a, b, None, GREY, Stroke::Dotted, false),
        Sample::Crash => {
            node_line(out, x, cy, false);
            marks::cross(out, mid, cy, 5.0, RED, 2.6);
        }
        Sample::Down => node_line(out, x, cy, true),
        Sample::Recover => {
            node_line(out, x, cy, false);
            marks::dot(out, mid, cy, 4.5, GREEN);
        }
        Sample::Request => {
            node_line(out, x, cy, false);
            marks::square(out, mid, cy, 3.5, TEAL);
        }
        Sample::Indication => {
            node_line(out, x, cy, false);
            marks::diamond(out, mid, cy, 5.0, PURPLE);
        }
        Sample::Timer => {
            node_line(out, x, cy, false);
            marks::tick(out, mid, cy, 4.0, "#667085");
        }
        Sample::Causal(class) => {
            node_line(out, x, cy, false);
            causal::legend_sample(out, mid, cy, class);
        }
        Sample::Network => {
            let _ = write!(
                out,
                "<path d=\"M{m} {a}V{b}\" class=\"sl-net\" stroke=\"{NET}\"/>",
                m = num(mid),
                a = num(cy - 7.0),
                b = num(cy + 7.0)
            );
        }
    }
}

fn node_line(out: &mut String, x: f64, cy: f64, down: bool) {
    let _ = write!(
        out,
        "<path d=\"M{} {y}H{}\" class=\"{}\"/>",
        num(x),
        num(x + SAMPLE_W),
        if down { "sl-down" } else { "sl-node" },
        y = num(cy)
    );
}
