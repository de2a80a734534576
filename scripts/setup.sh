#!/usr/bin/env bash
# Creates .venv and installs the given requirements file (default: requirements.txt).
# Installs Debian's Chromium (for PNG/SVG/PDF export and the browser tests) when missing.
set -euo pipefail
cd "$(dirname "$0")/.."
requirements="${1:-requirements.txt}"

if ! command -v chromium >/dev/null 2>&1; then
  if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then
    echo "Installing Debian's Chromium (figure export, browser tests)..."
    apt-get update -qq
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium fonts-dejavu-core fonts-noto-color-emoji >/dev/null
  else
    echo "Chromium not found: image export will be unavailable (run: sudo apt-get install chromium)."
  fi
fi

if [ ! -x .venv/bin/python ]; then
  python3 -m venv .venv
fi
.venv/bin/python -m pip install -q --disable-pip-version-check -r "$requirements"
