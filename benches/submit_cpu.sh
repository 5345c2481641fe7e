#!/usr/bin/env bash
# Server instructions per accepted licence on the write path, counted by callgrind: repeatable on
# a shared, noisy machine where wall-clock throughput is not. Starts a fresh SQLite server under
# callgrind (one output file per thread), warms it up with one issuer's 2 envelopes of 100, zeroes
# the counters, submits ISSUERS × ENVELOPES envelopes of 100 licences with `bench submit`, and
# dumps. Prints instructions per licence for the whole server and per thread, then the functions
# with the most inclusive instructions per licence (callgrind_annotate).
#   usage: bash benches/submit_cpu.sh [binary]   (default: builds target/release/elicence)
#   ISSUERS (default 4), ENVELOPES (per issuer, default 5), TOP (functions shown, default 40),
#   KEEP=1 keeps the data dir and the callgrind files.
# Syscalls (fsync, the network) are not instructions: this counts CPU work only. Needs valgrind.
set -euo pipefail
cd "$(dirname "$0")/.."
bin=${1:-}
if [[ -z "$bin" ]]; then
  cargo build --release --quiet
  bin=$PWD/target/release/elicence
fi
bin=$(realpath "$bin")
seed=$PWD/schemas/licence-types
port=${PORT:-18151}
token=bench-admin-token-0123456789
issuers=${ISSUERS:-4}
envelopes=${ENVELOPES:-5}
dir=$(mktemp -d)
trap 'kill $pid 2>/dev/null || true; [[ -n "${KEEP:-}" ]] || rm -rf "$dir"' EXIT
(cd "$dir" && ELICENCE_LISTEN=127.0.0.1:$port ELICENCE_PUBLIC_URL=http://127.0.0.1:$port \
  ELICENCE_ADMIN_TOKEN=$token ELICENCE_VERIFY_RATE_LIMIT=0 ELICENCE_SEED_DIR=$seed RUST_LOG=warn \
  exec valgrind --tool=callgrind --separate-threads=yes --callgrind-out-file="$dir/cg.out" \
  "$bin" >>"$dir/log" 2>&1) &
pid=$!
until curl -fs "http://127.0.0.1:$port/ready" >/dev/null 2>&1; do
  sleep 0.5
  kill -0 "$pid" 2>/dev/null || { echo "service died:"; cat "$dir/log"; exit 1; }
done
submit() {
  "$bin" bench submit --registry-url "http://127.0.0.1:$port" --admin-token "$token" \
    --licences-per-envelope 100 --json "$@"
}
submit --issuers 1 --envelopes 2 --concurrency 1 >"$dir/warm.json"
callgrind_control --zero "$pid" >/dev/null
submit --issuers "$issuers" --envelopes "$envelopes" --concurrency "$issuers" >"$dir/run.json"
callgrind_control --dump=submit "$pid" >/dev/null
licences=$(python3 -c 'import json,sys; print(json.load(open(sys.argv[1]))["licencesAccepted"])' "$dir/run.json")
python3 - "$dir" "$licences" <<'PY'
import glob, re, sys
d, licences = sys.argv[1], int(sys.argv[2])
total, threads = 0, []
for path in sorted(glob.glob(f"{d}/cg.out*")):
    text = open(path, errors="replace").read()
    if "desc: Trigger: dump submit\n" not in text:
        continue
    m = re.search(r"^summary: (\d+)", text, re.M) or re.search(r"^totals: (\d+)", text, re.M)
    n = int(m.group(1)) if m else 0
    name = re.search(r"^# Thread: (\S+)|^thread: (\d+)", text, re.M)
    total += n
    threads.append((n, path.rsplit("/", 1)[-1]))
print(f"server: {total / licences:,.0f} instructions per licence ({licences} licences)")
for n, name in sorted(threads, reverse=True):
    if n / licences >= 1000:
        print(f"  {name}: {n / licences:,.0f} per licence")
PY
# The three threads with most instructions (the actix workers and the sequencer), each apart:
# callgrind_annotate reads one file at a time.
for file in $(for f in $(grep -l "desc: Trigger: dump submit" "$dir"/cg.out*); do
    echo "$(grep -m1 -E '^(summary|totals):' "$f" | awk '{print $2}') $f"; done | sort -rn | head -3 | cut -d' ' -f2); do
  echo "== ${file##*/}: inclusive instructions per licence"
  callgrind_annotate --inclusive=yes --threshold=99 "$file" 2>/dev/null \
    | awk -v n="$licences" -v top="${TOP:-40}" '
        /^ *[0-9,]+ .*[^ ]/ && shown < top {
          v = $1; gsub(",", "", v);
          $1 = ""; $2 = ""; sub(/^ +/, "");
          printf "%12.0f  %s\n", v / n, substr($0, 1, 150); shown++
        }'
done
