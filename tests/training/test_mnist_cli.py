"""`python -m training`: a tiny real run in a subprocess, and argument errors without tracebacks."""

from __future__ import annotations

import csv
import importlib
import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from playground.training_cli import main

ROOT = Path(__file__).resolve().parents[2]


def run_cli(*args: str, cwd: Path) -> subprocess.CompletedProcess:
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    return subprocess.run(
        [sys.executable, "-m", "training", *args],
        cwd=cwd,
        env=env,
        capture_output=True,
        text=True,
        timeout=600,
    )


def test_tiny_run_writes_json_csv_and_html(tmp_path: Path) -> None:
    proc = run_cli(
        "--optimizers",
        "adam,sgd",
        "--epochs",
        "2",
        "--train-size",
        "256",
        "--hp",
        "adam.learning_rate=0.002",
        "--hp",
        "learning_rate=0.05",
        "--out-json",
        "r.json",
        "--out-csv",
        "r.csv",
        "--out-figure",
        "r.html",
        "--out-landscape",
        "land.html",
        cwd=tmp_path,
    )
    assert proc.returncode == 0, proc.stderr
    d = json.loads((tmp_path / "r.json").read_text())
    lr = {r["optimizer"]: r["hparams"]["learning_rate"] for r in d["runs"]}
    assert lr == pytest.approx({"adam": 0.002, "sgd": 0.05})  # per-optimizer beats global
    assert d["config"]["epochs"] == 2 and d["data"]["n_train"] == 256
    rows = list(csv.DictReader((tmp_path / "r.csv").open()))
    assert [(r["optimizer"], r["epoch"]) for r in rows] == [
        ("adam", "1"),
        ("adam", "2"),
        ("sgd", "1"),
        ("sgd", "2"),
    ]
    assert "plotly" in (tmp_path / "r.html").read_text()[:200_000].lower()
    assert "log10 loss" in (tmp_path / "land.html").read_text()
    assert "Adam" in proc.stdout and "val acc" in proc.stdout  # the summary table
    assert "100%" in proc.stderr and "epoch 2/2" in proc.stderr  # progress on stderr


def test_bad_flag_in_a_subprocess_is_a_usage_error(tmp_path: Path) -> None:
    proc = run_cli("--optimizers", "adam,adamz", cwd=tmp_path)
    assert proc.returncode == 2
    assert "unknown optimizer" in proc.stderr and "Traceback" not in proc.stderr


@pytest.mark.parametrize(
    ("argv", "message"),
    [
        (["--model", "vgg"], "invalid choice"),
        (["--epochs", "0"], "at least 1"),
        (["--epochs", "1001"], "at most 1000"),
        (["--epochs", "9" * 5000], "not a whole number"),
        (["--seed", str(2**63)], "between 0 and 4294967295"),
        (["--seed", "-1"], "between 0 and"),
        (["--batch-size", "x"], "not a whole number"),
        (["--hp", "learning_rate"], "name=value"),
        (["--hp", "learning_rate=fast"], "not a number"),
        (["--hp", "learning_rate=nan"], "finite"),
        (["--hp", "sgd.learning_rate=0.1"], "not among --optimizers"),
        (["--hp", "rho=0.5"], "has a hyperparameter"),
        (["--hp", "adam.learning_rate=-1"], "--hp for adam"),
        (["--preset", "jax"], "invalid choice"),
        (["--data", "imagenet"], "invalid choice"),
        (["--out-figure", "curves.gif"], ".html or .png"),
        (["--out-landscape", "land.svg"], ".html or .png"),
        (["--train-size", "9000"], "exceeds"),
        (["--batch-size", "5000", "--train-size", "1000"], "exceeds"),
    ],
)
def test_argument_errors(argv: list[str], message: str, capsys: pytest.CaptureFixture) -> None:
    with pytest.raises(SystemExit) as exc:
        main(argv)
    assert exc.value.code == 2
    err = capsys.readouterr().err
    assert message in err and "Traceback" not in err


def test_article_preset_resolves_to_the_article_setup(monkeypatch, tmp_path: Path) -> None:
    """--preset article with no network: six optimizers, Keras defaults, CNN, batch 64,
    10 epochs, full data falling back to the sample (training itself is stubbed out)."""
    from playground import training_cli as cli

    seen = {}

    def fake_train(configs, config, data, callback=None, on_chunk=None):
        seen.update(configs=configs, config=config, data=data)
        raise KeyboardInterrupt

    # (importlib: the attribute `training.train` is the function the package re-exports)
    monkeypatch.setattr(importlib.import_module("training.train"), "train", fake_train)
    monkeypatch.setenv("OPTIMIZER_PLAYGROUND_MNIST_DIR", str(tmp_path))
    import training.data as D

    monkeypatch.setattr(D, "MIRRORS", ("file:///nonexistent/mirror/",))
    assert cli.main(["--preset", "article", "--no-progress"]) == 130
    assert [c.name for c in seen["configs"]] == list(cli.ARTICLE_OPTIMIZERS)
    assert {c.preset for c in seen["configs"]} == {"keras"}
    cfg = seen["config"]
    assert (cfg.model, cfg.batch_size, cfg.epochs) == ("cnn", 64, 10)
    assert seen["data"].source == "sample" and "offline sample" in seen["data"].note


def _fake_result():
    from training.train import TrainResult

    epochs = [
        {
            "epoch": e,
            "train_loss": 1.0 / e,
            "train_acc": 0.5 + 0.1 * e,
            "val_loss": 1.1 / e,
            "val_acc": 0.5 + 0.09 * e,
            "time": 0.1,
            "eval_time": 0.01,
        }
        for e in (1, 2, 3)
    ]
    runs = [
        {
            "optimizer": n,
            "label": n.title(),
            "hparams": {"learning_rate": 0.001},
            "preset": "keras",
            "initial_val_loss": 2.3,
            "initial_val_acc": 0.1,
            "epochs": epochs,
            "compile_time": 1.0,
        }
        for n in ("adam", "sgd")
    ]
    return TrainResult.from_dict(
        {
            "config": {"model": "mlp", "epochs": 3},
            "data": {"source": "sample", "note": "", "n_train": 8000, "n_val": 2000},
            "steps_per_epoch": 125,
            "stopped": False,
            "wall_time": 1.0,
            "runs": runs,
        }
    )


def test_curves_figure_has_four_panels_per_optimizer() -> None:
    from viz.training import curves_figure

    fig = curves_figure(_fake_result())
    assert len(fig.data) == 8
    val_acc = [t for t in fig.data if t.xaxis == "x4"]
    assert [list(t.x) for t in val_acc] == [[0, 1, 2, 3]] * 2  # starts at the initial weights
    assert [t.name for t in fig.data if t.showlegend] == ["Adam", "Sgd"]


def test_png_figure_or_a_clear_fallback(tmp_path: Path, capsys) -> None:
    from playground.training_cli import _write_figure
    from viz.export import export_unavailable_reason
    from viz.training import curves_figure

    assert _write_figure(curves_figure(_fake_result()), str(tmp_path / "c.png")) == 0
    err = capsys.readouterr().err
    if export_unavailable_reason() is None and "failed" not in err:
        assert (tmp_path / "c.png").read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    else:  # no Chromium for Kaleido: an interactive HTML instead, and a message saying so
        assert (tmp_path / "c.html").exists() and "instead" in err


# --- outputs: never through a planted symlink, written by rename ------------------------------


def _no_training(monkeypatch, result=None) -> list:
    calls: list = []

    def fake_train(configs, config, data, callback=None, on_chunk=None):
        calls.append(config)
        if result is None:
            raise AssertionError("training started although an output was refused")
        return result

    monkeypatch.setattr(importlib.import_module("training.train"), "train", fake_train)
    return calls


@pytest.mark.parametrize(
    ("flag", "name", "link_name"),
    [
        ("--out-json", "r.json", "r.json"),
        ("--out-csv", "r.csv", "r.csv"),
        ("--out-figure", "c.html", "c.html"),
        ("--out-figure", "c.png", "c.html"),  # the HTML a failed PNG export falls back to
        ("--out-landscape", "land.png", "land.png"),
    ],
)
def test_planted_symlink_output_is_refused_before_training(
    tmp_path: Path, monkeypatch, capsys, flag: str, name: str, link_name: str
) -> None:
    victim = tmp_path / "victim.txt"
    victim.write_text("precious")
    (tmp_path / link_name).symlink_to(victim)
    calls = _no_training(monkeypatch)
    with pytest.raises(SystemExit) as exc:
        main([flag, str(tmp_path / name), "--no-progress"])
    assert exc.value.code == 2
    err = capsys.readouterr().err
    assert f"{flag}: " in err and "is a symbolic link" in err and "Traceback" not in err
    assert calls == [] and victim.read_text() == "precious"


def test_outputs_replace_old_files_by_rename(tmp_path: Path, monkeypatch, capsys) -> None:
    _no_training(monkeypatch, _fake_result())
    for name in ("r.json", "r.csv", "c.html"):
        (tmp_path / name).write_text("old")
        os.link(tmp_path / name, tmp_path / f"old-{name}")  # an in-place write would change it
    code = main(
        [
            "--epochs",
            "3",
            "--no-progress",
            "--out-json",
            str(tmp_path / "r.json"),
            "--out-csv",
            str(tmp_path / "r.csv"),
            "--out-figure",
            str(tmp_path / "c.html"),
        ]
    )
    assert code == 0, capsys.readouterr().err
    assert json.loads((tmp_path / "r.json").read_text())["runs"][0]["optimizer"] == "adam"
    assert (tmp_path / "r.csv").read_text().startswith("optimizer,")
    assert "plotly" in (tmp_path / "c.html").read_text()[:200_000].lower()
    assert all((tmp_path / f"old-{n}").read_text() == "old" for n in ("r.json", "r.csv", "c.html"))
    assert not [p for p in tmp_path.iterdir() if p.name.endswith(".tmp")]


def test_png_that_is_not_a_png_falls_back_to_html(tmp_path: Path, monkeypatch, capsys) -> None:
    from playground.training_cli import _write_figure
    from viz import export as E
    from viz.training import curves_figure

    monkeypatch.setattr(E, "export_unavailable_reason", lambda: None)
    monkeypatch.setattr(E, "to_png", lambda fig, **kw: b"u\xabZ")  # a failed huge render
    assert _write_figure(curves_figure(_fake_result()), str(tmp_path / "c.png")) == 0
    assert "3 bytes that are not a PNG" in capsys.readouterr().err
    assert sorted(p.name for p in tmp_path.iterdir()) == ["c.html"]
