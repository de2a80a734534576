#!/usr/bin/env bash
# A lecture: N app processes behind HAProxy on one machine. Ctrl-C stops everything.
#
#   bash scripts/run_lecture.sh [--replicas N] [--port P] [--bind ADDR] [--replica-port B]
#                               [--run-dir DIR] [--no-setup] [-- STREAMLIT FLAGS...]
#
#   --replicas N      app processes (default: the machine's cores, `nproc`)
#   --port P          where students connect (default 8501); HAProxy listens there
#   --bind ADDR       HAProxy's address (default 0.0.0.0: the whole network; 127.0.0.1: this
#                     machine only). The app processes always listen on 127.0.0.1.
#   --replica-port B  first app port (default P+1): apps on B, B+1, ..., B+N-1
#   --run-dir DIR     HAProxy config, stats socket and the apps' logs (default: a temp folder,
#                     removed at the end)
#   --no-setup        skip scripts/setup.sh (already set up)
#
# Every app process shares one JAX compilation cache on disk ($OPTIM_PLAYGROUND_JAX_CACHE,
# warmed once before they start) and one cookie secret ($STREAMLIT_SERVER_COOKIE_SECRET, or a
# random one per lecture). HAProxy keeps each student on one process with a cookie (not by
# address: a campus NAT puts a class behind one address), checks /_stcore/health every 2 s and
# sends the students of a dead process to the others; their setups come back from their links.
# A process that dies is restarted. Settings: deploy/lecture.py; more in docs/deploy.md.
set -euo pipefail
cd "$(dirname "$0")/.."

replicas=""
port=8501
bind=0.0.0.0
replica_port=""
run_dir=""
setup=1
streamlit_args=()
usage() { sed -n '2,16p' "$0" | sed 's/^# \{0,1\}//'; }
while [ $# -gt 0 ]; do
  case "$1" in
    --replicas) replicas="${2:?--replicas needs a number}"; shift 2 ;;
    --port) port="${2:?--port needs a number}"; shift 2 ;;
    --bind) bind="${2:?--bind needs an address}"; shift 2 ;;
    --replica-port) replica_port="${2:?--replica-port needs a number}"; shift 2 ;;
    --run-dir) run_dir="${2:?--run-dir needs a folder}"; shift 2 ;;
    --no-setup) setup=0; shift ;;
    -h|--help) usage; exit 0 ;;
    --) shift; streamlit_args=("$@"); break ;;
    *) echo "run_lecture.sh: unknown argument $1 (see --help)" >&2; exit 2 ;;
  esac
done
is_number() { [[ "$1" =~ ^[0-9]+$ ]]; }
replicas="${replicas:-$(nproc)}"
replica_port="${replica_port:-$((port + 1))}"
if ! is_number "$replicas" || [ "$replicas" -lt 1 ] || [ "$replicas" -gt 256 ]; then
  echo "run_lecture.sh: --replicas must be 1..256" >&2; exit 2
fi
for p in "$port" "$replica_port"; do
  if ! is_number "$p" || [ "$p" -lt 1 ] || [ $((p + replicas)) -gt 65536 ]; then
    echo "run_lecture.sh: ports must be 1..65535" >&2; exit 2
  fi
done
if [ "$replica_port" -le "$port" ] && [ $((replica_port + replicas)) -gt "$port" ]; then
  echo "run_lecture.sh: the app ports $replica_port..$((replica_port + replicas - 1)) include $port" >&2
  exit 2
fi

# Each app process holds ~350 MB under load (docs/benchmarks.md), more while MNIST trains.
available_mb=$(awk '/^MemAvailable:/ {print int($2 / 1024)}' /proc/meminfo 2>/dev/null || echo 0)
if [ "${available_mb:-0}" -gt 0 ] && [ $((replicas * 400)) -gt "$available_mb" ]; then
  echo "Warning: $replicas app processes need about $((replicas * 400)) MB; $available_mb MB are available." >&2
fi

if [ "$setup" = 1 ]; then
  bash scripts/setup.sh requirements.txt
fi
haproxy_bin="$(command -v haproxy || true)"
haproxy_bin="${haproxy_bin:-/usr/sbin/haproxy}"
if [ ! -x "$haproxy_bin" ]; then
  echo "run_lecture.sh: HAProxy is not installed (sudo apt-get install haproxy)" >&2; exit 1
fi
py=.venv/bin/python
# If this script dies without cleaning up (SIGKILL, a closed terminal pipe), the kernel sends
# SIGTERM to its app processes and HAProxy: no orphan keeps a port (util-linux's setpriv).
orphan_guard=""
if setpriv --pdeathsig TERM true 2>/dev/null; then
  orphan_guard="setpriv --pdeathsig TERM"
fi

if [ -z "$run_dir" ]; then
  run_dir="$(mktemp -d "${TMPDIR:-/tmp}/playground-lecture.XXXXXX")"
  remove_run_dir=1
else
  mkdir -p "$run_dir"
  remove_run_dir=0
fi
run_dir="$(cd "$run_dir" && pwd)"
# HAProxy refuses a stats socket path longer than 97 bytes: say so now, not with a silent stop.
if [ "${#run_dir}" -gt 84 ]; then
  echo "run_lecture.sh: --run-dir is too long for HAProxy's stats socket (at most 84 characters): $run_dir" >&2
  exit 2
fi

# One compilation cache for all processes, warmed once; one cookie secret for all.
export OPTIM_PLAYGROUND_JAX_CACHE="${OPTIM_PLAYGROUND_JAX_CACHE:-$HOME/.cache/optimizer-playground/jax}"
if [ -z "${STREAMLIT_SERVER_COOKIE_SECRET:-}" ]; then
  STREAMLIT_SERVER_COOKIE_SECRET="$("$py" -c 'import secrets; print(secrets.token_urlsafe(32))')"
fi
# In the environment, not on the command line: `ps` shows command lines to every user.
export STREAMLIT_SERVER_COOKIE_SECRET

pids=()        # app process of replica i (its own process group), "" when not running
started_at=()  # when it was last started (seconds since the epoch)
failures=()    # quick deaths in a row
haproxy_pid=""
stopping=0

start_replica() {  # $1 = index 0..N-1
  local i="$1" p=$((replica_port + $1))
  # Started exactly as scripts/run_app.sh starts the app (deploy.lecture exec-app reads its
  # command from there and execs it: same pid), one port each, in its own process group.
  setsid $orphan_guard "$py" -m deploy.lecture exec-app --server.port "$p" --server.address 127.0.0.1 \
    --server.headless true --server.fileWatcherType none ${streamlit_args[@]+"${streamlit_args[@]}"} \
    >>"$run_dir/r$((i + 1)).log" 2>&1 </dev/null &
  pids[i]=$!
  started_at[i]=$(date +%s)
}

stop_all() {
  [ "$stopping" = 1 ] && return
  stopping=1
  trap '' INT TERM
  echo
  echo "Stopping the lecture..."
  [ -n "$haproxy_pid" ] && kill -TERM "$haproxy_pid" 2>/dev/null || true
  local pid
  for pid in "${pids[@]}"; do
    [ -n "$pid" ] && kill -TERM -- "-$pid" 2>/dev/null || true
  done
  # Wait up to 10 s for everything, then kill what is left.
  local deadline=$((SECONDS + 10)) alive
  while :; do
    alive=0
    for pid in "$haproxy_pid" "${pids[@]}"; do
      [ -n "$pid" ] && kill -0 "$pid" 2>/dev/null && alive=1
    done
    [ "$alive" = 0 ] || [ "$SECONDS" -ge "$deadline" ] && break
    sleep 0.2
  done
  for pid in "${pids[@]}"; do
    [ -n "$pid" ] && kill -KILL -- "-$pid" 2>/dev/null || true
  done
  [ -n "$haproxy_pid" ] && kill -KILL "$haproxy_pid" 2>/dev/null || true
  wait 2>/dev/null || true
  if [ "$remove_run_dir" = 1 ]; then
    rm -rf "$run_dir"
  fi
  echo "Lecture stopped."
}
trap 'stop_all; exit 130' INT
trap 'stop_all; exit 143' TERM
trap 'stop_all; exit 129' HUP
trap 'stop_all' EXIT

echo "Warming the JAX cache in $OPTIM_PLAYGROUND_JAX_CACHE..."
"$py" -m playground.warmup

ports=()
for ((i = 0; i < replicas; i++)); do
  ports+=("--replica" "127.0.0.1:$((replica_port + i))")
  failures[i]=0
  start_replica "$i"
done
echo "Starting $replicas app processes on 127.0.0.1:$replica_port..$((replica_port + replicas - 1)) (logs: $run_dir/r*.log)..."

# Wait until every process answers its health check (HAProxy would mark them down otherwise).
healthy() {
  "$py" - "$@" <<'PY'
import sys, urllib.request
for port in sys.argv[1:]:
    try:
        with urllib.request.urlopen(f"http://127.0.0.1:{port}/_stcore/health", timeout=2) as r:
            if r.status != 200:
                sys.exit(1)
    except OSError:
        sys.exit(1)
PY
}
all_ports=()
for ((i = 0; i < replicas; i++)); do all_ports+=("$((replica_port + i))"); done
deadline=$((SECONDS + 180))
until healthy "${all_ports[@]}"; do
  for ((i = 0; i < replicas; i++)); do
    if ! kill -0 "${pids[i]}" 2>/dev/null; then
      echo "run_lecture.sh: app process r$((i + 1)) exited while starting:" >&2
      tail -n 20 "$run_dir/r$((i + 1)).log" >&2
      exit 1
    fi
  done
  if [ "$SECONDS" -ge "$deadline" ]; then
    echo "run_lecture.sh: the app processes did not become healthy in 180 s" >&2; exit 1
  fi
  sleep 0.5
done

"$py" -m deploy.lecture --bind "$bind" --port "$port" "${ports[@]}" \
  --stats-socket "$run_dir/haproxy.sock" --out "$run_dir/haproxy.cfg"
"$haproxy_bin" -c -q -f "$run_dir/haproxy.cfg" || {
  "$haproxy_bin" -c -f "$run_dir/haproxy.cfg" >&2; exit 1
}
# Its own session too: Ctrl-C reaches only this script, which stops everything in order.
setsid $orphan_guard "$haproxy_bin" -db -f "$run_dir/haproxy.cfg" </dev/null &
haproxy_pid=$!
# Ready when HAProxy accepts connections on its port.
probe_host="$bind"
case "$bind" in 0.0.0.0) probe_host=127.0.0.1 ;; ::|"[::]") probe_host=::1 ;; esac
deadline=$((SECONDS + 30))
until (exec 3<>"/dev/tcp/${probe_host}/${port}") 2>/dev/null; do
  if ! kill -0 "$haproxy_pid" 2>/dev/null || [ "$SECONDS" -ge "$deadline" ]; then
    echo "run_lecture.sh: HAProxy did not start on $bind:$port" >&2; exit 1
  fi
  sleep 0.1
done

if [ "$bind" = 0.0.0.0 ]; then
  echo "Lecture ready: http://$(hostname):$port  (this machine's addresses: $(hostname -I 2>/dev/null || true))"
else
  echo "Lecture ready: http://$bind:$port"
fi
echo "  $replicas app processes behind HAProxy; Ctrl-C stops them all."
echo "  HAProxy config and stats socket: $run_dir/haproxy.cfg, $run_dir/haproxy.sock"

# Supervise: HAProxy must live; an app process that dies is restarted (HAProxy has already
# sent its students elsewhere). One that keeps dying within 30 s of its start is given up.
while :; do
  ended=""
  status=0
  wait -n -p ended || status=$?
  [ "$stopping" = 1 ] && break
  if [ "$status" = 127 ]; then  # no process left to wait for
    echo "run_lecture.sh: nothing left running; stopping." >&2
    exit 1
  fi
  [ -z "$ended" ] && continue
  if [ "$ended" = "$haproxy_pid" ]; then
    echo "run_lecture.sh: HAProxy exited; stopping." >&2
    exit 1
  fi
  for ((i = 0; i < replicas; i++)); do
    [ "${pids[i]}" = "$ended" ] || continue
    pids[i]=""
    kill -KILL -- "-$ended" 2>/dev/null || true  # anything it left in its group
    if [ $(($(date +%s) - started_at[i])) -lt 30 ]; then
      failures[i]=$((failures[i] + 1))
    else
      failures[i]=0
    fi
    if [ "${failures[i]}" -ge 5 ]; then
      echo "run_lecture.sh: app process r$((i + 1)) died 5 times in a row; leaving it down:" >&2
      tail -n 20 "$run_dir/r$((i + 1)).log" >&2
    else
      echo "App process r$((i + 1)) (port $((replica_port + i))) died; restarting it." >&2
      sleep 1
      start_replica "$i"
    fi
  done
done
