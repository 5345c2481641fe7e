#!/usr/bin/env python3
"""Drives a registry under callgrind for benches/verify_cpu.sh: instructions the server spends per
licence on POST /v1/verify (one credential per request) and on POST /v1/verify/batch.

usage: verify_cpu.py DB_PATH PORT OUT_PREFIX [SINGLES] [BATCH] [CALLS]
Reads registered credentials from the SQLite database, warms the server up, then for each phase
zeroes callgrind's counters, sends the requests one after another on one keep-alive connection,
and dumps the counters to OUT_PREFIX.<phase>. Prints Ir per licence for each phase."""
import http.client
import json
import re
import sqlite3
import subprocess
import sys
import glob
import os

db, port, out = sys.argv[1], int(sys.argv[2]), sys.argv[3]
singles = int(sys.argv[4]) if len(sys.argv) > 4 else 200
batch = int(sys.argv[5]) if len(sys.argv) > 5 else 100
calls = int(sys.argv[6]) if len(sys.argv) > 6 else 4

docs = [row[0] for row in sqlite3.connect(db).execute("SELECT document FROM licences ORDER BY leaf_index")]
if len(docs) < batch:
    sys.exit(f"need at least {batch} registered licences, found {len(docs)}")
conn = http.client.HTTPConnection("127.0.0.1", port, timeout=600)


def post(path, body):
    conn.request("POST", path, body=body, headers={"content-type": "application/json"})
    response = conn.getresponse()
    data = response.read()
    if response.status != 200:
        sys.exit(f"{path}: HTTP {response.status}: {data[:300]!r}")
    return json.loads(data)


single_bodies = [('{"credential":%s}' % d).encode() for d in docs]
batch_body = ('{"items":[%s]}' % ",".join('{"credential":%s}' % d for d in docs[:batch])).encode()


def control(*args):
    subprocess.run(["callgrind_control", *args], check=True, stdout=subprocess.DEVNULL)


def total_ir(prefix):
    total = 0
    for path in glob.glob(prefix + "*"):
        with open(path) as f:
            for line in f:
                m = re.match(r"(summary|totals): (\d+)", line)
                if m:
                    total = max(total, int(m.group(2))) if m.group(1) == "totals" else int(m.group(2))
                    break
    return total


# Warm-up: every licence's standing and proof nodes cached, connections and schemas ready.
for start in range(0, len(docs), batch):
    chunk = docs[start:start + batch]
    body = ('{"items":[%s]}' % ",".join('{"credential":%s}' % d for d in chunk)).encode()
    assert all(r["verified"] for r in post("/v1/verify/batch", body)["results"])
for i in range(20):
    assert post("/v1/verify", single_bodies[i % len(docs)])["verified"] is True

pid = sys.argv[7] if len(sys.argv) > 7 else None
results = {}
for phase in ("single", "batch"):
    control("--zero", *( [pid] if pid else []))
    if phase == "single":
        for i in range(singles):
            post("/v1/verify", single_bodies[i % len(docs)])
        licences = singles
    else:
        for _ in range(calls):
            post("/v1/verify/batch", batch_body)
        licences = calls * batch
    for old in glob.glob(f"{out}.{phase}*"):
        os.remove(old)
    control("--dump=" + phase, *( [pid] if pid else []))
    results[phase] = licences
print(json.dumps(results))
