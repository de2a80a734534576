"""XLA settings that must be in place before JAX starts its CPU backend."""

from __future__ import annotations

import os

# XLA:CPU's thunk runtime pays a fixed cost per operation; our scans run thousands of tiny
# 2D steps, which run 2-3x faster on the classic runtime (bench/bench_core.py measures it).
CLASSIC_RUNTIME = "--xla_cpu_use_thunk_runtime=false"


def configure() -> None:
    flags = os.environ.get("XLA_FLAGS", "")
    if "xla_cpu_use_thunk_runtime" not in flags and os.environ.get("OPTIM_PLAYGROUND_THUNK") != "1":
        os.environ["XLA_FLAGS"] = f"{flags} {CLASSIC_RUNTIME}".strip()
        # XLA logs a deprecation notice for this flag on every start; keep stderr for real errors.
        os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")


configure()
