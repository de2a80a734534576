"""A bounded, thread-safe cache of custom surfaces that also frees what JAX compiled for them.

Every new formula is a new static argument of the engine's jitted program, so JAX compiles and
keeps a program per formula (about 8 MB of server memory each, measured in
bench/bench_formula_memory.py); JAX's jit caches are keyed by function identity and static
arguments and never shrink by themselves. This cache holds at most `capacity` distinct formulas.
When a new formula would exceed it, the least recently used half is dropped and JAX's in-memory
caches are cleared once (`jax.clear_caches()`), so that the programs of the dropped formulas go
too. Programs still in use are compiled again on their next call, from JAX's persistent disk
cache when it is on. Clearing once per `capacity // 2` new formulas keeps that rare.
"""

from __future__ import annotations

import ctypes
import gc
import threading
from collections import OrderedDict
from collections.abc import Callable, Hashable
from typing import Generic, TypeVar

import jax

V = TypeVar("V")


def clear_jax_caches() -> None:
    """Drop every program JAX keeps in memory (the default eviction hook), then hand the freed
    memory back to the system (glibc keeps it otherwise, and RSS would stay at its peak)."""
    jax.clear_caches()
    gc.collect()
    try:
        ctypes.CDLL("libc.so.6").malloc_trim(0)
    except (OSError, AttributeError):  # not glibc: the memory is reused, just not returned
        pass


class FormulaCache(Generic[V]):
    """values keyed by (formula, rest): at most `capacity` distinct formulas, LRU order.

    `on_evict` runs (outside the lock) after formulas were dropped. Failures can be cached too
    (`put_error`), so a rejected formula is not evaluated again on every rerun of a page.
    """

    def __init__(self, capacity: int, on_evict: Callable[[], None] = clear_jax_caches) -> None:
        if capacity < 2:
            raise ValueError("capacity must be at least 2")
        self.capacity = capacity
        self.on_evict = on_evict
        self._lock = threading.Lock()
        # formula -> {rest: value or exception}; the OrderedDict's order is the LRU order.
        self._entries: OrderedDict[str, dict[Hashable, V | Exception]] = OrderedDict()
        self.evictions = 0  # how many times formulas were dropped (and JAX's caches cleared)
        self.hits = 0
        self.misses = 0

    def get(self, formula: str, rest: Hashable) -> V | Exception | None:
        with self._lock:
            per_formula = self._entries.get(formula)
            if per_formula is None or rest not in per_formula:
                self.misses += 1
                return None
            self._entries.move_to_end(formula)
            self.hits += 1
            return per_formula[rest]

    def put(self, formula: str, rest: Hashable, value: V | Exception) -> V | Exception:
        """Store `value` unless another thread stored one first; return the stored one."""
        evicted = False
        with self._lock:
            per_formula = self._entries.get(formula)
            if per_formula is None:
                if len(self._entries) >= self.capacity:
                    for _ in range(len(self._entries) - self.capacity // 2 + 1):
                        self._entries.popitem(last=False)
                    self.evictions += 1
                    evicted = True
                per_formula = self._entries[formula] = {}
            self._entries.move_to_end(formula)
            stored = per_formula.setdefault(rest, value)
        if evicted:
            self.on_evict()
        return stored

    def formulas(self) -> list[str]:
        """The cached formulas, least recently used first."""
        with self._lock:
            return list(self._entries)

    def clear(self) -> None:
        with self._lock:
            self._entries.clear()

    def info(self) -> dict[str, int]:
        with self._lock:
            return {
                "formulas": len(self._entries),
                "capacity": self.capacity,
                "hits": self.hits,
                "misses": self.misses,
                "evictions": self.evictions,
            }
