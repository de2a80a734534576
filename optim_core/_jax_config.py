"""JAX settings that must be in place before the first compile: `configure_jax()`.

Importing optim_core changes nothing in JAX. Each entry point calls `optim_core.configure_jax()`
once, before its first computation: app.py, `python -m playground.warmup`, `python -m viz`,
`python -m training`, the bench scripts and the tests' conftest.py. A program compiled before
the call is simply not stored in the persistent cache.
"""

from __future__ import annotations

import importlib.util
import os
import threading
import warnings
from pathlib import Path

import jax

# The persistent cache's size limit: JAX deletes the least recently used programs beyond it.
# All the app's default views take about 15 MB; MNIST training adds a few MB per model.
# `$OPTIM_PLAYGROUND_JAX_CACHE_MAX_MB` (a whole number of MB, at least 1) overrides it.
CACHE_MAX_BYTES = 512 * 1024 * 1024


def cache_max_bytes() -> int:
    """CACHE_MAX_BYTES, or `$OPTIM_PLAYGROUND_JAX_CACHE_MAX_MB` when that is a valid number."""
    raw = os.environ.get("OPTIM_PLAYGROUND_JAX_CACHE_MAX_MB", "").strip()
    if not raw:
        return CACHE_MAX_BYTES
    if not raw.isdigit() or not 1 <= int(raw) <= 1024 * 1024:
        warnings.warn(
            f"OPTIM_PLAYGROUND_JAX_CACHE_MAX_MB={raw[:40]!r} is not a whole number of MB "
            f"in [1, 1048576]; using {CACHE_MAX_BYTES // 2**20}",
            RuntimeWarning,
            stacklevel=2,
        )
        return CACHE_MAX_BYTES
    return int(raw) * 1024 * 1024


def _adopt_unbounded_entries(cache_dir: Path) -> None:
    """Give entries written without a size limit the access-time file the limit needs.

    With a size limit JAX keeps `<key>-atime` beside each `<key>-cache` and, before every write,
    reads the access time of every entry; one entry without it (written by an earlier version
    of the app, or any process without the limit) makes every write fail ("Error writing
    persistent compilation cache entry"). Such entries get their file's modification time,
    under the lock JAX itself uses.
    """
    if not cache_dir.is_dir():
        return
    import filelock

    try:
        with filelock.FileLock(cache_dir / ".lockfile", timeout=10):
            for entry in cache_dir.glob("*-cache"):
                atime = cache_dir / (entry.name.removesuffix("-cache") + "-atime")
                if not atime.exists():
                    try:
                        atime.write_bytes(entry.stat().st_mtime_ns.to_bytes(8, "little"))
                    except FileNotFoundError:  # removed meanwhile by another process
                        continue
    except (OSError, filelock.Timeout) as err:
        warnings.warn(
            f"could not prepare JAX's compilation cache in {cache_dir}: {err}", RuntimeWarning, stacklevel=2
        )


def configure_compilation_cache() -> None:
    """Persist compiled programs across processes (app restarts, CLI runs, test sessions).

    `$OPTIM_PLAYGROUND_JAX_CACHE` names the folder; "off" disables it. Our programs compile in
    well under JAX's default 1 s threshold, so every one is stored. The folder is bounded to
    cache_max_bytes() (`jax_compilation_cache_max_size`, least recently used entries evicted;
    JAX needs the `filelock` package for that, and without it the cache stays off rather than
    growing without a limit).
    """
    cache_dir = os.environ.get(
        "OPTIM_PLAYGROUND_JAX_CACHE", str(Path.home() / ".cache" / "optimizer-playground" / "jax")
    )
    if cache_dir in ("", "0", "off"):
        return
    if importlib.util.find_spec("filelock") is None:
        warnings.warn(
            "the 'filelock' package is missing: JAX's persistent compilation cache "
            "stays off (it could not be size-limited)",
            RuntimeWarning,
            stacklevel=2,
        )
        return
    _adopt_unbounded_entries(Path(cache_dir))
    jax.config.update("jax_compilation_cache_dir", cache_dir)
    jax.config.update("jax_compilation_cache_max_size", cache_max_bytes())
    jax.config.update("jax_persistent_cache_min_compile_time_secs", 0.0)
    jax.config.update("jax_persistent_cache_min_entry_size_bytes", 0)


_configured = False
_lock = threading.Lock()


def configure_jax() -> None:
    """Apply the project's JAX settings (today: the persistent compilation cache).

    Idempotent: the first call configures, later calls do nothing (the environment is read
    once). Call it at an entry point, before the first compile.
    """
    global _configured
    with _lock:
        if _configured:
            return
        if _compiled_already():
            warnings.warn(
                "optim_core.configure_jax() called after JAX's first compile: the "
                "persistent compilation cache stays off in this process (call it at "
                "the entry point, before anything runs)",
                RuntimeWarning,
                stacklevel=2,
            )
        configure_compilation_cache()
        _configured = True


def _compiled_already() -> bool:
    """Whether JAX has compiled something (it decides once, at the first compile, whether the
    persistent cache is used). A private flag of JAX: False if it is not there."""
    try:
        from jax._src import compilation_cache
    except ImportError:  # pragma: no cover - a JAX without this module
        return False
    return bool(getattr(compilation_cache, "_cache_checked", False))


def is_configured() -> bool:
    """Whether configure_jax() has run in this process."""
    return _configured
