"""`python -m viz`: the Playground's figures and data as files, for people making slides.

    python -m viz --link 'http://host/playground?s=rosenbrock&o=adam(learning_rate=0.02)&o=sgd' \\
        --out slides --figures contour,loss --formats png,svg --gif --data csv,json
    python -m viz --setup setup.json --out slides --steps 200
    python -m viz --surface ravine --optimizers sgd,momentum --hp sgd.learning_rate=0.01 --out slides

The setup comes from a saved setup file, a share link, or flags, and flags given with a file or a
link change it. Every path goes through playground.setup's validators (from_json / from_query),
which warn (on stderr) where the app would; only where the app falls back to a default for
input that holds nothing usable (a bad formula, an empty link, a file that is no setup) does the
CLI stop instead, since slides of a setup nobody asked for help no one.
Outputs are the app's downloads, under the same file names (viz.export writes the bytes).

Exit codes: 0 when something was written (even if image exports had to be skipped for want of
Chromium, which is reported), 1 when nothing could be written, 2 for a bad command line, link,
formula or setup file (a one-line message, never a traceback).
"""

from __future__ import annotations

import argparse
import re
import sys
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING
from urllib.parse import parse_qs, urlsplit

from optim_core import OPTIMIZERS, PRESETS
from optim_core.schedules import SCHEDULE_KINDS
from playground.setup import (
    CUSTOM,
    MAX_EXPRESSION_CHARS,
    MAX_UPLOAD_BYTES,
    Setup,
    from_json,
    from_query,
    to_json,
    to_query,
)
from surfaces import SURFACES, ExpressionError, from_expression

if TYPE_CHECKING:
    import plotly.graph_objects as go

    from playground.compute import PlaygroundRun

PROG = "python -m viz"
FIGURE_CHOICES = ("contour", "3d", "loss", "distance", "step", "animation")
# The app's download names (playground/exports.py), so files from either place match.
FIGURE_FILES = {"contour": "paths", "3d": "surface-3d", "loss": "loss", "distance": "distance",
                "step": "step-length", "animation": "animation"}
FORMAT_CHOICES = ("png", "svg", "pdf", "html")
IMAGE_FORMATS = ("png", "svg", "pdf")
DATA_CHOICES = ("csv", "json")
MAX_LINK_FIELDS = 200  # a link with more query fields than this is not one the app made

_HP_RE = re.compile(r"^([a-z_]+)(?:#(\d+))?\.([a-z_][a-z0-9_]*)=([^,()]+)$")


class CliError(Exception):
    """A problem with the user's input or environment, reported as one line (no traceback)."""

    def __init__(self, message: str, code: int = 2) -> None:
        super().__init__(message)
        self.code = code


# --- argument types: malformed flags become argparse errors ----------------------------------


def _choice_list(choices: Sequence[str], what: str,
                 all_or_none: bool = False) -> Callable[[str], list[str]]:
    def parse(text: str) -> list[str]:
        items = [t.strip() for t in text.split(",") if t.strip()]
        if all_or_none and items in (["all"], ["none"]):
            return list(choices) if items == ["all"] else []
        bad = [t for t in items if t not in choices]
        if bad or not items:
            raise argparse.ArgumentTypeError(
                f"unknown {what} {', '.join(map(repr, bad)) or repr(text)} "
                f"(choose from {', '.join(choices)}{', all or none' if all_or_none else ''})")
        return list(dict.fromkeys(items))  # repeated names once, order kept

    return parse


def _optimizer_list(text: str) -> list[str]:
    # Repeats are allowed here (adam,adam compares two Adams), unlike the other lists.
    names = [t.strip() for t in text.split(",") if t.strip()]
    bad = [n for n in names if n not in OPTIMIZERS]
    if bad or not names:
        raise argparse.ArgumentTypeError(
            f"unknown optimizer {', '.join(map(repr, bad)) or repr(text)} "
            f"(choose from {', '.join(OPTIMIZERS)})")
    return names


@dataclass(frozen=True)
class HpOverride:
    optimizer: str
    nth: int | None  # 1-based among entries of that optimizer (adam#2); None: every one
    key: str
    value: str  # left as text: from_query validates it like a link value


def _hp(text: str) -> HpOverride:
    match = _HP_RE.match(text.strip())
    if not match:
        raise argparse.ArgumentTypeError(
            f"{text!r} is not OPTIMIZER.NAME=VALUE (e.g. adam.learning_rate=0.05, adam#2.b1=0.5)")
    name, nth, key, value = match.groups()
    if name not in OPTIMIZERS:
        raise argparse.ArgumentTypeError(f"unknown optimizer {name!r} in {text!r}")
    return HpOverride(name, int(nth) if nth else None, key, value.strip())


def _point(text: str) -> tuple[float, float]:
    parts = text.split(",")
    try:
        if len(parts) != 2:
            raise ValueError
        return float(parts[0]), float(parts[1])
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not X,Y (e.g. -1.5,2)") from None


def _bounded(kind: type[int] | type[float], high: float) -> Callable[[str], float]:
    # An upper bound too: --scale 100 would have Chromium allocate gigabytes.
    def parse(text: str) -> float:
        try:
            value = kind(text)
        except ValueError:
            raise argparse.ArgumentTypeError(f"{text!r} is not a number") from None
        if not 0 < value <= high:
            raise argparse.ArgumentTypeError(f"{text!r} must be above 0 and at most {high:g}")
        return value

    return parse


def build_parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(
        prog=PROG,
        description="Write the Optimizer Playground's figures and data to files, from flags, "
                    "a saved setup (JSON) or a share link.",
        epilog="Examples:\n"
               f"  {PROG} --link 'http://host/playground?s=rosenbrock&o=adam(learning_rate=0.02)"
               "&o=sgd' --out slides\n"
               f"  {PROG} --setup setup.json --out slides --figures all --formats png,pdf --gif\n"
               f"  {PROG} --surface ravine --optimizers sgd,momentum --hp sgd.learning_rate=0.01 "
               "--steps 200 --out slides --data csv,json",
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    src = p.add_argument_group("input (flags given with --setup or --link change that setup)")
    one = src.add_mutually_exclusive_group()
    one.add_argument("--setup", metavar="FILE.json", type=Path,
                     help="a setup saved from the app (its 'setup JSON' download)")
    one.add_argument("--link", metavar="URL", help="a share link copied from the app")
    src.add_argument("--surface", choices=[*SURFACES, CUSTOM], metavar="NAME",
                     help=f"default rosenbrock; one of {', '.join([*SURFACES, CUSTOM])}")
    src.add_argument("--formula", help="a custom surface f(x, y), e.g. 'x**2 + 3*y**2' "
                                       "(implies --surface custom)")
    src.add_argument("--optimizers", type=_optimizer_list, metavar="A,B,...",
                     help=f"comma-separated, up to 8 (default: sgd,momentum,rmsprop,adam); "
                          f"known: {', '.join(OPTIMIZERS)}")
    src.add_argument("--hp", type=_hp, action="append", default=[], metavar="OPT.NAME=VALUE",
                     help="a hyperparameter, repeatable: adam.learning_rate=0.05; adam#2.b1=0.5 "
                          "for the second Adam")
    src.add_argument("--preset", choices=list(PRESETS),
                     help="hyperparameter defaults of every optimizer (resets their values)")
    src.add_argument("--steps", type=int, help="number of steps (10-5000; default 500)")
    src.add_argument("--start", type=_point, metavar="X,Y",
                     help="start point (default: the surface's)")
    src.add_argument("--noise", type=float, help="gradient noise σ (default 0)")
    src.add_argument("--seed", type=int, help="noise seed (default 0)")
    src.add_argument("--schedule", choices=list(SCHEDULE_KINDS),
                     help="learning-rate schedule (default constant)")
    src.add_argument("--strict", action="store_true",
                     help="treat every warning about the setup (clamped or ignored values) as "
                          "an error")

    out = p.add_argument_group("output")
    out.add_argument("--out", required=True, type=Path, metavar="DIR",
                     help="output directory (created)")
    out.add_argument("--figures", type=_choice_list(FIGURE_CHOICES, "figure", all_or_none=True),
                     default=["contour", "loss"], metavar="LIST",
                     help=f"any of {','.join(FIGURE_CHOICES)}, all or none (default: contour,loss); "
                          "'animation' is interactive, so HTML only: use --gif for slides")
    out.add_argument("--formats", type=_choice_list(FORMAT_CHOICES, "format"),
                     default=["png", "html"], metavar="LIST",
                     help=f"any of {','.join(FORMAT_CHOICES)} (default: png,html)")
    out.add_argument("--gif", action="store_true", help="the animation as animation.gif")
    out.add_argument("--data", type=_choice_list(DATA_CHOICES, "data format"), nargs="?",
                     const=list(DATA_CHOICES), default=[], metavar="LIST",
                     help="trajectories and metrics as csv and/or json (bare --data: both)")
    out.add_argument("--setup-json", action="store_true",
                     help="also write setup.json (loads back into the app and into --setup)")
    out.add_argument("--width", type=_bounded(int, 8000),
                     help="image width in px (default 900; the GIF is 640 wide)")
    out.add_argument("--height", type=_bounded(int, 8000),
                     help="image height in px (default: the figure's)")
    out.add_argument("--scale", type=_bounded(float, 8),
                     help="pixel density of images (default: PNG 2, SVG/PDF 1)")
    return p


# --- the setup -------------------------------------------------------------------------------

Query = dict[str, str | list[str]]


def _formula_problem(formula: str) -> str | None:
    """Why a custom formula cannot be used, else None. from_query would fall back to the example
    formula with a warning; on the command line that would make slides of the wrong function."""
    if len(formula) > MAX_EXPRESSION_CHARS:
        return f"it is longer than {MAX_EXPRESSION_CHARS} characters"
    try:
        from_expression(formula)
    except ExpressionError as exc:
        return str(exc)
    return None


def _check_formula(surface: object, formula: object) -> None:
    if surface == CUSTOM and isinstance(formula, str):
        problem = _formula_problem(formula)
        if problem is not None:
            raise CliError(f"the formula {formula[:80]!r} can't be used: {problem}")


def parse_link(link: str) -> Query:
    """The query of a share link (repeated keys kept as lists, as from_query expects)."""
    text = link.strip()
    query = urlsplit(text).query
    if not query and "=" in text and "://" not in text:
        query = text.lstrip("?")  # just the part after '?', pasted on its own
    try:
        parsed = parse_qs(query, keep_blank_values=True, max_num_fields=MAX_LINK_FIELDS)
    except ValueError as exc:
        raise CliError(f"the link can't be read: {exc}") from None
    if "s" not in parsed and "o" not in parsed:
        raise CliError("the link holds no Playground setup (expected a link copied from the app, "
                       "like http://host/playground?s=rosenbrock&o=adam&o=sgd)")
    _check_formula(parsed.get("s", [""])[-1], parsed.get("f", [None])[-1])
    return dict(parsed)


def read_setup_file(path: Path) -> tuple[Setup, list[str]]:
    """A saved setup, validated by from_json. A file that holds no setup at all is an error here
    (the app would load the defaults): exporting defaults nobody asked for helps no one."""
    import json

    try:
        raw = path.read_bytes()
    except OSError as exc:
        raise CliError(f"can't read the setup file {str(path)!r}: {exc.strerror or exc}") from None
    if len(raw) > MAX_UPLOAD_BYTES:
        raise CliError(f"{path} is larger than {MAX_UPLOAD_BYTES // 1000} kB; not a saved setup")
    try:
        data = json.loads(raw)
    except (ValueError, UnicodeDecodeError) as exc:
        raise CliError(f"{path} is not valid JSON: {str(exc)[:120]}") from None
    if not isinstance(data, dict):
        raise CliError(f"{path} holds no setup object (expected the app's setup JSON)")
    _check_formula(data.get("surface"), data.get("expression"))
    return from_json(raw)


def _has_overrides(args: argparse.Namespace) -> bool:
    return any(getattr(args, k) not in (None, []) for k in (
        "surface", "formula", "optimizers", "hp", "preset", "steps", "start", "noise", "seed",
        "schedule"))


def _exact(value: float) -> str:
    """A number as link text that reads back to the same value. Whole numbers are written
    without '.0': switches (1.0/0.0) and counts (decay_every) are read as 1/0 and integers."""
    number = float(value)
    if number.is_integer() and abs(number) < 2**53:
        return str(int(number))
    return repr(number)


def _optimizer_tokens(base: Setup, args: argparse.Namespace) -> list[str]:
    """The `o=` values of the link: name(key=value,...)@preset, one per optimizer.

    Entries kept from the base setup carry their values exactly; --preset resets them to that
    preset's defaults (as choosing a preset does), then --hp values apply as given text.
    """
    if args.optimizers is not None:
        entries = [(name, args.preset or "optax", {}) for name in args.optimizers]
    else:
        entries = [(e.name, args.preset or e.preset,
                    {} if args.preset and args.preset != e.preset
                    else {k: _exact(v) for k, v in e.hparams.items()})
                   for e in base.optimizers]
    names = [name for name, _, _ in entries]
    for hp in args.hp:
        count = names.count(hp.optimizer)
        if count == 0:
            raise CliError(f"--hp {hp.optimizer}.{hp.key}: there is no {hp.optimizer} among the "
                           f"optimizers ({', '.join(names)})")
        if hp.nth is not None and not 1 <= hp.nth <= count:
            raise CliError(f"--hp {hp.optimizer}#{hp.nth}.{hp.key}: there are {count} "
                           f"{hp.optimizer} entries")
    tokens = []
    for i, (name, preset, values) in enumerate(entries):
        nth = names[: i + 1].count(name)
        for hp in args.hp:
            if hp.optimizer == name and hp.nth in (None, nth):
                values[hp.key] = hp.value
        args_text = ",".join(f"{k}={v}" for k, v in values.items())
        tokens.append(f"{name}({args_text})@{preset}" if args_text else f"{name}@{preset}")
    return tokens


def flags_query(base: Setup, args: argparse.Namespace) -> Query:
    """The share-link query of `base` with the flags applied (what from_query then validates)."""
    q: Query = dict(to_query(base))
    # to_query keeps 6 significant digits (short links); a saved setup must not lose any.
    exact: dict[str, float] = {"noise": base.noise}
    if base.start is not None:
        exact.update(x0=base.start[0], y0=base.start[1])
    exact.update({f"sp.{k}": v for k, v in base.surface_params.items()})
    exact.update({f"sched.{k}": v for k, v in base.schedule.to_dict().items() if k != "kind"})
    q.update({k: _exact(v) for k, v in exact.items() if k in q})
    q["o"] = _optimizer_tokens(base, args)
    surface = CUSTOM if args.formula is not None else args.surface
    if surface == CUSTOM and args.formula is None and base.surface != CUSTOM:
        raise CliError("--surface custom needs --formula, e.g. --formula 'x**2 + 3*y**2'")
    if (surface is not None and surface != base.surface) or args.formula is not None:
        # Another surface: its parameters and start point were the old surface's.
        for k in [k for k in q if k.startswith("sp.") or k in ("x0", "y0", "f")]:
            del q[k]
        q["s"] = surface
        if args.formula is not None:
            q["f"] = args.formula
    for key, value in (("steps", args.steps), ("noise", args.noise), ("seed", args.seed)):
        if value is not None:
            q[key] = repr(value)
    if args.start is not None:
        q["x0"], q["y0"] = repr(args.start[0]), repr(args.start[1])
    if args.schedule is not None:
        q["sched"] = args.schedule
    return q


def resolve_setup(args: argparse.Namespace) -> tuple[Setup, list[str]]:
    """The Setup the command line describes, and every validation warning on the way."""
    if args.formula is not None and args.surface not in (None, CUSTOM):
        raise CliError(f"--formula needs --surface custom (or no --surface), not {args.surface!r}")
    if args.formula is not None:
        _check_formula(CUSTOM, args.formula)
    warnings: list[str] = []
    if args.setup is not None:
        base, warnings = read_setup_file(args.setup)
    elif args.link is not None:
        base, warnings = from_query(parse_link(args.link))
    else:
        base = Setup()
    if not _has_overrides(args):
        return base, warnings
    setup, more = from_query(flags_query(base, args))
    return setup, warnings + more


# --- writing ---------------------------------------------------------------------------------


def _size(n: int) -> str:
    if n < 1000:
        return f"{n} B"
    if n < 1_000_000:
        return f"{n / 1000:.1f} kB"
    return f"{n / 1_000_000:.1f} MB"


def _warn(message: str) -> None:
    print(f"warning: {message}", file=sys.stderr)


class _Writer:
    """Writes files into the output directory and lists each one with its size."""

    def __init__(self, out: Path) -> None:
        self.out = out
        self.written: list[Path] = []

    def write(self, name: str, data: bytes | str) -> None:
        blob = data.encode("utf-8") if isinstance(data, str) else data
        path = self.out / name
        try:
            path.write_bytes(blob)
        except OSError as exc:
            raise CliError(f"can't write {path}: {exc.strerror or exc}", code=1) from None
        self.written.append(path)
        print(f"{path}  ({_size(len(blob))})", flush=True)


@dataclass(frozen=True)
class _Drawing:
    """What every figure is drawn from, chosen as the Playground page chooses it."""

    run: PlaygroundRun
    params: dict[str, float]  # every surface parameter (the page fills in the defaults)
    colors: list[str]  # color_for(slot): the same colour per optimizer in every file

    @classmethod
    def of(cls, setup: Setup, run: PlaygroundRun) -> _Drawing:
        from viz.colors import color_for

        params = {p.name: setup.surface_params.get(p.name, p.default) for p in run.surface.params}
        return cls(run, params, [color_for(i) for i in range(len(run.trajectories))])

    def figure(self, name: str) -> go.Figure:
        from viz import contour as vc
        from viz import curves as vcurves

        s, t, p, c = self.run.surface, list(self.run.trajectories), self.params, self.colors
        builders: dict[str, Callable[[], go.Figure]] = {
            "contour": lambda: vc.contour_figure(s, t, p, colors=c, clickable=False),
            "3d": lambda: vc.surface3d_figure(s, t, p, colors=c),
            "loss": lambda: vcurves.loss_figure(t, s, p, colors=c),
            "distance": lambda: vcurves.distance_figure(s, t, colors=c),
            "step": lambda: vcurves.step_length_figure(t, colors=c),
            "animation": lambda: vc.animated_contour_figure(s, t, p, colors=c),
        }
        return builders[name]()

    def gif(self) -> bytes:
        from viz.export import animation_gif

        return animation_gif(self.run.surface, list(self.run.trajectories),
                             surface_params=self.params, colors=self.colors)


def export(setup: Setup, args: argparse.Namespace, writer: _Writer) -> list[str]:
    """Runs the setup and writes what was asked; returns warnings (divergence, skipped files)."""
    from playground.compute import divergence_messages, run_setup
    from viz import export as vx

    run = run_setup(setup)
    warnings = divergence_messages(run)
    drawing = _Drawing.of(setup, run)
    trajectories = list(run.trajectories)
    metric_rows = [m.as_row() for m in run.metrics]

    # What needs no browser first: a browser that fails must not cost the data files.
    if args.setup_json:
        writer.write("setup.json", to_json(setup))
    data_writers = {"csv": (vx.trajectories_csv, vx.metrics_csv),
                    "json": (vx.trajectories_json, vx.metrics_json)}
    for fmt in args.data:
        paths, metrics = data_writers[fmt]
        writer.write(f"trajectories.{fmt}", paths(trajectories))
        writer.write(f"metrics.{fmt}", metrics(metric_rows))
    figures = {name: drawing.figure(name) for name in args.figures}
    if "html" in args.formats:
        for name, fig in figures.items():
            writer.write(f"{FIGURE_FILES[name]}.html", vx.to_html(fig))

    images = [f for f in args.formats if f in IMAGE_FORMATS]
    if "animation" in figures and images:
        # A still of an animated figure shows its first frame only: misleading on a slide.
        warnings.append("the animation is interactive, so it is written as HTML only; "
                        "--gif writes it for slides.")
    wanted = [(n, f) for n in figures if n != "animation" for f in images]
    if not wanted and not args.gif:
        return warnings
    reason = vx.export_unavailable_reason()
    if reason is not None:
        skipped = [f"{FIGURE_FILES[n]}.{f}" for n, f in wanted]
        skipped += ["animation.gif"] if args.gif else []
        warnings.append(f"{reason} Skipped: {', '.join(skipped)}.")
        return warnings
    render = {"png": vx.to_png, "svg": vx.to_svg, "pdf": vx.to_pdf}
    scale = {} if args.scale is None else {"scale": args.scale}  # else each format's default
    try:
        for name, fmt in wanted:
            writer.write(f"{FIGURE_FILES[name]}.{fmt}",
                         render[fmt](figures[name], width=args.width, height=args.height, **scale))
        if args.gif:
            writer.write("animation.gif", drawing.gif())
    except vx.ExportUnavailable as exc:  # the browser failed mid-way: keep what was written
        warnings.append(f"{exc} The remaining images were skipped.")
    return warnings


def _summary(setup: Setup) -> str:
    from playground.compute import entry_label

    surface = "custom f(x, y) = " + setup.expression if setup.surface == CUSTOM \
        else SURFACES[setup.surface].label
    labels = ", ".join(entry_label(setup, i) for i in range(len(setup.optimizers)))
    return f"{surface}; {labels}; {setup.steps} steps"


def _glue_start(argv: Sequence[str]) -> list[str]:
    """`--start -1.5,2` as `--start=-1.5,2`: argparse takes '-1.5,2' for an option (it only
    knows plain negative numbers) and would refuse the most natural way to write a start."""
    out: list[str] = []
    for tok in argv:
        if out and out[-1] == "--start" and re.match(r"^-[\d.]", tok):
            out[-1] = f"--start={tok}"
        else:
            out.append(tok)
    return out


def parse_args(argv: Sequence[str] | None = None) -> argparse.Namespace:
    """The command line (sys.argv by default); argparse exits on a usage error."""
    return build_parser().parse_args(_glue_start(sys.argv[1:] if argv is None else argv))


def main(argv: Sequence[str] | None = None) -> int:
    """Runs the CLI; returns the exit code (argparse's own errors included, as 2)."""
    try:
        args = parse_args(argv)
    except SystemExit as exc:  # --help (0) or a usage error (2), already printed by argparse
        return int(exc.code or 0)
    try:
        setup, warnings = resolve_setup(args)
        for w in warnings:
            _warn(w)
        if warnings and args.strict:
            raise CliError(f"{len(warnings)} problem(s) with the setup (see above) and --strict "
                           "was given")
        try:
            args.out.mkdir(parents=True, exist_ok=True)
        except OSError as exc:
            raise CliError(f"can't create {args.out}: {exc.strerror or exc}", code=1) from None
        print(_summary(setup), flush=True)
        writer = _Writer(args.out)
        for w in export(setup, args, writer):
            _warn(w)
    except CliError as exc:
        print(f"{PROG}: error: {exc}", file=sys.stderr)
        return exc.code
    if not writer.written:
        print(f"{PROG}: error: nothing was written (see the warnings above)", file=sys.stderr)
        return 1
    return 0
