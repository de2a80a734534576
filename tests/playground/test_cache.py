"""playground.cache.BoundedCache: the one result cache (Playground runs, Compare, MNIST results)."""

from __future__ import annotations

import threading

import pytest

from playground.cache import BoundedCache


def test_least_recently_used_goes_first() -> None:
    cache: BoundedCache[str, int] = BoundedCache(2)
    cache.put("a", 1)
    cache.put("b", 2)
    assert cache.get("a") == 1  # "b" is now the least recently used
    cache.put("c", 3)
    assert "b" not in cache and cache.get("a") == 1 and cache.get("c") == 3
    assert len(cache) == 2


def test_byte_bound_keeps_the_newest_even_if_too_large() -> None:
    cache: BoundedCache[str, bytes] = BoundedCache(10, max_bytes=10, size_of=len)
    cache.put("a", b"x" * 4)
    cache.put("b", b"x" * 4)
    assert cache.nbytes() == 8
    cache.put("c", b"x" * 4)
    assert "a" not in cache and cache.nbytes() == 8
    cache.put("huge", b"x" * 50)
    assert len(cache) == 1 and "huge" in cache


def test_get_or_compute_computes_once_and_counts() -> None:
    cache: BoundedCache[tuple[str, int], str] = BoundedCache(4)
    calls: list[int] = []

    def compute() -> str:
        calls.append(1)
        return "value"

    assert cache.get_or_compute(("k", 1), compute) == "value"
    assert cache.get_or_compute(("k", 1), compute) == "value"
    assert len(calls) == 1
    info = cache.info()
    assert (info.hits, info.misses, info.entries) == (1, 1, 1)
    cache.clear()
    assert cache.info() == type(info)(0, 0, 0, 0)


def test_bounds_must_make_sense() -> None:
    with pytest.raises(ValueError):
        BoundedCache(0)
    with pytest.raises(ValueError):
        BoundedCache(2, max_bytes=10)


def test_parallel_sessions_never_exceed_the_bound() -> None:
    cache: BoundedCache[int, int] = BoundedCache(8)

    def worker(offset: int) -> None:
        for i in range(300):
            cache.get_or_compute((offset + i) % 40, lambda i=i: i)

    threads = [threading.Thread(target=worker, args=(k,)) for k in range(6)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert len(cache) == 8


def test_concurrent_misses_of_one_key_compute_it_once() -> None:
    import threading

    from playground.cache import BoundedCache

    cache: BoundedCache[str, int] = BoundedCache(4)
    started, release = threading.Event(), threading.Event()
    calls: list[str] = []

    def slow() -> int:
        calls.append(threading.current_thread().name)
        started.set()
        release.wait(10)
        return 42

    results: list[int] = []
    owner = threading.Thread(target=lambda: results.append(cache.get_or_compute("k", slow)), name="owner")
    owner.start()
    assert started.wait(10)
    waiters = [
        threading.Thread(target=lambda: results.append(cache.get_or_compute("k", slow)), name=f"w{i}")
        for i in range(3)
    ]
    for w in waiters:
        w.start()
    release.set()
    for t in [owner, *waiters]:
        t.join(10)
    assert results == [42, 42, 42, 42] and calls == ["owner"]


def test_a_failed_computation_is_not_shared_the_waiter_computes_itself() -> None:
    import threading

    import pytest

    from playground.cache import BoundedCache

    cache: BoundedCache[str, int] = BoundedCache(4)
    started, release = threading.Event(), threading.Event()

    def failing() -> int:
        started.set()
        release.wait(10)
        raise RuntimeError("boom")

    errors: list[BaseException] = []

    def own() -> None:
        try:
            cache.get_or_compute("k", failing)
        except RuntimeError as exc:
            errors.append(exc)

    owner = threading.Thread(target=own)
    owner.start()
    assert started.wait(10)
    got: list[int] = []
    waiter = threading.Thread(target=lambda: got.append(cache.get_or_compute("k", lambda: 7)))
    waiter.start()
    release.set()
    owner.join(10)
    waiter.join(10)
    assert len(errors) == 1 and got == [7] and cache.get("k") == 7
    with pytest.raises(ZeroDivisionError):  # and nothing is left waiting on the failed key
        cache.get_or_compute("z", lambda: 1 // 0)
    assert cache.get_or_compute("z", lambda: 3) == 3
