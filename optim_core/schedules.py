"""Learning-rate schedules as traced multipliers of the base learning rate α.

A schedule is packed into a small float array so that switching kind or moving any of its
sliders changes only traced values: nothing recompiles.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass

import jax
import jax.numpy as jnp
import numpy as np
from jax.typing import ArrayLike

SCHEDULE_KINDS: tuple[str, ...] = ("constant", "step", "cosine", "warmup")

SCHEDULE_LATEX: dict[str, str] = {
    "constant": r"\alpha_t = \alpha",
    "step": r"\alpha_t = \alpha \cdot \gamma^{\lfloor t / T \rfloor}",
    "cosine": (
        r"\alpha_t = \alpha \left(f + (1 - f)\,\tfrac{1}{2}"
        r"\left(1 + \cos \tfrac{\pi t}{N}\right)\right)"
    ),
    "warmup": r"\alpha_t = \alpha \cdot \min\left(1, \tfrac{t + 1}{W}\right)",
}


@dataclass(frozen=True)
class Schedule:
    """Which schedule and its parameters; t counts steps from 0, N is the run's step count."""

    kind: str = "constant"
    decay_rate: float = 0.5  # γ: step decay multiplies α by γ every `decay_every` steps
    decay_every: int = 100  # T
    final_fraction: float = 0.0  # f: cosine ends at f·α
    warmup_steps: int = 50  # W: linear ramp from α/W up to α

    def __post_init__(self) -> None:
        if self.kind not in SCHEDULE_KINDS:
            raise ValueError(f"unknown schedule {self.kind!r}; choose one of {', '.join(SCHEDULE_KINDS)}")
        if not 0.0 < self.decay_rate <= 1.0:
            raise ValueError(f"schedule decay_rate={self.decay_rate} must be in (0, 1]")
        if not 1 <= self.decay_every <= 1_000_000:
            raise ValueError(f"schedule decay_every={self.decay_every} must be in [1, 1e6]")
        if not 0.0 <= self.final_fraction <= 1.0:
            raise ValueError(f"schedule final_fraction={self.final_fraction} must be in [0, 1]")
        if not 1 <= self.warmup_steps <= 1_000_000:
            raise ValueError(f"schedule warmup_steps={self.warmup_steps} must be in [1, 1e6]")

    def as_array(self) -> jax.Array:
        """The traced form: [kind index, γ, T, f, W]."""
        return jnp.asarray(self.as_numpy())

    def as_numpy(self) -> np.ndarray:
        """The same packed form as a NumPy array (no device work until a jitted call)."""
        return np.array(
            [
                SCHEDULE_KINDS.index(self.kind),
                self.decay_rate,
                self.decay_every,
                self.final_fraction,
                self.warmup_steps,
            ],
            dtype=np.float32,
        )

    def to_dict(self) -> dict[str, object]:
        return asdict(self)


def schedule_factor(packed: jax.Array, step: ArrayLike, total_steps: ArrayLike) -> jax.Array:
    """α_t / α at step t (from 0) for a packed schedule; cheap enough to compute all four."""
    kind, gamma, every, final, warmup = (packed[i] for i in range(5))
    t = jnp.asarray(step, jnp.float32)
    n = jnp.maximum(jnp.asarray(total_steps, jnp.float32), 1.0)
    factors = jnp.stack(
        [
            jnp.float32(1.0),
            gamma ** jnp.floor(t / every),
            final + (1.0 - final) * 0.5 * (1.0 + jnp.cos(jnp.pi * jnp.minimum(t / n, 1.0))),
            jnp.minimum(1.0, (t + 1.0) / warmup),
        ]
    )
    return factors[kind.astype(jnp.int32)]


def schedule_factors(schedule: Schedule, length: int, total_steps: int) -> np.ndarray:
    """α_t / α for t = 0 .. length - 1 as float32, computed on the host (in float64) for a run
    of `total_steps` steps: the same values as `schedule_factor`. The engine reads them from a
    table instead of evaluating the schedule in its loop.
    """
    t = np.arange(length, dtype=np.float64)
    if schedule.kind == "constant":
        factors = np.ones(length)
    elif schedule.kind == "step":
        factors = schedule.decay_rate ** np.floor(t / schedule.decay_every)
    elif schedule.kind == "cosine":
        n = max(float(total_steps), 1.0)
        f = schedule.final_fraction
        factors = f + (1.0 - f) * 0.5 * (1.0 + np.cos(np.pi * np.minimum(t / n, 1.0)))
    else:
        factors = np.minimum(1.0, (t + 1.0) / schedule.warmup_steps)
    return factors.astype(np.float32)


def schedule_values(schedule: Schedule, steps: int) -> jax.Array:
    """α_t / α for t = 0 .. steps - 1 (for plots)."""
    packed = schedule.as_array()
    return jax.vmap(lambda t: schedule_factor(packed, t, steps))(jnp.arange(steps))
