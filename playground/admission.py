"""One admission queue per process for the MNIST trainings. No Streamlit.

FIFO order; at most `capacity` jobs running at once (default: cores - 1, at least 1, leaving a
core for the pages; or the env variable OPTIM_PLAYGROUND_TRAINING_SLOTS); one job per session
key (a second one is refused while the first is queued or running); jobs whose session is gone
are dropped (queued: removed at once; running: asked to stop, their slot is freed when they
end); a memory check before admitting: a job that could never fit (its estimated peak exceeds
what is free now plus what the running jobs hold, minus a reserve) is refused at submission,
one that fits later waits in the queue.
"""

from __future__ import annotations

import os
import threading
from collections.abc import Callable
from typing import Protocol

ENV_SLOTS = "OPTIM_PLAYGROUND_TRAINING_SLOTS"
ENV_RESERVE_MB = "OPTIM_PLAYGROUND_MEMORY_RESERVE_MB"
DEFAULT_RESERVE_BYTES = 512 * 2**20  # left for the Playground pages and the OS

ADMITTED, WAITING, DROPPED = "admitted", "waiting", "dropped"


class Refused(Exception):
    """The job cannot be queued; the message is meant for the student."""


class QueuedJob(Protocol):
    """What the queue needs to know about a job."""

    session: str | None  # None: no session limit (tests, bare mode)
    peak_bytes: int

    def gone(self) -> bool:
        """Its visitor has left."""
        ...

    def remaining_seconds(self) -> float:
        """Estimated time left (the whole estimate while queued)."""
        ...

    def cancel(self, reason: str) -> None:
        """Ask a running job to stop soon (it then calls release())."""
        ...


def default_slots(cores: int | None = None) -> int:
    """K when nothing is configured: one core left free for the pages' reruns (cores - 1, at
    least 1).

    Why: XLA runs every program of the process (the trainings' and the Playground's) on one
    pool of worker threads, one per core (measured on 2 cores, bench/probe_training_share.py
    and bench/load_lecture.py --training): with a CNN training per core, a Playground engine run
    waits for a worker until a training's chunk ends (p50 about 1.3 s instead of 13 ms); with
    one core left free it mostly finds one. Niceness cannot help: it is per OS thread, and the
    training's work runs on XLA's shared pool threads, not on the job's own thread."""
    cores = cores if cores is not None else os.cpu_count() or 1
    return max(1, cores - 1)


def slots_from_env(default: int | None = None) -> int:
    """K: OPTIM_PLAYGROUND_TRAINING_SLOTS if it is a positive integer, else `default`, else
    default_slots() (cores - 1, at least 1)."""
    text = os.environ.get(ENV_SLOTS, "").strip()
    if text.isdigit() and int(text) > 0:
        return int(text)
    return default or default_slots()


def reserve_from_env() -> int:
    text = os.environ.get(ENV_RESERVE_MB, "").strip()
    return int(text) * 2**20 if text.isdigit() else DEFAULT_RESERVE_BYTES


def mem_available() -> int | None:
    """MemAvailable from /proc/meminfo in bytes; None where it cannot be read (not Linux)."""
    try:
        with open("/proc/meminfo", encoding="ascii") as f:
            for line in f:
                if line.startswith("MemAvailable:"):
                    return int(line.split()[1]) * 1024
    except (OSError, ValueError, IndexError):
        return None
    return None


def _mb(n: float) -> str:
    return f"{n / 2**20:,.0f} MB"


def format_wait(seconds: float) -> str:
    if seconds < 90:
        return f"{max(seconds, 1):.0f} s"
    if seconds < 90 * 60:
        return f"{seconds / 60:.0f} min"
    return f"{seconds / 3600:.1f} h"


class AdmissionQueue:
    """FIFO admission of training jobs; thread-safe. Jobs call `try_admit` while they wait
    and `release` when they end (admitted or not)."""

    def __init__(
        self,
        capacity: int | None = None,
        memory: Callable[[], int | None] = mem_available,
        reserve_bytes: int | None = None,
    ) -> None:
        self.capacity = capacity if capacity is not None else slots_from_env()
        if self.capacity < 1:
            raise ValueError("capacity must be at least 1")
        self._memory = memory
        self.reserve = reserve_bytes if reserve_bytes is not None else reserve_from_env()
        self._lock = threading.Lock()
        self._waiting: list[QueuedJob] = []
        self._running: list[QueuedJob] = []

    # -- submission
    def submit(self, job: QueuedJob) -> None:
        """Queue `job` at the end, or raise Refused with a message for the student."""
        with self._lock:
            self._prune()
            if job.session is not None and any(
                j.session == job.session for j in (*self._waiting, *self._running)
            ):
                raise Refused(
                    "You already have a training queued or running: stop it (or wait for it to "
                    "finish) before starting another one. One training per visitor keeps the "
                    "server fair for the whole class."
                )
            free = self._memory()
            if free is not None:
                held = sum(j.peak_bytes for j in self._running)
                could_have = free + held - self.reserve
                if job.peak_bytes > could_have:
                    raise Refused(
                        f"Not enough memory on this server for this training: it needs about "
                        f"{_mb(job.peak_bytes)}, and at most {_mb(max(could_have, 0))} could be free "
                        f"({_mb(free)} free now, {_mb(self.reserve)} kept for the other pages). "
                        "It was not queued. Choose fewer training images, the MLP, or fewer optimizers."
                    )
            self._waiting.append(job)

    # -- from the job's thread
    def try_admit(self, job: QueuedJob) -> str:
        """ADMITTED (it may train now; call release() after), WAITING, or DROPPED (it is no
        longer queued: its session is gone or it was removed)."""
        with self._lock:
            self._prune()
            if job in self._running:
                return ADMITTED
            if job not in self._waiting:
                return DROPPED
            if len(self._running) >= self.capacity or self._waiting[0] is not job:
                return WAITING
            if not self._fits_now(job):
                return WAITING  # keeps its place: a later job does not overtake it
            self._waiting.remove(job)
            self._running.append(job)
            return ADMITTED

    def release(self, job: QueuedJob) -> None:
        """The job ended or gave up: it leaves the queue and frees its slot."""
        with self._lock:
            if job in self._waiting:
                self._waiting.remove(job)
            if job in self._running:
                self._running.remove(job)

    def _fits_now(self, job: QueuedJob) -> bool:
        free = self._memory()
        return free is None or job.peak_bytes <= free - self.reserve

    def memory_wait(self, job: QueuedJob) -> bool:
        """It is first in line with a free slot but waits for memory."""
        with self._lock:
            return (
                bool(self._waiting)
                and self._waiting[0] is job
                and len(self._running) < self.capacity
                and not self._fits_now(job)
            )

    def _prune(self) -> None:
        """Drop queued jobs whose visitor has left; ask running ones to stop."""
        self._waiting = [j for j in self._waiting if not _gone(j)]
        for j in self._running:
            if _gone(j):
                j.cancel("the page was closed")

    # -- what the page shows
    def position(self, job: QueuedJob) -> tuple[int, int] | None:
        """(N, M): the job is N-th of the M waiting; None once it is not waiting."""
        with self._lock:
            if job not in self._waiting:
                return None
            return self._waiting.index(job) + 1, len(self._waiting)

    def wait_estimate(self, job: QueuedJob) -> float | None:
        """Seconds until `job` could start: the running jobs' remaining estimates, then those
        ahead of it taking the first free slot in turn. None once it is not waiting."""
        with self._lock:
            if job not in self._waiting:
                return None
            free_at = sorted(max(j.remaining_seconds(), 0.0) for j in self._running)
            free_at += [0.0] * max(self.capacity - len(free_at), 0)
            free_at.sort()
            for ahead in self._waiting[: self._waiting.index(job)]:
                start = free_at.pop(0)
                free_at.append(start + max(ahead.remaining_seconds(), 0.0))
                free_at.sort()
            return free_at[0]

    def status_text(self, job: QueuedJob) -> str | None:
        pos = self.position(job)
        wait = self.wait_estimate(job)
        if pos is None or wait is None:
            return None
        text = f"Queued: position {pos[0]} of {pos[1]}, about {format_wait(wait)}"
        if self.memory_wait(job):
            text += " (waiting for memory to free up)"
        return text

    def running_count(self) -> int:
        with self._lock:
            return len(self._running)

    def waiting_count(self) -> int:
        with self._lock:
            return len(self._waiting)

    def free_slots(self) -> int:
        with self._lock:
            return self.capacity - len(self._running)


def _gone(job: QueuedJob) -> bool:
    try:
        return bool(job.gone())
    except Exception:  # noqa: BLE001 - a broken check: nobody can see this job any more
        return True
