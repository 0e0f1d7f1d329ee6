#!/usr/bin/env bash
# Instructions the database spends per acquire + release cycle, counted by callgrind in a
# single-user PostgreSQL backend: the same total for the same build whatever else the
# machine does (wall time on a 2-core machine varies by ±20 %). Needs valgrind and
# PostgreSQL 15 (Debian: valgrind, postgresql-15); run as root from the project root after
# `npm run build`.
#   bash bench/instructions/count.sh <schema>...
# installs each schema afresh from this checkout (dropping it first: dead rows and history
# left by earlier runs make every cycle costlier, with no autovacuum in single-user mode), then
# prints per cycle: uncontended (acquire + release) and handoff (a queued request + the
# release that hands it the slot). Per cycle = (total at 1,100 cycles - at 100) / 1,000.
# To compare two commits, run it in a worktree of each with different schema names: both
# use the one cluster in $DATA.
set -euo pipefail
BIN=${PG_BIN:-/usr/lib/postgresql/15/bin}
DATA=${DATA:-/var/lib/pgslots-instructions}
PORT=${PORT:-55499}
here=$(cd "$(dirname "$0")" && pwd)
as_pg() { su postgres -c "cd /tmp && $*"; }
if [ ! -d "$DATA" ]; then
  install -d -o postgres "$DATA"
  as_pg "$BIN/initdb -D $DATA -A trust" >/dev/null
  printf "fsync = off\nsynchronous_commit = off\nport = $PORT\nunix_socket_directories = '/tmp'\n" >>"$DATA/postgresql.conf"
fi
url="postgres://postgres@127.0.0.1:$PORT/postgres"
as_pg "$BIN/pg_ctl -D $DATA -l $DATA/log -w start" >/dev/null
trap 'as_pg "$BIN/pg_ctl -D $DATA -w stop" >/dev/null' EXIT
for s in "$@"; do
  psql -q "$url" -c "DROP SCHEMA IF EXISTS \"$s\" CASCADE" 2>/dev/null
  node dist/src/cli/main.js --database-url "$url" --schema "$s" migrate >/dev/null
  node dist/src/cli/main.js --database-url "$url" --schema "$s" limit create instr-free --slots 100 >/dev/null
  node dist/src/cli/main.js --database-url "$url" --schema "$s" limit create instr-hot --slots 1 >/dev/null
  psql -q "$url" -f "$here/cycles.sql" -c "SELECT public.make_instruction_cycles('$s')" >/dev/null
done
as_pg "$BIN/pg_ctl -D $DATA -w stop" >/dev/null
trap - EXIT
total() { # <procedure> <n>: instructions of a single-user backend running it
  local out=$DATA/callgrind.out
  echo "CALL public.$1($2);" | as_pg "valgrind --tool=callgrind --callgrind-out-file=$out $BIN/postgres --single -D $DATA postgres" >"$DATA/single.log" 2>&1
  if grep -q ERROR "$DATA/single.log"; then grep -A2 ERROR "$DATA/single.log" >&2; exit 1; fi
  awk '/^(summary|totals):/ { print $2; exit }' "$out"
}
for s in "$@"; do
  for p in cycles handoffs; do
    a=$(total "${p}_$s" 100); b=$(total "${p}_$s" 1100)
    echo "$s $p $(( (b - a) / 1000 )) instructions per cycle"
  done
done
