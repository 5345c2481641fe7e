#!/usr/bin/env bash
# Server instructions per verified licence, counted by callgrind: repeatable on a shared, noisy
# machine where wall-clock throughput is not (the verification benchmark). Registers a corpus on a normal server,
# restarts the same data dir under callgrind, then measures POST /v1/verify (one credential per
# request, 200 requests) and POST /v1/verify/batch (4 calls of 100) one request at a time.
#   usage: bash benches/verify_cpu.sh [binary]   (default: builds target/release/elicence)
# Needs valgrind (callgrind_control) and python3.
set -euo pipefail
cd "$(dirname "$0")/.."
bin=${1:-}
if [[ -z "$bin" ]]; then
  cargo build --release --quiet
  bin=$PWD/target/release/elicence
fi
bin=$(realpath "$bin")
seed=$PWD/schemas/licence-types
port=${PORT:-18150}
token=bench-admin-token-0123456789
dir=$(mktemp -d)
trap 'kill $pid 2>/dev/null || true; [[ -n "${KEEP:-}" ]] || rm -rf "$dir"' EXIT
start() {
  (cd "$dir" && ELICENCE_LISTEN=127.0.0.1:$port ELICENCE_PUBLIC_URL=http://127.0.0.1:$port \
    ELICENCE_ADMIN_TOKEN=$token ELICENCE_VERIFY_RATE_LIMIT=0 ELICENCE_SEED_DIR=$seed \
    RUST_LOG=warn exec "$@" >>"$dir/log" 2>&1) &
  pid=$!
  until curl -fs "http://127.0.0.1:$port/ready" >/dev/null 2>&1; do
    sleep 0.2
    kill -0 "$pid" 2>/dev/null || { echo "service died:"; cat "$dir/log"; exit 1; }
  done
}
start "$bin"
"$bin" bench verify --registry-url "http://127.0.0.1:$port" --admin-token "$token" \
  --licences 200 --batch 100 --duration 200ms >"$dir/corpus.log" 2>&1 || { cat "$dir/corpus.log"; exit 1; }
kill "$pid"; wait "$pid" 2>/dev/null || true
start valgrind --tool=callgrind --callgrind-out-file="$dir/cg.out" "$bin"
counts=$(python3 benches/verify_cpu.py "$dir/data/registry.db" "$port" 200 100 4 "$pid")
python3 - "$dir" "$counts" <<'PY'
import glob, json, re, sys
d, counts = sys.argv[1], json.loads(sys.argv[2])
for phase, licences in counts.items():
    total = 0
    for path in glob.glob(f"{d}/cg.out*"):
        text = open(path).read()
        if f"desc: Trigger: dump {phase}\n" not in text:
            continue
        m = re.search(r"^summary: (\d+)", text, re.M) or re.search(r"^totals: (\d+)", text, re.M)
        total += int(m.group(1)) if m else 0
    print(f"{phase}: {total / licences:,.0f} instructions per licence ({licences} licences)")
PY
