//! The stubborn link: CGR's "Retransmit Forever" over the fair-loss network.
//!
//! **Model.** Any timing model; crash-stop processes (a crash forgets what was being
//! retransmitted; a recovered node starts afresh). Needs only a fair-loss network: a message
//! sent infinitely often arrives infinitely often.
//!
//! **Algorithm.** Send each requested message at once and remember it; every `period`, one
//! periodic timer retransmits every message ever sent. Every arriving copy is delivered: there
//! is no duplicate elimination, that is the job of the layer above
//! ([`super::EliminateDuplicates`]).
//!
//! **Properties** (CGR module "stubborn point-to-point links"):
//! - *SL1 stubborn delivery*: if a correct process p sends m once to a correct process q, q
//!   delivers m infinitely often. A finite run checks the stand-in
//!   [`super::properties::stubborn_delivery`]: sent in the first half of the run, delivered at
//!   least twice by its end;
//! - *SL2 no creation* ([`super::properties::no_creation`]).
//!
//! The cost is the point of the exercise: the link never stops sending, and the number of
//! messages on the wire grows with everything ever sent.
//!
//! **Canary.** [`StubbornLink::canary_gives_up`] stops retransmitting a message after `k`
//! retransmissions; with loss, some messages then arrive fewer than twice (or never), and
//! stubborn delivery is violated.
//!
//! **Read:** CGR §2.4.3 (stubborn links, Algorithm "Retransmit Forever").

use serde::{Deserialize, Serialize};
use std::fmt;
use std::marker::PhantomData;
use synod_core::{Ctx, Duration, LinkDeliver, LinkSend, Message, NodeId, Protocol};

/// The stubborn link ("Retransmit Forever"). Its messages are the payloads themselves.
pub struct StubbornLink<M> {
    /// How often every message sent so far is sent again.
    pub period: Duration,
    /// `None` for the real protocol. `Some(k)` is the CANARY: a message is dropped from the
    /// retransmission set after `k` retransmissions.
    pub give_up_after: Option<u32>,
    _payload: PhantomData<fn() -> M>,
}

impl<M> StubbornLink<M> {
    /// A stubborn link that retransmits every `period`, forever.
    ///
    /// # Panics
    /// If `period` is zero (the link would retransmit in a busy loop).
    pub fn new(period: Duration) -> Self {
        assert!(
            period > Duration::ZERO,
            "StubbornLink: the period must be above zero"
        );
        StubbornLink {
            period,
            give_up_after: None,
            _payload: PhantomData,
        }
    }

    /// CANARY: a "stubborn" link that gives up on a message after `k` retransmissions, breaking
    /// stubborn delivery under loss.
    pub fn canary_gives_up(period: Duration, k: u32) -> Self {
        StubbornLink {
            give_up_after: Some(k),
            ..Self::new(period)
        }
    }
}

impl<M> Clone for StubbornLink<M> {
    fn clone(&self) -> Self {
        StubbornLink {
            period: self.period,
            give_up_after: self.give_up_after,
            _payload: PhantomData,
        }
    }
}

impl<M> fmt::Debug for StubbornLink<M> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("StubbornLink")
            .field("period", &self.period)
            .field("give_up_after", &self.give_up_after)
            .finish()
    }
}

/// The stubborn link's one timer.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
pub enum StubbornTimer {
    /// Time to retransmit everything sent so far (fires every `period`).
    Retransmit,
}

/// A stubborn link node's state: everything it ever sent.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct StubbornState<M> {
    /// `(receiver, payload, retransmissions)` for every message sent, in request order. The
    /// retransmission count is only kept by the canary (it stays 0 otherwise, so the state does
    /// not grow with time).
    pub sent: Vec<(NodeId, M, u32)>,
}

impl<M> Default for StubbornState<M> {
    fn default() -> Self {
        StubbornState { sent: Vec::new() }
    }
}

impl<M: Message> Protocol for StubbornLink<M> {
    type Msg = M;
    type Timer = StubbornTimer;
    type Request = LinkSend<M>;
    type Indication = LinkDeliver<M>;
    type State = StubbornState<M>;
    type Durable = ();

    fn init(&self, ctx: &mut Ctx<'_, Self>) -> StubbornState<M> {
        ctx.set_timer(StubbornTimer::Retransmit, self.period);
        StubbornState::default()
    }

    fn on_message(&self, _s: &mut Self::State, from: NodeId, payload: M, ctx: &mut Ctx<'_, Self>) {
        ctx.indicate(LinkDeliver { from, payload });
    }

    fn on_timer(&self, s: &mut Self::State, _t: StubbornTimer, ctx: &mut Ctx<'_, Self>) {
        if let Some(k) = self.give_up_after {
            s.sent.retain(|(_, _, count)| *count < k);
        }
        for (to, payload, count) in &mut s.sent {
            ctx.send(*to, payload.clone());
            if self.give_up_after.is_some() {
                *count += 1;
            }
        }
        ctx.set_timer(StubbornTimer::Retransmit, self.period);
    }

    fn on_request(&self, s: &mut Self::State, req: LinkSend<M>, ctx: &mut Ctx<'_, Self>) {
        ctx.send(req.to, req.payload.clone());
        s.sent.push((req.to, req.payload, 0));
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use synod_core::{Effect, FirstChoice, Instant};

    type S = StubbornLink<u8>;

    fn step(f: impl FnOnce(&mut Ctx<'_, S>)) -> Vec<Effect<S>> {
        let mut fx = Vec::new();
        let mut chooser = FirstChoice;
        let mut ctx = Ctx::new(NodeId(0), 2, Instant::ZERO, &mut fx, &mut chooser);
        f(&mut ctx);
        fx
    }

    fn sends(fx: &[Effect<S>]) -> usize {
        fx.iter()
            .filter(|e| matches!(e, Effect::Send { .. }))
            .count()
    }

    #[test]
    fn retransmits_forever_unless_canary() {
        let period = Duration::from_millis(100);
        for (link, expected) in [
            (S::new(period), vec![1, 1, 1, 1]),
            (S::canary_gives_up(period, 2), vec![1, 1, 0, 0]),
        ] {
            let mut state = StubbornState::default();
            let init = step(|ctx| state = link.init(ctx));
            assert_eq!(
                init,
                vec![Effect::SetTimer {
                    timer: StubbornTimer::Retransmit,
                    after: period
                }]
            );
            let req = LinkSend {
                to: NodeId(1),
                payload: 7,
            };
            assert_eq!(sends(&step(|ctx| link.on_request(&mut state, req, ctx))), 1);
            let mut got = Vec::new();
            for _ in 0..4 {
                let fx = step(|ctx| link.on_timer(&mut state, StubbornTimer::Retransmit, ctx));
                assert!(fx.contains(&Effect::SetTimer {
                    timer: StubbornTimer::Retransmit,
                    after: period
                }));
                got.push(sends(&fx));
            }
            assert_eq!(got, expected, "{link:?}");
        }
    }

    #[test]
    fn delivers_every_copy() {
        let link = S::new(Duration::from_millis(100));
        let mut state = StubbornState::default();
        for _ in 0..2 {
            let fx = step(|ctx| link.on_message(&mut state, NodeId(1), 3, ctx));
            assert_eq!(
                fx,
                vec![Effect::Indicate(LinkDeliver {
                    from: NodeId(1),
                    payload: 3
                })]
            );
        }
    }
}
