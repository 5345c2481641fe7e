#!/usr/bin/env bash
# Remakes src/routes/openapi_answers.json, the bodies of successful answers in /openapi.json, from
# the answers the API tests actually receive: the tests run (SQLite) while tshark records the
# loopback interface; every 2xx answer is matched to its operation in the current document;
# each operation's JSON bodies give the schema they all satisfy (genson), cut to its outer levels.
# Review the diff before committing it: a field seen in every test answer becomes required.
#   bash tools/openapi-answers/make.sh            (root: tshark captures; installs tshark, genson)
set -euo pipefail
cd "$(dirname "$0")/../.."
here=tools/openapi-answers
command -v tshark >/dev/null || DEBIAN_FRONTEND=noninteractive apt-get install -y tshark
python3 -c 'import genson' 2>/dev/null || python3 -m pip install --quiet 'genson==1.4.0'
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
cargo test --test api --no-run >/dev/null 2>&1
# PostgreSQL's own traffic is left out; every other loopback TCP conversation is a test's HTTP.
tshark -i lo -f 'tcp and not port 5432' -w "$work/api.pcapng" -q 2>/dev/null &
capture=$!
sleep 2
env -u TEST_DATABASE_URL cargo test --test api -- --test-threads 2 >"$work/tests.log" 2>&1 || {
  kill "$capture"; tail -30 "$work/tests.log"; exit 1; }
sleep 1
kill -INT "$capture"; wait "$capture" || true
# The document the answers are matched against: the snapshot the tests keep (its paths).
sed '1,/^---$/d' tests/api/snapshots/api__service__openapi.snap >"$work/openapi.json"
tshark -r "$work/api.pcapng" -d 'tcp.port==1024-65535,http' -Y http -T json \
  -e frame.number -e http.request.method -e http.request.uri -e http.response.code \
  -e http.request_in -e http.content_type -e http.file_data >"$work/packets.json"
python3 "$here/extract.py" "$work/openapi.json" "$work/packets.json" "$work/samples.json"
python3 "$here/schemas.py" "$work/samples.json" src/routes/openapi_answers.json
