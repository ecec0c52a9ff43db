#!/usr/bin/env bash
# Installs PostgreSQL's server binaries for the PostgreSQL tests, when they
# are missing. The tests start (and stop) a throwaway cluster themselves;
# nothing is started here. With FOLLOW_TEST_POSTGRES_URL set, the tests use
# that server instead and nothing is installed.
set -euo pipefail
if [[ -n "${FOLLOW_TEST_POSTGRES_URL:-}" ]]; then
  exit 0
fi
if compgen -G "/usr/lib/postgresql/*/bin/initdb" >/dev/null; then
  exit 0
fi
if [[ "$(id -u)" != 0 ]]; then
  echo "postgres.sh: PostgreSQL is not installed and this is not root:" >&2
  echo "  install it (apt-get install -y postgresql) or set FOLLOW_TEST_POSTGRES_URL" >&2
  exit 1
fi
echo "postgres.sh: installing PostgreSQL (apt-get)" >&2
export DEBIAN_FRONTEND=noninteractive
apt-get update -qq
apt-get install -y -qq --no-install-recommends postgresql >/dev/null
compgen -G "/usr/lib/postgresql/*/bin/initdb" >/dev/null
