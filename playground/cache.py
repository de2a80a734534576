"""The one bounded result cache of the app (Playground runs, Compare panels and grids, MNIST results).

A thread-safe least-recently-used mapping, bounded by a number of entries and, when given a
`size_of`, by the bytes its values hold (the newest entry always stays, however large). Keys are
hashable values such as a `Setup`: the key is the request itself, never a serialisation of it.

Sessions rerun in parallel threads: two threads missing the same key both compute it (the results
are equal; the second one replaces the first), which is cheaper than holding the lock while a run
computes.
"""

from __future__ import annotations

import threading
from collections import OrderedDict
from collections.abc import Callable, Hashable
from dataclasses import dataclass
from typing import Generic, TypeVar, cast

K = TypeVar("K", bound=Hashable)
V = TypeVar("V")


@dataclass(frozen=True)
class CacheInfo:
    hits: int
    misses: int
    entries: int
    nbytes: int


class _Flight:
    """A computation in progress: its result, or that it failed, once `done` is set."""

    def __init__(self) -> None:
        self.done = threading.Event()
        self.value: object = None
        self.failed = False


class BoundedCache(Generic[K, V]):
    """A thread-safe LRU cache bounded by entries (and by bytes when `size_of` is given)."""

    def __init__(
        self, max_entries: int, max_bytes: int | None = None, size_of: Callable[[V], int] | None = None
    ) -> None:
        if max_entries < 1:
            raise ValueError("max_entries must be at least 1")
        if max_bytes is not None and size_of is None:
            raise ValueError("a byte bound needs size_of")
        self.max_entries, self.max_bytes = max_entries, max_bytes
        self._size_of = size_of
        self._items: OrderedDict[K, V] = OrderedDict()
        self._in_flight: dict[K, _Flight] = {}
        self._lock = threading.Lock()
        self._hits = self._misses = 0

    def get(self, key: K) -> V | None:
        """The cached value (now the most recently used), or None."""
        with self._lock:
            if key in self._items:
                self._items.move_to_end(key)
                self._hits += 1
                return self._items[key]
            self._misses += 1
            return None

    def put(self, key: K, value: V) -> None:
        """Store `value`, then drop the least recently used entries beyond the bounds."""
        with self._lock:
            self._items[key] = value
            self._items.move_to_end(key)
            while len(self._items) > self.max_entries or (
                len(self._items) > 1 and self.max_bytes is not None and self._nbytes() > self.max_bytes
            ):
                self._items.popitem(last=False)

    def get_or_compute(self, key: K, compute: Callable[[], V]) -> V:
        """The cached value for `key`, computed (outside the lock) and stored on a miss.

        One computation per key at a time: a caller that finds the same key being computed by
        another thread waits for that result instead of computing it again (twenty students
        opening one shared link, or the server's warm-up and its first visitor, compile and run
        it once). If that computation fails, the waiter computes it itself.
        """
        with self._lock:
            if key in self._items:
                self._items.move_to_end(key)
                self._hits += 1
                return self._items[key]
            flight = self._in_flight.get(key)
            if flight is None:
                flight = self._in_flight[key] = _Flight()
                self._misses += 1
                owner = True
            else:
                self._hits += 1
                owner = False
        if not owner:
            flight.done.wait()
            if flight.failed:
                return self.get_or_compute(key, compute)
            return cast(V, flight.value)
        try:
            value = compute()
        except BaseException:
            flight.failed = True
            raise
        else:
            self.put(key, value)
            flight.value = value
            return value
        finally:
            with self._lock:
                self._in_flight.pop(key, None)
            flight.done.set()

    def _nbytes(self) -> int:
        size_of = self._size_of
        return 0 if size_of is None else sum(size_of(v) for v in self._items.values())

    def nbytes(self) -> int:
        with self._lock:
            return self._nbytes()

    def info(self) -> CacheInfo:
        with self._lock:
            return CacheInfo(self._hits, self._misses, len(self._items), self._nbytes())

    def clear(self) -> None:
        """Drop every entry and reset the hit and miss counts."""
        with self._lock:
            self._items.clear()
            self._hits = self._misses = 0

    def __len__(self) -> int:
        with self._lock:
            return len(self._items)

    def __contains__(self, key: object) -> bool:
        with self._lock:
            return key in self._items
