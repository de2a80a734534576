"""OptimizerSettings: the one optimizer-with-settings type (engine, app, MNIST training)."""

from __future__ import annotations

import pickle

import pytest

from optim_core import OPTIMIZERS, HParams, OptimizerSettings, RunConfig, resolve_hparams


def test_hparams_is_a_frozen_hashable_mapping() -> None:
    a = HParams({"learning_rate": 0.1, "b1": 0.9})
    b = HParams({"b1": 0.9, "learning_rate": 0.1})
    assert a == b and hash(a) == hash(b)
    assert a == {"learning_rate": 0.1, "b1": 0.9}
    assert a != HParams({"learning_rate": 0.2, "b1": 0.9})
    assert list(a) == ["learning_rate", "b1"] and len(a) == 2 and a["b1"] == 0.9
    with pytest.raises(TypeError):
        a["b1"] = 0.5  # type: ignore[index]
    assert pickle.loads(pickle.dumps(a)) == a


def test_settings_copy_their_input_and_are_hashable() -> None:
    values = {"learning_rate": 0.1}
    s = OptimizerSettings("adam", values, "keras")
    values["learning_rate"] = 5.0
    assert s.hparams == {"learning_rate": 0.1} and isinstance(s.hparams, HParams)
    assert s == OptimizerSettings("adam", HParams({"learning_rate": 0.1}), "keras")
    assert len({s, OptimizerSettings("adam", {"learning_rate": 0.1}, "keras")}) == 1
    assert s != OptimizerSettings("adam", {"learning_rate": 0.1})  # preset optax
    assert OptimizerSettings("sgd").preset == "optax"


@pytest.mark.parametrize("preset", ["optax", "keras", "pytorch"])
def test_default_fills_every_value_of_the_preset(preset: str) -> None:
    for name in OPTIMIZERS:
        s = OptimizerSettings.default(name, preset)
        assert dict(s.hparams) == resolve_hparams(name, None, preset)
        assert s.resolved() == dict(s.hparams) and s.preset == preset


def test_resolved_fills_partial_values_and_validates() -> None:
    s = OptimizerSettings("adam", {"b1": 0.5}, "pytorch")
    assert s.resolved() == {**resolve_hparams("adam", None, "pytorch"), "b1": 0.5}
    assert s.with_hparams(b1=0.7).resolved()["b1"] == 0.7 and s.hparams["b1"] == 0.5
    with pytest.raises(ValueError, match="learning_rat"):
        OptimizerSettings("adam", {"learning_rat": 0.1}).resolved()
    with pytest.raises(ValueError, match="unknown optimizer"):
        OptimizerSettings.default("adamz")


def test_run_config_is_settings_plus_start_and_label() -> None:
    cfg = RunConfig("adam", {"learning_rate": 0.05}, start=(1.0, 1.0), label="fast")
    assert (cfg.optimizer, dict(cfg.hparams), cfg.preset, cfg.start, cfg.label) == (
        "adam",
        {"learning_rate": 0.05},
        "optax",
        (1.0, 1.0),
        "fast",
    )
    assert cfg.settings == OptimizerSettings("adam", {"learning_rate": 0.05})
    settings = OptimizerSettings.default("rmsprop", "pytorch")
    assert RunConfig.of(settings, [0.5, 2.0], "r") == RunConfig(
        "rmsprop", dict(settings.hparams), "pytorch", (0.5, 2.0), "r"
    )
    assert hash(cfg) == hash(RunConfig("adam", {"learning_rate": 0.05}, None, [1.0, 1.0], "fast"))
