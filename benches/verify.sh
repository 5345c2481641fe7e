#!/usr/bin/env bash
# Issue 4's verification benchmark, end to end: a fresh release server on an empty SQLite data
# dir (2 actix workers, anonymous rate limit off), then `elicence bench verify` against it with
# the server's pid, so each phase also reports the server's own CPU time per licence.
#   usage: bash benches/verify.sh [runs] [binary]      (default 3 runs, target/release/elicence)
#   PERF=1 also records a perf profile of the server during each run (perf.data in its dir).
# Extra arguments for `bench verify` go in BENCH_ARGS (default: --duration 10s).
set -euo pipefail
cd "$(dirname "$0")/.."
runs=${1:-3}
bin=${2:-}
if [[ -z "$bin" ]]; then
  cargo build --release --quiet
  bin=$PWD/target/release/elicence
fi
seed=$PWD/schemas/licence-types
port=${PORT:-18102}
token=bench-admin-token-0123456789
for i in $(seq 1 "$runs"); do
  dir=$(mktemp -d)
  (cd "$dir" && ELICENCE_LISTEN=127.0.0.1:$port ELICENCE_PUBLIC_URL=http://127.0.0.1:$port \
    ELICENCE_ADMIN_TOKEN=$token ELICENCE_VERIFY_RATE_LIMIT=0 ELICENCE_SEED_DIR=$seed \
    RUST_LOG=warn exec "$bin" >"$dir/log" 2>&1) &
  pid=$!
  until curl -fs "http://127.0.0.1:$port/ready" >/dev/null 2>&1; do
    sleep 0.05
    kill -0 "$pid" 2>/dev/null || { echo "service died:"; cat "$dir/log"; exit 1; }
  done
  perf_pid=
  if [[ "${PERF:-}" == 1 ]]; then
    # Starts once the corpus is registered: the profile covers (b) and (c) only.
    (sleep "${PERF_DELAY:-6}"; exec perf record -F 999 -g -p "$pid" -o "$dir/perf.data" \
      -- sleep "${PERF_SECONDS:-8}" >/dev/null 2>&1) &
    perf_pid=$!
  fi
  echo "run $i ($dir):"
  # shellcheck disable=SC2086
  "$bin" bench verify --registry-url "http://127.0.0.1:$port" --admin-token "$token" \
    --server-pid "$pid" ${BENCH_ARGS:---duration 10s}
  [[ -n "$perf_pid" ]] && wait "$perf_pid" || true
  kill "$pid"; wait "$pid" 2>/dev/null || true
  [[ "${PERF:-}" == 1 ]] || rm -rf "$dir"
done
