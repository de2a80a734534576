"""The tuning figure: each optimizer's outcome against its learning rate α (log axis), with the
default α and the tuned α marked, in the optimizer's colour (`viz.colors.color_for`, entry order).

Top panel (when any run settled): steps until the loss stays within the tolerance. Bottom panel:
the final loss above the minimum, loss − f* (log; the plain final loss when f* is unknown).
α values whose run diverged are marked × along the top of the loss panel.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import Any

import numpy as np
import plotly.graph_objects as go

from optim_core import OPTIMIZERS
from optim_core.tuning import OptimizerTuning, Score
from viz._data import f32
from viz._style import layout_for, log_ticks, make_figure, message
from viz.colors import OUTLINE_COLOR, resolve_colors

__all__ = ["DEFAULT_MARK", "DIVERGED_MARK", "TUNED_MARK", "mark_name", "tuning_curve_figure"]

DEFAULT_MARK = "default α"
TUNED_MARK = "tuned α"
DIVERGED_MARK = "diverged"
GAP_FLOOR = 1e-12  # loss − f* at or below this is drawn at this height (a log axis has no 0)


def mark_name(label: str, mark: str) -> str:
    """The trace name of one optimizer's marker, e.g. "Adam: tuned α"."""
    return f"{label}: {mark}"


def _gap(values: np.ndarray | float, f_star: float) -> np.ndarray:
    v = np.asarray(values, dtype=np.float64)
    if not math.isfinite(f_star):
        return v
    return np.where(np.isfinite(v), np.maximum(v - f_star, GAP_FLOOR), np.nan)


def _score_y(score: Score, panel: str, f_star: float) -> float | None:
    if score.diverged or not math.isfinite(score.final_loss):
        return None
    if panel == "steps":
        return None if score.steps_to_tol is None else float(score.steps_to_tol)
    return float(_gap(score.final_loss, f_star))


def tuning_curve_figure(
    tunings: Sequence[OptimizerTuning],
    labels: Sequence[str] | None = None,
    f_star: float = math.nan,
    tol: float | None = None,
    colors: Sequence[str] | None = None,
    title: str | None = None,
) -> go.Figure:
    """Outcome vs α per optimizer, default α (○) and tuned α (★) marked.

    `tunings`: one OptimizerTuning per optimizer (entry order); `labels` default to their
    labels; `f_star`: the surface's minimum (NaN: plot the final loss itself, linear); `tol`:
    named in the steps panel's title. When β₁ / μ was tuned, each curve is the row of the
    tuned β₁ / μ.
    """
    n = len(tunings)
    if n == 0:
        raise ValueError("tuning_curve_figure needs at least one optimizer")
    labels_ = list(labels) if labels is not None else [t.label for t in tunings]
    if len(labels_) != n:
        raise ValueError(f"{n} optimizers but {len(labels_)} labels")
    colors_ = resolve_colors(n, colors)
    curves = [t.curve() for t in tunings]
    has_steps = any(np.isfinite(c["steps_to_tol"]).any() for c in curves) or any(
        t.default_score.reached or t.tuned_score.reached for t in tunings
    )
    log_loss = math.isfinite(f_star)
    panels = (["steps"] if has_steps else []) + ["loss"]
    axis_of = {p: ("" if i == 0 else str(i + 1)) for i, p in enumerate(panels)}

    # The loss panel's range: every finite point of every curve and marker.
    loss_values = [_gap(c["final_loss"], f_star) for c in curves]
    loss_values += [
        np.asarray(
            [y for s in (t.default_score, t.tuned_score) if (y := _score_y(s, "loss", f_star)) is not None]
        )
        for t in tunings
    ]
    pool = np.concatenate([v[np.isfinite(v)] for v in loss_values]) if loss_values else np.zeros(0)
    if log_loss:
        pool = pool[pool > 0]
    loss_range: tuple[float, float] | None = None
    if pool.size:
        lo, hi = float(pool.min()), float(pool.max())
        if log_loss:
            lo, hi = math.log10(lo), math.log10(hi)
        pad = 0.08 * max(hi - lo, 0.5 if log_loss else abs(hi) * 0.1 + 1e-9)
        # Room along the top for one row of × per optimizer that diverged somewhere.
        rows_needed = sum(bool(np.asarray(c["diverged"]).any()) for c in curves)
        row_step = pad * 1.2
        loss_range = (lo - pad, hi + pad + row_step * rows_needed)
    div_rows = 0

    def diverged_y() -> float:
        """The height of the next row of × (one row per optimizer, from the top down)."""
        if loss_range is None:
            return 1.0
        y = loss_range[1] - row_step * (0.5 + div_rows)
        return 10**y if log_loss else y

    data: list[dict[str, Any]] = []
    marks: list[dict[str, Any]] = []
    for i, (t, label, color, c) in enumerate(zip(tunings, labels_, colors_, curves, strict=True)):
        group = f"opt{i}"
        at = ""
        if t.second is not None:
            symbol = OPTIMIZERS[t.tuned.name].hyperparam(t.second).text_symbol
            at = f" at {symbol} = {t.tuned.hparams[t.second]:.3g}"
        for p in panels:
            ys = c["steps_to_tol"] if p == "steps" else _gap(c["final_loss"], f_star)
            what = "steps to tol" if p == "steps" else ("loss − f*" if log_loss else "final loss")
            data.append(
                dict(
                    type="scatter",
                    x=c["alpha"],
                    y=f32(ys),
                    mode="lines+markers",
                    name=label,
                    legendgroup=group,
                    showlegend=p == panels[-1],
                    line=dict(color=color, width=2),
                    marker=dict(color=color, size=5),
                    xaxis="x" + axis_of[p],
                    yaxis="y" + axis_of[p],
                    hovertemplate=f"<b>{label}</b>{at}<br>α = %{{x:.3g}}<br>{what} = %{{y:.4g}}"
                    "<extra></extra>",
                )
            )
            for mark, settings, score, symbol, size in (
                (DEFAULT_MARK, t.default, t.default_score, "circle-open", 15),
                (TUNED_MARK, t.tuned, t.tuned_score, "star", 18),
            ):
                my = _score_y(score, p, f_star)
                if my is None:
                    continue
                alpha = float(settings.resolved()["learning_rate"])
                marks.append(
                    dict(
                        type="scatter",
                        x=[alpha],
                        y=[my],
                        mode="markers",
                        name=mark_name(label, mark),
                        legendgroup=group,
                        showlegend=False,
                        marker=dict(
                            symbol=symbol,
                            size=size,
                            color=color,
                            line=dict(
                                width=3 if symbol == "circle-open" else 1.2,
                                color=color if symbol == "circle-open" else OUTLINE_COLOR,
                            ),
                        ),
                        xaxis="x" + axis_of[p],
                        yaxis="y" + axis_of[p],
                        cliponaxis=False,
                        hovertemplate=f"<b>{label}: {mark} = {alpha:.3g}</b><br>{score.describe()}"
                        "<extra></extra>",
                    )
                )
        diverged = np.asarray(c["diverged"], dtype=bool)
        if diverged.any():
            row_y = diverged_y()
            div_rows += 1
            marks.append(
                dict(
                    type="scatter",
                    x=c["alpha"][diverged],
                    y=np.full(int(diverged.sum()), row_y),
                    mode="markers",
                    name=mark_name(label, DIVERGED_MARK),
                    legendgroup=group,
                    showlegend=False,
                    marker=dict(symbol="x-thin", size=9, color=color, line=dict(width=2, color=color)),
                    xaxis="x" + axis_of["loss"],
                    yaxis="y" + axis_of["loss"],
                    cliponaxis=False,
                    hovertemplate=f"<b>{label}</b><br>α = %{{x:.3g}} diverged<extra></extra>",
                )
            )
    # Legend keys for the two markers (drawn once, in black).
    for mark, symbol in ((DEFAULT_MARK, "circle-open"), (TUNED_MARK, "star")):
        data.append(
            dict(
                type="scatter",
                x=[None],
                y=[None],
                mode="markers",
                name=mark,
                marker=dict(symbol=symbol, size=13, color="#444444", line=dict(width=2, color="#444444")),
                hoverinfo="skip",
            )
        )
    data.append(
        dict(
            type="scatter",
            x=[None],
            y=[None],
            mode="markers",
            name=f"{DIVERGED_MARK} (× along the top)",
            marker=dict(symbol="x-thin", size=11, color="#444444", line=dict(width=2, color="#444444")),
            hoverinfo="skip",
        )
    )
    data += marks

    alphas = np.concatenate([np.asarray(t.alphas, dtype=np.float64) for t in tunings])
    markers_alpha = [float(s.resolved()["learning_rate"]) for t in tunings for s in (t.default, t.tuned)]
    a_lo = math.log10(min(float(alphas.min()), *markers_alpha))
    a_hi = math.log10(max(float(alphas.max()), *markers_alpha))
    a_pad = 0.03 * (a_hi - a_lo + 1e-9)
    x_range = [a_lo - a_pad, a_hi + a_pad]
    x_vals, x_text = log_ticks(*x_range)

    gap = 0.1
    height_each = 1.0 if len(panels) == 1 else (1.0 - gap) / 2
    extra: dict[str, Any] = {}
    for k, p in enumerate(panels):
        top = 1.0 - k * (height_each + gap)
        suffix = axis_of[p]
        xaxis: dict[str, Any] = dict(
            type="log",
            range=x_range,
            tickvals=x_vals,
            ticktext=x_text,
            anchor="y" + suffix,
            domain=[0.0, 1.0],
        )
        if p == panels[-1]:
            xaxis["title"] = dict(text="learning rate α (log scale)")
        if suffix:
            xaxis["matches"] = "x"
        yaxis: dict[str, Any] = dict(anchor="x" + suffix, domain=[max(top - height_each, 0.0), top])
        if p == "steps":
            tol_text = f" ≤ {tol:g}" if tol is not None else ""
            yaxis["title"] = dict(text=f"steps until loss − f*{tol_text}<br><sub>lower is better</sub>")
            yaxis["rangemode"] = "tozero"
        else:
            yaxis["title"] = dict(
                text=("final loss − f* (log)" if log_loss else "final loss")
                + "<br><sub>lower is better</sub>"
            )
            if log_loss:
                yaxis["type"] = "log"
            if loss_range is not None:
                yaxis["range"] = list(loss_range)
                if log_loss:
                    vals, text = log_ticks(*loss_range)
                    yaxis.update(tickvals=vals, ticktext=text)
        extra["xaxis" + suffix] = xaxis
        extra["yaxis" + suffix] = yaxis
    annotations = []
    if loss_range is None:
        annotations.append(message("Every run diverged: no finite loss to draw."))
    layout = layout_for(
        data,
        title,
        height=300 + 220 * len(panels),
        hovermode="closest",
        annotations=annotations,
        **extra,
    )
    return make_figure(data, layout)
