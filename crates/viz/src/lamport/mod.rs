//! Space-time (Lamport) diagrams of a run, as standalone SVG.
//!
//! Each node is a horizontal line (`n0` at the top), time flows from left to right, and every
//! message is an arrow from its send on the sender's line to its delivery on the receiver's
//! line. Faults are drawn where they happened: a dropped message ends in a red ✕, a duplicate
//! delivery is a dashed orange arrow, a crash is a red ✕ on the node's line, which stays grey and
//! dashed until the node recovers (green dot), and a partition or heal is a purple vertical line
//! with its note (the time a partition lasts is shaded). Requests (hollow squares) and
//! indications (purple diamonds) carry short labels; every mark carries a hover tooltip with the
//! full text and the time.
//!
//! ```
//! use serde::{Deserialize, Serialize};
//! use synod_core::*;
//! use synod_viz::lamport::{lamport_svg, DiagramOptions};
//!
//! #[derive(Clone, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
//! struct Ping;
//! struct P;
//! impl Protocol for P {
//!     type Msg = Ping; type Timer = (); type Request = (); type Indication = ();
//!     type State = (); type Durable = ();
//!     fn init(&self, _: &mut Ctx<'_, Self>) {}
//!     fn on_message(&self, _: &mut (), _: NodeId, _: Ping, _: &mut Ctx<'_, Self>) {}
//!     fn on_timer(&self, _: &mut (), _: (), _: &mut Ctx<'_, Self>) {}
//!     fn on_request(&self, _: &mut (), _: (), _: &mut Ctx<'_, Self>) {}
//! }
//!
//! let ms = |m| Instant::ZERO + Duration::from_millis(m);
//! let trace: Trace<P> = Trace {
//!     events: vec![
//!         Event { time: ms(1), kind: EventKind::Send { from: NodeId(0), to: NodeId(1), id: 1, msg: Ping } },
//!         Event { time: ms(9), kind: EventKind::Deliver { from: NodeId(0), to: NodeId(1), id: 1, msg: Ping } },
//!     ],
//!     facts: RunFacts::fault_free(2, ms(10)),
//! };
//! let svg = lamport_svg(&trace, &DiagramOptions::default());
//! assert!(svg.starts_with("<svg xmlns=\"http://www.w3.org/2000/svg\""));
//! assert_eq!(svg.matches("class=\"sl-msg sl-deliver\"").count(), 1);
//! ```
//!
//! With [`DiagramOptions::causal`] set to an event's index, every event of a node gets a halo
//! saying how it relates to that event by happened-before: in its causal past (blue), its causal
//! future (magenta) or concurrent with it (yellow).
//!
//! Class names start with `sl-` and the SVG uses no `id`s, so several diagrams (and plots) can
//! be inlined in one HTML page without interfering.

mod causal;
mod draw;
mod layout;
mod legend;
mod marks;
mod scan;

use synod_core::{EventKind, Instant, Protocol, Trace};

/// How to draw a diagram.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct DiagramOptions {
    /// The heading drawn at the top (and the SVG's `<title>`).
    pub title: String,
    /// Draw only events at or after this instant (default: the start of the run).
    pub from: Option<Instant>,
    /// Draw only events at or before this instant (default: the end of the run).
    pub to: Option<Instant>,
    /// Labels next to marks are cut to this many characters (0: never cut); tooltips always
    /// carry the full text.
    pub max_label_chars: usize,
    /// Draw fired timers as small ticks on the node lines.
    pub show_timers: bool,
    /// Page width in pixels; 0 picks one proportional to the number of distinct event times in
    /// the window, between 800 and 6000.
    pub width: u32,
    /// The causal view: the index (into `trace.events`) of an event whose causal past, causal
    /// future and concurrent events get coloured halos (classes `sl-cpast`, `sl-cfuture`,
    /// `sl-cconc`; the event itself `sl-cfocus`), with a legend and counts in the summary.
    /// Happened-before is computed from the trace ([`synod_core::causality`]). `None` (the
    /// default) draws no halos.
    pub causal: Option<usize>,
    /// The lines' names, by node index (default, or past the end: `n0`, `n1`, ...): the
    /// workbench names its clients and services this way.
    pub names: Vec<String>,
}

impl Default for DiagramOptions {
    fn default() -> Self {
        DiagramOptions {
            title: "Space-time diagram".to_string(),
            from: None,
            to: None,
            max_label_chars: 28,
            show_timers: true,
            width: 0,
            causal: None,
            names: Vec::new(),
        }
    }
}

/// Escapes `s` for XML text and attribute values (`&`, `<`, `>`, `"`, `'`); control characters
/// XML forbids become U+FFFD, so the result can always be embedded in SVG or HTML.
pub fn escape_xml(s: &str) -> String {
    crate::svg::escape_xml(s)
}

/// Draws `trace` as a space-time diagram: a standalone SVG document (it renders on its own and
/// can be inlined in HTML).
///
/// Only events whose time lies in the window `[opts.from, opts.to]` are drawn; an arrow whose
/// send or delivery lies outside the window is cut at the window's edge.
pub fn lamport_svg<P: Protocol>(trace: &Trace<P>, opts: &DiagramOptions) -> String {
    let scan = scan::Scan::new(trace);
    let window = layout::Window::new(opts, scan.end);
    let has_network = trace
        .events
        .iter()
        .any(|e| matches!(e.kind, EventKind::Network { .. }));
    let causal = opts.causal.map(|e| causal::CausalView::new(trace, e));
    let note = causal.as_ref().map(causal::CausalView::summary);
    let layout = layout::Layout::new(trace, opts, window, scan.n, has_network, note.as_deref());
    let mut canvas = draw::Canvas::new(&layout);
    canvas.axes(&layout);
    canvas.network(&layout, trace, scan.end);
    canvas.node_lines(&layout, &scan, &opts.names);
    if let Some(view) = &causal {
        canvas.set_halos(view.halos(&layout, trace, opts.show_timers));
    }
    canvas.node_events(&layout, trace, opts);
    canvas.flights(&layout, &scan, opts);
    canvas.finish(&layout, opts)
}
