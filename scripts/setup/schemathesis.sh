#!/usr/bin/env bash
# Installs schemathesis (pinned) into a virtual environment under target/,
# for scripts/checks/schemathesis.sh. Idempotent: a matching install is kept.
set -euo pipefail
cd "$(dirname "$0")/../.."
VERSION="4.32.5"
VENV="target/schemathesis-venv"
if [[ -x "$VENV/bin/st" ]] && "$VENV/bin/python" -c "import importlib.metadata as m, sys; sys.exit(m.version('schemathesis') != '$VERSION')" 2>/dev/null; then
  exit 0
fi
mkdir -p target
if ! python3 -m venv "$VENV" 2>/dev/null; then
  # Debian's python3 ships venv separately.
  apt-get update -qq && apt-get install -y -qq python3-venv >/dev/null
  rm -rf "$VENV"
  python3 -m venv "$VENV"
fi
"$VENV/bin/pip" install --quiet --disable-pip-version-check "schemathesis==$VERSION"
