#!/usr/bin/env bash
# Sets everything up (see scripts/setup.sh), then runs the end-to-end demo on a local chain.
source "$(dirname "$0")/setup.sh"
exec python scripts/demo.py "$@"
