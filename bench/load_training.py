"""Training load on one app process: students pressing Run on the MNIST page while others drag
Playground sliders (issue 13: "10 sessions pressing Run together while 10 others drag sliders";
the sliders' p95 must stay < 1 s). Used by `bench/load_lecture.py --training`.

Every student speaks Streamlit's WebSocket protocol (load_classroom.Student). A slider student
opens the Playground and moves the noise or steps slider every ~3 s, each move checked in the
URL the page writes. A trainee opens the MNIST page from a link holding a small but real
training (TRAINING: the article's CNN, 500 of the offline sample's images, 1 epoch, batch 64,
the page's four default optimizers; each trainee its own seed, so no result comes from the
cache), presses the page's own "▶ Run" button, and then does what the browser does while the
page shows the running job: rerun the page's progress fragment at the interval the server asked
for (run_every), reading the progress text ("Queued: position N of M, about T", "Compiling",
"Training"), until the job's end reruns the full page and its "Results" appear. A trainee still
training at the bound presses "■ Stop".

Phases, all on the same server and the same sessions: the sliders alone (the baseline), then
everyone presses Run together and the sliders keep moving until the last training ends (or the
bound), then the sliders alone again (a second baseline: the machine is shared).
"""

from __future__ import annotations

import asyncio
import os
import random
import re
import time
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import unquote, urlencode

import numpy as np
from load_classroom import Rerun, Student, cpu_seconds, slider_value

RUN, STOP = "▶ Run", "■ Stop"
POSITION = re.compile(r"Queued: position (\d+) of (\d+)")
WAITING_PREFIXES = ("Queued", "Waiting")  # the job is not admitted yet
TRAINING = {"model": "cnn", "data": "sample", "train_size": 500, "epochs": 1, "batch_size": 64}


def training_query(seed: int) -> str:
    """The MNIST page's URL query for TRAINING with this seed (the page's own codec)."""
    from playground.mnist_page import to_query
    from playground.mnist_setup import MnistSetup

    return urlencode(to_query(MnistSetup(seed=seed, **TRAINING)), doseq=True)  # type: ignore[arg-type]


def describe_training() -> str:
    t = TRAINING
    return (
        f"{str(t['model']).upper()}, {t['train_size']:,} {t['data']} images, {t['epochs']} epoch, "
        f"batch {t['batch_size']}, the page's 4 default optimizers, one seed per trainee"
    )


@dataclass
class Observation:
    t: float  # seconds since the presses
    text: str


@dataclass
class TraineeLog:
    pressed: float | None = None
    observations: list[Observation] = field(default_factory=list)
    outcome: str = "not pressed"
    finished: float | None = None  # seconds since the presses when it ended (seen)
    errors: list[str] = field(default_factory=list)

    def running_polls(self) -> list[float]:
        return [o.t for o in self.observations if not o.text.startswith(WAITING_PREFIXES)]

    def positions(self) -> list[tuple[int, int]]:
        return [(int(m[1]), int(m[2])) for o in self.observations if (m := POSITION.search(o.text))]


class Trainee(Student):
    """A student on the MNIST page who presses Run and watches the job through its fragment."""

    def __init__(self, base_url: str, name: str, query: str) -> None:
        super().__init__(base_url, name)
        self.query_string = query  # the link the teacher handed out
        self.log = TraineeLog()
        self.polls: list[float] = []  # fragment rerun latencies

    async def open_mnist(self) -> None:
        await self.rerun(page_name="mnist")
        self.latencies.clear()
        if RUN not in self.widgets or STOP not in self.widgets:
            raise RuntimeError(f"{self.name}: no Run/Stop on the MNIST page ({self.errors[:2]})")

    def _observe(self, run: Rerun, t0: float) -> None:
        t = time.perf_counter() - t0
        self.log.observations += [Observation(t, text) for text in run.progress]
        self.log.errors += [body[:200] for fmt, body in run.alerts if fmt == "ERROR"]

    async def train(self, t0: float, bound_at: float) -> None:
        self.log.pressed = time.perf_counter() - t0
        run = await self.rerun(press=RUN)
        self._observe(run, t0)
        stopped = False
        while self.auto_rerun is not None and not self.errors:
            if not stopped and time.perf_counter() > bound_at:
                run = await self.rerun(press=STOP)  # a full rerun; the fragment goes on
                self._observe(run, t0)
                stopped = True
                continue
            interval, fragment = self.auto_rerun
            await asyncio.sleep(interval)
            started = time.perf_counter()
            run = await self.rerun(fragment_id=fragment)
            if run.status is not None:
                self.polls.append(time.perf_counter() - started)
            self._observe(run, t0)
        self.latencies.clear()  # a trainee's reruns are not slider moves
        if "Results" in run.headings:
            self.log.outcome = "stopped at the bound" if stopped else "finished"
        elif self.log.errors:
            self.log.outcome = "refused or failed"
        elif stopped and not self.log.running_polls():
            self.log.outcome = "stopped at the bound while queued"
        else:
            self.log.outcome = "ended without results"
        self.log.finished = time.perf_counter() - t0


async def slider_loop(student: Student, until: asyncio.Event, interval: float, rng: random.Random) -> None:
    """load_classroom.student_loop, ending when `until` is set (never cut mid-rerun)."""
    move = 0
    while not until.is_set() and not student.errors:
        started = time.perf_counter()
        values, expected = slider_value(rng, move)
        run = await student.rerun(values)
        if run.status is not None and expected not in unquote(student.query_string):
            student.errors.append(f"move {values} not applied (URL: {student.query_string[:80]})")
        move += 1
        pause = rng.uniform(0.5 * interval, 1.5 * interval) - (time.perf_counter() - started)
        try:
            await asyncio.wait_for(until.wait(), max(0.0, pause))
        except TimeoutError:
            pass


def stats(latencies: list[float]) -> dict[str, Any]:
    if not latencies:
        return {"n": 0, "p50_ms": None, "p95_ms": None, "max_ms": None}
    ms = np.array(latencies) * 1000
    return {
        "n": len(ms),
        "p50_ms": round(float(np.percentile(ms, 50))),
        "p95_ms": round(float(np.percentile(ms, 95))),
        "max_ms": round(float(ms.max())),
    }


def max_running(logs: list[TraineeLog]) -> int:
    """The most trainees seen running at one poll instant: each trainee counts as running from
    its first to its last poll that showed the job admitted (loading, compiling, training), so a
    job that ends and the next that starts between two polls are never counted together."""
    spans = [(p[0], p[-1]) for log in logs if (p := log.running_polls())]
    instants = sorted({t for s in spans for t in s})
    return max((sum(a <= t <= b for a, b in spans) for t in instants), default=0)


async def training_hall(
    url: str, pid: int | None, sliders: int, trainees: int, baseline_s: float, bound_s: float, interval: float
) -> dict[str, Any]:
    load = lambda: [round(x, 1) for x in os.getloadavg()]  # noqa: E731
    movers = [Student(url, f"slider{i}") for i in range(sliders)]
    trainers = [Trainee(url, f"trainee{i}", training_query(seed=100 + i)) for i in range(trainees)]
    await asyncio.gather(*(s.connect() for s in (*movers, *trainers)))
    # One session per page first: a fresh server importing both pages' modules for 20 sessions
    # at once has failed with an import deadlock (_frozen_importlib._DeadlockError, seen once).
    await movers[0].open_playground()
    await trainers[0].open_mnist()
    t_open = time.perf_counter()
    await asyncio.gather(*(s.open_playground() for s in movers[1:]), *(t.open_mnist() for t in trainers[1:]))
    open_s = time.perf_counter() - t_open
    rngs = [random.Random(i) for i in range(sliders)]
    phases: dict[str, Any] = {}

    async def phase(name: str, body: Any) -> None:
        before = [len(s.latencies) for s in movers]
        cpu0, t0, load0 = cpu_seconds(pid) if pid else None, time.perf_counter(), load()
        until = asyncio.Event()
        loops = [
            asyncio.create_task(slider_loop(s, until, interval, r)) for s, r in zip(movers, rngs, strict=True)
        ]
        await body(until)
        until.set()
        await asyncio.gather(*loops)
        wall = time.perf_counter() - t0
        lat = [x for s, n in zip(movers, before, strict=True) for x in s.latencies[n:]]
        phases[name] = {
            **stats(lat),
            "seconds": round(wall, 1),
            "load_before": load0,
            "load_after": load(),
            "server_cores": round((cpu_seconds(pid) - cpu0) / wall, 2) if pid and cpu0 is not None else None,
        }

    async def sleep(until: asyncio.Event) -> None:
        await asyncio.sleep(baseline_s)

    async def press_all(until: asyncio.Event) -> None:
        t0 = time.perf_counter()
        await asyncio.gather(*(t.train(t0, t0 + bound_s) for t in trainers))

    await phase("baseline before", sleep)
    await phase("training", press_all)
    await phase("baseline after", sleep)
    await asyncio.gather(*(s.close() for s in (*movers, *trainers)), return_exceptions=True)

    logs = [t.log for t in trainers]
    positions = [p for log in logs for p in log.positions()]
    admitted = [p[0] - (log.pressed or 0.0) for log in logs if (p := log.running_polls())]
    ran = [(p[-1] - p[0]) for log in logs if len(p := log.running_polls()) >= 2]
    return {
        "sliders": sliders,
        "trainees": trainees,
        "open_all_s": round(open_s, 1),
        "phases": phases,
        "slider_errors": [f"{s.name}: {e}" for s in movers for e in s.errors],
        "trainee_errors": [f"{t.name}: {e}" for t in trainers for e in t.errors + t.log.errors],
        "outcomes": {o: sum(log.outcome == o for log in logs) for o in {log.outcome for log in logs}},
        "max_running": max_running(logs),
        "queue_positions_seen": sorted(set(positions)),
        "largest_queue_seen": max((m for _, m in positions), default=0),
        "wait_s": stats(admitted),  # press -> first seen admitted
        "training_s": stats(ran),  # first -> last poll seen admitted, per trainee
        "all_done_s": round(max((log.finished or 0.0 for log in logs), default=0.0), 1),
        "fragment_polls": stats([x for t in trainers for x in t.polls]),
    }


def print_training(r: dict[str, Any], slots: str) -> None:
    def lat(s: dict[str, Any]) -> str:
        if s["p95_ms"] is None:
            return "no reruns"
        return f"p50 {s['p50_ms']} ms  p95 {s['p95_ms']} ms  max {s['max_ms']} ms  ({s['n']} reruns)"

    print(
        f"\nTraining load: {r['sliders']} sessions dragging Playground sliders, {r['trainees']} "
        f"pressing Run on MNIST together ({describe_training()}); training slots K = {slots}"
    )
    print(f"  all {r['sliders'] + r['trainees']} sessions opened their page in {r['open_all_s']} s")
    for name, p in r["phases"].items():
        ok = "" if p["p95_ms"] is None else ("  p95 < 1 s: OK" if p["p95_ms"] < 1000 else "  p95 >= 1 s")
        print(
            f"  sliders, {name:<16} {lat(p)}{ok}; {p['seconds']} s, server {p['server_cores']} cores, "
            f"load average {p['load_before']} -> {p['load_after']}"
        )
    print(
        f"  trainings: {r['outcomes']}; at most {r['max_running']} running at once; largest queue "
        f"seen {r['largest_queue_seen']}; queue positions seen (N of M): {r['queue_positions_seen']}"
    )
    w, t = r["wait_s"], r["training_s"]
    print(
        f"  press -> admitted: p50 {w['p50_ms']} ms, max {w['max_ms']} ms; admitted -> done, per "
        f"training: p50 {t['p50_ms']} ms, max {t['max_ms']} ms; all done {r['all_done_s']} s after "
        f"the presses; trainees' progress polls: {lat(r['fragment_polls'])}"
    )
    errors = r["slider_errors"] + r["trainee_errors"]
    print(f"  errors: {len(r['slider_errors'])} (sliders), {len(r['trainee_errors'])} (trainees)")
    for e in errors[:8]:
        print(f"      ! {e}")
