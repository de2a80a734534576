#!/usr/bin/env bash
# Sets up (first time) and starts the app on http://localhost:8501. Extra args go to streamlit.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh requirements.txt
exec .venv/bin/python -m streamlit run app.py "$@"
