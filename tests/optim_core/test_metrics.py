"""Metric definitions on hand-made paths."""

from __future__ import annotations

import math

import numpy as np
import pytest

from optim_core.metrics import compute_metrics, oscillation_index, steepest_directions, zigzag_index
from optim_core.trajectory import Trajectory
from surfaces import SURFACES


def make(path, surface):
    path = np.asarray(path, np.float32)
    loss = np.asarray(surface.value(path[:, 0], path[:, 1]), np.float32)
    steps = len(path) - 1
    updates = np.diff(path, axis=0)
    return Trajectory("sgd", "SGD", {}, path, loss, np.zeros((steps, 2)), updates, np.zeros(steps))


def test_straight_path_has_ratio_one_and_no_oscillation():
    surface = SURFACES["booth"]  # minimum at (1, 3)
    m = compute_metrics(make([[1, 0], [1, 1], [1, 2], [1, 3]], surface), surface, tol=1e-6)
    assert math.isclose(m.path_length, 3.0, rel_tol=1e-6)
    assert math.isclose(m.path_ratio, 1.0, rel_tol=1e-6)
    assert m.oscillation == 0.0
    assert m.final_distance < 1e-6 and m.steps_to_tol == 3 and m.diverged_at is None


def test_zigzag_oscillates():
    surface = SURFACES["booth"]
    zig = [[0, 0], [1, 1], [2, 0], [3, 1], [4, 0]]
    m = compute_metrics(make(zig, surface), surface)
    assert m.oscillation == 0.0  # turns of exactly 90 degrees are not reversals
    assert oscillation_index(np.array([[1, 0], [-1, 0.1], [1, 0], [-1, 0]])) == 1.0
    assert oscillation_index(np.array([[1, 0], [1, 0.5], [-1, 0], [-1, 0]])) == 1 / 3
    assert math.isclose(m.path_ratio, 4 * math.sqrt(2) / 4, rel_tol=1e-6)


def test_no_minima_gives_nan_distance_and_no_tolerance():
    surface = SURFACES["saddle"]
    m = compute_metrics(make([[1, 0.1], [1, 0.2]], surface), surface)
    assert math.isnan(m.final_distance) and m.steps_to_tol is None


# --- zig-zag: reversals across the valley ----------------------------------------------------


def ravine_path(points, angle=0.0, condition=50.0):
    surface = SURFACES["ravine"]
    params = {"condition": condition, "angle": angle}
    path = np.asarray(points, np.float64)
    return path, surface, params


def test_zigzag_by_hand_on_an_axis_aligned_ravine():
    # Across the valley is y (curvature 50 vs 1). Steps (1, -2), (1, 1.5), (1, 0): the first
    # pair reverses across the valley and undoes min(2, 1.5) = 1.5; the second does not reverse.
    path, surface, params = ravine_path([[0, 1], [1, -1], [2, 0.5], [3, 0.5]])
    length = math.sqrt(5) + math.sqrt(3.25) + 1
    assert math.isclose(zigzag_index(path, surface, params), 1.5 / length, rel_tol=1e-6)


def test_zigzag_sees_what_the_turn_count_misses():
    # Each step goes 1 along the valley and ±0.8 across it: every turn is below 90°, so the old
    # oscillation index is 0, but every step undoes the previous one across the valley.
    across = [0.4 * (-1) ** k for k in range(21)]
    path, surface, params = ravine_path([[k, a] for k, a in enumerate(across)])
    assert oscillation_index(np.diff(path, axis=0)) == 0.0
    length = 20 * math.hypot(1, 0.8)
    assert math.isclose(zigzag_index(path, surface, params), 19 * 0.8 / length, rel_tol=1e-6)


def test_zigzag_is_zero_for_steady_paths_and_near_one_for_pure_bouncing():
    straight, surface, params = ravine_path([[-2 + 0.1 * k, 1 - 0.05 * k] for k in range(20)])
    assert zigzag_index(straight, surface, params) == 0.0
    bounce, surface, params = ravine_path([[1, (-1) ** k] for k in range(101)])
    assert zigzag_index(bounce, surface, params) == pytest.approx(99 / 100)


def test_zigzag_follows_the_valley_when_it_is_turned():
    points = np.array([[k, 0.4 * (-1) ** k] for k in range(21)], np.float64)
    turned = points @ np.array([[math.cos(0.6), math.sin(0.6)], [-math.sin(0.6), math.cos(0.6)]])
    surface = SURFACES["ravine"]
    flat = zigzag_index(points, surface, {"condition": 50.0, "angle": 0.0})
    assert zigzag_index(turned, surface, {"condition": 50.0, "angle": math.degrees(0.6)}) == pytest.approx(
        flat, rel=1e-4
    )
    # Measured against the wrong valley direction the same path does not look like a zig-zag.
    assert zigzag_index(turned, surface, {"condition": 50.0, "angle": math.degrees(0.6) - 90}) < 0.1


def test_steepest_directions_match_the_hessian_on_rosenbrock():
    surface = SURFACES["rosenbrock"]
    points = np.array([[-1.2, 1.0], [0.0, 0.0], [1.0, 1.0], [0.5, -0.5]])
    dirs = steepest_directions(surface, points)
    for (x, y), d in zip(points, dirs):
        hess = np.array([[2 - 400 * (y - x**2) + 800 * x**2, -400 * x], [-400 * x, 200.0]])
        w, v = np.linalg.eigh(hess)
        assert abs(np.dot(d, v[:, -1])) == pytest.approx(1.0, abs=1e-4)


def test_zigzag_in_compute_metrics_and_its_row():
    surface = SURFACES["ravine"]
    params = {"condition": 50.0, "angle": 0.0}
    path = np.array([[1, (-1) ** k] for k in range(11)], np.float32)
    loss = np.asarray(surface.value(path[:, 0], path[:, 1], params), np.float32)
    traj = Trajectory("sgd", "SGD", {}, path, loss, np.zeros((10, 2)), np.diff(path, axis=0), np.zeros(10))
    m = compute_metrics(traj, surface, surface_params=params)
    assert m.zigzag == pytest.approx(0.9)
    assert m.as_row()["zigzag"] == m.zigzag
