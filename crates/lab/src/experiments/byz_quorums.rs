//! `byz-quorums`: Byzantine quorums (Malkhi & Reiter 1998): masking quorums need n > 4f,
//! dissemination quorums (signed data) n > 3f.
//!
//! Threshold quorums of q out of n servers, f of them faulty. A write of a new value completes
//! at a write quorum W (its correct servers store it; every other correct server keeps the old
//! value); a reader then asks a read quorum R, and each faulty server in R replies whatever the
//! adversary likes: the old value, the new one, or a value nobody wrote. The reader's rule
//! ([`synod_protocols::quorum::byz_read`]): under *dissemination* (self-verifying, i.e. signed, data) forgeries are
//! dropped and the highest timestamp wins; under *masking* (unsigned data) only a value vouched
//! for by f + 1 servers counts, the highest such timestamp wins. For every q, every W, every R,
//! every set of f faulty servers and every combination of their replies, the read must return
//! the new value; and some quorum must avoid any f servers (a faulty server may never answer).
//!
//! Theory: two q-sets share ≥ 2q − n servers; availability needs q ≤ n − f. Masking needs
//! 2q − n ≥ 2f + 1 (the correct servers of the intersection, ≥ f + 1, outvote the f liars),
//! dissemination 2q − n ≥ f + 1 (one correct server in the intersection suffices): both hold for
//! some q iff n ≥ 4f + 1, resp. n ≥ 3f + 1.

use crate::experiment::{columns, Claim, ClaimVerdict, ExpOptions, ExperimentReport, Progress};
use crate::LabError;
use serde_json::{json, Value as Json};
use synod_core::ModelHeader;
use synod_protocols::quorum::{byz_exhaustive, ByzCheck, ByzKind, ByzQuorums};

/// One configuration's sweep over every quorum size.
#[derive(Clone, Debug)]
pub struct Sweep {
    /// The kind.
    pub kind: ByzKind,
    /// Faulty servers.
    pub f: usize,
    /// Servers.
    pub n: usize,
    /// The quorum sizes whose every read was correct and that are always available.
    pub working: Vec<usize>,
    /// The check at q = n − f, the largest always-available quorum size.
    pub at_largest_available: ByzCheck,
    /// Scenarios over every q.
    pub scenarios: u64,
}

/// Sweeps every q in 1..=n for `kind`, `f`, `n`.
pub fn sweep(kind: ByzKind, f: usize, n: usize) -> Sweep {
    let mut working = Vec::new();
    let mut scenarios = 0;
    let mut largest = None;
    for q in 1..=n {
        let c = byz_exhaustive(&ByzQuorums { n, f, q, kind });
        scenarios += c.scenarios;
        if c.holds() {
            working.push(q);
        }
        if q == n - f {
            largest = Some(c);
        }
    }
    Sweep {
        kind,
        f,
        n,
        working,
        at_largest_available: largest.expect("n > f"),
        scenarios,
    }
}

/// The bound: 4f (masking) or 3f (dissemination); quorums work iff n > bound.
pub fn bound(kind: ByzKind, f: usize) -> usize {
    match kind {
        ByzKind::Masking => 4 * f,
        ByzKind::Dissemination => 3 * f,
    }
}

/// Runs the experiment.
pub fn run(opts: &ExpOptions, progress: &mut dyn Progress) -> Result<ExperimentReport, LabError> {
    let fs: &[usize] = if opts.quick { &[1] } else { &[1, 2] };
    let mut plan = Vec::new();
    for &f in fs {
        for kind in [ByzKind::Dissemination, ByzKind::Masking] {
            let b = bound(kind, f);
            plan.push((kind, f, b));
            plan.push((kind, f, b + 1));
        }
    }
    progress.set_total(plan.len() as u64);
    let mut sweeps = Vec::new();
    for (kind, f, n) in plan {
        sweeps.push(sweep(kind, f, n));
        progress.advance(1);
    }
    let ok = sweeps.iter().all(|s| {
        let b = bound(s.kind, s.f);
        if s.n <= b {
            s.working.is_empty()
        } else {
            s.working
                .contains(&ByzQuorums::smallest(s.n, s.f, s.kind).q)
        }
    });
    // The control: the same reads without liars (f = 0) are always correct when 2q > n.
    let control = byz_exhaustive(&ByzQuorums {
        n: 4,
        f: 0,
        q: 3,
        kind: ByzKind::Masking,
    });
    let ok = ok && control.holds();
    let describe = |c: &ByzCheck| match &c.example {
        None => "-".to_string(),
        Some((w, r, fs, told, res)) => format!("W={w} R={r} faulty={fs} reply {told:?}: {res:?}"),
    };
    let rows: Vec<Vec<Json>> = sweeps
        .iter()
        .map(|s| {
            let q = s.n - s.f;
            let c = &s.at_largest_available;
            vec![
                json!(s.kind.label()),
                json!(s.f),
                json!(s.n),
                json!(format!("n > {}", bound(s.kind, s.f))),
                json!(q),
                json!((2 * q).saturating_sub(s.n)),
                json!(s.kind.required_meet(s.f)),
                json!(c.scenarios),
                json!(c.bad_reads),
                json!(if s.working.is_empty() {
                    "none".to_string()
                } else {
                    format!("{:?}", s.working)
                }),
                json!(s.scenarios),
                json!(describe(c)),
            ]
        })
        .collect();
    let masking_at = |n: usize| {
        sweeps
            .iter()
            .find(|s| s.kind == ByzKind::Masking && s.f == 1 && s.n == n)
            .map_or(0, |s| s.at_largest_available.bad_reads)
    };
    let model = ModelHeader::new()
        .with(
            "failures",
            "up to f Byzantine servers (any reply: old, new, forged)",
        )
        .with(
            "data",
            "dissemination: signed (forgeries detected); masking: unsigned",
        )
        .with("quorums", "every q-subset of n servers, every q in 1..=n")
        .with("membership", "static");
    Ok(ExperimentReport {
        id: "byz-quorums".into(),
        title: "Byzantine quorums (Malkhi–Reiter): masking needs n > 4f, dissemination n > 3f".into(),
        model,
        columns: columns(&[
            ("kind", "kind"),
            ("f", "f"),
            ("n", "n"),
            ("needs", "needs"),
            ("q", "q=n-f"),
            ("meet", "min |R∩W|"),
            ("needed_meet", "needed"),
            ("scenarios", "scenarios (q=n-f)"),
            ("bad_reads", "bad reads"),
            ("working_q", "working q"),
            ("scenarios_all_q", "scenarios (all q)"),
            ("example", "first bad read"),
        ]),
        rows,
        claim: Claim {
            text: format!(
                "for every quorum size, masking quorums fail at n = 4f ({} bad reads at n=4, f=1, q=3) and work at n = 4f+1; dissemination quorums fail at n = 3f and work at n = 3f+1 (exhaustive over quorum pairs, faulty sets and replies)",
                masking_at(4)
            ),
            verdict: if ok { ClaimVerdict::Holds } else { ClaimVerdict::Unexpected },
        },
        read: "Malkhi & Reiter, 'Byzantine quorum systems' (Distributed Computing 1998); Vukolić, Quorum Systems (2012) ch. 4; CGR ch. 2 (Byzantine quorums) and ch. 4 (Byzantine registers)".into(),
        notes: vec![
            "a read is bad if it returns anything but the last completed write (an old value, a forged one, or nothing); a quorum size 'works' if no read is bad and some quorum avoids every set of f servers (q ≤ n − f)".into(),
            "a scenario = (write quorum, read quorum, faulty set, one reply per faulty server in the read quorum)".into(),
            format!("control: n=4, f=0, q=3 masking: {} scenarios, {} bad reads", control.scenarios, control.bad_reads),
        ],
        figures: vec![],
    })
}
