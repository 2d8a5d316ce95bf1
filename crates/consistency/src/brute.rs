//! Reference checkers by exhaustive enumeration, for tiny histories: the definitions, written
//! as plainly as possible, to test the real checkers against.

use crate::{History, SequentialSpec};

/// The largest history the brute-force checkers accept.
pub const BRUTE_FORCE_MAX_OPS: usize = 10;

/// Linearizability by enumeration: tries every subset of the operations that never returned
/// and every permutation of the chosen operations, and accepts if one respects real time and
/// is legal for `spec`.
///
/// # Panics
/// If the history has more than [`BRUTE_FORCE_MAX_OPS`] operations.
pub fn brute_force_linearizable<S: SequentialSpec>(
    spec: &S,
    history: &History<S::Op, S::Ret>,
) -> bool {
    let ops = &history.ops;
    brute_force(spec, history, |a, b| ops[a].precedes(&ops[b]))
}

/// Sequential consistency by enumeration: as [`brute_force_linearizable`], but the order only
/// has to respect each client's program order (real time between operations of the same
/// client; see [`check_sequential`](crate::check_sequential)).
///
/// # Panics
/// If the history has more than [`BRUTE_FORCE_MAX_OPS`] operations.
pub fn brute_force_sequential<S: SequentialSpec>(
    spec: &S,
    history: &History<S::Op, S::Ret>,
) -> bool {
    let ops = &history.ops;
    brute_force(spec, history, |a, b| {
        ops[a].client == ops[b].client && ops[a].precedes(&ops[b])
    })
}

/// Is there a subset containing every returned operation and an order of it such that no
/// operation comes after one it must precede (`before(a, b)`: `a` must come before `b`), and
/// the spec accepts the sequence?
fn brute_force<S: SequentialSpec>(
    spec: &S,
    history: &History<S::Op, S::Ret>,
    before: impl Fn(usize, usize) -> bool,
) -> bool {
    let n = history.ops.len();
    assert!(
        n <= BRUTE_FORCE_MAX_OPS,
        "brute force is for histories of at most {BRUTE_FORCE_MAX_OPS} operations, not {n}"
    );
    let complete: Vec<usize> = (0..n).filter(|&i| history.ops[i].is_complete()).collect();
    let pending: Vec<usize> = (0..n).filter(|&i| !history.ops[i].is_complete()).collect();
    for mask in 0u32..(1 << pending.len()) {
        let mut seq: Vec<usize> = complete.clone();
        seq.extend(
            pending
                .iter()
                .enumerate()
                .filter(|(k, _)| mask & (1 << k) != 0)
                .map(|(_, &i)| i),
        );
        seq.sort_unstable();
        loop {
            if respects(&seq, &before) && legal(spec, history, &seq) {
                return true;
            }
            if !next_permutation(&mut seq) {
                break;
            }
        }
    }
    false
}

fn respects(seq: &[usize], before: &impl Fn(usize, usize) -> bool) -> bool {
    for (i, &a) in seq.iter().enumerate() {
        for &b in &seq[i + 1..] {
            if before(b, a) {
                return false;
            }
        }
    }
    true
}

fn legal<S: SequentialSpec>(spec: &S, history: &History<S::Op, S::Ret>, seq: &[usize]) -> bool {
    let mut state = spec.init();
    for &i in seq {
        let o = &history.ops[i];
        state = match &o.ret {
            Some((_, ret)) => match spec.accepts(&state, &o.op, ret) {
                Some(next) => next,
                None => return false,
            },
            None => spec.step(&state, &o.op).0,
        };
    }
    true
}

/// The next permutation in lexicographic order; false (and `seq` left sorted descending) at
/// the last.
fn next_permutation(seq: &mut [usize]) -> bool {
    if seq.len() < 2 {
        return false;
    }
    let mut i = seq.len() - 1;
    while i > 0 && seq[i - 1] >= seq[i] {
        i -= 1;
    }
    if i == 0 {
        return false;
    }
    let mut j = seq.len() - 1;
    while seq[j] <= seq[i - 1] {
        j -= 1;
    }
    seq.swap(i - 1, j);
    seq[i..].reverse();
    true
}

#[cfg(test)]
mod tests {
    use super::next_permutation;

    #[test]
    fn permutations_are_all_enumerated_once() {
        let mut seq = vec![0, 1, 2, 3];
        let mut seen = vec![seq.clone()];
        while next_permutation(&mut seq) {
            seen.push(seq.clone());
        }
        assert_eq!(seen.len(), 24);
        let mut sorted = seen.clone();
        sorted.sort();
        sorted.dedup();
        assert_eq!(sorted, seen);
    }
}
