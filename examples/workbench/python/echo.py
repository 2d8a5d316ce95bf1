#!/usr/bin/env python3
"""echo workload: answers echo{echo} with echo_ok{echo}.

The whole protocol in a few lines: read one JSON message per line on stdin, write one per
line on stdout (flushed), log on stderr. The first message is init; answer it with init_ok.
"""
import json
import sys

node_id = None


def send(dest, body):
    print(json.dumps({"src": node_id, "dest": dest, "body": body}), flush=True)


for line in sys.stdin:
    try:
        msg = json.loads(line)
        body = msg["body"]
        kind = body["type"]
    except (ValueError, KeyError, TypeError) as e:
        print(f"skipping a malformed line ({e!r}): {line!r}", file=sys.stderr)
        continue
    reply = {"in_reply_to": body.get("msg_id")}
    if kind == "init":
        node_id = body["node_id"]
        reply["type"] = "init_ok"
    elif kind == "echo":
        reply.update(type="echo_ok", echo=body.get("echo"))
    else:
        reply.update(type="error", code=10, text=f"{kind} is not supported")
    if reply["in_reply_to"] is not None:
        send(msg["src"], reply)
