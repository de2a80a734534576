#!/usr/bin/env bash
# Creates .venv and installs the given requirements file (default: requirements.txt).
# Installs Debian's Chromium (for PNG/SVG/PDF export and the browser tests) and HAProxy (the
# load balancer of scripts/run_lecture.sh) when missing. Idempotent: installs only what is
# missing, and runs apt-get only when something is.
set -euo pipefail
cd "$(dirname "$0")/.."
requirements="${1:-requirements.txt}"

missing=()
if ! command -v chromium >/dev/null 2>&1; then
  missing+=(chromium fonts-dejavu-core fonts-noto-color-emoji)
fi
# /usr/sbin is not on every user's PATH: look there too.
if ! command -v haproxy >/dev/null 2>&1 && [ ! -x /usr/sbin/haproxy ]; then
  missing+=(haproxy)
fi
# The browser tests' accessibility check takes axe-core from the npm registry (dev setup only).
dev_tools=false
[ "$(basename "$requirements")" = "requirements-dev.txt" ] && dev_tools=true
if "$dev_tools" && ! command -v npm >/dev/null 2>&1; then
  missing+=(npm)
fi
if [ "${#missing[@]}" -gt 0 ]; then
  if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then
    echo "Installing from Debian: ${missing[*]} (Chromium: image export, browser tests; HAProxy: lectures; npm: the accessibility test)..."
    apt-get update -qq
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${missing[@]}" >/dev/null
  else
    echo "Not installed: ${missing[*]}. Chromium is needed for image export, HAProxy for"
    echo "scripts/run_lecture.sh, npm for the accessibility tests (run: sudo apt-get install ${missing[*]})."
  fi
fi

if [ ! -x .venv/bin/python ]; then
  python3 -m venv .venv
fi
# pip only when the requirements changed since the last successful install (a stamp of their
# contents, the files they include with -r too): a start of an installed app skips ~3 s of pip.
stamp=".venv/.installed-$(basename "$requirements").sha256"
files=("$requirements")
while read -r included; do files+=("$(dirname "$requirements")/$included"); done \
  < <(sed -n 's/^-r[[:space:]]*//p' "$requirements")
digest="$(cat "${files[@]}" | sha256sum | cut -d' ' -f1)"
if [ ! -f "$stamp" ] || [ "$(cat "$stamp")" != "$digest" ]; then
  .venv/bin/python -m pip install -q --disable-pip-version-check -r "$requirements"
  echo "$digest" > "$stamp"
fi

# Test tools from the npm registry (axe-core, injected into the pages by the accessibility test):
# installed from tests/e2e/npm's lock file into .venv/npm (git ignores .venv), again only when the
# lock file changed.
if "$dev_tools"; then
  npm_src=tests/e2e/npm
  npm_stamp=".venv/.installed-npm.sha256"
  npm_digest="$(cat "$npm_src/package.json" "$npm_src/package-lock.json" | sha256sum | cut -d' ' -f1)"
  if [ ! -f "$npm_stamp" ] || [ "$(cat "$npm_stamp")" != "$npm_digest" ] \
    || [ ! -f .venv/npm/node_modules/axe-core/axe.min.js ]; then
    mkdir -p .venv/npm
    cp "$npm_src/package.json" "$npm_src/package-lock.json" .venv/npm/
    (cd .venv/npm && npm ci --no-audit --no-fund --loglevel=error)
    echo "$npm_digest" > "$npm_stamp"
  fi
fi
