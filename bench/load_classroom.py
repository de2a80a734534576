"""A classroom on one Streamlit server: many sessions moving Playground sliders at once.

    .venv/bin/python bench/load_classroom.py [--sessions 20] [--duration 60] [--interval 3]
                                              [--url http://127.0.0.1:8501]

Without --url it starts the app the way the README does (`streamlit run app.py`, free port)
and stops it afterwards. Each simulated student speaks Streamlit's own WebSocket protocol on
/_stcore/stream (BackMsg / ForwardMsg protobufs from streamlit.proto): it opens the
Playground, then every few seconds sends a `rerun_script` BackMsg whose widget_states move the
"Gradient noise σ" slider (or the "Steps" slider) to a new value, and times send ->
script_finished. Bounded: a fixed number of sessions, a fixed duration, a timeout per rerun.

Reports errors (exceptions on the page, failed or timed-out reruns, dropped connections),
rerun latency p50/p95/max (target p95 < 1 s), and the server's resident memory (from /proc)
sampled every second: it must be flat after warm-up.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import random
import signal
import socket
import subprocess
import sys
import time
import urllib.request
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import unquote, urlparse

import numpy as np
import websockets
from streamlit.proto.BackMsg_pb2 import BackMsg
from streamlit.proto.ForwardMsg_pb2 import ForwardMsg
from websockets.typing import Origin, Subprotocol

ROOT = Path(__file__).resolve().parents[1]
SLIDERS = ("Gradient noise σ", "Steps")
RERUN_TIMEOUT_S = 30.0
OPEN_TIMEOUT_S = 120.0


# --- the protocol ----------------------------------------------------------------------------


@dataclass
class Rerun:
    """What one script run sent back."""

    status: int | None = None  # ForwardMsg.ScriptFinishedStatus, None while running
    exceptions: list[str] = field(default_factory=list)
    widgets: dict[str, Any] = field(default_factory=dict)  # label -> element proto
    progress: list[str] = field(default_factory=list)  # st.progress texts
    alerts: list[tuple[str, str]] = field(default_factory=list)  # (format, body): st.error, ...
    headings: list[str] = field(default_factory=list)
    charts: int = 0
    messages: int = 0
    bytes: int = 0


class Student:
    """One browser tab's worth of protocol: connect, open the Playground, move sliders."""

    def __init__(self, base_url: str, name: str) -> None:
        parsed = urlparse(base_url)
        self.ws_url = f"ws://{parsed.netloc}/_stcore/stream"
        self.origin = f"http://{parsed.netloc}"
        self.name = name
        self.ws: Any = None
        self.query_string = ""
        self.page_script_hash = ""
        self.widgets: dict[str, Any] = {}
        self.latencies: list[float] = []
        self.messages: list[int] = []
        self.bytes: list[int] = []
        self.errors: list[str] = []
        self._current: Rerun | None = None
        # A fragment's run_every as the server asked for it (interval s, fragment id); None
        # when the last full run registered none. The frontend reruns it on a timer. (A
        # fragment's own run also starts with new_session, so that message cannot reset it.)
        self.auto_rerun: tuple[float, str] | None = None
        self._finished: asyncio.Event = asyncio.Event()
        self._reader: asyncio.Task[None] | None = None

    async def connect(self) -> None:
        # The frontend passes "streamlit" (+ XSRF token, session id) as subprotocols.
        self.ws = await websockets.connect(
            self.ws_url,
            subprotocols=[Subprotocol("streamlit")],
            origin=Origin(self.origin),
            max_size=None,
            open_timeout=OPEN_TIMEOUT_S,
        )
        self._reader = asyncio.create_task(self._read())

    async def _read(self) -> None:
        try:
            async for frame in self.ws:
                self._handle(frame)
        except websockets.ConnectionClosed as exc:
            if not getattr(self, "_closing", False):
                self.errors.append(f"connection closed: {exc}")
        finally:
            self._finished.set()

    def _handle(self, frame: bytes) -> None:
        msg = ForwardMsg()
        msg.ParseFromString(frame)
        kind = msg.WhichOneof("type")
        run = self._current
        if run is not None:
            run.messages += 1
            run.bytes += len(frame)
        if kind == "auto_rerun":
            self.auto_rerun = (msg.auto_rerun.interval, msg.auto_rerun.fragment_id)
        elif kind == "stop_auto_rerun":
            self.auto_rerun = None
        elif kind == "navigation":  # the page that ran: reruns name it, as the frontend does
            self.page_script_hash = msg.navigation.page_script_hash or self.page_script_hash
        elif kind == "page_info_changed":
            self.query_string = msg.page_info_changed.query_string  # what the page wrote
        elif kind == "delta" and run is not None and msg.delta.WhichOneof("type") == "new_element":
            element = msg.delta.new_element
            etype = element.WhichOneof("type")
            if etype == "exception":
                run.exceptions.append(f"{element.exception.type}: {element.exception.message}")
            elif etype == "plotly_chart":
                run.charts += 1
            elif etype in ("slider", "button"):
                widget = getattr(element, etype)
                run.widgets[widget.label] = widget
            elif etype == "progress":
                run.progress.append(element.progress.text)
            elif etype == "alert":
                run.alerts.append((element.alert.Format.Name(element.alert.format), element.alert.body))
            elif etype == "heading":
                run.headings.append(element.heading.body)
        elif kind == "script_finished" and run is not None:
            run.status = msg.script_finished
            self._finished.set()

    async def rerun(
        self,
        widget_values: dict[str, list[float]] | None = None,
        page_name: str = "",
        *,
        press: str | None = None,
        fragment_id: str = "",
    ) -> Rerun:
        """Send rerun_script (with slider values by label; `press`: a button's label, clicked)
        and wait for script_finished. With `fragment_id`, only that fragment reruns (as the
        frontend's run_every timer does)."""
        back = BackMsg()
        state = back.rerun_script
        state.query_string = self.query_string  # the URL as the page last wrote it
        state.page_script_hash = self.page_script_hash
        state.page_name = page_name
        if fragment_id:
            state.fragment_id, state.is_auto_rerun = fragment_id, True
        for label, value in (widget_values or {}).items():
            widget = state.widget_states.widgets.add()
            widget.id = self.widgets[label].id
            widget.double_array_value.data.extend(value)
        if press is not None:
            widget = state.widget_states.widgets.add()
            widget.id = self.widgets[press].id
            widget.trigger_value = True
        if not fragment_id:  # a full run: its fragments register anew
            self.auto_rerun = None
        self._current = run = Rerun()
        self._finished.clear()
        t0 = time.perf_counter()
        await self.ws.send(back.SerializeToString())
        while True:
            try:
                await asyncio.wait_for(self._finished.wait(), RERUN_TIMEOUT_S)
            except TimeoutError:
                self.errors.append(f"rerun timed out after {RERUN_TIMEOUT_S:.0f} s")
                return run
            if run.status is None:  # the connection closed
                return run
            if run.status == ForwardMsg.FINISHED_EARLY_FOR_RERUN:  # a full rerun follows (st.rerun)
                self.auto_rerun = None
                self._finished.clear()
                run.status = None
                continue
            break
        self.latencies.append(time.perf_counter() - t0)
        self.messages.append(run.messages)
        self.bytes.append(run.bytes)
        self.widgets.update(run.widgets)
        if run.exceptions:
            self.errors.extend(run.exceptions)
        ok = (ForwardMsg.FINISHED_SUCCESSFULLY, ForwardMsg.FINISHED_FRAGMENT_RUN_SUCCESSFULLY)
        if run.status not in ok:
            self.errors.append(f"script finished with status {run.status}")
        return run

    async def open_playground(self) -> None:
        run = await self.rerun(page_name="playground")
        # The first run (session set-up, first compile) is not a slider move.
        self.latencies.clear()
        self.messages.clear()
        self.bytes.clear()
        missing = [s for s in SLIDERS if s not in self.widgets]
        if missing or not run.charts:
            raise RuntimeError(
                f"{self.name}: the Playground did not render ({missing=}, "
                f"charts={run.charts}, errors={self.errors[:2]})"
            )

    async def close(self) -> None:
        self._closing = True
        if self.ws is not None:
            await self.ws.close()
        if self._reader is not None:
            await self._reader


def slider_value(rng: random.Random, move: int) -> tuple[dict[str, list[float]], str]:
    """A new value on one slider (mostly noise σ, sometimes steps inside one step bucket), and
    the URL parameter the page must then write, which proves the move took effect."""
    if move % 4 == 3:
        steps = rng.randrange(310, 500, 10)
        return {"Steps": [float(steps)]}, f"steps={steps}"
    noise = round(rng.uniform(0.01, 1.0), 2)
    return {"Gradient noise σ": [noise]}, f"noise={noise:g}"


async def student_loop(student: Student, deadline: float, interval: float, seed: int) -> None:
    rng = random.Random(seed)
    await asyncio.sleep(rng.uniform(0, interval))  # students do not move in lockstep
    move = 0
    while time.perf_counter() < deadline and not student.errors:
        started = time.perf_counter()
        values, expected = slider_value(rng, move)
        run = await student.rerun(values)
        if run.status is not None and expected not in unquote(student.query_string):
            student.errors.append(f"move {values} not applied (URL: {student.query_string[:80]})")
        move += 1
        pause = rng.uniform(0.5 * interval, 1.5 * interval) - (time.perf_counter() - started)
        await asyncio.sleep(max(0.0, min(pause, deadline - time.perf_counter())))


# --- the server ------------------------------------------------------------------------------


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


STREAMLIT_RUN = ["-m", "streamlit", "run", "app.py"]


def start_server(
    log: Path,
    extra: list[str],
    *,
    port: int | None = None,
    start_args: list[str] | None = None,
    timeout_s: float = 90,
) -> tuple[subprocess.Popen[bytes], str]:
    """The app on 127.0.0.1:`port` (a free one by default), started with `start_args` after the
    venv's python (plain `streamlit run app.py` by default); returns once it is healthy."""
    port = free_port() if port is None else port
    proc = subprocess.Popen(
        [
            str(ROOT / ".venv" / "bin" / "python"),
            *(STREAMLIT_RUN if start_args is None else start_args),
            "--server.port",
            str(port),
            "--server.headless",
            "true",
            "--server.fileWatcherType",
            "none",
            *extra,
        ],
        cwd=ROOT,
        stdout=open(log, "wb"),
        stderr=subprocess.STDOUT,  # noqa: SIM115
        start_new_session=True,
    )
    url = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise RuntimeError(f"the app exited: {log.read_text()[-2000:]}")
        try:
            with urllib.request.urlopen(url + "/_stcore/health", timeout=2):
                return proc, url
        except OSError:
            time.sleep(0.1)
    stop_server(proc)
    raise RuntimeError("the app did not become healthy")


def stop_server(proc: subprocess.Popen[bytes]) -> None:
    if proc.poll() is None:
        os.killpg(proc.pid, signal.SIGTERM)
        try:
            proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            os.killpg(proc.pid, signal.SIGKILL)
            proc.wait()


def server_pid_on(port: int) -> int | None:
    """The pid listening on the port (from /proc), for memory sampling with --url."""
    inodes = set()
    for table in ("/proc/net/tcp", "/proc/net/tcp6"):
        try:
            lines = Path(table).read_text().splitlines()[1:]
        except OSError:
            continue
        for line in lines:
            parts = line.split()
            if parts[3] == "0A" and int(parts[1].rsplit(":", 1)[1], 16) == port:
                inodes.add(parts[9])
    for pid_dir in Path("/proc").glob("[0-9]*"):
        try:
            for fd in (pid_dir / "fd").iterdir():
                target = os.readlink(fd)
                if target.startswith("socket:[") and target[8:-1] in inodes:
                    return int(pid_dir.name)
        except OSError:
            continue
    return None


def cpu_seconds(pid: int) -> float:
    """User + system CPU time the process (and its reaped children) used so far."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    ticks = sum(int(f) for f in fields[11:15])  # utime, stime, cutime, cstime
    return ticks / os.sysconf("SC_CLK_TCK")


def rss_mb(pid: int) -> float:
    """Resident memory of the process (VmRSS), in MB."""
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    return float("nan")


async def sample_memory(pid: int, samples: list[tuple[float, float]], stop: asyncio.Event, t0: float) -> None:
    while not stop.is_set():
        try:
            samples.append((time.perf_counter() - t0, rss_mb(pid)))
        except OSError:
            return
        try:
            await asyncio.wait_for(stop.wait(), 1.0)
        except TimeoutError:
            pass


# --- the run ---------------------------------------------------------------------------------


async def classroom(
    url: str, pid: int | None, sessions: int, duration: float, interval: float
) -> dict[str, Any]:
    t0 = time.perf_counter()
    memory: list[tuple[float, float]] = []
    stop = asyncio.Event()
    sampler = asyncio.create_task(sample_memory(pid, memory, stop, t0)) if pid else None

    students = [Student(url, f"student{i}") for i in range(sessions)]
    await asyncio.gather(*(s.connect() for s in students))
    # Everyone opens the Playground at once, as when a teacher says "open the link".
    t_open = time.perf_counter()
    opened = await asyncio.gather(*(s.open_playground() for s in students), return_exceptions=True)
    open_s = time.perf_counter() - t_open
    open_errors = [str(e) for e in opened if isinstance(e, Exception)]
    warm_at = time.perf_counter() - t0
    cpu_start = cpu_seconds(pid) if pid else None
    deadline = time.perf_counter() + duration
    await asyncio.gather(
        *(student_loop(s, deadline, interval, seed=i) for i, s in enumerate(students) if s.widgets)
    )
    cpu_used = cpu_seconds(pid) - cpu_start if pid and cpu_start is not None else None
    moving_s = time.perf_counter() - t0 - warm_at
    await asyncio.gather(*(s.close() for s in students), return_exceptions=True)
    await asyncio.sleep(2.0)  # let the server settle, then a last memory sample
    stop.set()
    if sampler:
        await sampler

    latencies = [x for s in students for x in s.latencies]
    errors = open_errors + [f"{s.name}: {e}" for s in students for e in s.errors]
    after_warm = [m for t, m in memory if t >= warm_at]
    report: dict[str, Any] = {
        "sessions": sessions,
        "duration_s": duration,
        "interval_s": interval,
        "open_all_s": round(open_s, 2),
        "reruns": len(latencies),
        "errors": errors,
        "p50_ms": round(float(np.percentile(latencies, 50)) * 1000, 1) if latencies else None,
        "p95_ms": round(float(np.percentile(latencies, 95)) * 1000, 1) if latencies else None,
        "max_ms": round(max(latencies) * 1000, 1) if latencies else None,
        "messages_per_rerun": round(float(np.mean([m for s in students for m in s.messages])), 1)
        if latencies
        else None,
        "kb_per_rerun": round(float(np.mean([b for s in students for b in s.bytes])) / 1024, 1)
        if latencies
        else None,
        "memory_mb": [(round(t, 1), round(m, 1)) for t, m in memory],
        "server_cpu_s": round(cpu_used, 1) if cpu_used is not None else None,
        "server_cpu_per_rerun_ms": round(cpu_used / len(latencies) * 1000, 1)
        if cpu_used is not None and latencies
        else None,
        "server_cores_busy": round(cpu_used / moving_s, 2) if cpu_used is not None else None,
    }
    if after_warm:
        half = len(after_warm) // 2
        first, second = after_warm[: max(half, 1)], after_warm[half:]
        report["rss_after_warmup_mb"] = round(after_warm[0], 1)
        report["rss_end_mb"] = round(after_warm[-1], 1)
        report["rss_max_mb"] = round(max(after_warm), 1)
        # Flat: the second half of the run holds no more than the first half (+5 %).
        report["rss_growth_second_half_mb"] = round(max(second) - max(first), 1)
    return report


def print_report(r: dict[str, Any]) -> None:
    print(
        f"\nClassroom: {r['sessions']} sessions x {r['duration_s']:.0f} s, a slider move every "
        f"~{r['interval_s']:.0f} s each"
    )
    print(
        f"  all sessions opened the Playground in {r['open_all_s']:.1f} s (cold start of "
        f"{r['sessions']} sessions at once)"
    )
    print(f"  reruns: {r['reruns']}   errors: {len(r['errors'])}")
    for e in r["errors"][:10]:
        print(f"    ! {e}")
    if r["p95_ms"] is not None:
        ok = "OK" if r["p95_ms"] < 1000 else "OVER TARGET"
        print(
            f"  rerun latency (send -> script_finished): p50 {r['p50_ms']:.0f} ms   "
            f"p95 {r['p95_ms']:.0f} ms   max {r['max_ms']:.0f} ms   (target p95 < 1 s) {ok}"
        )
        print(f"  per rerun: {r['messages_per_rerun']:.0f} ForwardMsgs, {r['kb_per_rerun']:.0f} kB")
    if r.get("server_cpu_per_rerun_ms") is not None:
        print(
            f"  server CPU: {r['server_cpu_per_rerun_ms']:.0f} ms per rerun, "
            f"{r['server_cores_busy']:.2f} cores busy on average while moving "
            f"(one Python process: above ~1 core the GIL queues reruns)"
        )
    if "rss_end_mb" in r:
        print(
            f"  server RSS: after warm-up {r['rss_after_warmup_mb']:.0f} MB, max "
            f"{r['rss_max_mb']:.0f} MB, end {r['rss_end_mb']:.0f} MB; second half minus first "
            f"half: {r['rss_growth_second_half_mb']:+.1f} MB"
        )
        series = r["memory_mb"]
        step = max(1, len(series) // 12)
        print("  RSS over time: " + "  ".join(f"{t:.0f}s:{m:.0f}" for t, m in series[::step]))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sessions", type=int, default=20)
    parser.add_argument("--duration", type=float, default=60.0, help="seconds of slider moves")
    parser.add_argument("--interval", type=float, default=3.0, help="seconds between moves")
    parser.add_argument("--url", help="an already running app (default: start one)")
    parser.add_argument(
        "--streamlit-flag",
        action="append",
        default=[],
        metavar="FLAG=VALUE",
        help="extra flag for the started app, e.g. runner.postScriptGC=false",
    )
    args = parser.parse_args()
    # Bounded by construction; refuse silly sizes (this is a loopback benchmark).
    if not (1 <= args.sessions <= 200 and 1 <= args.duration <= 600 and args.interval >= 0.2):
        parser.error("sessions 1..200, duration 1..600 s, interval >= 0.2 s")

    proc = None
    try:
        if args.url:
            url = args.url.rstrip("/")
            host, port = urlparse(url).hostname, urlparse(url).port or 80
            if host not in ("127.0.0.1", "localhost", "::1"):
                parser.error("loopback only")
            pid = server_pid_on(port)
        else:
            log = Path(os.environ.get("TMPDIR", "/tmp")) / f"load_classroom_{os.getpid()}.log"
            extra = [
                part
                for flag in args.streamlit_flag
                for part in ("--" + flag.split("=", 1)[0], flag.split("=", 1)[1])
            ]
            proc, url = start_server(log, extra)
            pid = proc.pid
        print(
            f"server {url} (pid {pid}) {' '.join(args.streamlit_flag)}, load average "
            f"{', '.join(f'{x:.1f}' for x in os.getloadavg())}"
        )
        report = asyncio.run(classroom(url, pid, args.sessions, args.duration, args.interval))
        print_report(report)
        print(f"load average after: {', '.join(f'{x:.1f}' for x in os.getloadavg())}")
        sys.exit(1 if report["errors"] else 0)
    finally:
        if proc is not None:
            stop_server(proc)


if __name__ == "__main__":
    main()
