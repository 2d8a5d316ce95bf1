#!/usr/bin/env python3
"""g-counter workload: a grow-only counter, a state-based CRDT.

Each node counts its own increments in its own entry of a map; the value is the sum of the
entries. Every --interval-ms (default 250) each node sends its map to every peer, which keeps
the larger count of each entry (merge by maximum: order-free and idempotent, so lost or
repeated gossip does no harm). The entry is keyed by node id and start time, so a restarted
node does not count under its old, larger entry.
"""
import json
import queue
import sys
import threading
import time


def option(name, default):
    """--name VALUE or --name=VALUE on the command line."""
    for i, a in enumerate(sys.argv):
        if a == name and i + 1 < len(sys.argv):
            return sys.argv[i + 1]
        if a.startswith(name + "="):
            return a.split("=", 1)[1]
    return default


INTERVAL = float(option("--interval-ms", 250)) / 1000

node_id = None
me = None
peers = []
counts = {}  # entry -> count


def send(dest, body):
    print(json.dumps({"src": node_id, "dest": dest, "body": body}), flush=True)


def reply(msg, body):
    body["in_reply_to"] = msg["body"]["msg_id"]
    send(msg["src"], body)


def handle(msg):
    global node_id, me, peers
    body = msg["body"]
    kind = body["type"]
    if kind == "init":
        node_id = body["node_id"]
        me = f"{node_id}@{time.time_ns()}"
        peers = [n for n in body["node_ids"] if n != node_id]
        reply(msg, {"type": "init_ok"})
    elif kind == "add":
        delta = body["delta"]
        if not isinstance(delta, int) or delta < 0:
            reply(msg, {"type": "error", "code": 12, "text": "a g-counter only grows"})
            return
        counts[me] = counts.get(me, 0) + delta
        reply(msg, {"type": "add_ok"})
    elif kind == "read":
        reply(msg, {"type": "read_ok", "value": sum(counts.values())})
    elif kind == "replicate":
        for entry, n in body["counts"].items():
            counts[entry] = max(counts.get(entry, 0), n)
    elif "msg_id" in body:
        reply(msg, {"type": "error", "code": 10, "text": f"{kind} is not supported"})


def read_stdin(lines):
    for line in sys.stdin:
        lines.put(line)
    lines.put(None)  # stdin closed: time to stop


lines = queue.Queue()
threading.Thread(target=read_stdin, args=(lines,), daemon=True).start()
next_gossip = time.monotonic() + INTERVAL
while True:
    try:
        line = lines.get(timeout=max(0.0, next_gossip - time.monotonic()))
    except queue.Empty:
        line = ""
    if line is None:
        break
    if line.strip():
        try:
            handle(json.loads(line))
        except (ValueError, KeyError, TypeError, AttributeError) as e:
            print(f"skipping a malformed message ({e!r}): {line!r}", file=sys.stderr)
    if time.monotonic() >= next_gossip:
        if counts:
            for p in peers:
                send(p, {"type": "replicate", "counts": counts})
        next_gossip = time.monotonic() + INTERVAL
