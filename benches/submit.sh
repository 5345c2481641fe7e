#!/usr/bin/env bash
# Issue 20's ingest benchmark, alternating binaries: for each run, each binary gets a fresh
# release server on a fresh SQLite data dir (or, with PG=1, a fresh PostgreSQL database on
# 127.0.0.1:5432), then `elicence bench submit` against it. One line per run and binary:
# accepted licences/s, envelopes/s, p99 receipt latency and the ratio to 2 × the naive pipeline.
#   usage: bash benches/submit.sh RUNS BINARY [BINARY…]
# The bench's arguments go in BENCH_ARGS (default: 4 issuers × 25 envelopes of 100, 4 at once);
# the one-licence case: BENCH_ARGS="--issuers 16 --licences-per-envelope 1 --envelopes 600 --concurrency 16".
# CLIENT=BINARY runs `bench submit` from that binary against every server (the same load
# generator and baselines for all), instead of each binary's own.
set -euo pipefail
cd "$(dirname "$0")/.."
runs=${1:?runs}
shift
seed=$PWD/schemas/licence-types
port=${PORT:-18103}
token=bench-admin-token-0123456789
args=${BENCH_ARGS:---issuers 4 --licences-per-envelope 100 --envelopes 25 --concurrency 4}
for i in $(seq 1 "$runs"); do
  for bin in "$@"; do
    dir=$(mktemp -d)
    db=""
    if [[ "${PG:-}" == 1 ]]; then
      name=elicence_submit_$$_$i
      psql -q -h 127.0.0.1 -U postgres -c "DROP DATABASE IF EXISTS $name" -c "CREATE DATABASE $name" postgres
      db=postgres://postgres@127.0.0.1:5432/$name
    fi
    (cd "$dir" && exec env ELICENCE_LISTEN=127.0.0.1:$port ELICENCE_PUBLIC_URL=http://127.0.0.1:$port \
      ELICENCE_ADMIN_TOKEN=$token ELICENCE_VERIFY_RATE_LIMIT=0 ELICENCE_SEED_DIR=$seed \
      ${db:+ELICENCE_DATABASE_URL=$db} RUST_LOG=warn "$bin" >"$dir/log" 2>&1) &
    pid=$!
    until curl -fs "http://127.0.0.1:$port/ready" >/dev/null 2>&1; do
      sleep 0.05
      kill -0 "$pid" 2>/dev/null || { echo "service died:"; cat "$dir/log"; exit 1; }
    done
    # shellcheck disable=SC2086
    report=$("${CLIENT:-$bin}" bench submit --registry-url "http://127.0.0.1:$port" --admin-token "$token" $args --json)
    kill "$pid"; wait "$pid" 2>/dev/null || true
    rm -rf "$dir"
    [[ -n "$db" ]] && psql -q -h 127.0.0.1 -U postgres -c "DROP DATABASE $name" postgres
    echo "$report" | python3 -c '
import json, sys
r = json.load(sys.stdin)
print(sys.argv[1], sys.argv[2], "licences/s %.0f envelopes/s %.0f p99 %.0f ms over-naive %s" % (
    r["licencesPerSecond"], r["envelopesPerSecond"], r["latencyMs"]["p99"],
    json.dumps(r["licencesOverBaselines"])))
if len(r.get("licencesPerSecondByTenth", [])) > 1:
    print("  by tenth:", ", ".join("%.0f" % t for t in r["licencesPerSecondByTenth"]))' "$i" "$bin"
  done
done
