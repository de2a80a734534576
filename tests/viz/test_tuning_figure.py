"""viz.tuning.tuning_curve_figure: outcome vs α per optimizer, default and tuned α marked."""

from __future__ import annotations

import math

import numpy as np
import plotly.graph_objects as go
import pytest

from optim_core.metrics import minimum_loss
from optim_core.tuning import tune
from surfaces import get_surface
from viz.colors import color_for
from viz.tuning import DEFAULT_MARK, DIVERGED_MARK, TUNED_MARK, mark_name, tuning_curve_figure


@pytest.fixture(scope="module")
def result():
    return tune("rosenbrock", ["sgd", "momentum", "adam"], steps=200)


def traces(fig: go.Figure, name: str) -> list:
    return [t for t in fig.data if t.name == name]


def test_markers_at_default_and_tuned_alpha(result) -> None:
    f_star = minimum_loss(get_surface("rosenbrock"))
    fig = tuning_curve_figure(result.optimizers, f_star=f_star, tol=result.tol)
    go.Figure(fig.to_dict())  # plotly's validating constructor accepts it
    for i, t in enumerate(result.optimizers):
        for mark, settings, score in (
            (DEFAULT_MARK, t.default, t.default_score),
            (TUNED_MARK, t.tuned, t.tuned_score),
        ):
            found = traces(fig, mark_name(t.label, mark))
            assert found, (t.label, mark)
            alpha = settings.resolved()["learning_rate"]
            for trace in found:
                assert list(trace.x) == [alpha]
                assert trace.marker.color == color_for(i)
            if not score.diverged:  # the loss panel always has the mark
                ys = [float(tr.y[0]) for tr in found]
                assert any(math.isclose(y, max(score.final_loss - f_star, 1e-12), rel_tol=1e-5) for y in ys)
        curve = [tr for tr in traces(fig, t.label) if tr.mode == "lines+markers"]
        assert curve and np.allclose(np.asarray(curve[0].x, float), t.alphas)
        assert curve[0].line.color == color_for(i)
    assert fig.layout.xaxis.type == "log"
    # Gradient descent diverges at the large end of its α range on Rosenbrock: marked ×.
    sgd = result["sgd"]
    div = traces(fig, mark_name(sgd.label, DIVERGED_MARK))
    assert div and np.allclose(np.asarray(div[0].x, float), sgd.alphas[sgd.curve()["diverged"]])


def test_labels_colors_and_unknown_minimum(result) -> None:
    labels = ["A", "B", "C"]
    fig = tuning_curve_figure(result.optimizers, labels=labels, colors=["#111111", "#222222", "#333333"])
    assert traces(fig, mark_name("B", TUNED_MARK))[0].marker.color == "#222222"
    loss_axis = [k for k in fig.layout.to_plotly_json() if k.startswith("yaxis")][-1]
    assert fig.layout[loss_axis].type != "log"  # no f*: the plain final loss, linear
    with pytest.raises(ValueError):
        tuning_curve_figure(result.optimizers, labels=["only one"])
    with pytest.raises(ValueError):
        tuning_curve_figure([])
