"""Helpers of the deployment tests: fake app replicas, HAProxy started on the generated config.

A fake replica is a small websockets server on a free loopback port that answers like the app
where the balancer looks: `/_stcore/health` (200, or 503 when told to be unhealthy), any other
GET with its own name, and WebSockets that echo "<name>:<message>". So a test can tell which
replica really answered a request, independently of HAProxy's own bookkeeping.
"""

from __future__ import annotations

import http.client
import os
import shutil
import signal
import socket
import subprocess
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from http import HTTPStatus
from pathlib import Path
from typing import Any

from websockets.sync.server import Server, ServerConnection, serve

from deploy.lecture import HEALTH_PATH, haproxy_config, local_replicas, read_stats

HAPROXY = shutil.which("haproxy") or ("/usr/sbin/haproxy" if Path("/usr/sbin/haproxy").exists() else None)


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def wait_for(condition: Callable[[], Any], timeout_s: float, what: str) -> Any:
    """Poll until condition() is truthy (returns it), or fail naming what was awaited."""
    deadline = time.monotonic() + timeout_s
    last_error: Exception | None = None
    while time.monotonic() < deadline:
        try:
            value = condition()
            if value:
                return value
        except Exception as exc:  # noqa: BLE001 - keep polling, report the last one
            last_error = exc
        time.sleep(0.05)
    raise AssertionError(
        f"timed out after {timeout_s:.0f} s waiting for {what}"
        + (f" (last error: {last_error!r})" if last_error else "")
    )


def cookie_value(set_cookies: list[str], name: str) -> str | None:
    """The value the Set-Cookie headers of one response give the named cookie, or None."""
    for header in set_cookies:
        key, _, value = header.split(";", 1)[0].strip().partition("=")
        if key == name:
            return value
    return None


@dataclass
class FakeReplica:
    """A stand-in app process that says who it is."""

    name: str
    healthy: bool = True
    server: Server | None = None
    port: int = 0
    requests: list[str] = field(default_factory=list)

    def start(self) -> None:
        def process_request(connection: ServerConnection, request: Any) -> Any:
            self.requests.append(request.path)
            if request.path == HEALTH_PATH:
                if self.healthy:
                    return connection.respond(HTTPStatus.OK, "ok")
                return connection.respond(HTTPStatus.SERVICE_UNAVAILABLE, "unhealthy")
            if request.headers.get("Upgrade", "").lower() != "websocket":
                return connection.respond(HTTPStatus.OK, self.name)
            return None  # a WebSocket: handled below

        def handler(ws: ServerConnection) -> None:
            for message in ws:
                ws.send(f"{self.name}:{message}")

        self.server = serve(handler, "127.0.0.1", 0, process_request=process_request)
        self.port = int(self.server.socket.getsockname()[1])
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def stop(self) -> None:
        if self.server is not None:
            self.server.shutdown()
            self.server = None


@dataclass
class Balancer:
    """HAProxy running on the generated config."""

    process: subprocess.Popen[bytes]
    port: int
    config: Path
    stats_socket: Path
    log: Path

    def stats(self) -> dict[str, dict[str, str]]:
        return read_stats(self.stats_socket)

    def get(self, path: str = "/", cookie: str | None = None) -> tuple[int, str, list[str]]:
        """One GET through the balancer: (status, body, its Set-Cookie headers)."""
        conn = http.client.HTTPConnection("127.0.0.1", self.port, timeout=10)
        try:
            conn.request("GET", path, headers={"Cookie": cookie} if cookie else {})
            response = conn.getresponse()
            return response.status, response.read().decode(), response.headers.get_all("Set-Cookie") or []
        finally:
            conn.close()

    def stop(self) -> None:
        if self.process.poll() is None:
            os.killpg(self.process.pid, signal.SIGTERM)
            try:
                self.process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                os.killpg(self.process.pid, signal.SIGKILL)
                self.process.wait()


def start_haproxy(haproxy: str, replicas: list[FakeReplica], folder: Path, **options: Any) -> Balancer:
    """HAProxy on a free port with the generated config; returns once every replica is UP."""
    port = free_port()
    sock, cfg, log = folder / "haproxy.sock", folder / "haproxy.cfg", folder / "haproxy.log"
    cfg.write_text(
        haproxy_config(
            local_replicas([r.port for r in replicas]),
            bind="127.0.0.1",
            port=port,
            stats_socket=sock,
            **options,
        )
    )
    process = subprocess.Popen(
        [haproxy, "-db", "-f", str(cfg)],
        stdout=open(log, "wb"),  # noqa: SIM115
        stderr=subprocess.STDOUT,
        start_new_session=True,
    )
    balancer = Balancer(process, port, cfg, sock, log)

    def all_up() -> bool:
        assert process.poll() is None, f"haproxy exited: {log.read_text()}"
        rows = balancer.stats()
        return all(rows[f"r{i}"]["status"] == "UP" for i in range(1, len(replicas) + 1))

    try:
        wait_for(all_up, 20, "HAProxy to see every replica UP")
    except BaseException:
        balancer.stop()
        raise
    return balancer


def free_port_run(count: int) -> int:
    """The first of `count` consecutive free loopback ports."""
    for _ in range(100):
        first = free_port()
        if first + count > 65535:
            continue
        sockets = []
        try:
            for port in range(first, first + count):
                s = socket.socket()
                sockets.append(s)
                s.bind(("127.0.0.1", port))
            return first
        except OSError:
            continue
        finally:
            for s in sockets:
                s.close()
    raise RuntimeError(f"no {count} consecutive free ports")


def children(pid: int) -> dict[int, str]:
    """The direct children of a process: pid -> command line (from /proc)."""
    found = {}
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            fields = stat.read_text().rsplit(")", 1)[1].split()
            if int(fields[1]) == pid:
                cmdline = (stat.parent / "cmdline").read_bytes().replace(b"\0", b" ").decode().strip()
                found[int(stat.parent.name)] = cmdline
        except (OSError, IndexError, ValueError):
            continue
    return found


def environ(pid: int) -> dict[str, str]:
    """A process's environment (from /proc; same user or root)."""
    pairs = Path(f"/proc/{pid}/environ").read_bytes().split(b"\0")
    return dict(p.decode(errors="replace").split("=", 1) for p in pairs if b"=" in p)


def alive(pid: int) -> bool:
    """True while the process exists and is not a zombie."""
    try:
        state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    except OSError:
        return False
    return state != "Z"


def established(port: int) -> int:
    """Open TCP connections whose local end is this loopback port (from /proc/net/tcp)."""
    count = 0
    for table in ("/proc/net/tcp", "/proc/net/tcp6"):
        try:
            lines = Path(table).read_text().splitlines()[1:]
        except OSError:
            continue
        for line in lines:
            parts = line.split()
            if parts[3] == "01" and int(parts[1].rsplit(":", 1)[1], 16) == port:
                count += 1
    return count
