//! Draws a synthetic run (10 nodes, about 1,000 events over 10 s, with loss, duplicates, a
//! partition and a crash), two plots and a report that holds them, for looking at by eye:
//!
//! ```text
//! cargo run -p synod-viz --example gallery -- /tmp
//! ```
//!
//! writes `diagram.svg`, `diagram-window.svg`, `plot.svg`, `plot-log.svg` and `report.html` into
//! the directory given (default `/tmp`).

use serde::{Deserialize, Serialize};
use std::path::PathBuf;
use synod_core::*;
use synod_viz::{lamport_svg, DiagramOptions, Plot, Report, Series};

#[derive(Clone, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
enum Msg {
    Prepare {
        ballot: u32,
    },
    Promise {
        ballot: u32,
        accepted: Option<String>,
    },
    Accept {
        ballot: u32,
        value: String,
    },
    Accepted {
        ballot: u32,
    },
    Heartbeat,
}

#[derive(Clone, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
enum Req {
    Propose(String),
}

#[derive(Clone, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
enum Ind {
    Decide { slot: u32, value: String },
    Suspect(NodeId),
}

#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
enum Timer {
    Heartbeat,
}

struct Synthetic;

impl Protocol for Synthetic {
    type Msg = Msg;
    type Timer = Timer;
    type Request = Req;
    type Indication = Ind;
    type State = ();
    type Durable = ();
    fn init(&self, _: &mut Ctx<'_, Self>) {}
    fn on_message(&self, _: &mut (), _: NodeId, _: Msg, _: &mut Ctx<'_, Self>) {}
    fn on_timer(&self, _: &mut (), _: Timer, _: &mut Ctx<'_, Self>) {}
    fn on_request(&self, _: &mut (), _: Req, _: &mut Ctx<'_, Self>) {}
}

const N: u32 = 10;

fn ms(m: u64) -> Instant {
    Instant::ZERO + Duration::from_millis(m)
}

/// Is `node` down at `t`? (n3 is down from 4 s to 6 s.)
fn down(node: NodeId, t: Instant) -> bool {
    node == NodeId(3) && t >= ms(4000) && t < ms(6000)
}

/// Are `a` and `b` separated at `t`? ({n0,n1,n2} | rest from 2 s to 3 s.)
fn separated(a: NodeId, b: NodeId, t: Instant) -> bool {
    t >= ms(2000) && t < ms(3000) && (a.0 < 3) != (b.0 < 3)
}

fn random_msg(rng: &mut Prng, k: u32) -> Msg {
    match rng.below(5) {
        0 => Msg::Prepare { ballot: k },
        1 => Msg::Promise {
            ballot: k,
            accepted: k.is_multiple_of(3).then(|| format!("v{}", k / 3)),
        },
        2 => Msg::Accept {
            ballot: k,
            value: format!("x<y&z#{k}"),
        },
        3 => Msg::Accepted { ballot: k },
        _ => Msg::Heartbeat,
    }
}

fn synthetic_trace() -> Trace<Synthetic> {
    let mut rng = Prng::new(7);
    let mut events: Vec<Event<Synthetic>> = Vec::new();
    let mut push = |time, kind| events.push(Event { time, kind });
    for node in NodeId::all(N as usize) {
        push(Instant::ZERO, EventKind::Init { node });
    }
    let mut id: MsgId = 0;
    for k in 0..400u32 {
        let t = Instant(rng.below(9_800_000_000));
        let from = NodeId(rng.below(u64::from(N)) as u32);
        if down(from, t) {
            continue;
        }
        let mut to = NodeId(rng.below(u64::from(N - 1)) as u32);
        if to >= from {
            to = NodeId(to.0 + 1);
        }
        id += 1;
        let msg = random_msg(&mut rng, k);
        push(
            t,
            EventKind::Send {
                from,
                to,
                id,
                msg: msg.clone(),
            },
        );
        let arrive = t + Duration::from_millis(5 + rng.below(120));
        if separated(from, to, t) {
            push(
                t,
                EventKind::Drop {
                    from,
                    to,
                    id,
                    reason: DropReason::Partition,
                },
            );
        } else if rng.below(100) < 3 {
            push(
                t,
                EventKind::Drop {
                    from,
                    to,
                    id,
                    reason: DropReason::Loss,
                },
            );
        } else if down(to, arrive) {
            push(
                arrive,
                EventKind::Drop {
                    from,
                    to,
                    id,
                    reason: DropReason::ReceiverDown,
                },
            );
        } else {
            push(
                arrive,
                EventKind::Deliver {
                    from,
                    to,
                    id,
                    msg: msg.clone(),
                },
            );
            if rng.below(100) < 3 {
                push(t, EventKind::Duplicate { from, to, id });
                let again = arrive + Duration::from_millis(10 + rng.below(200));
                push(again, EventKind::Deliver { from, to, id, msg });
            }
        }
    }
    for k in 0..40u32 {
        let t = Instant(rng.below(9_900_000_000));
        let node = NodeId(rng.below(u64::from(N)) as u32);
        if down(node, t) {
            continue;
        }
        match k % 4 {
            0 => push(
                t,
                EventKind::Request {
                    node,
                    req: Req::Propose(format!("cmd-{k}")),
                },
            ),
            1 | 2 => push(
                t,
                EventKind::Indication {
                    node,
                    ind: Ind::Decide {
                        slot: k,
                        value: format!("cmd-{}<{}>", k, k * 7),
                    },
                },
            ),
            _ => push(
                t,
                EventKind::Indication {
                    node,
                    ind: Ind::Suspect(NodeId(3)),
                },
            ),
        }
    }
    for node in NodeId::all(N as usize) {
        for s in 0..10u64 {
            let t = ms(s * 1000 + 500 + u64::from(node.0) * 13);
            if !down(node, t) {
                push(
                    t,
                    EventKind::Timer {
                        node,
                        timer: Timer::Heartbeat,
                    },
                );
            }
        }
    }
    push(
        ms(2000),
        EventKind::Network {
            note: "partition {n0,n1,n2} | {n3..n9}".into(),
        },
    );
    push(
        ms(3000),
        EventKind::Network {
            note: "heal".into(),
        },
    );
    push(ms(4000), EventKind::Crash { node: NodeId(3) });
    push(ms(6000), EventKind::Recover { node: NodeId(3) });
    push(ms(6000), EventKind::Persist { node: NodeId(3) });
    events.sort_by_key(|e| e.time);
    let mut facts = RunFacts::fault_free(N as usize, ms(10_000));
    facts.faults_end = ms(6000);
    facts.ever_crashed[3] = true;
    Trace { events, facts }
}

fn plots() -> (Plot, Plot) {
    let load: Vec<f64> = (1..=12).map(|k| f64::from(k) * 250.0).collect();
    let curve = |base: f64, knee: f64| -> Vec<(f64, f64)> {
        load.iter()
            .map(|&x| (x, base + base * (x / knee).powi(3)))
            .collect()
    };
    let mut noisy = Prng::new(3);
    let scatter: Vec<(f64, f64)> = (0..60)
        .map(|_| {
            let x = 250.0 + noisy.unit_f64() * 2750.0;
            (x, 4.0 + x / 300.0 + noisy.unit_f64() * 6.0)
        })
        .collect();
    let linear = Plot::new(
        "p99 commit latency vs. offered load",
        "offered load (ops/s)",
        "p99 latency (ms)",
    )
    .series(Series::line_with_points("multi-paxos", curve(6.0, 2200.0)))
    .series(Series::line("raft", curve(5.0, 2600.0)))
    .series(Series::scatter("single runs", scatter));
    let sizes: Vec<f64> = (0..8).map(|k| 2f64.powi(k + 1)).collect();
    let log = Plot::new("Messages per decision", "cluster size n", "messages")
        .series(Series::line_with_points(
            "all-to-all: n²",
            sizes.iter().map(|&n| (n, n * n)).collect(),
        ))
        .series(Series::line_with_points(
            "leader-based: 2n",
            sizes.iter().map(|&n| (n, 2.0 * n)).collect(),
        ))
        .series(Series::line(
            "with a NaN",
            vec![(2.0, f64::NAN), (4.0, 10.0), (64.0, 500.0)],
        ))
        .log_axes(true, true);
    (linear, log)
}

fn report(diagram: &str, window: &str, linear: &Plot, log: &Plot) -> Report {
    let mut r = Report::new("synod gallery: pictures of a synthetic run");
    r.paragraph(
        "A synthetic run of 10 nodes over 10 s: random messages with 3% loss and 3% duplicates, \
         a partition {n0,n1,n2} | rest from 2 s to 3 s, and n3 crashed from 4 s to 6 s. \
         Escaping check: <b>not bold</b> & \"quoted\".",
    );
    r.section("Model")
        .preformatted("model: asynchronous network, crash-recovery\nnodes: 10   seed: 7\nloss: 3%   dup: 3%   delay: 5ms..125ms");
    r.section("Space-time diagram")
        .paragraph("The whole run; scroll sideways. Hover any mark for its details.")
        .svg(diagram)
        .subheading("Zoom: 3.9 s to 4.6 s")
        .svg(window);
    r.section("Plots").svg(&linear.to_svg()).svg(&log.to_svg());
    let headers: Vec<String> = ["protocol", "n", "p50", "p99", "msgs/decision", "notes"]
        .iter()
        .map(|s| s.to_string())
        .collect();
    let rows: Vec<Vec<String>> = [
        ["multi-paxos", "5", "4.2ms", "11.9ms", "8", "stable leader"],
        ["raft", "5", "3.9ms", "10.1ms", "8", "pre-vote on"],
        ["epaxos", "5", "5.0ms", "17.3ms", "12", "conflicts < 2%"],
        [
            "flooding",
            "5",
            "1.1ms",
            "3.0ms",
            "20",
            "no ordering & no dedup",
        ],
    ]
    .iter()
    .map(|row| row.iter().map(|s| s.to_string()).collect())
    .collect();
    r.section("Results").table(&headers, &rows);
    r.section("Claims")
        .claim("Agreement: no two nodes decide differently.", "HOLDS")
        .claim(
            "Termination under a partition without a majority side.",
            "VIOLATED as expected",
        )
        .claim("Validity: every decided value was proposed.", "UNEXPECTED");
    r
}

fn main() -> std::io::Result<()> {
    let dir = PathBuf::from(
        std::env::args()
            .nth(1)
            .unwrap_or_else(|| "/tmp".to_string()),
    );
    let trace = synthetic_trace();
    println!("{} events", trace.events.len());
    let opts = DiagramOptions {
        title: "Synthetic run: 10 nodes, 10 s".to_string(),
        ..DiagramOptions::default()
    };
    let diagram = lamport_svg(&trace, &opts);
    let window = lamport_svg(
        &trace,
        &DiagramOptions {
            title: "Synthetic run, 3.9 s to 4.6 s".to_string(),
            from: Some(ms(3900)),
            to: Some(ms(4600)),
            ..DiagramOptions::default()
        },
    );
    let (linear, log) = plots();
    std::fs::write(dir.join("diagram.svg"), &diagram)?;
    std::fs::write(dir.join("diagram-window.svg"), &window)?;
    std::fs::write(dir.join("plot.svg"), linear.to_svg())?;
    std::fs::write(dir.join("plot-log.svg"), log.to_svg())?;
    std::fs::write(
        dir.join("report.html"),
        report(&diagram, &window, &linear, &log).to_html(),
    )?;
    println!(
        "wrote diagram.svg, diagram-window.svg, plot.svg, plot-log.svg, report.html to {}",
        dir.display()
    );
    Ok(())
}
