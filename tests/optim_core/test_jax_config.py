"""JAX is configured by the entry points (optim_core.configure_jax), never by an import."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]

_SCRIPT = """
import json, warnings
import jax
import optim_core, surfaces, training
from optim_core import configure_jax
out = {"after_import": jax.config.jax_compilation_cache_dir}
configure_jax()
out["after_call"] = jax.config.jax_compilation_cache_dir
jax.config.update("jax_compilation_cache_dir", None)
configure_jax()  # idempotent: a second call changes nothing
out["after_second_call"] = jax.config.jax_compilation_cache_dir
print(json.dumps(out))
"""

_LATE = """
import warnings
import jax, jax.numpy as jnp
jax.jit(lambda x: x + 1)(jnp.zeros(2)).block_until_ready()
from optim_core import configure_jax
with warnings.catch_warnings(record=True) as caught:
    warnings.simplefilter("always")
    configure_jax()
print([str(w.message) for w in caught])
"""


def _run(code: str, cache: Path) -> str:
    out = subprocess.run(
        [sys.executable, "-c", code],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=300,
        env={**os.environ, "OPTIM_PLAYGROUND_JAX_CACHE": str(cache)},
    )
    assert out.returncode == 0, out.stderr
    return out.stdout.strip().splitlines()[-1]


def test_imports_leave_jax_alone_and_configure_jax_is_idempotent(tmp_path: Path) -> None:
    seen = json.loads(_run(_SCRIPT, tmp_path))
    assert seen == {"after_import": None, "after_call": str(tmp_path), "after_second_call": None}


def test_configuring_after_the_first_compile_warns(tmp_path: Path) -> None:
    assert "after JAX's first compile" in _run(_LATE, tmp_path)
