#!/bin/sh
# Starts the app in the container (deploy/Dockerfile's ENTRYPOINT) on port 8501, all
# addresses, the way scripts/run_app.sh starts it. Extra arguments go to streamlit.
# Refuses the placeholder cookie secret of deploy/k8s/secret.yaml: replicas would then sign
# their cookies with a secret anyone can read in this repository.
set -eu
cd "$(dirname "$0")/.."
if [ "${STREAMLIT_SERVER_COOKIE_SECRET:-}" = "replace-me-with-a-random-secret" ]; then
  echo "entrypoint: STREAMLIT_SERVER_COOKIE_SECRET is still the placeholder of deploy/k8s/secret.yaml." >&2
  echo "Create the secret with a random value (see docs/deploy.md), then restart." >&2
  exit 64
fi
# deploy.lecture exec-app: the start command of scripts/run_app.sh (read from there), exec'd.
exec .venv/bin/python -m deploy.lecture exec-app --server.port 8501 --server.address 0.0.0.0 \
  --server.headless true --server.fileWatcherType none "$@"
