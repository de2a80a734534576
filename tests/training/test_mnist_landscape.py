"""Loss-landscape slices: PCA directions, filter normalisation, projection, the loss grid."""

from __future__ import annotations

import jax
import jax.numpy as jnp
import numpy as np
import pytest

from training.landscape import (
    _grid_row_fn,
    compute_landscape,
    filter_normalize,
    loss_grid,
    pca_directions,
    project,
)
from training.models import get_model, loss_and_logits
from training.train import TrainConfig, flatten_params, train


@pytest.fixture(scope="module")
def run(sample):
    config = TrainConfig(model="mlp", epochs=2, train_size=640, val_size=500, snapshot_every=5)
    return train(["adam", "sgd", "momentum"], config, sample)


def test_pca_recovers_the_plane_of_planar_paths() -> None:
    rng = np.random.default_rng(0)
    a, b = np.zeros(50), np.zeros(50)
    a[3], b[7] = 1.0, 1.0
    coefs = rng.normal(size=(30, 2)) * [3.0, 1.0]
    u1, u2, ratio = pca_directions(coefs[:, :1] * a + coefs[:, 1:] * b)
    for u in (u1, u2):  # both directions lie in span(a, b) ...
        assert np.linalg.norm(u[[3, 7]]) == pytest.approx(1.0, abs=1e-6)
    assert abs(u1[3]) > 0.9 and abs(u1 @ u2) < 1e-6  # ... the first along the wider axis
    assert ratio[0] > ratio[1] and sum(ratio) == pytest.approx(1.0)


def test_pca_with_a_single_movement_still_gives_two_directions() -> None:
    deltas = np.outer(np.arange(4.0), np.ones(10))
    u1, u2, ratio = pca_directions(deltas)
    assert abs(u1 @ u2) < 1e-6 and np.linalg.norm(u2) == pytest.approx(1.0, abs=1e-6)
    assert ratio[1] == 0.0


def test_filter_normalization_matches_filter_norms() -> None:
    like = get_model("cnn").init(jax.random.key(0))
    center = flatten_params(like)
    d = np.random.default_rng(1).normal(size=center.size).astype(np.float32)
    out = filter_normalize(d, center, like)
    from training.train import unflatten_params

    tree, ctree = unflatten_params(out, like), unflatten_params(center, like)
    for name in tree:
        w, cw = tree[name]["w"], ctree[name]["w"]
        axes = tuple(range(w.ndim - 1))
        np.testing.assert_allclose(
            np.linalg.norm(w.reshape(-1, w.shape[-1]), axis=0), np.sqrt((cw**2).sum(axis=axes)), rtol=1e-4
        )
        assert not np.any(tree[name]["b"])  # biases ignored, as in the paper


def test_projection_of_points_in_the_plane_is_exact() -> None:
    rng = np.random.default_rng(2)
    center, d1, d2 = rng.normal(size=(3, 40))
    coefs = rng.normal(size=(6, 2))
    pts = center + coefs @ np.stack([d1, d2])
    got, resid = project(pts, center, d1, d2)
    np.testing.assert_allclose(got, coefs, atol=1e-8)
    assert np.all(resid < 1e-8)
    off, resid = project(center[None] + rng.normal(size=(1, 40)), center, d1, d2)
    assert 0 < resid[0] <= 1


def test_loss_grid_matches_direct_evaluation(sample) -> None:
    model = get_model("mlp")
    like = model.init(jax.random.key(0))
    center = flatten_params(like)
    rng = np.random.default_rng(3)
    d1, d2 = (0.01 * rng.normal(size=center.size).astype(np.float32) for _ in range(2))
    x, y = sample.x_train[:200], sample.y_train[:200]
    rows = []
    grid = loss_grid(
        "mlp",
        center,
        d1,
        d2,
        like,
        x,
        y,
        np.array([0.0, 1.0, -2.0]),
        np.array([0.0, 0.5]),
        progress=lambda done, n: rows.append((done, n)),
    )
    assert grid.shape == (2, 3) and rows == [(1, 2), (2, 2)]
    from training.train import unflatten_params

    xf, yj = jnp.asarray(x, jnp.float32) / 255.0, jnp.asarray(y)
    for j, b in enumerate([0.0, 0.5]):
        for i, a in enumerate([0.0, 1.0, -2.0]):
            p = unflatten_params(center + a * d1 + b * d2, like)
            want = float(loss_and_logits(model, jax.tree.map(jnp.asarray, p), xf, yj)[0])
            assert grid[j, i] == pytest.approx(want, rel=1e-4)
    before = _grid_row_fn("mlp")._cache_size()
    loss_grid("mlp", center, d2, d1, like, x, y, np.array([0.3, 0.1, 0.2]), np.array([1.0]))
    assert _grid_row_fn("mlp")._cache_size() == before  # new values, same program


@pytest.mark.parametrize("normalize", ["filter", "none"])
def test_compute_landscape_end_to_end(run, sample, normalize: str) -> None:
    ticks = []
    land = compute_landscape(
        run, sample, resolution=7, subset=300, normalize=normalize, progress=lambda d, n: ticks.append(d)
    )
    assert land.loss.shape == (7, 7) and np.all(np.isfinite(land.loss))
    assert ticks == list(range(1, 8))
    assert set(land.paths) == {r.label for r in run.runs}
    best = min(run.runs, key=lambda r: r.epochs[-1].val_loss)
    assert best.label in land.center
    for r in run.runs:
        path = land.paths[r.label]
        assert path.shape == (len(r.snapshot_steps), 2) == (5, 2)
        assert land.path_loss[r.label].shape == (5,)
        # the shared start is one point on the plane for every run
        np.testing.assert_allclose(path[0], land.paths[run.runs[0].label][0], atol=1e-5)
        # paths lie inside the grid
        assert land.alphas[0] <= path[:, 0].min() and path[:, 0].max() <= land.alphas[-1]
        assert land.betas[0] <= path[:, 1].min() and path[:, 1].max() <= land.betas[-1]
    np.testing.assert_allclose(land.paths[best.label][-1], [0.0, 0.0], atol=1e-6)
    assert land.path_loss[best.label][-1] < land.path_loss[best.label][0]
    assert 0.5 < sum(land.explained_variance) <= 1.0 + 1e-9
    d = land.to_dict()
    assert len(d["loss"]) == 7 and d["normalize"] == normalize


def test_landscape_rejects_bad_options(run, sample) -> None:
    with pytest.raises(ValueError, match="normalize"):
        compute_landscape(run, sample, normalize="layer")
    with pytest.raises(ValueError, match="center"):
        compute_landscape(run, sample, resolution=5, center="nobody")


def test_landscape_figure(run, sample) -> None:
    from viz.training import landscape_figure

    land = compute_landscape(run, sample, resolution=5, subset=100)
    fig = landscape_figure(land)
    assert fig.data[0].type == "contour" and np.asarray(fig.data[0].z).shape == (5, 5)
    names = [t.name for t in fig.data[1:]]
    assert names == [r.label for r in run.runs] + ["start", "center"]
