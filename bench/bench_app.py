"""Speed of the Playground as a user feels it, beside Streamlit's own floor measured in the same run.

    .venv/bin/python bench/bench_app.py [--quick] [--skip-rerun] [--skip-startup] [--json out.json]

The floor is bench/floor_app.py: one st.slider and one st.plotly_chart of a 200-point line that
depends on the slider (issue 10). Servers bind 127.0.0.1 on ports 8620-8629 and are stopped at
the end.

a. Server-side work of a Playground rerun after a slider move, 4 optimizers x 500 steps on
   Rosenbrock, per tab: the batched run (a cache miss: every move is a new setup), the figures of
   the open tab, and their serialization exactly as st.plotly_chart does it (validate, then
   plotly.io.to_json). p50/p95 over many moves (target p95 < 50 ms on every tab), against two
   baselines from this run: the no-op rerun (same setup, cached run) and the same rerun with a
   NumPy per-step loop instead of the jitted engine. JSON bytes per figure. JAX compiles counted
   across the moves (must be 0 after warm-up). Also the whole page script through AppTest (an
   upper bound: it adds AppTest's own overhead).
b. Start-up to the first chart drawn in Chromium, in interleaved rounds: the floor app's own
   `streamlit run bench/floor_app.py`; `bash scripts/run_app.sh` (the README's command, extra
   arguments go to Streamlit) with a warm JAX cache (target <= 1.5x the floor); a bare
   `streamlit run app.py` with an empty JAX cache directory (target <= 2x) and again warm. From
   spawning the server to the first animation frame in which a chart's SVG is visible, checked
   in the page on every frame (CHART_DRAWN_AT).
c. Slider release -> chart redrawn with new data, in Chromium: Adam's α (a log slider; its card
   opened first) on the default Playground's Paths, Animation, 3D view, Curves and Internals tabs
   (Internals explains Adam: focus=3 in the URL) and on the Compare page's small multiples, each
   move interleaved with a move on the floor app. Measured in the page: from the mouse release
   (pointerup) to the animation frame in which the last chart whose data (gd.data) changed shows
   its new data; then the script finished and the status widget gone ("idle"), and the bytes and
   messages the WebSocket received per move. p50/p95 and the ratio to the floor (targets p50 <=
   1.5x, p95 <= 2x). Every move reaches an α not yet visited in its case and every case has its
   own noise seed in the URL (σ = 0: the default paths), so no move is a cache hit.
"""

from __future__ import annotations

import argparse
import functools
import gzip
import json
import os
import re
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
import urllib.request
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

import jax  # noqa: E402
import numpy as np  # noqa: E402
import plotly.io  # noqa: E402
import plotly.tools  # noqa: E402

from optim_core import engine  # noqa: E402
from optim_core.engine import RunConfig, run_batch  # noqa: E402
from playground.compute import PlaygroundRun, entry_label, run_setup  # noqa: E402
from playground.setup import OptimizerEntry, Setup  # noqa: E402
from viz import contour as vc  # noqa: E402
from viz import curves as vcurves  # noqa: E402
from viz import internals as vi  # noqa: E402
from viz.colors import color_for  # noqa: E402

CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
CHART = ".js-plotly-plot .main-svg"
# The wall-clock time (ms) of the first animation frame in which the first CHART element is
# visible as Playwright defines it (rendered, visibility visible, a non-empty box). Checked in
# the page on every frame: wait_for_selector polls every 500 ms after its first tries, which
# added up to half a second, at random, to a start-up's figure.
CHART_DRAWN_AT = f"""() => {{
  const el = document.querySelector("{CHART}");
  if (!el || (el.checkVisibility && !el.checkVisibility())) return false;
  if (getComputedStyle(el).visibility !== "visible") return false;
  const box = el.getBoundingClientRect();
  return box.width > 0 && box.height > 0 ? Date.now() : false;
}}"""
READ_FIGURES = """() => JSON.stringify(Array.from(document.querySelectorAll('.js-plotly-plot'))
    .map(gd => (gd.data || []).map(t => [t.name, t.x, t.y])))"""

# JAX's own count of XLA compiles (a persistent-cache hit does not fire this event).
COMPILES = {"n": 0}


def _count_compile(event: str, duration_secs: float, **kwargs: str | int) -> None:
    if event == "/jax/core/compile/backend_compile_duration":
        COMPILES["n"] += 1


jax.monitoring.register_event_duration_secs_listener(_count_compile)


def pct(values: Sequence[float], q: float) -> float:
    return float(np.percentile(np.asarray(values), q))


def summary(values_s: Sequence[float]) -> dict[str, float]:
    ms = [v * 1000 for v in values_s]
    return {
        "p50_ms": round(pct(ms, 50), 2),
        "p95_ms": round(pct(ms, 95), 2),
        "max_ms": round(max(ms), 2),
        "n": len(ms),
    }


def show(name: str, s: dict[str, float], target_ms: float | None = None) -> None:
    verdict = "" if target_ms is None else (" OK" if s["p95_ms"] < target_ms else " OVER TARGET")
    print(f"  {name:<46} p50 {s['p50_ms']:8.1f} ms   p95 {s['p95_ms']:8.1f} ms   (n={s['n']}){verdict}")


# --- a. server-side rerun ---------------------------------------------------------------------


def streamlit_payload(fig: Any) -> str:
    """What st.plotly_chart does to a figure before sending it (streamlit 1.67)."""
    figure = plotly.tools.return_figure_from_figure_or_data(fig, validate_figure=True)
    return plotly.io.to_json(figure, validate=False)


def tab_figures(tab: str, setup: Setup, result: PlaygroundRun) -> list[Any]:
    """The figures the Playground builds for one open tab (as app_pages/playground.py does)."""
    surface, params = result.surface, dict(setup.surface_params)
    trajectories = list(result.trajectories)
    colors = [color_for(i) for i in range(len(trajectories))]
    if tab == "Paths":
        return [vc.contour_figure(surface, trajectories, params, colors=colors)]
    if tab == "Animation":
        return [vc.animated_contour_figure(surface, trajectories, params, colors=colors)]
    if tab == "3D view":
        return [vc.surface3d_figure(surface, trajectories, params, colors=colors)]
    if tab == "Curves":
        return [
            vcurves.loss_figure(trajectories, surface, params, colors=colors),
            vcurves.distance_figure(surface, trajectories, colors=colors),
            vcurves.step_length_figure(trajectories, colors=colors),
        ]
    if tab == "Internals":
        traj, step = trajectories[-1], setup.steps // 2
        return [
            vi.internals_arrows_figure(surface, traj, step, params, color=colors[-1]),
            vi.effective_step_figure(traj, step, color=colors[-1]),
            vi.moments_figure(traj, step, color=colors[-1]),
        ]
    raise ValueError(tab)


def move(state: Setup, i: int) -> Setup:
    """The i-th slider move from the current state: one control changes, in turn.

    The state accumulates, as on the page, so no setup repeats (every move is a cache miss).
    u runs through [0, 1) without repeating (golden-ratio steps)."""
    u = (i * 0.6180339887498949) % 1.0
    kind = i % 5
    entries = list(state.optimizers)
    if kind == 0:  # Adam's α (log slider)
        e = entries[3]
        entries[3] = OptimizerEntry(e.name, {**e.hparams, "learning_rate": 0.005 + 0.03 * u}, e.preset)
        return state.with_changes(optimizers=tuple(entries))
    if kind == 1:  # momentum's μ
        e = entries[1]
        entries[1] = OptimizerEntry(e.name, {**e.hparams, "momentum": 0.5 + 0.45 * u}, e.preset)
        return state.with_changes(optimizers=tuple(entries))
    if kind == 2:  # noise σ
        return state.with_changes(noise=0.01 + 0.5 * u)
    if kind == 3:  # start point (a click on the map)
        return state.with_changes(start=(-1.8 + 1.5 * u, 1.5 + u))
    return state.with_changes(steps=460 + int(40 * u))  # steps, inside one step bucket


def moves_from(base: Setup, n: int, offset: int) -> list[Setup]:
    out, state = [], base
    for i in range(offset, offset + n):
        state = move(state, i)
        out.append(state)
    return out


def engine_only(setup: Setup) -> Any:
    """Just the jitted engine call that run_setup makes (no JSON round trip, no metrics)."""
    start = setup.resolved_start()
    configs = [
        RunConfig(e.name, dict(e.hparams), e.preset, start, entry_label(setup, i))
        for i, e in enumerate(setup.optimizers)
    ]
    return run_batch(
        setup.resolved_surface(),
        configs,
        steps=setup.steps,
        seed=setup.seed,
        noise=setup.noise,
        schedule=setup.schedule,
        surface_params=dict(setup.surface_params),
    )


def numpy_runs(setup: Setup) -> list[np.ndarray]:
    """The baseline engine: a Python loop per optimizer, NumPy per step (paths, grads, updates
    recorded like the engine records them), for the default four on Rosenbrock."""
    out = []
    x0, y0 = setup.resolved_start()
    for entry in setup.optimizers:
        h = entry.hparams
        p = np.array([x0, y0], np.float64)
        m = np.zeros(2)
        v = np.zeros(2)
        path = np.empty((setup.steps + 1, 2))
        grads = np.empty((setup.steps, 2))
        updates = np.empty((setup.steps, 2))
        path[0] = p
        for t in range(1, setup.steps + 1):
            x, y = p
            g = np.array([-2 * (1 - x) - 400 * x * (y - x * x), 200 * (y - x * x)])
            lr = h["learning_rate"]
            if entry.name == "sgd":
                u = -lr * g
            elif entry.name == "momentum":
                m = h["momentum"] * m + g
                u = -lr * m
            elif entry.name == "rmsprop":
                v = h["decay"] * v + (1 - h["decay"]) * g * g
                u = -lr * g / (np.sqrt(v) + h["eps"])
            else:
                m = h["b1"] * m + (1 - h["b1"]) * g
                v = h["b2"] * v + (1 - h["b2"]) * g * g
                u = -lr * (m / (1 - h["b1"] ** t)) / (np.sqrt(v / (1 - h["b2"] ** t)) + h["eps"])
            p = p + u
            grads[t - 1], updates[t - 1], path[t] = g, u, p
        out.append(path)
    return out


def numpy_runs_quiet(setup: Setup) -> list[np.ndarray]:
    with np.errstate(all="ignore"):  # SGD may diverge on Rosenbrock, as in the engine
        return numpy_runs(setup)


def _payloads(figures: Sequence[Any]) -> list[str]:
    return [streamlit_payload(f) for f in figures]


def timed(fn: Callable[[], Any]) -> tuple[float, Any]:
    t0 = time.perf_counter()
    value = fn()
    return time.perf_counter() - t0, value


def bench_rerun(moves: int, other_tab_moves: int) -> dict[str, Any]:
    print(
        f"\na. Server-side Playground rerun after a slider move "
        f"(4 optimizers x 500 steps, Rosenbrock; {moves} moves)"
    )
    base = Setup()
    assert [e.name for e in base.optimizers] == ["sgd", "momentum", "rmsprop", "adam"]
    assert base.steps == 500
    # Warm-up: compile the engine for this surface/optimizers/bucket and import the builders.
    # A tab whose figure builders no longer take these arguments (the pages change) is reported
    # and skipped, not fatal: the browser cases (c) measure the real page anyway.
    skipped: dict[str, str] = {}
    for s in moves_from(base, 5, 10_000):
        for tab in ("Paths", "Animation", "3D view", "Curves", "Internals"):
            try:
                [streamlit_payload(f) for f in tab_figures(tab, s, run_setup(s))]
            except Exception as exc:  # noqa: BLE001 - reported below
                skipped[tab] = f"{type(exc).__name__}: {exc}"[:200]
    traces, compiles = engine.trace_count(), COMPILES["n"]

    results: dict[str, Any] = {}
    per_tab: dict[str, dict[str, Any]] = {}
    for tab, n in (
        ("Paths", moves),
        ("Animation", other_tab_moves),
        ("3D view", other_tab_moves),
        ("Curves", other_tab_moves),
        ("Internals", other_tab_moves),
    ):
        if tab in skipped:
            print(f"  {tab} tab: SKIPPED, its figures could not be built here ({skipped[tab]})")
            continue
        compute, figs, serialize, total, sizes = [], [], [], [], []
        offset = {"Paths": 0, "Animation": 2000, "3D view": 4000, "Curves": 6000, "Internals": 8000}[tab]
        for s in moves_from(base, n, offset):
            t_compute, result = timed(functools.partial(run_setup, s))
            t_figs, built = timed(functools.partial(tab_figures, tab, s, result))
            t_ser, payloads = timed(functools.partial(_payloads, built))
            compute.append(t_compute)
            figs.append(t_figs)
            serialize.append(t_ser)
            total.append(t_compute + t_figs + t_ser)
            sizes = [len(p.encode()) for p in payloads]
        gz = [len(gzip.compress(p.encode(), 6)) for p in payloads]
        per_tab[tab] = {
            "total": summary(total),
            "compute": summary(compute),
            "figures": summary(figs),
            "serialize": summary(serialize),
            "json_bytes": sizes,
            "json_gzip_bytes": gz,
        }
    results["tabs"] = per_tab
    results["skipped_tabs"] = skipped
    results["new_traces_during_moves"] = engine.trace_count() - traces
    results["new_xla_compiles_during_moves"] = COMPILES["n"] - compiles

    # Baseline 1: the no-op rerun (nothing moved: cached run, figures rebuilt and re-sent).
    same = moves_from(base, 1, 0)[0]
    run_setup(same)
    noop = [
        timed(lambda: [streamlit_payload(f) for f in tab_figures("Paths", same, run_setup(same))])[0]
        if "Paths" in per_tab
        else timed(functools.partial(run_setup, same))[0]
        for _ in range(max(20, moves // 5))
    ]
    # The engine's share of `compute` (the rest: setup JSON round trip, metrics, labels).
    engine_times = [
        timed(functools.partial(engine_only, s))[0] for s in moves_from(base, max(20, moves // 5), 30_000)
    ]
    # Baseline 2: the same rerun with a NumPy per-step loop in place of the jitted engine.
    numpy_compute = [
        timed(functools.partial(numpy_runs_quiet, s))[0]
        for s in moves_from(base, max(10, moves // 10), 20_000)
    ]
    rest_s = 0.0  # without the Paths tab's figures: the engine's replacement only
    if "Paths" in per_tab:
        paths_tab = per_tab["Paths"]
        rest_s = (
            paths_tab["compute"]["p50_ms"]
            - pct(engine_times, 50) * 1000
            + paths_tab["figures"]["p50_ms"]
            + paths_tab["serialize"]["p50_ms"]
        ) / 1000
    results["engine_call"] = summary(engine_times)
    results["baseline_noop_rerun"] = summary(noop)
    results["baseline_numpy_loop"] = summary(numpy_compute)
    results["baseline_numpy_rerun"] = summary([c + rest_s for c in numpy_compute])

    for tab, r in per_tab.items():
        show(f"{tab} tab: whole rerun", r["total"], 50.0)
        print(
            f"      compute {r['compute']['p50_ms']:.1f} / figures {r['figures']['p50_ms']:.1f} / "
            f"serialize {r['serialize']['p50_ms']:.1f} ms (p50);  JSON "
            + ", ".join(f"{b / 1024:.0f} kB" for b in r["json_bytes"])
            + "  (gzip "
            + ", ".join(f"{b / 1024:.0f} kB" for b in r["json_gzip_bytes"])
            + ")"
        )
    show("  of which the jitted engine call", results["engine_call"])
    show("baseline: no-op rerun (cached run, Paths)", results["baseline_noop_rerun"])
    show("baseline: NumPy per-step loop (engine only)", results["baseline_numpy_loop"])
    show("baseline: rerun with the NumPy loop (Paths)", results["baseline_numpy_rerun"])
    print(
        f"  jitted engine vs NumPy loop (p50): "
        f"{results['baseline_numpy_loop']['p50_ms'] / results['engine_call']['p50_ms']:.1f}x faster"
    )
    print(
        f"  JAX traces / XLA compiles during the moves: {results['new_traces_during_moves']} / "
        f"{results['new_xla_compiles_during_moves']}"
        + (
            "  OK"
            if results["new_traces_during_moves"] == 0 and results["new_xla_compiles_during_moves"] == 0
            else "  RECOMPILED"
        )
    )
    return results


def bench_apptest(moves: int) -> dict[str, Any]:
    """The whole page script (widgets, state, URL sync, figures) through AppTest."""
    from streamlit.testing.v1 import AppTest

    at = AppTest.from_file(str(ROOT / "app.py"), default_timeout=300)
    at.switch_page("app_pages/playground.py")
    at.run()
    assert not at.exception, [e.value for e in at.exception]
    opener = [b for b in at.button if b.key == "pg.e.3.open"]  # cards that draw sliders when open
    if opener:
        opener[0].click().run()
    if not any(s.key == "pg.e.3.adam.b1" for s in at.slider):
        print("  whole page script via AppTest: SKIPPED (no slider with key pg.e.3.adam.b1)")
        return {}
    b1 = next(s for s in at.slider if s.key == "pg.e.3.adam.b1")
    b1.set_value(0.5).run()
    times = []
    for i in range(moves):
        b1 = next(s for s in at.slider if s.key == "pg.e.3.adam.b1")
        b1.set_value(round(0.5 + 0.45 * (i + 1) / (moves + 1), 3))
        t, _ = timed(at.run)
        assert not at.exception, [e.value for e in at.exception]
        times.append(t)
    s = summary(times)
    show("whole page script via AppTest (upper bound)", s)
    return s


# --- b/c. the browser --------------------------------------------------------------------------

PORTS = range(8620, 8630)  # this benchmark's ports (127.0.0.1 only)
_next_port = {"i": 0}


def take_port() -> int:
    """The next free port of PORTS, in turn (a stopped server's port is used again later)."""
    for _ in range(len(PORTS)):
        port = PORTS[_next_port["i"] % len(PORTS)]
        _next_port["i"] += 1
        with socket.socket() as sock:
            sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
            try:
                sock.bind(("127.0.0.1", port))
            except OSError:
                continue
            return port
    raise RuntimeError(f"no free port in {PORTS.start}-{PORTS.stop - 1}")


PYTHON = str(ROOT / ".venv" / "bin" / "python")


class Server:
    """One started app (`kind`: "app" = `streamlit run app.py`, "floor" = `streamlit run
    bench/floor_app.py`, "run_app" = `bash scripts/run_app.sh`, the README's command) on a port
    of PORTS, in its own process group; `started` is the spawn time (perf_counter)."""

    extra_flags: list[str] = []  # from --streamlit-flag

    def __init__(self, kind: str, cache_dir: str, log: Path, watch: bool = True) -> None:
        self.kind = kind
        self.port = take_port()
        self.url = f"http://127.0.0.1:{self.port}"
        flags = [
            "--server.port",
            str(self.port),
            "--server.address",
            "127.0.0.1",
            "--server.headless",
            "true",
            # Without the file watcher, an edit of the app's files during a run (others work
            # in this checkout) cannot put up a "source changed" status widget mid-measure.
            *([] if watch else ["--server.fileWatcherType", "none"]),
            *self.extra_flags,
        ]
        command = {
            "app": [PYTHON, "-m", "streamlit", "run", "app.py", *flags],
            "floor": [PYTHON, "-m", "streamlit", "run", "bench/floor_app.py", *flags],
            "run_app": ["bash", "scripts/run_app.sh", *flags],  # extra args go to streamlit
        }[kind]
        self.log = open(log, "wb")  # noqa: SIM115 - closed in stop()
        self.started = time.perf_counter()
        self.started_wall = time.time()  # the same moment on the clock the page's Date.now() reads
        self.process = subprocess.Popen(
            command,
            cwd=ROOT,
            stdout=self.log,
            stderr=subprocess.STDOUT,
            start_new_session=True,
            env={**os.environ, "OPTIM_PLAYGROUND_JAX_CACHE": cache_dir},
        )

    def wait_healthy(self, timeout: float = 300.0) -> float:
        deadline = time.perf_counter() + timeout
        while time.perf_counter() < deadline:
            if self.process.poll() is not None:
                raise RuntimeError(f"{self.kind} exited with {self.process.returncode} (log {self.log.name})")
            try:
                with urllib.request.urlopen(self.url + "/_stcore/health", timeout=1) as r:
                    if r.status == 200:
                        return time.perf_counter() - self.started
            except OSError:
                time.sleep(0.02)
        raise RuntimeError(f"{self.kind}: no /_stcore/health answer")

    def stop(self) -> None:
        if self.process.poll() is None:
            os.killpg(self.process.pid, signal.SIGTERM)
            try:
                self.process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                os.killpg(self.process.pid, signal.SIGKILL)
                self.process.wait()
        self.log.close()


class WsTrace:
    """The Streamlit protocol messages a page sends and receives: (perf_counter, kind, bytes)."""

    def __init__(self, page: Any) -> None:
        from streamlit.proto import BackMsg_pb2, ForwardMsg_pb2

        self.events: list[tuple[float, str, int]] = []
        self.received: list[tuple[float, str, int]] = []
        self._back, self._forward = BackMsg_pb2.BackMsg, ForwardMsg_pb2.ForwardMsg
        page.on("websocket", self._attach)

    def _attach(self, ws: Any) -> None:
        ws.on("framesent", lambda payload: self._record(self._back, payload, False))
        ws.on("framereceived", lambda payload: self._record(self._forward, payload, True))

    def _record(self, cls: Any, payload: bytes | str, received: bool) -> None:
        now = time.perf_counter()
        data = payload if isinstance(payload, bytes) else payload.encode()
        msg = cls()
        try:
            msg.ParseFromString(data)
        except Exception:  # noqa: BLE001 - not a protobuf frame (never expected)
            return
        kind = msg.WhichOneof("type") or ""
        if kind == "delta" and msg.delta.WhichOneof("type") == "new_element":
            kind = "element:" + (msg.delta.new_element.WhichOneof("type") or "")
        self.events.append((now, kind, len(data)))
        if received:
            self.received.append((now, kind, len(data)))

    def first(self, kind: str, after: float) -> float | None:
        return next((t for t, k, _ in self.events if k == kind and t >= after), None)

    def received_since(self, after: float) -> tuple[int, int]:
        """(messages, bytes) the page received at or after `after`."""
        frames = [n for t, _, n in self.received if t >= after]
        return len(frames), sum(frames)


def first_chart(browser: Any, kind: str, cache_dir: str, log: Path, path: str) -> dict[str, float]:
    """Spawn a server, open `path` in Chromium as soon as it is healthy, time each stage from
    the spawn to the first drawn chart."""
    server = Server(kind, cache_dir, log)
    try:
        healthy = server.wait_healthy()
        page = browser.new_page(viewport={"width": 1400, "height": 1000})
        trace = WsTrace(page)
        loaded: list[float] = []
        page.on("load", lambda: loaded.append(time.perf_counter()))
        page.goto(server.url + path)
        drawn_ms = page.wait_for_function(CHART_DRAWN_AT, polling="raf", timeout=300_000).json_value()
        charted = server.started + (drawn_ms / 1000.0 - server.started_wall)
        page.close()
        t0 = server.started
        finished = trace.first("script_finished", t0) or charted
        sent = trace.first("element:plotly_chart", t0) or finished
        return {
            "health_s": round(healthy, 2),
            "page_loaded_s": round((loaded[0] if loaded else charted) - t0, 2),
            "chart_sent_s": round(sent - t0, 2),
            "script_finished_s": round(finished - t0, 2),
            "first_chart_s": round(charted - t0, 2),
        }
    finally:
        server.stop()


def show_start(
    name: str, r: dict[str, float], floor_s: float | None = None, target: float | None = None
) -> None:
    ratio = ""
    if floor_s:
        x = r["first_chart_s"] / floor_s
        ratio = f"  {x:4.2f}x floor" + ("" if target is None else (" OK" if x <= target else " OVER"))
    print(
        f"  {name:<34} first chart {r['first_chart_s']:5.2f} s{ratio}   (healthy {r['health_s']:.2f}, "
        f"page JS {r['page_loaded_s']:.2f}, chart sent {r['chart_sent_s']:.2f}, "
        f"script done {r['script_finished_s']:.2f} s)"
    )


def median_start(runs: list[dict[str, float]]) -> dict[str, float]:
    return {k: round(float(np.median([r[k] for r in runs])), 2) for k in runs[0]}


def bench_startup(browser: Any, rounds: int, workdir: Path, warm_cache: str) -> dict[str, Any]:
    """Interleaved rounds: floor app, run_app.sh (warm cache), bare app (empty cache), bare app
    (warm cache); medians over the rounds, ratios to the floor's median."""
    print(
        f"\nb. Start -> first chart in Chromium, {rounds} interleaved round(s) "
        "(targets: run_app.sh warm <= 1.5x floor, bare empty cache <= 2x)"
    )
    runs: dict[str, list[dict[str, float]]] = {
        "floor": [],
        "run_app_warm": [],
        "bare_empty": [],
        "bare_warm": [],
    }
    for r in range(rounds):
        runs["floor"].append(first_chart(browser, "floor", "off", workdir / f"floor{r}.log", "/"))
        runs["run_app_warm"].append(
            first_chart(browser, "run_app", warm_cache, workdir / f"run_app{r}.log", "/playground")
        )
        empty = tempfile.mkdtemp(prefix="jaxcache-empty-", dir=workdir)
        runs["bare_empty"].append(first_chart(browser, "app", empty, workdir / f"cold{r}.log", "/playground"))
        runs["bare_warm"].append(first_chart(browser, "app", empty, workdir / f"warm{r}.log", "/playground"))
    out: dict[str, Any] = {"runs": runs, "median": {k: median_start(v) for k, v in runs.items()}}
    floor = out["median"]["floor"]["first_chart_s"]
    out["ratio_to_floor"] = {k: round(v["first_chart_s"] / floor, 2) for k, v in out["median"].items()}
    labels = {
        "floor": ("floor: streamlit run bench/floor_app.py", None),
        "run_app_warm": ("bash scripts/run_app.sh, warm cache", 1.5),
        "bare_empty": ("streamlit run app.py, empty cache", 2.0),
        "bare_warm": ("streamlit run app.py, warm cache", None),
    }
    for k, (label, target) in labels.items():
        show_start(label, out["median"][k], None if k == "floor" else floor, target)
    return out


def protocol_reruns(url: str, moves: int) -> list[float]:
    """The server's share: noise-slider moves sent over Streamlit's WebSocket protocol by a bare
    client (bench/load_classroom.py's Student), no browser involved."""
    sys.path.insert(0, str(Path(__file__).resolve().parent))
    import asyncio

    from load_classroom import Student

    async def run() -> list[float]:
        student = Student(url, "bench")
        await student.connect()
        await student.open_playground()
        for i in range(moves):
            await student.rerun({"Gradient noise σ": [round(0.61 + 0.37 * i / moves, 2)]})
        await student.close()
        if student.errors:
            raise RuntimeError(student.errors[:3])
        return student.latencies

    out: list[list[float]] = []
    # Its own thread and event loop: Playwright's sync API owns this thread's loop.
    worker = threading.Thread(target=lambda: out.append(asyncio.run(run())))
    worker.start()
    worker.join()
    return out[0]


# In the page: the time of the mouse release and of the first animation frame in which each
# Plotly chart's data (trace names, x, y, z) differs from what it was when armed. A chart is
# compared only when its gd.data object was replaced (Plotly.react assigns a new one), so the
# watch costs next to nothing between redraws.
WATCH = r"""(() => {
  if (window.__bench) return;
  const B = window.__bench = {release: null, base: [], refs: [], changed: []};
  const sig = gd => JSON.stringify((gd.data || []).map(t => [t.name, t.x, t.y, t.z]));
  window.addEventListener('pointerup', () => { B.release = performance.now(); }, true);
  window.addEventListener('mouseup', () => { if (B.release === null) B.release = performance.now(); }, true);
  B.arm = () => {
    const gds = Array.from(document.querySelectorAll('.js-plotly-plot'));
    B.base = gds.map(sig); B.refs = gds.map(gd => gd.data); B.changed = gds.map(() => null);
    B.release = null;
    return gds.length;
  };
  // What each chart shows: its drawn lines and markers (SVG geometry), and the animation frame
  // in which that last changed; and when a slider's thumb last showed a new value.
  // Charts are told apart by their element's key (st-key-...) where they have one: a chart that
  // Streamlit mounts anew for the same element is the same chart to the eye.
  B.drawn = {}; B.valueAt = null; B.marked = {};
  const chartKey = (gd, i) => {
    const box = gd.closest('[class*="st-key-"]');
    const cls = box && Array.from(box.classList).find(c => c.startsWith('st-key-'));
    return cls || 'chart' + i;
  };
  const drawing = gd => Array.from(gd.querySelectorAll('.scatterlayer path'))
    .map(p => (p.getAttribute('d') || '') + '@' + (p.getAttribute('transform') || '')).join('|');
  new MutationObserver(ms => {
    const moved = ms.some(m => m.target.matches && m.target.matches('input[type=range]'));
    if (moved && B.release === null) B.valueAt = performance.now();
  }).observe(document, {subtree: true, attributes: true, attributeFilter: ['aria-valuetext']});
  // Two drawings are the same if only numbers changed, each by at most a twentieth of a pixel
  // (float32 runs batched differently differ in SVG's last decimal, invisibly).
  const NUM = /-?\d+(?:\.\d+)?(?:e-?\d+)?/g;
  const sameDrawing = (a, b) => {
    if (a === null || b === null || a.replace(NUM, '#') !== b.replace(NUM, '#')) return false;
    const x = a.match(NUM) || [], y = b.match(NUM) || [];
    return x.every((v, k) => Math.abs(Number(v) - Number(y[k])) <= 0.05);
  };
  // Before the thumb is pressed: what each chart shows then.
  B.mark = () => {
    B.release = null;
    B.marked = {};
    document.querySelectorAll('.js-plotly-plot').forEach((gd, i) => {
      B.marked[chartKey(gd, i)] = drawing(gd);
    });
  };
  const tick = () => {
    document.querySelectorAll('.js-plotly-plot').forEach((gd, i) => {
      if (B.changed[i] == null && gd.data !== B.refs[i]) {
        B.refs[i] = gd.data;
        if (i >= B.base.length || sig(gd) !== B.base[i]) B.changed[i] = performance.now();
      }
      const now = drawing(gd);
      const key = chartKey(gd, i);
      const rec = B.drawn[key] || (B.drawn[key] = {last: null, at: null});
      if (now !== rec.last) {
        if (!sameDrawing(now, rec.last)) rec.at = performance.now();
        rec.last = now;
      }
    });
    requestAnimationFrame(tick);
  };
  requestAnimationFrame(tick);
})()"""
READ_WATCH = """() => ({release: window.__bench.release, changed: window.__bench.changed,
  drawn: Object.values(window.__bench.drawn).map(r => r && r.last ? r.at : null),
  valueAt: window.__bench.valueAt,
  moved: Object.entries(window.__bench.drawn)
    .some(([k, r]) => r && r.last && r.last !== window.__bench.marked[k])})"""
STATUS_WIDGET = '[data-testid="stStatusWidget"]'
# The point to press: Streamlit 1.67's slider is a visually hidden <input type=range> (role
# slider) inside the visible thumb; the thumb is its nearest ancestor of a thumb's size.
THUMB_CENTER = """input => {
  let e = input;
  for (let r = e.getBoundingClientRect(); e; e = e.parentElement, r = e && e.getBoundingClientRect())
    if (r.width >= 4 && r.width <= 64 && r.height >= 4 && r.height <= 64)
      return [r.x + r.width / 2, r.y + r.height / 2];
  const r = input.getBoundingClientRect();
  return [r.x + r.width / 2, r.y + r.height / 2];
}"""


class Moves:
    """One page and one slider: release-to-redraw times, bytes and messages per move."""

    def __init__(self, name: str, page: Any, trace: WsTrace, slider: Any, fresh: bool) -> None:
        self.name, self.page, self.trace, self.slider = name, page, trace, slider
        self.fresh = fresh  # every move must reach a value not visited before (no cache hit)
        self.visited: set[str] = set()
        self.direction = -1
        self.redraw: list[float] = []  # release -> last chart whose data changed, drawn
        self.first: list[float] = []  # release -> first chart changed
        self.drawn: list[float] = []  # release -> every chart's lines and markers drawn as they end
        self.value_drawn: list[float] = []  # the thumb showed its last value -> the same
        self.idle: list[float] = []  # release -> script finished and status widget gone
        self.bytes: list[int] = []
        self.messages: list[int] = []
        self.values: list[str] = []

    def drag(self) -> float:
        """Press the thumb, move it until it shows a new value, release; returns the Python time
        just before the release."""
        page, thumb = self.page, self.slider  # a locator: found again on every use
        thumb.scroll_into_view_if_needed()
        x, y = thumb.evaluate(THUMB_CENTER)
        value0 = thumb.get_attribute("aria-valuetext")
        self.visited.add(value0)
        page.mouse.move(x, y)
        page.evaluate("() => window.__bench.mark()")
        page.mouse.down()
        dx, unchanged_px, last = 0.0, 0.0, value0
        for _ in range(2000):
            dx += 2 * self.direction
            page.mouse.move(x + dx, y)
            value = thumb.get_attribute("aria-valuetext")
            if value != last:
                last, unchanged_px = value, 0.0
                if value != value0 and (not self.fresh or value not in self.visited):
                    break
            else:
                unchanged_px += 2
                if unchanged_px > 80:  # the end of the track: back to the thumb, turn round
                    self.direction, unchanged_px, dx = -self.direction, 0.0, 0.0
        else:
            page.mouse.up()
            raise RuntimeError(f"{self.name}: the slider never showed a new value")
        self.visited.add(last)
        self.values.append(last)
        if not self.fresh:  # to and fro, never drifting to an end
            self.direction = -self.direction
        page.evaluate("() => window.__bench.arm()")
        t_release = time.perf_counter()
        page.mouse.up()
        return t_release

    def one(self, record: bool) -> None:
        page = self.page
        page.bring_to_front()  # a background tab's animation frames may be throttled
        t_release = self.drag()
        deadline = t_release + 120
        while True:
            done = self.trace.first("script_finished", t_release) is not None
            if done and not page.locator(STATUS_WIDGET).count():
                watch = page.evaluate(READ_WATCH)
                # A chart's data replaced after the release, or its drawing already new (a card
                # slider that the map follows while the thumb moves).
                if any(t is not None for t in watch["changed"]) or watch["moved"]:
                    break
                if time.perf_counter() - t_release > 20:
                    raise RuntimeError(f"{self.name}: the script ran but no chart's data changed")
            if time.perf_counter() > deadline:
                status = page.locator(STATUS_WIDGET).all_inner_texts()
                raise RuntimeError(
                    f"{self.name}: no redraw within 120 s (script finished: {done}, status widget: {status})"
                )
            page.wait_for_timeout(10)
        t_idle = time.perf_counter() - t_release
        errors = page.locator('[data-testid="stException"]')
        if errors.count():
            raise RuntimeError(f"{self.name}: the page shows an exception: {errors.first.inner_text()[:800]}")
        page.evaluate("() => new Promise(r => requestAnimationFrame(() => requestAnimationFrame(r)))")
        watch = page.evaluate(READ_WATCH)
        changed = [t for t in watch["changed"] if t is not None]
        if watch["release"] is None:
            raise RuntimeError(f"{self.name}: the page saw no mouse release")
        drawn = [t for t in watch["drawn"] if t is not None]
        if not changed:  # the data stayed as the page drew it before the release
            changed = [min(max(drawn), watch["release"])]
        if record:
            self.redraw.append(max(max(changed) - watch["release"], 0.0) / 1000)
            # The drawing every chart ends with (SVG lines and markers) was final at `last`: after
            # the release, or already before it (a card slider the map follows while it moves).
            last = max(drawn) if drawn else max(changed)
            self.drawn.append(max(last - watch["release"], 0.0) / 1000)
            if watch["valueAt"] is not None:
                self.value_drawn.append(max(last - watch["valueAt"], 0.0) / 1000)
            self.first.append((min(changed) - watch["release"]) / 1000)
            self.idle.append(t_idle)
            messages, nbytes = self.trace.received_since(t_release)
            self.messages.append(messages)
            self.bytes.append(nbytes)

    def result(self) -> dict[str, Any]:
        return {
            "redrawn": summary(self.redraw),
            "first_chart_changed": summary(self.first),
            "drawn": summary(self.drawn),
            "value_to_drawn": summary(self.value_drawn) if self.value_drawn else None,
            "idle": summary(self.idle),
            "ws_bytes_per_move": int(np.median(self.bytes)),
            "ws_messages_per_move": int(np.median(self.messages)),
            "distinct_values": len(set(self.values)),
        }


def open_page(browser: Any, url: str) -> tuple[Any, WsTrace]:
    page = browser.new_page(viewport={"width": 1400, "height": 1000})
    page.add_init_script(WATCH)
    trace = WsTrace(page)
    page.goto(url)
    page.wait_for_selector(CHART, timeout=300_000)
    wait_idle(page)
    return page, trace


def wait_idle(page: Any) -> None:
    """No status widget for 300 ms in a row (a script may start a moment after another ends)."""
    quiet_since = time.perf_counter()
    deadline = quiet_since + 120
    while time.perf_counter() - quiet_since < 0.3:
        if page.locator(STATUS_WIDGET).count():
            quiet_since = time.perf_counter()
        if time.perf_counter() > deadline:
            raise RuntimeError("the page never went idle")
        page.wait_for_timeout(30)


# The hyperparameter sliders are named in plain text: "α · learning_rate" (before issue 11's
# names) or "Adam learning rate α"; both are matched.
ALPHA = re.compile(r"(· learning_rate|learning rate α)$")
BETA2 = re.compile(r"(· b2|b2 β₂)$")  # only Adam among the four default optimizers has β2


def adam_alpha(page: Any) -> Any:
    """Adam's α slider: the α in the same card/column as the only β2 slider. When no β2 slider
    shows, opens the cards one by one (last first: Adam is the fourth default optimizer) until
    it does: an "Edit" button (a card that draws its sliders only when open) or a collapsed
    expander (a card or Compare's "Hyperparameters of each panel")."""
    from playwright.sync_api import TimeoutError as PlaywrightTimeout

    b2 = page.get_by_role("slider", name=BETA2)
    for opener in (
        page.get_by_role("button", name=re.compile(r"^Edit")),
        page.locator('[data-testid="stExpander"] summary'),
    ):
        for i in reversed(range(opener.count())):
            if b2.count():
                break
            opener.nth(i).click()
            try:  # a rerun (a button) or at once (an expander)
                b2.first.wait_for(state="visible", timeout=30_000)
            except PlaywrightTimeout:
                continue
            wait_idle(page)
    if not b2.count():
        raise RuntimeError("no β2 slider (Adam's card) on the page")
    box = b2.first.locator("xpath=ancestor::*[.//*[contains(@aria-label, 'learning')]][1]")
    return box.get_by_role("slider", name=ALPHA).first


CASES = [  # (name, URL path and query, the tab to select or None)
    ("Playground Paths", "/playground?seed={seed}&focus=3", "Paths"),
    ("Playground Animation", "/playground?seed={seed}&focus=3", "Animation"),
    ("Playground 3D view", "/playground?seed={seed}&focus=3", "3D view"),
    ("Playground Curves", "/playground?seed={seed}&focus=3", "Curves"),
    ("Playground Internals", "/playground?seed={seed}&focus=3", "Internals"),
    ("Compare small multiples", "/compare?seed={seed}", "Small multiples"),
]


def bench_moves(browser: Any, moves: int, workdir: Path, warm_cache: str, cases: list[str]) -> dict[str, Any]:
    print(
        f"\nc. Slider release -> chart redrawn with new data, in Chromium ({moves} moves per case, "
        "each interleaved with a move on the floor app; targets p50 <= 1.5x, p95 <= 2x the floor)"
    )
    print(
        "   Playground and Compare: Adam's α (a log slider); every move reaches an α not "
        "visited in that case, and every case has its own noise seed in the URL (σ = 0, so the "
        "paths are the default ones), so every move is a new run, never a cache hit."
    )
    app = Server("app", warm_cache, workdir / "moves_app.log", watch=False)
    floor = Server("floor", "off", workdir / "moves_floor.log", watch=False)
    out: dict[str, Any] = {"cases": {}}
    try:
        app.wait_healthy()
        floor.wait_healthy()
        floor_page, floor_trace = open_page(browser, floor.url + "/")
        for n, (name, path, tab) in enumerate(CASES):
            if name not in cases:
                continue
            page, trace = open_page(browser, app.url + path.format(seed=101 + n))
            if tab is not None:
                page.get_by_role("tab", name=tab, exact=True).click()
                page.wait_for_timeout(200)
                wait_idle(page)
                page.wait_for_selector(CHART, timeout=120_000)
            alpha = adam_alpha(page)
            case = Moves(name, page, trace, alpha, fresh=True)
            base = Moves("floor", floor_page, floor_trace, floor_page.get_by_role("slider").first, False)
            for i in range(moves + 2):  # the first two of each: warm-up, not counted
                base.one(record=i >= 2)
                case.one(record=i >= 2)
            page.close()
            c, f = case.result(), base.result()
            # The targets on what the eye sees: release -> every chart drawn as it ends.
            c["ratio_p50"] = round(c["drawn"]["p50_ms"] / max(f["drawn"]["p50_ms"], 1e-3), 2)
            c["ratio_p95"] = round(c["drawn"]["p95_ms"] / max(f["drawn"]["p95_ms"], 1e-3), 2)
            c["data_ratio_p50"] = round(c["redrawn"]["p50_ms"] / f["redrawn"]["p50_ms"], 2)
            c["data_ratio_p95"] = round(c["redrawn"]["p95_ms"] / f["redrawn"]["p95_ms"], 2)
            out["cases"][name] = {"case": c, "floor": f, "values": case.values}
            ok50, ok95 = c["ratio_p50"] <= 1.5, c["ratio_p95"] <= 2.0
            print(f"  {name} (α values {', '.join(case.values)})")
            for label, r in (("case", c), ("floor", f)):
                vd, d, rd = r["value_to_drawn"], r["drawn"], r["redrawn"]
                print(
                    f"    {label:<6} drawn p50 {d['p50_ms']:6.0f} ms  p95 {d['p95_ms']:6.0f} ms"
                    f"   (thumb's value -> drawn p50 {vd['p50_ms'] if vd else float('nan'):.0f} ms)"
                    f"   data changed p50 {rd['p50_ms']:6.0f} ms  p95 {rd['p95_ms']:6.0f} ms"
                    f"   idle p50 {r['idle']['p50_ms']:.0f} ms   {r['ws_bytes_per_move'] / 1024:.1f} kB in "
                    f"{r['ws_messages_per_move']} msgs/move"
                )
            verdict50, verdict95 = " OK" if ok50 else " OVER", " OK" if ok95 else " OVER"
            print(
                f"    ratio  drawn p50 {c['ratio_p50']:.2f}x{verdict50}  p95 {c['ratio_p95']:.2f}x{verdict95}"
                f"   (data changed: {c['data_ratio_p50']:.2f}x / {c['data_ratio_p95']:.2f}x)"
            )
        floor_page.close()
        server_only = protocol_reruns(app.url, moves)
        out["baseline_server_rerun_protocol"] = summary(server_only)
        show("server only: noise move over the protocol (Paths)", out["baseline_server_rerun_protocol"])
    finally:
        app.stop()
        floor.stop()
    return out


# In-page recorder for the live scrub: one requestAnimationFrame callback per drawn frame, noting
# whether the scrubbed path (Adam's SVG line) changed since the previous frame.
SCRUB_RECORDER = """() => {
    const gd = Array.from(document.querySelectorAll('.js-plotly-plot'))
        .find(g => (g.layout.sliders || []).some(s => s.name === 'live-scrub'));
    const line = () => {
        for (const el of gd.querySelectorAll('.scatterlayer .trace')) {
            const trace = el.__data__ && el.__data__[0] && el.__data__[0].trace;
            if (trace && trace.name === 'Adam') {
                const path = el.querySelector('.js-line');
                return path ? path.getAttribute('d') : '';
            }
        }
        return '';
    };
    const rec = {times: [], changed: 0, last: line(), on: true};
    const tick = (t) => {
        if (!rec.on) return;
        rec.times.push(t);
        const now = line();
        if (now !== rec.last) { rec.changed += 1; rec.last = now; }
        requestAnimationFrame(tick);
    };
    requestAnimationFrame(tick);
    window.__scrubRec = rec;
}"""


def bench_scrub(browser: Any, drags: int, workdir: Path, warm_cache: str) -> dict[str, Any]:
    """d. The live scrub: frames drawn per second while the thumb moves (rAF timestamps in the
    page), how many of them showed a new path, and the messages the page sent meanwhile."""
    print("\nd. Live scrub: Adam's α dragged across the map's slider (target >= 30 frames/s, no rerun)")
    app = Server("app", warm_cache, workdir / "scrub_app.log", watch=False)
    fps, updates, sent = [], [], []
    try:
        app.wait_healthy()
        page, trace = open_page(browser, app.url + "/playground?seed=7")
        page.get_by_text("Scrub live", exact=True).click()
        page.wait_for_selector(".slider-grip-rect", timeout=120_000)
        wait_idle(page)
        for i in range(drags):
            rail = page.locator(".slider-rail-rect").last.bounding_box()
            grip = page.locator(".slider-grip-rect").last.bounding_box()
            if rail is None or grip is None:
                page.locator(".slider-rail-rect").last.scroll_into_view_if_needed()
                rail = page.locator(".slider-rail-rect").last.bounding_box()
                grip = page.locator(".slider-grip-rect").last.bounding_box()
            assert rail is not None and grip is not None, "the live scrub's slider is not drawn"
            y = grip["y"] + grip["height"] / 2
            x = grip["x"] + grip["width"] / 2
            # Alternate directions; 60 moves over most of the rail (a hand's sweep of ~1 s).
            target = rail["x"] + rail["width"] * (0.1 if i % 2 == 0 else 0.9)
            page.evaluate(SCRUB_RECORDER)
            before = len(trace.events) - len(trace.received)
            page.mouse.move(x, y)
            page.mouse.down()
            t0 = time.perf_counter()
            for k in range(1, 61):
                page.mouse.move(x + (target - x) * k / 60, y)
            seconds = time.perf_counter() - t0
            rec = page.evaluate("() => { const r = window.__scrubRec; r.on = false; return r; }")
            sent.append(len(trace.events) - len(trace.received) - before)
            page.mouse.up()
            wait_idle(page)
            times = rec["times"]
            span = (times[-1] - times[0]) / 1000 if len(times) > 1 else seconds
            fps.append((len(times) - 1) / span if span > 0 else 0.0)
            updates.append(rec["changed"] / span if span > 0 else 0.0)
        page.close()
    finally:
        app.stop()
    out: dict[str, Any] = {
        "frames_per_s": {"p50": round(pct(fps, 50), 1), "min": round(min(fps), 1)},
        "path_updates_per_s": {"p50": round(pct(updates, 50), 1), "min": round(min(updates), 1)},
        "messages_sent_while_dragging": sent,
    }
    print(
        f"  frames drawn while dragging: p50 {out['frames_per_s']['p50']}/s, min "
        f"{out['frames_per_s']['min']}/s (target >= 30) {'OK' if min(fps) >= 30 else 'MISSED'}"
    )
    print(f"  of which showed a new path: p50 {out['path_updates_per_s']['p50']}/s")
    print(f"  messages sent by the page while dragging: {sent} (a rerun would send one)")
    return out


def warm_jax_cache(workdir: Path) -> str:
    """A JAX cache directory warmed as run_app.sh warms it (python -m playground.warmup)."""
    cache = tempfile.mkdtemp(prefix="jaxcache-warm-", dir=workdir)
    subprocess.run(
        [PYTHON, "-m", "playground.warmup"],
        cwd=ROOT,
        check=True,
        capture_output=True,
        env={**os.environ, "OPTIM_PLAYGROUND_JAX_CACHE": cache},
    )
    return cache


def main() -> None:
    from optim_core import configure_jax

    configure_jax()  # before the first compile
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="fewer moves and start-ups")
    parser.add_argument("--moves", type=int, default=100, help="slider moves for (a)")
    parser.add_argument("--drags", type=int, default=20, help="slider releases per case for (c)")
    parser.add_argument("--starts", type=int, default=3, help="interleaved start-up rounds for (b)")
    parser.add_argument(
        "--case",
        action="append",
        choices=[c[0] for c in CASES],
        help="only these cases in (c) (repeatable; default: all)",
    )
    parser.add_argument("--skip-browser", action="store_true", help="only (a)")
    parser.add_argument("--skip-rerun", action="store_true", help="only (b) and (c)")
    parser.add_argument("--skip-startup", action="store_true", help="no (b)")
    parser.add_argument("--skip-moves", action="store_true", help="no (c)")
    parser.add_argument(
        "--streamlit-flag",
        action="append",
        default=[],
        metavar="FLAG=VALUE",
        help="extra flag for the started apps, e.g. runner.postScriptGC=false",
    )
    parser.add_argument("--json", type=Path, help="also write every figure here")
    args = parser.parse_args()
    moves = 20 if args.quick else args.moves
    drags = 4 if args.quick else args.drags
    starts = 1 if args.quick else args.starts

    print(
        f"jax {jax.__version__}, {os.cpu_count()} CPUs, flags {args.streamlit_flag}, load average "
        f"{', '.join(f'{x:.1f}' for x in os.getloadavg())} (others share this machine)"
    )
    results: dict[str, Any] = {"load_before": os.getloadavg(), "flags": args.streamlit_flag}
    Server.extra_flags = [
        part for flag in args.streamlit_flag for part in ("--" + flag.split("=", 1)[0], flag.split("=", 1)[1])
    ]
    if not args.skip_rerun:
        results["rerun"] = bench_rerun(moves, max(10, moves // 5))
        results["apptest"] = bench_apptest(max(10, moves // 4))
    if not args.skip_browser:
        from playwright.sync_api import sync_playwright

        workdir = Path(tempfile.mkdtemp(prefix="bench-app-"))
        try:
            warm_cache = warm_jax_cache(workdir)
            with sync_playwright() as pw:
                browser = pw.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
                try:
                    if not args.skip_startup:
                        results["startup"] = bench_startup(browser, starts, workdir, warm_cache)
                    if not args.skip_moves:
                        results["moves"] = bench_moves(
                            browser, drags, workdir, warm_cache, args.case or [c[0] for c in CASES]
                        )
                    results["scrub"] = bench_scrub(browser, max(drags // 2, 3), workdir, warm_cache)
                finally:
                    browser.close()
        finally:
            shutil.rmtree(workdir, ignore_errors=True)
    results["load_after"] = os.getloadavg()
    print(f"\nload average after: {', '.join(f'{x:.1f}' for x in os.getloadavg())}")
    if args.json:
        args.json.write_text(json.dumps(results, indent=2))


if __name__ == "__main__":
    main()
