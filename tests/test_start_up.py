"""The start-up path of app_pages.serve (what scripts/run_app.sh starts): Plotly's code loaded
by the page while the server works, the warm-up's gates, Streamlit's direct-run check skipped.
The browser side is tests/e2e/test_start_up_e2e.py; timings are bench/bench_app.py (b)."""

from __future__ import annotations

import os
import sys
from pathlib import Path

import pytest
from streamlit import delta_generator, file_util

from app_pages import serve


def fake_static(root: Path, chunks: tuple[str, ...] = ("PlotlyChart.abc123.js",)) -> Path:
    static = root / "static_src"
    (static / "static" / "js").mkdir(parents=True)
    for name in chunks:
        (static / "static" / "js" / name).write_text("export default 1;\n")
    (static / "favicon.png").write_bytes(b"png")
    (static / "index.html").write_text("<html>\n  <head>\n    <title>x</title>\n  </head>\n</html>\n")
    return static


def test_the_served_page_preloads_plotly_and_links_everything_else(tmp_path: Path) -> None:
    static = fake_static(tmp_path)
    folder = serve.plotly_preload_dir(str(static), cache_root=tmp_path / "cache")
    assert folder is not None
    served = Path(folder)
    assert sorted(p.name for p in served.iterdir()) == ["favicon.png", "index.html", "static"]
    assert (served / "static").is_symlink() and (served / "static").resolve() == (static / "static").resolve()
    assert (served / "favicon.png").read_bytes() == b"png"
    page = (served / "index.html").read_text()
    head = page[: page.index("</head>")]
    assert '<link rel="modulepreload" crossorigin href="./static/js/PlotlyChart.abc123.js" />' in head
    assert 'import("./static/js/PlotlyChart.abc123.js")' in head
    assert "<title>x</title>" in head
    # The original is untouched, a second start reuses the folder, and no half-built one is left.
    assert "PlotlyChart" not in (static / "index.html").read_text()
    assert serve.plotly_preload_dir(str(static), cache_root=tmp_path / "cache") == folder
    assert [p.name for p in (tmp_path / "cache").iterdir()] == [served.name]


@pytest.mark.parametrize("chunks", [(), ("PlotlyChart.a.js", "PlotlyChart.b.js")])
def test_no_preload_unless_exactly_one_plotly_chunk(tmp_path: Path, chunks: tuple[str, ...]) -> None:
    static = fake_static(tmp_path, chunks)
    assert serve.plotly_preload_dir(str(static), cache_root=tmp_path / "cache") is None
    assert serve.plotly_chunk(str(static)) is None


def test_no_preload_where_the_cache_folder_cannot_be_written(tmp_path: Path) -> None:
    static = fake_static(tmp_path)
    blocked = tmp_path / "file"
    blocked.write_text("not a folder")
    assert serve.plotly_preload_dir(str(static), cache_root=blocked / "cache") is None


def test_install_serves_the_preloading_folder_and_the_element_is_then_not_needed(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path))
    monkeypatch.setattr(serve, "_index_preloads_plotly", False)
    chunk = serve.plotly_chunk(file_util.get_static_dir())
    assert chunk is not None and chunk.startswith("PlotlyChart.")  # Streamlit's own chunk
    serve.plotly_preload_element.cache_clear()
    element = serve.plotly_preload_element()
    assert element == f'<script>import("./static/js/{chunk}").catch(() => undefined);</script>'

    monkeypatch.setattr(file_util, "get_static_dir", file_util.get_static_dir)  # restored after
    serve.install_plotly_preload()
    served = Path(file_util.get_static_dir())
    assert served.parent == tmp_path / "optimizer-playground"
    assert f"./static/js/{chunk}" in (served / "index.html").read_text()
    serve.plotly_preload_element.cache_clear()
    assert serve.plotly_preload_element() is None
    serve.plotly_preload_element.cache_clear()


def test_without_a_warm_up_nothing_waits() -> None:
    # A bare `streamlit run` or AppTest: no warm-up thread, so the gates are open.
    assert serve._modules_ready is None and serve._playground_ready is None
    serve.wait_for_modules(timeout=0.0)
    serve.wait_for_playground(timeout=0.0)


def test_streamlits_direct_run_check_is_skipped(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(delta_generator, "_use_warning_has_been_displayed", False)
    serve.skip_direct_run_check()
    assert delta_generator._use_warning_has_been_displayed is True


def test_serve_runs_without_the_file_watcher_unless_told(monkeypatch: pytest.MonkeyPatch) -> None:
    from streamlit.web import cli

    seen: list[str | None] = []
    monkeypatch.setattr(serve, "install", lambda: None)
    monkeypatch.setattr(serve, "install_plotly_preload", lambda: None)
    monkeypatch.setattr(serve, "install_server_start_hook", lambda: None)
    monkeypatch.setattr(serve, "start_warm_up", lambda: None)
    monkeypatch.setattr(cli, "main", lambda: seen.append(os.environ.get(serve.FILE_WATCHER_ENV)))
    monkeypatch.setattr(sys, "argv", list(sys.argv))
    monkeypatch.setenv(serve.FILE_WATCHER_ENV, "")  # restored (to unset) after the test
    monkeypatch.delenv(serve.FILE_WATCHER_ENV)
    with pytest.raises(SystemExit):
        serve.main(["run", "app.py"])
    monkeypatch.setenv(serve.FILE_WATCHER_ENV, "auto")
    with pytest.raises(SystemExit):
        serve.main(["run", "app.py"])
    assert seen == ["none", "auto"]
