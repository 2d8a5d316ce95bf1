//! Reading and writing recorded histories: Jepsen EDN, Jepsen text logs, synod JSON and
//! Jepsen-style JSON events.

use synod_consistency::format::{
    detect, parse, parse_edn, parse_jepsen_log, parse_json, to_edn, to_json, Completion, Format,
    ParseError, Recorded, RecordedOp, Value,
};

// ---------------------------------------------------------------------------------------
// Helpers

fn kw(s: &str) -> Value {
    Value::Keyword(s.into())
}

fn int(i: i64) -> Value {
    Value::Int(i)
}

fn list(items: Vec<Value>) -> Value {
    Value::List(items)
}

/// An operation with no key and no wall-clock times.
#[allow(clippy::too_many_arguments)]
fn op(
    process: u64,
    f: &str,
    value: Value,
    completion: Completion,
    call: u64,
    ret: Option<u64>,
    line: usize,
) -> RecordedOp {
    RecordedOp {
        process,
        f: f.into(),
        key: None,
        value,
        completion,
        call,
        ret,
        call_nanos: None,
        ret_nanos: None,
        line,
    }
}

/// The history with every line number zeroed (what a written file cannot keep).
fn without_lines(r: &Recorded) -> Recorded {
    let mut r = r.clone();
    for o in &mut r.ops {
        o.line = 0;
    }
    r
}

fn err_line(r: Result<Recorded, ParseError>) -> (usize, String) {
    match r {
        Ok(r) => panic!("expected an error, parsed {r:?}"),
        Err(e) => (e.line, e.message),
    }
}

/// Asserts both writers round-trip `r` (which a parser produced).
fn assert_round_trips(r: &Recorded) {
    let json = to_json(r);
    let back = parse_json(&json).unwrap_or_else(|e| panic!("{e}\n{json}"));
    assert_eq!(without_lines(&back), without_lines(r), "JSON:\n{json}");
    // A fixed point: writing what was read back gives the same text.
    assert_eq!(to_json(&back), json);

    let edn = to_edn(r);
    let back = parse_edn(&edn).unwrap_or_else(|e| panic!("{e}\n{edn}"));
    let mut expected = without_lines(r);
    expected.skipped_events = 0; // the nemesis's events are not written
    assert_eq!(without_lines(&back), expected, "EDN:\n{edn}");
    assert_eq!(to_edn(&back), edn);
    assert_eq!(parse_edn(&edn), Ok(back));
}

// ---------------------------------------------------------------------------------------
// EDN

const EDN_REGISTER: &str = r#"{:process 0, :type :invoke, :f :write, :value 3, :time 100}
{:process 1, :type :invoke, :f :read, :value nil, :time 110}
{:process :nemesis, :type :info, :f :start, :value nil}
{:process 0, :type :ok, :f :write, :value 3, :time 120}
{:process 1, :type :ok, :f :read, :value 3, :time 130, :index 3}
{:process 2, :type :invoke, :f :cas, :value [3 4]}
{:process 0, :type :invoke, :f :write, :value 5}
{:process 2, :type :fail, :f :cas, :value [3 4], :error :mismatch}
{:process 0, :type :info, :f :write, :value :timed-out, :time 190}
{:process 1, :type :invoke, :f :read, :value nil}
"#;

#[test]
fn edn_reads_a_register_history() {
    let r = parse_edn(EDN_REGISTER).unwrap();
    assert_eq!(r.skipped_events, 1);
    let mut w0 = op(0, "write", int(3), Completion::Ok(int(3)), 0, Some(2), 1);
    (w0.call_nanos, w0.ret_nanos) = (Some(100), Some(120));
    let mut r1 = op(1, "read", Value::Nil, Completion::Ok(int(3)), 1, Some(3), 2);
    (r1.call_nanos, r1.ret_nanos) = (Some(110), Some(130));
    let mut w5 = op(
        0,
        "write",
        int(5),
        Completion::Unknown(kw("timed-out")),
        5,
        None,
        7,
    );
    w5.ret_nanos = Some(190);
    let expected = vec![
        w0,
        r1,
        op(
            2,
            "cas",
            list(vec![int(3), int(4)]),
            Completion::Fail(list(vec![int(3), int(4)])),
            4,
            Some(6),
            6,
        ),
        w5,
        op(
            1,
            "read",
            Value::Nil,
            Completion::Unknown(Value::Nil),
            8,
            None,
            10,
        ),
    ];
    assert_eq!(r.ops, expected);
    assert!(r.ops[0].is_ok() && r.ops[2].is_fail() && r.ops[3].is_unknown());
    assert_round_trips(&r);
}

#[test]
fn edn_reads_keys_vectors_tags_and_comments() {
    let text = r#"; a Jepsen history, wrapped in one vector
[#jepsen.history.Op{:index 0, :time 5, :type :invoke, :process 3, :f :read, :key "x", :value nil}
 {:type :invoke, :process 4, :f :add, :key [:a 1], :value #{1 2}} ; set
 #_{:process 9 :type :invoke :f :ignored}
 {:type :ok, :process 3, :f :read, :key "x", :value {:v 1, "s" -2.5}, :time 9, :extra #inst "2024-01-01"}
 {:type :ok, :process 4 :f :add :value nil}
 {:process 5, :type :invoke, :f "txn", :value ([:r 1 nil] [:append 1 2])}]
"#;
    let r = parse_edn(text).unwrap();
    assert_eq!(r.skipped_events, 0);
    assert_eq!(r.ops.len(), 3);
    let o = &r.ops[0];
    assert_eq!(
        (o.process, o.f.as_str(), o.call, o.ret, o.line),
        (3, "read", 0, Some(2), 2)
    );
    assert_eq!(o.key, Some(Value::Str("x".into())));
    assert_eq!((o.call_nanos, o.ret_nanos), (Some(5), Some(9)));
    assert_eq!(
        o.completion,
        Completion::Ok(Value::Map(vec![
            (kw("v"), int(1)),
            (Value::Str("s".into()), Value::Float(-2.5)),
        ]))
    );
    let o = &r.ops[1];
    assert_eq!(o.key, Some(list(vec![kw("a"), int(1)])));
    assert_eq!(o.value, Value::Set(vec![int(1), int(2)]));
    assert_eq!((o.call, o.ret, o.line), (1, Some(3), 3));
    let o = &r.ops[2];
    assert_eq!((o.f.as_str(), o.line, o.call), ("txn", 7, 4));
    assert_eq!(
        o.value,
        list(vec![
            list(vec![kw("r"), int(1), Value::Nil]),
            list(vec![kw("append"), int(1), int(2)]),
        ])
    );
    assert_round_trips(&r);
}

#[test]
fn edn_key_only_from_key_field() {
    // An independent history's `[k v]` tuple stays the value: no key is guessed.
    let r = parse_edn("{:process 0 :type :invoke :f :write :value [1 2]}").unwrap();
    assert_eq!(r.ops[0].key, None);
    assert_eq!(r.ops[0].value, list(vec![int(1), int(2)]));
}

#[test]
fn edn_errors_name_the_line() {
    let cases: &[(&str, usize, &str)] = &[
        (
            "{:process 0, :type :invoke, :f :write, :value 1}\n{:process 0, :type\n",
            2,
            "unclosed `{`",
        ),
        (
            "{:process 0, :type :invoke, :f :write, :value 1}\n{:process 0, :type}\n",
            2,
            "has no value",
        ),
        ("\n\n{:process 0, :type :done, :f :read}", 3, ":done"),
        ("{:process 0, :f :read}", 1, "no `:type`"),
        ("{:type :invoke, :f :read}", 1, "no `:process`"),
        ("\n{:process 0, :type :invoke}", 2, "no `:f`"),
        (
            "{:process 0, :type :invoke, :f :w, :value \"abc\n\ndef}",
            1,
            "unterminated string",
        ),
        (
            "{:process 0, :type :invoke, :f :w, :value [1 2}\n",
            1,
            "`}` where `]`",
        ),
        (
            "{:process 0, :type :invoke, :f :w, :value [1\n2\n",
            1,
            "unclosed `[`",
        ),
        (
            "{:process 0, :type :invoke, :f :w}\n]",
            2,
            "expected an operation map",
        ),
        (
            "{:process 0, :type :invoke, :f :w}\n:x",
            2,
            "expected an operation map",
        ),
        ("{:process -1, :type :invoke, :f :w}", 1, "negative"),
        ("{:process 0, :type :invoke, :f :w, :time -5}", 1, ":time"),
        ("{:process 0, :type :invoke, :f 7}", 1, "`:f`"),
        ("{:process 0, :type \"nope\", :f :w}", 1, ":nope"),
        (
            "{:process 0, :type :invoke, :f :w, :value 12abc}",
            1,
            "invalid number",
        ),
        (
            "{:process 0, :type :invoke, :f :w, :value #{1}\n}\n{",
            3,
            "unclosed",
        ),
        // Pairing errors.
        (
            "{:process 0, :type :invoke, :f :w}\n{:process 1, :type :ok, :f :w}",
            2,
            "no open invocation",
        ),
        (
            "{:process 0, :type :invoke, :f :w}\n{:process 0, :type :invoke, :f :r}",
            2,
            "on line 1 has not completed",
        ),
        (
            "{:process 0 :type :invoke :f :w}\n{:process 0 :type :info :f :w}\n\
             {:process 0 :type :ok :f :w}",
            3,
            "no open invocation",
        ),
    ];
    for &(text, line, needle) in cases {
        let (l, m) = err_line(parse_edn(text));
        assert_eq!(l, line, "{text:?}: {m}");
        assert!(m.contains(needle), "{text:?}: {m:?} lacks {needle:?}");
    }
}

#[test]
fn edn_after_info_a_process_may_invoke_again() {
    let text = "{:process 0 :type :invoke :f :w :value 1}\n\
                {:process 0 :type :info :f :w :value nil}\n\
                {:process 0 :type :invoke :f :w :value 2}\n";
    let r = parse_edn(text).unwrap();
    assert_eq!(r.ops.len(), 2);
    assert_eq!((r.ops[0].ret, r.ops[1].call), (None, 2));
    assert!(r.ops.iter().all(RecordedOp::is_unknown));
    assert_round_trips(&r);
}

#[test]
fn edn_empty_and_comment_only() {
    assert_eq!(parse_edn(""), Ok(Recorded::default()));
    assert_eq!(parse_edn("  ; nothing\n\n[]\n"), Ok(Recorded::default()));
}

// ---------------------------------------------------------------------------------------
// Jepsen text logs

const ETCD_LOG: &str = "INFO  jepsen.core - Worker 0 starting
INFO  jepsen.util - 0\t:invoke\t:read\tnil
INFO  jepsen.util - 3\t:invoke\t:cas\t[1 4]
INFO  jepsen.util - :nemesis\t:info\t:start\tnil
INFO  jepsen.util - 0\t:ok\t:read\tnil

INFO  jepsen.util - 3\t:fail\t:cas\t[1 4]
INFO  jepsen.util - 2\t:invoke\t:write\t4
INFO  jepsen.util - 2\t:info\t:write\t:timed-out
INFO  jepsen.util - 1\t:invoke\t:read\tnil
INFO  jepsen.util - :nemesis\t:info\t:start\t\"Cut off {:n1 #{:n2}}\"
INFO  jepsen.util - 1\t:fail\t:read\t:timed-out
INFO  jepsen.util - 7\t:invoke\t:write\t2
";

#[test]
fn jepsen_log_reads_etcd_lines() {
    let r = parse_jepsen_log(ETCD_LOG).unwrap();
    assert_eq!(r.skipped_events, 2);
    let expected = vec![
        op(
            0,
            "read",
            Value::Nil,
            Completion::Ok(Value::Nil),
            0,
            Some(2),
            2,
        ),
        op(
            3,
            "cas",
            list(vec![int(1), int(4)]),
            Completion::Fail(list(vec![int(1), int(4)])),
            1,
            Some(3),
            3,
        ),
        op(
            2,
            "write",
            int(4),
            Completion::Unknown(kw("timed-out")),
            4,
            None,
            8,
        ),
        op(
            1,
            "read",
            Value::Nil,
            Completion::Fail(kw("timed-out")),
            6,
            Some(7),
            10,
        ),
        op(
            7,
            "write",
            int(2),
            Completion::Unknown(Value::Nil),
            8,
            None,
            13,
        ),
    ];
    assert_eq!(r.ops, expected);
    assert_round_trips(&r);
}

#[test]
fn jepsen_log_spaces_tabs_bare_lines_and_timestamps() {
    let tabs = parse_jepsen_log(ETCD_LOG).unwrap();
    let spaces = parse_jepsen_log(&ETCD_LOG.replace('\t', "   ")).unwrap();
    assert_eq!(spaces, tabs);
    let crlf = parse_jepsen_log(&ETCD_LOG.replace('\n', "\r\n")).unwrap();
    assert_eq!(crlf, tabs);
    let bare: String = ETCD_LOG
        .lines()
        .map(|l| l.strip_prefix("INFO  jepsen.util - ").unwrap_or(l))
        .map(|l| format!("{l}\n"))
        .collect();
    assert_eq!(parse_jepsen_log(&bare).unwrap(), tabs);
    let stamped: String = ETCD_LOG
        .lines()
        .map(|l| match l.strip_prefix("INFO  jepsen.util - ") {
            Some(rest) => format!(
                "2017-03-14 22:31:04,123{{GMT}}\tINFO\t[jepsen worker 3] jepsen.util: {rest}\n"
            ),
            None => format!("{l}\n"),
        })
        .collect();
    assert_eq!(parse_jepsen_log(&stamped).unwrap(), tabs);
}

#[test]
fn jepsen_log_ignores_other_lines_and_trailing_errors() {
    let text = "WARN  jepsen.core - something :invoke happened\n\
                \n\
                INFO  jepsen.util - 0 :invoke :read nil\n\
                java.lang.Exception: boom\n\
                \tat jepsen.util$foo.invoke(util.clj:12)\n\
                INFO  jepsen.util - 0 :fail :read nil\tjava.net.SocketTimeoutException: Read timed out\n\
                INFO  jepsen.util - 1 :invoke :read\n";
    let r = parse_jepsen_log(text).unwrap();
    assert_eq!(r.skipped_events, 0);
    assert_eq!(r.ops.len(), 2);
    assert_eq!(r.ops[0].completion, Completion::Fail(Value::Nil));
    assert_eq!((r.ops[0].line, r.ops[0].ret), (3, Some(1)));
    assert_eq!((r.ops[1].value.clone(), r.ops[1].line), (Value::Nil, 7));
}

#[test]
fn jepsen_log_errors_name_the_line() {
    let cases: &[(&str, usize, &str)] = &[
        (
            "INFO  jepsen.util - 0 :invoke :read nil\nINFO  jepsen.util - hello there\n",
            2,
            "cannot read",
        ),
        (
            "\n\nINFO  jepsen.util - 0 :done :read nil",
            3,
            "cannot read",
        ),
        (
            "INFO  jepsen.util - 0 :invoke :cas [1 4\n",
            1,
            "unclosed `[`",
        ),
        ("INFO  jepsen.util - 0 :invoke\n", 1, "no function"),
        (
            "0 :invoke :read nil\n0 :invoke :read nil\n",
            2,
            "has not completed",
        ),
        ("x\n0 :ok :read nil\n", 2, "no open invocation"),
        ("-1 :invoke :read nil\n", 1, "non-negative"),
        (
            "INFO  jepsen.util - 0 :invoke \"read\n",
            1,
            "unterminated string",
        ),
    ];
    for &(text, line, needle) in cases {
        let (l, m) = err_line(parse_jepsen_log(text));
        assert_eq!(l, line, "{text:?}: {m}");
        assert!(m.contains(needle), "{text:?}: {m:?} lacks {needle:?}");
    }
}

// ---------------------------------------------------------------------------------------
// JSON

const SYNOD_JSON: &str = r#"{"format": "synod-history", "version": 1, "ops": [
  {"process": 0, "f": "write", "value": 3, "type": "ok", "result": 3, "call": 0, "ret": 10,
   "call_nanos": 1000, "ret_nanos": 2000},
  {"process": 1, "f": "read", "key": "x", "type": "info",
   "result": {"keyword": "timed-out"}, "call": 5, "ret": null},
  {"process": 2, "f": "add", "value": {"set": [1, 2]}, "type": "fail", "call": 6, "ret": 7,
   "comment": "unknown fields are ignored"},
  {"process": 3, "f": "read", "type": "open", "call": 8}
]}
"#;

#[test]
fn json_reads_a_synod_document() {
    let r = parse_json(SYNOD_JSON).unwrap();
    let mut w = op(0, "write", int(3), Completion::Ok(int(3)), 0, Some(10), 2);
    (w.call_nanos, w.ret_nanos) = (Some(1000), Some(2000));
    let mut rd = op(
        1,
        "read",
        Value::Nil,
        Completion::Unknown(kw("timed-out")),
        5,
        None,
        4,
    );
    rd.key = Some(Value::Str("x".into()));
    let expected = vec![
        w,
        rd,
        op(
            2,
            "add",
            Value::Set(vec![int(1), int(2)]),
            Completion::Fail(Value::Nil),
            6,
            Some(7),
            6,
        ),
        op(
            3,
            "read",
            Value::Nil,
            Completion::Unknown(Value::Nil),
            8,
            None,
            8,
        ),
    ];
    assert_eq!(r.ops, expected);
    assert_eq!(r.skipped_events, 0);
    let json = to_json(&r);
    assert!(json.starts_with(r#"{"format":"synod-history","version":1,"#));
    assert_eq!(
        without_lines(&parse_json(&json).unwrap()),
        without_lines(&r)
    );
}

#[test]
fn json_sorts_operations_by_call() {
    let text = r#"{"format":"synod-history","version":1,"ops":[
{"process":0,"f":"r","type":"ok","call":5,"ret":6},
{"process":1,"f":"r","type":"ok","call":1,"ret":9}]}"#;
    let r = parse_json(text).unwrap();
    assert_eq!(
        r.ops.iter().map(|o| (o.call, o.line)).collect::<Vec<_>>(),
        [(1, 3), (5, 2)]
    );
}

#[test]
fn json_reads_jepsen_events_as_array_and_lines() {
    let lines = r#"{"process":0,"type":"invoke","f":"write","value":3,"time":10}
{"process":"nemesis","type":"info","f":"start","value":null}
{"process":1,"type":"invoke","f":"read","key":"k","value":null}
{"process":0,"type":"ok","f":"write","value":3,"time":20}
{"process":1,"type":"fail","f":"read","value":"timed-out","error":["x"]}
{"process":2,"type":":invoke","f":":cas","value":[1,2]}
{"process":2,"type":"info","f":"cas","value":{"a":1}}
"#;
    let r = parse_json(lines).unwrap();
    assert_eq!(r.skipped_events, 1);
    let mut w = op(0, "write", int(3), Completion::Ok(int(3)), 0, Some(2), 1);
    (w.call_nanos, w.ret_nanos) = (Some(10), Some(20));
    let mut rd = op(
        1,
        "read",
        Value::Nil,
        Completion::Fail(Value::Str("timed-out".into())),
        1,
        Some(3),
        3,
    );
    rd.key = Some(Value::Str("k".into()));
    let cas = op(
        2,
        "cas",
        list(vec![int(1), int(2)]),
        Completion::Unknown(Value::Map(vec![(Value::Str("a".into()), int(1))])),
        4,
        None,
        6,
    );
    assert_eq!(r.ops, vec![w, rd, cas]);
    assert_round_trips(&r);

    // The same events as one array, spread over lines differently.
    let array = format!("[\n{}]", lines.trim_end().replace('\n', ",\n"));
    let a = parse_json(&array).unwrap();
    assert_eq!(without_lines(&a), without_lines(&r));
    assert_eq!(a.ops[2].line, 7);
    assert_eq!(parse_json("[]"), Ok(Recorded::default()));
    assert_eq!(parse_json(" \n "), Ok(Recorded::default()));
}

#[test]
fn json_errors_name_the_line() {
    let cases: &[(&str, usize, &str)] = &[
        (
            "{\"process\":0,\"type\":\"invoke\",\"f\":\"w\"}\n{\"process\":0,\"type\"\n",
            2,
            "unclosed `{`",
        ),
        ("{\"process\":0,\"type\":\"invoke\",\"f\":\"w\"}\n{\"process\":0,", 2, "unclosed `{`"),
        ("\n{\"process\":0,\"type\":\"done\",\"f\":\"w\"}", 2, "done"),
        ("{\"process\":0,\"f\":\"w\"}", 1, "no \"type\""),
        ("{\"type\":\"invoke\",\"f\":\"w\"}", 1, "no \"process\""),
        ("{\"process\":0,\"type\":\"invoke\"}", 1, "no \"f\""),
        ("{\"process\":0,\"type\":\"invoke\",\"f\":\"w\",\"value\":\"abc\n\"}", 1, "line break"),
        ("[{\"process\":0,\"type\":\"invoke\",\"f\":\"w\"},\n{\"process\":1}\n", 2, "no \"type\""),
        ("[{\"process\":0,\"type\":\"invoke\",\"f\":\"w\"}\n", 1, "unclosed `[`"),
        ("[{\"process\":0,\"type\":\"invoke\",\"f\":\"w\"}]\n[]", 2, "unexpected content"),
        ("{\"process\":0,\"type\":\"invoke\",\"f\":\"w\",\"value\":01}", 1, "invalid number"),
        ("{\"process\":0,\"type\":\"invoke\",\"f\":\"w\",\n\"value\":nope}", 2, "expected a value"),
        (
            "{\"process\":0,\"type\":\"invoke\",\"f\":\"w\"}\n{\"process\":0,\"type\":\"invoke\",\"f\":\"w\"}",
            2,
            "has not completed",
        ),
        // synod documents
        ("{\"format\":\"other\",\"version\":1,\"ops\":[]}", 1, "\"other\""),
        ("{\"format\":\"synod-history\",\n\"version\":2,\"ops\":[]}", 2, "version"),
        ("{\"format\":\"synod-history\",\"version\":1}", 1, "missing \"ops\""),
        (
            "{\"format\":\"synod-history\",\"version\":1,\"ops\":[\n{\"process\":0,\"f\":\"w\",\"type\":\"ok\",\"call\":3}]}",
            2,
            "needs a \"ret\"",
        ),
        (
            "{\"format\":\"synod-history\",\"version\":1,\"ops\":[\n{},\n{\"process\":0,\"f\":\"w\",\"type\":\"ok\",\"call\":3,\"ret\":2}]}",
            2,
            "no \"process\"",
        ),
        (
            "{\"format\":\"synod-history\",\"version\":1,\"ops\":[\n{\"process\":0,\"f\":\"w\",\"type\":\"ok\",\n\"call\":3,\"ret\":2}]}",
            3,
            "before \"call\"",
        ),
        (
            "{\"format\":\"synod-history\",\"version\":1,\"ops\":[\n{\"process\":0,\"f\":\"w\",\"type\":\"info\",\"call\":3,\"ret\":4}]}",
            2,
            "must be null",
        ),
        (
            "{\"format\":\"synod-history\",\"version\":1,\"ops\":[\n{\"process\":0,\"f\":\"w\",\"type\":\"ok\",\"call\":3,\"ret\":4,\"value\":{\"set\":3}}]}",
            2,
            "must hold an array",
        ),
    ];
    for &(text, line, needle) in cases {
        let (l, m) = err_line(parse_json(text));
        assert_eq!(l, line, "{text:?}: {m}");
        assert!(m.contains(needle), "{text:?}: {m:?} lacks {needle:?}");
    }
}

// ---------------------------------------------------------------------------------------
// Detection

#[test]
fn detects_formats() {
    let cases: &[(&str, Option<Format>)] = &[
        (EDN_REGISTER, Some(Format::Edn)),
        ("  [{:process 0 :type :invoke :f :r}]", Some(Format::Edn)),
        ("#jepsen.history.Op{:process 0}", Some(Format::Edn)),
        ("; comment\n{:process 0}", Some(Format::Edn)),
        (SYNOD_JSON, Some(Format::Json)),
        ("[{\"process\":0}]", Some(Format::Json)),
        ("[]", Some(Format::Json)),
        ("{\"process\":0,\"type\":\"invoke\"}\n", Some(Format::Json)),
        (ETCD_LOG, Some(Format::JepsenLog)),
        ("3 :invoke :read nil\n", Some(Format::JepsenLog)),
        (":nemesis\t:info\t:start\tnil\n", Some(Format::JepsenLog)),
        (
            "2017-03-14 22:31:04,123{GMT}\tINFO\t[jepsen worker 3] jepsen.util: 3\t:invoke\t:read\tnil",
            Some(Format::JepsenLog),
        ),
        ("[2017-03-14] INFO jepsen.util - 3 :invoke :read nil", Some(Format::JepsenLog)),
        ("hello world\n", None),
        ("", Some(Format::Edn)),
    ];
    for &(text, format) in cases {
        assert_eq!(detect(text), format, "{text:?}");
    }
    let (r, f) = parse(ETCD_LOG, None).unwrap();
    assert_eq!((f, r.ops.len()), (Format::JepsenLog, 5));
    let (_, f) = parse(EDN_REGISTER, None).unwrap();
    assert_eq!(f, Format::Edn);
    let (_, f) = parse(SYNOD_JSON, None).unwrap();
    assert_eq!(f, Format::Json);
    let e = parse("hello world\n", None).unwrap_err();
    assert_eq!(e.line, 1);
    // An explicit format is used as given.
    let e = parse(EDN_REGISTER, Some(Format::Json)).unwrap_err();
    assert_eq!(e.line, 1);
    for f in Format::ALL {
        assert_eq!(Format::from_name(f.name()), Some(f));
    }
}

// ---------------------------------------------------------------------------------------
// Random histories: written in each syntax, read back as the events say.

/// A tiny deterministic PRNG (xorshift64*).
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_f491_4f6c_dd1d)
    }

    fn below(&mut self, n: u64) -> u64 {
        self.next() % n
    }

    fn chance(&mut self, percent: u64) -> bool {
        self.below(100) < percent
    }

    fn pick<'a, T>(&mut self, items: &'a [T]) -> &'a T {
        &items[self.below(items.len() as u64) as usize]
    }
}

#[derive(Clone, Copy, PartialEq)]
enum Syntax {
    Edn,
    Log,
    JsonEvents,
}

fn random_value(rng: &mut Rng, depth: u32, syntax: Syntax) -> Value {
    let kinds = if depth == 0 { 7 } else { 10 };
    match rng.below(kinds) {
        0 => Value::Nil,
        1 => Value::Bool(rng.chance(50)),
        2 => Value::Int(*rng.pick(&[0, 1, -1, 42, i64::MAX, i64::MIN, 1 << 40])),
        3 => Value::Float(*rng.pick(&[0.5, -2.25, 1e300, 3.0, -0.0, 1e-7])),
        4 => Value::Str(
            (*rng.pick(&[
                "",
                "a b",
                "q\"uote",
                "back\\slash",
                "new\nline",
                "tab\t",
                "é ✓",
                "\u{1}",
                "#{",
                ";",
                ":kw",
            ]))
            .to_owned(),
        ),
        5 | 6 if syntax != Syntax::JsonEvents => {
            Value::Keyword((*rng.pick(&["timed-out", "a/b", "x", "has space", "ok?"])).to_owned())
        }
        5 | 6 => Value::Int(rng.below(10) as i64),
        7 => list(
            (0..rng.below(4))
                .map(|_| random_value(rng, depth - 1, syntax))
                .collect(),
        ),
        8 if syntax != Syntax::JsonEvents => Value::Set(
            (0..rng.below(3))
                .map(|_| random_value(rng, depth - 1, syntax))
                .collect(),
        ),
        _ => Value::Map(
            (0..rng.below(3))
                .map(|i| {
                    let k = if syntax == Syntax::JsonEvents {
                        Value::Str(format!("k{i}"))
                    } else {
                        random_value(rng, depth - 1, syntax)
                    };
                    (k, random_value(rng, depth - 1, syntax))
                })
                .collect(),
        ),
    }
}

/// One event of a generated history; `process: None` is the nemesis.
struct GenEvent {
    process: Option<u64>,
    ty: &'static str,
    f: &'static str,
    key: Option<Value>,
    value: Value,
    time: Option<u64>,
}

/// A random well-formed event sequence and the history it should read as (lines are event
/// index + 1).
fn random_history(rng: &mut Rng, syntax: Syntax) -> (Vec<GenEvent>, Recorded) {
    let processes = 1 + rng.below(5);
    let keyed = syntax != Syntax::Log && rng.chance(50);
    let timed = syntax != Syntax::Log && rng.chance(50);
    let mut open: Vec<Option<usize>> = vec![None; processes as usize];
    let mut next_process: Vec<u64> = (0..processes).collect();
    let mut events = Vec::new();
    let mut expected = Recorded::default();
    let mut position = 0;
    let mut clock = 0;
    for _ in 0..rng.below(40) {
        clock += 1 + rng.below(100);
        let time = timed.then_some(clock);
        let line = events.len() + 1;
        if rng.chance(10) {
            events.push(GenEvent {
                process: None,
                ty: "info",
                f: "start",
                key: None,
                value: random_value(rng, 2, syntax),
                time,
            });
            expected.skipped_events += 1;
            continue;
        }
        let slot = rng.below(processes) as usize;
        let process = next_process[slot];
        match open[slot] {
            None => {
                let f = *rng.pick(&["read", "write", "cas", "add"]);
                let key = (keyed && rng.chance(90)).then(|| random_value(rng, 1, syntax));
                let value = random_value(rng, 3, syntax);
                open[slot] = Some(expected.ops.len());
                expected.ops.push(RecordedOp {
                    process,
                    f: f.into(),
                    key: key.clone(),
                    value: value.clone(),
                    completion: Completion::Unknown(Value::Nil),
                    call: position,
                    ret: None,
                    call_nanos: time,
                    ret_nanos: None,
                    line,
                });
                events.push(GenEvent {
                    process: Some(process),
                    ty: "invoke",
                    f,
                    key,
                    value,
                    time,
                });
            }
            Some(i) => {
                open[slot] = None;
                let value = random_value(rng, 3, syntax);
                let o = &mut expected.ops[i];
                let ty = *rng.pick(&["ok", "ok", "fail", "info"]);
                o.completion = match ty {
                    "ok" => Completion::Ok(value.clone()),
                    "fail" => Completion::Fail(value.clone()),
                    _ => Completion::Unknown(value.clone()),
                };
                o.ret = (ty != "info").then_some(position);
                o.ret_nanos = time;
                if ty == "info" {
                    // Jepsen gives the process a new id.
                    next_process[slot] += processes;
                }
                let f = match o.f.as_str() {
                    "read" => "read",
                    "write" => "write",
                    "cas" => "cas",
                    _ => "add",
                };
                let key = o.key.clone();
                events.push(GenEvent {
                    process: Some(process),
                    ty,
                    f,
                    key,
                    value,
                    time,
                });
            }
        }
        position += 1;
    }
    (events, expected)
}

fn to_serde(v: &Value) -> serde_json::Value {
    match v {
        Value::Nil => serde_json::Value::Null,
        Value::Bool(b) => (*b).into(),
        Value::Int(i) => (*i).into(),
        Value::Float(x) => (*x).into(),
        Value::Str(s) => s.as_str().into(),
        Value::List(items) => items.iter().map(to_serde).collect(),
        Value::Map(entries) => serde_json::Value::Object(
            entries
                .iter()
                .map(|(k, v)| match k {
                    Value::Str(k) => (k.clone(), to_serde(v)),
                    _ => unreachable!("JSON keys are strings"),
                })
                .collect(),
        ),
        Value::Keyword(_) | Value::Set(_) => unreachable!("not generated for JSON"),
    }
}

fn render(events: &[GenEvent], syntax: Syntax, rng: &mut Rng) -> String {
    let mut out = String::new();
    for e in events {
        let process = match e.process {
            Some(p) => p.to_string(),
            None => ":nemesis".into(),
        };
        match syntax {
            Syntax::Edn => {
                let mut fields = vec![
                    format!(":process {process}"),
                    format!(":type :{}", e.ty),
                    format!(":f :{}", e.f),
                    format!(":value {}", e.value),
                ];
                if let Some(k) = &e.key {
                    fields.push(format!(":key {k}"));
                }
                if let Some(t) = e.time {
                    fields.push(format!(":time {t}"));
                }
                fields.push(format!(":index {}", rng.below(1000)));
                // Jepsen writes keys in any order.
                for i in (1..fields.len()).rev() {
                    fields.swap(i, rng.below(i as u64 + 1) as usize);
                }
                let sep = *rng.pick(&[", ", " ", ",\t"]);
                out.push_str(&format!("{{{}}}\n", fields.join(sep)));
            }
            Syntax::Log => {
                let sep = *rng.pick(&["\t", " ", "   "]);
                let prefix = *rng.pick(&["INFO  jepsen.util - ", ""]);
                out.push_str(&format!(
                    "{prefix}{process}{sep}:{}{sep}:{}{sep}{}\n",
                    e.ty, e.f, e.value
                ));
            }
            Syntax::JsonEvents => {
                let mut m = serde_json::Map::new();
                let process = match e.process {
                    Some(p) => p.into(),
                    None => "nemesis".into(),
                };
                m.insert("process".into(), process);
                m.insert("type".into(), e.ty.into());
                m.insert("f".into(), e.f.into());
                m.insert("value".into(), to_serde(&e.value));
                if let Some(k) = &e.key {
                    m.insert("key".into(), to_serde(k));
                }
                if let Some(t) = e.time {
                    m.insert("time".into(), t.into());
                }
                out.push_str(&serde_json::Value::Object(m).to_string());
                out.push('\n');
            }
        }
    }
    out
}

#[test]
fn random_histories_read_back_and_round_trip() {
    let mut rng = Rng(0x9e37_79b9_7f4a_7c15);
    for round in 0..300 {
        for syntax in [Syntax::Edn, Syntax::Log, Syntax::JsonEvents] {
            let (events, expected) = random_history(&mut rng, syntax);
            let text = render(&events, syntax, &mut rng);
            let (format, parsed) = match syntax {
                Syntax::Edn => (Format::Edn, parse_edn(&text)),
                Syntax::Log => (Format::JepsenLog, parse_jepsen_log(&text)),
                Syntax::JsonEvents => (Format::Json, parse_json(&text)),
            };
            let r = parsed.unwrap_or_else(|e| panic!("round {round}: {e}\n{text}"));
            assert_eq!(r, expected, "round {round}:\n{text}");
            if !text.is_empty() {
                assert_eq!(parse(&text, None), Ok((r.clone(), format)), "{text}");
            }
            assert_round_trips(&r);
        }
    }
}

#[test]
fn reads_a_large_history() {
    // 20,000 operations over 10 processes (no timing here: see the release-mode figures in
    // the format module's documentation).
    let mut text = String::new();
    let mut json_lines = String::new();
    let n = 20_000;
    for i in 0..n {
        let p = i % 10;
        text.push_str(&format!(
            "{{:index {}, :time {}, :type :invoke, :process {p}, :f :write, :value {i}}}\n",
            2 * i,
            2 * i
        ));
        text.push_str(&format!(
            "{{:index {}, :time {}, :type :ok, :process {p}, :f :write, :value {i}}}\n",
            2 * i + 1,
            2 * i + 1
        ));
        json_lines.push_str(&format!(
            "{{\"process\":{p},\"type\":\"invoke\",\"f\":\"write\",\"value\":{i}}}\n\
             {{\"process\":{p},\"type\":\"ok\",\"f\":\"write\",\"value\":{i}}}\n"
        ));
    }
    let r = parse_edn(&text).unwrap();
    assert_eq!(r.ops.len(), n as usize);
    assert_eq!(r.ops[n as usize - 1].ret, Some(2 * n - 1));
    let j = parse_json(&json_lines).unwrap();
    assert_eq!(j.ops.len(), n as usize);
    let back = parse_json(&to_json(&r)).unwrap();
    assert_eq!(back.ops.len(), n as usize);
}

// ---------------------------------------------------------------------------------------
// No input makes a parser panic.

const ALPHABET: &[&str] = &[
    "{",
    "}",
    "[",
    "]",
    "(",
    ")",
    "#",
    "#{",
    "#_",
    "##",
    ":",
    "\"",
    "\\",
    ";",
    ",",
    " ",
    "\t",
    "\n",
    "\r",
    "0",
    "-",
    "1",
    "9",
    ".",
    "e",
    "N",
    "M",
    "/",
    "x",
    "r",
    "u",
    "nil",
    "true",
    ":process",
    ":type",
    ":invoke",
    ":ok",
    ":fail",
    ":info",
    ":f",
    ":value",
    ":key",
    ":time",
    "\"process\"",
    "\"type\"",
    "\"invoke\"",
    "\"ok\"",
    "\"f\"",
    "\"format\"",
    "\"ops\"",
    "\"synod-history\"",
    "\"version\"",
    "\"call\"",
    "\"ret\"",
    "null",
    "é",
    "\u{feff}",
    "INFO  jepsen.util - ",
    "jepsen.util:",
    ":nemesis",
    "\\u",
    "\\uD83D",
    "{\"set\":",
    "{\"keyword\":",
    "{\"map\":",
    "{\"float\":",
    "#synod/keyword ",
    "##NaN",
    "99999999999999999999",
];

fn mutate(rng: &mut Rng, seed: &str) -> String {
    let mut bytes = seed.as_bytes().to_vec();
    for _ in 0..1 + rng.below(6) {
        let at = if bytes.is_empty() {
            0
        } else {
            rng.below(bytes.len() as u64 + 1) as usize
        };
        match rng.below(6) {
            0 => {
                let piece = rng.pick(ALPHABET).as_bytes();
                bytes.splice(at..at, piece.iter().copied());
            }
            1 if at < bytes.len() => {
                let end = (at + 1 + rng.below(8) as usize).min(bytes.len());
                bytes.drain(at..end);
            }
            2 if at < bytes.len() => bytes[at] = rng.next() as u8,
            3 => bytes.truncate(at),
            4 if at < bytes.len() => {
                let end = (at + 1 + rng.below(40) as usize).min(bytes.len());
                let chunk: Vec<u8> = bytes[at..end].to_vec();
                let to = rng.below(bytes.len() as u64 + 1) as usize;
                bytes.splice(to..to, chunk);
            }
            _ => {
                let piece = rng
                    .pick(ALPHABET)
                    .as_bytes()
                    .repeat(1 + rng.below(300) as usize);
                bytes.splice(at..at, piece);
            }
        }
    }
    String::from_utf8_lossy(&bytes).into_owned()
}

fn random_text(rng: &mut Rng) -> String {
    let mut s = String::new();
    for _ in 0..rng.below(60) {
        if rng.chance(20) {
            s.push(char::from(rng.next() as u8 & 0x7f));
        } else {
            s.push_str(rng.pick::<&str>(ALPHABET));
        }
    }
    s
}

/// A format's reader.
type Parser = fn(&str) -> Result<Recorded, ParseError>;

/// Every parser on `text`: no panic, and whatever parses writes out readably.
fn exercise(text: &str) {
    let _ = detect(text);
    let _ = parse(text, None);
    let parsers: [Parser; 3] = [parse_edn, parse_jepsen_log, parse_json];
    for (i, parser) in parsers.into_iter().enumerate() {
        let Ok(r) = parser(text) else { continue };
        let json = to_json(&r);
        let back = parse_json(&json).unwrap_or_else(|e| panic!("{e}\n{json}\nfrom {text:?}"));
        assert_eq!(to_json(&back), json, "from {text:?}");
        let edn = to_edn(&r);
        let back = parse_edn(&edn).unwrap_or_else(|e| panic!("{e}\n{edn}\nfrom {text:?}"));
        // Event-stream parsers give positions that EDN keeps exactly.
        let from_events = i != 2 || !text.contains("synod-history");
        if from_events {
            let mut expected = without_lines(&r);
            expected.skipped_events = 0;
            assert_eq!(
                to_json(&without_lines(&back)),
                to_json(&expected),
                "from {text:?}"
            );
        }
    }
}

#[test]
fn no_input_panics() {
    let mut rng = Rng(0x1234_5678_9abc_def1);
    let mut seeds: Vec<String> = vec![
        EDN_REGISTER.into(),
        ETCD_LOG.into(),
        SYNOD_JSON.into(),
        format!("[{}]", EDN_REGISTER),
    ];
    for syntax in [Syntax::Edn, Syntax::Log, Syntax::JsonEvents] {
        for _ in 0..5 {
            let (events, _) = random_history(&mut rng, syntax);
            seeds.push(render(&events, syntax, &mut rng));
        }
    }
    for _ in 0..2000 {
        let seed = rng.pick(&seeds).clone();
        exercise(&mutate(&mut rng, &seed));
    }
    for _ in 0..2000 {
        exercise(&random_text(&mut rng));
    }
    // Deep nesting, in every syntax.
    for open in ["[", "(", "{", "#{", "#_", "#a ", "{\"set\":[", "{\"a\":"] {
        let deep = open.repeat(100_000);
        exercise(&deep);
        exercise(&format!("{{:process 0 :type :invoke :f :w :value {deep}"));
        exercise(&format!(
            "{{\"process\":0,\"type\":\"invoke\",\"f\":\"w\",\"value\":{deep}"
        ));
    }
    let nested = format!("{}1{}", "[".repeat(101), "]".repeat(101));
    let (_, m) = err_line(parse_edn(&format!(
        "{{:process 0 :type :invoke :f :w :value {nested}}}"
    )));
    assert!(m.contains("nests more than"), "{m}");
}
