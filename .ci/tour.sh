#!/usr/bin/env bash
# Runs the README's "A five-minute tour" exactly as written: the first ```sh block under that
# heading is extracted and run with bash -e, in a scratch directory laid out like a clone
# (target/release/elicence, and the data/ the service creates on first start), against a
# service started as the README's first command starts it (the release binary, defaults only).
# A documented command that breaks fails this script. Run from anywhere: bash .ci/tour.sh
set -euo pipefail
ROOT=$(cd "$(dirname "$0")/.." && pwd)
BIN="${ELICENCE_TOUR_BIN:-$ROOT/target/release/elicence}"   # CI: the debug build `cargo test` made
[ -x "$BIN" ] || cargo build --release --manifest-path "$ROOT/Cargo.toml"

WORK=$(mktemp -d)
mkdir -p "$WORK/clone/target/release"
ln -s "$BIN" "$WORK/clone/target/release/elicence"
python3 - "$ROOT/README.md" >"$WORK/tour.sh" <<'PY'
import re, sys
text = open(sys.argv[1], encoding="utf-8").read()
section = text.split("## A five-minute tour", 1)[1]
block = re.search(r"```sh\n(.*?)```", section, re.S)
if not block:
    sys.exit("README.md: no ```sh block under '## A five-minute tour'")
print(block.group(1))
PY

cd "$WORK/clone"
"$BIN" >"$WORK/service.log" 2>&1 &
SERVICE=$!
trap 'kill $SERVICE 2>/dev/null || true; wait $SERVICE 2>/dev/null || true; rm -rf "$WORK"' EXIT
for _ in $(seq 1 100); do curl -fsS http://127.0.0.1:8080/ready >/dev/null 2>&1 && break; sleep 0.1; done
curl -fsS http://127.0.0.1:8080/ready >/dev/null || { echo "the service did not start:"; cat "$WORK/service.log"; exit 1; }

echo "== running the README's tour ($(wc -l <"$WORK/tour.sh") lines) from $WORK/clone"
bash -euo pipefail "$WORK/tour.sh" >"$WORK/tour.out" 2>&1 || {
  echo "FAIL: the tour stopped; its output:"; cat "$WORK/tour.out"; echo "-- service log:"; tail -20 "$WORK/service.log"; exit 1; }
cat "$WORK/tour.out"
fail() { echo "FAIL: $1"; exit 1; }
grep -q '"verified":true' "$WORK/tour.out" || fail "online verification did not answer verified"
grep -q '^verified offline$' "$WORK/tour.out" || fail "offline verification did not pass"
grep -q '^the QR code of http://127.0.0.1:8080/p/.* is in qr.svg$' "$WORK/tour.out" || fail "the presentation's QR image was not fetched"
grep -qE '^EL2:[0-9A-Z $%*+./:-]{36}… \([0-9]+ characters\)$' "$WORK/tour.out" || fail "the EL2: text was not printed"
grep -q '^verified offline from the QR text$' "$WORK/tour.out" || fail "the EL2: text did not verify offline"
grep -q '"verdict":{"valid":true' "$WORK/tour.out" || fail "the scan did not show a valid licence"
if grep -qE '[0-9]{17}[0-9X]' <(grep '"verdict"' "$WORK/tour.out"); then fail "the anonymous scan answer carries a resident ID"; fi
echo "ok: the README's tour runs as written"
