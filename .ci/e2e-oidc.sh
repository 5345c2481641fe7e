#!/usr/bin/env bash
# End-to-end sign-in through a real OpenID provider in a real browser: start the test identity
# provider (tests/oidc/provider.mjs) and the service configured for it on a scratch data
# directory, register an issuer and a 律师执业证 for the test citizen, and drive headless
# Chromium (.ci/e2e_oidc_drive.py) through the provider's own login page, /holder, a
# presentation and its /p/ scan page, and signing out. Screenshots go to target/e2e-oidc/.
# Run from the repository root: bash .ci/e2e-oidc.sh [binary] (default: the release build, else debug)
set -euo pipefail
cd "$(dirname "$0")/.."
START=$(date +%s)

command -v chromium >/dev/null || { echo "installing Debian's chromium"; apt-get install -y chromium || { apt-get update && apt-get install -y chromium; }; }
command -v python3 >/dev/null || { echo "python3 is needed to drive Chromium"; exit 1; }
command -v node >/dev/null || { echo "node (20.19 or later) is needed for the test provider"; exit 1; }
[ -d tests/oidc/node_modules/oidc-provider ] || npm ci --prefix tests/oidc --no-audit --no-fund
BIN=${1:-target/release/elicence}
[ -x "$BIN" ] || BIN=target/debug/elicence
[ -x "$BIN" ] || cargo build
echo "service binary: $BIN"

WORK=$(mktemp -d)
free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }
PORT=$(free_port) IDP_PORT=$(free_port)
BASE="http://127.0.0.1:$PORT" IDP="http://127.0.0.1:$IDP_PORT"
PIDS=()
trap 'for pid in "${PIDS[@]}"; do kill "$pid" 2>/dev/null || true; wait "$pid" 2>/dev/null || true; done; rm -rf "$WORK"' EXIT

PORT=$IDP_PORT REDIRECT_URI="$BASE/holder/oidc/callback" POST_LOGOUT_URI="$BASE/holder" \
  node tests/oidc/provider.mjs >"$WORK/provider.log" 2>&1 &
PIDS+=($!)
for _ in $(seq 1 100); do grep -q '^listening ' "$WORK/provider.log" && break; sleep 0.1; done
grep -q '^listening ' "$WORK/provider.log" || { cat "$WORK/provider.log"; exit 1; }

ADMIN="e2e-admin-token-$(head -c 12 /dev/urandom | od -An -tx1 | tr -d ' \n')"
export ELICENCE_LISTEN="127.0.0.1:$PORT" ELICENCE_DATA_DIR="$WORK/data" ELICENCE_KEYS_DIR="$WORK/keys" \
  ELICENCE_DATABASE_URL="sqlite://$WORK/data/registry.db" ELICENCE_ADMIN_TOKEN="$ADMIN" \
  ELICENCE_PUBLIC_URL="$BASE" ELICENCE_REGISTRY_URL="$BASE" RUST_LOG=warn \
  ELICENCE_OIDC_ISSUER="$IDP" ELICENCE_OIDC_CLIENT_ID=elicence ELICENCE_OIDC_CLIENT_SECRET=elicence-test-secret
"$BIN" serve >"$WORK/service.log" 2>&1 &
PIDS+=($!)
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
"$BIN" issuer sign --key "$KEY" --issuer-uscc "$ISSUER" --type-code "$TYPE" --serial OIDC1 \
  --subject "$WORK/subject.json" --valid-from 2026-01-01 --valid-until 2031-01-01 \
  --jurisdiction 220102 --out "$WORK/OIDC1.json" >/dev/null 2>&1
"$BIN" issuer submit --key "$KEY" "$WORK/OIDC1.json" >/dev/null
LICENCE=$(python3 -c 'import json,sys; print(json.load(open(sys.argv[1]))["id"])' "$WORK/OIDC1.json")
echo "registry $BASE, identity provider $IDP: $LICENCE for the test citizen"

python3 .ci/e2e_oidc_drive.py "$BASE" "$IDP" "$LICENCE" target/e2e-oidc
# Nothing personal in the service's log: not the citizen's ID, not the name the provider holds.
if grep -q -e "$CITIZEN" -e '张三' "$WORK/service.log"; then
  echo "the service logged personal data:"; cat "$WORK/service.log"; exit 1
fi
echo "e2e-oidc took $(($(date +%s) - START)) s"
