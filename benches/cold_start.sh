#!/usr/bin/env bash
# Cold start: time from launching the release binary on an EMPTY data dir (no database, no
# keys, no admin token) until GET /ready answers 200. Prints each run and the median.
#   usage: bash benches/cold_start.sh [runs]   (builds the release binary first)
set -euo pipefail
cd "$(dirname "$0")/.."
runs=${1:-7}
cargo build --release --quiet
bin=$PWD/target/release/elicence
seed=$PWD/schemas/licence-types
port=18181
times=()
for i in $(seq 1 "$runs"); do
  dir=$(mktemp -d)
  start=$(date +%s%N)
  (cd "$dir" && ELICENCE_LISTEN=127.0.0.1:$port ELICENCE_SEED_DIR=$seed RUST_LOG=warn "$bin" >"$dir/log" 2>&1) &
  pid=$!
  until curl -fs "http://127.0.0.1:$port/ready" >/dev/null 2>&1; do
    sleep 0.002
    kill -0 "$pid" 2>/dev/null || { echo "service died:"; cat "$dir/log"; exit 1; }
  done
  end=$(date +%s%N)
  ms=$(( (end - start) / 1000000 ))
  times+=("$ms")
  echo "run $i: ${ms} ms"
  kill "$pid"; wait "$pid" 2>/dev/null || true
  rm -rf "$dir"
done
median=$(printf '%s\n' "${times[@]}" | sort -n | awk '{a[NR]=$1} END {print a[int((NR+1)/2)]}')
echo "median cold start to /ready: ${median} ms over $runs runs"
