//! `txn-rw-register` and `txn-list-append`: `txn{txn:[[f,k,v],…]}` → `txn_ok{txn}`.
//!
//! Transactions of one to four micro-operations over a few keys: `["r", k, null]` reads,
//! `["w", k, v]` writes (rw-register) or `["append", k, v]` appends (list-append); every
//! written value is unique per key. The reply returns the transaction with its reads filled
//! in. The history is checked at the requested isolation level (`--consistency-models`) by
//! synod-consistency's Elle-style checker: G0, G1a, G1b, G1c, G-single, G2 and their
//! real-time variants from the dependency graph, plus internal inconsistencies and garbage
//! reads, each reported with its transactions.

use super::{field, json_to_value, Invocation, Verdict, Workload};
use serde_json::json;
use synod_consistency::checkers::txn::{
    check_txn, Isolation, TxnAnomalyKind, TxnOptions, TxnWorkload,
};
use synod_consistency::format::{Recorded, Value};
use synod_core::Prng;

/// A transactional workload.
#[derive(Clone, Debug)]
pub struct Txn {
    workload: TxnWorkload,
    isolation: Isolation,
    keys: usize,
    max_len: usize,
    next_value: i64,
}

impl Txn {
    /// Transactions for `workload` over `keys` keys of at most `max_len` micro-operations,
    /// checked at `isolation`.
    pub fn new(workload: TxnWorkload, isolation: Isolation, keys: usize, max_len: usize) -> Txn {
        Txn {
            workload,
            isolation,
            keys: keys.max(1),
            max_len: max_len.max(1),
            next_value: 1,
        }
    }
}

impl Workload for Txn {
    fn invoke(&mut self, _client: usize, rng: &mut Prng, final_phase: bool) -> Option<Invocation> {
        if final_phase {
            return None;
        }
        let len = 1 + rng.below(self.max_len as u64) as usize;
        let write = match self.workload {
            TxnWorkload::RwRegister => "w",
            TxnWorkload::ListAppend => "append",
        };
        let mut micro = Vec::with_capacity(len);
        let mut value = Vec::with_capacity(len);
        for _ in 0..len {
            let k = rng.below(self.keys as u64) as i64;
            if rng.below(2) == 0 {
                micro.push(json!(["r", k, null]));
                value.push(Value::List(vec![
                    Value::Str("r".into()),
                    Value::Int(k),
                    Value::Nil,
                ]));
            } else {
                let v = self.next_value;
                self.next_value += 1;
                micro.push(json!([write, k, v]));
                value.push(Value::List(vec![
                    Value::Str(write.into()),
                    Value::Int(k),
                    Value::Int(v),
                ]));
            }
        }
        Some(Invocation {
            f: "txn".into(),
            key: None,
            value: Value::List(value),
            body: json!({"type": "txn", "txn": micro}),
        })
    }

    fn complete(
        &mut self,
        _client: usize,
        _inv: &Invocation,
        reply: &serde_json::Value,
    ) -> Result<Value, String> {
        let t = field(reply, "txn")?;
        if !t.is_array() {
            return Err("\"txn\" is not a list of micro-operations".into());
        }
        Ok(json_to_value(t))
    }

    fn check(&self, history: &Recorded, _final_from: u64) -> Verdict {
        let r = check_txn(history, &TxnOptions::new(self.workload, self.isolation));
        let failures = TxnAnomalyKind::ALL
            .iter()
            .filter(|k| r.prohibited.contains(k))
            .map(|k| format!("{} {}", k.name(), r.count(*k)))
            .collect();
        Verdict {
            valid: r.valid,
            failures,
            report: serde_json::to_value(&r).unwrap_or_default(),
            stable_latencies: None,
        }
    }
}
