#!/usr/bin/env bash
# Run the whole test suite against real PostgreSQL and Redis (ensure-services.sh ran before).
# Extra arguments go to pytest, e.g. scripts/run-tests.sh tests/unit -k artifacts
set -uo pipefail
cd "$(dirname "$0")/.."
VENV=${VENV:-.venv}
PY="$VENV/bin/python"

# Test databases are created by a role that may create databases. Use 'postgres' over TCP when
# trust auth allows it; otherwise make a dedicated role with a password (needs root or sudo).
if ! psql -w -h 127.0.0.1 -U postgres -d postgres -tAc 'select 1' >/dev/null 2>&1; then
  export PULP_TEST_DB_USER=${PULP_TEST_DB_USER:-pulptest}
  export PULP_TEST_DB_PASSWORD=${PULP_TEST_DB_PASSWORD:-pulptest-local-only}
  "$PY" -c "import sys; sys.path.insert(0, 'scripts'); import pgadmin; \
pgadmin.ensure_role('$PULP_TEST_DB_USER', '$PULP_TEST_DB_PASSWORD', superuser=True)" || exit 1
fi
export PULP_TEST_PREFIX=${PULP_TEST_PREFIX:-pulpci}

"$PY" -m pytest -p no:cacheprovider "${@:-tests}"
rc=$?
if [ "$rc" = 5 ]; then
  echo "run-tests: pytest collected no tests" >&2
  exit 1
fi
exit "$rc"
