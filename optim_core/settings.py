"""The one "optimizer with settings" type, shared by the engine, the app and MNIST training.

`OptimizerSettings(name, hparams, preset)` names a registered optimizer, some or all of its
hyperparameter values and the framework preset whose defaults fill the rest. It is immutable
and hashable (its `hparams` is an `HParams`, a frozen mapping), so it can be a cache key.

    >>> s = OptimizerSettings.default("adam", "pytorch")   # every value filled in
    >>> s.resolved()["eps"]
    1e-08

What a *run* adds to it (a start point and a label on the 2D surfaces, see
`optim_core.engine.RunConfig`) is kept out of it.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field, replace

from optim_core.presets import resolve_hparams

__all__ = ["DEFAULT_PRESET", "HParams", "OptimizerSettings"]

# The registry's defaults are optax's: the "optax" preset overrides nothing.
DEFAULT_PRESET = "optax"


class HParams(Mapping[str, float]):
    """A frozen, hashable mapping from hyperparameter name to value (insertion order kept).

    Equal to any mapping with the same items; hashable as long as its values are.
    """

    __slots__ = ("_items",)

    def __init__(self, items: Mapping[str, float] | None = None) -> None:
        self._items: dict[str, float] = dict(items or {})

    def __getitem__(self, key: str) -> float:
        return self._items[key]

    def __iter__(self) -> Iterator[str]:
        return iter(self._items)

    def __len__(self) -> int:
        return len(self._items)

    def __hash__(self) -> int:
        return hash(frozenset(self._items.items()))

    def __eq__(self, other: object) -> bool:
        if isinstance(other, Mapping):
            return self._items == dict(other.items())
        return NotImplemented

    def __repr__(self) -> str:
        return f"HParams({self._items!r})"

    def __reduce__(self) -> tuple[type[HParams], tuple[dict[str, float]]]:
        return (HParams, (dict(self._items),))


@dataclass(frozen=True)
class OptimizerSettings:
    """An optimizer with its settings: registry name, hyperparameter values, preset.

    `hparams` may hold every value (see `default`) or only some: `resolved()` fills in the
    others from the preset, then the registry defaults, and validates them all. Any mapping
    is accepted and stored as an `HParams`; a preset of None means DEFAULT_PRESET.
    """

    name: str
    hparams: Mapping[str, float] = field(default_factory=HParams)
    preset: str = DEFAULT_PRESET

    def __post_init__(self) -> None:
        if not isinstance(self.hparams, HParams):
            object.__setattr__(self, "hparams", HParams(self.hparams))
        if self.preset is None:
            object.__setattr__(self, "preset", DEFAULT_PRESET)

    @classmethod
    def default(cls, name: str, preset: str = DEFAULT_PRESET) -> OptimizerSettings:
        """`name` with every hyperparameter at `preset`'s value (ValueError if unknown)."""
        return cls(name, resolve_hparams(name, None, preset), preset)

    def resolved(self) -> dict[str, float]:
        """Every hyperparameter value: registry defaults, then the preset, then `hparams`.

        Raises ValueError naming an unknown optimizer, preset or hyperparameter, or a value
        outside its valid range.
        """
        return resolve_hparams(self.name, self.hparams, self.preset)

    def with_hparams(self, **changes: float) -> OptimizerSettings:
        """A copy with some hyperparameter values changed."""
        return replace(self, hparams=HParams({**self.hparams, **changes}))
