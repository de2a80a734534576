"""MNIST training jobs and their results: the datasets, `TrainingJob` (one setup trained in a
background thread owned by the session, stoppable, ending when its visitor leaves), the bounded
parallelism, and `CACHE` of finished runs (playground.cache.BoundedCache keyed by the setup)
with the loss landscapes computed for them. No Streamlit."""

from __future__ import annotations

import functools
import itertools
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Self

from playground.admission import ADMITTED, DROPPED, AdmissionQueue
from playground.cache import BoundedCache
from playground.mnist_setup import (
    MnistSetup,
    _record_speed,
    estimate_seconds,
    parameter_count,
    snapshot_bytes,
)
from training import (
    DownloadError,
    IDXError,
    Landscape,
    MNISTSplit,
    Progress,
    TrainResult,
    compute_landscape,
    load_full,
    load_sample,
    train,
)
from training.data import FULL_FILES, default_cache_dir

MAX_CACHE_ENTRIES = 12
MAX_CACHE_BYTES = 1024 * 2**20
# The one admission queue of this process: at most K trainings at once (cores - 1, at least 1, or
# OPTIM_PLAYGROUND_TRAINING_SLOTS), FIFO, one per session, a memory check (playground.admission).
QUEUE = AdmissionQueue()
MAX_PARALLEL_JOBS = QUEUE.capacity  # later ones wait their turn
ORPHAN_TIMEOUT_S = 1200.0  # a job nobody has looked at for this long stops (a safety net)
# A job whose visitor's session has been disconnected this long stops (a reconnect within it,
# e.g. a network blip, keeps the job); the job checks between chunks and while it waits for a
# slot, so it ends within about this plus one chunk of training.
DISCONNECT_GRACE_S = 3.0
SLOT_POLL_S = 0.2  # how often a queued job looks for a free slot (and for its session)
POLL_S = 0.5  # how often the page redraws a running job's progress and curves

# --- data ----------------------------------------------------------------------------------------

_data_lock = threading.Lock()
_data: dict[str, MNISTSplit] = {}


def full_downloaded() -> bool:
    """The full set's files are in the cache directory (checksums are checked on loading)."""
    cache = default_cache_dir()
    return all((cache / name).is_file() for name in FULL_FILES)


class DataUnavailable(RuntimeError):
    """The requested data cannot be had; the message is meant for the student."""


def dataset(which: str) -> MNISTSplit:
    """The sample or the full set, loaded once per process. The full set is downloaded on
    first use; without network this raises DataUnavailable rather than silently training on
    something else than the setup says."""
    with _data_lock:
        if which not in _data:
            if which == "sample":
                _data[which] = load_sample()
            elif which == "full":
                try:
                    _data[which] = load_full()
                except (DownloadError, OSError) as e:
                    raise DataUnavailable(
                        "The full MNIST set could not be downloaded on this server (no internet "
                        "access?). Choose the offline sample in the sidebar: it holds 10,000 "
                        f"real MNIST digits. Details: {str(e)[:300]}"
                    ) from e
                except IDXError as e:
                    raise DataUnavailable(
                        f"A cached MNIST file is damaged: {e}. Delete it to have it downloaded again."
                    ) from e
            else:
                raise ValueError(f"unknown data {which!r}")
        return _data[which]


# --- results and their cache ---------------------------------------------------------------------


@dataclass
class Outcome:
    """A training result as the page shows it, with the landscapes computed for it."""

    setup: MnistSetup
    result: TrainResult
    landscapes: dict[int, Landscape] = field(default_factory=dict)
    stop_reason: str | None = None  # why a stopped run stopped

    def nbytes(self) -> int:
        snaps = sum(r.snapshots.nbytes for r in self.result.runs if r.snapshots is not None)
        return int(snaps + sum(land.loss.nbytes * 4 for land in self.landscapes.values()))


class ResultCache(BoundedCache[MnistSetup, Outcome]):
    """Finished runs by their setup: thread-safe LRU, bounded by entries and snapshot bytes."""

    def __init__(self, max_entries: int = MAX_CACHE_ENTRIES, max_bytes: int = MAX_CACHE_BYTES) -> None:
        super().__init__(max_entries, max_bytes, size_of=Outcome.nbytes)


CACHE = ResultCache()


def lookup(setup: MnistSetup) -> Outcome | None:
    return CACHE.get(setup)


# --- training jobs -------------------------------------------------------------------------------

_running_jobs: set[TrainingJob] = set()
_running_lock = threading.Lock()

QUEUED, LOADING, PREPARING, TRAINING = "queued", "loading", "preparing", "training"
FINISHED, STOPPED, FAILED = "finished", "stopped", "failed"


_DATA_IMAGES = {"sample": 10_000, "full": 70_000}  # every image of the set (uint8, 784 bytes)
# Compiling and running the programs, the runtime's own buffers. Measured (ru_maxrss growth of
# one CNN training, 6 optimizers, 2,000 sample images, 1 epoch): 908 MB; this estimate: ~940 MB.
_XLA_OVERHEAD_BYTES = 500 * 2**20
_STATE_COPIES = 6  # weights, gradients, up to three optimizer states, the update
_CNN_ACTIVATIONS = 32 * 26 * 26 + 32 * 13 * 13 + 256  # floats per image in the CNN's forward pass
_EVAL_BATCH = 500  # training.train.EVAL_BATCH: images evaluated at once


def peak_bytes(setup: MnistSetup) -> int:
    """A rough, generous estimate of a training's peak memory: every optimizer's weights,
    gradients and states, the snapshots kept for the landscape, the data set (uint8, twice: host
    and device), the float32 activations of a training batch per optimizer (forward and
    backward) and of an evaluation batch, and XLA's overhead."""
    params = parameter_count(setup.model)
    n = len(setup.optimizers)
    states = 4 * params * n * _STATE_COPIES
    data = 2 * 784 * _DATA_IMAGES.get(setup.data, 70_000)
    per_image = _CNN_ACTIVATIONS if setup.model == "cnn" else 784 + 256 + 10
    activations = 4 * per_image * (3 * setup.batch_size * n + _EVAL_BATCH)
    return int(states + snapshot_bytes(setup) + data + activations + _XLA_OVERHEAD_BYTES)


def _copy_curves(result: TrainResult) -> TrainResult:
    """The curves so far, detached from the running result (no snapshots, no weights)."""
    return TrainResult.from_dict(result.to_dict())


class SessionGone(Exception):
    """Raised inside the training thread: the visitor who started the job has left."""


_job_numbers = itertools.count(1)


def _name_native_thread(name: str) -> None:
    """Give the calling thread `name` in the OS too (Linux: /proc/<pid>/task/<tid>/comm, shown
    by top -H and ps -L), so an operator can see training threads from outside."""
    try:
        import ctypes

        ctypes.CDLL(None).prctl(15, name.encode()[:15], 0, 0, 0)  # 15 = PR_SET_NAME
    except (OSError, AttributeError):  # not Linux: the Python name is still set
        pass


@functools.lru_cache(maxsize=1)
def _start_jax_backend() -> None:
    """Start JAX's CPU backend in the calling thread (the page's), not in a job's thread.

    The backend's worker threads are created when it starts and live as long as the process;
    started from a job thread they would inherit its OS name (mnist-job-N) and look like a
    training that never ends to anyone reading the thread list."""
    import jax
    import jax.numpy as jnp

    jax.block_until_ready(jnp.zeros(()) + 1)


class BackgroundJob:
    """What every MNIST background job shares: a thread admitted by QUEUE, one per session, and
    the check that its visitor is still there. Subclasses set the work in `_run`.

    `alive()`, if given, says whether the visitor's session is still connected; once it has said
    no for DISCONNECT_GRACE_S (or fails: a server shutting down has no sessions left) the job
    counts as gone."""

    def __init__(
        self, name: str, peak_bytes: int, alive: Callable[[], bool] | None, session: str | None
    ) -> None:
        self.session = session  # the admission queue allows one job per session
        self.peak_bytes = peak_bytes
        self._alive = alive
        self._gone_since: float | None = None  # when alive() first said no (None: it says yes)
        self.phase = QUEUED
        self.error: str | None = None
        self.created = time.monotonic()
        self.started: float | None = None  # the work began (after queue and data)
        self.finished: float | None = None
        self._stop = threading.Event()
        self.name = name
        self._thread = threading.Thread(target=self._run, name=name, daemon=True)

    def _run(self) -> None:
        raise NotImplementedError

    def remaining_seconds(self) -> float:
        raise NotImplementedError

    def cancel(self, reason: str) -> None:
        raise NotImplementedError

    # -- control, from the page
    def start(self) -> Self:
        """Queue the job and start its thread; raises admission.Refused (a message for the
        student) if the queue refuses it (one per session, not enough memory)."""
        _start_jax_backend()
        QUEUE.submit(self)
        try:
            self._thread.start()
        except BaseException:
            QUEUE.release(self)
            raise
        return self

    # -- what the admission queue asks
    def gone(self) -> bool:
        return self.session_gone()

    def queue_text(self) -> str | None:
        """ "Queued: position N of M, about T" while it waits; None once admitted."""
        return QUEUE.status_text(self)

    @property
    def running(self) -> bool:
        return self._thread.is_alive()

    def wait(self, timeout: float | None = None) -> bool:
        self._thread.join(timeout)
        return not self._thread.is_alive()

    def session_gone(self) -> bool:
        """The visitor's session has been disconnected for DISCONNECT_GRACE_S."""
        if self._alive is None:
            return False
        try:
            connected = bool(self._alive())
        except Exception:  # noqa: BLE001 - whatever broke, nobody can see this job any more
            connected = False
        if connected:
            self._gone_since = None
            return False
        now = time.monotonic()
        if self._gone_since is None:
            self._gone_since = now
        return now - self._gone_since >= DISCONNECT_GRACE_S


class TrainingJob(BackgroundJob):
    """One setup trained in a background thread; the page polls its fields.

    The thread never touches Streamlit. `request_stop()` makes the next chunk callback return
    False, so `train()` evaluates what it has and returns it (`result.stopped`). `alive()`, if
    given, says whether the visitor's session is still connected; once it has said no for
    DISCONNECT_GRACE_S the job ends (queued: it leaves the queue; training: at the next chunk,
    keeping nothing, since nobody is left to see it) and frees its slot.
    """

    def __init__(
        self, setup: MnistSetup, alive: Callable[[], bool] | None = None, session: str | None = None
    ) -> None:
        super().__init__(f"mnist-job-{next(_job_numbers)}", peak_bytes(setup), alive, session)
        self.setup = setup
        self.done = 0  # batches trained (every optimizer), of `total`
        self.total = setup.epochs * (setup.train_size // setup.batch_size)
        self.partial: TrainResult | None = None  # curves up to the last finished epoch
        self.outcome: Outcome | None = None
        self.stop_reason: str | None = None
        self.last_seen = time.monotonic()

    def remaining_seconds(self) -> float:
        frac = min(max(self.done / self.total, 0.0), 1.0) if self.total else 0.0
        return estimate_seconds(self.setup) * (1.0 - frac)

    def cancel(self, reason: str) -> None:
        self.request_stop(reason)

    def request_stop(self, reason: str = "you pressed Stop") -> None:
        if not self._stop.is_set():
            self.stop_reason = reason
            self._stop.set()

    def touch(self) -> None:
        """The page is still watching (a job nobody watches stops after a while)."""
        self.last_seen = time.monotonic()

    def elapsed(self) -> float:
        return (self.finished or time.monotonic()) - (self.started or self.created)

    # -- the thread
    def _should_stop(self) -> bool:
        if time.monotonic() - self.last_seen > ORPHAN_TIMEOUT_S:
            self.request_stop("nobody was watching the page any more")
        return self._stop.is_set()

    def _check_session(self) -> None:
        if self.session_gone():
            self.request_stop("the page was closed")
            raise SessionGone

    def _on_epoch(self, progress: Progress) -> bool:
        self._check_session()
        self.partial = _copy_curves(progress.result)
        return not self._should_stop()

    def _on_chunk(self, done: int, total: int) -> bool:
        self._check_session()
        self.done, self.total, self.phase = done, total, TRAINING
        return not self._should_stop()

    def _run(self) -> None:
        _name_native_thread(self.name)
        try:
            while (state := QUEUE.try_admit(self)) != ADMITTED:  # a free slot, a Stop, or gone
                if state == DROPPED:  # the queue dropped it: its visitor has left
                    self.request_stop("the page was closed")
                    raise SessionGone
                self._check_session()
                if self._should_stop():
                    self.phase = STOPPED
                    return
                self._stop.wait(SLOT_POLL_S)
            try:
                with _running_lock:
                    _running_jobs.add(self)
                self._train()
            finally:
                with _running_lock:
                    _running_jobs.discard(self)
        except SessionGone:
            self.phase = STOPPED  # nothing kept: the visitor who would see it has left
        except DataUnavailable as e:
            self.error, self.phase = str(e), FAILED
        except Exception as e:  # shown on the page; the server must not lose the session
            self.error, self.phase = f"{type(e).__name__}: {e}", FAILED
        finally:
            QUEUE.release(self)
            self.finished = time.monotonic()

    def _train(self) -> None:
        self._check_session()
        if self._should_stop():
            self.phase = STOPPED
            return
        self.phase = LOADING
        data = dataset(self.setup.data)
        self.phase, self.started = PREPARING, time.monotonic()
        result = train(
            self.setup.optimizer_configs(),
            self.setup.train_config(),
            data,
            callback=self._on_epoch,
            on_chunk=self._on_chunk,
        )
        self.partial = _copy_curves(result)
        self.outcome = Outcome(self.setup, result, stop_reason=self.stop_reason if result.stopped else None)
        if result.stopped:
            self.phase = STOPPED
        else:
            _record_speed(result)
            CACHE.put(self.setup, self.outcome)  # only complete runs: a stopped one is not the setup
            self.phase = FINISHED


def start_job(
    setup: MnistSetup, alive: Callable[[], bool] | None = None, session: str | None = None
) -> TrainingJob:
    """Train `setup` in the background; `alive()` says whether its visitor is still there;
    `session` keys the one-job-per-session rule. Raises admission.Refused with a message."""
    return TrainingJob(setup, alive, session).start()


def format_duration(seconds: float) -> str:
    """Round a duration for people: "8 s", "4 min", "2.5 h"."""
    if seconds < 90:
        return f"{max(seconds, 1):.0f} s"
    if seconds < 90 * 60:
        return f"{seconds / 60:.0f} min"
    return f"{seconds / 3600:.1f} h"


def running_jobs() -> int:
    with _running_lock:
        return len(_running_jobs)


def landscape_for(
    outcome: Outcome, resolution: int, progress: Callable[[int, int], None] | None = None
) -> Landscape:
    """The loss-landscape slice of a run (cached on the outcome, which the cache may hold)."""
    land = outcome.landscapes.get(resolution)
    if land is None:
        land = compute_landscape(
            outcome.result, dataset(outcome.setup.data), resolution=resolution, progress=progress
        )
        outcome.landscapes[resolution] = land
    return land


def has_snapshots(outcome: Outcome) -> bool:
    return all(r.snapshots is not None and len(r.snapshots) >= 2 for r in outcome.result.runs)
