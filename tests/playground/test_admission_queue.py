"""The MNIST admission queue (playground.admission) with fake jobs: no training, no threads."""

from __future__ import annotations

from dataclasses import dataclass, field

import pytest

from playground import admission as adm
from playground.admission import ADMITTED, DROPPED, WAITING, AdmissionQueue, Refused

MB = 2**20


@dataclass(eq=False)
class FakeJob:
    session: str | None = None
    peak_bytes: int = 10 * MB
    remaining: float = 60.0
    is_gone: bool = False
    cancelled: list[str] = field(default_factory=list)

    def gone(self) -> bool:
        return self.is_gone

    def remaining_seconds(self) -> float:
        return self.remaining

    def cancel(self, reason: str) -> None:
        self.cancelled.append(reason)


def queue(capacity: int = 2, free: int | None = 10_000 * MB, reserve: int = 0) -> AdmissionQueue:
    return AdmissionQueue(capacity, memory=lambda: free, reserve_bytes=reserve)


def submit_all(q: AdmissionQueue, *jobs: FakeJob) -> None:
    for j in jobs:
        q.submit(j)


def test_fifo_order_and_capacity() -> None:
    q = queue(capacity=2)
    a, b, c, d = (FakeJob() for _ in range(4))
    submit_all(q, a, b, c, d)
    assert q.try_admit(b) == WAITING  # a is first in line
    assert q.try_admit(a) == ADMITTED and q.try_admit(b) == ADMITTED
    assert q.try_admit(d) == WAITING and q.try_admit(c) == WAITING  # the cap: two running
    assert q.running_count() == 2 and q.free_slots() == 0
    q.release(a)
    assert q.try_admit(d) == WAITING  # c came first
    assert q.try_admit(c) == ADMITTED
    q.release(b)
    assert q.try_admit(d) == ADMITTED
    assert q.running_count() == 2 and q.waiting_count() == 0


def test_capacity_from_env(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv(adm.ENV_SLOTS, "5")
    assert AdmissionQueue(memory=lambda: None).capacity == 5
    monkeypatch.setenv(adm.ENV_SLOTS, "zero")
    monkeypatch.setattr(adm.os, "cpu_count", lambda: 3)
    assert AdmissionQueue(memory=lambda: None).capacity == 2  # bad value: the default
    monkeypatch.delenv(adm.ENV_SLOTS)
    assert adm.slots_from_env() == 2
    assert adm.slots_from_env(default=5) == 5
    with pytest.raises(ValueError):
        AdmissionQueue(0)


@pytest.mark.parametrize(("cores", "slots"), [(None, 1), (1, 1), (2, 1), (3, 2), (8, 7), (64, 63)])
def test_default_leaves_one_core_for_the_pages(
    monkeypatch: pytest.MonkeyPatch, cores: int | None, slots: int
) -> None:
    """K = cores - 1, at least 1 (os.cpu_count() may be None: then one)."""
    monkeypatch.delenv(adm.ENV_SLOTS, raising=False)
    monkeypatch.setattr(adm.os, "cpu_count", lambda: cores)
    assert adm.default_slots() == slots
    assert AdmissionQueue(memory=lambda: None).capacity == slots


def test_one_job_per_session_while_queued_or_running() -> None:
    q = queue(capacity=1)
    first = FakeJob(session="s1")
    q.submit(first)
    with pytest.raises(Refused, match="already have a training queued or running"):
        q.submit(FakeJob(session="s1"))  # queued
    assert q.try_admit(first) == ADMITTED
    with pytest.raises(Refused, match="already have a training"):
        q.submit(FakeJob(session="s1"))  # running
    q.submit(FakeJob(session="s2"))  # another visitor may queue
    q.release(first)
    q.submit(FakeJob(session="s1"))  # once it ended, the visitor may run again
    q.submit(FakeJob(session=None))
    q.submit(FakeJob(session=None))  # no session key: no limit
    assert q.waiting_count() == 4


def test_jobs_of_closed_sessions_leave_the_queue() -> None:
    q = queue(capacity=1)
    running, gone, after = FakeJob(session="a"), FakeJob(session="b"), FakeJob(session="c")
    submit_all(q, running, gone, after)
    assert q.try_admit(running) == ADMITTED
    assert q.position(after) == (2, 2)
    gone.is_gone = True
    assert q.try_admit(gone) == DROPPED
    assert q.position(after) == (1, 1)
    q.release(running)
    assert q.try_admit(after) == ADMITTED  # the dropped job did not block it


def test_a_gone_job_at_the_head_does_not_block_the_queue() -> None:
    q = queue(capacity=1)
    head, next_ = FakeJob(), FakeJob()
    submit_all(q, head, next_)
    head.is_gone = True  # its thread never asks again
    assert q.try_admit(next_) == ADMITTED


def test_running_jobs_of_closed_sessions_are_asked_to_stop() -> None:
    q = queue(capacity=1)
    running, waiting = FakeJob(), FakeJob()
    submit_all(q, running, waiting)
    assert q.try_admit(running) == ADMITTED
    running.is_gone = True
    assert q.try_admit(waiting) == WAITING  # the slot is freed only when the job really ends
    assert running.cancelled == ["the page was closed"]
    q.release(running)
    assert q.try_admit(waiting) == ADMITTED


def test_a_broken_gone_check_counts_as_gone() -> None:
    class Broken(FakeJob):
        def gone(self) -> bool:
            raise RuntimeError("runtime shutting down")

    q = queue()
    job = Broken()
    q.submit(job)
    assert q.try_admit(job) == DROPPED


def test_position_and_wait_estimate() -> None:
    q = queue(capacity=2)
    r1, r2 = FakeJob(remaining=30.0), FakeJob(remaining=100.0)
    w1, w2, w3 = FakeJob(remaining=50.0), FakeJob(remaining=20.0), FakeJob(remaining=5.0)
    submit_all(q, r1, r2, w1, w2, w3)
    assert q.try_admit(r1) == ADMITTED and q.try_admit(r2) == ADMITTED
    assert q.position(w1) == (1, 3) and q.position(w3) == (3, 3)
    assert q.wait_estimate(w1) == pytest.approx(30.0)  # r1's slot frees first
    assert q.wait_estimate(w2) == pytest.approx(80.0)  # w1 takes r1's slot at 30 and runs 50
    assert q.wait_estimate(w3) == pytest.approx(100.0)  # r2 ends at 100, w2 (80 + 20) too
    assert q.position(r1) is None and q.wait_estimate(r1) is None  # running: not queued
    text = q.status_text(w2)
    assert text is not None and text.startswith("Queued: position 2 of 3, about 80 s")


def test_wait_estimate_with_a_free_slot_is_zero() -> None:
    q = queue(capacity=3)
    r, w = FakeJob(remaining=40.0), FakeJob()
    submit_all(q, r, w)
    assert q.try_admit(r) == ADMITTED
    assert q.wait_estimate(w) == 0.0


def test_memory_refusal_names_the_need_and_what_is_free() -> None:
    q = queue(capacity=2, free=900 * MB, reserve=100 * MB)
    with pytest.raises(Refused) as info:
        q.submit(FakeJob(peak_bytes=2000 * MB))
    message = str(info.value)
    assert "2,000 MB" in message and "900 MB free now" in message and "100 MB kept" in message
    assert "not queued" in message
    assert q.waiting_count() == 0


def test_a_job_that_fits_later_waits_for_memory_in_its_place() -> None:
    free = [1000 * MB]
    q = AdmissionQueue(2, memory=lambda: free[0], reserve_bytes=100 * MB)
    big = FakeJob(peak_bytes=700 * MB)
    q.submit(big)
    assert q.try_admit(big) == ADMITTED
    free[0] = 300 * MB  # big holds most of it now
    second = FakeJob(peak_bytes=600 * MB)  # fits once big is done: queued, not refused
    small = FakeJob(peak_bytes=10 * MB)
    submit_all(q, second, small)
    assert q.try_admit(second) == WAITING
    assert q.memory_wait(second)
    assert "waiting for memory" in (q.status_text(second) or "")
    assert q.try_admit(small) == WAITING  # FIFO: it does not overtake the job ahead
    q.release(big)
    free[0] = 1000 * MB
    assert q.try_admit(second) == ADMITTED and q.try_admit(small) == ADMITTED


def test_no_meminfo_means_no_memory_check() -> None:
    q = queue(free=None)
    job = FakeJob(peak_bytes=10**15)
    q.submit(job)
    assert q.try_admit(job) == ADMITTED


def test_mem_available_reads_proc_meminfo() -> None:
    value = adm.mem_available()
    assert value is None or value > 0
