//! The driver loop: the one task that owns a node's protocol state and steps it.

use crate::fault::Faults;
use crate::stats::{add, Counters};
use crate::storage::Storage;
use crate::transport::Outgoing;
use std::collections::{BTreeMap, BTreeSet, VecDeque};
use std::io;
use std::sync::Arc;
use synod_core::{Ctx, Effect, Input, NodeId, Prng, Protocol};
use tokio::sync::mpsc::{self, error::TryRecvError};
use tokio::time::{sleep_until, Instant};

/// What the transport and the [`crate::Handle`] send the driver.
pub(crate) enum Command<P: Protocol> {
    /// A decoded message from a peer.
    Message(NodeId, P::Msg),
    /// An application request.
    Request(P::Request),
    /// The transport found a peer unreachable (a hint; see `Protocol::on_peer_unreachable`).
    PeerUnreachable(NodeId),
    /// Stop after the current batch.
    Shutdown,
}

/// The driver's state. See [`crate::Running`] for the contract it keeps.
pub(crate) struct Driver<P: Protocol> {
    pub protocol: P,
    pub id: NodeId,
    pub n: usize,
    /// `None` until the first step (`Init` or `Recover`) runs.
    pub state: Option<P::State>,
    /// What storage held at start: the argument of `recover`.
    pub recovered: P::Durable,
    /// Answers `Ctx::choose`.
    pub prng: Prng,
    pub timers: Timers<P::Timer>,
    pub inbox: mpsc::Receiver<Command<P>>,
    /// Inputs ready before anything in the inbox: the first step, messages to self.
    pub ready: VecDeque<Input<P>>,
    /// The outgoing queue of each peer, indexed by node id (`None` for this node).
    pub links: Vec<Option<mpsc::Sender<Outgoing<P::Msg>>>>,
    pub indications: mpsc::UnboundedSender<P::Indication>,
    /// Taken out while a blocking persist runs on the blocking pool.
    pub storage: Option<Box<dyn Storage<P::Durable>>>,
    /// Held for the duration of every persist, so [`crate::Handle::crash`] can wait for a write
    /// that outlives the aborted driver on the blocking pool.
    pub storage_busy: Arc<tokio::sync::Mutex<()>>,
    pub faults: Faults,
    pub counters: Arc<Counters>,
    pub batch: usize,
    /// One step's effects (reused).
    pub fx: Vec<Effect<P>>,
    /// The batch's sends and indications, held until its persist is durable (those before its
    /// first `Persist`: until the write starts).
    pub held: Vec<Effect<P>>,
    /// How many of `held` were recorded before the batch's first `Persist`: the contract lets
    /// those out before the fsync (a Raft leader's new entries go to its followers while its
    /// own write is in flight).
    pub before_persist: Option<usize>,
}

impl<P: Protocol> Driver<P> {
    /// Runs until a shutdown command (`Ok`) or a storage failure (`Err`: the node can no longer
    /// keep its promises, so it stops, as after a crash).
    pub async fn run(mut self) -> io::Result<()> {
        loop {
            if self.ready.is_empty() && !self.timers.expired(Instant::now()) {
                tokio::select! {
                    cmd = self.inbox.recv() => match cmd {
                        Some(Command::Message(from, msg)) => {
                            self.ready.push_back(Input::Message(from, msg));
                        }
                        Some(Command::Request(req)) => self.ready.push_back(Input::Request(req)),
                        Some(Command::PeerUnreachable(p)) => {
                            self.ready.push_back(Input::PeerUnreachable(p));
                        }
                        Some(Command::Shutdown) | None => return Ok(()),
                    },
                    () = sleep_until_some(self.timers.next_deadline()) => {}
                }
            }
            if self.run_batch().await? {
                return Ok(());
            }
        }
    }

    /// Steps up to `batch` ready inputs, persists once if any asked to, then releases their
    /// effects. Returns whether a shutdown was requested.
    async fn run_batch(&mut self) -> io::Result<bool> {
        let now = Instant::now();
        let (mut stepped, mut persist, mut stop) = (0usize, false, false);
        while stepped < self.batch {
            let input = if let Some(input) = self.ready.pop_front() {
                input
            } else if let Some(timer) = self.timers.pop_expired(now) {
                Input::Timer(timer)
            } else {
                match self.inbox.try_recv() {
                    Ok(Command::Message(from, msg)) => Input::Message(from, msg),
                    Ok(Command::Request(req)) => Input::Request(req),
                    Ok(Command::PeerUnreachable(p)) => Input::PeerUnreachable(p),
                    Ok(Command::Shutdown) | Err(TryRecvError::Disconnected) => {
                        stop = true;
                        break;
                    }
                    Err(TryRecvError::Empty) => break,
                }
            };
            persist |= self.step(input);
            stepped += 1;
        }
        add(&self.counters.batches, 1);
        add(&self.counters.inputs_stepped, stepped as u64);
        if persist {
            let early = self.before_persist.take().unwrap_or(0);
            self.release(early);
            self.persist().await?;
        }
        self.release(usize::MAX);
        Ok(stop)
    }

    /// Runs one handler. Timer effects apply at once (they are local and invisible, and a
    /// later input of the same batch must see a cancelled timer as cancelled); sends and
    /// indications wait for the batch's commit. Returns whether the handler asked to persist.
    fn step(&mut self, input: Input<P>) -> bool {
        let now = self.faults.local_now();
        let mut fx = std::mem::take(&mut self.fx);
        let mut ctx = Ctx::new(self.id, self.n, now, &mut fx, &mut self.prng);
        synod_core::step(
            &self.protocol,
            &mut self.state,
            &self.recovered,
            input,
            &mut ctx,
        );
        let mut persist = false;
        for effect in fx.drain(..) {
            match effect {
                Effect::SetTimer { timer, after } => {
                    let real = self.faults.real_span(after);
                    self.timers.set(timer, far_deadline(Instant::now(), real));
                }
                Effect::CancelTimer { timer } => self.timers.cancel(&timer),
                Effect::Persist => {
                    persist = true;
                    self.before_persist.get_or_insert(self.held.len());
                }
                visible => self.held.push(visible),
            }
        }
        self.fx = fx;
        persist
    }

    /// Writes `durable(state)` once for the whole batch.
    async fn persist(&mut self) -> io::Result<()> {
        let state = self
            .state
            .as_ref()
            .expect("a node persists only after its first step");
        let value = self.protocol.durable(state);
        let mut storage = self
            .storage
            .take()
            .expect("storage is back after every persist");
        let busy = Arc::clone(&self.storage_busy).lock_owned().await;
        let started = std::time::Instant::now();
        let (storage, written) = if storage.blocks() {
            let job = tokio::task::spawn_blocking(move || {
                let written = storage.persist(value);
                drop(busy);
                (storage, written)
            });
            match job.await {
                Ok(done) => done,
                Err(e) if e.is_panic() => std::panic::resume_unwind(e.into_panic()),
                Err(e) => return Err(io::Error::other(e)),
            }
        } else {
            let written = storage.persist(value);
            drop(busy);
            (storage, written)
        };
        self.storage = Some(storage);
        let written =
            written.map_err(|e| io::Error::new(e.kind(), format!("persist failed: {e}")))?;
        let c = &self.counters;
        add(&c.persists, 1);
        add(&c.storage_bytes, written.bytes);
        add(&c.checkpoints, u64::from(written.checkpoint));
        if written.synced {
            add(&c.fsyncs, 1);
            add(&c.fsync_nanos, started.elapsed().as_nanos() as u64);
        }
        Ok(())
    }

    /// Makes the first `upto` of the batch's held sends and indications visible, in the order
    /// recorded.
    fn release(&mut self, upto: usize) {
        let mut held = std::mem::take(&mut self.held);
        let upto = upto.min(held.len());
        for effect in held.drain(..upto) {
            match effect {
                Effect::Send { to, msg } => self.send(to, msg),
                Effect::Indicate(ind) => {
                    // The application may have dropped its receiver: it no longer listens.
                    let _ = self.indications.send(ind);
                }
                other => unreachable!("{other:?} is applied when recorded"),
            }
        }
        self.held = held;
    }

    fn send(&mut self, to: NodeId, msg: P::Msg) {
        assert!(
            to.index() < self.n,
            "{} sent a message to {to}, but the cluster has {} nodes",
            self.id,
            self.n
        );
        if to == self.id {
            self.ready.push_back(Input::Message(to, msg));
            return;
        }
        let link = self.links[to.index()]
            .as_ref()
            .expect("every peer has a link");
        let out = Outgoing {
            queued_at: Instant::now(),
            msg,
        };
        if link.try_send(out).is_err() {
            add(&self.counters.dropped_queue_full, 1);
        }
    }
}

/// `now + span`, or a deadline decades away if that overflows (a timer set for "never").
fn far_deadline(now: Instant, span: std::time::Duration) -> Instant {
    now.checked_add(span)
        .unwrap_or_else(|| now + std::time::Duration::from_secs(1 << 30))
}

async fn sleep_until_some(deadline: Option<Instant>) {
    match deadline {
        Some(at) => sleep_until(at).await,
        None => std::future::pending().await,
    }
}

/// A node's pending timers: at most one deadline per timer name (contract point 4).
#[derive(Debug)]
pub(crate) struct Timers<T> {
    by_name: BTreeMap<T, Instant>,
    by_deadline: BTreeSet<(Instant, T)>,
}

impl<T> Default for Timers<T> {
    fn default() -> Timers<T> {
        Timers {
            by_name: BTreeMap::new(),
            by_deadline: BTreeSet::new(),
        }
    }
}

impl<T: Ord + Clone> Timers<T> {
    /// Sets `timer` to fire at `at`, replacing its pending deadline.
    pub fn set(&mut self, timer: T, at: Instant) {
        if let Some(old) = self.by_name.insert(timer.clone(), at) {
            self.by_deadline.remove(&(old, timer.clone()));
        }
        self.by_deadline.insert((at, timer));
    }

    /// Removes `timer` if pending.
    pub fn cancel(&mut self, timer: &T) {
        if let Some(old) = self.by_name.remove(timer) {
            self.by_deadline.remove(&(old, timer.clone()));
        }
    }

    pub fn next_deadline(&self) -> Option<Instant> {
        self.by_deadline.first().map(|(at, _)| *at)
    }

    pub fn expired(&self, now: Instant) -> bool {
        self.next_deadline().is_some_and(|at| at <= now)
    }

    /// Removes and returns the earliest timer due by `now`: each setting fires at most once.
    pub fn pop_expired(&mut self, now: Instant) -> Option<T> {
        if !self.expired(now) {
            return None;
        }
        let (_, timer) = self.by_deadline.pop_first()?;
        self.by_name.remove(&timer);
        Some(timer)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::time::Duration;

    #[test]
    fn timers_replace_cancel_and_fire_once_in_deadline_order() {
        let t0 = Instant::now();
        let at = |ms| t0 + Duration::from_millis(ms);
        let mut timers = Timers::default();
        timers.set("a", at(30));
        timers.set("b", at(20));
        timers.set("a", at(10)); // replaces a@30
        timers.set("c", at(15));
        timers.cancel(&"c");
        assert_eq!(timers.next_deadline(), Some(at(10)));
        assert_eq!(timers.pop_expired(at(5)), None);
        assert_eq!(timers.pop_expired(at(25)), Some("a"));
        assert_eq!(timers.pop_expired(at(25)), Some("b"));
        assert_eq!(
            timers.pop_expired(at(100)),
            None,
            "a@30 was replaced, c cancelled"
        );
        assert_eq!(timers.next_deadline(), None);
    }
}
