#!/usr/bin/env bash
# Database faults under submissions, against the release binary (`elicence bench db-faults`):
#   1. PostgreSQL unreachable: the service reaches the shared server through a proxy that the
#      harness cuts and restores (the server itself is untouched);
#   2. PostgreSQL restarted: a private server (initdb + pg_ctl, its own port and directory) is
#      stopped and started again under the service;
#   3. SQLite disk full: the data directory on a small tmpfs whose free space is filled, then
#      freed; PRAGMA integrity_check afterwards.
# Parts 2 and 3 need root (runuser to the postgres user; mount).
#   usage: bash benches/db_faults.sh [down seconds]   (builds the release binary first)
set -euo pipefail
cd "$(dirname "$0")/.."
down=${1:-5}s
cargo build --release --quiet
bin=$PWD/target/release/elicence
admin=${TEST_DATABASE_URL:-postgres://postgres@127.0.0.1:5432/postgres}

echo "== PostgreSQL unreachable (proxy cut for $down)"
"$bin" bench db-faults --fault unreachable --down "$down" --database-url "$admin"

echo "== PostgreSQL restarted (private server, down for $down)"
pgbin=$(ls -d /usr/lib/postgresql/*/bin | sort -V | tail -1)
pgdir=$(mktemp -d)
port=${PRIVATE_PG_PORT:-55433}
chown postgres "$pgdir"
as_pg() { runuser -u postgres -- "$@"; }
as_pg "$pgbin/initdb" -D "$pgdir/data" -A trust -U postgres >/dev/null
start="$pgbin/pg_ctl -D $pgdir/data -o '-p $port -k $pgdir' -l $pgdir/log -w start"
as_pg sh -c "$start" >/dev/null
mnt=$(mktemp -d)
cleanup() {
  as_pg "$pgbin/pg_ctl" -D "$pgdir/data" -m immediate stop >/dev/null 2>&1 || true
  rm -rf "$pgdir"
  umount "$mnt" 2>/dev/null || true
  rmdir "$mnt" 2>/dev/null || true
}
trap cleanup EXIT
"$bin" bench db-faults --fault restart --down "$down" \
  --database-url "postgres://postgres@127.0.0.1:$port/postgres" \
  --down-cmd "runuser -u postgres -- $pgbin/pg_ctl -D $pgdir/data -m fast -w stop >/dev/null" \
  --up-cmd "runuser -u postgres -- sh -c \"$start\" >/dev/null"

echo "== SQLite disk full (64 MB tmpfs, full for $down)"
mount -t tmpfs -o size=64m tmpfs "$mnt"
"$bin" bench db-faults --fault disk-full --down "$down" --data-dir "$mnt"
