"""Speed of "tune each optimizer" (optim_core.tuning.tune), with its baseline in the same run.

    .venv/bin/python bench/bench_tuning.py [--quick]

1. 4 optimizers (SGD, momentum, Adam, RMSprop) × 32 learning rates × 500 steps on Rosenbrock,
   plus each optimizer's untuned settings (132 runs, one engine call): first call (compile,
   persistent cache off) and the median of warm calls, each with a different α range
   (target < 1 s warm).
2. The same with the second axis (β₁ / μ × 6 values: 4 + 32 + 3 × 6 × 32 = 612 runs).
3. Baseline: the same 132 runs one configuration at a time through `optim_core.run` (each
   optimizer compiled once beforehand), and the ratio.
4. Recompiles while the grid values change (α range, β values): JAX's backend-compile events
   and the engine's trace counter; both must stay at 0.
5. The MNIST learning-rate range test (training.lr_find, MLP, SGD, one epoch of the shipped
   sample at batch 64 = 125 steps, no early stop): first and warm call, and as baseline one
   epoch of `training.train` with the same optimizer, batches and batch size.
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import time
from pathlib import Path

os.environ.setdefault("OPTIM_PLAYGROUND_JAX_CACHE", "off")  # measure real compiles
sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import jax  # noqa: E402

from optim_core import configure_jax, engine, run  # noqa: E402
from optim_core.tuning import tune  # noqa: E402

COMPILES = {"n": 0}
FOUR = ["sgd", "momentum", "adam", "rmsprop"]
STEPS = 500
SURFACE = "rosenbrock"
# A different α range (and β grid) on every warm call: values change, shapes do not.
RANGES = [(1e-5, 10.0), (1e-4, 1.0), (3e-5, 3.0), (1e-3, 10.0), (1e-5, 0.1), (2e-4, 5.0), (1e-4, 2.0)]
SECONDS = [
    (0.0, 0.5, 0.8, 0.9, 0.95, 0.99),
    (0.1, 0.3, 0.6, 0.85, 0.9, 0.97),
    (0.0, 0.2, 0.4, 0.7, 0.9, 0.999),
]


def _count_compile(event: str, duration_secs: float, **kwargs: str | int) -> None:
    if event == "/jax/core/compile/backend_compile_duration":
        COMPILES["n"] += 1


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="fewer repeats")
    parser.add_argument("--skip-lr-find", action="store_true", help="surfaces only")
    args = parser.parse_args()
    configure_jax()
    jax.monitoring.register_event_duration_secs_listener(_count_compile)
    repeats = 3 if args.quick else len(RANGES) - 1
    print(
        f"{jax.devices()[0].platform}, {os.cpu_count()} cores, load average "
        f"{os.getloadavg()[0]:.1f}; {SURFACE}, {STEPS} steps"
    )

    # 1. α only
    t0 = time.perf_counter()
    first = tune(SURFACE, FOUR, steps=STEPS, alpha_range=RANGES[0])
    cold = time.perf_counter() - t0
    compiles0, traces0 = COMPILES["n"], engine.trace_count()
    times = []
    for rng in RANGES[1 : 1 + repeats]:
        t0 = time.perf_counter()
        tune(SURFACE, FOUR, steps=STEPS, alpha_range=rng)
        times.append(time.perf_counter() - t0)
    warm = statistics.median(times)
    recompiles_a = COMPILES["n"] - compiles0
    retraces_a = engine.trace_count() - traces0
    print(f"\n1. tune: 4 optimizers × 32 α × {STEPS} steps ({first.runs} runs, one engine call)")
    print(f"   first call (compile included): {cold:.2f} s")
    print(
        f"   warm, median of {len(times)} (new α range each): {warm * 1e3:.0f} ms "
        f"[min {min(times) * 1e3:.0f}, max {max(times) * 1e3:.0f}]  target < 1000 ms: "
        f"{'OK' if warm < 1.0 else 'MISSED'}"
    )

    # 2. α × β₁ / μ
    t0 = time.perf_counter()
    both = tune(SURFACE, FOUR, steps=STEPS, second=SECONDS[0])
    cold2 = time.perf_counter() - t0
    compiles1, traces1 = COMPILES["n"], engine.trace_count()
    times2 = []
    for i in range(repeats):
        t0 = time.perf_counter()
        tune(SURFACE, FOUR, steps=STEPS, second=SECONDS[1 + i % 2], alpha_range=RANGES[1 + i])
        times2.append(time.perf_counter() - t0)
    warm2 = statistics.median(times2)
    recompiles_b = COMPILES["n"] - compiles1
    retraces_b = engine.trace_count() - traces1
    print(f"\n2. tune with β₁ / μ × 6: {both.runs} runs, one engine call")
    print(f"   first call: {cold2:.2f} s; warm median of {len(times2)}: {warm2 * 1e3:.0f} ms")

    # 3. baseline: one configuration at a time
    configs = [(t.name, float(a)) for t in first for a in t.alphas] + [
        (t.name, t.default.resolved()["learning_rate"]) for t in first
    ]
    for name in FOUR:  # compile each optimizer's single-run program first
        run(SURFACE, name, {"learning_rate": 1e-3}, steps=STEPS)
    t0 = time.perf_counter()
    for name, alpha in configs:
        run(SURFACE, name, {"learning_rate": alpha}, steps=STEPS)
    one_by_one = time.perf_counter() - t0
    print(
        f"\n3. baseline: the same {len(configs)} runs one at a time through optim_core.run: "
        f"{one_by_one * 1e3:.0f} ms ({one_by_one / warm:.0f}× the batched call)"
    )

    print(
        f"\n4. while the grid values changed: {recompiles_a + recompiles_b} backend compiles, "
        f"{retraces_a + retraces_b} engine traces (must be 0)"
    )
    print("\nchosen (first call):")
    for t in first:
        print("  " + t.summary())
    if not args.skip_lr_find:
        _bench_lr_find(repeats)


def _bench_lr_find(repeats: int) -> None:
    from training.data import load_sample
    from training.lr_find import lr_find
    from training.lr_find import trace_count as lr_traces
    from training.train import TrainConfig, train

    data = load_sample()
    t0 = time.perf_counter()
    lr_find("sgd", data=data, batch_size=64, stop_early=False)
    cold = time.perf_counter() - t0
    traces = lr_traces()
    times = []
    for i in range(repeats):
        t0 = time.perf_counter()
        r = lr_find("sgd", data=data, batch_size=64, alpha_min=10.0 ** -(5 + i % 2), stop_early=False)
        times.append(time.perf_counter() - t0)
    config = TrainConfig(model="mlp", epochs=1, batch_size=64, keep_snapshots=False, parallel="sequential")
    train(["sgd"], config, data)  # compile
    base = []
    for _ in range(repeats):
        t0 = time.perf_counter()
        train(["sgd"], config, data)
        base.append(time.perf_counter() - t0)
    print(
        f"\n5. lr_find, MLP, SGD, {r.planned_steps} steps (one epoch of the sample, batch 64): "
        f"first call {cold:.2f} s, warm median {statistics.median(times) * 1e3:.0f} ms "
        f"({lr_traces() - traces} retraces); baseline: one epoch of training.train "
        f"{statistics.median(base) * 1e3:.0f} ms (validation pass included)"
    )
    print("   " + r.summary())


if __name__ == "__main__":
    main()
