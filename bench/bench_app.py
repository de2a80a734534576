"""Speed of the Playground as a user feels it, with baselines measured in the same run.

    .venv/bin/python bench/bench_app.py [--quick] [--skip-browser] [--json out.json]

a. Server-side work of a Playground rerun after a slider move, 4 optimizers x 500 steps on
   Rosenbrock: the batched run (a cache miss: every move is a new setup), the figures of the
   open tab, and their serialization exactly as st.plotly_chart does it (validate, then
   plotly.io.to_json). p50/p95 over many moves (target p95 < 100 ms), against two baselines from
   this run: the no-op rerun (same setup, cached run) and the same rerun with a NumPy per-step
   loop instead of the jitted engine. JSON bytes per figure. JAX compiles counted across the
   moves (must be 0 after warm-up). Also the whole page script through AppTest (an upper bound:
   it adds AppTest's own overhead).
b. From `streamlit run app.py` to the first rendered Playground chart in Chromium, with a cold
   and then a warm persistent JAX compilation cache (target < 8 s).
c. Slider drag (mouse down, move, up on the noise slider) to the updated chart in Chromium.
"""

from __future__ import annotations

import argparse
import functools
import gzip
import json
import os
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
    for s in moves_from(base, 5, 10_000):
        for tab in ("Paths", "Animation", "3D view", "Curves", "Internals"):
            [streamlit_payload(f) for f in tab_figures(tab, s, run_setup(s))]
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
    results["new_traces_during_moves"] = engine.trace_count() - traces
    results["new_xla_compiles_during_moves"] = COMPILES["n"] - compiles

    # Baseline 1: the no-op rerun (nothing moved: cached run, figures rebuilt and re-sent).
    same = moves_from(base, 1, 0)[0]
    run_setup(same)
    noop = [
        timed(lambda: [streamlit_payload(f) for f in tab_figures("Paths", same, run_setup(same))])[0]
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
        show(f"{tab} tab: whole rerun", r["total"], 100.0 if tab == "Paths" else None)
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


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


class Server:
    """`streamlit run app.py` as the README starts it, on a free port, in its own group."""

    extra_flags: list[str] = []  # from --streamlit-flag

    def __init__(self, cache_dir: str, log: Path) -> None:
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.started = time.perf_counter()
        self.log = open(log, "wb")  # noqa: SIM115 - closed in stop()
        self.process = subprocess.Popen(
            [
                str(ROOT / ".venv" / "bin" / "python"),
                "-m",
                "streamlit",
                "run",
                "app.py",
                "--server.port",
                str(self.port),
                "--server.headless",
                "true",
                "--server.fileWatcherType",
                "none",
                *self.extra_flags,
            ],
            cwd=ROOT,
            stdout=self.log,
            stderr=subprocess.STDOUT,
            start_new_session=True,
            env={**os.environ, "OPTIM_PLAYGROUND_JAX_CACHE": cache_dir},
        )

    def wait_healthy(self, timeout: float = 120.0) -> float:
        deadline = time.perf_counter() + timeout
        while time.perf_counter() < deadline:
            if self.process.poll() is not None:
                raise RuntimeError(f"streamlit exited with {self.process.returncode}")
            try:
                with urllib.request.urlopen(self.url + "/_stcore/health", timeout=1) as r:
                    if r.status == 200:
                        return time.perf_counter() - self.started
            except OSError:
                time.sleep(0.05)
        raise RuntimeError("no /_stcore/health answer")

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
    """Times of the Streamlit protocol messages a page sends and receives (perf_counter)."""

    def __init__(self, page: Any) -> None:
        from streamlit.proto import BackMsg_pb2, ForwardMsg_pb2

        self.events: list[tuple[float, str]] = []
        self._back, self._forward = BackMsg_pb2.BackMsg, ForwardMsg_pb2.ForwardMsg
        page.on("websocket", self._attach)

    def _attach(self, ws: Any) -> None:
        ws.on("framesent", lambda payload: self._record(self._back, payload))
        ws.on("framereceived", lambda payload: self._record(self._forward, payload))

    def _record(self, cls: Any, payload: bytes | str) -> None:
        now = time.perf_counter()
        msg = cls()
        try:
            msg.ParseFromString(payload if isinstance(payload, bytes) else payload.encode())
        except Exception:  # noqa: BLE001 - not a protobuf frame (never expected)
            return
        kind = msg.WhichOneof("type") or ""
        if kind == "delta" and msg.delta.WhichOneof("type") == "new_element":
            kind = "element:" + (msg.delta.new_element.WhichOneof("type") or "")
        self.events.append((now, kind))

    def first(self, kind: str, after: float) -> float | None:
        return next((t for t, k in self.events if k == kind and t >= after), None)


def first_chart(browser: Any, cache_dir: str, log: Path) -> dict[str, float]:
    """Spawn the server, open the Playground, time each stage from the spawn."""
    server = Server(cache_dir, log)
    try:
        healthy = server.wait_healthy()
        page = browser.new_page(viewport={"width": 1400, "height": 1000})
        trace = WsTrace(page)
        loaded: list[float] = []
        page.on("load", lambda: loaded.append(time.perf_counter()))
        page.goto(server.url + "/playground")
        page.wait_for_selector(CHART, timeout=120_000)
        charted = time.perf_counter()
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


def show_start(name: str, r: dict[str, float]) -> None:
    print(
        f"  {name:<16} first chart {r['first_chart_s']:5.2f} s"
        + (" OK" if r["first_chart_s"] < 8 else " OVER TARGET")
        + f"   (server healthy {r['health_s']:.2f}, page JS loaded {r['page_loaded_s']:.2f}, "
        f"chart sent {r['chart_sent_s']:.2f}, script done {r['script_finished_s']:.2f} s)"
    )


def bench_startup(browser: Any, warm_runs: int, workdir: Path) -> dict[str, Any]:
    print("\nb. `streamlit run app.py` -> first Playground chart in Chromium (target < 8 s)")
    cache = tempfile.mkdtemp(prefix="jaxcache-", dir=workdir)
    cold = first_chart(browser, cache, workdir / "cold.log")
    show_start("cold JAX cache", cold)
    warm = [first_chart(browser, cache, workdir / f"warm{i}.log") for i in range(warm_runs)]
    for w in warm:
        show_start("warm JAX cache", w)
    no_cache = first_chart(browser, "off", workdir / "nocache.log")
    show_start("baseline: off", no_cache)
    return {"cold": cold, "warm": warm, "cache_off": no_cache}


def protocol_reruns(url: str, moves: int) -> list[float]:
    """The server's share: the same noise-slider moves sent over Streamlit's WebSocket protocol
    by a bare client (bench/load_classroom.py's Student), no browser involved."""
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


def plotly_react_times(browser: Any, moves: int) -> list[float]:
    """The browser's floor: Plotly.react of the same Paths figure in a blank page (plotly.js
    from the plotly package), without Streamlit's frontend around it."""
    js = Path(plotly.__file__).parent / "package_data" / "plotly.min.js"
    page = browser.new_page(viewport={"width": 1400, "height": 1000})
    page.set_content("<div id='g' style='width:760px;height:640px'></div>")
    page.add_script_tag(path=str(js))
    times = []
    for s in moves_from(Setup(), moves + 2, 40_000):
        spec = json.loads(streamlit_payload(tab_figures("Paths", s, run_setup(s))[0]))
        ms = page.evaluate(
            """async spec => { const t0 = performance.now();
            await Plotly.react('g', spec.data, spec.layout);
            await new Promise(r => requestAnimationFrame(() => r()));
            return performance.now() - t0; }""",
            spec,
        )
        times.append(ms / 1000)
    page.close()
    return times[2:]  # the first two: plotly.js warm-up


def bench_drag(browser: Any, moves: int, workdir: Path) -> dict[str, Any]:
    print(f"\nc. Slider drag -> updated chart in Chromium (noise slider, {moves} drags)")
    cache = tempfile.mkdtemp(prefix="jaxcache-", dir=workdir)
    server = Server(cache, workdir / "drag.log")
    try:
        server.wait_healthy()
        page = browser.new_page(viewport={"width": 1400, "height": 1000})
        page.goto(server.url + "/playground")
        page.wait_for_selector(CHART, timeout=120_000)
        idle(page)
        group = page.locator('[role="group"][aria-label="Gradient noise σ"]')
        chart_times, idle_times, values = [], [], []
        for i in range(moves + 2):  # the first two are warm-up (fonts, first rerun paths)
            track = group.locator("> div").first.bounding_box()
            thumb = group.locator('[style*="position: absolute"]').first.bounding_box()
            # A new σ each time, in [0.1, 0.6]: every drag is a new run (no cache hit).
            fraction = 0.02 + 0.10 * ((i * 7) % (moves + 2)) / (moves + 2)
            start = (thumb["x"] + thumb["width"] / 2, thumb["y"] + thumb["height"] / 2)
            target_x = track["x"] + fraction * track["width"]
            before = page.evaluate(READ_FIGURES)
            page.mouse.move(*start)
            page.mouse.down()
            page.mouse.move(target_x, start[1], steps=8)
            t0 = time.perf_counter()
            page.mouse.up()
            page.wait_for_function(
                f"before => ({READ_FIGURES})() !== before", arg=before, polling="raf", timeout=60_000
            )
            t_chart = time.perf_counter() - t0
            idle(page)
            t_idle = time.perf_counter() - t0
            errors = page.locator('[data-testid="stException"]')
            if errors.count():
                page.screenshot(path=str(workdir.parent / "bench_drag_error.png"))
                raise RuntimeError(
                    f"the page shows an exception after drag {i}: {errors.first.inner_text()[:800]}"
                )
            if i >= 2:
                chart_times.append(t_chart)
                idle_times.append(t_idle)
                values.append(
                    page.get_by_role("slider", name="Gradient noise σ").get_attribute("aria-valuetext")
                )
        page.close()
        server_only = protocol_reruns(server.url, moves)
    finally:
        server.stop()
    react_only = plotly_react_times(browser, moves)
    result: dict[str, Any] = {
        "chart_updated": summary(chart_times),
        "page_idle": summary(idle_times),
        "baseline_server_rerun_protocol": summary(server_only),
        "baseline_plotly_react": summary(react_only),
        "distinct_values": len(set(values)),
    }
    show("mouse up -> chart data updated", result["chart_updated"])
    show("mouse up -> page idle (status widget gone)", result["page_idle"])
    show("baseline: same move, server only (protocol)", result["baseline_server_rerun_protocol"])
    show("baseline: Plotly.react of the figure alone", result["baseline_plotly_react"])
    print(f"  noise values visited: {', '.join(sorted(set(values)))}")
    return result


def idle(page: Any) -> None:
    page.wait_for_timeout(150)
    page.wait_for_function(
        "() => !document.querySelector('[data-testid=\"stStatusWidget\"]')", timeout=60_000
    )


def main() -> None:
    from optim_core import configure_jax

    configure_jax()  # before the first compile
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="fewer moves")
    parser.add_argument("--moves", type=int, default=100, help="slider moves for (a)")
    parser.add_argument("--drags", type=int, default=20, help="slider drags for (c)")
    parser.add_argument("--skip-browser", action="store_true", help="only (a)")
    parser.add_argument("--skip-rerun", action="store_true", help="only (b) and (c)")
    parser.add_argument(
        "--streamlit-flag",
        action="append",
        default=[],
        metavar="FLAG=VALUE",
        help="extra flag for the started app, e.g. runner.postScriptGC=false",
    )
    parser.add_argument("--json", type=Path, help="also write the figures here")
    args = parser.parse_args()
    moves = 20 if args.quick else args.moves
    drags = 8 if args.quick else args.drags

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
            with sync_playwright() as pw:
                browser = pw.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
                results["startup"] = bench_startup(browser, 1 if args.quick else 2, workdir)
                results["drag"] = bench_drag(browser, drags, workdir)
                browser.close()
        finally:
            shutil.rmtree(workdir, ignore_errors=True)
    results["load_after"] = os.getloadavg()
    print(f"\nload average after: {', '.join(f'{x:.1f}' for x in os.getloadavg())}")
    if args.json:
        args.json.write_text(json.dumps(results, indent=2))


if __name__ == "__main__":
    main()
