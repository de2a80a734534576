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
    raise AssertionError(f"timed out after {timeout_s:.0f} s waiting for {what}"
                         + (f" (last error: {last_error!r})" if last_error else ""))


def cookie_value(set_cookie: str | None, name: str) -> str | None:
    """The value a Set-Cookie header gives the named cookie, or None."""
    if not set_cookie:
        return None
    first = set_cookie.split(";", 1)[0].strip()
    key, _, value = first.partition("=")
    return value if key == name else None


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

    def get(self, path: str = "/", cookie: str | None = None) -> tuple[int, str, str | None]:
        """One GET through the balancer: (status, body, the Set-Cookie header or None)."""
        conn = http.client.HTTPConnection("127.0.0.1", self.port, timeout=10)
        try:
            conn.request("GET", path, headers={"Cookie": cookie} if cookie else {})
            response = conn.getresponse()
            return response.status, response.read().decode(), response.getheader("Set-Cookie")
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
    cfg.write_text(haproxy_config(local_replicas([r.port for r in replicas]), bind="127.0.0.1",
                                  port=port, stats_socket=sock, **options))
    process = subprocess.Popen([haproxy, "-db", "-f", str(cfg)], stdout=open(log, "wb"),  # noqa: SIM115
                               stderr=subprocess.STDOUT, start_new_session=True)
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
