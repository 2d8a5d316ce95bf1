//! The φ accrual failure detector: a suspicion *level* instead of a yes/no timeout.
//!
//! **Algorithm.** Every process broadcasts `Heartbeat` at start and then every `period`. For
//! each peer q, a process keeps the arrival time of q's last heartbeat and the last `window`
//! inter-arrival times (integer nanoseconds, with running sums so the mean and variance cost
//! O(1)). At time t, with μ and σ the sample mean and standard deviation of the window (σ at least
//! `min_std`), the suspicion level is
//!
//! ```text
//! φ(t) = −log10(1 − F(t − last)),   F the normal CDF with mean μ and standard deviation σ,
//! ```
//!
//! i.e. φ = k means "if q were alive, a silence this long would happen with probability
//! 10^−k". Every `check_every`, each process suspects every peer whose φ exceeds `threshold`;
//! the next heartbeat from a suspected peer restores it. Before the first inter-arrival time is
//! known, the estimate is μ = `period`, σ = max(`min_std`, `period`/4).
//!
//! **Numerics.** `1 − F` is the normal upper tail `Q(z) = erfc(z/√2)/2` with `z = (t − last − μ)/σ`.
//! Computing `Q` and then its logarithm underflows to 0 (φ = ∞) for z above about 38. Instead,
//! φ is computed in log space: the complementary error function is approximated by the
//! Chebyshev fit `erfc(x) ≈ u·exp(−x² + P(u))`, `u = 1/(1 + x/2)` (Press et al., *Numerical
//! Recipes*, §6.2; fractional error below 1.2·10⁻⁷ for every x ≥ 0), whose logarithm
//! `ln u − x² + P(u)` is exact arithmetic on moderate numbers: φ grows like z²/(2 ln 10) and
//! stays finite however long the silence. (Hayashibara's successors, e.g. Akka, use a logistic
//! approximation of the normal CDF instead; it is cheaper but its tail is exponential rather
//! than Gaussian.)
//!
//! **Model.** Crash-stop processes; heartbeats on the raw (fair-loss) network. The detector
//! assumes inter-arrival times are roughly stationary and normal: it adapts to the observed
//! jitter rather than to a known Δ. It gives no accuracy guarantee on its own: a larger
//! `threshold` trades a longer detection time for fewer mistakes (see [`super::qos`]). With a
//! crash, φ grows without bound, so strong completeness holds.
//!
//! **Properties:** strong completeness ([`super::properties::strong_completeness`]); accuracy is
//! a matter of degree, measured by [`super::qos::measure`].
//!
//! **Read:** Hayashibara, Défago, Yared and Katayama, "The φ accrual failure detector", SRDS 2004;
//! Chen, Toueg and Aguilera 2002 (the QoS metrics used to compare thresholds).

use super::{FdIndication, FdView, HbMsg};
use serde::{Deserialize, Serialize};
use std::collections::{BTreeMap, VecDeque};
use synod_core::{Ctx, Duration, Instant, NodeId, Protocol};

/// Inter-arrival samples are capped at this many nanoseconds (about 18 minutes) so the running
/// sums of squares cannot overflow.
const MAX_SAMPLE: u64 = 1 << 40;

/// The φ accrual failure detector.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct PhiAccrual {
    /// How often every process broadcasts a heartbeat.
    pub period: Duration,
    /// Suspect a peer when its φ exceeds this: with threshold k, a live peer whose heartbeats
    /// follow the estimated distribution is suspected when its silence is one it would exceed
    /// with probability 10^−k (1: 10%, 8: 10⁻⁸).
    pub threshold: f64,
    /// How many inter-arrival times to keep per peer.
    pub window: usize,
    /// A floor on the estimated standard deviation (a perfectly regular history would otherwise
    /// make any delay infinitely suspicious).
    pub min_std: Duration,
    /// How often φ is compared with the threshold.
    pub check_every: Duration,
}

impl PhiAccrual {
    /// Heartbeats every `period`, suspect when φ > `threshold`; window of 100 samples,
    /// `min_std` = period/10, checks every period/10.
    ///
    /// # Panics
    /// If `period` is below 10 ns or `threshold` is not a positive number.
    pub fn new(period: Duration, threshold: f64) -> PhiAccrual {
        assert!(
            period.as_nanos() >= 10,
            "PhiAccrual: the period must be at least 10ns"
        );
        assert!(
            threshold > 0.0 && threshold.is_finite(),
            "PhiAccrual: the threshold must be a positive number"
        );
        PhiAccrual {
            period,
            threshold,
            window: 100,
            min_std: Duration(period.as_nanos() / 10),
            check_every: Duration(period.as_nanos() / 10),
        }
    }

    /// The suspicion level of `peer` at local time `now` in `state` (0 for an unknown peer).
    pub fn phi(&self, state: &PhiState, peer: NodeId, now: Instant) -> f64 {
        let Some(p) = state.peers.get(&peer) else {
            return 0.0;
        };
        let (mean, std) = self.estimate(p);
        let elapsed = now.saturating_since(p.last).as_nanos() as f64;
        phi_normal((elapsed - mean) / std)
    }

    /// The (mean, standard deviation) of `p`'s inter-arrival times, in nanoseconds.
    fn estimate(&self, p: &PhiPeer) -> (f64, f64) {
        let floor = (self.min_std.as_nanos() as f64).max(1.0);
        let k = p.intervals.len();
        if k == 0 {
            let period = self.period.as_nanos() as f64;
            return (period, floor.max(period / 4.0));
        }
        let k = k as f64;
        let mean = p.sum as f64 / k;
        let var = (p.sum_sq as f64 / k - mean * mean).max(0.0);
        (mean, var.sqrt().max(floor))
    }
}

/// `-log10(Q(z))`, Q the standard normal upper tail, computed without underflow.
fn phi_normal(z: f64) -> f64 {
    if z.is_nan() {
        return 0.0;
    }
    let x = z.abs() / std::f64::consts::SQRT_2;
    let ln_erfc = ln_erfc_nonneg(x);
    let ln_q = if z >= 0.0 {
        // Q(z) = erfc(x)/2.
        ln_erfc - std::f64::consts::LN_2
    } else {
        // Q(z) = 1 − erfc(x)/2, close to 1: use ln(1 + y) for precision.
        (-(0.5 * ln_erfc.exp())).ln_1p()
    };
    (-ln_q / std::f64::consts::LN_10).max(0.0)
}

/// `ln(erfc(x))` for `x >= 0`, from the Chebyshev fit of Numerical Recipes §6.2
/// (`erfc(x) = u·exp(−x² + P(u))`, `u = 1/(1 + x/2)`, fractional error < 1.2e-7).
fn ln_erfc_nonneg(x: f64) -> f64 {
    if x.is_infinite() {
        return f64::NEG_INFINITY;
    }
    const C: [f64; 10] = [
        -1.265_512_23,
        1.000_023_68,
        0.374_091_96,
        0.096_784_18,
        -0.186_288_06,
        0.278_868_07,
        -1.135_203_98,
        1.488_515_87,
        -0.822_152_23,
        0.170_872_77,
    ];
    let u = 1.0 / (1.0 + 0.5 * x);
    let poly = C.iter().rev().fold(0.0, |acc, c| acc * u + c);
    u.ln() - x * x + poly
}

/// The φ detector's timers.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
pub enum PhiTimer {
    /// Time to broadcast the next heartbeat.
    Beat,
    /// Time to compare every peer's φ with the threshold.
    Check,
}

/// What a process knows about one peer.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct PhiPeer {
    /// When the last heartbeat arrived (local clock; the start time before the first).
    pub last: Instant,
    /// Has any heartbeat arrived yet?
    pub heard: bool,
    /// The last `window` inter-arrival times, in nanoseconds, oldest first.
    pub intervals: VecDeque<u64>,
    /// Sum of `intervals`.
    pub sum: u128,
    /// Sum of the squares of `intervals`.
    pub sum_sq: u128,
    /// Is the peer suspected?
    pub suspected: bool,
}

/// A φ detector node's state.
#[derive(Clone, Debug, Default, PartialEq, Eq, Hash)]
pub struct PhiState {
    /// Every other process, by id.
    pub peers: BTreeMap<NodeId, PhiPeer>,
}

impl Protocol for PhiAccrual {
    type Msg = HbMsg;
    type Timer = PhiTimer;
    type Request = ();
    type Indication = FdIndication;
    type State = PhiState;
    type Durable = ();

    fn init(&self, ctx: &mut Ctx<'_, Self>) -> PhiState {
        let now = ctx.now();
        let peers = ctx
            .peers()
            .map(|q| {
                (
                    q,
                    PhiPeer {
                        last: now,
                        heard: false,
                        intervals: VecDeque::new(),
                        sum: 0,
                        sum_sq: 0,
                        suspected: false,
                    },
                )
            })
            .collect();
        ctx.broadcast(HbMsg::Heartbeat);
        ctx.set_timer(PhiTimer::Beat, self.period.max(Duration(1)));
        ctx.set_timer(PhiTimer::Check, self.check_every.max(Duration(1)));
        PhiState { peers }
    }

    fn on_message(&self, s: &mut PhiState, from: NodeId, msg: HbMsg, ctx: &mut Ctx<'_, Self>) {
        let HbMsg::Heartbeat = msg;
        let Some(p) = s.peers.get_mut(&from) else {
            return;
        };
        let now = ctx.now();
        if p.heard && self.window > 0 {
            let x = now.saturating_since(p.last).as_nanos().min(MAX_SAMPLE);
            if p.intervals.len() >= self.window {
                if let Some(old) = p.intervals.pop_front() {
                    p.sum -= old as u128;
                    p.sum_sq -= (old as u128) * (old as u128);
                }
            }
            p.intervals.push_back(x);
            p.sum += x as u128;
            p.sum_sq += (x as u128) * (x as u128);
        }
        p.heard = true;
        p.last = now;
        if p.suspected {
            p.suspected = false;
            ctx.indicate(FdIndication::Restore(from));
        }
    }

    fn on_timer(&self, s: &mut PhiState, timer: PhiTimer, ctx: &mut Ctx<'_, Self>) {
        match timer {
            PhiTimer::Beat => {
                ctx.broadcast(HbMsg::Heartbeat);
                ctx.set_timer(PhiTimer::Beat, self.period.max(Duration(1)));
            }
            PhiTimer::Check => {
                let now = ctx.now();
                let newly: Vec<NodeId> = s
                    .peers
                    .iter()
                    .filter(|(q, p)| !p.suspected && self.phi(s, **q, now) > self.threshold)
                    .map(|(q, _)| *q)
                    .collect();
                for q in newly {
                    if let Some(p) = s.peers.get_mut(&q) {
                        p.suspected = true;
                    }
                    ctx.indicate(FdIndication::Suspect(q));
                }
                ctx.set_timer(PhiTimer::Check, self.check_every.max(Duration(1)));
            }
        }
    }

    fn on_request(&self, _s: &mut PhiState, _req: (), _ctx: &mut Ctx<'_, Self>) {}
}

impl FdView for PhiAccrual {
    fn fd_event(ind: &FdIndication) -> Option<FdIndication> {
        Some(*ind)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tail_matches_known_values_and_stays_finite() {
        // Q(0) = 0.5, Q(1.2816) ≈ 0.1, Q(5.612) ≈ 1e-8, Q(-1.2816) ≈ 0.9.
        assert!((phi_normal(0.0) - 0.5f64.log10().abs()).abs() < 1e-6);
        assert!((phi_normal(1.281_551_6) - 1.0).abs() < 1e-5);
        assert!((phi_normal(5.612) - 8.0).abs() < 1e-3);
        assert!((phi_normal(-1.281_551_6) - (-(0.9f64).log10())).abs() < 1e-6);
        // Far in the tail a naive 1 − F would be 0 (φ = ∞); here φ ≈ z²/(2 ln 10).
        let far = phi_normal(100.0);
        assert!(far.is_finite() && (far / (100.0 * 100.0 / (2.0 * 10f64.ln())) - 1.0).abs() < 0.01);
        // Monotone.
        let mut prev = 0.0;
        for i in -50..400 {
            let v = phi_normal(i as f64 / 10.0);
            assert!(v >= prev, "phi not monotone at z = {}", i as f64 / 10.0);
            prev = v;
        }
    }
}
