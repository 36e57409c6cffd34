#!/usr/bin/env bash
# Run the whole suite on SQLite and on PostgreSQL.
# Under CI=true the PostgreSQL run is mandatory: a missing server fails the run loudly.
#
# With two or more CPUs the two runs go side by side (most of their time is spent waiting on fsync, the
# database server and the subprocesses of the fault tests): the SQLite run prints as it goes, the PostgreSQL
# run's output is kept in a file and printed when it ends. LICITA_TEST_SERIAL=1 runs them one after the other.
set -euo pipefail
cd "$(dirname "$0")/.."
BIN=.venv/bin
PG_URL="${LICITA_TEST_PG_URL:-postgres://postgres@127.0.0.1:5432/postgres}"

pg_reachable() {
  "$BIN/python" - "$PG_URL" <<'PY'
import sys, psycopg
try:
    psycopg.connect(sys.argv[1].replace("postgres://", "postgresql://", 1), connect_timeout=5).close()
except Exception as exc:
    print(f"PostgreSQL is not reachable: {exc}", file=sys.stderr)
    sys.exit(1)
PY
}

sqlite_run() { env -u LICITA_DATABASE_URL "$BIN/python" -m pytest -q "$@"; }
pg_run() { LICITA_DATABASE_URL="$PG_URL" "$BIN/python" -m pytest -q -p no:cacheprovider "$@"; }

PG=yes
if ! pg_reachable; then
  if [ "${CI:-}" = "true" ]; then
    echo "FAIL: CI=true and PostgreSQL is not reachable at $PG_URL; the PostgreSQL run is mandatory." >&2
    exit 1
  fi
  echo "WARNING: PostgreSQL not reachable; the PostgreSQL run will NOT be done (it is mandatory under CI=true)." >&2
  PG=no
fi

CPUS="$(nproc 2>/dev/null || echo 1)"
if [ "$PG" = yes ] && [ "${LICITA_TEST_SERIAL:-}" != "1" ] && [ "$CPUS" -ge 2 ]; then
  LOG="$(mktemp -t licita-test-pg.XXXXXX)"
  echo "== PostgreSQL ($PG_URL): running in the background, output in $LOG, printed at the end =="
  pg_run "$@" >"$LOG" 2>&1 &
  PG_PID=$!
  trap 'kill "$PG_PID" 2>/dev/null || true' INT TERM
  echo "== SQLite =="
  SQLITE_RC=0
  sqlite_run "$@" || SQLITE_RC=$?
  echo "== PostgreSQL ($PG_URL): waiting for the run to end =="
  PG_RC=0
  wait "$PG_PID" || PG_RC=$?
  cat "$LOG"
  rm -f "$LOG"
  echo "== SQLite exit status $SQLITE_RC, PostgreSQL exit status $PG_RC =="
  [ "$SQLITE_RC" -eq 0 ] && [ "$PG_RC" -eq 0 ]
  exit $?
fi

echo "== SQLite =="
sqlite_run "$@"
if [ "$PG" = yes ]; then
  echo "== PostgreSQL ($PG_URL) =="
  pg_run "$@"
fi
