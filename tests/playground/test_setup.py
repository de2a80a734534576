"""The Setup codecs: URL (to_query/from_query) and JSON (to_json/from_json).

Everything read from a link or an upload is untrusted, so beyond the round trips these tests
throw hostile values at both readers and check that they always answer with a valid Setup and
a warning, never an exception.
"""

from __future__ import annotations

import json
import math
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from optim_core import OPTIMIZERS, PRESETS, resolve_hparams
from optim_core.schedules import SCHEDULE_KINDS, Schedule
from playground.setup import (
    CUSTOM,
    DEFAULT_EXPRESSION,
    HIDEABLE_CONTROLS,
    MAX_EXPRESSION_CHARS,
    MAX_OPTIMIZERS,
    MAX_QUERY_VALUE_CHARS,
    MAX_STEPS,
    MAX_UPLOAD_BYTES,
    MIN_STEPS,
    NOISE_RANGE,
    OptimizerEntry,
    Setup,
    from_json,
    from_query,
    to_dict,
    to_json,
    to_query,
)
from surfaces import SURFACES

# Derandomized: the same examples on every run, so CI never flakes on a rare corner.
PROPERTY = settings(
    max_examples=150, deadline=None, derandomize=True, suppress_health_check=[HealthCheck.too_slow]
)

VALID_FORMULAS = (
    "x**2 + 3*y**2",
    "sin(x)*cos(y) + 0.1*(x**2 + y**2)",
    "(1 - x)**2 + abs(y)",
    "log(1 + x**2 + y**2)",
    "tanh(x)*y + 0.5*y**2",
)


def _short(value: float) -> float:
    """4 significant digits survive the URL's %.6g formatting exactly."""
    return float(f"{value:.4g}")


def _within(value: float, low: float, high: float) -> float:
    return min(max(_short(value), low), high)


@st.composite
def entries(draw: st.DrawFn) -> OptimizerEntry:
    name = draw(st.sampled_from(sorted(OPTIMIZERS)))
    preset = draw(st.sampled_from(sorted(PRESETS)))
    values = resolve_hparams(name, None, preset)
    for h in OPTIMIZERS[name].hyperparams:
        if not draw(st.booleans()):
            continue  # keep the preset's value
        if h.kind == "bool":
            values[h.name] = float(draw(st.booleans()))
        else:
            values[h.name] = _within(draw(st.floats(h.low, h.high)), h.low, h.high)
    return OptimizerEntry(name, values, preset)


@st.composite
def setups(draw: st.DrawFn) -> Setup:
    """Any valid setup, with values the URL's number format keeps exactly."""
    surface = draw(st.sampled_from([*sorted(SURFACES), CUSTOM]))
    expression = draw(st.sampled_from(VALID_FORMULAS)) if surface == CUSTOM else DEFAULT_EXPRESSION
    params = {}
    if surface != CUSTOM:
        for p in SURFACES[surface].params:
            if draw(st.booleans()):
                params[p.name] = _within(draw(st.floats(p.low, p.high)), p.low, p.high)
    steps = draw(st.integers(MIN_STEPS, MAX_STEPS))
    start = None
    if draw(st.booleans()):
        start = (_short(draw(st.floats(-5, 5))), _short(draw(st.floats(-5, 5))))
    schedule = Schedule(
        kind=draw(st.sampled_from(SCHEDULE_KINDS)),
        decay_rate=_within(draw(st.floats(0.01, 1.0)), 0.01, 1.0),
        decay_every=draw(st.integers(1, MAX_STEPS)),
        final_fraction=_within(draw(st.floats(0.0, 1.0)), 0.0, 1.0),
        warmup_steps=draw(st.integers(1, MAX_STEPS)),
    )
    optimizers = tuple(draw(st.lists(entries(), min_size=1, max_size=MAX_OPTIMIZERS)))
    classroom = draw(st.booleans())
    hidden = (
        tuple(draw(st.lists(st.sampled_from(sorted(HIDEABLE_CONTROLS)), unique=True))) if classroom else ()
    )
    return Setup(
        surface=surface,
        expression=expression,
        surface_params=params,
        noise=_within(draw(st.floats(0.0, 10.0)), 0.0, 10.0),
        seed=draw(st.integers(0, 2**31 - 1)),
        steps=steps,
        start=start,
        schedule=schedule,
        optimizers=optimizers,
        focus=draw(st.integers(0, len(optimizers) - 1)),
        scrub=draw(st.integers(0, steps)),
        classroom=classroom,
        hidden=hidden,
    )


def assert_valid(setup: Setup) -> None:
    """The invariants every Setup handed to the engine must satisfy."""
    assert isinstance(setup, Setup)
    assert setup.surface in SURFACES or setup.surface == CUSTOM
    setup.resolved_surface()  # a custom formula that got through must parse
    assert MIN_STEPS <= setup.steps <= MAX_STEPS
    assert 1 <= len(setup.optimizers) <= MAX_OPTIMIZERS
    for entry in setup.optimizers:
        assert entry.name in OPTIMIZERS and entry.preset in PRESETS
        assert set(entry.hparams) == set(resolve_hparams(entry.name, None, entry.preset))
        for hp_name, value in entry.hparams.items():
            low, high = OPTIMIZERS[entry.name].hyperparam(hp_name).valid_range
            assert math.isfinite(value) and low <= value <= high, (entry.name, hp_name, value)
    assert math.isfinite(setup.noise) and 0.0 <= setup.noise <= 10.0
    assert 0 <= setup.seed <= 2**31 - 1
    if setup.start is not None:
        assert all(math.isfinite(v) and abs(v) <= 1e3 for v in setup.start)
    assert 0 <= setup.focus < len(setup.optimizers)
    assert 0 <= setup.scrub <= setup.steps
    assert set(setup.hidden) <= set(HIDEABLE_CONTROLS)
    assert len(setup.expression) <= MAX_EXPRESSION_CHARS
    for name, value in setup.surface_params.items():
        spec = {p.name: p for p in SURFACES[setup.surface].params}[name]
        assert math.isfinite(value) and spec.low <= value <= spec.high


# --- round trips ---------------------------------------------------------------------------


def test_default_setup_round_trips_through_the_url() -> None:
    assert from_query(to_query(Setup())) == (Setup(), [])
    assert from_query({}) == (Setup(), [])  # a bare link is the default page, silently


def test_default_setup_round_trips_through_json() -> None:
    assert from_json(to_json(Setup())) == (Setup(), [])


def test_json_keeps_a_switched_off_bias_correction() -> None:
    adam = OptimizerEntry.default("adam")
    setup = Setup(optimizers=(OptimizerEntry("adam", {**adam.hparams, "bias_correction": 0.0}),))
    restored, warnings = from_json(to_json(setup))
    assert restored.optimizers[0].hparams["bias_correction"] == 0.0
    assert warnings == []


@PROPERTY
@given(setups())
def test_url_round_trip(setup: Setup) -> None:
    restored, warnings = from_query(to_query(setup))
    assert warnings == []
    assert restored == setup


@PROPERTY
@given(setups())
def test_json_round_trip(setup: Setup) -> None:
    restored, warnings = from_json(to_json(setup))
    assert warnings == []
    assert restored == setup
    assert json.loads(to_json(setup))["format"] == "optimizer-playground/setup@1"


@PROPERTY
@given(setups())
def test_url_and_json_agree(setup: Setup) -> None:
    """The two serializations are views of one object: converting across them loses nothing."""
    via_json, _ = from_json(to_json(setup))
    assert to_query(via_json) == to_query(setup)


def test_url_is_compact_for_defaults() -> None:
    """Values equal to the defaults stay out of the link (links are shared by hand)."""
    q = to_query(Setup())
    assert q == {"s": "rosenbrock", "o": ["sgd", "momentum", "rmsprop", "adam"]}


def test_url_keeps_only_changed_hyperparameters() -> None:
    keras = OptimizerEntry.default("adam", "keras")
    assert keras.hparams["learning_rate"] != 0.05
    entry = OptimizerEntry("adam", {**keras.hparams, "learning_rate": 0.05}, "keras")
    assert to_query(Setup(optimizers=(entry,)))["o"] == ["adam(learning_rate=0.05)@keras"]
    assert to_query(Setup(optimizers=(keras,)))["o"] == ["adam@keras"]


# --- clamping and caps -----------------------------------------------------------------------


@pytest.mark.parametrize(
    ("query", "check"),
    [
        ({"steps": "1"}, lambda s: s.steps == MIN_STEPS),
        ({"steps": "100000"}, lambda s: s.steps == MAX_STEPS),
        ({"noise": "50"}, lambda s: s.noise == 10.0),
        ({"noise": "-3"}, lambda s: s.noise == 0.0),
        ({"o": "adam(learning_rate=1e9)"}, lambda s: s.optimizers[0].hparams["learning_rate"] == 100.0),
        # A linear slider's range (b1: 0..0.999), not the wider valid range (0..0.9999).
        ({"o": "adam(b1=1.5)"}, lambda s: s.optimizers[0].hparams["b1"] == 0.999),
        ({"o": "momentum(momentum=0.9999)"}, lambda s: s.optimizers[0].hparams["momentum"] == 0.999),
        ({"o": "sgd(learning_rate=-1)"}, lambda s: s.optimizers[0].hparams["learning_rate"] == 1e-12),
        ({"s": "ravine", "sp.condition": "1e9"}, lambda s: s.surface_params["condition"] == 1000.0),
        ({"x0": "1e300", "y0": "-1e300"}, lambda s: s.start == (30.0, -30.0)),  # 10 x rosenbrock box
        ({"focus": "99"}, lambda s: s.focus == 3),
        ({"steps": "100", "scrub": "400"}, lambda s: s.scrub == 100),
        ({"sched": "step", "sched.decay_every": "0"}, lambda s: s.schedule.decay_every == 1),
        ({"sched": "step", "sched.decay_rate": "7"}, lambda s: s.schedule.decay_rate == 1.0),
    ],
)
def test_out_of_range_values_are_clamped_with_a_warning(query: dict[str, str], check: Any) -> None:
    setup, warnings = from_query(query)
    assert check(setup), setup
    assert warnings, "a clamped value must be reported"
    assert_valid(setup)


def test_optimizer_count_is_capped() -> None:
    setup, warnings = from_query({"o": ["adam"] * 50})
    assert len(setup.optimizers) == MAX_OPTIMIZERS
    assert any("keeping the first 8" in w for w in warnings)
    loaded, warnings = from_json(json.dumps({"optimizers": [{"name": "sgd"}] * 40}))
    assert len(loaded.optimizers) == MAX_OPTIMIZERS and warnings


def test_long_values_are_refused() -> None:
    setup, warnings = from_query({"s": "custom", "f": "x+" * 2000 + "y"})
    assert setup.expression == DEFAULT_EXPRESSION and warnings
    setup, warnings = from_query({"noise": "1" * (MAX_QUERY_VALUE_CHARS + 1)})
    assert setup.noise == 0.0 and warnings
    setup, warnings = from_query({"s": "custom", "f": "x" + "+x" * MAX_EXPRESSION_CHARS})
    assert setup.expression == DEFAULT_EXPRESSION and warnings
    setup, warnings = from_json("{" + " " * (MAX_UPLOAD_BYTES + 1) + "}")
    assert setup == Setup() and warnings


def test_overlong_optimizer_in_link_is_reported() -> None:
    """An optimizer too long to read is dropped like any malformed one: with a warning."""
    setup, warnings = from_query({"o": ["adam", "sgd(" + "x" * (MAX_QUERY_VALUE_CHARS + 10) + ")"]})
    assert [e.name for e in setup.optimizers] == ["adam"]
    assert warnings, "the dropped optimizer was not reported"


# --- hostile values --------------------------------------------------------------------------

HOSTILE_QUERIES: list[dict[str, Any]] = [
    {"s": "custom", "f": "__import__('os').system('touch /tmp/pwned')"},
    {"s": "custom", "f": "().__class__.__bases__[0].__subclasses__()"},
    {"s": "custom", "f": "9**9**9**9"},
    {"s": "custom", "f": "-" * 299 + "x"},
    {"s": "custom", "f": "x" + "**x" * 70},
    {"s": "custom", "f": "lambda: 0"},
    {"s": "../../etc/passwd"},
    {"s": "Rosenbrock"},
    {"steps": "nan"},
    {"steps": "inf"},
    {"steps": "1e9"},
    {"steps": "-0"},
    {"steps": "5.5"},
    {"steps": "99999999999999999999999"},
    {"noise": "nan"},
    {"noise": "-inf"},
    {"noise": "1e999"},
    {"noise": "0x10"},
    {"seed": "-1"},
    {"seed": str(2**64)},
    {"seed": "abc"},
    {"x0": "nan", "y0": "inf"},
    {"x0": "1e308"},
    {"y0": "2"},
    {"o": "adam(learning_rate=nan,b1=inf,b2=-inf)"},
    {"o": ["bogus", "adam((("]},
    {"o": "sgd(learning_rate=1e999)@evil"},
    {"o": "adam(learning_rate)"},
    {"o": "adam(__class__=1,learning_rate=0.1)"},
    {"o": "adam(bias_correction=maybe)"},
    {"o": ""},
    {"o": []},
    {"o": ["", " ", "@"]},
    {"o": "adam(" + ",".join(f"p{i}=1" for i in range(200)) + ")"},
    {"sched": "exponential"},
    {"sched": "step", "sched.decay_rate": "0"},
    {"sched": "warmup", "sched.warmup_steps": "1e5"},
    {"s": "ravine", "sp.condition": "nan", "sp.angle": "1e9", "sp.__dict__": "1"},
    {"sp.condition": "10"},  # rosenbrock has no parameters
    {"focus": "-1"},
    {"scrub": "1e9"},
    {"classroom": "maybe"},
    {"hide": "everything,surface"},
    {"unknown": "1", "javascript:alert(1)": "x"},
]


@pytest.mark.parametrize("query", HOSTILE_QUERIES, ids=range(len(HOSTILE_QUERIES)))
def test_hostile_link_values_give_warnings_and_defaults(query: dict[str, Any]) -> None:
    setup, warnings = from_query(query)
    assert_valid(setup)
    assert warnings, f"{query} was accepted silently"
    assert all(isinstance(w, str) and 0 < len(w) < 400 for w in warnings)


def test_formula_injection_never_runs(tmp_path: Any) -> None:
    marker = tmp_path / "pwned"
    setup, warnings = from_query({"s": "custom", "f": f"__import__('os').system('touch {marker}')"})
    assert not marker.exists()
    assert setup.expression == DEFAULT_EXPRESSION
    assert any("__import__" in w for w in warnings)


def test_unknown_optimizer_is_dropped_and_the_rest_kept() -> None:
    setup, warnings = from_query({"o": ["sgd", "bogus", "adam(b1=0.5)"]})
    assert [e.name for e in setup.optimizers] == ["sgd", "adam"]
    assert setup.optimizers[1].hparams["b1"] == 0.5
    assert any("bogus" in w for w in warnings)


BAD_UPLOADS: list[str | bytes] = [
    b"",
    b"\xff\xfe\x00garbage",
    "not json",
    "[]",
    "42",
    "null",
    '"setup"',
    json.dumps({"format": "something-else@9", "steps": 100}),
    json.dumps({"steps": "many", "noise": None, "start": "here", "schedule": [1, 2]}),
    json.dumps({"optimizers": "adam"}),
    json.dumps({"optimizers": [None, 3, "adam"]}),
    json.dumps({"optimizers": [{"name": "adam", "hparams": {"learning_rate": "NaN"}}]}),
    json.dumps({"surface": "custom", "expression": "__import__('os')"}),
    json.dumps({"surface": "custom", "expression": 12}),
    json.dumps({"start": [1e400, 0]}).replace("Infinity", "1e400"),
    '{"start": [NaN, Infinity]}',
    json.dumps({"hidden": "surface", "classroom": "yes please"}),
    json.dumps({"steps": True}),
    json.dumps({"seed": 1.5}),
]


@pytest.mark.parametrize("text", BAD_UPLOADS, ids=range(len(BAD_UPLOADS)))
def test_bad_uploads_give_a_message(text: str | bytes) -> None:
    setup, warnings = from_json(text)
    assert_valid(setup)
    assert warnings, f"{str(text)[:60]!r} was accepted silently"


@pytest.mark.parametrize(
    "bad",
    [
        lambda: from_query({"sched.bogus": "1"}),
        lambda: from_json(json.dumps({"optimizers": [{"name": "adam", "hparams": [1, 2]}]})),
        lambda: from_json(json.dumps({"surface": "ravine", "surface_params": [1]})),
    ],
)
def test_ignored_structures_are_reported(bad: Any) -> None:
    setup, warnings = bad()
    assert_valid(setup)
    assert warnings


def test_deeply_nested_upload_gives_a_message() -> None:
    text = "[" * (MAX_UPLOAD_BYTES // 2) + "]" * (MAX_UPLOAD_BYTES // 2)  # within the size cap
    setup, warnings = from_json(text)
    assert setup == Setup() and warnings


# --- random junk (hypothesis) ------------------------------------------------------------------

KNOWN_KEYS = [
    "s",
    "f",
    "noise",
    "seed",
    "steps",
    "x0",
    "y0",
    "sched",
    "o",
    "focus",
    "scrub",
    "classroom",
    "hide",
    "sp.condition",
    "sp.angle",
    "sched.decay_rate",
    "sched.decay_every",
    "sched.final_fraction",
    "sched.warmup_steps",
    "lesson",
]
NASTY = [
    "nan",
    "NaN",
    "inf",
    "-inf",
    "1e999",
    "-1e308",
    "1e-400",
    "0",
    "-0",
    "1",
    "0.5",
    "500",
    "5000",
    "5001",
    "adam",
    "custom",
    "ravine",
    "rosenbrock",
    "x**2+y**2",
    "__import__('os')",
    "9**9**9",
    "adam(learning_rate=nan)",
    "adam(b1=2)@keras",
    "sgd(learning_rate=0.1)@pytorch",
    "rmsprop(((",
    "surface,steps",
    "true",
    "",
    " ",
    "∞",
    "１２",
    "1_000",
    "0x1f",
    "1e3",
    "step",
    "cosine",
    "\x00",
    "%00",
    "'; DROP TABLE",
]
values = st.one_of(
    st.sampled_from(NASTY),
    st.text(max_size=30),
    st.floats(allow_nan=True, allow_infinity=True).map(repr),
    st.integers(-(2**70), 2**70).map(str),
)
query_values = st.one_of(values, st.lists(values, max_size=12))
queries = st.dictionaries(
    st.one_of(st.sampled_from(KNOWN_KEYS), st.text(max_size=12)), query_values, max_size=12
)


@PROPERTY
@given(queries)
def test_random_links_never_raise(query: dict[str, Any]) -> None:
    setup, warnings = from_query(query)
    assert_valid(setup)
    assert all(isinstance(w, str) for w in warnings)
    # What we kept is a fixed point: writing it to a link and reading it back is silent.
    q = to_query(setup)
    again, more = from_query(q)
    assert more == []
    assert to_query(again) == q


json_values = st.recursive(
    st.none()
    | st.booleans()
    | st.floats(allow_nan=False, allow_infinity=False)
    | st.integers(-(2**64), 2**64)
    | st.sampled_from(NASTY)
    | st.text(max_size=20),
    lambda inner: st.lists(inner, max_size=5) | st.dictionaries(st.text(max_size=10), inner, max_size=5),
    max_leaves=20,
)
json_fields = st.sampled_from(sorted(to_dict(Setup())) + ["optimizers", "hparams"])
json_docs = st.dictionaries(json_fields, json_values, max_size=10) | st.fixed_dictionaries(
    {
        "optimizers": st.lists(
            st.dictionaries(
                st.sampled_from(["name", "preset", "hparams"]),
                json_values | st.sampled_from(sorted(OPTIMIZERS)),
            ),
            max_size=10,
        )
    }
)


@PROPERTY
@given(json_docs)
def test_random_uploads_never_raise(doc: dict[str, Any]) -> None:
    setup, warnings = from_json(json.dumps(doc))
    assert_valid(setup)
    assert all(isinstance(w, str) for w in warnings)


@PROPERTY
@given(json_docs)
def test_random_uploads_reach_a_fixed_point(doc: dict[str, Any]) -> None:
    setup, _ = from_json(json.dumps(doc))
    again, more = from_json(to_json(setup))
    assert (again, more) == (setup, [])


def test_divergence_messages_say_escaped_on_surfaces_without_a_minimum() -> None:
    from playground.compute import divergence_messages, run_setup

    saddle = Setup(
        surface="saddle",
        steps=300,
        start=(1.0, 0.01),
        optimizers=(OptimizerEntry("sgd", {"learning_rate": 0.1}),),
    )
    bowl = Setup(surface="rosenbrock", steps=100, optimizers=(OptimizerEntry("sgd", {"learning_rate": 0.5}),))
    (escaped,) = divergence_messages(run_setup(saddle))
    (diverged,) = divergence_messages(run_setup(bowl))
    assert "escaped downhill" in escaped and "smaller α" not in escaped
    assert "diverged at step" in diverged and "smaller α" in diverged


def test_compare_explains_a_divergence_as_the_playground_does() -> None:
    """One divergence explanation: Compare's panels on a saddle say 'escaped', never 'smaller α'."""
    from playground import compare as cmp
    from playground.compute import divergence_messages

    saddle = Setup(
        surface="saddle",
        steps=300,
        start=(1.0, 0.01),
        optimizers=(OptimizerEntry("sgd", {"learning_rate": 0.1}),),
    )
    (message,) = divergence_messages(cmp.run_panels(cmp.CompareState(setup=saddle)))
    assert "escaped downhill" in message and "smaller α" not in message


def test_validate_is_the_one_range_policy_and_the_setup_is_the_cache_key() -> None:
    from playground import compute
    from playground.setup import validate

    valid, warnings = validate(Setup())
    assert valid == Setup() and warnings == [] and hash(valid) == hash(Setup())
    wild = Setup(steps=3, noise=99.0, optimizers=(OptimizerEntry("sgd", {"learning_rate": 1e9}),))
    fixed, warnings = validate(wild)
    assert (fixed.steps, fixed.noise) == (MIN_STEPS, NOISE_RANGE[1])
    assert fixed.optimizers[0].hparams["learning_rate"] == 100.0
    assert len(warnings) == 3 and validate(fixed) == (fixed, [])
    # URL, upload and validate agree: each reads to the same setup.
    assert from_query(to_query(fixed))[0] == fixed == from_json(to_json(fixed))[0]
    # The run cache is keyed by the setup itself; display-only fields share one run.
    compute.RUNS.clear()
    first = compute.run_setup(fixed)
    assert compute.run_setup(fixed.with_changes(focus=0, scrub=5, classroom=True)) is first
    assert compute.RUNS.info().entries == 1


def test_share_url_is_the_page_address_with_the_setups_query() -> None:
    from playground.setup import share_url

    query = {"s": "custom", "f": "x**2 + y", "o": ["sgd", "adam"], "lesson": "ravine"}
    url = share_url("https://class.example/playground?s=rosenbrock&x0=1#top", query)
    assert url.startswith("https://class.example/playground?") and "x0=" not in url and "#" not in url
    assert "f=x%2A%2A2+%2B+y" in url and url.count("o=") == 2 and "lesson=ravine" in url
    assert share_url(None, {"s": "ravine"}) == "?s=ravine"
