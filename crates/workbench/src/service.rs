//! The services nodes may call, as Maelstrom provides them: `lin-kv`, `seq-kv`, `lww-kv` and
//! `lin-tso`. They live inside the workbench and are reached over the simulated network (with
//! its latency, never cut by partitions).
//!
//! The key-value services share one API: `read{key}` → `read_ok{value}` (error 20 if the key
//! does not exist); `write{key,value}` → `write_ok`; `cas{key,from,to,create_if_not_exists}`
//! → `cas_ok` (error 20 if the key does not exist and may not be created, 22 if its value is
//! not `from`). They differ in what a read may return:
//!
//! - `lin-kv` is linearizable: one map, each request applied when it arrives.
//! - `seq-kv` is sequentially consistent: one total order of all operations that respects
//!   each caller's order, but a read may be served from any state at or after the last one
//!   that caller saw, so it may be stale (monotonic per caller; a caller's own writes
//!   included).
//! - `lww-kv` is three replicas, each request served by a random one; writes carry the
//!   replica's skewed clock and replicas merge lazily, keeping the latest timestamp per key
//!   (last writer wins), so reads may be stale and concurrent writes may be lost.
//!
//! `lin-tso` is a timestamp oracle: `ts` → `ts_ok{ts}`, strictly increasing.
//!
//! Services draw their randomness from their own stream of the run's seed.

use crate::wire::ErrorCode;
use serde_json::{json, Value as Json};
use std::collections::BTreeMap;
use synod_core::Prng;

/// The services' fixed ids.
pub const SERVICE_IDS: [&str; 4] = ["lin-kv", "seq-kv", "lww-kv", "lin-tso"];

/// A service's answer: a reply body (without `in_reply_to`) or an error.
pub type Answer = Result<Json, (ErrorCode, String)>;

/// One service.
#[derive(Debug)]
pub enum Service {
    /// `lin-kv`.
    Lin(BTreeMap<String, Json>),
    /// `seq-kv`.
    Seq(SeqKv),
    /// `lww-kv`.
    Lww(LwwKv),
    /// `lin-tso`.
    Tso(u64),
}

impl Service {
    /// The service with this id (one of [`SERVICE_IDS`]).
    pub fn new(id: &str) -> Service {
        match id {
            "lin-kv" => Service::Lin(BTreeMap::new()),
            "seq-kv" => Service::Seq(SeqKv::default()),
            "lww-kv" => Service::Lww(LwwKv::new(3)),
            _ => Service::Tso(0),
        }
    }

    /// Handles a request from `caller` (an entity index).
    pub fn handle(&mut self, caller: usize, body: &Json, rng: &mut Prng) -> Answer {
        let kind = body["type"].as_str().unwrap_or("");
        if let Service::Tso(next) = self {
            return match kind {
                "ts" => {
                    *next += 1;
                    Ok(json!({"type": "ts_ok", "ts": *next}))
                }
                other => Err(not_supported(other)),
            };
        }
        let req = KvReq::parse(kind, body)?;
        match self {
            Service::Lin(map) => apply(map.get(&req.key).cloned(), &req).map(|(reply, new)| {
                if let Some(v) = new {
                    map.insert(req.key.clone(), v);
                }
                reply
            }),
            Service::Seq(s) => s.handle(caller, &req, rng),
            Service::Lww(s) => s.handle(&req, rng),
            Service::Tso(_) => unreachable!("handled above"),
        }
    }
}

fn not_supported(kind: &str) -> (ErrorCode, String) {
    (
        ErrorCode::NotSupported,
        format!("this service does not support {kind:?} requests"),
    )
}

/// A parsed key-value request.
#[derive(Debug)]
struct KvReq {
    op: KvOp,
    /// The key, as JSON text (keys may be any JSON value).
    key: String,
}

#[derive(Debug)]
enum KvOp {
    Read,
    Write(Json),
    Cas { from: Json, to: Json, create: bool },
}

impl KvReq {
    fn parse(kind: &str, body: &Json) -> Result<KvReq, (ErrorCode, String)> {
        let need = |f: &str| {
            body.get(f).cloned().ok_or((
                ErrorCode::MalformedRequest,
                format!("{kind} needs a \"{f}\" field"),
            ))
        };
        let op = match kind {
            "read" => KvOp::Read,
            "write" => KvOp::Write(need("value")?),
            "cas" => KvOp::Cas {
                from: need("from")?,
                to: need("to")?,
                create: body["create_if_not_exists"].as_bool().unwrap_or(false),
            },
            other => return Err(not_supported(other)),
        };
        Ok(KvReq {
            op,
            key: need("key")?.to_string(),
        })
    }
}

/// Applies `req` to a key whose value is `current`: the reply and the new value, if any.
fn apply(current: Option<Json>, req: &KvReq) -> Result<(Json, Option<Json>), (ErrorCode, String)> {
    match (&req.op, current) {
        (KvOp::Read, Some(v)) => Ok((json!({"type": "read_ok", "value": v}), None)),
        (KvOp::Read, None) => Err((ErrorCode::KeyDoesNotExist, "key does not exist".into())),
        (KvOp::Write(v), _) => Ok((json!({"type": "write_ok"}), Some(v.clone()))),
        (KvOp::Cas { to, create, .. }, None) if *create => {
            Ok((json!({"type": "cas_ok"}), Some(to.clone())))
        }
        (KvOp::Cas { .. }, None) => Err((ErrorCode::KeyDoesNotExist, "key does not exist".into())),
        (KvOp::Cas { from, to, .. }, Some(v)) if v == *from => {
            Ok((json!({"type": "cas_ok"}), Some(to.clone())))
        }
        (KvOp::Cas { from, .. }, Some(v)) => Err((
            ErrorCode::PreconditionFailed,
            format!("expected {from}, but had {v}"),
        )),
    }
}

/// The sequentially consistent store: every write gets the next position of one total
/// order; a read is placed at a random position between the caller's last one and now.
#[derive(Debug, Default)]
pub struct SeqKv {
    /// Per key, its versions as (position, value), positions increasing.
    versions: BTreeMap<String, Vec<(u64, Json)>>,
    /// The latest position.
    now: u64,
    /// Per caller, the last position it saw.
    seen: BTreeMap<usize, u64>,
}

impl SeqKv {
    fn value_at(&self, key: &str, pos: u64) -> Option<Json> {
        let vs = self.versions.get(key)?;
        let i = vs.partition_point(|(p, _)| *p <= pos);
        (i > 0).then(|| vs[i - 1].1.clone())
    }

    fn handle(&mut self, caller: usize, req: &KvReq, rng: &mut Prng) -> Answer {
        let from = *self.seen.get(&caller).unwrap_or(&0);
        if let KvOp::Read = req.op {
            let pos = rng.range_inclusive(from, self.now);
            self.seen.insert(caller, pos);
            return apply(self.value_at(&req.key, pos), req).map(|(r, _)| r);
        }
        // Writes and compare-and-set act on the latest state.
        let (reply, new) = apply(self.value_at(&req.key, self.now), req)?;
        if let Some(v) = new {
            self.now += 1;
            self.versions
                .entry(req.key.clone())
                .or_default()
                .push((self.now, v));
        }
        self.seen.insert(caller, self.now);
        Ok(reply)
    }
}

/// Last-writer-wins replicas with skewed clocks and lazy merging.
#[derive(Debug)]
pub struct LwwKv {
    replicas: Vec<BTreeMap<String, (i64, u64, Json)>>,
    clock: i64,
}

impl LwwKv {
    fn new(n: usize) -> LwwKv {
        LwwKv {
            replicas: vec![BTreeMap::new(); n],
            clock: 0,
        }
    }

    fn handle(&mut self, req: &KvReq, rng: &mut Prng) -> Answer {
        self.clock += 10;
        let n = self.replicas.len();
        let r = rng.below(n as u64) as usize;
        // Each replica's clock is off by up to ±25 ticks: timestamps may invert real time.
        let ts = self.clock + rng.below(51) as i64 - 25;
        let current = self.replicas[r].get(&req.key).map(|(_, _, v)| v.clone());
        let (reply, new) = apply(current, req)?;
        if let Some(v) = new {
            let tie = rng.next_u64();
            self.replicas[r].insert(req.key.clone(), (ts, tie, v));
        }
        // Lazy anti-entropy: now and then one replica pulls another's newer values.
        if rng.below(4) == 0 {
            let (a, b) = (rng.below(n as u64) as usize, rng.below(n as u64) as usize);
            if a != b {
                let theirs = self.replicas[b].clone();
                for (k, v) in theirs {
                    let mine = self.replicas[a].entry(k).or_insert_with(|| v.clone());
                    if (v.0, v.1) > (mine.0, mine.1) {
                        *mine = v;
                    }
                }
            }
        }
        Ok(reply)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn call(s: &mut Service, caller: usize, body: Json, rng: &mut Prng) -> Answer {
        s.handle(caller, &body, rng)
    }

    #[test]
    fn lin_kv_follows_the_api() {
        let mut rng = Prng::new(1);
        let mut s = Service::new("lin-kv");
        let e = call(&mut s, 0, json!({"type":"read","key":"k"}), &mut rng).unwrap_err();
        assert_eq!(e.0, ErrorCode::KeyDoesNotExist);
        let e = call(
            &mut s,
            0,
            json!({"type":"cas","key":"k","from":1,"to":2}),
            &mut rng,
        );
        assert_eq!(e.unwrap_err().0, ErrorCode::KeyDoesNotExist);
        call(
            &mut s,
            0,
            json!({"type":"cas","key":"k","from":1,"to":2,"create_if_not_exists":true}),
            &mut rng,
        )
        .unwrap();
        let r = call(&mut s, 1, json!({"type":"read","key":"k"}), &mut rng).unwrap();
        assert_eq!(r, json!({"type":"read_ok","value":2}));
        let e = call(
            &mut s,
            0,
            json!({"type":"cas","key":"k","from":1,"to":3}),
            &mut rng,
        );
        assert_eq!(e.unwrap_err().0, ErrorCode::PreconditionFailed);
        call(
            &mut s,
            0,
            json!({"type":"cas","key":"k","from":2,"to":3}),
            &mut rng,
        )
        .unwrap();
        call(
            &mut s,
            0,
            json!({"type":"write","key":"k","value":[1]}),
            &mut rng,
        )
        .unwrap();
        let r = call(&mut s, 1, json!({"type":"read","key":"k"}), &mut rng).unwrap();
        assert_eq!(r["value"], json!([1]));
        let e = call(&mut s, 0, json!({"type":"write","key":"k"}), &mut rng).unwrap_err();
        assert_eq!(e.0, ErrorCode::MalformedRequest);
        let e = call(&mut s, 0, json!({"type":"frob","key":"k"}), &mut rng).unwrap_err();
        assert_eq!(e.0, ErrorCode::NotSupported);
    }

    #[test]
    fn seq_kv_reads_are_monotonic_per_caller_and_see_own_writes() {
        let mut rng = Prng::new(3);
        let mut s = Service::new("seq-kv");
        for v in 0..50 {
            call(
                &mut s,
                0,
                json!({"type":"write","key":"k","value":v}),
                &mut rng,
            )
            .unwrap();
        }
        // Caller 1 never wrote: its reads wander forward, never back.
        let mut last = -1;
        let mut stale = 0;
        for _ in 0..200 {
            let v = match call(&mut s, 1, json!({"type":"read","key":"k"}), &mut rng) {
                Ok(r) => r["value"].as_i64().unwrap(),
                Err(_) => -1,
            };
            assert!(v >= last, "monotonic: {v} after {last}");
            stale += usize::from(v < 49);
            last = v;
        }
        assert!(stale > 0, "some reads were stale");
        // Caller 0 wrote 49 last: it reads 49.
        let r = call(&mut s, 0, json!({"type":"read","key":"k"}), &mut rng).unwrap();
        assert_eq!(r["value"], 49);
    }

    #[test]
    fn tso_is_strictly_increasing() {
        let mut rng = Prng::new(0);
        let mut s = Service::new("lin-tso");
        let ts: Vec<i64> = (0..10)
            .map(|_| {
                call(&mut s, 0, json!({"type":"ts"}), &mut rng).unwrap()["ts"]
                    .as_i64()
                    .unwrap()
            })
            .collect();
        assert!(ts.windows(2).all(|w| w[0] < w[1]));
    }

    #[test]
    fn lww_kv_can_serve_stale_reads() {
        let mut rng = Prng::new(5);
        let mut s = Service::new("lww-kv");
        let mut stale = 0;
        for v in 0..200 {
            call(
                &mut s,
                0,
                json!({"type":"write","key":"k","value":v}),
                &mut rng,
            )
            .unwrap();
            if let Ok(r) = call(&mut s, 0, json!({"type":"read","key":"k"}), &mut rng) {
                stale += usize::from(r["value"] != v);
            } else {
                stale += 1;
            }
        }
        assert!(stale > 0);
    }
}
