#!/usr/bin/env bash
# PostgreSQL primary + synchronous streaming standby on one machine, with a WAL archive and point-in-time
# recovery (docs/operations.md, "PostgreSQL standby, failover and point-in-time recovery").
#
#   scripts/pg-standby.sh setup              initdb the primary, start it, clone the standby, start it, make it
#                                            synchronous, take the first base backup for point-in-time recovery
#   scripts/pg-standby.sh start | stop       start or stop both clusters (stop: fast shutdown)
#   scripts/pg-standby.sh stop DIR           stop the cluster in DIR (a recovered copy)
#   scripts/pg-standby.sh status             role, replication state and WAL archive of each cluster
#   scripts/pg-standby.sh promote            failover: promote the standby and fence the old primary
#   scripts/pg-standby.sh rejoin             rebuild the fenced node as the new primary's synchronous standby
#   scripts/pg-standby.sh basebackup         take a fresh base backup (the starting point of recovery)
#   scripts/pg-standby.sh archive-cleanup    delete the archived WAL older than the base backup needs
#   scripts/pg-standby.sh pitr DIR [TIME]    recover the latest base backup + archived WAL into a new cluster in
#                                            DIR, up to TIME ('2026-03-02 16:05:00-06') or to the end of the
#                                            archive, and start it on PITR_PORT
#
# Settings (environment): PG_STANDBY_DIR (default /var/lib/licita/pg), PRIMARY_PORT (5433), STANDBY_PORT
# (5434), PITR_PORT (5435), PG_BIN (default: the newest /usr/lib/postgresql/*/bin). Clusters listen on
# 127.0.0.1 only, with trust authentication for the postgres user on loopback: put a password (scram-sha-256
# in pg_hba.conf) before anything but this machine can reach them. Run as root (commands run as the postgres
# user through runuser) or as postgres.
set -euo pipefail

B="${PG_STANDBY_DIR:-/var/lib/licita/pg}"
PRIMARY_PORT="${PRIMARY_PORT:-5433}"
STANDBY_PORT="${STANDBY_PORT:-5434}"
PITR_PORT="${PITR_PORT:-5435}"
BIN="${PG_BIN:-$(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -1)}"
APP=standby1

die() { echo "pg-standby: $*" >&2; exit 1; }
[ -x "$BIN/pg_ctl" ] || die "no PostgreSQL server binaries in '$BIN' (set PG_BIN)"

# Run a command as the postgres user (directly when we are postgres already).
as_pg() {
  if [ "$(id -u)" = 0 ]; then runuser -u postgres -- "$@"; else "$@"; fi
}
psql_at() {  # psql_at PORT SQL...: one statement per -c, unaligned output
  local port=$1; shift
  local args=()
  for sql in "$@"; do args+=(-c "$sql"); done
  as_pg "$BIN/psql" -X -q -At -h 127.0.0.1 -p "$port" -U postgres -d postgres "${args[@]}"
}
postmaster_pid() { [ -f "$1/postmaster.pid" ] && head -1 "$1/postmaster.pid"; }
running() {  # running DATA: its postmaster is alive (a killed one may linger as a zombie: that is not running)
  local pid
  pid=$(postmaster_pid "$1") || return 1
  [ -r "/proc/$pid/stat" ] && [ "$(awk '{ print $3 }' "/proc/$pid/stat" 2>/dev/null)" != Z ] \
    && as_pg "$BIN/pg_ctl" -D "$1" status >/dev/null 2>&1
}
own_dir() {  # create a folder the postgres user owns
  mkdir -p "$1"
  if [ "$(id -u)" = 0 ]; then chown postgres:postgres "$1"; fi
  chmod 700 "$1"
}
start_cluster() {  # start_cluster DATA LOG
  if running "$1"; then echo "$(basename "$1"): already running"; return; fi
  as_pg "$BIN/pg_ctl" -D "$1" -l "$2" -w -t 60 start >/dev/null || { tail -20 "$2" >&2; die "$1 did not start"; }
  echo "$(basename "$1"): started"
}
stop_cluster() {  # stop_cluster DATA
  if running "$1"; then as_pg "$BIN/pg_ctl" -D "$1" -m fast -w -t 60 stop >/dev/null; echo "$(basename "$1"): stopped"; fi
}
base_backup() {  # base_backup: a fresh copy of the primary (whichever cluster is not in recovery) in $B/base
  local port
  port=$(current_primary_port) || die "no running primary to take a base backup from"
  rm -rf "$B/base.new"
  as_pg "$BIN/pg_basebackup" -h 127.0.0.1 -p "$port" -U postgres -D "$B/base.new" -X stream -c fast --no-sync
  as_pg sync
  rm -rf "$B/base"
  mv "$B/base.new" "$B/base"
  date -u +%Y-%m-%dT%H:%M:%SZ | as_pg tee "$B/base/licita-base-backup-taken-at" >/dev/null
  echo "base backup: $B/base (from port $port)"
}
current_primary_port() {
  local port
  for port in "$PRIMARY_PORT" "$STANDBY_PORT"; do
    if [ "$(psql_at "$port" "SELECT pg_is_in_recovery()" 2>/dev/null)" = "f" ]; then echo "$port"; return 0; fi
  done
  return 1
}

make_synchronous() {  # make_synchronous PRIMARY_PORT: commits wait for the standby; wait until it is in sync
  # ALTER SYSTEM cannot run inside the implicit transaction of a multi-statement -c: one -c each.
  psql_at "$1" "ALTER SYSTEM SET synchronous_standby_names = 'FIRST 1 ($APP)'" "SELECT pg_reload_conf()" >/dev/null
  local i
  for i in $(seq 1 100); do
    [ "$(psql_at "$1" "SELECT sync_state FROM pg_stat_replication WHERE application_name = '$APP'")" = "sync" ] && return 0
    sleep 0.1
  done
  die "the standby did not become synchronous (see the logs in $B)"
}

cmd_setup() {
  [ -e "$B/primary" ] && die "$B/primary exists already: 'stop' and remove $B to start over"
  own_dir "$B"
  as_pg test -w "$B" || die "the postgres user cannot write to $B (are its parent folders searchable by postgres?)"
  own_dir "$B/archive"
  as_pg "$BIN/initdb" -D "$B/primary" -U postgres --auth=trust --data-checksums >/dev/null
  as_pg tee -a "$B/primary/postgresql.conf" >/dev/null <<EOF

# --- licita: primary of a synchronous pair (scripts/pg-standby.sh) ---
listen_addresses = '127.0.0.1'
port = $PRIMARY_PORT
unix_socket_directories = ''  # TCP on loopback only: no socket lock file outlives a killed server
wal_level = replica
synchronous_commit = on
max_wal_senders = 5
wal_keep_size = '256MB'
archive_mode = on
archive_command = 'test ! -f $B/archive/%f && cp %p $B/archive/%f.tmp && sync $B/archive/%f.tmp && mv $B/archive/%f.tmp $B/archive/%f'
archive_timeout = 60
fsync = on
full_page_writes = on
EOF
  echo "host replication postgres 127.0.0.1/32 trust" | as_pg tee -a "$B/primary/pg_hba.conf" >/dev/null
  start_cluster "$B/primary" "$B/primary.log"
  as_pg "$BIN/pg_basebackup" -h 127.0.0.1 -p "$PRIMARY_PORT" -U postgres -D "$B/standby" -R -X stream -c fast
  # -R wrote a primary_conninfo without our application_name into postgresql.auto.conf (which wins): ours instead.
  as_pg sed -i '/^primary_conninfo/d' "$B/standby/postgresql.auto.conf"
  as_pg tee -a "$B/standby/postgresql.conf" >/dev/null <<EOF

# --- licita: the synchronous standby ---
port = $STANDBY_PORT
primary_conninfo = 'host=127.0.0.1 port=$PRIMARY_PORT user=postgres application_name=$APP'
hot_standby = on
EOF
  start_cluster "$B/standby" "$B/standby.log"
  make_synchronous "$PRIMARY_PORT"
  echo "primary: 127.0.0.1:$PRIMARY_PORT, synchronous standby: 127.0.0.1:$STANDBY_PORT, archive: $B/archive"
  base_backup
}

cmd_start() {
  [ -d "$B/primary" ] && start_cluster "$B/primary" "$B/primary.log"
  [ -d "$B/standby" ] && start_cluster "$B/standby" "$B/standby.log"
  return 0
}

cmd_stop() {
  local d order="primary standby"
  if [ -n "${1:-}" ]; then stop_cluster "$1"; return 0; fi  # one cluster, e.g. a recovered copy
  # The primary first and the standby last, so that the standby receives everything the primary wrote.
  if running "$B/standby" && [ "$(psql_at "$STANDBY_PORT" "SELECT pg_is_in_recovery()" 2>/dev/null)" = f ]; then
    order="standby primary"
  fi
  for d in $order; do [ -d "$B/$d" ] && stop_cluster "$B/$d"; done
  return 0
}

cmd_status() {
  local name data port role
  for name in primary standby; do
    data="$B/$name"
    port=$(port_of "$name")
    if [ ! -d "$data" ]; then echo "$name: absent ($data)"; continue; fi
    if ! running "$data"; then echo "$name: stopped (port $port)"; continue; fi
    role=$(psql_at "$port" "SELECT CASE WHEN pg_is_in_recovery() THEN 'standby' ELSE 'primary' END")
    echo "$name (folder $data): running on 127.0.0.1:$port as $role"
    if [ "$role" = primary ]; then
      psql_at "$port" "SELECT '  replica ' || application_name || ': ' || state || ', ' || sync_state || ', replay lag ' || COALESCE(replay_lag::text, '0') FROM pg_stat_replication" \
        "SELECT '  synchronous_standby_names: ' || COALESCE(NULLIF(current_setting('synchronous_standby_names'), ''), '(none: commits do not wait for a standby)')" \
        "SELECT '  archived: ' || archived_count || ' WAL files, last ' || COALESCE(last_archived_wal, '-') || ', failed ' || failed_count FROM pg_stat_archiver"
    else
      psql_at "$port" "SELECT '  receiving from the primary: ' || COALESCE((SELECT status FROM pg_stat_wal_receiver), 'no') || ', replayed up to ' || COALESCE(pg_last_wal_replay_lsn()::text, '-')"
    fi
  done
  echo "archive: $(find "$B/archive" -maxdepth 1 -type f ! -name '*.tmp' 2>/dev/null | wc -l) files in $B/archive"
  [ -f "$B/base/licita-base-backup-taken-at" ] && echo "base backup: $B/base, taken $(cat "$B/base/licita-base-backup-taken-at")"
  return 0
}

port_of() { if [ "$1" = primary ]; then echo "$PRIMARY_PORT"; else echo "$STANDBY_PORT"; fi; }
other_of() { if [ "$1" = primary ]; then echo standby; else echo primary; fi; }

cmd_promote() {
  # The node to promote is the one in recovery (the folder "standby" at first; after a rejoin, maybe "primary").
  local node="" name t0 t1 old
  for name in standby primary; do
    if running "$B/$name" && [ "$(psql_at "$(port_of "$name")" "SELECT pg_is_in_recovery()")" = t ]; then node=$name; break; fi
  done
  [ -n "$node" ] || die "no running standby to promote in $B"
  t0=$(date +%s.%N)
  as_pg "$BIN/pg_ctl" -D "$B/$node" -w -t 60 promote >/dev/null
  t1=$(date +%s.%N)
  # Fence the old primary: stop it if it still runs and move its data aside, so that it can never come back
  # as a second primary. It comes back only as a new standby (rejoin).
  old="$B/$(other_of "$node")"
  if [ -d "$old" ]; then
    if running "$old"; then
      as_pg "$BIN/pg_ctl" -D "$old" -m immediate -w -t 5 stop >/dev/null 2>&1 \
        || kill -9 "$(postmaster_pid "$old")" 2>/dev/null || true
    fi
    mv "$old" "$old.fenced-$(date -u +%Y%m%dT%H%M%SZ)"
  fi
  echo "promoted: 127.0.0.1:$(port_of "$node") ($node) is the primary now (pg_ctl promote took $(awk "BEGIN { printf \"%.2f\", $t1 - $t0 }") s); old primary fenced"
}

cmd_rejoin() {
  # Rebuild the fenced node as the synchronous standby of the current primary (a fresh copy, no pg_rewind).
  local node="" name port
  for name in primary standby; do
    if running "$B/$name" && [ "$(psql_at "$(port_of "$name")" "SELECT pg_is_in_recovery()")" = f ]; then node=$name; break; fi
  done
  [ -n "$node" ] || die "no running primary in $B"
  name=$(other_of "$node")
  [ -e "$B/$name" ] && die "$B/$name exists: only a fenced (moved aside) node can rejoin"
  port=$(port_of "$node")
  as_pg "$BIN/pg_basebackup" -h 127.0.0.1 -p "$port" -U postgres -D "$B/$name" -R -X stream -c fast
  as_pg sed -i '/^primary_conninfo/d;/^synchronous_standby_names/d' "$B/$name/postgresql.auto.conf"
  as_pg tee -a "$B/$name/postgresql.conf" >/dev/null <<EOF

# --- licita: rejoined as the synchronous standby of port $port ---
port = $(port_of "$name")
primary_conninfo = 'host=127.0.0.1 port=$port user=postgres application_name=$APP'
hot_standby = on
EOF
  start_cluster "$B/$name" "$B/$name.log"
  make_synchronous "$port"
  echo "rejoined: 127.0.0.1:$(port_of "$name") ($name) is the synchronous standby of 127.0.0.1:$port"
}

cmd_basebackup() { base_backup; }

cmd_archive_cleanup() {
  # Remove the archived WAL older than what the base backup in $B/base needs (nothing it needs goes).
  local first
  first=$(sed -n 's/^START WAL LOCATION: .* (file \([0-9A-F]\{24\}\))$/\1/p' "$B/base/backup_label" 2>/dev/null)
  [ -n "$first" ] || die "no base backup in $B/base (run: $0 basebackup)"
  as_pg "$BIN/pg_archivecleanup" "$B/archive" "$first"
  echo "archive: kept $first and later ($(find "$B/archive" -maxdepth 1 -type f | wc -l) files)"
}

cmd_pitr() {
  local target="${1:-}" time="${2:-}"
  [ -n "$target" ] || die "usage: pitr DIR [TIME]"
  [ -e "$target" ] && die "$target exists: recovery goes into a new folder"
  [ -f "$B/base/PG_VERSION" ] || die "no base backup in $B/base (run: $0 basebackup)"
  own_dir "$target"
  as_pg cp -a "$B/base/." "$target/"
  rm -f "$target/standby.signal"
  # The recovered copy is a stand-alone server: it waits for no standby, archives nothing, and stops at TIME.
  as_pg sed -i '/synchronous_standby_names/d;/primary_conninfo/d' "$target/postgresql.auto.conf"
  as_pg tee -a "$target/postgresql.conf" >/dev/null <<EOF

# --- licita: point-in-time recovery copy (scripts/pg-standby.sh pitr) ---
port = $PITR_PORT
unix_socket_directories = ''
archive_mode = off
synchronous_standby_names = ''
restore_command = 'cp $B/archive/%f %p'
recovery_target_timeline = 'latest'
EOF
  if [ -n "$time" ]; then
    printf "recovery_target_time = '%s'\nrecovery_target_action = 'promote'\n" "$time" | as_pg tee -a "$target/postgresql.conf" >/dev/null
  fi
  as_pg touch "$target/recovery.signal"
  start_cluster "$target" "$B/$(basename "$target").log"
  local i
  for i in $(seq 1 600); do
    [ "$(psql_at "$PITR_PORT" "SELECT pg_is_in_recovery()" 2>/dev/null)" = "f" ] && break
    sleep 0.1
  done
  [ "$i" -lt 600 ] || die "recovery did not finish in 60 s (see $B/$(basename "$target").log)"
  echo "recovered ${time:+to $time }into $target, running on 127.0.0.1:$PITR_PORT"
}

case "${1:-}" in
  setup) cmd_setup ;;
  start) cmd_start ;;
  stop) shift; cmd_stop "$@" ;;
  status) cmd_status ;;
  promote) cmd_promote ;;
  rejoin) cmd_rejoin ;;
  basebackup) cmd_basebackup ;;
  archive-cleanup) cmd_archive_cleanup ;;
  pitr) shift; cmd_pitr "$@" ;;
  *) sed -n '2,22p' "$0" | sed 's/^# \{0,1\}//'; exit 2 ;;
esac
