#!/usr/bin/env bash
# curl, for the gateway's documented examples (run by its tests) and the
# schemathesis check. Idempotent.
set -euo pipefail
if ! command -v curl >/dev/null; then
  apt-get update -qq && apt-get install -y -qq curl >/dev/null
fi
