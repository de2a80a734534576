"""Every lesson is a valid setup, and every sentence it claims holds where a teacher would look.

A claim is checked on the runs the Playground shows (`from_query(lesson.query)` and the batched
engine, the same path as `run_setup`), at the lesson's setup and with the start's x, the start's
y and every learning rate at ×0.9 and ×1.1 (one at a time), over ten noise seeds where the lesson
has noise.
"""

from __future__ import annotations

import itertools
import math

import numpy as np
import pytest

from playground.compute import run_setup
from playground.lesson_runs import NOISE_SEEDS, check_claim, lesson_setup, run_setups, variant_setups
from playground.lessons import LESSONS, LESSONS_BY_SLUG, Lesson, lesson_query
from playground.setup import from_query

CLAIMS = [(lesson, claim) for lesson in LESSONS for claim in lesson.claims]


def test_seven_lessons_with_unique_slugs_each_with_a_claim() -> None:
    assert len(LESSONS) == 7
    assert len({lesson.slug for lesson in LESSONS}) == len(LESSONS)
    assert all(lesson.claims for lesson in LESSONS)


@pytest.mark.parametrize("lesson", LESSONS, ids=lambda lesson: lesson.slug)
def test_lesson_link_loads_cleanly_and_starts_inside_the_domain(lesson: Lesson) -> None:
    setup, warnings = from_query(lesson_query(lesson))
    assert warnings == []
    result = run_setup(setup)
    (x0, x1), (y0, y1) = result.surface.domain
    x, y = setup.resolved_start()
    assert x0 <= x <= x1 and y0 <= y <= y1
    assert len(result.trajectories) == len(lesson.query["o"]) >= 2
    assert lesson.summary
    # The page shows every claim, word for word.
    for claim in lesson.claims:
        assert claim.text in lesson.look_for


@pytest.mark.parametrize(
    ("lesson", "claim"),
    CLAIMS,
    ids=[f"{lesson.slug}-{i}" for lesson in LESSONS for i, _ in enumerate(lesson.claims)],
)
def test_claim_holds_at_the_setup_and_nudged_by_ten_percent(lesson, claim) -> None:
    report = check_claim(lesson, claim)
    setup = lesson_setup(lesson, claim)
    assert report.runs == 7 * (len(NOISE_SEEDS) if setup.noise > 0 else 1)
    assert report.failures == (), f"{lesson.slug}: {claim.text}\n{report.failures}"


def test_the_nudged_variants_are_what_the_brief_asks_for() -> None:
    lesson = LESSONS_BY_SLUG["rosenbrock"]
    setup = lesson_setup(lesson)
    variants = dict(variant_setups(setup))
    assert len(variants) == 7
    x, y = setup.resolved_start()
    assert variants["x0×0.9"].resolved_start() == pytest.approx((0.9 * x, y))
    assert variants["y0×1.1"].resolved_start() == pytest.approx((x, 1.1 * y))
    for base, nudged in zip(setup.optimizers, variants["lr×1.1"].optimizers):
        assert nudged.hparams["learning_rate"] == pytest.approx(1.1 * base.hparams["learning_rate"])
        assert {k: v for k, v in nudged.hparams.items() if k != "learning_rate"} == {
            k: v for k, v in base.hparams.items() if k != "learning_rate"
        }
    noisy = variant_setups(lesson_setup(LESSONS_BY_SLUG["noise"]))
    assert len(noisy) == 7 * len(NOISE_SEEDS)
    assert {s.seed for _, s in noisy} == set(NOISE_SEEDS)


@pytest.mark.parametrize("slug", ["saddle", "frameworks"])
def test_the_batched_runs_are_the_runs_the_page_shows(slug: str) -> None:
    setup = lesson_setup(LESSONS_BY_SLUG[slug])
    nudged = dict(variant_setups(setup))
    setups = [setup, nudged[next(iter(nudged))], *list(nudged.values())[1:3]]
    batched = run_setups(setups)
    for one, many in zip((run_setup(s) for s in setups), batched):
        assert [t.label for t in one.trajectories] == [t.label for t in many.trajectories]
        for a, b in zip(one.trajectories, many.trajectories):
            np.testing.assert_allclose(a.path, b.path, rtol=1e-5, atol=1e-6)
        assert [m.steps_to_tol for m in one.metrics] == [m.steps_to_tol for m in many.metrics]


# --- the checks can fail: the same claims on setups that contradict them ------------------------


def _with_optimizers(lesson: Lesson, *entries: str) -> dict[str, object]:
    return {**lesson.query, "o": list(entries)}


@pytest.mark.parametrize(
    ("slug", "entries"),
    [
        # momentum at SGD's settings reaches nothing faster and SGD never zig-zags
        ("ravine", ("sgd(learning_rate=0.005)", "momentum(learning_rate=0.0005,momentum=0.5)")),
        # the "uncorrected" run corrected too: same first step, reaches the minimum
        ("bias-correction", ("adam(learning_rate=0.2)", "adam(learning_rate=0.2)")),
        # both PyTorch: no difference to see
        ("frameworks", ("adam(learning_rate=0.05)@pytorch", "adam(learning_rate=0.05)@pytorch")),
        # the default Adam three times: no slow ε, no wandering β₂
        ("extreme-eps-beta2", ("adam(learning_rate=0.05)",) * 3),
        # RMSprop given Adam's place: it does not reach the minimum
        (
            "rosenbrock",
            (
                "sgd(learning_rate=0.001)",
                "momentum(learning_rate=0.001)",
                "rmsprop(learning_rate=0.005)",
                "rmsprop(learning_rate=0.005)",
            ),
        ),
        # two equal steps: neither is faster nor steadier
        ("noise", ("sgd(learning_rate=0.3)", "sgd(learning_rate=0.3)")),
        # SGD in momentum's place: not out within 35 steps
        ("saddle", ("sgd(learning_rate=0.05)", "sgd(learning_rate=0.05)", "adam(learning_rate=0.05)")),
    ],
)
def test_each_check_rejects_a_setup_that_contradicts_its_claim(slug, entries) -> None:
    lesson = LESSONS_BY_SLUG[slug]
    setup, warnings = from_query(_with_optimizers(lesson, *entries))
    assert warnings == []
    assert not lesson.claims[0].check(run_setup(setup))


CHANGED = [(lesson, claim) for lesson, claim in CLAIMS if claim.changes]


@pytest.mark.parametrize(
    ("lesson", "claim"),
    CHANGED,
    ids=[f"{lesson.slug}-{'-'.join(claim.changes)}" for lesson, claim in CHANGED],
)
def test_claims_about_a_changed_setting_do_not_hold_without_the_change(lesson, claim) -> None:
    """'Set σ to 0', 'raise the steps', 'switch to cosine': the change is what makes them true."""
    assert not claim.check(run_setup(lesson_setup(lesson)))


# --- what the pictures show ------------------------------------------------------------------


def _hausdorff(a: np.ndarray, b: np.ndarray) -> float:
    a = a[np.all(np.isfinite(a), axis=1)]
    b = b[np.all(np.isfinite(b), axis=1)]
    d = np.linalg.norm(a[:, None, :] - b[None, :, :], axis=-1)
    return float(max(d.min(axis=1).max(), d.min(axis=0).max()))


def test_rosenbrock_paths_differ_by_a_visible_margin() -> None:
    """No path hides under another: each pair is at least 0.1 apart somewhere (2.5 % of the
    plot's width, about 15 pixels on the page), in every nudged variant."""
    lesson = LESSONS_BY_SLUG["rosenbrock"]
    variants = variant_setups(lesson_setup(lesson))
    for (name, _), run in zip(variants, run_setups([s for _, s in variants])):
        for a, b in itertools.combinations(run.trajectories, 2):
            gap = _hausdorff(a.path[::2], b.path[::2])
            assert gap > 0.1, f"{name}: {a.label} and {b.label} are only {gap:.3f} apart"
        adam, rmsprop = run.trajectories[2], run.trajectories[3]
        assert np.linalg.norm(adam.path[-1] - rmsprop.path[-1]) > 0.1


def test_ravine_zigzag_is_what_the_text_points_to() -> None:
    """SGD's reversals across the valley show in the zig-zag metric, not in the old oscillation
    index (each of its steps also moves along the valley, so few turn by more than 90°)."""
    run = run_setup(lesson_setup(LESSONS_BY_SLUG["ravine"]))
    sgd = run.metrics[0]
    assert sgd.zigzag > 0.25 and sgd.oscillation < 0.25
    assert "zig-zag" in LESSONS_BY_SLUG["ravine"].look_for


def test_frameworks_lesson_reaches_the_tiny_gradient_regime() -> None:
    run = run_setup(lesson_setup(LESSONS_BY_SLUG["frameworks"]))
    keras, pytorch = run.trajectories
    assert np.all(np.abs(keras.grads[0]) < 1e-6) and np.all(np.abs(keras.grads[0]) > 1e-8)
    np.testing.assert_array_equal(keras.grads[0], pytorch.grads[0])


def test_noise_lesson_distance_formula() -> None:
    """The root-mean-square distance the text quotes, σ·√(2α/(2 − α)), over the last 200 steps
    of the ten seeds."""
    lesson = LESSONS_BY_SLUG["noise"]
    setups = [s for _, s in variant_setups(lesson_setup(lesson))[: len(NOISE_SEEDS)]]
    runs = run_setups(setups)
    for i, (alpha, quoted) in enumerate([(0.3, 0.59), (0.03, 0.17)]):
        squares = np.concatenate([np.sum(r.trajectories[i].path[-200:] ** 2, axis=1) for r in runs])
        rms = float(np.sqrt(np.mean(squares)))
        assert math.sqrt(2 * alpha / (2 - alpha)) == pytest.approx(quoted, abs=0.005)
        assert rms == pytest.approx(quoted, rel=0.12)
        assert f"{quoted:g} for α = {alpha:g}" in lesson.look_for


def test_ravine_sgd_cap_is_real() -> None:
    """'SGD's α must stay below 2/100 = 0.02 or it is thrown out of the valley.'"""
    lesson = LESSONS_BY_SLUG["ravine"]
    over, warnings = from_query({**lesson.query, "o": ["sgd(learning_rate=0.021)"]})
    assert warnings == [] and run_setup(over).trajectories[0].diverged_at is not None
    under, _ = from_query({**lesson.query, "o": ["sgd(learning_rate=0.0198)"]})
    assert run_setup(under).trajectories[0].diverged_at is None
