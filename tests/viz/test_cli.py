"""`python -m viz`: the command-line export of figures and data, for slides.

Every run is a tiny real setup (Rosenbrock, Adam and SGD, 20 steps), so one JIT compile serves
the whole module; most tests call main(argv) in-process, one runs `python -m viz` for real.
"""

from __future__ import annotations

import csv
import io
import json
import re
import subprocess
import sys
from pathlib import Path

import pytest
from PIL import Image

from optim_core.schedules import Schedule
from playground import figures_cli as cli
from playground.setup import OptimizerEntry, Setup, from_json, to_json
from viz import export as E
from viz.colors import color_for

ROOT = Path(__file__).resolve().parents[2]
STEPS = 20
LINK = f"http://localhost:8501/playground?s=rosenbrock&o=adam(learning_rate=0.02)&o=sgd&steps={STEPS}"
FLAGS = [
    "--surface",
    "rosenbrock",
    "--optimizers",
    "adam,sgd",
    "--hp",
    "adam.learning_rate=0.02",
    "--steps",
    str(STEPS),
]
ROWS = 2 * (STEPS + 1)  # one row per optimizer per position (start included)

needs_browser = pytest.mark.skipif(not E.export_available(), reason="no Chromium for Kaleido on this machine")


@pytest.fixture(scope="module", autouse=True)
def kaleido_session():
    """The image tests share one browser; it is closed when this module is done."""
    yield
    E.close_export_session()


def run_cli(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, str, str]:
    code = cli.main([str(a) for a in argv])
    out, err = capsys.readouterr()
    return code, out, err


def listed_files(stdout: str) -> dict[str, str]:
    """{file name: size text} from the lines the CLI prints for each file it wrote."""
    found = {}
    for line in stdout.splitlines():
        match = re.fullmatch(r"(.+?)  \(([\d.]+ (?:B|kB|MB))\)", line)
        if match:
            found[Path(match[1]).name] = match[2]
    return found


def is_html(text: str) -> bool:
    return text.lstrip().lower().startswith("<!doctype html>") and text.rstrip().endswith("</html>")


def resolve(*argv: str) -> tuple[Setup, list[str]]:
    return cli.resolve_setup(cli.parse_args([*argv, "--out", "unused"]))


# --- files ------------------------------------------------------------------------------------


@needs_browser
def test_every_kind_of_file_is_written_and_valid(tmp_path, capsys):
    code, out, err = run_cli(
        capsys,
        "--link",
        LINK,
        "--out",
        tmp_path / "new" / "dir",
        "--figures",
        "contour,loss",
        "--formats",
        "png,svg,pdf,html",
        "--gif",
        "--data",
        "csv,json",
        "--setup-json",
        "--width",
        "400",
        "--height",
        "300",
        "--scale",
        "1",
    )
    assert code == 0, err
    d = tmp_path / "new" / "dir"
    expected = {f"{fig}.{fmt}" for fig in ("paths", "loss") for fmt in ("png", "svg", "pdf", "html")}
    expected |= {
        "animation.gif",
        "setup.json",
        "trajectories.csv",
        "metrics.csv",
        "trajectories.json",
        "metrics.json",
    }
    assert {p.name for p in d.iterdir()} == expected
    # Each file is listed once, with its real size.
    listed = listed_files(out)
    assert set(listed) == expected
    assert listed["setup.json"] == f"{(d / 'setup.json').stat().st_size} B"

    for name in ("paths", "loss"):
        png = (d / f"{name}.png").read_bytes()
        assert png[:8] == b"\x89PNG\r\n\x1a\n"
        assert Image.open(io.BytesIO(png)).size == (400, 300)  # --width/--height, --scale 1
        svg = (d / f"{name}.svg").read_bytes()
        assert svg.lstrip().startswith(b"<svg") and svg.rstrip().endswith(b"</svg>")
        pdf = (d / f"{name}.pdf").read_bytes()
        assert pdf[:5] == b"%PDF-" and b"%%EOF" in pdf[-64:]
        html = (d / f"{name}.html").read_text()
        assert is_html(html) and "Plotly.newPlot" in html
    gif = Image.open(d / "animation.gif")
    assert gif.format == "GIF" and gif.n_frames > 5
    assert (d / "animation.gif").read_bytes()[:6] in (b"GIF87a", b"GIF89a")

    rows = list(csv.DictReader(io.StringIO((d / "trajectories.csv").read_text())))
    assert len(rows) == ROWS
    assert [r["label"] for r in rows[:: STEPS + 1]] == ["Adam", "SGD"]
    assert [int(r["step"]) for r in rows[: STEPS + 1]] == list(range(STEPS + 1))
    paths = json.loads((d / "trajectories.json").read_text())
    assert len(paths["rows"]) == ROWS and [r["label"] for r in paths["runs"]] == ["Adam", "SGD"]
    assert paths["rows"][0]["x"] == float(rows[0]["x"])  # CSV and JSON hold the same numbers
    metrics = list(csv.DictReader(io.StringIO((d / "metrics.csv").read_text())))
    assert [m["label"] for m in metrics] == ["Adam", "SGD"]
    assert [m["label"] for m in json.loads((d / "metrics.json").read_text())] == ["Adam", "SGD"]

    setup, warnings = from_json((d / "setup.json").read_text())
    assert warnings == []
    assert [(e.name, e.hparams["learning_rate"]) for e in setup.optimizers] == [
        ("adam", 0.02),
        ("sgd", 0.001),
    ]
    assert setup.steps == STEPS
    assert "Traceback" not in err


def test_default_outputs_are_contour_and_loss_as_png_and_html(tmp_path, capsys, monkeypatch):
    # Without a browser, so the test also runs where there is none: PNGs are skipped, said so.
    monkeypatch.setenv("BROWSER_PATH", str(tmp_path / "no-such-chromium"))
    code, out, err = run_cli(capsys, *FLAGS, "--out", tmp_path)
    assert code == 0
    assert sorted(p.name for p in tmp_path.iterdir()) == ["loss.html", "paths.html"]
    assert "Chromium" in err and "Skipped: paths.png, loss.png." in err


def test_all_figures_as_html_with_the_apps_names_and_colours(tmp_path, capsys, monkeypatch):
    monkeypatch.setenv("BROWSER_PATH", str(tmp_path / "no-such-chromium"))
    code, out, err = run_cli(capsys, *FLAGS, "--figures", "all", "--formats", "html,svg", "--out", tmp_path)
    assert code == 0
    titles = {
        "paths": "Rosenbrock",
        "surface-3d": "Rosenbrock: 3D view",
        "loss": "Loss per step",
        "distance": "Distance to the nearest known minimum",
        "step-length": "Step length |update| per step",
        "animation": "Rosenbrock: press play",
    }
    assert {p.name for p in tmp_path.iterdir()} == {f"{n}.html" for n in titles}
    for name, title in titles.items():
        html = (tmp_path / f"{name}.html").read_text()
        assert is_html(html) and json.dumps(title) in html
        # Each optimizer keeps its slot colour in every figure, as on the page.
        assert color_for(0) in html and color_for(1) in html
    assert "Plotly.addFrames(" in (tmp_path / "animation.html").read_text()  # it plays
    # No still of the animation: it would show its first frame only.
    assert "written as HTML only" in err
    assert "Skipped: paths.svg, surface-3d.svg, loss.svg, distance.svg, step-length.svg." in err


def test_no_chromium_still_writes_html_and_data(tmp_path, capsys, monkeypatch):
    monkeypatch.setenv("BROWSER_PATH", str(tmp_path / "no-such-chromium"))
    code, out, err = run_cli(
        capsys, "--link", LINK, "--out", tmp_path, "--formats", "png,svg,html", "--gif", "--data", "json"
    )
    assert code == 0
    written = {"paths.html", "loss.html", "trajectories.json", "metrics.json"}
    assert {p.name for p in tmp_path.iterdir()} == written == set(listed_files(out))
    assert "needs Chromium" in err
    assert "Skipped: paths.png, paths.svg, loss.png, loss.svg, animation.gif." in err
    assert len(json.loads((tmp_path / "trajectories.json").read_text())["rows"]) == ROWS

    # Only images asked for: nothing can be written, and the exit code says so.
    code, out, err = run_cli(capsys, "--link", LINK, "--out", tmp_path / "img", "--formats", "png")
    assert code == 1
    assert "nothing was written" in err and "needs Chromium" in err
    assert list((tmp_path / "img").iterdir()) == []


# --- one setup, three ways in -----------------------------------------------------------------


def test_flags_link_and_setup_file_give_the_same_setup_and_data(tmp_path, capsys):
    outputs = ["--figures", "none", "--setup-json", "--data", "csv"]
    assert run_cli(capsys, *FLAGS, "--out", tmp_path / "flags", *outputs)[0] == 0
    assert run_cli(capsys, "--link", LINK, "--out", tmp_path / "link", *outputs)[0] == 0
    saved = tmp_path / "flags" / "setup.json"
    code, _, err = run_cli(capsys, "--setup", saved, "--out", tmp_path / "file", *outputs)
    assert code == 0 and err == ""

    texts = {way: (tmp_path / way / "setup.json").read_text() for way in ("flags", "link", "file")}
    assert texts["flags"] == texts["link"] == texts["file"]
    setup, _ = from_json(texts["flags"])
    assert [e.name for e in setup.optimizers] == ["adam", "sgd"]
    assert setup.optimizers[0].hparams["learning_rate"] == 0.02 and setup.steps == STEPS
    data = {way: (tmp_path / way / "trajectories.csv").read_text() for way in texts}
    assert data["flags"] == data["link"] == data["file"]
    assert len(data["flags"].splitlines()) == ROWS + 1


def test_flags_change_a_link_or_saved_setup(tmp_path):
    base, _ = resolve("--link", LINK)
    changed, warnings = resolve(
        "--link",
        LINK,
        "--start",
        "-1,1.5",
        "--seed",
        "7",
        "--hp",
        "sgd.learning_rate=0.003",
        "--schedule",
        "cosine",
    )
    assert warnings == []
    assert changed.start == (-1.0, 1.5) and changed.seed == 7
    assert changed.schedule.kind == "cosine"
    assert changed.optimizers[1].hparams["learning_rate"] == 0.003
    assert changed.optimizers[0] == base.optimizers[0]  # Adam untouched, at full precision
    assert changed.steps == base.steps == STEPS

    # Changing a saved setup keeps every other value exactly (links round to 6 digits).
    adam = base.optimizers[0]
    odd = Setup(
        surface="ravine",
        surface_params={"condition": 12.3456789},
        noise=0.123456789,
        start=(-1.23456789, 0.987654321),
        schedule=Schedule("step", decay_rate=0.3333333333, decay_every=37),
        optimizers=(
            OptimizerEntry(
                "adam", {**adam.hparams, "learning_rate": 0.0123456789, "bias_correction": 0.0}, "keras"
            ),
            OptimizerEntry.default("sgd"),
        ),
    )
    saved = tmp_path / "setup.json"
    saved.write_text(to_json(odd))
    reloaded, warnings = resolve("--setup", str(saved), "--seed", "3")
    assert warnings == []
    assert reloaded == odd.with_changes(seed=3)

    # A new surface drops the old one's start point; --preset resets hyperparameters.
    moved, _ = resolve("--link", LINK + "&x0=-1&y0=2", "--surface", "booth", "--preset", "keras")
    assert moved.surface == "booth" and moved.start is None
    assert all(e.preset == "keras" for e in moved.optimizers)
    assert moved.optimizers[0].hparams["learning_rate"] != 0.02


def test_repeated_optimizers_take_numbered_hyperparameters():
    setup, warnings = resolve(
        "--optimizers",
        "adam,sgd,adam",
        "--hp",
        "adam#2.b1=0.5",
        "--hp",
        "adam.eps=1e-6",
        "--hp",
        "adam#1.bias_correction=false",
        "--formula",
        "x**2 + 3*y**2",
        "--start",
        "-1.5,2",
    )
    assert warnings == []
    assert setup.surface == "custom" and setup.expression == "x**2 + 3*y**2"
    assert setup.start == (-1.5, 2.0)  # a negative start needs no '=' after --start
    first, _, second = setup.optimizers
    assert (first.hparams["b1"], second.hparams["b1"]) == (0.9, 0.5)
    assert first.hparams["eps"] == second.hparams["eps"] == 1e-6
    assert (first.hparams["bias_correction"], second.hparams["bias_correction"]) == (0.0, 1.0)


def test_shared_validation_warns_and_strict_refuses(tmp_path, capsys):
    argv = ["--link", LINK + "&noise=-3&zz=1", "--hp", "adam.nope=1", "--figures", "none", "--setup-json"]
    code, _, err = run_cli(capsys, *argv, "--out", tmp_path / "lenient")
    assert code == 0
    # from_query's own messages, on stderr: clamped, unknown parameter, unknown hyperparameter.
    assert "warning: noise σ: -3 is outside [0, 10]; using 0." in err
    assert re.search(r"unknown link parameters ignored: '?zz", err)
    assert "no hyperparameter 'nope'" in err
    assert json.loads((tmp_path / "lenient" / "setup.json").read_text())["noise"] == 0.0

    code, _, err = run_cli(capsys, *argv, "--strict", "--out", tmp_path / "strict")
    assert code == 2 and "--strict" in err and not (tmp_path / "strict").exists()


def test_divergence_is_reported_in_words(tmp_path, capsys):
    code, _, err = run_cli(
        capsys, *FLAGS, "--hp", "sgd.learning_rate=1", "--figures", "none", "--data", "csv", "--out", tmp_path
    )
    assert code == 0
    assert re.search(r"warning: SGD diverged at step \d+: try a smaller α\.", err)


# --- bad input: one clear line, the right exit code, nothing written ---------------------------


@pytest.mark.parametrize(
    ("argv", "message"),
    [
        (["--surface", "rosenbrok"], "invalid choice: 'rosenbrok'"),
        (["--optimizers", "adam,adamm"], "unknown optimizer 'adamm'"),
        (["--hp", "adam.learning_rate"], "is not OPTIMIZER.NAME=VALUE"),
        (["--hp", "adam.learning_rate=(1)"], "is not OPTIMIZER.NAME=VALUE"),
        (["--optimizers", "sgd", "--hp", "adam.learning_rate=0.1"], "there is no adam among"),
        (["--optimizers", "adam", "--hp", "adam#2.b1=0.5"], "there are 1 adam entries"),
        (["--start", "1"], "is not X,Y"),
        (["--steps", "many"], "invalid int value"),
        (["--figures", "contour,pie"], "unknown figure 'pie'"),
        (["--formats", "jpg"], "unknown format 'jpg'"),
        (["--scale", "0"], "must be above 0"),
        (["--setup", "a.json", "--link", LINK], "not allowed with argument"),
        (["--formula", "x**"], "the formula 'x**' can't be used: syntax error"),
        (["--formula", "x + y", "--surface", "ravine"], "--formula needs --surface custom"),
        (["--surface", "custom"], "--surface custom needs --formula"),
        (["--link", "http://host/playground"], "the link holds no Playground setup"),
        (["--link", "http://host/playground?s=custom&f=sin("], "the formula 'sin(' can't be used"),
        (["--link", "?" + "&".join(f"k{i}=1" for i in range(300))], "the link can't be read"),
    ],
)
def test_bad_input_is_a_clean_usage_error(tmp_path, capsys, argv, message):
    out_dir = tmp_path / "out"
    code, out, err = run_cli(capsys, *argv, "--out", out_dir)
    assert code == 2
    assert message in err and "Traceback" not in err
    assert not out_dir.exists()


@pytest.mark.parametrize(
    ("content", "message"),
    [
        (None, "can't read the setup file"),
        (b'{"surface": ', "is not valid JSON"),
        (b"[1, 2]", "holds no setup object"),
        (b"\xff\xfe", "is not valid JSON"),
        (b'{"surface": "custom", "expression": "exp("}', "can't be used"),
        (b" " * 300_000, "larger than 200 kB"),
    ],
)
def test_bad_setup_file_is_a_clean_error(tmp_path, capsys, content, message):
    path = tmp_path / "setup.json"
    if content is not None:
        path.write_bytes(content)
    code, _, err = run_cli(capsys, "--setup", path, "--out", tmp_path / "out")
    assert code == 2 and message in err and "Traceback" not in err
    assert not (tmp_path / "out").exists()


def test_unwritable_output_and_nothing_to_write(tmp_path, capsys):
    blocker = tmp_path / "file"
    blocker.write_text("")
    code, _, err = run_cli(capsys, *FLAGS, "--out", blocker / "sub")
    assert code == 1 and "can't create" in err
    code, _, err = run_cli(capsys, *FLAGS, "--figures", "none", "--out", tmp_path / "empty")
    assert code == 1 and "nothing was written" in err


def test_help_and_missing_out(capsys):
    code, out, _ = run_cli(capsys, "--help")
    assert code == 0 and "--link URL" in out and "Examples:" in out
    code, _, err = run_cli(capsys, "--surface", "booth")
    assert code == 2 and "the following arguments are required: --out" in err


# --- the real command -------------------------------------------------------------------------


def test_python_dash_m_viz(tmp_path):
    """The entry point for real, once: HTML and CSV only (no browser start, no second process;
    images, errors and exit codes are covered in-process through the same main())."""
    proc = subprocess.run(
        [
            sys.executable,
            "-m",
            "viz",
            "--link",
            LINK,
            "--out",
            str(tmp_path),
            "--figures",
            "loss",
            "--formats",
            "html",
            "--data",
            "csv",
        ],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=180,
    )
    assert proc.returncode == 0, proc.stderr
    assert set(listed_files(proc.stdout)) == {"loss.html", "trajectories.csv", "metrics.csv"}
    assert proc.stdout.startswith("Rosenbrock; Adam, SGD; 20 steps")
    assert is_html((tmp_path / "loss.html").read_text())
    assert len((tmp_path / "trajectories.csv").read_text().splitlines()) == ROWS + 1
    assert "Traceback" not in proc.stderr and proc.stderr == ""
