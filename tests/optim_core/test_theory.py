"""optim_core.theory: the predicted rates hold on the real engine, and the optimal α (and β) win.

The engine runs float32 on the ravine f = ½(u² + κv²) (rotated by 30°, no noise). Rates are
measured from the distance ‖x_k‖ to the minimum (0), not from the loss: the loss falls like
rate^{2k} and underflows float32 twice as early. The window ends at the last step whose distance
is above 1e-35 (well clear of float32's smallest normal number, 1.2e-38) and starts at a quarter
of it (at least step 10), after the transients.

Heavy ball at its optimum has a defective iteration matrix (a double eigenvalue √β at λ₁ and
at λₙ), so the distance falls like (a + b·k)·rateᵏ: the raw geometric-mean rate over a window
[k₁, k₂] is above the asymptotic rate by up to the factor (k₂/k₁)^{1/(k₂−k₁)} (at κ = 2 the
float32 range allows only ~50 steps: 4 % above). The test asserts both the raw rate and the
rate with that k-factor divided out within 5 % of the prediction.
"""

from __future__ import annotations

import math

import numpy as np
import pytest

from optim_core import RunConfig, resolve_hparams, run_batch
from optim_core import theory as th
from surfaces import SURFACES

KAPPAS = (2.0, 10.0, 100.0)
ANGLE = 30.0
STEPS = 1000
RTOL = 0.05


@pytest.fixture(scope="module")
def runs():
    """Per κ: the quadratic and six float32 engine runs (one batched call per κ): GD and heavy
    ball at the optimum, at 0.8× and at 1.2× the optimal α (β kept at its optimum)."""
    out = {}
    for kappa in KAPPAS:
        params = {"condition": kappa, "angle": ANGLE}
        q = th.ravine_quadratic(params)
        alpha, _ = th.gd_optimal(q)
        h_alpha, beta, _ = th.heavy_ball_optimal(q)
        configs = [RunConfig("sgd", {"learning_rate": alpha * f}) for f in (1.0, 0.8, 1.2)]
        configs += [
            RunConfig("momentum", {"learning_rate": h_alpha * f, "momentum": beta}) for f in (1.0, 0.8, 1.2)
        ]
        trajectories = run_batch(
            "ravine", configs, steps=STEPS, surface_params=params, noise=0.0, record="path"
        )
        out[kappa] = (q, trajectories)
    return out


def _window(distance: np.ndarray) -> tuple[int, int]:
    last = int(np.nonzero(distance > 1e-35)[0][-1])
    return max(10, last // 4), last


@pytest.mark.parametrize("kappa", KAPPAS)
def test_gradient_descent_rate_matches_theory(runs, kappa):
    q, trajectories = runs[kappa]
    predicted = (kappa - 1) / (kappa + 1)
    alpha, rate = th.gd_optimal(q)
    assert rate == pytest.approx(predicted, rel=1e-12)
    assert th.gd_rate(q, alpha) == pytest.approx(predicted, rel=1e-12)
    distance = np.linalg.norm(trajectories[0].path.astype(np.float64), axis=1)
    first, last = _window(distance)
    assert last - first >= 30, (first, last)
    measured = th.measured_rate(distance, first, last)
    assert measured == pytest.approx(predicted, rel=RTOL)
    # Also from the loss gap (f* = 0), over a window where the loss is still a normal float32.
    loss = trajectories[0].loss.astype(np.float64)
    last_loss = int(np.nonzero(loss > 1e-30)[0][-1])
    assert th.measured_rate(loss, max(5, last_loss // 4), last_loss, squared=True) == pytest.approx(
        predicted, rel=RTOL
    )


@pytest.mark.parametrize("kappa", KAPPAS)
def test_heavy_ball_rate_matches_theory(runs, kappa):
    q, trajectories = runs[kappa]
    predicted = (math.sqrt(kappa) - 1) / (math.sqrt(kappa) + 1)
    alpha, beta, rate = th.heavy_ball_optimal(q)
    assert rate == pytest.approx(predicted, rel=1e-12)
    assert beta == pytest.approx(predicted**2, rel=1e-12)
    assert alpha == pytest.approx((2 / (1 + math.sqrt(kappa))) ** 2, rel=1e-12)
    # the spectral radius of the engine-convention matrix at the optimum (defective: eigvals
    # of a Jordan block are only accurate to about √eps)
    assert th.heavy_ball_rate(q, alpha, beta) == pytest.approx(predicted, rel=1e-6)
    distance = np.linalg.norm(trajectories[3].path.astype(np.float64), axis=1)
    first, last = _window(distance)
    assert last - first >= 30, (first, last)
    raw = th.measured_rate(distance, first, last)
    assert raw == pytest.approx(predicted, rel=RTOL)
    # the raw rate exceeds the asymptotic one by at most the k-factor of the Jordan block
    k_factor = (last / first) ** (1.0 / (last - first))
    assert predicted * 0.995 <= raw <= predicted * k_factor * 1.005
    jordan = raw / k_factor
    assert jordan == pytest.approx(predicted, rel=RTOL)


def _loss_at(trajectory, step: int) -> float:
    value = float(trajectory.loss[step])
    return math.inf if not math.isfinite(value) or trajectory.diverged_at is not None else value


@pytest.mark.parametrize("kappa", KAPPAS)
@pytest.mark.parametrize("which", ["gd", "heavy_ball"])
def test_optimal_alpha_beats_smaller_and_larger(runs, kappa, which):
    q, trajectories = runs[kappa]
    group = trajectories[:3] if which == "gd" else trajectories[3:]
    rate = th.gd_optimal(q)[1] if which == "gd" else th.heavy_ball_optimal(q)[2]
    # N: where the predicted loss gap at the optimum reaches 1e-16 (far above float32's floor),
    # at most the whole run
    curve = th.predicted_loss_curve(rate, STEPS, float(group[0].loss[0]))
    below = np.nonzero(curve < 1e-16)[0]
    n = int(below[0]) if below.size else STEPS
    best, smaller, larger = (_loss_at(t, n) for t in group)
    assert 0 < best < smaller, (n, best, smaller)
    assert best < larger, (n, best, larger)
    # and the theory ranks them the same way
    if which == "gd":
        alpha = th.gd_optimal(q)[0]
        assert th.gd_rate(q, 0.8 * alpha) > rate and th.gd_rate(q, 1.2 * alpha) > rate
    else:
        alpha, beta, _ = th.heavy_ball_optimal(q)
        assert th.heavy_ball_rate(q, 0.8 * alpha, beta) > rate
        assert th.heavy_ball_rate(q, 1.2 * alpha, beta) > rate


def test_ravine_eigenvectors_and_kappa():
    q = th.ravine_quadratic({"condition": 50.0, "angle": 30.0})
    assert q.eigenvalues == pytest.approx([1.0, 50.0])
    assert q.condition == pytest.approx(50.0)
    theta = math.radians(30.0)
    along, across = q.eigenvectors[:, 0], q.eigenvectors[:, 1]
    assert abs(along @ [math.cos(theta), math.sin(theta)]) == pytest.approx(1.0)
    assert abs(across @ [-math.sin(theta), math.cos(theta)]) == pytest.approx(1.0)
    # the quadratic is the surface: same values at a few points
    surface = SURFACES["ravine"]
    for point in [(-2.5, 1.0), (0.3, -1.7), (2.0, 2.0)]:
        expected = float(surface.value(point[0], point[1], {"condition": 50.0, "angle": 30.0}))
        assert q.value(point) == pytest.approx(expected, rel=1e-5)
    defaults = th.ravine_quadratic()
    assert defaults.condition == pytest.approx(SURFACES["ravine"].default_params()["condition"])


def test_general_hessian_and_booth():
    q = th.quadratic([[3.0, 1.0], [1.0, 3.0]], (1.0, -1.0), 2.0)
    assert q.eigenvalues == pytest.approx([2.0, 4.0])
    assert q.condition == pytest.approx(2.0)
    assert q.value((1.0, -1.0)) == 2.0 and q.gap((2.0, -1.0)) == pytest.approx(1.5)
    with pytest.raises(ValueError, match="symmetric"):
        th.quadratic([[1.0, 2.0], [0.0, 1.0]])
    with pytest.raises(ValueError, match="square"):
        th.quadratic([1.0, 2.0])
    with pytest.raises(ValueError, match="no minimum"):
        th.gd_optimal(th.quadratic([[1.0, 0.0], [0.0, -1.0]]))
    booth = th.surface_quadratic("booth")
    assert booth is not None and booth.eigenvalues == pytest.approx([2.0, 18.0])
    surface = SURFACES["booth"]
    for point in [(0.0, 0.0), (-8.0, -8.0), (2.0, 1.0)]:
        assert booth.value(point) == pytest.approx(float(surface.value(*point)), rel=1e-5)
    assert th.surface_quadratic("rosenbrock") is None


def test_rates_reduce_to_each_other():
    q = th.ravine_quadratic({"condition": 10.0, "angle": 0.0})
    for alpha in (0.01, 0.1, 0.18, 0.25):
        gd = th.gd_rate(q, alpha)
        assert th.heavy_ball_rate(q, alpha, 0.0) == pytest.approx(gd)
        assert th.nesterov_rate(q, alpha, 0.0) == pytest.approx(gd)
        assert th.predicted_rate(q, "sgd", {"learning_rate": alpha}) == gd
    assert th.gd_rate(q, 0.25) > 1  # beyond 2/λₙ: diverges
    assert th.predicted_rate(q, "adam", {"learning_rate": 0.1}) is None


def test_optimal_hparams_are_legal_engine_settings_over_the_slider():
    for kappa in (1.0, 1.5, 10.0, 300.0, 1000.0):
        q = th.ravine_quadratic({"condition": kappa})
        for name in ("sgd", "momentum"):
            hp = th.optimal_hparams(q, name)
            resolved = resolve_hparams(name, hp)  # raises if out of the valid range
            assert resolved["learning_rate"] == hp["learning_rate"]
    assert th.optimal_hparams(th.ravine_quadratic(), "adam") is None


def test_predicted_curves():
    curve = th.predicted_loss_curve(0.5, 10, 8.0)
    assert curve.shape == (11,) and curve[0] == 8.0 and curve[3] == pytest.approx(8.0 * 0.5**6)
    assert th.predicted_loss_curve(0.5, 10, 8.0, f_min=3.0)[0] == 11.0
    assert np.all(np.isfinite(th.predicted_loss_curve(0.9, 20000, 1.0)))
    assert th.predicted_loss_curve(0.0, 3, 2.0).tolist() == [2.0, 0.0, 0.0, 0.0]
    assert th.predicted_distance_curve(0.5, 4, 2.0)[2] == pytest.approx(0.5)
    with pytest.raises(ValueError):
        th.measured_rate([1.0, 0.0], 0, 1)


def test_eigen_segments_run_through_the_minimum_inside_the_domain():
    q = th.ravine_quadratic({"condition": 50.0, "angle": 30.0})
    domain = SURFACES["ravine"].domain
    segments = th.eigen_segments(q, domain)
    assert [s.eigenvalue for s in segments] == pytest.approx([1.0, 50.0])
    for s in segments:
        start, end = np.array(s.start), np.array(s.end)
        assert np.allclose((start + end) / 2, q.minimum)  # centred
        direction = (end - start) / np.linalg.norm(end - start)
        assert abs(direction @ np.array(s.direction)) == pytest.approx(1.0)
        for p in (start, end):
            assert domain[0][0] <= p[0] <= domain[0][1] and domain[1][0] <= p[1] <= domain[1][1]
    assert "steep" in segments[1].label and "50" in segments[1].label
    level = th.eigen_segments(q, domain, level_set=True)
    long_half = np.linalg.norm(np.subtract(level[0].end, level[0].start)) / 2
    short_half = np.linalg.norm(np.subtract(level[1].end, level[1].start)) / 2
    assert long_half / short_half == pytest.approx(math.sqrt(50.0))
    # a minimum near the edge: clipped to the box
    booth = th.surface_quadratic("booth")
    for s in th.eigen_segments(booth, ((-2.0, 2.0), (0.0, 4.0)), fraction=2.0):
        for p in (s.start, s.end):
            assert -2.0 - 1e-9 <= p[0] <= 2.0 + 1e-9 and -1e-9 <= p[1] <= 4.0 + 1e-9
