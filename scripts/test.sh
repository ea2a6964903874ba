#!/usr/bin/env bash
# Sets everything up (see scripts/setup.sh) and runs every check: lint, types, formatting,
# artifact freshness, forge tests and the pytest suite on real anvil chains.
source "$(dirname "$0")/setup.sh"

step() { printf '\n\033[1m== %s\033[0m\n' "$*"; }
step "ruff";  ruff check . && ruff format --check .
step "mypy";  mypy client/assay worker/assay_worker
step "forge fmt"; forge fmt --check
step "forge test"; forge test
step "pytest"; pytest "$@"
