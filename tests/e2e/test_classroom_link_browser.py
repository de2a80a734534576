"""The classroom link through a real browser's address bar: every surface, and custom formulas
with + * / ^ ( ) and unicode, come back as the same setup.

The link is built by the one encoder the page uses (`setup.query_string(to_query(setup))`),
typed into Chromium's address bar (page.goto), and read back twice: from the formula box the
page shows, and from the URL the page writes back after it has validated what it read.
"""

from __future__ import annotations

from typing import Any
from urllib.parse import parse_qs, urlsplit

import pytest

from playground.setup import CUSTOM, OptimizerEntry, Setup, from_query, query_string, to_query
from surfaces import SURFACES

FORMULAS = ["x**2 + 3*y**2", "(x+y)/2 + x^2 - y*(1/3)", "(x − 1)² + 3·y²"]
CASES = [(name, None) for name in SURFACES] + [(CUSTOM, f) for f in FORMULAS]


@pytest.fixture()
def page(tab: Any) -> Any:
    """This module's tests take turns in one shared tab (conftest's `tab`): each `goto` is
    still its own Streamlit session; the page loads without starting a new renderer."""
    return tab


def classroom_setup(surface: str, formula: str | None) -> Setup:
    base = Setup(
        surface=surface,
        steps=200,
        classroom=True,
        hidden=("hparams", "noise"),
        optimizers=(OptimizerEntry.default("sgd"), OptimizerEntry.default("adam", "keras")),
    )
    return base.with_changes(expression=formula) if formula is not None else base


def effective(setup: Setup) -> Setup:
    """Omitted surface parameters spelled out (both forms run the same setup)."""
    params = {
        p.name: float(setup.surface_params.get(p.name, p.default)) for p in setup.resolved_surface().params
    }
    return setup.with_changes(surface_params=params)


def setup_in_address_bar(page: Any) -> Setup:
    parsed = parse_qs(urlsplit(page.url).query, keep_blank_values=True)
    query = {k: (v if k == "o" else v[-1]) for k, v in parsed.items()}
    setup, warnings = from_query(query)
    assert not warnings, warnings
    return setup


@pytest.mark.parametrize(("surface", "formula"), CASES, ids=[f or s for s, f in CASES])
def test_classroom_link_round_trips_through_the_address_bar(
    page: Any, base_url: str, surface: str, formula: str | None
) -> None:
    setup = classroom_setup(surface, formula)
    link = f"{base_url}/playground{query_string(to_query(setup))}"
    page.goto(link)
    page.wait_for_selector(".js-plotly-plot .main-svg")
    if formula is not None:
        box = page.get_by_label("f(x, y) =", exact=True)
        box.wait_for()
        assert box.input_value() == formula
    # The page writes the validated setup back into the URL: it is the link's setup.
    page.wait_for_function("() => new URLSearchParams(location.search).has('o')")
    assert effective(setup_in_address_bar(page)) == effective(setup)
    assert not page.locator("[data-testid=stAlert]").filter(has_text="could not be used").count()
