"""The packages form layers and imports only point down:

    surfaces <- optim_core <- training <- viz <- playground <- app_pages (+ app.py)

Every import of every module (ast: top level, inside functions, under TYPE_CHECKING) is checked.
`streamlit` may only be imported by app.py and app_pages/. The allowed upward arrows are the two
thin command-line entry points the README documents: viz/__main__.py -> playground
(`python -m viz` runs playground.figures_cli) and training/__main__.py -> playground
(`python -m training` runs playground.training_cli).
"""

from __future__ import annotations

import ast
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
LAYERS = ["surfaces", "optim_core", "training", "viz", "playground", "app_pages"]
RANK = {name: i for i, name in enumerate(LAYERS)} | {"app": len(LAYERS) - 1}
STREAMLIT_LAYER = {"app_pages", "app"}
ALLOWED_UPWARD = {("viz/__main__.py", "playground"), ("training/__main__.py", "playground")}


def _modules() -> list[Path]:
    files = [ROOT / "app.py"]
    for package in LAYERS:
        files += sorted((ROOT / package).rglob("*.py"))
    return files


def _layer_of(path: Path) -> str:
    rel = path.relative_to(ROOT)
    return "app" if rel.parts == ("app.py",) else rel.parts[0]


def _imports(path: Path) -> list[tuple[int, str]]:
    """(line, top-level package) of every absolute import in the file."""
    tree = ast.parse(path.read_text(encoding="utf-8"), filename=str(path))
    found: list[tuple[int, str]] = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            found += [(node.lineno, alias.name.split(".")[0]) for alias in node.names]
        elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
            found.append((node.lineno, node.module.split(".")[0]))
        elif (
            isinstance(node, ast.Call)
            and isinstance(node.func, ast.Attribute)
            and node.func.attr == "import_module"
            and node.args
            and isinstance(node.args[0], ast.Constant)
            and isinstance(node.args[0].value, str)
        ):
            found.append((node.lineno, node.args[0].value.split(".")[0]))
    return found


def _violations() -> list[str]:
    bad = []
    for path in _modules():
        rel = path.relative_to(ROOT).as_posix()
        layer = _layer_of(path)
        for line, target in _imports(path):
            if target == "streamlit" and layer not in STREAMLIT_LAYER:
                bad.append(f"{rel}:{line} imports streamlit (only app.py and app_pages/ may)")
            if target in RANK and RANK[target] > RANK[layer] and (rel, target) not in ALLOWED_UPWARD:
                bad.append(f"{rel}:{line} imports {target} ({layer} is below {target})")
    return bad


def test_every_package_is_checked() -> None:
    for package in LAYERS:
        assert (ROOT / package / "__init__.py").is_file(), package
    assert len(_modules()) > 40


def test_imports_only_point_down_and_streamlit_stays_in_the_app_layer() -> None:
    bad = _violations()
    assert not bad, "imports against the layers:\n" + "\n".join(bad)


@pytest.mark.parametrize(
    ("source", "layer", "expected"),
    [
        ("import streamlit as st\n", "viz", "imports streamlit"),
        ("def f():\n    from streamlit.runtime import Runtime\n", "playground", "imports streamlit"),
        ("from playground.setup import Setup\n", "viz", "imports playground"),
        ("import app_pages.ui\n", "playground", "imports app_pages"),
        (
            "from typing import TYPE_CHECKING\nif TYPE_CHECKING:\n    from viz import figures\n",
            "training",
            "imports viz",
        ),
    ],
)
def test_the_check_catches_an_upward_or_streamlit_import(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, source: str, layer: str, expected: str
) -> None:
    fake_root = tmp_path
    (fake_root / layer).mkdir()
    module = fake_root / layer / "bad.py"
    module.write_text(source)
    this = sys.modules[__name__]
    monkeypatch.setattr(this, "ROOT", fake_root)
    monkeypatch.setattr(this, "_modules", lambda: [module])
    assert any(expected in v for v in _violations())


@pytest.mark.parametrize(("module", "target"), sorted(ALLOWED_UPWARD))
def test_each_allowed_upward_import_is_still_needed(module: str, target: str) -> None:
    """An entry point is allowed its upward import because it exists; drop the allowance with it."""
    assert any(t == target for _, t in _imports(ROOT / module))
