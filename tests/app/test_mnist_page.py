"""The MNIST page under streamlit.testing.v1.AppTest (no browser).

Training runs in a background thread (playground.mnist_page.TrainingJob); in a browser a
fragment polls it. AppTest does not run fragments on a timer, so `finish()` reruns the script
until the job has handed over its result, as the polling would. AppTest runs the page in this
process, so the page's module-level result cache is `mp.CACHE` here, and `mj.train`
(playground.mnist_jobs) can be wrapped to count (or slow down) trainings. Setups are tiny
(500 images, 1 epoch).
"""

from __future__ import annotations

import re
import time
from collections.abc import Iterator
from typing import Any

import pytest
from app_helpers import assert_clean, decode, figures, finish_job, open_page
from hostile import assert_escaped
from streamlit.testing.v1 import AppTest

from playground import mnist_jobs as mj
from playground import mnist_page as mp

PAGE = "app_pages/mnist.py"
TIMEOUT = 300  # a cold first run compiles the network (seconds, more on a busy machine)
TINY = {"o": ["adam@keras", "sgd@keras"], "n": "500", "epochs": "1", "batch": "64"}
JOB = mp.wkey("job")


@pytest.fixture(autouse=True)
def empty_cache() -> Iterator[None]:
    mp.CACHE.clear()
    yield
    mp.CACHE.clear()


@pytest.fixture()
def train_calls(monkeypatch: pytest.MonkeyPatch) -> list[int]:
    """Counts real trainings (the page reaches train() only through mnist_jobs.train)."""
    calls: list[int] = []
    real = mj.train

    def counted(*args: Any, **kwargs: Any) -> Any:
        calls.append(1)
        return real(*args, **kwargs)

    monkeypatch.setattr(mj, "train", counted)
    return calls


def new_app(query: dict[str, Any] | None = None) -> AppTest:
    return open_page(PAGE, query, TIMEOUT)


def running(at: AppTest) -> bool:
    return JOB in at.session_state


def finish(at: AppTest, timeout_s: float = 240.0) -> AppTest:
    """Rerun until the training job has ended and the page shows its result."""
    return finish_job(at, JOB, timeout_s)


def click(at: AppTest, key: str) -> AppTest:
    at.button(key=key).click().run()
    assert_clean(at)
    return at


def curve_figures(at: AppTest) -> list[dict[str, Any]]:
    """The charts with optimizer curves or paths (not the picture of the digits)."""
    return [f for f in figures(at) if any(t.get("type") == "scatter" for t in f["data"])]


def curve_names(fig: dict[str, Any]) -> set[str]:
    return {t["name"] for t in fig["data"] if t.get("type") == "scatter"}


def texts(elements: Any) -> str:
    return "\n".join(str(e.value) for e in elements)


def unescaped(markdown: str) -> str:
    """Escaped message text (safe_text.plain) as the reader sees it."""
    return re.sub(r"\\(.)", r"\1", markdown).replace("\u200b", "")


def table(at: AppTest, column: str) -> Any:
    """The first dataframe on the page that has `column`."""
    return next(df.value for df in at.dataframe if column in df.value.columns)


# --- tests ---------------------------------------------------------------------------------------


def test_renders_with_defaults_and_writes_the_link() -> None:
    at = new_app()
    assert_clean(at)
    assert not at.warning
    assert at.button(key=mp.wkey("run")).disabled is False
    assert at.button(key=mp.wkey("stop")).disabled is True
    assert "press **Run**" in texts(at.info)
    (digits,) = figures(at)  # nothing trains before Run: only the digits are shown
    assert digits["data"][0]["type"] == "heatmap"
    assert len(digits["layout"]["annotations"]) == 24  # each digit with its label
    assert at.query_params["model"] == "mlp"
    assert at.query_params["o"] == ["sgd@keras", "momentum@keras", "adam@keras", "adadelta@keras"]
    assert (at.query_params["epochs"], at.query_params["n"]) == ("5", "4000")
    # Adadelta at Keras's learning rate is in the default list: the explanation is offered (the
    # fix itself trains beside a run: tests/app/test_mnist_article_page.py).
    assert "Why Adadelta barely learns" in texts(at.markdown)


def test_run_trains_and_shows_curves_and_tables(train_calls: list[int]) -> None:
    at = new_app(TINY)
    assert_clean(at)
    click(at, mp.wkey("run"))
    # Started: still running, or (a tiny run on a loaded machine) already handed over by the
    # script run that started it.
    assert running(at) or train_calls == [1]
    finish(at)
    assert train_calls == [1]
    (fig,) = figures(at)
    assert curve_names(fig) == {"Adam", "SGD"}
    val_acc = [decode(t["y"]) for t in fig["data"] if t["name"] == "Adam"][-1]
    assert len(val_acc) == 2 and val_acc[1] > val_acc[0]  # epoch 0 and epoch 1: it learned
    summary = table(at, "accuracy (%)")
    assert list(summary["optimizer"]) == ["Adam", "SGD"]
    assert ((summary["accuracy (%)"] > 0) & (summary["accuracy (%)"] <= 100)).all()
    acc = table(at, "Adam")
    assert list(acc["epoch"]) == ["0 (start)", "1"]
    assert at.button(key=mp.wkey("stop")).disabled is True
    assert len(mp.CACHE) == 1


def test_a_finished_setup_comes_from_the_cache(train_calls: list[int]) -> None:
    at = finish(click(new_app(TINY), mp.wkey("run")))
    assert train_calls == [1]

    click(at, mp.wkey("run"))  # Run again on the same setup: shown at once, nothing trains
    assert not running(at) and train_calls == [1]
    assert "trained before" in texts(at.caption)

    at.number_input(key=mp.wkey("seed")).set_value(3).run()
    assert_clean(at)
    assert "settings have changed" in texts(at.info)  # the old run, clearly labelled
    at.number_input(key=mp.wkey("seed")).set_value(0).run()  # back: no Run needed
    assert "settings have changed" not in texts(at.info)
    assert "trained before" in texts(at.caption)
    assert curve_names(figures(at)[0]) == {"Adam", "SGD"}

    other = new_app(TINY)  # another visitor with the same link: instant, no Run
    assert_clean(other)
    assert curve_names(figures(other)[0]) == {"Adam", "SGD"}
    assert train_calls == [1]


def test_stop_keeps_what_was_trained(monkeypatch: pytest.MonkeyPatch) -> None:
    """A long run on a slow server: Stop ends it after the current chunk; the page then shows
    the partial epoch (and does not cache it)."""
    real = mj.train

    def slow_train(opts: Any, config: Any, data: Any, callback: Any, on_chunk: Any) -> Any:
        def chunk(done: int, total: int) -> bool:
            time.sleep(0.05)
            return on_chunk(done, total)

        return real(opts, config, data, callback=callback, on_chunk=chunk)

    monkeypatch.setattr(mj, "train", slow_train)
    at = new_app({"o": "adam@keras", "n": "8000", "epochs": "20", "batch": "16"})
    click(at, mp.wkey("run"))
    assert running(at)
    assert at.button(key=mp.wkey("stop")).disabled is False
    click(at, mp.wkey("stop"))
    finish(at, timeout_s=120)
    assert "Stopped because you pressed Stop" in texts(at.warning)
    acc = table(at, "Adam")
    assert 2 <= len(acc) < 21  # the start and fewer than the 20 epochs asked for
    assert (acc["Adam"].iloc[1:] > 10).all()  # what it trained was kept, and it learned
    assert len(mp.CACHE) == 0
    assert curve_names(curve_figures(at)[0]) == {"Adam"}, "the stopped run's curves are shown"


def test_bad_link_values_give_warnings_and_clamped_widgets() -> None:
    at = new_app(
        {
            "epochs": "500",
            "batch": "100",
            "model": "resnet",
            "n": "99999",
            "o": ["adam(learning_rate=1e9)@keras", "frobnicate"],
            "seed": "x",
        }
    )
    assert_clean(at)
    assert_escaped(texts(at.warning))
    warning = unescaped(texts(at.warning))
    assert "could not be used" in warning
    for words in (
        "epochs: 500 is outside",
        "batch size 100",
        "model",
        "99999",
        "frobnicate",
        "learning_rate: 1e+09 is outside",
        "seed",
    ):
        assert words in warning, words
    assert at.slider(key=mp.wkey("epochs")).value == mp.MAX_EPOCHS
    assert at.select_slider(key=mp.wkey("batch")).value == 128
    assert at.select_slider(key=mp.wkey("n")).value == 8000
    assert at.query_params["epochs"] == "20"  # the link now says what the page does
    assert at.query_params["o"] in ("adam(learning_rate=100)@keras", ["adam(learning_rate=100)@keras"])


def test_landscape_is_computed_on_request_and_kept() -> None:
    at = finish(click(new_app(TINY), mp.wkey("run")))
    assert len(figures(at)) == 1
    at.select_slider(key=mp.wkey("land_res")).set_value(11).run()
    click(at, mp.wkey("land_go"))
    curves, land = figures(at)
    contour = next(t for t in land["data"] if t["type"] == "contour")
    assert len(decode(contour["x"])) == 11
    assert {"Adam", "SGD"} <= {t.get("name") for t in land["data"]}
    at.run()  # a rerun draws it from the outcome, without the button
    assert len(figures(at)) == 2
    assert not [b for b in at.button if b.key == mp.wkey("land_go")]


def test_full_set_without_network_says_so(monkeypatch: pytest.MonkeyPatch) -> None:
    def no_network(*args: Any, **kwargs: Any) -> Any:
        raise mp.DownloadError("could not download train-images-idx3-ubyte.gz from any mirror")

    monkeypatch.setattr(mj, "load_full", no_network)
    monkeypatch.setattr(mp, "full_downloaded", lambda: False)  # the page asks
    monkeypatch.setattr(mj, "full_downloaded", lambda: False)  # the job asks
    monkeypatch.setattr(mj, "_data", {})
    at = new_app({**TINY, "data": "full"})
    assert "Run downloads it first" in texts(at.info)
    finish(click(at, mp.wkey("run")))
    error = texts(at.error)
    assert "could not be downloaded" in error and "offline sample" in error
    assert not curve_figures(at)

    at.radio(key=mp.wkey("data")).set_value("sample").run()  # the way out works
    finish(click(at, mp.wkey("run")))
    assert not at.error and curve_figures(at)


def test_returning_from_another_page_keeps_the_setup_and_result() -> None:
    at = finish(click(new_app(TINY), mp.wkey("run")))
    at.switch_page("app_pages/lessons.py").run()
    assert_clean(at)
    at.query_params.clear()  # navigating drops the page's query
    at.switch_page(PAGE).run()
    assert_clean(at)
    assert at.query_params["n"] == "500"
    assert curve_names(figures(at)[0]) == {"Adam", "SGD"}


def test_preset_picker_says_what_a_framework_lacks() -> None:
    at = open_page(PAGE, {"o": ["radam@keras", "adam@keras"]})
    assert_clean(at)
    captions = "\n".join(c.value for c in at.caption)
    assert "Keras 3 has no RAdam" in captions
    assert "Keras 3 has no Adam" not in captions


class _Holder:
    """A fake job holding an admission slot (no training): the queue's capacity is taken."""

    session: str | None = None
    peak_bytes: int = 0

    def gone(self) -> bool:
        return False

    def remaining_seconds(self) -> float:
        return 120.0

    def cancel(self, reason: str) -> None:
        pass


def test_a_training_memory_cannot_hold_is_refused_with_a_message(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(mj.QUEUE, "_memory", lambda: 100 * 2**20)  # 100 MB free
    monkeypatch.setattr(mj.QUEUE, "reserve", 0)
    at = click(new_app(TINY), mp.wkey("run"))
    assert not running(at)
    error = texts(at.error)
    assert "Not enough memory" in error and "100 MB free now" in error and "not queued" in error


def test_a_run_waits_in_the_queue_and_shows_its_position(train_calls: list[int]) -> None:
    holders = [_Holder() for _ in range(mj.QUEUE.capacity)]
    for h in holders:
        mj.QUEUE.submit(h)
        assert mj.QUEUE.try_admit(h) == "admitted"
    try:
        at = click(new_app(TINY), mp.wkey("run"))
        assert running(at)
        job = at.session_state[JOB]
        deadline = time.monotonic() + 30
        while job.phase != mp.QUEUED or job.queue_text() is None:
            assert time.monotonic() < deadline, "the job did not queue"
            time.sleep(0.02)
        at.run()
        shown = " ".join(p.proto.text for p in at.get("progress"))
        assert "Queued: position 1 of 1, about 2 min" in shown
        assert train_calls == []
    finally:
        for h in holders:
            mj.QUEUE.release(h)
    finish(at)
    assert train_calls == [1] and curve_figures(at)
