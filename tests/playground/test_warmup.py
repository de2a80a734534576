"""The start-up warm-up runs the views the first visitor sees (so their programs are cached)."""

from __future__ import annotations

from playground import compute
from playground.home import DEMO_SGD_DEFAULT, demo_setup
from playground.setup import Setup, validate
from playground.warmup import warm_playground, warm_up
from viz import _data, raster
from viz.contour import CLICK_GRID_POINTS


def test_warm_up_runs_the_default_playground_and_the_home_demo() -> None:
    compute.RUNS.clear()
    seconds = warm_up()
    assert seconds > 0
    assert compute.RUNS.info().entries == 2
    # The page's first run then finds both results ready (validated setups: what the pages run).
    before = compute.RUNS.info().hits
    compute.run_setup(validate(Setup())[0])
    compute.run_setup(validate(demo_setup(DEMO_SGD_DEFAULT))[0])
    assert compute.RUNS.info().hits == before + 2
    assert compute.RUNS.info().entries == 2
    assert Setup() != demo_setup(DEMO_SGD_DEFAULT)


def test_the_playground_part_makes_the_picture_and_map_before_its_run_starts() -> None:
    """The server lets the first Playground page run at run_starts(): from there the page finds
    the picture and the map's click layer cached and its run_setup joins the warm-up's run."""
    compute.RUNS.clear()
    runs_when_started: list[int] = []
    assert warm_playground(run_starts=lambda: runs_when_started.append(compute.RUNS.info().entries)) > 0
    assert runs_when_started == [0]  # called once, before the run
    assert compute.RUNS.info().entries == 1
    # What the page asks for (its sliders hold the surface's resolved parameters) is cached.
    surface = Setup().resolved_surface()
    params = surface.resolve_params(Setup().surface_params)
    grid_hits, raster_hits = _data._grid_cached.cache_info().hits, raster._raster_cached.cache_info().hits
    raster.surface_raster(surface, params)
    _data.surface_grid(surface, params, CLICK_GRID_POINTS)
    assert raster._raster_cached.cache_info().hits == raster_hits + 1
    assert _data._grid_cached.cache_info().hits == grid_hits + 1
    before = compute.RUNS.info().hits
    compute.run_setup(validate(Setup())[0])
    assert compute.RUNS.info().hits == before + 1
