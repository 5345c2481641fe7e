#!/usr/bin/env bash
# The cost of refusing a large envelope with a bad signature: starts the registry on an empty
# SQLite data dir, then `elicence bench forged` registers one issuer, signs one envelope of
# N licences (2,500 make about 6 MiB), corrupts its signature and posts it R times, one at a
# time. Prints the refusal latency (loopback, so close to server time).
#   usage: bash benches/forged_envelope.sh [licences] [requests] [binary]
#   (default binary: the release build, built first; pass another to compare two builds)
set -euo pipefail
cd "$(dirname "$0")/.."
licences=${1:-2500}
requests=${2:-20}
bin=${3:-}
if [ -z "$bin" ]; then
  cargo build --release --quiet
  bin=$PWD/target/release/elicence
fi
port=18182
dir=$(mktemp -d)
trap 'status=$?; kill "$pid" 2>/dev/null || true; [ $status -eq 0 ] || tail -20 "$dir/log"; rm -rf "$dir"' EXIT
(cd "$dir" && ELICENCE_LISTEN=127.0.0.1:$port ELICENCE_PUBLIC_URL=http://127.0.0.1:$port \
  ELICENCE_ADMIN_TOKEN=bench-admin-token RUST_LOG=warn "$bin" >"$dir/log" 2>&1) &
pid=$!
until curl -fs "http://127.0.0.1:$port/ready" >/dev/null 2>&1; do
  sleep 0.05
  kill -0 "$pid" 2>/dev/null || { echo "service died:"; cat "$dir/log"; exit 1; }
done
# Let start-up work (seeding the directory) settle before registering the issuer.
sleep 2
# The client is always this checkout's binary (the server under test may be another).
client=${CLIENT:-$bin}
ELICENCE_ADMIN_TOKEN=bench-admin-token "$client" bench forged \
  --registry-url "http://127.0.0.1:$port" --licences "$licences" --requests "$requests"
