"""Metrics of a trajectory, computed on the host from its NumPy arrays.

Definitions (also in the README):
- final_loss: the true loss at the last finite position.
- final_distance: Euclidean distance from the last finite position to the nearest known
  minimum of the surface (NaN when the surface has none, e.g. saddles).
- steps_to_tol: the first step k with loss[k] - f* <= tol, where f* is the lowest loss among
  the known minima; None if never reached or the surface has no known minima.
- path_length: the sum of the lengths of all steps taken.
- path_ratio: path_length / |last position - start|; 1 for a straight line, large for a path
  that wanders or zig-zags (inf when the run ends where it started).
- oscillation: the share of consecutive pairs of (non-zero) updates that turn by more than
  90 degrees (negative dot product); 0 for a steady descent, near 1 for a zig-zag.
- zigzag: the share of the path length spent going back and forth across the valley. At each
  interior point p_i of the path let e_i be the steepest-curvature direction there (the unit
  eigenvector of the Hessian of f at p_i with the largest eigenvalue; the x axis where both
  eigenvalues are equal), and a = u_{i-1}·e_i, b = u_i·e_i the components along e_i of the step
  into p_i and the step out of it. Where a and b have opposite signs the path reverses across
  the valley and undoes min(|a|, |b|) of its previous step. zigzag = (sum of those undone
  lengths) / path_length: 0 for a path that never reverses across the valley, near 1 for one
  that only bounces from wall to wall. Unlike `oscillation`, it sees a zig-zag that also moves
  along the valley (each step then turns by less than 90 degrees).
- diverged_at: the first step whose position or loss is non-finite or out of bounds.
"""

from __future__ import annotations

import functools
import math
from collections.abc import Mapping
from dataclasses import asdict, dataclass

import jax
import numpy as np

from optim_core.trajectory import Trajectory
from surfaces import Surface


@dataclass(frozen=True)
class Metrics:
    optimizer: str
    label: str
    final_loss: float
    final_distance: float
    steps_to_tol: int | None
    path_length: float
    path_ratio: float
    oscillation: float
    zigzag: float
    diverged_at: int | None

    def as_row(self) -> dict[str, object]:
        return asdict(self)


def finite_part(traj: Trajectory) -> np.ndarray:
    """The positions before divergence, shape (k, 2)."""
    end = traj.diverged_at if traj.diverged_at is not None else len(traj.path)
    return traj.path[:end]


def oscillation_index(updates: np.ndarray) -> float:
    """Share of consecutive non-zero updates that turn by more than 90 degrees."""
    updates = updates[np.all(np.isfinite(updates), axis=1)]
    updates = updates[np.linalg.norm(updates, axis=1) > 0]
    if len(updates) < 2:
        return 0.0
    dots = np.sum(updates[1:] * updates[:-1], axis=1)
    return float(np.mean(dots < 0))


def steepest_directions(
    surface: Surface, points: np.ndarray, surface_params: Mapping[str, float] | None = None
) -> np.ndarray:
    """At each point (n, 2), the unit eigenvector of the Hessian of f with the largest eigenvalue
    (the direction across a valley); the x axis where both eigenvalues are equal; NaN where the
    Hessian is not finite. Shape (n, 2); the sign of each vector is arbitrary."""
    points = np.asarray(points, np.float32).reshape(-1, 2)
    if len(points) == 0:
        return np.zeros((0, 2))
    # Padded to a power of two so that paths of many lengths share a compiled program.
    size = max(64, 1 << (len(points) - 1).bit_length())
    padded = np.concatenate([points, np.repeat(points[-1:], size - len(points), axis=0)])
    params = {k: np.float32(v) for k, v in surface.resolve_params(surface_params).items()}
    hess = np.asarray(_hessians(surface, padded, params), np.float64)[: len(points)]
    # For a symmetric [[a, b], [b, c]] the top eigenvector is at angle ½·atan2(2b, a − c).
    angle = 0.5 * np.arctan2(2.0 * hess[:, 0, 1], hess[:, 0, 0] - hess[:, 1, 1])
    directions = np.stack([np.cos(angle), np.sin(angle)], axis=1)
    directions[~np.all(np.isfinite(hess), axis=(1, 2))] = np.nan
    return directions


@functools.partial(jax.jit, static_argnums=0)
def _hessians(surface: Surface, points: jax.Array, params: Mapping[str, jax.Array]) -> jax.Array:
    return jax.vmap(jax.hessian(lambda xy: surface.loss_xy(xy, params)))(points)


def zigzag_index(
    path: np.ndarray, surface: Surface, surface_params: Mapping[str, float] | None = None
) -> float:
    """Share of the path length undone by reversals across the valley (module docstring)."""
    path = np.asarray(path, np.float64)
    steps = np.diff(path, axis=0)
    length = float(np.sum(np.linalg.norm(steps, axis=1)))
    if len(steps) < 2 or not length > 0:
        return 0.0
    across = steepest_directions(surface, path[1:-1], surface_params)
    into = np.sum(steps[:-1] * across, axis=1)
    out = np.sum(steps[1:] * across, axis=1)
    with np.errstate(invalid="ignore"):
        reversed_ = into * out < 0  # False where the direction is NaN
    undone = np.where(reversed_, np.minimum(np.abs(into), np.abs(out)), 0.0)
    return float(np.sum(undone) / length)


def distance_to_minimum(points: np.ndarray, surface: Surface) -> np.ndarray:
    """Distance of each point (n, 2) to the nearest known minimum; NaN if the surface has none."""
    points = np.asarray(points, np.float64).reshape(-1, 2)
    if not surface.minima:
        return np.full(len(points), np.nan)
    mins = np.asarray(surface.minima, np.float64)
    return np.min(np.linalg.norm(points[:, None, :] - mins[None, :, :], axis=-1), axis=1)


def minimum_loss(surface: Surface, surface_params: dict[str, float] | None = None) -> float:
    """f* = the lowest loss among the surface's known minima (NaN if none)."""
    if not surface.minima:
        return math.nan
    mins = np.asarray(surface.minima, np.float32)
    return float(np.min(np.asarray(surface.value(mins[:, 0], mins[:, 1], surface_params))))


def compute_metrics(
    traj: Trajectory,
    surface: Surface,
    *,
    tol: float = 1e-3,
    surface_params: dict[str, float] | None = None,
) -> Metrics:
    """All metrics of one trajectory (definitions in the module docstring)."""
    path = finite_part(traj)
    losses = traj.loss[: len(path)]
    steps = np.diff(path, axis=0)
    path_length = float(np.sum(np.linalg.norm(steps, axis=1))) if len(path) > 1 else 0.0
    net = float(np.linalg.norm(path[-1] - path[0])) if len(path) else 0.0
    if path_length == 0.0:
        ratio = 1.0
    else:
        ratio = path_length / net if net > 0 else math.inf
    f_star = minimum_loss(surface, surface_params)
    steps_to_tol = None
    if math.isfinite(f_star) and len(losses):
        hits = np.nonzero(losses - f_star <= tol)[0]
        steps_to_tol = int(hits[0]) if len(hits) else None
    return Metrics(
        optimizer=traj.optimizer,
        label=traj.label,
        final_loss=float(losses[-1]) if len(losses) else math.nan,
        final_distance=float(distance_to_minimum(path[-1:], surface)[0]) if len(path) else math.nan,
        steps_to_tol=steps_to_tol,
        path_length=path_length,
        path_ratio=ratio,
        oscillation=oscillation_index(steps),
        zigzag=zigzag_index(path, surface, surface_params),
        diverged_at=traj.diverged_at,
    )
