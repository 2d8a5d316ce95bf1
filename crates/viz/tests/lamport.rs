//! Space-time diagrams of a small hand-made trace: well-formed, complete, escaped, windowed.

use serde::{Deserialize, Serialize};
use synod_core::*;
use synod_viz::lamport::{escape_xml, lamport_svg, DiagramOptions};

#[derive(Clone, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
enum Msg {
    Val(String),
    Ack(u32),
}

#[derive(Clone, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
enum Ind {
    Decided(String),
}

#[derive(Clone, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
enum Req {
    Propose(String),
}

struct Toy;

impl Protocol for Toy {
    type Msg = Msg;
    type Timer = u8;
    type Request = Req;
    type Indication = Ind;
    type State = ();
    type Durable = ();
    fn init(&self, _: &mut Ctx<'_, Self>) {}
    fn on_message(&self, _: &mut (), _: NodeId, _: Msg, _: &mut Ctx<'_, Self>) {}
    fn on_timer(&self, _: &mut (), _: u8, _: &mut Ctx<'_, Self>) {}
    fn on_request(&self, _: &mut (), _: Req, _: &mut Ctx<'_, Self>) {}
}

fn ms(m: u64) -> Instant {
    Instant::ZERO + Duration::from_millis(m)
}

fn ev(t: u64, kind: EventKind<Toy>) -> Event<Toy> {
    Event { time: ms(t), kind }
}

fn send(t: u64, from: u32, to: u32, id: MsgId, msg: Msg) -> Event<Toy> {
    ev(
        t,
        EventKind::Send {
            from: NodeId(from),
            to: NodeId(to),
            id,
            msg,
        },
    )
}

fn deliver(t: u64, from: u32, to: u32, id: MsgId, msg: Msg) -> Event<Toy> {
    ev(
        t,
        EventKind::Deliver {
            from: NodeId(from),
            to: NodeId(to),
            id,
            msg,
        },
    )
}

fn drop(t: u64, from: u32, to: u32, id: MsgId, reason: DropReason) -> Event<Toy> {
    ev(
        t,
        EventKind::Drop {
            from: NodeId(from),
            to: NodeId(to),
            id,
            reason,
        },
    )
}

/// Three nodes: three first deliveries (#1, #2, #5), one duplicate (#1 again), two drops (#3 lost,
/// #4 to a crashed receiver), a crash and recovery of n2, a partition and its heal, a request,
/// indications and a timer.
fn toy_trace() -> Trace<Toy> {
    let v = Msg::Val("a<b&c".to_string());
    let events = vec![
        ev(0, EventKind::Init { node: NodeId(0) }),
        ev(0, EventKind::Init { node: NodeId(1) }),
        ev(0, EventKind::Init { node: NodeId(2) }),
        ev(
            1,
            EventKind::Request {
                node: NodeId(0),
                req: Req::Propose("v<1>".into()),
            },
        ),
        send(2, 0, 1, 1, v.clone()),
        send(2, 0, 2, 2, v.clone()),
        ev(
            2,
            EventKind::Duplicate {
                from: NodeId(0),
                to: NodeId(1),
                id: 1,
            },
        ),
        deliver(5, 0, 1, 1, v.clone()),
        deliver(6, 0, 2, 2, v.clone()),
        deliver(9, 0, 1, 1, v),
        send(10, 1, 2, 3, Msg::Ack(3)),
        drop(10, 1, 2, 3, DropReason::Loss),
        ev(
            12,
            EventKind::Network {
                note: "partition {n0} | {n1,n2}".into(),
            },
        ),
        ev(14, EventKind::Crash { node: NodeId(2) }),
        send(15, 0, 2, 4, Msg::Ack(4)),
        drop(18, 0, 2, 4, DropReason::ReceiverDown),
        ev(
            20,
            EventKind::Network {
                note: "heal".into(),
            },
        ),
        ev(25, EventKind::Recover { node: NodeId(2) }),
        ev(
            30,
            EventKind::Indication {
                node: NodeId(1),
                ind: Ind::Decided("x<y & z".into()),
            },
        ),
        send(31, 1, 0, 5, Msg::Ack(5)),
        deliver(33, 1, 0, 5, Msg::Ack(5)),
        ev(
            40,
            EventKind::Indication {
                node: NodeId(0),
                ind: Ind::Decided("late".into()),
            },
        ),
        ev(
            40,
            EventKind::Timer {
                node: NodeId(0),
                timer: 7,
            },
        ),
    ];
    let mut facts = RunFacts::fault_free(3, ms(45));
    facts.ever_crashed[2] = true;
    Trace { events, facts }
}

/// Elements whose `class` attribute is exactly `class`.
fn count_class(doc: &roxmltree::Document<'_>, class: &str) -> usize {
    doc.descendants()
        .filter(|n| n.attribute("class") == Some(class))
        .count()
}

/// All tooltips (`<title>` texts), unescaped.
fn tooltips(doc: &roxmltree::Document<'_>) -> Vec<String> {
    doc.descendants()
        .filter(|n| n.has_tag_name("title"))
        .filter_map(|n| n.text().map(str::to_string))
        .collect()
}

fn parse(svg: &str) -> roxmltree::Document<'_> {
    roxmltree::Document::parse(svg).unwrap_or_else(|e| panic!("SVG is not well-formed: {e}"))
}

#[test]
fn diagram_is_standalone_well_formed_svg() {
    let svg = lamport_svg(&toy_trace(), &DiagramOptions::default());
    let doc = parse(&svg);
    let root = doc.root_element();
    assert_eq!(root.tag_name().name(), "svg");
    assert_eq!(
        root.tag_name().namespace(),
        Some("http://www.w3.org/2000/svg")
    );
    assert!(root.attribute("width").is_some() && root.attribute("viewBox").is_some());
    assert!(!svg.contains("href"), "no external resources");
    assert_eq!(count_class(&doc, "sl-name"), 3, "one named line per node");
}

#[test]
fn one_arrow_per_delivery_and_distinct_faults() {
    let trace = toy_trace();
    let svg = lamport_svg(&trace, &DiagramOptions::default());
    let doc = parse(&svg);
    let deliveries = trace
        .events
        .iter()
        .filter(|e| matches!(e.kind, EventKind::Deliver { .. }))
        .count();
    let first = count_class(&doc, "sl-msg sl-deliver");
    let dups = count_class(&doc, "sl-msg sl-dup");
    assert_eq!(first + dups, deliveries);
    assert_eq!((first, dups), (3, 1));
    assert_eq!(count_class(&doc, "sl-msg sl-drop"), 2);
    assert_eq!(count_class(&doc, "sl-msg sl-inflight"), 0);
    let tips = tooltips(&doc);
    let has = |needle: &str| tips.iter().any(|t| t.contains(needle));
    assert!(has("duplicate delivered at 9ms"));
    assert!(has("DROPPED at 10ms: loss"));
    assert!(has("DROPPED at 18ms: receiver-down"));
    assert!(has("n2 crashed at 14ms"));
    assert!(has("n2 recovered at 25ms"));
    assert!(has("n2 down from 14ms to 25ms"));
    assert!(has("network at 12ms: partition {n0} | {n1,n2}"));
    assert!(has("request at n0, 1ms\nPropose(\"v<1>\")"));
    assert!(has("timer 7 fired at n0, 40ms"));
    assert!(has(
        "#1 n0 → n1, sent at 2ms, delivered at 5ms (after 3ms)\nVal(\"a<b&c\")"
    ));
}

#[test]
fn labels_and_tooltips_are_escaped() {
    let opts = DiagramOptions {
        title: "Run <1> & \"friends\"".to_string(),
        ..DiagramOptions::default()
    };
    let svg = lamport_svg(&toy_trace(), &opts);
    assert!(svg.contains("Decided(&quot;x&lt;y &amp; z&quot;)"));
    assert!(svg.contains("Run &lt;1&gt; &amp; &quot;friends&quot;"));
    assert!(!svg.contains("x<y"), "raw markup must never reach the SVG");
    assert!(!svg.contains("a<b&c"));
    let doc = parse(&svg);
    let texts: Vec<&str> = doc.descendants().filter_map(|n| n.text()).collect();
    assert!(
        texts.contains(&"Decided(\"x<y & z\")"),
        "the label reads back unescaped"
    );
    assert!(texts.contains(&"Run <1> & \"friends\""));
}

#[test]
fn long_labels_are_cut_but_tooltips_keep_everything() {
    let mut trace = toy_trace();
    let long = "y".repeat(100);
    trace.events.push(ev(
        41,
        EventKind::Indication {
            node: NodeId(2),
            ind: Ind::Decided(long.clone()),
        },
    ));
    let opts = DiagramOptions {
        max_label_chars: 12,
        ..DiagramOptions::default()
    };
    let svg = lamport_svg(&trace, &opts);
    let doc = parse(&svg);
    let labels: Vec<&str> = doc
        .descendants()
        .filter(|n| n.attribute("class") == Some("sl-lab sl-ind sl-l10"))
        .filter_map(|n| n.text())
        .collect();
    assert!(labels.contains(&"Decided(\"yy…"), "{labels:?}");
    assert!(tooltips(&doc).iter().any(|t| t.contains(&long)));
}

#[test]
fn time_window_leaves_out_events_outside_it() {
    let opts = DiagramOptions {
        from: Some(ms(10)),
        to: Some(ms(26)),
        ..DiagramOptions::default()
    };
    let svg = lamport_svg(&toy_trace(), &opts);
    let doc = parse(&svg);
    assert_eq!(count_class(&doc, "sl-msg sl-deliver"), 0);
    assert_eq!(count_class(&doc, "sl-msg sl-dup"), 0);
    assert_eq!(count_class(&doc, "sl-msg sl-drop"), 2);
    let tips = tooltips(&doc).join("\n");
    for absent in ["Propose", "x<y", "late", "timer 7", "#5 ", "#1 "] {
        assert!(!tips.contains(absent), "{absent} is outside the window");
    }
    for present in [
        "crashed at 14ms",
        "recovered at 25ms",
        "partition {n0}",
        "heal",
    ] {
        assert!(tips.contains(present), "{present} is inside the window");
    }
}

#[test]
fn arrows_crossing_the_window_edge_are_cut() {
    let opts = DiagramOptions {
        from: Some(ms(4)),
        to: Some(ms(32)),
        width: 1000,
        ..DiagramOptions::default()
    };
    let svg = lamport_svg(&toy_trace(), &opts);
    let doc = parse(&svg);
    // #1 and #2 were sent at 2ms, before the window, and arrive inside it; #5 leaves at 31ms
    // and arrives at 33ms, after it.
    assert_eq!(count_class(&doc, "sl-msg sl-deliver"), 3);
    let lines: Vec<(f64, f64)> = doc
        .descendants()
        .filter(|n| n.attribute("class") == Some("sl-line"))
        .filter(|n| {
            n.parent_element()
                .and_then(|g| g.attribute("class"))
                .is_some_and(|c| c.starts_with("sl-msg"))
        })
        .map(|n| {
            let d = n.attribute("d").unwrap();
            let nums: Vec<f64> = d
                .split(['M', 'L', 'Q', ' '])
                .filter(|s| !s.is_empty())
                .map(|s| s.parse().unwrap())
                .collect();
            (nums[0], nums[nums.len() - 2])
        })
        .collect();
    let (min_x, max_x) = lines.iter().fold((f64::MAX, f64::MIN), |(lo, hi), (a, b)| {
        (lo.min(*a).min(*b), hi.max(*a).max(*b))
    });
    let edge_left = lines
        .iter()
        .filter(|(a, _)| (*a - min_x).abs() < 0.01)
        .count();
    // #1, its duplicate and #2 start at the left edge.
    assert_eq!(edge_left, 3, "{lines:?}");
    assert_eq!(min_x, 64.0, "the window starts right of the node names");
    assert!(
        max_x <= 1000.0 - 40.0 + 0.01,
        "nothing is drawn past the right edge"
    );
}

#[test]
fn timers_can_be_hidden() {
    let opts = DiagramOptions {
        show_timers: false,
        ..DiagramOptions::default()
    };
    let svg = lamport_svg(&toy_trace(), &opts);
    assert!(!svg.contains("timer 7 fired"));
    assert!(!svg.contains("timer fired"), "nor in the legend");
}

#[test]
fn degenerate_traces_do_not_panic() {
    let empty: Trace<Toy> = Trace {
        events: vec![],
        facts: RunFacts::fault_free(0, Instant::ZERO),
    };
    parse(&lamport_svg(&empty, &DiagramOptions::default()));

    // Everything at time zero, a delivery whose send is missing, a node past facts.n, a send
    // never delivered, a recovery without a crash, and a window that is a single instant.
    let odd: Trace<Toy> = Trace {
        events: vec![
            deliver(0, 0, 1, 9, Msg::Ack(9)),
            send(0, 1, 4, 10, Msg::Ack(10)),
            send(0, 1, 1, 11, Msg::Ack(11)),
            deliver(0, 1, 1, 11, Msg::Ack(11)),
            ev(0, EventKind::Recover { node: NodeId(1) }),
        ],
        facts: RunFacts::fault_free(2, Instant::ZERO),
    };
    let svg = lamport_svg(&odd, &DiagramOptions::default());
    let doc = parse(&svg);
    assert_eq!(count_class(&doc, "sl-name"), 5);
    assert_eq!(count_class(&doc, "sl-msg sl-inflight"), 1);
    let point = DiagramOptions {
        from: Some(ms(3)),
        to: Some(ms(3)),
        ..DiagramOptions::default()
    };
    parse(&lamport_svg(&toy_trace(), &point));
    let inverted = DiagramOptions {
        from: Some(ms(30)),
        to: Some(ms(3)),
        ..DiagramOptions::default()
    };
    parse(&lamport_svg(&toy_trace(), &inverted));
}

#[test]
fn big_runs_stay_bounded_and_deterministic() {
    let mut rng = Prng::new(1);
    let mut events = Vec::new();
    for id in 0..500u64 {
        let t = rng.below(10_000_000_000);
        let from = rng.below(10) as u32;
        let to = (from + 1 + rng.below(9) as u32) % 10;
        events.push(Event {
            time: Instant(t),
            kind: EventKind::Send {
                from: NodeId(from),
                to: NodeId(to),
                id,
                msg: Msg::Ack(id as u32),
            },
        });
        let at = Instant(t + 1_000_000 + rng.below(100_000_000));
        events.push(Event {
            time: at,
            kind: EventKind::Deliver {
                from: NodeId(from),
                to: NodeId(to),
                id,
                msg: Msg::Ack(id as u32),
            },
        });
    }
    events.sort_by_key(|e| e.time);
    let trace: Trace<Toy> = Trace {
        events,
        facts: RunFacts::fault_free(10, Instant(10_200_000_000)),
    };
    let svg = lamport_svg(&trace, &DiagramOptions::default());
    let doc = parse(&svg);
    let width: f64 = doc
        .root_element()
        .attribute("width")
        .unwrap()
        .parse()
        .unwrap();
    assert!((800.0..=6000.0).contains(&width), "{width}");
    assert_eq!(
        width, 6000.0,
        "a thousand distinct times need the widest page"
    );
    assert_eq!(count_class(&doc, "sl-msg sl-deliver"), 500);
    assert_eq!(svg, lamport_svg(&trace, &DiagramOptions::default()));
}

#[test]
fn escape_xml_escapes_the_five_entities() {
    assert_eq!(
        escape_xml("<a href='x'>&\"</a>"),
        "&lt;a href=&apos;x&apos;&gt;&amp;&quot;&lt;/a&gt;"
    );
    assert_eq!(escape_xml("plain"), "plain");
}
