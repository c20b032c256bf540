#!/usr/bin/env bash
# A throwaway PostgreSQL cluster and Redis server on loopback ports, for the test suite.
#   scripts/services.sh start   installs them from Debian when missing, starts them, prints env
#   scripts/services.sh stop    stops them and removes their folder
# Runs as an unprivileged user (postgres when started by root); data lives in a temp folder.
set -euo pipefail

STATE=${SERVICES_DIR:-/tmp/admin-center-services}
PG_PORT=${PG_PORT:-55432}
REDIS_PORT=${REDIS_PORT:-56379}

as_service_user() {
  if [ "$(id -u)" -eq 0 ]; then runuser -u postgres -- "$@"; else "$@"; fi
}

start() {
  bash "$(dirname "${BASH_SOURCE[0]}")/apt-install.sh" "database services" postgresql redis-server
  stop >/dev/null 2>&1 || true
  local pg_bin
  pg_bin=$(ls -d /usr/lib/postgresql/*/bin | sort -V | tail -n 1)
  mkdir -p "$STATE"
  chmod 755 "$STATE"
  [ "$(id -u)" -eq 0 ] && chown postgres "$STATE"
  as_service_user "$pg_bin/initdb" -D "$STATE/pg" -U sso --auth=trust -E UTF8 >/dev/null
  as_service_user "$pg_bin/pg_ctl" -D "$STATE/pg" -l "$STATE/pg.log" -w \
    -o "-p $PG_PORT -k $STATE -c listen_addresses=127.0.0.1 -c fsync=off \
        -c synchronous_commit=off -c full_page_writes=off -c max_connections=200" start >/dev/null
  "$pg_bin/createdb" -h 127.0.0.1 -p "$PG_PORT" -U sso sso
  as_service_user redis-server --port "$REDIS_PORT" --bind 127.0.0.1 --save "" \
    --appendonly no --daemonize yes --dir "$STATE" --pidfile "$STATE/redis.pid" \
    --logfile "$STATE/redis.log"
  for _ in $(seq 50); do
    redis-cli -p "$REDIS_PORT" ping >/dev/null 2>&1 && break
    sleep 0.1
  done
  echo "DATABASE_URL=postgres://sso@127.0.0.1:$PG_PORT/sso"
  echo "CACHE_URL=redis://127.0.0.1:$REDIS_PORT/0"
}

stop() {
  local pg_bin
  pg_bin=$(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -n 1)
  if [ -n "$pg_bin" ] && [ -f "$STATE/pg/postmaster.pid" ]; then
    as_service_user "$pg_bin/pg_ctl" -D "$STATE/pg" -m fast -w stop >/dev/null || true
  fi
  if [ -f "$STATE/redis.pid" ]; then
    kill "$(cat "$STATE/redis.pid")" 2>/dev/null || true
  fi
  rm -rf "$STATE"
}

case "${1:-}" in
  start) start ;;
  stop) stop ;;
  *) echo "usage: $0 start|stop" >&2; exit 2 ;;
esac
