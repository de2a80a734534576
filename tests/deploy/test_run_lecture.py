"""scripts/run_lecture.sh for real: two app processes behind HAProxy, then a clean stop.

One test walks a lecture's life (one start of two Streamlit processes is the expensive part):
start -> both processes share the warmed JAX cache and one cookie secret -> HAProxy keeps a
cookie's visitor (HTTP and WebSocket) on its process -> a killed process is restarted ->
SIGTERM stops HAProxy and every process.
"""

from __future__ import annotations

import http.client
import os
import shutil
import signal
import subprocess
import tempfile
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path

import pytest
from deploy_helpers import (
    alive,
    children,
    cookie_value,
    environ,
    established,
    free_port,
    free_port_run,
    wait_for,
)
from websockets.sync.client import connect

from deploy.lecture import COOKIE_NAME, app_start_args, read_stats

ROOT = Path(__file__).resolve().parents[2]
SCRIPT = ROOT / "scripts" / "run_lecture.sh"


def run_script(*args: str, timeout: float = 60) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        ["bash", str(SCRIPT), "--no-setup", *args], capture_output=True, text=True, timeout=timeout, cwd=ROOT
    )


@pytest.mark.parametrize(
    "args",
    [
        ["--replicas", "0"],
        ["--replicas", "two"],
        ["--port", "70000"],
        ["--bogus"],
        ["--replicas", "3", "--port", "9000", "--replica-port", "8999"],  # app ports would include 9000
        ["--run-dir", "/tmp/lecture-run-dir-" + "x" * 80],  # HAProxy's stats socket path would not fit
    ],
)
def test_bad_arguments_are_refused_before_anything_starts(args: list[str]) -> None:
    result = run_script(*args)
    assert result.returncode == 2, result.stdout + result.stderr
    assert "run_lecture.sh:" in result.stderr
    assert "Warming" not in result.stdout


@dataclass
class LectureRun:
    """A started run_lecture.sh and every process it was seen to have started."""

    process: subprocess.Popen[bytes]
    log: Path
    port: int
    replica_port: int
    run_dir: Path
    seen: set[int] = field(default_factory=set)

    def children(self) -> dict[int, str]:
        found = children(self.process.pid)
        self.seen |= set(found)
        return found

    def wait_ready(self) -> None:
        def ready() -> bool:
            if self.process.poll() is not None:
                pytest.fail(f"run_lecture.sh exited with {self.process.returncode}:\n{self.log.read_text()}")
            return "Lecture ready" in self.log.read_text()

        wait_for(ready, 240, "Lecture ready")
        self.children()


@pytest.fixture
def start_lecture(haproxy: str, tmp_path: Path) -> Iterator[Callable[[int], LectureRun]]:
    """start(replicas) -> a lecture on free loopback ports with its own JAX cache, ready."""
    runs: list[LectureRun] = []
    cleanup: list[Path] = []

    def start(replicas: int) -> LectureRun:
        port, replica_port = free_port(), free_port_run(replicas)
        # A short folder: HAProxy's stats socket path may hold at most 97 bytes, and pytest's
        # tmp_path under xdist is longer than that.
        folder = Path(tempfile.mkdtemp(prefix="lec", dir="/tmp"))
        cleanup.append(folder)
        env = {k: v for k, v in os.environ.items() if k != "STREAMLIT_SERVER_COOKIE_SECRET"}
        env["OPTIM_PLAYGROUND_JAX_CACHE"] = str(tmp_path / "jax-cache")
        log = folder / "lecture.log"
        process = subprocess.Popen(
            [
                "bash",
                str(SCRIPT),
                "--replicas",
                str(replicas),
                "--port",
                str(port),
                "--replica-port",
                str(replica_port),
                "--bind",
                "127.0.0.1",
                "--no-setup",
                "--run-dir",
                str(folder / "run"),
            ],
            cwd=ROOT,
            env=env,
            stdout=open(log, "wb"),
            stderr=subprocess.STDOUT,  # noqa: SIM115
            start_new_session=True,
        )
        run = LectureRun(process, log, port, replica_port, folder / "run")
        runs.append(run)
        run.wait_ready()
        return run

    yield start
    for run in runs:
        if run.process.poll() is None:
            run.children()
            os.kill(run.process.pid, signal.SIGTERM)
            try:
                run.process.wait(timeout=30)
            except subprocess.TimeoutExpired:
                os.killpg(run.process.pid, signal.SIGKILL)
        for pid in run.seen:  # left behind only if the script failed to stop them
            if alive(pid):
                os.killpg(pid, signal.SIGKILL)
    for folder in cleanup:
        shutil.rmtree(folder, ignore_errors=True)


def test_a_lecture_starts_routes_by_cookie_restarts_and_stops(start_lecture, tmp_path: Path) -> None:
    lecture = start_lecture(2)
    process, log, port, replica_port = lecture.process, lecture.log, lecture.port, lecture.replica_port

    # Two app processes and HAProxy, all children of the script.
    procs = lecture.children()
    start = " ".join(app_start_args())  # as scripts/run_app.sh starts the app
    apps = {pid: cmd for pid, cmd in procs.items() if start in cmd}
    balancers = [pid for pid, cmd in procs.items() if "haproxy" in cmd]
    assert len(apps) == 2 and len(balancers) == 1, procs
    assert {
        f"--server.port {replica_port}" in c or f"--server.port {replica_port + 1}" in c
        for c in apps.values()
    } == {True}
    assert all("--server.address 127.0.0.1" in c for c in apps.values())
    assert not any("cookieSecret" in c for c in apps.values())  # not visible in `ps`

    # One cookie secret (random, long) and one warmed compilation cache for both.
    envs = [environ(pid) for pid in apps]
    secrets_ = {e["STREAMLIT_SERVER_COOKIE_SECRET"] for e in envs}
    assert len(secrets_) == 1 and len(secrets_.pop()) >= 32
    assert {e["OPTIM_PLAYGROUND_JAX_CACHE"] for e in envs} == {str(tmp_path / "jax-cache")}
    assert any((tmp_path / "jax-cache").rglob("*")), "the warm-up wrote nothing to the cache"

    # HTTP through HAProxy: the first visit gets a cookie; with it, every request goes to that
    # replica (HAProxy's per-server counters) and none to the other.
    stats = lecture.run_dir / "haproxy.sock"

    def get(cookie: str | None = None) -> tuple[int, str | None]:
        """GET /_stcore/health through HAProxy: (status, the affinity cookie it set or None)."""
        conn = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
        try:
            conn.request("GET", "/_stcore/health", headers={"Cookie": cookie} if cookie else {})
            r = conn.getresponse()
            r.read()
            return r.status, cookie_value(r.headers.get_all("Set-Cookie") or [], COOKIE_NAME)
        finally:
            conn.close()

    status, mine = get()
    assert status == 200
    assert mine in ("r1", "r2")
    other = "r2" if mine == "r1" else "r1"
    before = read_stats(stats)
    for _ in range(6):
        assert get(f"{COOKIE_NAME}={mine}") == (200, None)
    after = read_stats(stats)
    served = {r: int(after[r]["hrsp_2xx"]) - int(before[r]["hrsp_2xx"]) for r in ("r1", "r2")}
    assert served == {mine: 6, other: 0}

    # A WebSocket (Streamlit's /_stcore/stream) with the cookie is held by that replica's port.
    ports = {"r1": replica_port, "r2": replica_port + 1}
    with connect(
        f"ws://127.0.0.1:{port}/_stcore/stream",
        subprotocols=["streamlit"],
        origin=f"http://127.0.0.1:{port}",
        open_timeout=30,
        additional_headers={"Cookie": f"{COOKIE_NAME}={other}"},
    ):
        wait_for(
            lambda: established(ports[other]) >= 1 and established(ports[mine]) == 0,
            10,
            f"the WebSocket held by {other}'s port only",
        )

    # A killed app process is restarted on its port and HAProxy puts it back.
    victim = next(pid for pid, cmd in apps.items() if f"--server.port {ports['r1']}" in cmd)
    os.kill(victim, signal.SIGKILL)
    wait_for(lambda: read_stats(stats)["r1"]["status"] == "DOWN", 30, "r1 DOWN after the kill")
    wait_for(
        lambda: any(
            f"--server.port {ports['r1']}" in c and pid != victim for pid, c in lecture.children().items()
        ),
        30,
        "r1 restarted",
    )
    wait_for(lambda: read_stats(stats)["r1"]["status"] == "UP", 120, "the restarted r1 UP")
    assert "died; restarting it" in log.read_text()
    every = set(lecture.children()) | lecture.seen

    # SIGTERM (as Ctrl-C or systemd would): everything stops, nothing is left behind.
    os.kill(process.pid, signal.SIGTERM)
    assert process.wait(timeout=30) == 143
    wait_for(lambda: not any(alive(pid) for pid in every), 10, "every process gone")
    assert "Lecture stopped." in log.read_text()
    with pytest.raises(OSError):
        get()


def test_a_killed_lecture_script_leaves_no_process_behind(start_lecture) -> None:
    # SIGKILL runs no trap: the kernel's parent-death signal (setpriv --pdeathsig) ends them.
    lecture = start_lecture(1)
    procs = lecture.children()
    assert len(procs) == 2, procs  # one app process and HAProxy
    os.kill(lecture.process.pid, signal.SIGKILL)
    lecture.process.wait(timeout=10)
    wait_for(lambda: not any(alive(pid) for pid in procs), 20, "the app process and HAProxy gone")
