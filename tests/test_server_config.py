"""Server settings that bound what one visitor can make the server hold or show.

.streamlit/config.toml (upload cap, error details), JAX's persistent cache limit, and the start
wrapper app_pages.serve (request head size, dropped query strings). The browser side of these
is in tests/e2e/test_long_links_and_uploads.py.
"""

from __future__ import annotations

import json
import os
import pathlib
import re
import subprocess
import sys
import tomllib

import pytest

from app_pages import serve
from playground.setup import MAX_UPLOAD_BYTES

ROOT = pathlib.Path(__file__).resolve().parents[1]
CONFIG = ROOT / ".streamlit" / "config.toml"


def _config() -> dict:
    with CONFIG.open("rb") as handle:
        return tomllib.load(handle)


def test_upload_cap_is_the_smallest_streamlit_allows_and_covers_the_app_cap():
    size = _config()["server"]["maxUploadSize"]
    assert isinstance(size, int) and not isinstance(size, bool)  # Streamlit's unit: whole MB
    assert size == 1
    assert MAX_UPLOAD_BYTES <= size * 1024 * 1024  # the app's own 200 kB cap fits under it


def test_error_details_show_no_message_traceback_or_path():
    assert _config()["client"]["showErrorDetails"] in ("type", "none")


def test_streamlit_reads_these_values_from_the_file(tmp_path):
    # Streamlit's own parser, in a fresh process started in the project folder, as the server is.
    code = (
        "from streamlit import config; import json; print(json.dumps(["
        "config.get_option('server.maxUploadSize'), config.get_option('client.showErrorDetails')]))"
    )
    out = subprocess.run(
        [sys.executable, "-c", code],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=120,
        env={**os.environ, "HOME": str(tmp_path)},
    )
    assert out.returncode == 0, out.stderr
    assert json.loads(out.stdout.strip().splitlines()[-1]) == [1, "type"]


# --- JAX's persistent compilation cache -------------------------------------------------------

_JAX_SETTINGS = (
    "import optim_core, jax, json; optim_core.configure_jax(); print(json.dumps(["
    "jax.config.jax_compilation_cache_dir, jax.config.jax_compilation_cache_max_size]))"
)


def _jax_settings(env: dict[str, str]) -> list:
    out = subprocess.run(
        [sys.executable, "-c", _JAX_SETTINGS],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=300,
        env={**os.environ, **env},
    )
    assert out.returncode == 0, out.stderr
    return json.loads(out.stdout.strip().splitlines()[-1])


def test_the_persistent_jax_cache_has_a_size_limit(tmp_path):
    from optim_core._jax_config import CACHE_MAX_BYTES

    assert CACHE_MAX_BYTES == 512 * 1024 * 1024
    assert _jax_settings({"OPTIM_PLAYGROUND_JAX_CACHE": str(tmp_path)}) == [str(tmp_path), CACHE_MAX_BYTES]
    assert (
        _jax_settings(
            {"OPTIM_PLAYGROUND_JAX_CACHE": str(tmp_path), "OPTIM_PLAYGROUND_JAX_CACHE_MAX_MB": "64"}
        )[1]
        == 64 * 2**20
    )
    # A bad override falls back to the default limit, never to "unlimited" (-1).
    assert (
        _jax_settings(
            {"OPTIM_PLAYGROUND_JAX_CACHE": str(tmp_path), "OPTIM_PLAYGROUND_JAX_CACHE_MAX_MB": "-1"}
        )[1]
        == CACHE_MAX_BYTES
    )


def test_the_app_configures_the_limit_before_its_first_compile(tmp_path):
    code = (
        "from streamlit.testing.v1 import AppTest\nimport jax, json\n"
        "at = AppTest.from_file('app.py', default_timeout=300).run()\n"
        "assert not at.exception, [e.value for e in at.exception]\n"
        "print(json.dumps([jax.config.jax_compilation_cache_dir,"
        " jax.config.jax_compilation_cache_max_size]))\n"
    )
    out = subprocess.run(
        [sys.executable, "-c", code],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=600,
        env={**os.environ, "OPTIM_PLAYGROUND_JAX_CACHE": str(tmp_path)},
    )
    assert out.returncode == 0, out.stderr[-3000:]
    from optim_core._jax_config import CACHE_MAX_BYTES

    assert json.loads(out.stdout.strip().splitlines()[-1]) == [str(tmp_path), CACHE_MAX_BYTES]
    assert any(p.name.endswith("-cache") for p in tmp_path.iterdir())  # the home page's programs


def test_the_persistent_jax_cache_stays_under_its_limit(tmp_path):
    # Programs of the engine are about 250 kB: ten surfaces' programs need more than 1 MB.
    code = (
        "import optim_core\noptim_core.configure_jax()\nfrom optim_core import run\n"
        "from surfaces import from_expression\n"
        "for k in range(10):\n"
        "    run(from_expression(f'(x - {k / 10})**2 + 3*y**2'), 'adam', steps=50)\n"
    )
    cache = tmp_path / "jax"
    out = subprocess.run(
        [sys.executable, "-c", code],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=600,
        env={
            **os.environ,
            "OPTIM_PLAYGROUND_JAX_CACHE": str(cache),
            "OPTIM_PLAYGROUND_JAX_CACHE_MAX_MB": "1",
        },
    )
    assert out.returncode == 0, out.stderr
    entries = [p for p in cache.iterdir() if p.name.endswith("-cache")]
    assert len(entries) >= 1
    assert sum(p.stat().st_size for p in entries) <= 1024 * 1024
    assert any(p.name.startswith("jit__simulate_groups") for p in entries)


def test_entries_written_without_the_limit_do_not_break_the_cache(tmp_path):
    # An entry from before the limit (no "-atime" file beside it) made every later write fail.
    cache = tmp_path / "jax"
    cache.mkdir()
    (cache / "jit_old-0123-cache").write_bytes(b"x" * 1000)
    code = (
        "import optim_core\noptim_core.configure_jax()\nfrom optim_core import run\n"
        "from surfaces import from_expression\n"
        "run(from_expression('(x - 0.3)**2 + 3*y**2'), 'adam', steps=50)\n"
    )
    out = subprocess.run(
        [sys.executable, "-W", "always", "-c", code],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=600,
        env={**os.environ, "OPTIM_PLAYGROUND_JAX_CACHE": str(cache)},
    )
    assert out.returncode == 0, out.stderr
    assert "Error writing persistent compilation cache entry" not in out.stderr, out.stderr[-2000:]
    assert (cache / "jit_old-0123-atime").exists()
    written = [p for p in cache.iterdir() if p.name.startswith("jit__simulate_groups")]
    assert {p.name.rsplit("-", 1)[1] for p in written} == {"cache", "atime"}


# --- app_pages.serve -------------------------------------------------------------------------


@pytest.fixture(scope="module")
def installed() -> None:
    serve.install()
    serve.install()  # idempotent: wrapping twice would not change anything


def test_serve_raises_the_request_head_limit(installed):
    from streamlit.web.server.starlette import starlette_server

    kwargs = starlette_server._get_uvicorn_config_kwargs()
    assert kwargs["http"] == "h11"
    assert kwargs["h11_max_incomplete_event_size"] == serve.MAX_REQUEST_HEAD_BYTES
    assert serve.MAX_REQUEST_HEAD_BYTES > 2 * 1024 * 1024  # Chromium's longest URL fits
    assert "ws_max_size" in kwargs  # Streamlit's own settings are kept


def test_serve_marks_query_strings_streamlit_drops(installed):
    from streamlit.runtime import app_session

    sanitize = app_session.sanitize_query_string
    max_chars, max_fields = serve.streamlit_query_limits()
    assert (max_chars, max_fields) == (512 * 1024, 1000)
    ok = "&".join(f"k{i}=1" for i in range(max_fields))
    assert sanitize(ok) == ok
    assert sanitize("") == ""
    many = ok + "&one=more"
    assert sanitize(many) == f"link_dropped={max_fields + 1}-{len(many)}"
    long = "f=" + "x" * max_chars
    assert sanitize(long) == f"link_dropped=1-{len(long)}"


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        (
            "1001-6907",
            "(1,001 fields, 6,907 characters; the server reads at most 1,000 fields and 524,288 characters)",
        ),
        ("**ZZ**", "(the server reads at most 1,000 fields"),
        ("1-2-3", "(the server reads at most 1,000 fields"),
        (None, "(the server reads at most 1,000 fields"),
    ],
)
def test_dropped_link_message_uses_only_the_numbers(value, expected):
    message = serve.dropped_link_message(value)
    assert message.startswith("This link is too large to read ")
    assert expected in message
    assert "ZZ" not in message and "*" not in message


def test_the_app_says_when_a_link_was_dropped():
    sys.path.insert(0, str(ROOT / "tests" / "app"))
    from app_helpers import assert_clean, open_page

    at = open_page("app_pages/lessons.py", {serve.DROPPED_LINK_PARAM: "1001-6907"})
    assert_clean(at)
    warnings = [w.value for w in at.warning]
    assert any("This link is too large to read (1,001 fields" in w for w in warnings), warnings
    assert serve.DROPPED_LINK_PARAM not in at.query_params
    at.run()  # still on the same page: the message stays
    assert any("too large to read" in w.value for w in at.warning)


def test_the_start_scripts_use_the_wrapper():
    assert "-m app_pages.serve run app.py" in (ROOT / "scripts" / "run_app.sh").read_text()
    conftest = re.sub(r"\s+", " ", (ROOT / "tests" / "e2e" / "conftest.py").read_text())
    assert '"-m", "app_pages.serve", "run", "app.py",' in conftest
