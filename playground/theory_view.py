"""The Playground's "theory beside the paths", without Streamlit: on a quadratic surface, what
the theory predicts for the current setup (eigenvectors, κ, optimal α and β, rates, predicted
loss curves) and the optimal settings to apply. Other surfaces get None / nothing."""

from __future__ import annotations

from collections.abc import Mapping, Sequence

import numpy as np

from optim_core import theory as th
from optim_core.trajectory import Trajectory
from playground.setup import OptimizerEntry
from surfaces import Surface
from viz.contour import display_label
from viz.theory_overlay import PredictedCurve, Segment

# The optimizers the "use the optimal α (and β)" button sets (others are left alone).
TUNED = ("sgd", "momentum")


def quadratic_of(surface_name: str, params: Mapping[str, float]) -> th.Quadratic | None:
    """The surface's Quadratic when it is one with a minimum, else None (nothing to show)."""
    q = th.surface_quadratic(surface_name, params)
    if q is None or q.lambda_min <= 0:
        return None
    return q


def segments(q: th.Quadratic, surface: Surface) -> list[Segment]:
    return [Segment(s.start, s.end, s.label) for s in th.eigen_segments(q, surface.domain)]


def caption(q: th.Quadratic) -> str:
    """κ, α* and the rate of gradient descent and heavy ball, as Markdown (numbers only)."""
    gd_alpha, gd_rate = th.gd_optimal(q)
    hb_alpha, hb_beta, hb_rate = th.heavy_ball_optimal(q)
    return (
        f"**Theory** (quadratic, λ₁ = {q.lambda_min:.3g}, λ₂ = {q.lambda_max:.3g}): "
        f"κ = λ₂/λ₁ = **{q.condition:.3g}**. "
        f"Gradient descent: best α* = 2/(λ₁+λ₂) = **{gd_alpha:.4g}**, "
        f"distance shrinks ×{gd_rate:.4g} per step ((κ−1)/(κ+1)). "
        f"Heavy ball: α = **{hb_alpha:.4g}**, β = **{hb_beta:.4g}**, "
        f"rate {hb_rate:.4g} ((√κ−1)/(√κ+1)). "
        "Dashed lines: the Hessian's eigenvectors; the steep one is where plain steps zig-zag."
    )


def predicted_curves(
    q: th.Quadratic, trajectories: Sequence[Trajectory], colors: Sequence[str]
) -> list[PredictedCurve]:
    """A predicted loss curve for each SGD / momentum run, anchored at its start."""
    out = []
    for traj, color in zip(trajectories, colors, strict=False):
        if traj.optimizer not in TUNED:
            continue
        rate = th.predicted_rate(q, traj.optimizer, traj.hparams)
        if rate is None or not np.isfinite(rate):
            continue
        f0 = q.value(traj.path[0])
        values = th.predicted_loss_curve(rate, traj.steps, f0 - q.f_min, q.f_min)
        out.append(PredictedCurve(display_label(traj), float(rate), values, color))
    return out


def optimal_entries(
    q: th.Quadratic, entries: Sequence[tuple[int, OptimizerEntry]]
) -> list[tuple[int, OptimizerEntry]]:
    """(entry id, entry with the optimal α (and β)) for every SGD / momentum entry."""
    out = []
    for entry_id, entry in entries:
        best = th.optimal_hparams(q, entry.name) if entry.name in TUNED else None
        if best:
            out.append((entry_id, OptimizerEntry(entry.name, {**entry.hparams, **best}, entry.preset)))
    return out
