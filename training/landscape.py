"""A 2D slice of the real loss landscape with the optimizers' parameter paths drawn on it.

Recipe (Li, Xu, Taylor, Studer and Goldstein, "Visualizing the Loss Landscape of Neural
Nets", NeurIPS 2018, section 7):

1. Stack every recorded parameter vector of every run, minus a center θ* (by default the
   final weights of the run with the lowest validation loss): rows δ = θ_t − θ*.
2. PCA of those rows (centred, via the small T×T Gram matrix, since T ≪ P): the top two
   principal directions u₁, u₂ are the plane that holds most of the paths' movement; their
   explained-variance ratios say how faithful the picture is.
3. Filter normalisation (section 4): each filter of a direction (a conv output channel or a
   dense unit, the last axis of our weights) is rescaled to the norm of the same filter of θ*,
   so a unit step means "as far as the weights themselves" in every layer; bias entries are
   zeroed ("ignore biasbn"). The normalised directions d₁, d₂ are no longer orthogonal, so
   paths are projected by least squares onto span(d₁, d₂); the residual says how far each
   point lies off the plane.
4. The loss L(θ* + α d₁ + β d₂) on a grid of (α, β) over a data subset: one jitted call per
   grid row (a `lax.map` over its points), with a progress callback between rows.
"""

from __future__ import annotations

import functools
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

import jax
import jax.numpy as jnp
import numpy as np

from training.data import MNISTSplit
from training.models import get_model, loss_and_logits
from training.train import RunResult, TrainResult, unflatten_params

__all__ = [
    "Landscape",
    "compute_landscape",
    "filter_normalize",
    "loss_grid",
    "pca_directions",
    "project",
]


_DEFAULTS = {"mlp": (21, 1000), "cnn": (11, 256)}  # (resolution, subset) per model


@dataclass
class Landscape:
    alphas: np.ndarray  # (nx,) coordinates along d1
    betas: np.ndarray  # (ny,) coordinates along d2
    loss: np.ndarray  # (ny, nx): loss[j, i] at (alphas[i], betas[j])
    paths: dict[str, np.ndarray]  # label -> (T, 2) projected coordinates
    path_loss: dict[str, np.ndarray]  # label -> (T,) true loss of the recorded weights
    residual: dict[str, np.ndarray]  # label -> (T,) ‖off-plane part‖ / ‖θ_t − θ*‖
    path_steps: dict[str, list[int]]  # label -> batches trained at each path point
    explained_variance: tuple[float, float]
    center: str  # which weights are the origin
    normalize: str
    subset: int  # images the loss was evaluated on
    meta: dict[str, Any] = field(default_factory=dict)

    def to_dict(self) -> dict[str, Any]:
        return {
            "alphas": self.alphas.tolist(),
            "betas": self.betas.tolist(),
            "loss": np.where(np.isfinite(self.loss), self.loss, np.nan).tolist(),
            "paths": {k: v.tolist() for k, v in self.paths.items()},
            "path_loss": {k: v.tolist() for k, v in self.path_loss.items()},
            "residual": {k: v.tolist() for k, v in self.residual.items()},
            "path_steps": self.path_steps,
            "explained_variance": list(self.explained_variance),
            "center": self.center,
            "normalize": self.normalize,
            "subset": self.subset,
        }


def pca_directions(deltas: np.ndarray) -> tuple[np.ndarray, np.ndarray, tuple[float, float]]:
    """Top two principal directions (unit vectors) of the rows of `deltas` (T, P), and their
    explained-variance ratios. Uses the T×T Gram matrix: O(T²P), never a P×P matrix."""
    m = np.asarray(deltas, np.float64 if deltas.shape[1] < 1_000_000 else np.float32)
    m = m - m.mean(axis=0, keepdims=True)
    gram = (m @ m.T).astype(np.float64)
    evals, evecs = np.linalg.eigh(gram)
    order = np.argsort(evals)[::-1]
    evals, evecs = np.clip(evals[order], 0.0, None), evecs[:, order]
    total = float(evals.sum())
    dirs, ratio = [], []
    for k in range(2):
        if k < len(evals) and evals[k] > 1e-12 * max(total, 1e-30):
            d = m.T @ evecs[:, k]
            dirs.append((d / np.linalg.norm(d)).astype(np.float32))
            ratio.append(float(evals[k] / total))
        else:  # fewer than two independent movements (e.g. one epoch): any orthogonal vector
            rng = np.random.default_rng(k)
            d = rng.standard_normal(m.shape[1])
            for prev in dirs:
                d -= prev * (prev @ d)
            dirs.append((d / np.linalg.norm(d)).astype(np.float32))
            ratio.append(0.0)
    return dirs[0], dirs[1], (ratio[0], ratio[1])


def filter_normalize(direction: np.ndarray, center: np.ndarray, like: Any) -> np.ndarray:
    """Li et al.'s filter normalisation of a flat direction, filter = last axis of a weight.

    Each filter's slice gets the norm of the same slice of `center`; 1-D leaves (biases) are
    zeroed, as in the paper's "ignore biasbn" setting.
    """
    d_tree = unflatten_params(np.asarray(direction, np.float32), like)
    c_tree = unflatten_params(np.asarray(center, np.float32), like)

    def norm_leaf(d: np.ndarray, c: np.ndarray) -> np.ndarray:
        if d.ndim <= 1:
            return np.zeros_like(d)
        axes = tuple(range(d.ndim - 1))
        dn = np.sqrt((d.astype(np.float64) ** 2).sum(axis=axes, keepdims=True))
        cn = np.sqrt((c.astype(np.float64) ** 2).sum(axis=axes, keepdims=True))
        return (d * (cn / (dn + 1e-10))).astype(np.float32)

    leaves = [norm_leaf(d, c) for d, c in zip(jax.tree.leaves(d_tree), jax.tree.leaves(c_tree), strict=True)]
    return np.concatenate([x.ravel() for x in leaves])


def project(
    points: np.ndarray, center: np.ndarray, d1: np.ndarray, d2: np.ndarray
) -> tuple[np.ndarray, np.ndarray]:
    """Least-squares coordinates (T, 2) of `points` (T, P) in center + span(d1, d2), and the
    relative residual ‖δ − proj δ‖ / ‖δ‖ of each point (0 where δ = 0)."""
    a = np.stack([d1, d2], axis=1).astype(np.float64)  # (P, 2)
    delta = np.asarray(points, np.float64) - np.asarray(center, np.float64)
    gram = a.T @ a
    coef = np.linalg.solve(gram + 1e-12 * np.eye(2), (delta @ a).T).T  # (T, 2)
    off = delta - coef @ a.T
    dn = np.linalg.norm(delta, axis=1)
    resid = np.where(dn > 0, np.linalg.norm(off, axis=1) / np.where(dn > 0, dn, 1.0), 0.0)
    return coef.astype(np.float64), resid


@functools.lru_cache(maxsize=8)
def _grid_row_fn(model_name: str) -> Callable[..., Any]:
    """Jitted: losses at center + a·d1 + b·d2 for a row of (a, b) pairs, on (x, y)."""
    model = get_model(model_name)

    def row(center, d1, d2, coefs, x, y):
        def one(ab):
            p = jax.tree.map(lambda c, u, v: c + ab[0] * u + ab[1] * v, center, d1, d2)
            return loss_and_logits(model, p, x, y)[0]

        return jax.lax.map(one, coefs)

    return jax.jit(row)


@functools.lru_cache(maxsize=8)
def _points_fn(model_name: str) -> Callable[..., Any]:
    """Jitted: losses at a batch of flat parameter vectors (k, P), on (x, y)."""
    model = get_model(model_name)
    like = jax.eval_shape(model.init, jax.random.key(0))  # the params' shapes, no values

    def points(flat, x, y):
        return jax.lax.map(lambda f: loss_and_logits(model, unflatten_params(f, like), x, y)[0], flat)

    return jax.jit(points)


def loss_grid(
    model_name: str,
    center: np.ndarray,
    d1: np.ndarray,
    d2: np.ndarray,
    like: Any,
    x: np.ndarray,
    y: np.ndarray,
    alphas: np.ndarray,
    betas: np.ndarray,
    progress: Callable[[int, int], None] | None = None,
) -> np.ndarray:
    """Loss (ny, nx) on the plane center + α d1 + β d2; `x` uint8 (N, 28, 28), `y` (N,).

    One jitted call per row of the grid; `progress(rows_done, rows)` between rows. Centers,
    directions and coordinates are traced: a new landscape of the same size never recompiles.
    """
    fn = _grid_row_fn(model_name)
    tree = lambda v: unflatten_params(jnp.asarray(v, jnp.float32), like)  # noqa: E731
    c, u, v = tree(center), tree(d1), tree(d2)
    xf = jnp.asarray(x, jnp.float32) / 255.0
    yj = jnp.asarray(y, jnp.int32)
    alphas = np.asarray(alphas, np.float32)
    out = np.empty((len(betas), len(alphas)), np.float32)
    for j, b in enumerate(np.asarray(betas, np.float32)):
        coefs = jnp.stack([jnp.asarray(alphas), jnp.full(alphas.shape, b)], axis=1)
        out[j] = np.asarray(fn(c, u, v, coefs, xf, yj))
        if progress is not None:
            progress(j + 1, len(betas))
    return out


def _points_loss(model_name: str, flat: np.ndarray, x: jax.Array, y: jax.Array) -> np.ndarray:
    k = flat.shape[0]
    pad = -k % 8  # a few padded shapes instead of one compile per path length
    padded = np.concatenate([flat, np.repeat(flat[-1:], pad, axis=0)]) if pad else flat
    return np.asarray(_points_fn(model_name)(jnp.asarray(padded), x, y))[:k]


def _snapshots(run: RunResult) -> np.ndarray:
    """The run's parameter snapshots (the caller kept only runs that have them)."""
    if run.snapshots is None:
        raise ValueError(f"{run.label} has no parameter snapshots")
    return run.snapshots


def compute_landscape(
    result: TrainResult,
    data: MNISTSplit,
    resolution: int | None = None,
    subset: int | None = None,
    margin: float = 0.25,
    center: str = "best",
    normalize: str = "filter",
    runs: Sequence[str] | None = None,
    progress: Callable[[int, int], None] | None = None,
) -> Landscape:
    """The loss surface on the PCA plane of the runs' paths, and the projected paths.

    `center`: "best" (final weights of the run with the lowest validation loss), "start"
    (the shared initial weights), or a run's label/optimizer name. `normalize`: "filter"
    (Li et al.) or "none" (plain unit PCA directions). The loss is evaluated on the first
    `subset` training images; the grid spans the projected paths plus `margin` on each side.
    Defaults keep it interactive on 2 cores: MLP 21×21 points on 1000 images, CNN 11×11 on
    256 (a CNN forward pass costs ~8x the MLP's); bench/bench_training.py times both.
    """
    default_res, default_subset = _DEFAULTS[result.config.model]
    resolution = default_res if resolution is None else int(resolution)
    subset = default_subset if subset is None else int(subset)
    if normalize not in ("filter", "none"):
        raise ValueError(f"normalize must be 'filter' or 'none', got {normalize!r}")
    if not 3 <= resolution <= 201:
        raise ValueError(f"resolution must be between 3 and 201, got {resolution}")
    chosen = [r for r in result.runs if runs is None or r.label in runs or r.optimizer in runs]
    chosen = [r for r in chosen if r.snapshots is not None and len(r.snapshots) > 0]
    snaps = {id(r): _snapshots(r) for r in chosen}
    if not chosen:
        raise ValueError("no run with parameter snapshots (train with keep_snapshots=True)")
    like = chosen[0].final_params
    if center == "best":
        finite = [r for r in chosen if r.epochs and np.isfinite(r.epochs[-1].val_loss)]
        ref = min(finite or chosen, key=lambda r: r.epochs[-1].val_loss if r.epochs else np.inf)
        theta, center_name = snaps[id(ref)][-1], f"final weights of {ref.label}"
    elif center == "start":
        theta, center_name = snaps[id(chosen[0])][0], "initial weights"
    else:
        named = next((r for r in chosen if center in (r.label, r.optimizer)), None)
        if named is None:
            raise ValueError(f"center must be 'best', 'start' or a run label, got {center!r}")
        theta, center_name = snaps[id(named)][-1], f"final weights of {named.label}"

    # Diverged runs (NaN weights) would poison the PCA: they are left out of it.
    finite_runs = [r for r in chosen if np.all(np.isfinite(snaps[id(r)]))]
    stacked = np.concatenate([snaps[id(r)] for r in finite_runs or chosen]) - theta[None]
    u1, u2, ratio = pca_directions(stacked)
    if normalize == "filter":
        d1, d2 = filter_normalize(u1, theta, like), filter_normalize(u2, theta, like)
    else:
        d1, d2 = u1, u2

    n = min(subset, data.n_train)
    x, y = data.x_train[:n], data.y_train[:n]
    xf, yj = jnp.asarray(x, jnp.float32) / 255.0, jnp.asarray(y, jnp.int32)
    paths, resid, path_loss, steps = {}, {}, {}, {}
    for r in chosen:
        coords, res = project(snaps[id(r)], theta, d1, d2)
        paths[r.label], resid[r.label] = coords, res
        path_loss[r.label] = _points_loss(result.config.model, snaps[id(r)], xf, yj)
        steps[r.label] = list(r.snapshot_steps)

    finite_paths = [p for p in paths.values() if np.all(np.isfinite(p))]
    pts = np.concatenate(finite_paths or [np.zeros((1, 2))])
    lo, hi = pts.min(axis=0), pts.max(axis=0)
    span = np.maximum(hi - lo, 1e-3 * np.maximum(1.0, np.abs(pts).max()))
    lo, hi = lo - margin * span, hi + margin * span
    alphas = np.linspace(lo[0], hi[0], resolution)
    betas = np.linspace(lo[1], hi[1], resolution)
    grid = loss_grid(result.config.model, theta, d1, d2, like, x, y, alphas, betas, progress)
    return Landscape(alphas, betas, grid, paths, path_loss, resid, steps, ratio, center_name, normalize, n)
