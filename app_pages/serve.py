"""Start the app: `python -m app_pages.serve run app.py [streamlit options]`.

The same as `python -m streamlit run app.py ...` (every argument is passed to Streamlit's own
command line), with two changes so that an over-long link is answered with the page and a
message instead of an HTTP error or silently ignored values:

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

import re
import sys
import threading
from collections.abc import Callable, Sequence
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
_modules_ready: threading.Event | None = None


def wait_for_modules(timeout: float = 300.0) -> None:
    """Block until the warm-up thread has loaded PRELOADED_MODULES (at once when no warm-up
    runs in this process: a bare `streamlit run`, or the tests)."""
    if _modules_ready is not None:
        _modules_ready.wait(timeout)


def preload_modules() -> None:
    import importlib

    for name in PRELOADED_MODULES:
        importlib.import_module(name)
    import plotly.graph_objects as go

    go.Figure(go.Scatter(x=[0.0], y=[0.0])).to_dict()  # Plotly's own lazy imports (pandas checks)


def start_warm_up() -> threading.Thread:
    """Load the app's modules and run its default views in the background while the server
    starts (`playground.warmup`): the first visitor finds JAX imported, the programs loaded from
    the persistent cache (or compiled into it) and the default runs and surface picture in the
    in-process caches. A failure only costs the head start: the page computes as usual."""

    global _modules_ready
    ready = _modules_ready = threading.Event()

    def warm() -> None:
        try:
            from optim_core import configure_jax

            configure_jax()  # the persistent compilation cache, before the first compile
            try:
                preload_modules()
            finally:
                ready.set()  # scripts wait for this (app.py), never longer
            from playground.warmup import warm_up

            seconds = warm_up()
            print(f"  Warm-up: default views ready in {seconds:.1f} s.", flush=True)
        except Exception as exc:  # noqa: BLE001 - never take the server down
            ready.set()
            print(f"  Warm-up skipped: {type(exc).__name__}: {exc}", flush=True)

    thread = threading.Thread(target=warm, name="playground-warm-up", daemon=True)
    thread.start()
    return thread


def main(argv: Sequence[str] | None = None) -> None:
    """`streamlit` with the changes installed; argv as for the `streamlit` command."""
    from streamlit.web import cli

    install()
    start_warm_up()  # configures JAX first (app.py does too): the server starts meanwhile
    args = list(sys.argv[1:] if argv is None else argv)
    sys.argv = ["streamlit", *args]
    sys.exit(cli.main())


if __name__ == "__main__":
    # Run as the importable module, not as __main__: app.py reads this module's state
    # (`wait_for_modules`), and `python -m` would otherwise make a second copy of it.
    from app_pages import serve

    serve.main()
