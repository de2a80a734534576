"""The setup JSON the Playground offers and its link agree on every field (issue 11), in Chromium.

A link sets every field of a setup away from its default; the page's "setup JSON" download and
the address bar then describe one and the same setup, field by field (dataclasses.fields), and
that setup is the one the link asked for.
"""

from __future__ import annotations

import dataclasses
import json
from typing import Any
from urllib.parse import parse_qs, urlencode, urlparse

import pytest

from optim_core.schedules import Schedule
from playground.setup import OptimizerEntry, Setup, from_json, from_query, to_query, validate

NOT_RUNNING = "() => !document.querySelector('[data-testid=\"stStatusWidget\"]')"

EVERY_FIELD = Setup(
    surface="ravine",
    surface_params={"condition": 30.0},
    noise=0.3,
    seed=7,
    steps=300,
    start=(-1.5, 1.25),
    schedule=Schedule("cosine", final_fraction=0.1),
    optimizers=(
        OptimizerEntry("adam", {"learning_rate": 0.02, "b1": 0.8}, "keras"),
        OptimizerEntry("sgd", {"learning_rate": 0.05}, "optax"),
        OptimizerEntry("momentum", {"learning_rate": 0.01, "momentum": 0.8}, "pytorch"),
    ),
    focus=1,
    scrub=5,
)


@pytest.fixture()
def page(tab: Any) -> Any:
    """This module's tests take turns in one shared tab (conftest's `tab`): each `goto` is
    still its own Streamlit session; the page loads without starting a new renderer."""
    return tab


def test_the_setup_json_and_the_link_agree_on_every_field(page: Any, base_url: str) -> None:
    wanted, adjusted = validate(EVERY_FIELD)
    assert adjusted == []
    defaults = Setup()
    differing = [
        f.name for f in dataclasses.fields(Setup) if getattr(wanted, f.name) != getattr(defaults, f.name)
    ]
    assert len(differing) >= 10, differing  # the link sets (nearly) every field
    query = {**to_query(wanted), "pg.tab": "Metrics & export"}
    page.goto(f"{base_url}/playground?{urlencode(query, doseq=True)}")
    button = page.get_by_role("button", name="setup JSON")
    button.wait_for(timeout=120_000)
    page.wait_for_function(NOT_RUNNING, timeout=120_000)
    with page.expect_download() as download:
        button.click()
    saved, warnings = from_json(open(download.value.path(), encoding="utf-8").read())
    assert warnings == [] and saved is not None
    linked, link_warnings = from_query(
        {k: v if len(v) > 1 else v[0] for k, v in parse_qs(urlparse(page.url).query).items()}
    )
    assert link_warnings == []
    for field in dataclasses.fields(Setup):
        name = field.name
        assert getattr(saved, name) == getattr(linked, name), (
            name,
            getattr(saved, name),
            getattr(linked, name),
        )
        assert getattr(saved, name) == getattr(wanted, name), (
            name,
            getattr(saved, name),
            getattr(wanted, name),
        )
    assert json.loads(open(download.value.path(), encoding="utf-8").read())["format"].startswith(
        "optimizer-playground/"
    )
