"""Run labels: what sets two entries of the same optimizer apart, short and unique per setup."""

from __future__ import annotations

import itertools

import pytest

from optim_core import OPTIMIZERS
from playground.compute import MAX_LABEL_CHARS, entry_label
from playground.lessons import LESSONS_BY_SLUG, lesson_query
from playground.setup import Setup, from_query


def labels(setup: Setup) -> list[str]:
    return [entry_label(setup, i) for i in range(len(setup.optimizers))]


def setup_of(*optimizers: str) -> Setup:
    setup, warnings = from_query({"o": list(optimizers)})
    assert not warnings, warnings
    return setup


@pytest.mark.parametrize(
    ("slug", "expected"),
    [
        ("rosenbrock", ["SGD", "Momentum (heavy ball)", "Adam", "RMSprop"]),
        ("noise", ["SGD α=0.3", "SGD α=0.03"]),
        ("bias-correction", ["Adam", "Adam, no bias correction"]),
        ("extreme-eps-beta2", ["Adam", "Adam ε=1", "Adam β₂=0.5"]),
        ("frameworks", ["Adam (Keras)", "Adam (PyTorch)"]),
    ],
)
def test_lessons_name_what_differs(slug: str, expected: list[str]) -> None:
    setup, _ = from_query(lesson_query(LESSONS_BY_SLUG[slug]))
    assert labels(setup) == expected


def test_one_of_each_optimizer_is_just_its_name() -> None:
    assert labels(setup_of("sgd(learning_rate=0.3)", "adam(b1=0.5)")) == ["SGD", "Adam"]


def test_values_and_switches_together() -> None:
    got = labels(setup_of("adam(learning_rate=0.05)", "adam(learning_rate=0.001,bias_correction=0)"))
    assert got == ["Adam α=0.05", "Adam α=0.001, no bias correction"]


def test_exact_copies_are_numbered_and_every_label_is_unique() -> None:
    got = labels(setup_of("adam", "adam(learning_rate=0.05)", "adam", "adam", "sgd"))
    assert got == ["Adam", "Adam α=0.05", "Adam #2", "Adam #3", "SGD"]


def test_presets_go_inside_the_name_brackets() -> None:
    got = labels(setup_of("momentum", "momentum@keras"))
    assert got == ["Momentum (heavy ball, optax)", "Momentum (heavy ball, Keras)"]


def test_labels_stay_short_and_unique_for_many_differences() -> None:
    values = [("0.5", "0.9", "0.01"), ("0.6", "0.95", "0.1"), ("0.7", "0.99", "1")]
    entries = [
        f"adam(learning_rate=0.0{k + 1},b1={b1},b2={b2},eps={eps},bias_correction={k % 2})"
        for k, (b1, b2, eps) in enumerate(values)
    ]
    for combo in itertools.permutations([*entries, "adam@pytorch", "adam@keras"], 4):
        got = labels(setup_of(*combo))
        assert len(set(got)) == len(got), got
        assert all(len(label) <= MAX_LABEL_CHARS for label in got), got


@pytest.mark.parametrize("name", sorted(OPTIMIZERS))
def test_every_optimizer_twice_with_its_first_setting_changed(name: str) -> None:
    h = OPTIMIZERS[name].hyperparams[0]
    other = h.high if h.default != h.high else h.low
    setup = setup_of(name, f"{name}({h.name}={other:g})")
    first, second = labels(setup)
    assert first == OPTIMIZERS[name].label and second.startswith(OPTIMIZERS[name].label + " ")
    assert len(second) <= MAX_LABEL_CHARS
