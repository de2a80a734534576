"""The Adam explained page's logic: 1D gradient streams and what optim_core's optimizers make of them.

No second implementation of any optimizer here: every number comes from stepping
`OPTIMIZERS[name].optimizer` (the same pure init/update pairs the Playground runs) over a stream
of scalar gradients, in one jitted `lax.scan`, with the hyperparameters traced so that moving a
slider never recompiles. The figures of those arrays are in viz/adam.py; the page
(app_pages/adam.py) only wires widgets to both.
"""

from __future__ import annotations

import functools
import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

import jax
import jax.numpy as jnp
import numpy as np

from optim_core import OPTIMIZERS, resolve_hparams
from playground.safe_text import shown
from playground.setup import OptimizerEntry, Reader, encode_optimizer, first_value

STREAM_STEPS = 150
# Kind -> what it is. The kinds are readable words because they are also the URL values
# (a widget bound to the URL stores its option's label there).
STREAM_KINDS: dict[str, str] = {
    "constant": "g = 1 at every step",
    "noisy": "mean 1, spread 2: the sign often flips at random",
    "sign-flipping": "+1, −1, +1, …: a gradient that keeps changing its mind",
    "sparse": "mostly 0, with a rare kick",
    "plateau-spike": "tiny gradients (1e-3), then a short spike of 1 at step 100",
}
PLATEAU_G = 1e-3  # gradient on the plateau of "plateau-spike"
SPIKE_AT = 100  # first step of the spike


# --- gradient streams -------------------------------------------------------------------------


def gradient_stream(kind: str, steps: int = STREAM_STEPS, seed: int = 0, scale: float = 1.0) -> np.ndarray:
    """A seeded stream of 1D gradients g_1..g_T (float32), times `scale`."""
    rng = np.random.default_rng(seed)
    t = np.arange(steps)
    if kind == "constant":
        g = np.ones(steps)
    elif kind == "noisy":
        g = 1.0 + 2.0 * rng.standard_normal(steps)
    elif kind == "sign-flipping":
        g = np.where(t % 2 == 0, 1.0, -1.0)
    elif kind == "sparse":
        # About one step in fifteen carries a gradient; never the first few, so the average
        # has time to settle before the first kick.
        g = np.where((rng.random(steps) < 1 / 15) & (t >= 5), 1.0 + rng.random(steps), 0.0)
    elif kind == "plateau-spike":
        g = np.where((t >= SPIKE_AT) & (t < SPIKE_AT + 5), 1.0, PLATEAU_G)
    else:
        raise ValueError(f"unknown stream {kind!r}; choose one of {', '.join(STREAM_KINDS)}")
    return (scale * g).astype(np.float32)


# --- stepping optim_core's optimizers over streams --------------------------------------------


@functools.partial(jax.jit, static_argnames=("name",))
def _scan_streams(name: str, hparams: Mapping[str, jax.Array], grads: jax.Array):
    """One optimizer over a batch of 1D gradient streams (B, T); hparams are (B,) arrays."""
    opt = OPTIMIZERS[name].optimizer

    def one(hp, stream):
        params = jnp.zeros((1,), jnp.float32)  # where we are does not matter: no weight decay

        def body(state, g):
            update, state, internals = opt.update(g[None], state, params, hp)
            return state, (update[0], {k: v[0] for k, v in internals.items()})

        _, out = jax.lax.scan(body, opt.init(params), stream)
        return out

    return jax.vmap(one)(hparams, grads)


@dataclass(frozen=True)
class StreamRun:
    """What the optimizer did with each gradient gₜ, t = 1..T (arrays of length T)."""

    grads: np.ndarray
    updates: np.ndarray  # Δθ_t (carries the minus sign)
    internals: Mapping[str, np.ndarray]  # m, v, m_hat, v_hat, step_size where the optimizer has them
    learning_rate: float

    def _internal(self, key: str) -> np.ndarray:
        if key not in self.internals:
            raise KeyError(f"this optimizer does not record {key!r}")
        return self.internals[key]

    @property
    def m(self) -> np.ndarray:
        return self._internal("m")

    @property
    def v(self) -> np.ndarray:
        return self._internal("v")

    @property
    def m_hat(self) -> np.ndarray:
        return self._internal("m_hat")

    @property
    def v_hat(self) -> np.ndarray:
        return self._internal("v_hat")

    @property
    def relative_step(self) -> np.ndarray:
        """|Δθ_t| / α: the step in units of the learning rate."""
        return np.abs(self.updates) / self.learning_rate


def run_streams(
    name: str, streams: Sequence[np.ndarray], hparams: Sequence[Mapping[str, float]]
) -> list[StreamRun]:
    """Each stream through `OPTIMIZERS[name]` with its own hyperparameters, in one call."""
    if len(streams) != len(hparams) or not streams:
        raise ValueError("give one hyperparameter set per stream (and at least one stream)")
    resolved = [resolve_hparams(name, hp) for hp in hparams]
    batch = {k: jnp.asarray([r[k] for r in resolved], jnp.float32) for k in resolved[0]}
    grads = jnp.asarray(np.stack([np.asarray(s, np.float32) for s in streams]))
    updates, internals = jax.device_get(_scan_streams(name, batch, grads))
    return [
        StreamRun(
            np.asarray(streams[i], np.float32),
            np.asarray(updates[i]),
            {k: np.asarray(v[i]) for k, v in internals.items()},
            resolved[i]["learning_rate"],
        )
        for i in range(len(streams))
    ]


def run_stream(name: str, grads: np.ndarray, hparams: Mapping[str, float]) -> StreamRun:
    return run_streams(name, [grads], [hparams])[0]


def adam_hparams(
    b1: float = 0.9,
    b2: float = 0.999,
    eps: float = 1e-8,
    bias_correction: bool = True,
    eps_hat: bool = False,
    learning_rate: float = 1.0,
) -> dict[str, float]:
    """Adam's hyperparameters by meaning; α = 1 by default so steps read in units of α."""
    return {
        "learning_rate": learning_rate,
        "b1": b1,
        "b2": b2,
        "eps": eps,
        "bias_correction": float(bias_correction),
        "eps_hat": float(eps_hat),
    }


def first_step_ratio(
    g: float | Sequence[float] | np.ndarray, eps: float, eps_hat: bool, b1: float = 0.9, b2: float = 0.999
) -> np.ndarray:
    """Adam's first step |Δθ_1| / α for a first gradient g (one run per value, one call).

    With ε outside √v̂ (optax, PyTorch) it is |g| / (|g| + ε); in Keras's ε-hat form it is
    √(1−β₂)/(1−β₁) · (1−β₁)|g| / (√(1−β₂)|g| + ε): at g = 1e-6 that is 0.99 against 0.24.
    """
    gs = np.atleast_1d(np.asarray(g, np.float32))
    runs = run_streams(
        "adam",
        [np.array([v], np.float32) for v in gs],
        [adam_hparams(b1, b2, eps, eps_hat=eps_hat)] * len(gs),
    )
    return np.array([r.relative_step[0] for r in runs])


# --- gradient descent, stochastic and mini-batch ------------------------------------------------

DATA_POINTS = 512
DATA_MEAN, DATA_STD = 2.0, 1.5
GD_STEPS = 60
GD_START = -3.0


def regression_data(seed: int = 0) -> np.ndarray:
    """Samples x_i; the loss ½·mean_i (w − x_i)² is smallest at w* = mean(x)."""
    rng = np.random.default_rng(seed)
    return (DATA_MEAN + DATA_STD * rng.standard_normal(DATA_POINTS)).astype(np.float32)


@functools.partial(jax.jit, static_argnames=("steps",))
def _minibatch_paths(data, batch_sizes, learning_rate, key, steps):
    sgd = OPTIMIZERS["sgd"].optimizer
    n = data.shape[0]

    def one(batch_size, run_key):
        def body(carry, t):
            w, state = carry
            # A batch drawn without replacement (so B = N is the exact gradient); a mask keeps
            # the shape fixed for any batch size.
            idx = jax.random.permutation(jax.random.fold_in(run_key, t), n)
            weights = (jnp.arange(n) < batch_size) / batch_size
            grad = w - jnp.sum(weights * data[idx])  # d/dw of ½·mean over the batch
            update, state, _ = sgd.update(grad[None], state, w[None], {"learning_rate": learning_rate})
            w = w + update[0]
            return (w, state), w

        w0 = jnp.float32(GD_START)
        _, path = jax.lax.scan(body, (w0, sgd.init(w0[None])), jnp.arange(steps))
        return jnp.concatenate([w0[None], path])

    keys = jax.random.split(key, batch_sizes.shape[0])
    return jax.vmap(one)(batch_sizes, keys)


def minibatch_paths(
    batch_sizes: Sequence[int], learning_rate: float, seed: int = 0, steps: int = GD_STEPS
) -> tuple[np.ndarray, float]:
    """w_0..w_T of SGD on the mean-squared loss, one row per batch size; and w*."""
    data = regression_data(seed)
    sizes = jnp.asarray([min(max(int(b), 1), DATA_POINTS) for b in batch_sizes], jnp.float32)
    paths = _minibatch_paths(
        jnp.asarray(data), sizes, jnp.float32(learning_rate), jax.random.key(seed), steps
    )
    return np.asarray(paths), float(np.mean(data))


# --- links into the Playground ----------------------------------------------------------------


def _o(name: str, **hparams: float) -> str:
    return encode_optimizer(OptimizerEntry(name, resolve_hparams(name, hparams)))


def playground_link(section: str, **values: float) -> dict[str, str | list[str]]:
    """A Playground setup that shows on a 2D surface what a section shows in 1D."""
    if section == "gd":
        batch = max(int(values.get("batch_size", 32)), 1)
        lr = values.get("learning_rate", 0.3)
        return {
            "s": "noisy_bowl",
            "steps": "300",
            "noise": f"{DATA_STD / math.sqrt(batch):.3g}",
            "o": [_o("sgd", learning_rate=lr), _o("sgd", learning_rate=lr / 10)],
        }
    if section == "momentum":
        return {
            "s": "ravine",
            "sp.condition": "50",
            "sp.angle": "30",
            "steps": "200",
            "x0": "-4",
            "y0": "2",
            "o": [
                _o("sgd", learning_rate=0.035),
                _o("momentum", learning_rate=0.035, momentum=values.get("b1", 0.8)),
            ],
        }
    if section == "rmsprop":
        return {
            "s": "ravine",
            "sp.condition": "50",
            "sp.angle": "30",
            "steps": "200",
            "x0": "-4",
            "y0": "2",
            "o": [
                _o("sgd", learning_rate=0.035),
                _o("rmsprop", learning_rate=0.05, decay=values.get("b2", 0.9)),
            ],
        }
    if section == "adam":
        b1, b2 = values.get("b1", 0.9), values.get("b2", 0.999)
        return {
            "s": "booth",
            "steps": "150",
            "x0": "-6",
            "y0": "-6",
            "o": [
                _o("adam", learning_rate=0.5, b1=b1, b2=b2),
                _o("adam", learning_rate=0.5, b1=b1, b2=b2, bias_correction=0.0),
            ],
        }
    if section == "eps":
        return {
            "s": "ackley",
            "steps": "300",
            "x0": "3.6",
            "y0": "3.1",
            "o": ["adam(learning_rate=0.05)@keras", "adam(learning_rate=0.05)@pytorch"],
        }
    if section == "beta2":
        return {
            "s": "beale",
            "steps": "500",
            "x0": "-2",
            "y0": "2",
            "o": [_o("adam", learning_rate=0.05), _o("adam", learning_rate=0.05, b2=values.get("b2", 0.6))],
        }
    raise ValueError(f"unknown section {section!r}")


# --- the page's widgets: defaults, ranges, and the link reader ------------------------------------
# The page keeps every widget's value in the URL under the widget's key (`adam.seed`,
# `adam.b2.b2`, ...). A link is untrusted: `read_query` reads each value to what its widget can
# show (numbers clamped to the slider's range, choices snapped to the nearest option, anything
# else replaced by the default), with a warning for every value it did not take as it was.
# The page seeds the widgets from that and writes the URL back with `to_query`, so the widgets
# never see a raw link value (Streamlit raises on some: `int(inf)`, an unknown option).


@dataclass(frozen=True)
class WidgetSpec:
    """One widget of the page: its URL key, its kind and what values it accepts."""

    kind: str  # "float", "int", "choice" or "bool"
    default: float | str | bool
    low: float = 0.0
    high: float = 1.0
    step: float = 0.01
    options: tuple = ()
    fmt: str = "{}"  # a choice's label, which is also its value in the URL

    def label(self, option: object) -> str:
        return self.fmt.format(option)


BATCH_SIZES = (1, 2, 4, 8, 16, 32, 64, 128, 256, 512)
DECADES = tuple(float(f"1e{k}") for k in range(-12, 1))
SCALES = tuple(float(f"1e{k}") for k in range(-4, 5))
PLATEAU_GS = tuple(float(f"1e{k}") for k in range(-9, 0))

WIDGETS: dict[str, WidgetSpec] = {
    "adam.seed": WidgetSpec("int", 0, 0, 999, 1),
    "adam.gd.batch": WidgetSpec("choice", 16, options=BATCH_SIZES),
    "adam.gd.lr": WidgetSpec("float", 0.3, 0.02, 1.5, 0.01),
    "adam.mom.stream": WidgetSpec("choice", "noisy", options=tuple(STREAM_KINDS)),
    "adam.mom.b1": WidgetSpec("float", 0.9, 0.0, 0.99, 0.01),
    "adam.rms.stream": WidgetSpec("choice", "noisy", options=tuple(STREAM_KINDS)),
    "adam.rms.b2": WidgetSpec("float", 0.9, 0.5, 0.999, 0.001),
    "adam.rms.scale": WidgetSpec("choice", 0.01, options=SCALES, fmt="{:g}"),
    "adam.adam.stream": WidgetSpec("choice", "constant", options=tuple(STREAM_KINDS)),
    "adam.adam.b1": WidgetSpec("float", 0.9, 0.0, 0.99, 0.01),
    "adam.adam.b2": WidgetSpec("float", 0.999, 0.5, 0.9999, 0.0001),
    "adam.adam.bc": WidgetSpec("bool", True),
    "adam.eps.g": WidgetSpec("choice", 1e-6, options=PLATEAU_GS, fmt="{:.0e}"),
    "adam.eps.eps": WidgetSpec("choice", 1e-8, options=DECADES, fmt="{:.0e}"),
    "adam.eps.epshat": WidgetSpec("choice", 1e-7, options=DECADES, fmt="{:.0e}"),
    "adam.b2.stream": WidgetSpec("choice", "sparse", options=tuple(STREAM_KINDS)),
    "adam.b2.b2": WidgetSpec("float", 0.6, 0.3, 0.999, 0.001),
}
MAX_UNKNOWN_KEYS_NAMED = 5  # unknown link keys named in warnings; the rest are counted

WidgetValue = float | int | str | bool


def default_values() -> dict[str, WidgetValue]:
    return {key: spec.default for key, spec in WIDGETS.items()}


def _nearest_option(spec: WidgetSpec, value: float) -> object:
    """The option closest to a positive `value` on a log scale (every numeric choice here
    spans decades)."""
    return min(spec.options, key=lambda o: abs(math.log(o) - math.log(value)))


def _choices(spec: WidgetSpec) -> str:
    labels = [spec.label(o) for o in spec.options]
    return ", ".join(labels) if isinstance(spec.default, str) else f"{labels[0]} … {labels[-1]}"


def _read_choice(reader: Reader, key: str, spec: WidgetSpec, raw: str) -> object:
    labels = {spec.label(o): o for o in spec.options}
    if raw in labels:
        return labels[raw]
    value = math.nan
    if not isinstance(spec.default, str):  # a numeric choice: take the nearest option
        try:
            value = float(raw)
        except (ValueError, OverflowError):
            pass
    if math.isfinite(value) and value > 0:
        near = _nearest_option(spec, value)
        if value != near:
            reader.warn(
                f"{key}: {shown(raw)} is not one of the choices ({_choices(spec)}); "
                f"using the nearest, {spec.label(near)}."
            )
        return near
    reader.warn(
        f"{key}: {shown(raw)} is not one of the choices ({_choices(spec)}); using {spec.label(spec.default)}."
    )
    return spec.default


def read_value(reader: Reader, key: str, raw: str) -> WidgetValue:
    """One link value for the widget `key`, read to what that widget can show."""
    spec = WIDGETS[key]
    if spec.kind == "bool":
        return reader.boolean(raw, key, bool(spec.default))
    if spec.kind == "int":
        return reader.integer(raw, key, int(spec.default), int(spec.low), int(spec.high))
    if spec.kind == "float":
        return reader.number(raw, key, float(spec.default), spec.low, spec.high) + 0.0  # no -0
    return _read_choice(reader, key, spec, raw)  # type: ignore[return-value]


def read_query(query: Mapping[str, str | list[str]]) -> tuple[dict[str, WidgetValue], list[str]]:
    """Every widget's value from a link (the default where the link says nothing), and a
    warning for each value that was not taken as it was. Never raises."""
    reader = Reader()
    values = default_values()
    # Keys outside `adam.` belong to other pages (a link can carry them over): not this page's
    # business, and the URL written back drops them.
    unknown = [k for k in query if k.startswith("adam.") and k not in WIDGETS]
    for key in unknown[:MAX_UNKNOWN_KEYS_NAMED]:
        reader.warn(f"unknown link parameter {shown(key, 30)} ignored.")
    if len(unknown) > MAX_UNKNOWN_KEYS_NAMED:
        reader.warn(f"{len(unknown) - MAX_UNKNOWN_KEYS_NAMED} more unknown link parameters ignored.")
    for key in WIDGETS:
        raw = first_value(query, key, reader)
        if raw is not None:
            values[key] = read_value(reader, key, raw)
    return values, reader.warnings


def check_query(query: Mapping[str, str | list[str]]) -> list[str]:
    """The warnings `read_query` gives for a link (empty: every value was usable as it was)."""
    return read_query(query)[1]


def to_query(values: Mapping[str, WidgetValue]) -> dict[str, str]:
    """The URL of these widget values: only those that differ from the defaults."""
    out: dict[str, str] = {}
    for key, spec in WIDGETS.items():
        value = values.get(key, spec.default)
        if value == spec.default:
            continue
        if spec.kind == "bool":
            out[key] = "true" if value else "false"
        elif spec.kind == "int":
            out[key] = str(int(value))
        elif spec.kind == "float":
            out[key] = repr(float(value))  # the shortest text that reads back the same
        else:
            out[key] = spec.label(value)
    return out
