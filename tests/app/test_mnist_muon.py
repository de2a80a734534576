"""Muon on the MNIST page (AppTest, no browser): offered beside the registry's optimizers, read
from links, trained with a tiny setup beside Adam and SGD, compared in the results table with
its 'what it teaches' line. Helpers as in test_mnist_page.py (a job runs in a thread; `finish`
reruns until it has handed over its result)."""

from __future__ import annotations

from typing import Any

import pytest
from app_helpers import assert_clean, finish_job, open_page
from streamlit.testing.v1 import AppTest

from playground import mnist_page as mp

PAGE = "app_pages/mnist.py"
TIMEOUT = 300
TINY = {"n": "500", "epochs": "1", "batch": "64"}
JOB = mp.wkey("job")


@pytest.fixture(autouse=True)
def empty_cache():
    mp.CACHE.clear()
    yield
    mp.CACHE.clear()


def finish(at: AppTest) -> AppTest:
    return finish_job(at, JOB, 300.0)


def table(at: AppTest, column: str) -> Any:
    return next(df.value for df in at.dataframe if column in df.value.columns)


def test_muon_is_offered_and_read_from_a_link() -> None:
    at = open_page(PAGE, {**TINY, "o": ["muon(learning_rate=0.05,nesterov=0)@optax", "adam@keras"]}, TIMEOUT)
    assert_clean(at)
    assert not at.warning
    eid = at.session_state[mp.wkey("entry_ids")][0]
    assert at.session_state[mp.entry_prefix(eid) + ".name"] == "muon"
    assert at.session_state[mp.hparam_key(eid, "muon", "learning_rate")] == pytest.approx(0.05)
    assert at.session_state[mp.hparam_key(eid, "muon", "nesterov")] is False
    assert "Muon" in at.selectbox(key=mp.wkey("add")).options
    assert at.query_params["o"][0] == "muon(learning_rate=0.05,nesterov=0)@optax"
    # a value out of range is clamped with a warning, an unknown key named
    at = open_page(PAGE, {**TINY, "o": ["muon(beta=7,b9=1)"]}, TIMEOUT)
    assert_clean(at)
    warned = "\n".join(str(w.value) for w in at.warning)
    assert "Muon beta" in warned and "b9" in warned
    # the keras preset says it is optax's Muon
    assert any("optax.contrib.muon" in str(c.value) for c in at.caption)


def test_muon_vs_adam_vs_sgd_runs_and_compares() -> None:
    at = open_page(PAGE, TINY, TIMEOUT)
    assert_clean(at)
    at.button(key=mp.wkey("compare_muon")).click().run()
    assert_clean(at)
    assert at.query_params["o"] == ["sgd@keras", "adam@keras", "muon@optax"]
    finish(at)
    summary = table(at, "accuracy (%)")
    assert list(summary["optimizer"]) == ["SGD", "Adam", "Muon"]
    acc = dict(zip(summary["optimizer"], summary["accuracy (%)"], strict=True))
    assert acc["Muon"] > 50 and acc["Muon"] > acc["SGD"]  # one epoch of 500 images
    assert (summary["time (s)"] > 0).all()
    [note] = [str(i.value) for i in at.info if "What Muon teaches" in str(i.value)]
    assert "Muon " in note and "Adam " in note and "SGD " in note and "× Adam's time" in note
