#!/bin/sh
# Starts or stops the PostgreSQL 15 cluster that one ctest run shares (ctest fixture "postgres";
# see tests/CMakeLists.txt and testing/pg_cluster.h). Usage: pg_cluster.sh start|stop DIR
# The server runs as the postgres user when we are root (initdb refuses root), with trust
# authentication, its unix socket in DIR, no TCP listener, fsync on. Fails loudly when
# PostgreSQL is missing (Debian: postgresql-15, installed by scripts/install-deps.sh).
set -eu
BIN=/usr/lib/postgresql/15/bin
cmd=$1
dir=$2
as_pg() {
  if [ "$(id -u)" -eq 0 ]; then runuser -u postgres -- "$@"; else "$@"; fi
}
case "$cmd" in
  start)
    if [ ! -x "$BIN/initdb" ]; then
      echo "pg_cluster: $BIN/initdb not found: install Debian's postgresql-15 (scripts/install-deps.sh)" >&2
      exit 1
    fi
    if [ -f "$dir/data/postmaster.pid" ]; then as_pg "$BIN/pg_ctl" -D "$dir/data" -m immediate -w stop >/dev/null 2>&1 || true; fi
    rm -rf "$dir"
    mkdir -p "$dir"
    chmod 755 "$dir"
    if [ "$(id -u)" -eq 0 ]; then chown postgres "$dir"; fi
    as_pg "$BIN/initdb" -D "$dir/data" -A trust -U postgres -E UTF8 --locale=C --no-sync >"$dir/initdb.log" 2>&1 ||
      { cat "$dir/initdb.log" >&2; exit 1; }
    as_pg "$BIN/pg_ctl" -D "$dir/data" -l "$dir/server.log" -w -t 60 \
      -o "-k $dir -c listen_addresses='' -c fsync=on -c max_connections=300 -c shared_buffers=64MB" start >/dev/null ||
      { cat "$dir/server.log" >&2; exit 1; }
    psql -X -q -v ON_ERROR_STOP=1 "postgresql:///postgres?host=$dir&user=postgres" -c "CREATE DATABASE vk_tests"
    echo "pg_cluster: PostgreSQL running in $dir"
    ;;
  stop)
    if [ -f "$dir/data/postmaster.pid" ]; then as_pg "$BIN/pg_ctl" -D "$dir/data" -m immediate -w stop >/dev/null; fi
    rm -rf "$dir"
    ;;
  *)
    echo "usage: pg_cluster.sh start|stop DIR" >&2
    exit 2
    ;;
esac
