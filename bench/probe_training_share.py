"""In one process, how much do MNIST trainings slow the Playground's engine runs?

    nice -n 10 .venv/bin/python bench/probe_training_share.py [--jobs 0,1,2] [--seconds 20]
        [--train-threads N] [--nice 0]

A Playground rerun's JAX part (playground.compute.run_setup of the default setup with a new
noise σ each time: a cache miss, one batched engine run) is timed back to back for `--seconds`
while 0, 1, 2, ... CNN trainings (playground.mnist_jobs.TrainingJob, the page's path, queue
capacity = the number of jobs) run in their threads. Prints p50/p95/max per job count, the
trainings' progress in that time, the CPU of the process per thread group (from
/proc/self/task), and the load average. No server, no network; bounded by --seconds per count.
"""

from __future__ import annotations

import argparse
import os
import sys
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))


def thread_cpu() -> dict[str, float]:
    """CPU seconds per thread name (digits stripped, so pools group together)."""
    out: dict[str, float] = {}
    tick = os.sysconf("SC_CLK_TCK")
    for task in Path("/proc/self/task").iterdir():
        try:
            name = (task / "comm").read_text().strip()
            fields = (task / "stat").read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        key = name.rstrip("0123456789-_")
        out[key] = out.get(key, 0.0) + (int(fields[11]) + int(fields[12])) / tick
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--jobs", default="0,1,2")
    parser.add_argument("--seconds", type=float, default=20.0)
    parser.add_argument("--nice", type=int, default=0, help="niceness for the training threads")
    args = parser.parse_args()

    from playground import compute
    from playground import mnist_jobs as mj
    from playground.admission import AdmissionQueue
    from playground.mnist_setup import MnistSetup
    from playground.setup import Setup

    load = lambda: ", ".join(f"{x:.1f}" for x in os.getloadavg())  # noqa: E731
    print(f"load average before: {load()} ({os.cpu_count()} cores)")
    base = Setup()
    compute.run_setup(base.with_changes(noise=0.5))  # compile
    train_setup = MnistSetup(model="cnn", train_size=8000, epochs=20)
    noise = iter(np.linspace(0.01, 1.0, 100_000))
    for n_jobs in (int(x) for x in args.jobs.split(",")):
        mj.QUEUE = AdmissionQueue(max(n_jobs, 1), memory=lambda: None)
        jobs = [mj.TrainingJob(train_setup.with_changes(seed=i)).start() for i in range(n_jobs)]
        while jobs and not all(j.phase == mj.TRAINING for j in jobs):  # past compile
            time.sleep(0.1)
        for j in jobs:
            if args.nice and j._thread.native_id is not None:
                os.setpriority(os.PRIO_PROCESS, j._thread.native_id, args.nice)
        time.sleep(1.0)
        cpu0, t0, done0 = thread_cpu(), time.perf_counter(), [j.done for j in jobs]
        lat = []
        while time.perf_counter() - t0 < args.seconds:
            s = time.perf_counter()
            compute.run_setup(base.with_changes(noise=round(float(next(noise)), 6)))
            lat.append(time.perf_counter() - s)
            time.sleep(0.02)
        wall = time.perf_counter() - t0
        after = thread_cpu()
        cpu = {k: v - cpu0.get(k, 0.0) for k, v in after.items()}
        progress = [j.done - d for j, d in zip(jobs, done0, strict=True)]
        for j in jobs:
            j.request_stop()
        for j in jobs:
            j.wait(60)
        ms = np.array(lat) * 1000
        print(
            f"{n_jobs} trainings: {len(lat)} engine runs, p50 {np.percentile(ms, 50):.0f} ms, "
            f"p95 {np.percentile(ms, 95):.0f} ms, max {ms.max():.0f} ms; batches trained "
            f"{progress}; load average {load()}"
        )
        busy = {
            k: round(v / wall, 2) for k, v in sorted(cpu.items(), key=lambda kv: -kv[1]) if v / wall >= 0.02
        }
        print(f"   cores busy per thread group: {busy}")


if __name__ == "__main__":
    main()
