"""Numeric minima and start points of a typed formula, from its values on a grid.

`estimate_minima`: a grid search over the values (201 x 201 in `from_expression`), then
projected gradient and Newton steps on a float64 NumPy twin of the formula, for all candidates
at once (finite differences: cheap, and nothing for JAX to compile). Only isolated interior
global minima are reported: none for a saddle, a slope, a pole or a valley of equal minima.
`choose_start`: a point near the domain's rim, as far from those minima as possible.
"""

from __future__ import annotations

import math
from collections.abc import Callable

import numpy as np

__all__ = ["Domain", "NumpyFn", "choose_start", "estimate_minima"]

Domain = tuple[tuple[float, float], tuple[float, float]]
NumpyFn = Callable[[np.ndarray, np.ndarray], np.ndarray]  # f(x, y) on arrays, in float64

_MAX_MINIMA = 8
_REFINE_STEPS = 200
_NEWTON_STEPS = 8


def estimate_minima(
    numpy_fn: NumpyFn,
    values: np.ndarray,
    xs: np.ndarray,
    ys: np.ndarray,
    domain: Domain,
) -> tuple[tuple[tuple[float, float], ...], float | None]:
    """Interior global minima on the domain: grid local minima, refined (see `_refine`).

    A minimum on the domain's edge is not reported (the function keeps falling outside the box,
    as for a saddle), nor is any minimum of a constant function.
    """
    finite = np.isfinite(values)
    if not finite.any():
        return (), None
    spread = values[finite].max() - values[finite].min()
    if spread <= 1e-12 * (1.0 + abs(values[finite].min())):
        return (), None
    # Grid points no higher than their 8 neighbours and lower than at least one of them.
    padded = np.pad(values, 1, constant_values=np.inf)
    rows, cols = values.shape
    neighbours = np.stack(
        [
            padded[1 + dr : 1 + dr + rows, 1 + dc : 1 + dc + cols]
            for dr in (-1, 0, 1)
            for dc in (-1, 0, 1)
            if (dr, dc) != (0, 0)
        ]
    )
    finite_neighbours = np.where(np.isfinite(neighbours), neighbours, -np.inf)
    is_local_min = finite & (values <= neighbours.min(axis=0)) & (values < finite_neighbours.max(axis=0))
    is_local_min.flat[np.argmin(values)] = True
    candidates = np.flatnonzero(is_local_min)
    candidates = candidates[np.argsort(values.flat[candidates], kind="stable")][: 4 * _MAX_MINIMA]
    rows_idx, cols_idx = np.unravel_index(candidates, values.shape)
    points = np.stack([xs[cols_idx], ys[rows_idx]], axis=1)
    points, refined = _refine(numpy_fn, points, domain)

    best = float(np.min(refined))
    (xmin, xmax), (ymin, ymax) = domain
    scale = np.array([xmax - xmin, ymax - ymin])
    tolerance = 1e-6 * (1.0 + abs(best))
    kept: list[tuple[float, float]] = []
    for index in np.argsort(refined, kind="stable"):
        if refined[index] > best + tolerance:
            break
        point = points[index]
        # A minimum on the domain's edge means f keeps falling outside the box (a saddle, a
        # slope): not a minimum of f.
        if np.any(point - [xmin, ymin] < 1e-4 * scale) or np.any([xmax, ymax] - point < 1e-4 * scale):
            continue
        if not _is_local_minimum(numpy_fn, point, float(refined[index]), scale):
            continue
        if all(np.hypot(*((point - other) / scale)) > 0.01 for other in kept):
            kept.append((float(point[0]), float(point[1])))
    if not kept or len(kept) > _MAX_MINIMA:
        # None inside the box, or a whole valley of equal minima: nothing isolated to report.
        return (), None
    return tuple((round(px, 6), round(py, 6)) for px, py in kept), best


def _is_local_minimum(
    numpy_fn: NumpyFn,
    point: np.ndarray,
    value: float,
    scale: np.ndarray,
) -> bool:
    """No lower value on small rings around `point`, and no pole there.

    The rise from the point to a ring grows like r**2 at a smooth minimum and like r at a kink,
    so halving the radius at least halves it. At a pole such as log(x**2 + y**2) it hardly
    changes: that is a function falling to -inf, not a minimum.
    """
    angles = np.linspace(0.0, 2.0 * np.pi, 16, endpoint=False)
    directions = np.stack([np.cos(angles), np.sin(angles)], axis=1) * scale
    rises = []
    for radius in (1e-3, 5e-4):
        ring = point + radius * directions
        ring_values = numpy_fn(ring[:, 0], ring[:, 1])
        if not np.all(np.isfinite(ring_values)):
            return False
        if np.any(ring_values < value - 1e-9 * (1.0 + abs(value))):
            return False
        rises.append(float(np.mean(ring_values - value)))
    outer, inner = rises
    return inner <= 0.75 * outer + 1e-12 * (1.0 + abs(value))


def _refine(
    numpy_fn: NumpyFn,
    points: np.ndarray,
    domain: Domain,
) -> tuple[np.ndarray, np.ndarray]:
    """Projected gradient descent with an adaptive step, then a few Newton steps, for all
    candidates at once in float64. Derivatives are finite differences of the NumPy twin: cheap,
    and nothing for JAX to compile."""
    (xmin, xmax), (ymin, ymax) = domain
    low, high = np.array([xmin, ymin]), np.array([xmax, ymax])
    scale = high - low
    h = 1e-6 * scale

    def f(p: np.ndarray) -> np.ndarray:
        out = numpy_fn(p[:, 0], p[:, 1])
        return np.where(np.isfinite(out), out, np.inf)

    def grad(p: np.ndarray) -> np.ndarray:
        gx = (f(p + [h[0], 0.0]) - f(p - [h[0], 0.0])) / (2 * h[0])
        gy = (f(p + [0.0, h[1]]) - f(p - [0.0, h[1]])) / (2 * h[1])
        g = np.stack([gx, gy], axis=1)
        return np.where(np.isfinite(g), g, 0.0)

    value = f(points)
    step = np.full(len(points), 1e-2)  # per candidate; doubled on success, quartered on failure
    with np.errstate(all="ignore"):
        for _ in range(_REFINE_STEPS):
            g = grad(points)
            trial = np.clip(points - (step[:, None] * scale**2) * g, low, high)
            trial_value = f(trial)
            better = trial_value < value
            points = np.where(better[:, None], trial, points)
            value = np.where(better, trial_value, value)
            step = np.where(better, step * 2.0, step * 0.25)
            if np.all(step < 1e-14):
                break
        # Gradient descent crawls along flat valleys (Beale, Rosenbrock); a few Newton steps
        # on a finite-difference Hessian finish the job. Only steps that lower f are taken.
        hh = 1e-4 * scale
        for _ in range(_NEWTON_STEPS):
            g = grad(points)
            fxx = (f(points + [hh[0], 0.0]) - 2 * value + f(points - [hh[0], 0.0])) / hh[0] ** 2
            fyy = (f(points + [0.0, hh[1]]) - 2 * value + f(points - [0.0, hh[1]])) / hh[1] ** 2
            fxy = (
                f(points + hh) - f(points + [hh[0], -hh[1]]) - f(points + [-hh[0], hh[1]]) + f(points - hh)
            ) / (4 * hh[0] * hh[1])
            det = fxx * fyy - fxy**2
            newton = np.stack([fyy * g[:, 0] - fxy * g[:, 1], fxx * g[:, 1] - fxy * g[:, 0]], 1)
            newton = newton / det[:, None]
            trial = np.clip(points - newton, low, high)
            trial_value = f(trial)
            better = (fxx > 0) & (det > 0) & np.all(np.isfinite(trial), axis=1) & (trial_value < value)
            points = np.where(better[:, None], trial, points)
            value = np.where(better, trial_value, value)
    return points, value


def choose_start(
    numpy_fn: NumpyFn,
    values32: np.ndarray,
    grid_x: np.ndarray,
    grid_y: np.ndarray,
    domain: Domain,
    minima: tuple[tuple[float, float], ...],
) -> tuple[float, float]:
    """A grid point near the domain's rim (15%, 50% or 85% along each axis), finite in float32
    with a finite gradient, as far from the minima as possible; without minima, the highest
    such point, so that the run has somewhere to go."""
    (xmin, xmax), (ymin, ymax) = domain
    width, height = xmax - xmin, ymax - ymin
    last = grid_x.shape[1] - 1
    marks = [round(f * last) for f in (0.15, 0.5, 0.85)]
    ring = [(row, col) for row in reversed(marks) for col in marks if (row, col) != (marks[1],) * 2]
    h = 1e-6 * max(width, height)
    usable = []
    for row, col in ring:
        px, py = grid_x[row, col], grid_y[row, col]
        around = numpy_fn(np.array([px + h, px - h, px, px]), np.array([py, py, py + h, py - h]))
        if np.isfinite(values32[row, col]) and np.all(np.isfinite(around)):
            usable.append((row, col))
    if not usable:
        # Nothing usable near the rim: the finite grid point nearest the (15%, 85%) mark.
        distance = np.hypot(
            (grid_x - (xmin + 0.15 * width)) / width, (grid_y - (ymin + 0.85 * height)) / height
        )
        row, col = np.unravel_index(
            np.argmin(np.where(np.isfinite(values32), distance, np.inf)), distance.shape
        )
        return (round(float(grid_x[row, col]), 6), round(float(grid_y[row, col]), 6))

    def score(index: tuple[int, int]) -> tuple[float, float]:
        px, py = grid_x[index], grid_y[index]
        distance = min((math.hypot((px - mx) / width, (py - my) / height) for mx, my in minima), default=0.0)
        return (round(distance, 6), float(values32[index]))

    best = max(usable, key=score)
    return (round(float(grid_x[best]), 6), round(float(grid_y[best]), 6))
