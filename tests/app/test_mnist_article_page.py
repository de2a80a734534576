"""The MNIST page's one-click article setting and the Adadelta fix shown beside the original run,
under AppTest (no browser). Trainings are tiny (MLP, 500 images, 1 epoch)."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from app_helpers import assert_clean, decode, figures, finish_job, open_page
from streamlit.testing.v1 import AppTest

from playground import mnist_jobs as mj
from playground import mnist_page as mp
from playground import training_cli
from training.optimizers import resolve_network_hparams

PAGE = "app_pages/mnist.py"
TIMEOUT = 300  # a cold first run compiles the network
TINY = {"o": ["sgd@keras", "adadelta@keras"], "n": "500", "epochs": "1", "batch": "64"}
JOB = mp.wkey("job")


@pytest.fixture(autouse=True)
def empty_cache() -> Iterator[None]:
    mp.CACHE.clear()
    yield
    mp.CACHE.clear()


@pytest.fixture()
def trained_setups(monkeypatch: pytest.MonkeyPatch) -> list[list[str]]:
    """The optimizers of every real training the page starts."""
    calls: list[list[str]] = []
    real = mj.train

    def counted(opts: Any, *args: Any, **kwargs: Any) -> Any:
        calls.append([o.name for o in opts])
        return real(opts, *args, **kwargs)

    monkeypatch.setattr(mj, "train", counted)
    return calls


def finish(at: AppTest) -> AppTest:
    return finish_job(at, JOB, 240.0)


def click(at: AppTest, key: str) -> AppTest:
    at.button(key=key).click().run()
    assert_clean(at)
    return at


def texts(elements: Any) -> str:
    return "\n".join(str(e.value) for e in elements)


def has_button(at: AppTest, key: str) -> bool:
    return any(b.key == key for b in at.button)


# --- the article's setting -----------------------------------------------------------------------


def test_article_button_sets_exactly_the_articles_setting_and_does_not_train(
    trained_setups: list[list[str]],
) -> None:
    at = open_page(PAGE, {"o": ["muon@optax", "adam(learning_rate=0.05)@pytorch"], "seed": "7"}, TIMEOUT)
    assert_clean(at)
    click(at, mp.wkey("article"))
    assert JOB not in at.session_state and trained_setups == []  # set, not run: Run is the user's
    setup = mp.read_setup(at.session_state)
    assert setup == mp.article_setup(7)  # the seed is kept: the article fixes none

    # ... and that is the CLI's --preset article, from the CLI's own resolution of its defaults.
    parser = training_cli.build_parser()
    cli = parser.parse_args(["--preset", "article"])
    training_cli._resolve_args(parser, cli)
    assert (setup.model, setup.epochs, setup.batch_size, setup.data) == (
        cli.model,
        cli.epochs,
        cli.batch_size,
        cli.data,
    )
    assert [e.name for e in setup.optimizers] == list(cli.names)
    for e in setup.optimizers:
        assert e.preset == cli.framework == "keras"
        assert dict(e.hparams) == resolve_network_hparams(e.name, None, "keras")
    assert setup.train_size == mp.MAX_TRAIN["full"]

    # The widgets show it, the link says it, the note names it; Run stays the user's to press.
    assert at.radio(key=mp.wkey("model")).value == "cnn"
    assert at.radio(key=mp.wkey("data")).value == "full"
    assert at.select_slider(key=mp.wkey("n")).value == setup.train_size
    assert at.slider(key=mp.wkey("epochs")).value == setup.epochs
    assert at.query_params["o"] == [f"{n}@keras" for n in cli.names]
    assert at.query_params["model"] == "cnn" and at.query_params["seed"] == "7"
    assert mp.article_note(setup) in texts(at.success)
    assert at.button(key=mp.wkey("run")).disabled is False
    assert "That is long" in texts(at.caption)  # the full article: the page says so before Run

    # The note goes once the setting is changed.
    at.slider(key=mp.wkey("epochs")).set_value(2).run()
    assert_clean(at)
    assert "The article's setting" not in texts(at.success)


def test_quick_article_button_sets_the_quick_version() -> None:
    at = open_page(PAGE, None, TIMEOUT)
    click(at, mp.wkey("article_quick"))
    assert mp.read_setup(at.session_state) == mp.article_quick_setup(0)
    assert mp.article_note(mp.article_quick_setup(0)) in texts(at.success)
    assert "That is long" not in texts(at.caption)


# --- the Adadelta fix beside the original --------------------------------------------------------


def traces(fig: dict[str, Any]) -> dict[str, list[dict[str, Any]]]:
    out: dict[str, list[dict[str, Any]]] = {}
    for t in fig["data"]:
        if t.get("type") == "scatter":
            out.setdefault(t["name"], []).append(t)
    return out


def test_fix_trains_adadelta_beside_the_run_and_shows_before_and_after(
    trained_setups: list[list[str]],
) -> None:
    at = open_page(PAGE, TINY, TIMEOUT)
    assert_clean(at)
    assert "Why Adadelta barely learns" in texts(at.markdown)
    assert not has_button(at, mp.wkey("fix_adadelta"))  # nothing to put the fix beside yet
    finish(click(at, mp.wkey("run")))
    [eid_sgd, eid_ada] = at.session_state[mp.wkey("entry_ids")]
    lr_key = mp.hparam_key(eid_ada, "adadelta", "learning_rate")

    click(at, mp.wkey("fix_adadelta"))
    # Started: still training, or (a tiny run on a loaded machine) already handed over by the
    # same script run that started it.
    assert JOB in at.session_state or mp.wkey("fix_outcome") in at.session_state
    finish(at)
    assert trained_setups == [["sgd", "adadelta"], ["adadelta"]]  # the fix trains Adadelta only
    assert at.session_state[lr_key] == pytest.approx(0.001)  # the settings (and link) are kept
    assert at.query_params["o"] == TINY["o"]

    curves = next(f for f in figures(at) if traces(f))
    by_name = traces(curves)
    before = "Adadelta, α = 0.001 (Keras default): before"
    after = "Adadelta, α = 1: after the fix"
    assert set(by_name) == {"SGD", before, after}
    assert {t["line"]["dash"] for t in by_name[after]} == {"dash"}
    assert {t["line"]["color"] for t in by_name[after]} == {t["line"]["color"] for t in by_name[before]}

    # The sentence under the chart is the one the numbers give.
    def val_acc(name: str) -> list[float]:
        return list(decode(by_name[name][-1]["y"]))  # the last panel: validation accuracy

    acc_before, acc_after = val_acc(before), val_acc(after)
    assert acc_before[0] == acc_after[0]  # the same start
    assert acc_after[-1] > acc_before[-1] + 0.2  # the fix learns
    sentence = next(m for m in texts(at.markdown).splitlines() if "before and after the fix" in m)
    assert f"reaches {acc_before[-1]:.1%} validation accuracy at α = 0.001 (Keras's default)" in sentence
    assert f"and {acc_after[-1]:.1%} at α = 1:" in sentence
    assert f"{(acc_after[-1] - acc_before[-1]) * 100:.1f} percentage points more." in sentence
    assert f"From the same start ({acc_before[0]:.1%})" in sentence

    assert not has_button(at, mp.wkey("fix_adadelta"))  # shown: no second offer
    assert "The fix is on the chart above" in texts(at.caption)
    assert "this box trains Adadelta" not in texts(at.caption)
    summary = next(df.value for df in at.dataframe if "accuracy (%)" in df.value.columns)
    assert list(summary["optimizer"]) == ["SGD", before, after]

    other = open_page(PAGE, TINY, TIMEOUT)  # the same link, another visitor: both, from the cache
    assert_clean(other)
    assert set(traces(next(f for f in figures(other) if traces(f)))) == {"SGD", before, after}
    assert len(trained_setups) == 2

    mp.CACHE.clear()  # evicted from the server's cache: this visitor still has both
    at.run()
    assert_clean(at)
    assert set(traces(next(f for f in figures(at) if traces(f)))) == {"SGD", before, after}
    assert not has_button(at, mp.wkey("fix_adadelta"))
