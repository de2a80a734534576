"""The Playground's "Tune each optimizer" (Metrics & export tab): tune, then apply to the cards."""

from __future__ import annotations

from app_helpers import assert_clean, open_page, widget

from playground.setup import from_query, validate
from playground.tune_view import tune_setup


def test_tune_then_apply_puts_the_tuned_values_in_the_cards_and_the_link() -> None:
    query = {"s": "rosenbrock", "o": ["sgd", "adam"], "steps": "200", "pg.tab": "Metrics & export"}
    at = open_page("app_pages/playground.py", query)
    assert_clean(at)
    tune = next(b for b in at.button if b.label.startswith("Tune each optimizer"))
    tune.click().run()
    assert_clean(at)
    setup, _ = validate(from_query({k: v for k, v in query.items() if k != "pg.tab"})[0])
    expected = tune_setup(setup).tuned_setup
    apply = next(b for b in at.button if b.label.startswith("Apply the tuned values"))
    apply.click().run()
    assert_clean(at)
    for i, entry in enumerate(expected.optimizers):
        alpha = entry.hparams["learning_rate"]
        assert any(o.startswith(entry.name) for o in at.query_params["o"])
        key = f"pg.e.{i}.{entry.name}.learning_rate"
        assert widget(at, key + ".box").value == alpha
