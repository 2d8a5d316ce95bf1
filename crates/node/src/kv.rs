//! Clients of the workbench's services: the key-value stores `lin-kv` (linearizable),
//! `seq-kv` (sequentially consistent) and `lww-kv` (last writer wins), and the timestamp
//! oracle `lin-tso`.
//!
//! Each call is an RPC ([`Ctx::rpc`]) whose callback gets the decoded answer:
//!
//! | call | request | answer |
//! |---|---|---|
//! | [`Kv::read`] | `read{key}` | `read_ok{value}` → `Ok(value)`; error 20 if the key does not exist |
//! | [`Kv::write`] | `write{key,value}` | `write_ok` → `Ok(())` |
//! | [`Kv::cas`] | `cas{key,from,to,create_if_not_exists?}` | `cas_ok` → `Ok(())`; error 20 or 22 |
//! | [`Tso::ts`] | `ts` | `ts_ok{ts}` → `Ok(ts)` |
//!
//! A timeout reaches the callback as [`ErrorCode::Timeout`] (indefinite: a write or cas may
//! still take effect).

use crate::error::{ErrorCode, RpcError};
use crate::message::Body;
use crate::node::{Ctx, RpcResult};
use serde::Serialize;
use serde_json::Value;

/// A client of one key-value service.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Kv {
    service: String,
}

/// Checks that `res` is a reply of type `kind`.
fn expect(res: RpcResult, kind: &str) -> Result<Body, RpcError> {
    let reply = res?;
    if reply.body.kind == kind {
        Ok(reply.body)
    } else {
        Err(RpcError::malformed(format!(
            "{} answered `{}` where `{kind}` was expected",
            reply.src, reply.body.kind
        )))
    }
}

impl Kv {
    /// The linearizable store, `lin-kv`.
    pub fn lin() -> Kv {
        Kv::new("lin-kv")
    }

    /// The sequentially consistent store, `seq-kv`.
    pub fn seq() -> Kv {
        Kv::new("seq-kv")
    }

    /// The last-writer-wins store, `lww-kv`.
    pub fn lww() -> Kv {
        Kv::new("lww-kv")
    }

    /// A store under another name.
    pub fn new(service: impl Into<String>) -> Kv {
        Kv {
            service: service.into(),
        }
    }

    /// The service's node id.
    pub fn service(&self) -> &str {
        &self.service
    }

    /// Reads `key`: `Ok(value)`, or [`ErrorCode::KeyDoesNotExist`].
    pub fn read<N: 'static>(
        &self,
        ctx: &mut Ctx<N>,
        key: impl Serialize,
        callback: impl FnOnce(&mut N, &mut Ctx<N>, Result<Value, RpcError>) + 'static,
    ) -> u64 {
        let body = Body::new("read").with("key", key);
        ctx.rpc(&self.service, body, move |node, ctx, res| {
            let out = expect(res, "read_ok").and_then(|b| {
                b.extra
                    .get("value")
                    .cloned()
                    .ok_or_else(|| RpcError::malformed("read_ok without a value"))
            });
            callback(node, ctx, out)
        })
    }

    /// Writes `value` at `key`.
    pub fn write<N: 'static>(
        &self,
        ctx: &mut Ctx<N>,
        key: impl Serialize,
        value: impl Serialize,
        callback: impl FnOnce(&mut N, &mut Ctx<N>, Result<(), RpcError>) + 'static,
    ) -> u64 {
        let body = Body::new("write").with("key", key).with("value", value);
        ctx.rpc(&self.service, body, move |node, ctx, res| {
            callback(node, ctx, expect(res, "write_ok").map(drop))
        })
    }

    /// Sets `key` to `to` if it holds `from`: [`ErrorCode::PreconditionFailed`] if it holds
    /// something else, [`ErrorCode::KeyDoesNotExist`] if it is absent (unless
    /// `create_if_not_exists`, which then creates it with `to`).
    pub fn cas<N: 'static>(
        &self,
        ctx: &mut Ctx<N>,
        key: impl Serialize,
        from: impl Serialize,
        to: impl Serialize,
        create_if_not_exists: bool,
        callback: impl FnOnce(&mut N, &mut Ctx<N>, Result<(), RpcError>) + 'static,
    ) -> u64 {
        let mut body = Body::new("cas")
            .with("key", key)
            .with("from", from)
            .with("to", to);
        if create_if_not_exists {
            body.set("create_if_not_exists", true);
        }
        ctx.rpc(&self.service, body, move |node, ctx, res| {
            callback(node, ctx, expect(res, "cas_ok").map(drop))
        })
    }
}

/// A client of the timestamp oracle `lin-tso` (strictly increasing timestamps).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Tso;

impl Tso {
    /// The service's node id.
    pub const SERVICE: &'static str = "lin-tso";

    /// Asks for a timestamp: `Ok(ts)`.
    pub fn ts<N: 'static>(
        &self,
        ctx: &mut Ctx<N>,
        callback: impl FnOnce(&mut N, &mut Ctx<N>, Result<u64, RpcError>) + 'static,
    ) -> u64 {
        ctx.rpc(Tso::SERVICE, Body::new("ts"), move |node, ctx, res| {
            let out = expect(res, "ts_ok").and_then(|b| b.u64("ts"));
            callback(node, ctx, out)
        })
    }
}

/// True if `err` says the key was absent (code 20), the usual "start from nothing" case.
pub fn is_missing_key(err: &RpcError) -> bool {
    err.code == ErrorCode::KeyDoesNotExist
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::message::Message;
    use crate::node::Node;
    use crate::testing::{line, of_kind, start, INIT};
    use serde_json::json;

    /// At init: reads key 1 of lin-kv, cas-creates key "k" of seq-kv, writes lww-kv, asks
    /// lin-tso; reports each outcome to c9 as `{"type": "done", "call": ..., "ok": ..}`.
    struct Client;

    fn report<T: Serialize>(ctx: &mut Ctx<Client>, call: &str, res: Result<T, RpcError>) {
        let body = match res {
            Ok(v) => Body::new("done").with("call", call).with("ok", v),
            Err(e) => Body::new("done")
                .with("call", call)
                .with("err", e.code.code()),
        };
        ctx.send("c9", &body);
    }

    impl Node for Client {
        fn init(&mut self, ctx: &mut Ctx<Self>) {
            Kv::lin().read(ctx, 1, |_, ctx, r| report(ctx, "read", r));
            Kv::seq().cas(ctx, "k", 0, 5, true, |_, ctx, r| report(ctx, "cas", r));
            Kv::lww().write(ctx, "w", [1, 2], |_, ctx, r| report(ctx, "write", r));
            Tso.ts(ctx, |_, ctx, r| report(ctx, "ts", r));
            Kv::lin().read(ctx, 2, |_, ctx, r| report(ctx, "read2", r));
        }
        fn handle(&mut self, _: &mut Ctx<Self>, _: Message) {}
    }

    #[test]
    fn service_calls_have_the_protocol_shape_and_decode_answers() {
        let (tx, out, h) = start(Client);
        tx.send(line(INIT)).unwrap();
        let lines = out.wait_for(|l| l.len() >= 6);
        let sent: Vec<(String, serde_json::Value)> = lines
            .iter()
            .filter(|l| l["body"]["type"] != "init_ok")
            .map(|l| {
                let mut body = l["body"].clone();
                body.as_object_mut().unwrap().remove("msg_id");
                (l["dest"].as_str().unwrap().to_owned(), body)
            })
            .collect();
        assert_eq!(
            sent,
            vec![
                ("lin-kv".into(), json!({"type": "read", "key": 1})),
                (
                    "seq-kv".into(),
                    json!({"type": "cas", "key": "k", "from": 0, "to": 5,
                           "create_if_not_exists": true})
                ),
                (
                    "lww-kv".into(),
                    json!({"type": "write", "key": "w", "value": [1, 2]})
                ),
                ("lin-tso".into(), json!({"type": "ts"})),
                ("lin-kv".into(), json!({"type": "read", "key": 1 + 1})),
            ]
        );
        let id = |i: usize| lines[i]["body"]["msg_id"].as_u64().unwrap();
        let ids: Vec<u64> = (0..6)
            .filter(|i| lines[*i]["body"]["type"] != "init_ok")
            .map(id)
            .collect();
        let answers = [
            ("lin-kv", json!({"type": "read_ok", "value": {"v": 3}})),
            ("seq-kv", json!({"type": "error", "code": 22, "text": "no"})),
            ("lww-kv", json!({"type": "write_ok"})),
            ("lin-tso", json!({"type": "ts_ok", "ts": 41})),
            (
                "lin-kv",
                json!({"type": "error", "code": 20, "text": "absent"}),
            ),
        ];
        for ((src, mut body), id) in answers.into_iter().zip(&ids) {
            body["in_reply_to"] = json!(id);
            let msg = json!({"src": src, "dest": "n1", "body": body});
            tx.send(line(&msg.to_string())).unwrap();
        }
        let lines = out.wait_for(|l| of_kind(l, "done").len() == 5);
        let done: Vec<serde_json::Value> = of_kind(&lines, "done")
            .into_iter()
            .map(|l| {
                let mut b = l["body"].clone();
                b.as_object_mut().unwrap().remove("type");
                b
            })
            .collect();
        assert_eq!(
            done,
            vec![
                json!({"call": "read", "ok": {"v": 3}}),
                json!({"call": "cas", "err": 22}),
                json!({"call": "write", "ok": null}),
                json!({"call": "ts", "ok": 41}),
                json!({"call": "read2", "err": 20}),
            ]
        );
        assert!(is_missing_key(&RpcError::new(
            ErrorCode::KeyDoesNotExist,
            ""
        )));
        drop(tx);
        h.join().unwrap().unwrap();
    }
}
