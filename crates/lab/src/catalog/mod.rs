//! The protocol catalog: every protocol `synod sim` can run, grouped by topic.
//!
//! Each entry binds a protocol from `synod-protocols` to its properties, its default workload
//! and its default timing model. Canaries (deliberately broken variants) are listed too, so a
//! user can watch a property check catch them.
//!
//! The consensus entries (`raft`, `multi-paxos`, `paxos`, and the canary
//! `multi-paxos-skip-repropose`) serve [`RegisterClients`]: register writes and reads sent to
//! random servers, an early wave during the faults and a late wave after them (Raft's
//! redirects are retried at the leader they name). They are judged on their safety properties
//! and, except single-decree Paxos (no retransmission, so no liveness promise),
//! [`progress_after_faults`]; Multi-Paxos also on its own `progress` (every request at a server
//! that stays up is answered). Their default timing is partially synchronous with GST when the
//! scheduled faults end. Raft's Figure 8 canary is not listed: the schedule that breaks it is
//! too rare for random simulation (0 of 1,000 chaos seeds), so the model checker catches it
//! instead (`synod check raft-figure8`). With `--chaos` (see [`crate::chaos`]):
//! `synod soak raft --nodes 5 --chaos --loss 0.05 --dup 0.05 --seeds 1000`.
//!
//! The snapshot entries (`chandy-lamport`, `lai-yang`, and the canaries
//! `chandy-lamport-missing-marker`, `chandy-lamport-reorder`, `naive-clock-snapshot`) run a
//! bank inside a snapshot layer, n0 initiating a snapshot every 100ms until 60% of the run,
//! judged by the five snapshot properties. `chandy-lamport` and its missing-marker canary
//! always run on FIFO channels (their model); the others take the channels from the flags
//! (reordering by default). Default timing: partially synchronous, GST at a fifth of the run.

mod broadcast;
mod broadcast_orders;
mod crdt;
mod dynamo;
mod primary_chain;

use crate::runner::{run_client_protocol, run_protocol, SimReport, SimSpec};
use crate::workloads::{
    describe_register, linearizable_register, progress_after_faults, LinkTraffic, RegisterClients,
};
use crate::{LabError, Topic};
use synod_core::{Duration, Instant, NodeId, Prng, Property};
use synod_protocols::consensus::{
    multipaxos, properties as cp, raft, MultiPaxos, NodeSet, PaxosRegister, Raft,
};
use synod_protocols::election::{self, arrangement, properties as ep, BullyRequest};
use synod_protocols::fd::{self, properties as fp, Increase};
use synod_protocols::link::{self, properties as lp};
use synod_protocols::register::Abd;
use synod_protocols::snapshot::{
    self as snap, properties as sp, Bank, ChandyLamport, LaiYang, Schedule,
};
use synod_sim::{Idle, Scripted, Timing};

/// One runnable protocol.
#[derive(Clone, Copy)]
pub struct ProtocolEntry {
    /// Unique kebab-case id, e.g. `perfect-link`.
    pub name: &'static str,
    /// Its topic.
    pub topic: Topic,
    /// One line: what it is and what it guarantees.
    pub summary: &'static str,
    /// True for deliberately broken variants whose checks must fail.
    pub canary: bool,
    /// Runs it under a spec.
    pub run: fn(&SimSpec) -> Result<SimReport, LabError>,
}

impl std::fmt::Debug for ProtocolEntry {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "ProtocolEntry({})", self.name)
    }
}

const RETRANSMIT: Duration = Duration::from_millis(50);
const STUBBORN_PERIOD: Duration = Duration::from_millis(100);

fn traffic(spec: &SimSpec) -> LinkTraffic {
    LinkTraffic {
        per_node: spec.messages,
    }
}

const HB_PERIOD: Duration = Duration::from_millis(50);

fn psync() -> Timing {
    Timing::PartiallySynchronous {
        gst: Instant::from_secs(2),
        delta: Duration::from_millis(20),
    }
}

fn sync() -> Timing {
    Timing::Synchronous {
        delta: Duration::from_millis(20),
    }
}

/// A random arrangement of UIDs for a ring of `n`, drawn from the run's seed.
fn ring_uids(spec: &SimSpec) -> Vec<u64> {
    let mut prng = Prng::derive(spec.seed, 0x5249_4e47);
    arrangement::random(spec.nodes, &mut prng)
}

/// Every catalog entry, in topic order.
pub fn protocols() -> Vec<ProtocolEntry> {
    let mut all = link_protocols();
    all.extend(fd_protocols());
    all.extend(election_protocols());
    all.extend(register_protocols());
    all.extend(consensus_protocols());
    all.extend(snapshot_protocols());
    all.extend(broadcast::protocols());
    all.extend(broadcast_orders::protocols());
    all.extend(primary_chain::protocols());
    all.extend(dynamo::protocols());
    all.extend(crdt::protocols());
    all
}

/// Reads per ABD client after its write: reads in a row are what can expose a new/old
/// inversion.
const ABD_READS: u32 = 4;

/// The shared-memory emulations over message passing, with register clients whose history is
/// judged linearizable (and saved by `synod sim --history FILE` for `synod lin`).
fn register_protocols() -> Vec<ProtocolEntry> {
    vec![
        ProtocolEntry {
            name: "abd",
            topic: Topic::SharedMemory,
            summary: "ABD: an atomic (linearizable) multi-writer register on majority quorums; survives any minority of crashes; needs reliable links (save the clients' history with --history h.edn, then synod lin h.edn --model register)",
            canary: false,
            run: |spec| {
                run_client_protocol(
                    "abd",
                    Abd::new(),
                    &[linearizable_register(), progress_after_faults()],
                    register_clients("abd", spec)?.with_reads(ABD_READS),
                    spec,
                    Timing::Asynchronous,
                    describe_register,
                )
            },
        },
        ProtocolEntry {
            name: "abd-no-write-back",
            topic: Topic::SharedMemory,
            summary: "canary: ABD whose reads skip the write-back phase: a read may return a value a later read no longer sees (a new/old inversion), so the history is not linearizable",
            canary: true,
            run: |spec| {
                run_client_protocol(
                    "abd-no-write-back",
                    Abd::canary_no_write_back(),
                    &[linearizable_register(), progress_after_faults()],
                    register_clients("abd-no-write-back", spec)?.with_reads(ABD_READS),
                    spec,
                    Timing::Asynchronous,
                    describe_register,
                )
            },
        },
    ]
}

/// The consensus protocols' default timing: partially synchronous, GST when the scheduled
/// faults end (2 s without faults), Δ = 20 ms.
fn consensus_timing(spec: &SimSpec) -> Timing {
    let end = spec.faults_end();
    Timing::PartiallySynchronous {
        gst: if end > Instant::ZERO {
            end
        } else {
            Instant::from_secs(2)
        },
        delta: Duration::from_millis(20),
    }
}

/// Checks that `entry` can run under `spec` before anything is printed or run: the consensus
/// protocols count replies in a [`NodeSet`], so they run on at most [`NodeSet::MAX_NODES`]
/// nodes.
pub fn validate(entry: &ProtocolEntry, spec: &SimSpec) -> Result<(), LabError> {
    if matches!(entry.topic, Topic::Consensus | Topic::SharedMemory) {
        node_limit(entry.name, spec)?;
    }
    Ok(())
}

fn node_limit(name: &str, spec: &SimSpec) -> Result<(), LabError> {
    if spec.nodes > NodeSet::MAX_NODES {
        return Err(LabError::new(format!(
            "{name} runs on at most {} nodes, not {}",
            NodeSet::MAX_NODES,
            spec.nodes
        )));
    }
    Ok(())
}

/// The register clients of consensus protocol `name` (checking the node count, as
/// [`validate`] does, for callers that did not).
fn register_clients(name: &str, spec: &SimSpec) -> Result<RegisterClients, LabError> {
    node_limit(name, spec)?;
    Ok(RegisterClients::new(spec.messages, spec.faults_end()))
}

/// `props`, [`linearizable_register`] (the clients' history, judged by `synod-consistency`)
/// and [`progress_after_faults`].
fn with_progress<P>(mut props: Vec<Property<P>>) -> Vec<Property<P>>
where
    P: synod_core::ClientOps<
        Input = synod_protocols::register::RegisterOp,
        Output = synod_protocols::register::RegisterRet,
    >,
{
    props.push(linearizable_register());
    props.push(progress_after_faults());
    props
}

fn consensus_protocols() -> Vec<ProtocolEntry> {
    vec![
        ProtocolEntry {
            name: "raft",
            topic: Topic::Consensus,
            summary: "Raft: leader election + log replication of register commands; safe under crashes, partitions, loss (try --nodes 5 --chaos --loss 0.05 --dup 0.05; its Figure 8 canary: synod check raft-figure8)",
            canary: false,
            run: |spec| {
                run_client_protocol(
                    "raft",
                    Raft::new(),
                    &with_progress(raft::raft_properties()),
                    register_clients("raft", spec)?,
                    spec,
                    consensus_timing(spec),
                    describe_register,
                )
            },
        },
        ProtocolEntry {
            name: "raft-read-index",
            topic: Topic::Consensus,
            summary: "Raft as the key-value service runs it: reads by read-index (a heartbeat round confirms the leader; no log entry), flow control (one AppendEntries in flight per follower), a snapshot every 8 entries (InstallSnapshot to laggards); linearizable (try --nodes 5 --chaos --loss 0.05 --dup 0.05)",
            canary: false,
            run: |spec| {
                run_client_protocol(
                    "raft-read-index",
                    Raft::new()
                        .with_read_index(true)
                        .with_flow_control(true)
                        .with_snapshot_every(8),
                    &with_progress(raft::raft_properties()),
                    register_clients("raft-read-index", spec)?,
                    spec,
                    consensus_timing(spec),
                    describe_register,
                )
            },
        },
        ProtocolEntry {
            name: "raft-unconfirmed-reads",
            topic: Topic::Consensus,
            summary: "CANARY: Raft answering reads at once from the leader's state, without the read-index round that confirms it is still the leader; a deposed leader serves stale reads (try --nodes 5 --chaos --loss 0.05 --dup 0.05)",
            canary: true,
            run: |spec| {
                run_client_protocol(
                    "raft-unconfirmed-reads",
                    Raft::new().canary_unconfirmed_reads(),
                    &with_progress(raft::raft_properties()),
                    register_clients("raft-unconfirmed-reads", spec)?,
                    spec,
                    consensus_timing(spec),
                    describe_register,
                )
            },
        },
        ProtocolEntry {
            name: "multi-paxos",
            topic: Topic::Consensus,
            summary: "Multi-Paxos: one phase 1 for all slots, an Omega-trusted leader, re-proposal of accepted values; crash-recovery (try --chaos)",
            canary: false,
            run: |spec| {
                run_client_protocol(
                    "multi-paxos",
                    MultiPaxos::new(),
                    &with_progress(multipaxos::properties()),
                    register_clients("multi-paxos", spec)?,
                    spec,
                    consensus_timing(spec),
                    describe_register,
                )
            },
        },
        ProtocolEntry {
            name: "paxos",
            topic: Topic::Consensus,
            summary: "single-decree Paxos as a write-once register, durable acceptors: safe always, live never promised (no retransmission)",
            canary: false,
            run: |spec| {
                run_client_protocol(
                    "paxos",
                    PaxosRegister::durable(),
                    &cp::paxos_properties(),
                    register_clients("paxos", spec)?,
                    spec,
                    consensus_timing(spec),
                    describe_register,
                )
            },
        },
        ProtocolEntry {
            name: "multi-paxos-skip-repropose",
            topic: Topic::Consensus,
            summary: "canary: Multi-Paxos whose new leader fills reported slots with no-ops (a chosen command is overwritten; try --chaos)",
            canary: true,
            run: |spec| {
                run_client_protocol(
                    "multi-paxos-skip-repropose",
                    MultiPaxos::canary_skip_repropose(),
                    &with_progress(multipaxos::properties()),
                    register_clients("multi-paxos-skip-repropose", spec)?,
                    spec,
                    consensus_timing(spec),
                    describe_register,
                )
            },
        },
    ]
}

fn fd_protocols() -> Vec<ProtocolEntry> {
    vec![
        ProtocolEntry {
            name: "perfect-fd",
            topic: Topic::FailureDetectors,
            summary: "P: heartbeats + a fixed timeout above period + delta; never wrong under synchrony (default sync:20ms)",
            canary: false,
            run: |spec| {
                run_protocol(
                    "perfect-fd",
                    fd::Heartbeat::perfect(HB_PERIOD, Duration::from_millis(150)),
                    &fp::perfect_properties(),
                    Idle,
                    spec,
                    sync(),
                )
            },
        },
        ProtocolEntry {
            name: "eventually-perfect-fd",
            topic: Topic::FailureDetectors,
            summary: "<>P: suspect on timeout, restore and raise the timeout on a late heartbeat (default psync:gst=2s)",
            canary: false,
            run: |spec| {
                run_protocol(
                    "eventually-perfect-fd",
                    fd::Heartbeat::eventually_perfect(HB_PERIOD, Duration::from_millis(60), Increase::Add(Duration::from_millis(20))),
                    &fp::eventually_perfect_properties(),
                    Idle,
                    spec,
                    psync(),
                )
            },
        },
        ProtocolEntry {
            name: "fixed-timeout-fd",
            topic: Topic::FailureDetectors,
            summary: "canary: a fixed timeout shorter than period + delta keeps suspecting correct nodes after GST (not <>P)",
            canary: true,
            run: |spec| {
                run_protocol(
                    "fixed-timeout-fd",
                    fd::Heartbeat::canary_never_increases(HB_PERIOD, Duration::from_millis(55)),
                    &fp::eventually_perfect_properties(),
                    Idle,
                    spec,
                    psync(),
                )
            },
        },
        ProtocolEntry {
            name: "phi-accrual-fd",
            topic: Topic::FailureDetectors,
            summary: "phi accrual: suspicion level from the heartbeat inter-arrival distribution, threshold 8",
            canary: false,
            run: |spec| {
                run_protocol(
                    "phi-accrual-fd",
                    fd::PhiAccrual::new(HB_PERIOD, 8.0),
                    &[fp::strong_completeness()],
                    Idle,
                    spec,
                    sync(),
                )
            },
        },
        ProtocolEntry {
            name: "swim",
            topic: Topic::FailureDetectors,
            summary: "SWIM membership: random probes, k indirect probes, suspicion with incarnations, gossip",
            canary: false,
            run: |spec| {
                run_protocol(
                    "swim",
                    fd::Swim::new(Duration::from_millis(200)),
                    &[fp::strong_completeness()],
                    Idle,
                    spec,
                    sync(),
                )
            },
        },
    ]
}

fn election_protocols() -> Vec<ProtocolEntry> {
    vec![
        ProtocolEntry {
            name: "omega",
            topic: Topic::Election,
            summary: "eventual leader: trust the smallest unsuspected id over <>P (default psync:gst=2s)",
            canary: false,
            run: |spec| {
                run_protocol(
                    "omega",
                    fd::Omega::new(HB_PERIOD, Duration::from_millis(60), Increase::Add(Duration::from_millis(20))),
                    &[fp::eventual_leadership(None)],
                    Idle,
                    spec,
                    psync(),
                )
            },
        },
        ProtocolEntry {
            name: "lcr",
            topic: Topic::Election,
            summary: "LCR (Chang-Roberts) on a one-way ring with random UIDs from the seed: forward larger UIDs",
            canary: false,
            run: |spec| {
                let uids = ring_uids(spec);
                run_protocol(
                    "lcr",
                    election::Lcr::new(uids.clone()),
                    &ep::election_properties(uids),
                    Idle,
                    spec,
                    Timing::Asynchronous,
                )
            },
        },
        ProtocolEntry {
            name: "hirschberg-sinclair",
            topic: Topic::Election,
            summary: "Hirschberg-Sinclair on a two-way ring: probes to doubling distances, O(n log n) messages",
            canary: false,
            run: |spec| {
                let uids = ring_uids(spec);
                run_protocol(
                    "hirschberg-sinclair",
                    election::HirschbergSinclair::new(uids.clone()),
                    &ep::election_properties(uids),
                    Idle,
                    spec,
                    Timing::Asynchronous,
                )
            },
        },
        ProtocolEntry {
            name: "bully",
            topic: Topic::Election,
            summary: "Bully: the highest live id wins, decided by timeouts (n0 starts at 10ms; try --crash on the top node)",
            canary: false,
            run: |spec| {
                let uids = arrangement::sorted(spec.nodes);
                run_protocol(
                    "bully",
                    election::Bully::new(uids.clone(), Duration::from_millis(45)),
                    &ep::election_properties(uids),
                    Scripted(vec![(Instant::from_millis(10), NodeId(0), BullyRequest::StartElection)]),
                    spec,
                    sync(),
                )
            },
        },
        ProtocolEntry {
            name: "lcr-forward-all",
            topic: Topic::Election,
            summary: "canary: LCR that forwards every UID without comparing (several leaders, n^2 messages)",
            canary: true,
            run: |spec| {
                let uids = ring_uids(spec);
                run_protocol(
                    "lcr-forward-all",
                    election::LcrCanaryForwardAll::new(uids.clone()),
                    &ep::election_properties(uids),
                    Idle,
                    spec,
                    Timing::Asynchronous,
                )
            },
        },
    ]
}

fn link_protocols() -> Vec<ProtocolEntry> {
    vec![
        ProtocolEntry {
            name: "fair-loss-link",
            topic: Topic::Links,
            summary: "the network itself: may lose, duplicate and reorder, never creates messages",
            canary: false,
            run: |spec| {
                run_protocol(
                    "fair-loss-link",
                    link::FairLossLink::<u64>::new(),
                    &lp::fair_loss_properties(),
                    traffic(spec),
                    spec,
                    Timing::Asynchronous,
                )
            },
        },
        ProtocolEntry {
            name: "stubborn-link",
            topic: Topic::Links,
            summary: "retransmit forever: every message delivered infinitely often (CGR 2.4.3)",
            canary: false,
            run: |spec| {
                run_protocol(
                    "stubborn-link",
                    link::StubbornLink::<u64>::new(STUBBORN_PERIOD),
                    &lp::stubborn_properties(),
                    traffic(spec),
                    spec,
                    Timing::Asynchronous,
                )
            },
        },
        ProtocolEntry {
            name: "perfect-link",
            topic: Topic::Links,
            summary: "retransmit + acknowledge + deduplicate: reliable delivery, no duplication",
            canary: false,
            run: |spec| {
                run_protocol(
                    "perfect-link",
                    link::PerfectLink::<u64>::new(RETRANSMIT),
                    &lp::perfect_properties(),
                    traffic(spec),
                    spec,
                    Timing::Asynchronous,
                )
            },
        },
        ProtocolEntry {
            name: "dedup-perfect-link",
            topic: Topic::Links,
            summary: "the book's perfect link: eliminate duplicates over a stubborn link (2-level stack)",
            canary: false,
            run: |spec| {
                run_protocol(
                    "dedup-perfect-link",
                    link::dedup_perfect_link::<u64>(STUBBORN_PERIOD),
                    &lp::perfect_properties(),
                    traffic(spec),
                    spec,
                    Timing::Asynchronous,
                )
            },
        },
        ProtocolEntry {
            name: "fifo-perfect-link",
            topic: Topic::Links,
            summary: "sequence numbers + hold-back queue over a perfect link: delivery in send order",
            canary: false,
            run: |spec| {
                run_protocol(
                    "fifo-perfect-link",
                    link::fifo_perfect_link::<u64>(RETRANSMIT),
                    &lp::fifo_properties(),
                    traffic(spec),
                    spec,
                    Timing::Asynchronous,
                )
            },
        },
        ProtocolEntry {
            name: "fifo-stubborn-stack",
            topic: Topic::Links,
            summary: "3-level stack: FIFO over eliminate-duplicates over stubborn over fair-loss",
            canary: false,
            run: |spec| {
                run_protocol(
                    "fifo-stubborn-stack",
                    link::fifo_stubborn_stack::<u64>(STUBBORN_PERIOD),
                    &lp::fifo_properties(),
                    traffic(spec),
                    spec,
                    Timing::Asynchronous,
                )
            },
        },
        ProtocolEntry {
            name: "stubborn-link-gives-up",
            topic: Topic::Links,
            summary: "canary: a stubborn link that stops after one retransmission (stubborn delivery fails under loss)",
            canary: true,
            run: |spec| {
                run_protocol(
                    "stubborn-link-gives-up",
                    link::StubbornLink::<u64>::canary_gives_up(STUBBORN_PERIOD, 1),
                    &lp::stubborn_properties(),
                    traffic(spec),
                    spec,
                    Timing::Asynchronous,
                )
            },
        },
        ProtocolEntry {
            name: "perfect-link-no-dedup",
            topic: Topic::Links,
            summary: "canary: a perfect link that forgets to deduplicate (no-duplication fails)",
            canary: true,
            run: |spec| {
                run_protocol(
                    "perfect-link-no-dedup",
                    link::PerfectLink::<u64>::canary_no_dedup(RETRANSMIT),
                    &lp::perfect_properties(),
                    traffic(spec),
                    spec,
                    Timing::Asynchronous,
                )
            },
        },
        ProtocolEntry {
            name: "fifo-link-no-holdback",
            topic: Topic::Links,
            summary: "canary: FIFO link that delivers in arrival order (fifo-delivery fails under reordering)",
            canary: true,
            run: |spec| {
                run_protocol(
                    "fifo-link-no-holdback",
                    link::fifo_perfect_link_canary_no_holdback::<u64>(RETRANSMIT),
                    &lp::fifo_properties(),
                    traffic(spec),
                    spec,
                    Timing::Asynchronous,
                )
            },
        },
    ]
}

/// The snapshot entries' bank: accounts of 1000, a transfer of up to 100 every 10ms on average
/// per process, until 80% of the run (so everything sent arrives before the end).
fn snapshot_bank(spec: &SimSpec) -> Bank {
    Bank::new(
        1000,
        Duration::from_millis(10),
        100,
        Instant(spec.until.as_nanos() / 10 * 8),
    )
}

/// A snapshot every 100ms of local time from 100ms until 60% of the run, at `initiator`
/// (`None`: every process, the naive clock).
fn snapshot_schedule(spec: &SimSpec, initiator: Option<NodeId>) -> Schedule {
    Schedule {
        initiator,
        first: Duration::from_millis(100),
        period: Duration::from_millis(100),
        stop: Instant(spec.until.as_nanos() / 10 * 6),
    }
}

/// The snapshot entries' default timing: partially synchronous, asynchronous (heavy-tailed
/// delays, much reordering) until GST at a fifth of the run, then delays under 20ms, so every
/// snapshot can complete by the end.
fn snapshot_timing(spec: &SimSpec) -> Timing {
    Timing::PartiallySynchronous {
        gst: Instant(spec.until.as_nanos() / 5),
        delta: Duration::from_millis(20),
    }
}

/// `spec` with FIFO channels (Chandy-Lamport's model).
fn fifo(spec: &SimSpec) -> SimSpec {
    let mut s = spec.clone();
    s.network.fifo = true;
    s
}

fn snapshot_protocols() -> Vec<ProtocolEntry> {
    vec![
        ProtocolEntry {
            name: "chandy-lamport",
            topic: Topic::Snapshots,
            summary: "Chandy-Lamport snapshots of a bank over FIFO channels (always FIFO here): markers on every channel, n(n-1) per snapshot; every cut consistent, every total conserved",
            canary: false,
            run: |spec| {
                let bank = snapshot_bank(spec);
                run_protocol(
                    "chandy-lamport",
                    ChandyLamport::new(bank).with_schedule(snapshot_schedule(spec, Some(NodeId(0)))),
                    &sp::snapshot_properties(bank),
                    Idle,
                    &fifo(spec),
                    snapshot_timing(spec),
                )
            },
        },
        ProtocolEntry {
            name: "lai-yang",
            topic: Topic::Snapshots,
            summary: "Lai-Yang snapshots of a bank over reordering channels: piggybacked colours, a record before the first red message, per-channel white-message counts",
            canary: false,
            run: |spec| {
                let bank = snapshot_bank(spec);
                run_protocol(
                    "lai-yang",
                    LaiYang::new(bank).with_schedule(snapshot_schedule(spec, Some(NodeId(0)))),
                    &sp::snapshot_properties(bank),
                    Idle,
                    spec,
                    snapshot_timing(spec),
                )
            },
        },
        ProtocolEntry {
            name: "chandy-lamport-missing-marker",
            topic: Topic::Snapshots,
            summary: "canary: Chandy-Lamport whose processes skip the marker to their successor and record that channel as empty (money in transit vanishes; cuts go inconsistent)",
            canary: true,
            run: |spec| {
                let bank = snapshot_bank(spec);
                run_protocol(
                    "chandy-lamport-missing-marker",
                    ChandyLamport::canary_missing_marker(bank)
                        .with_schedule(snapshot_schedule(spec, Some(NodeId(0)))),
                    &sp::snapshot_properties(bank),
                    Idle,
                    &fifo(spec),
                    snapshot_timing(spec),
                )
            },
        },
        ProtocolEntry {
            name: "chandy-lamport-reorder",
            topic: Topic::Snapshots,
            summary: "canary: Chandy-Lamport outside its model, over reordering channels (add --fifo to restore it): messages overtake markers, cuts go inconsistent",
            canary: true,
            run: |spec| {
                let bank = snapshot_bank(spec);
                run_protocol(
                    "chandy-lamport-reorder",
                    ChandyLamport::new(bank).with_schedule(snapshot_schedule(spec, Some(NodeId(0)))),
                    &sp::snapshot_properties(bank),
                    Idle,
                    spec,
                    snapshot_timing(spec),
                )
            },
        },
        ProtocolEntry {
            name: "naive-clock-snapshot",
            topic: Topic::Snapshots,
            summary: "canary: every process records at local clock time T; clock offsets spread over 0..20ms by default (set your own with --clock): records out of step, cuts inconsistent",
            canary: true,
            run: |spec| {
                let bank = snapshot_bank(spec);
                let mut s = spec.clone();
                if s.faults.clocks.is_empty() {
                    s.faults.clocks = naive_skew(spec.nodes, Duration::from_millis(20));
                }
                run_protocol(
                    "naive-clock-snapshot",
                    snap::naive_clock(bank, snapshot_schedule(spec, None)),
                    &sp::snapshot_properties(bank),
                    Idle,
                    &s,
                    snapshot_timing(spec),
                )
            },
        },
    ]
}

/// Clock offsets spread evenly over `0..=skew` (node i at `skew·i/(n−1)`).
pub fn naive_skew(n: usize, skew: Duration) -> Vec<(NodeId, synod_sim::ClockSkew)> {
    (0..n)
        .map(|i| {
            let offset = if n > 1 {
                Duration(skew.as_nanos() / (n as u64 - 1) * i as u64)
            } else {
                Duration::ZERO
            };
            (
                NodeId(i as u32),
                synod_sim::ClockSkew {
                    drift_ppm: 0,
                    offset,
                },
            )
        })
        .collect()
}

/// The entry named `name`, or an error listing the names.
pub fn find_protocol(name: &str) -> Result<ProtocolEntry, LabError> {
    let all = protocols();
    all.iter().find(|e| e.name == name).copied().ok_or_else(|| {
        LabError::new(format!(
            "unknown protocol '{name}' (run `synod list` to see the {} protocols)",
            all.len()
        ))
    })
}
