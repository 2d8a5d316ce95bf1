//! The glyphs of a diagram, shared by the diagram itself and its legend.

use crate::svg::num;
use std::fmt::Write as _;

/// Color of dropped messages and crashes.
pub(super) const RED: &str = "#d92d20";
/// Color of duplicate deliveries.
pub(super) const ORANGE: &str = "#f79009";
/// Color of recoveries.
pub(super) const GREEN: &str = "#16a34a";
/// Color of indications.
pub(super) const PURPLE: &str = "#7a2bc2";
/// Color of requests.
pub(super) const TEAL: &str = "#0e7490";
/// Color of network changes.
pub(super) const NET: &str = "#a855f7";
/// Color of timers, persists and messages still in flight.
pub(super) const GREY: &str = "#98a2b3";

/// Cool colors for message arrows, one per sender (warm colors are kept for faults).
const SENDER_COLORS: [&str; 10] = [
    "#2563eb", "#0891b2", "#7c3aed", "#475467", "#db2777", "#1e3a8a", "#0d9488", "#9333ea",
    "#64748b", "#4338ca",
];

/// The arrow color of messages sent by node `index`.
pub(super) fn sender_color(index: usize) -> &'static str {
    SENDER_COLORS[index % SENDER_COLORS.len()]
}

/// How a message line is stroked.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(super) enum Stroke {
    /// A plain line.
    Solid,
    /// Long dashes (duplicates).
    Dashed,
    /// Dots (messages still in flight).
    Dotted,
}

impl Stroke {
    fn dasharray(self) -> &'static str {
        match self {
            Stroke::Solid => "",
            Stroke::Dashed => " stroke-dasharray=\"5 3\"",
            Stroke::Dotted => " stroke-dasharray=\"1.5 3\"",
        }
    }
}

/// A point.
pub(super) type Pt = (f64, f64);

/// A message line from `p0` to `p1`, optionally bent upwards through `bend` (self-sends), with
/// an arrowhead at `p1` if `head`, and an invisible wider stroke that makes it easy to hover.
pub(super) fn arrow(
    out: &mut String,
    p0: Pt,
    p1: Pt,
    bend: Option<Pt>,
    color: &str,
    stroke: Stroke,
    head: bool,
) {
    let d = match bend {
        Some(c) => format!(
            "M{} {}Q{} {} {} {}",
            num(p0.0),
            num(p0.1),
            num(c.0),
            num(c.1),
            num(p1.0),
            num(p1.1)
        ),
        None => format!("M{} {}L{} {}", num(p0.0), num(p0.1), num(p1.0), num(p1.1)),
    };
    let _ = write!(
        out,
        "<path class=\"sl-hit\" d=\"{d}\"/><path class=\"sl-line\" d=\"{d}\" stroke=\"{color}\"{}/>",
        stroke.dasharray()
    );
    if head {
        arrowhead(out, bend.unwrap_or(p0), p1, color);
    }
}

/// A filled arrowhead at `tip`, pointing away from `from`.
pub(super) fn arrowhead(out: &mut String, from: Pt, tip: Pt, color: &str) {
    let (dx, dy) = (tip.0 - from.0, tip.1 - from.1);
    let len = (dx * dx + dy * dy).sqrt();
    if len < 1e-6 {
        return;
    }
    let (ux, uy) = (dx / len, dy / len);
    let (hl, hw) = (7.0, 2.6);
    let base = (tip.0 - ux * hl, tip.1 - uy * hl);
    let left = (base.0 - uy * hw, base.1 + ux * hw);
    let right = (base.0 + uy * hw, base.1 - ux * hw);
    let _ = write!(
        out,
        "<path d=\"M{} {}L{} {}L{} {}Z\" fill=\"{color}\"/>",
        num(tip.0),
        num(tip.1),
        num(left.0),
        num(left.1),
        num(right.0),
        num(right.1)
    );
}

/// An ✕ of half-size `r` centred on `(x, y)`.
pub(super) fn cross(out: &mut String, x: f64, y: f64, r: f64, color: &str, width: f64) {
    let _ = write!(
        out,
        "<path d=\"M{a} {b}L{c} {d}M{a} {d}L{c} {b}\" stroke=\"{color}\" stroke-width=\"{w}\" \
         stroke-linecap=\"round\" fill=\"none\"/>",
        a = num(x - r),
        b = num(y - r),
        c = num(x + r),
        d = num(y + r),
        w = num(width),
    );
}

/// A filled circle with a white rim.
pub(super) fn dot(out: &mut String, x: f64, y: f64, r: f64, color: &str) {
    let _ = write!(
        out,
        "<circle cx=\"{}\" cy=\"{}\" r=\"{}\" fill=\"{color}\" stroke=\"#fff\" stroke-width=\"1\"/>",
        num(x),
        num(y),
        num(r)
    );
}

/// A hollow circle.
pub(super) fn ring(out: &mut String, x: f64, y: f64, r: f64, color: &str) {
    let _ = write!(
        out,
        "<circle cx=\"{}\" cy=\"{}\" r=\"{}\" fill=\"#fff\" stroke=\"{color}\" stroke-width=\"1.6\"/>",
        num(x),
        num(y),
        num(r)
    );
}

/// A filled diamond (indications).
pub(super) fn diamond(out: &mut String, x: f64, y: f64, r: f64, color: &str) {
    let _ = write!(
        out,
        "<path d=\"M{} {}L{} {}L{} {}L{} {}Z\" fill=\"{color}\" stroke=\"#fff\" stroke-width=\"0.8\"/>",
        num(x),
        num(y - r),
        num(x + r),
        num(y),
        num(x),
        num(y + r),
        num(x - r),
        num(y)
    );
}

/// A hollow square (requests).
pub(super) fn square(out: &mut String, x: f64, y: f64, r: f64, color: &str) {
    let _ = write!(
        out,
        "<rect x=\"{}\" y=\"{}\" width=\"{s}\" height=\"{s}\" fill=\"#fff\" stroke=\"{color}\" \
         stroke-width=\"1.8\"/>",
        num(x - r),
        num(y - r),
        s = num(2.0 * r)
    );
}

/// A short vertical tick (timers).
pub(super) fn tick(out: &mut String, x: f64, y: f64, r: f64, color: &str) {
    let _ = write!(
        out,
        "<path d=\"M{x} {a}V{b}\" stroke=\"{color}\" stroke-width=\"1.2\"/>",
        x = num(x),
        a = num(y - r),
        b = num(y + r)
    );
}

/// A small filled square under the line (persists).
pub(super) fn block(out: &mut String, x: f64, y: f64, color: &str) {
    let _ = write!(
        out,
        "<rect x=\"{}\" y=\"{}\" width=\"3\" height=\"3\" fill=\"{color}\"/>",
        num(x - 1.5),
        num(y + 3.0)
    );
}

/// A `<title>` element (the hover tooltip of its parent).
pub(super) fn title(out: &mut String, text: &str) {
    let _ = write!(out, "<title>{}</title>", crate::svg::escape_xml(text));
}
