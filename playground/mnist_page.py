"""The MNIST page's logic: its setup (URL codec, validation, caps), training jobs, the cache.

No Streamlit in here: the page (app_pages/mnist.py) draws widgets and calls these functions.

* `MnistSetup` is the page's one validated, immutable setup. The URL (`to_query`/`from_query`),
  the JSON export (`to_json`) and `MnistSetup.key()` serialize it, and the cache is keyed by it,
  so the three never disagree. Untrusted values are clamped or replaced, with a warning each.
* Widget state: `seed_widgets(state, setup)` writes every widget key before the widgets are
  drawn; `read_setup(state)` reads them back. `state` is any mutable mapping (the page passes
  st.session_state, the tests a dict).
* `TrainingJob` trains one setup in a background thread owned by the session. Its callbacks
  only write plain fields (progress, a copy of the curves after each epoch) and check a stop
  flag, so the page can poll it from an `st.fragment(run_every=...)` and Stop can end it
  gracefully: `train()` then returns what was trained so far (`result.stopped`). A Streamlit
  rerun never interrupts the training itself, so nothing trained is ever lost.
* Nothing outlives its visitor: the page hands each job an `alive()` callable that says whether
  the visitor's session is still connected (this module never imports Streamlit). A job whose
  session has been gone for DISCONNECT_GRACE_S leaves the queue, or ends at its next chunk
  without evaluating anything, and frees its slot.
* `CACHE`: finished (not stopped) runs, keyed by the (hashable) `MnistSetup`, least recently used first
  out, bounded in entries and in bytes of parameter snapshots. Returning to a finished setup
  shows its result at once; its loss landscapes are kept beside it.
"""

from __future__ import annotations

import functools
import itertools
import json
import math
import threading
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field, replace
from typing import Any, Protocol

import numpy as np
import pandas as pd

from optim_core import OPTIMIZERS, PRESETS, OptimizerSettings, resolve_hparams
from playground.cache import BoundedCache
from playground.numbers import format_number
from playground.safe_text import shown
from playground.setup import (
    MAX_QUERY_VALUE_CHARS,
    OptimizerEntry,
    Reader,
    first_value,
    parse_optimizer_text,
)
from training import (
    DownloadError,
    IDXError,
    Landscape,
    MNISTSplit,
    Progress,
    TrainConfig,
    TrainResult,
    compute_landscape,
    load_full,
    load_sample,
    train,
)
from training.data import FULL_FILES, default_cache_dir

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
SETUP_FORMAT = "optimizer-playground/mnist-setup@1"
SNAPSHOT_BUDGET_BYTES = 256 * 2**20  # parameter snapshots one run may hold (for the landscape)
MAX_CACHE_ENTRIES = 12
MAX_CACHE_BYTES = 1024 * 2**20
MAX_PARALLEL_JOBS = 2  # trainings at once on this server (2 cores); later ones wait their turn
ORPHAN_TIMEOUT_S = 1200.0  # a job nobody has looked at for this long stops (a safety net)
# A job whose visitor's session has been disconnected this long stops (a reconnect within it,
# e.g. a network blip, keeps the job); the job checks between chunks and while it waits for a
# slot, so it ends within about this plus one chunk of training.
DISCONNECT_GRACE_S = 3.0
SLOT_POLL_S = 0.2  # how often a queued job looks for a free slot (and for its session)
POLL_S = 0.5  # how often the page redraws a running job's progress and curves
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
    return OptimizerEntry(name, resolve_hparams(name, None, preset), preset)


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
            base = resolve_hparams(e.name, None, e.preset)
            changed = {k: float(v) for k, v in e.hparams.items()
                       if not math.isclose(float(v), base[k], rel_tol=1e-9, abs_tol=0.0)}
            out.append(OptimizerSettings(e.name, changed, e.preset))
        return out

    def keeps_snapshots(self) -> bool:
        """Whether the weights after every epoch fit the budget (they feed the landscape)."""
        return snapshot_bytes(self) <= SNAPSHOT_BUDGET_BYTES

    def chunk_batches(self) -> int:
        """Batches per compiled chunk (see CHUNK_IMAGES)."""
        return max(1, min(MAX_CHUNK_BATCHES, CHUNK_IMAGES[self.model] // self.batch_size))

    def train_config(self) -> TrainConfig:
        return TrainConfig(model=self.model, epochs=self.epochs, batch_size=self.batch_size,
                           train_size=self.train_size, seed=self.seed,
                           keep_snapshots=self.keeps_snapshots(),
                           chunk_size=self.chunk_batches())

    def describe(self) -> str:
        return (f"{self.model.upper()} · {self.train_size:,} training images ({self.data}) · "
                f"batch {self.batch_size} · {self.epochs} epoch{'s' * (self.epochs != 1)} · "
                f"seed {self.seed}")


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
        "optimizers": [{"name": e.name, "preset": e.preset,
                        "hparams": {k: float(v) for k, v in e.hparams.items()}}
                       for e in setup.optimizers],
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
    base = resolve_hparams(entry.name, None, entry.preset)
    changed = [f"{k}={format_number(v)}" for k, v in entry.hparams.items()
               if not math.isclose(float(v), base[k], rel_tol=1e-6, abs_tol=0.0)]
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


def _parse_optimizer(text: str, reader: Reader) -> OptimizerEntry | None:
    parsed = parse_optimizer_text(text, reader, default_preset=PAGE_PRESET)
    if parsed is None:
        return None
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
        reader.warn(f"{len(unknown) - MAX_UNKNOWN_KEYS_NAMED} more unknown link parameters "
                    "ignored.")
    raw = {key: first_value(query, key, reader) for key in QUERY_KEYS if key != "o"}

    model = base.model if raw["model"] is None else reader.choice(
        raw["model"], "model", base.model, MODEL_NAMES)
    data = base.data if raw["data"] is None else reader.choice(
        raw["data"], "data", base.data, DATA_SOURCES)

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
        reader.warn(f"batch size {batch} is not one of {', '.join(map(str, BATCH_SIZES))}; "
                    f"using {near}.")
        batch = near
    sizes = train_sizes(data)
    n = integer("n", "training images", base.train_size, 1, 10**9)
    if n > sizes[-1]:
        reader.warn(f"training images: {n} is more than the {data} set has "
                    f"({sizes[-1]:,}); using {sizes[-1]}.")
        n = sizes[-1]
    elif n not in sizes:
        near = nearest(sizes, n)
        reader.warn(f"training images: {n} is not one of {', '.join(map(str, sizes))}; "
                    f"using {near}.")
        n = near
    seed = integer("seed", "seed", base.seed, 0, 2**31 - 1)
    setup = MnistSetup(model=model, optimizers=optimizers, epochs=epochs, batch_size=batch,
                       data=data, train_size=n, seed=seed)
    return setup, reader.warnings


# --- Adadelta at Keras defaults ------------------------------------------------------------------

ADADELTA_FIXED_LR = 1.0  # PyTorch's default: Zeiler's method as published


def needs_adadelta_fix(setup: MnistSetup) -> bool:
    """Some Adadelta entry runs with a learning rate well below the paper's (implicit) 1."""
    return any(e.name == "adadelta" and e.hparams["learning_rate"] < 0.1
               for e in setup.optimizers)


def fix_adadelta(setup: MnistSetup) -> MnistSetup:
    """Every Adadelta with the learning rate 1.0 (PyTorch's default), the rest unchanged."""
    return setup.with_changes(optimizers=tuple(
        OptimizerEntry(e.name, {**e.hparams, "learning_rate": ADADELTA_FIXED_LR}, e.preset)
        if e.name == "adadelta" else e for e in setup.optimizers))


# --- widget state --------------------------------------------------------------------------------

class WidgetState(Protocol):
    """What the widget-state functions use of st.session_state (a plain dict in the tests)."""

    def __getitem__(self, key: str, /) -> Any: ...

    def __setitem__(self, key: str, value: Any, /) -> None: ...

    def __contains__(self, key: object, /) -> bool: ...


P = "mn"  # every key of this page starts with it


def wkey(*parts: object) -> str:
    return ".".join([P, *map(str, parts)])


def entry_prefix(entry_id: int) -> str:
    return wkey("e", entry_id)


def hparam_key(entry_id: int, name: str, hp: str) -> str:
    return f"{entry_prefix(entry_id)}.{name}.{hp}"


def write_entry(state: WidgetState, entry_id: int, entry: OptimizerEntry) -> None:
    state[entry_prefix(entry_id) + ".name"] = entry.name
    state[entry_prefix(entry_id) + ".preset"] = entry.preset
    for h in OPTIMIZERS[entry.name].hyperparams:
        value = entry.hparams.get(h.name, h.default)
        state[hparam_key(entry_id, entry.name, h.name)] = (
            bool(value) if h.kind == "bool" else float(value))


def seed_widgets(state: WidgetState, setup: MnistSetup) -> None:
    """Write a whole setup into the widget state (before the widgets are drawn)."""
    state[wkey("model")] = setup.model
    state[wkey("data")] = setup.data
    state[wkey("n")] = setup.train_size
    state[wkey("batch")] = setup.batch_size
    state[wkey("epochs")] = setup.epochs
    state[wkey("seed")] = setup.seed
    # Fresh ids each time: widgets of a removed entry can never leak into a new one.
    start = int(state[wkey("next_id")]) if wkey("next_id") in state else 0
    ids = list(range(start, start + len(setup.optimizers)))
    state[wkey("entry_ids")] = ids
    state[wkey("next_id")] = start + len(ids)
    for entry_id, entry in zip(ids, setup.optimizers, strict=True):
        write_entry(state, entry_id, entry)


def widgets_seeded(state: WidgetState) -> bool:
    """False when Streamlit has dropped the widget values (the user was on another page)."""
    keys = [wkey(k) for k in ("model", "data", "n", "batch", "epochs", "seed", "entry_ids")]
    if not all(k in state for k in keys):
        return False
    return all(entry_prefix(i) + ".name" in state and entry_prefix(i) + ".preset" in state
               for i in state[wkey("entry_ids")])


def read_entry(state: WidgetState, entry_id: int) -> OptimizerEntry:
    name = state[entry_prefix(entry_id) + ".name"]
    preset = state[entry_prefix(entry_id) + ".preset"]
    values = resolve_hparams(name, None, preset)
    for h in OPTIMIZERS[name].hyperparams:
        key = hparam_key(entry_id, name, h.name)
        if key in state:
            values[h.name] = float(state[key])
    return OptimizerEntry(name, values, preset)


def read_setup(state: WidgetState) -> MnistSetup:
    """The setup the widgets show (values are clamped to the caps, as a link's would be)."""
    data = state[wkey("data")] if state[wkey("data")] in DATA_SOURCES else "sample"
    sizes = train_sizes(data)
    n = int(state[wkey("n")])
    return MnistSetup(
        model=state[wkey("model")],
        optimizers=tuple(read_entry(state, i) for i in state[wkey("entry_ids")][:MAX_OPTIMIZERS]),
        epochs=min(max(int(state[wkey("epochs")]), 1), MAX_EPOCHS),
        batch_size=nearest(BATCH_SIZES, int(state[wkey("batch")])),
        data=data,
        train_size=n if n in sizes else nearest(sizes, n),
        seed=int(state[wkey("seed")]),
    )


def add_entry(state: WidgetState, name: str) -> None:
    ids = list(state[wkey("entry_ids")])
    if name not in OPTIMIZERS or len(ids) >= MAX_OPTIMIZERS:
        return
    entry_id = int(state[wkey("next_id")])
    state[wkey("next_id")] = entry_id + 1
    state[wkey("entry_ids")] = [*ids, entry_id]
    write_entry(state, entry_id, default_entry(name))


def remove_entry(state: WidgetState, entry_id: int) -> None:
    ids = [i for i in state[wkey("entry_ids")] if i != entry_id]
    if ids:  # never remove the last one
        state[wkey("entry_ids")] = ids


def apply_preset(state: WidgetState, entry_id: int) -> None:
    """Preset picked: the sliders jump to that framework's defaults."""
    name = state[entry_prefix(entry_id) + ".name"]
    write_entry(state, entry_id, default_entry(name, state[entry_prefix(entry_id) + ".preset"]))


def change_optimizer(state: WidgetState, entry_id: int) -> None:
    """Another optimizer picked in an entry: it starts from the entry's preset."""
    name = state[entry_prefix(entry_id) + ".name"]
    write_entry(state, entry_id, default_entry(name, state[entry_prefix(entry_id) + ".preset"]))


def data_changed(state: WidgetState) -> None:
    """The sample has 8000 training images: a larger size chosen for the full set shrinks."""
    sizes = train_sizes(state[wkey("data")])
    if state[wkey("n")] not in sizes:
        state[wkey("n")] = nearest(sizes, int(state[wkey("n")]))


def fix_adadelta_widgets(state: WidgetState) -> None:
    """The one-click fix: Adadelta's learning-rate slider(s) to 1.0."""
    for entry_id in state[wkey("entry_ids")]:
        if state[entry_prefix(entry_id) + ".name"] == "adadelta":
            state[hparam_key(entry_id, "adadelta", "learning_rate")] = ADADELTA_FIXED_LR


# --- data ----------------------------------------------------------------------------------------

_data_lock = threading.Lock()
_data: dict[str, MNISTSplit] = {}


def full_downloaded() -> bool:
    """The full set's files are in the cache directory (checksums are checked on loading)."""
    cache = default_cache_dir()
    return all((cache / name).is_file() for name in FULL_FILES)


class DataUnavailable(RuntimeError):
    """The requested data cannot be had; the message is meant for the student."""


def dataset(which: str) -> MNISTSplit:
    """The sample or the full set, loaded once per process. The full set is downloaded on
    first use; without network this raises DataUnavailable rather than silently training on
    something else than the setup says."""
    with _data_lock:
        if which not in _data:
            if which == "sample":
                _data[which] = load_sample()
            elif which == "full":
                try:
                    _data[which] = load_full()
                except (DownloadError, OSError) as e:
                    raise DataUnavailable(
                        "The full MNIST set could not be downloaded on this server (no internet "
                        "access?). Choose the offline sample in the sidebar: it holds 10,000 "
                        f"real MNIST digits. Details: {str(e)[:300]}") from e
                except IDXError as e:
                    raise DataUnavailable(f"A cached MNIST file is damaged: {e}. Delete it "
                                          "to have it downloaded again.") from e
            else:
                raise ValueError(f"unknown data {which!r}")
        return _data[which]


# --- results and their cache ---------------------------------------------------------------------

@dataclass
class Outcome:
    """A training result as the page shows it, with the landscapes computed for it."""

    setup: MnistSetup
    result: TrainResult
    landscapes: dict[int, Landscape] = field(default_factory=dict)
    stop_reason: str | None = None  # why a stopped run stopped

    def nbytes(self) -> int:
        snaps = sum(r.snapshots.nbytes for r in self.result.runs if r.snapshots is not None)
        return int(snaps + sum(land.loss.nbytes * 4 for land in self.landscapes.values()))


class ResultCache(BoundedCache[MnistSetup, Outcome]):
    """Finished runs by their setup: thread-safe LRU, bounded by entries and snapshot bytes."""

    def __init__(self, max_entries: int = MAX_CACHE_ENTRIES, max_bytes: int = MAX_CACHE_BYTES) -> None:
        super().__init__(max_entries, max_bytes, size_of=Outcome.nbytes)


CACHE = ResultCache()


def lookup(setup: MnistSetup) -> Outcome | None:
    return CACHE.get(setup)


# --- training jobs -------------------------------------------------------------------------------

_slots = threading.BoundedSemaphore(MAX_PARALLEL_JOBS)
_running_jobs: set[TrainingJob] = set()
_running_lock = threading.Lock()

QUEUED, LOADING, PREPARING, TRAINING = "queued", "loading", "preparing", "training"
FINISHED, STOPPED, FAILED = "finished", "stopped", "failed"


def _copy_curves(result: TrainResult) -> TrainResult:
    """The curves so far, detached from the running result (no snapshots, no weights)."""
    return TrainResult.from_dict(result.to_dict())


class SessionGone(Exception):
    """Raised inside the training thread: the visitor who started the job has left."""


_job_numbers = itertools.count(1)


def _name_native_thread(name: str) -> None:
    """Give the calling thread `name` in the OS too (Linux: /proc/<pid>/task/<tid>/comm, shown
    by top -H and ps -L), so an operator can see training threads from outside."""
    try:
        import ctypes

        ctypes.CDLL(None).prctl(15, name.encode()[:15], 0, 0, 0)  # 15 = PR_SET_NAME
    except (OSError, AttributeError):  # not Linux: the Python name is still set
        pass


@functools.lru_cache(maxsize=1)
def _start_jax_backend() -> None:
    """Start JAX's CPU backend in the calling thread (the page's), not in a job's thread.

    The backend's worker threads are created when it starts and live as long as the process;
    started from a job thread they would inherit its OS name (mnist-job-N) and look like a
    training that never ends to anyone reading the thread list."""
    import jax
    import jax.numpy as jnp

    jax.block_until_ready(jnp.zeros(()) + 1)


class TrainingJob:
    """One setup trained in a background thread; the page polls its fields.

    The thread never touches Streamlit. `request_stop()` makes the next chunk callback return
    False, so `train()` evaluates what it has and returns it (`result.stopped`). `alive()`, if
    given, says whether the visitor's session is still connected; once it has said no for
    DISCONNECT_GRACE_S the job ends (queued: it leaves the queue; training: at the next chunk,
    keeping nothing, since nobody is left to see it) and frees its slot.
    """

    def __init__(self, setup: MnistSetup, alive: Callable[[], bool] | None = None) -> None:
        self.setup = setup
        self._alive = alive
        self._gone_since: float | None = None  # when alive() first said no (None: it says yes)
        self.phase = QUEUED
        self.done = 0  # batches trained (every optimizer), of `total`
        self.total = setup.epochs * (setup.train_size // setup.batch_size)
        self.partial: TrainResult | None = None  # curves up to the last finished epoch
        self.outcome: Outcome | None = None
        self.error: str | None = None
        self.stop_reason: str | None = None
        self.created = time.monotonic()
        self.started: float | None = None  # training began (after queue and data)
        self.finished: float | None = None
        self.last_seen = time.monotonic()
        self._stop = threading.Event()
        self.name = f"mnist-job-{next(_job_numbers)}"
        self._thread = threading.Thread(target=self._run, name=self.name, daemon=True)

    # -- control, from the page
    def start(self) -> TrainingJob:
        _start_jax_backend()
        self._thread.start()
        return self

    def request_stop(self, reason: str = "you pressed Stop") -> None:
        if not self._stop.is_set():
            self.stop_reason = reason
            self._stop.set()

    def touch(self) -> None:
        """The page is still watching (a job nobody watches stops after a while)."""
        self.last_seen = time.monotonic()

    @property
    def running(self) -> bool:
        return self._thread.is_alive()

    def wait(self, timeout: float | None = None) -> bool:
        self._thread.join(timeout)
        return not self._thread.is_alive()

    def elapsed(self) -> float:
        return (self.finished or time.monotonic()) - (self.started or self.created)

    # -- the thread
    def session_gone(self) -> bool:
        """The visitor's session has been disconnected for DISCONNECT_GRACE_S (or its check
        fails: a server shutting down has no sessions left)."""
        if self._alive is None:
            return False
        try:
            connected = bool(self._alive())
        except Exception:  # noqa: BLE001 - whatever broke, nobody can see this job any more
            connected = False
        if connected:
            self._gone_since = None
            return False
        now = time.monotonic()
        if self._gone_since is None:
            self._gone_since = now
        return now - self._gone_since >= DISCONNECT_GRACE_S

    def _should_stop(self) -> bool:
        if time.monotonic() - self.last_seen > ORPHAN_TIMEOUT_S:
            self.request_stop("nobody was watching the page any more")
        return self._stop.is_set()

    def _check_session(self) -> None:
        if self.session_gone():
            self.request_stop("the page was closed")
            raise SessionGone

    def _on_epoch(self, progress: Progress) -> bool:
        self._check_session()
        self.partial = _copy_curves(progress.result)
        return not self._should_stop()

    def _on_chunk(self, done: int, total: int) -> bool:
        self._check_session()
        self.done, self.total, self.phase = done, total, TRAINING
        return not self._should_stop()

    def _run(self) -> None:
        _name_native_thread(self.name)
        try:
            while not _slots.acquire(timeout=SLOT_POLL_S):  # a free slot, a Stop, or gone
                self._check_session()
                if self._should_stop():
                    self.phase = STOPPED
                    return
            try:
                with _running_lock:
                    _running_jobs.add(self)
                self._train()
            finally:
                with _running_lock:
                    _running_jobs.discard(self)
                _slots.release()
        except SessionGone:
            self.phase = STOPPED  # nothing kept: the visitor who would see it has left
        except DataUnavailable as e:
            self.error, self.phase = str(e), FAILED
        except Exception as e:  # shown on the page; the server must not lose the session
            self.error, self.phase = f"{type(e).__name__}: {e}", FAILED
        finally:
            self.finished = time.monotonic()

    def _train(self) -> None:
        self._check_session()
        if self._should_stop():
            self.phase = STOPPED
            return
        self.phase = LOADING
        data = dataset(self.setup.data)
        self.phase, self.started = PREPARING, time.monotonic()
        result = train(self.setup.optimizer_configs(), self.setup.train_config(), data,
                       callback=self._on_epoch, on_chunk=self._on_chunk)
        self.partial = _copy_curves(result)
        self.outcome = Outcome(self.setup, result,
                               stop_reason=self.stop_reason if result.stopped else None)
        if result.stopped:
            self.phase = STOPPED
        else:
            _record_speed(result)
            CACHE.put(self.setup, self.outcome)  # only complete runs: a stopped one is not the setup
            self.phase = FINISHED


def start_job(setup: MnistSetup, alive: Callable[[], bool] | None = None) -> TrainingJob:
    """Train `setup` in the background; `alive()` says whether its visitor is still there."""
    return TrainingJob(setup, alive).start()


def format_duration(seconds: float) -> str:
    """Round a duration for people: "8 s", "4 min", "2.5 h"."""
    if seconds < 90:
        return f"{max(seconds, 1):.0f} s"
    if seconds < 90 * 60:
        return f"{seconds / 60:.0f} min"
    return f"{seconds / 3600:.1f} h"


def running_jobs() -> int:
    with _running_lock:
        return len(_running_jobs)


# --- what the page shows -------------------------------------------------------------------------

PHASE_TEXT = {
    QUEUED: "Waiting for a free slot: other trainings are running on this server.",
    LOADING: "Loading the images…",
    PREPARING: "Compiling the network for these settings (a few seconds the first time)…",
    TRAINING: "Training…",
}


def progress_fraction(job: TrainingJob) -> float:
    return min(max(job.done / job.total, 0.0), 1.0) if job.total else 0.0


def progress_text(job: TrainingJob) -> str:
    if job.phase != TRAINING:
        return PHASE_TEXT.get(job.phase, job.phase)
    per_epoch = max(job.total // max(job.setup.epochs, 1), 1)
    epochs, n = job.setup.epochs, len(job.setup.optimizers)
    finished, in_epoch = divmod(job.done, per_epoch)
    where = (f"epoch {finished} of {epochs} finished" if in_epoch == 0 else
             f"epoch {finished + 1} of {epochs}, batch {in_epoch} of {per_epoch}")
    return (f"Training {n} optimizer{'s' * (n != 1)} side by side: {where} · "
            f"{job.elapsed():.0f} s")


def stop_message(outcome: Outcome) -> str:
    """What a stopped run kept, in words."""
    result, reason = outcome.result, outcome.stop_reason
    full = [e for e in result.runs[0].epochs if e.batches >= result.steps_per_epoch]
    part = [e for e in result.runs[0].epochs if e.batches < result.steps_per_epoch]
    text = (f"Stopped{' because ' + reason if reason else ''}: {len(full)} of "
            f"{result.config.epochs} epochs finished")
    if part:
        text += (f", epoch {part[0].epoch} stopped after {part[0].batches} of "
                 f"{result.steps_per_epoch} batches (its row is marked *partial*)")
    return text + (". Everything trained so far is shown below. A stopped run is not kept "
                   "in the cache: Run trains this setup again from the start.")


def _pct(x: float) -> float:
    return float(x) * 100.0 if math.isfinite(x) else math.nan


def summary_frame(result: TrainResult) -> pd.DataFrame:
    """One row per optimizer: validation accuracy and loss after the last epoch, the best
    validation accuracy and its epoch, and the training time."""
    rows = []
    for r in result.runs:
        acc = r.curve("val_acc")
        finite = np.where(np.isfinite(acc), acc, -np.inf)
        best = int(np.argmax(finite)) if len(acc) else -1
        last = r.epochs[-1] if r.epochs else None
        row = {
            "optimizer": r.label,
            "accuracy (%)": _pct(last.val_acc) if last else math.nan,
            "loss": last.val_loss if last else math.nan,
            "best accuracy (%)": _pct(acc[best]) if best >= 0 else math.nan,
            "at epoch": r.epochs[best].epoch if best >= 0 else None,
            "time (s)": r.total_time,
        }
        if any(x.diverged for x in result.runs):
            row["note"] = "diverged" if r.diverged else ""
        rows.append(row)
    return pd.DataFrame(rows)


EPOCH_METRICS = {"val_acc": "validation accuracy (%)", "val_loss": "validation loss"}


def epoch_frame(result: TrainResult, metric: str = "val_acc") -> pd.DataFrame:
    """The article's table: one row per epoch (0 = the shared initial weights), one column per
    optimizer, holding the validation accuracy (%) or loss after that epoch. An epoch that
    Stop cut short says so in its row label."""
    if metric not in EPOCH_METRICS:
        raise ValueError(f"metric must be one of {sorted(EPOCH_METRICS)}, got {metric!r}")
    runs = result.runs
    scale = _pct if metric == "val_acc" else float
    initial = "initial_val_acc" if metric == "val_acc" else "initial_val_loss"
    rows: list[dict[str, Any]] = [
        {"epoch": "0 (start)", **{r.label: scale(getattr(r, initial)) for r in runs}}]
    for i in range(max((len(r.epochs) for r in runs), default=0)):
        label = str(i + 1)
        row: dict[str, Any] = {}
        for r in runs:
            e = r.epochs[i] if i < len(r.epochs) else None
            row[r.label] = scale(getattr(e, metric)) if e is not None else math.nan
            if e is not None and e.batches < result.steps_per_epoch:
                label = f"{i + 1} (partial: {e.batches} of {result.steps_per_epoch} batches)"
        rows.append({"epoch": label, **row})
    return pd.DataFrame(rows)


def landscape_for(outcome: Outcome, resolution: int,
                  progress: Callable[[int, int], None] | None = None) -> Landscape:
    """The loss-landscape slice of a run (cached on the outcome, which the cache may hold)."""
    land = outcome.landscapes.get(resolution)
    if land is None:
        land = compute_landscape(outcome.result, dataset(outcome.setup.data),
                                 resolution=resolution, progress=progress)
        outcome.landscapes[resolution] = land
    return land


def _distance_to_polyline(points: np.ndarray, line: np.ndarray) -> np.ndarray:
    """Each point's distance to the polyline through `line`'s points."""
    if len(line) == 1:
        return np.linalg.norm(points - line[0], axis=1)
    a, b = line[:-1], line[1:]
    ab = b - a
    t = np.einsum("psk,sk->ps", points[:, None, :] - a[None], ab) / np.maximum(
        np.einsum("sk,sk->s", ab, ab), 1e-30)
    closest = a[None] + np.clip(t, 0.0, 1.0)[..., None] * ab[None]
    return np.min(np.linalg.norm(points[:, None, :] - closest, axis=2), axis=1)


def hidden_paths(land: Landscape, tolerance: float = 0.02) -> dict[str, str]:
    """Paths the landscape figure hides, each with where it is: one that barely leaves the
    start ("start"), or one that runs under a path drawn after it (that path's label).
    `tolerance` is a fraction of the plot's diagonal."""
    span = math.hypot(float(np.ptp(land.alphas)), float(np.ptp(land.betas))) or 1.0
    tol = tolerance * span
    labels = list(land.paths)
    out: dict[str, str] = {}
    for i, label in enumerate(labels):
        path = np.asarray(land.paths[label], float)
        if np.max(np.linalg.norm(path - path[0], axis=1)) < tol:
            out[label] = "start"
            continue
        for later in labels[i + 1:]:
            if np.all(_distance_to_polyline(path, np.asarray(land.paths[later], float)) < tol):
                out[label] = later
                break
    return out


def hidden_paths_note(hidden: Mapping[str, str]) -> str:
    parts = [f"{label} barely leaves the start (its path is under the white circle)"
             if where == "start" else f"{label}'s path runs under {where}'s (drawn wider, it "
             "shows as a border): they moved the same way" for label, where in hidden.items()]
    return "; ".join(parts) + "." if parts else ""


def widened_paths(hidden: Mapping[str, str]) -> list[str]:
    """The paths the landscape figure draws wider: those that run under a later path."""
    return [label for label, where in hidden.items() if where != "start"]


def has_snapshots(outcome: Outcome) -> bool:
    return all(r.snapshots is not None and len(r.snapshots) >= 2 for r in outcome.result.runs)


def preset_names() -> list[str]:
    return list(PRESETS)
