"""The named surfaces against independent float64 NumPy references of the published formulas."""

from __future__ import annotations

import math

import jax
import jax.numpy as jnp
import numpy as np
import pytest

from surfaces import SURFACES, Surface, get_surface

EXPECTED_ORDER = [
    "rosenbrock",
    "saddle",
    "monkey_saddle",
    "noisy_bowl",
    "ravine",
    "beale",
    "himmelblau",
    "rastrigin",
    "ackley",
    "booth",
    "goldstein_price",
    "six_hump_camel",
]


# Written again from the literature, in float64, sharing no code with surfaces/catalog.py.
def _ravine(x, y, p):
    theta = math.radians(p["angle"])
    u = math.cos(theta) * x + math.sin(theta) * y
    v = -math.sin(theta) * x + math.cos(theta) * y
    return 0.5 * (u**2 + p["condition"] * v**2)


REFERENCE = {
    "rosenbrock": lambda x, y, p: (1 - x) ** 2 + 100 * (y - x**2) ** 2,
    "saddle": lambda x, y, p: x**2 - y**2,
    "monkey_saddle": lambda x, y, p: x**3 - 3 * x * y**2,
    "noisy_bowl": lambda x, y, p: (x**2 + y**2) / 2,
    "ravine": _ravine,
    "beale": lambda x, y, p: (
        (1.5 - x + x * y) ** 2 + (2.25 - x + x * y**2) ** 2 + (2.625 - x + x * y**3) ** 2
    ),
    "himmelblau": lambda x, y, p: (x**2 + y - 11) ** 2 + (x + y**2 - 7) ** 2,
    "rastrigin": lambda x, y, p: (
        20 + (x**2 - 10 * np.cos(2 * np.pi * x)) + (y**2 - 10 * np.cos(2 * np.pi * y))
    ),
    "ackley": lambda x, y, p: (
        -20 * np.exp(-0.2 * np.sqrt(0.5 * (x**2 + y**2)))
        - np.exp(0.5 * (np.cos(2 * np.pi * x) + np.cos(2 * np.pi * y)))
        + np.e
        + 20
    ),
    "booth": lambda x, y, p: (x + 2 * y - 7) ** 2 + (2 * x + y - 5) ** 2,
    "goldstein_price": lambda x, y, p: (
        (1 + (x + y + 1) ** 2 * (19 - 14 * x + 3 * x**2 - 14 * y + 6 * x * y + 3 * y**2))
        * (30 + (2 * x - 3 * y) ** 2 * (18 - 32 * x + 12 * x**2 + 48 * y - 36 * x * y + 27 * y**2))
    ),
    "six_hump_camel": lambda x, y, p: (4 - 2.1 * x**2 + x**4 / 3) * x**2 + x * y + (-4 + 4 * y**2) * y**2,
}

# Published global minima and minimum values (Himmelblau: all four).
PUBLISHED = {
    "rosenbrock": ([(1.0, 1.0)], 0.0),
    "noisy_bowl": ([(0.0, 0.0)], 0.0),
    "ravine": ([(0.0, 0.0)], 0.0),
    "beale": ([(3.0, 0.5)], 0.0),
    "himmelblau": (
        [(3.0, 2.0), (-2.805118, 3.131312), (-3.779310, -3.283186), (3.584428, -1.848126)],
        0.0,
    ),
    "rastrigin": ([(0.0, 0.0)], 0.0),
    "ackley": ([(0.0, 0.0)], 0.0),
    "booth": ([(1.0, 3.0)], 0.0),
    "goldstein_price": ([(0.0, -1.0)], 3.0),
    "six_hump_camel": ([(0.0898, -0.7126), (-0.0898, 0.7126)], -1.0316),
}
SADDLES = ["saddle", "monkey_saddle"]

RAVINE_SETTINGS = [
    {"condition": 50.0, "angle": 0.0},
    {"condition": 1.0, "angle": 0.0},
    {"condition": 1000.0, "angle": 30.0},
    {"condition": 7.0, "angle": -75.0},
]


def _param_settings(name: str) -> list[dict[str, float]]:
    return RAVINE_SETTINGS if name == "ravine" else [{}]


def _sample_points(surface: Surface, count: int = 6, seed: int = 0) -> np.ndarray:
    (xmin, xmax), (ymin, ymax) = surface.domain
    rng = np.random.default_rng(seed)
    points = np.column_stack([rng.uniform(xmin, xmax, count), rng.uniform(ymin, ymax, count)])
    return np.vstack([points, np.asarray(surface.start)[None, :]])


# Every evaluation below runs on this one batch shape, padded: each new shape would compile every
# operation again, and compiling is most of the cost of these tests.
_BATCH = 32


def _pad(values: np.ndarray) -> np.ndarray:
    assert len(values) <= _BATCH
    return np.concatenate([values, np.repeat(values[-1:], _BATCH - len(values), axis=0)])


def _grad(surface: Surface, points, params: dict[str, float], dtype=np.float64) -> np.ndarray:
    """jax.grad of the surface at one point (2,) or many (n, 2), in float64 by default (x64
    enabled for this call only)."""
    points = np.asarray(points, np.float64)
    batch = np.atleast_2d(points)
    with jax.enable_x64(dtype == np.float64):
        p = {k: jnp.asarray(v, dtype) for k, v in surface.resolve_params(params).items()}
        grads = jax.vmap(jax.grad(surface.loss_xy), in_axes=(0, None))(jnp.asarray(_pad(batch), dtype), p)
        grads = np.asarray(grads, np.float64)[: len(batch)]
    return grads if points.ndim == 2 else grads[0]


def _value64(surface: Surface, x, y, params: dict[str, float]) -> np.ndarray:
    x, y = np.broadcast_arrays(np.asarray(x, np.float64), np.asarray(y, np.float64))
    with jax.enable_x64(True):
        p = {k: jnp.asarray(v, jnp.float64) for k, v in surface.resolve_params(params).items()}
        out = surface.fn(jnp.asarray(_pad(x.ravel())), jnp.asarray(_pad(y.ravel())), p)
        return np.asarray(out)[: x.size].reshape(x.shape)


def _central_difference(reference, point, params: dict[str, float], h: float) -> np.ndarray:
    x, y = float(point[0]), float(point[1])
    return np.array(
        [
            (reference(x + h, y, params) - reference(x - h, y, params)) / (2 * h),
            (reference(x, y + h, params) - reference(x, y - h, params)) / (2 * h),
        ]
    )


def test_registry_order_keys_and_types():
    assert list(SURFACES) == EXPECTED_ORDER
    for key, surface in SURFACES.items():
        assert isinstance(surface, Surface)
        assert surface.key == key
        assert get_surface(key) is surface


@pytest.mark.parametrize("name", EXPECTED_ORDER)
def test_metadata_is_complete_and_consistent(name):
    surface = SURFACES[name]
    for text in (surface.label, surface.latex, surface.description):
        assert text.strip() and "\n" not in text
    (xmin, xmax), (ymin, ymax) = surface.domain
    assert xmin < xmax and ymin < ymax
    sx, sy = surface.start
    assert xmin < sx < xmax and ymin < sy < ymax
    for mx, my in surface.minima:
        assert xmin < mx < xmax and ymin < my < ymax
    for param in surface.params:
        assert param.low <= param.default <= param.high
    assert surface.default_noise == (0.5 if name == "noisy_bowl" else 0.0)
    expected_min = PUBLISHED[name][1] if name in PUBLISHED else None
    if expected_min is None:
        assert surface.extra["min_value"] is None
    else:
        assert surface.extra["min_value"] == pytest.approx(expected_min, abs=1e-4)


def test_log_colours_where_the_range_is_huge():
    logged = {name for name, s in SURFACES.items() if s.log_colors}
    assert logged == {"rosenbrock", "beale", "himmelblau", "goldstein_price"}
    # Those with negative values cannot be drawn on a plain log scale; none is flagged.
    for name in SADDLES + ["six_hump_camel"]:
        assert not SURFACES[name].log_colors


@pytest.mark.parametrize("name", EXPECTED_ORDER)
def test_values_match_reference_in_float64_and_float32(name):
    surface = SURFACES[name]
    points = _sample_points(surface)
    x, y = points[:, 0], points[:, 1]
    for params in _param_settings(name):
        full = surface.resolve_params(params)
        expected = REFERENCE[name](x, y, full)
        np.testing.assert_allclose(_value64(surface, x, y, params), expected, rtol=1e-12, atol=1e-12)
        got32 = np.asarray(surface.value(_pad(x), _pad(y), params))[: len(x)]
        assert got32.dtype == np.float32
        np.testing.assert_allclose(got32.astype(np.float64), expected, rtol=2e-5, atol=2e-4)


@pytest.mark.parametrize("name", EXPECTED_ORDER)
def test_gradients_match_central_differences(name):
    surface = SURFACES[name]
    (xmin, xmax), _ = surface.domain
    h = 1e-6 * (xmax - xmin)
    for params in _param_settings(name):
        full = surface.resolve_params(params)
        points = _sample_points(surface, count=5, seed=1)
        got = _grad(surface, points, params)
        for point, grad in zip(points, got, strict=True):
            expected = _central_difference(REFERENCE[name], point, full, h)
            value = abs(REFERENCE[name](point[0], point[1], full))
            # Finite-difference error: O(h^2) plus rounding of about eps * |f| / h.
            np.testing.assert_allclose(grad, expected, rtol=1e-6, atol=1e-7 * (1 + value))


@pytest.mark.parametrize("name", EXPECTED_ORDER)
def test_float32_gradients_are_close_to_float64(name):
    surface = SURFACES[name]
    points = _sample_points(surface, count=4, seed=2)
    got = _grad(surface, points, {}, dtype=np.float32)
    expected = _grad(surface, points, {})
    scale = 1 + np.abs(expected).max(axis=1, keepdims=True)
    assert np.all(np.abs(got - expected) <= 1e-3 * np.abs(expected) + 1e-3 * scale)


@pytest.mark.parametrize("name", sorted(PUBLISHED))
def test_known_minima_are_the_published_minima(name):
    surface = SURFACES[name]
    published_points, published_value = PUBLISHED[name]
    assert len(surface.minima) == len(published_points)
    for expected in published_points:
        distances = [math.dist(expected, m) for m in surface.minima]
        assert min(distances) < 1e-3, f"{name}: no listed minimum near {expected}"


@pytest.mark.parametrize("name", sorted(PUBLISHED))
def test_each_minimum_is_a_minimum(name):
    surface = SURFACES[name]
    (xmin, xmax), (ymin, ymax) = surface.domain
    radius = 1e-3 * max(xmax - xmin, ymax - ymin)
    angles = np.linspace(0.0, 2 * np.pi, 16, endpoint=False)
    _, published_value = PUBLISHED[name]
    for params in _param_settings(name):
        assert np.all(np.linalg.norm(_grad(surface, surface.minima, params), axis=1) < 1e-3)
        for mx, my in surface.minima:
            centre = float(_value64(surface, mx, my, params))
            ring = _value64(surface, mx + radius * np.cos(angles), my + radius * np.sin(angles), params)
            assert np.all(ring >= centre - 1e-12), f"{name}: lower point next to {(mx, my)}"
            assert centre == pytest.approx(published_value, abs=1e-4)
            value32 = float(surface.value(mx, my, params))
            assert value32 == pytest.approx(published_value, abs=1e-4 * (1 + abs(published_value)))


@pytest.mark.parametrize("name", sorted(PUBLISHED))
def test_nothing_on_the_domain_is_lower_than_the_global_minimum(name):
    surface = SURFACES[name]
    (xmin, xmax), (ymin, ymax) = surface.domain
    grid_x, grid_y = np.meshgrid(np.linspace(xmin, xmax, 301), np.linspace(ymin, ymax, 301))
    lowest = REFERENCE[name](grid_x, grid_y, surface.default_params()).min()
    assert lowest >= PUBLISHED[name][1] - 1e-4


@pytest.mark.parametrize("name", SADDLES)
def test_saddles_have_a_stationary_point_that_is_no_minimum(name):
    surface = SURFACES[name]
    assert surface.minima == ()
    np.testing.assert_allclose(_grad(surface, (0.0, 0.0), {}), 0.0, atol=1e-12)
    angles = np.linspace(0.0, 2 * np.pi, 24, endpoint=False)
    ring = _value64(surface, 0.1 * np.cos(angles), 0.1 * np.sin(angles), {})
    assert ring.min() < 0.0 < ring.max()  # downhill and uphill both ways out of the origin


@pytest.mark.parametrize("name", EXPECTED_ORDER)
def test_start_points_are_away_from_minima_and_not_stuck(name):
    surface = SURFACES[name]
    (xmin, xmax), (ymin, ymax) = surface.domain
    diagonal = math.hypot(xmax - xmin, ymax - ymin)
    for minimum in surface.minima:
        assert math.dist(surface.start, minimum) > 0.1 * diagonal
    assert np.isfinite(float(surface.value(*surface.start)))
    assert np.linalg.norm(_grad(surface, surface.start, {})) > 1e-3


_RAVINE_HESSIAN = jax.jit(jax.hessian(SURFACES["ravine"].loss_xy))  # parameters are traced


@pytest.mark.parametrize("params", RAVINE_SETTINGS)
def test_ravine_has_the_requested_condition_number_and_angle(params):
    with jax.enable_x64(True):
        p = {k: jnp.float64(v) for k, v in params.items()}
        hessian = np.asarray(_RAVINE_HESSIAN(jnp.zeros(2, jnp.float64), p))
    eigenvalues, eigenvectors = np.linalg.eigh(hessian)
    assert eigenvalues[1] / eigenvalues[0] == pytest.approx(params["condition"], rel=1e-9)
    assert eigenvalues[0] == pytest.approx(1.0, rel=1e-9)  # along the valley
    if params["condition"] > 1.0:
        along = eigenvectors[:, 0]
        angle = math.degrees(math.atan2(along[1], along[0]))
        difference = (angle - params["angle"] + 90.0) % 180.0 - 90.0  # direction, not sign
        assert abs(difference) < 1e-6


def test_ravine_parameters_are_traced_not_compiled_in():
    surface = SURFACES["ravine"]
    traces = []

    @jax.jit
    def grad_at(xy, params):
        traces.append(None)
        return jax.grad(surface.loss_xy)(xy, params)

    xy = jnp.asarray([1.0, 1.0])
    grads = [
        grad_at(xy, {k: jnp.float32(v) for k, v in surface.resolve_params(p).items()})
        for p in RAVINE_SETTINGS
    ]
    assert len(traces) == 1
    # ... and the parameter values do reach the function.
    assert not np.allclose(grads[0], grads[2])


def test_out_of_range_surface_parameters_are_rejected():
    with pytest.raises(ValueError, match="condition"):
        SURFACES["ravine"].value(0.0, 0.0, {"condition": 0.5})
    with pytest.raises(ValueError, match="no parameter"):
        SURFACES["rosenbrock"].value(0.0, 0.0, {"condition": 5.0})


@pytest.mark.parametrize("name", EXPECTED_ORDER)
def test_functions_work_elementwise_on_grids(name):
    surface = SURFACES[name]
    (xmin, xmax), (ymin, ymax) = surface.domain
    row = np.linspace(xmin, xmax, 7)[None, :]
    column = np.linspace(ymin, ymax, 5)[:, None]
    # A row against a column broadcasts to the whole grid, as a meshgrid would.
    values = np.asarray(surface.value(row, column))
    assert values.shape == (5, 7) and values.dtype == np.float32
    assert np.all(np.isfinite(values))
    grid_x, grid_y = np.meshgrid(row.astype(np.float32), column.astype(np.float32))
    expected = REFERENCE[name](grid_x.astype(np.float64), grid_y.astype(np.float64), surface.default_params())
    np.testing.assert_allclose(values, expected, rtol=2e-5, atol=2e-4)


def test_ackley_gradient_is_finite_at_its_cusp():
    grad = _grad(SURFACES["ackley"], [(0.0, 0.0)], {}, dtype=np.float32)
    np.testing.assert_array_equal(grad, 0.0)
