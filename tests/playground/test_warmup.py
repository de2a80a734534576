"""The start-up warm-up runs the views the first visitor sees (so their programs are cached)."""

from __future__ import annotations

from playground import compute
from playground.home import DEMO_SGD_DEFAULT, demo_setup
from playground.setup import Setup, validate
from playground.warmup import warm_up


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
