//! Drawing a diagram, layer by layer: shading, grid, node lines, arrows, marks and labels are
//! written into separate buffers and stacked at the end, so labels always sit on top.

use super::layout::{Layout, NOTE_LANE, SUMMARY_LINE, TITLE_LINE};
use super::marks::{self, Pt, Stroke, GREEN, GREY, NET, ORANGE, PURPLE, RED, TEAL};
use super::scan::{Fate, Flight, Scan};
use super::{legend, DiagramOptions};
use crate::svg::{escape_xml, mono_width, num, open_svg, truncate_chars, Placer, Rect};
use std::fmt::{Debug, Write as _};
use synod_core::{DropReason, Event, EventKind, Instant, NodeId, Protocol, Trace};

/// Tooltips longer than this are cut (a message's Debug text can be a whole log).
const MAX_TOOLTIP_CHARS: usize = 4000;
/// Font size of labels next to node events.
const LABEL_PX: f64 = 10.0;
/// Message arrows get labels only if there is at least this much width per arrow.
const MIN_PX_PER_MSG_LABEL: f64 = 20.0;
/// Font size of labels on message arrows.
const MSG_LABEL_PX: f64 = 9.0;

const CSS: &str = "\
.sl-title{font-size:16px;font-weight:600;fill:#101828}\
.sl-sub{font-size:11px;fill:#475467}\
.sl-leg{font-size:11px;fill:#344054}\
.sl-tick{font-size:10px;fill:#475467;font-family:ui-monospace,Menlo,Consolas,'DejaVu Sans Mono',monospace}\
.sl-grid{stroke:#eaecf0;stroke-width:1}\
.sl-axis{stroke:#98a2b3;stroke-width:1}\
.sl-node{stroke:#344054;stroke-width:1.6}\
.sl-down{stroke:#98a2b3;stroke-width:1.6;stroke-dasharray:4 4}\
.sl-downbg{fill:#fef3f2}\
.sl-name{font-size:13px;font-weight:700;fill:#101828;font-family:ui-monospace,Menlo,Consolas,'DejaVu Sans Mono',monospace}\
.sl-name2{font-size:10px;fill:#98a2b3;font-family:ui-monospace,Menlo,Consolas,'DejaVu Sans Mono',monospace}\
.sl-line{fill:none;stroke-width:1;stroke-opacity:.75}\
.sl-hit{fill:none;stroke:transparent;stroke-width:6}\
.sl-msg:hover .sl-line{stroke-width:2.4;stroke-opacity:1}\
.sl-dup .sl-line{stroke-width:1.6;stroke-opacity:1}\
.sl-net{stroke-width:1.4;stroke-dasharray:6 3}\
.sl-band{fill:#a855f7;fill-opacity:.07}\
.sl-lab{font-family:ui-monospace,Menlo,Consolas,'DejaVu Sans Mono',monospace;paint-order:stroke;\
stroke:#fff;stroke-width:3px;stroke-linejoin:round}\
.sl-l10{font-size:10px}.sl-l9{font-size:9px}\
.sl-ind{fill:#6b21a8}.sl-req{fill:#0e7490}.sl-crash{fill:#b42318}.sl-rec{fill:#15803d}\
.sl-msgl{fill:#667085}.sl-note{fill:#7e22ce;font-size:10px}";

/// Where a label goes relative to its anchor point.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Anchor {
    Start,
    Middle,
    End,
}

impl Anchor {
    fn left(self, x: f64, w: f64) -> f64 {
        match self {
            Anchor::Start => x,
            Anchor::Middle => x - w / 2.0,
            Anchor::End => x - w,
        }
    }

    fn attr(self) -> &'static str {
        match self {
            Anchor::Start => "",
            Anchor::Middle => " text-anchor=\"middle\"",
            Anchor::End => " text-anchor=\"end\"",
        }
    }
}

/// A candidate position for a label: anchor point `(x, baseline)`.
type Spot = (f64, f64, Anchor);

/// The diagram being drawn.
pub(super) struct Canvas {
    bands: String,
    grid: String,
    lines: String,
    halos: String,
    arrows: String,
    marks: String,
    labels: String,
    placer: Placer,
    notes: Placer,
    shown_labels: usize,
    hidden_labels: usize,
    msg_labels_suppressed: bool,
}

impl Canvas {
    /// An empty canvas for `l`.
    pub fn new(l: &Layout) -> Canvas {
        let placer = Placer::new(Rect {
            x0: l.x0 - 6.0,
            y0: l.axis_top + 4.0,
            x1: l.width - 4.0,
            y1: l.axis_bottom - 4.0,
        });
        let notes = Placer::new(Rect {
            x0: 4.0,
            y0: l.notes_y,
            x1: l.width - 4.0,
            y1: l.notes_y + l.note_lanes as f64 * NOTE_LANE + 2.0,
        });
        Canvas {
            bands: String::new(),
            grid: String::new(),
            lines: String::new(),
            halos: String::new(),
            arrows: String::new(),
            marks: String::new(),
            labels: String::new(),
            placer,
            notes,
            shown_labels: 0,
            hidden_labels: 0,
            msg_labels_suppressed: false,
        }
    }

    /// Writes `text` at the first of `spots` where it overlaps no other label or mark; counts it
    /// as hidden if there is none.
    /// `pad` keeps that much free space on either side of the label.
    fn label(&mut self, spots: &[Spot], text: &str, style: (&str, f64, f64), tip: &str) -> bool {
        let (class, px, pad) = style;
        let w = mono_width(text, px);
        for &(x, baseline, anchor) in spots {
            let mut rect = Rect::text(anchor.left(x, w), baseline, w, px);
            rect.x0 -= pad;
            rect.x1 += pad;
            if self.placer.try_take(rect) {
                let _ = write!(
                    self.labels,
                    "<text x=\"{}\" y=\"{}\" class=\"sl-lab {class}\"{}>{}",
                    num(x),
                    num(baseline),
                    anchor.attr(),
                    escape_xml(text)
                );
                marks::title(&mut self.labels, tip);
                self.labels.push_str("</text>\n");
                self.shown_labels += 1;
                return true;
            }
        }
        self.hidden_labels += 1;
        false
    }

    /// The causal view's halos, drawn over the node lines and under the arrows and marks.
    pub fn set_halos(&mut self, halos: String) {
        self.halos = halos;
    }

    /// Grid lines and the time axes at the top and bottom.
    pub fn axes(&mut self, l: &Layout) {
        let _ = writeln!(
            self.grid,
            "<path class=\"sl-axis\" d=\"M{a} {t}H{b}M{a} {u}H{b}\"/>",
            a = num(l.x0),
            b = num(l.x1),
            t = num(l.axis_top),
            u = num(l.axis_bottom)
        );
        for t in l.ticks() {
            let x = num(l.x(t));
            let _ = writeln!(
                self.grid,
                "<path class=\"sl-grid\" d=\"M{x} {a}V{b}\"/><path class=\"sl-axis\" \
                 d=\"M{x} {a}v-4M{x} {b}v4\"/><text class=\"sl-tick\" x=\"{x}\" y=\"{ta}\" \
                 text-anchor=\"middle\">{t}</text><text class=\"sl-tick\" x=\"{x}\" y=\"{tb}\" \
                 text-anchor=\"middle\">{t}</text>",
                a = num(l.axis_top),
                b = num(l.axis_bottom),
                ta = num(l.axis_top - 7.0),
                tb = num(l.axis_bottom + 15.0),
            );
        }
    }

    /// Network changes: a vertical line per change with its note above the top axis, and a
    /// light band over the time a partition lasts.
    pub fn network<P: Protocol>(&mut self, l: &Layout, trace: &Trace<P>, end: Instant) {
        let changes: Vec<(Instant, &str)> = trace
            .events
            .iter()
            .filter_map(|e| match &e.kind {
                EventKind::Network { note } => Some((e.time, note.as_str())),
                _ => None,
            })
            .collect();
        for (i, &(t, note)) in changes.iter().enumerate() {
            let until = changes.get(i + 1).map_or(end.max(l.window.to), |c| c.0);
            if !is_heal(note) {
                self.partition_band(l, t, until, note);
            }
            if l.window.contains(t) {
                self.network_line(l, t, note);
            }
        }
    }

    fn partition_band(&mut self, l: &Layout, from: Instant, until: Instant, note: &str) {
        let a = l.x(from).max(l.x0);
        let b = l.x(until).min(l.x1);
        if b <= a {
            return;
        }
        let _ = write!(
            self.bands,
            "<rect class=\"sl-band\" x=\"{}\" y=\"{}\" width=\"{}\" height=\"{}\">",
            num(a),
            num(l.axis_top),
            num(b - a),
            num(l.axis_bottom - l.axis_top)
        );
        marks::title(
            &mut self.bands,
            &format!("{note}\nfrom {} until {}", precise(from), precise(until)),
        );
        self.bands.push_str("</rect>\n");
    }

    fn network_line(&mut self, l: &Layout, t: Instant, note: &str) {
        let x = l.x(t);
        let tip = format!("network at {}: {note}", precise(t));
        let _ = write!(
            self.marks,
            "<g><path class=\"sl-hit\" d=\"M{x} {a}V{b}\"/><path class=\"sl-net\" stroke=\"{NET}\" \
             d=\"M{x} {a}V{b}\"/>",
            x = num(x),
            a = num(l.notes_y + 2.0),
            b = num(l.axis_bottom)
        );
        marks::title(&mut self.marks, &tip);
        self.marks.push_str("</g>\n");
        let text = truncate_chars(note, 40);
        let w = mono_width(&text, 10.0);
        for lane in 0..l.note_lanes {
            let baseline = l.notes_y + (lane + 1) as f64 * NOTE_LANE - 3.0;
            for left in [x + 3.0, x - 3.0 - w] {
                if self.notes.try_take(Rect::text(left, baseline, w, 10.0)) {
                    let _ = write!(
                        self.labels,
                        "<text class=\"sl-lab sl-note\" x=\"{}\" y=\"{}\">{}",
                        num(left),
                        num(baseline),
                        escape_xml(&text)
                    );
                    marks::title(&mut self.labels, &tip);
                    self.labels.push_str("</text>\n");
                    return;
                }
            }
        }
        self.hidden_labels += 1;
    }

    /// One line per node with its name; grey and dashed (on a pale red band) while it is down.
    pub fn node_lines<P: Protocol>(&mut self, l: &Layout, scan: &Scan<'_, P>, names: &[String]) {
        for node in NodeId::all(l.n) {
            let y = l.y(node);
            let name = names
                .get(node.index())
                .map_or_else(|| node.to_string(), |n| escape_xml(n));
            let _ = writeln!(
                self.lines,
                "<text class=\"sl-name\" x=\"{}\" y=\"{}\" text-anchor=\"end\">{name}</text>",
                num(l.x0 - 12.0),
                num(y + 4.5)
            );
            self.placer.reserve(Rect {
                x0: l.x0,
                y0: y - 2.5,
                x1: l.x1,
                y1: y + 2.5,
            });
            self.repeated_names(l, &name, y);
            let mut x = l.x0;
            for &(down_from, down_to) in &scan.down[node.index()] {
                let until = down_to.unwrap_or(scan.end.max(l.window.to));
                let (a, b) = (l.x(down_from).max(l.x0), l.x(until).min(l.x1));
                if b < a || b < l.x0 || a > l.x1 {
                    continue;
                }
                self.node_segment(x, a, y);
                self.down_segment(a, b, y, node, down_from, down_to);
                x = b;
            }
            self.node_segment(x, l.x1, y);
        }
    }

    /// Faint copies of a node's name along wide diagrams, for readers scrolled to the right.
    fn repeated_names(&mut self, l: &Layout, name: &str, y: f64) {
        let mut x = l.x0 + 1000.0;
        while x < l.x1 - 200.0 {
            let rect = Rect::text(x, y - 5.0, mono_width(name, 10.0), 10.0);
            if self.placer.try_take(rect) {
                let _ = write!(
                    self.lines,
                    "<text class=\"sl-name2\" x=\"{}\" y=\"{}\">{name}</text>",
                    num(x),
                    num(y - 5.0)
                );
            }
            x += 1000.0;
        }
    }

    fn node_segment(&mut self, a: f64, b: f64, y: f64) {
        if b > a {
            let _ = writeln!(
                self.lines,
                "<path class=\"sl-node\" d=\"M{} {}H{}\"/>",
                num(a),
                num(y),
                num(b)
            );
        }
    }

    fn down_segment(
        &mut self,
        a: f64,
        b: f64,
        y: f64,
        node: NodeId,
        from: Instant,
        to: Option<Instant>,
    ) {
        let tip = match to {
            Some(t) => format!("{node} down from {} to {}", precise(from), precise(t)),
            None => format!("{node} down from {} to the end of the run", precise(from)),
        };
        let _ = write!(
            self.lines,
            "<g><rect class=\"sl-downbg\" x=\"{}\" y=\"{}\" width=\"{}\" height=\"12\"/>\
             <path class=\"sl-down\" d=\"M{} {}H{}\"/>",
            num(a),
            num(y - 6.0),
            num(b - a),
            num(a),
            num(y),
            num(b)
        );
        marks::title(&mut self.lines, &tip);
        self.lines.push_str("</g>\n");
    }

    /// Marks for everything that happens on one node, then labels for the ones that carry text.
    pub fn node_events<P: Protocol>(
        &mut self,
        l: &Layout,
        trace: &Trace<P>,
        opts: &DiagramOptions,
    ) {
        let visible: Vec<(usize, &Event<P>)> = trace
            .events
            .iter()
            .enumerate()
            .filter(|(_, e)| {
                l.window.contains(e.time) && e.kind.node().is_some_and(|n| n.index() < l.n)
            })
            .collect();
        for &(i, e) in &visible {
            self.node_mark(l, i, e, opts.show_timers);
        }
        for (_, e) in &visible {
            self.node_label(l, e, opts.max_label_chars);
        }
    }

    /// The mark of trace event number `index` (its tooltip names the number, which
    /// `DiagramOptions::causal` takes).
    fn node_mark<P: Protocol>(
        &mut self,
        l: &Layout,
        index: usize,
        e: &Event<P>,
        show_timers: bool,
    ) {
        let Some(node) = e.kind.node() else { return };
        let (x, y) = (l.x(e.time), l.y(node));
        let at = precise(e.time);
        let mut g = String::new();
        let tip = match &e.kind {
            EventKind::Send { to, id, msg, .. } => {
                marks::dot(&mut g, x, y, 2.2, marks::sender_color(node.index()));
                format!("{node} sends #{id} to {to} at {at}\n{}", debug(msg))
            }
            EventKind::Crash { .. } => {
                marks::cross(&mut g, x, y, 6.0, RED, 2.8);
                self.placer.reserve(Rect::around(x, y, 7.0));
                format!("{node} crashed at {at}")
            }
            EventKind::Recover { .. } => {
                marks::dot(&mut g, x, y, 5.0, GREEN);
                self.placer.reserve(Rect::around(x, y, 6.0));
                format!("{node} recovered at {at}")
            }
            EventKind::Request { req, .. } => {
                marks::square(&mut g, x, y, 3.8, TEAL);
                self.placer.reserve(Rect::around(x, y, 4.5));
                format!("request at {node}, {at}\n{}", debug(req))
            }
            EventKind::Indication { ind, .. } => {
                marks::diamond(&mut g, x, y, 5.0, PURPLE);
                self.placer.reserve(Rect::around(x, y, 5.0));
                format!("indication at {node}, {at}\n{}", debug(ind))
            }
            EventKind::Timer { timer, .. } if show_timers => {
                marks::tick(&mut g, x, y, 4.5, "#667085");
                format!("timer {} fired at {node}, {at}", debug(timer))
            }
            EventKind::Persist { .. } => {
                marks::block(&mut g, x, y, "#667085");
                format!("{node} persisted its durable state at {at}")
            }
            _ => return,
        };
        self.marks.push_str("<g>");
        self.marks.push_str(&g);
        marks::title(&mut self.marks, &format!("event {index}: {tip}"));
        self.marks.push_str("</g>\n");
    }

    fn node_label<P: Protocol>(&mut self, l: &Layout, e: &Event<P>, max_chars: usize) {
        let Some(node) = e.kind.node() else { return };
        let (x, y) = (l.x(e.time), l.y(node));
        let at = precise(e.time);
        let (text, class, tip) = match &e.kind {
            EventKind::Crash { .. } => (
                "crash".to_string(),
                "sl-crash",
                format!("{node} crashed at {at}"),
            ),
            EventKind::Recover { .. } => (
                "recover".to_string(),
                "sl-rec",
                format!("{node} recovered at {at}"),
            ),
            EventKind::Request { req, .. } => {
                let full = debug(req);
                (
                    truncate_chars(&full, max_chars),
                    "sl-req",
                    format!("request at {node}, {at}\n{full}"),
                )
            }
            EventKind::Indication { ind, .. } => {
                let full = debug(ind);
                (
                    truncate_chars(&full, max_chars),
                    "sl-ind",
                    format!("indication at {node}, {at}\n{full}"),
                )
            }
            _ => return,
        };
        let spots = [
            (x + 7.0, y - 6.0, Anchor::Start),
            (x + 7.0, y - 18.0, Anchor::Start),
            (x + 7.0, y + 15.0, Anchor::Start),
            (x - 7.0, y - 6.0, Anchor::End),
            (x - 7.0, y - 18.0, Anchor::End),
            (x - 7.0, y + 15.0, Anchor::End),
        ];
        let class = format!("{class} sl-l10");
        self.label(&spots, &text, (&class, LABEL_PX, 0.0), &tip);
    }

    /// Every message copy whose flight overlaps the window. Arrows get a short label where it
    /// fits, unless they are so dense (less than [`MIN_PX_PER_MSG_LABEL`] of width per arrow)
    /// that labels could not be told apart; their tooltips still carry everything.
    pub fn flights<P: Protocol>(&mut self, l: &Layout, scan: &Scan<'_, P>, opts: &DiagramOptions) {
        let shapes: Vec<(&Flight<'_, P>, Shape)> = scan
            .flights
            .iter()
            .filter(|f| f.from.index() < l.n && f.to.index() < l.n)
            .filter_map(|f| shape(l, f).map(|s| (f, s)))
            .collect();
        let roomy = (l.x1 - l.x0) / shapes.len().max(1) as f64 >= MIN_PX_PER_MSG_LABEL;
        self.msg_labels_suppressed = !roomy && !shapes.is_empty();
        for (f, shape) in &shapes {
            let tip = flight_tooltip(f);
            self.draw_flight(f, shape, &tip);
            if let (Some(msg), true) = (f.msg, roomy) {
                let text = truncate_chars(&debug(msg), opts.max_label_chars);
                self.flight_label(shape, &text, &tip);
            }
        }
    }

    fn draw_flight<P: Protocol>(&mut self, f: &Flight<'_, P>, s: &Shape, tip: &str) {
        let color = match f.fate {
            Fate::Duplicate => ORANGE,
            Fate::InFlight => GREY,
            _ => marks::sender_color(f.from.index()),
        };
        let (class, stroke) = match f.fate {
            Fate::Delivered => ("sl-deliver", Stroke::Solid),
            Fate::Duplicate => ("sl-dup", Stroke::Dashed),
            Fate::Dropped(_) => ("sl-drop", Stroke::Solid),
            Fate::InFlight => ("sl-inflight", Stroke::Dotted),
        };
        let _ = write!(self.arrows, "<g class=\"sl-msg {class}\">");
        marks::title(&mut self.arrows, tip);
        let head = s.head && matches!(f.fate, Fate::Delivered | Fate::Duplicate);
        marks::arrow(&mut self.arrows, s.p0, s.p1, s.bend, color, stroke, head);
        if f.fate == Fate::Duplicate && s.head {
            marks::ring(&mut self.arrows, s.p1.0, s.p1.1, 2.8, ORANGE);
        }
        if let Some((cx, cy)) = s.cross {
            marks::cross(&mut self.arrows, cx, cy, 4.0, RED, 2.2);
        }
        self.arrows.push_str("</g>\n");
    }

    fn flight_label(&mut self, s: &Shape, text: &str, tip: &str) {
        let (dx, dy) = (s.p1.0 - s.p0.0, s.p1.1 - s.p0.1);
        if (dx * dx + dy * dy).sqrt() < 30.0 {
            self.hidden_labels += 1;
            return;
        }
        let steep = dy.abs() > 2.0 * dx.abs();
        let spots: Vec<Spot> = [0.5, 0.35, 0.65, 0.2, 0.8]
            .iter()
            .flat_map(|k| {
                let (x, y) = (s.p0.0 + dx * k, s.p0.1 + dy * k);
                if steep {
                    // Beside a steep arrow, touching it.
                    vec![
                        (x + 4.0, y + 3.0, Anchor::Start),
                        (x - 4.0, y + 3.0, Anchor::End),
                    ]
                } else {
                    vec![(x, y - 3.0, Anchor::Middle)]
                }
            })
            .collect();
        self.label(&spots, text, ("sl-msgl sl-l9", MSG_LABEL_PX, 14.0), tip);
    }

    /// Stacks the layers under the title, summary and legend, with a note on hidden labels at
    /// the bottom.
    pub fn finish(self, l: &Layout, opts: &DiagramOptions) -> String {
        let mut out = String::with_capacity(
            self.bands.len()
                + self.grid.len()
                + self.lines.len()
                + self.halos.len()
                + self.arrows.len()
                + self.marks.len()
                + self.labels.len()
                + 4096,
        );
        let css = if opts.causal.is_some() {
            format!("{CSS}{}", super::causal::CSS)
        } else {
            CSS.to_string()
        };
        open_svg(&mut out, l.width, l.height, &opts.title, &css);
        for (i, line) in l.header.title.iter().enumerate() {
            let _ = writeln!(
                out,
                "<text class=\"sl-title\" x=\"16\" y=\"{}\">{}</text>",
                num(24.0 + i as f64 * TITLE_LINE),
                escape_xml(line)
            );
        }
        for (i, line) in l.header.summary.iter().enumerate() {
            let _ = writeln!(
                out,
                "<text class=\"sl-sub\" x=\"16\" y=\"{}\">{}</text>",
                num(l.header.summary_y + i as f64 * SUMMARY_LINE),
                escape_xml(line)
            );
        }
        legend::draw(
            &mut out,
            l.width,
            l.legend_y,
            opts.show_timers,
            opts.causal.is_some(),
        );
        for layer in [
            &self.bands,
            &self.grid,
            &self.lines,
            &self.halos,
            &self.arrows,
            &self.marks,
            &self.labels,
        ] {
            out.push_str(layer);
        }
        if let Some(note) = self.footnote() {
            let _ = writeln!(
                out,
                "<text class=\"sl-sub\" x=\"16\" y=\"{}\">{}</text>",
                num(l.height - 10.0),
                escape_xml(&note)
            );
        }
        out.push_str("</svg>\n");
        out
    }

    /// What the reader should know about labels left out.
    fn footnote(&self) -> Option<String> {
        let mut parts = Vec::new();
        if self.msg_labels_suppressed {
            parts.push(
                "message labels off: arrows too dense (narrow the window with from/to)".to_string(),
            );
        }
        if self.hidden_labels > 0 {
            parts.push(format!(
                "{} of {} labels hidden where they would overlap",
                self.hidden_labels,
                self.hidden_labels + self.shown_labels
            ));
        }
        (!parts.is_empty())
            .then(|| format!("{}; hover the marks for every detail.", parts.join("; ")))
    }
}

/// The geometry of one message copy, already cut to the window.
struct Shape {
    p0: Pt,
    p1: Pt,
    bend: Option<Pt>,
    /// The end is the real end (not cut by the window): draw the arrowhead or duplicate mark.
    head: bool,
    /// Where to draw the red ✕ of a dropped message.
    cross: Option<Pt>,
}

/// Drops decided at the receiver end at the receiver's line; the others end part-way.
fn dropped_at_receiver(reason: DropReason) -> bool {
    matches!(
        reason,
        DropReason::ReceiverDown | DropReason::ReceiveOmission
    )
}

fn shape<P: Protocol>(l: &Layout, f: &Flight<'_, P>) -> Option<Shape> {
    let (y0, y1) = (l.y(f.from), l.y(f.to));
    let x_end = l.x(f.end);
    let x_start = f.sent.map_or(x_end - 18.0, |t| l.x(t));
    let p0 = (x_start, y0);
    let target = (x_end.max(x_start + 16.0), y1);
    let (p1, cross) = match f.fate {
        Fate::Dropped(reason) if !dropped_at_receiver(reason) => {
            let k = if f.from == f.to { 1.0 } else { 0.6 };
            let p = (p0.0 + (target.0 - p0.0) * k, p0.1 + (target.1 - p0.1) * k);
            (p, Some(p))
        }
        Fate::Dropped(_) => (target, Some(target)),
        Fate::InFlight => (target, None),
        // A message to oneself gets some width, so its loop is visible.
        _ if f.from == f.to => ((x_end.max(x_start + 14.0), y1), None),
        _ => ((x_end, y1), None),
    };
    let (q0, q1, cut_start, cut_end) = clip(p0, p1, l.x0, l.x1)?;
    let bend = (f.from == f.to && !cut_start && !cut_end)
        .then(|| ((q0.0 + q1.0) / 2.0, q0.1 - 22.0_f64.min(l.row_h * 0.4)));
    Some(Shape {
        p0: q0,
        p1: q1,
        bend,
        head: !cut_end,
        cross: cross.filter(|c| c.0 >= l.x0 && c.0 <= l.x1),
    })
}

/// Cuts the segment `a`–`b` to `x0 <= x <= x1`; `None` if nothing is left. Also says whether
/// the start and the end were cut.
fn clip(a: Pt, b: Pt, x0: f64, x1: f64) -> Option<(Pt, Pt, bool, bool)> {
    let (lo, hi) = (a.0.min(b.0), a.0.max(b.0));
    if hi < x0 || lo > x1 {
        return None;
    }
    let at = |x: f64| {
        let k = if (b.0 - a.0).abs() < 1e-9 {
            0.0
        } else {
            (x - a.0) / (b.0 - a.0)
        };
        (x, a.1 + (b.1 - a.1) * k)
    };
    let cut = |p: Pt| {
        if p.0 < x0 {
            (at(x0), true)
        } else if p.0 > x1 {
            (at(x1), true)
        } else {
            (p, false)
        }
    };
    let (q0, c0) = cut(a);
    let (q1, c1) = cut(b);
    Some((q0, q1, c0, c1))
}

fn flight_tooltip<P: Protocol>(f: &Flight<'_, P>) -> String {
    let sent = f.sent.map_or("before the trace began".to_string(), precise);
    let took = f
        .sent
        .map(|s| format!(" (after {})", f.end.saturating_since(s)))
        .unwrap_or_default();
    let what = match f.fate {
        Fate::Delivered => format!("delivered at {}{took}", precise(f.end)),
        Fate::Duplicate => format!("duplicate delivered at {}{took}", precise(f.end)),
        Fate::Dropped(r) => format!("DROPPED at {}: {}", precise(f.end), r.name()),
        Fate::InFlight => "still in flight when the run ended".to_string(),
    };
    let body = f.msg.map(debug).unwrap_or_default();
    format!(
        "#{} {} → {}, sent at {sent}, {what}\n{body}",
        f.id, f.from, f.to
    )
}

/// Debug text, cut to a sane size for a tooltip.
fn debug<T: Debug + ?Sized>(v: &T) -> String {
    let s = format!("{v:?}");
    if s.chars().count() > MAX_TOOLTIP_CHARS {
        let more = s.chars().count() - MAX_TOOLTIP_CHARS;
        let mut cut: String = s.chars().take(MAX_TOOLTIP_CHARS).collect();
        let _ = write!(cut, "… ({more} more characters)");
        cut
    } else {
        s
    }
}

/// A time with sub-unit precision kept (`1.234567s`, `250.5ms`), for tooltips.
fn precise(t: Instant) -> String {
    let n = t.as_nanos();
    let (scale, unit) = match n {
        0 => return "0s".to_string(),
        n if n >= 1_000_000_000 => (1e9, "s"),
        n if n >= 1_000_000 => (1e6, "ms"),
        n if n >= 1_000 => (1e3, "us"),
        _ => (1.0, "ns"),
    };
    let s = format!("{:.6}", n as f64 / scale);
    let s = s.trim_end_matches('0').trim_end_matches('.');
    format!("{s}{unit}")
}

/// True for a network note that ends a partition.
fn is_heal(note: &str) -> bool {
    let n = note.trim_start().to_ascii_lowercase();
    n.starts_with("heal") || n.starts_with("connected") || n.starts_with("full")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn clipping_keeps_the_inside() {
        assert_eq!(clip((0.0, 0.0), (10.0, 10.0), 20.0, 30.0), None);
        let (a, b, c0, c1) = clip((0.0, 0.0), (10.0, 10.0), 5.0, 30.0).unwrap();
        assert_eq!((a, b, c0, c1), ((5.0, 5.0), (10.0, 10.0), true, false));
        let (a, b, c0, c1) = clip((0.0, 0.0), (10.0, 10.0), 0.0, 8.0).unwrap();
        assert_eq!((a, b, c0, c1), ((0.0, 0.0), (8.0, 8.0), false, true));
    }

    #[test]
    fn precise_times() {
        assert_eq!(precise(Instant(1_234_567_000)), "1.234567s");
        assert_eq!(precise(Instant(250_500_000)), "250.5ms");
        assert_eq!(precise(Instant(0)), "0s");
        assert_eq!(precise(Instant(7)), "7ns");
    }
}
