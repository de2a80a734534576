"""The start-up warm-up runs the views the first visitor sees (so their programs are cached)."""

from __future__ import annotations

from playground import compute
from playground.home import DEMO_SGD_DEFAULT, demo_setup
from playground.setup import Setup, to_json
from playground.warmup import warm_up


def test_warm_up_runs_the_default_playground_and_the_home_demo() -> None:
    compute._run_cached.cache_clear()
    seconds = warm_up()
    assert seconds > 0
    info = compute._run_cached.cache_info()
    assert info.currsize == 2
    # The page's first run then finds both results ready.
    before = compute._run_cached.cache_info().hits
    compute.run_setup(Setup())
    compute.run_setup(demo_setup(DEMO_SGD_DEFAULT))
    assert compute._run_cached.cache_info().hits == before + 2
    assert to_json(Setup()) != to_json(demo_setup(DEMO_SGD_DEFAULT))
