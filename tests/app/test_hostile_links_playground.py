"""Hostile links and uploads on the Playground and Compare pages (issue 7).

Links are generated from the README's link grammar ("Share links and untrusted input"): s, f,
sp.<name>, noise, seed, steps, x0, y0, sched, sched.<field>, o=name(k=v,...)@preset, focus,
scrub, classroom, hide, lesson and Compare's cmp.* keys, with values from tests/app/hostile.py
(±inf, nan, 1e309, -0, denormals, unicode digits, long strings, markup payloads) and repeated
and unknown keys. Setup files are generated from the JSON export's fields.

The property, for the pure readers (many examples) and for the pages themselves (AppTest, the
whole app opened on the page as a visitor's first request; fewer examples):
* never an exception;
* every value lands inside the range of the widget that shows it (the constants in
  playground.setup, which the pages build their widgets from);
* a value that was not taken exactly as written has a warning naming its key or field;
* every warning line is escaped (hostile.assert_escaped), every error body too.
Then one regression test per example named in issue 7 for these two pages, the caps, classroom
mode and the URL-encoded classroom link.
"""

from __future__ import annotations

import functools
import json
import math
import re
from collections.abc import Callable
from typing import Any
from urllib.parse import parse_qs

import pytest
from app_helpers import assert_clean, open_page, widget
from hostile import MARKUP, assert_escaped, json_values, junk, numbers, unescaped_markup, values
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from streamlit.testing.v1 import AppTest

from optim_core import OPTIMIZERS, PRESETS
from optim_core.schedules import SCHEDULE_KINDS, Schedule
from playground import compare as cmp
from playground.lessons import LESSONS_BY_SLUG
from playground.safe_text import warning_lines
from playground.setup import (
    CUSTOM,
    DECAY_EVERY_RANGE,
    DECAY_RATE_RANGE,
    FINAL_FRACTION_RANGE,
    HIDEABLE_CONTROLS,
    MAX_KEYS_PER_MAPPING,
    MAX_OPTIMIZERS,
    MAX_STEPS,
    MAX_UPLOAD_BYTES,
    MIN_STEPS,
    NOISE_RANGE,
    SEED_RANGE,
    WARMUP_RANGE,
    OptimizerEntry,
    Setup,
    from_query,
    load_json,
    query_string,
    to_json,
    to_query,
    widget_range,
)
from surfaces import SURFACES

PLAYGROUND = "app_pages/playground.py"
COMPARE = "app_pages/compare.py"
TRUE_WORDS = ("1", "1.0", "true", "yes", "on")
FALSE_WORDS = ("0", "0.0", "false", "no", "off")
PURE = settings(
    max_examples=250,
    deadline=None,
    derandomize=True,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)
# The pages: a first visit costs ~0.5-3 s (a new optimizer mix compiles once per process).
PAGES = settings(
    max_examples=10,
    deadline=None,
    derandomize=True,
    suppress_health_check=[
        HealthCheck.too_slow,
        HealthCheck.data_too_large,
        HealthCheck.function_scoped_fixture,
    ],
)

SURFACE_PARAMS = sorted({p.name for s in SURFACES.values() for p in s.params})
SCHED_FIELDS = [k for k in Schedule().to_dict() if k != "kind"]
FORMULAS = (
    "x**2 + 3*y**2",
    "(x - 1)^2 / 4 + abs(y)*(1 + x**2)",
    "sin(x)*cos(y) + 0.1*(x**2 + y**2)",
    "x² + 3*y²",
    "x*y/(1 + x**2 + y**2) + 0.01*(x^2+y^2)",
)

# --- the link grammar ----------------------------------------------------------------------------


def _names(known: list[str]) -> st.SearchStrategy[str]:
    return st.one_of(st.sampled_from(known), st.sampled_from(known).map(str.upper), junk())


def _optimizer_text(names: list[str] | None = None) -> st.SearchStrategy[str]:
    """name(k=v,...)@preset with known and unknown names, keys and presets."""

    @st.composite
    def build(draw: st.DrawFn) -> str:
        name = draw(_names(names or sorted(OPTIMIZERS)))
        keys = [h.name for h in OPTIMIZERS[name].hyperparams] if name in OPTIMIZERS else ["b1"]
        args = draw(
            st.lists(
                st.tuples(_names(keys), st.one_of(st.sampled_from(["0.5", "0.9", "1", "0"]), numbers())),
                max_size=3,
            )
        )
        text = name
        if args or draw(st.booleans()):
            text += "(" + ",".join(f"{k}={v}" for k, v in args) + ")"
        if draw(st.booleans()):
            text += "@" + draw(_names(sorted(PRESETS)))
        return text if draw(st.integers(0, 9)) else draw(junk())

    return build()


@functools.cache
def _value(key: str) -> st.SearchStrategy[str]:
    """Values for `key`: good ones and hostile ones (built once per key: strategies are costly)."""
    if key.startswith("sp.") and key != "sp.":
        return _value("sp.")
    if key.startswith("sched.") and key != "sched.":
        return _value("sched.")
    good: dict[str, st.SearchStrategy[str]] = {
        "s": _names([*SURFACES, CUSTOM]),
        "f": st.one_of(st.sampled_from(FORMULAS), junk()),
        "noise": st.sampled_from(["0", "0.1", "7", "10"]),
        "seed": st.sampled_from(["0", "7", str(SEED_RANGE[1])]),
        "steps": st.sampled_from(["10", "15", "100", "200"]),
        "x0": st.sampled_from(["0", "-1.5", "2"]),
        "y0": st.sampled_from(["0", "1", "-2"]),
        "focus": st.sampled_from(["0", "1"]),
        "scrub": st.sampled_from(["0", "5"]),
        "sched": _names(list(SCHEDULE_KINDS)),
        "classroom": st.sampled_from(TRUE_WORDS + FALSE_WORDS),
        "hide": st.lists(_names(list(HIDEABLE_CONTROLS)), max_size=3).map(",".join),
        "lesson": _names(list(LESSONS_BY_SLUG)),
        "o": _optimizer_text(),
        "cmp.panels": _names(list(cmp.PANEL_MODES)),
        "cmp.sw": _optimizer_text(),
        "cmp.hm": _optimizer_text(),
        "cmp.bm": _optimizer_text(),
        "cmp.sw.hp": _names(["b1", "b2", "learning_rate", "momentum", "eps"]),
        "cmp.hm.x": _names(["learning_rate", "b1", "b2", "eps"]),
        "cmp.hm.y": _names(["learning_rate", "b1", "b2", "eps"]),
        "cmp.sw.vals": st.lists(
            st.one_of(st.sampled_from(["0.1", "0.5", "0.9"]), numbers()), max_size=10
        ).map(",".join),
        "cmp.hm.xr": st.tuples(numbers(), numbers()).map(",".join),
        "cmp.hm.yr": st.sampled_from(["0,0.99", "0.5,0.9"]),
        "cmp.hm.n": st.sampled_from(["3", "4", "40"]),
        "cmp.bm.n": st.sampled_from(["8", "12"]),
        "cmp.hm.z": _names(list(cmp.HEATMAP_METRICS)),
        "cmp.bm.z": _names(list(cmp.BASIN_METRICS)),
        "cmp.tol": st.sampled_from(["0.001", "1e-06", "0.003"]),
    }
    if key.startswith("sp."):
        return st.one_of(st.sampled_from(["1", "30", "45"]), values())
    if key.startswith("sched."):
        return st.one_of(st.sampled_from(["0.02", "0.5", "3", "100"]), values())
    return st.one_of(good[key], values()) if key in good else values()


PLAYGROUND_KEYS = [
    "s",
    "f",
    "noise",
    "seed",
    "steps",
    "x0",
    "y0",
    "focus",
    "scrub",
    "sched",
    "classroom",
    "hide",
    "lesson",
    "o",
]
COMPARE_KEYS = [
    "cmp.panels",
    "cmp.sw",
    "cmp.sw.hp",
    "cmp.sw.vals",
    "cmp.hm",
    "cmp.hm.x",
    "cmp.hm.y",
    "cmp.hm.xr",
    "cmp.hm.yr",
    "cmp.hm.n",
    "cmp.hm.z",
    "cmp.bm",
    "cmp.bm.n",
    "cmp.bm.z",
    "cmp.tol",
]


def _keys(extra: list[str]) -> st.SearchStrategy[str]:
    return st.one_of(
        st.sampled_from(PLAYGROUND_KEYS + extra),
        st.sampled_from(SURFACE_PARAMS + ["bogus", "__dict__"]).map(lambda n: "sp." + n),
        st.sampled_from(SCHED_FIELDS + ["bogus"]).map(lambda n: "sched." + n),
        st.text(max_size=12),  # unknown keys, markup in key names
        st.sampled_from(MARKUP),
    )


def _query(extra: list[str], max_keys: int = 8) -> st.SearchStrategy[dict[str, Any]]:
    """A query: each key once or repeated (a list; the last value counts); `o` up to 12 times."""
    return st.lists(_keys(extra).flatmap(_pair), max_size=max_keys).map(dict)


@functools.cache
def _pair(key: str) -> st.SearchStrategy[tuple[str, Any]]:
    if key == "o":
        return st.tuples(st.just(key), st.lists(_value(key), min_size=1, max_size=12))
    return st.tuples(st.just(key), st.one_of(_value(key), st.lists(_value(key), min_size=2, max_size=3)))


playground_links = _query([])
compare_links = _query(COMPARE_KEYS)

# --- what "taken exactly as written" means, key by key -------------------------------------------


def _last(value: Any) -> str:
    return value[-1] if isinstance(value, list) else value


def _float(text: str) -> float | None:
    try:
        value = float(text)
    except (TypeError, ValueError):
        return None
    return value if math.isfinite(value) else None


def _int(text: str) -> int | None:
    try:
        return int(text)
    except (TypeError, ValueError):
        return None


def _same(text: str, value: float) -> bool:
    number = _float(text)
    return number is not None and number == value


def _entry_ok(text: str, entry: OptimizerEntry) -> bool:
    match = re.fullmatch(r"([a-z_]+)(?:\((.*)\))?(?:@([a-z]+))?", text.strip())
    if not match or match.group(1) != entry.name or (match.group(3) or "optax") != entry.preset:
        return False
    given: dict[str, str] = {}
    for part in filter(str.strip, (match.group(2) or "").split(",")):
        key, sep, value = part.partition("=")
        if not sep or key.strip() not in entry.hparams or given.get(key.strip(), value) != value:
            return False
        given[key.strip()] = value
    for key, value in given.items():
        h = OPTIMIZERS[entry.name].hyperparam(key.strip())
        if h.kind == "bool":
            word = value.strip().lower()
            if entry.hparams[key.strip()] != (
                1.0 if word in TRUE_WORDS else 0.0 if word in FALSE_WORDS else -1.0
            ):
                return False
        elif not _same(value, entry.hparams[key.strip()]):
            return False
    return True


def _setup_key_ok(key: str, raw: Any, setup: Setup, query: dict[str, Any]) -> bool:
    """Whether a Playground key's value was taken exactly as written."""
    if isinstance(raw, list) and len(set(raw)) > 1 and key != "o":
        return False  # a repeated key: the values it did not use were rejected
    text = _last(raw) if raw else ""
    sched = setup.schedule
    checks: dict[str, Callable[[], bool]] = {
        "s": lambda: text == setup.surface,
        "f": lambda: setup.surface != CUSTOM or text == setup.expression,
        "noise": lambda: _same(text, setup.noise),
        "seed": lambda: _int(text) == setup.seed,
        "steps": lambda: _int(text) == setup.steps,
        "focus": lambda: _int(text) == setup.focus,
        "scrub": lambda: _int(text) == setup.scrub,
        "x0": lambda: setup.start is not None and _same(text, setup.start[0]),
        "y0": lambda: setup.start is not None and _same(text, setup.start[1]),
        "sched": lambda: text == sched.kind,
        "classroom": lambda: (
            setup.classroom == (text.strip().lower() in TRUE_WORDS)
            and text.strip().lower() in TRUE_WORDS + FALSE_WORDS
        ),
        "hide": lambda: (
            not text or list(dict.fromkeys(h.strip() for h in text.split(","))) == list(setup.hidden)
        ),
        "lesson": lambda: text in LESSONS_BY_SLUG,
        "o": lambda: (
            len(raw if isinstance(raw, list) else [raw]) == len(setup.optimizers)
            and all(
                _entry_ok(t, e) for t, e in zip(raw if isinstance(raw, list) else [raw], setup.optimizers)
            )
        ),
    }
    if key in checks:
        return checks[key]()
    if key.startswith("sp."):
        return key[3:] in setup.surface_params and _same(text, setup.surface_params[key[3:]])
    if key.startswith("sched."):
        return key[6:] in SCHED_FIELDS and _same(text, getattr(sched, key[6:]))
    return key.startswith("cmp.") or key.endswith(".tab")  # read by Compare / kept by widgets


def _compare_key_ok(key: str, raw: Any, state: cmp.CompareState) -> bool:
    if isinstance(raw, list) and len(set(raw)) > 1:
        return False
    text = _last(raw) if raw else ""
    sw, hm, bm = state.sweep, state.heatmap, state.basin

    def pair(r: tuple[float, float]) -> bool:
        parts = text.split(",")
        return len(parts) == 2 and _same(parts[0], r[0]) and _same(parts[1], r[1])

    def sweep_values() -> bool:
        parts = [p.strip() for p in text.replace(";", ",").split(",") if p.strip()]
        numbers = [_float(p) for p in parts]
        return None not in numbers and tuple(dict.fromkeys(numbers)) == sw.values

    checks: dict[str, Callable[[], bool]] = {
        "cmp.panels": lambda: text == state.panels,
        "cmp.sw": lambda: _entry_ok(text, sw.entry),
        "cmp.sw.hp": lambda: text == sw.hparam,
        "cmp.sw.vals": sweep_values,
        "cmp.hm": lambda: _entry_ok(text, hm.entry),
        "cmp.hm.x": lambda: text == hm.x,
        "cmp.hm.y": lambda: text == hm.y,
        "cmp.hm.xr": lambda: pair(hm.x_range),
        "cmp.hm.yr": lambda: pair(hm.y_range),
        "cmp.hm.n": lambda: _int(text) == hm.resolution,
        "cmp.hm.z": lambda: text == hm.metric,
        "cmp.bm": lambda: _entry_ok(text, bm.entry),
        "cmp.bm.n": lambda: _int(text) == bm.resolution,
        "cmp.bm.z": lambda: text == bm.metric,
        "cmp.tol": lambda: _same(text, state.tol),
    }
    if key in checks:
        return checks[key]()
    return not key.startswith("cmp.") or key == "cmp.tab"


def _fragments(key: str) -> list[str]:
    """Words one of which a warning about `key` contains."""
    labels = [spec.label for spec in OPTIMIZERS.values()] + ["optimizer", "preset"]
    words: dict[str, list[str]] = {
        "s": ["surface"],
        "f": ["formula"],
        "x0": ["start"],
        "y0": ["start"],
        "scrub": ["scrubbed"],
        "sched": ["schedule"],
        "hide": ["hide"],
        "o": labels,
        "cmp.panels": ["panels"],
        "cmp.sw": ["sweep"],
        "cmp.sw.hp": ["swept", "sweep"],
        "cmp.sw.vals": ["sweep"],
        "cmp.tol": ["tolerance"],
    }
    if key.startswith("sp."):
        return [key, "surface"]
    if key.startswith("sched."):
        return [key, "schedule", "decay", "warm-up", "final fraction"]
    if key.startswith("cmp.hm"):
        return [key, "heatmap"]
    if key.startswith("cmp.bm"):
        return [key, "basin"]
    return (
        [key, *words.get(key, [])] if key in words or key in PLAYGROUND_KEYS else ["unknown link parameters"]
    )


def escaped_box(body: str) -> None:
    """hostile.assert_escaped on a warning box, its "… and N more." line included."""
    assert_escaped(body)


def assert_lines_escaped(warnings: list[str]) -> None:
    escaped_box("\n".join("- " + line for line in warning_lines(warnings)))


def check_warnings(query: dict[str, Any], warnings: list[str], rejected: list[str]) -> None:
    """Every rejected key named in a warning; every line escaped; at most 21 lines shown."""
    assert len(warning_lines(warnings)) <= 21
    assert_lines_escaped(warnings)
    text = "\n".join(warnings).lower()
    for key in rejected:
        assert any(word.lower() in text for word in _fragments(key)), (key, query[key], warnings)


def in_widget_ranges(setup: Setup) -> None:
    """Every value inside the range of the widget that shows it."""
    assert NOISE_RANGE[0] <= setup.noise <= NOISE_RANGE[1]
    assert SEED_RANGE[0] <= setup.seed <= SEED_RANGE[1]
    assert MIN_STEPS <= setup.steps <= MAX_STEPS and 0 <= setup.scrub <= setup.steps
    assert 1 <= len(setup.optimizers) <= MAX_OPTIMIZERS
    for entry in setup.optimizers:
        for h in OPTIMIZERS[entry.name].hyperparams:
            low, high = widget_range(h)
            assert low <= entry.hparams[h.name] <= high, (entry.name, h.name, entry.hparams[h.name])
    sched = setup.schedule
    assert DECAY_RATE_RANGE[0] <= sched.decay_rate <= DECAY_RATE_RANGE[1]
    assert FINAL_FRACTION_RANGE[0] <= sched.final_fraction <= FINAL_FRACTION_RANGE[1]
    assert DECAY_EVERY_RANGE[0] <= sched.decay_every <= DECAY_EVERY_RANGE[1]
    assert WARMUP_RANGE[0] <= sched.warmup_steps <= WARMUP_RANGE[1]
    if setup.surface != CUSTOM:
        for p in SURFACES[setup.surface].params:
            assert p.low <= setup.surface_params.get(p.name, p.default) <= p.high


def playground_rejected(query: dict[str, Any], setup: Setup) -> list[str]:
    return [k for k, v in query.items() if not _setup_key_ok(k, v, setup, query)]


def compare_rejected(query: dict[str, Any], state: cmp.CompareState) -> list[str]:
    common = {k: v for k, v in query.items() if not k.startswith("cmp.")}
    rejected = [k for k, v in common.items() if not _setup_key_ok(k, v, state.setup, query)]
    return rejected + [
        k for k, v in query.items() if k.startswith("cmp.") and not _compare_key_ok(k, v, state)
    ]


# --- the pure readers: many examples -------------------------------------------------------------


@PURE
@given(playground_links)
def test_any_playground_link_is_read_to_the_widgets_with_a_warning_per_rejected_value(
    query: dict[str, Any],
) -> None:
    setup, warnings = from_query(query)
    in_widget_ranges(setup)
    check_warnings(query, warnings, playground_rejected(query, setup))


@PURE
@given(compare_links)
def test_any_compare_link_is_read_to_the_widgets_with_a_warning_per_rejected_value(
    query: dict[str, Any],
) -> None:
    state, warnings = cmp.from_query(query)
    in_widget_ranges(state.setup)
    for entry in (state.sweep.entry, state.heatmap.entry, state.basin.entry):
        in_widget_ranges(state.setup.with_changes(optimizers=(entry,)))
    assert state.tol in cmp.TOL_OPTIONS
    assert cmp.MIN_HEATMAP_RES <= state.heatmap.resolution <= cmp.MAX_HEATMAP_RES
    assert cmp.MIN_BASIN_RES <= state.basin.resolution <= cmp.MAX_BASIN_RES
    assert 1 <= len(state.sweep.values) <= cmp.MAX_SWEEP_VALUES
    check_warnings(query, warnings, compare_rejected(query, state))


def _number_doc() -> st.SearchStrategy[object]:
    return st.one_of(st.sampled_from([0, 0.5, 7, 0.02, 100]), json_values())


setup_docs = st.fixed_dictionaries(
    {},
    optional={
        "format": st.one_of(st.just("optimizer-playground/setup@1"), junk()),
        "surface": _names([*SURFACES, CUSTOM]),
        "expression": st.one_of(st.sampled_from(FORMULAS), junk()),
        "surface_params": st.dictionaries(_names(SURFACE_PARAMS), _number_doc(), max_size=3),
        "noise": _number_doc(),
        "seed": _number_doc(),
        "steps": _number_doc(),
        "start": st.one_of(st.lists(_number_doc(), min_size=2, max_size=2), json_values()),
        "schedule": st.dictionaries(
            st.sampled_from([*SCHED_FIELDS, "kind", "bogus"]),
            st.one_of(st.sampled_from(list(SCHEDULE_KINDS)), _number_doc()),
            max_size=4,
        ),
        "optimizers": st.lists(
            st.fixed_dictionaries(
                {"name": _names(sorted(OPTIMIZERS))},
                optional={
                    "preset": _names(sorted(PRESETS)),
                    "hparams": st.dictionaries(
                        _names(["learning_rate", "b1", "b2", "momentum", "rho", "eps", "weight_decay"]),
                        _number_doc(),
                        max_size=4,
                    ),
                },
            ),
            max_size=10,
        ),
        "focus": _number_doc(),
        "scrub": _number_doc(),
        "classroom": json_values(),
        "hidden": st.lists(_names(list(HIDEABLE_CONTROLS)), max_size=3),
        "bogus": json_values(),
    },
)


def _doc_bool(value: object) -> bool | None:
    if isinstance(value, bool):
        return value
    if isinstance(value, (int, float)) and value in (0, 1):
        return bool(value)
    if isinstance(value, str) and value.strip().lower() in TRUE_WORDS + FALSE_WORDS:
        return value.strip().lower() in TRUE_WORDS
    return None


def _doc_rejected(doc: dict[str, Any], setup: Setup) -> list[str]:
    """Fields of an uploaded file that were not taken exactly as written."""

    def num(value: object, target: float) -> bool:
        if isinstance(value, str):  # a number written as text is read like a link's value
            value = _float(value)
        return isinstance(value, (int, float)) and not isinstance(value, bool) and value == target

    def entry_ok(item: dict[str, Any], entry: OptimizerEntry) -> bool:
        hp = item.get("hparams") or {}
        return (
            item.get("name") == entry.name
            and item.get("preset", "optax") == entry.preset
            and all(k in entry.hparams and num(v, entry.hparams[k]) for k, v in hp.items())
        )

    sched = setup.schedule
    checks: dict[str, Callable[[Any], bool]] = {
        "format": lambda v: v == "optimizer-playground/setup@1",
        "surface": lambda v: v == setup.surface,
        "expression": lambda v: setup.surface != CUSTOM or v == setup.expression,
        "surface_params": lambda v: all(num(x, setup.surface_params.get(k, math.nan)) for k, x in v.items()),
        "noise": lambda v: num(v, setup.noise),
        "seed": lambda v: num(v, setup.seed),
        "steps": lambda v: num(v, setup.steps),
        "focus": lambda v: num(v, setup.focus),
        "scrub": lambda v: num(v, setup.scrub),
        "start": lambda v: (
            v is None
            or (
                isinstance(v, list)
                and setup.start is not None
                and all(num(a, b) for a, b in zip(v, setup.start))
            )
        ),
        "schedule": lambda v: all(
            k in Schedule().to_dict() and (x == sched.kind if k == "kind" else num(x, getattr(sched, k)))
            for k, x in v.items()
        ),
        "optimizers": lambda v: (
            0 < len(v) == len(setup.optimizers) and all(entry_ok(i, e) for i, e in zip(v, setup.optimizers))
        ),
        "classroom": lambda v: _doc_bool(v) == setup.classroom,
        "hidden": lambda v: list(dict.fromkeys(v)) == list(setup.hidden),
    }
    return [k for k, v in doc.items() if not checks.get(k, lambda _: False)(v)]


DOC_WORDS = {
    "format": "format",
    "surface": "surface",
    "expression": "formula",
    "surface_params": "surface",
    "start": "start",
    "schedule": "schedule",
    "optimizers": "optimizer",
    "focus": "focus",
    "scrub": "scrubbed",
    "hidden": "hide",
    "bogus": "unknown fields",
}


@PURE
@given(setup_docs)
def test_any_setup_file_is_read_to_the_widgets_with_a_warning_per_rejected_field(doc: dict[str, Any]) -> None:
    setup, warnings = load_json(json.dumps(doc))
    assert setup is not None
    in_widget_ranges(setup)
    assert_lines_escaped(warnings)
    text = "\n".join(warnings).lower()
    labels = [spec.label.lower() for spec in OPTIMIZERS.values()]
    for field in _doc_rejected(doc, setup):
        words = [DOC_WORDS.get(field, field)] + (labels if field == "optimizers" else [])
        assert any(w in text for w in words), (field, doc[field], warnings)


# --- the pages (AppTest): fewer examples ---------------------------------------------------------


def _visible_warnings(at: AppTest) -> str:
    return "\n".join(str(w.value) for w in at.warning)


def assert_warned(at: AppTest, warnings: list[str]) -> None:
    """The page shows the reader's warnings, each one escaped (the first 20, then a count)."""
    if warnings:
        body = _visible_warnings(at)
        assert "could not be used" in body
        for line in warning_lines(warnings)[:20]:
            assert line in body, line


def assert_page_is_safe(at: AppTest) -> None:
    """No exception; every warning line and every error message escaped."""
    assert_clean(at)
    for w in at.warning:
        escaped_box(str(w.value))
    for e in at.error:
        assert unescaped_markup(str(e.value)) is None, e.value


# The pages also take a tab (bound to its widget): the panels that read focus, scrub, the
# uploader and the grids are drawn too.
PLAYGROUND_TABS = st.sampled_from(["Paths", "Paths", "Internals", "Metrics & export", "**ZZ**"])
COMPARE_TABS = st.sampled_from(
    ["Small multiples", "Small multiples", "Sensitivity heatmap", "Basin map", ":red[ZZ]"]
)


@PAGES
@given(playground_links, PLAYGROUND_TABS)
def test_any_playground_link_opens_the_page_without_exception(query: dict[str, Any], tab: str) -> None:
    query = {**query, "pg.tab": tab}
    _, warnings = from_query(query)
    at = open_page(PLAYGROUND, query)
    assert_page_is_safe(at)
    assert_warned(at, warnings)


@PAGES
@given(compare_links, COMPARE_TABS)
def test_any_compare_link_opens_the_page_without_exception(query: dict[str, Any], tab: str) -> None:
    query = {**query, "cmp.tab": tab, "steps": "100"}  # one small step bucket: fast
    _, warnings = cmp.from_query(query)
    at = open_page(COMPARE, query)
    assert_page_is_safe(at)
    assert_warned(at, warnings)


@pytest.fixture(scope="module")
def metrics_tab() -> AppTest:
    at = open_page(PLAYGROUND, {"pg.tab": "Metrics & export", "steps": "100"})
    assert_clean(at)
    return at


def upload(at: AppTest, data: bytes, name: str = "setup.json") -> AppTest:
    uploader = next(u for u in at.get("file_uploader") if u.key == "pg.upload")
    uploader.set_value((name, data, "application/json")).run()
    return at


@settings(
    max_examples=10,
    deadline=None,
    derandomize=True,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture],
)
@given(doc=setup_docs)
def test_any_uploaded_setup_loads_without_exception(metrics_tab: AppTest, doc: dict[str, Any]) -> None:
    _, warnings = load_json(json.dumps(doc))
    at = upload(metrics_tab, json.dumps(doc).encode())
    assert_page_is_safe(at)
    assert_warned(at, warnings)


# --- regression tests: the examples of issue 7 ---------------------------------------------------


def _named(at: AppTest, fragment: str) -> None:
    """The rejected value is quoted in the warning (escaped: compare without backslashes)."""
    text = _visible_warnings(at).replace("\\", "").replace("\u200b", "")  # escapes, broken autolinks
    assert fragment in text, _visible_warnings(at)


# Each payload of the issue, in one link (one page run): every one quoted, none rendered.
MARKUP_LINK = {
    "steps": "**ZZ**",
    "s": "![x](//127.1:81/i)",
    "noise": "[ZZ](javascript:alert(1))",
    "o": ["$\\href{//127.1:81/k}{ZZ}$", "adam(b1=:red[ZZ])"],
    "classroom": ":red[ZZ]",
    "lesson": "<img src=//127.1:81/h>",
    "seed": "<https://127.1:81/z>",
}


def test_markup_from_the_link_is_quoted_and_escaped() -> None:
    at = open_page(PLAYGROUND, MARKUP_LINK)
    assert_page_is_safe(at)
    for shown in (
        "steps: '**ZZ**'",
        "surface: '![x](//127.1:81/i)'",
        "noise σ: '[ZZ](javascript:alert(1))'",
        "optimizer '$href{//127.1:81/k}{ZZ}$'",
        "Adam b1: ':red[ZZ]'",
        "classroom: ':red[ZZ]'",
        "lesson '<img src=//127.1:81/h>'",
        "seed: '<https://127.1:81/z>'",
    ):
        _named(at, shown)
    assert "ZZ" not in " ".join(str(m.value) for m in at.markdown)
    assert not at.info  # no lesson banner for an unknown lesson


def test_a_rejected_formula_from_the_link_is_escaped() -> None:
    at = open_page(PLAYGROUND, {"s": "custom", "f": "x + :red[ZZ]"})
    assert_page_is_safe(at)
    _named(at, "custom formula rejected")


def test_long_values_are_cut_in_the_message() -> None:
    at = open_page(PLAYGROUND, {"steps": "Z" * 1500})
    assert_page_is_safe(at)
    assert "Z" * 59 + "…" in _visible_warnings(at) and "Z" * 61 not in _visible_warnings(at)


# Values the old reader let past the widgets (Streamlit raised), in two links.
OVER_THE_WIDGETS: list[tuple[dict[str, Any], dict[str, float]]] = [
    (
        {
            "noise": "7",
            "sched": "step",
            "sched.decay_rate": "-5",
            "seed": "inf",
            "o": [
                "momentum(momentum=0.9999)",
                "adadelta(rho=0.9999,weight_decay=5)",
                "adagrad(initial_accumulator_value=50)",
                "rmsprop(initial_scale=50)",
                "adam(eps=0.5,learning_rate=50)",
                "lion(b2=0.3,weight_decay=1)",
            ],
        },
        {
            "pg.noise": 7.0,
            "pg.sched.decay_rate": DECAY_RATE_RANGE[0],
            "pg.seed": 0,
            "pg.e.0.momentum.momentum": 0.999,
            "pg.e.1.adadelta.rho": 0.999,
            "pg.e.1.adadelta.weight_decay": 0.1,
            "pg.e.2.adagrad.initial_accumulator_value": 1.0,
            "pg.e.3.rmsprop.initial_scale": 1.0,
            "pg.e.4.adam.eps.box": 0.5,
            "pg.e.4.adam.learning_rate.box": 50.0,  # log: the box shows it
            "pg.e.5.lion.b2": 0.5,
            "pg.e.5.lion.weight_decay": 0.1,
        },
    ),
    (
        {"noise": "50", "sched": "step", "sched.decay_rate": "0.02", "seed": "1e309"},
        {"pg.noise": NOISE_RANGE[1], "pg.sched.decay_rate": 0.02, "pg.seed": 0},
    ),
    ({"seed": "nan", "steps": "15", "noise": "-0"}, {"pg.seed": 0, "pg.steps": 15, "pg.noise": 0.0}),
    ({"seed": "9" * 40, "x0": "1e309", "y0": "-1e309"}, {"pg.seed": 0, "pg.x0": 0.0, "pg.y0": 0.0}),
]


@pytest.mark.parametrize(("query", "expected"), OVER_THE_WIDGETS)
def test_values_the_old_reader_let_past_the_widgets(
    query: dict[str, Any], expected: dict[str, float]
) -> None:
    at = open_page(PLAYGROUND, query)
    assert_page_is_safe(at)
    # The link's warnings show once, on the page the link opened (before any card is opened).
    _, warnings = from_query(query)
    assert ("could not be used" in _visible_warnings(at)) == bool(warnings)
    for key, value in expected.items():
        assert widget(at, key).value == pytest.approx(value), key


def test_compare_takes_the_same_values_without_exception() -> None:
    query = {
        "noise": "7",
        "seed": "1e309",
        "steps": "100",
        "cmp.bm": "adam(b2=0.3)",
        "cmp.hm": "momentum(momentum=0.9999)",
        "cmp.sw": "lion(b2=7)",
        "cmp.tol": "1e-9",
        "o": ["momentum(momentum=0.9999)", "adagrad(initial_accumulator_value=50)"],
    }
    at = open_page(COMPARE, query)
    assert_page_is_safe(at)
    assert widget(at, "cmp.w.noise").value == 7.0 and widget(at, "cmp.w.seed").value == 0
    assert widget(at, "cmp.w.tol").value == cmp.TOL_OPTIONS[0]
    for fragment in (
        "seed: '1e309'",
        "sweep optimizer: Lion b2: 7",
        "heatmap optimizer: Momentum",
        "Adagrad initial_accumulator_value: 50",
        "tolerance: 1e-09",
    ):
        _named(at, fragment)


def test_compare_warns_when_a_basin_hyperparameter_is_clamped() -> None:
    at = open_page(
        COMPARE, {"cmp.bm": "adam(b2=0.3)", "cmp.tab": "Basin map", "cmp.bm.n": "8", "steps": "100"}
    )
    assert_page_is_safe(at)
    _named(at, "basin optimizer: Adam b2: 0.3 is outside [0.5, 0.9999]; using 0.5.")
    assert widget(at, "cmp.w.bm.adam.b2").value == 0.5


def test_compare_caps_optimizers_and_says_how_many_were_dropped() -> None:
    names = sorted(OPTIMIZERS)
    at = open_page(COMPARE, {"o": [names[i % len(names)] for i in range(999)], "steps": "100"})
    assert_page_is_safe(at)
    _named(
        at, f"999 optimizers in the link; keeping the first {MAX_OPTIMIZERS}, {999 - MAX_OPTIMIZERS} dropped."
    )
    assert len(widget(at, "cmp.w.po.names").value) == MAX_OPTIMIZERS


def test_playground_caps_optimizers_with_a_count() -> None:
    at = open_page(PLAYGROUND, {"o": ["adam"] * 12})
    assert_page_is_safe(at)
    _named(at, "12 optimizers in the link; keeping the first 8, 4 dropped.")
    assert widget(at, "pg.e.7.name").value == "adam"
    with pytest.raises(KeyError):
        widget(at, "pg.e.8.name")


def test_compare_sweep_and_formula_errors_are_escaped() -> None:
    at = open_page(COMPARE, {"cmp.panels": "sweep", "steps": "100"})
    widget(at, "cmp.w.sw.vals.adam.b1").set_value("0.5, **ZZ**, [x](//127.1:81/i)").run()
    assert_page_is_safe(at)
    assert sum("Sweep value ignored" in e.value for e in at.error) == 2
    widget(at, "cmp.w.surface").set_value("custom").run()
    widget(at, "cmp.w.expression").set_value("x + :red[ZZ] + $\\href{//a}{b}$").run()
    assert_page_is_safe(at)
    assert any("formula" in e.value for e in at.error)


def test_playground_formula_error_is_escaped() -> None:
    at = open_page(PLAYGROUND, {"s": "custom", "f": "x**2 + y**2"})
    widget(at, "pg.expression").set_value("x + __import__(y)").run()
    assert_page_is_safe(at)
    (error,) = at.error
    assert "\\_\\_import\\_\\_" in error.value  # the name is quoted, as text (escaped)
    widget(at, "pg.expression").set_value("x + ![i](//127.1:81/i)").run()
    assert_page_is_safe(at)
    assert len(at.error) == 1


@pytest.mark.parametrize(
    ("query", "phrase"),
    [
        ({f"sp.p{i}": "1" for i in range(150)}, "150 surface parameters in the link; read the first 100"),
        (
            {"sched": "step", **{f"sched.k{i}": "1" for i in range(150)}},
            "150 schedule settings in the link; read the first 99",
        ),
        ({"classroom": "1", "hide": ",".join(["x"] * 150)}, "unknown controls to hide ignored"),
        (
            {f"zz{i}": "1" for i in range(150)},
            "unknown link parameters ignored: 'zz0', 'zz1', 'zz2', 'zz3', 'zz4' (and 145 more).",
        ),
    ],
)
def test_key_caps_give_one_bounded_warning(query: dict[str, str], phrase: str) -> None:
    setup, warnings = from_query(query)
    in_widget_ranges(setup)
    assert len(warnings) <= 3 and all(len(w) < 400 for w in warnings)
    assert any(phrase in w for w in warnings), warnings


def test_many_warnings_show_twenty_lines_and_a_count() -> None:
    query = {"o": ["adam(b1=x,b2=x,eps=x,learning_rate=x)"] * MAX_OPTIMIZERS}
    _, warnings = from_query(query)
    assert len(warnings) == 4 * MAX_OPTIMIZERS
    at = open_page(PLAYGROUND, query)
    assert_page_is_safe(at)
    (box,) = at.warning
    items = [line for line in str(box.value).splitlines() if line.startswith("- ")]
    assert len(items) == 21 and items[-1] == f"- … and {4 * MAX_OPTIMIZERS - 20} more\\."


# --- uploads ---------------------------------------------------------------------------------------


def test_upload_with_12000_unknown_hyperparameters_gives_two_warnings(metrics_tab: AppTest) -> None:
    doc = {"optimizers": [{"name": "adam", "hparams": {f"k{i}": 1 for i in range(12_000)}}]}
    data = json.dumps(doc).encode()
    assert len(data) < MAX_UPLOAD_BYTES
    _, warnings = load_json(data)
    assert len(warnings) == 2 and f"read the first {MAX_KEYS_PER_MAPPING}" in warnings[0]
    at = upload(metrics_tab, data)
    assert_page_is_safe(at)
    (box,) = [w for w in at.warning if "file had values" in w.value]
    assert len(box.value) < 1000


@pytest.mark.parametrize(
    ("doc", "key", "value"),
    [
        ({"noise": 7}, "pg.noise", 7.0),
        ({"noise": 70}, "pg.noise", NOISE_RANGE[1]),
        ({"schedule": {"kind": "step", "decay_rate": 0.02}}, "pg.sched.decay_rate", 0.02),
        ({"schedule": {"kind": "step", "decay_rate": 0.001}}, "pg.sched.decay_rate", DECAY_RATE_RANGE[0]),
        ({"seed": 1e300}, "pg.seed", SEED_RANGE[1]),
        (
            {"optimizers": [{"name": "momentum", "hparams": {"momentum": 0.9999}}]},
            "pg.e.0.momentum.momentum",
            0.999,
        ),
    ],
)
def test_uploaded_values_land_inside_the_widgets(
    metrics_tab: AppTest, doc: dict[str, Any], key: str, value: float
) -> None:
    at = upload(metrics_tab, json.dumps({**doc, "steps": 100}).encode(), f"{key}.json")
    assert_page_is_safe(at)
    assert widget(at, key).value == pytest.approx(value)


def test_oversized_upload_is_refused_before_parsing_and_keeps_the_setup() -> None:
    at = open_page(PLAYGROUND, {"pg.tab": "Metrics & export", "steps": "120"})
    big = b'{"steps": 300, "pad": "' + b"x" * MAX_UPLOAD_BYTES + b'"}'
    upload(at, big, "big.json")
    assert_page_is_safe(at)
    assert "larger than 200 kB" in _visible_warnings(at)
    assert widget(at, "pg.steps").value == 120  # the page's setup is kept, not reset


# --- classroom mode --------------------------------------------------------------------------------

HIDDEN_KEYS: dict[str, re.Pattern[str]] = {
    "surface": re.compile(r"pg\.(surface|expression|sp\..*)$"),
    "optimizers": re.compile(r"pg\.(add|e\.\d+\.(name|remove))$"),
    "hparams": re.compile(r"pg\.e\.\d+\.(preset|[a-z_]+\.[a-z_0-9]+(\.slider|\.box)?)$"),
    "schedule": re.compile(r"pg\.sched(\..*)?$"),
    "noise": re.compile(r"pg\.(noise|seed)$"),
    "start": re.compile(r"pg\.(x0|y0)$"),
    "steps": re.compile(r"pg\.steps$"),
}
CLASSROOM_LINK = {
    "s": "ravine",
    "sp.condition": "20",
    "steps": "150",
    "noise": "0.2",
    "sched": "step",
    "x0": "-2",
    "y0": "1",
    "o": ["adam(b1=0.5)@keras", "momentum(momentum=0.8)"],
}


def widget_keys(at: AppTest) -> list[str]:
    kinds = (
        "slider",
        "select_slider",
        "number_input",
        "selectbox",
        "text_input",
        "toggle",
        "checkbox",
        "multiselect",
        "radio",
        "button",
    )
    return [str(w.key) for kind in kinds for w in at.get(kind) if getattr(w, "key", None)]


@pytest.mark.parametrize("control", [*HIDEABLE_CONTROLS, "all"])
def test_classroom_mode_renders_no_widget_of_a_hidden_control(control: str) -> None:
    hidden = list(HIDEABLE_CONTROLS) if control == "all" else [control]
    at = open_page(PLAYGROUND, {**CLASSROOM_LINK, "classroom": "1", "hide": ",".join(hidden)})
    assert_page_is_safe(at)
    assert not at.warning
    keys = widget_keys(at)
    for name in hidden:
        assert not [k for k in keys if HIDDEN_KEYS[name].match(k)], (name, keys)
    for name in set(HIDEABLE_CONTROLS) - set(hidden):  # the others are still there
        assert [k for k in keys if HIDDEN_KEYS[name].match(k)], (name, keys)
    # The hidden values are the link's: the URL the page writes back holds the same setup.
    written, _ = from_query(dict(at.query_params))
    linked, _ = from_query({**CLASSROOM_LINK, "classroom": "1", "hide": ",".join(hidden)})
    assert effective(written) == effective(linked)


def effective(setup: Setup) -> Setup:
    """Omitted surface parameters spelled out (both forms run the same)."""
    return setup.with_changes(
        surface_params={
            p.name: float(setup.surface_params.get(p.name, p.default))
            for p in setup.resolved_surface().params
        }
    )


# --- the classroom link is URL-encoded ---------------------------------------------------------------


@pytest.mark.parametrize("formula", [*FORMULAS, "(x+y)/2 + x^2 - y*(1/3)", "(x − 1)² + 3·y²"])
def test_classroom_link_round_trips_formulas(formula: str) -> None:
    setup = Setup(
        surface=CUSTOM,
        expression=formula,
        classroom=True,
        hidden=("hparams", "noise"),
        optimizers=(OptimizerEntry.default("adam", "keras"),),
    )
    assert from_query(to_query(setup)) == (setup, [])  # the formula itself is valid
    text = query_string(to_query(setup))
    assert text.startswith("?") and " " not in text and text.count("%2B") == formula.count("+")
    parsed = parse_qs(text[1:], keep_blank_values=True, strict_parsing=True)
    query = {k: (v if k == "o" else v[-1]) for k, v in parsed.items()}
    assert from_query(query) == (setup, [])


@given(st.text(alphabet="xy+-*/^() 0123456789.ñü∑é", min_size=1, max_size=40))
@settings(max_examples=60, deadline=None, derandomize=True)
def test_query_string_round_trips_any_text(formula: str) -> None:
    text = query_string({"s": CUSTOM, "f": formula, "o": ["adam", "sgd@keras"]})
    parsed = parse_qs(text[1:], keep_blank_values=True)
    assert parsed["f"] == [formula] and parsed["o"] == ["adam", "sgd@keras"]


def test_classroom_expander_shows_an_encoded_link() -> None:
    formula = "x**2 + 3*y**2"
    at = open_page(PLAYGROUND, {"pg.tab": "Metrics & export", "s": "custom", "f": formula, "steps": "100"})
    widget(at, "pg.hide_pick").set_value(["hparams"]).run()
    assert_page_is_safe(at)
    # The whole link (page address + query) when the address is known; AppTest has none.
    (code,) = [c.value for c in at.code if "?" in str(c.value) and "classroom=1" in str(c.value)]
    parsed = parse_qs(str(code).split("?", 1)[1], keep_blank_values=True, strict_parsing=True)
    assert parsed["f"] == [formula] and parsed["classroom"] == ["1"] and parsed["hide"] == ["hparams"]
    setup, warnings = from_query({k: (v if k == "o" else v[-1]) for k, v in parsed.items()})
    assert warnings == [] and setup.expression == formula and setup.hidden == ("hparams",)


def test_setup_json_round_trip_is_unchanged_by_the_widget_ranges() -> None:
    """A file the page saved loads back silently (every saved value is one a widget shows)."""
    setup = Setup(noise=7.0, schedule=Schedule("step", decay_rate=0.02), steps=MAX_STEPS)
    assert load_json(to_json(setup)) == (setup, [])
