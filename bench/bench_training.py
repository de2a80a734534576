"""Training speed: our JAX CNN/MLP against baselines measured in the same run.

    PYTHONPATH=. .venv/bin/python bench/bench_training.py [--quick] [--skip-torch]

1. CNN train step (Adam, batch 64): ours (the training loop's jitted `lax.scan`) against the
   same model and optimizer in PyTorch on the CPU (`pip install -r requirements-bench.txt`).
2. MLP 784-256-10, one epoch on 8000 images at batch 64: the scan (target < 0.2 s) against a
   per-batch Python loop calling a jitted step.
3. Six optimizers at once (the article's): one at a time, threads, and one fused program;
   epoch wall time, throughput ratio and CPU utilisation (CPU seconds / wall / cores).
4. Loss-landscape grid at the default sizes.

Every figure is the best of several repeats after compilation (other processes on a shared
machine only ever make a run slower); the load average is printed so a busy machine shows.
"""

from __future__ import annotations

import argparse
import functools
import importlib
import os
import resource
import sys
import time
from collections.abc import Callable
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import jax  # noqa: E402
import jax.numpy as jnp  # noqa: E402
import numpy as np  # noqa: E402

from optim_core import OPTIMIZERS, apply_updates, resolve_hparams  # noqa: E402
from training.data import load_sample  # noqa: E402
from training.landscape import compute_landscape  # noqa: E402
from training.models import get_model, loss_and_logits  # noqa: E402
from training.train import TrainConfig, train  # noqa: E402

T = importlib.import_module("training.train")  # the module (the package exports the function)
ARTICLE = ("adadelta", "adagrad", "adam", "rmsprop", "sgd", "momentum")


def best_of(fn: Callable[[], object], repeats: int) -> float:
    times = []
    for _ in range(repeats):
        t0 = time.perf_counter()
        fn()
        times.append(time.perf_counter() - t0)
    return min(times)


def cpu_seconds() -> float:
    r = resource.getrusage(resource.RUSAGE_SELF)
    return r.ru_utime + r.ru_stime


def load() -> str:
    return " ".join(f"{x:.1f}" for x in os.getloadavg())


def chunk_runner(model: str, name: str, data, n_batches: int, batch: int = 64):
    """The training loop's own compiled chunk for one optimizer, ready to call."""
    m = get_model(model)
    params = m.init(jax.random.key(0))
    opt = OPTIMIZERS[name].optimizer
    hp = {k: jnp.float32(v) for k, v in resolve_hparams(name, {}, "keras").items()}
    x_all, y_all = jnp.asarray(data.x_train), jnp.asarray(data.y_train)
    idx = jnp.arange(n_batches * batch, dtype=jnp.int32).reshape(n_batches, batch)
    state = {"p": params, "s": opt.init(params)}

    def args():
        # the chunk donates its params/state: hand it fresh copies each call
        return (
            (jax.tree.map(jnp.copy, state["p"]),),
            (jax.tree.map(jnp.copy, state["s"]),),
            (hp,),
            x_all,
            y_all,
            idx,
            jnp.ones(n_batches, bool),
            jax.random.key(1),
            jnp.int32(0),
        )

    fn, compile_s = T._compiled_chunk(model, (name,), args())

    def run():
        a = args()
        jax.block_until_ready(a)
        t = time.perf_counter()
        jax.block_until_ready(fn(*a))
        return time.perf_counter() - t

    return run, compile_s


def loop_runner(model: str, name: str, data, n_batches: int, batch: int = 64):
    """Baseline: one jitted step per batch, called from a Python loop."""
    m = get_model(model)
    opt = OPTIMIZERS[name].optimizer
    hp = {k: jnp.float32(v) for k, v in resolve_hparams(name, {}, "keras").items()}
    x_all, y_all = jnp.asarray(data.x_train), jnp.asarray(data.y_train)

    @jax.jit
    def step(p, s, bidx, key):
        x, y = x_all[bidx].astype(jnp.float32) / 255.0, y_all[bidx]
        (loss, _), g = jax.value_and_grad(lambda q: loss_and_logits(m, q, x, y, key, True), has_aux=True)(p)
        u, s, _ = opt.update(g, s, p, hp)
        return apply_updates(p, u), s, loss

    idx = jnp.arange(n_batches * batch, dtype=jnp.int32).reshape(n_batches, batch)
    p = m.init(jax.random.key(0))
    s = opt.init(p)
    jax.block_until_ready(step(p, s, idx[0], jax.random.key(0)))

    def run():
        q, st = p, s
        t = time.perf_counter()
        for i in range(n_batches):
            q, st, _ = step(q, st, idx[i], jax.random.fold_in(jax.random.key(0), i))
        jax.block_until_ready(q)
        return time.perf_counter() - t

    return run


def torch_cnn_runner(data, n_batches: int, batch: int = 64):
    import torch
    from torch import nn

    torch.manual_seed(0)
    model = nn.Sequential(
        nn.Conv2d(1, 32, 3),
        nn.ReLU(),
        nn.MaxPool2d(2),
        nn.Dropout(0.25),
        nn.Flatten(),
        nn.Linear(13 * 13 * 32, 256),
        nn.ReLU(),
        nn.Dropout(0.5),
        nn.Linear(256, 10),
    )
    opt = torch.optim.Adam(model.parameters(), lr=1e-3, eps=1e-7)
    loss_fn = nn.CrossEntropyLoss()
    x = torch.from_numpy(data.x_train[: n_batches * batch].astype(np.float32) / 255.0)
    x = x.reshape(n_batches, batch, 1, 28, 28)
    y = torch.from_numpy(data.y_train[: n_batches * batch].astype(np.int64))
    y = y.reshape(n_batches, batch)
    model.train()

    def run():
        t = time.perf_counter()
        for i in range(n_batches):
            opt.zero_grad(set_to_none=True)
            loss = loss_fn(model(x[i]), y[i])
            loss.backward()
            opt.step()
        return time.perf_counter() - t

    run()  # warm-up (allocator, oneDNN primitives)
    return run, torch.__version__, torch.get_num_threads()


def interleaved(runners: dict[str, Callable[[], float]], repeats: int) -> dict[str, float]:
    """Best time of each runner, the runners taking turns in every round, so that a burst of
    load from other processes hits all of them alike rather than whichever ran then."""
    best = dict.fromkeys(runners, np.inf)
    for _ in range(repeats):
        for name, run in runners.items():
            best[name] = min(best[name], run())
    return best


def bench_cnn(data, repeats: int, n_batches: int, skip_torch: bool) -> None:
    print(
        f"\n== 1. CNN train step, Adam, batch 64 ({n_batches} steps a round, best of "
        f"{repeats} interleaved rounds)"
    )
    ours, compile_s = chunk_runner("cnn", "adam", data, n_batches)
    runners = {"ours": ours, "loop": loop_runner("cnn", "adam", data, n_batches)}
    torch_info = None
    if not skip_torch:
        try:
            torch_run, version, threads = torch_cnn_runner(data, n_batches)
            runners["torch"] = torch_run
            torch_info = (version, threads)
        except ImportError:
            pass
    best = {k: v / n_batches for k, v in interleaved(runners, repeats).items()}
    print(
        f"  ours (JAX, jitted lax.scan)      {best['ours'] * 1e3:7.2f} ms/step"
        f"   (compile {compile_s:.1f} s, once)"
    )
    print(f"  ours, Python loop of jitted step {best['loop'] * 1e3:7.2f} ms/step")
    if skip_torch:
        print("  PyTorch: skipped (--skip-torch)")
    elif torch_info is None:
        print(
            "  PyTorch is not installed: no baseline. Install it for the benchmark only:\n"
            "    .venv/bin/pip install -r requirements-bench.txt   (torch==2.13.0, CPU)"
        )
    else:
        t_ours, t_torch = best["ours"], best["torch"]
        print(
            f"  PyTorch {torch_info[0]} CPU ({torch_info[1]} threads, eager loop)"
            f" {t_torch * 1e3:7.2f} ms/step"
        )
        print(
            f"  => ours / PyTorch = {t_ours / t_torch:.2f}x the time "
            f"({'faster' if t_ours <= t_torch else 'SLOWER'}: {t_torch / t_ours:.2f}x speed)"
        )


def bench_mlp_epoch(data, repeats: int) -> None:
    n = data.n_train // 64
    print(
        f"\n== 2. MLP 784-256-10, one epoch = {n} batches of 64 on {data.n_train} images "
        f"(Adam, best of {repeats} interleaved rounds)"
    )
    ours, compile_s = chunk_runner("mlp", "adam", data, n)
    best = interleaved({"ours": ours, "loop": loop_runner("mlp", "adam", data, n)}, repeats)
    t_ours, t_loop = best["ours"], best["loop"]
    print(
        f"  scan epoch (ours)            {t_ours:7.3f} s   target < 0.2 s: "
        f"{'met' if t_ours < 0.2 else 'NOT met'} (compile {compile_s:.1f} s, once)"
    )
    print(f"  baseline: Python loop of a jitted step {t_loop:7.3f} s")
    print(f"  => scan is {t_loop / t_ours:.2f}x faster than the per-batch loop")
    cfg = TrainConfig(model="mlp", epochs=3, keep_snapshots=False, val_size=500)
    train(["adam"], cfg, data)
    r = train(["adam"], cfg, data)
    t_train = min(e.time for e in r.runs[0].epochs)
    print(
        f"  train() as used (chunks of {cfg.chunk_size} batches, per-chunk progress): "
        f"{t_train:.3f} s an epoch, + {r.runs[0].epochs[-1].eval_time:.3f} s validation"
    )


def bench_many(data, model: str, train_size: int, repeats: int) -> None:
    cores = os.cpu_count() or 1
    print(
        f"\n== 3. {len(ARTICLE)} optimizers at once ({', '.join(ARTICLE)}), {model.upper()}, "
        f"one epoch on {train_size} images, batch 64 ({cores} cores, best of {repeats} "
        "interleaved rounds)"
    )
    modes = ("sequential", "threads", "fused")
    cfgs = {
        m: TrainConfig(
            model=model, epochs=1, train_size=train_size, parallel=m, keep_snapshots=False, val_size=500
        )
        for m in modes
    }
    for cfg in cfgs.values():
        train(list(ARTICLE), cfg, data)  # compile (cached for the timed runs)
    best = dict.fromkeys(modes, (np.inf, 0.0))
    for _ in range(repeats):
        for m in modes:
            c0, t0 = cpu_seconds(), time.perf_counter()
            train(list(ARTICLE), cfgs[m], data)
            best[m] = min(best[m], (time.perf_counter() - t0, cpu_seconds() - c0))
    base = best["sequential"][0]
    for mode, (wall, cpu) in best.items():
        print(
            f"  {mode:10s} {wall:7.3f} s wall   {base / wall:5.2f}x throughput of one-at-a-time"
            f"   CPU {cpu / wall / cores * 100:5.1f}% of {cores} cores"
        )


def bench_landscape(data, repeats: int) -> None:
    print("\n== 4. Loss landscape at the default sizes (after compile)")
    for model, train_size in (("mlp", 2000), ("cnn", 1000)):
        r = train(["adam", "sgd"], TrainConfig(model=model, epochs=2, train_size=train_size), data)
        t0 = time.perf_counter()
        land = compute_landscape(r, data)
        first = time.perf_counter() - t0
        t = best_of(functools.partial(compute_landscape, r, data), repeats)
        n = len(land.alphas)
        print(
            f"  {model}: {n}x{n} grid on {land.subset} images: {t:6.2f} s "
            f"(first call with compile {first:.2f} s)"
        )


def main() -> None:
    from optim_core import configure_jax

    configure_jax()  # before the first compile
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--quick", action="store_true", help="fewer repeats and steps")
    ap.add_argument("--skip-torch", action="store_true")
    ap.add_argument("--only", choices=("cnn", "mlp", "many", "landscape"), default=None)
    a = ap.parse_args()
    repeats = 2 if a.quick else 7
    print(
        f"JAX {jax.__version__} on {jax.devices()[0].platform}, {os.cpu_count()} cores; "
        f"load average {load()} (1/5/15 min; above the core count means other processes "
        "compete for the CPU and every time below is inflated)"
    )
    data = load_sample()
    if a.only in (None, "cnn"):
        bench_cnn(data, repeats, 20 if a.quick else 40, a.skip_torch)
    if a.only in (None, "mlp"):
        bench_mlp_epoch(data, repeats)
    if a.only in (None, "many"):
        bench_many(data, "mlp", 8000, repeats)
        bench_many(data, "cnn", 640 if a.quick else 1280, max(2, repeats - 2))
    if a.only in (None, "landscape"):
        bench_landscape(data, 2 if a.quick else 3)
    print(f"\nload average at the end: {load()}")


if __name__ == "__main__":
    main()
