#!/usr/bin/env bash
# Where ingest's CPU goes, per accepted licence and per server thread: a fresh release server on
# a fresh SQLite data dir, one `bench submit` run against it, then each thread's CPU time (from
# /proc/<pid>/task/*/stat, summed by thread name) and the whole process's (which also counts
# threads that have ended) divided by the licences
# accepted, and the bytes the server wrote per licence (/proc/<pid>/io, write-ahead log and
# checkpoints included); then the process's kernel time per licence, and the single writer's
# busy time per licence with its batches (`sequencer_batch_seconds` and
# `sequencer_batch_envelopes` from /metrics). With PG=1 the service runs on a fresh PostgreSQL
# database on 127.0.0.1:5432 instead, and the CPU time of the machine's `postgres` processes
# over the run (every database's: run it on a quiet server) is printed as well.
#   usage: [PG=1] bash benches/submit_threads.sh [BINARY] [ENVELOPES]   (4 issuers × ENVELOPES × 100)
set -euo pipefail
cd "$(dirname "$0")/.."
bin=${1:-$PWD/target/release/elicence}
envelopes=${2:-100}
licences=$((4 * envelopes * 100))
port=${PORT:-18104}
token=bench-admin-token-0123456789
seed=$PWD/schemas/licence-types
dir=$(mktemp -d)
db=""
if [[ "${PG:-}" == 1 ]]; then
  database=elicence_threads_$$
  psql -q -h 127.0.0.1 -U postgres -c "DROP DATABASE IF EXISTS $database" -c "CREATE DATABASE $database" postgres
  db=postgres://postgres@127.0.0.1:5432/$database
fi
(cd "$dir" && exec env ELICENCE_LISTEN=127.0.0.1:$port ELICENCE_PUBLIC_URL=http://127.0.0.1:$port \
  ELICENCE_ADMIN_TOKEN=$token ELICENCE_VERIFY_RATE_LIMIT=0 ELICENCE_SEED_DIR="$seed" \
  ${db:+ELICENCE_DATABASE_URL=$db} RUST_LOG=warn "$bin" >"$dir/log" 2>&1) &
pid=$!
until curl -fs "http://127.0.0.1:$port/ready" >/dev/null 2>&1; do
  sleep 0.05
  kill -0 "$pid" 2>/dev/null || { echo "service died:"; cat "$dir/log"; exit 1; }
done
# Fields after the command name: 12 and 13 are utime and stime, in clock ticks.
ticks() { local s; s=$(cat "$1"); s=${s##*) }; read -ra f <<<"$s"; echo $((f[11] + f[12])); }
kernel_ticks() { local s; s=$(cat "$1"); s=${s##*) }; read -ra f <<<"$s"; echo $((f[12])); }
declare -A before
for t in /proc/$pid/task/*; do before[$(basename "$t")]=$(ticks "$t/stat"); done
process_before=$(ticks /proc/$pid/stat)
kernel_before=$(kernel_ticks /proc/$pid/stat)
written_before=$(awk '/^wchar/ {print $2}' /proc/$pid/io)
# PostgreSQL's processes (a backend per connection) are read before the service stops and its
# backends exit with their counts.
declare -A postgres_before
for p in $(pgrep -x postgres || true); do postgres_before[$p]=$(ticks "/proc/$p/stat" 2>/dev/null || echo 0); done
"$bin" bench submit --registry-url "http://127.0.0.1:$port" --admin-token "$token" \
  --issuers 4 --licences-per-envelope 100 --envelopes "$envelopes" --concurrency 4 | grep -E '^(accepted|licences/s )'
hz=$(getconf CLK_TCK)
declare -A by_name
for t in /proc/$pid/task/*; do
  name=$(cat "$t/comm")
  used=$(( $(ticks "$t/stat") - ${before[$(basename "$t")]:-0} ))
  by_name[$name]=$(( ${by_name[$name]:-0} + used ))
done
for name in "${!by_name[@]}"; do
  awk -v n="$name" -v t="${by_name[$name]}" -v hz="$hz" -v l="$licences" \
    'BEGIN { if (t > 0) printf "  %-20s %6.1f µs per licence\n", n, t * 1e6 / hz / l }'
done
awk -v t="$(( $(ticks /proc/$pid/stat) - process_before ))" -v hz="$hz" -v l="$licences" \
  'BEGIN { printf "  %-20s %6.1f µs per licence\n", "whole process", t * 1e6 / hz / l }'
awk -v t="$(( $(kernel_ticks /proc/$pid/stat) - kernel_before ))" -v hz="$hz" -v l="$licences" \
  'BEGIN { printf "  %-20s %6.1f µs per licence\n", "of it in the kernel", t * 1e6 / hz / l }'
echo "  written: $(( ($(awk '/^wchar/ {print $2}' /proc/$pid/io) - written_before) / licences )) bytes per licence"
curl -fs "http://127.0.0.1:$port/metrics" | awk -v l="$licences" '
  /^sequencer_batch_seconds_sum/ { busy = $2 } /^sequencer_batch_seconds_count/ { batches = $2 }
  /^sequencer_batch_envelopes_sum/ { envelopes = $2 }
  /^sequencer_seal_wait_seconds_sum/ { seal = $2 } /^sequencer_commit_seconds_sum/ { commit = $2 }
  END { if (batches > 0) printf "  writer busy: %.1f µs per licence (waiting for the seal %.1f, committing %.1f), %d batches, %.2f envelopes a batch\n",
          busy * 1e6 / l, seal * 1e6 / l, commit * 1e6 / l, batches, envelopes / batches }'
if [[ -n "$db" ]]; then
  postgres=0
  for p in $(pgrep -x postgres || true); do
    now=$(ticks "/proc/$p/stat" 2>/dev/null || echo 0)
    postgres=$(( postgres + now - ${postgres_before[$p]:-0} ))
  done
  awk -v t="$postgres" -v hz="$hz" -v l="$licences" \
    'BEGIN { printf "  %-20s %6.1f µs per licence\n", "postgres processes", t * 1e6 / hz / l }'
fi
kill "$pid"; wait "$pid" 2>/dev/null || true
rm -rf "$dir"
if [[ -n "$db" ]]; then psql -q -h 127.0.0.1 -U postgres -c "DROP DATABASE $database" postgres; fi
