"""The MNIST page's learning-rate range test (AppTest, no browser): run on the MLP with the
smallest setting through the admission queue; the figure stars the suggested α; the sentence
names the α of the LRFindResult and its reasons hold on the curve (checked here from the arrays,
not with the code that chose it); 'Use this α' sets the optimizer's widget and the link; values
the test cannot take give a message, never a traceback."""

from __future__ import annotations

import json
import math
import re

import numpy as np
import pytest
from app_helpers import assert_clean, finish_job, open_page
from streamlit.testing.v1 import AppTest

from playground import mnist_lr_find as lrf
from playground import mnist_page as mp
from training.lr_find import lr_find
from viz.lr_find import SMOOTH_NAME, SUGGESTION_NAME

PAGE = "app_pages/mnist.py"
TIMEOUT = 300
# The smallest setting that makes a curve: 500 images in batches of 16 are 31 steps.
TINY = {"n": "500", "epochs": "1", "batch": "16", "o": ["sgd@keras", "adam@keras"]}
LRF_JOB, LRF_SHOWN, LRF_ENTRY = mp.wkey("lrf", "job"), mp.wkey("lrf", "shown"), mp.wkey("lrf", "entry")
ALPHA = re.compile(r"α = ([0-9.eE+-]+)")


@pytest.fixture(autouse=True)
def empty_cache():
    lrf.RESULTS.clear()
    yield
    lrf.RESULTS.clear()


def wait(at: AppTest) -> AppTest:
    """Rerun until the range test has handed over its result."""
    return finish_job(at, LRF_JOB, 120.0)


def lr_figure(at: AppTest) -> dict:
    [fig] = [
        f
        for f in (json.loads(c.proto.spec) for c in at.get("plotly_chart"))
        if any(t.get("name") == SMOOTH_NAME for t in f["data"])
    ]
    return fig


def test_range_test_suggests_draws_and_applies() -> None:
    at = open_page(PAGE, TINY, TIMEOUT)
    assert_clean(at)
    first = at.session_state[mp.wkey("entry_ids")][0]
    assert at.session_state[LRF_ENTRY] == first  # the page's first optimizer by default
    at.button(key=mp.wkey("lrf", "go")).click().run()
    assert_clean(at)
    job = at.session_state[LRF_JOB][1]  # it went through the admission queue, as a training does
    assert isinstance(job, lrf.RangeTestJob) and job.session is not None
    wait(at)
    entry_id, test, result = at.session_state[LRF_SHOWN]
    assert entry_id == first and test.entry.name == "sgd" and test.model == "mlp"
    assert (test.train_size, test.batch_size) == (500, 16)

    # The page ran the test it says it ran: the same call gives the same curve.
    again = lr_find(test.entry, model="mlp", data=mp.dataset("sample"), batch_size=16, train_size=500)
    np.testing.assert_allclose(again.smoothed, result.smoothed, rtol=1e-6)
    assert again.suggestion == result.suggestion is not None
    i = result.suggestion_index

    # The figure: log α axis, the star on the smoothed curve at the suggested α.
    fig = lr_figure(at)
    assert fig["layout"]["xaxis"]["type"] == "log"
    [star] = [t for t in fig["data"] if t.get("name") == SUGGESTION_NAME]
    assert star["x"] == [pytest.approx(result.suggestion)]
    assert star["y"] == [pytest.approx(result.smoothed[i])]

    # The sentence names the result's α, and its reasons hold on the arrays.
    [sentence] = [m.value for m in at.markdown if "Suggested α" in m.value]
    named = [float(x.rstrip(".,")) for x in ALPHA.findall(sentence)]
    assert named[0] == pytest.approx(result.suggestion, rel=5e-3)
    a, s = result.alphas, result.smoothed
    upto = len(a) if result.blowup_index is None else result.blowup_index
    lo, hi = math.ceil(0.1 * upto), upto - 5  # the window SUGGESTION_RULE reads
    slope = np.gradient(s[lo:hi], np.log(a[lo:hi]))
    assert slope.min() < 0 and lo + int(np.argmin(slope)) == i  # "falls fastest" there
    best = int(np.nanargmin(np.where(np.isfinite(s), s, np.nan)))
    assert named[1] == pytest.approx(a[best], rel=5e-3)  # "the loss is lowest … at α = …"
    assert ("later" in sentence) == (best > i)
    if result.blowup_index is not None:  # "it blows up from α = …": past 4× the lowest so far
        k = result.blowup_index
        assert named[2] == pytest.approx(a[k], rel=5e-3)
        assert not np.isfinite(s[k]) or s[k] > 4 * np.min(s[:k])

    # 'Use this α' writes the named α into SGD's learning-rate widget, and so into the link.
    at.button(key=mp.wkey("lrf", "use")).click().run()
    assert_clean(at)
    key = mp.hparam_key(first, "sgd", "learning_rate")
    assert at.session_state[key] == pytest.approx(named[0])
    assert at.number_input(key=key + ".box").value == pytest.approx(named[0])
    assert at.query_params["o"][0] == f"sgd(learning_rate={named[0]:g})@keras"
    assert at.query_params["o"][1] == "adam@keras"  # the other optimizer is untouched
    assert any("press **▶ Run**" in s.value.replace("Press", "press") for s in at.success)

    # The same test again comes from the cache at once (no job).
    at.button(key=mp.wkey("lrf", "go")).click().run()
    assert LRF_JOB not in at.session_state
    assert at.session_state[LRF_SHOWN][2] is result


def test_bad_values_give_messages_not_tracebacks() -> None:
    # 500 images in batches of 256: one step, no curve. The page says what to change.
    at = open_page(PAGE, {**TINY, "batch": "256"}, TIMEOUT)
    assert_clean(at)
    at.button(key=mp.wkey("lrf", "go")).click().run()
    assert_clean(at)
    assert LRF_JOB not in at.session_state and LRF_SHOWN not in at.session_state
    assert any("at least" in e.value and "smaller batch" in e.value for e in at.error)
    # The optimizer picked for the test is removed from the page: the test falls back to the first.
    first, second = at.session_state[mp.wkey("entry_ids")]
    at.selectbox(key=LRF_ENTRY).set_value(second).run()
    assert_clean(at)
    at.button(key=mp.entry_prefix(second) + ".remove").click().run()
    assert_clean(at)
    assert at.session_state[LRF_ENTRY] == first
    assert at.selectbox(key=LRF_ENTRY).options == ["1. SGD · keras"]


def test_a_test_too_long_to_wait_for_is_refused_with_a_reason(monkeypatch: pytest.MonkeyPatch) -> None:
    # The CNN's test runs through the queue like a training; one longer than MAX_SECONDS (it
    # cannot be stopped once it runs) is refused, and the page says what to change.
    monkeypatch.setattr(lrf, "MAX_SECONDS", 0.01)
    at = open_page(PAGE, {**TINY, "model": "cnn"}, TIMEOUT)
    assert_clean(at)
    assert "cannot be stopped" in " ".join(c.value for c in at.caption)
    at.button(key=mp.wkey("lrf", "go")).click().run()
    assert_clean(at)
    assert LRF_JOB not in at.session_state
    assert any("cannot be stopped" in e.value and "the MLP" in e.value for e in at.error)
