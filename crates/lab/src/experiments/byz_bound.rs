//! `byz-bound`: Byzantine agreement with oral messages needs n > 3f.
//!
//! Lamport, Shostak and Pease's OM(m) ([`OralMessages`]) on n processes with f traitors, two
//! ways. *Exhaustive* (n = 3 and n = 4, f = 1, OM(1)): the round explorer
//! (`synod_check::rounds`) makes every placement of the traitors Byzantine and tries, for every
//! message a traitor sends, every value of the domain and silence, independently per receiver
//! ([`OralMessages::forgeries`]; that covers every Byzantine behaviour towards OM's receivers).
//! *Strategies* (also n = 6 and n = 7, f = 2, OM(2), where exhaustive enumeration is out of
//! reach): every placement of the traitors, every assignment of [`TraitorStrategy::library`] to
//! them and every order, each run once by [`OralMessages::run`]. Theory: violations of IC1/IC2
//! at n = 3f, none at n = 3f + 1. Also the message count of OM(m) against
//! (n−1) + (n−1)(n−2) + …, measured.

use crate::experiment::{columns, Claim, ClaimVerdict, ExpOptions, ExperimentReport, Progress};
use crate::LabError;
use serde_json::{json, Value as Json};
use std::collections::BTreeSet;
use synod_check::rounds::{RoundExplorer, RoundProperty, RoundReport, RoundView};
use synod_core::{ModelHeader, NodeId};
use synod_protocols::consensus::byzantine::{
    self, message_count, Decision, General, OralMessages, TraitorStrategy, COMMANDER,
};

/// The outcome of each general at an explorer state. Faulty, so not loyal: the explorer's
/// traitors, the configuration's, and processes the crash adversary crashed.
pub fn generals(v: &RoundView<'_, OralMessages>, om: &OralMessages) -> Vec<General> {
    NodeId::all(v.n())
        .map(|p| General {
            node: p,
            loyal: v.loyal(p) && !v.crashed(p) && !om.is_traitor(p),
            decisions: v
                .indications(p)
                .iter()
                .map(|&(r, Decision(x))| (r, x))
                .collect(),
        })
        .collect()
}

/// The round explorer for `om` on `n` processes with IC1, IC2 (always) and termination (at the
/// end), up to round m + 1; `traitors` (possibly none) are Byzantine, every forgery of their
/// messages explored.
pub fn explorer(om: &OralMessages, n: usize, traitors: &[NodeId]) -> RoundExplorer<OralMessages> {
    let (a, b, c, d) = (om.clone(), om.clone(), om.clone(), om.clone());
    let mut x = RoundExplorer::new(om.clone(), n)
        .max_round(om.m + 1)
        .property(RoundProperty::always("IC1", move |v| {
            byzantine::ic1(&generals(v, &a))
        }))
        .property(RoundProperty::always("IC2", move |v| {
            byzantine::ic2(b.order, &generals(v, &b))
        }))
        .property(RoundProperty::at_end("termination", move |v| {
            byzantine::termination(&generals(v, &c))
        }));
    if !traitors.is_empty() {
        x = x.byzantine(traitors.iter().copied(), move |_, _, _, honest| {
            d.forgeries(honest)
        });
    }
    x
}

/// What a sweep found.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Sweep {
    /// Configurations tried (placements × orders, × strategy assignments).
    pub configs: u64,
    /// Executions explored (exhaustive: the explorer's count, up to the first violation of each
    /// configuration; strategies: one per configuration).
    pub executions: u128,
    /// Distinct states visited (exhaustive only).
    pub states: u64,
    /// Configurations with a violation.
    pub violating: u64,
    /// The properties violated.
    pub properties: BTreeSet<String>,
    /// The first violation, described.
    pub example: Option<String>,
}

impl Sweep {
    fn record(&mut self, property: &str, example: impl FnOnce() -> String) {
        self.violating += 1;
        self.properties.insert(property.to_string());
        if self.example.is_none() {
            self.example = Some(example());
        }
    }

    /// The properties violated, joined by `+`, or `-`.
    pub fn property_list(&self) -> String {
        if self.properties.is_empty() {
            "-".into()
        } else {
            self.properties
                .iter()
                .cloned()
                .collect::<Vec<_>>()
                .join("+")
        }
    }
}

/// Every `k`-subset of `0..n`, in lexicographic order.
pub fn placements(n: usize, k: usize) -> Vec<Vec<NodeId>> {
    fn go(n: usize, k: usize, start: usize, cur: &mut Vec<NodeId>, out: &mut Vec<Vec<NodeId>>) {
        if cur.len() == k {
            out.push(cur.clone());
            return;
        }
        for i in start..n {
            cur.push(NodeId(i as u32));
            go(n, k, i + 1, cur, out);
            cur.pop();
        }
    }
    let mut out = Vec::new();
    go(n, k, 0, &mut Vec::new(), &mut out);
    out
}

/// The orders worth trying: one if the commander is a traitor (its messages are forged or
/// rewritten anyway), every value otherwise.
fn orders(traitors: &[NodeId], values: u8) -> Vec<u8> {
    if traitors.contains(&COMMANDER) {
        vec![0]
    } else {
        (0..values).collect()
    }
}

/// Explores `om` with Byzantine `traitors` on `n` processes.
pub fn explore(om: &OralMessages, n: usize, traitors: &[NodeId]) -> RoundReport<Decision> {
    explorer(om, n, traitors).explore()
}

/// The exhaustive sweep: OM(`m`) (or the canary if `keep_own`) on `n` processes, every placement
/// of `f` traitors and every order, every forgery of the traitors' messages.
pub fn exhaustive(n: usize, f: usize, m: u32, values: u8, keep_own: bool) -> Sweep {
    let mut sweep = Sweep::default();
    for traitors in placements(n, f) {
        for order in orders(&traitors, values) {
            let base = if keep_own {
                OralMessages::canary_keep_own(m, 0)
            } else {
                OralMessages::new(m, 0)
            };
            let om = OralMessages {
                order,
                ..base.with_values(values)
            };
            let r = explore(&om, n, &traitors);
            sweep.configs += 1;
            sweep.executions += r.executions;
            sweep.states += r.states;
            if let Some(c) = &r.violation {
                sweep.record(&c.property, || {
                    format!("traitors {traitors:?}, order {order}: {c}")
                });
            }
        }
    }
    sweep
}

/// The strategy sweep: OM(`m`) on `n` processes, binary values, every placement of `f`
/// traitors, every assignment of the [`TraitorStrategy::library`] to them (a `LieToSome` set
/// holding the traitor itself is skipped as the same as the set without it) and every order,
/// each run once.
pub fn strategies(n: usize, f: usize, m: u32) -> Sweep {
    let lib = TraitorStrategy::library(n, 2);
    let mut sweep = Sweep::default();
    for traitors in placements(n, f) {
        // Each traitor's distinct strategies.
        let options: Vec<Vec<&TraitorStrategy>> = traitors
            .iter()
            .map(|&t| {
                lib.iter()
                    .filter(|s| !matches!(s, TraitorStrategy::LieToSome(set) if set.contains(t)))
                    .collect()
            })
            .collect();
        let mut pick = vec![0usize; traitors.len()];
        loop {
            for order in orders(&traitors, 2) {
                let mut om = OralMessages::new(m, order);
                for (k, &t) in traitors.iter().enumerate() {
                    om = om.traitor(t, options[k][pick[k]].clone());
                }
                let run = om.run(n);
                sweep.configs += 1;
                sweep.executions += 1;
                if let Err(why) = om.judge(&run.generals) {
                    let property = why.split(':').next().unwrap_or("?").to_string();
                    sweep.record(&property, || {
                        let decided: Vec<String> = run
                            .generals
                            .iter()
                            .filter(|g| g.loyal && g.node != COMMANDER)
                            .map(|g| format!("{}={}", g.node, g.decisions[0].1))
                            .collect();
                        format!(
                            "order {order}, traitors {:?}: loyal lieutenants decide {} ({why})",
                            om.traitors,
                            decided.join(", ")
                        )
                    });
                }
            }
            // Next assignment (odometer, last traitor fastest).
            let mut k = pick.len();
            loop {
                if k == 0 {
                    break;
                }
                k -= 1;
                pick[k] += 1;
                if pick[k] < options[k].len() {
                    break;
                }
                pick[k] = 0;
            }
            if pick.iter().all(|&p| p == 0) {
                break;
            }
        }
    }
    sweep
}

/// One row of the table.
struct Row {
    n: usize,
    f: usize,
    m: u32,
    method: &'static str,
    sweep: Sweep,
}

/// Runs the experiment.
pub fn run(_opts: &ExpOptions, progress: &mut dyn Progress) -> Result<ExperimentReport, LabError> {
    let plan: [(usize, usize, u32, &'static str); 6] = [
        (3, 1, 1, "exhaustive"),
        (3, 1, 1, "strategies"),
        (4, 1, 1, "exhaustive"),
        (4, 1, 1, "strategies"),
        (6, 2, 2, "strategies"),
        (7, 2, 2, "strategies"),
    ];
    progress.set_total(plan.len() as u64 + 1);
    let mut rows = Vec::new();
    for (n, f, m, method) in plan {
        let sweep = if method == "exhaustive" {
            exhaustive(n, f, m, 2, false)
        } else {
            strategies(n, f, m)
        };
        rows.push(Row {
            n,
            f,
            m,
            method,
            sweep,
        });
        progress.advance(1);
    }
    // The three generals, side by side: OM's rule and the canary's, each traitor position.
    let three = |keep_own: bool, traitor: u32| {
        let om = if keep_own {
            OralMessages::canary_keep_own(1, 1)
        } else {
            OralMessages::new(1, 1)
        };
        explore(&om, 3, &[NodeId(traitor)])
    };
    let (om_cmd, om_lt) = (three(false, 0), three(false, 2));
    let (canary_cmd, canary_lt) = (three(true, 0), three(true, 2));
    // Message counts, measured against the formula.
    let sizes = [4usize, 7, 10, 13];
    let mut counts_ok = true;
    let mut counts = Vec::new();
    for m in [1u32, 2] {
        let cells: Vec<String> = sizes
            .iter()
            .map(|&n| {
                let measured = OralMessages::new(m, 1).run(n).messages;
                counts_ok &= measured == message_count(n, m);
                format!("n={n}: {measured}")
            })
            .collect();
        counts.push(format!("OM({m}) {}", cells.join(", ")));
    }
    progress.advance(1);

    let matches = rows.iter().all(|r| {
        if r.n == 3 * r.f {
            r.sweep.violating > 0
        } else {
            r.sweep.violating == 0 && r.n > 3 * r.f
        }
    });
    let three_ok = om_cmd.holds()
        && om_cmd.complete
        && om_lt
            .violation
            .as_ref()
            .is_some_and(|c| c.property == "IC2")
        && canary_lt.holds()
        && canary_cmd
            .violation
            .as_ref()
            .is_some_and(|c| c.property == "IC1");
    let ok = matches && three_ok && counts_ok;
    let example = |n: usize| {
        rows.iter()
            .find(|r| r.n == n && r.sweep.example.is_some())
            .and_then(|r| r.sweep.example.clone())
            .unwrap_or_else(|| "none".into())
    };
    let one_line = |s: String| s.lines().map(str::trim).collect::<Vec<_>>().join("; ");
    let describe = |r: &RoundReport<Decision>| match &r.violation {
        None => format!("no violation in {} executions", r.executions),
        Some(c) => format!("{} violated ({})", c.property, c.message),
    };
    let table: Vec<Vec<Json>> = rows
        .iter()
        .map(|r| {
            vec![
                json!(r.n),
                json!(r.f),
                json!(r.m),
                json!(r.method),
                json!(r.sweep.configs),
                json!(r.sweep.executions as u64),
                if r.method == "exhaustive" {
                    json!(r.sweep.states)
                } else {
                    Json::Null
                },
                json!(r.sweep.violating),
                json!(r.sweep.property_list()),
            ]
        })
        .collect();
    let model = ModelHeader::new()
        .with("timing", "lockstep rounds (m+1 message rounds)")
        .with("failures", "byzantine (up to f colluding traitors)")
        .with(
            "links",
            "perfect, oral messages (receiver knows the sender, no signatures)",
        )
        .with("n", "3, 4 (f=1, OM(1)); 6, 7 (f=2, OM(2))")
        .with("values", "binary, default 0");
    Ok(ExperimentReport {
        id: "byz-bound".into(),
        title: "Byzantine agreement with oral messages (OM(m)): violations at n = 3f, none at n = 3f+1".into(),
        model,
        columns: columns(&[
            ("n", "n"),
            ("f", "f"),
            ("m", "m"),
            ("method", "method"),
            ("configurations", "configs"),
            ("executions", "executions"),
            ("states", "states"),
            ("violating", "violating configs"),
            ("property", "property violated"),
        ]),
        rows: table,
        claim: Claim {
            text: "Byzantine agreement with oral messages needs n > 3f: violations found for n = 3f (n=3,f=1; n=6,f=2), none for n = 3f+1 (n=4,f=1; n=7,f=2)".into(),
            verdict: if ok { ClaimVerdict::Holds } else { ClaimVerdict::Unexpected },
        },
        read: "Lamport, Shostak & Pease 1982 (OM(m), the three generals); Lynch ch. 6 (§6.3 EIG, §6.4 the n > 3f lower bound); Attiya & Welch ch. 5 (§5.2); CGR ch. 5".into(),
        notes: vec![
            "exhaustive: every placement of the f traitors, every order of a loyal commander, and for each traitor message to each loyal receiver every value and silence (the round explorer's Byzantine enumeration); configs = placements × orders; the explorer stops at a configuration's first violation".into(),
            format!("strategies: every placement, every order and every assignment of the library (Silent, Equivocate by receiver parity, LieToSome(S) for every set S of lieutenants): {} strategies per traitor at n=6, {} at n=7; one run each", TraitorStrategy::library(6, 2).len(), TraitorStrategy::library(7, 2).len()),
            format!(
                "three generals (n=3, OM(1), order 1 ≠ default): traitorous commander: {}; traitorous lieutenant: {}. Canary 'no majority: keep the commander's value': traitorous lieutenant: {}; traitorous commander: {}. Each rule fails one of the two indistinguishable cases",
                describe(&om_cmd),
                describe(&om_lt),
                describe(&canary_lt),
                describe(&canary_cmd),
            ),
            format!("first violation at n=3: {}", one_line(example(3))),
            format!("first violation at n=6: {}", example(6)),
            format!(
                "messages of OM(m), (n-1)+(n-1)(n-2)+… = Θ(n^(m+1)), measured{}: {}",
                if counts_ok { " = formula" } else { " ≠ formula (!)" },
                counts.join("; ")
            ),
        ],
        figures: vec![],
    })
}
