"""Hostile links on the Adam explained and MNIST pages: no exception, every rejected value warned
about, nothing echoed as markup.

Links are generated from each page's key grammar (README, "Share links and untrusted input")
with values from tests/app/hostile.py: ±inf, nan, 1e309, -0, denormals, unicode digits, long
strings, markup payloads, repeated and unknown keys. The pure readers (adam_demo.read_query,
mnist_page.from_query) take many examples; the pages themselves (AppTest, the whole app opened
on the page as a visitor's first request) take a few dozen. The property on both: never an
exception; a value read silently is exactly what the link says; a value not taken as it was has
a warning naming its key; every warning line is escaped. Then one regression test per example
named in issue 7 for these pages.
"""

from __future__ import annotations

import math
import re
import time
from typing import Any

import pytest
from app_helpers import assert_clean, open_page, widget
from hostile import MARKUP, assert_escaped, junk, unescaped_markup, values
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from streamlit.testing.v1 import AppTest

from optim_core import OPTIMIZERS, PRESETS
from playground import adam_demo as ad
from playground import mnist_jobs as mj
from playground import mnist_page as mp
from playground.safe_text import warning_lines

ADAM_PAGE = "app_pages/adam.py"
MNIST_PAGE = "app_pages/mnist.py"
TRUE_WORDS = ("1", "1.0", "true", "yes", "on")
FALSE_WORDS = ("0", "0.0", "false", "no", "off")

# --- the link grammar ----------------------------------------------------------------------------


def _adam_value(key: str) -> st.SearchStrategy[str]:
    spec = ad.WIDGETS[key]
    good: list[str] = [spec.label(o) for o in spec.options] if spec.options else []
    if spec.kind == "float":
        good = [f"{spec.low:g}", f"{spec.high:g}", f"{(spec.low + spec.high) / 2:g}"]
    elif spec.kind == "int":
        good = [str(int(spec.low)), str(int(spec.high)), "3"]
    elif spec.kind == "bool":
        good = ["true", "false"]
    return st.one_of(st.sampled_from(good), values())


def _query(keys: st.SearchStrategy[str], value_for: Any) -> st.SearchStrategy[dict[str, Any]]:
    """A query: each key once or repeated (a list: the last one counts), values per key."""

    def one(key: str) -> st.SearchStrategy[tuple[str, Any]]:
        return st.tuples(
            st.just(key), st.one_of(value_for(key), st.lists(value_for(key), min_size=2, max_size=3))
        )

    return st.lists(keys.flatmap(one), max_size=8).map(dict)


ADAM_KEYS = st.one_of(
    st.sampled_from(list(ad.WIDGETS)),
    junk().map(lambda s: "adam." + s[:40]),  # unknown keys of this page
    st.sampled_from(["s", "o", "steps", "x"]),
)  # other pages' keys
ADAM_LINKS = _query(ADAM_KEYS, lambda k: _adam_value(k) if k in ad.WIDGETS else values())

HP_NAMES = sorted({h.name for spec in OPTIMIZERS.values() for h in spec.hyperparams})


def _optimizer_text() -> st.SearchStrategy[str]:
    """`name(hp=value,...)@preset` with every part possibly hostile, or plain junk."""
    name = st.one_of(st.sampled_from(list(OPTIMIZERS)), junk())
    arg = st.tuples(st.one_of(st.sampled_from(HP_NAMES), junk()), values()).map(lambda kv: f"{kv[0]}={kv[1]}")
    preset = st.one_of(
        st.just(""), st.sampled_from([f"@{p}" for p in PRESETS]), junk().map(lambda s: "@" + s)
    )
    built = st.tuples(name, st.lists(arg, max_size=3), preset).map(
        lambda t: t[0] + (f"({','.join(t[1])})" if t[1] else "") + t[2]
    )
    return st.one_of(built, junk())


def _mnist_value(key: str) -> st.SearchStrategy[Any]:
    good = {
        "model": list(mp.MODEL_NAMES),
        "data": list(mp.DATA_SOURCES),
        "epochs": ["1", "20"],
        "batch": [str(b) for b in mp.BATCH_SIZES],
        "n": ["500", "8000"],
        "seed": ["0", "7"],
    }
    if key == "o":
        return st.lists(_optimizer_text(), min_size=1, max_size=mp.MAX_OPTIMIZERS + 4)
    return st.one_of(st.sampled_from(good.get(key, ["1"])), values())


MNIST_KEYS = st.one_of(st.sampled_from(list(mp.QUERY_KEYS)), junk().map(lambda s: s[:40]))
MNIST_LINKS = st.lists(MNIST_KEYS.flatmap(lambda k: st.tuples(st.just(k), _mnist_value(k))), max_size=8).map(
    dict
)

# --- the property ------------------------------------------------------------------------------


def _last(raw: Any) -> str:
    return raw[-1] if isinstance(raw, list) else raw


def _number(text: str) -> float | None:
    try:
        return float(text)
    except (ValueError, OverflowError):
        return None


def _whole(text: str) -> int | None:
    return int(text.strip()) if re.fullmatch(r"[+-]?\d+", text.strip()) else None


def adam_read_faithfully(key: str, raw: str, value: Any) -> bool:
    """`value` is exactly what `raw` says for this widget (so no warning was owed)."""
    spec = ad.WIDGETS[key]
    if spec.kind == "float":
        return _number(raw) == value
    if spec.kind == "int":
        return _whole(raw) == value
    if spec.kind == "bool":
        return raw.lower() in (TRUE_WORDS if value else FALSE_WORDS)
    return raw == spec.label(value) or (not isinstance(value, str) and _number(raw) == value)


def check_adam(query: dict[str, Any], read: dict[str, Any], warnings: list[str]) -> None:
    for key, raw in query.items():
        if key not in ad.WIDGETS:
            continue
        named = any(w.startswith(key + ":") for w in warnings)
        assert named or adam_read_faithfully(key, _last(raw), read[key]), (key, raw, read[key])
    unknown = [k for k in query if k.startswith("adam.") and k not in ad.WIDGETS]
    told = sum(w.startswith("unknown link parameter") for w in warnings)
    assert told == min(len(unknown), ad.MAX_UNKNOWN_KEYS_NAMED)
    if len(unknown) > ad.MAX_UNKNOWN_KEYS_NAMED:
        assert any("more unknown link parameters" in w for w in warnings)
    for key, spec in ad.WIDGETS.items():  # whatever happened, each widget can show its value
        value = read[key]
        if spec.kind in ("float", "int"):
            assert math.isfinite(value) and spec.low <= value <= spec.high, (key, value)
        elif spec.kind == "bool":
            assert isinstance(value, bool)
        else:
            assert value in spec.options, (key, value)
    for line in warning_lines(warnings):
        assert unescaped_markup(line) is None, line


MNIST_FIELDS = {
    "model": ("model", str),
    "data": ("data", str),
    "epochs": ("epochs", _whole),
    "batch": ("batch_size", _whole),
    "n": ("train_size", _whole),
    "seed": ("seed", _whole),
}
MNIST_WHAT = {
    "model": "model",
    "data": "data",
    "epochs": "epochs",
    "batch": "batch size",
    "n": "training images",
    "seed": "seed",
}


def check_mnist(query: dict[str, Any], setup: mp.MnistSetup, warnings: list[str]) -> None:
    for key, (field, parse) in MNIST_FIELDS.items():
        if key in query:
            named = any(MNIST_WHAT[key] in w or w.startswith(key + ":") for w in warnings)
            assert named or parse(_last(query[key])) == getattr(setup, field), (key, query[key])
    if "o" in query:
        items = query["o"] if isinstance(query["o"], list) else [query["o"]]
        if len(items) > mp.MAX_OPTIMIZERS:
            assert any(f"keeping the first {mp.MAX_OPTIMIZERS}" in w for w in warnings)
        if not warnings:
            assert len(setup.optimizers) == len(items)
    unknown = [k for k in query if k not in mp.QUERY_KEYS]
    assert sum(w.startswith("unknown link parameter") for w in warnings) == min(
        len(unknown), mp.MAX_UNKNOWN_KEYS_NAMED
    )
    # Inside the caps, and every value inside its widget's range.
    assert setup.model in mp.MODEL_NAMES and setup.data in mp.DATA_SOURCES
    assert 1 <= setup.epochs <= mp.MAX_EPOCHS and setup.batch_size in mp.BATCH_SIZES
    assert setup.train_size in mp.train_sizes(setup.data) and 0 <= setup.seed < 2**31
    assert 1 <= len(setup.optimizers) <= mp.MAX_OPTIMIZERS
    for e in setup.optimizers:
        for h in OPTIMIZERS[e.name].hyperparams:
            if h.kind != "bool":
                assert h.low <= e.hparams[h.name] <= h.high, (e.name, h.name, e.hparams[h.name])
    for line in warning_lines(warnings):
        assert unescaped_markup(line) is None, line


@settings(max_examples=200, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(ADAM_LINKS)
def test_adam_reader_any_link(query: dict[str, Any]) -> None:
    read, warnings = ad.read_query(query)
    check_adam(query, read, warnings)
    again, more = ad.read_query(ad.to_query(read))  # the URL written back reads cleanly
    assert (again, more) == (read, [])


@settings(max_examples=200, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(MNIST_LINKS)
def test_mnist_reader_any_link(query: dict[str, Any]) -> None:
    setup, warnings = mp.from_query(query)
    check_mnist(query, setup, warnings)
    assert mp.from_query(mp.to_query(setup)) == (setup, [])


# --- the pages under AppTest ----------------------------------------------------------------------


def warning_bodies(at: AppTest) -> list[str]:
    return [str(w.value) for w in at.warning]


def check_page_warnings(at: AppTest, expected: list[str]) -> None:
    assert_clean(at)
    bodies = warning_bodies(at)
    assert bool(bodies) == bool(expected), (bodies, expected)
    for body in bodies:
        assert_escaped(body)


@settings(
    max_examples=12,
    deadline=None,
    derandomize=True,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)
@given(ADAM_LINKS)
def test_adam_page_any_link(query: dict[str, Any]) -> None:
    at = open_page(ADAM_PAGE, query)
    read, warnings = ad.read_query(query)
    check_page_warnings(at, warnings)
    for key in ad.WIDGETS:
        assert widget(at, key).value == read[key], key


@settings(
    max_examples=12,
    deadline=None,
    derandomize=True,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)
@given(MNIST_LINKS)
def test_mnist_page_any_link(query: dict[str, Any]) -> None:
    at = open_page(MNIST_PAGE, query)
    setup, warnings = mp.from_query(query)
    check_page_warnings(at, warnings)
    assert at.session_state[mp.wkey("epochs")] == setup.epochs
    assert at.session_state[mp.wkey("n")] == setup.train_size
    assert at.session_state[mp.wkey("seed")] == setup.seed
    assert len(at.session_state[mp.wkey("entry_ids")]) == len(setup.optimizers)


# --- regressions: the examples of issue 7 on these pages ------------------------------------------


def unescaped(markdown: str) -> str:
    return re.sub(r"\\(.)", r"\1", markdown).replace("\u200b", "")


def page_warning(at: AppTest) -> str:
    bodies = warning_bodies(at)
    for body in bodies:
        assert_escaped(body)
    return unescaped("\n".join(bodies))


@pytest.mark.parametrize("raw", ["inf", "-inf", "1e309", "nan", "9" * 40, "١٢x"])
def test_adam_seed_inf_is_read_not_raised(raw: str) -> None:
    """/adam?adam.seed=inf raised OverflowError (int(inf)) inside Streamlit's URL binding."""
    at = open_page(ADAM_PAGE, {"adam.seed": raw})
    assert_clean(at)
    assert "adam.seed" in page_warning(at)
    assert widget(at, "adam.seed").value == 0
    assert "adam.seed" not in at.query_params  # the URL says what the page shows


@pytest.mark.parametrize(
    "key, raw, expect",
    [
        ("adam.b2.b2", "7", 0.999),
        ("adam.b2.b2", "-1e309", 0.6),
        ("adam.adam.b2", "0.99999", 0.9999),
        ("adam.gd.lr", "5e-324", 0.02),
        ("adam.mom.b1", "-0.5", 0.0),
        ("adam.gd.batch", "100", 128),
        ("adam.rms.scale", "1e9", 1e4),
        ("adam.eps.g", "0", 1e-6),
    ],
)
def test_adam_values_outside_a_widget_are_clamped_with_a_warning(key: str, raw: str, expect: Any) -> None:
    """Numbers past a slider are clamped to it (non-finite ones: the default), numbers between
    a select slider's options go to the nearest option; each with a warning."""
    at = open_page(ADAM_PAGE, {key: raw})
    assert_clean(at)
    assert key in page_warning(at)
    assert widget(at, key).value == expect


ADAM_ECHOING_KEYS = (
    "adam.mom.stream",
    "adam.rms.stream",
    "adam.adam.stream",
    "adam.b2.stream",
    "adam.b2.b2",
    "adam.adam.b2",
    "adam.gd.lr",
    "adam.seed",
    "adam.adam.bc",
    "adam.eps.g",
    "adam.gd.batch",
    "adam.rms.scale",
)


def test_adam_markup_in_a_link_is_shown_as_text() -> None:
    """Every payload of the issue, one per key (each key echoes its value in a warning)."""
    assert len(ADAM_ECHOING_KEYS) >= len(MARKUP)
    query = dict(zip(ADAM_ECHOING_KEYS, MARKUP))
    at = open_page(ADAM_PAGE, {**query, "adam." + MARKUP[0]: "1"})
    assert_clean(at)
    text = page_warning(at).replace("\\", "")  # asserts every line escaped first
    for key, payload in query.items():
        assert key in text and payload[:20].replace("\\", "") in text, (key, payload)


@pytest.mark.parametrize(
    "o, name, hp, high",
    [
        ("momentum(momentum=0.9999)", "momentum", "momentum", 0.999),
        ("adadelta(rho=0.9999)", "adadelta", "rho", 0.999),
        ("adagrad(initial_accumulator_value=50)", "adagrad", "initial_accumulator_value", 1.0),
        ("adamw(weight_decay=5)", "adamw", "weight_decay", 0.1),
        ("rmsprop(initial_scale=7)", "rmsprop", "initial_scale", 1.0),
    ],
)
def test_mnist_values_past_a_slider_are_clamped_not_raised(o: str, name: str, hp: str, high: float) -> None:
    """?o=momentum(momentum=0.9999) passed the reader but not the slider (max 0.999):
    StreamlitValueAboveMaxError. Now the link is read to the slider's range, with a warning."""
    at = open_page(MNIST_PAGE, {"o": [o]})
    assert_clean(at)
    assert hp in page_warning(at)
    [eid] = at.session_state[mp.wkey("entry_ids")]
    assert at.session_state[mp.hparam_key(eid, name, hp)] == pytest.approx(high)


def test_mnist_b2_below_the_slider_warns() -> None:
    at = open_page(MNIST_PAGE, {"o": ["adam(b2=0.3)@keras"]})
    assert_clean(at)
    assert "b2" in page_warning(at)
    [eid] = at.session_state[mp.wkey("entry_ids")]
    assert at.session_state[mp.hparam_key(eid, "adam", "b2")] == 0.5


def test_mnist_caps_the_optimizers_of_a_link() -> None:
    at = open_page(MNIST_PAGE, {"o": ["adam@keras"] * 1000})
    assert_clean(at)
    assert f"1000 optimizers requested; keeping the first {mp.MAX_OPTIMIZERS}" in page_warning(at)
    assert len(at.session_state[mp.wkey("entry_ids")]) == mp.MAX_OPTIMIZERS
    assert len(at.query_params["o"]) == mp.MAX_OPTIMIZERS  # the URL says what the page does


@pytest.mark.parametrize("half", [MARKUP[: len(MARKUP) // 2], MARKUP[len(MARKUP) // 2 :]])
def test_mnist_markup_in_a_link_is_shown_as_text(half: tuple[str, ...]) -> None:
    """The payloads of the issue in an optimizer, its hyperparameters, its preset, the scalar
    keys and an unknown key: every echo is escaped."""
    first, second, third, *rest = half
    o = [first, f"adam(learning_rate={second})", f"sgd({third}=1)@{third}"]
    scalars = dict(zip(("model", "data", "seed"), rest))
    at = open_page(MNIST_PAGE, {"o": o, **scalars, half[0]: "1"})
    assert_clean(at)
    text = page_warning(at).replace("\\", "")
    for payload in half:
        assert payload[:20].replace("\\", "") in text, payload


@pytest.mark.parametrize("raw", ["inf", "1e309", "-0", "5e-324", "１２", "½", " 3 "])
def test_mnist_numbers_of_every_kind(raw: str) -> None:
    at = open_page(
        MNIST_PAGE,
        {"epochs": raw, "seed": raw, "n": raw, "batch": raw, "o": [f"adam(learning_rate={raw},b2={raw})"]},
    )
    setup, warnings = mp.from_query(
        {"epochs": raw, "seed": raw, "n": raw, "batch": raw, "o": [f"adam(learning_rate={raw},b2={raw})"]}
    )
    check_page_warnings(at, warnings)
    assert at.session_state[mp.wkey("epochs")] == setup.epochs


def test_mnist_job_error_is_escaped(monkeypatch: pytest.MonkeyPatch) -> None:
    """A job's error (e.g. a mirror's message) is untrusted text: shown escaped."""

    def broken(*args: Any, **kwargs: Any) -> Any:
        raise RuntimeError("![x](//127.1:81/i) see http://127.1:81/auto :red[ZZ]")

    monkeypatch.setattr(mj, "train", broken)
    mp.CACHE.clear()
    at = open_page(MNIST_PAGE, {"o": ["adam@keras"], "n": "500", "epochs": "1"})
    at.button(key=mp.wkey("run")).click().run()
    deadline = time.monotonic() + 60
    while mp.wkey("job") in at.session_state:  # the page hands over the job's end
        assert time.monotonic() < deadline, "the failing job did not end"
        time.sleep(0.05)
        at.run()
    assert_clean(at)
    (error,) = at.error
    assert unescaped_markup(str(error.value)) is None, error.value
    assert "127.1:81" in unescaped(str(error.value))
