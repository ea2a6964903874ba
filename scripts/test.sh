#!/usr/bin/env bash
# Sets everything up (see scripts/setup.sh) and runs every check: lint, types, formatting,
# artifact freshness, forge tests and the pytest suite on real anvil chains.
source "$(dirname "$0")/setup.sh"

step() { printf '\n\033[1m== %s\033[0m\n' "$*"; }

# the worker status page is checked in a real browser: Debian's chromium (about 15 s to install)
if ! command -v chromium >/dev/null; then
  if [[ "$(id -u)" == 0 ]] && command -v apt-get >/dev/null; then
    step "installing chromium for the browser test"
    apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends chromium >/dev/null
  else
    echo "chromium not found: the status-page browser test will be skipped (apt-get install chromium)" >&2
  fi
fi
step "ruff";  ruff check . && ruff format --check .
step "mypy";  mypy client/assay worker/assay_worker
step "forge fmt"; forge fmt --check
step "forge test"; forge test
step "pytest"; pytest "$@"
