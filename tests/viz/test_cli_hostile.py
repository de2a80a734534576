"""`python -m viz` against a hostile command line: every cap of the CLI is crossed here.

All in-process (cli.main(argv)); no browser: where an image is needed the renderer is replaced
by one that returns what a failed Chromium render returns (a few bytes that are no image).
"""

from __future__ import annotations

import json
import os
import stat
import tracemalloc
from pathlib import Path

import pytest

from playground import figures_cli as cli
from playground.setup import MAX_UPLOAD_BYTES
from viz import export as E

STEPS = 20
LINK = f"http://localhost:8501/playground?s=rosenbrock&o=adam&o=sgd&steps={STEPS}"
FLAGS = ["--surface", "rosenbrock", "--optimizers", "adam,sgd", "--steps", str(STEPS)]


def run_cli(capsys: pytest.CaptureFixture[str], *argv: object) -> tuple[int, str, str]:
    code = cli.main([str(a) for a in argv])
    out, err = capsys.readouterr()
    return code, out, err


def clean(err: str) -> None:
    assert "Traceback" not in err


def no_temp_files(folder: Path) -> bool:
    return not [p for p in folder.iterdir() if p.name.endswith(".tmp")]


# --- inputs: size caps before parsing ---------------------------------------------------------


def test_setup_from_dev_zero_fails_at_once_with_bounded_memory(tmp_path, capsys):
    tracemalloc.start()
    code, _, err = run_cli(capsys, "--setup", "/dev/zero", "--out", tmp_path / "out")
    _, peak = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    assert code == 2 and "larger than 200 kB" in err
    clean(err)
    assert peak < 4 << 20  # one read of cap + 1 bytes, not the 3 GB it used to grow to
    assert not (tmp_path / "out").exists()


def test_setup_file_cap_is_exact(tmp_path):
    body = json.dumps({"surface": "booth", "steps": 40})
    at_cap = tmp_path / "at-cap.json"
    at_cap.write_text(body + " " * (MAX_UPLOAD_BYTES - len(body)))
    assert at_cap.stat().st_size == MAX_UPLOAD_BYTES
    setup, warnings = cli.read_setup_file(at_cap)
    assert (setup.surface, setup.steps, warnings) == ("booth", 40, [])
    over = tmp_path / "over.json"
    over.write_text(body + " " * (MAX_UPLOAD_BYTES + 1 - len(body)))
    with pytest.raises(cli.CliError, match="larger than 200 kB"):
        cli.read_setup_file(over)


def test_a_directory_as_setup_is_a_clean_error(tmp_path, capsys):
    code, _, err = run_cli(capsys, "--setup", tmp_path, "--out", tmp_path / "out")
    assert code == 2 and "can't read the setup file" in err
    clean(err)


def test_link_length_cap_is_exact(tmp_path, capsys):
    pad = "&zz=" + "a" * 100
    link = LINK + pad * ((cli.MAX_LINK_CHARS - len(LINK)) // len(pad))
    link += "&" + "b" * (cli.MAX_LINK_CHARS - len(link) - 1)
    assert len(link) == cli.MAX_LINK_CHARS
    assert cli.parse_link(link)["s"] == ["rosenbrock"]  # at the cap: read
    code, _, err = run_cli(capsys, "--link", link + "b", "--out", tmp_path / "out")
    assert code == 2 and f"{cli.MAX_LINK_CHARS + 1} characters long" in err
    clean(err)
    assert not (tmp_path / "out").exists()


@pytest.mark.parametrize("link", ["http://[::1/playground?s=booth", "http://[x]/?s=booth&o=sgd"])
def test_unparsable_link_is_a_clean_error(tmp_path, capsys, link):
    code, _, err = run_cli(capsys, "--link", link, "--out", tmp_path / "out")
    assert code == 2 and "the link can't be read" in err
    clean(err)


def test_hp_value_length_cap(tmp_path, capsys):
    ok = "0." + "1" * (cli.MAX_HP_VALUE_CHARS - 2)
    setup, _ = cli.resolve_setup(
        cli.parse_args([*FLAGS, "--hp", f"adam.learning_rate={ok}", "--out", "unused"])
    )
    assert setup.optimizers[0].hparams["learning_rate"] == pytest.approx(0.1111111)
    code, _, err = run_cli(capsys, *FLAGS, "--hp", f"adam.learning_rate={ok}1", "--out", tmp_path / "out")
    assert code == 2 and f"longer than {cli.MAX_HP_VALUE_CHARS} characters" in err
    clean(err)


# --- no silent fallback to the example formula ------------------------------------------------


@pytest.mark.parametrize(
    "link",
    [
        "http://h/playground?s=custom&o=adam",
        "http://h/playground?s=custom&f=&o=adam",
        "http://h/playground?s=custom&f=%20%20&o=adam",
        "?s=rosenbrock&s=custom",  # the last value counts, as in the app
    ],
)
def test_custom_surface_without_formula_in_a_link_is_refused(tmp_path, capsys, link):
    code, out, err = run_cli(
        capsys, "--link", link, "--out", tmp_path / "out", "--figures", "none", "--setup-json"
    )
    assert code == 2
    assert "custom surface but gives no formula (f=)" in err and "example formula" in err
    clean(err)
    assert out == "" and not (tmp_path / "out").exists()


@pytest.mark.parametrize("extra", [{}, {"expression": None}, {"expression": 3}, {"expression": ""}])
def test_custom_surface_without_formula_in_a_setup_file_is_refused(tmp_path, capsys, extra):
    path = tmp_path / "s.json"
    path.write_text(json.dumps({"surface": "custom", **extra}))
    code, _, err = run_cli(capsys, "--setup", path, "--out", tmp_path / "out")
    assert code == 2 and 'gives no formula ("expression")' in err
    clean(err)
    assert not (tmp_path / "out").exists()


def test_a_real_formula_still_works(tmp_path):
    setup, warnings = cli.resolve_setup(
        cli.parse_args(["--link", "?s=custom&f=x%5E2%2By%5E2&o=adam", "--out", "unused"])
    )
    assert setup.expression == "x^2+y^2" and warnings == []


# --- warnings: bounded and terminal-safe ------------------------------------------------------


def test_warnings_are_capped_at_twenty_lines(tmp_path, capsys, monkeypatch):
    real = cli.from_query

    def many_warnings(query):  # however playground.setup words or groups its own warnings
        setup, warnings = real(query)
        return setup, warnings + [f"value {i} ignored." for i in range(45)]

    monkeypatch.setattr(cli, "from_query", many_warnings)
    code, _, err = run_cli(capsys, "--link", LINK, "--strict", "--out", tmp_path / "out")
    assert code == 2  # --strict: refused after the warnings, before any work
    warnings = [ln for ln in err.splitlines() if ln.startswith("warning: ")]
    assert len(warnings) == cli.MAX_WARNING_LINES + 1
    assert warnings[-1] == f"warning: ... and {45 - cli.MAX_WARNING_LINES} more"
    assert "45 problem(s)" in err and not (tmp_path / "out").exists()


def test_print_warnings_boundary(capsys):
    cli.print_warnings([f"w{i}" for i in range(cli.MAX_WARNING_LINES)])
    err = capsys.readouterr().err
    assert len(err.splitlines()) == cli.MAX_WARNING_LINES and "more" not in err


@pytest.mark.parametrize(
    "payload", ["\x1b[2J\x1b[31mRED", "a\rOVERWRITE", "\u202eevil", "bell\x07", "\x9b31m"]
)
def test_control_characters_never_reach_the_terminal(tmp_path, capsys, payload):
    from urllib.parse import quote

    code, _, err = run_cli(
        capsys, "--link", f"?s=rosenbrock&o=adam&{quote(payload)}=1", "--strict", "--out", tmp_path / "out"
    )
    assert code == 2
    bad = {c for c in err if not c.isprintable() and c != "\n"}
    assert bad == set(), bad
    assert "warning: " in err


def test_terminal_safe_truncates():
    assert cli.terminal_safe("x" * 5000, 100) == "x" * 99 + "…"
    assert cli.terminal_safe("a\nb\x1bc") == "a b\\x1bc"


# --- image sizes ------------------------------------------------------------------------------


def test_unrenderable_image_size_is_refused_up_front(tmp_path, capsys):
    code, out, err = run_cli(
        capsys, *FLAGS, "--width", "8000", "--height", "8000", "--scale", "8", "--out", tmp_path / "out"
    )
    assert code == 2
    assert "64000 x 64000 pixels" in err and "lower --width, --height or --scale" in err
    clean(err)
    assert out == "" and not (tmp_path / "out").exists()  # before any work or file


@pytest.mark.parametrize(
    ("argv", "ok"),
    [
        (["--width", "4000", "--height", "2500", "--scale", "2"], True),  # exactly 40 MP
        (["--width", "4001", "--height", "2500", "--scale", "2"], False),
        (["--width", "8000", "--height", "100", "--scale", "2"], True),  # 16000 px wide
        (["--width", "8000", "--height", "100", "--scale", "2.001"], False),
        (["--width", "8000", "--height", "2000", "--formats", "png"], False),  # PNG's scale is 2
        (["--width", "8000", "--height", "2000", "--formats", "svg"], True),  # SVG's is 1
        (["--height", "8000", "--formats", "pdf"], True),
        (["--height", "8000", "--width", "8000", "--formats", "html"], False),  # bad flags anyway
    ],
)
def test_image_size_limits(argv, ok):
    args = cli.parse_args([*FLAGS, *argv, "--out", "unused"])
    if ok:
        cli.check_image_size(args)
    else:
        with pytest.raises(cli.CliError, match="can be rendered"):
            cli.check_image_size(args)


@pytest.fixture()
def broken_renderer(monkeypatch):
    """Chromium 'renders' but hands back junk, as it does for a canvas too large for it."""
    monkeypatch.setattr(E, "export_unavailable_reason", lambda: None)
    junk = {"png": b"u\xabZ", "svg": b"<html>no</html>", "pdf": b"%PD"}
    for fmt, blob in junk.items():
        monkeypatch.setattr(E, f"to_{fmt}", lambda fig, _b=blob, **kw: _b)
    monkeypatch.setattr(E, "animation_gif", lambda *a, **kw: b"GIF")


@pytest.mark.parametrize("fmt", ["png", "svg", "pdf"])
def test_non_image_bytes_are_an_error_and_no_file(tmp_path, capsys, broken_renderer, fmt):
    code, out, err = run_cli(capsys, *FLAGS, "--figures", "loss", "--formats", fmt, "--out", tmp_path)
    assert code == 1
    assert f"not a {fmt.upper()} image for loss.{fmt}" in err and "not written" in err
    clean(err)
    assert list(tmp_path.iterdir()) == []


def test_non_gif_bytes_are_an_error_and_no_file(tmp_path, capsys, broken_renderer):
    code, out, err = run_cli(capsys, *FLAGS, "--figures", "none", "--gif", "--data", "csv", "--out", tmp_path)
    assert code == 1 and "not a GIF image for animation.gif" in err
    # What needs no browser was written first and stays; the bad GIF is not there.
    assert sorted(p.name for p in tmp_path.iterdir()) == ["metrics.csv", "trajectories.csv"]


def test_looks_like():
    assert E.looks_like("png", b"\x89PNG\r\n\x1a\n....") and not E.looks_like("png", b"u\xabZ")
    assert E.looks_like("svg", b"  <svg xmlns=...>") and E.looks_like("svg", b"<?xml ?>\n<svg>")
    assert not E.looks_like("svg", b"<html><svg>") and not E.looks_like("svg", b"")
    assert E.looks_like("pdf", b"%PDF-1.4") and not E.looks_like("pdf", b"%PD")
    assert E.looks_like("gif", b"GIF89a..") and not E.looks_like("gif", b"GIF")


# --- outputs: never through a symlink, never half-written -------------------------------------


@pytest.fixture()
def victim(tmp_path) -> Path:
    path = tmp_path / "victim.txt"
    path.write_text("precious")
    return path


def test_planted_symlink_at_an_output_is_refused(tmp_path, capsys, victim):
    out = tmp_path / "out"
    out.mkdir()
    (out / "loss.html").symlink_to(victim)
    code, stdout, err = run_cli(
        capsys, *FLAGS, "--figures", "contour,loss", "--formats", "html", "--out", out
    )
    assert code == 2 and "loss.html is a symbolic link" in err
    clean(err)
    assert victim.read_text() == "precious"
    assert (out / "loss.html").is_symlink()
    assert sorted(p.name for p in out.iterdir()) == ["loss.html"]  # refused before any work
    assert stdout == ""


def test_symlinked_out_directory_is_refused(tmp_path, capsys):
    real = tmp_path / "real"
    real.mkdir()
    link = tmp_path / "slides"
    link.symlink_to(real, target_is_directory=True)
    code, _, err = run_cli(capsys, *FLAGS, "--figures", "loss", "--formats", "html", "--out", link)
    assert code == 2 and "is a symbolic link" in err and str(real) in err
    assert list(real.iterdir()) == []


def test_a_directory_where_a_file_goes_is_refused(tmp_path, capsys):
    (tmp_path / "loss.html").mkdir()
    code, _, err = run_cli(capsys, *FLAGS, "--figures", "loss", "--formats", "html", "--out", tmp_path)
    assert code == 2 and "not a regular file" in err


def test_link_planted_after_the_check_is_replaced_not_followed(tmp_path, victim, monkeypatch):
    target = tmp_path / "out.csv"
    target.symlink_to(victim)
    with pytest.raises(E.UnsafeOutput, match="symbolic link"):
        E.write_file(target, "new")
    # A link planted between the check and the rename: os.replace swaps the link itself.
    monkeypatch.setattr(E, "check_output_path", lambda path: None)
    E.write_file(target, "new")
    assert not target.is_symlink() and target.read_text() == "new"
    assert victim.read_text() == "precious"
    assert no_temp_files(tmp_path)


def test_write_file_is_atomic_and_keeps_the_usual_mode(tmp_path):
    target = tmp_path / "data.csv"
    target.write_text("old")
    other_name = tmp_path / "hardlink.csv"
    os.link(target, other_name)  # a writer that opened the old file in place would change both
    size = E.write_file(target, "new content")
    assert size == len(b"new content") and target.read_text() == "new content"
    assert other_name.read_text() == "old"  # a new file was renamed over the old one
    umask = os.umask(0)
    os.umask(umask)
    assert stat.S_IMODE(target.stat().st_mode) == 0o666 & ~umask
    assert no_temp_files(tmp_path)


def test_failed_write_leaves_no_temp_file(tmp_path, monkeypatch):
    def fail(src, dst):
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(os, "replace", fail)
    with pytest.raises(OSError, match="No space"):
        E.write_file(tmp_path / "x.json", "{}")
    assert list(tmp_path.iterdir()) == []


def test_cli_outputs_are_written_through_rename(tmp_path, capsys):
    target = tmp_path / "setup.json"
    target.write_text("old")
    keep = tmp_path / "old-setup.json"
    os.link(target, keep)
    code, _, err = run_cli(capsys, "--link", LINK, "--figures", "none", "--setup-json", "--out", tmp_path)
    assert code == 0, err
    assert json.loads(target.read_text())["surface"] == "rosenbrock"
    assert keep.read_text() == "old" and no_temp_files(tmp_path)
