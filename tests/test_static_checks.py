"""The habits that keep the code as it is: formatted, lint-clean and type-checked.

They run inside the test command (as tests, so they share its two workers); each fails with
the tool's own report.
"""

from __future__ import annotations

import pathlib
import subprocess
import sys

import pytest

ROOT = pathlib.Path(__file__).resolve().parents[1]
BIN = pathlib.Path(sys.executable).parent


def _run(*command: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(command, cwd=ROOT, capture_output=True, text=True, timeout=600)


@pytest.mark.parametrize(
    "command",
    [
        ("ruff", "format", "--check", "."),
        ("ruff", "check", "."),
    ],
)
def test_ruff(command: tuple[str, ...]) -> None:
    result = _run(str(BIN / command[0]), *command[1:])
    assert result.returncode == 0, result.stdout[-4000:] + result.stderr[-2000:]


def test_mypy_finds_no_errors() -> None:
    """mypy over every package, the pages and the benchmarks (configured in pyproject.toml)."""
    result = _run(str(BIN / "mypy"))
    assert result.returncode == 0, result.stdout[-6000:] + result.stderr[-2000:]
    assert "no issues found" in result.stdout, result.stdout[-2000:]
