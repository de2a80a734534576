"""JAX settings that must be in place before the first compile.

Imported first by `optim_core` (and so by everything that trains or runs an optimizer).
"""

from __future__ import annotations

import os
from pathlib import Path

import jax


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


configure_compilation_cache()
