"""Compile the default views once, into JAX's persistent cache, before the server starts.

`app_pages.serve` (what `scripts/run_app.sh` starts) runs it in a background thread while the
server starts, so even the very first visitor after a fresh install gets a warm start; run on
its own it fills JAX's persistent cache (the Docker image does this at build time).

    .venv/bin/python -m playground.warmup
"""

from __future__ import annotations

import time

from playground.compute import run_setup
from playground.home import DEMO_SGD_DEFAULT, demo_setup
from playground.setup import Setup


def warm_up() -> float:
    """Run the Playground's default setup and the home demo, and draw the default surface's
    picture; return the seconds it took."""
    from viz.raster import surface_raster

    start = time.perf_counter()
    setup = Setup()
    run_setup(setup)
    surface_raster(setup.resolved_surface(), dict(setup.surface_params))
    run_setup(demo_setup(DEMO_SGD_DEFAULT))
    return time.perf_counter() - start


if __name__ == "__main__":
    from optim_core import configure_jax

    configure_jax()  # the persistent compilation cache, before the first compile
    print(f"Warm-up: default views compiled in {warm_up():.1f} s (cached for later starts).")
