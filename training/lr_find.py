"""The learning-rate range test (fast.ai's `lr_find`, after L. Smith, "Cyclical Learning Rates
for Training Neural Networks", 2017): train once while α grows exponentially from α_min to
α_max, one step per batch, and read a good α off the loss-vs-α curve.

    >>> r = lr_find("sgd", model="mlp")            # one epoch of the shipped sample
    >>> r.suggestion, r.rule                         # α at the steepest descent, and why

How it runs: the same pieces as `training.train` (the model, its loss, the optimizer's pure
update), in a jitted `lax.scan` over chunks of `chunk_size` batches whose learning rate is a
scanned input (one α per step), not a constant: α, the other hyperparameters, the seed and the
batch order are traced, so a new range or new hyperparameters never recompile. Between chunks
the host smooths the loss and stops as soon as it blows up.

Definitions (also in `LRFindResult.rule` / `STOP_RULE`):
- α_k = α_min · (α_max / α_min)^(k / (N − 1)) for step k = 0 … N − 1 (N batches: one epoch
  unless `num_batches` is given);
- smoothed loss: the bias-corrected exponential moving average of the batch losses,
  s_k = a_k / (1 − β^(k+1)) with a_k = β a_{k−1} + (1 − β) loss_k, β = 0.98 (fast.ai's);
- stop: at the first step whose smoothed loss is not finite or exceeds 4× the lowest smoothed
  loss so far (that step is kept, so the curve shows the blow-up);
- suggestion: the α where the smoothed loss falls fastest against log α (the minimum of
  d s / d log α, by central differences), skipping the first 10 % of the steps (the average is
  still warming up) and the last 5 steps (the blow-up).
"""

from __future__ import annotations

import functools
import math
import threading
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import jax
import jax.numpy as jnp
import numpy as np

from optim_core.settings import OptimizerSettings
from training.data import MNISTSplit, load_mnist
from training.models import get_model, loss_and_logits

__all__ = ["STOP_RULE", "SUGGESTION_RULE", "LRFindResult", "lr_find", "smooth", "steepest", "trace_count"]

DEFAULT_PRESET = "keras"  # as training.train: a bare name trains with Keras's defaults
SMOOTHING = 0.98
BLOWUP = 4.0
SKIP_END = 5

SUGGESTION_RULE = (
    "Suggested α: where the smoothed loss falls fastest as α grows (the most negative slope of "
    "the smoothed loss against log α), ignoring the first 10 % of the steps, where the moving "
    "average is still warming up, and the last 5, where it blows up. Fast.ai's rule of thumb: "
    "the loss is still dropping quickly there, and training is stable well below the blow-up."
)
STOP_RULE = (
    "The test stops at the first step whose smoothed loss exceeds 4× the lowest smoothed loss "
    "so far (or is not finite): larger learning rates only diverge."
)

_trace_counts = {"chunk": 0}
_trace_lock = threading.Lock()


def trace_count() -> int:
    """How often the range test's chunk has been traced (= compiled) in this process."""
    return _trace_counts["chunk"]


@dataclass(frozen=True, eq=False)
class LRFindResult:
    """The range test: one entry per step actually taken (fewer than planned if it stopped)."""

    alphas: np.ndarray  # (n,), α used at each step, increasing
    losses: np.ndarray  # (n,), the batch's training loss at that step (before the update)
    smoothed: np.ndarray  # (n,), the bias-corrected moving average of `losses`
    suggestion: float | None  # α at the steepest descent; None if too few steps to tell
    suggestion_index: int | None  # its index into alphas
    rule: str  # how `suggestion` is chosen, as a sentence
    stopped_early: bool  # the test stopped at the blow-up, before α_max
    blowup_index: int | None  # first step past STOP_RULE's limit (the last one when stopped)
    stop_rule: str
    settings: OptimizerSettings  # the optimizer; its own α is ignored (the test sets α)
    model: str
    batch_size: int
    alpha_min: float
    alpha_max: float
    planned_steps: int
    data_source: str

    @property
    def best_index(self) -> int:
        """Index of the lowest smoothed loss."""
        finite = np.where(np.isfinite(self.smoothed), self.smoothed, np.inf)
        return int(np.argmin(finite))

    def summary(self) -> str:
        """One sentence for the page."""
        ran = f"{len(self.alphas)} of {self.planned_steps} steps"
        stop = ""
        if self.stopped_early:
            stop = f", stopped at α = {self.alphas[-1]:.3g} (the loss blew up)"
        elif self.blowup_index is not None:
            stop = f", the loss blew up from α = {self.alphas[self.blowup_index]:.3g}"
        b = self.best_index
        best = f"lowest smoothed loss {self.smoothed[b]:.3g} at α = {self.alphas[b]:.3g}"
        sug = (
            f"suggested α = {self.suggestion:.3g}"
            if self.suggestion is not None
            else "too few steps to suggest an α"
        )
        return f"{ran}{stop}; {best}; {sug}."


def smooth(losses: np.ndarray, beta: float = SMOOTHING) -> np.ndarray:
    """The bias-corrected exponential moving average (fast.ai's smoothed loss)."""
    losses = np.asarray(losses, np.float64)
    out = np.empty_like(losses)
    avg = 0.0
    for k, value in enumerate(losses):
        avg = beta * avg + (1.0 - beta) * value
        out[k] = avg / (1.0 - beta ** (k + 1))
    return out


def _blowup_index(smoothed: np.ndarray, factor: float = BLOWUP) -> int | None:
    """First k with a non-finite smoothed loss or smoothed[k] > factor · min(smoothed[:k])."""
    best = math.inf
    for k, value in enumerate(smoothed):
        if not math.isfinite(value) or (k > 0 and value > factor * best):
            return k
        best = min(best, value)
    return None


def steepest(alphas: np.ndarray, smoothed: np.ndarray, skip_end: int = SKIP_END) -> int | None:
    """Index of the most negative d smoothed / d log α (see SUGGESTION_RULE); None if < 3 points."""
    n = len(alphas)
    start = max(1, int(math.ceil(0.1 * n)))
    end = n - skip_end if n - skip_end - start >= 3 else n
    if end - start < 3:
        return None
    s = np.asarray(smoothed[start:end], np.float64)
    la = np.log(np.asarray(alphas[start:end], np.float64))
    if not np.all(np.isfinite(s)):
        return None
    slope = np.gradient(s, la)
    return start + int(np.argmin(slope))


def _to_float(x: jax.Array) -> jax.Array:
    return x.astype(jnp.float32) * (1.0 / 255.0)


@functools.lru_cache(maxsize=16)
def _chunk_fn(model_name: str, opt_name: str) -> Callable[..., Any]:
    """Jitted: K steps with one α per step.

    (params, state, hparams, alphas (K,), x_all, y_all, idx (K, B), valid (K,), key, offset)
      -> (params, state, losses (K,))
    """
    from optim_core import apply_updates
    from training.optimizers import NETWORK_OPTIMIZERS

    model = get_model(model_name)
    opt = NETWORK_OPTIMIZERS[opt_name].optimizer
    grad_fn = jax.value_and_grad(lambda p, x, y, k: loss_and_logits(model, p, x, y, k, True)[0])

    def chunk(params, state, hparams, alphas, x_all, y_all, idx, valid, key, offset):
        with _trace_lock:
            _trace_counts["chunk"] += 1
        keys = jax.vmap(lambda i: jax.random.fold_in(key, i))(offset + jnp.arange(idx.shape[0]))

        def step(carry, bidx, alpha, k):
            params, state = carry
            loss, g = grad_fn(params, _to_float(x_all[bidx]), y_all[bidx], k)
            hp = dict(hparams)
            hp["learning_rate"] = alpha
            updates, state, _ = opt.update(g, state, params, hp)
            return (apply_updates(params, updates), state), loss

        def skip(carry, bidx, alpha, k):
            return carry, jnp.float32(jnp.nan)

        def body(carry, inp):
            bidx, alpha, ok, k = inp
            return jax.lax.cond(ok, step, skip, carry, bidx, alpha, k)

        (params, state), losses = jax.lax.scan(body, (params, state), (idx, alphas, valid, keys))
        return params, state, losses

    return jax.jit(chunk)


def lr_find(
    optimizer: OptimizerSettings | str = "sgd",
    *,
    model: str = "mlp",
    data: MNISTSplit | None = None,
    alpha_min: float = 1e-5,
    alpha_max: float = 10.0,
    num_batches: int | None = None,
    batch_size: int = 64,
    train_size: int | None = None,
    seed: int = 0,
    chunk_size: int = 25,
    stop_early: bool = True,
) -> LRFindResult:
    """Run the learning-rate range test and suggest α (see the module docstring).

    Args:
      optimizer: a registry name (Keras preset defaults, as `training.train`) or settings; the
        test overrides its learning rate step by step, the other hyperparameters are kept.
      model, data, batch_size, train_size, seed: as `training.train` (data default: the
        shipped sample; the first `train_size` training images are used).
      alpha_min, alpha_max: the range, 0 < alpha_min < alpha_max ≤ 100.
      num_batches: steps of the test (default: one epoch, n_train // batch_size); batches are
        drawn from reshuffled epochs if it is longer than one.
      chunk_size: batches per compiled call (how often the host checks for the blow-up).
      stop_early: stop once the smoothed loss exceeds 4× its lowest value (STOP_RULE); with
        False the test runs to α_max, and the suggestion still reads only the curve before
        the blow-up.
    """
    settings = (
        OptimizerSettings(optimizer, preset=DEFAULT_PRESET) if isinstance(optimizer, str) else optimizer
    )
    from training.optimizers import resolve_network_hparams

    # ValueError for an unknown optimizer or bad value
    hp_values = resolve_network_hparams(settings.name, settings.hparams, settings.preset)
    get_model(model)
    if not (math.isfinite(alpha_min) and math.isfinite(alpha_max) and 0 < alpha_min < alpha_max <= 100):
        raise ValueError(f"need 0 < alpha_min < alpha_max <= 100, got ({alpha_min}, {alpha_max})")
    for name, value in (("batch_size", batch_size), ("chunk_size", chunk_size)):
        if isinstance(value, bool) or not isinstance(value, int) or value < 1:
            raise ValueError(f"{name} must be a positive whole number, got {value!r}")
    data = load_mnist("sample") if data is None else data
    x_all, y_all = jnp.asarray(data.x_train), jnp.asarray(data.y_train)
    n_train = data.n_train if train_size is None else data.subset(train_size).n_train
    per_epoch = n_train // batch_size
    if per_epoch < 1:
        raise ValueError(f"batch_size {batch_size} is larger than the training set ({n_train})")
    n = per_epoch if num_batches is None else int(num_batches)
    if n < 2 or n > 100_000:
        raise ValueError(f"num_batches must be between 2 and 100000, got {num_batches!r}")

    alphas = alpha_min * (alpha_max / alpha_min) ** (np.arange(n) / (n - 1))
    k_init, k_data, k_drop = jax.random.split(jax.random.key(seed), 3)
    order = np.concatenate(
        [
            np.asarray(jax.random.permutation(jax.random.fold_in(k_data, e), n_train))[
                : per_epoch * batch_size
            ]
            for e in range(-(-n // per_epoch))
        ]
    ).reshape(-1, batch_size)[:n]
    k = chunk_size
    n_chunks = -(-n // k)
    pad = n_chunks * k - n
    idx = np.concatenate([order, np.zeros((pad, batch_size), order.dtype)]).astype(np.int32)
    alphas_padded = np.concatenate([alphas, np.full(pad, alpha_max)]).astype(np.float32)
    valid = np.arange(n_chunks * k) < n

    from training.optimizers import NETWORK_OPTIMIZERS

    mdl = get_model(model)
    params = mdl.init(k_init)
    state = NETWORK_OPTIMIZERS[settings.name].optimizer.init(params)
    hparams = {name: jnp.float32(v) for name, v in hp_values.items()}
    fn = _chunk_fn(model, settings.name)
    losses: list[np.ndarray] = []
    stop_at: int | None = None
    for c in range(n_chunks):
        sl = slice(c * k, (c + 1) * k)
        params, state, chunk_losses = fn(
            params,
            state,
            hparams,
            jnp.asarray(alphas_padded[sl]),
            x_all,
            y_all,
            jnp.asarray(idx[sl]),
            jnp.asarray(valid[sl]),
            k_drop,
            jnp.int32(c * k),
        )
        losses.append(np.asarray(chunk_losses)[: min(k, n - c * k)])
        if stop_early:
            stop_at = _blowup_index(smooth(np.concatenate(losses)))
            if stop_at is not None:
                break
    raw = np.concatenate(losses).astype(np.float64)
    taken = len(raw) if stop_at is None else stop_at + 1
    raw, used = raw[:taken], alphas[:taken]
    smoothed = smooth(raw)
    # The suggestion reads the part of the curve before the blow-up, also when the test ran
    # on past it (stop_early=False): a loss falling back from a blow-up is no guide.
    blowup = _blowup_index(smoothed)
    upto = taken if blowup is None else blowup
    idx_best = steepest(used[:upto], smoothed[:upto])
    return LRFindResult(
        alphas=used,
        losses=raw,
        smoothed=smoothed,
        blowup_index=blowup,
        suggestion=None if idx_best is None else float(used[idx_best]),
        suggestion_index=idx_best,
        rule=SUGGESTION_RULE,
        stopped_early=stop_at is not None,
        stop_rule=STOP_RULE,
        settings=settings,
        model=model,
        batch_size=batch_size,
        alpha_min=float(alpha_min),
        alpha_max=float(alpha_max),
        planned_steps=n,
        data_source=data.source,
    )
