"""What theory predicts on a quadratic: κ, the best step sizes and the rate of convergence.

For f(x) = f* + ½ (x − x*)ᵀ H (x − x*) with the Hessian's eigenvalues λ₁ ≤ … ≤ λₙ (all > 0) and
κ = λₙ / λ₁ (Goh, "Why Momentum Really Works", Distill 2017; Polyak 1964):

- gradient descent x ← x − α∇f contracts the eigen-coordinate i by (1 − αλᵢ) each step, so its
  rate is max |1 − αλᵢ|; the best step is α* = 2/(λ₁ + λₙ) with rate (κ − 1)/(κ + 1);
- heavy-ball momentum, as the engine runs it (optax's `sgd(momentum=β)`, our `momentum`):
  v ← β·v + ∇f, x ← x − α·v. That is Polyak's x_{k+1} = x_k − α∇f(x_k) + β(x_k − x_{k−1}) with
  step α. Per eigenvalue the iteration matrix on (z, v) is [[1 − αλ, −αβ], [λ, β]]; its spectral
  radius is the rate. The best pair is α = (2/(√λ₁ + √λₙ))², β = ((√κ − 1)/(√κ + 1))², with
  rate √β = (√κ − 1)/(√κ + 1). There the matrix is defective (a double eigenvalue √β at λ₁ and
  at λₙ), so the distance falls like k·rateᵏ, not rateᵏ: the rate holds asymptotically.
- Nesterov (our `nesterov`: v ← μ·v + ∇f, x ← x − α(∇f + μ·v)): matrix [[1 − αλ(1 + μ), −αμ²],
  [λ, μ]].

The distance ‖x_k − x*‖ falls like rateᵏ and the loss gap f(x_k) − f* like rate^{2k}, which is
what `predicted_loss_curve` draws on the log-scale loss plot.

Pure NumPy: no JAX, no Streamlit. The ravine surface (surfaces.catalog) is
f = ½(u² + κ v²) with (u, v) the coordinates turned by −θ: H = R(θ) diag(1, κ) R(θ)ᵀ.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

import numpy as np

__all__ = [
    "Quadratic",
    "EigenSegment",
    "quadratic",
    "ravine_quadratic",
    "surface_quadratic",
    "eigen_segments",
    "gd_optimal",
    "heavy_ball_optimal",
    "gd_rate",
    "heavy_ball_rate",
    "nesterov_rate",
    "predicted_rate",
    "optimal_hparams",
    "predicted_loss_curve",
    "predicted_distance_curve",
    "measured_rate",
    "THEORY_OPTIMIZERS",
]

# The optimizers whose rate on a quadratic this module predicts.
THEORY_OPTIMIZERS: tuple[str, ...] = ("sgd", "momentum", "nesterov")


@dataclass(frozen=True)
class Quadratic:
    """f(x) = f_min + ½ (x − minimum)ᵀ H (x − minimum) in 2D (or n-D), H symmetric.

    `eigenvalues` are ascending; `eigenvectors[:, i]` belongs to `eigenvalues[i]` (unit length,
    sign chosen so its largest component is positive, for stable drawings).
    """

    hessian: np.ndarray
    minimum: np.ndarray
    f_min: float
    eigenvalues: np.ndarray
    eigenvectors: np.ndarray

    @property
    def lambda_min(self) -> float:
        return float(self.eigenvalues[0])

    @property
    def lambda_max(self) -> float:
        return float(self.eigenvalues[-1])

    @property
    def condition(self) -> float:
        """κ = λₙ / λ₁ (inf when λ₁ ≤ 0: no minimum to converge to)."""
        if self.lambda_min <= 0:
            return math.inf
        return self.lambda_max / self.lambda_min

    def value(self, point: Sequence[float]) -> float:
        d = np.asarray(point, np.float64) - self.minimum
        return float(self.f_min + 0.5 * d @ self.hessian @ d)

    def gap(self, point: Sequence[float]) -> float:
        """f(point) − f_min."""
        return self.value(point) - self.f_min

    def distance(self, point: Sequence[float]) -> float:
        return float(np.linalg.norm(np.asarray(point, np.float64) - self.minimum))


def quadratic(
    hessian: Sequence[Sequence[float]] | np.ndarray,
    minimum: Sequence[float] | None = None,
    f_min: float = 0.0,
) -> Quadratic:
    """A Quadratic from a symmetric Hessian (ValueError if it is not square, finite, symmetric)."""
    h = np.asarray(hessian, np.float64)
    if h.ndim != 2 or h.shape[0] != h.shape[1] or h.shape[0] == 0:
        raise ValueError(f"the Hessian must be a square matrix, got shape {h.shape}")
    if not np.all(np.isfinite(h)):
        raise ValueError("the Hessian must be finite")
    if not np.allclose(h, h.T, rtol=1e-12, atol=1e-12 * max(1.0, float(np.abs(h).max()))):
        raise ValueError("the Hessian must be symmetric")
    h = 0.5 * (h + h.T)
    m = np.zeros(h.shape[0]) if minimum is None else np.asarray(minimum, np.float64)
    if m.shape != (h.shape[0],):
        raise ValueError(f"the minimum must have {h.shape[0]} coordinates")
    values, vectors = np.linalg.eigh(h)
    for i in range(vectors.shape[1]):
        column = vectors[:, i]
        if column[np.argmax(np.abs(column))] < 0:
            vectors[:, i] = -column
    return Quadratic(h, m, float(f_min), values, vectors)


def ravine_quadratic(params: Mapping[str, float] | None = None) -> Quadratic:
    """The ravine surface's quadratic at its parameters (`condition` κ, `angle` θ in degrees;
    missing ones take the surface's defaults). Curvature 1 along the valley (direction
    (cos θ, sin θ)), κ across it."""
    from surfaces import SURFACES  # surfaces is below optim_core: the import direction holds

    p = SURFACES["ravine"].resolve_params(params)
    theta = math.radians(p["angle"])
    along = np.array([math.cos(theta), math.sin(theta)])
    across = np.array([-math.sin(theta), math.cos(theta)])
    h = np.outer(along, along) + p["condition"] * np.outer(across, across)
    return quadratic(h, (0.0, 0.0), 0.0)


# The catalogue surfaces that are exact quadratics, besides the ravine.
_BOOTH = quadratic([[10.0, 8.0], [8.0, 10.0]], (1.0, 3.0), 0.0)  # (x+2y−7)² + (2x+y−5)²
_BOWL = quadratic([[1.0, 0.0], [0.0, 1.0]], (0.0, 0.0), 0.0)  # ½(x² + y²)


def surface_quadratic(name: str, params: Mapping[str, float] | None = None) -> Quadratic | None:
    """The Quadratic of a catalogue surface that is one (ravine, booth, noisy_bowl), else None."""
    if name == "ravine":
        return ravine_quadratic(params)
    if name == "booth":
        return _BOOTH
    if name == "noisy_bowl":
        return _BOWL
    return None


@dataclass(frozen=True)
class EigenSegment:
    """A segment through the minimum along one eigenvector, for drawing on the contour map."""

    eigenvalue: float
    direction: tuple[float, float]  # unit eigenvector
    start: tuple[float, float]
    end: tuple[float, float]
    label: str  # e.g. "λ = 50 (steep)"


def eigen_segments(
    q: Quadratic, domain: Sequence[Sequence[float]], fraction: float = 0.45, level_set: bool = False
) -> list[EigenSegment]:
    """One segment per eigenvector of a 2D quadratic, centred on the minimum, ascending λ.

    Each half-segment is `fraction` × the smaller side of the plotting `domain`
    ((xmin, xmax), (ymin, ymax)); with `level_set` the half-lengths are instead the semi-axes of
    one level set (∝ 1/√λ, the longest = `fraction` × the smaller side), so the segments are the
    axes of the contour ellipses. Endpoints are clipped to the domain along the segment.
    """
    if q.hessian.shape != (2, 2):
        raise ValueError("eigen_segments draws 2D quadratics only")
    (x0, x1), (y0, y1) = ((float(a), float(b)) for a, b in domain)
    if not (x1 > x0 and y1 > y0):
        raise ValueError("the domain must be ((xmin, xmax), (ymin, ymax)) with min < max")
    base = fraction * min(x1 - x0, y1 - y0)
    positive = [v for v in q.eigenvalues if v > 0]
    out = []
    for i, lam in enumerate(q.eigenvalues):
        half = base
        if level_set and lam > 0:
            half = base * math.sqrt(min(positive) / lam)
        d = q.eigenvectors[:, i]
        # clip t ∈ [−half, half] so that minimum + t·d stays inside the box
        t_hi, t_lo = half, -half
        for k, (lo, hi) in enumerate(((x0, x1), (y0, y1))):
            if abs(d[k]) > 1e-15:
                a, b = (lo - q.minimum[k]) / d[k], (hi - q.minimum[k]) / d[k]
                t_lo, t_hi = max(t_lo, min(a, b)), min(t_hi, max(a, b))
        start = q.minimum + t_lo * d
        end = q.minimum + t_hi * d
        kind = "flat" if i == 0 else "steep"
        out.append(
            EigenSegment(
                float(lam),
                (float(d[0]), float(d[1])),
                (float(start[0]), float(start[1])),
                (float(end[0]), float(end[1])),
                f"λ = {lam:.3g} ({kind})",
            )
        )
    return out


def _require_minimum(q: Quadratic) -> None:
    if q.lambda_min <= 0:
        raise ValueError("the quadratic has no minimum (an eigenvalue is ≤ 0): no optimal step")


def gd_optimal(q: Quadratic) -> tuple[float, float]:
    """(α*, rate): α* = 2/(λ₁ + λₙ), rate = (κ − 1)/(κ + 1)."""
    _require_minimum(q)
    kappa = q.condition
    return 2.0 / (q.lambda_min + q.lambda_max), (kappa - 1.0) / (kappa + 1.0)


def heavy_ball_optimal(q: Quadratic) -> tuple[float, float, float]:
    """(α, β, rate) for v ← βv + ∇f, x ← x − αv: α = (2/(√λ₁ + √λₙ))²,
    β = ((√κ − 1)/(√κ + 1))², rate = (√κ − 1)/(√κ + 1)."""
    _require_minimum(q)
    s1, sn = math.sqrt(q.lambda_min), math.sqrt(q.lambda_max)
    root = (sn - s1) / (sn + s1)  # = (√κ − 1)/(√κ + 1)
    return (2.0 / (s1 + sn)) ** 2, root**2, root


def _spectral_radius(matrices: np.ndarray) -> float:
    return float(np.max(np.abs(np.linalg.eigvals(matrices))))


def gd_rate(q: Quadratic, alpha: float) -> float:
    """max_i |1 − αλᵢ|: > 1 means gradient descent diverges."""
    return float(np.max(np.abs(1.0 - alpha * q.eigenvalues)))


def heavy_ball_rate(q: Quadratic, alpha: float, beta: float) -> float:
    """Spectral radius of [[1 − αλ, −αβ], [λ, β]] over the eigenvalues λ (v ← βv + ∇f,
    x ← x − αv)."""
    lam = q.eigenvalues
    m = np.zeros((lam.size, 2, 2))
    m[:, 0, 0], m[:, 0, 1], m[:, 1, 0], m[:, 1, 1] = 1.0 - alpha * lam, -alpha * beta, lam, beta
    return _spectral_radius(m)


def nesterov_rate(q: Quadratic, alpha: float, mu: float) -> float:
    """Spectral radius for our `nesterov` (v ← μv + ∇f, x ← x − α(∇f + μv)):
    [[1 − αλ(1 + μ), −αμ²], [λ, μ]] over the eigenvalues λ."""
    lam = q.eigenvalues
    m = np.zeros((lam.size, 2, 2))
    m[:, 0, 0], m[:, 0, 1], m[:, 1, 0], m[:, 1, 1] = 1.0 - alpha * lam * (1.0 + mu), -alpha * mu**2, lam, mu
    return _spectral_radius(m)


def predicted_rate(q: Quadratic, optimizer: str, hparams: Mapping[str, float]) -> float | None:
    """The asymptotic rate per step of the distance for `sgd`, `momentum` or `nesterov` with
    these hyperparameters (the engine's names: learning_rate, momentum); None for others."""
    if optimizer == "sgd":
        return gd_rate(q, float(hparams["learning_rate"]))
    if optimizer == "momentum":
        return heavy_ball_rate(q, float(hparams["learning_rate"]), float(hparams["momentum"]))
    if optimizer == "nesterov":
        return nesterov_rate(q, float(hparams["learning_rate"]), float(hparams["momentum"]))
    return None


def optimal_hparams(q: Quadratic, optimizer: str) -> dict[str, float] | None:
    """The optimal settings as the engine names them: sgd {learning_rate: α*}, momentum
    {learning_rate: α, momentum: β}; None for an optimizer without a closed form here."""
    if optimizer == "sgd":
        return {"learning_rate": gd_optimal(q)[0]}
    if optimizer == "momentum":
        alpha, beta, _ = heavy_ball_optimal(q)
        return {"learning_rate": alpha, "momentum": beta}
    return None


def predicted_loss_curve(rate: float, steps: int, start_gap: float, f_min: float = 0.0) -> np.ndarray:
    """f(x_k) ≈ f_min + (f(x₀) − f_min)·rate^{2k}, k = 0 … steps: a straight line on a log
    scale, anchored at the start, to draw beside the measured loss. Values below 1e-300 are 0."""
    k = np.arange(steps + 1, dtype=np.float64)
    with np.errstate(under="ignore", divide="ignore"):
        gap = start_gap * np.exp(2.0 * k * math.log(rate)) if rate > 0 else np.where(k == 0, start_gap, 0.0)
    return f_min + gap


def predicted_distance_curve(rate: float, steps: int, start_distance: float) -> np.ndarray:
    """‖x_k − x*‖ ≈ ‖x₀ − x*‖·rateᵏ, k = 0 … steps."""
    return np.sqrt(predicted_loss_curve(rate, steps, start_distance**2))


def measured_rate(
    values: Sequence[float] | np.ndarray, first: int, last: int, *, squared: bool = False
) -> float:
    """The geometric-mean rate per step, (values[last] / values[first])^(1/(last − first)).

    Pass distances ‖x_k − x*‖ (squared=False) or loss gaps f(x_k) − f* (squared=True: the
    square root is taken, so the result is comparable with the predicted rate).
    """
    v = np.asarray(values, np.float64)
    if not 0 <= first < last < v.size:
        raise ValueError(f"need 0 <= first < last < {v.size}, got {first}, {last}")
    a, b = v[first], v[last]
    if not (a > 0 and b > 0 and math.isfinite(a) and math.isfinite(b)):
        raise ValueError("the values at both ends of the window must be positive and finite")
    rate = (b / a) ** (1.0 / (last - first))
    return math.sqrt(rate) if squared else rate
