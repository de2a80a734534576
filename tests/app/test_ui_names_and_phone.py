"""app_pages.ui: plain widget names that say whose they are, and figures laid out for a phone."""

from __future__ import annotations

import plotly.graph_objects as go

from app_pages import ui
from optim_core import OPTIMIZERS


def test_widget_names_are_plain_text_and_name_the_optimizer() -> None:
    adam = OPTIMIZERS["adam"]
    assert ui.hyperparam_label(adam.hyperparam("learning_rate"), "Adam") == "Adam learning rate α"
    assert ui.hyperparam_label(adam.hyperparam("b1"), "Adam #2") == "Adam #2 b1 β₁"
    assert ui.hyperparam_label(adam.hyperparam("bias_correction"), "Adam") == "Adam bias correction"
    assert ui.hyperparam_label(adam.hyperparam("learning_rate")) == "learning rate α"
    for spec in OPTIMIZERS.values():
        for h in spec.hyperparams:
            label = ui.hyperparam_label(h, spec.label)
            assert label.startswith(spec.label + " ")
            assert "$" not in label and "\\" not in label, label
            assert h.name not in label or "_" not in h.name, label  # optax names spaced out


def test_card_names_number_repeated_optimizers_only() -> None:
    assert ui.card_names(["Adam", "SGD", "Adam"]) == ["Adam #1", "SGD", "Adam #2"]
    assert ui.card_names(["SGD"]) == ["SGD"]
    assert ui.card_names([]) == []


def _map_figure() -> go.Figure:
    return go.Figure(
        data=[go.Heatmap(z=[[0, 1], [2, 3]], showscale=True, colorbar=dict(title=dict(text="loss")))],
        layout=dict(
            height=640,
            margin=dict(l=60, r=20, t=60, b=80),
            xaxis=dict(title=dict(text="x")),
            yaxis=dict(title=dict(text="y"), scaleanchor="x"),
        ),
    )


def test_phone_figure_narrows_margins_and_lays_the_colour_bar_above() -> None:
    fig = _map_figure()
    before = fig.to_dict()
    phone = ui.phone_figure(fig)
    assert fig.to_dict() == before  # the original (maybe cached, shared) figure is untouched
    layout = phone.layout
    assert layout.margin.l <= ui.PHONE_MARGIN["l"] and layout.margin.r <= ui.PHONE_MARGIN["r"]
    bar = phone.data[0].colorbar
    assert bar.orientation == "h" and bar.yanchor == "bottom" and bar.y == 1.0
    assert layout.margin.t == 60 + ui.PHONE_COLORBAR_PX
    # No blank bands above and below the square plot: the height is what the plot needs.
    assert layout.height == layout.margin.t + layout.margin.b + ui.PHONE_MAP_PX < 640 + ui.PHONE_COLORBAR_PX
    assert not layout.yaxis.title.text  # the map's "y" gives way to the plot
    assert layout.xaxis.title.text == "x" and layout.xaxis.automargin is True
    go.Figure(phone.to_dict())  # still a valid figure (plotly's validating constructor)


def test_phone_figure_leaves_several_colour_bars_beside_their_plots() -> None:
    fig = _map_figure()
    fig.add_trace(go.Heatmap(z=[[1, 2]], showscale=True))
    phone = ui.phone_figure(fig)
    assert all(t.colorbar.orientation != "h" for t in phone.data)
    assert phone.layout.margin.t == 60


def test_not_a_phone_outside_a_server() -> None:
    assert ui.is_phone() is False
