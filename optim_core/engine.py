"""The trajectory engine: many optimizers, hyperparameter sets and start points in one call.

Shape of a call: configurations are grouped by optimizer (the optimizer's code is static);
each group runs one `lax.scan` over the steps, `vmap`ped over its hyperparameter values and
start points, as one jitted program, and a call runs its groups' programs one after the
other. Static: the surface, the optimizer and group size, the step bucket and what is
recorded. Traced: every hyperparameter value, start point, the gradient noise (drawn on the
host from the seed), surface parameter and schedule parameter, so moving any of those never
recompiles.

Per call the engine costs about what optax + `lax.scan` costs (bench/bench_core.py --api):
a small program runs on the caller's thread, one operation after the other (see _recorded
for what keeps it so), the shared inputs are cached on the device, and results are read
with np.asarray.
"""

from __future__ import annotations

import functools
import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import jax
import jax.numpy as jnp
import numpy as np

from optim_core._base import INTERNAL_KEYS
from optim_core.metrics import minimum_loss
from optim_core.presets import resolve_hparams
from optim_core.registry import OPTIMIZERS
from optim_core.schedules import Schedule, schedule_factors
from optim_core.settings import DEFAULT_PRESET, HParams, OptimizerSettings
from optim_core.trajectory import Trajectory
from surfaces import Surface, get_surface

MAX_STEPS = 20_000
MAX_BATCH = 1 << 20
# Step counts are static for lax.scan: runs are padded up to one of these so that moving the
# steps slider reuses a compiled program instead of compiling one per value.
STEP_BUCKETS: tuple[int, ...] = (
    50,
    100,
    200,
    300,
    500,
    750,
    1000,
    1500,
    2000,
    3000,
    5000,
    7500,
    10_000,
    15_000,
    20_000,
)

_trace_count = 0  # incremented each time the simulation is traced (= compiled anew)


def trace_count() -> int:
    """How many times the engine's simulation has been traced in this process."""
    return _trace_count


def step_bucket(steps: int) -> int:
    """The padded scan length used for `steps` steps."""
    for bucket in STEP_BUCKETS:
        if steps <= bucket:
            return bucket
    raise ValueError(f"steps={steps} exceeds the maximum of {MAX_STEPS}")


@dataclass(frozen=True, init=False)
class RunConfig:
    """One run in a batch: an optimizer with its settings, where it starts, what it is called.

    Built as `RunConfig("adam", {"learning_rate": 0.05}, start=(1.0, 1.0), label="fast")`
    (hparams may be partial: the preset's values fill the rest) or from existing settings
    with `RunConfig.of(settings, start, label)`. `optimizer`, `hparams` and `preset` read the
    settings. Immutable and hashable.
    """

    settings: OptimizerSettings
    start: tuple[float, float] | None  # None: the surface's default start
    label: str | None

    def __init__(
        self,
        optimizer: str,
        hparams: Mapping[str, float] | None = None,
        preset: str | None = None,
        start: Sequence[float] | None = None,
        label: str | None = None,
    ) -> None:
        settings = OptimizerSettings(optimizer, HParams(hparams), preset or DEFAULT_PRESET)
        object.__setattr__(self, "settings", settings)
        object.__setattr__(self, "start", None if start is None else tuple(start))
        object.__setattr__(self, "label", label)

    @classmethod
    def of(
        cls, settings: OptimizerSettings, start: Sequence[float] | None = None, label: str | None = None
    ) -> RunConfig:
        return cls(settings.name, settings.hparams, settings.preset, start, label)

    @property
    def optimizer(self) -> str:
        return self.settings.name

    @property
    def hparams(self) -> Mapping[str, float]:
        return self.settings.hparams

    @property
    def preset(self) -> str:
        return self.settings.preset


@dataclass(frozen=True)
class GridResult:
    """Summary of many runs (basin maps, sensitivity sweeps): one entry per run."""

    final_position: np.ndarray  # (n, 2), last finite position
    final_loss: np.ndarray  # (n,), true loss at the last finite position
    steps_to_tol: np.ndarray  # (n,), first step with loss - f* <= tol, or -1 (never / no f*)
    diverged_at: np.ndarray  # (n,), first non-finite path index, or -1
    nearest_minimum: np.ndarray  # (n,), index into surface.minima of the closest one, or -1
    final_distance: np.ndarray  # (n,), distance to that minimum (NaN if no minima)


def _resolve_steps(steps: int) -> int:
    if isinstance(steps, bool) or not isinstance(steps, (int, np.integer)):
        raise ValueError(f"steps must be a whole number, got {steps!r}")
    if not 1 <= int(steps) <= MAX_STEPS:
        raise ValueError(f"steps={steps} must be between 1 and {MAX_STEPS}")
    return int(steps)


def _resolve_start(surface: Surface, start: Sequence[float] | None) -> tuple[float, float]:
    if type(start) is tuple and len(start) == 2:  # the common case, checked without conversions
        x, y = start
        if type(x) is float and type(y) is float and math.isfinite(x) and math.isfinite(y):
            return (x, y)
    if start is None:
        return (float(surface.start[0]), float(surface.start[1]))
    try:
        x, y = (float(v) for v in start)
    except (TypeError, ValueError) as exc:
        raise ValueError(f"start must be two numbers (x, y), got {start!r}") from exc
    if not (math.isfinite(x) and math.isfinite(y)):
        raise ValueError(f"start must be finite, got ({x}, {y})")
    return (x, y)


def divergence_bound(surface: Surface) -> float:
    """B: a run diverges at the first point with |x| > B or |y| > B (or a non-finite
    position or loss), where B = 100 · max(|x₀|, |x₁|, |y₀|, |y₁|, 1) for the plotting domain
    [x₀, x₁] × [y₀, y₁]: a square centred on the origin, 100 times the domain's largest bound.
    (Rosenbrock's domain [−2, 2] × [−1, 3] gives B = 300.) Leaving it means the path has left
    the picture for good.
    """
    (x0, x1), (y0, y1) = surface.domain
    return 100.0 * max(abs(x0), abs(x1), abs(y0), abs(y1), 1.0)


_bound = divergence_bound


_FLOAT32_MAX = float(np.finfo(np.float32).max)


def _stepper(surface: Surface, optimizer_name: str):
    """The optimizer and the surface's value-and-gradient for one trajectory (vmapped by the caller)."""
    opt = OPTIMIZERS[optimizer_name].optimizer

    def loss_fn(xy: jax.Array, sp: Mapping[str, jax.Array]) -> jax.Array:
        return surface.fn(xy[0], xy[1], sp)

    return opt, jax.value_and_grad(loss_fn)


def _scalars(shared: Mapping[str, Any]) -> tuple[jax.Array, jax.Array, jax.Array, jax.Array]:
    """The divergence bound B, f* (−∞ when unknown), the tolerance and the requested step count
    (a float: compared with the step index)."""
    scalars = shared["scalars"]
    return scalars[0], scalars[1], scalars[2], scalars[3]


def _step(opt, hp, xy, grad, state, per_step_t):
    """One optimizer step at xy, given the true gradient there: the gradient used (noise
    added), α_t, the update, the new state and the optimizer's internals."""
    g = grad + per_step_t[0:2]  # the noise is shared: every optimizer sees the same draw at step t
    hp_t = dict(hp)
    hp_t["learning_rate"] = hp["learning_rate"] * per_step_t[2]
    update, new_state, internals = opt.update(g, state, xy, hp_t)
    return g, hp_t["learning_rate"], update, new_state, internals


def _recorded(surface, name, record, inputs, shared):
    """One recorded run: (bucket + 1, width) float32 rows; row k holds path[k] (x, y and the
    true loss there) and, with record="full", step k from path[k] to path[k + 1] (α_t, the
    gradient used, the update and the optimizer's internals after it).

    Shaped so that XLA:CPU runs a small call as one sequential piece of work on the caller's
    thread (a call whose top level has more than 8 independent operations is spread over its
    thread pool, and the thread hops cost more than 1000 steps of the loop):
    - the loop runs bucket + 1 times and computes the loss and gradient at path[k] first, so
      row k (the start included) comes out of iteration k and nothing is computed or copied
      outside the loop;
    - the hyperparameters, the start and the shared scalars reach the loop body through an
      optimization barrier tied to the step, which keeps XLA from hoisting their slices and
      the optimizer's per-run constants (log β, 1 − β, the switches) out of the loop as
      separate operations (they cost a few scalar operations per step instead);
    - divergence is marked in the loop: from the first requested point that leaves the bound
      (or whose loss is not finite; the start only needs a finite position and loss) on, the
      rows' position and loss are NaN, so the host finds the index from the loss column (and
      sets the step data from the step before it to NaN). The flag is carried on its own:
      masking the position itself (NaN stays NaN, no flag), or carrying the flag inside the
      position vector, made XLA:CPU spread RMSprop's or NAdam's loop body over its thread
      pool at every step (8-12x slower); XLA runs a body one operation after the other only
      when each operation depends on the one before, so small changes here can cost a lot:
      measure with bench/bench_core.py --api and the per-optimizer figures in its section 6.
    """
    opt, value_and_grad = _stepper(surface, name)
    present = _internals_present(name)
    columns = len(_hparam_names(name))
    full = record == "full"
    sp = shared["surface_params"]
    nan = jnp.float32(jnp.nan)

    def body(carry, per_step_t):
        xy, state, dead = carry
        own, scalars, _ = jax.lax.optimization_barrier((inputs, shared["scalars"], per_step_t))
        hp = {k: own[i] for i, k in enumerate(_hparam_names(name))}
        bound, _, _, total = scalars[0], scalars[1], scalars[2], scalars[3]
        loss, grad = value_and_grad(xy, sp)
        t = per_step_t[3]
        limit = jnp.where(t > 0, bound, _FLOAT32_MAX)  # the bound applies from step 1 on
        counts = (jnp.abs(xy[0]) <= limit) & (jnp.abs(xy[1]) <= limit) & (jnp.abs(loss) <= _FLOAT32_MAX)
        # Only requested points count: the rest of the bucket is padding.
        dead = dead | (~counts & (t <= total))  # sticky: every later row is NaN too
        g, lr, update, state, internals = _step(opt, hp, xy, grad, state, per_step_t)
        row = [jnp.where(dead, nan, xy), jnp.where(dead, nan, loss)[None]]
        if full:
            row += [lr[None], g, update, *(internals[k] for k in present)]
        return (xy + update, state, dead), jnp.concatenate(row)

    start = inputs[columns : columns + 2]
    return jax.lax.scan(body, (start, opt.init(start), jnp.bool_(False)), shared["per_step"])[1]


def _summary(surface, name, length, inputs, shared):
    """One run without its path (basin maps, sweeps): (6,) float32, see _pack_summary.

    The position and its loss freeze at the last finite point; state and gradient may go
    non-finite after a divergence (nothing reads them, and skipping a select over the whole
    state every step makes the loop faster).
    """
    opt, value_and_grad = _stepper(surface, name)
    names = _hparam_names(name)
    hp = {k: inputs[i] for i, k in enumerate(names)}
    start = inputs[len(names) : len(names) + 2]
    sp, (bound, f_star, tol, total) = shared["surface_params"], _scalars(shared)
    total = total.astype(jnp.int32)  # compared with the step index every step
    loss, grad = value_and_grad(start, sp)
    ok = jnp.all(jnp.isfinite(start)) & jnp.isfinite(loss)
    reached = ok & (loss - f_star <= tol)
    # position, its loss, gradient there, state, alive, first step within tolerance, divergence
    carry0 = (start, loss, grad, opt.init(start), ok, jnp.where(reached, 0, -1), jnp.where(ok, -1, 0))

    def body(carry, xs):
        xy, loss, grad, state, alive, first_tol, diverged_at = carry
        t, per_step_t = xs
        _, _, update, new_state, _ = _step(opt, hp, xy, grad, state, per_step_t)
        new_xy = xy + update
        new_loss, new_grad = value_and_grad(new_xy, sp)
        in_run = t < total  # steps past the requested count are padding
        ok = (
            alive
            & in_run
            & jnp.all(jnp.isfinite(new_xy))
            & jnp.isfinite(new_loss)
            & jnp.all(jnp.abs(new_xy) <= bound)
        )
        newly_dead = alive & in_run & ~ok
        reached = ok & (new_loss - f_star <= tol) & (first_tol < 0)
        carry = (
            jnp.where(ok, new_xy, xy),
            jnp.where(ok, new_loss, loss),
            new_grad,
            new_state,
            alive & (ok | ~in_run),
            jnp.where(reached, t + 1, first_tol),
            jnp.where(newly_dead, t + 1, diverged_at),
        )
        return carry, None

    # length + 1 iterations, as in _recorded (one table); the last one is padding
    carry, _ = jax.lax.scan(body, carry0, (jnp.arange(length + 1), shared["per_step"]))
    return _pack_summary(carry, loss)


@functools.cache
def _internals_present(optimizer_name: str) -> list[str]:
    """Which INTERNAL_KEYS the optimizer reports (found from shapes alone, nothing runs)."""
    spec = OPTIMIZERS[optimizer_name]
    xy = jnp.zeros(2, jnp.float32)
    hp = {k: jnp.float32(v) for k, v in spec.defaults.items()}
    _, _, internals = jax.eval_shape(lambda: spec.optimizer.update(xy, spec.optimizer.init(xy), xy, hp))
    return [k for k in INTERNAL_KEYS if k in internals]


def _pack_summary(carry, start_loss) -> jax.Array:
    """(6,) float32 per run: steps and divergence indices stay exact (they are < 2^24)."""
    xy, loss, _, _, _, first_tol, diverged_at = carry
    return jnp.stack(
        [xy[0], xy[1], loss, first_tol.astype(jnp.float32), diverged_at.astype(jnp.float32), start_loss]
    )


def _unpack_summary(packed: np.ndarray) -> dict[str, np.ndarray]:
    return {
        "final": packed[:, 0:2],
        "final_loss": packed[:, 2],
        "steps_to_tol": packed[:, 3].astype(np.int64),
        "diverged_at": packed[:, 4].astype(np.int64),
        "start_loss": packed[:, 5],
    }


def _hparam_names(optimizer_name: str) -> tuple[str, ...]:
    """The column order of a group's packed hyperparameter array."""
    return tuple(OPTIMIZERS[optimizer_name].defaults)


@functools.partial(jax.jit, static_argnames=("surface", "groups", "steps", "record"))
def _simulate_groups(surface, groups, steps, record, group_inputs, shared):
    """The groups' runs in one program: per group one loop over the steps, vmapped over its
    runs from outside the loop (vmapping the step inside the loop body ran several times
    slower), the groups back to back (a loop whose body holds every group runs far slower on
    XLA:CPU). The engine passes one group at a time (see _run_items). Recorded: per group
    (runs, steps + 1, width) rows (see _recorded); summary: per group (runs, 6) (see _summary).
    """
    global _trace_count
    _trace_count += 1
    results = []
    for (name, _), inputs in zip(groups, group_inputs):
        if record == "summary":
            one = functools.partial(_summary, surface, name, steps)
        else:
            one = functools.partial(_recorded, surface, name, record)
        results.append(jax.vmap(one, in_axes=(0, None))(inputs, shared))
    return results


def _exact(value: float) -> tuple[float, float]:
    """A cache key for a float that tells -0.0 from 0.0 (equal, but not the same bits)."""
    return (value, math.copysign(1.0, value))


# Small per-process caches of the per-call host work (validated, hashable keys only).
# Bounded by clearing when full: entries are cheap to rebuild.
_SHARED_CACHE: dict[tuple[Any, ...], tuple[dict[str, Any], float]] = {}
_QUICK_SHARED_CACHE: dict[tuple[Any, ...], tuple[dict[str, Any], float]] = {}
_RESOLVED_CACHE: dict[tuple[Any, ...], tuple[dict[str, float], tuple[float, ...]]] = {}
_SHARED_CACHE_SIZE = 64
_RESOLVED_CACHE_SIZE = 4096


def _shared_inputs(surface, surface_params, seed, noise, schedule, steps, tol):
    """The inputs every run of a call shares (validated), and f* at these surface parameters.

    Built once per distinct (surface, parameters, seed, noise, schedule, steps, tol) and
    kept on the device: a call that only moves hyperparameters or starts reuses them.
    """
    # The common call (default surface parameters, plain Python numbers) finds its entry by the
    # arguments as given, before any validation: types and the sign of zero are part of that
    # key, so a hit means these very values passed validation before.
    quick = None
    if (
        surface_params is None
        and type(seed) is int
        and type(tol) is float
        and (noise is None or type(noise) is float)
        and (schedule is None or type(schedule) is Schedule)
    ):
        quick = (surface, seed, None if noise is None else _exact(noise), schedule, steps, _exact(tol))
        hit = _QUICK_SHARED_CACHE.get(quick)
        if hit is not None:
            return hit
    sp = surface.resolve_params(surface_params)
    if isinstance(seed, bool) or not isinstance(seed, (int, np.integer)):
        raise ValueError(f"seed must be a whole number, got {seed!r}")
    if not 0 <= int(seed) < 2**31:
        raise ValueError(f"seed={seed} must be in [0, 2^31)")
    noise = surface.default_noise if noise is None else float(noise)
    if not (math.isfinite(noise) and 0.0 <= noise <= 1e3):
        raise ValueError(f"noise={noise} must be in [0, 1000]")
    if not (math.isfinite(tol) and tol > 0):
        raise ValueError(f"tol={tol} must be positive")
    schedule = schedule or Schedule()
    key = (
        surface,
        tuple((k, *_exact(float(v))) for k, v in sorted(sp.items())),
        int(seed),
        _exact(noise),
        (schedule.kind, _exact(schedule.decay_rate), schedule.decay_every)
        + (_exact(schedule.final_fraction), schedule.warmup_steps),
        int(steps),
        _exact(float(tol)),
    )
    hit = _SHARED_CACHE.get(key)
    if hit is not None:
        if quick is not None:
            _remember(_QUICK_SHARED_CACHE, quick, hit, _SHARED_CACHE_SIZE)
        return hit
    f_star = _cached_minimum_loss(surface, tuple(sorted(sp.items())))
    shared = {
        "surface_params": {k: np.float32(v) for k, v in sp.items()},
        "per_step": _per_step_table(int(seed), noise, schedule, steps),
        # bound, f*, tol and the step count (exact in float32: < 2^24): see _scalars
        "scalars": np.array(
            [_bound(surface), f_star if math.isfinite(f_star) else -np.inf, tol, steps], np.float32
        ),
    }
    # On the device once: a call then passes buffers instead of copying arrays in.
    entry = (jax.device_put(shared), f_star)
    _remember(_SHARED_CACHE, key, entry, _SHARED_CACHE_SIZE)
    if quick is not None:
        _remember(_QUICK_SHARED_CACHE, quick, entry, _SHARED_CACHE_SIZE)
    return entry


def _remember(cache: dict[Any, Any], key: Any, value: Any, size: int) -> None:
    """cache[key] = value, the cache cleared first when full (entries are cheap to rebuild)."""
    if len(cache) >= size:
        cache.clear()
    cache[key] = value


def _per_step_table(seed: int, noise: float, schedule: Schedule, steps: int) -> np.ndarray:
    """(bucket + 1, 4) float32: row t holds step t's gradient noise (σ · a standard normal draw,
    two columns), its learning-rate factor α_t / α and t itself (exact: t < 2^24). One table
    row per loop iteration; the schedule is evaluated here, on the host, not in the program."""
    length = step_bucket(steps) + 1  # the loops run one padding step past the bucket
    table = np.empty((length, 4), np.float32)
    table[:, 0:2] = np.float32(noise) * _noise_table(seed, length)
    table[:, 2] = schedule_factors(schedule, length, steps)
    table[:, 3] = np.arange(length)
    return table


@functools.lru_cache(maxsize=64)
def _noise_table(seed: int, steps: int) -> np.ndarray:
    """Standard normal gradient noise for every step, shared by every run of a call.

    Drawn with NumPy on the host and passed in: a JAX PRNG inside the program would add half
    a second of compile time to every new configuration. Same seed, same noise.
    """
    table = np.random.default_rng(seed).standard_normal((steps, 2)).astype(np.float32)
    table.flags.writeable = False  # cached and shared
    return table


@functools.lru_cache(maxsize=256)
def _cached_minimum_loss(surface: Surface, params: tuple[tuple[str, float], ...]) -> float:
    return minimum_loss(surface, dict(params))


_EXACT_TYPES = (float, np.float64, np.float32)


def _resolved(
    name: str, hparams: Mapping[str, float], preset: str | None
) -> tuple[dict[str, float], tuple[float, ...]]:
    """resolve_hparams (validated) and its values in the group's column order, cached.

    Only plain numbers form a key, with their type and the sign of zero (True, 1 and 1.0
    validate differently; -0.0 and 0.0 are not the same bits); anything else is resolved anew.
    The returned dict is shared: copy it before handing it out.
    """
    key: tuple[Any, ...] | None = None
    parts: list[tuple[Any, ...]] = []
    for k, v in hparams.items():
        t = type(v)
        if t in _EXACT_TYPES:
            parts.append((k, t, v, math.copysign(1.0, v)))
        elif t is int or t is bool:
            parts.append((k, t, v))
        else:
            break
    else:
        key = (name, preset, tuple(parts))
    if key is not None:
        hit = _RESOLVED_CACHE.get(key)
        if hit is not None:
            return hit
    resolved = resolve_hparams(name, hparams, preset)
    entry = (resolved, tuple(resolved[k] for k in _hparam_names(name)))
    if key is not None:
        if len(_RESOLVED_CACHE) >= _RESOLVED_CACHE_SIZE:
            _RESOLVED_CACHE.clear()
        _RESOLVED_CACHE[key] = entry
    return entry


def _check_optimizer(name: str) -> None:
    if name not in OPTIMIZERS:
        raise ValueError(f"unknown optimizer {name!r}; choose one of {', '.join(OPTIMIZERS)}")


def _run_items(
    surface: Surface,
    items: Sequence[tuple[str, dict[str, float], tuple[float, ...], tuple[float, float], str | None]],
    steps: int,
    record: str,
    shared: dict[str, Any],
) -> list[Trajectory]:
    """Run validated (name, resolved hparams, hparam row, start, label) items in one call.

    Items are grouped by optimizer; the program returns one array of rows per group (see
    _recorded). The Trajectory arrays are views into those rows. A run diverged iff its loss
    at the last requested point is NaN (path and loss are NaN from the divergence on, finite
    before it).
    """
    order: dict[str, list[int]] = {}
    for i, item in enumerate(items):
        order.setdefault(item[0], []).append(i)
    bucket = step_bucket(steps)
    # One program per group, called one after the other: a program holding several groups'
    # loops has independent branches, which XLA:CPU spreads over its thread pool (thread hops
    # cost more than the loops here); a group's own program runs on this thread. Inputs: one
    # (runs, hyperparameters + 2) array per group, each run's hyperparameter row, then its start.
    calls = [
        _simulate_groups(
            surface,
            ((name, len(idx)),),
            bucket,
            record,
            (np.array([items[i][2] + items[i][3] for i in idx], np.float32),),
            shared,
        )
        for name, idx in order.items()
    ]
    # np.asarray, not jax.device_get: on CPU it reads the result's buffer where it is, while
    # device_get starts an asynchronous copy to the host first (~40 us per call here).
    results = [np.asarray(rows) for (rows,) in calls]
    full = record == "full"
    out: list[Trajectory | None] = [None] * len(items)
    empty_steps, empty_lr = np.empty((0, 2), np.float32), np.empty((0,), np.float32)
    for (name, idx), rows in zip(order.items(), results):
        present = _internals_present(name)
        for j, i in enumerate(idx):
            _, hp, _, _, label = items[i]
            own = rows[j, : steps + 1]
            path, loss = own[:, 0:2], own[:, 2]
            d = int(np.argmax(np.isnan(loss))) if math.isnan(loss[steps]) else None
            if full:
                st = own[:steps]
                if d is not None:  # the step into the diverged point and every later one
                    st = st.copy()
                    st[max(d - 1, 0) :] = np.nan
                lr, grads, updates = st[:, 3], st[:, 4:6], st[:, 6:8]
                internals = {k: st[:, 8 + 2 * m : 10 + 2 * m] for m, k in enumerate(present)}
            else:
                lr, grads, updates, internals = empty_lr, empty_steps, np.diff(path, axis=0), {}
            out[i] = Trajectory(
                optimizer=name,
                label=label or OPTIMIZERS[name].label,
                hparams=dict(hp),
                path=path,
                loss=loss,
                grads=grads,
                updates=updates,
                lr=lr,
                internals=internals,
                diverged_at=d,
            )
    return out  # type: ignore[return-value]


def run_batch(
    surface: Surface | str,
    configs: Sequence[RunConfig],
    *,
    steps: int = 500,
    seed: int = 0,
    noise: float | None = None,
    schedule: Schedule | None = None,
    surface_params: Mapping[str, float] | None = None,
    tol: float = 1e-3,
    record: str = "full",
    internals: bool = True,
) -> list[Trajectory]:
    """Run many configurations in one call; one Trajectory per config, in order.

    All configurations share the surface, step count, seed (so every optimizer sees the same
    gradient noise at step t), noise σ, schedule and surface parameters. `record="path"`, or
    `internals=False`, keeps only positions and losses (faster; what a live scrub over many
    values needs): `updates` are then the path's differences, `grads` and `lr` are empty
    arrays and `internals` is an empty mapping. Path and loss are the same either way.

    The arrays of the returned trajectories are views into one buffer per optimizer group.
    """
    if record not in ("full", "path"):
        raise ValueError(f"record must be 'full' or 'path', got {record!r}")
    if not internals:
        record = "path"
    surface = get_surface(surface)
    steps = _resolve_steps(steps)
    if not configs:
        return []
    if len(configs) > MAX_BATCH:
        raise ValueError(f"{len(configs)} configurations exceed the maximum of {MAX_BATCH}")
    items = []
    for cfg in configs:
        settings = cfg.settings
        _check_optimizer(settings.name)
        hp, row = _resolved(settings.name, settings.hparams, settings.preset)
        items.append((settings.name, hp, row, _resolve_start(surface, cfg.start), cfg.label))
    shared, _ = _shared_inputs(surface, surface_params, seed, noise, schedule, steps, tol)
    return _run_items(surface, items, steps, record, shared)


def run(
    surface: Surface | str,
    optimizer: str,
    hparams: Mapping[str, float] | None = None,
    *,
    start: Sequence[float] | None = None,
    steps: int = 500,
    seed: int = 0,
    preset: str | None = None,
    noise: float | None = None,
    schedule: Schedule | None = None,
    surface_params: Mapping[str, float] | None = None,
) -> Trajectory:
    """Run one optimizer on a surface. Missing hyperparameters take their (preset's) defaults."""
    surface = get_surface(surface)
    steps = _resolve_steps(steps)
    _check_optimizer(optimizer)
    hp, row = _resolved(optimizer, HParams(hparams), preset or DEFAULT_PRESET)
    item = (optimizer, hp, row, _resolve_start(surface, start), None)
    shared, _ = _shared_inputs(surface, surface_params, seed, noise, schedule, steps, 1e-3)
    return _run_items(surface, [item], steps, "full", shared)[0]


def run_grid(
    surface: Surface | str,
    optimizer: str,
    hparams: Mapping[str, float] | Sequence[Mapping[str, float]] | None = None,
    starts: np.ndarray | Sequence[Sequence[float]] | None = None,
    *,
    steps: int = 500,
    seed: int = 0,
    preset: str | None = None,
    noise: float | None = None,
    schedule: Schedule | None = None,
    surface_params: Mapping[str, float] | None = None,
    tol: float = 1e-3,
) -> GridResult:
    """Summaries of many runs of one optimizer, without recording paths (basin maps, sweeps).

    `hparams` is one mapping (shared by all runs) or one per run; `starts` is (n, 2) or None
    for the default start; whichever is a list sets n and the other is broadcast.
    """
    surface = get_surface(surface)
    steps = _resolve_steps(steps)
    if optimizer not in OPTIMIZERS:
        raise ValueError(f"unknown optimizer {optimizer!r}; choose one of {', '.join(OPTIMIZERS)}")
    hp_list = [hparams or {}] if hparams is None or isinstance(hparams, Mapping) else list(hparams)
    start_arr = (
        np.asarray([_resolve_start(surface, None)], np.float32)
        if starts is None
        else np.asarray(starts, np.float32).reshape(-1, 2)
    )
    if not np.all(np.isfinite(start_arr)):
        raise ValueError("every start point must be finite")
    n = max(len(hp_list), len(start_arr))
    if len(hp_list) not in (1, n) or len(start_arr) not in (1, n):
        raise ValueError("hparams and starts must have the same length (or one of them length 1)")
    if n > MAX_BATCH:
        raise ValueError(f"{n} runs exceed the maximum of {MAX_BATCH}")
    resolved = [resolve_hparams(optimizer, hp, preset) for hp in hp_list]
    hp_rows = np.asarray([[r[k] for k in _hparam_names(optimizer)] for r in resolved], np.float32)
    inputs = np.empty((n, hp_rows.shape[1] + 2), np.float32)  # see _run_items
    inputs[:, :-2], inputs[:, -2:] = hp_rows, start_arr
    shared, _ = _shared_inputs(surface, surface_params, seed, noise, schedule, steps, tol)
    (packed,) = _simulate_groups(surface, ((optimizer, n),), step_bucket(steps), "summary", (inputs,), shared)
    summary = _unpack_summary(np.asarray(packed))
    final = np.asarray(summary["final"])
    if surface.minima:
        mins = np.asarray(surface.minima, np.float32)
        dists = np.linalg.norm(final[:, None, :] - mins[None, :, :], axis=-1)
        nearest = np.argmin(dists, axis=1)
        final_distance = dists[np.arange(n), nearest]
    else:
        nearest = np.full(n, -1)
        final_distance = np.full(n, np.nan, np.float32)
    diverged_at = np.asarray(summary["diverged_at"])
    nearest = np.where(diverged_at >= 0, -1, nearest)
    return GridResult(
        final_position=final,
        final_loss=np.asarray(summary["final_loss"]),
        steps_to_tol=np.asarray(summary["steps_to_tol"]),
        diverged_at=diverged_at,
        nearest_minimum=nearest,
        final_distance=np.where(diverged_at >= 0, np.nan, final_distance).astype(np.float32),
    )
