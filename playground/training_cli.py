"""`python -m training`: train optim_core optimizers on MNIST from the command line.

It draws figures (viz.training) and writes files (viz.export), so it sits above viz; the
package's `training/__main__.py` is a thin entry point to `main` here.

Examples::

    python -m training --optimizers adam,sgd,momentum --epochs 5
    python -m training --optimizers adam,rmsprop --hp adam.learning_rate=0.01 --preset pytorch
    python -m training --preset article            # the seed article's experiment
    python -m training --model cnn --epochs 3 --out-json r.json --out-csv r.csv \\
        --out-figure curves.html
"""

from __future__ import annotations

import argparse
import math
import signal
import sys
import time
from collections.abc import Sequence
from typing import TextIO

ARTICLE_OPTIMIZERS = ("adadelta", "adagrad", "adam", "rmsprop", "sgd", "momentum")
PRESETS = ("optax", "keras", "pytorch", "article")


MAX_EPOCHS = 1000  # TrainConfig's own limit
MAX_SEED = 2**32 - 1  # what a JAX PRNG key holds


def _positive_int(text: str) -> int:
    try:
        value = int(text)
    except ValueError:  # also a number of over 4300 digits
        raise argparse.ArgumentTypeError(f"not a whole number: {text[:40]!r}") from None
    if value < 1:
        raise argparse.ArgumentTypeError(f"must be at least 1, got {value}")
    return value


def _epochs(text: str) -> int:
    value = _positive_int(text)
    if value > MAX_EPOCHS:
        raise argparse.ArgumentTypeError(f"must be at most {MAX_EPOCHS}, got {value}")
    return value


def _seed(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"not a whole number: {text[:40]!r}") from None
    if not 0 <= value <= MAX_SEED:
        raise argparse.ArgumentTypeError(f"must be between 0 and {MAX_SEED}, got {text[:40]}")
    return value


def _hp(text: str) -> tuple[str | None, str, float]:
    """'name=value' or 'optimizer.name=value' -> (optimizer or None, name, value)."""
    key, sep, raw = text.partition("=")
    if not sep or not key:
        raise argparse.ArgumentTypeError(f"expected name=value or optimizer.name=value: {text!r}")
    try:
        value = float(raw)
    except ValueError:
        raise argparse.ArgumentTypeError(f"not a number in {text!r}") from None
    if not math.isfinite(value):
        raise argparse.ArgumentTypeError(f"not a finite number in {text!r}")
    opt, dot, name = key.rpartition(".")
    return (opt if dot else None), name, value


def build_parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(
        prog="python -m training",
        description="Train optim_core optimizers side by side on MNIST (pure JAX).",
        formatter_class=argparse.ArgumentDefaultsHelpFormatter,
    )
    p.add_argument(
        "--model",
        choices=("mlp", "cnn"),
        default=None,
        help="network (default mlp; cnn with --preset article)",
    )
    p.add_argument(
        "--optimizers",
        default=None,
        help="comma-separated registry names, e.g. adam,sgd,momentum (default adam; "
        "the article's six with --preset article)",
    )
    p.add_argument(
        "--hp",
        action="append",
        type=_hp,
        default=[],
        metavar="[OPT.]NAME=VALUE",
        help="hyperparameter override, repeatable; without OPT. it applies to every "
        "chosen optimizer that has it",
    )
    p.add_argument(
        "--preset",
        choices=PRESETS,
        default=None,
        help="framework defaults (default keras); 'article' = the seed article's "
        "experiment: six optimizers at Keras defaults, CNN, batch 64, 10 epochs, "
        "full MNIST where available",
    )
    p.add_argument(
        "--epochs", type=_epochs, default=None, help=f"default 5 (article 10); at most {MAX_EPOCHS}"
    )
    p.add_argument("--batch-size", type=_positive_int, default=64)
    p.add_argument(
        "--train-size",
        type=_positive_int,
        default=None,
        help="use only this many training images (default: all)",
    )
    p.add_argument(
        "--data",
        choices=("sample", "full"),
        default=None,
        help="sample: the shipped 10k (8000/2000); full: 60k/10k, downloaded once "
        "(default sample; full with --preset article)",
    )
    p.add_argument(
        "--cache-dir",
        default=None,
        help="where the full set is kept (default $OPTIMIZER_PLAYGROUND_MNIST_DIR "
        "or ~/.cache/optimizer-playground/mnist)",
    )
    p.add_argument("--seed", type=_seed, default=0, help=f"0 to {MAX_SEED}")
    p.add_argument(
        "--parallel",
        choices=("threads", "fused", "sequential"),
        default="threads",
        help="how several optimizers share the CPU",
    )
    p.add_argument("--out-json", default=None, help="write the results as JSON")
    p.add_argument("--out-csv", default=None, help="write the curves as CSV (one row per epoch)")
    p.add_argument(
        "--out-figure",
        default=None,
        help="write the curves as .html (interactive) or .png (needs Kaleido + Chromium)",
    )
    p.add_argument(
        "--out-landscape",
        default=None,
        help="also compute the loss landscape on the plane of the paths and write "
        "it as .html or .png (keeps a weight snapshot per epoch)",
    )
    p.add_argument("--no-progress", action="store_true", help="no progress bar on stderr")
    return p


class ProgressBar:
    """A one-line text bar on stderr, redrawn in place (plain lines when not a terminal)."""

    def __init__(self, total: int, stream: TextIO = sys.stderr, width: int = 30):
        self.total, self.stream, self.width = max(total, 1), stream, width
        self.start = time.perf_counter()
        self.tty = stream.isatty()
        self.last_pct = -1

    def update(self, done: int, note: str = "") -> None:
        frac = min(done / self.total, 1.0)
        pct = int(100 * frac)
        if not self.tty and pct < 100 and pct - self.last_pct < 10:
            return  # a log file gets a line per 10%, not hundreds of redraws
        self.last_pct = pct
        elapsed = time.perf_counter() - self.start
        eta = elapsed / frac - elapsed if frac > 0 else float("nan")
        bar = "#" * int(self.width * frac) + "." * (self.width - int(self.width * frac))
        line = f"[{bar}] {pct:3d}% {elapsed:6.1f}s elapsed, ~{eta:5.1f}s left {note}"
        if self.tty:
            self.stream.write("\r" + line)
        else:
            self.stream.write(line + "\n")
        self.stream.flush()

    def message(self, text: str) -> None:
        self.stream.write(("\r\033[K" if self.tty else "") + text + "\n")
        self.stream.flush()

    def close(self) -> None:
        if self.tty:
            self.stream.write("\n")
            self.stream.flush()


def _resolve_args(p: argparse.ArgumentParser, a: argparse.Namespace) -> None:
    """Fill defaults (the article preset changes several) and validate optimizer names."""
    article = a.preset == "article"
    a.model = a.model or ("cnn" if article else "mlp")
    a.epochs = a.epochs or (10 if article else 5)
    a.data = a.data or ("full" if article else "sample")
    a.framework = "keras" if article or a.preset is None else a.preset
    names = [n.strip() for n in (a.optimizers or "").split(",") if n.strip()]
    if not names:
        names = list(ARTICLE_OPTIMIZERS) if article else ["adam"]
    from optim_core import OPTIMIZERS

    unknown = [n for n in names if n not in OPTIMIZERS]
    if unknown:
        p.error(f"unknown optimizer(s) {', '.join(unknown)}; choose from {', '.join(OPTIMIZERS)}")
    a.names = names
    for flag, path in (("--out-figure", a.out_figure), ("--out-landscape", a.out_landscape)):
        if path and not path.lower().endswith((".html", ".png")):
            p.error(f"{flag} must end in .html or .png, got {path}")
    _check_outputs(p, a)
    for opt, name, _ in a.hp:
        if opt is not None and opt not in names:
            p.error(f"--hp {opt}.{name}: {opt} is not among --optimizers ({','.join(names)})")
        if opt is None and not any(name in OPTIMIZERS[n].defaults for n in names):
            p.error(f"--hp {name}: none of {','.join(names)} has a hyperparameter {name!r}")


def _output_paths(a: argparse.Namespace) -> list[tuple[str, str]]:
    """(flag, path) of every file this run may write; a .png figure may fall back to .html."""
    out = [("--out-json", a.out_json), ("--out-csv", a.out_csv)]
    for flag, path in (("--out-figure", a.out_figure), ("--out-landscape", a.out_landscape)):
        out.append((flag, path))
        if path and path.lower().endswith(".png"):
            out.append((flag, path[:-4] + ".html"))
    return [(flag, path) for flag, path in out if path]


def _check_outputs(p: argparse.ArgumentParser, a: argparse.Namespace) -> None:
    """Refuse, before any training, an output that is a symbolic link (or not a file): every
    file is written through a temp file and a rename, never through a link someone planted."""
    from viz.export import UnsafeOutput, check_output_path

    for flag, path in _output_paths(a):
        try:
            check_output_path(path)
        except UnsafeOutput as e:
            p.error(f"{flag}: {e}")


def _write(path: str, data: str | bytes) -> int:
    """Write one output file safely (viz.export.write_file); 0, or 1 with a message."""
    from viz.export import write_file

    try:
        write_file(path, data)
    except OSError as e:  # UnsafeOutput included: a link planted while we trained
        print(f"error: can't write {path}: {e.strerror or e}", file=sys.stderr)
        return 1
    print(f"wrote {path}", file=sys.stderr)
    return 0


def _optimizer_configs(p: argparse.ArgumentParser, a: argparse.Namespace) -> list:
    from optim_core import OPTIMIZERS, OptimizerSettings, resolve_hparams

    configs = []
    for n in a.names:
        # Global values first, so that `adam.learning_rate=...` wins whatever the order.
        overrides = {name: v for opt, name, v in a.hp if opt is None and name in OPTIMIZERS[n].defaults}
        overrides.update({name: v for opt, name, v in a.hp if opt == n})
        try:
            resolve_hparams(n, overrides, a.framework)
        except ValueError as e:
            p.error(f"--hp for {n}: {e}")
        configs.append(OptimizerSettings(n, overrides, a.framework))
    return configs


def _summary(result) -> str:
    rows = [("optimizer", "val acc", "best", "val loss", "train loss", "epochs", "time s")]
    for r in result.runs:
        if not r.epochs:
            continue
        last = r.epochs[-1]
        rows.append(
            (
                r.label,
                f"{last.val_acc:.4f}",
                f"{max(r.curve('val_acc')):.4f}",
                f"{last.val_loss:.4f}",
                f"{last.train_loss:.4f}",
                str(len(r.epochs)),
                f"{r.total_time:.2f}",
            )
        )
    widths = [max(len(row[i]) for row in rows) for i in range(len(rows[0]))]
    return "\n".join(
        "  ".join(
            c.ljust(w) if i == 0 else c.rjust(w) for i, (c, w) in enumerate(zip(row, widths, strict=True))
        )
        for row in rows
    )


def main(argv: Sequence[str] | None = None) -> int:
    p = build_parser()
    a = p.parse_args(argv)
    _resolve_args(p, a)
    from optim_core import configure_jax

    configure_jax()  # before the first compile: epochs then reuse the persistent cache
    configs = _optimizer_configs(p, a)

    from training.data import IDXError, load_mnist
    from training.train import TrainConfig, train

    bar: ProgressBar | None = None
    log = (lambda m: print(m, file=sys.stderr)) if a.no_progress else None

    def say(msg: str) -> None:
        (bar.message if bar is not None else lambda m: print(m, file=sys.stderr))(msg)

    try:
        data = load_mnist(a.data, cache_dir=a.cache_dir, log=log)
    except IDXError as e:
        print(f"error: {e}", file=sys.stderr)
        return 2
    if data.note:
        say(data.note)
    if a.train_size is not None and a.train_size > data.n_train:
        p.error(
            f"--train-size {a.train_size} exceeds the {data.n_train} training images of the {data.source} set"
        )
    config = TrainConfig(
        model=a.model,
        epochs=a.epochs,
        batch_size=a.batch_size,
        train_size=a.train_size,
        seed=a.seed,
        parallel=a.parallel,
        keep_snapshots=bool(a.out_landscape),
    )
    n_train = a.train_size or data.n_train
    if a.batch_size > n_train:
        p.error(f"--batch-size {a.batch_size} exceeds the {n_train} training images")
    say(
        f"training {', '.join(a.names)} on MNIST ({data.source}: {n_train} train / "
        f"{data.n_val} validation), {a.model}, batch {a.batch_size}, {a.epochs} epochs, "
        f"{a.framework} defaults"
    )
    if not a.no_progress:
        bar = ProgressBar(a.epochs * (n_train // a.batch_size))

    stop = {"requested": False}

    def on_sigint(signum: int, frame: object) -> None:
        # First Ctrl-C: finish the current chunk and keep (and write) what was trained.
        if stop["requested"]:
            raise KeyboardInterrupt
        stop["requested"] = True
        say("stopping after the current chunk (press Ctrl-C again to abort)")

    def on_chunk(done: int, total: int) -> bool:
        if bar is not None:
            bar.total = total
            bar.update(done, f"({len(configs)} optimizer{'s' * (len(configs) > 1)})")
        return not stop["requested"]

    def on_epoch(progress) -> bool:
        accs = ", ".join(f"{r.label} {r.epochs[-1].val_acc:.3f}" for r in progress.result.runs)
        say(f"epoch {progress.epoch}/{progress.epochs}: val acc {accs}")
        return True

    previous = signal.signal(signal.SIGINT, on_sigint)
    try:
        result = train(configs, config, data, callback=on_epoch, on_chunk=on_chunk)
    except KeyboardInterrupt:
        print("\ninterrupted", file=sys.stderr)
        return 130
    finally:
        signal.signal(signal.SIGINT, previous)
        if bar is not None:
            bar.close()
    if result.stopped:
        say("stopped early: the results below cover what was trained")
    print(_summary(result))
    status = 0
    if a.out_json:
        status = _write(a.out_json, result.to_json() + "\n") or status
    if a.out_csv:
        status = _write(a.out_csv, result.to_csv()) or status
    if a.out_figure:
        from viz.training import curves_figure

        status = _write_figure(curves_figure(result), a.out_figure) or status
    if a.out_landscape:
        from training.landscape import compute_landscape
        from viz.training import landscape_figure

        print("computing the loss landscape on the plane of the paths...", file=sys.stderr)
        lbar = None if a.no_progress else ProgressBar(1)

        def on_row(done: int, rows: int) -> None:
            if lbar is not None:
                lbar.total = rows
                lbar.update(done, "(landscape rows)")

        land = compute_landscape(result, data.subset(a.train_size), progress=on_row)
        if lbar is not None:
            lbar.close()
        status = status or _write_figure(landscape_figure(land), a.out_landscape)
    return status


def _write_figure(fig, path: str) -> int:
    import plotly.io as pio

    def as_html() -> str:  # self-contained: works offline
        return pio.to_html(fig, include_plotlyjs=True, full_html=True)

    if path.lower().endswith(".html"):
        return _write(path, as_html())
    from viz.export import export_unavailable_reason, looks_like, to_png

    html = path[:-4] + ".html"
    reason = export_unavailable_reason()
    if reason is not None:
        print(f"PNG export unavailable ({reason}); writing {html} instead", file=sys.stderr)
        return _write(html, as_html())
    try:
        data = to_png(fig)
    except Exception as e:  # noqa: BLE001 (Kaleido/Chromium failures come in many types)
        print(f"PNG export failed ({e}); writing {html} instead", file=sys.stderr)
        return _write(html, as_html())
    if not looks_like("png", data):  # a failed render: a few bytes that are no image
        print(
            f"PNG export failed (the browser returned {len(data)} bytes that are not a PNG); "
            f"writing {html} instead",
            file=sys.stderr,
        )
        return _write(html, as_html())
    return _write(path, data)


if __name__ == "__main__":
    sys.exit(main())
