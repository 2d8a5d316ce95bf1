//! Geometry of a diagram: where time and nodes go on the page.

use super::legend;
use super::DiagramOptions;
use crate::svg::{sans_width, wrap};
use std::collections::BTreeSet;
use synod_core::{Instant, NodeId, Protocol, Trace};

/// Left margin, holding the node names.
const LEFT: f64 = 64.0;
/// Right margin.
const RIGHT: f64 = 40.0;
/// Height of one lane of network notes.
pub(super) const NOTE_LANE: f64 = 14.0;
/// Lanes of network notes above the top axis, when there are network events.
pub(super) const NOTE_LANES: usize = 2;
/// Distance between the baselines of title lines.
pub(super) const TITLE_LINE: f64 = 20.0;
/// Distance between the baselines of summary lines.
pub(super) const SUMMARY_LINE: f64 = 15.0;
/// Headers wrap within this width, so they can be read without scrolling a wide diagram.
const HEADER_WRAP: f64 = 1100.0;

/// The diagram's heading: its title and a summary of what is shown, wrapped into lines.
#[derive(Clone, Debug)]
pub(super) struct Header {
    /// The title's lines.
    pub title: Vec<String>,
    /// The summary's lines.
    pub summary: Vec<String>,
    /// Baseline of the first summary line.
    pub summary_y: f64,
    /// Bottom of the header.
    pub bottom: f64,
}

impl Header {
    fn new(title: &str, summary: &str, note: Option<&str>, width: f64) -> Header {
        let max_w = width.min(HEADER_WRAP) - 32.0;
        let title = wrap(title, max_w, 3, |s| sans_width(s, 16.0) * 1.08);
        let mut summary = wrap(summary, max_w, 2, |s| sans_width(s, 11.0));
        if let Some(note) = note {
            summary.extend(wrap(note, max_w, 2, |s| sans_width(s, 11.0)));
        }
        let summary_y = 24.0 + (title.len() - 1) as f64 * TITLE_LINE + 18.0;
        let bottom = summary_y + (summary.len() - 1) as f64 * SUMMARY_LINE + 10.0;
        Header {
            title,
            summary,
            summary_y,
            bottom,
        }
    }
}

/// What the summary line says: nodes, events in the window, the window.
fn summary<P: Protocol>(trace: &Trace<P>, window: Window, n: usize) -> String {
    let in_window = trace
        .events
        .iter()
        .filter(|e| window.contains(e.time))
        .count();
    format!(
        "{n} nodes · {in_window} of {} events, {} to {} · hover any mark for its details",
        trace.events.len(),
        window.from,
        window.to
    )
}

/// The time window drawn, inclusive at both ends.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(super) struct Window {
    /// First instant drawn.
    pub from: Instant,
    /// Last instant drawn.
    pub to: Instant,
}

impl Window {
    /// The window the options ask for, defaulting to the whole run.
    pub fn new(opts: &DiagramOptions, run_end: Instant) -> Window {
        let from = opts.from.unwrap_or(Instant::ZERO);
        let to = opts.to.unwrap_or(run_end).max(from);
        Window { from, to }
    }

    /// True if `t` is inside the window.
    pub fn contains(&self, t: Instant) -> bool {
        self.from <= t && t <= self.to
    }
}

/// Where everything goes.
#[derive(Clone, Debug)]
pub(super) struct Layout {
    /// Page width.
    pub width: f64,
    /// Page height.
    pub height: f64,
    /// x of the window's start.
    pub x0: f64,
    /// x of the window's end.
    pub x1: f64,
    /// The time window.
    pub window: Window,
    /// Span of the window in nanoseconds (at least 1).
    span: f64,
    /// Title and summary.
    pub header: Header,
    /// Top of the legend.
    pub legend_y: f64,
    /// Top of the network-notes band (equal to `axis_top` minus its height).
    pub notes_y: f64,
    /// Lanes of network notes.
    pub note_lanes: usize,
    /// y of the top time axis.
    pub axis_top: f64,
    /// y of node 0's line.
    pub row0: f64,
    /// Distance between node lines.
    pub row_h: f64,
    /// Number of node lines.
    pub n: usize,
    /// y of the bottom time axis.
    pub axis_bottom: f64,
}

impl Layout {
    /// Lays out a diagram of `n` nodes over `window` for `trace`, with `note` as an extra
    /// summary line.
    pub fn new<P: Protocol>(
        trace: &Trace<P>,
        opts: &DiagramOptions,
        window: Window,
        n: usize,
        has_network: bool,
        note: Option<&str>,
    ) -> Layout {
        let width = if opts.width > 0 {
            f64::from(opts.width.max(320))
        } else {
            auto_width(trace, window)
        };
        let header = Header::new(&opts.title, &summary(trace, window, n), note, width);
        let legend_y = header.bottom;
        let legend_h = legend::height(width, opts.show_timers, opts.causal.is_some());
        let note_lanes = if has_network { NOTE_LANES } else { 0 };
        let notes_y = legend_y + legend_h + 8.0;
        let axis_top = notes_y + note_lanes as f64 * NOTE_LANE + 22.0;
        let row_h = match n {
            0..=12 => 64.0,
            13..=30 => 44.0,
            _ => 30.0,
        };
        let row0 = axis_top + 34.0;
        let axis_bottom = row0 + n.saturating_sub(1) as f64 * row_h + 34.0;
        // Room for the tick labels and a footnote.
        let height = axis_bottom + 44.0;
        let span = (window.to.as_nanos() - window.from.as_nanos()).max(1) as f64;
        Layout {
            width,
            height,
            x0: LEFT,
            x1: width - RIGHT,
            window,
            span,
            header,
            legend_y,
            notes_y,
            note_lanes,
            axis_top,
            row0,
            row_h,
            n,
            axis_bottom,
        }
    }

    /// The x of instant `t` (outside the window it extrapolates).
    pub fn x(&self, t: Instant) -> f64 {
        let dt = t.as_nanos() as f64 - self.window.from.as_nanos() as f64;
        self.x0 + dt / self.span * (self.x1 - self.x0)
    }

    /// The y of `node`'s line.
    pub fn y(&self, node: NodeId) -> f64 {
        self.row0 + node.index() as f64 * self.row_h
    }

    /// Tick instants for the time axis: a 1-2-5 step giving roughly one tick per 110 px.
    pub fn ticks(&self) -> Vec<Instant> {
        let px = (self.x1 - self.x0).max(1.0);
        let step = nice_step_nanos(self.span * 110.0 / px);
        let from = self.window.from.as_nanos();
        let to = self.window.to.as_nanos();
        let first = from.div_ceil(step) * step;
        (0u64..)
            .map_while(|k| k.checked_mul(step).and_then(|d| first.checked_add(d)))
            .take_while(|t| *t <= to)
            .take(1000)
            .map(Instant)
            .collect()
    }
}

/// Width enough for the events in the window: 6 px per distinct event time, and at least 4 px
/// for the median gap between consecutive times (so that bursts separated by quiet spells do
/// not collapse), clamped to 800..=6000 px.
fn auto_width<P: Protocol>(trace: &Trace<P>, window: Window) -> f64 {
    let distinct: Vec<u64> = trace
        .events
        .iter()
        .map(|e| e.time)
        .filter(|t| window.contains(*t))
        .collect::<BTreeSet<Instant>>()
        .into_iter()
        .map(Instant::as_nanos)
        .collect();
    let mut gaps: Vec<u64> = distinct.windows(2).map(|w| w[1] - w[0]).collect();
    gaps.sort_unstable();
    let span = window.to.as_nanos().saturating_sub(window.from.as_nanos()) as f64;
    let for_gaps = gaps
        .get(gaps.len() / 2)
        .map_or(0.0, |&median| span / median.max(1) as f64 * 4.0);
    let for_count = distinct.len() as f64 * 6.0;
    (LEFT + RIGHT + for_count.max(for_gaps))
        .clamp(800.0, 6000.0)
        .round()
}

/// The smallest step of the form {1, 2, 5} × 10^k nanoseconds that is at least `raw`.
fn nice_step_nanos(raw: f64) -> u64 {
    let mut base: u64 = 1;
    loop {
        for m in [1u64, 2, 5] {
            let step = base.saturating_mul(m);
            if step as f64 >= raw || step == u64::MAX {
                return step.max(1);
            }
        }
        if base > u64::MAX / 10 {
            return u64::MAX;
        }
        base *= 10;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn steps_are_one_two_five() {
        assert_eq!(nice_step_nanos(0.3), 1);
        assert_eq!(nice_step_nanos(1.5), 2);
        assert_eq!(nice_step_nanos(3.0), 5);
        assert_eq!(nice_step_nanos(7.0), 10);
        assert_eq!(nice_step_nanos(180_000_000.0), 200_000_000);
        assert_eq!(nice_step_nanos(1e30), u64::MAX);
    }
}
