#!/usr/bin/env bash
# Sets up (first time) and starts the app on http://localhost:8501. Extra args go to streamlit.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh requirements.txt
# app_pages.serve = `streamlit` that answers over-long links with the page and a message, and
# warms up the default views in the background while the server starts. It runs without
# Streamlit's file watcher; pass --server.fileWatcherType auto while editing the app.
exec .venv/bin/python -m app_pages.serve run app.py "$@"
