//! Jepsen's text log: `INFO  jepsen.util - 3 :invoke :cas [1 4]`, one event per line.

use super::edn::{describe, Reader};
use super::events::{Event, EventType, Pairing};
use super::{ParseError, Recorded, Value};

/// Reads the operation lines of a Jepsen log.
///
/// An operation line is `PROCESS TYPE F VALUE` (tabs or runs of spaces), after a
/// `jepsen.util -` or `jepsen.util:` logger prefix (with anything before it: level,
/// timestamp, thread) or bare. `PROCESS` is an integer (or a name such as `:nemesis`, whose
/// lines are skipped and counted in [`Recorded::skipped_events`]), `TYPE` one of `:invoke :ok
/// :fail :info`, and `F` and `VALUE` EDN forms (a missing `VALUE` is `nil`; anything after it,
/// such as the error Jepsen appends, is ignored). Other lines are ignored; a line with the
/// `jepsen.util` prefix that is not an operation is an error.
pub fn parse_jepsen_log(text: &str) -> Result<Recorded, ParseError> {
    let text = text.strip_prefix('\u{feff}').unwrap_or(text);
    let mut pairing = Pairing::default();
    for (i, line) in text.split('\n').enumerate() {
        let line_no = i + 1;
        let line = line.strip_suffix('\r').unwrap_or(line);
        let Some((body, prefixed)) = op_body(line) else {
            continue;
        };
        let (process, rest) = split_token(body);
        let (ty, rest) = split_token(rest);
        let op_like = is_process_token(process) && is_type_token(ty);
        if !op_like {
            if prefixed {
                return Err(ParseError::new(
                    line_no,
                    format!(
                        "cannot read the jepsen.util line as an operation \
                         `PROCESS :TYPE :F VALUE`: `{}`",
                        body.trim()
                    ),
                ));
            }
            continue;
        }
        if process.starts_with(':') {
            pairing.skip();
            continue;
        }
        let process = process
            .parse::<i64>()
            .ok()
            .and_then(|p| u64::try_from(p).ok())
            .ok_or_else(|| {
                ParseError::new(
                    line_no,
                    format!("process `{process}` is not a non-negative 64-bit integer"),
                )
            })?;
        let ty = EventType::from_name(&ty[1..]).ok_or_else(|| {
            ParseError::new(
                line_no,
                format!("unknown type `{ty}` (expected :invoke, :ok, :fail or :info)"),
            )
        })?;
        let mut r = Reader::new(rest, line_no);
        r.skip_ws(0)?;
        if r.peek().is_none() {
            return Err(ParseError::new(
                line_no,
                "operation line has no function (`:f`)",
            ));
        }
        let f = match r.read_value(0)? {
            Value::Keyword(f) | Value::Str(f) => f,
            v => {
                return Err(ParseError::new(
                    line_no,
                    format!("the function must be a keyword, found `{}`", describe(&v)),
                ))
            }
        };
        r.skip_ws(0)?;
        let value = if r.peek().is_none() {
            Value::Nil
        } else {
            r.read_value(0)?
        };
        pairing.push(Event {
            process,
            ty,
            f,
            key: None,
            value,
            time: None,
            line: line_no,
        })?;
    }
    Ok(pairing.finish())
}

/// True if `line` looks like an operation line of a Jepsen log (for format detection).
pub(crate) fn is_op_line(line: &str) -> bool {
    match op_body(line.strip_suffix('\r').unwrap_or(line)) {
        Some((body, _)) => {
            let (process, rest) = split_token(body);
            let (ty, _) = split_token(rest);
            is_process_token(process) && is_type_token(ty)
        }
        None => false,
    }
}

/// The part of a line after its `jepsen.util -` / `jepsen.util:` prefix (and whether there
/// was one), or the whole line if it has no `jepsen.util`; `None` for other loggers' lines
/// that mention `jepsen.util` without being its log lines.
fn op_body(line: &str) -> Option<(&str, bool)> {
    const LOGGER: &str = "jepsen.util";
    match line.find(LOGGER) {
        Some(at) => {
            let after = line[at + LOGGER.len()..].trim_start_matches([' ', '\t']);
            after
                .strip_prefix('-')
                .or_else(|| after.strip_prefix(':'))
                .map(|body| (body, true))
        }
        None => Some((line, false)),
    }
}

/// The first whitespace-separated token of `s` and the rest after it.
fn split_token(s: &str) -> (&str, &str) {
    let s = s.trim_start_matches([' ', '\t']);
    let end = s.find([' ', '\t']).unwrap_or(s.len());
    (&s[..end], &s[end..])
}

/// An integer (client) or a `:name` (nemesis) process.
fn is_process_token(t: &str) -> bool {
    let digits = t.strip_prefix('-').unwrap_or(t);
    (!digits.is_empty() && digits.bytes().all(|b| b.is_ascii_digit()))
        || (t.len() > 1 && t.starts_with(':'))
}

fn is_type_token(t: &str) -> bool {
    matches!(t, ":invoke" | ":ok" | ":fail" | ":info")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn recognises_op_lines() {
        assert!(is_op_line("INFO  jepsen.util - 3\t:invoke\t:cas\t[1 4]"));
        assert!(is_op_line("3 :ok :read nil"));
        assert!(is_op_line(":nemesis :info :start nil\r"));
        assert!(is_op_line(
            "2017-03-14 22:31:04,123{GMT}\tINFO\t[jepsen worker 3] jepsen.util: 3\t:invoke\t:read\tnil"
        ));
        assert!(!is_op_line("INFO  jepsen.core - Worker 3 starting"));
        assert!(!is_op_line("INFO  jepsen.utility - 3 :ok :read nil"));
        assert!(!is_op_line(""));
        assert!(!is_op_line("3 :done :read nil"));
    }
}
