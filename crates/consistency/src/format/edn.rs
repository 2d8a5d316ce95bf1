//! Jepsen/Knossos EDN histories: a small EDN reader (what Jepsen and Knossos write, plus the
//! rest of the EDN data syntax) and the writer behind [`to_edn`].

use super::events::{Event, EventType, Pairing};
use super::{Completion, ParseError, Recorded, RecordedOp, Value};
use std::collections::{BTreeMap, BTreeSet};
use std::fmt::Write as _;

/// How deeply the syntax (collections, tags, discards) may nest before a reader gives up: a
/// guard for the stack. Values themselves may nest at most
/// [`MAX_VALUE_DEPTH`](super::events::MAX_VALUE_DEPTH) deep, which every writer spells
/// within this limit.
pub(crate) const MAX_DEPTH: usize = 256;

/// The tag [`to_edn`] writes for a keyword that has no EDN spelling (`#synod/keyword "a b"`);
/// the reader turns it back into a keyword.
const KEYWORD_TAG: &str = "synod/keyword";

/// Reads a Jepsen/Knossos EDN history: one map per event, optionally all inside one vector.
///
/// See the [module documentation](super) for the semantics.
pub fn parse_edn(text: &str) -> Result<Recorded, ParseError> {
    let text = text.strip_prefix('\u{feff}').unwrap_or(text);
    let mut r = Reader::new(text, 1);
    let mut pairing = Pairing::default();
    loop {
        r.skip_ws(0)?;
        match r.peek() {
            None => break,
            Some(open @ (b'[' | b'(')) => {
                // The whole history (or a part of it) wrapped in one vector or list.
                let close = if open == b'[' { b']' } else { b')' };
                let open_line = r.line;
                r.pos += 1;
                loop {
                    r.skip_ws(1)?;
                    match r.peek() {
                        None => return Err(unclosed(open, open_line)),
                        Some(c) if c == close => {
                            r.pos += 1;
                            break;
                        }
                        Some(_) => r.read_event(&mut pairing, 1)?,
                    }
                }
            }
            Some(_) => r.read_event(&mut pairing, 0)?,
        }
    }
    Ok(pairing.finish())
}

/// Writes a history as Jepsen EDN: one event map per line, invocations and completions in
/// event order, e.g. `{:process 0, :type :invoke, :f :write, :value 3}`.
///
/// Keys are written as `:key`, wall-clock times as `:time`. Reading the result back with
/// [`parse_edn`] gives the same history (up to [`RecordedOp::line`] and
/// [`Recorded::skipped_events`]: nemesis events are not written) whenever the history's
/// `call`/`ret` are event positions, as every parser produces them. An `:info` completion
/// keeps no position of its own, so one is written into each free position (a position no
/// invocation or `:ok`/`:fail` uses), for an operation still open then, earliest next
/// invocation of the same process first; an operation still open when its process invokes
/// again gets its `:info` just before; at the end, operations that are unknown with
/// something to say (a value or `ret_nanos`) get one, and the others stay without a
/// completion (which reads back the same: `Unknown(Nil)`).
pub fn to_edn(r: &Recorded) -> String {
    let n = r.ops.len();
    let mut out = String::with_capacity(n * 2 * 64);
    // Each operation's deadline: the call of the same process's next operation. Its
    // completion must be written before that invocation.
    let mut by_call: Vec<usize> = (0..n).collect();
    by_call.sort_by_key(|&i| (r.ops[i].call, i));
    let mut deadline = vec![u64::MAX; n];
    let mut last: BTreeMap<u64, usize> = BTreeMap::new();
    for &i in &by_call {
        if let Some(prev) = last.insert(r.ops[i].process, i) {
            deadline[prev] = r.ops[i].call;
        }
    }
    // Events with a position: invocations, and `:ok`/`:fail` completions.
    let mut fixed: Vec<(u64, u8, usize)> = Vec::with_capacity(2 * n);
    for (i, o) in r.ops.iter().enumerate() {
        fixed.push((o.call, 0, i));
        if let (Some(t), false) = (o.ret, o.is_unknown()) {
            fixed.push((t.max(o.call), 1, i));
        }
    }
    fixed.sort_unstable();

    let mut w = EventWriter {
        r,
        out: &mut out,
        written: 0,
        open: BTreeMap::new(),
        floating: BTreeSet::new(),
        closed: vec![false; n],
        deadline,
    };
    for (position, kind, i) in fixed {
        // Fill free positions with completions that have none of their own, earliest
        // deadline first.
        while w.written < position {
            let Some(&(_, j)) = w.floating.iter().next() else {
                break;
            };
            w.complete(j);
        }
        if kind == 0 {
            if let Some(&j) = w.open.get(&r.ops[i].process) {
                w.complete(j);
            }
            w.invoke(i);
        } else if !w.closed[i] {
            w.complete(i);
        }
    }
    // Completions still owed: `:info` events with something to say, and (for histories not
    // made by a parser) `:ok`/`:fail` completions without a position.
    let rest: Vec<usize> = w.floating.iter().map(|&(_, j)| j).collect();
    for j in rest {
        let o = &r.ops[j];
        let needed = match &o.completion {
            Completion::Unknown(v) => !v.is_nil() || o.ret_nanos.is_some(),
            _ => true,
        };
        if needed {
            w.complete(j);
        }
    }
    out
}

/// State of [`to_edn`]'s event emission.
struct EventWriter<'r, 'o> {
    r: &'r Recorded,
    out: &'o mut String,
    /// Client events written so far (the next event's position when read back).
    written: u64,
    /// Process -> its invoked, not yet completed operation.
    open: BTreeMap<u64, usize>,
    /// Open operations whose completion has no fixed position: (deadline, index).
    floating: BTreeSet<(u64, usize)>,
    closed: Vec<bool>,
    deadline: Vec<u64>,
}

impl EventWriter<'_, '_> {
    fn invoke(&mut self, i: usize) {
        let o = &self.r.ops[i];
        write_event(self.out, o, "invoke", &o.value, o.call_nanos);
        self.written += 1;
        self.open.insert(o.process, i);
        if o.is_unknown() || o.ret.is_none() {
            self.floating.insert((self.deadline[i], i));
        }
    }

    fn complete(&mut self, i: usize) {
        let o = &self.r.ops[i];
        let (ty, v) = match &o.completion {
            Completion::Ok(v) => ("ok", v),
            Completion::Fail(v) => ("fail", v),
            Completion::Unknown(v) => ("info", v),
        };
        write_event(self.out, o, ty, v, o.ret_nanos);
        self.written += 1;
        if self.open.get(&o.process) == Some(&i) {
            self.open.remove(&o.process);
        }
        self.floating.remove(&(self.deadline[i], i));
        self.closed[i] = true;
    }
}

fn write_event(out: &mut String, o: &RecordedOp, ty: &str, value: &Value, time: Option<u64>) {
    let _ = write!(out, "{{:process {}, :type :{ty}, :f ", o.process);
    if is_keyword_name(&o.f) {
        out.push(':');
        out.push_str(&o.f);
    } else {
        write_string(out, &o.f);
    }
    if let Some(k) = &o.key {
        out.push_str(", :key ");
        write_value(out, k);
    }
    out.push_str(", :value ");
    write_value(out, value);
    if let Some(t) = time {
        let _ = write!(out, ", :time {t}");
    }
    out.push_str("}\n");
}

/// Writes `v` in EDN syntax (what `Value`'s `Display` shows).
pub(crate) fn write_value(out: &mut String, v: &Value) {
    match v {
        Value::Nil => out.push_str("nil"),
        Value::Bool(b) => out.push_str(if *b { "true" } else { "false" }),
        Value::Int(i) => {
            let _ = write!(out, "{i}");
        }
        Value::Float(x) => {
            if x.is_nan() {
                out.push_str("##NaN");
            } else if x.is_infinite() {
                out.push_str(if *x > 0.0 { "##Inf" } else { "##-Inf" });
            } else {
                // Rust's shortest round-trip form always has a `.` or an exponent.
                let _ = write!(out, "{x:?}");
            }
        }
        Value::Str(s) => write_string(out, s),
        Value::Keyword(k) => {
            if is_keyword_name(k) {
                out.push(':');
                out.push_str(k);
            } else {
                out.push('#');
                out.push_str(KEYWORD_TAG);
                out.push(' ');
                write_string(out, k);
            }
        }
        Value::List(items) => write_seq(out, "[", items, "]"),
        Value::Set(items) => write_seq(out, "#{", items, "}"),
        Value::Map(entries) => {
            out.push('{');
            for (i, (k, v)) in entries.iter().enumerate() {
                if i > 0 {
                    out.push_str(", ");
                }
                write_value(out, k);
                out.push(' ');
                write_value(out, v);
            }
            out.push('}');
        }
    }
}

fn write_seq(out: &mut String, open: &str, items: &[Value], close: &str) {
    out.push_str(open);
    for (i, v) in items.iter().enumerate() {
        if i > 0 {
            out.push(' ');
        }
        write_value(out, v);
    }
    out.push_str(close);
}

/// Writes an EDN string literal.
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
            0..=0x1f | 0x7f => "",
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

/// True if `:name` reads back as the keyword `name`.
fn is_keyword_name(name: &str) -> bool {
    !name.is_empty() && !name.starts_with(':') && name.bytes().all(is_token_byte)
}

/// True for bytes that may appear in a symbol, keyword or number token.
fn is_token_byte(b: u8) -> bool {
    TOKEN_BYTES[b as usize]
}

/// [`is_token_byte`] as a table: everything but whitespace, commas and `()[]{}";`.
const TOKEN_BYTES: [bool; 256] = {
    let mut table = [true; 256];
    let delimiters = b" \t\n\r\x0b\x0c,()[]{}\";";
    let mut i = 0;
    while i < delimiters.len() {
        table[delimiters[i] as usize] = false;
        i += 1;
    }
    table
};

fn closer_of(open: u8) -> u8 {
    match open {
        b'(' => b')',
        b'[' => b']',
        _ => b'}',
    }
}

fn unclosed(open: u8, line: usize) -> ParseError {
    ParseError::new(
        line,
        format!(
            "unclosed `{}` (no matching `{}` before the end of the input)",
            open as char,
            closer_of(open) as char
        ),
    )
}

/// A value for an error message, shortened.
pub(crate) fn describe(v: &Value) -> String {
    let mut s = String::new();
    write_value(&mut s, v);
    shorten(s)
}

fn shorten(s: String) -> String {
    const MAX: usize = 60;
    if s.chars().count() <= MAX {
        return s;
    }
    let mut t: String = s.chars().take(MAX).collect();
    t.push_str("...");
    t
}

/// An EDN reader over a string; `line` counts newlines crossed so far.
pub(crate) struct Reader<'a> {
    text: &'a str,
    src: &'a [u8],
    pub(crate) pos: usize,
    pub(crate) line: usize,
}

impl<'a> Reader<'a> {
    /// A reader at the start of `text`, which starts on line `line`.
    pub(crate) fn new(text: &'a str, line: usize) -> Self {
        Reader {
            text,
            src: text.as_bytes(),
            pos: 0,
            line,
        }
    }

    pub(crate) fn peek(&self) -> Option<u8> {
        self.src.get(self.pos).copied()
    }

    fn err(&self, message: impl Into<String>) -> ParseError {
        ParseError::new(self.line, message)
    }

    /// The rest of the current line, shortened, for error messages.
    fn snippet(&self) -> String {
        let rest = self.text.get(self.pos..).unwrap_or("");
        let line = rest.split('\n').next().unwrap_or("").trim_end();
        if line.is_empty() {
            "end of input".to_owned()
        } else {
            format!("`{}`", shorten(line.to_owned()))
        }
    }

    /// Skips whitespace, commas, `;` comments and `#_` discarded forms.
    pub(crate) fn skip_ws(&mut self, depth: usize) -> Result<(), ParseError> {
        loop {
            match self.peek() {
                Some(b'\n') => {
                    self.line += 1;
                    self.pos += 1;
                }
                Some(b' ' | b'\t' | b'\r' | b',' | 0x0b | 0x0c) => self.pos += 1,
                Some(b';') => {
                    while let Some(c) = self.peek() {
                        if c == b'\n' {
                            break;
                        }
                        self.pos += 1;
                    }
                }
                Some(b'#') if self.src.get(self.pos + 1) == Some(&b'_') => {
                    self.pos += 2;
                    self.read_value(depth + 1)?;
                }
                _ => return Ok(()),
            }
        }
    }

    /// The token (symbol, keyword name, number) starting here; empty if none.
    fn take_token(&mut self) -> &'a str {
        let start = self.pos;
        let rest = self.src.get(start..).unwrap_or(&[]);
        self.pos += rest
            .iter()
            .position(|&b| !is_token_byte(b))
            .unwrap_or(rest.len());
        // Tokens end at ASCII bytes (or the end), so these are character boundaries.
        self.text.get(start..self.pos).unwrap_or("")
    }

    /// Reads a keyword at `:`, returning its name (`:a/b` is `a/b`).
    fn read_keyword(&mut self) -> Result<&'a str, ParseError> {
        self.pos += 1;
        let name = self.take_token();
        if name.is_empty() {
            return Err(self.err("`:` without a keyword name"));
        }
        Ok(name)
    }

    /// Reads one value (after any whitespace).
    pub(crate) fn read_value(&mut self, depth: usize) -> Result<Value, ParseError> {
        if depth > MAX_DEPTH {
            return Err(self.err(format!("values nest more than {MAX_DEPTH} deep")));
        }
        self.skip_ws(depth)?;
        let Some(b) = self.peek() else {
            return Err(self.err("unexpected end of input, expected a value"));
        };
        match b {
            b'"' => self.read_string().map(Value::Str),
            b':' => Ok(Value::Keyword(self.read_keyword()?.to_owned())),
            b'[' | b'(' => self.read_seq(depth).map(Value::List),
            b'{' => self.read_map(depth),
            b'#' => self.read_dispatch(depth),
            b'\\' => self.read_char(),
            b')' | b']' | b'}' => Err(self.err(format!("unexpected `{}`", b as char))),
            _ => self.read_atom(),
        }
    }

    /// Reads the forms of a collection whose opening bracket is at `pos`, to its closer.
    fn read_seq(&mut self, depth: usize) -> Result<Vec<Value>, ParseError> {
        let open = self.src[self.pos];
        let close = closer_of(open);
        let open_line = self.line;
        self.pos += 1;
        let mut items = Vec::new();
        loop {
            self.skip_ws(depth + 1)?;
            match self.peek() {
                None => return Err(unclosed(open, open_line)),
                Some(c) if c == close => {
                    self.pos += 1;
                    return Ok(items);
                }
                Some(c @ (b')' | b']' | b'}')) => {
                    return Err(self.err(format!(
                        "`{}` where `{}` was expected, to close the `{}` opened on line {}",
                        c as char, close as char, open as char, open_line
                    )))
                }
                Some(_) => items.push(self.read_value(depth + 1)?),
            }
        }
    }

    fn read_map(&mut self, depth: usize) -> Result<Value, ParseError> {
        let open_line = self.line;
        let forms = self.read_seq(depth)?;
        if forms.len() % 2 == 1 {
            return Err(ParseError::new(
                open_line,
                "map has an odd number of forms (a key without a value)",
            ));
        }
        let mut entries = Vec::with_capacity(forms.len() / 2);
        let mut it = forms.into_iter();
        while let (Some(k), Some(v)) = (it.next(), it.next()) {
            entries.push((k, v));
        }
        Ok(Value::Map(entries))
    }

    /// `#{...}`, `##Inf`, `#"regex"`, `#:ns{...}`, `#_ form`, and tagged literals.
    fn read_dispatch(&mut self, depth: usize) -> Result<Value, ParseError> {
        match self.src.get(self.pos + 1).copied() {
            Some(b'{') => {
                self.pos += 1;
                self.read_seq(depth).map(Value::Set)
            }
            Some(b'#') => {
                self.pos += 2;
                match self.take_token() {
                    "Inf" => Ok(Value::Float(f64::INFINITY)),
                    "-Inf" => Ok(Value::Float(f64::NEG_INFINITY)),
                    "NaN" => Ok(Value::Float(f64::NAN)),
                    other => Err(self.err(format!("unknown symbolic value `##{other}`"))),
                }
            }
            Some(b'"') => {
                self.pos += 1;
                self.read_string().map(Value::Str)
            }
            Some(b'_') => {
                self.pos += 2;
                self.read_value(depth + 1)?;
                self.read_value(depth + 1)
            }
            Some(b':') => {
                // A namespaced map `#:ns{:a 1}`: the namespace is dropped.
                self.pos += 1;
                self.read_keyword()?;
                self.skip_ws(depth)?;
                if self.peek() != Some(b'{') {
                    return Err(self.err("expected `{` after a `#:ns` map prefix"));
                }
                self.read_map(depth + 1)
            }
            Some(b) if is_token_byte(b) => {
                // A tagged literal: `#inst "..."`, `#jepsen.history.Op{...}`; the tag is
                // dropped and the value read.
                self.pos += 1;
                let tag = self.take_token();
                self.skip_ws(depth)?;
                if self.peek().is_none() {
                    return Err(self.err(format!("tag `#{tag}` without a value")));
                }
                let v = self.read_value(depth + 1)?;
                match v {
                    Value::Str(s) if tag == KEYWORD_TAG => Ok(Value::Keyword(s)),
                    v => Ok(v),
                }
            }
            Some(b) => Err(self.err(format!("unsupported `#{}`", b as char))),
            None => Err(self.err("`#` at the end of the input")),
        }
    }

    /// Reads a string literal at `"`.
    fn read_string(&mut self) -> Result<String, ParseError> {
        let start_line = self.line;
        self.pos += 1;
        let mut out = String::new();
        let mut seg = self.pos;
        loop {
            match self.peek() {
                None => return Err(ParseError::new(start_line, "unterminated string")),
                Some(b'"') => {
                    out.push_str(&self.text[seg..self.pos]);
                    self.pos += 1;
                    return Ok(out);
                }
                Some(b'\\') => {
                    out.push_str(&self.text[seg..self.pos]);
                    self.pos += 1;
                    self.read_escape(&mut out, start_line)?;
                    seg = self.pos;
                }
                Some(b'\n') => {
                    self.line += 1;
                    self.pos += 1;
                }
                Some(_) => self.pos += 1,
            }
        }
    }

    /// Reads the escape after a `\` in a string.
    fn read_escape(&mut self, out: &mut String, start_line: usize) -> Result<(), ParseError> {
        let Some(b) = self.peek() else {
            return Err(ParseError::new(start_line, "unterminated string"));
        };
        self.pos += 1;
        let c = match b {
            b'n' => '\n',
            b't' => '\t',
            b'r' => '\r',
            b'b' => '\u{8}',
            b'f' => '\u{c}',
            b'\\' => '\\',
            b'"' => '"',
            b'\'' => '\'',
            b'u' => {
                let hi = self.hex4()?;
                if (0xd800..0xdc00).contains(&hi)
                    && self.src.get(self.pos) == Some(&b'\\')
                    && self.src.get(self.pos + 1) == Some(&b'u')
                {
                    let save = self.pos;
                    self.pos += 2;
                    let lo = self.hex4()?;
                    if (0xdc00..0xe000).contains(&lo) {
                        let c = 0x10000 + ((hi - 0xd800) << 10) + (lo - 0xdc00);
                        char::from_u32(c).unwrap_or('\u{fffd}')
                    } else {
                        self.pos = save;
                        '\u{fffd}'
                    }
                } else {
                    char::from_u32(hi).unwrap_or('\u{fffd}')
                }
            }
            b'0'..=b'7' => {
                let mut v = u32::from(b - b'0');
                for _ in 0..2 {
                    match self.peek() {
                        Some(d @ b'0'..=b'7') => {
                            v = v * 8 + u32::from(d - b'0');
                            self.pos += 1;
                        }
                        _ => break,
                    }
                }
                if v > 0o377 {
                    return Err(self.err("octal escape out of range"));
                }
                char::from_u32(v).unwrap_or('\u{fffd}')
            }
            _ => {
                self.pos -= 1;
                let c = self.text.get(self.pos..).and_then(|s| s.chars().next());
                return Err(self.err(format!("unknown escape `\\{}` in string", c.unwrap_or('?'))));
            }
        };
        out.push(c);
        Ok(())
    }

    /// Four hexadecimal digits (after `\u`).
    fn hex4(&mut self) -> Result<u32, ParseError> {
        let digits = self.src.get(self.pos..self.pos + 4);
        match digits {
            Some(d) if d.iter().all(u8::is_ascii_hexdigit) => {
                let v = d
                    .iter()
                    .fold(0u32, |v, &c| v * 16 + (c as char).to_digit(16).unwrap_or(0));
                self.pos += 4;
                Ok(v)
            }
            _ => Err(self.err("`\\u` must be followed by four hexadecimal digits")),
        }
    }

    /// Reads a character literal at `\` (`\a`, `\newline`, `\u0041`) as a one-character string.
    fn read_char(&mut self) -> Result<Value, ParseError> {
        self.pos += 1;
        let Some(c) = self.text.get(self.pos..).and_then(|s| s.chars().next()) else {
            return Err(self.err("`\\` at the end of the input"));
        };
        let start = self.pos;
        self.pos += c.len_utf8();
        if c == '\n' {
            self.line += 1;
        }
        let rest = self.take_token();
        if rest.is_empty() {
            return Ok(Value::Str(c.to_string()));
        }
        let name = &self.text[start..self.pos];
        let named = match name {
            "newline" => Some('\n'),
            "space" => Some(' '),
            "tab" => Some('\t'),
            "return" => Some('\r'),
            "backspace" => Some('\u{8}'),
            "formfeed" => Some('\u{c}'),
            _ => {
                if let Some(hex) = name.strip_prefix('u').filter(|h| h.len() == 4) {
                    u32::from_str_radix(hex, 16)
                        .ok()
                        .filter(|_| hex.bytes().all(|b| b.is_ascii_hexdigit()))
                        .map(|v| char::from_u32(v).unwrap_or('\u{fffd}'))
                } else if let Some(oct) = name.strip_prefix('o').filter(|o| !o.is_empty()) {
                    u32::from_str_radix(oct, 8)
                        .ok()
                        .filter(|&v| v <= 0o377 && oct.bytes().all(|b| b.is_ascii_digit()))
                        .and_then(char::from_u32)
                } else {
                    None
                }
            }
        };
        match named {
            Some(c) => Ok(Value::Str(c.to_string())),
            None => Err(self.err(format!(
                "unknown character literal `\\{}`",
                shorten(name.to_owned())
            ))),
        }
    }

    /// A symbol, number, `nil`, `true` or `false`.
    fn read_atom(&mut self) -> Result<Value, ParseError> {
        let token = self.take_token();
        let b = token.as_bytes();
        let numeric = match b {
            [d, ..] if d.is_ascii_digit() => true,
            [b'-' | b'+', d, ..] => d.is_ascii_digit(),
            _ => false,
        };
        if numeric {
            return parse_number(token).ok_or_else(|| {
                let all_digits = token
                    .trim_start_matches(['-', '+'])
                    .trim_end_matches('N')
                    .bytes()
                    .all(|c| c.is_ascii_digit());
                if all_digits {
                    self.err(format!("integer `{token}` is out of the 64-bit range"))
                } else {
                    self.err(format!("invalid number `{}`", shorten(token.to_owned())))
                }
            });
        }
        Ok(match token {
            "nil" => Value::Nil,
            "true" => Value::Bool(true),
            "false" => Value::Bool(false),
            // Symbols are read as strings.
            s => Value::Str(s.to_owned()),
        })
    }

    /// Reads one operation map (optionally tagged, `#jepsen.history.Op{...}`) and adds it.
    fn read_event(&mut self, pairing: &mut Pairing, depth: usize) -> Result<(), ParseError> {
        let line = self.line;
        if self.peek() == Some(b'#')
            && self
                .src
                .get(self.pos + 1)
                .is_some_and(|&b| is_token_byte(b))
        {
            self.pos += 1;
            self.take_token();
            self.skip_ws(depth)?;
        }
        if self.peek() != Some(b'{') {
            return Err(self.err(format!(
                "expected an operation map `{{:process .., :type .., :f .., :value ..}}`, found {}",
                self.snippet()
            )));
        }
        let open_line = self.line;
        self.pos += 1;
        let (mut process, mut ty, mut f, mut key, mut value, mut time) =
            (None, None, None, None, None, None);
        loop {
            self.skip_ws(depth + 1)?;
            match self.peek() {
                None => return Err(unclosed(b'{', open_line)),
                Some(b'}') => {
                    self.pos += 1;
                    break;
                }
                Some(c @ (b')' | b']')) => {
                    return Err(self.err(format!(
                        "`{}` where `}}` was expected, to close the `{{` opened on line {}",
                        c as char, open_line
                    )))
                }
                Some(_) => {}
            }
            let k = if self.peek() == Some(b':') {
                Some(self.read_keyword()?)
            } else {
                self.read_value(depth + 1)?;
                None
            };
            self.skip_ws(depth + 1)?;
            match self.peek() {
                None => return Err(unclosed(b'{', open_line)),
                Some(b'}') => {
                    return Err(self.err(format!(
                        "map key{} has no value",
                        k.map(|k| format!(" `:{k}`")).unwrap_or_default()
                    )))
                }
                Some(_) => {}
            }
            if k == Some("type") && self.peek() == Some(b':') {
                // The common case, without allocating: `:type :invoke`.
                let name = self.read_keyword()?;
                ty = Some(EventType::from_name(name).ok_or_else(|| unknown_type(line, name)));
                continue;
            }
            let v = self.read_value(depth + 1)?;
            match k {
                Some("process") => process = Some(v),
                Some("type") => {
                    ty = Some(match v {
                        Value::Keyword(t) | Value::Str(t) => {
                            EventType::from_name(&t).ok_or_else(|| unknown_type(line, &t))
                        }
                        v => Err(ParseError::new(
                            line,
                            format!("`:type` must be a keyword, found `{}`", describe(&v)),
                        )),
                    })
                }
                Some("f") => f = Some(v),
                Some("key") => key = Some(v),
                Some("value") => value = Some(v),
                Some("time") => time = Some(v),
                _ => {}
            }
        }
        let err = |m: String| ParseError::new(line, m);
        let process = match process {
            None => return Err(err("operation map has no `:process`".into())),
            Some(Value::Int(p)) => {
                u64::try_from(p).map_err(|_| err(format!("`:process {p}` is negative")))?
            }
            Some(_) => {
                // A nemesis or another non-client process.
                pairing.skip();
                return Ok(());
            }
        };
        let ty = match ty {
            None => return Err(err("operation map has no `:type`".into())),
            Some(t) => t?,
        };
        let f = match f {
            None => return Err(err("operation map has no `:f`".into())),
            Some(Value::Keyword(f) | Value::Str(f)) => f,
            Some(v) => {
                return Err(err(format!(
                    "`:f` must be a keyword, found `{}`",
                    describe(&v)
                )))
            }
        };
        let time = match time {
            None | Some(Value::Nil) => None,
            Some(Value::Int(t)) if t >= 0 => Some(t as u64),
            Some(v) => {
                return Err(err(format!(
                    "`:time` must be a non-negative integer (nanoseconds), found `{}`",
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
}

fn unknown_type(line: usize, name: &str) -> ParseError {
    ParseError::new(
        line,
        format!("unknown `:type :{name}` (expected :invoke, :ok, :fail or :info)"),
    )
}

/// An EDN number: integers (`-3`, `7N`, `0x1f`, `2r101`), floats (`1.5`, `1e3`, `2.5M`) and
/// ratios (`1/3`, read as a float). `None` if malformed or out of range.
fn parse_number(token: &str) -> Option<Value> {
    let b = token.as_bytes();
    let unsigned = match b.first() {
        Some(b'-' | b'+') => &b[1..],
        _ => b,
    };
    if !unsigned.is_empty() && unsigned.len() <= 18 && unsigned.iter().all(u8::is_ascii_digit) {
        // The common case: a plain integer that cannot overflow.
        let v = unsigned
            .iter()
            .fold(0i64, |v, &d| v * 10 + i64::from(d - b'0'));
        return Some(Value::Int(if b[0] == b'-' { -v } else { v }));
    }
    if let Some(t) = token.strip_suffix('N') {
        return parse_int(t).map(Value::Int);
    }
    if let Some(t) = token.strip_suffix('M') {
        return parse_float(t).map(Value::Float);
    }
    if let Some((n, d)) = token.split_once('/') {
        let (n, d) = (parse_int(n)?, parse_int(d)?);
        return (d != 0).then(|| Value::Float(n as f64 / d as f64));
    }
    let (neg, unsigned) = match token.as_bytes()[0] {
        b'-' => (true, &token[1..]),
        b'+' => (false, &token[1..]),
        _ => (false, token),
    };
    let radix_digits = if let Some(hex) = unsigned
        .strip_prefix("0x")
        .or_else(|| unsigned.strip_prefix("0X"))
    {
        Some((16, hex))
    } else if let Some((radix, digits)) = unsigned.split_once(['r', 'R']) {
        let radix: u32 = radix.parse().ok().filter(|r| (2..=36).contains(r))?;
        Some((radix, digits))
    } else {
        None
    };
    if let Some((radix, digits)) = radix_digits {
        if digits.is_empty() || !digits.bytes().all(|b| b.is_ascii_alphanumeric()) {
            return None;
        }
        let v = i128::from_str_radix(digits, radix).ok()?;
        let v = if neg { -v } else { v };
        return i64::try_from(v).ok().map(Value::Int);
    }
    if token.contains(['.', 'e', 'E']) {
        return parse_float(token).map(Value::Float);
    }
    parse_int(token).map(Value::Int)
}

fn parse_int(t: &str) -> Option<i64> {
    let digits = t.strip_prefix(['-', '+']).unwrap_or(t);
    if digits.is_empty() || !digits.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    t.parse().ok()
}

fn parse_float(t: &str) -> Option<f64> {
    // Rust also accepts `inf`, `nan`, `infinity`: only digits, signs, `.` and exponents here.
    if !t
        .bytes()
        .all(|b| b.is_ascii_digit() || matches!(b, b'-' | b'+' | b'.' | b'e' | b'E'))
    {
        return None;
    }
    t.parse().ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn read(s: &str) -> Result<Value, ParseError> {
        let mut r = Reader::new(s, 1);
        let v = r.read_value(0)?;
        r.skip_ws(0)?;
        assert_eq!(r.peek(), None, "trailing input in {s:?}");
        Ok(v)
    }

    fn kw(s: &str) -> Value {
        Value::Keyword(s.into())
    }

    #[test]
    fn reads_scalars() {
        assert_eq!(read("nil"), Ok(Value::Nil));
        assert_eq!(read("true"), Ok(Value::Bool(true)));
        assert_eq!(read("false"), Ok(Value::Bool(false)));
        assert_eq!(read("-42"), Ok(Value::Int(-42)));
        assert_eq!(read("+7"), Ok(Value::Int(7)));
        assert_eq!(read("12N"), Ok(Value::Int(12)));
        assert_eq!(read("0x1f"), Ok(Value::Int(31)));
        assert_eq!(read("-2r101"), Ok(Value::Int(-5)));
        assert_eq!(read("1.5"), Ok(Value::Float(1.5)));
        assert_eq!(read("-1e3"), Ok(Value::Float(-1000.0)));
        assert_eq!(read("2.5M"), Ok(Value::Float(2.5)));
        assert_eq!(read("1/4"), Ok(Value::Float(0.25)));
        assert_eq!(read("##Inf"), Ok(Value::Float(f64::INFINITY)));
        assert_eq!(read("-9223372036854775808"), Ok(Value::Int(i64::MIN)));
        assert!(read("9223372036854775808")
            .unwrap_err()
            .message
            .contains("range"));
        assert!(read("1.2.3").is_err());
        assert_eq!(read(":timed-out"), Ok(kw("timed-out")));
        assert_eq!(read(":jepsen.db/node"), Ok(kw("jepsen.db/node")));
        assert_eq!(read("foo/bar"), Ok(Value::Str("foo/bar".into())));
        assert_eq!(read("-"), Ok(Value::Str("-".into())));
        assert_eq!(read(r"\a"), Ok(Value::Str("a".into())));
        assert_eq!(read(r"\newline"), Ok(Value::Str("\n".into())));
        assert_eq!(read(r"\u0041"), Ok(Value::Str("A".into())));
    }

    #[test]
    fn reads_strings() {
        assert_eq!(
            read(r#""a\"b\\c\n\t\u00e9\uD83D\uDE00 é""#),
            Ok(Value::Str("a\"b\\c\n\té\u{1F600} é".into()))
        );
        let e = read("\"abc\n\ndef").unwrap_err();
        assert_eq!((e.line, e.message.as_str()), (1, "unterminated string"));
        assert!(read(r#""\q""#)
            .unwrap_err()
            .message
            .contains("unknown escape"));
    }

    #[test]
    fn reads_collections_and_tags() {
        assert_eq!(
            read("[1, 2 (3) #{:a} {:k \"v\"}]"),
            Ok(Value::List(vec![
                Value::Int(1),
                Value::Int(2),
                Value::List(vec![Value::Int(3)]),
                Value::Set(vec![kw("a")]),
                Value::Map(vec![(kw("k"), Value::Str("v".into()))]),
            ]))
        );
        assert_eq!(
            read("#inst \"2017-03-14T22:31:04Z\""),
            Ok(Value::Str("2017-03-14T22:31:04Z".into()))
        );
        assert_eq!(
            read("#jepsen.history.Op{:a 1}"),
            Ok(Value::Map(vec![(kw("a"), Value::Int(1))]))
        );
        assert_eq!(
            read("[1 #_ 2 #_#_ 3 4 ; comment\n 5]"),
            Ok(Value::List(vec![Value::Int(1), Value::Int(5)]))
        );
        assert_eq!(read("#synod/keyword \"a b\""), Ok(kw("a b")));
        let e = read("[1\n2\n(3]").unwrap_err();
        assert_eq!(e.line, 3);
        let e = read("{:a 1\n :b}").unwrap_err();
        assert_eq!(e.line, 1);
        assert!(e.message.contains("odd"));
        let deep = "[".repeat(10_000);
        assert!(read(&deep).unwrap_err().message.contains("nest"));
    }

    #[test]
    fn writes_what_it_reads() {
        let values = [
            Value::Nil,
            Value::Float(-0.5),
            Value::Float(1e300),
            Value::Float(f64::NEG_INFINITY),
            Value::Str("tab\there \"q\" \\ \u{1} é".into()),
            kw("a/b"),
            kw("has space"),
            kw(""),
            kw(":colon"),
            Value::Map(vec![(
                Value::Set(vec![Value::Int(1)]),
                Value::List(vec![Value::Bool(false), Value::Nil]),
            )]),
        ];
        for v in values {
            let mut s = String::new();
            write_value(&mut s, &v);
            assert_eq!(read(&s), Ok(v), "{s}");
        }
    }
}
