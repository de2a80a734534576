"""The Surface type: a named 2D loss f(x, y) with everything the app needs to draw and teach it."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field

import jax
import jax.numpy as jnp
from jax.typing import ArrayLike

# f(x, y, params) -> loss. Elementwise in x and y (works on scalars and on broadcast grids),
# written in jax.numpy so JAX can differentiate and jit it. `params` maps each SurfaceParam
# name to a (possibly traced) scalar, so moving a surface slider never recompiles.
SurfaceFn = Callable[[jax.Array, jax.Array, Mapping[str, jax.Array]], jax.Array]


@dataclass(frozen=True)
class SurfaceParam:
    """An adjustable constant of a surface (the ravine's condition number, say)."""

    name: str
    label: str
    default: float
    low: float
    high: float
    log: bool = False
    help: str = ""


@dataclass(frozen=True, eq=False)
class Surface:
    """A 2D loss surface. Hash and equality by `key`, so it can be a static jit argument."""

    key: str  # registry name, or "custom:<expression>"
    label: str
    fn: SurfaceFn
    latex: str
    domain: tuple[tuple[float, float], tuple[float, float]]  # ((xmin, xmax), (ymin, ymax))
    minima: tuple[tuple[float, float], ...]  # known global minima at default params; () if none
    start: tuple[float, float]  # a good default start point
    description: str  # one line: what it teaches
    params: tuple[SurfaceParam, ...] = ()
    log_colors: bool = False  # contour colours on a log scale (large dynamic range)
    default_noise: float = 0.0  # gradient-noise sigma the surface starts with
    extra: Mapping[str, object] = field(default_factory=dict)

    def __hash__(self) -> int:
        return hash(self.key)

    def __eq__(self, other: object) -> bool:
        return isinstance(other, Surface) and other.key == self.key

    def default_params(self) -> dict[str, float]:
        return {p.name: p.default for p in self.params}

    def resolve_params(self, params: Mapping[str, float] | None = None) -> dict[str, float]:
        """Defaults overlaid with `params`; unknown names or out-of-range values raise ValueError."""
        out = self.default_params()
        for name, value in (params or {}).items():
            spec = next((p for p in self.params if p.name == name), None)
            if spec is None:
                raise ValueError(f"surface {self.key!r} has no parameter {name!r}")
            value = float(value)
            if not (spec.low <= value <= spec.high):
                raise ValueError(f"surface parameter {name!r}={value} is outside [{spec.low}, {spec.high}]")
            out[name] = value
        return out

    def value(self, x: ArrayLike, y: ArrayLike, params: Mapping[str, float] | None = None) -> jax.Array:
        """f on arrays of x and y (broadcast), at the given or default parameters."""
        p = {k: jnp.asarray(v, jnp.float32) for k, v in self.resolve_params(params).items()}
        return self.fn(jnp.asarray(x, jnp.float32), jnp.asarray(y, jnp.float32), p)

    def loss_xy(self, xy: jax.Array, params: Mapping[str, jax.Array]) -> jax.Array:
        """f at one point xy of shape (2,): the form the optimizers differentiate."""
        return self.fn(xy[0], xy[1], params)
