"""The range test's figure (viz.lr_find): built from hand-made LRFindResults (no training), so
it checks the drawing alone: a log α axis, the raw and smoothed curves, the suggested α starred
on the smoothed curve with a dashed line, the stop step crossed, and graceful cases (no
suggestion, no finite loss). Every figure is re-validated by plotly's validating constructor."""

from __future__ import annotations

import numpy as np
import plotly.graph_objects as go
import pytest

from optim_core.settings import OptimizerSettings
from training.lr_find import STOP_RULE, SUGGESTION_RULE, LRFindResult, smooth, steepest
from viz.lr_find import BLOWUP_NAME, RAW_NAME, SMOOTH_NAME, STOP_NAME, SUGGESTION_NAME, lr_find_figure


def make_result(losses: np.ndarray, stopped: bool = True, blowup: int | None = None) -> LRFindResult:
    n = len(losses)
    alphas = 1e-5 * (10.0 / 1e-5) ** (np.arange(n) / (n - 1))
    smoothed = smooth(losses)
    upto = n if blowup is None else blowup
    i = steepest(alphas[:upto], smoothed[:upto])
    return LRFindResult(
        alphas=alphas,
        losses=np.asarray(losses, np.float64),
        smoothed=smoothed,
        suggestion=None if i is None else float(alphas[i]),
        suggestion_index=i,
        rule=SUGGESTION_RULE,
        stopped_early=stopped,
        blowup_index=blowup,
        stop_rule=STOP_RULE,
        settings=OptimizerSettings("sgd"),
        model="mlp",
        batch_size=64,
        alpha_min=1e-5,
        alpha_max=10.0,
        planned_steps=n + 10,
        data_source="synthetic",
    )


def blowup_of(losses: np.ndarray) -> int | None:
    """STOP_RULE by hand: the first smoothed loss not finite or above 4× the lowest before it."""
    s = smooth(losses)
    for k in range(len(s)):
        if not np.isfinite(s[k]) or (k > 0 and s[k] > 4 * np.min(s[:k])):
            return k
    return None


def typical(n: int = 60) -> np.ndarray:
    """Flat, then falling (fastest around 60 % of the way), then blowing up at the end."""
    t = np.linspace(0, 1, n)
    loss = 2.3 - 1.5 / (1 + np.exp(-(t - 0.6) * 25))
    loss[-4:] = [5.0, 200.0, 800.0, np.inf]
    return loss


def by_name(fig: go.Figure) -> dict[str, dict]:
    return {t["name"]: t for t in fig.to_dict()["data"]}


def test_curves_marker_and_stop() -> None:
    k = blowup_of(typical())
    assert k is not None and k < 59 and np.isfinite(smooth(typical())[k])
    r = make_result(typical(), blowup=k)
    assert r.suggestion is not None and r.suggestion_index is not None
    fig = lr_find_figure(r)
    go.Figure(fig.to_dict())  # raises on any invalid property
    layout = fig.to_dict()["layout"]
    assert layout["xaxis"]["type"] == "log"
    traces = by_name(fig)
    raw, sm = traces[RAW_NAME], traces[SMOOTH_NAME]
    np.testing.assert_allclose(raw["x"], r.alphas)
    assert raw["y"][-1] is None  # the infinite loss is a gap, not a point
    shown = np.array([np.nan if y is None else y for y in sm["y"]])
    np.testing.assert_allclose(shown, np.where(np.isfinite(r.smoothed), r.smoothed, np.nan))
    star = traces[SUGGESTION_NAME]
    assert star["marker"]["symbol"] == "star"
    assert list(star["x"]) == [r.suggestion]
    assert list(star["y"]) == pytest.approx([r.smoothed[r.suggestion_index]])
    [line] = layout["shapes"]
    assert line["x0"] == line["x1"] == r.suggestion
    assert any(f"{float(f'{r.suggestion:.3g}'):g}" in a["text"] for a in layout["annotations"])
    stop = traces[STOP_NAME]
    assert list(stop["x"]) == [r.alphas[k]] and stop["marker"]["symbol"] == "x"
    # the y range holds the curve up to the suggestion and the lowest loss; the blow-up runs
    # off the top, its cross drawn on the top edge
    low, high = layout["yaxis"]["range"]
    assert low <= np.min(r.smoothed[:k]) and high >= np.max(r.smoothed[: r.suggestion_index + 1])
    assert high < np.nanmax(np.where(np.isfinite(r.smoothed), r.smoothed, np.nan))
    assert stop["y"] == [pytest.approx(high)] and stop["cliponaxis"] is False


def test_blowup_seen_but_not_stopped_has_its_own_name() -> None:
    r = make_result(typical(), stopped=False, blowup=blowup_of(typical()))
    traces = by_name(lr_find_figure(r))
    assert BLOWUP_NAME in traces and STOP_NAME not in traces


def test_no_suggestion_no_star_and_no_finite_loss_says_so() -> None:
    r = make_result(np.array([2.3, 2.3, np.inf]), blowup=2)
    assert r.suggestion is None
    fig = lr_find_figure(r)
    go.Figure(fig.to_dict())
    assert SUGGESTION_NAME not in by_name(fig)
    assert not fig.to_dict()["layout"].get("shapes")
    nothing = lr_find_figure(make_result(np.array([np.nan, np.nan, np.nan]), blowup=0))
    go.Figure(nothing.to_dict())
    assert any("nothing to draw" in a["text"] for a in nothing.to_dict()["layout"]["annotations"])
