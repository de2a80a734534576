"""Start the app: `python -m app_pages.serve run app.py [streamlit options]`.

The same as `python -m streamlit run app.py ...` (every argument is passed to Streamlit's own
command line), with the first visitor's page made ready while the browser loads it (a warm-up
thread, `start_warm_up`), and two changes so that an over-long link is answered with the page
and a message instead of an HTTP error or silently ignored values:

1. **Request head size.** Streamlit 1.67 serves HTTP through uvicorn's h11 protocol, which
   answers "400 Invalid HTTP request received." when a request head arriving in pieces grows
   past 16 kB: a browser's GET of a link with a 100 kB `f=` got that error instead of the page.
   Here the limit is MAX_REQUEST_HEAD_BYTES (2.5 MB), above the longest URL Chromium sends
   (2 MB); it bounds the memory one unfinished request can hold.
2. **Dropped query strings are reported.** Streamlit ignores a query string of more than
   512 Ki characters or 1,000 fields (`sanitize_query_string`) and the page then showed its
   defaults without a word. Here such a query string becomes `DROPPED_LINK_PARAM=<fields>-<chars>`
   and app.py shows `dropped_link_message(...)` above the page (and removes the parameter).

Both patch Streamlit/uvicorn internals by name and check that the names exist: if a Streamlit
upgrade renames them, starting fails with a message instead of serving without the fixes.
"""

from __future__ import annotations

import functools
import hashlib
import os
import re
import shutil
import sys
import tempfile
import threading
import time
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

MAX_REQUEST_HEAD_BYTES = 2_560 * 1024  # 2.5 MiB; Chromium's longest URL is 2 MiB
DROPPED_LINK_PARAM = "link_dropped"
_DROPPED_VALUE = re.compile(r"(\d{1,9})-(\d{1,12})")


def streamlit_query_limits() -> tuple[int, int]:
    """(characters, fields): the longest query string Streamlit reads."""
    from streamlit.runtime.state import query_params

    return (
        query_params.CLIENT_STATE_QUERY_STRING_MAX_LENGTH,
        query_params.CLIENT_STATE_QUERY_STRING_MAX_FIELDS,
    )


def dropped_link_message(value: object) -> str:
    """What the page says about a link whose query string Streamlit dropped (plain text).

    `value` comes from the URL (anybody can type `?link_dropped=...`), so only its two numbers
    are used, and only when it has the exact form the server writes.
    """
    max_chars, max_fields = streamlit_query_limits()
    limits = f"the server reads at most {max_fields:,} fields and {max_chars:,} characters"
    match = _DROPPED_VALUE.fullmatch(value) if isinstance(value, str) else None
    if match is not None:
        fields, chars = int(match.group(1)), int(match.group(2))
        limits = f"{fields:,} fields, {chars:,} characters; {limits}"
    return (
        f"This link is too large to read ({limits}), so none of its values were used: "
        "the page shows its defaults."
    )


def _marking_sanitizer(original: Callable[[str], str]) -> Callable[[str], str]:
    def sanitize(query_string: str) -> str:
        kept = original(query_string)
        if query_string and not kept:
            fields = query_string.count("&") + 1
            return f"{DROPPED_LINK_PARAM}={fields}-{len(query_string)}"
        return kept

    sanitize.__wrapped__ = original  # type: ignore[attr-defined]
    return sanitize


def skip_direct_run_check() -> None:
    """Skip Streamlit's one-time check, at the process's first element, that the script was not
    started with plain `python` (it would then print how to start it). The check calls
    `inspect.stack()` in the script's thread, which resolves the real path of every loaded
    module's file: with JAX, pandas and Plotly loaded, ~1,800 modules and 0.1-0.4 s of the first
    page's script run. Under `streamlit run` (app.py, this module) the answer is known."""
    from streamlit import delta_generator

    if not hasattr(delta_generator, "_use_warning_has_been_displayed"):
        raise RuntimeError(
            "streamlit.delta_generator._use_warning_has_been_displayed is missing: this Streamlit "
            "version is not the one app_pages.serve was written for (1.67)"
        )
    delta_generator._use_warning_has_been_displayed = True


def install() -> None:
    """Apply both changes to this process (before the server starts). Idempotent."""
    from streamlit.runtime import app_session
    from streamlit.web.server.starlette import starlette_server

    skip_direct_run_check()

    for module, name in (
        (starlette_server, "_get_uvicorn_config_kwargs"),
        (app_session, "sanitize_query_string"),
    ):
        if not callable(getattr(module, name, None)):
            raise RuntimeError(
                f"{module.__name__}.{name} is missing: this Streamlit version is not "
                "the one app_pages.serve was written for (1.67)"
            )
    if getattr(app_session.sanitize_query_string, "__wrapped__", None) is None:
        # setattr: replacing a module's function is the point here (mypy types it as a def).
        setattr(  # noqa: B010
            app_session,
            "sanitize_query_string",
            _marking_sanitizer(app_session.sanitize_query_string),
        )

    kwargs_fn = starlette_server._get_uvicorn_config_kwargs
    if getattr(kwargs_fn, "__wrapped__", None) is None:

        def uvicorn_kwargs() -> dict[str, Any]:
            return {**kwargs_fn(), "http": "h11", "h11_max_incomplete_event_size": MAX_REQUEST_HEAD_BYTES}

        uvicorn_kwargs.__wrapped__ = kwargs_fn  # type: ignore[attr-defined]
        starlette_server._get_uvicorn_config_kwargs = uvicorn_kwargs


# Modules the pages import on their first run (some lazily, from inside Plotly): loaded by the
# warm-up thread before any script may run. Python's import locks let two threads that import
# the same modules in different orders see a half-initialized one ("partially initialized
# module 'pandas' has no attribute 'Series'", or a _DeadlockError): a class opening the link
# together used to get a few error pages from a fresh server.
PRELOADED_MODULES = (
    "pandas",
    "orjson",
    "PIL.Image",
    "plotly.graph_objects",
    "plotly.io",
    "optim_core",
    "playground.compute",
    "playground.setup",
    "playground.scrub",
    "playground.exports",
    "playground.lessons",
    "viz.contour",
    "viz.curves",
    "viz.internals",
    "viz.raster",
    "viz.scrub",
)
# The warm-up's milestones (None: no warm-up in this process, e.g. a bare `streamlit run`).
_modules_ready: threading.Event | None = None  # PRELOADED_MODULES loaded
_playground_ready: threading.Event | None = None  # the Playground's picture and map; its run started
_server_started = threading.Event()  # Streamlit's server answers (install_server_start_hook)
_page_served = threading.Event()  # a script run has ended (page_served)
SERVER_START_WAIT_S = 10.0  # the warm-up starts after the server, or after this long
HOME_WARM_UP_AFTER_S = 20.0  # the home demo is warmed after the first page, or after this long
HOME_WARM_UP_DELAY_S = 2.0  # ... and this long after the first page (the browser draws it)


def wait_for_modules(timeout: float = 300.0) -> None:
    """Block until the warm-up thread has loaded PRELOADED_MODULES (at once when no warm-up
    runs in this process: a bare `streamlit run`, or the tests)."""
    if _modules_ready is not None:
        _modules_ready.wait(timeout)


def wait_for_playground(timeout: float = 60.0) -> None:
    """Block until the warm-up thread has made the Playground's surface picture and map and
    started its default run (at once when no warm-up runs). The first Playground script then
    finds the picture and the map's click layer ready, and its run_setup waits for the
    warm-up's run (one computation per setup, playground.cache) instead of computing them a
    second time beside the warm-up (one GIL: both would only slow down). Its widgets are sent,
    and drawn by the browser, while that run finishes."""
    if _playground_ready is not None:
        _playground_ready.wait(timeout)


def page_served() -> None:
    """Called at the end of every script run (app.py): the warm-up's last part (the home demo)
    waits for the first one, so it does not compete with the first page."""
    _page_served.set()


def preload_modules() -> None:
    import importlib

    for name in PRELOADED_MODULES:
        importlib.import_module(name)
    import plotly.graph_objects as go

    go.Figure(go.Scatter(x=[0.0], y=[0.0])).to_dict()  # Plotly's own lazy imports (pandas checks)


def start_warm_up() -> threading.Thread:
    """Load the app's modules and compute its first views in the background while the browser
    loads the page (`playground.warmup`), in three steps the scripts wait for: PRELOADED_MODULES
    (every script, app.py), the Playground's picture and map (the Playground), its default run
    (through run_setup). The first visitor finds JAX imported, the programs loaded from the
    persistent cache (or compiled into it) and the Playground's first view in the in-process
    caches; the home demo follows once the first page has been served. It starts when the
    server answers: the browser then loads the page while JAX is imported (one GIL: started
    together, both finished late). A failure only costs the head start: the page computes as
    usual."""

    global _modules_ready, _playground_ready
    ready = _modules_ready = threading.Event()
    playground = _playground_ready = threading.Event()

    def warm() -> None:
        try:
            _server_started.wait(SERVER_START_WAIT_S)
            from optim_core import configure_jax

            configure_jax()  # the persistent compilation cache, before the first compile
            try:
                preload_modules()
            finally:
                ready.set()  # scripts wait for this (app.py), never longer
            from playground.warmup import warm_home, warm_playground

            try:
                seconds = warm_playground(run_starts=playground.set)
            finally:
                playground.set()
            print(f"  Warm-up: the Playground's first view ready in {seconds:.1f} s.", flush=True)
            if _page_served.wait(HOME_WARM_UP_AFTER_S):
                time.sleep(HOME_WARM_UP_DELAY_S)
            print(f"  Warm-up: the home page's demo ready in {warm_home():.1f} s.", flush=True)
        except Exception as exc:  # noqa: BLE001 - never take the server down
            ready.set()
            playground.set()
            print(f"  Warm-up skipped: {type(exc).__name__}: {exc}", flush=True)

    thread = threading.Thread(target=warm, name="playground-warm-up", daemon=True)
    thread.start()
    return thread


def install_server_start_hook() -> None:
    """Tell the warm-up when Streamlit's server has started (`bootstrap._on_server_start`, after
    which it answers). Without that function (another Streamlit version) the warm-up starts at
    once, as before. Idempotent."""
    from streamlit.web import bootstrap

    original = getattr(bootstrap, "_on_server_start", None)
    if not callable(original):
        _server_started.set()
        return
    if getattr(original, "__wrapped__", None) is not None:
        return

    def on_server_start(server: Any) -> None:
        try:
            original(server)
        finally:
            _server_started.set()

    on_server_start.__wrapped__ = original  # type: ignore[attr-defined]
    setattr(bootstrap, "_on_server_start", on_server_start)  # noqa: B010


# The browser loads Plotly's code (Streamlit's PlotlyChart chunk, 4.7 MB) only when the first
# chart arrives, then parses and runs it: ~1-1.5 s before a first page's first chart in headless
# Chromium. Here the page asks for it while the server still works on that first page: the
# index.html this server serves names it for preloading and imports it once the page has
# loaded and the browser is idle (install_plotly_preload); under a bare `streamlit run`,
# app.py's first element imports it (plotly_preload_element). Either way the browser then
# holds one copy of the module, the one Streamlit's own chart loads.
PLOTLY_CHUNK_GLOB = "PlotlyChart.*.js"
_INDEX_PRELOAD = (
    '<link rel="modulepreload" crossorigin href="./static/js/{chunk}" />\n'
    '    <script type="module">window.addEventListener("load", () => requestIdleCallback(() => '
    'import("./static/js/{chunk}").catch(() => undefined), {{ timeout: 3000 }}));</script>\n'
)
_ELEMENT_PRELOAD = '<script>import("./static/js/{chunk}").catch(() => undefined);</script>'
_index_preloads_plotly = False


def plotly_chunk(static_dir: str) -> str | None:
    """The file name of Streamlit's Plotly chunk in `static_dir` (None unless exactly one)."""
    chunks = sorted((Path(static_dir) / "static" / "js").glob(PLOTLY_CHUNK_GLOB))
    return chunks[0].name if len(chunks) == 1 else None


def plotly_preload_dir(static_dir: str, cache_root: Path | None = None) -> str | None:
    """A folder to serve Streamlit's static files from: links to every entry of `static_dir`
    but index.html, and that page with the preload of Plotly's chunk before `</head>`. One
    folder per content (reused by later starts and by replicas), under `cache_root` (default:
    ~/.cache/optimizer-playground). None, to serve `static_dir` as it is, when the chunk or the
    marker is not there exactly once or the folder cannot be written."""
    try:
        chunk = plotly_chunk(static_dir)
        index = (Path(static_dir) / "index.html").read_text(encoding="utf-8")
        if chunk is None or index.count("</head>") != 1:
            return None
        page = index.replace("</head>", _INDEX_PRELOAD.format(chunk=chunk) + "  </head>")
        root = (
            cache_root
            or Path(os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache") / "optimizer-playground"
        )
        digest = hashlib.sha256(f"{Path(static_dir).resolve()}\0{page}".encode()).hexdigest()[:16]
        target = root / f"static-{digest}"
        if (target / "index.html").is_file():
            return str(target)
        root.mkdir(parents=True, exist_ok=True)
        building = Path(tempfile.mkdtemp(prefix=f".static-{digest}-", dir=root))
        try:
            for entry in Path(static_dir).iterdir():
                if entry.name != "index.html":
                    (building / entry.name).symlink_to(entry.resolve())
            (building / "index.html").write_text(page, encoding="utf-8")
            building.rename(target)  # atomic: a replica starting beside this one sees all or nothing
        except OSError:
            shutil.rmtree(building, ignore_errors=True)  # links only: their targets stay
            if not (target / "index.html").is_file():  # not made by another process meanwhile
                raise
        return str(target)
    except OSError:
        return None


def install_plotly_preload() -> None:
    """Serve Streamlit's static files from plotly_preload_dir (when it can be made)."""
    global _index_preloads_plotly
    from streamlit import file_util

    original = getattr(file_util.get_static_dir, "__wrapped__", file_util.get_static_dir)
    folder = plotly_preload_dir(original())
    if folder is None:
        return

    def get_static_dir() -> str:
        return folder

    get_static_dir.__wrapped__ = original  # type: ignore[attr-defined]
    setattr(file_util, "get_static_dir", get_static_dir)  # noqa: B010
    _index_preloads_plotly = True


@functools.cache
def plotly_preload_element() -> str | None:
    """HTML (for `st.html(..., unsafe_allow_javascript=True)`) that imports Plotly's chunk, for
    a page this module's index.html does not preload it on (a bare `streamlit run`); else None.
    The browser runs it once per page load: the element is the same on every later run."""
    from streamlit import file_util

    if _index_preloads_plotly:
        return None
    chunk = plotly_chunk(file_util.get_static_dir())
    return None if chunk is None else _ELEMENT_PRELOAD.format(chunk=chunk)


# Streamlit watches the app's folder for edits by default: with .venv inside that is ~5,000
# folders to walk and watch when the first visitor connects (~0.5-1.4 s in which the server
# answers nobody). The lecture and container starts pass `--server.fileWatcherType none`; so
# does this start unless told otherwise (an option or STREAMLIT_SERVER_FILE_WATCHER_TYPE).
FILE_WATCHER_ENV = "STREAMLIT_SERVER_FILE_WATCHER_TYPE"


def main(argv: Sequence[str] | None = None) -> None:
    """`streamlit` with the changes installed; argv as for the `streamlit` command."""
    from streamlit.web import cli

    os.environ.setdefault(FILE_WATCHER_ENV, "none")
    install()
    install_plotly_preload()
    install_server_start_hook()
    start_warm_up()  # configures JAX first (app.py does too) once the server answers
    args = list(sys.argv[1:] if argv is None else argv)
    sys.argv = ["streamlit", *args]
    sys.exit(cli.main())


if __name__ == "__main__":
    # Run as the importable module, not as __main__: app.py reads this module's state
    # (`wait_for_modules`), and `python -m` would otherwise make a second copy of it.
    from app_pages import serve

    serve.main()
