"""Compare's "Tune each optimizer" panel under AppTest: press Tune -> table and figure; Apply ->
the panels' hyperparameter widgets hold the tuned values and the link carries them."""

from __future__ import annotations

import math
from typing import Any

from app_helpers import assert_clean, figures, open_page, widget
from streamlit.testing.v1 import AppTest

from optim_core import OPTIMIZERS
from playground import compare as cmp
from playground.tune_view import tune_setup
from viz.tuning import TUNED_MARK, mark_name

PAGE = "app_pages/compare.py"
QUERY = {"steps": "100"}


def button(at: AppTest, key: str) -> Any:
    return next(b for b in at.button if b.key == key)


def tune_tables(at: AppTest) -> list[Any]:
    """The tuning table(s) on the page (AppTest does not expose a dataframe's key)."""
    return [df for df in at.dataframe if "α tuned" in df.value.columns]


def link_state(at: AppTest) -> cmp.CompareState:
    query: dict[str, str | list[str]] = {}
    for k in at.query_params:
        v = at.query_params[k]
        values = list(v) if isinstance(v, (list, tuple)) else [v]
        query[k] = values if k == "o" else values[0]
    state, warnings = cmp.from_query(query)
    assert not warnings, warnings
    return state


def test_tune_then_apply() -> None:
    at = open_page(PAGE, QUERY)
    assert_clean(at)
    state: cmp.CompareState = at.session_state["cmp.state"]
    assert not tune_tables(at)

    button(at, "cmp.tune.go").click().run()
    assert_clean(at)
    expected = tune_setup(state.setup, tol=state.tol)
    (table,) = tune_tables(at)
    shown = table.value
    assert list(shown["Optimizer"]) == [r.label for r in expected.rows]
    assert list(shown["α tuned"]) == [f"{r.alpha_tuned:.3g}" for r in expected.rows]
    curves = [f for f in figures(at) if any(t.get("name") == TUNED_MARK for t in f["data"])]
    assert len(curves) == 1
    names = {t.get("name") for t in curves[0]["data"]}
    assert {mark_name(label, TUNED_MARK) for label in expected.labels} <= names
    assert any("one line per optimizer, one point per learning rate" in c.value for c in at.caption)

    assert expected.changed
    button(at, "cmp.tune.apply").click().run()
    assert_clean(at)
    tuned = expected.tuned_setup.optimizers
    for entry in tuned:
        for hp, value in entry.hparams.items():
            if OPTIMIZERS[entry.name].hyperparam(hp).kind == "bool":
                continue
            held = at.session_state[f"cmp.w.po.{entry.name}.{hp}"]
            assert math.isclose(held, value, rel_tol=1e-9), (entry.name, hp, held, value)
    in_link = link_state(at).setup.optimizers
    assert [e.name for e in in_link] == [e.name for e in tuned]
    for got, want in zip(in_link, tuned, strict=True):
        for hp, value in want.hparams.items():
            assert math.isclose(got.hparams[hp], value, rel_tol=1e-4), (want.name, hp)
    # The small multiples now run the tuned values, and the panel says they were applied.
    run_state: cmp.CompareState = at.session_state["cmp.state"]
    assert run_state.setup.optimizers == tuned
    assert any("Tuned values applied" in s.value for s in at.success)
    assert not any(b.key == "cmp.tune.apply" for b in at.button)

    # A changed setup hides the stale result.
    widget(at, "cmp.w.noise").set_value(0.5).run()
    assert_clean(at)
    assert not tune_tables(at)
    assert any("press **Tune each optimizer** again" in c.value for c in at.caption)
