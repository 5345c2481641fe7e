#!/usr/bin/env python3
"""Drives a registry under callgrind for benches/verify_cpu.sh: instructions the server spends per
licence on POST /v1/verify (one credential per request) and on POST /v1/verify/batch.

usage: verify_cpu.py DB_PATH PORT SINGLES BATCH CALLS PID
Reads registered credentials from the SQLite database, warms the server up, then for each phase
zeroes callgrind's counters in process PID, sends the requests one after another on one
keep-alive connection, and dumps the counters (trigger "dump <phase>"). Prints the licences
each phase verified, as JSON; verify_cpu.sh reads the dumps."""
import http.client
import json
import sqlite3
import subprocess
import sys

db, port = sys.argv[1], int(sys.argv[2])
singles, batch, calls = int(sys.argv[3]), int(sys.argv[4]), int(sys.argv[5])

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


# Warm-up: every licence's standing and proof nodes cached, connections and schemas ready.
for start in range(0, len(docs), batch):
    chunk = docs[start:start + batch]
    body = ('{"items":[%s]}' % ",".join('{"credential":%s}' % d for d in chunk)).encode()
    assert all(r["verified"] for r in post("/v1/verify/batch", body)["results"])
for i in range(20):
    assert post("/v1/verify", single_bodies[i % len(docs)])["verified"] is True

pid = sys.argv[6]
results = {}
for phase in ("single", "batch"):
    control("--zero", pid)
    if phase == "single":
        for i in range(singles):
            post("/v1/verify", single_bodies[i % len(docs)])
        licences = singles
    else:
        for _ in range(calls):
            post("/v1/verify/batch", batch_body)
        licences = calls * batch
    control("--dump=" + phase, pid)
    results[phase] = licences
print(json.dumps(results))
