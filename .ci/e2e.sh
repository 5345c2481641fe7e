#!/usr/bin/env bash
# End-to-end check in a real browser: start the service on a scratch data directory, register
# an issuer and three 律师执业证 for one citizen (one then revoked, one long expired), make a
# holder token, and drive headless Chromium as a phone (.ci/e2e_drive.py) through the home page,
# the directory, a type, /holder, presentations and their scans (valid, revoked, used, expired),
# checking each page as a citizen sees it. Screenshots go to target/e2e/.
# Run from the repository root: bash .ci/e2e.sh [binary] (default: the release build, else debug)
set -euo pipefail
cd "$(dirname "$0")/.."

need() { apt-get install -y "$@" || { apt-get update && apt-get install -y "$@"; }; }
command -v chromium >/dev/null || { echo "installing Debian's chromium"; need chromium; }
# The pages are Chinese first: without a CJK font Chromium draws boxes.
fc-list :lang=zh | grep -q . || { echo "installing Noto CJK fonts"; need fonts-noto-cjk; }
command -v python3 >/dev/null || { echo "python3 is needed to drive Chromium"; exit 1; }
BIN=${1:-target/release/elicence}
[ -x "$BIN" ] || BIN=target/debug/elicence
[ -x "$BIN" ] || cargo build
echo "service binary: $BIN"

WORK=$(mktemp -d)
PORT=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
BASE="http://127.0.0.1:$PORT"
ADMIN="e2e-admin-token-$(head -c 12 /dev/urandom | od -An -tx1 | tr -d ' \n')"
export ELICENCE_LISTEN="127.0.0.1:$PORT" ELICENCE_DATA_DIR="$WORK/data" ELICENCE_KEYS_DIR="$WORK/keys" \
  ELICENCE_DATABASE_URL="sqlite://$WORK/data/registry.db" ELICENCE_ADMIN_TOKEN="$ADMIN" \
  ELICENCE_PUBLIC_URL="$BASE" ELICENCE_REGISTRY_URL="$BASE" RUST_LOG=warn
"$BIN" serve >"$WORK/service.log" 2>&1 &
SERVICE=$!
trap 'kill $SERVICE 2>/dev/null || true; wait $SERVICE 2>/dev/null || true; rm -rf "$WORK"' EXIT
for _ in $(seq 1 100); do curl -fsS "$BASE/ready" >/dev/null 2>&1 && break; sleep 0.1; done
curl -fsS "$BASE/ready" >/dev/null || { cat "$WORK/service.log"; exit 1; }

admin() { curl -fsS -H "Authorization: Bearer $ADMIN" -H 'Content-Type: application/json' -d "$2" "$BASE$1"; }
ISSUER=91110000101623741K TYPE=11100000000014062K001 CITIZEN=11010519491231002X
KEY="$WORK/issuer.pem"
MULTIKEY=$("$BIN" keygen --out "$KEY" | grep -o 'z6Mk[1-9A-HJ-NP-Za-km-z]*' | head -1)
admin /v1/issuers "{\"uscc\":\"$ISSUER\",\"name\":\"端到端测试签发机构\"}" >/dev/null
admin "/v1/issuers/$ISSUER/keys" "{\"publicKey\":\"$MULTIKEY\",\"validFrom\":\"2020-01-01T00:00:00Z\"}" >/dev/null
admin /v1/authorisations "{\"issuer\":\"$ISSUER\",\"typeCodes\":[\"$TYPE\"],\"jurisdiction\":\"22\",\"validFrom\":\"2020-01-01T00:00:00Z\",\"grantedBy\":\"11100000000014062K\"}" >/dev/null
cat >"$WORK/subject.json" <<JSON
{"id":"urn:cn:rid:$CITIZEN","holderName":"张小三","certificateNumber":"12201202610123456",
 "practiceType":"专职律师","lawFirm":"吉林某某律师事务所","issuingAuthority":"吉林省司法厅","issuedOn":"2026-01-01"}
JSON
# One chain state for signing (status list indices) and submitting, in the scratch directory.
export ELICENCE_ISSUER_STATE="$WORK/chain.json"
sign() {
  "$BIN" issuer sign --key "$KEY" --issuer-uscc "$ISSUER" --type-code "$TYPE" --serial "$1" \
    --subject "$WORK/subject.json" --valid-from 2026-01-01 --valid-until 2031-01-01 \
    --jurisdiction 220102 --out "$WORK/$1.json" 2>&1 | sed -n 's/^digest //p'
}
sign E2E1 >/dev/null
REVOKED_DIGEST=$(sign E2E2)
"$BIN" issuer sign --key "$KEY" --issuer-uscc "$ISSUER" --type-code "$TYPE" --serial E2E3 \
  --subject "$WORK/subject.json" --valid-from 2020-01-01 --valid-until 2021-01-01 \
  --jurisdiction 220102 --out "$WORK/E2E3.json" 2>/dev/null
"$BIN" issuer submit --key "$KEY" "$WORK/E2E1.json" "$WORK/E2E2.json" "$WORK/E2E3.json" >/dev/null
urn() { python3 -c 'import json,sys; print(json.load(open(sys.argv[1]))["id"])' "$1"; }
VALID=$(urn "$WORK/E2E1.json") REVOKED=$(urn "$WORK/E2E2.json") EXPIRED=$(urn "$WORK/E2E3.json")
"$BIN" issuer status --key "$KEY" --licence "$REVOKED" --action revoke \
  --reason "执业证被吊销（端到端测试）" --previous "$REVOKED_DIGEST" >/dev/null
TOKEN=$(admin "/v1/holders/$CITIZEN/tokens" '{}' | python3 -c 'import json,sys; print(json.load(sys.stdin)["token"])')
echo "registry $BASE: $VALID (active), $REVOKED (revoked), $EXPIRED (expired)"

curl -fsS -o /dev/null "$BASE/favicon.ico" || { echo "FAIL: no /favicon.ico"; exit 1; }
python3 .ci/e2e_drive.py "$BASE" "$TOKEN" "$VALID" "$REVOKED" "$EXPIRED" target/e2e
# Every page view asks for the icon; none of them may leave a warning behind.
if grep -E 'WARN|ERROR' "$WORK/service.log"; then echo "FAIL: the service logged the above while pages were viewed"; exit 1; fi
