"""playground.adam_demo: the Adam page's numbers, checked against hand-written NumPy math.

The module steps optim_core's own optimizers over 1D gradient streams; these tests recompute the
moments, corrections and steps independently and compare.
"""

from __future__ import annotations

import numpy as np
import pytest

from playground import adam_demo as ad
from playground.setup import from_query
from viz import adam as vadam


def ema(values: np.ndarray, beta: float) -> np.ndarray:
    out, avg = [], 0.0
    for v in values.astype(np.float64):
        avg = beta * avg + (1 - beta) * v
        out.append(avg)
    return np.array(out)


@pytest.mark.parametrize("kind", list(ad.STREAM_KINDS))
def test_streams_are_seeded_and_shaped(kind: str) -> None:
    a = ad.gradient_stream(kind, seed=3)
    assert a.shape == (ad.STREAM_STEPS,) and a.dtype == np.float32
    np.testing.assert_array_equal(a, ad.gradient_stream(kind, seed=3))
    np.testing.assert_allclose(ad.gradient_stream(kind, seed=3, scale=10.0), 10 * a, rtol=1e-6)


def test_stream_shapes_mean_what_they_say() -> None:
    assert not np.array_equal(ad.gradient_stream("noisy", seed=1), ad.gradient_stream("noisy", seed=2))
    flips = ad.gradient_stream("sign-flipping")
    assert np.all(flips[:-1] * flips[1:] < 0)
    sparse = ad.gradient_stream("sparse", seed=0)
    assert 0 < np.count_nonzero(sparse) < 0.2 * len(sparse)
    plateau = ad.gradient_stream("plateau-spike")
    assert plateau[ad.SPIKE_AT - 1] == pytest.approx(ad.PLATEAU_G) and plateau[ad.SPIKE_AT] == 1.0
    with pytest.raises(ValueError, match="unknown stream"):
        ad.gradient_stream("zigzag")


@pytest.mark.parametrize("kind", ["noisy", "sparse", "constant"])
def test_adam_moments_are_corrected_emas(kind: str) -> None:
    g = ad.gradient_stream(kind, seed=5)
    b1, b2, eps, lr = 0.8, 0.99, 1e-8, 0.5
    r = ad.run_stream("adam", g, ad.adam_hparams(b1, b2, eps, learning_rate=lr))
    t = np.arange(1, len(g) + 1)
    m, v = ema(g, b1), ema(g.astype(np.float64) ** 2, b2)
    np.testing.assert_allclose(r.m, m, rtol=2e-4, atol=1e-7)
    np.testing.assert_allclose(r.v, v, rtol=2e-4, atol=1e-9)
    np.testing.assert_allclose(r.m_hat, m / (1 - b1**t), rtol=2e-4, atol=1e-7)
    np.testing.assert_allclose(r.v_hat, v / (1 - b2**t), rtol=2e-4, atol=1e-9)
    step = -lr * (m / (1 - b1**t)) / (np.sqrt(v / (1 - b2**t)) + eps)
    np.testing.assert_allclose(r.updates, step, rtol=1e-3, atol=1e-6)


def test_bias_correction_off_leaves_the_raw_averages() -> None:
    g = ad.gradient_stream("constant")
    on, off = ad.run_streams("adam", [g, g], [ad.adam_hparams(), ad.adam_hparams(bias_correction=False)])
    np.testing.assert_allclose(off.m_hat, off.m)
    np.testing.assert_allclose(on.m_hat, 1.0, rtol=1e-5)  # constant g = 1: m̂ is exactly g
    assert on.relative_step[0] == pytest.approx(1.0, rel=1e-4)
    assert off.relative_step[0] == pytest.approx(0.1 / np.sqrt(0.001), rel=1e-3)  # ≈ 3.16


def test_first_step_eps_placement_matches_the_closed_forms() -> None:
    g = 1e-6
    optax = ad.first_step_ratio(g, 1e-8, eps_hat=False)[0]
    keras = ad.first_step_ratio(g, 1e-7, eps_hat=True)[0]
    assert optax == pytest.approx(g / (g + 1e-8), rel=1e-4)
    c = np.sqrt(0.001)
    assert keras == pytest.approx(c / 0.1 * 0.1 * g / (c * g + 1e-7), rel=1e-3)
    assert round(optax, 2) == 0.99 and round(keras, 2) == 0.24
    curve = ad.first_step_ratio(np.logspace(-10, 0, 11), 1e-8, eps_hat=False)
    assert np.all(np.diff(curve) > 0) and curve[-1] == pytest.approx(1.0, abs=1e-6)


def test_small_beta2_makes_the_step_jump() -> None:
    g = ad.gradient_stream("sparse", seed=0)
    small, usual = ad.run_streams("adam", [g, g], [ad.adam_hparams(b2=0.6), ad.adam_hparams(b2=0.999)])
    assert small.relative_step.max() > 10  # far above α
    assert usual.relative_step.max() < 1.0


def test_rmsprop_step_does_not_depend_on_the_gradient_scale() -> None:
    hp = {"learning_rate": 1.0, "decay": 0.9, "eps": 1e-12}
    a = ad.run_stream("rmsprop", ad.gradient_stream("noisy", seed=2), hp)
    b = ad.run_stream("rmsprop", ad.gradient_stream("noisy", seed=2, scale=1000.0), hp)
    np.testing.assert_allclose(a.relative_step, b.relative_step, rtol=1e-3)
    np.testing.assert_allclose(b.v, ema(b.grads.astype(np.float64) ** 2, 0.9), rtol=1e-3)


def test_no_recompile_when_hyperparameters_move() -> None:
    g = ad.gradient_stream("noisy")
    ad.run_stream("adam", g, ad.adam_hparams(b1=0.5))
    size = ad._scan_streams._cache_size()
    for b1, b2 in ((0.1, 0.9), (0.95, 0.9999), (0.0, 0.5)):
        ad.run_stream("adam", g, ad.adam_hparams(b1=b1, b2=b2, bias_correction=b1 > 0.5))
    assert ad._scan_streams._cache_size() == size


def test_minibatch_full_batch_is_exact_gradient_descent() -> None:
    lr = 0.3
    paths, w_star = ad.minibatch_paths([1, 16, ad.DATA_POINTS], lr, seed=1)
    t = np.arange(ad.GD_STEPS + 1)
    exact = w_star + (ad.GD_START - w_star) * (1 - lr) ** t  # GD on ½·mean (w − x)²
    np.testing.assert_allclose(paths[2], exact, atol=1e-4)
    assert w_star == pytest.approx(float(np.mean(ad.regression_data(1))))
    long, _ = ad.minibatch_paths([1, 16], lr, seed=1, steps=2000)
    spread_1, spread_16 = np.std(long[0][200:]), np.std(long[1][200:])
    assert 2.5 < spread_1 / spread_16 < 6  # noise shrinks about like √16 = 4


def test_check_query() -> None:
    good = {
        "adam.b2.b2": "0.5",
        "adam.eps.g": "1e-05",
        "adam.mom.stream": "sparse",
        "adam.adam.bc": "false",
        "adam.gd.batch": "64",
        "s": "whatever",
    }
    assert ad.check_query(good) == []
    bad = {
        "adam.b2.b2": "7",
        "adam.eps.g": "0.00003",
        "adam.mom.stream": "zigzag",
        "adam.adam.bc": "maybe",
        "adam.gd.lr": "fast",
        "adam.nope": "1",
    }
    warnings = ad.check_query(bad)
    assert len(warnings) == len(bad)
    assert ad.check_query({"adam.eps.g": "0.00001"}) == []  # another spelling of 1e-05


@pytest.mark.parametrize("section", ["gd", "momentum", "rmsprop", "adam", "eps", "beta2"])
def test_playground_links_read_back_cleanly(section: str) -> None:
    query = ad.playground_link(section, batch_size=64, learning_rate=0.2, b1=0.7, b2=0.6)
    setup, warnings = from_query(query)
    assert warnings == []
    assert len(setup.optimizers) >= 1
    if section == "beta2":
        assert setup.optimizers[1].hparams["b2"] == pytest.approx(0.6)
    if section == "gd":
        assert setup.noise == pytest.approx(ad.DATA_STD / 8, rel=1e-2)


def test_figures_build() -> None:
    g = ad.gradient_stream("noisy")
    on, off = ad.run_streams("adam", [g, g], [ad.adam_hparams(), ad.adam_hparams(bias_correction=False)])
    figs = [
        vadam.momentum_figure(on, 0.9),
        vadam.adam_moments_figure(on),
        vadam.bias_step_figure(on, off),
        vadam.beta2_figure(on, off, 0.6),
        vadam.eps_plateau_figure(on, off, 1e-6),
        vadam.rmsprop_figure(ad.run_stream("rmsprop", g, {"learning_rate": 1.0})),
    ]
    for fig in figs:
        assert fig.layout.title.text and all(len(t.y) for t in fig.data if t.y is not None)
