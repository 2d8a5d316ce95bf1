//! The wire protocol: what a node reads and writes, one JSON message per line.
//!
//! The protocol is Maelstrom's, so nodes written for Maelstrom (and the Gossip Glomers) run
//! unchanged:
//!
//! ```text
//! {"id":7,"src":"c1","dest":"n3","body":{"type":"echo","msg_id":1,"echo":"hi"}}
//! {"src":"n3","dest":"c1","body":{"type":"echo_ok","in_reply_to":1,"echo":"hi"}}
//! ```
//!
//! An envelope has `src`, `dest` and `body`; the network adds an integer `id` when it
//! routes the message. A body has a `type` (required), `msg_id` (an integer, on requests) and
//! `in_reply_to` (on replies), and any other keys. Errors are bodies of type `error` with a
//! [`ErrorCode`] in `code` and a `text`.
//!
//! Parsing is split in two for speed: [`parse_line`] reads only the envelope and the body's
//! `type`, `msg_id` and `in_reply_to`, keeping the body as raw text, because the router
//! forwards most messages without looking inside them; workloads and services parse the
//! bodies addressed to them.

use serde::Deserialize;
use serde_json::value::RawValue;
use std::fmt;

/// The protocol's error codes: the node library's, so nodes and the workbench agree on which
/// codes are definite.
pub use synod_node::ErrorCode;

/// The parts of a body the router needs; everything else stays raw.
#[derive(Debug, Deserialize)]
struct Head {
    #[serde(rename = "type")]
    kind: Option<serde_json::Value>,
    msg_id: Option<serde_json::Value>,
    in_reply_to: Option<serde_json::Value>,
}

#[derive(Debug, Deserialize)]
struct RawEnvelope<'a> {
    src: Option<serde_json::Value>,
    dest: Option<serde_json::Value>,
    #[serde(borrow)]
    body: Option<&'a RawValue>,
}

/// A message a node wrote, parsed as far as routing needs.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Parsed {
    /// The sender's id.
    pub src: String,
    /// The receiver's id.
    pub dest: String,
    /// The body's `type`.
    pub kind: String,
    /// The body's `msg_id`, if any.
    pub msg_id: Option<u64>,
    /// The body's `in_reply_to`, if any.
    pub in_reply_to: Option<u64>,
    /// The body, as the node wrote it (a JSON object).
    pub body: String,
}

/// Why a line is not a protocol message.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum WireError {
    /// Not JSON at all (the parser's message).
    NotJson(String),
    /// JSON, but a required field is missing or has the wrong type.
    BadField(&'static str),
}

impl fmt::Display for WireError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            WireError::NotJson(e) => write!(f, "not a JSON object ({e})"),
            WireError::BadField(what) => f.write_str(what),
        }
    }
}

/// Parses one line a node wrote on stdout.
///
/// ```
/// use synod_workbench::wire::parse_line;
///
/// let m = parse_line(r#"{"src":"n1","dest":"c0","body":{"type":"echo_ok","in_reply_to":3,"echo":"x"}}"#).unwrap();
/// assert_eq!((m.src.as_str(), m.dest.as_str(), m.kind.as_str()), ("n1", "c0", "echo_ok"));
/// assert_eq!(m.in_reply_to, Some(3));
/// assert!(parse_line("hello").is_err());
/// ```
pub fn parse_line(line: &str) -> Result<Parsed, WireError> {
    let env: RawEnvelope<'_> =
        serde_json::from_str(line).map_err(|e| WireError::NotJson(short_error(&e)))?;
    let src = match env.src {
        Some(serde_json::Value::String(s)) => s,
        _ => return Err(WireError::BadField("missing or non-string \"src\"")),
    };
    let dest = match env.dest {
        Some(serde_json::Value::String(s)) => s,
        _ => return Err(WireError::BadField("missing or non-string \"dest\"")),
    };
    let body = env
        .body
        .ok_or(WireError::BadField("missing \"body\""))?
        .get();
    let head: Head = serde_json::from_str(body)
        .map_err(|_| WireError::BadField("\"body\" is not a JSON object"))?;
    let kind = match head.kind {
        Some(serde_json::Value::String(s)) => s,
        _ => return Err(WireError::BadField("body has no string \"type\"")),
    };
    let int = |v: Option<serde_json::Value>, what: &'static str| match v {
        None | Some(serde_json::Value::Null) => Ok(None),
        Some(v) => v.as_u64().map(Some).ok_or(WireError::BadField(what)),
    };
    Ok(Parsed {
        src,
        dest,
        kind,
        msg_id: int(
            head.msg_id,
            "body's \"msg_id\" is not a non-negative integer",
        )?,
        in_reply_to: int(
            head.in_reply_to,
            "body's \"in_reply_to\" is not a non-negative integer",
        )?,
        body: body.to_string(),
    })
}

fn short_error(e: &serde_json::Error) -> String {
    let s = e.to_string();
    match s.find(" at line") {
        Some(i) => s[..i].to_string(),
        None => s,
    }
}

/// Writes the line the network hands to `dest`: the envelope with its routing `id`.
pub fn envelope_line(id: u64, src: &str, dest: &str, body: &str) -> String {
    let mut s = String::with_capacity(body.len() + src.len() + dest.len() + 40);
    s.push_str("{\"id\":");
    s.push_str(&id.to_string());
    s.push_str(",\"src\":");
    push_json_str(&mut s, src);
    s.push_str(",\"dest\":");
    push_json_str(&mut s, dest);
    s.push_str(",\"body\":");
    s.push_str(body);
    s.push('}');
    s
}

fn push_json_str(out: &mut String, s: &str) {
    if s.bytes()
        .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_')
    {
        out.push('"');
        out.push_str(s);
        out.push('"');
    } else {
        out.push_str(&serde_json::Value::String(s.to_string()).to_string());
    }
}

/// An error body replying to `in_reply_to`.
pub fn error_body(in_reply_to: u64, code: ErrorCode, text: &str) -> String {
    serde_json::json!({"type": "error", "in_reply_to": in_reply_to, "code": code.code(), "text": text})
        .to_string()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parse_reports_what_is_wrong() {
        assert!(matches!(parse_line("{"), Err(WireError::NotJson(_))));
        assert_eq!(
            parse_line(r#"{"src":"n0","body":{"type":"x"}}"#),
            Err(WireError::BadField("missing or non-string \"dest\""))
        );
        assert_eq!(
            parse_line(r#"{"src":"n0","dest":"n1","body":{"msg_id":1}}"#),
            Err(WireError::BadField("body has no string \"type\""))
        );
        assert_eq!(
            parse_line(r#"{"src":"n0","dest":"n1","body":{"type":"a","msg_id":-1}}"#),
            Err(WireError::BadField(
                "body's \"msg_id\" is not a non-negative integer"
            ))
        );
        let ok =
            parse_line(r#"{"src":"n0","dest":"n1","body":{"type":"a","x":[1,{"y":2}]}}"#).unwrap();
        assert_eq!(ok.body, r#"{"type":"a","x":[1,{"y":2}]}"#);
        assert_eq!(ok.msg_id, None);
    }

    #[test]
    fn envelope_lines_are_json_with_the_id() {
        let line = envelope_line(9, "n\"0", "c1", r#"{"type":"t"}"#);
        let v: serde_json::Value = serde_json::from_str(&line).unwrap();
        assert_eq!(v["id"], 9);
        assert_eq!(v["src"], "n\"0");
        assert_eq!(v["dest"], "c1");
        assert_eq!(v["body"]["type"], "t");
    }
}
