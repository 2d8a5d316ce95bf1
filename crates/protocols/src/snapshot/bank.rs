//! The bank: the classic application for snapshots.
//!
//! Each of n processes holds a balance (`initial` at the start). On its transfer timer (every
//! `period` on average, while its local clock is below `stop`) or on a [`BankRequest`], a
//! process sends a random amount it holds to a random peer; receiving a transfer adds it to the
//! balance. The total, balances plus money in transit, never changes: a recorded global state
//! whose total differs is not a state the bank could have been in. Transfers are numbered per
//! sender, so each is unique. Randomness comes from [`Ctx::choose`].

use super::{Conserved, Recordable};
use serde::{Deserialize, Serialize};
use synod_core::{Ctx, Duration, Instant, NodeId, Protocol};

/// The bank's configuration.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Bank {
    /// Every account's balance at the start.
    pub initial: i64,
    /// Mean time between a process's transfers (`None`: transfers only on request).
    pub period: Option<Duration>,
    /// Largest amount of one transfer.
    pub max_amount: i64,
    /// No timed transfer at or after this local time.
    pub stop: Instant,
}

impl Bank {
    /// Accounts of `initial`, a transfer of up to `max_amount` every `period` on average (timed
    /// transfers stop at local time `stop`).
    pub fn new(initial: i64, period: Duration, max_amount: i64, stop: Instant) -> Bank {
        Bank {
            initial,
            period: Some(period),
            max_amount: max_amount.max(1),
            stop,
        }
    }

    /// Accounts of `initial` that transfer only when asked ([`BankRequest::Transfer`]).
    pub fn on_request(initial: i64) -> Bank {
        Bank {
            initial,
            period: None,
            max_amount: 1,
            stop: Instant::MAX,
        }
    }
}

/// A transfer in transit.
#[derive(Clone, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
pub struct Transfer {
    /// The sender's sequence number (unique per sender).
    pub seq: u64,
    /// The amount moved.
    pub amount: i64,
}

/// A request to a bank process.
#[derive(Clone, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub enum BankRequest {
    /// Send `amount` to `to` (ignored if the balance is short or `to` is not a peer).
    Transfer {
        /// The receiver.
        to: NodeId,
        /// The amount.
        amount: i64,
    },
}

/// The bank's one timer.
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
pub struct BankTimer;

/// One account.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct BankState {
    /// The balance.
    pub balance: i64,
    /// Transfers sent so far (the next one's sequence number).
    pub sent: u64,
}

impl Bank {
    fn arm(&self, ctx: &mut Ctx<'_, Self>) {
        if let Some(p) = self.period {
            // Uniform in [p/2, 3p/2): mean p.
            let jitter = Duration(p.as_nanos() / 1000 * ctx.choose(1000) as u64);
            ctx.set_timer(BankTimer, Duration(p.as_nanos() / 2) + jitter);
        }
    }

    fn transfer(&self, s: &mut BankState, to: NodeId, amount: i64, ctx: &mut Ctx<'_, Self>) {
        if amount <= 0 || amount > s.balance || to == ctx.id() || to.index() >= ctx.n() {
            return;
        }
        s.balance -= amount;
        ctx.send(
            to,
            Transfer {
                seq: s.sent,
                amount,
            },
        );
        s.sent += 1;
    }
}

impl Protocol for Bank {
    type Msg = Transfer;
    type Timer = BankTimer;
    type Request = BankRequest;
    type Indication = ();
    type State = BankState;
    type Durable = ();

    fn init(&self, ctx: &mut Ctx<'_, Self>) -> BankState {
        self.arm(ctx);
        BankState {
            balance: self.initial,
            sent: 0,
        }
    }

    fn on_message(
        &self,
        s: &mut BankState,
        _from: NodeId,
        msg: Transfer,
        _ctx: &mut Ctx<'_, Self>,
    ) {
        // A negative amount from a peer would be a bad value: ignore it.
        if msg.amount > 0 {
            s.balance += msg.amount;
        }
    }

    fn on_timer(&self, s: &mut BankState, _t: BankTimer, ctx: &mut Ctx<'_, Self>) {
        if ctx.now() >= self.stop {
            return;
        }
        if s.balance > 0 && ctx.n() > 1 {
            let amount = 1 + ctx.choose(s.balance.min(self.max_amount) as usize) as i64;
            let to = ctx.random_peer();
            self.transfer(s, to, amount, ctx);
        }
        self.arm(ctx);
    }

    fn on_request(&self, s: &mut BankState, req: BankRequest, ctx: &mut Ctx<'_, Self>) {
        let BankRequest::Transfer { to, amount } = req;
        self.transfer(s, to, amount, ctx);
    }

    fn invariants(&self, s: &BankState) {
        assert!(s.balance >= 0, "a balance went negative: {}", s.balance);
    }
}

impl Recordable for Bank {
    type Recorded = i64;

    fn record(&self, s: &BankState) -> i64 {
        s.balance
    }
}

impl Conserved for Bank {
    fn initial_amount(&self, _node: NodeId) -> i64 {
        self.initial
    }

    fn recorded_amount(&self, recorded: &i64) -> i64 {
        *recorded
    }

    fn message_amount(&self, msg: &Transfer) -> i64 {
        msg.amount.max(0)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use synod_sim::{SimConfig, Simulation};

    #[test]
    fn transfers_conserve_the_total() {
        for seed in 0..5 {
            let mut cfg = SimConfig::new(5, seed);
            cfg.until = Instant::from_secs(20);
            let bank = Bank::new(100, Duration::from_millis(5), 30, Instant::from_secs(2));
            let out = Simulation::new(bank, cfg).unwrap().run();
            assert!(out.stats.messages_sent > 1000, "not vacuous");
            // Transfers stop at 2s; by 20s nothing is in transit (asynchronous delays of
            // 1..10ms stretched at most 1000×).
            assert_eq!(out.stats.messages_delivered, out.stats.messages_sent);
            let total: i64 = out.states.iter().flatten().map(|s| s.balance).sum();
            assert_eq!(total, 500, "seed {seed}");
        }
    }
}
