#!/usr/bin/env bash
# Sets up (first time) and starts the app on http://localhost:8501. Extra args go to streamlit.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh requirements.txt
# Compile the default views into JAX's persistent cache first: a warm first start.
.venv/bin/python -m playground.warmup
# app_pages.serve = `streamlit` that answers over-long links with the page and a message.
exec .venv/bin/python -m app_pages.serve run app.py "$@"
