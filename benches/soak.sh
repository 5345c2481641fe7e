#!/usr/bin/env bash
# Soak: the peak ingest rate measured first (three `bench submit` runs, 16 issuers × 150
# envelopes of one licence, each on a fresh SQLite server; the median envelopes/s), then
# `bench soak` at half of it, with 100 verifications/s beside, RSS and open descriptors
# sampled every minute, p99 latencies per window.
#   usage: bash benches/soak.sh [duration] [window] [backend]
#          bash benches/soak.sh 5m 1m          # the quick run
#          bash benches/soak.sh 60m 10m        # the hour
#   RATE=<envelopes/s> skips the peak measurement; ISSUERS=<n> (default 16) sets the chains of
#   both the peak runs and the soak; BIN=<binary> runs that binary instead of building.
set -euo pipefail
cd "$(dirname "$0")/.."
duration=${1:-5m}
window=${2:-1m}
backend=${3:-sqlite}
issuers=${ISSUERS:-16}
if [ -z "${BIN:-}" ]; then
  cargo build --release --quiet
  BIN=$PWD/target/release/elicence
fi
bin=$BIN
token=soak-admin-token-0123456789
port=${PORT:-18191}
if [ -z "${RATE:-}" ]; then
  rates=()
  for i in 1 2 3; do
    dir=$(mktemp -d)
    (cd "$dir" && ELICENCE_LISTEN=127.0.0.1:$port ELICENCE_PUBLIC_URL=http://127.0.0.1:$port \
      ELICENCE_ADMIN_TOKEN=$token ELICENCE_DATABASE_URL=sqlite://$dir/registry.db \
      ELICENCE_DATA_DIR=$dir ELICENCE_KEYS_DIR=$dir/keys RUST_LOG=warn exec "$bin" >"$dir/log" 2>&1) &
    pid=$!
    until curl -fs "http://127.0.0.1:$port/ready" >/dev/null 2>&1; do sleep 0.05; done
    rate=$("$bin" bench submit --registry-url "http://127.0.0.1:$port" --admin-token $token \
      --issuers "$issuers" --licences-per-envelope 1 --envelopes 150 --concurrency "$issuers" --json |
      jq .envelopesPerSecond)
    kill "$pid"; wait "$pid" 2>/dev/null || true
    rm -rf "$dir"
    echo "peak run $i: $rate envelopes/s"
    rates+=("$rate")
  done
  peak=$(printf '%s\n' "${rates[@]}" | sort -g | sed -n 2p)
  RATE=$(awk -v p="$peak" 'BEGIN { printf "%.0f", p / 2 }')
  echo "peak (median) $peak envelopes/s; soaking at $RATE envelopes/s"
fi
"$bin" bench soak --backend "$backend" --duration "$duration" --window "$window" --rate "$RATE" \
  --issuers "$issuers"
