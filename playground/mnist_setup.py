"""The MNIST page's setup: caps and choices, the immutable `MnistSetup`, its JSON and URL codecs
(links are untrusted: every value is read to what its widget can show, with a warning each), the
time estimate and the Adadelta-at-Keras-defaults fix. No Streamlit, no threads."""

from __future__ import annotations

import functools
import json
import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field, replace
from typing import Any

import numpy as np

from optim_core import PRESETS, OptimizerSettings
from playground.numbers import format_number
from playground.safe_text import shown
from playground.setup import (
    MAX_QUERY_VALUE_CHARS,
    OptimizerEntry,
    Reader,
    first_value,
    parse_optimizer_text,
    widget_range,
)
from training import (
    TrainConfig,
    TrainResult,
)
from training.optimizers import NETWORK_ONLY, NETWORK_OPTIMIZERS, resolve_network_hparams

# --- caps and choices ----------------------------------------------------------------------------
# Every value a link can ask for is bounded: one student's link must not tie up the server.

MAX_OPTIMIZERS = 6
MAX_EPOCHS = 20
BATCH_SIZES = (16, 32, 64, 128, 256)
TRAIN_SIZES = (500, 1000, 2000, 4000, 8000, 15000, 30000, 60000)
DATA_SOURCES = ("sample", "full")
MAX_TRAIN = {"sample": 8000, "full": 60000}  # the sample's fixed split is 8000 / 2000
MODEL_NAMES = ("mlp", "cnn")
MODEL_LABELS = {
    "mlp": "MLP 784-256-10 (fast)",
    "cnn": "CNN, the article's (slow: ~50x the MLP)",
}
DATA_LABELS = {
    "sample": "Offline sample (10,000 real MNIST digits)",
    "full": "Full MNIST (60,000 + 10,000 digits)",
}
PAGE_PRESET = "keras"  # the seed article's framework; registry defaults are tuned for 2D
DEFAULT_OPTIMIZER_NAMES = ("sgd", "momentum", "adam", "adadelta")
# Every optimizer the page offers: optim_core's and the network-only Muon (training.optimizers).
OPTIMIZER_NAMES: tuple[str, ...] = tuple(NETWORK_OPTIMIZERS)
# The "Muon vs Adam vs SGD" comparison: Muon at optax's defaults beside the article's two.
MUON_COMPARISON = (("sgd", PAGE_PRESET), ("adam", PAGE_PRESET), ("muon", "optax"))
SETUP_FORMAT = "optimizer-playground/mnist-setup@1"
SNAPSHOT_BUDGET_BYTES = 256 * 2**20  # parameter snapshots one run may hold (for the landscape)
# Images per optimizer one compiled chunk trains. Stop, and a visitor who left, take effect at
# the end of a chunk, so a CNN chunk is kept short (800 images: about a second per optimizer
# here); results do not depend on it (dropout keys follow the absolute step).
CHUNK_IMAGES = {"mlp": 50 * 256, "cnn": 800}
MAX_CHUNK_BATCHES = 50
LANDSCAPE_RESOLUTIONS = (11, 15, 21, 31)
DEFAULT_LANDSCAPE_RESOLUTION = {"mlp": 21, "cnn": 11}

# Rough training cost per (image x optimizer x epoch), measured on the 2-core dev machine;
# replaced by what this server measures once it has finished a run of the same model.
_PRIOR_SECONDS_PER_IMAGE = {"mlp": 3e-5, "cnn": 1.5e-3}
_measured_speed: dict[str, float] = {}


def default_entry(name: str, preset: str = PAGE_PRESET) -> OptimizerEntry:
    return OptimizerEntry(name, resolve_network_hparams(name, None, preset), preset)


def _default_optimizers() -> tuple[OptimizerEntry, ...]:
    return tuple(default_entry(n) for n in DEFAULT_OPTIMIZER_NAMES)


@dataclass(frozen=True)
class MnistSetup:
    """Everything that decides a training run (and nothing else)."""

    model: str = "mlp"
    optimizers: tuple[OptimizerEntry, ...] = field(default_factory=_default_optimizers)
    epochs: int = 5
    batch_size: int = 64
    data: str = "sample"
    train_size: int = 4000
    seed: int = 0

    def with_changes(self, **changes: Any) -> MnistSetup:
        return replace(self, **changes)

    def key(self) -> str:
        """Canonical JSON: the cache key (equal setups give equal strings)."""
        return json.dumps(to_dict(self), sort_keys=True)

    def optimizer_configs(self) -> list[OptimizerSettings]:
        """Each entry as the preset plus the values that differ from it, so that training
        labels two Adams by what sets them apart ("Adam (learning_rate=0.01)")."""
        out = []
        for e in self.optimizers:
            base = resolve_network_hparams(e.name, None, e.preset)
            changed = {
                k: float(v)
                for k, v in e.hparams.items()
                if not math.isclose(float(v), base[k], rel_tol=1e-9, abs_tol=0.0)
            }
            out.append(OptimizerSettings(e.name, changed, e.preset))
        return out

    def keeps_snapshots(self) -> bool:
        """Whether the weights after every epoch fit the budget (they feed the landscape)."""
        return snapshot_bytes(self) <= SNAPSHOT_BUDGET_BYTES

    def chunk_batches(self) -> int:
        """Batches per compiled chunk (see CHUNK_IMAGES)."""
        return max(1, min(MAX_CHUNK_BATCHES, CHUNK_IMAGES[self.model] // self.batch_size))

    def train_config(self) -> TrainConfig:
        return TrainConfig(
            model=self.model,
            epochs=self.epochs,
            batch_size=self.batch_size,
            train_size=self.train_size,
            seed=self.seed,
            keep_snapshots=self.keeps_snapshots(),
            chunk_size=self.chunk_batches(),
        )

    def describe(self) -> str:
        return (
            f"{self.model.upper()} · {self.train_size:,} training images ({self.data}) · "
            f"batch {self.batch_size} · {self.epochs} epoch{'s' * (self.epochs != 1)} · "
            f"seed {self.seed}"
        )


@functools.lru_cache(maxsize=4)
def parameter_count(model: str) -> int:
    import jax

    from training import get_model

    params = get_model(model).init(jax.random.key(0))
    return int(sum(int(np.size(p)) for p in jax.tree.leaves(params)))


def snapshot_bytes(setup: MnistSetup) -> int:
    """float32 weights at the start and after every epoch, for every optimizer."""
    return 4 * parameter_count(setup.model) * (setup.epochs + 1) * len(setup.optimizers)


def estimate_seconds(setup: MnistSetup) -> float:
    """A rough wall time for the training alone (compile and evaluation excluded)."""
    per_image = _measured_speed.get(setup.model, _PRIOR_SECONDS_PER_IMAGE[setup.model])
    return per_image * setup.train_size * setup.epochs * len(setup.optimizers)


def _record_speed(result: TrainResult) -> None:
    images = sum(e.batches for r in result.runs for e in r.epochs) * result.config.batch_size
    if images >= 2000 and result.wall_time > 0:
        _measured_speed[result.config.model] = result.wall_time / images


# --- JSON ----------------------------------------------------------------------------------------


def to_dict(setup: MnistSetup) -> dict[str, Any]:
    return {
        "format": SETUP_FORMAT,
        "model": setup.model,
        "optimizers": [
            {"name": e.name, "preset": e.preset, "hparams": {k: float(v) for k, v in e.hparams.items()}}
            for e in setup.optimizers
        ],
        "epochs": setup.epochs,
        "batch_size": setup.batch_size,
        "data": setup.data,
        "train_size": setup.train_size,
        "seed": setup.seed,
    }


def to_json(setup: MnistSetup) -> str:
    return json.dumps(to_dict(setup), indent=2)


# --- URL -----------------------------------------------------------------------------------------
# ?model=mlp&o=sgd@keras&o=adadelta(learning_rate=1)@keras&epochs=5&batch=64&data=sample
#  &n=4000&seed=0
# Every key is always written (a shared link means the same run even if defaults change);
# an optimizer lists only the values that differ from its preset.


def encode_optimizer(entry: OptimizerEntry) -> str:
    """adadelta(learning_rate=1)@keras: the preset always, values only where they differ."""
    base = resolve_network_hparams(entry.name, None, entry.preset)
    changed = [
        f"{k}={format_number(v)}"
        for k, v in entry.hparams.items()
        if not math.isclose(float(v), base[k], rel_tol=1e-6, abs_tol=0.0)
    ]
    return entry.name + (f"({','.join(changed)})" if changed else "") + f"@{entry.preset}"


def to_query(setup: MnistSetup) -> dict[str, str | list[str]]:
    return {
        "model": setup.model,
        "o": [encode_optimizer(e) for e in setup.optimizers],
        "epochs": str(setup.epochs),
        "batch": str(setup.batch_size),
        "data": setup.data,
        "n": str(setup.train_size),
        "seed": str(setup.seed),
    }


def _network_only_entry(
    name: str, preset: object, hparams: Mapping[str, object], reader: Reader
) -> OptimizerEntry:
    """Reader.optimizer for the network-only optimizers (Muon), which optim_core's registry
    (hence Reader.optimizer) does not hold: the same reading, to the same widget ranges."""
    spec = NETWORK_ONLY[name]
    preset = reader.choice(preset, f"{name} preset", PAGE_PRESET, tuple(PRESETS))
    values = resolve_network_hparams(name, None, preset)
    unknown = []
    for key, raw in reader.capped(hparams, f"{spec.label} hyperparameters"):
        if key not in values:
            unknown.append(shown(str(key), 30))
            continue
        h = spec.hyperparam(key)
        if h.kind == "bool":
            values[key] = float(reader.boolean(raw, f"{spec.label} {key}", bool(values[key])))
        else:
            low, high = widget_range(h)
            values[key] = reader.number(raw, f"{spec.label} {key}", values[key], low, high)
    if unknown:
        reader.warn(f"{spec.label}: no hyperparameter {', '.join(unknown)}; ignored.")
    return OptimizerEntry(name, values, preset)


def _parse_optimizer(text: str, reader: Reader) -> OptimizerEntry | None:
    parsed = parse_optimizer_text(text, reader, default_preset=PAGE_PRESET)
    if parsed is None:
        return None
    if parsed["name"] in NETWORK_ONLY:
        return _network_only_entry(parsed["name"], parsed["preset"], parsed["hparams"], reader)
    # The app's one range policy (playground.setup.widget_range), as on the Playground.
    return reader.optimizer(parsed["name"], parsed["preset"], parsed["hparams"])


def nearest(options: Sequence[int], value: int) -> int:
    return min(options, key=lambda o: (abs(o - value), o))


def train_sizes(data: str) -> list[int]:
    return [n for n in TRAIN_SIZES if n <= MAX_TRAIN[data]]


QUERY_KEYS = ("model", "o", "epochs", "batch", "data", "n", "seed")
MAX_UNKNOWN_KEYS_NAMED = 5  # unknown link keys named in warnings; the rest are counted


def from_query(query: Mapping[str, str | list[str]]) -> tuple[MnistSetup, list[str]]:
    """A setup from URL query values (strings, or lists for repeated keys); never raises.
    Every value is read to what its widget can show: numbers clamped to the widget's range,
    choices snapped to the nearest option, anything else replaced by the default, with a
    warning for each value not taken as it was."""
    reader = Reader()
    base = MnistSetup()
    unknown = [k for k in query if k not in QUERY_KEYS]
    for key in unknown[:MAX_UNKNOWN_KEYS_NAMED]:
        reader.warn(f"unknown link parameter {shown(key, 30)} ignored.")
    if len(unknown) > MAX_UNKNOWN_KEYS_NAMED:
        reader.warn(f"{len(unknown) - MAX_UNKNOWN_KEYS_NAMED} more unknown link parameters ignored.")
    raw = {key: first_value(query, key, reader) for key in QUERY_KEYS if key != "o"}

    model = (
        base.model if raw["model"] is None else reader.choice(raw["model"], "model", base.model, MODEL_NAMES)
    )
    data = base.data if raw["data"] is None else reader.choice(raw["data"], "data", base.data, DATA_SOURCES)

    optimizers = base.optimizers
    raw_o = query.get("o")
    if raw_o is not None:
        items = [raw_o] if isinstance(raw_o, str) else list(raw_o)
        if len(items) > MAX_OPTIMIZERS:
            reader.warn(f"{len(items)} optimizers requested; keeping the first {MAX_OPTIMIZERS}.")
        entries = []
        for item in items[:MAX_OPTIMIZERS]:
            if not isinstance(item, str) or len(item) > MAX_QUERY_VALUE_CHARS:
                reader.warn("an optimizer entry is too long and was dropped.")
                continue
            entry = _parse_optimizer(item, reader)
            if entry is not None:
                entries.append(entry)
        if entries:
            optimizers = tuple(entries)
        else:
            reader.warn("no usable optimizer in the link; using the default four.")

    def integer(key: str, what: str, default: int, low: int, high: int) -> int:
        return default if raw[key] is None else reader.integer(raw[key], what, default, low, high)

    epochs = integer("epochs", "epochs", base.epochs, 1, MAX_EPOCHS)
    batch = integer("batch", "batch size", base.batch_size, 1, 100_000)
    if batch not in BATCH_SIZES:
        near = nearest(BATCH_SIZES, batch)
        reader.warn(f"batch size {batch} is not one of {', '.join(map(str, BATCH_SIZES))}; using {near}.")
        batch = near
    sizes = train_sizes(data)
    n = integer("n", "training images", base.train_size, 1, 10**9)
    if n > sizes[-1]:
        reader.warn(
            f"training images: {n} is more than the {data} set has ({sizes[-1]:,}); using {sizes[-1]}."
        )
        n = sizes[-1]
    elif n not in sizes:
        near = nearest(sizes, n)
        reader.warn(f"training images: {n} is not one of {', '.join(map(str, sizes))}; using {near}.")
        n = near
    seed = integer("seed", "seed", base.seed, 0, 2**31 - 1)
    setup = MnistSetup(
        model=model,
        optimizers=optimizers,
        epochs=epochs,
        batch_size=batch,
        data=data,
        train_size=n,
        seed=seed,
    )
    return setup, reader.warnings


# --- Adadelta at Keras defaults ------------------------------------------------------------------

ADADELTA_FIXED_LR = 1.0  # PyTorch's default: Zeiler's method as published


def muon_comparison(setup: MnistSetup) -> MnistSetup:
    """The setup with SGD and Adam (Keras's defaults, the article's) and Muon (optax's)."""
    return setup.with_changes(optimizers=tuple(default_entry(n, p) for n, p in MUON_COMPARISON))


def needs_adadelta_fix(setup: MnistSetup) -> bool:
    """Some Adadelta entry runs with a learning rate well below the paper's (implicit) 1."""
    return any(e.name == "adadelta" and e.hparams["learning_rate"] < 0.1 for e in setup.optimizers)


def fix_adadelta(setup: MnistSetup) -> MnistSetup:
    """Every Adadelta with the learning rate 1.0 (PyTorch's default), the rest unchanged."""
    return setup.with_changes(
        optimizers=tuple(
            OptimizerEntry(e.name, {**e.hparams, "learning_rate": ADADELTA_FIXED_LR}, e.preset)
            if e.name == "adadelta"
            else e
            for e in setup.optimizers
        )
    )
