"""Server memory over many distinct custom formulas: does it plateau?

Each formula goes the way a visitor's formula goes on the Playground: `from_expression` (through
the Setup reader), one batched engine run of the default optimizers (`playground.compute`), and
the contour figure (its surface grid). RSS is printed after every 20 formulas; the baseline is the
RSS after the first 20 (the process has compiled and cached everything a first formula needs by
then), measured in the same run.

    .venv/bin/python bench/bench_formula_memory.py            # 200 formulas
    .venv/bin/python bench/bench_formula_memory.py --count 60

The JAX persistent cache is switched off for the run (OPTIM_PLAYGROUND_JAX_CACHE=off), so every
formula really compiles, as it does on a server that meets it for the first time.
"""

from __future__ import annotations

import argparse
import gc
import os
import sys
import time
from pathlib import Path

os.environ.setdefault("OPTIM_PLAYGROUND_JAX_CACHE", "off")
sys.path.insert(0, str(Path(__file__).resolve().parents[1]))


def rss_mb() -> float:
    """Resident set size of this process, from /proc (MB)."""
    with open("/proc/self/status") as status:
        for line in status:
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) / 1024
    raise RuntimeError("no VmRSS in /proc/self/status")


def formula(i: int) -> str:
    """A distinct, ordinary formula per i (a shifted, scaled bowl with a ripple)."""
    a, b, c = 1 + (i % 7) * 0.25, 0.5 + (i % 11) * 0.1, (i // 77) * 0.05 + 0.1
    return f"{a:g}*(x - {i % 5 - 2:g})**2 + {b:g}*(y + {i % 3 - 1:g})**2 + {c:g}*sin({i + 1}*x)"


def main() -> None:
    from optim_core import configure_jax

    configure_jax()  # before the first compile
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--count", type=int, default=200)
    parser.add_argument("--every", type=int, default=20)
    args = parser.parse_args()

    from playground.compute import run_setup
    from playground.setup import CUSTOM, Setup
    from surfaces import expression
    from viz import contour as vc

    print(f"{'formulas':>8} {'RSS MB':>8} {'vs baseline':>12} {'s / formula':>12}")
    baseline: float | None = None
    started = time.perf_counter()
    for i in range(args.count):
        setup = Setup(surface=CUSTOM, expression=formula(i))
        result = run_setup(setup)
        vc.contour_figure(result.surface, list(result.trajectories))
        if (i + 1) % args.every == 0:
            gc.collect()
            rss = rss_mb()
            if baseline is None:
                baseline = rss
            per = (time.perf_counter() - started) / (i + 1)
            print(f"{i + 1:>8} {rss:>8.1f} {rss - baseline:>+12.1f} {per:>12.2f}", flush=True)
    info = getattr(expression, "cache_info", None)
    if info is not None:
        print("surface cache:", info())


if __name__ == "__main__":
    main()
