//! Chaos: a random fault schedule drawn from the run's seed (`synod sim|soak … --chaos`).
//!
//! [`chaos`]`(n, seed, until)` derives its own stream from the seed ([`Prng::derive`] with
//! [`CHAOS_STREAM`]), so the same seed gives the same faults on every machine and the faults do
//! not reshuffle the network's, the nodes' or the workload's draws. Every fault ends by `until`
//! (by default 60% of the run, [`default_until`]), which leaves the rest of the run fault-free:
//! that is where liveness ("progress once the faults stop") is judged.
//!
//! What one schedule holds, for `n` nodes and a fault window `W = [0, until]`:
//!
//! - **crash/recovery pairs**: between n and 2n of them, spread over W (the k-th in the k-th
//!   slice of W), each of a node that is up at that time, down for W/40 to W/6, recovering
//!   from stable storage by `until`. About one crash in four is a *partial* crash: it strikes
//!   part-way through the node's next sending step (a random subset of that step's messages
//!   leaves). A partial crash that only strikes after its node's recovery time leaves the node
//!   down for good, so at most f = ⌊(n−1)/2⌋ crashes are partial: a majority is up once the
//!   faults stop, whatever happens;
//! - **partitions**: two or three, each lasting W/20 to W/4 within W: a minority (1 to f nodes)
//!   cut off from the majority (both ways), the same cut one way only (either direction), or,
//!   for n ≥ 3, a split into three groups none of which is a majority;
//! - **omission windows**: one or two, a random node failing to send (or to receive) 10% to
//!   50% of its messages for W/20 to W/4: message loss confined to the fault window.
//!
//! Random loss and duplication are the network's (`--loss`, `--dup`): the network
//! configuration has no time window, so they stay constant for the whole run, before and after
//! the faults (the protocols must retransmit anyway). Clocks are left exact.
//!
//! The 1,000-seed soaks of the consensus protocols (about 100 seeds run in CI):
//!
//! ```text
//! synod soak raft --nodes 5 --chaos --loss 0.05 --dup 0.05 --seeds 1000
//! synod soak multi-paxos --nodes 5 --chaos --loss 0.05 --dup 0.05 --seeds 1000
//! ```

use synod_core::{Instant, NodeId, Prng, Ratio};
use synod_sim::{Crash, Cut, FaultSchedule, Omission, OmissionKind, Partition, Recover};

/// The stream [`chaos`] derives from the run's seed (ASCII "CHAOS").
pub const CHAOS_STREAM: u64 = 0x43_4841_4f53;

/// The default end of the chaos faults: 60% of the run (`until`), leaving 40% for progress.
pub fn default_until(until: Instant) -> Instant {
    Instant(until.0 / 5 * 3)
}

/// The model header's `faults` value for chaos ending at `until`: `chaos(seed=S,until=T)`
/// (`seed=each` for a soak, which draws the faults from each seed in turn).
pub fn header_value(seed: Option<u64>, until: Instant) -> String {
    match seed {
        Some(s) => format!("chaos(seed={s},until={until})"),
        None => format!("chaos(seed=each,until={until})"),
    }
}

/// A uniform draw in `lo..=hi` nanoseconds (`lo` if the range is empty).
fn span(prng: &mut Prng, lo: u64, hi: u64) -> u64 {
    if hi <= lo {
        lo
    } else {
        prng.range_inclusive(lo, hi)
    }
}

/// A random fault schedule for `n` nodes, drawn from `seed`, every fault over by `until` (see
/// the [module documentation](self)). Times are whole milliseconds, so [`describe`] prints
/// the schedule exactly. Empty if `n` is zero or `until` is below a millisecond.
pub fn chaos(n: usize, seed: u64, until: Instant) -> FaultSchedule {
    let mut s = FaultSchedule::default();
    let w = until.0 / 1_000_000; // the window, in milliseconds
    if n == 0 || w == 0 {
        return s;
    }
    let ms = Instant::from_millis;
    let mut prng = Prng::derive(seed, CHAOS_STREAM);
    let f = (n - 1) / 2;

    // Crash/recovery pairs, the k-th in the k-th slice of the window.
    let count = n as u64 + prng.below(n as u64 + 1);
    let slice = w / count;
    let mut back_at = vec![0u64; n]; // when each node is up again
    let mut partial = 0;
    for k in 0..count {
        let at = k * slice + prng.below(slice / 2 + 1);
        if at >= w {
            continue;
        }
        let up: Vec<usize> = (0..n).filter(|&i| back_at[i] <= at).collect();
        if up.is_empty() {
            continue;
        }
        let node = up[prng.below(up.len() as u64) as usize];
        let down = span(&mut prng, (w / 40).max(1), (w / 6).max(1));
        let back = (at + down).min(w);
        let partial_send = partial < f && prng.below(4) == 0;
        if partial_send {
            partial += 1;
        }
        s.crashes.push(Crash {
            node: NodeId(node as u32),
            at: ms(at),
            partial_send,
        });
        s.recoveries.push(Recover {
            node: NodeId(node as u32),
            at: ms(back),
        });
        back_at[node] = back + w / 100;
    }

    // Partitions.
    if n >= 2 {
        for _ in 0..2 + prng.below(2) {
            let from = prng.below((w / 5 * 4).max(1));
            let until = (from + span(&mut prng, (w / 20).max(1), (w / 4).max(1))).min(w);
            if until <= from {
                continue;
            }
            let mut nodes: Vec<NodeId> = NodeId::all(n).collect();
            prng.shuffle(&mut nodes);
            let kind = prng.below(4);
            let cut = if kind == 3 && n >= 3 {
                // Three groups, none a majority.
                let (a, b) = (n / 3, 2 * n / 3);
                Cut::Groups(vec![
                    nodes[..a].to_vec(),
                    nodes[a..b].to_vec(),
                    nodes[b..].to_vec(),
                ])
            } else {
                let size = 1 + prng.below(f.max(1) as u64) as usize;
                let minority = nodes[..size].to_vec();
                let rest = nodes[size..].to_vec();
                if kind == 2 {
                    if prng.below(2) == 0 {
                        Cut::OneWay {
                            from: rest,
                            to: minority,
                        }
                    } else {
                        Cut::OneWay {
                            from: minority,
                            to: rest,
                        }
                    }
                } else {
                    Cut::Groups(vec![minority, rest])
                }
            };
            s.partitions.push(Partition {
                cut,
                from: ms(from),
                until: ms(until),
            });
        }
    }

    // Omission windows: loss confined to the fault window.
    for _ in 0..1 + prng.below(2) {
        let from = prng.below((w / 5 * 4).max(1));
        let until = (from + span(&mut prng, (w / 20).max(1), (w / 4).max(1))).min(w);
        if until <= from {
            continue;
        }
        let node = NodeId(prng.below(n as u64) as u32);
        let kind = if prng.below(2) == 0 {
            OmissionKind::Send
        } else {
            OmissionKind::Receive
        };
        let ppm = prng.range_inclusive(100_000, 500_000) as u32;
        s.omissions.push(Omission {
            node,
            kind,
            probability: Ratio::from_ppm(ppm),
            from: ms(from),
            until: ms(until),
        });
    }
    s
}

/// The schedule as command-line fault specs (`--crash n1@1.2s:partial`, `--recover n1@2s`,
/// `--partition n0|n1,n2@1s..2s`, `--omission n2:send=0.25@3s..4s`, …): with them instead of
/// `--chaos`, the same seed runs the same faults.
pub fn describe(s: &FaultSchedule) -> Vec<String> {
    let nodes = |v: &[NodeId]| {
        v.iter()
            .map(|x| x.to_string())
            .collect::<Vec<_>>()
            .join(",")
    };
    let mut out = Vec::new();
    for c in &s.crashes {
        let partial = if c.partial_send { ":partial" } else { "" };
        out.push(format!("--crash {}@{}{partial}", c.node, c.at));
    }
    for r in &s.recoveries {
        out.push(format!("--recover {}@{}", r.node, r.at));
    }
    for p in &s.partitions {
        let what = match &p.cut {
            Cut::Groups(g) => g.iter().map(|x| nodes(x)).collect::<Vec<_>>().join("|"),
            Cut::OneWay { from, to } => format!("{}->{}", nodes(from), nodes(to)),
        };
        out.push(format!("--partition '{what}@{}..{}'", p.from, p.until));
    }
    for o in &s.omissions {
        let kind = match o.kind {
            OmissionKind::Send => "send",
            OmissionKind::Receive => "receive",
        };
        out.push(format!(
            "--omission {}:{kind}={}@{}..{}",
            o.node, o.probability, o.from, o.until
        ));
    }
    out
}
