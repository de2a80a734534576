"""The MNIST page's learning-rate range test (training.lr_find, fast.ai's `lr_find`): what one
test is (`RangeTest`, built from the page's setup and one of its optimizers), the job that runs
it through the page's admission queue (`RangeTestJob`, the same `QUEUE`, one job per session,
the same memory check as training), a cache of finished tests, and the page's sentences about
a result. No Streamlit.

Why a job and not a direct call: on this machine the MLP's test over the shipped sample takes
about a second once compiled, but the first compile of an optimizer takes several seconds and
the CNN's test takes seconds to minutes; in a job it waits its turn like a training and the
page stays responsive (it polls, as it does for a training). The test itself cannot be
interrupted (training.lr_find has no stop callback): a job whose visitor left is dropped while
queued, and one already running ends on its own (at most MAX_SECONDS, by `check`).
"""

from __future__ import annotations

import itertools
import time
from collections.abc import Callable
from dataclasses import dataclass, replace

from playground.admission import ADMITTED, DROPPED
from playground.cache import BoundedCache
from playground.mnist_jobs import (
    FAILED,
    FINISHED,
    LOADING,
    QUEUE,
    QUEUED,
    SLOT_POLL_S,
    STOPPED,
    TRAINING,
    BackgroundJob,
    DataUnavailable,
    dataset,
    format_duration,
    peak_bytes,
)
from playground.mnist_setup import MnistSetup, estimate_seconds, snapshot_bytes
from playground.setup import OptimizerEntry
from training.lr_find import LRFindResult, lr_find
from training.optimizers import NETWORK_OPTIMIZERS

ALPHA_MINS = (1e-7, 1e-6, 1e-5, 1e-4, 1e-3)  # where the test's α starts (the page's choices)
ALPHA_MAXS = (0.1, 1.0, 10.0, 100.0)  # where it ends
DEFAULT_ALPHA_MIN, DEFAULT_ALPHA_MAX = 1e-5, 10.0  # fast.ai's range is 1e-7 … 10
MIN_STEPS = 8  # fewer batches than this cannot show a curve worth reading
MAX_SECONDS = 60.0  # a longer test is refused (it cannot be stopped once it runs)
MAX_CACHE_ENTRIES = 32


@dataclass(frozen=True)
class RangeTest:
    """One range test: an optimizer of the page (its other hyperparameters kept, its α dropped:
    the test sets α step by step) on the page's model and data, one epoch, α from alpha_min to alpha_max."""

    model: str
    entry: OptimizerEntry
    data: str
    train_size: int
    batch_size: int
    seed: int
    alpha_min: float = DEFAULT_ALPHA_MIN
    alpha_max: float = DEFAULT_ALPHA_MAX

    @classmethod
    def from_setup(
        cls,
        setup: MnistSetup,
        index: int,
        alpha_min: float = DEFAULT_ALPHA_MIN,
        alpha_max: float = DEFAULT_ALPHA_MAX,
    ) -> RangeTest:
        entry = setup.optimizers[index]
        # The test sets α itself: the optimizer's own α is dropped, so that testing it again
        # after 'Use this α' is the same test (and comes from the cache).
        entry = replace(entry, hparams={k: v for k, v in entry.hparams.items() if k != "learning_rate"})
        return cls(
            model=setup.model,
            entry=entry,
            data=setup.data,
            train_size=setup.train_size,
            batch_size=setup.batch_size,
            seed=setup.seed,
            alpha_min=float(alpha_min),
            alpha_max=float(alpha_max),
        )

    @property
    def steps(self) -> int:
        """Batches in one epoch: one α each."""
        return self.train_size // self.batch_size

    @property
    def label(self) -> str:
        return NETWORK_OPTIMIZERS[self.entry.name].label

    def as_training(self) -> MnistSetup:
        """The same work as a one-epoch training of this optimizer (for the time and memory
        estimates the training jobs use)."""
        return MnistSetup(
            model=self.model,
            optimizers=(self.entry,),
            epochs=1,
            batch_size=self.batch_size,
            data=self.data,
            train_size=self.train_size,
            seed=self.seed,
        )

    def estimate_seconds(self) -> float:
        return estimate_seconds(self.as_training())

    def peak_bytes(self) -> int:
        setup = self.as_training()
        return peak_bytes(setup) - snapshot_bytes(setup)  # the test keeps no snapshots

    def check(self) -> str | None:
        """Why this test cannot run, in words for the student; None if it can."""
        if not (0 < self.alpha_min < self.alpha_max <= 100):
            return (
                f"The range must start below where it ends (α from {self.alpha_min:g} to "
                f"{self.alpha_max:g}): pick a smaller start or a larger end."
            )
        if self.steps < MIN_STEPS:
            return (
                f"{self.train_size:,} training images in batches of {self.batch_size} make only "
                f"{self.steps} step{'s' * (self.steps != 1)}: the test needs at least {MIN_STEPS} "
                "(one α per step) to draw a curve. Choose more training images or a smaller "
                "batch in the sidebar."
            )
        secs = self.estimate_seconds()
        if secs > MAX_SECONDS:
            return (
                f"This test would take about {format_duration(secs)} on this server "
                f"({self.steps:,} steps of the {self.model.upper()}), and it cannot be stopped "
                "once it runs. Choose fewer training images, a larger batch or the MLP."
            )
        return None

    def describe(self) -> str:
        return (
            f"{self.label} ({self.entry.preset}) · {self.model.upper()} · {self.train_size:,} "
            f"images ({self.data}) · batch {self.batch_size} · {self.steps:,} steps · "
            f"α from {self.alpha_min:g} to {self.alpha_max:g}"
        )


RESULTS: BoundedCache[RangeTest, LRFindResult] = BoundedCache(MAX_CACHE_ENTRIES)


def lookup(test: RangeTest) -> LRFindResult | None:
    return RESULTS.get(test)


_numbers = itertools.count(1)


class RangeTestJob(BackgroundJob):
    """One range test in a background thread, admitted by the page's QUEUE like a training.

    The page polls `phase`, `result` and `error`. A queued job whose visitor has gone (see
    BackgroundJob) leaves the queue."""

    def __init__(
        self, test: RangeTest, alive: Callable[[], bool] | None = None, session: str | None = None
    ) -> None:
        super().__init__(f"mnist-lrfind-{next(_numbers)}", test.peak_bytes(), alive, session)
        self.test = test
        self.result: LRFindResult | None = None

    def remaining_seconds(self) -> float:
        total = self.test.estimate_seconds()
        if self.started is None:
            return total
        return max(total - (time.monotonic() - self.started), 0.0)

    def cancel(self, reason: str) -> None:
        """Honoured while queued; a running test ends on its own (it cannot be interrupted)."""
        self._stop.set()

    def status_text(self) -> str:
        """What the page shows while the job runs."""
        if self.phase == QUEUED:
            return self.queue_text() or "Queued…"
        if self.phase == LOADING:
            return "Loading the data…"
        secs = self.test.estimate_seconds()
        return (
            f"Testing {self.test.steps:,} learning rates from {self.test.alpha_min:g} to "
            f"{self.test.alpha_max:g}, one per batch (about {format_duration(secs)}, plus a few "
            "seconds to compile the first time)…"
        )

    # -- the thread
    def _run(self) -> None:
        try:
            while (state := QUEUE.try_admit(self)) != ADMITTED:
                if state == DROPPED or self._stop.is_set() or self.gone():
                    self.phase = STOPPED
                    return
                self._stop.wait(SLOT_POLL_S)
            self.phase = LOADING
            data = dataset(self.test.data)
            self.phase, self.started = TRAINING, time.monotonic()
            t = self.test
            result = lr_find(
                t.entry,
                model=t.model,
                data=data,
                alpha_min=t.alpha_min,
                alpha_max=t.alpha_max,
                batch_size=t.batch_size,
                train_size=t.train_size,
                seed=t.seed,
            )
            RESULTS.put(t, result)
            self.result, self.phase = result, FINISHED
        except (DataUnavailable, ValueError) as e:
            self.error, self.phase = str(e), FAILED
        except Exception as e:  # shown on the page; the server must not lose the session
            self.error, self.phase = f"{type(e).__name__}: {e}", FAILED
        finally:
            QUEUE.release(self)
            self.finished = time.monotonic()


def start_job(
    test: RangeTest, alive: Callable[[], bool] | None = None, session: str | None = None
) -> RangeTestJob:
    """Run `test` through the admission queue (raises admission.Refused with a message)."""
    return RangeTestJob(test, alive, session).start()


# --- what the page says about a result -----------------------------------------------------------


def rounded(alpha: float) -> float:
    """α as the page names and applies it: 3 significant figures."""
    return float(f"{alpha:.3g}")


def applied_alpha(result: LRFindResult) -> float | None:
    """The value 'Use this α' writes into the optimizer's learning-rate widget."""
    return None if result.suggestion is None else rounded(result.suggestion)


def suggestion_sentence(result: LRFindResult) -> str:
    """One plain sentence: which α is suggested and why (a claim tests check against `result`)."""
    if result.suggestion is None or result.suggestion_index is None:
        return (
            f"No α is suggested: the test took only {len(result.alphas)} steps before the loss "
            "blew up, too few to tell where the loss falls fastest. Start the range lower or "
            "use more training images."
        )
    i, b = result.suggestion_index, result.best_index
    best = rounded(float(result.alphas[b]))
    text = (
        f"Suggested α = {applied_alpha(result):g}, because there the smoothed loss falls "
        "fastest as α grows (the steepest downhill stretch of the curve); "
        + (f"the loss is lowest later, at α = {best:g}" if b > i else f"the loss is lowest at α = {best:g}")
    )
    if result.blowup_index is not None:
        text += f", and it blows up from α = {rounded(float(result.alphas[result.blowup_index])):g}"
    return text + "."


def stop_sentence(result: LRFindResult) -> str:
    """Where and why the test ended."""
    n, planned = len(result.alphas), result.planned_steps
    if result.stopped_early:
        return (
            f"The test stopped after {n} of {planned} steps, at α = "
            f"{rounded(float(result.alphas[-1])):g}: the smoothed loss passed 4× its lowest value, "
            "and larger learning rates only diverge."
        )
    return f"The test ran all {planned} steps, up to α = {rounded(float(result.alphas[-1])):g}."
