#!/usr/bin/env bash
# Sets up (first time) and runs every test, browser tests included. Extra args go to pytest.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh requirements-dev.txt
set +e
# Two workers: the machine has two cores and most tests wait on JAX compiles or the browser.
.venv/bin/python -m pytest -n 2 "$@"
status=$?
set -e
exit "$status"
