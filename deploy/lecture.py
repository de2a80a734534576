"""The settings every deployment shares, and the HAProxy config of a lecture.

One place for what the load balancer, the container and the Kubernetes manifests must agree
on: the app's port, its health path, the affinity cookie's name, the health-check rhythm and
the WebSocket timeout. `scripts/run_lecture.sh` writes its HAProxy config with this module;
tests/deploy checks that `deploy/Dockerfile` and `deploy/k8s/*.yaml` name the same values.

    .venv/bin/python -m deploy.lecture --bind 127.0.0.1 --port 8650 \\
        --replica 127.0.0.1:8651 --replica 127.0.0.1:8652 [--stats-socket PATH]

Why each setting (Streamlit keeps a session in one process, over one WebSocket):
- Affinity by an inserted cookie, not by source address: a campus NAT puts a whole class behind
  one address, and source-IP hashing would send all of them to one replica.
- `roundrobin`: the choice is made on a new student's first request (the page, short), and the
  cookie carries it to the WebSocket; round robin spreads new students evenly. (`leastconn`
  judged that short request by the moment's HTTP load: a burst of 80 students split 18/62.)
- `timeout tunnel` (1 h) governs an upgraded WebSocket; `timeout client/server` (60 s) only the
  plain HTTP requests (health, static files, uploads). A lesson's idle tab keeps its session.
- Health checks on Streamlit's `/_stcore/health` every 2 s, down after 2 failures, up after 1;
  refused connections from live traffic take it out sooner (`observe layer4`), and `option redispatch`
  sends a client whose cookie names a dead replica to a live one (which sets a new cookie).
"""

from __future__ import annotations

import argparse
import csv
import io
import os
import shlex
import socket
import sys
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

APP_PORT = 8501  # Streamlit's default: the container's and the Service's port
HEALTH_PATH = "/_stcore/health"  # Streamlit's own health endpoint ("ok" when the server runs)
COOKIE_NAME = "playground_replica"  # the affinity cookie (HAProxy and ingress-nginx alike)
CHECK_INTERVAL_S = 2.0  # health-check period
CHECK_FAST_INTERVAL_S = 0.5  # period while a replica is changing state (after one failure)
CHECK_FALL = 2  # failed checks before a replica is taken out
CHECK_RISE = 1  # good checks before it is put back
TUNNEL_TIMEOUT_S = 3600  # an idle WebSocket lives this long (ingress: proxy-read-timeout)
HTTP_TIMEOUT_S = 60  # plain HTTP: client and server inactivity
HTTP_REQUEST_TIMEOUT_S = 10  # a client has this long to send its request headers
CONNECT_TIMEOUT_S = 5  # to connect to a replica (loopback or pod network)
CHECK_TIMEOUT_S = 5  # a busy replica gets this long to answer a health check
MAX_CONNECTIONS = 4096  # per HAProxy process; each student holds one WebSocket
BACKEND = "replicas"


@dataclass(frozen=True)
class Replica:
    """One app process behind the load balancer."""

    name: str  # also the affinity cookie's value: short, [A-Za-z0-9_-]
    host: str
    port: int

    def __post_init__(self) -> None:
        if not self.name or not all(c.isalnum() or c in "_-" for c in self.name):
            raise ValueError(f"replica name must be letters, digits, _ or -: {self.name!r}")
        if not 1 <= self.port <= 65535:
            raise ValueError(f"replica port out of range: {self.port}")
        if not self.host or any(c.isspace() for c in self.host):
            raise ValueError(f"bad replica host: {self.host!r}")


def local_replicas(ports: Sequence[int], host: str = "127.0.0.1") -> list[Replica]:
    """Replicas r1, r2, ... on the given ports of one host."""
    return [Replica(f"r{i}", host, port) for i, port in enumerate(ports, start=1)]


def down_within_s(
    interval_s: float = CHECK_INTERVAL_S, fast_s: float = CHECK_FAST_INTERVAL_S, fall: int = CHECK_FALL
) -> float:
    """Longest time from a replica's death (connections refused) to HAProxy taking it out by
    health checks alone: the next check (one interval), then fall - 1 more at the fast interval.
    Traffic to a dead replica takes it out sooner (observe layer4)."""
    return interval_s + (fall - 1) * fast_s


def _ms(seconds: float) -> str:
    """HAProxy's duration syntax: whole seconds as "5s", anything else in milliseconds."""
    ms = round(seconds * 1000)
    return f"{ms // 1000}s" if ms % 1000 == 0 else f"{ms}ms"


def haproxy_config(
    replicas: Sequence[Replica],
    *,
    bind: str = "0.0.0.0",
    port: int = APP_PORT,
    stats_socket: Path | None = None,
    tunnel_timeout_s: float = TUNNEL_TIMEOUT_S,
    http_timeout_s: float = HTTP_TIMEOUT_S,
    check_interval_s: float = CHECK_INTERVAL_S,
) -> str:
    """HAProxy (2.6) config: one HTTP frontend on bind:port, the replicas behind it with
    cookie affinity and health checks. Timeouts are parameters only so tests can shorten them."""
    if not replicas:
        raise ValueError("at least one replica")
    if len({r.name for r in replicas}) != len(replicas):
        raise ValueError("replica names must be unique")
    if not 1 <= port <= 65535:
        raise ValueError(f"port out of range: {port}")
    if not bind or any(c.isspace() for c in bind):
        raise ValueError(f"bad bind address: {bind!r}")
    bind_addr = f"[{bind}]" if ":" in bind and not bind.startswith("[") else bind
    fast = min(CHECK_FAST_INTERVAL_S, check_interval_s)
    lines = [
        "# Generated by deploy/lecture.py (python -m deploy.lecture): edit that, not this.",
        "global",
        f"    maxconn {MAX_CONNECTIONS}",
    ]
    if stats_socket is not None:
        if any(c.isspace() for c in str(stats_socket)):
            raise ValueError("stats socket path must not contain spaces")
        lines.append(f"    stats socket {stats_socket} mode 600 level operator")
    lines += [
        "",
        "defaults",
        "    mode http",
        "    option forwardfor",
        "    option redispatch",  # a cookie naming a dead replica goes to a live one
        "    retries 3",
        f"    timeout connect {_ms(CONNECT_TIMEOUT_S)}",
        f"    timeout http-request {_ms(HTTP_REQUEST_TIMEOUT_S)}",
        f"    timeout http-keep-alive {_ms(HTTP_REQUEST_TIMEOUT_S)}",
        f"    timeout queue {_ms(30)}",
        f"    timeout client {_ms(http_timeout_s)}",
        f"    timeout server {_ms(http_timeout_s)}",
        f"    timeout tunnel {_ms(tunnel_timeout_s)}",  # upgraded WebSockets
        f"    timeout check {_ms(CHECK_TIMEOUT_S)}",
        f"    timeout client-fin {_ms(30)}",
        "",
        "frontend lecture",
        f"    bind {bind_addr}:{port}",
        f"    default_backend {BACKEND}",
        "",
        f"backend {BACKEND}",
        "    balance roundrobin",
        f"    cookie {COOKIE_NAME} insert indirect nocache httponly attr SameSite=Lax",
        "    option httpchk",
        f"    http-check send meth GET uri {HEALTH_PATH} ver HTTP/1.1 hdr Host localhost",
        "    http-check expect status 200",
        f"    default-server check inter {_ms(check_interval_s)} fastinter {_ms(fast)} "
        f"downinter {_ms(check_interval_s)} fall {CHECK_FALL} rise {CHECK_RISE} "
        "observe layer4 error-limit 1 on-error mark-down",
    ]
    for r in replicas:
        host = f"[{r.host}]" if ":" in r.host and not r.host.startswith("[") else r.host
        lines.append(f"    server {r.name} {host}:{r.port} cookie {r.name}")
    return "\n".join(lines) + "\n"


def read_stats(stats_socket: Path, timeout_s: float = 5.0) -> dict[str, dict[str, str]]:
    """HAProxy's `show stat` from its stats socket: backend rows by server name (r1, r2, ...,
    BACKEND), each a dict of CSV columns (status UP/DOWN, scur, stot, econ, check_status...)."""
    with socket.socket(socket.AF_UNIX, socket.SOCK_STREAM) as sock:
        sock.settimeout(timeout_s)
        sock.connect(str(stats_socket))
        sock.sendall(b"show stat\n")
        chunks = []
        while chunk := sock.recv(65536):
            chunks.append(chunk)
    text = b"".join(chunks).decode().lstrip("# ")
    return {row["svname"]: row for row in csv.DictReader(io.StringIO(text)) if row.get("pxname") == BACKEND}


RUN_APP = Path(__file__).resolve().parents[1] / "scripts" / "run_app.sh"


def app_start_args(run_app: Path = RUN_APP) -> list[str]:
    """How scripts/run_app.sh starts the app, after the venv's python and before its own
    arguments, e.g. ["-m", "app_pages.serve", "run", "app.py"]: the one start command that
    run_lecture.sh, deploy/entrypoint.sh and the benchmarks must share (tests/deploy checks)."""
    for line in run_app.read_text().splitlines():
        try:
            words = shlex.split(line, comments=True)
        except ValueError:  # a line shlex cannot read is not the start line
            continue
        if words[:2] == ["exec", ".venv/bin/python"]:
            return [w for w in words[2:] if w != "$@"]
    raise ValueError(f"no 'exec .venv/bin/python ...' line in {run_app}")


def _replica_arg(text: str) -> tuple[str, int]:
    host, sep, port = text.rpartition(":")
    if not sep or not port.isdigit():
        raise argparse.ArgumentTypeError(f"expected HOST:PORT, got {text!r}")
    return host.strip("[]"), int(port)


def exec_app(extra: Sequence[str]) -> None:
    """Replace this process with the app, started exactly as scripts/run_app.sh starts it (read
    from there, so a new start command reaches the lecture and the container by itself), plus
    `extra` arguments. The working directory must be the repository's root."""
    args = [sys.executable, *app_start_args(), *extra]
    os.execv(sys.executable, args)


def main(argv: Sequence[str] | None = None) -> int:
    argv = list(sys.argv[1:] if argv is None else argv)
    if argv[:1] == ["exec-app"]:  # python -m deploy.lecture exec-app [streamlit options]
        exec_app(argv[1:])
        return 1  # not reached: exec replaces the process
    parser = argparse.ArgumentParser(
        prog="python -m deploy.lecture",
        description="Print the lecture's HAProxy config. (`python -m deploy.lecture exec-app "
        "[options]` instead starts the app as scripts/run_app.sh does.)",
    )
    parser.add_argument("--bind", default="0.0.0.0", help="address HAProxy listens on")
    parser.add_argument("--port", type=int, default=APP_PORT, help="port HAProxy listens on")
    parser.add_argument(
        "--replica",
        type=_replica_arg,
        action="append",
        required=True,
        metavar="HOST:PORT",
        help="an app process (repeat; named r1, r2, ...)",
    )
    parser.add_argument("--stats-socket", type=Path, help="HAProxy's stats socket (show stat)")
    parser.add_argument("--out", type=Path, help="write here instead of stdout")
    args = parser.parse_args(argv)
    try:
        text = haproxy_config(
            [Replica(f"r{i}", h, p) for i, (h, p) in enumerate(args.replica, 1)],
            bind=args.bind,
            port=args.port,
            stats_socket=args.stats_socket,
        )
    except ValueError as exc:
        parser.error(str(exc))
    if args.out is None:
        sys.stdout.write(text)
    else:
        args.out.write_text(text)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
