"""Metric definitions on hand-made paths."""

from __future__ import annotations

import math

import numpy as np

from optim_core.metrics import compute_metrics, oscillation_index
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
