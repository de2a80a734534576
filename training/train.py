"""Train several `optim_core` optimizers on MNIST, side by side, with per-epoch curves.

How it runs
-----------
* Every optimizer starts from the same initial weights and sees the same batches in the same
  order with the same dropout masks (all derived from `seed`), so the curves differ only by
  the optimizer: the comparison the seed article makes.
* The jitted unit is a *chunk* of `chunk_size` batches (50; or `snapshot_every`), a
  `lax.scan` over them; an epoch's last chunk is padded with skipped steps. Batches are
  gathered from the device-resident uint8 images inside the scan. Hyperparameters, the seed,
  the training-set size and the batch order are traced arguments or data: changing any of
  them never recompiles; the model, the optimizer names, the batch size and the chunk length
  are static.
* Several optimizers train concurrently (`parallel=`):
  - "threads" (default): one compiled program per optimizer, each run in its own thread
    (XLA releases the GIL while it computes), at most `os.cpu_count()` at a time;
  - "fused": all optimizers in one compiled program, stepped together inside one scan;
  - "sequential": one optimizer after another, each using XLA's own intra-op threads.
  Measured by bench/bench_training.py on 2 cores, six optimizers: for the MLP, whose small
  matmuls XLA spreads poorly over two cores (35-82% CPU one at a time), threads gave
  1.3-2.9x the throughput over five runs on a shared machine; for the CNN, whose large
  matmuls already keep both cores busy, the three are within noise (0.99-1.45x). Fused
  matches threads on the MLP but compiles a new program for every new set of optimizers,
  hence threads by default.
* After each epoch, validation loss/accuracy are computed (no dropout) and `callback` is
  called once per epoch with the result so far; returning False stops the run and keeps
  what was trained (the result is marked `stopped`).

Train loss/accuracy are the running means over the epoch's batches (with dropout on), as
Keras reports them; the last partial batch of an epoch is dropped (the order is reshuffled
every epoch, so every image is used over the run).
"""

from __future__ import annotations

import csv
import functools
import io
import json
import math
import os
import threading
import time
from collections.abc import Callable, Mapping, Sequence
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

import jax
import jax.numpy as jnp
import numpy as np

from optim_core.settings import OptimizerSettings
from training.data import MNISTSplit, load_mnist
from training.models import Model, get_model, loss_and_logits

__all__ = [
    "DEFAULT_PRESET",
    "PARALLEL_MODES",
    "EpochRecord",
    "OptimizerSettings",
    "Progress",
    "RunResult",
    "TrainConfig",
    "TrainResult",
    "flatten_params",
    "trace_count",
    "train",
    "unflatten_params",
]

PARALLEL_MODES = ("threads", "fused", "sequential")
# The registry's own defaults are tuned for the 2D surfaces (Adam's α = 0.02 is far too large
# for a network), so an optimizer given without a preset trains with Keras's defaults: the
# seed article's framework, with a sensible value for every optimizer Keras has.
DEFAULT_PRESET = "keras"
EVAL_BATCH = 500

_trace_counts: dict[str, int] = {"chunk": 0, "eval": 0}
_trace_lock = threading.Lock()


def trace_count(kind: str = "chunk") -> int:
    """How often the training chunk ("chunk") or evaluation ("eval") has been traced."""
    return _trace_counts[kind]


def _count_trace(kind: str) -> None:
    with _trace_lock:
        _trace_counts[kind] += 1


# ----------------------------------------------------------------------------- config


@dataclass(frozen=True)
class TrainConfig:
    """What is trained and how; everything here is recorded in the results."""

    model: str = "mlp"
    epochs: int = 5
    batch_size: int = 64
    train_size: int | None = None  # None: the whole training split
    val_size: int | None = None  # None: the whole validation split
    seed: int = 0
    snapshot_every: int | None = None  # batches between parameter snapshots; None: per epoch
    chunk_size: int = 50  # batches per compiled call (progress granularity); static
    keep_snapshots: bool = True
    parallel: str = "threads"
    workers: int | None = None  # threads at once; None: os.cpu_count()

    def validate(self) -> None:
        get_model(self.model)
        for name in ("epochs", "batch_size"):
            value = getattr(self, name)
            if isinstance(value, bool) or not isinstance(value, int) or value < 1:
                raise ValueError(f"{name} must be a positive whole number, got {value!r}")
        if self.epochs > 1000:
            raise ValueError(f"epochs must be at most 1000, got {self.epochs}")
        if self.snapshot_every is not None and self.snapshot_every < 1:
            raise ValueError(f"snapshot_every must be positive, got {self.snapshot_every}")
        if isinstance(self.chunk_size, bool) or not isinstance(self.chunk_size, int) or self.chunk_size < 1:
            raise ValueError(f"chunk_size must be a positive whole number, got {self.chunk_size}")
        if self.parallel not in PARALLEL_MODES:
            raise ValueError(f"parallel must be one of {PARALLEL_MODES}, got {self.parallel!r}")


# ----------------------------------------------------------------------------- results


@dataclass
class EpochRecord:
    epoch: int  # 1-based
    train_loss: float
    train_acc: float
    val_loss: float
    val_acc: float
    time: float  # seconds of training for this epoch (compile excluded), this optimizer
    eval_time: float  # seconds spent on the validation pass
    batches: int = 0  # batches trained in this epoch (< steps_per_epoch: stopped mid-epoch)


@dataclass
class RunResult:
    """One optimizer's run. `snapshots[k]` are the flattened parameters after
    `snapshot_steps[k]` batches (row 0 is the shared start); not serialized."""

    optimizer: str
    label: str
    hparams: dict[str, float]
    preset: str | None
    initial_val_loss: float = math.nan
    initial_val_acc: float = math.nan
    epochs: list[EpochRecord] = field(default_factory=list)
    compile_time: float = 0.0
    snapshots: np.ndarray | None = None
    snapshot_steps: list[int] = field(default_factory=list)
    final_params: Any = None

    @property
    def total_time(self) -> float:
        return float(sum(e.time for e in self.epochs))

    @property
    def diverged(self) -> bool:
        return any(not math.isfinite(e.train_loss) for e in self.epochs)

    def curve(self, key: str) -> np.ndarray:
        """Per-epoch values of `key` ("val_acc", "train_loss", ...) as an array."""
        return np.array([getattr(e, key) for e in self.epochs], dtype=np.float64)

    def to_dict(self) -> dict[str, Any]:
        return {
            "optimizer": self.optimizer,
            "label": self.label,
            "hparams": dict(self.hparams),
            "preset": self.preset,
            "initial_val_loss": self.initial_val_loss,
            "initial_val_acc": self.initial_val_acc,
            "epochs": [asdict(e) for e in self.epochs],
            "total_time": self.total_time,
            "compile_time": self.compile_time,
            "diverged": self.diverged,
        }


def _json_safe(x: Any) -> Any:
    """NaN/inf are not JSON: write them as null (a diverged run's loss)."""
    if isinstance(x, float) and not math.isfinite(x):
        return None
    if isinstance(x, dict):
        return {k: _json_safe(v) for k, v in x.items()}
    if isinstance(x, list | tuple):
        return [_json_safe(v) for v in x]
    return x


CSV_COLUMNS = (
    "optimizer",
    "label",
    "epoch",
    "train_loss",
    "train_acc",
    "val_loss",
    "val_acc",
    "time",
    "eval_time",
    "batches",
)


@dataclass
class TrainResult:
    config: TrainConfig
    data_source: str
    data_note: str
    n_train: int
    n_val: int
    steps_per_epoch: int
    runs: list[RunResult]
    stopped: bool = False
    wall_time: float = 0.0

    def run(self, name_or_label: str) -> RunResult:
        for r in self.runs:
            if name_or_label in (r.label, r.optimizer):
                return r
        raise KeyError(name_or_label)

    def to_dict(self) -> dict[str, Any]:
        return _json_safe(
            {
                "config": asdict(self.config),
                "data": {
                    "source": self.data_source,
                    "note": self.data_note,
                    "n_train": self.n_train,
                    "n_val": self.n_val,
                },
                "steps_per_epoch": self.steps_per_epoch,
                "stopped": self.stopped,
                "wall_time": self.wall_time,
                "runs": [r.to_dict() for r in self.runs],
            }
        )

    def to_json(self, path: str | os.PathLike[str] | None = None) -> str:
        text = json.dumps(self.to_dict(), indent=2)
        if path is not None:
            Path(path).write_text(text + "\n")
        return text

    def to_csv(self, path: str | os.PathLike[str] | None = None) -> str:
        """Long format: one row per optimizer and epoch."""
        buf = io.StringIO()
        w = csv.writer(buf, lineterminator="\n")
        w.writerow(CSV_COLUMNS)
        for r in self.runs:
            for e in r.epochs:
                w.writerow(
                    [r.optimizer, r.label, e.epoch]
                    + [
                        f"{v:.6g}"
                        for v in (e.train_loss, e.train_acc, e.val_loss, e.val_acc, e.time, e.eval_time)
                    ]
                    + [e.batches]
                )
        text = buf.getvalue()
        if path is not None:
            Path(path).write_text(text)
        return text

    @classmethod
    def from_dict(cls, d: Mapping[str, Any]) -> TrainResult:
        """Rebuild from `to_dict()` output (snapshots and parameters are not kept)."""

        def nan(v: Any) -> Any:  # null (a diverged run's NaN) back to NaN
            return math.nan if v is None else v

        runs = []
        for rd in d["runs"]:
            epochs = [EpochRecord(**{k: nan(v) for k, v in e.items()}) for e in rd["epochs"]]
            runs.append(
                RunResult(
                    rd["optimizer"],
                    rd["label"],
                    rd["hparams"],
                    rd["preset"],
                    nan(rd["initial_val_loss"]),
                    nan(rd["initial_val_acc"]),
                    epochs,
                    rd["compile_time"],
                )
            )
        return cls(
            TrainConfig(**d["config"]),
            d["data"]["source"],
            d["data"]["note"],
            d["data"]["n_train"],
            d["data"]["n_val"],
            d["steps_per_epoch"],
            runs,
            d["stopped"],
            d["wall_time"],
        )


@dataclass(frozen=True)
class Progress:
    """What a callback sees: `epoch` of `epochs` is done for every optimizer."""

    epoch: int
    epochs: int
    result: TrainResult  # the runs so far (curves up to `epoch`)


# ----------------------------------------------------------------------------- params


def flatten_params(params: Any) -> np.ndarray:
    """All leaves, in `jax.tree.leaves` order, as one float32 vector."""
    return np.concatenate([np.asarray(p, np.float32).ravel() for p in jax.tree.leaves(params)])


def unflatten_params(flat: Any, like: Any) -> Any:
    """The inverse of `flatten_params` (works on NumPy and traced JAX vectors)."""
    leaves, treedef = jax.tree.flatten(like)
    out, i = [], 0
    for leaf in leaves:
        out.append(flat[i : i + leaf.size].reshape(leaf.shape))
        i += leaf.size
    return jax.tree.unflatten(treedef, out)


# ----------------------------------------------------------------------------- compiled units


def _optim_core() -> tuple[Any, Any, Any]:
    # Imported here so that data/models work (and their tests run) without optim_core.
    # The registry is optim_core's plus the network-only optimizers (Muon).
    from optim_core import apply_updates
    from training.optimizers import NETWORK_OPTIMIZERS, resolve_network_hparams

    return NETWORK_OPTIMIZERS, apply_updates, resolve_network_hparams


def _to_float(x: jax.Array) -> jax.Array:
    return x.astype(jnp.float32) * (1.0 / 255.0)


@functools.lru_cache(maxsize=64)
def _chunk_fn(model_name: str, opt_names: tuple[str, ...]) -> jax.stages.Wrapped:
    """Jitted: train the optimizers `opt_names` (together) over a chunk of K batches.

    (params, states, hparams, x_all, y_all, idx (K, B), valid (K,), epoch_key, offset)
      -> (params, states, losses (K, n_opt), accs (K, n_opt))

    Steps with `valid` false (the padding of an epoch's last chunk) are skipped by a
    `lax.cond`, so every chunk has the same static length whatever the training-set size:
    moving the size slider never recompiles, and padding costs no arithmetic.
    """
    optimizers, apply_updates, _ = _optim_core()
    model = get_model(model_name)
    opts = [optimizers[n].optimizer for n in opt_names]
    grad_fn = jax.value_and_grad(lambda p, x, y, k: loss_and_logits(model, p, x, y, k, True), has_aux=True)
    n = len(opts)

    def chunk(params, states, hparams, x_all, y_all, idx, valid, epoch_key, offset):
        _count_trace("chunk")
        keys = jax.vmap(lambda i: jax.random.fold_in(epoch_key, i))(offset + jnp.arange(idx.shape[0]))

        def step(carry, bidx, key):
            params, states = carry
            x, y = _to_float(x_all[bidx]), y_all[bidx]
            new_p, new_s, losses, accs = [], [], [], []
            for opt, p, s, hp in zip(opts, params, states, hparams, strict=True):
                (loss, logits), g = grad_fn(p, x, y, key)
                updates, s, _ = opt.update(g, s, p, hp)
                new_p.append(apply_updates(p, updates))
                new_s.append(s)
                losses.append(loss)
                accs.append(jnp.mean(jnp.argmax(logits, -1) == y))
            return (tuple(new_p), tuple(new_s)), (jnp.stack(losses), jnp.stack(accs))

        def skip(carry, bidx, key):
            return carry, (jnp.zeros(n, jnp.float32), jnp.zeros(n, jnp.float32))

        def body(carry, inp):
            bidx, ok, key = inp
            return jax.lax.cond(ok, step, skip, carry, bidx, key)

        (params, states), (losses, accs) = jax.lax.scan(body, (params, states), (idx, valid, keys))
        return params, states, losses, accs

    return jax.jit(chunk, donate_argnums=(0, 1))


_compiled: dict[tuple, Any] = {}
_compile_lock = threading.Lock()
_key_locks: dict[tuple, threading.Lock] = {}


def _compiled_chunk(model_name: str, opt_names: tuple[str, ...], args: tuple) -> tuple[Any, float]:
    """The compiled chunk for these arguments' shapes, compiled once per process.

    Compiling ahead of time (rather than on the first call) lets the results report compile
    time apart from training time; the key holds everything the program depends on
    statically, and hyperparameter *values* are not part of it.
    """
    shapes = tuple((a.shape, str(a.dtype)) for a in jax.tree.leaves(args))
    key = (model_name, opt_names, jax.tree.structure(args), shapes)
    fn = _compiled.get(key)
    if fn is not None:
        return fn, 0.0
    with _compile_lock:  # one lock per program: different optimizers compile in parallel
        lock = _key_locks.setdefault(key, threading.Lock())
    t0 = time.perf_counter()
    with lock:
        fn = _compiled.get(key)
        if fn is None:
            fn = _chunk_fn(model_name, opt_names).lower(*args).compile()
            _compiled[key] = fn
    return fn, time.perf_counter() - t0


@functools.lru_cache(maxsize=8)
def _eval_fn(model_name: str) -> Callable[..., Any]:
    """Jitted: (params, x (nb, EVAL_BATCH, 28, 28) uint8, y, mask) -> (mean loss, accuracy)."""
    model = get_model(model_name)

    def evaluate(params, x, y, mask):
        _count_trace("eval")

        def one(args):
            xb, yb, mb = args
            logits = model.apply(params, _to_float(xb), None, False)
            logp = jax.nn.log_softmax(logits)
            nll = -jnp.take_along_axis(logp, yb[:, None], axis=1)[:, 0]
            hit = (jnp.argmax(logits, -1) == yb).astype(jnp.float32)
            return jnp.sum(nll * mb), jnp.sum(hit * mb)

        nll, hits = jax.lax.map(one, (x, y, mask))
        n = jnp.sum(mask)
        return jnp.sum(nll) / n, jnp.sum(hits) / n

    return jax.jit(evaluate)


class _EvalData:
    """Validation images padded to whole evaluation batches (padding masked out)."""

    def __init__(self, x: np.ndarray, y: np.ndarray):
        n = x.shape[0]
        b = min(EVAL_BATCH, n)
        nb = -(-n // b)
        pad = nb * b - n
        self.x = jnp.asarray(np.concatenate([x, np.zeros((pad, 28, 28), x.dtype)]).reshape(nb, b, 28, 28))
        self.y = jnp.asarray(np.concatenate([y, np.zeros(pad, y.dtype)]).reshape(nb, b))
        self.mask = jnp.asarray((np.arange(nb * b) < n).astype(np.float32).reshape(nb, b))

    def __call__(self, model_name: str, params: Any) -> tuple[float, float]:
        loss, acc = _eval_fn(model_name)(params, self.x, self.y, self.mask)
        return float(loss), float(acc)


# ----------------------------------------------------------------------------- training


def _resolve(
    optimizers: Sequence[OptimizerSettings | str],
    labels: Sequence[str | None] | None,
) -> list[tuple[OptimizerSettings, str, dict[str, float]]]:
    """(settings, a distinct label, every hyperparameter value) per optimizer; a bare name
    trains with DEFAULT_PRESET's values."""
    registry, _, resolve_hparams = _optim_core()
    if labels is not None and len(labels) != len(optimizers):
        raise ValueError(f"{len(labels)} labels for {len(optimizers)} optimizers")
    out: list[tuple[OptimizerSettings, str, dict[str, float]]] = []
    seen: set[str] = set()
    for i, c in enumerate(optimizers):
        c = OptimizerSettings(c, preset=DEFAULT_PRESET) if isinstance(c, str) else c
        if c.name not in registry:
            raise ValueError(f"unknown optimizer {c.name!r}; choose from {sorted(registry)}")
        hp = resolve_hparams(c.name, c.hparams, c.preset)
        label = (labels[i] if labels is not None else None) or registry[c.name].label
        if label in seen:  # two Adams with different settings: tell them apart
            base = resolve_hparams(c.name, None, c.preset)
            diff = ", ".join(f"{k}={v:g}" for k, v in sorted(hp.items()) if v != base[k])
            label = f"{label} ({diff or c.preset})"
            if label in seen:
                label = f"{label} #{len(seen) + 1}"
        seen.add(label)
        out.append((c, label, hp))
    if not out:
        raise ValueError("choose at least one optimizer")
    return out


def train(
    optimizers: Sequence[OptimizerSettings | str],
    config: TrainConfig | None = None,
    data: MNISTSplit | None = None,
    callback: Callable[[Progress], bool | None] | None = None,
    on_chunk: Callable[[int, int], bool | None] | None = None,
    *,
    labels: Sequence[str | None] | None = None,
) -> TrainResult:
    """Train every optimizer in `optimizers` on `data` (default: the offline sample).

    Each is an `OptimizerSettings` (missing hyperparameters take its preset's values) or a
    bare registry name (trained with DEFAULT_PRESET, Keras's defaults). `labels` names the
    runs (default: the optimizer's display name, made distinct when two share it).

    `callback(Progress)` runs after each epoch (every optimizer done with it); returning
    False stops training and returns what was trained so far, with `stopped=True`.
    `on_chunk(done, total)` reports finer progress in batches (all optimizers together);
    returning False stops after the current chunk (a Stop button that need not wait for the
    end of a long epoch): the partial epoch is evaluated and recorded with its `batches`.
    """
    config = config or TrainConfig()
    config.validate()
    resolved = _resolve(optimizers, labels)
    data = load_mnist("sample") if data is None else data
    # The device keeps the whole split and batches index its first n_train images, so the
    # compiled chunk's shapes do not depend on the training-set size.
    x_all, y_all = jnp.asarray(data.x_train), jnp.asarray(data.y_train)
    data = data.subset(config.train_size, config.val_size)
    model: Model = get_model(config.model)
    bs = config.batch_size
    n_batches = data.n_train // bs
    if n_batches < 1:
        raise ValueError(f"batch_size {bs} is larger than the training set ({data.n_train})")

    root = jax.random.key(config.seed)
    k_init, k_data, k_drop = jax.random.split(root, 3)
    params0 = model.init(k_init)
    val = _EvalData(data.x_val, data.y_val)

    runs = [RunResult(c.name, label, hp, c.preset) for c, label, hp in resolved]
    hparams = [{k: jnp.float32(v) for k, v in hp.items()} for _, _, hp in resolved]
    names = [c.name for c, _, _ in resolved]
    # Groups are trained by one compiled program each: all together when fused.
    if config.parallel == "fused":
        groups = [list(range(len(runs)))]
    else:
        groups = [[i] for i in range(len(runs))]
    optimizers_reg, _, _ = _optim_core()
    params = [jax.tree.map(jnp.copy, params0) for _ in runs]
    states = [optimizers_reg[n].optimizer.init(p) for n, p in zip(names, params, strict=True)]

    flat0 = flatten_params(params0) if config.keep_snapshots else None
    snaps: list[list[np.ndarray]] = [[flat0] if flat0 is not None else [] for _ in runs]
    for r in runs:
        r.snapshot_steps = [0]
    loss0, acc0 = val(config.model, params0)
    for r in runs:
        r.initial_val_loss, r.initial_val_acc = loss0, acc0

    result = TrainResult(config, data.source, data.note, data.n_train, data.n_val, n_batches, runs)
    k = config.snapshot_every or config.chunk_size
    n_chunks = -(-n_batches // k)
    valid_all = jnp.arange(n_chunks * k) < n_batches
    workers = config.workers or os.cpu_count() or 1
    pool = ThreadPoolExecutor(max_workers=workers) if config.parallel == "threads" else None
    t_start = time.perf_counter()

    def run_group(gi: int, group: list[int], args: tuple) -> tuple[float, tuple]:
        fn, compile_s = _compiled_chunk(config.model, tuple(names[i] for i in group), args)
        for i in group:
            runs[i].compile_time += compile_s
        t0 = time.perf_counter()
        out = fn(*args)
        jax.block_until_ready(out)
        return time.perf_counter() - t0, out

    try:
        for epoch in range(1, config.epochs + 1):
            perm = jax.random.permutation(jax.random.fold_in(k_data, epoch), data.n_train)
            idx = perm[: n_batches * bs].reshape(n_batches, bs)
            idx = jnp.concatenate([idx, jnp.zeros((n_chunks * k - n_batches, bs), idx.dtype)])
            epoch_key = jax.random.fold_in(k_drop, epoch)
            ep_time = [0.0] * len(runs)
            ep_loss: list[list[np.ndarray]] = [[] for _ in runs]
            ep_acc: list[list[np.ndarray]] = [[] for _ in runs]
            stop_now, trained = False, 0
            for c in range(n_chunks):
                start, length = c * k, min(k, n_batches - c * k)
                done = (epoch - 1) * n_batches + start + length
                chunk_args = (
                    x_all,
                    y_all,
                    idx[start : start + k],
                    valid_all[start : start + k],
                    epoch_key,
                    jnp.int32(start),
                )
                jobs: list[tuple[list[int], Future[tuple[float, tuple]] | tuple[float, tuple]]] = []
                for gi, g in enumerate(groups):
                    args = (
                        tuple(params[i] for i in g),
                        tuple(states[i] for i in g),
                        tuple(hparams[i] for i in g),
                        *chunk_args,
                    )
                    if pool is not None:
                        jobs.append((g, pool.submit(run_group, gi, g, args)))
                    else:
                        jobs.append((g, run_group(gi, g, args)))
                snapshot = config.keep_snapshots and (config.snapshot_every is not None or c == n_chunks - 1)
                for g, job in jobs:
                    dt, (p, s, losses, accs) = job.result() if isinstance(job, Future) else job
                    losses, accs = np.asarray(losses)[:length], np.asarray(accs)[:length]
                    for j, i in enumerate(g):
                        params[i], states[i] = p[j], s[j]
                        # A fused group's time is shared; split it evenly between members.
                        ep_time[i] += dt / len(g)
                        ep_loss[i].append(losses[:, j])
                        ep_acc[i].append(accs[:, j])
                        if snapshot:
                            snaps[i].append(flatten_params(p[j]))
                            runs[i].snapshot_steps.append(done)
                trained = start + length
                if on_chunk is not None and on_chunk(done, config.epochs * n_batches) is False:
                    stop_now = c < n_chunks - 1 or epoch < config.epochs
                    break
            for i, r in enumerate(runs):
                t0 = time.perf_counter()
                vl, va = val(config.model, params[i])
                r.epochs.append(
                    EpochRecord(
                        epoch,
                        float(np.mean(np.concatenate(ep_loss[i]))),
                        float(np.mean(np.concatenate(ep_acc[i]))),
                        vl,
                        va,
                        ep_time[i],
                        time.perf_counter() - t0,
                        trained,
                    )
                )
                if stop_now and config.keep_snapshots and runs[i].snapshot_steps[-1] != done:
                    snaps[i].append(flatten_params(params[i]))  # where the run really ended
                    runs[i].snapshot_steps.append(done)
            result.wall_time = time.perf_counter() - t_start
            if callback is not None and callback(Progress(epoch, config.epochs, result)) is False:
                stop_now = stop_now or epoch < config.epochs
            if stop_now:
                result.stopped = True
                break
    finally:
        if pool is not None:
            pool.shutdown(wait=True)
        for i, r in enumerate(runs):
            r.final_params = params[i]
            if config.keep_snapshots:
                r.snapshots = np.stack(snaps[i])
        result.wall_time = time.perf_counter() - t_start
    return result
