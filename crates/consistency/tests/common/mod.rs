//! Helpers shared by the integration tests.
#![allow(dead_code)]

use synod_consistency::{History, SequentialSpec};

/// Panics unless `order` is a valid witness: each index once, every returned operation
/// present, `must_precede(a, b)` respected, and legal for `spec`.
fn assert_witness<S: SequentialSpec>(
    spec: &S,
    h: &History<S::Op, S::Ret>,
    order: &[usize],
    must_precede: impl Fn(usize, usize) -> bool,
) {
    let mut seen = vec![false; h.ops.len()];
    for &i in order {
        assert!(!seen[i], "op {i} twice in {order:?}");
        seen[i] = true;
    }
    for (i, o) in h.ops.iter().enumerate() {
        assert!(
            !o.is_complete() || seen[i],
            "returned op {i} missing from {order:?}"
        );
    }
    for (k, &a) in order.iter().enumerate() {
        for &b in &order[k + 1..] {
            assert!(!must_precede(b, a), "{b} must precede {a} in {order:?}");
        }
    }
    let mut state = spec.init();
    for &i in order {
        let o = &h.ops[i];
        state = match &o.ret {
            Some((_, r)) => spec
                .accepts(&state, &o.op, r)
                .unwrap_or_else(|| panic!("op {i} not accepted in {state:?} ({order:?})")),
            None => spec.step(&state, &o.op).0,
        };
    }
}

/// A linearizability witness: respects real time.
pub fn assert_lin_witness<S: SequentialSpec>(
    spec: &S,
    h: &History<S::Op, S::Ret>,
    order: &[usize],
) {
    assert_witness(spec, h, order, |a, b| h.ops[a].precedes(&h.ops[b]));
}

/// A sequential-consistency witness: respects real time within each client.
pub fn assert_sc_witness<S: SequentialSpec>(spec: &S, h: &History<S::Op, S::Ret>, order: &[usize]) {
    assert_witness(spec, h, order, |a, b| {
        h.ops[a].client == h.ops[b].client && h.ops[a].precedes(&h.ops[b])
    });
}
