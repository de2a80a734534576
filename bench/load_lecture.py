"""A lecture hall on one machine: the classroom load against one app process and against N
replicas behind HAProxy (`scripts/run_lecture.sh`), in the same run, then a replica killed.

    .venv/bin/python bench/load_lecture.py [--sessions 40,80] [--replicas 2] [--duration 60]
        [--interval 3] [--port 8660] [--single-port 8650] [--failover-sessions 40] [--quick]
    nice -n 10 .venv/bin/python bench/load_lecture.py --training [--sliders 10] [--trainees 10]
        [--baseline 40] [--bound 300] [--slots 1,2] [--single-port 8650] [--quick]

Loopback only, bounded: a fixed number of sessions per run, a fixed duration, a timeout per
rerun (bench/load_classroom.py's simulated students, imported from there: each speaks
Streamlit's WebSocket protocol and moves the noise or steps slider every ~3 s, and every move is
checked to take effect in the URL the page writes). Through HAProxy a student first loads the
page (GET /, which sets the affinity cookie) and then opens the WebSocket with that cookie, as a
browser does.

Both servers run side by side for the whole run and the loads alternate between them (one
process at S sessions, then the replicas at S sessions), so both see the same machine. For each:
p50/p95/max rerun latency, errors, and per replica: sessions (by cookie, by HAProxy's open
sessions and by the replica's own open TCP connections), RSS and CPU.

Failover: with the replicas under load, one is killed (SIGKILL) halfway. Its students' WebSockets
drop; each does what Streamlit's frontend does (poll /_stcore/health, then reconnect, then rerun
with the URL in its address bar) and lands on another replica; it counts as "setup survived" when
the new replica renders the same setup (the same URL parameters and the slider values it last
set). Also measured: the time until HAProxy marks the dead replica DOWN (bound by health checks
alone: interval + (fall - 1) x fast interval) and the connections it sent there after that.
run_lecture.sh restarts the killed replica; moved students stay where they landed.

--training (bench/load_training.py): the issue's training load on one process: 10 sessions
press Run on the MNIST page together (a small but real CNN training each, through the page's
Run button and the admission queue) while 10 others drag Playground sliders; the sliders'
p50/p95/max with the trainings running beside a no-training baseline measured before and after
in the same run on the same sessions, the queue as the trainees saw it (most running at once,
positions shown), errors. --slots 1,2 repeats it with K = 1 and K = 2, one fresh server each.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import random
import signal
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.request
from collections import Counter
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import parse_qsl, unquote

import numpy as np
import websockets
from streamlit.proto.ForwardMsg_pb2 import ForwardMsg
from websockets.typing import Origin, Subprotocol

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "bench"))

from load_classroom import (  # noqa: E402
    OPEN_TIMEOUT_S,
    Student,
    cpu_seconds,
    sample_memory,
    server_pid_on,
    slider_value,
    start_server,
    stop_server,
)

from deploy.lecture import COOKIE_NAME, HEALTH_PATH, app_start_args, down_within_s, read_stats  # noqa: E402
from playground.admission import ENV_SLOTS, default_slots  # noqa: E402

LOOPBACK = "127.0.0.1"


# --- a student behind the load balancer ------------------------------------------------------


def _cookie_from(headers: Any) -> str | None:
    for header in headers.get_all("Set-Cookie") or []:
        key, _, value = header.split(";", 1)[0].strip().partition("=")
        if key == COOKIE_NAME:
            return value
    return None


class LectureStudent(Student):
    """load_classroom's student, plus what a browser does behind a load balancer: carry the
    affinity cookie, and after a dropped connection poll the health endpoint, reconnect and rerun
    the page from the URL in the address bar."""

    def __init__(self, base_url: str, name: str) -> None:
        super().__init__(base_url, name)
        self.base_url = base_url
        self.cookie: str | None = None
        self.replicas: list[str] = []  # the replica of each connection, by cookie
        self.dropped_at: float | None = None
        self.dropped = asyncio.Event()  # set when the connection drops: wakes a pausing student
        self.last_values: dict[str, float] = {}
        self.recovery: dict[str, Any] | None = None

    def _get(self, path: str) -> int:
        request = urllib.request.Request(self.base_url + path)
        if self.cookie:
            request.add_header("Cookie", f"{COOKIE_NAME}={self.cookie}")
        try:
            with urllib.request.urlopen(request, timeout=10) as response:
                response.read()
                self.cookie = _cookie_from(response.headers) or self.cookie
                return response.status
        except urllib.error.HTTPError as exc:
            return exc.code
        except OSError:
            return 0

    async def connect(self) -> None:
        if self.cookie is None:  # a first visit: the page itself (sets the cookie)
            status = await asyncio.to_thread(self._get, "/")
            if status != 200:
                raise RuntimeError(f"{self.name}: GET / answered {status}")
        headers = {"Cookie": f"{COOKIE_NAME}={self.cookie}"} if self.cookie else {}
        self.ws = await websockets.connect(
            self.ws_url,
            subprotocols=[Subprotocol("streamlit")],
            origin=Origin(self.origin),
            max_size=None,
            open_timeout=OPEN_TIMEOUT_S,
            additional_headers=headers,
        )
        self.cookie = _cookie_from(self.ws.response.headers) or self.cookie
        self.replicas.append(self.cookie or "?")
        self.dropped_at = None
        self.dropped.clear()
        self._reader = asyncio.create_task(self._read())

    async def _read(self) -> None:
        try:
            async for frame in self.ws:
                self._handle(frame)
        except websockets.ConnectionClosed:
            pass
        finally:
            if not getattr(self, "_closing", False):
                self.dropped_at = time.perf_counter()
                self.dropped.set()
            self._finished.set()

    async def recover(self) -> None:
        """After a drop: health poll (learns the new cookie), reconnect, rerun from the URL."""
        dropped_at = self.dropped_at or time.perf_counter()
        url_before, old = self.query_string, self.cookie
        deadline = time.perf_counter() + 60
        while await asyncio.to_thread(self._get, HEALTH_PATH) != 200:
            if time.perf_counter() > deadline:
                self.errors.append("no healthy replica within 60 s")
                return
            await asyncio.sleep(0.5)
        await self.connect()
        run = await self.rerun(page_name="playground")  # query_string: the address bar's URL
        if self.latencies:
            self.latencies.pop()  # a new session's first run, not a slider move
        sliders = {
            label: list(run.widgets[label].value or run.widgets[label].default)
            for label in self.last_values
            if label in run.widgets
        }
        same_url = sorted(parse_qsl(unquote(url_before))) == sorted(parse_qsl(unquote(self.query_string)))
        same_sliders = all(sliders.get(label) == [value] for label, value in self.last_values.items())
        self.recovery = {
            "from": old,
            "to": self.cookie,
            "seconds": time.perf_counter() - dropped_at,
            "survived": bool(run.status == ForwardMsg.FINISHED_SUCCESSFULLY and same_url and same_sliders),
            "same_url": same_url,
            "same_sliders": same_sliders,
        }


async def lecture_loop(
    student: LectureStudent, deadline: float, interval: float, seed: int, may_drop: bool
) -> None:
    """load_classroom.student_loop, plus recovery from a dropped connection when allowed."""
    rng = random.Random(seed)
    await asyncio.sleep(rng.uniform(0, interval))
    move = 0
    while time.perf_counter() < deadline and not student.errors:
        if student.dropped_at is not None:
            if not may_drop:
                student.errors.append("connection dropped")
                break
            await student.recover()
            continue
        started = time.perf_counter()
        values, expected = slider_value(rng, move)
        try:
            run = await student.rerun(values)
        except websockets.ConnectionClosed:
            continue  # dropped while sending: recover above
        if run.status is None and student.dropped_at is not None:
            continue
        if run.status is not None and expected not in unquote(student.query_string):
            student.errors.append(f"move {values} not applied (URL: {student.query_string[:80]})")
        student.last_values.update({label: v[0] for label, v in values.items()})
        move += 1
        pause = rng.uniform(0.5 * interval, 1.5 * interval) - (time.perf_counter() - started)
        try:  # a browser notices a dropped connection at once, not at the next move
            await asyncio.wait_for(
                student.dropped.wait(), max(0.0, min(pause, deadline - time.perf_counter()))
            )
        except TimeoutError:
            pass


# --- the servers -----------------------------------------------------------------------------


def established(port: int) -> int:
    """Open TCP connections whose local end is this port: a replica's own count of its clients."""
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


def start_single(port: int, log: Path) -> tuple[subprocess.Popen[bytes], str]:
    """One process as the README starts it (scripts/run_app.sh's start command), on `port`."""
    return start_server(
        log, ["--server.address", LOOPBACK], port=port, start_args=app_start_args(), timeout_s=120
    )


@dataclass
class Lecture:
    process: subprocess.Popen[bytes]
    url: str
    ports: dict[str, int]  # replica name -> port
    stats_socket: Path
    log: Path

    def pids(self) -> dict[str, int]:
        return {name: pid for name, port in self.ports.items() if (pid := server_pid_on(port))}


def start_lecture(replicas: int, port: int, run_dir: Path) -> Lecture:
    run_dir.mkdir(parents=True, exist_ok=True)
    log = run_dir / "lecture.log"
    process = subprocess.Popen(
        [
            "bash",
            str(ROOT / "scripts" / "run_lecture.sh"),
            "--replicas",
            str(replicas),
            "--port",
            str(port),
            "--bind",
            LOOPBACK,
            "--no-setup",
            "--run-dir",
            str(run_dir),
        ],
        cwd=ROOT,
        stdout=open(log, "wb"),
        stderr=subprocess.STDOUT,  # noqa: SIM115
        start_new_session=True,
    )
    deadline = time.monotonic() + 300
    while "Lecture ready" not in log.read_text():
        if process.poll() is not None or time.monotonic() > deadline:
            stop_lecture(process)
            raise RuntimeError(f"run_lecture.sh did not start: {log.read_text()[-3000:]}")
        time.sleep(0.2)
    ports = {f"r{i + 1}": port + 1 + i for i in range(replicas)}
    return Lecture(process, f"http://{LOOPBACK}:{port}", ports, run_dir / "haproxy.sock", log)


def stop_lecture(process: subprocess.Popen[bytes]) -> None:
    if process.poll() is None:
        process.send_signal(signal.SIGTERM)  # run_lecture.sh stops HAProxy and every replica
        try:
            process.wait(timeout=30)
        except subprocess.TimeoutExpired:
            os.killpg(process.pid, signal.SIGKILL)
            process.wait()


# --- one load --------------------------------------------------------------------------------


def summarize(latencies: list[float]) -> dict[str, float | None]:
    if not latencies:
        return {"p50_ms": None, "p95_ms": None, "max_ms": None}
    return {
        "p50_ms": round(float(np.percentile(latencies, 50)) * 1000, 1),
        "p95_ms": round(float(np.percentile(latencies, 95)) * 1000, 1),
        "max_ms": round(max(latencies) * 1000, 1),
    }


async def hall(
    url: str,
    pids: dict[str, int],
    sessions: int,
    duration: float,
    interval: float,
    lecture: Lecture | None = None,
    kill_at: float | None = None,
) -> dict[str, Any]:
    """S students on url for `duration` s; with kill_at, the busiest replica is killed then."""
    t0 = time.perf_counter()
    stop = asyncio.Event()
    memory: dict[str, list[tuple[float, float]]] = {name: [] for name in pids}
    samplers = [asyncio.create_task(sample_memory(pid, memory[name], stop, t0)) for name, pid in pids.items()]
    students = [LectureStudent(url, f"student{i}") for i in range(sessions)]
    placement: dict[str, Any] = {}
    if lecture is not None:  # sessions left open from an earlier load (should be none)
        stats = read_stats(lecture.stats_socket)
        placement["open_before"] = {n: int(stats[n]["scur"]) for n in lecture.ports}
    connected = await asyncio.gather(*(s.connect() for s in students), return_exceptions=True)
    t_open = time.perf_counter()
    opened = await asyncio.gather(
        *(s.open_playground() for s in students if s.ws is not None), return_exceptions=True
    )
    open_s = time.perf_counter() - t_open
    setup_errors = [str(e) for e in (*connected, *opened) if isinstance(e, Exception)]
    warm_at = time.perf_counter() - t0
    cpu0 = {name: cpu_seconds(pid) for name, pid in pids.items()}
    deadline = time.perf_counter() + duration
    failover: dict[str, Any] = {}
    killer = None
    if lecture is not None and kill_at is not None:
        killer = asyncio.create_task(kill_one(lecture, students, kill_at, deadline, failover))
    loops = [
        lecture_loop(s, deadline, interval, seed=i, may_drop=kill_at is not None)
        for i, s in enumerate(students)
        if s.widgets
    ]
    # Mid-run, who is where: by cookie, by HAProxy, by each replica's open connections.

    async def look() -> None:
        await asyncio.sleep(min(duration / 3, (kill_at or duration) / 2))
        placement["by_cookie"] = dict(Counter(s.cookie for s in students if s.ws is not None))
        if lecture is not None:
            stats = await asyncio.to_thread(read_stats, lecture.stats_socket)
            placement["haproxy_open"] = {n: int(stats[n]["scur"]) for n in lecture.ports}
            # Each replica's own open connections, less HAProxy's idle pooled HTTP connections.
            placement["tcp_open"] = {
                n: established(p) - int(stats[n]["idle_conn_cur"] or 0) for n, p in lecture.ports.items()
            }

    await asyncio.gather(*loops, look())
    if killer is not None:
        await killer
    cpu = {name: cpu_seconds(pid) - cpu0[name] for name, pid in pids.items() if Path(f"/proc/{pid}").exists()}
    moving_s = time.perf_counter() - t0 - warm_at
    await asyncio.gather(*(s.close() for s in students), return_exceptions=True)
    await asyncio.sleep(1.0)
    stop.set()
    await asyncio.gather(*samplers)

    latencies = [x for s in students for x in s.latencies]
    errors = setup_errors + [f"{s.name}: {e}" for s in students for e in s.errors]
    report: dict[str, Any] = {
        "sessions": sessions,
        "duration_s": duration,
        "open_all_s": round(open_s, 1),
        "reruns": len(latencies),
        "errors": errors,
        **summarize(latencies),
        "placement": placement,
        "moved": sum(len(set(s.replicas)) > 1 for s in students),
        "cpu_cores": {n: round(c / moving_s, 2) for n, c in cpu.items()},
        "rss_mb": {
            n: (round(w[0]), round(max(w)), round(w[-1]))
            for n, m in memory.items()
            if (w := [x for t, x in m if t >= warm_at])
        },
    }
    if failover:
        recovered = [s.recovery for s in students if s.recovery]
        report["failover"] = {
            **failover,
            "sessions_on_killed": failover["sessions_on_killed"],
            "reconnected": len(recovered),
            "setup_survived": sum(r["survived"] for r in recovered),
            "landed_on": dict(Counter(r["to"] for r in recovered)),
            "recovery_s": summarize([r["seconds"] for r in recovered]),
            "not_survived": [r for r in recovered if not r["survived"]][:5],
        }
    return report


async def kill_one(
    lecture: Lecture, students: list[LectureStudent], at: float, deadline: float, out: dict[str, Any]
) -> None:
    """Kill the replica with the most students at `at` s; time HAProxy's DOWN."""
    await asyncio.sleep(at)
    counts = Counter(s.cookie for s in students)
    victim = max(lecture.ports, key=lambda n: counts.get(n, 0))
    pid = server_pid_on(lecture.ports[victim])
    if pid is None:
        raise RuntimeError(f"no process listens on {victim}'s port")
    before = await asyncio.to_thread(read_stats, lecture.stats_socket)
    killed_at = time.perf_counter()
    os.kill(pid, signal.SIGKILL)
    out.update(victim=victim, sessions_on_killed=counts.get(victim, 0))
    down_at = None
    while time.perf_counter() - killed_at < 60:
        stats = await asyncio.to_thread(read_stats, lecture.stats_socket)
        if down_at is None and stats[victim]["status"].startswith("DOWN"):
            down_at = time.perf_counter()
            at_down = stats[victim]
        if down_at is not None and (
            stats[victim]["status"].startswith("UP") or time.perf_counter() > deadline
        ):
            break
        await asyncio.sleep(0.02)
    out["down_after_s"] = round(down_at - killed_at, 3) if down_at else None
    out["health_check_bound_s"] = down_within_s()
    if down_at is not None:
        # Attempts HAProxy made on the dead replica after marking it DOWN, until it came back.
        def attempts(row: dict[str, str]) -> int:
            return int(row["stot"] or 0) + int(row["econ"] or 0)

        out["attempts_before_down"] = attempts(at_down) - attempts(before[victim])
        out["attempts_after_down"] = attempts(stats[victim]) - attempts(at_down)
        out["came_back_after_s"] = (
            round(time.perf_counter() - killed_at, 1) if stats[victim]["status"].startswith("UP") else None
        )


def kill_idle(lecture: Lecture, victim: str = "r1") -> dict[str, Any]:
    """With no traffic, kill a replica: HAProxy's health checks alone must take it out."""
    deadline = time.monotonic() + 120
    while not read_stats(lecture.stats_socket)[victim]["status"].startswith("UP"):
        if time.monotonic() > deadline:
            return {"victim": victim, "down_after_s": None}
        time.sleep(0.1)
    pid = server_pid_on(lecture.ports[victim])
    if pid is None:
        return {"victim": victim, "down_after_s": None, "why": "no process found on its port"}
    killed_at = time.perf_counter()
    os.kill(pid, signal.SIGKILL)
    checked_pid_at = killed_at
    while time.perf_counter() - killed_at < 30:
        if read_stats(lecture.stats_socket)[victim]["status"].startswith("DOWN"):
            return {"victim": victim, "down_after_s": round(time.perf_counter() - killed_at, 3)}
        if time.perf_counter() - checked_pid_at > 0.5:  # run_lecture.sh restarts a dead replica
            checked_pid_at = time.perf_counter()
            now = server_pid_on(lecture.ports[victim])
            if now is not None and now != pid:
                back = round(checked_pid_at - killed_at, 2)
                return {
                    "victim": victim,
                    "down_after_s": None,
                    "why": f"restarted after {back} s, before a check failed",
                }
        time.sleep(0.02)
    return {"victim": victim, "down_after_s": None, "why": "not DOWN within 30 s"}


# --- report ----------------------------------------------------------------------------------


def print_run(label: str, r: dict[str, Any]) -> None:
    lat = (
        f"p50 {r['p50_ms']:.0f} ms  p95 {r['p95_ms']:.0f} ms  max {r['max_ms']:.0f} ms"
        if r["p95_ms"] is not None
        else "no reruns"
    )
    print(
        f"  {label:<28} {r['sessions']:>3} sessions  reruns {r['reruns']:>5}  errors "
        f"{len(r['errors']):>3}  {lat}  (all opened in {r['open_all_s']:.1f} s)"
    )
    for e in r["errors"][:5]:
        print(f"      ! {e}")
    p = r["placement"]
    if "haproxy_open" in p:
        print(
            f"      sessions by cookie {p['by_cookie']}, HAProxy open {p['haproxy_open']}, "
            f"replica TCP open less HAProxy's idle pool {p['tcp_open']}; sessions that changed "
            f"replica: {r['moved']} (open before the run: {p['open_before']})"
        )
    print(f"      CPU cores busy {r['cpu_cores']}; RSS MB (after warm-up, max, end) {r['rss_mb']}")


def training_main(args: argparse.Namespace, parser: argparse.ArgumentParser) -> None:
    """The training load (bench/load_training.py) against one process per K value."""
    from load_training import print_training, training_hall

    if not (
        1 <= args.sliders <= 50
        and 1 <= args.trainees <= 50
        and 5 <= args.baseline <= 300
        and 10 <= args.bound <= 900
        and args.interval >= 0.2
    ):
        parser.error("sliders, trainees 1..50, baseline 5..300 s, bound 10..900 s")
    if args.quick:
        args.sliders, args.trainees, args.baseline, args.bound = 3, 3, 10.0, 60.0
    load = lambda: ", ".join(f"{x:.1f}" for x in os.getloadavg())  # noqa: E731
    print(f"load average before: {load()} ({os.cpu_count()} cores)")
    for slots in args.slots.split(",") if args.slots else [""]:
        env_before = os.environ.get(ENV_SLOTS)
        if slots:
            os.environ[ENV_SLOTS] = slots
        else:
            os.environ.pop(ENV_SLOTS, None)
        single = None
        with tempfile.TemporaryDirectory(prefix="load_training_") as tmp:
            try:
                single, url = start_single(args.single_port, Path(tmp) / "single.log")
                r = asyncio.run(
                    training_hall(
                        url, single.pid, args.sliders, args.trainees, args.baseline, args.bound, args.interval
                    )
                )
                print_training(r, slots or f"the default ({default_slots()})")
            finally:
                if single is not None:
                    stop_server(single)
                if env_before is None:
                    os.environ.pop(ENV_SLOTS, None)
                else:
                    os.environ[ENV_SLOTS] = env_before
    print(f"load average after: {load()}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sessions", default="40,80", help="comma-separated session counts")
    parser.add_argument("--replicas", type=int, default=2)
    parser.add_argument("--duration", type=float, default=60.0, help="seconds of slider moves")
    parser.add_argument("--interval", type=float, default=3.0, help="seconds between moves")
    parser.add_argument("--port", type=int, default=8660, help="HAProxy (replicas on the next ports)")
    parser.add_argument("--single-port", type=int, default=8650, help="the single process")
    parser.add_argument("--failover-sessions", type=int, default=40, help="0: no failover run")
    parser.add_argument("--quick", action="store_true", help="a short validation run")
    parser.add_argument(
        "--training",
        action="store_true",
        help="only the training load: sliders vs students pressing Run on MNIST, one process",
    )
    parser.add_argument("--sliders", type=int, default=10, help="--training: slider sessions")
    parser.add_argument("--trainees", type=int, default=10, help="--training: sessions pressing Run")
    parser.add_argument("--baseline", type=float, default=40.0, help="--training: seconds per baseline")
    parser.add_argument("--bound", type=float, default=300.0, help="--training: Stop pressed after (s)")
    parser.add_argument(
        "--slots",
        default="",
        help="--training: comma-separated K values to run in turn, one server each "
        "(OPTIM_PLAYGROUND_TRAINING_SLOTS; empty: the app's default)",
    )
    args = parser.parse_args()
    if args.training:
        training_main(args, parser)
        return
    if args.quick:
        args.sessions, args.duration, args.failover_sessions = "6,12", 12.0, min(args.failover_sessions, 8)
    sessions = [int(s) for s in args.sessions.split(",")]
    if not (
        all(1 <= s <= 200 for s in sessions)
        and 1 <= args.duration <= 600
        and args.interval >= 0.2
        and 1 <= args.replicas <= 8
        and 0 <= args.failover_sessions <= 200
    ):
        parser.error("sessions 1..200, duration 1..600 s, interval >= 0.2 s, replicas 1..8")

    load = lambda: ", ".join(f"{x:.1f}" for x in os.getloadavg())  # noqa: E731
    print(f"load average before: {load()} ({os.cpu_count()} cores)")
    single = lecture = None
    with tempfile.TemporaryDirectory(prefix="load_lecture_") as tmp:
        try:
            single, single_url = start_single(args.single_port, Path(tmp) / "single.log")
            lecture = start_lecture(args.replicas, args.port, Path(tmp) / "lecture")
            print(
                f"one process: {single_url} (pid {single.pid}); {args.replicas} replicas behind "
                f"HAProxy: {lecture.url} {lecture.pids()}"
            )
            results = []
            for s in sessions:
                one = asyncio.run(hall(single_url, {"single": single.pid}, s, args.duration, args.interval))
                print_run("one process", one)
                many = asyncio.run(
                    hall(lecture.url, lecture.pids(), s, args.duration, args.interval, lecture=lecture)
                )
                print_run(f"{args.replicas} replicas + HAProxy", many)
                results.append((s, one, many))
                print(f"      load average now: {load()}")
            print("\nSummary (same run, same machine, loads alternating):")
            print("  sessions | one process p95 | replicas p95 | ratio | errors (one / replicas)")
            for s, one, many in results:
                ratio = (many["p95_ms"] / one["p95_ms"]) if one["p95_ms"] and many["p95_ms"] else None
                print(
                    f"  {s:>8} | {one['p95_ms'] or 0:>12.0f} ms | {many['p95_ms'] or 0:>9.0f} ms | "
                    f"{ratio if ratio is not None else float('nan'):.2f} | "
                    f"{len(one['errors'])} / {len(many['errors'])}"
                )
            if args.failover_sessions:
                duration = max(args.duration, 30.0)
                r = asyncio.run(
                    hall(
                        lecture.url,
                        lecture.pids(),
                        args.failover_sessions,
                        duration,
                        args.interval,
                        lecture=lecture,
                        kill_at=duration / 2,
                    )
                )
                print("\nFailover: one replica killed (SIGKILL) halfway")
                print_run(f"{args.replicas} replicas, one killed", r)
                f = r["failover"]
                print(
                    f"      killed {f['victim']} holding {f['sessions_on_killed']} sessions; HAProxy "
                    f"marked it DOWN after {f['down_after_s']} s (health checks alone: <= "
                    f"{f['health_check_bound_s']} s); connections it sent there: "
                    f"{f.get('attempts_before_down')} before DOWN, {f.get('attempts_after_down')} after "
                    f"(restarted replica back UP after {f.get('came_back_after_s')} s)"
                )
                rec = f["recovery_s"]
                print(
                    f"      reconnected {f['reconnected']} of {f['sessions_on_killed']}, landed on "
                    f"{f['landed_on']}; setup survived (same URL and sliders): "
                    f"{f['setup_survived']} of {f['reconnected']}; drop -> page back: p50 "
                    f"{rec['p50_ms']} ms, max {rec['max_ms']} ms"
                )
                for bad in f["not_survived"]:
                    print(f"      ! not survived: {bad}")
                idle = kill_idle(lecture)
                down = (
                    f"marked it DOWN after {idle['down_after_s']} s"
                    if idle["down_after_s"] is not None
                    else f"did not mark it DOWN ({idle.get('why')})"
                )
                print(
                    f"  no traffic: killed {idle['victim']}, HAProxy's health checks {down} "
                    f"(bound: {down_within_s()} s)"
                )
        finally:
            if lecture is not None:
                stop_lecture(lecture.process)
            if single is not None:
                stop_server(single)
    print(f"load average after: {load()}")


if __name__ == "__main__":
    main()
