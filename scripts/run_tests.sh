#!/usr/bin/env bash
# Sets up (first time) and runs every test, browser tests included. Extra args go to pytest.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh requirements-dev.txt
set +e
.venv/bin/python -m pytest "$@"
status=$?
set -e
exit "$status"
