"""Where a new custom formula's time goes, and how it follows `formula_cost`.

For each formula: parsing, `from_expression` (finite check on the grid, minima estimate, start),
the first engine run of the Playground's four default optimizers (JAX traces and compiles the
formula and its gradient into the program: almost all of the time), and the 80 x 80 contour
grid. CPU seconds of this process (the machine is shared: wall time says little). The baseline is
a simple bowl measured first in the same run; formulas over MAX_COST are measured by calling the
builder directly (from_expression would refuse them).

    .venv/bin/python bench/bench_formula_cost.py
"""

from __future__ import annotations

import os
import sys
import time
from pathlib import Path

os.environ.setdefault("OPTIM_PLAYGROUND_JAX_CACHE", "off")
sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

FORMULAS = [
    ("bowl (baseline)", "x**2 + 3*y**2"),
    ("README example", "sin(x)*cos(y) + 0.1*(x**2 + y**2)"),
    (
        "Goldstein-Price",
        "(1 + (x + y + 1)**2*(19 - 14*x + 3*x**2 - 14*y + 6*x*y + 3*y**2))"
        "*(30 + (2*x - 3*y)**2*(18 - 32*x + 12*x**2 + 48*y - 36*x*y + 27*y**2))",
    ),
    ("24 nested exp(tanh)", "exp(tanh(" * 24 + "x" + "))" * 24),
    ("20 sin(ax) terms", "+".join(f"sin({0.1 + 0.01 * k:.2f}*x)" for k in range(20))),
    ("59 nested sin", "sin(" * 59 + "x" + ")" * 59),
    ("24 exp(tanh(ax)) terms", "+".join(f"exp(tanh({0.1 + 0.01 * k:.2f}*x))" for k in range(24))),
]


def main() -> None:
    from optim_core import run_batch
    from optim_core.engine import RunConfig
    from playground.setup import Setup
    from surfaces import expression
    from viz._data import surface_grid

    names = [entry.name for entry in Setup().optimizers]
    warm = expression.from_expression("x**2 + y**2 + 1")  # imports and first-call costs
    run_batch(warm, [RunConfig(n, {}) for n in names], steps=500)
    print(
        f"{'formula':24} {'chars':>5} {'cost':>5} {'parse':>7} {'surface':>8} {'compile+run':>11} "
        f"{'grid':>6} {'vs baseline':>11}   (CPU s; optimizers: {', '.join(names)})"
    )
    baseline = None
    for label, text in FORMULAS:
        clock = time.process_time
        t = clock()
        parsed = expression.parse_expression(text)
        parse_s = clock() - t
        t = clock()
        surface = expression._build_surface(parsed.normalized, expression.DEFAULT_DOMAIN, None)
        surface_s = clock() - t
        t = clock()
        run_batch(surface, [RunConfig(n, {}) for n in names], steps=500)
        run_s = clock() - t
        t = clock()
        surface_grid(surface, n=80)
        grid_s = clock() - t
        baseline = run_s if baseline is None else baseline
        flag = " (refused)" if parsed.cost > expression.MAX_COST else ""
        print(
            f"{label:24} {len(text):>5} {parsed.cost:>5} {parse_s:>7.3f} {surface_s:>8.2f} "
            f"{run_s:>11.2f} {grid_s:>6.2f} {run_s - baseline:>+11.2f}{flag}",
            flush=True,
        )


if __name__ == "__main__":
    main()
