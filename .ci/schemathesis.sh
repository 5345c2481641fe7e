#!/usr/bin/env bash
# The OpenAPI document as a contract: Schemathesis generates requests from /openapi.json against
# a fresh server (the debug binary, SQLite in a temporary directory) and checks every answer
# against the document (`--checks all`: statuses, bodies, content types, headers, 405 for
# undeclared methods, rejection of schema-invalid requests, acceptance of valid ones).
# A bounded pass with the operator token, then shorter ones with a holder token and an agency
# key on their routes. Fails on any failure. Run as `bash .ci/schemathesis.sh`.
# MAX_EXAMPLES (default 20, the figures in RELIABILITY.md) bounds the cases per operation.
set -euo pipefail
cd "$(dirname "$0")/.."

ST_VERSION="4.32.5"
MAX_EXAMPLES="${MAX_EXAMPLES:-20}"
OPERATOR="schemathesis-operator-$(od -An -N8 -tx1 /dev/urandom | tr -d ' \n')"

command -v st >/dev/null && st --version | grep -q "$ST_VERSION" ||
  python3 -m pip install --quiet "schemathesis==$ST_VERSION"
[ -x target/debug/elicence ] || cargo build --quiet

WORK="$(mktemp -d)"
PORT="$(python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')"
BASE="http://127.0.0.1:$PORT"
mkdir -p "$WORK/data" "$WORK/keys"
ELICENCE_LISTEN="127.0.0.1:$PORT" ELICENCE_PUBLIC_URL="$BASE" \
  ELICENCE_DATA_DIR="$WORK/data" ELICENCE_KEYS_DIR="$WORK/keys" \
  ELICENCE_DATABASE_URL="sqlite://$WORK/data/elicence.sqlite" \
  ELICENCE_ADMIN_TOKEN="$OPERATOR" ELICENCE_VERIFY_RATE_LIMIT=0 ELICENCE_VCAPI_ISSUE_RATE=0 \
  target/debug/elicence >"$WORK/server.log" 2>&1 &
SERVER=$!
trap 'kill "$SERVER" 2>/dev/null; wait "$SERVER" 2>/dev/null; rm -rf "$WORK"' EXIT
for _ in $(seq 1 60); do curl -fs "$BASE/ready" >/dev/null && break; sleep 0.5; done
curl -fs "$BASE/ready" >/dev/null || { cat "$WORK/server.log"; exit 1; }

post() { # path body: the operator's POST, answering the body
  curl -fs -X POST "$BASE$1" -H "Authorization: Bearer $OPERATOR" \
    -H 'Content-Type: application/json' -d "$2"
}
field() { python3 -c "import json, sys; print(json.load(sys.stdin)['$1'])"; }
HOLDER="$(post /v1/holders/11010519491231002X/tokens '{}' | field token)"
AGENCY="$(post /v1/agencies '{"uscc": "11220000013544541J", "name": "Schemathesis agency",
  "jurisdiction": "22", "scopes": ["verify", "applications", "read"]}' | field apiKey)"

run() { # label token max-examples [filters…]
  local label="$1" token="$2" examples="$3"
  shift 3
  printf '\n== schemathesis: %s (%s)\n' "$label" "$(date +%T)"
  st --config-file .ci/schemathesis.toml run "$BASE/openapi.json" --checks all \
    -H "Authorization: Bearer $token" --max-examples "$examples" --workers 1 \
    --seed 19 --no-color "$@"
}
run operator "$OPERATOR" "$MAX_EXAMPLES"
run holder "$HOLDER" "$((MAX_EXAMPLES / 2))" \
  --include-path-regex '^/v1/(holder/|consents|presentations)'
run agency "$AGENCY" "$((MAX_EXAMPLES / 2))" \
  --include-path-regex '^/v1/(agency/|applications|verify)'
