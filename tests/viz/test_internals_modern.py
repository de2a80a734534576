"""The Internals drawings of the 2026 optimizers (viz/internals.py): Schedule-Free's z, y, x;
Lookahead's slow weights and syncs; SAM's probe and descent; Prodigy's estimate d.

Runs come from the engine on Rosenbrock without noise; every drawn value is checked against a
NumPy recomputation from the recorded gradients (not against the optimizer's own code), and
every sentence the figures show about the math is checked here too.
"""

from __future__ import annotations

import dataclasses

import numpy as np
import plotly.graph_objects as go
import pytest

from optim_core.engine import RunConfig, run_batch
from surfaces import get_surface
from viz import internals as vi

STEPS = 120
SURFACE = get_surface("rosenbrock")


def rosen_grad(p: np.ndarray) -> np.ndarray:
    """∇[(1 − x)² + 100 (y − x²)²], by hand, in float64."""
    x, y = p
    return np.array([-2 * (1 - x) - 400 * x * (y - x * x), 200 * (y - x * x)])


CONFIGS = {
    "sf_sgd": RunConfig("schedule_free_sgd", {"learning_rate": 2e-3}),
    "sf_adamw": RunConfig("schedule_free_adamw"),
    "lookahead": RunConfig("lookahead_adam"),
    "lookahead_3": RunConfig("lookahead_adam", {"sync_period": 3.0, "slow_step_size": 0.3}),
    "sam": RunConfig("sam"),
    "prodigy": RunConfig("prodigy"),
}


@pytest.fixture(scope="module")
def runs():
    trajectories = run_batch(SURFACE, list(CONFIGS.values()), steps=STEPS, noise=0.0)
    out = dict(zip(CONFIGS, trajectories, strict=True))
    for name, t in out.items():
        assert t.diverged_at is None, name
    return out


def trace(fig: go.Figure, prefix: str):
    found = [t for t in fig.data if t.name and t.name.startswith(prefix)]
    assert len(found) == 1, (prefix, [t.name for t in fig.data])
    return found[0]


def xy(tr) -> np.ndarray:
    return np.column_stack([np.asarray(tr.x, dtype=np.float64), np.asarray(tr.y, dtype=np.float64)])


def valid(fig: go.Figure) -> go.Figure:
    go.Figure(fig.to_dict())  # plotly's validating constructor: the dicts are well formed
    return fig


# --- Schedule-Free ----------------------------------------------------------------------------


def schedule_free_reference(t, adamw: bool) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """z, x, y at times 0 … n from the recorded gradients (weight decay 0, constant α)."""
    hp = t.hparams
    lr, b1 = hp["learning_rate"], hp["b1"]
    grads = np.asarray(t.grads, dtype=np.float64)
    z = [np.asarray(t.path[0], dtype=np.float64)]
    v = np.zeros(2)
    for i, g in enumerate(grads, start=1):
        if adamw:
            v = hp["b2"] * v + (1 - hp["b2"]) * g * g
            step = g / (np.sqrt(v / (1 - hp["b2"] ** i)) + hp["eps"])
        else:
            step = g
        z.append(z[-1] - lr * step)
    zs = np.array(z)
    xs = np.vstack([zs[:1], np.cumsum(zs[1:], axis=0) / np.arange(1, len(zs))[:, None]])
    ys = b1 * xs + (1 - b1) * zs
    return zs, xs, ys


@pytest.mark.parametrize(("key", "adamw", "step"), [("sf_sgd", False, 60), ("sf_adamw", True, 9)])
def test_schedule_free_draws_z_y_x(runs, key, adamw, step):
    t = runs[key]
    zs, xs, ys = schedule_free_reference(t, adamw)
    # the recorded sequences are the algorithm's (z from −α·g, x the mean, y between them)
    np.testing.assert_allclose(t.internals["z"], zs[1:], rtol=1e-4, atol=1e-5)
    np.testing.assert_allclose(t.internals["x"], xs[1:], rtol=1e-4, atol=1e-5)
    np.testing.assert_allclose(t.path, ys, rtol=1e-4, atol=1e-5)
    fig = valid(vi.internals_arrows_figure(SURFACE, t, step))
    lo, hi = max(0, step - 21), min(STEPS + 1, step + 21)
    inner = "AdamW" if adamw else "SGD"
    z_tr = trace(fig, f"z: the fast iterate, plain {inner} steps")
    x_tr = trace(fig, "x: the running average of the z's")
    y_tr = trace(fig, "y: where the gradient is taken (the path)")
    np.testing.assert_allclose(xy(z_tr), zs[lo:hi], rtol=1e-4, atol=1e-5)
    np.testing.assert_allclose(xy(x_tr), xs[lo:hi], rtol=1e-4, atol=1e-5)
    np.testing.assert_allclose(xy(y_tr), ys[lo:hi], rtol=1e-4, atol=1e-5)
    np.testing.assert_allclose(xy(trace(fig, f"z after update {step}"))[0], zs[step], rtol=1e-4, atol=1e-5)
    np.testing.assert_allclose(xy(trace(fig, f"x after update {step}"))[0], xs[step], rtol=1e-4, atol=1e-5)
    # the claim "y sits on the segment z–x, β₁ = 0.9 of the way to x"
    b1 = t.hparams["b1"]
    seg = trace(fig, f"after update {step}: y sits on the segment z–x, β₁ = 0.9 of the way to x")
    z_end, x_end = xy(seg)
    np.testing.assert_allclose(z_end + b1 * (x_end - z_end), t.path[step], rtol=1e-4, atol=1e-5)
    # every marked point is inside the window
    for p in (zs[step], xs[step], ys[step]):
        assert fig.layout.xaxis.range[0] <= p[0] <= fig.layout.xaxis.range[1]
        assert fig.layout.yaxis.range[0] <= p[1] <= fig.layout.yaxis.range[1]


def test_schedule_free_mean_claim_only_with_a_constant_rate(runs):
    claim = "with a constant α, x after t updates is the plain mean of z₁ … z_t"
    t = runs["sf_sgd"]
    assert claim in valid(vi.internals_arrows_figure(SURFACE, t, 30)).layout.annotations[0].text
    # checked above: x equals the cumulative mean of z; with a varying α the weights differ
    varying = dataclasses.replace(t, lr=np.linspace(1e-3, 2e-3, STEPS))
    assert claim not in vi.internals_arrows_figure(SURFACE, varying, 30).layout.annotations[0].text


# --- Lookahead --------------------------------------------------------------------------------


def adam_updates(t) -> np.ndarray:
    """The inner Adam's update at every step, from the recorded gradients (state never reset)."""
    hp = t.hparams
    m, v = np.zeros(2), np.zeros(2)
    out = []
    for i, g in enumerate(np.asarray(t.grads, dtype=np.float64), start=1):
        m = hp["b1"] * m + (1 - hp["b1"]) * g
        v = hp["b2"] * v + (1 - hp["b2"]) * g * g
        m_hat, v_hat = m / (1 - hp["b1"] ** i), v / (1 - hp["b2"] ** i)
        out.append(-hp["learning_rate"] * m_hat / (np.sqrt(v_hat) + hp["eps"]))
    return np.array(out)


@pytest.mark.parametrize(
    ("key", "k", "alpha_s", "step"), [("lookahead", 5, 0.5, 33), ("lookahead_3", 3, 0.3, 50)]
)
def test_lookahead_draws_slow_weights_and_syncs(runs, key, k, alpha_s, step):
    t = runs[key]
    path = np.asarray(t.path, dtype=np.float64)
    slow = np.vstack([path[:1], np.asarray(t.internals["slow"], dtype=np.float64)])  # times 0 … n
    moved = np.flatnonzero(np.any(np.diff(slow, axis=0) != 0, axis=1)) + 1  # times the slow weights moved
    assert moved.size > 5 and np.all(moved % k == 0)  # only every k steps
    u = adam_updates(t)
    syncs = np.arange(k, STEPS + 1, k)
    before = path[syncs - 1] + u[syncs - 1]  # the fast weights after their k-th Adam step
    # the note's claim: φ moves α_s of the way to the fast weights, which restart from φ
    np.testing.assert_allclose(
        slow[syncs], slow[syncs - k] + alpha_s * (before - slow[syncs - k]), rtol=1e-4, atol=1e-5
    )
    np.testing.assert_allclose(path[syncs], slow[syncs], rtol=1e-6, atol=1e-6)
    off = np.setdiff1d(np.arange(1, STEPS + 1), syncs)
    np.testing.assert_allclose(path[off], path[off - 1] + u[off - 1], rtol=1e-4, atol=1e-5)

    fig = valid(vi.internals_arrows_figure(SURFACE, t, step))
    lo, hi = max(0, step - 21), min(STEPS + 1, step + 21)
    in_window = [s for s in syncs if lo <= s < hi]
    slow_tr = trace(fig, f"slow weights φ: move only every k = {k} steps")
    np.testing.assert_allclose(
        xy(slow_tr), slow[[lo, *[s for s in in_window if s != lo]]], rtol=1e-5, atol=1e-6
    )
    marks = trace(fig, f"fast weights after their {k}-th Adam step, before the sync")
    np.testing.assert_allclose(
        xy(marks), path[np.array(in_window) - 1] + u[np.array(in_window) - 1], rtol=1e-4, atol=1e-5
    )
    pulls = xy(trace(fig, "sync: the fast weights restart at the new slow weights")).reshape(-1, 3, 2)
    np.testing.assert_allclose(pulls[:, 1], slow[in_window], rtol=1e-5, atol=1e-6)
    assert np.isnan(pulls[:, 2]).all()
    np.testing.assert_allclose(xy(trace(fig, "fast weights θ (the path)")), path[lo:hi], rtol=1e-6)
    note = fig.layout.annotations[0].text
    assert (
        f"every k = {k} updates the slow weights move α_s = {alpha_s:g} of the way to the fast weights, "
        "and the fast weights restart from them"
    ) in note


# --- SAM --------------------------------------------------------------------------------------


@pytest.mark.parametrize("step", [41, 42])  # the ascent and the descent of SAM step 21
def test_sam_draws_probe_and_descent(runs, step):
    t = runs["sam"]
    alpha, rho = t.hparams["learning_rate"], t.hparams["rho"]
    theta = np.asarray(t.path[40], dtype=np.float64)  # θ before SAM step 21 (updates 41, 42)
    g = rosen_grad(theta)
    probe = theta + rho * g / np.linalg.norm(g)
    descent_end = theta - alpha * rosen_grad(probe)
    sgd_end = theta - alpha * g
    np.testing.assert_allclose(t.path[41], probe, rtol=1e-4, atol=1e-5)  # the engine went there
    np.testing.assert_allclose(t.path[42], descent_end, rtol=1e-4, atol=1e-4)

    fig = valid(vi.internals_arrows_figure(SURFACE, t, step))
    assert fig.layout.title.text == "SAM (SGD): SAM step 21 (updates 41 and 42), up close"
    np.testing.assert_allclose(xy(trace(fig, "θ before SAM step 21"))[0], theta, rtol=1e-6)
    np.testing.assert_allclose(xy(trace(fig, "probe of SAM step 21"))[0], probe, rtol=1e-4, atol=1e-5)
    ascent = xy(trace(fig, "ascent: θ + ρ·g/‖g‖, uphill to the probe"))
    np.testing.assert_allclose(ascent, [theta, probe], rtol=1e-4, atol=1e-5)
    # "uphill": the loss rises from θ to the probe
    assert float(SURFACE.fn(probe[0], probe[1], {})) > float(SURFACE.fn(theta[0], theta[1], {}))
    # drawn to scale here (the steps are not short next to ρ): no factor in the names
    descent = xy(trace(fig, "descent: −α·∇f(probe), taken from θ"))
    np.testing.assert_allclose(descent, [theta, descent_end], rtol=1e-4, atol=1e-4)
    plain = xy(trace(fig, "plain SGD would step −α·∇f(θ)"))
    np.testing.assert_allclose(plain, [theta, sgd_end], rtol=1e-4, atol=1e-4)
    circle = xy(trace(fig, f"distance ρ = {rho:g} around θ"))
    np.testing.assert_allclose(np.linalg.norm(circle - theta, axis=1), rho, rtol=1e-4)
    # θ's sequence is every other position; the probes the others
    thetas = xy(trace(fig, "θ: SAM's weights (every other update)"))
    np.testing.assert_allclose(thetas, t.path[20:63:2], rtol=1e-6)
    probes = xy(trace(fig, "earlier and later probes"))
    np.testing.assert_allclose(probes, t.path[21:63:2], rtol=1e-6)
    assert (
        "one SAM step = two gradients: up to the probe, then down from θ with the probe's gradient"
        in fig.layout.annotations[0].text
    )
    # the claim: two gradients per SAM step, the second taken at the probe
    np.testing.assert_allclose(t.grads[40], g, rtol=1e-4)
    np.testing.assert_allclose(t.grads[41], rosen_grad(probe), rtol=1e-3)


def test_sam_small_steps_are_scaled_together(runs):
    t = run_batch(SURFACE, [RunConfig("sam", {"learning_rate": 1e-5, "rho": 0.2})], steps=20, noise=0.0)[0]
    fig = valid(vi.internals_arrows_figure(SURFACE, t, 20))  # the last update: a descent, pair 19-20
    assert "SAM step 10 (updates 19 and 20)" in fig.layout.title.text
    descent = next(d for d in fig.data if d.name.startswith("descent"))
    plain = next(d for d in fig.data if d.name.startswith("plain SGD"))
    factor = descent.name.split("(×")[1].rstrip(")")
    assert plain.name.endswith(f"(×{factor})")
    theta = np.asarray(t.path[18], dtype=np.float64)
    drawn = xy(descent)[1] - theta
    real = np.asarray(t.path[20], dtype=np.float64) - theta
    scale = np.linalg.norm(drawn) / np.linalg.norm(real)
    assert float(factor) == pytest.approx(scale, rel=5e-3)
    np.testing.assert_allclose(drawn / scale, real, rtol=1e-3, atol=1e-9)
    assert "scaled up by the same factor" in fig.layout.annotations[0].text


def test_sam_odd_last_step_falls_back_to_a_full_pair(runs):
    t = run_batch(SURFACE, [RunConfig("sam")], steps=21, noise=0.0)[0]
    fig = valid(vi.internals_arrows_figure(SURFACE, t, 21))
    assert "SAM step 10 (updates 19 and 20)" in fig.layout.title.text


# --- Prodigy ----------------------------------------------------------------------------------


def prodigy_d(t) -> np.ndarray:
    """Prodigy's d after each step, from the recorded gradients and positions (float64)."""
    hp = t.hparams
    b1, b2, d0, lr = hp["b1"], hp["b2"], hp["estim_lr0"], hp["learning_rate"]
    b3 = np.sqrt(b2)
    # θ₀ − θ_{t−1} as minus the sum of the recorded updates: the float32 positions lose the
    # first, tiny steps next to |θ| ≈ 1 (θ₀ − θ from them is 5-8 % off in the first steps).
    shift = -np.vstack([np.zeros(2), np.cumsum(np.asarray(t.updates, dtype=np.float64), axis=0)])
    d, s, r = d0, np.zeros(2), 0.0
    out = []
    for i, g in enumerate(np.asarray(t.grads, dtype=np.float64), start=1):
        eta = d * lr * np.sqrt(1 - b2**i) / (1 - b1**i)
        s = b3 * s + eta * d * g / d0
        r = b3 * r + (d / d0) * eta * float(np.dot(g, shift[i - 1]))
        d = max(d, r / np.sum(np.abs(s)))
        out.append(d)
    return np.array(out)


def test_prodigy_plots_its_estimate_d(runs):
    t = runs["prodigy"]
    fig = valid(vi.effective_step_figure(t, 80))
    d_tr = trace(fig, "d: Prodigy's step-size estimate (starts at d₀ = 1e-6, never shrinks)")
    assert d_tr.yaxis == "y2" and fig.layout.yaxis2.type == "log"
    steps = np.asarray(d_tr.x)
    d = np.asarray(d_tr.y, dtype=np.float64)
    reference = prodigy_d(t)
    np.testing.assert_allclose(d, reference[steps - 1], rtol=2e-3)
    # the legend's claims: it starts at d₀ and never shrinks (and here it grows a lot)
    assert steps[0] == 1 and d[0] == pytest.approx(1e-6, rel=1e-6)
    assert np.all(np.diff(reference) >= 0) and np.all(np.diff(d) >= 0)
    assert reference[-1] > 1e4 * reference[0]
    dist = trace(fig, "‖θ_t − θ₀‖: distance from the start")
    moved = np.linalg.norm(np.asarray(t.path[1:], dtype=np.float64) - t.path[0], axis=1)
    np.testing.assert_allclose(np.asarray(dist.y, dtype=np.float64), moved[np.asarray(dist.x) - 1], rtol=1e-5)
    # the per-coordinate step sizes are still there, below, and the step is marked in both panels
    assert {tr.name for tr in fig.data} >= {"x coordinate", "y coordinate"}
    assert sorted(s.xref for s in fig.layout.shapes if s.x0 == 80) == ["x", "x2"]


# --- nothing changes for the others ---------------------------------------------------------


def test_other_optimizers_keep_the_plain_drawing(runs):
    t = run_batch(SURFACE, [RunConfig("adam")], steps=60, noise=0.0)[0]
    fig = valid(vi.internals_arrows_figure(SURFACE, t, 30))
    assert [d.name for d in fig.data[1:]] == [
        "path",
        next(d.name for d in fig.data if d.name and d.name.startswith("−gradient")),
        next(d.name for d in fig.data if d.name and d.name.startswith("−m")),
        next(d.name for d in fig.data if d.name and d.name.startswith("actual update")),
        "position before update 30",
    ]
    assert fig.layout.height == 600
    side = valid(vi.effective_step_figure(t, 30))
    assert [d.name for d in side.data] == ["x coordinate", "y coordinate"]
    for key in ("sf_adamw", "lookahead", "prodigy", "sam"):
        valid(vi.moments_figure(runs[key], 30))
        valid(vi.effective_step_figure(runs[key], 30))


def rosen(p: np.ndarray) -> np.ndarray:
    x, y = p[..., 0], p[..., 1]
    return (1 - x) ** 2 + 100 * (y - x * x) ** 2


def test_sam_side_figure_plots_the_loss_rise_at_the_probe(runs):
    t = runs["sam"]
    fig = valid(vi.effective_step_figure(t, 41))
    tr = trace(fig, "f(probe) − f(θ): how much higher the loss is at the probe")
    path = np.asarray(t.path, dtype=np.float64)
    thetas, probes = path[0:STEPS:2], path[1:STEPS:2]
    np.testing.assert_array_equal(np.asarray(tr.x), np.arange(2, STEPS + 1, 2))
    np.testing.assert_allclose(
        np.asarray(tr.y, dtype=np.float64), rosen(probes) - rosen(thetas), rtol=1e-4, atol=1e-5
    )
    assert [s.x0 for s in fig.layout.shapes] == [42]  # update 41 belongs to the SAM step ending at 42
    # the claim "SAM's step sizes are fixed: ρ = 0.05 uphill, then α = 0.001 down", every SAM step
    assert (
        "SAM's step sizes are fixed: ρ = 0.05 uphill, then α = 0.001 down" in fig.layout.annotations[0].text
    )
    rho, alpha = t.hparams["rho"], t.hparams["learning_rate"]
    np.testing.assert_allclose(np.linalg.norm(probes - thetas, axis=1), rho, rtol=1e-4)
    assert np.all(rosen(probes) > rosen(thetas))  # uphill, as the map's legend says
    g_probe = np.array([rosen_grad(p) for p in probes])
    np.testing.assert_allclose(path[2 : STEPS + 1 : 2], thetas - alpha * g_probe, rtol=1e-4, atol=1e-4)
