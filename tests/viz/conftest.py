"""Fixtures for the viz tests: a small surface and synthetic trajectories made here with NumPy,
so these tests do not depend on the surface catalog or the optimizers."""

from __future__ import annotations

import importlib
import importlib.util
import pathlib
import sys
from collections.abc import Callable

import jax.numpy as jnp
import numpy as np
import pytest

ROOT = pathlib.Path(__file__).resolve().parents[2]


def _load(module: str, relpath: str):
    """Import `module`; if its package does not import (work in progress elsewhere), load the
    file on its own. Both modules only need NumPy/JAX."""
    try:
        return importlib.import_module(module)
    except Exception:  # noqa: BLE001 - any failure of a sibling package must not break us
        spec = importlib.util.spec_from_file_location(f"_viz_test_{module}", ROOT / relpath)
        mod = importlib.util.module_from_spec(spec)
        sys.modules[spec.name] = mod
        spec.loader.exec_module(mod)
        return mod


Trajectory = _load("optim_core.trajectory", "optim_core/trajectory.py").Trajectory
_surface_mod = _load("surfaces._base", "surfaces/_base.py")
Surface, SurfaceParam = _surface_mod.Surface, _surface_mod.SurfaceParam


def _rosenbrock(x, y, p):
    return (1 - x) ** 2 + p["b"] * (y - x**2) ** 2


def _rosen_grad(xy: np.ndarray, b: float = 100.0) -> np.ndarray:
    x, y = xy
    return np.array([-2 * (1 - x) - 4 * b * x * (y - x**2), 2 * b * (y - x**2)])


ROSENBROCK = Surface(
    key="test-rosenbrock",
    label="Rosenbrock (test)",
    fn=_rosenbrock,
    latex=r"(1-x)^2 + b(y-x^2)^2",
    domain=((-2.0, 2.0), (-1.0, 3.0)),
    minima=((1.0, 1.0),),
    start=(-1.5, 2.0),
    description="a curved valley",
    params=(SurfaceParam("b", "b", 100.0, 1.0, 1000.0, log=True),),
    log_colors=True,
)

PLATEAU = Surface(
    key="test-tilted-plane",
    label="Tilted plane (test)",
    fn=lambda x, y, p: 0.3 * x + 0.1 * y + 0.0 * jnp.sin(x),
    latex=r"0.3x + 0.1y",
    domain=((-3.0, 3.0), (-3.0, 3.0)),
    minima=(),
    start=(2.0, 2.0),
    description="no minimum at all",
)


def run(
    name: str,
    label: str,
    steps: int,
    lr: float,
    kind: str = "sgd",
    start: tuple[float, float] = (-1.5, 2.0),
    mu: float = 0.9,
    b1: float = 0.9,
    b2: float = 0.999,
    eps: float = 1e-8,
    bound: float = 1e6,
) -> Trajectory:
    """A NumPy reference run of SGD / momentum / Adam on the test Rosenbrock, with internals
    aligned as the Trajectory contract says, and divergence cut like the engine does."""
    path = np.full((steps + 1, 2), np.nan)
    grads = np.full((steps, 2), np.nan)
    updates = np.full((steps, 2), np.nan)
    internals = {k: np.full((steps, 2), np.nan) for k in ("m", "v", "m_hat", "v_hat", "step_size")}
    xy = np.array(start, dtype=np.float64)
    path[0] = xy
    m = np.zeros(2)
    v = np.zeros(2)
    diverged_at = None
    with np.errstate(all="ignore"):
        for i in range(steps):
            g = _rosen_grad(xy)
            if kind == "sgd":
                u = -lr * g
            elif kind == "momentum":
                m = mu * m + g
                u = -lr * m
                internals["m"][i] = m
            else:
                m = b1 * m + (1 - b1) * g
                v = b2 * v + (1 - b2) * g * g
                m_hat, v_hat = m / (1 - b1 ** (i + 1)), v / (1 - b2 ** (i + 1))
                step = lr / (np.sqrt(v_hat) + eps)
                u = -step * m_hat
                for key, val in (("m", m), ("v", v), ("m_hat", m_hat), ("v_hat", v_hat), ("step_size", step)):
                    internals[key][i] = val
            xy = xy + u
            if not np.all(np.isfinite(xy)) or np.max(np.abs(xy)) > bound:
                diverged_at = i + 1
                break
            grads[i], updates[i], path[i + 1] = g, u, xy
    loss = np.array([_rosenbrock(p[0], p[1], {"b": 100.0}) for p in path])
    kept = {k: a for k, a in internals.items() if not np.all(np.isnan(a))}
    return Trajectory(
        optimizer=name,
        label=label,
        hparams={"learning_rate": lr},
        path=path,
        loss=loss,
        grads=grads,
        updates=updates,
        lr=np.full(steps, lr),
        internals=kept,
        diverged_at=diverged_at,
    )


@pytest.fixture(scope="session")
def rosenbrock() -> Surface:
    return ROSENBROCK


@pytest.fixture(scope="session")
def plane() -> Surface:
    return PLATEAU


@pytest.fixture(scope="session")
def make_run() -> Callable[..., Trajectory]:
    return run


@pytest.fixture(scope="session")
def four_runs() -> list[Trajectory]:
    """A typical playground: 4 optimizers x 500 steps, one of them diverging."""
    return [
        run("sgd", "SGD (α=0.001)", 500, 1e-3),
        run("momentum", "Momentum (α=0.0005, μ=0.9)", 500, 5e-4, kind="momentum"),
        run("adam", "Adam (α=0.05)", 500, 0.05, kind="adam"),
        run("sgd", "SGD (α=0.01)", 500, 1e-2),  # diverges within a few steps
    ]
