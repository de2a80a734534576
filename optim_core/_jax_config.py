"""JAX and XLA settings that must be in place before the first compile.

Imported first by `optim_core` (and so by everything that trains or runs an optimizer).
"""

from __future__ import annotations

import os
from pathlib import Path

import jax

# XLA:CPU's thunk runtime pays a fixed cost per operation; our scans run thousands of tiny
# 2D steps (bench/bench_core.py measures both runtimes). OPTIM_PLAYGROUND_THUNK=1 keeps it.
CLASSIC_RUNTIME = "--xla_cpu_use_thunk_runtime=false"


def configure_xla_flags() -> None:
    flags = os.environ.get("XLA_FLAGS", "")
    if "xla_cpu_use_thunk_runtime" not in flags and os.environ.get("OPTIM_PLAYGROUND_THUNK") != "1":
        os.environ["XLA_FLAGS"] = f"{flags} {CLASSIC_RUNTIME}".strip()
        # XLA logs a deprecation notice for this flag on every start; keep stderr for real errors.
        os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")


def configure_compilation_cache() -> None:
    """Persist compiled programs across processes (app restarts, CLI runs, test sessions).

    `$OPTIM_PLAYGROUND_JAX_CACHE` names the folder; "off" disables it. Our programs compile in
    well under JAX's default 1 s threshold, so every one is stored.
    """
    cache_dir = os.environ.get(
        "OPTIM_PLAYGROUND_JAX_CACHE", str(Path.home() / ".cache" / "optimizer-playground" / "jax"))
    if cache_dir in ("", "0", "off"):
        return
    jax.config.update("jax_compilation_cache_dir", cache_dir)
    jax.config.update("jax_persistent_cache_min_compile_time_secs", 0.0)
    jax.config.update("jax_persistent_cache_min_entry_size_bytes", 0)


configure_xla_flags()
configure_compilation_cache()
