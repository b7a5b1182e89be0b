#!/usr/bin/env bash
# Start (or stop) a throw-away PostgreSQL 15 on loopback as the postgres user.
#   .ci/pg.sh start DIR PORT   prints the URL of a fresh database "collectdesk"
#   .ci/pg.sh stop DIR
# PG_OPTS adds server settings (e.g. PG_OPTS="-c shared_buffers=4GB -c max_wal_size=8GB" for
# the benches of a million accounts; bench/README.md says which ran with what).
set -euo pipefail
PGBIN=${PGBIN:-/usr/lib/postgresql/15/bin}
cmd=$1 dir=$2
run_as_pg() { if [ "$(id -u)" = 0 ]; then runuser -u postgres -- "$@"; else "$@"; fi; }
case $cmd in
start)
  port=${3:-55432}
  if [ ! -x "$PGBIN/initdb" ]; then
    apt-get update -qq >/dev/null && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq postgresql-15 >/dev/null
  fi
  if [ "$(id -u)" = 0 ] && ! id postgres >/dev/null 2>&1; then useradd --system --no-create-home postgres; fi
  mkdir -p "$dir"
  [ "$(id -u)" = 0 ] && chown postgres "$dir"
  chmod 700 "$dir"
  run_as_pg "$PGBIN/initdb" -D "$dir/data" -U postgres -A trust -E UTF8 --locale=C.UTF-8 >/dev/null
  run_as_pg "$PGBIN/pg_ctl" -D "$dir/data" -l "$dir/log" -w \
    -o "-c listen_addresses=127.0.0.1 -p $port -k $dir -c fsync=off -c synchronous_commit=off -c full_page_writes=off -c max_connections=200 ${PG_OPTS:-}" start >/dev/null
  run_as_pg "$PGBIN/createdb" -h 127.0.0.1 -p "$port" -U postgres collectdesk
  echo "postgresql://postgres@127.0.0.1:$port/collectdesk"
  ;;
stop)
  run_as_pg "$PGBIN/pg_ctl" -D "$dir/data" -m fast -w stop >/dev/null || true
  ;;
esac
