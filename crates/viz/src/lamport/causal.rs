//! The causal view of a diagram ([`DiagramOptions::causal`](super::DiagramOptions::causal)):
//! for one chosen event, a halo on every process event saying whether it lies in the chosen
//! event's causal past, its causal future, or is concurrent with it (happened-before computed
//! from the trace by [`synod_core::causality`]).

use super::layout::Layout;
use crate::svg::num;
use std::fmt::Write as _;
use synod_core::causality::{Causality, Order};
use synod_core::{EventKind, Protocol, Trace};

/// Radius of a halo.
const HALO_R: f64 = 7.5;

/// The CSS of the halos (and of their legend samples).
pub(super) const CSS: &str = "\
.sl-causal{stroke-width:1.4;fill-opacity:.3}\
.sl-cfocus{fill:none;stroke:#101828;stroke-width:2.4}\
.sl-cpast{fill:#1d4ed8;stroke:#1d4ed8}\
.sl-cfuture{fill:#c026d3;stroke:#c026d3}\
.sl-cconc{fill:#eab308;stroke:#eab308}";

/// A legend sample: a halo of `class` centred on `(x, cy)`.
pub(super) fn legend_sample(out: &mut String, x: f64, cy: f64, class: &str) {
    let _ = write!(
        out,
        "<circle class=\"sl-causal {class}\" cx=\"{}\" cy=\"{}\" r=\"6\"/>",
        num(x),
        num(cy)
    );
}

/// Every event's relation to the chosen one.
pub(super) struct CausalView {
    focus: usize,
    /// Per trace event: its relation to the focus (`None`: not a process event, or no focus).
    rel: Vec<Option<Order>>,
    /// What the chosen event is (`None` if it is not a process event of the trace).
    what: Option<String>,
}

/// A short name for an event's kind.
fn kind_name<P: Protocol>(kind: &EventKind<P>) -> &'static str {
    match kind {
        EventKind::Init { .. } => "start",
        EventKind::Send { .. } => "send",
        EventKind::Deliver { .. } => "deliver",
        EventKind::Drop { .. } => "drop",
        EventKind::Duplicate { .. } => "duplicate",
        EventKind::Timer { .. } => "timer",
        EventKind::Request { .. } => "request",
        EventKind::Indication { .. } => "indication",
        EventKind::Persist { .. } => "persist",
        EventKind::Crash { .. } => "crash",
        EventKind::Recover { .. } => "recover",
        EventKind::Network { .. } => "network change",
    }
}

fn class(o: Order) -> (&'static str, &'static str) {
    match o {
        Order::Same => ("sl-cfocus", "the chosen event"),
        Order::Before => ("sl-cpast", "in the causal past of"),
        Order::After => ("sl-cfuture", "in the causal future of"),
        Order::Concurrent => ("sl-cconc", "concurrent with"),
    }
}

impl CausalView {
    /// The view of event `focus` (an index into `trace.events`).
    pub fn new<P: Protocol>(trace: &Trace<P>, focus: usize) -> CausalView {
        let c = Causality::of(trace);
        let what = c.is_process_event(focus).then(|| {
            let e = &trace.events[focus];
            let node = e.kind.node().map(|n| n.to_string()).unwrap_or_default();
            format!("#{focus} ({} at {node}, {})", kind_name(&e.kind), e.time)
        });
        CausalView {
            focus,
            rel: c.relative_to(focus),
            what,
        }
    }

    /// The line added to the diagram's summary.
    pub fn summary(&self) -> String {
        let Some(what) = &self.what else {
            return format!(
                "causal view: event #{} is not an event of a node (or not in the trace)",
                self.focus
            );
        };
        let count = |o: Order| self.rel.iter().filter(|r| **r == Some(o)).count();
        format!(
            "causal view of event {what}: {} events in its causal past, {} in its causal \
             future, {} concurrent with it",
            count(Order::Before),
            count(Order::After),
            count(Order::Concurrent)
        )
    }

    /// The halos, one per process event drawn in the window.
    pub fn halos<P: Protocol>(&self, l: &Layout, trace: &Trace<P>, show_timers: bool) -> String {
        let mut out = String::new();
        let Some(what) = &self.what else {
            return out;
        };
        let mut focus = String::new();
        for (i, e) in trace.events.iter().enumerate() {
            let (Some(o), Some(node)) = (self.rel[i], e.kind.node()) else {
                continue;
            };
            let hidden_timer = matches!(e.kind, EventKind::Timer { .. }) && !show_timers;
            if !l.window.contains(e.time) || node.index() >= l.n || hidden_timer {
                continue;
            }
            let (cls, says) = class(o);
            let tip = if o == Order::Same {
                format!("event {what}: the chosen event")
            } else {
                format!(
                    "event #{i} ({} at {node}, {}) is {says} event {what}",
                    kind_name(&e.kind),
                    e.time
                )
            };
            // The chosen event's ring goes on top of the others.
            let buf = if o == Order::Same {
                &mut focus
            } else {
                &mut out
            };
            let _ = writeln!(
                buf,
                "<circle class=\"sl-causal {cls}\" cx=\"{}\" cy=\"{}\" r=\"{}\"><title>{}</title></circle>",
                num(l.x(e.time)),
                num(l.y(node)),
                num(if o == Order::Same { HALO_R + 2.0 } else { HALO_R }),
                crate::svg::escape_xml(&tip)
            );
        }
        out.push_str(&focus);
        out
    }
}

#[cfg(test)]
mod tests {
    use crate::lamport::{lamport_svg, DiagramOptions};
    use serde::{Deserialize, Serialize};
    use synod_core::*;

    #[derive(Clone, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
    struct M;
    struct P;
    impl Protocol for P {
        type Msg = M;
        type Timer = ();
        type Request = ();
        type Indication = ();
        type State = ();
        type Durable = ();
        fn init(&self, _: &mut Ctx<'_, Self>) {}
        fn on_message(&self, _: &mut (), _: NodeId, _: M, _: &mut Ctx<'_, Self>) {}
        fn on_timer(&self, _: &mut (), _: (), _: &mut Ctx<'_, Self>) {}
        fn on_request(&self, _: &mut (), _: (), _: &mut Ctx<'_, Self>) {}
    }

    fn ms(m: u64) -> Instant {
        Instant::ZERO + Duration::from_millis(m)
    }

    /// Three nodes. By hand, relative to event 3 (n1 delivers m1):
    /// 0 n0 request → past (process order, then m1); 1 n0 sends m1 → past; 2 n2 request →
    /// concurrent; 4 n1 sends m2 → future; 5 n2 delivers m2 → future; 6 n0 request →
    /// concurrent (n0 hears nothing after m1); 7 dropped copy → no halo.
    fn trace() -> Trace<P> {
        let ev = |t, kind| Event { time: ms(t), kind };
        let (n0, n1, n2) = (NodeId(0), NodeId(1), NodeId(2));
        Trace {
            events: vec![
                ev(1, EventKind::Request { node: n0, req: () }),
                ev(
                    2,
                    EventKind::Send {
                        from: n0,
                        to: n1,
                        id: 1,
                        msg: M,
                    },
                ),
                ev(3, EventKind::Request { node: n2, req: () }),
                ev(
                    5,
                    EventKind::Deliver {
                        from: n0,
                        to: n1,
                        id: 1,
                        msg: M,
                    },
                ),
                ev(
                    6,
                    EventKind::Send {
                        from: n1,
                        to: n2,
                        id: 2,
                        msg: M,
                    },
                ),
                ev(
                    9,
                    EventKind::Deliver {
                        from: n1,
                        to: n2,
                        id: 2,
                        msg: M,
                    },
                ),
                ev(10, EventKind::Request { node: n0, req: () }),
                ev(
                    11,
                    EventKind::Drop {
                        from: n1,
                        to: n0,
                        id: 2,
                        reason: DropReason::Loss,
                    },
                ),
            ],
            facts: RunFacts::fault_free(3, ms(12)),
        }
    }

    fn count(doc: &roxmltree::Document<'_>, class: &str) -> usize {
        doc.descendants()
            .filter(|n| n.tag_name().name() == "circle")
            .filter(|n| n.attribute("class") == Some(class))
            .count()
    }

    #[test]
    fn halos_mark_past_future_and_concurrent_events() {
        let opts = DiagramOptions {
            causal: Some(3),
            ..DiagramOptions::default()
        };
        let svg = lamport_svg(&trace(), &opts);
        let doc = roxmltree::Document::parse(&svg).expect("well-formed SVG");
        // The legend draws one sample of each class; the diagram the rest.
        assert_eq!(count(&doc, "sl-causal sl-cfocus"), 1 + 1);
        assert_eq!(count(&doc, "sl-causal sl-cpast"), 2 + 1);
        assert_eq!(count(&doc, "sl-causal sl-cfuture"), 2 + 1);
        assert_eq!(count(&doc, "sl-causal sl-cconc"), 2 + 1);
        assert!(svg.contains("2 events in its causal past, 2 in its causal future, 2 concurrent"));
        assert!(svg.contains("concurrent with it"), "legend");
        let tips: Vec<&str> = doc
            .descendants()
            .filter(|n| n.attribute("class") == Some("sl-causal sl-cconc"))
            .filter_map(|n| n.first_child().and_then(|t| t.first_child()))
            .filter_map(|t| t.text())
            .collect();
        assert!(
            tips.iter()
                .any(|t| t.starts_with("event #6 (request at n0")),
            "{tips:?}"
        );
    }

    #[test]
    fn without_the_option_nothing_changes() {
        let plain = lamport_svg(&trace(), &DiagramOptions::default());
        assert!(!plain.contains("sl-causal"));
        assert!(!plain.contains("causal view"));
    }

    #[test]
    fn a_focus_that_is_no_process_event_is_explained() {
        for focus in [7, 99] {
            let opts = DiagramOptions {
                causal: Some(focus),
                ..DiagramOptions::default()
            };
            let svg = lamport_svg(&trace(), &opts);
            let doc = roxmltree::Document::parse(&svg).expect("well-formed SVG");
            assert!(svg.contains(&format!("event #{focus} is not an event of a node")));
            assert_eq!(
                count(&doc, "sl-causal sl-cpast"),
                1,
                "the legend's sample only"
            );
        }
    }
}
