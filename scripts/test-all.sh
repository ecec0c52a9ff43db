#!/usr/bin/env bash
# Every test of the project, installing what the tests need first: the
# README's test command, and the last step of CI.
#   scripts/setup/*.sh   install or start what tests need (idempotent)
#   scripts/checks/*.sh  checks that run after the Rust tests
set -euo pipefail
cd "$(dirname "$0")/.."
shopt -s nullglob
for setup in scripts/setup/*.sh; do
  bash "$setup"
done
cargo test --workspace --locked
for check in scripts/checks/*.sh; do
  bash "$check"
done
