//! synod's JSON history format, and Jepsen-style JSON events (an array or JSON lines).

use super::edn::{describe, MAX_DEPTH};
use super::events::{check_depth, Event, EventType, Pairing};
use super::{Completion, ParseError, Recorded, RecordedOp, Value};
use std::borrow::Cow;
use std::fmt::Write as _;

/// The `"format"` of a synod JSON history.
pub const JSON_FORMAT_NAME: &str = "synod-history";

/// The `"version"` of the synod JSON history format that [`to_json`] writes.
pub const JSON_FORMAT_VERSION: i64 = 1;

/// Tags for the values plain JSON has no spelling for (see the [module documentation](super)).
const TAGS: [&str; 4] = ["keyword", "set", "map", "float"];

/// Reads a JSON history: a synod document (`{"format": "synod-history", ...}`), or Jepsen-style
/// events (`{"process": 0, "type": "invoke", "f": "write", "value": 3}`) as one JSON array or
/// as a sequence of objects (JSON lines).
///
/// See the [module documentation](super) for both layouts.
pub fn parse_json(text: &str) -> Result<Recorded, ParseError> {
    let text = text.strip_prefix('\u{feff}').unwrap_or(text);
    let mut j = Json::new(text);
    j.skip_ws();
    match j.peek() {
        None => Ok(Recorded::default()),
        Some(b'[') => {
            let mut pairing = Pairing::default();
            let open_line = j.line;
            j.pos += 1;
            j.skip_ws();
            if j.peek() == Some(b']') {
                j.pos += 1;
            } else {
                loop {
                    j.read_event(&mut pairing)?;
                    j.skip_ws();
                    match j.peek() {
                        Some(b',') => j.pos += 1,
                        Some(b']') => {
                            j.pos += 1;
                            break;
                        }
                        None => {
                            return Err(ParseError::new(
                                open_line,
                                "unclosed `[` (no matching `]` before the end of the input)",
                            ))
                        }
                        Some(_) => return Err(j.unexpected("`,` or `]` after an event")),
                    }
                }
            }
            j.expect_end("the event array")?;
            Ok(pairing.finish())
        }
        Some(b'{') if j.starts_document() => {
            let r = j.read_document()?;
            j.expect_end("the history document")?;
            Ok(r)
        }
        Some(b'{') => {
            let mut pairing = Pairing::default();
            loop {
                j.skip_ws();
                if j.peek().is_none() {
                    return Ok(pairing.finish());
                }
                j.read_event(&mut pairing)?;
            }
        }
        Some(_) => Err(j.unexpected("a JSON object or array")),
    }
}

/// Writes a history as a synod JSON document, one operation per line.
///
/// [`parse_json`] reads it back as the same history, up to [`RecordedOp::line`].
pub fn to_json(r: &Recorded) -> String {
    let mut out = String::with_capacity(64 + r.ops.len() * 96);
    let _ = writeln!(
        out,
        "{{\"format\":\"{JSON_FORMAT_NAME}\",\"version\":{JSON_FORMAT_VERSION},\
         \"skipped_events\":{},\"ops\":[",
        r.skipped_events
    );
    for (i, o) in r.ops.iter().enumerate() {
        let _ = write!(out, "{{\"process\":{},\"f\":", o.process);
        write_string(&mut out, &o.f);
        if let Some(k) = &o.key {
            out.push_str(",\"key\":");
            write_value(&mut out, k);
        }
        out.push_str(",\"value\":");
        write_value(&mut out, &o.value);
        let (ty, result) = match &o.completion {
            Completion::Ok(v) => ("ok", v),
            Completion::Fail(v) => ("fail", v),
            Completion::Unknown(v) if v.is_nil() && o.ret_nanos.is_none() => ("open", v),
            Completion::Unknown(v) => ("info", v),
        };
        let _ = write!(out, ",\"type\":\"{ty}\",\"result\":");
        write_value(&mut out, result);
        let _ = write!(out, ",\"call\":{},\"ret\":", o.call);
        match o.ret {
            Some(t) => {
                let _ = write!(out, "{t}");
            }
            None => out.push_str("null"),
        }
        if let Some(t) = o.call_nanos {
            let _ = write!(out, ",\"call_nanos\":{t}");
        }
        if let Some(t) = o.ret_nanos {
            let _ = write!(out, ",\"ret_nanos\":{t}");
        }
        out.push('}');
        if i + 1 < r.ops.len() {
            out.push(',');
        }
        out.push('\n');
    }
    out.push_str("]}\n");
    out
}

/// Writes `v` as tagged JSON (see the [module documentation](super)).
fn write_value(out: &mut String, v: &Value) {
    match v {
        Value::Nil => out.push_str("null"),
        Value::Bool(b) => out.push_str(if *b { "true" } else { "false" }),
        Value::Int(i) => {
            let _ = write!(out, "{i}");
        }
        Value::Float(x) => {
            if x.is_finite() {
                // Rust's shortest round-trip form: always a `.` or an exponent, valid JSON.
                let _ = write!(out, "{x:?}");
            } else {
                let name = if x.is_nan() {
                    "NaN"
                } else if *x > 0.0 {
                    "Infinity"
                } else {
                    "-Infinity"
                };
                let _ = write!(out, "{{\"float\":\"{name}\"}}");
            }
        }
        Value::Str(s) => write_string(out, s),
        Value::Keyword(k) => {
            out.push_str("{\"keyword\":");
            write_string(out, k);
            out.push('}');
        }
        Value::List(items) => write_array(out, items),
        Value::Set(items) => {
            out.push_str("{\"set\":");
            write_array(out, items);
            out.push('}');
        }
        Value::Map(entries) => {
            let plain = entries.iter().all(|(k, _)| matches!(k, Value::Str(_)))
                && !(entries.len() == 1
                    && matches!(&entries[0].0, Value::Str(k) if TAGS.contains(&k.as_str())));
            out.push('{');
            if !plain {
                out.push_str("\"map\":[");
            }
            for (i, (k, v)) in entries.iter().enumerate() {
                if i > 0 {
                    out.push(',');
                }
                if plain {
                    write_value(out, k);
                    out.push(':');
                    write_value(out, v);
                } else {
                    out.push('[');
                    write_value(out, k);
                    out.push(',');
                    write_value(out, v);
                    out.push(']');
                }
            }
            if !plain {
                out.push(']');
            }
            out.push('}');
        }
    }
}

fn completion_value(c: &Completion) -> &Value {
    match c {
        Completion::Ok(v) | Completion::Fail(v) | Completion::Unknown(v) => v,
    }
}

fn write_array(out: &mut String, items: &[Value]) {
    out.push('[');
    for (i, v) in items.iter().enumerate() {
        if i > 0 {
            out.push(',');
        }
        write_value(out, v);
    }
    out.push(']');
}

fn write_string(out: &mut String, s: &str) {
    out.push('"');
    let mut start = 0;
    for (i, b) in s.bytes().enumerate() {
        let escape = match b {
            b'"' => "\\\"",
            b'\\' => "\\\\",
            b'\n' => "\\n",
            b'\t' => "\\t",
            b'\r' => "\\r",
            0..=0x1f => "",
            _ => continue,
        };
        out.push_str(&s[start..i]);
        if escape.is_empty() {
            let _ = write!(out, "\\u{:04x}", b);
        } else {
            out.push_str(escape);
        }
        start = i + 1;
    }
    out.push_str(&s[start..]);
    out.push('"');
}

/// A JSON reader over a string; `line` counts newlines crossed so far.
struct Json<'a> {
    text: &'a str,
    src: &'a [u8],
    pos: usize,
    line: usize,
}

/// A field's name and the 1-based line it is on.
type Field<'a> = (Cow<'a, str>, usize);

impl<'a> Json<'a> {
    fn new(text: &'a str) -> Self {
        Json {
            text,
            src: text.as_bytes(),
            pos: 0,
            line: 1,
        }
    }

    fn peek(&self) -> Option<u8> {
        self.src.get(self.pos).copied()
    }

    fn err(&self, message: impl Into<String>) -> ParseError {
        ParseError::new(self.line, message)
    }

    /// "expected X, found Y" at the current position.
    fn unexpected(&self, expected: &str) -> ParseError {
        let found = match self.text.get(self.pos..).and_then(|s| s.chars().next()) {
            Some(c) => format!("`{c}`"),
            None => "end of input".to_owned(),
        };
        self.err(format!("expected {expected}, found {found}"))
    }

    fn skip_ws(&mut self) {
        while let Some(b) = self.peek() {
            match b {
                b'\n' => self.line += 1,
                b' ' | b'\t' | b'\r' => {}
                _ => return,
            }
            self.pos += 1;
        }
    }

    fn expect_end(&mut self, what: &str) -> Result<(), ParseError> {
        self.skip_ws();
        if self.peek().is_some() {
            return Err(self.err(format!("unexpected content after {what}")));
        }
        Ok(())
    }

    /// True if the object starting here is a synod document (its first key is one of the
    /// document's keys).
    fn starts_document(&mut self) -> bool {
        let (pos, line) = (self.pos, self.line);
        self.pos += 1;
        self.skip_ws();
        let doc = self.peek() == Some(b'"')
            && matches!(
                self.read_string().as_deref(),
                Ok("format" | "version" | "ops" | "skipped_events")
            );
        (self.pos, self.line) = (pos, line);
        doc
    }

    /// Reads an object's fields, calling `field` with each name once positioned at its value
    /// (which `field` must read). Returns the line of the opening brace.
    fn read_object(
        &mut self,
        mut field: impl FnMut(&mut Self, Field<'a>) -> Result<(), ParseError>,
    ) -> Result<usize, ParseError> {
        self.skip_ws();
        if self.peek() != Some(b'{') {
            return Err(self.unexpected("an object `{...}`"));
        }
        let open_line = self.line;
        self.pos += 1;
        self.skip_ws();
        if self.peek() == Some(b'}') {
            self.pos += 1;
            return Ok(open_line);
        }
        loop {
            self.skip_ws();
            if self.peek() != Some(b'"') {
                return Err(self.unclosed_or(open_line, "a field name (a string)"));
            }
            let key_line = self.line;
            let key = self.read_string()?;
            self.skip_ws();
            if self.peek() != Some(b':') {
                return Err(self.unclosed_or(open_line, "`:` after the field name"));
            }
            self.pos += 1;
            self.skip_ws();
            field(self, (key, key_line))?;
            self.skip_ws();
            match self.peek() {
                Some(b',') => self.pos += 1,
                Some(b'}') => {
                    self.pos += 1;
                    return Ok(open_line);
                }
                _ => return Err(self.unclosed_or(open_line, "`,` or `}` in the object")),
            }
        }
    }

    fn unclosed_or(&self, open_line: usize, expected: &str) -> ParseError {
        if self.peek().is_none() {
            ParseError::new(
                open_line,
                "unclosed `{` (no matching `}` before the end of the input)",
            )
        } else {
            self.unexpected(expected)
        }
    }

    /// Reads one Jepsen-style event object and adds it.
    fn read_event(&mut self, pairing: &mut Pairing) -> Result<(), ParseError> {
        let (mut process, mut ty, mut f, mut key, mut value, mut time) =
            (None, None, None, None, None, None);
        let line = self.read_object(|j, (name, _)| {
            let v = j.read_value(0, false)?;
            match &*name {
                "process" => process = Some(v),
                "type" => ty = Some(v),
                "f" => f = Some(v),
                "key" => key = Some(v),
                "value" => value = Some(v),
                "time" => time = Some(v),
                _ => {}
            }
            Ok(())
        })?;
        let err = |m: String| ParseError::new(line, m);
        let process = match process {
            None => return Err(err("event has no \"process\"".into())),
            Some(Value::Int(p)) => {
                u64::try_from(p).map_err(|_| err(format!("\"process\": {p} is negative")))?
            }
            Some(_) => {
                pairing.skip();
                return Ok(());
            }
        };
        let ty = match ty {
            None => return Err(err("event has no \"type\"".into())),
            Some(Value::Str(t)) => {
                let name = t.strip_prefix(':').unwrap_or(&t);
                EventType::from_name(name).ok_or_else(|| {
                    err(format!(
                        "unknown \"type\": \"{t}\" (expected invoke, ok, fail or info)"
                    ))
                })?
            }
            Some(v) => {
                return Err(err(format!(
                    "\"type\" must be a string, found {}",
                    describe(&v)
                )))
            }
        };
        let f = match f {
            None => return Err(err("event has no \"f\"".into())),
            Some(Value::Str(f)) => match f.strip_prefix(':') {
                Some(bare) => bare.to_owned(),
                None => f,
            },
            Some(v) => {
                return Err(err(format!(
                    "\"f\" must be a string, found {}",
                    describe(&v)
                )))
            }
        };
        let time = match time {
            None | Some(Value::Nil) => None,
            Some(Value::Int(t)) if t >= 0 => Some(t as u64),
            Some(v) => {
                return Err(err(format!(
                    "\"time\" must be a non-negative integer (nanoseconds), found {}",
                    describe(&v)
                )))
            }
        };
        pairing.push(Event {
            process,
            ty,
            f,
            key,
            value: value.unwrap_or(Value::Nil),
            time,
            line,
        })
    }

    /// Reads a synod history document.
    fn read_document(&mut self) -> Result<Recorded, ParseError> {
        let mut format: Option<(String, usize)> = None;
        let mut version: Option<(Value, usize)> = None;
        let mut skipped: Option<(Value, usize)> = None;
        let mut ops: Option<Vec<RecordedOp>> = None;
        let line = self.read_object(|j, (name, name_line)| {
            match &*name {
                "format" => {
                    let v = j.read_value(0, false)?;
                    match v {
                        Value::Str(s) => format = Some((s, name_line)),
                        v => {
                            return Err(ParseError::new(
                                name_line,
                                format!("\"format\" must be a string, found {}", describe(&v)),
                            ))
                        }
                    }
                }
                "version" => version = Some((j.read_value(0, false)?, name_line)),
                "skipped_events" => skipped = Some((j.read_value(0, false)?, name_line)),
                "ops" => ops = Some(j.read_ops()?),
                _ => {
                    j.read_value(0, false)?;
                }
            }
            Ok(())
        })?;
        match format {
            Some((f, _)) if f == JSON_FORMAT_NAME => {}
            Some((f, l)) => {
                return Err(ParseError::new(
                    l,
                    format!("\"format\" is \"{f}\", expected \"{JSON_FORMAT_NAME}\""),
                ))
            }
            None => {
                return Err(ParseError::new(
                    line,
                    format!("missing \"format\": \"{JSON_FORMAT_NAME}\""),
                ))
            }
        }
        match version {
            Some((Value::Int(JSON_FORMAT_VERSION), _)) => {}
            Some((v, l)) => {
                return Err(ParseError::new(
                    l,
                    format!(
                    "unsupported \"version\": {} (this synod reads version {JSON_FORMAT_VERSION})",
                    describe(&v)
                ),
                ))
            }
            None => return Err(ParseError::new(line, "missing \"version\"")),
        }
        let skipped_events = match skipped {
            None => 0,
            Some((Value::Int(n), l)) => usize::try_from(n).map_err(|_| {
                ParseError::new(l, "\"skipped_events\" must be a non-negative integer")
            })?,
            Some((_, l)) => {
                return Err(ParseError::new(
                    l,
                    "\"skipped_events\" must be a non-negative integer",
                ))
            }
        };
        let Some(mut ops) = ops else {
            return Err(ParseError::new(line, "missing \"ops\""));
        };
        if ops.windows(2).any(|w| w[0].call > w[1].call) {
            ops.sort_by_key(|o| o.call);
        }
        Ok(Recorded {
            ops,
            skipped_events,
        })
    }

    /// Reads the `"ops"` array of a synod document.
    fn read_ops(&mut self) -> Result<Vec<RecordedOp>, ParseError> {
        if self.peek() != Some(b'[') {
            return Err(self.unexpected("an array of operations after \"ops\""));
        }
        let open_line = self.line;
        self.pos += 1;
        let mut ops = Vec::new();
        self.skip_ws();
        if self.peek() == Some(b']') {
            self.pos += 1;
            return Ok(ops);
        }
        loop {
            ops.push(self.read_op()?);
            self.skip_ws();
            match self.peek() {
                Some(b',') => self.pos += 1,
                Some(b']') => {
                    self.pos += 1;
                    return Ok(ops);
                }
                None => {
                    return Err(ParseError::new(
                        open_line,
                        "unclosed `[` (no matching `]` before the end of the input)",
                    ))
                }
                Some(_) => return Err(self.unexpected("`,` or `]` after an operation")),
            }
        }
    }

    /// Reads one operation of a synod document.
    fn read_op(&mut self) -> Result<RecordedOp, ParseError> {
        let (mut process, mut f, mut key, mut value, mut ty, mut result) =
            (None, None, None, None, None, None);
        let (mut call, mut ret, mut call_nanos, mut ret_nanos) = (None, None, None, None);
        let line = self.read_object(|j, (name, name_line)| {
            let tagged = matches!(&*name, "key" | "value" | "result");
            let v = j.read_value(0, tagged)?;
            let slot = match &*name {
                "process" => &mut process,
                "f" => &mut f,
                "key" => &mut key,
                "value" => &mut value,
                "type" => &mut ty,
                "result" => &mut result,
                "call" => &mut call,
                "ret" => &mut ret,
                "call_nanos" => &mut call_nanos,
                "ret_nanos" => &mut ret_nanos,
                _ => return Ok(()),
            };
            *slot = Some((v, name_line));
            Ok(())
        })?;
        let missing = |field: &str| ParseError::new(line, format!("operation has no \"{field}\""));
        // A non-negative integer field; `null` (or absent) is `None`.
        let count = |v: Option<(Value, usize)>, field: &str| match v {
            None | Some((Value::Nil, _)) => Ok(None),
            Some((Value::Int(n), l)) => u64::try_from(n).map(Some).map_err(|_| {
                ParseError::new(l, format!("\"{field}\" must be a non-negative integer"))
            }),
            Some((v, l)) => Err(ParseError::new(
                l,
                format!(
                    "\"{field}\" must be a non-negative integer, found {}",
                    describe(&v)
                ),
            )),
        };
        let process = count(process, "process")?.ok_or_else(|| missing("process"))?;
        let call = count(call, "call")?.ok_or_else(|| missing("call"))?;
        let ret_value = ret.clone();
        let ret = count(ret, "ret")?;
        let f = match f {
            Some((Value::Str(f), _)) => f,
            Some((v, l)) => {
                return Err(ParseError::new(
                    l,
                    format!("\"f\" must be a string, found {}", describe(&v)),
                ))
            }
            None => return Err(missing("f")),
        };
        let result = result.map_or(Value::Nil, |(v, _)| v);
        let (completion, ty_line) = match ty {
            Some((Value::Str(t), l)) => match t.as_str() {
                "ok" => (Completion::Ok(result), l),
                "fail" => (Completion::Fail(result), l),
                "info" | "open" => (Completion::Unknown(result), l),
                _ => {
                    return Err(ParseError::new(
                        l,
                        format!("unknown \"type\": \"{t}\" (expected ok, fail, info or open)"),
                    ))
                }
            },
            Some((v, l)) => {
                return Err(ParseError::new(
                    l,
                    format!("\"type\" must be a string, found {}", describe(&v)),
                ))
            }
            None => return Err(missing("type")),
        };
        match (&completion, ret) {
            (Completion::Unknown(_), Some(_)) => {
                let l = ret_value.map_or(ty_line, |(_, l)| l);
                return Err(ParseError::new(
                    l,
                    "an \"info\" or \"open\" operation has no \"ret\" (it must be null)",
                ));
            }
            (Completion::Ok(_) | Completion::Fail(_), None) => {
                return Err(ParseError::new(
                    ty_line,
                    "an \"ok\" or \"fail\" operation needs a \"ret\"",
                ))
            }
            (_, Some(r)) if r < call => {
                let l = ret_value.map_or(ty_line, |(_, l)| l);
                return Err(ParseError::new(
                    l,
                    format!("\"ret\": {r} is before \"call\": {call}"),
                ));
            }
            _ => {}
        }
        let key = key.map(|(v, _)| v);
        let value = value.map_or(Value::Nil, |(v, _)| v);
        for v in key.iter().chain([&value, completion_value(&completion)]) {
            check_depth(v, line)?;
        }
        Ok(RecordedOp {
            process,
            f,
            key,
            value,
            completion,
            call,
            ret,
            call_nanos: count(call_nanos, "call_nanos")?,
            ret_nanos: count(ret_nanos, "ret_nanos")?,
            line,
        })
    }

    /// Reads one JSON value. With `tagged`, single-field objects named `keyword`, `set`,
    /// `map` and `float` are synod's encodings of the values JSON lacks.
    fn read_value(&mut self, depth: usize, tagged: bool) -> Result<Value, ParseError> {
        if depth > MAX_DEPTH {
            return Err(self.err(format!("values nest more than {MAX_DEPTH} deep")));
        }
        self.skip_ws();
        match self.peek() {
            Some(b'"') => Ok(Value::Str(self.read_string()?.into_owned())),
            Some(b'[') => {
                let open_line = self.line;
                self.pos += 1;
                let mut items = Vec::new();
                self.skip_ws();
                if self.peek() == Some(b']') {
                    self.pos += 1;
                    return Ok(Value::List(items));
                }
                loop {
                    items.push(self.read_value(depth + 1, tagged)?);
                    self.skip_ws();
                    match self.peek() {
                        Some(b',') => self.pos += 1,
                        Some(b']') => {
                            self.pos += 1;
                            return Ok(Value::List(items));
                        }
                        None => {
                            return Err(ParseError::new(
                                open_line,
                                "unclosed `[` (no matching `]` before the end of the input)",
                            ))
                        }
                        Some(_) => return Err(self.unexpected("`,` or `]` in the array")),
                    }
                }
            }
            Some(b'{') => {
                let mut entries = Vec::new();
                self.read_object(|j, (name, _)| {
                    let v = j.read_value(depth + 1, tagged)?;
                    entries.push((Value::Str(name.into_owned()), v));
                    Ok(())
                })?;
                if tagged && entries.len() == 1 {
                    if let Value::Str(tag) = &entries[0].0 {
                        if TAGS.contains(&tag.as_str()) {
                            let Some((Value::Str(tag), v)) = entries.pop() else {
                                unreachable!("checked above")
                            };
                            return self.untag(&tag, v);
                        }
                    }
                }
                Ok(Value::Map(entries))
            }
            Some(b'-' | b'0'..=b'9') => self.read_number(),
            Some(b't') if self.src[self.pos..].starts_with(b"true") => {
                self.pos += 4;
                Ok(Value::Bool(true))
            }
            Some(b'f') if self.src[self.pos..].starts_with(b"false") => {
                self.pos += 5;
                Ok(Value::Bool(false))
            }
            Some(b'n') if self.src[self.pos..].starts_with(b"null") => {
                self.pos += 4;
                Ok(Value::Nil)
            }
            _ => Err(self.unexpected("a value")),
        }
    }

    /// Decodes `{"keyword": "k"}`, `{"set": [...]}`, `{"map": [[k, v], ...]}` and
    /// `{"float": "NaN"}`.
    fn untag(&self, tag: &str, v: Value) -> Result<Value, ParseError> {
        let bad = |what: &str| self.err(format!("{{\"{tag}\": ...}} must hold {what}"));
        match (tag, v) {
            ("keyword", Value::Str(k)) => Ok(Value::Keyword(k)),
            ("keyword", _) => Err(bad("a string")),
            ("set", Value::List(items)) => Ok(Value::Set(items)),
            ("set", _) => Err(bad("an array")),
            ("map", Value::List(pairs)) => {
                let mut entries = Vec::with_capacity(pairs.len());
                for p in pairs {
                    match p {
                        Value::List(kv) if kv.len() == 2 => {
                            let mut kv = kv.into_iter();
                            if let (Some(k), Some(v)) = (kv.next(), kv.next()) {
                                entries.push((k, v));
                            }
                        }
                        _ => return Err(bad("an array of [key, value] pairs")),
                    }
                }
                Ok(Value::Map(entries))
            }
            ("map", _) => Err(bad("an array of [key, value] pairs")),
            ("float", Value::Str(s)) => match s.as_str() {
                "NaN" => Ok(Value::Float(f64::NAN)),
                "Infinity" => Ok(Value::Float(f64::INFINITY)),
                "-Infinity" => Ok(Value::Float(f64::NEG_INFINITY)),
                _ => Err(bad("\"NaN\", \"Infinity\" or \"-Infinity\"")),
            },
            _ => Err(bad("\"NaN\", \"Infinity\" or \"-Infinity\"")),
        }
    }

    fn read_number(&mut self) -> Result<Value, ParseError> {
        let start = self.pos;
        let digits = |j: &mut Self| {
            let s = j.pos;
            while j.peek().is_some_and(|b| b.is_ascii_digit()) {
                j.pos += 1;
            }
            j.pos - s
        };
        if self.peek() == Some(b'-') {
            self.pos += 1;
        }
        let int_start = self.pos;
        let n = digits(self);
        let mut ok = n > 0 && !(n > 1 && self.src[int_start] == b'0');
        let mut float = false;
        if self.peek() == Some(b'.') {
            self.pos += 1;
            float = true;
            ok &= digits(self) > 0;
        }
        if matches!(self.peek(), Some(b'e' | b'E')) {
            self.pos += 1;
            float = true;
            if matches!(self.peek(), Some(b'+' | b'-')) {
                self.pos += 1;
            }
            ok &= digits(self) > 0;
        }
        let token = &self.text[start..self.pos];
        if !ok {
            return Err(self.err(format!("invalid number `{token}`")));
        }
        if !float {
            if let Ok(i) = token.parse::<i64>() {
                return Ok(Value::Int(i));
            }
        }
        token
            .parse::<f64>()
            .map(Value::Float)
            .map_err(|_| self.err(format!("invalid number `{token}`")))
    }

    /// Reads a string at `"`; borrowed when it has no escapes.
    fn read_string(&mut self) -> Result<Cow<'a, str>, ParseError> {
        let start_line = self.line;
        self.pos += 1;
        let start = self.pos;
        let mut owned: Option<String> = None;
        let mut seg = start;
        loop {
            match self.peek() {
                None => return Err(ParseError::new(start_line, "unterminated string")),
                Some(b'"') => {
                    let tail = &self.text[seg..self.pos];
                    self.pos += 1;
                    return Ok(match owned {
                        Some(mut s) => {
                            s.push_str(tail);
                            Cow::Owned(s)
                        }
                        None => Cow::Borrowed(tail),
                    });
                }
                Some(b'\\') => {
                    let s = owned.get_or_insert_with(String::new);
                    s.push_str(&self.text[seg..self.pos]);
                    self.pos += 1;
                    let c = self.read_escape()?;
                    if let Some(s) = owned.as_mut() {
                        s.push(c);
                    }
                    seg = self.pos;
                }
                Some(b'\n') => {
                    return Err(self.err(
                        "line break inside a string (unterminated string, or an unescaped newline)",
                    ))
                }
                Some(0..=0x1f) => return Err(self.err("unescaped control character in a string")),
                Some(_) => self.pos += 1,
            }
        }
    }

    fn read_escape(&mut self) -> Result<char, ParseError> {
        let Some(b) = self.peek() else {
            return Err(self.err("unterminated string"));
        };
        self.pos += 1;
        Ok(match b {
            b'"' => '"',
            b'\\' => '\\',
            b'/' => '/',
            b'b' => '\u{8}',
            b'f' => '\u{c}',
            b'n' => '\n',
            b'r' => '\r',
            b't' => '\t',
            b'u' => {
                let hi = self.hex4()?;
                if (0xd800..0xdc00).contains(&hi) && self.src[self.pos..].starts_with(b"\\u") {
                    let save = self.pos;
                    self.pos += 2;
                    let lo = self.hex4()?;
                    if (0xdc00..0xe000).contains(&lo) {
                        char::from_u32(0x10000 + ((hi - 0xd800) << 10) + (lo - 0xdc00))
                            .unwrap_or('\u{fffd}')
                    } else {
                        self.pos = save;
                        '\u{fffd}'
                    }
                } else {
                    char::from_u32(hi).unwrap_or('\u{fffd}')
                }
            }
            _ => {
                self.pos -= 1;
                return Err(self.unexpected("an escape (`\\\"`, `\\\\`, `\\n`, `\\u00e9`, ...)"));
            }
        })
    }

    fn hex4(&mut self) -> Result<u32, ParseError> {
        match self.src.get(self.pos..self.pos + 4) {
            Some(d) if d.iter().all(u8::is_ascii_hexdigit) => {
                self.pos += 4;
                Ok(d.iter()
                    .fold(0, |v, &c| v * 16 + (c as char).to_digit(16).unwrap_or(0)))
            }
            _ => Err(self.err("`\\u` must be followed by four hexadecimal digits")),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn read(s: &str, tagged: bool) -> Result<Value, ParseError> {
        let mut j = Json::new(s);
        let v = j.read_value(0, tagged)?;
        j.expect_end("the value")?;
        Ok(v)
    }

    #[test]
    fn reads_values() {
        assert_eq!(read("null", false), Ok(Value::Nil));
        assert_eq!(read(" -12 ", false), Ok(Value::Int(-12)));
        assert_eq!(read("1.5e2", false), Ok(Value::Float(150.0)));
        assert_eq!(read("1e400", false), Ok(Value::Float(f64::INFINITY)));
        assert_eq!(
            read("18446744073709551615", false),
            Ok(Value::Float(18446744073709551615.0))
        );
        assert!(read("01", false).is_err());
        assert!(read("1.", false).is_err());
        assert!(read("-", false).is_err());
        assert_eq!(
            read(r#""a\"\u00e9\ud83d\ude00/\/""#, false),
            Ok(Value::Str("a\"é\u{1F600}//".into()))
        );
        assert_eq!(
            read(r#"{"a":[1,true],"b":{}}"#, false),
            Ok(Value::Map(vec![
                (
                    Value::Str("a".into()),
                    Value::List(vec![Value::Int(1), Value::Bool(true)])
                ),
                (Value::Str("b".into()), Value::Map(vec![])),
            ]))
        );
        assert_eq!(
            read(r#"{"keyword":"x"}"#, false),
            Ok(Value::Map(vec![(
                Value::Str("keyword".into()),
                Value::Str("x".into())
            )]))
        );
        assert_eq!(
            read(r#"{"keyword":"x"}"#, true),
            Ok(Value::Keyword("x".into()))
        );
        assert!(read(r#"{"set":1}"#, true).is_err());
        let e = read("[1,\n2,\n\"abc\n\"]", false).unwrap_err();
        assert_eq!(e.line, 3);
        let deep = "[".repeat(5000);
        assert!(read(&deep, false).unwrap_err().message.contains("nest"));
    }

    #[test]
    fn writes_what_it_reads() {
        let values = [
            Value::Float(f64::INFINITY),
            Value::Float(-0.25),
            Value::Float(3.0),
            Value::Str("\u{0}\u{1f}\"\\\n é".into()),
            Value::Keyword("timed-out".into()),
            Value::Set(vec![Value::Int(1), Value::Keyword("a".into())]),
            Value::Map(vec![]),
            Value::Map(vec![(Value::Str("k".into()), Value::Int(1))]),
            Value::Map(vec![(Value::Str("set".into()), Value::List(vec![]))]),
            Value::Map(vec![(Value::Int(1), Value::Nil)]),
            Value::Map(vec![
                (Value::Str("a".into()), Value::Int(1)),
                (Value::Str("a".into()), Value::Int(2)),
            ]),
        ];
        for v in values {
            let mut s = String::new();
            write_value(&mut s, &v);
            assert_eq!(read(&s, true), Ok(v), "{s}");
        }
    }
}
