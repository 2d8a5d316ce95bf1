//! Messages on the wire: the envelope ([`Message`]) and its [`Body`].
//!
//! ```text
//! {"id":7,"src":"c1","dest":"n3","body":{"type":"echo","msg_id":1,"echo":"hi"}}
//! {"src":"n3","dest":"c1","body":{"type":"echo_ok","in_reply_to":1,"echo":"hi"}}
//! ```
//!
//! A body has a `type` (required), `msg_id` (an integer, on requests), `in_reply_to` (on
//! replies) and any other keys, kept in [`Body::extra`]. Those three are typed fields; the rest
//! is a `serde_json` map with typed getters ([`Body::get`], [`Body::u64`], [`Body::str`]) and
//! a builder ([`Body::new`] + [`Body::with`]).

use crate::error::{ErrorCode, RpcError};
use serde::de::{DeserializeOwned, Error as _};
use serde::ser::SerializeMap;
use serde::{Deserialize, Deserializer, Serialize, Serializer};
use serde_json::{Map, Value};

/// One message: who sent it, to whom, and what it says.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Message {
    /// The sender: a node (`n3`), a client (`c7`) or a service (`lin-kv`).
    pub src: String,
    /// The receiver.
    pub dest: String,
    /// The number the network gave the message when it routed it (absent on what nodes send).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub id: Option<u64>,
    /// What it says.
    pub body: Body,
}

impl Message {
    /// Parses one line of input.
    ///
    /// # Errors
    /// If the line is not a JSON object with string `src` and `dest` and a body with a string
    /// `type` (and integer `msg_id` / `in_reply_to` where present).
    pub fn parse(line: &str) -> Result<Message, serde_json::Error> {
        serde_json::from_str(line)
    }

    /// The message as one line of JSON (no newline).
    pub fn to_line(&self) -> String {
        serde_json::to_string(self).expect("a Message always serializes")
    }

    /// The body's `type`.
    pub fn kind(&self) -> &str {
        &self.body.kind
    }
}

/// A message's body: `type`, `msg_id`, `in_reply_to` and every other key.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Body {
    /// The `type` (`"echo"`, `"read_ok"`, `"error"`, ...).
    pub kind: String,
    /// `msg_id`: set on requests, unique per sender.
    pub msg_id: Option<u64>,
    /// `in_reply_to`: on replies, the `msg_id` of the request answered.
    pub in_reply_to: Option<u64>,
    /// Every other key.
    pub extra: Map<String, Value>,
}

impl Body {
    /// A body of type `kind` with no other key.
    pub fn new(kind: impl Into<String>) -> Body {
        Body {
            kind: kind.into(),
            ..Body::default()
        }
    }

    /// The error body `{"type":"error","code":C,"text":T}`.
    pub fn error(code: ErrorCode, text: impl Into<String>) -> Body {
        Body::new("error")
            .with("code", code.code())
            .with("text", text.into())
    }

    /// Adds (or replaces) the key `key`, builder style.
    ///
    /// # Panics
    /// If `value` does not serialize to JSON (a map with non-string keys, say): our bug.
    pub fn with(mut self, key: &str, value: impl Serialize) -> Body {
        self.set(key, value);
        self
    }

    /// Sets the key `key` (one of the extra keys: use the fields for `type`, `msg_id` and
    /// `in_reply_to`).
    ///
    /// # Panics
    /// If `value` does not serialize to JSON: our bug.
    pub fn set(&mut self, key: &str, value: impl Serialize) {
        let value = serde_json::to_value(value).expect("a body value serializes to JSON");
        self.extra.insert(key.to_owned(), value);
    }

    /// The raw value of key `key`, if present.
    pub fn value(&self, key: &str) -> Option<&Value> {
        self.extra.get(key)
    }

    /// The key `key` decoded as a `T`.
    ///
    /// # Errors
    /// A [`ErrorCode::MalformedRequest`] error naming the key, if it is missing or of another
    /// shape: ready to send back with [`crate::Ctx::error`].
    pub fn get<T: DeserializeOwned>(&self, key: &str) -> Result<T, RpcError> {
        let v = self
            .extra
            .get(key)
            .ok_or_else(|| RpcError::malformed(format!("`{}` has no key `{key}`", self.kind)))?;
        T::deserialize(v).map_err(|e| {
            RpcError::malformed(format!("`{}`: key `{key}` is malformed: {e}", self.kind))
        })
    }

    /// The key `key` as an unsigned integer (see [`Body::get`]).
    ///
    /// # Errors
    /// As [`Body::get`].
    pub fn u64(&self, key: &str) -> Result<u64, RpcError> {
        self.extra.get(key).and_then(Value::as_u64).ok_or_else(|| {
            RpcError::malformed(format!(
                "`{}`: key `{key}` is missing or not an unsigned integer",
                self.kind
            ))
        })
    }

    /// The key `key` as a signed integer (see [`Body::get`]).
    ///
    /// # Errors
    /// As [`Body::get`].
    pub fn i64(&self, key: &str) -> Result<i64, RpcError> {
        self.extra.get(key).and_then(Value::as_i64).ok_or_else(|| {
            RpcError::malformed(format!(
                "`{}`: key `{key}` is missing or not an integer",
                self.kind
            ))
        })
    }

    /// The key `key` as a string (see [`Body::get`]).
    ///
    /// # Errors
    /// As [`Body::get`].
    pub fn str(&self, key: &str) -> Result<&str, RpcError> {
        self.extra.get(key).and_then(Value::as_str).ok_or_else(|| {
            RpcError::malformed(format!(
                "`{}`: key `{key}` is missing or not a string",
                self.kind
            ))
        })
    }

    /// The whole body decoded as a `T` (a struct or an internally tagged enum on `"type"`).
    ///
    /// # Errors
    /// A [`ErrorCode::MalformedRequest`] error if it does not fit.
    pub fn decode<T: DeserializeOwned>(&self) -> Result<T, RpcError> {
        let v = serde_json::to_value(self).expect("a Body always serializes");
        T::deserialize(v).map_err(|e| RpcError::malformed(format!("`{}`: {e}", self.kind)))
    }

    /// If this is an error body (`type` `error`), its code and text.
    pub fn as_error(&self) -> Option<RpcError> {
        if self.kind != "error" {
            return None;
        }
        let code = self.extra.get("code").and_then(Value::as_i64).unwrap_or(-1);
        let text = self
            .extra
            .get("text")
            .and_then(Value::as_str)
            .unwrap_or("")
            .to_owned();
        Some(RpcError {
            code: ErrorCode::from_code(code),
            text,
        })
    }
}

impl Serialize for Body {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        let fixed =
            1 + usize::from(self.msg_id.is_some()) + usize::from(self.in_reply_to.is_some());
        let mut m = s.serialize_map(Some(fixed + self.extra.len()))?;
        m.serialize_entry("type", &self.kind)?;
        if let Some(id) = self.msg_id {
            m.serialize_entry("msg_id", &id)?;
        }
        if let Some(id) = self.in_reply_to {
            m.serialize_entry("in_reply_to", &id)?;
        }
        for (k, v) in &self.extra {
            // The typed fields win: an extra key of the same name never reaches the wire.
            if !matches!(k.as_str(), "type" | "msg_id" | "in_reply_to") {
                m.serialize_entry(k, v)?;
            }
        }
        m.end()
    }
}

impl<'de> Deserialize<'de> for Body {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Body, D::Error> {
        let mut extra = Map::<String, Value>::deserialize(d)?;
        let kind = match extra.remove("type") {
            Some(Value::String(s)) => s,
            Some(other) => {
                return Err(D::Error::custom(format!(
                    "body `type` is not a string: {other}"
                )))
            }
            None => return Err(D::Error::custom("body has no `type`")),
        };
        let mut int = |key: &str| -> Result<Option<u64>, D::Error> {
            match extra.remove(key) {
                None | Some(Value::Null) => Ok(None),
                Some(v) => v.as_u64().map(Some).ok_or_else(|| {
                    D::Error::custom(format!("body `{key}` is not an unsigned integer: {v}"))
                }),
            }
        };
        let msg_id = int("msg_id")?;
        let in_reply_to = int("in_reply_to")?;
        Ok(Body {
            kind,
            msg_id,
            in_reply_to,
            extra,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn parses_an_envelope_with_network_id_and_extra_keys() {
        let m = Message::parse(
            r#"{"id":7,"src":"c1","dest":"n3","body":{"type":"echo","msg_id":1,"echo":"hi","n":[1,2]}}"#,
        )
        .unwrap();
        assert_eq!(m.src, "c1");
        assert_eq!(m.dest, "n3");
        assert_eq!(m.id, Some(7));
        assert_eq!(m.kind(), "echo");
        assert_eq!(m.body.msg_id, Some(1));
        assert_eq!(m.body.in_reply_to, None);
        assert_eq!(m.body.str("echo").unwrap(), "hi");
        assert_eq!(m.body.get::<Vec<u32>>("n").unwrap(), vec![1, 2]);
        assert_eq!(m.body.extra.len(), 2, "type and msg_id are not extra keys");
    }

    #[test]
    fn serializes_to_the_documented_shape() {
        let mut b = Body::new("echo_ok").with("echo", "hi");
        b.in_reply_to = Some(1);
        let m = Message {
            src: "n3".into(),
            dest: "c1".into(),
            id: None,
            body: b,
        };
        let v: Value = serde_json::from_str(&m.to_line()).unwrap();
        assert_eq!(
            v,
            json!({"src":"n3","dest":"c1","body":{"type":"echo_ok","in_reply_to":1,"echo":"hi"}})
        );
        assert_eq!(Message::parse(&m.to_line()).unwrap(), m, "round trip");
    }

    #[test]
    fn rejects_malformed_bodies() {
        for bad in [
            r#"{"src":"c1","dest":"n1","body":{"msg_id":1}}"#,
            r#"{"src":"c1","dest":"n1","body":{"type":3}}"#,
            r#"{"src":"c1","dest":"n1","body":{"type":"x","msg_id":"one"}}"#,
            r#"{"src":"c1","dest":"n1","body":{"type":"x","in_reply_to":-2}}"#,
            r#"{"src":"c1","body":{"type":"x"}}"#,
            r#"{"src":"c1","dest":"n1","body":[]}"#,
            "not json",
            "",
        ] {
            assert!(Message::parse(bad).is_err(), "accepted {bad}");
        }
    }

    #[test]
    fn typed_getters_report_the_key_and_code_12() {
        let b = Body::new("add").with("delta", -3).with("name", "x");
        assert_eq!(b.i64("delta").unwrap(), -3);
        let e = b.u64("delta").unwrap_err();
        assert_eq!(e.code, ErrorCode::MalformedRequest);
        assert!(e.text.contains("delta"), "{}", e.text);
        assert!(b.str("missing").unwrap_err().text.contains("missing"));
        assert!(b.get::<u8>("name").is_err());
    }

    #[test]
    fn error_bodies_round_trip() {
        let b = Body::error(ErrorCode::PreconditionFailed, "from mismatch");
        let v = serde_json::to_value(&b).unwrap();
        assert_eq!(v, json!({"type":"error","code":22,"text":"from mismatch"}));
        let back: Body = serde_json::from_value(v).unwrap();
        let e = back.as_error().unwrap();
        assert_eq!(e.code, ErrorCode::PreconditionFailed);
        assert_eq!(e.text, "from mismatch");
        assert!(Body::new("read_ok").as_error().is_none());
    }

    #[test]
    fn decode_into_a_tagged_enum() {
        #[derive(Deserialize, Debug, PartialEq)]
        #[serde(tag = "type", rename_all = "snake_case")]
        enum Req {
            Write { key: u64, value: u64 },
            Read { key: u64 },
        }
        let m = Message::parse(
            r#"{"src":"c1","dest":"n1","body":{"type":"write","msg_id":4,"key":1,"value":9}}"#,
        )
        .unwrap();
        assert_eq!(
            m.body.decode::<Req>().unwrap(),
            Req::Write { key: 1, value: 9 }
        );
        assert!(Body::new("read").decode::<Req>().is_err());
    }
}
