//! Catalog entries: ordered broadcast (FIFO, causal, total order) and consensus from total
//! order, with their canaries.
//!
//! Default workload ([`ReactiveBroadcasts`]): `--messages` × n broadcasts (at most 999) at
//! random nodes and instants of the first 40% of the run, and chained replies (the node
//! designated for a message broadcasts a reply when it delivers it, to depth 2), so causal
//! chains cross processes. The network reorders by default (add `--fifo` to see the FIFO canary
//! go quiet). FIFO and causal broadcast run synchronous (Δ = 20 ms) by default, though they
//! need no timing assumption; total order and consensus from it run partially synchronous (GST
//! when the scheduled faults end, 2 s without faults), since they need Ω. All are crash-stop:
//! `--chaos` (which recovers nodes) is outside their model (a recovered TOB process re-applies
//! the log from slot 1 and delivers again).
//!
//! Consensus from TOB has no workload: each process proposes `100 + i` at start and decides
//! its first delivery; it is judged by Chandra–Toueg's consensus properties.

use super::{consensus_timing, node_limit, sync, ProtocolEntry};
use crate::experiments::broadcast_orders::ReactiveBroadcasts;
use crate::runner::{run_protocol, SimReport, SimSpec};
use crate::{LabError, Topic};
use synod_core::{Duration, Property, Protocol};
use synod_protocols::broadcast::causal::Causal;
use synod_protocols::broadcast::fifo::Fifo;
use synod_protocols::broadcast::properties as bp;
use synod_protocols::broadcast::tob::{ConsensusFromTob, Tob};
use synod_protocols::broadcast::{BcastInd, BcastReq, EagerRb};
use synod_protocols::consensus::chandra_toueg::{self as ct, CtInd, Proposals};
use synod_sim::Timing;

/// Runs `protocol` under the reactive workload (see the module docs).
fn run_orders<P>(
    name: &str,
    protocol: P,
    props: &[Property<P>],
    spec: &SimSpec,
    timing: Timing,
) -> Result<SimReport, LabError>
where
    P: Protocol<Request = BcastReq, Indication = BcastInd>,
{
    let count = (spec.messages as usize * spec.nodes).clamp(1, 999) as u32;
    let spread = Duration(spec.until.as_nanos() / 5 * 2);
    run_protocol(
        name,
        protocol,
        props,
        ReactiveBroadcasts::new(count, spread),
        spec,
        timing,
    )
}

fn fifo_props<P: Protocol<Request = BcastReq, Indication = BcastInd>>() -> Vec<Property<P>> {
    let mut props = bp::rb_properties();
    props.push(bp::fifo_order());
    props
}

fn causal_props<P: Protocol<Request = BcastReq, Indication = BcastInd>>() -> Vec<Property<P>> {
    let mut props = fifo_props();
    props.push(bp::causal_order());
    props
}

fn tob_props<P: Protocol<Request = BcastReq, Indication = BcastInd>>() -> Vec<Property<P>> {
    let mut props = bp::urb_properties();
    props.extend([bp::fifo_order(), bp::causal_order(), bp::total_order()]);
    props
}

fn consensus_props<P: Protocol<Indication = CtInd>>() -> Vec<Property<P>> {
    vec![
        ct::agreement(),
        ct::validity(Proposals::Distinct),
        ct::integrity(),
        ct::termination(),
    ]
}

/// The entries of this file.
pub(super) fn protocols() -> Vec<ProtocolEntry> {
    vec![
        ProtocolEntry {
            name: "fifo-broadcast",
            topic: Topic::Broadcast,
            summary: "FIFO reliable broadcast: sequence numbers per sender and a reorder buffer over eager rb; rb properties plus FIFO order (not causal: a reply may overtake what it answers)",
            canary: false,
            run: |spec| {
                run_orders(
                    "fifo-broadcast",
                    Fifo::new(EagerRb),
                    &fifo_props(),
                    spec,
                    sync(),
                )
            },
        },
        ProtocolEntry {
            name: "fifo-deliver-on-arrival",
            topic: Topic::Broadcast,
            summary: "canary: the FIFO layer without its reorder buffer delivers on arrival; FIFO order breaks when the network reorders (try --fifo to hide it)",
            canary: true,
            run: |spec| {
                run_orders(
                    "fifo-deliver-on-arrival",
                    Fifo::canary_deliver_on_arrival(EagerRb),
                    &fifo_props(),
                    spec,
                    sync(),
                )
            },
        },
        ProtocolEntry {
            name: "fifo-as-causal",
            topic: Topic::Broadcast,
            summary: "canary: FIFO broadcast judged as causal: a reply relayed on a fast path is delivered before the message it answers",
            canary: true,
            run: |spec| {
                run_orders(
                    "fifo-as-causal",
                    Fifo::new(EagerRb),
                    &causal_props(),
                    spec,
                    sync(),
                )
            },
        },
        ProtocolEntry {
            name: "causal-broadcast",
            topic: Topic::Broadcast,
            summary: "Waiting Causal Broadcast: vector clocks over eager rb, n(n-1) messages; rb properties, FIFO and causal order, no consensus needed",
            canary: false,
            run: |spec| {
                run_orders(
                    "causal-broadcast",
                    Causal::new(),
                    &causal_props(),
                    spec,
                    sync(),
                )
            },
        },
        ProtocolEntry {
            name: "causal-no-wait",
            topic: Topic::Broadcast,
            summary: "canary: causal broadcast that delivers on first receipt without waiting for the causal past; causal order breaks",
            canary: true,
            run: |spec| {
                run_orders(
                    "causal-no-wait",
                    Causal::canary_no_wait(),
                    &causal_props(),
                    spec,
                    sync(),
                )
            },
        },
        ProtocolEntry {
            name: "causal-as-tob",
            topic: Topic::Broadcast,
            summary: "canary: causal broadcast judged as total order: concurrent messages are delivered in different orders at different processes",
            canary: true,
            run: |spec| {
                run_orders(
                    "causal-as-tob",
                    Causal::new(),
                    &tob_props(),
                    spec,
                    sync(),
                )
            },
        },
        ProtocolEntry {
            name: "tob-broadcast",
            topic: Topic::Broadcast,
            summary: "total-order broadcast from consensus: each broadcast a command of the Multi-Paxos log, delivered in slot order; uniform agreement, FIFO, causal and total order; needs Omega (partial synchrony), any minority of crashes",
            canary: false,
            run: |spec| {
                node_limit("tob-broadcast", spec)?;
                run_orders(
                    "tob-broadcast",
                    Tob::new(),
                    &tob_props(),
                    spec,
                    consensus_timing(spec),
                )
            },
        },
        ProtocolEntry {
            name: "tob-early-self-delivery",
            topic: Topic::Broadcast,
            summary: "canary: TOB whose sender delivers its own message at once, before it is ordered; total order breaks",
            canary: true,
            run: |spec| {
                node_limit("tob-early-self-delivery", spec)?;
                run_orders(
                    "tob-early-self-delivery",
                    Tob::canary_early_self_delivery(),
                    &tob_props(),
                    spec,
                    consensus_timing(spec),
                )
            },
        },
        ProtocolEntry {
            name: "consensus-from-tob",
            topic: Topic::Broadcast,
            summary: "consensus from total-order broadcast: propose = broadcast, decide the first delivery; judged by Chandra-Toueg's agreement, validity, integrity, termination",
            canary: false,
            run: |spec| {
                node_limit("consensus-from-tob", spec)?;
                run_protocol(
                    "consensus-from-tob",
                    ConsensusFromTob::new(Tob::new(), Proposals::Distinct),
                    &consensus_props(),
                    synod_sim::Idle,
                    spec,
                    consensus_timing(spec),
                )
            },
        },
        ProtocolEntry {
            name: "consensus-from-causal",
            topic: Topic::Broadcast,
            summary: "canary: the same reduction over causal broadcast, which does not order concurrent proposals: processes decide different first deliveries",
            canary: true,
            run: |spec| {
                run_protocol(
                    "consensus-from-causal",
                    ConsensusFromTob::new(Causal::new(), Proposals::Distinct),
                    &consensus_props(),
                    synod_sim::Idle,
                    spec,
                    sync(),
                )
            },
        },
    ]
}
