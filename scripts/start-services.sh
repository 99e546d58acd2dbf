#!/usr/bin/env bash
# Starts the machine's Redis (127.0.0.1:6379) and PostgreSQL (127.0.0.1:5432) when they
# are not answering. Used by CI; harmless when both already run.
set -euo pipefail

if ! redis-cli -h 127.0.0.1 -p 6379 ping >/dev/null 2>&1; then
  echo "starting redis-server on 127.0.0.1:6379"
  mkdir -p /var/lib/redis /var/log/redis
  redis-server --daemonize yes --bind 127.0.0.1 -::1 --port 6379 --save "" --appendonly no \
    --dir /var/lib/redis --logfile /var/log/redis/ci.log
  for _ in $(seq 1 50); do redis-cli -h 127.0.0.1 -p 6379 ping >/dev/null 2>&1 && break; sleep 0.1; done
fi
redis-cli -h 127.0.0.1 -p 6379 ping >/dev/null && echo "redis: up"

if ! pg_isready -h 127.0.0.1 -p 5432 -q; then
  version=$(ls /etc/postgresql | sort -V | tail -n 1)
  if [ -z "$version" ] || ! pg_lsclusters -h | grep -q "^$version main"; then
    echo "creating PostgreSQL cluster $version/main"
    pg_createcluster "${version:-15}" main
    version=$(ls /etc/postgresql | sort -V | tail -n 1)
  fi
  echo "starting PostgreSQL $version/main"
  pg_ctlcluster --skip-systemctl-redirect "$version" main start
  for _ in $(seq 1 100); do pg_isready -h 127.0.0.1 -p 5432 -q && break; sleep 0.1; done
fi
pg_isready -h 127.0.0.1 -p 5432 -q && echo "postgresql: up"

# Trust auth for local TCP, as on the development machines; the tests create and drop
# their own database (wuzctl_test_*) and never touch others.
if ! psql -h 127.0.0.1 -U postgres -d postgres -tAc 'select 1' >/dev/null 2>&1; then
  echo "warning: cannot connect to PostgreSQL as postgres over TCP without a password" >&2
fi
