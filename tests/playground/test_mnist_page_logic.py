"""The MNIST page's logic (playground.mnist_page), without Streamlit.

The setup codec is fed hostile links (it must always answer with a setup inside the caps and a
warning, never an exception); the widget-state helpers run on a plain dict; training jobs run
for real on tiny data (a few hundred images, one epoch), with Stop pressed from inside the
training to check that what was trained is kept.
"""

from __future__ import annotations

import json
import math
import os
import pathlib
import subprocess
import sys
import textwrap
import threading
import time
from typing import Any

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from optim_core import OPTIMIZERS, PRESETS, resolve_hparams
from playground import mnist_jobs as mj
from playground import mnist_page as mp
from playground.setup import OptimizerEntry, widget_range
from training import DownloadError, EpochRecord, RunResult, TrainConfig, TrainResult

TINY = dict(train_size=500, epochs=1, batch_size=64)
ROOT = pathlib.Path(__file__).resolve().parents[2]


def entry(name: str, preset: str = "keras", **hp: float) -> OptimizerEntry:
    return OptimizerEntry(name, resolve_hparams(name, hp, preset), preset)


@pytest.fixture(autouse=True)
def empty_cache() -> Any:
    mp.CACHE.clear()
    yield
    mp.CACHE.clear()


# --- the setup and its URL ---------------------------------------------------------------------


def test_default_setup_is_small_mlp_at_keras_defaults_with_adadelta() -> None:
    s = mp.MnistSetup()
    assert (s.model, s.data, s.epochs, s.batch_size, s.train_size) == ("mlp", "sample", 5, 64, 4000)
    assert [e.name for e in s.optimizers] == ["sgd", "momentum", "adam", "adadelta"]
    assert all(e.preset == "keras" for e in s.optimizers)
    assert s.optimizers[2].hparams["eps"] == pytest.approx(1e-7)  # Keras's ε, not optax's


def test_default_round_trips_without_warnings() -> None:
    setup, warnings = mp.from_query(mp.to_query(mp.MnistSetup()))
    assert warnings == []
    assert setup == mp.MnistSetup()


def test_empty_query_is_the_default() -> None:
    assert mp.from_query({}) == (mp.MnistSetup(), [])


def test_non_default_round_trips() -> None:
    s = mp.MnistSetup(
        model="cnn",
        optimizers=(
            entry("adam", "pytorch", learning_rate=0.01),
            entry("adam"),
            mp.fix_adadelta(mp.MnistSetup(optimizers=(entry("adadelta"),))).optimizers[0],
            entry("rmsprop", "optax"),
            entry("lion"),
        ),
        epochs=7,
        batch_size=128,
        data="full",
        train_size=30000,
        seed=42,
    )
    query = mp.to_query(s)
    assert query["o"][0] == "adam(learning_rate=0.01)@pytorch"
    assert query["o"][1] == "adam@keras"
    assert query["o"][2] == "adadelta(learning_rate=1)@keras"
    back, warnings = mp.from_query(query)
    assert warnings == []
    assert back == s
    assert back.key() == s.key()


def test_a_single_optimizer_string_and_a_missing_preset_mean_keras() -> None:
    setup, warnings = mp.from_query({"o": "adam"})
    assert warnings == []
    assert setup.optimizers == (entry("adam"),)


def test_one_range_policy_with_the_playground() -> None:
    """A log hyperparameter's typed box takes any valid value on both pages (widget_range)."""
    from playground.setup import from_query as playground_from_query

    setup, warnings = mp.from_query({"o": ["adam(learning_rate=50)@keras"]})
    assert warnings == [] and setup.optimizers[0].hparams["learning_rate"] == 50
    pg, pg_warnings = playground_from_query({"o": "adam(learning_rate=50)@keras"})
    assert pg_warnings == [] and pg.optimizers[0].hparams["learning_rate"] == 50


@pytest.mark.parametrize(
    "query, expect, words",
    [
        ({"model": "resnet"}, lambda s: s.model == "mlp", "model"),
        ({"epochs": "999"}, lambda s: s.epochs == mp.MAX_EPOCHS, "outside"),
        ({"epochs": "0"}, lambda s: s.epochs == 1, "outside"),
        ({"epochs": "five"}, lambda s: s.epochs == 5, "not a whole number"),
        ({"batch": "100"}, lambda s: s.batch_size == 128, "not one of"),
        ({"batch": "-3"}, lambda s: s.batch_size in mp.BATCH_SIZES, "batch size"),
        ({"n": "9000"}, lambda s: s.train_size == 8000, "more than the sample"),
        ({"n": "100000", "data": "full"}, lambda s: s.train_size == 60000, "more than the full"),
        ({"n": "3000"}, lambda s: s.train_size == 2000, "not one of"),
        ({"data": "imagenet"}, lambda s: s.data == "sample", "data"),
        ({"seed": "-1"}, lambda s: s.seed == 0, "outside"),
        ({"seed": "1e400"}, lambda s: s.seed == 0, "not a whole number"),
        ({"o": ["adam"] * 9}, lambda s: len(s.optimizers) == mp.MAX_OPTIMIZERS, "keeping the first 6"),
        ({"o": ["adam", "frobnicate"]}, lambda s: [e.name for e in s.optimizers] == ["adam"], "unknown"),
        ({"o": ["adam((("]}, lambda s: s.optimizers == mp.MnistSetup().optimizers, "malformed"),
        (
            {"o": ["adam(learning_rate=1e9)"]},
            lambda s: (
                s.optimizers[0].hparams["learning_rate"]
                == widget_range(OPTIMIZERS["adam"].hyperparam("learning_rate"))[1]
            ),
            "outside",
        ),
        (
            {"o": ["adam(learning_rate=nan)"]},
            lambda s: s.optimizers[0].hparams["learning_rate"] == pytest.approx(0.001),
            "not finite",
        ),
        ({"o": ["adam(gamma=3)"]}, lambda s: s.optimizers[0] == entry("adam"), "no hyperparameter"),
        ({"o": ["adam@tensorflow"]}, lambda s: s.optimizers[0].preset == "optax", "preset"),
        (
            {"o": ["nope", "neither"]},
            lambda s: s.optimizers == mp.MnistSetup().optimizers,
            "no usable optimizer",
        ),
        ({"seed": "1" * 5000}, lambda s: s.seed == 0, "seed: value"),
    ],
)
def test_bad_values_fall_back_with_a_warning(query: dict[str, Any], expect: Any, words: str) -> None:
    setup, warnings = mp.from_query(query)
    assert expect(setup), setup
    assert any(words in w for w in warnings), warnings


_text = st.text(alphabet=st.characters(codec="utf-8", exclude_categories=("Cs",)), max_size=60)
_value = st.one_of(
    _text,
    st.sampled_from(
        ["0", "-1", "1e9", "64", "nan", "inf", "full", "cnn", "adam(learning_rate=1e9)@keras", "sgd@optax"]
    ),
)


@settings(max_examples=200, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    st.dictionaries(
        st.sampled_from(["model", "o", "epochs", "batch", "data", "n", "seed", "x"]),
        st.one_of(_value, st.lists(_value, max_size=10)),
        max_size=8,
    )
)
def test_any_query_gives_a_setup_inside_the_caps(query: dict[str, Any]) -> None:
    setup, warnings = mp.from_query(query)
    assert isinstance(warnings, list)
    assert setup.model in mp.MODEL_NAMES and setup.data in mp.DATA_SOURCES
    assert 1 <= setup.epochs <= mp.MAX_EPOCHS
    assert setup.batch_size in mp.BATCH_SIZES
    assert setup.train_size in mp.train_sizes(setup.data)
    assert 1 <= len(setup.optimizers) <= mp.MAX_OPTIMIZERS
    for e in setup.optimizers:
        for h in OPTIMIZERS[e.name].hyperparams:
            low, high = widget_range(h)
            assert low <= e.hparams[h.name] <= high
    # ...and what comes out survives its own round trip
    assert mp.from_query(mp.to_query(setup)) == (setup, [])


def test_every_preset_value_fits_its_slider() -> None:
    """Seeding a widget outside its range breaks the page: presets must fit the sliders."""
    for name, spec in OPTIMIZERS.items():
        for preset in PRESETS:
            values = mp.default_entry(name, preset).hparams
            for h in spec.hyperparams:
                if h.kind != "bool":
                    assert h.low <= values[h.name] <= h.high, (name, preset, h.name)


def test_key_is_canonical_json_and_changes_with_every_field() -> None:
    s = mp.MnistSetup()
    assert json.loads(s.key())["format"] == mp.SETUP_FORMAT
    assert mp.MnistSetup().key() == s.key()
    variants = [
        s.with_changes(model="cnn"),
        s.with_changes(epochs=6),
        s.with_changes(seed=1),
        s.with_changes(batch_size=32),
        s.with_changes(data="full"),
        s.with_changes(train_size=2000),
        mp.fix_adadelta(s),
        s.with_changes(optimizers=s.optimizers[:3]),
        s.with_changes(optimizers=(entry("sgd", "pytorch"), *s.optimizers[1:])),
    ]
    keys = {v.key() for v in variants}
    assert len(keys) == len(variants) and s.key() not in keys


def test_optimizer_configs_pass_only_what_differs_from_the_preset() -> None:
    s = mp.MnistSetup(
        optimizers=(entry("adam"), entry("adam", learning_rate=0.01), entry("rmsprop", "pytorch"))
    )
    configs = s.optimizer_configs()
    assert [(c.name, dict(c.hparams), c.preset) for c in configs] == [
        ("adam", {}, "keras"),
        ("adam", {"learning_rate": 0.01}, "keras"),
        ("rmsprop", {}, "pytorch"),
    ]
    cfg = s.train_config()
    assert (cfg.model, cfg.epochs, cfg.batch_size, cfg.train_size, cfg.seed) == ("mlp", 5, 64, 4000, 0)


def test_cnn_chunks_are_short_so_stop_acts_within_seconds() -> None:
    """Stop and a closed tab act between chunks: a CNN chunk holds at most CHUNK_IMAGES
    images per optimizer, whatever the batch size; the MLP keeps 50 batches."""
    for batch in mp.BATCH_SIZES:
        cnn = mp.MnistSetup(model="cnn", batch_size=batch).train_config()
        assert 1 <= cnn.chunk_size * batch <= max(mp.CHUNK_IMAGES["cnn"], batch)
        assert mp.MnistSetup(batch_size=batch).train_config().chunk_size == 50


def test_results_do_not_depend_on_the_chunk_size() -> None:
    """Dropout keys and batches follow the absolute step, so a shorter chunk trains the same
    network (the page picks chunk sizes per model and batch size)."""
    from training import TrainConfig, load_sample, train

    data = load_sample()
    runs = [
        train(
            ["adam", "sgd"],
            TrainConfig(model="mlp", epochs=2, batch_size=64, train_size=500, chunk_size=k),
            data,
        )
        for k in (50, 3)
    ]
    for a, b in zip(runs[0].runs, runs[1].runs, strict=True):
        assert [e.val_loss for e in a.epochs] == pytest.approx([e.val_loss for e in b.epochs], rel=1e-5)
        assert [e.train_loss for e in a.epochs] == pytest.approx([e.train_loss for e in b.epochs], rel=1e-5)


def test_snapshots_are_kept_only_within_the_budget() -> None:
    assert mp.MnistSetup().keeps_snapshots()
    big = mp.MnistSetup(model="cnn", epochs=20, optimizers=(entry("adam"),) * 6)
    assert mp.snapshot_bytes(big) > mp.SNAPSHOT_BUDGET_BYTES
    assert not big.keeps_snapshots() and big.train_config().keep_snapshots is False


def test_estimate_grows_with_the_work() -> None:
    s = mp.MnistSetup()
    assert mp.estimate_seconds(s.with_changes(epochs=10)) == pytest.approx(2 * mp.estimate_seconds(s))
    assert mp.estimate_seconds(s.with_changes(model="cnn")) > 10 * mp.estimate_seconds(s)


# --- Adadelta -------------------------------------------------------------------------------------


def test_adadelta_at_keras_defaults_needs_the_fix_and_the_fix_sets_lr_one() -> None:
    s = mp.MnistSetup()
    assert s.optimizers[3].hparams["learning_rate"] == pytest.approx(0.001)
    assert mp.needs_adadelta_fix(s)
    fixed = mp.fix_adadelta(s)
    assert not mp.needs_adadelta_fix(fixed)
    assert fixed.optimizers[3].hparams == {**s.optimizers[3].hparams, "learning_rate": 1.0}
    assert fixed.optimizers[:3] == s.optimizers[:3]
    assert not mp.needs_adadelta_fix(mp.MnistSetup(optimizers=(entry("adam"),)))
    assert not mp.needs_adadelta_fix(mp.MnistSetup(optimizers=(entry("adadelta", "pytorch"),)))


# --- widget state ---------------------------------------------------------------------------------


def seeded(setup: mp.MnistSetup | None = None) -> dict[str, Any]:
    state: dict[str, Any] = {}
    mp.seed_widgets(state, setup or mp.MnistSetup())
    return state


def ids(state: dict[str, Any]) -> list[int]:
    return list(state[mp.wkey("entry_ids")])


def test_widgets_round_trip_a_setup() -> None:
    s = mp.MnistSetup(
        model="cnn",
        optimizers=(entry("adam", "pytorch", b1=0.8), entry("sgd")),
        epochs=3,
        batch_size=32,
        data="full",
        train_size=15000,
        seed=9,
    )
    state = seeded(s)
    assert mp.widgets_seeded(state)
    assert mp.read_setup(state) == s
    bool_key = mp.hparam_key(ids(state)[0], "adam", "bias_correction")
    assert state[bool_key] is True  # toggles hold booleans


def test_reseeding_uses_fresh_entry_ids() -> None:
    state = seeded()
    first = ids(state)
    mp.seed_widgets(state, mp.MnistSetup())
    assert not set(first) & set(ids(state))


def test_widgets_seeded_notices_dropped_widget_values() -> None:
    state = seeded()
    del state[mp.entry_prefix(ids(state)[1]) + ".preset"]
    assert not mp.widgets_seeded(state)
    assert not mp.widgets_seeded({})


def test_add_remove_and_caps() -> None:
    state = seeded()
    mp.add_entry(state, "nadam")
    assert [e.name for e in mp.read_setup(state).optimizers][-1] == "nadam"
    assert mp.read_setup(state).optimizers[-1] == entry("nadam")
    mp.add_entry(state, "lion")
    mp.add_entry(state, "radam")  # a seventh: refused
    assert len(ids(state)) == mp.MAX_OPTIMIZERS
    mp.add_entry(state, "not-an-optimizer")
    assert len(ids(state)) == mp.MAX_OPTIMIZERS
    for entry_id in ids(state):
        mp.remove_entry(state, entry_id)
    assert len(ids(state)) == 1  # the last one stays


def test_preset_and_optimizer_changes_reset_the_sliders() -> None:
    state = seeded(mp.MnistSetup(optimizers=(entry("adam", learning_rate=0.05),)))
    eid = ids(state)[0]
    state[mp.entry_prefix(eid) + ".preset"] = "pytorch"
    mp.apply_preset(state, eid)
    assert mp.read_setup(state).optimizers[0] == entry("adam", "pytorch")
    state[mp.entry_prefix(eid) + ".name"] = "rmsprop"
    mp.change_optimizer(state, eid)
    assert mp.read_setup(state).optimizers[0] == entry("rmsprop", "pytorch")


def test_switching_to_the_sample_shrinks_the_training_set() -> None:
    state = seeded(mp.MnistSetup(data="full", train_size=60000))
    state[mp.wkey("data")] = "sample"
    mp.data_changed(state)
    assert state[mp.wkey("n")] == 8000
    assert mp.read_setup(state).train_size == 8000


def test_fix_adadelta_widgets_only_touches_adadelta() -> None:
    state = seeded()
    before = mp.read_setup(state)
    mp.fix_adadelta_widgets(state)
    assert mp.read_setup(state) == mp.fix_adadelta(before)


# --- the cache -----------------------------------------------------------------------------------


def fake_outcome(snapshot_mb: float = 0.0, seed: int = 0) -> mp.Outcome:
    run = RunResult("adam", "Adam", {}, "keras")
    if snapshot_mb:
        run.snapshots = np.zeros(int(snapshot_mb * 2**20) // 4, np.float32)
    result = TrainResult(TrainConfig(), "sample", "", 500, 2000, 7, [run])
    return mp.Outcome(mp.MnistSetup(seed=seed), result)


def test_cache_is_lru_bounded_by_entries() -> None:
    cache = mp.ResultCache(max_entries=2, max_bytes=10**9)
    a, b, c = (fake_outcome(seed=i) for i in range(3))
    cache.put("a", a)
    cache.put("b", b)
    assert cache.get("a") is a  # now "b" is the least recently used
    cache.put("c", c)
    assert "b" not in cache and cache.get("a") is a and cache.get("c") is c


def test_cache_is_bounded_by_snapshot_bytes_but_keeps_the_newest() -> None:
    cache = mp.ResultCache(max_entries=10, max_bytes=3 * 2**20)
    cache.put("a", fake_outcome(2))
    cache.put("b", fake_outcome(2))
    assert "a" not in cache and "b" in cache
    cache.put("huge", fake_outcome(8))  # larger than the budget alone: kept, others evicted
    assert len(cache) == 1 and "huge" in cache


# --- tables --------------------------------------------------------------------------------------


def fake_result(stopped_after: int | None = None) -> TrainResult:
    runs = []
    for label, accs in (("SGD", [0.5, 0.6]), ("Adam", [0.8, 0.9])):
        r = RunResult(label.lower(), label, {}, "keras", initial_val_loss=2.3, initial_val_acc=0.1)
        for i, acc in enumerate(accs, 1):
            batches = stopped_after if (stopped_after and i == 2) else 7
            r.epochs.append(EpochRecord(i, 1.0 / i, acc, 1.5 / i, acc, 0.25, 0.01, batches))
        runs.append(r)
    return TrainResult(
        TrainConfig(epochs=3), "sample", "", 500, 2000, 7, runs, stopped=stopped_after is not None
    )


def test_summary_frame() -> None:
    frame = mp.summary_frame(fake_result())
    assert list(frame["optimizer"]) == ["SGD", "Adam"]
    assert list(frame["accuracy (%)"]) == pytest.approx([60.0, 90.0])
    assert list(frame["loss"]) == pytest.approx([0.75, 0.75])
    assert list(frame["at epoch"]) == [2, 2]
    assert list(frame["time (s)"]) == pytest.approx([0.5, 0.5])
    assert "note" not in frame  # no run diverged


def test_epoch_frames_like_the_article() -> None:
    acc = mp.epoch_frame(fake_result(), "val_acc")
    assert list(acc.columns) == ["epoch", "SGD", "Adam"]
    assert list(acc["epoch"]) == ["0 (start)", "1", "2"]
    assert list(acc["Adam"]) == pytest.approx([10.0, 80.0, 90.0])
    loss = mp.epoch_frame(fake_result(), "val_loss")
    assert list(loss["SGD"]) == pytest.approx([2.3, 1.5, 0.75])
    with pytest.raises(ValueError):
        mp.epoch_frame(fake_result(), "train_time")


def test_a_partial_epoch_is_labelled() -> None:
    frame = mp.epoch_frame(fake_result(stopped_after=3), "val_acc")
    assert frame["epoch"].iloc[-1] == "2 (partial: 3 of 7 batches)"
    text = mp.stop_message(
        mp.Outcome(mp.MnistSetup(), fake_result(stopped_after=3), stop_reason="you pressed Stop")
    )
    assert "because you pressed Stop" in text
    assert "1 of 3 epochs finished" in text and "3 of 7 batches" in text


# --- training jobs (real, tiny) ------------------------------------------------------------------


def tiny(*names: str, **changes: Any) -> mp.MnistSetup:
    return mp.MnistSetup(optimizers=tuple(entry(n) for n in names), **{**TINY, **changes})


def test_job_trains_reports_progress_and_fills_the_cache() -> None:
    setup = tiny("adam", "sgd")
    job = mp.start_job(setup)
    assert job.wait(240), "the job did not finish"
    assert job.phase == mp.FINISHED, job.error
    result = job.outcome.result
    assert [r.label for r in result.runs] == ["Adam", "SGD"]
    assert len(result.runs[0].epochs) == 1 and not result.stopped
    assert job.done == job.total == 500 // 64
    assert job.partial is not None and len(job.partial.runs[1].epochs) == 1
    assert mp.lookup(setup) is job.outcome
    assert mp.has_snapshots(job.outcome)
    assert mp.progress_fraction(job) == 1.0


def test_stop_during_training_keeps_the_partial_epoch(monkeypatch: pytest.MonkeyPatch) -> None:
    """Stop pressed while the first chunk trains: train() ends after that chunk, and the
    50 batches it trained are evaluated and kept, though not cached."""
    real_train = mj.train
    jobs: list[mp.TrainingJob] = []

    def train_with_stop(opts: Any, config: Any, data: Any, callback: Any, on_chunk: Any) -> Any:
        def chunk(done: int, total: int) -> bool:
            jobs[0].request_stop()  # the student presses Stop while this chunk trains
            return on_chunk(done, total)

        return real_train(opts, config, data, callback=callback, on_chunk=chunk)

    monkeypatch.setattr(mj, "train", train_with_stop)
    setup = tiny("adam", train_size=4000, batch_size=16, epochs=3)  # 250 batches per epoch
    job = mp.TrainingJob(setup)
    jobs.append(job)
    job.start()
    assert job.wait(240)
    assert job.phase == mp.STOPPED, job.error
    result = job.outcome.result
    assert result.stopped
    (epoch,) = result.runs[0].epochs
    assert epoch.batches == 50 < result.steps_per_epoch == 250
    assert epoch.val_acc > 0.3  # 50 batches of Adam did learn something, and it was kept
    assert job.outcome.stop_reason == "you pressed Stop"
    assert mp.lookup(setup) is None  # a stopped run is not the setup's result
    assert "epoch 1 stopped after 50 of 250 batches" in mp.stop_message(job.outcome)


def test_stop_after_an_epoch_keeps_the_finished_epochs(monkeypatch: pytest.MonkeyPatch) -> None:
    jobs: list[mp.TrainingJob] = []
    real_train = mj.train

    def train_with_stop(opts: Any, config: Any, data: Any, callback: Any, on_chunk: Any) -> Any:
        def epoch_done(progress: Any) -> bool:
            jobs[0].request_stop()
            return callback(progress)

        return real_train(opts, config, data, callback=epoch_done, on_chunk=on_chunk)

    monkeypatch.setattr(mj, "train", train_with_stop)
    job = mp.TrainingJob(tiny("sgd", epochs=4))
    jobs.append(job)
    job.start()
    assert job.wait(240)
    result = job.outcome.result
    assert result.stopped and len(result.runs[0].epochs) == 1
    assert result.runs[0].epochs[0].batches == result.steps_per_epoch
    assert job.partial is not None and len(job.partial.runs[0].epochs) == 1


def test_stop_before_training_trains_nothing(monkeypatch: pytest.MonkeyPatch) -> None:
    calls: list[int] = []
    monkeypatch.setattr(mj, "train", lambda *a, **k: calls.append(1))
    job = mp.TrainingJob(tiny("adam"))
    job.request_stop()
    job.start()
    assert job.wait(30)
    assert job.phase == mp.STOPPED and job.outcome is None and calls == []


def test_an_unwatched_job_stops_by_itself(monkeypatch: pytest.MonkeyPatch) -> None:
    """Nobody polled the job for ORPHAN_TIMEOUT_S (the tab was closed): it stops itself at
    the next chunk and keeps what it trained."""
    real_train = mj.train
    jobs: list[mp.TrainingJob] = []

    def train_unwatched(opts: Any, config: Any, data: Any, callback: Any, on_chunk: Any) -> Any:
        def chunk(done: int, total: int) -> bool:
            jobs[0].last_seen = time.monotonic() - mp.ORPHAN_TIMEOUT_S - 1
            return on_chunk(done, total)

        return real_train(opts, config, data, callback=callback, on_chunk=chunk)

    monkeypatch.setattr(mj, "train", train_unwatched)
    job = mp.TrainingJob(tiny("adam", train_size=4000, batch_size=16, epochs=2))
    jobs.append(job)
    job.start()
    assert job.wait(240)
    assert job.phase == mp.STOPPED
    assert job.outcome.result.runs[0].epochs[0].batches == 50
    assert job.outcome.stop_reason == "nobody was watching the page any more"


def _slowed_train(monkeypatch: pytest.MonkeyPatch, started: threading.Event) -> None:
    """mnist_jobs.train, with each chunk taking at least 20 ms (a slow server) and `started` set once
    the first chunk has trained."""
    real_train = mj.train

    def slowed(opts: Any, config: Any, data: Any, callback: Any, on_chunk: Any) -> Any:
        def chunk(done: int, total: int) -> bool:
            started.set()
            time.sleep(0.02)
            return on_chunk(done, total)

        return real_train(opts, config, data, callback=callback, on_chunk=chunk)

    monkeypatch.setattr(mj, "train", slowed)


def _free_slots() -> int:
    """How many training slots of the admission queue are free right now."""
    return mp.QUEUE.free_slots()


def test_a_job_stops_when_its_session_is_gone(monkeypatch: pytest.MonkeyPatch) -> None:
    """alive() turns False mid-training (the visitor closed the tab): once it has said so for
    DISCONNECT_GRACE_S, the job ends at its next chunk, keeps nothing, and frees its slot."""
    monkeypatch.setattr(mj, "DISCONNECT_GRACE_S", 0.3)
    connected, started = threading.Event(), threading.Event()
    connected.set()
    _slowed_train(monkeypatch, started)
    # 20 epochs of 500 batches: 200 chunks of >= 20 ms each, far longer than the grace.
    job = mp.start_job(tiny("adam", train_size=8000, batch_size=16, epochs=20), alive=connected.is_set)
    assert started.wait(240), "training did not start"
    assert job.running and mp.running_jobs() == 1
    connected.clear()
    assert job.wait(60), "the job of a closed session kept training"
    assert job.phase == mp.STOPPED and job.stop_reason == "the page was closed"
    assert job.outcome is None and mp.lookup(job.setup) is None
    assert job.done < job.total  # it stopped early, not at the end
    assert mp.running_jobs() == 0 and _free_slots() == mp.MAX_PARALLEL_JOBS


def test_a_short_disconnect_does_not_stop_the_job(monkeypatch: pytest.MonkeyPatch) -> None:
    """A reconnect within the grace (a network blip) keeps the job; only a session gone for
    DISCONNECT_GRACE_S counts. Checked on a fake clock."""
    job = mp.TrainingJob(tiny("adam"), alive=lambda: state["connected"])
    state = {"connected": True}
    clock = [1000.0]
    monkeypatch.setattr(mj, "time", type("FakeTime", (), {"monotonic": staticmethod(lambda: clock[0])}))
    assert not job.session_gone()
    state["connected"] = False
    assert not job.session_gone()  # just disconnected
    clock[0] += mp.DISCONNECT_GRACE_S * 0.9
    assert not job.session_gone()
    state["connected"] = True  # reconnected in time: the count starts again
    assert not job.session_gone()
    state["connected"] = False
    clock[0] += 0.1
    assert not job.session_gone()
    clock[0] += mp.DISCONNECT_GRACE_S
    assert job.session_gone()


def test_a_failing_alive_check_counts_as_gone(monkeypatch: pytest.MonkeyPatch) -> None:
    def broken() -> bool:
        raise RuntimeError("the runtime is shutting down")

    monkeypatch.setattr(mj, "DISCONNECT_GRACE_S", 0.0)
    assert mp.TrainingJob(tiny("adam"), alive=broken).session_gone()
    assert not mp.TrainingJob(tiny("adam")).session_gone()  # no check given: never gone


def test_a_queued_job_of_a_closed_session_leaves_the_queue(monkeypatch: pytest.MonkeyPatch) -> None:
    """Both slots are busy; a third visitor queues, then closes the tab: the queued job ends
    without training, and the busy slots are untouched."""
    monkeypatch.setattr(mj, "DISCONNECT_GRACE_S", 0.2)
    release = threading.Event()
    trained: list[str] = []

    def blocking(opts: Any, *args: Any, **kwargs: Any) -> Any:
        trained.append(threading.current_thread().name)
        release.wait(60)
        raise RuntimeError("released")

    monkeypatch.setattr(mj, "train", blocking)
    busy = [mp.start_job(tiny("adam", seed=i)) for i in range(mp.MAX_PARALLEL_JOBS)]
    deadline = time.monotonic() + 30
    while len(trained) < mp.MAX_PARALLEL_JOBS:
        assert time.monotonic() < deadline, "the first jobs did not start"
        time.sleep(0.02)
    connected = threading.Event()
    connected.set()
    queued = mp.start_job(tiny("sgd"), alive=connected.is_set)
    while queued.phase != mp.QUEUED:
        assert time.monotonic() < deadline
        time.sleep(0.02)
    connected.clear()
    try:
        assert queued.wait(30), "the queued job of a closed session stayed in the queue"
        assert queued.phase == mp.STOPPED and queued.stop_reason == "the page was closed"
        assert queued.name not in trained and all(j.running for j in busy)
    finally:
        release.set()
        assert all(j.wait(30) for j in busy)
    assert mp.running_jobs() == 0 and _free_slots() == mp.MAX_PARALLEL_JOBS


def test_a_job_with_a_live_session_is_not_stopped() -> None:
    job = mp.start_job(tiny("adam"), alive=lambda: True)
    assert job.wait(240) and job.phase == mp.FINISHED


def _native_thread_names() -> set[str]:
    names = set()
    for comm in pathlib.Path("/proc/self/task").glob("*/comm"):
        try:
            names.add(comm.read_text().strip())
        except OSError:  # that thread has just ended
            pass
    return names


def test_a_job_thread_carries_its_name_to_the_os(monkeypatch: pytest.MonkeyPatch) -> None:
    """Operators (and the browser test) see training threads in /proc/<pid>/task/*/comm."""
    if not pathlib.Path("/proc/self/task").is_dir():
        pytest.skip("no /proc on this system")
    release = threading.Event()
    monkeypatch.setattr(mj, "train", lambda *a, **k: release.wait(30))
    job = mp.start_job(tiny("adam"))
    try:
        deadline = time.monotonic() + 30
        while job.name not in _native_thread_names():
            assert job.running and time.monotonic() < deadline, "thread name not seen"
            time.sleep(0.01)
    finally:
        release.set()
        assert job.wait(30)
    deadline = time.monotonic() + 10  # join() returns a moment before the OS thread exits
    while job.name in _native_thread_names():
        assert time.monotonic() < deadline, "the ended job's OS thread is still there"
        time.sleep(0.01)


def test_no_thread_keeps_a_job_name_after_the_job_in_a_fresh_process() -> None:
    """In a fresh process the first training starts JAX's backend; its lifelong worker threads
    must not inherit the job's OS name (they would look like a training that never ends)."""
    if not pathlib.Path("/proc/self/task").is_dir():
        pytest.skip("no /proc on this system")
    script = textwrap.dedent("""
        import pathlib, time
        from playground import mnist_page as mp
        setup = mp.MnistSetup(optimizers=(mp.default_entry("adam"),), train_size=500,
                              epochs=1, batch_size=64)
        job = mp.start_job(setup)
        assert job.wait(300) and job.phase == mp.FINISHED, job.error
        deadline = time.monotonic() + 10
        while True:
            names = []
            for comm in pathlib.Path("/proc/self/task").glob("*/comm"):
                try:
                    names.append(comm.read_text().strip())
                except OSError:
                    pass
            left = [n for n in names if n.startswith("mnist-job-")]
            if not left or time.monotonic() > deadline:
                break
            time.sleep(0.05)
        print("LEFT", left)
    """)
    out = subprocess.run(
        [sys.executable, "-c", script],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=600,
        env={**os.environ, "PYTHONPATH": str(ROOT)},
    )
    assert out.returncode == 0, out.stderr[-2000:]
    assert "LEFT []" in out.stdout, out.stdout[-500:]


def test_format_duration() -> None:
    assert [mp.format_duration(s) for s in (0.2, 42, 300, 10800)] == ["1 s", "42 s", "5 min", "3.0 h"]


def test_full_set_without_network_fails_with_a_clear_message(monkeypatch: pytest.MonkeyPatch) -> None:
    def no_network(*args: Any, **kwargs: Any) -> Any:
        raise DownloadError("could not download train-images-idx3-ubyte.gz from any mirror")

    monkeypatch.setattr(mj, "load_full", no_network)
    monkeypatch.setattr(mj, "_data", {})
    job = mp.start_job(tiny("adam", data="full"))
    assert job.wait(30)
    assert job.phase == mp.FAILED and job.outcome is None
    assert "could not be downloaded" in job.error and "offline sample" in job.error
    assert mp.lookup(job.setup) is None


def test_a_failing_training_is_reported_not_raised(monkeypatch: pytest.MonkeyPatch) -> None:
    def broken(*args: Any, **kwargs: Any) -> Any:
        raise RuntimeError("XLA ran out of memory")

    monkeypatch.setattr(mj, "train", broken)
    job = mp.start_job(tiny("adam"))
    assert job.wait(30)
    assert job.phase == mp.FAILED and "XLA ran out of memory" in job.error


def test_jobs_beyond_the_slots_wait_their_turn(monkeypatch: pytest.MonkeyPatch) -> None:
    release = threading.Event()

    def slow(*args: Any, **kwargs: Any) -> Any:
        release.wait(30)
        raise RuntimeError("done")

    monkeypatch.setattr(mj, "train", slow)
    jobs = [mp.start_job(tiny("adam", seed=i)) for i in range(mp.MAX_PARALLEL_JOBS + 1)]
    deadline = time.monotonic() + 30
    while sum(j.phase == mp.QUEUED for j in jobs) != 1 and time.monotonic() < deadline:
        time.sleep(0.02)
    assert [j.phase for j in jobs].count(mp.QUEUED) == 1
    assert "Waiting for a free slot" in mp.progress_text(next(j for j in jobs if j.phase == mp.QUEUED))
    release.set()
    assert all(j.wait(30) for j in jobs)
    assert mp.running_jobs() == 0


def test_progress_text_names_epoch_and_batch() -> None:
    job = mp.TrainingJob(tiny("adam", "sgd", epochs=3))  # 7 batches per epoch
    job.phase, job.done, job.total = mp.TRAINING, 10, 21
    assert "epoch 2 of 3, batch 3 of 7" in mp.progress_text(job)
    assert "2 optimizers" in mp.progress_text(job)
    job.done = 14
    assert "epoch 2 of 3 finished" in mp.progress_text(job)
    assert mp.progress_fraction(job) == pytest.approx(14 / 21)


def test_landscape_is_computed_once_per_resolution() -> None:
    job = mp.start_job(tiny("adam", "sgd"))
    assert job.wait(240) and job.outcome is not None
    rows: list[tuple[int, int]] = []
    land = mp.landscape_for(job.outcome, 11, progress=lambda d, t: rows.append((d, t)))
    assert land.loss.shape == (11, 11) and np.isfinite(land.loss).all()
    assert set(land.paths) == {"Adam", "SGD"}
    assert rows[-1] == (11, 11)
    assert mp.landscape_for(job.outcome, 11) is land  # kept on the outcome
    assert math.isfinite(float(mp.Outcome.nbytes(job.outcome)))


def fake_landscape(paths: dict[str, list[list[float]]]) -> Any:
    from training import Landscape

    arrays = {k: np.asarray(v, float) for k, v in paths.items()}
    return Landscape(
        np.linspace(-1, 1, 5),
        np.linspace(-1, 1, 5),
        np.ones((5, 5)),
        arrays,
        {k: np.ones(len(v)) for k, v in arrays.items()},
        {k: np.zeros(len(v)) for k, v in arrays.items()},
        {k: list(range(len(v))) for k, v in arrays.items()},
        (0.8, 0.1),
        "final weights of Adam",
        "filter",
        100,
    )


def test_hidden_paths_are_found_and_explained() -> None:
    """As in the default run: SGD moves along Momentum's line but less far (drawn first, it is
    covered), Adadelta stays at the start; Adam is visible."""
    land = fake_landscape(
        {
            "SGD": [[0.5, 0.5], [0.45, 0.4], [0.4, 0.3]],
            "Momentum": [[0.5, 0.5], [0.3, 0.1], [0.2, -0.1]],
            "Adam": [[0.5, 0.5], [0.0, 0.3], [-0.5, 0.0]],
            "Adadelta": [[0.5, 0.5], [0.5, 0.501], [0.501, 0.502]],
        }
    )
    hidden = mp.hidden_paths(land)
    assert hidden == {"SGD": "Momentum", "Adadelta": "start"}
    note = mp.hidden_paths_note(hidden)
    assert "SGD's path runs under Momentum's" in note
    assert "Adadelta barely leaves the start" in note
    assert mp.widened_paths(hidden) == ["SGD"]  # drawn wider by viz.training.landscape_figure


def test_paths_apart_are_not_hidden() -> None:
    land = fake_landscape({"SGD": [[0.5, 0.5], [0.9, 0.5]], "Adam": [[0.5, 0.5], [0.5, -0.9]]})
    assert mp.hidden_paths(land) == {}
    assert mp.hidden_paths_note({}) == ""


def test_the_page_logic_never_imports_streamlit() -> None:
    """Jobs learn about sessions only through the alive() the page hands them."""
    code = (
        "import sys, json, playground.mnist_page, playground.adam_demo; "
        "print(json.dumps(sorted(m for m in sys.modules if m.startswith('streamlit'))))"
    )
    out = subprocess.run(
        [sys.executable, "-c", code],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=300,
        env={**os.environ, "PYTHONPATH": str(ROOT)},
    )
    assert out.returncode == 0, out.stderr[-2000:]
    assert json.loads(out.stdout.strip().splitlines()[-1]) == []


def test_peak_memory_estimate_grows_with_model_data_and_optimizers() -> None:
    """The admission queue's memory check compares this to MemAvailable."""
    small = tiny("adam")
    mlp = mp.peak_bytes(small)
    assert mp.peak_bytes(small.with_changes(model="cnn")) > mlp
    assert mp.peak_bytes(small.with_changes(data="full", train_size=60000)) > mlp
    assert mp.peak_bytes(tiny("adam", "sgd", "rmsprop")) > mlp
    assert mlp > mp.snapshot_bytes(small)  # the snapshots are part of it
    assert mp.TrainingJob(small).peak_bytes == mlp
