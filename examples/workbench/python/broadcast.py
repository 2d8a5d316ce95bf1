#!/usr/bin/env python3
"""broadcast workload: topology-aware gossip with retries.

A new message goes at once to every neighbour of the topology (all nodes until a topology
arrives) but the one it came from. Neighbours acknowledge each gossip{messages} with
gossip_ok{messages}; whatever stays unacknowledged for --retry-ms (default 400) is sent
again, so a partition only delays messages. A reader thread feeds a queue, so the main loop
can wake up for retries while stdin is quiet.
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


RETRY = float(option("--retry-ms", 400)) / 1000

node_id = None
neighbors = []
messages = set()
unacked = {}  # neighbour -> {message: when last sent}


def send(dest, body):
    print(json.dumps({"src": node_id, "dest": dest, "body": body}), flush=True)


def reply(msg, body):
    body["in_reply_to"] = msg["body"]["msg_id"]
    send(msg["src"], body)


def spread(new, sender):
    now = time.monotonic()
    for nb in neighbors:
        if nb != sender:
            unacked.setdefault(nb, {}).update({m: now for m in new})
            send(nb, {"type": "gossip", "messages": new})


def handle(msg):
    global node_id, neighbors
    body = msg["body"]
    kind = body["type"]
    if kind == "init":
        node_id = body["node_id"]
        neighbors = [n for n in body["node_ids"] if n != node_id]
        reply(msg, {"type": "init_ok"})
    elif kind == "topology":
        neighbors = body["topology"].get(node_id, neighbors)
        reply(msg, {"type": "topology_ok"})
    elif kind == "broadcast":
        m = body["message"]
        if m not in messages:
            messages.add(m)
            spread([m], None)
        reply(msg, {"type": "broadcast_ok"})
    elif kind == "read":
        reply(msg, {"type": "read_ok", "messages": sorted(messages)})
    elif kind == "gossip":
        send(msg["src"], {"type": "gossip_ok", "messages": body["messages"]})
        new = [m for m in body["messages"] if m not in messages]
        messages.update(new)
        if new:
            spread(new, msg["src"])
    elif kind == "gossip_ok":
        pending = unacked.get(msg["src"], {})
        for m in body["messages"]:
            pending.pop(m, None)
    elif "msg_id" in body:
        reply(msg, {"type": "error", "code": 10, "text": f"{kind} is not supported"})


def retry():
    now = time.monotonic()
    for nb, pending in unacked.items():
        due = [m for m, sent in pending.items() if now - sent >= RETRY]
        if due:
            pending.update({m: now for m in due})
            send(nb, {"type": "gossip", "messages": due})


def read_stdin(lines):
    for line in sys.stdin:
        lines.put(line)
    lines.put(None)  # stdin closed: time to stop


lines = queue.Queue()
threading.Thread(target=read_stdin, args=(lines,), daemon=True).start()
next_retry = time.monotonic()
while True:
    try:
        line = lines.get(timeout=RETRY / 4)
    except queue.Empty:
        line = ""
    if line is None:
        break
    if line.strip():
        try:
            handle(json.loads(line))
        except (ValueError, KeyError, TypeError, AttributeError) as e:
            print(f"skipping a malformed message ({e!r}): {line!r}", file=sys.stderr)
    if time.monotonic() >= next_retry:
        retry()
        next_retry = time.monotonic() + RETRY / 4
