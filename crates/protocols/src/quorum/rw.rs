//! Read/write quorums (R + W > N, 2W > N) and Byzantine threshold quorums (Malkhi & Reiter
//! 1998), with an exhaustive check of a Byzantine register read over every pair of quorums,
//! every set of f faulty servers and every lie they can tell.

use super::nodeset::{for_each_subset, NodeSet};
use super::prob;

/// Threshold read and write quorums over `n` replicas: a read contacts `r`, a write `w`
/// (Gifford 1979; Dynamo-style N, R, W, DDIA ch. 5).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct ReadWriteQuorums {
    /// Replicas.
    pub n: usize,
    /// Read quorum size.
    pub r: usize,
    /// Write quorum size.
    pub w: usize,
}

/// Two quorums that should meet and do not.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Disjoint {
    /// Which requirement failed: `read-write` or `write-write`.
    pub kind: &'static str,
    /// One quorum.
    pub a: NodeSet,
    /// The other, disjoint from `a`.
    pub b: NodeSet,
}

impl ReadWriteQuorums {
    /// `n` replicas, reads of `r`, writes of `w` (each in 1..=n).
    pub fn new(n: usize, r: usize, w: usize) -> ReadWriteQuorums {
        assert!(
            (1..=n).contains(&r) && (1..=n).contains(&w),
            "1 <= r, w <= n"
        );
        ReadWriteQuorums { n, r, w }
    }

    /// The structural condition: every read meets every write (R + W > N) and every two writes
    /// meet (2W > N).
    pub fn is_strict(&self) -> bool {
        self.r + self.w > self.n && 2 * self.w > self.n
    }

    /// Checks the two requirements by comparing every read quorum with every write quorum and
    /// every two write quorums (n ≤ 16); `Err` holds a disjoint pair.
    pub fn check_enumerated(&self) -> Result<u64, Disjoint> {
        assert!(self.n <= 16, "enumeration is for n <= 16");
        let (mut reads, mut writes) = (Vec::new(), Vec::new());
        for_each_subset(self.n, self.r, |s| reads.push(s));
        for_each_subset(self.n, self.w, |s| writes.push(s));
        let mut pairs = 0u64;
        for a in &writes {
            for b in &reads {
                pairs += 1;
                if a.is_disjoint(b) {
                    return Err(Disjoint {
                        kind: "read-write",
                        a: *b,
                        b: *a,
                    });
                }
            }
            for b in &writes {
                pairs += 1;
                if a.is_disjoint(b) {
                    return Err(Disjoint {
                        kind: "write-write",
                        a: *a,
                        b: *b,
                    });
                }
            }
        }
        Ok(pairs)
    }

    /// The probability that no read quorum is live (fewer than r replicas up).
    pub fn read_failure(&self, p: f64) -> f64 {
        prob::binomial_tail_ge(self.n, self.n - self.r + 1, p)
    }

    /// The probability that no write quorum is live.
    pub fn write_failure(&self, p: f64) -> f64 {
        prob::binomial_tail_ge(self.n, self.n - self.w + 1, p)
    }
}

/// The two classic kinds of Byzantine quorum systems (Malkhi & Reiter 1998).
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub enum ByzKind {
    /// For self-verifying (signed) data: two quorums share at least f + 1 servers, so at least
    /// one correct one. Threshold construction needs n > 3f.
    Dissemination,
    /// For unsigned data: two quorums share at least 2f + 1 servers, so the correct ones in the
    /// intersection (≥ f + 1) outvote the faulty ones (≤ f). Needs n > 4f.
    Masking,
}

impl ByzKind {
    /// `dissemination` or `masking`.
    pub fn label(self) -> &'static str {
        match self {
            ByzKind::Dissemination => "dissemination",
            ByzKind::Masking => "masking",
        }
    }

    /// The intersection size two quorums need with f faulty servers: f + 1 or 2f + 1.
    pub fn required_meet(self, f: usize) -> usize {
        match self {
            ByzKind::Dissemination => f + 1,
            ByzKind::Masking => 2 * f + 1,
        }
    }
}

/// Threshold Byzantine quorums: every set of `q` of the `n` servers, up to `f` of them faulty.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct ByzQuorums {
    /// Servers.
    pub n: usize,
    /// Faulty servers tolerated.
    pub f: usize,
    /// Quorum size.
    pub q: usize,
    /// The kind.
    pub kind: ByzKind,
}

impl ByzQuorums {
    /// The smallest quorum size meeting the intersection requirement:
    /// q = ⌈(n + required_meet) / 2⌉ (since two q-sets share at least 2q − n servers).
    pub fn smallest(n: usize, f: usize, kind: ByzKind) -> ByzQuorums {
        let q = (n + kind.required_meet(f)).div_ceil(2).min(n);
        ByzQuorums { n, f, q, kind }
    }

    /// Structural consistency: 2q − n ≥ required meet.
    pub fn is_consistent(&self) -> bool {
        2 * self.q >= self.n + self.kind.required_meet(self.f)
    }

    /// Structural availability: some quorum avoids any f servers (q ≤ n − f).
    pub fn is_available(&self) -> bool {
        self.q + self.f <= self.n
    }

    /// The smallest intersection of two quorums, by enumeration (n ≤ 16).
    pub fn min_meet_enumerated(&self) -> usize {
        assert!(self.n <= 16, "enumeration is for n <= 16");
        let mut qs = Vec::new();
        for_each_subset(self.n, self.q, |s| qs.push(s));
        let mut m = usize::MAX;
        for a in &qs {
            for b in &qs {
                m = m.min(a.meet(b));
            }
        }
        m
    }
}

/// What a read returned in [`byz_read`].
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub enum ReadResult {
    /// The value of the last completed write (correct).
    Latest,
    /// The value the write replaced (a stale read).
    Stale,
    /// A value nobody wrote (a forged read).
    Forged,
    /// Nothing could be decided (no value vouched for by f + 1 servers).
    Nothing,
}

/// A server's reply to a read: a timestamped value (0: the initial value, 1: the last completed
/// write, 2: a forgery with a timestamp nobody wrote).
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub enum Reply {
    /// (timestamp 0, the old value).
    Old,
    /// (timestamp 1, the new value).
    New,
    /// (timestamp 2, a value nobody wrote); detected and dropped under dissemination (signed
    /// data), believed if f + 1 servers vouch for it under masking.
    Forged,
}

/// The reader's rule on the replies of a read quorum.
///
/// - Dissemination (signed data): drop forgeries (their signature does not verify), take the
///   highest timestamp.
/// - Masking (unsigned): keep the pairs vouched for by at least f + 1 servers, take the highest
///   timestamp among them (Malkhi & Reiter's read).
pub fn byz_read(kind: ByzKind, f: usize, replies: &[Reply]) -> ReadResult {
    let count = |r: Reply| replies.iter().filter(|&&x| x == r).count();
    let best = match kind {
        ByzKind::Dissemination => replies
            .iter()
            .copied()
            .filter(|r| *r != Reply::Forged)
            .max(),
        ByzKind::Masking => [Reply::Forged, Reply::New, Reply::Old]
            .into_iter()
            .find(|&r| count(r) > f),
    };
    match best {
        Some(Reply::New) => ReadResult::Latest,
        Some(Reply::Old) => ReadResult::Stale,
        Some(Reply::Forged) => ReadResult::Forged,
        None => ReadResult::Nothing,
    }
}

/// The outcome of [`byz_exhaustive`].
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ByzCheck {
    /// (write quorum, read quorum, faulty set, lies) scenarios tried.
    pub scenarios: u64,
    /// Scenarios whose read did not return the latest value.
    pub bad_reads: u64,
    /// Whether some quorum avoids every f-set of faulty servers (a faulty server may stay
    /// silent for ever, so a quorum holding one may never answer).
    pub available: bool,
    /// The first bad read: write quorum, read quorum, faulty servers, the faulty servers'
    /// replies and the result.
    pub example: Option<(NodeSet, NodeSet, NodeSet, Vec<Reply>, ReadResult)>,
}

impl ByzCheck {
    /// Whether every read returned the latest write and a quorum is always available.
    pub fn holds(&self) -> bool {
        self.bad_reads == 0 && self.available
    }
}

/// Exhaustively checks a read after a completed write under `sys`: for every write quorum W
/// (its correct servers store the new value; every other correct server keeps the old one),
/// every read quorum R, every set F of f faulty servers and every reply of each faulty server
/// in R (old, new, forged), applies [`byz_read`]. n ≤ 12.
pub fn byz_exhaustive(sys: &ByzQuorums) -> ByzCheck {
    let n = sys.n;
    assert!(n <= 12, "exhaustive Byzantine check is for n <= 12");
    let mut quorums = Vec::new();
    for_each_subset(n, sys.q, |s| quorums.push(s));
    let mut faulty_sets = Vec::new();
    for_each_subset(n, sys.f, |s| faulty_sets.push(s));
    let available = faulty_sets
        .iter()
        .all(|fs| quorums.iter().any(|q| q.is_disjoint(fs)));
    let lies = [Reply::Old, Reply::New, Reply::Forged];
    let mut out = ByzCheck {
        scenarios: 0,
        bad_reads: 0,
        available,
        example: None,
    };
    for w in &quorums {
        for r in &quorums {
            for fs in &faulty_sets {
                let correct: Vec<Reply> = r
                    .iter()
                    .filter(|&i| !fs.contains(i))
                    .map(|i| {
                        if w.contains(i) {
                            Reply::New
                        } else {
                            Reply::Old
                        }
                    })
                    .collect();
                let k = r.meet(fs);
                let combos = 3usize.pow(k as u32);
                for c in 0..combos {
                    let mut code = c;
                    let mut replies = correct.clone();
                    let mut told = Vec::with_capacity(k);
                    for _ in 0..k {
                        told.push(lies[code % 3]);
                        code /= 3;
                    }
                    replies.extend(&told);
                    out.scenarios += 1;
                    let res = byz_read(sys.kind, sys.f, &replies);
                    if res != ReadResult::Latest {
                        out.bad_reads += 1;
                        if out.example.is_none() {
                            out.example = Some((*w, *r, *fs, told, res));
                        }
                    }
                }
            }
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn read_write_conditions_match_enumeration() {
        for n in 1..=7 {
            for r in 1..=n {
                for w in 1..=n {
                    let rw = ReadWriteQuorums::new(n, r, w);
                    assert_eq!(rw.is_strict(), rw.check_enumerated().is_ok(), "{rw:?}");
                }
            }
        }
        let bad = ReadWriteQuorums::new(3, 1, 2)
            .check_enumerated()
            .unwrap_err();
        assert_eq!(bad.kind, "read-write");
        assert!(bad.a.is_disjoint(&bad.b));
        let bad = ReadWriteQuorums::new(4, 3, 2)
            .check_enumerated()
            .unwrap_err();
        assert_eq!(bad.kind, "write-write");
    }

    #[test]
    fn byz_meets_match_two_q_minus_n() {
        for n in 1..=9 {
            for f in 0..=2 {
                for kind in [ByzKind::Dissemination, ByzKind::Masking] {
                    let s = ByzQuorums::smallest(n, f, kind);
                    let m = s.min_meet_enumerated();
                    assert_eq!(m, (2 * s.q).saturating_sub(n));
                    assert_eq!(s.is_consistent(), m >= kind.required_meet(f));
                }
            }
        }
    }

    #[test]
    fn masking_needs_4f_plus_1_and_dissemination_3f_plus_1() {
        // Theory (Malkhi & Reiter): threshold masking quorums exist iff n > 4f, dissemination
        // iff n > 3f. Exhaustively: for every q, either a bad read or unavailability at the
        // bound; a working q just above it.
        for f in 1..=2usize {
            for (kind, bound) in [(ByzKind::Masking, 4 * f), (ByzKind::Dissemination, 3 * f)] {
                let at = (1..=bound).any(|q| {
                    byz_exhaustive(&ByzQuorums {
                        n: bound,
                        f,
                        q,
                        kind,
                    })
                    .holds()
                });
                assert!(!at, "{kind:?} f={f} n={bound} should fail for every q");
                let above = ByzQuorums::smallest(bound + 1, f, kind);
                assert!(byz_exhaustive(&above).holds(), "{above:?}");
            }
        }
    }

    #[test]
    fn reader_rules_by_hand() {
        use Reply::*;
        // Masking, f = 1: one correct New and a liar + a stale server saying Old: stale read.
        assert_eq!(
            byz_read(ByzKind::Masking, 1, &[New, Old, Old]),
            ReadResult::Stale
        );
        assert_eq!(
            byz_read(ByzKind::Masking, 1, &[New, New, Old]),
            ReadResult::Latest
        );
        // Two forgeries outvote under masking with f = 1 only if 2 > f: yes.
        assert_eq!(
            byz_read(ByzKind::Masking, 1, &[Forged, Forged, New]),
            ReadResult::Forged
        );
        // Dissemination drops forgeries and takes the highest timestamp.
        assert_eq!(
            byz_read(ByzKind::Dissemination, 1, &[Forged, Old, New]),
            ReadResult::Latest
        );
        assert_eq!(
            byz_read(ByzKind::Dissemination, 1, &[Forged, Old]),
            ReadResult::Stale
        );
    }
}
