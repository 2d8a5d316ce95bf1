//! Catalog entries: broadcast (best-effort, reliable, uniform reliable, gossip, and canaries).
//!
//! Default workload ([`crate::experiments::broadcast_hierarchy::scenario`]): `--messages` × n
//! broadcasts at random nodes at random instants of the first 40% of the run and, when the
//! user gave no fault (no `--crash`, no `--chaos`) and n ≥ 3, one random node broadcasting once
//! more and crashing *part-way through* that broadcast (each of its messages leaves with
//! probability ½): the "sender crashes after reaching a subset" scenario. Default timing:
//! synchronous, Δ = 20 ms (the entries with the perfect detector P need it). The protocols are
//! crash-stop: `--chaos` (which recovers nodes) is outside their model.
//!
//! The canaries are correct protocols judged by a stronger abstraction, and one broken
//! protocol: `beb-as-rb` (best effort judged as reliable: agreement breaks whenever the
//! crashing sender reached some correct processes but not all), `eager-rb-as-urb` (reliable
//! judged as uniform: the sender delivered and none of its sends left, 1 run in 16),
//! `urb-majority-ack-early` (Majority-Ack delivering before a majority acked: the same
//! non-uniform run).

use super::{sync, ProtocolEntry};
use crate::experiments::broadcast_hierarchy::{
    scenario, GOSSIP_FANOUT, GOSSIP_ROUNDS, HB_PERIOD, HB_TIMEOUT,
};
use crate::runner::{run_protocol, SimReport, SimSpec};
use crate::{LabError, Topic};
use synod_core::{Duration, Property, Protocol};
use synod_protocols::broadcast::properties as bp;
use synod_protocols::broadcast::{
    AllAckUrb, BcastInd, BcastReq, Beb, EagerRb, Gossip, LazyRb, MajorityAckUrb,
};

/// Runs `protocol` under the default broadcast workload (see the module docs).
fn run_bcast<P>(
    name: &str,
    protocol: P,
    props: &[Property<P>],
    spec: &SimSpec,
) -> Result<SimReport, LabError>
where
    P: Protocol<Request = BcastReq, Indication = BcastInd>,
{
    let n = spec.nodes;
    let crashes = usize::from(spec.faults.is_empty() && spec.chaos.is_none() && n >= 3);
    let window = Duration(spec.until.as_nanos() / 5 * 2);
    let broadcasts = spec.messages as usize * n;
    let sc = scenario(n, spec.seed, broadcasts, window, crashes);
    let mut spec = spec.clone();
    sc.add_crashes(&mut spec.faults);
    run_protocol(name, protocol, props, sc.workload(), &spec, sync())
}

fn gossip() -> Gossip {
    Gossip::new(GOSSIP_FANOUT, GOSSIP_ROUNDS)
}

/// The entries of this file.
pub(super) fn protocols() -> Vec<ProtocolEntry> {
    vec![
        ProtocolEntry {
            name: "beb",
            topic: Topic::Broadcast,
            summary: "Basic Broadcast (best effort): send to all, n-1 messages; validity, no duplication, no creation (a sender crashing mid-broadcast by default)",
            canary: false,
            run: |spec| run_bcast("beb", Beb, &bp::beb_properties(), spec),
        },
        ProtocolEntry {
            name: "eager-rb",
            topic: Topic::Broadcast,
            summary: "Eager Reliable Broadcast: relay on first delivery, n(n-1) messages; adds agreement",
            canary: false,
            run: |spec| run_bcast("eager-rb", EagerRb, &bp::rb_properties(), spec),
        },
        ProtocolEntry {
            name: "lazy-rb",
            topic: Topic::Broadcast,
            summary: "Lazy Reliable Broadcast: relay a crashed sender's messages when P detects it, n-1 messages without crashes; agreement (needs synchrony for P)",
            canary: false,
            run: |spec| {
                run_bcast(
                    "lazy-rb",
                    LazyRb::new(HB_PERIOD, HB_TIMEOUT),
                    &bp::rb_properties(),
                    spec,
                )
            },
        },
        ProtocolEntry {
            name: "urb-all-ack",
            topic: Topic::Broadcast,
            summary: "All-Ack Uniform Reliable Broadcast: deliver once every process not detected crashed by P relayed it; uniform agreement",
            canary: false,
            run: |spec| {
                run_bcast(
                    "urb-all-ack",
                    AllAckUrb::new(HB_PERIOD, HB_TIMEOUT),
                    &bp::urb_properties(),
                    spec,
                )
            },
        },
        ProtocolEntry {
            name: "urb-majority-ack",
            topic: Topic::Broadcast,
            summary: "Majority-Ack Uniform Reliable Broadcast: deliver once a majority relayed it; uniform agreement without a detector (n > 2f)",
            canary: false,
            run: |spec| {
                run_bcast(
                    "urb-majority-ack",
                    MajorityAckUrb::new(),
                    &bp::urb_properties(),
                    spec,
                )
            },
        },
        ProtocolEntry {
            name: "gossip",
            topic: Topic::Broadcast,
            summary: "Eager probabilistic broadcast (gossip, fanout 2, 3 rounds): no duplication, no creation; validity only with high probability (not judged)",
            canary: false,
            run: |spec| {
                run_bcast(
                    "gossip",
                    gossip(),
                    &[bp::no_duplication(), bp::no_creation()],
                    spec,
                )
            },
        },
        ProtocolEntry {
            name: "beb-as-rb",
            topic: Topic::Broadcast,
            summary: "canary: best-effort broadcast judged as reliable broadcast; agreement breaks when the sender crashes after reaching a subset",
            canary: true,
            run: |spec| run_bcast("beb-as-rb", Beb, &bp::rb_properties(), spec),
        },
        ProtocolEntry {
            name: "eager-rb-as-urb",
            topic: Topic::Broadcast,
            summary: "canary: eager reliable broadcast judged as uniform; a sender that delivers and crashes before its sends leave breaks uniform agreement",
            canary: true,
            run: |spec| run_bcast("eager-rb-as-urb", EagerRb, &bp::urb_properties(), spec),
        },
        ProtocolEntry {
            name: "urb-majority-ack-early",
            topic: Topic::Broadcast,
            summary: "canary: Majority-Ack that delivers on first sight, before a majority acked; uniform agreement breaks",
            canary: true,
            run: |spec| {
                run_bcast(
                    "urb-majority-ack-early",
                    MajorityAckUrb::canary_deliver_early(),
                    &bp::urb_properties(),
                    spec,
                )
            },
        },
    ]
}
