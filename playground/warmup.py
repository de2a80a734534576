"""Compile the default views once, into JAX's persistent cache, before the server starts.

`app_pages.serve` (what `scripts/run_app.sh` starts) runs it in a background thread while the
server starts, so even the very first visitor after a fresh install gets a warm start; run on
its own it fills JAX's persistent cache (the Docker image does this at build time).

    .venv/bin/python -m playground.warmup

Two parts, in the order the server runs them: `warm_playground` (everything the Playground's
first view computes: the surface's picture, the map's click layer, the batched run) while the
first visitor's page loads, `warm_home` (the home page's demo) after the first page is served.
"""

from __future__ import annotations

import time
from collections.abc import Callable

from playground.compute import run_setup
from playground.home import DEMO_SGD_DEFAULT, demo_setup
from playground.setup import Setup


def warm_playground(run_starts: Callable[[], None] | None = None) -> float:
    """Compute the Playground's first view: the surface's picture and the map's click layer
    (a map without paths), then the default setup's batched run and the map with its paths.
    `run_starts()` is called just before the run (the server lets the first Playground page run
    from there: the page's own run_setup waits for this run, not computing it twice). Returns
    the seconds it took."""
    import plotly.io as pio

    from viz.colors import color_for
    from viz.contour import contour_figure
    from viz.raster import surface_raster

    start = time.perf_counter()
    setup = Setup()
    surface = setup.resolved_surface()
    params = surface.resolve_params(setup.surface_params)  # what the page's sliders hold
    background = (surface_raster(surface, params), "warm-up.png")
    contour_figure(surface, [], params, background=background)  # click layer, minima, start
    if run_starts is not None:
        run_starts()
    trajectories = list(run_setup(setup).trajectories)
    figure = contour_figure(
        surface,
        trajectories,
        params,
        colors=[color_for(i) for i in range(len(trajectories))],
        background=background,
    )
    pio.to_json(figure, validate=False)  # the serializer's first call, as st.plotly_chart makes it
    return time.perf_counter() - start


def warm_home() -> float:
    """Run the home page's demo; return the seconds it took."""
    start = time.perf_counter()
    run_setup(demo_setup(DEMO_SGD_DEFAULT))
    return time.perf_counter() - start


def warm_up() -> float:
    """Warm the Playground's first view and the home demo; return the seconds it took."""
    return warm_playground() + warm_home()


if __name__ == "__main__":
    from optim_core import configure_jax

    configure_jax()  # the persistent compilation cache, before the first compile
    print(f"Warm-up: default views compiled in {warm_up():.1f} s (cached for later starts).")
