#!/usr/bin/env bash
# Make sure PostgreSQL and Redis answer on 127.0.0.1: start them if installed, install them with
# apt if missing and we are root, otherwise say exactly what to do.
set -euo pipefail

PGHOST=${PULP_PGHOST:-127.0.0.1}
PGPORT=${PULP_PGPORT:-5432}
REDIS_PORT=${PULP_REDIS_PORT:-6379}

say() { echo "services: $*"; }
is_root() { [ "$(id -u)" = 0 ]; }

pg_up() {
  if command -v pg_isready >/dev/null 2>&1; then
    pg_isready -q -h "$PGHOST" -p "$PGPORT"
  else
    (exec 3<>"/dev/tcp/$PGHOST/$PGPORT") 2>/dev/null
  fi
}
redis_up() {
  if command -v redis-cli >/dev/null 2>&1; then
    [ "$(redis-cli -h 127.0.0.1 -p "$REDIS_PORT" ping 2>/dev/null)" = PONG ]
  else
    (exec 3<>"/dev/tcp/127.0.0.1/$REDIS_PORT") 2>/dev/null
  fi
}
wait_up() { for _ in $(seq 1 60); do "$1" && return 0; sleep 0.5; done; return 1; }

apt_install() {
  if ! is_root || ! command -v apt-get >/dev/null 2>&1; then
    return 1
  fi
  say "installing $* with apt-get"
  DEBIAN_FRONTEND=noninteractive apt-get update -qq
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "$@" >/dev/null
}

start_pg() {
  if command -v systemctl >/dev/null 2>&1 && [ -d /run/systemd/system ]; then
    systemctl start postgresql && return 0
  fi
  if command -v pg_ctlcluster >/dev/null 2>&1; then
    for ver in $(ls /etc/postgresql 2>/dev/null); do
      pg_ctlcluster --skip-systemctl-redirect "$ver" main start 2>/dev/null || \
        pg_ctlcluster "$ver" main start 2>/dev/null || true
    done
    return 0
  fi
  return 1
}

start_redis() {
  if command -v systemctl >/dev/null 2>&1 && [ -d /run/systemd/system ]; then
    systemctl start redis-server && return 0
  fi
  if command -v redis-server >/dev/null 2>&1; then
    mkdir -p /var/lib/redis /var/log/redis 2>/dev/null || true
    redis-server --daemonize yes --bind 127.0.0.1 --port "$REDIS_PORT" --save "" \
      --appendonly no --dir "${TMPDIR:-/tmp}" --logfile "${TMPDIR:-/tmp}/pulp-redis.log"
    return 0
  fi
  return 1
}

if pg_up; then
  say "PostgreSQL answers on $PGHOST:$PGPORT"
else
  if ! command -v pg_ctlcluster >/dev/null 2>&1 && ! command -v postgres >/dev/null 2>&1; then
    apt_install postgresql || {
      echo "error: PostgreSQL is not installed. Run: sudo apt-get install postgresql" >&2; exit 1; }
  fi
  start_pg || true
  wait_up pg_up || {
    echo "error: PostgreSQL does not answer on $PGHOST:$PGPORT; start it (sudo systemctl start postgresql)" >&2
    exit 1; }
  say "PostgreSQL started"
fi

if redis_up; then
  say "Redis answers on 127.0.0.1:$REDIS_PORT"
else
  if ! command -v redis-server >/dev/null 2>&1; then
    apt_install redis-server || {
      echo "error: Redis is not installed. Run: sudo apt-get install redis-server" >&2; exit 1; }
  fi
  start_redis || true
  wait_up redis_up || {
    echo "error: Redis does not answer on 127.0.0.1:$REDIS_PORT; start it (sudo systemctl start redis-server)" >&2
    exit 1; }
  say "Redis started"
fi

# --test-tools (make test, make bench): nginx, which tests and benchmarks run as a plain process of
# their own in front of the stack, and wrk for the benchmarks.
if [ "${1:-}" = --test-tools ]; then
  missing=()
  command -v nginx >/dev/null 2>&1 || [ -x /usr/sbin/nginx ] || missing+=(nginx)
  command -v wrk >/dev/null 2>&1 || missing+=(wrk)
  if [ ${#missing[@]} -gt 0 ]; then
    # The package's own nginx service is not wanted (and port 80 may be taken): keep it stopped.
    if is_root && [ ! -e /usr/sbin/policy-rc.d ]; then
      printf '#!/bin/sh\nexit 101\n' > /usr/sbin/policy-rc.d && chmod +x /usr/sbin/policy-rc.d
      trap 'rm -f /usr/sbin/policy-rc.d' EXIT
    fi
    apt_install "${missing[@]}" || {
      echo "error: ${missing[*]} not installed. Run: sudo apt-get install ${missing[*]}" >&2; exit 1; }
  fi
  say "nginx and wrk are installed"
fi
