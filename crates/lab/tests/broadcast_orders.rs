//! The `broadcast-orders` and `tob-consensus` experiments: their claims hold on the quick run,
//! and the same seed gives the same JSON twice. The FIFO-only and causal-only results are also
//! checked against a hand-worked consequence of the definitions: a run with a FIFO violation
//! has a causal one (FIFO order is part of causal order), and a run whose processes produced
//! one delivery sequence has no total-order violation.

use synod_core::{Duration, Instant};
use synod_lab::experiment::{ClaimVerdict, ExpOptions, NoProgress};
use synod_lab::experiments::broadcast_orders::{
    orders_config, run_order, ReactiveBroadcasts, ORDERS,
};
use synod_lab::experiments::{broadcast_orders, tob_consensus};

#[test]
fn broadcast_orders_claim_holds_and_is_deterministic() {
    let opts = ExpOptions {
        seed: 11,
        runs: Some(4),
        quick: true,
    };
    let a = broadcast_orders::run(&opts, &mut NoProgress).unwrap();
    let b = broadcast_orders::run(&opts, &mut NoProgress).unwrap();
    assert_eq!(a.to_json(), b.to_json());
    assert_eq!(a.claim.verdict, ClaimVerdict::Holds, "{}", a.to_text());
    assert_eq!(a.rows.len(), 3);
}

#[test]
fn tob_consensus_claim_holds_and_is_deterministic() {
    let opts = ExpOptions {
        seed: 5,
        runs: Some(3),
        quick: true,
    };
    let a = tob_consensus::run(&opts, &mut NoProgress).unwrap();
    let b = tob_consensus::run(&opts, &mut NoProgress).unwrap();
    assert_eq!(a.to_json(), b.to_json());
    assert_eq!(a.claim.verdict, ClaimVerdict::Holds, "{}", a.to_text());
}

#[test]
fn measured_orders_respect_the_inclusions_between_orders() {
    for seed in 0..6 {
        for order in ORDERS {
            let (m, per_node) = run_order(
                order,
                orders_config(4, seed, Instant::from_millis(2000)),
                ReactiveBroadcasts::new(12, Duration::from_millis(200)),
            );
            // Every process delivered every message exactly once (no crashes).
            for d in per_node.values() {
                assert_eq!(d.len(), m.counts.messages, "{order}, seed {seed}");
            }
            assert!(m.counts.causal >= m.counts.fifo, "{order}, seed {seed}");
            if m.sequences == 1 {
                assert_eq!(m.counts.total_order, 0, "{order}, seed {seed}");
            }
            // Replies exist: some payloads are >= 1000, and each answers a delivered message.
            let any = per_node.values().next().unwrap();
            assert!(
                any.iter().any(|v| *v >= 1000),
                "{order}, seed {seed}: no reply"
            );
            for v in any.iter().filter(|v| **v >= 1000) {
                assert!(any.contains(&(v / 1000)), "{order}: {v} answers nothing");
            }
        }
    }
}
