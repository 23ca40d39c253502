#!/usr/bin/env bash
# Makes sure the local PostgreSQL accepts connections on 127.0.0.1:5432 and has the
# database the PostgreSQL test run connects to ("test"); starts the cluster if it
# is down. Usage: scripts/ensure-postgres.sh [DATABASE]
set -euo pipefail

host=127.0.0.1
port=5432
database=${1:-test}

if ! pg_isready -q -h "$host" -p "$port"; then
  version=$(ls /etc/postgresql | sort -V | tail -n 1)
  echo "starting PostgreSQL $version"
  pg_ctlcluster --skip-systemctl-redirect "$version" main start
  for _ in $(seq 1 30); do
    pg_isready -q -h "$host" -p "$port" && break
    sleep 1
  done
  pg_isready -h "$host" -p "$port"
fi

exists=$(psql -h "$host" -p "$port" -U postgres -d postgres -tAc \
  "SELECT 1 FROM pg_database WHERE datname = '$database'")
if [[ "$exists" != "1" ]]; then
  echo "creating PostgreSQL database $database"
  createdb -h "$host" -p "$port" -U postgres "$database"
fi
