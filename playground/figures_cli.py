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
Outputs are the app's downloads, under the same file names (playground.writers writes the
data, viz.export the images).

Everything on the command line is treated as hostile: the setup file is read with a size cap
before parsing (`--setup /dev/zero` fails at once), a link over MAX_LINK_CHARS is refused, a
custom surface without a formula is refused (never the example formula in its place), warnings
are printed at most MAX_WARNING_LINES at a time with control characters escaped, image sizes
Chromium cannot render are refused up front, an image whose bytes are not the asked-for format
is not written, and every file is written through a temp file and os.replace, never through an
existing symbolic link (a link at --out or at an output file is refused).

Exit codes: 0 when something was written (even if image exports had to be skipped for want of
Chromium, which is reported), 1 when nothing could be written (or a file could not be, or the
browser rendered no valid image), 2 for a bad command line, link, formula, setup file, image
size or output path (a one-line message, never a traceback).
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
from playground import writers
from playground.numbers import format_number
from playground.setup import (
    CUSTOM,
    MAX_EXPRESSION_CHARS,
    MAX_UPLOAD_BYTES,
    SCHEDULE_NUMBERS,
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
FIGURE_FILES = {
    "contour": "paths",
    "3d": "surface-3d",
    "loss": "loss",
    "distance": "distance",
    "step": "step-length",
    "animation": "animation",
}
FORMAT_CHOICES = ("png", "svg", "pdf", "html")
IMAGE_FORMATS = ("png", "svg", "pdf")
DATA_CHOICES = ("csv", "json")
MAX_LINK_FIELDS = 200  # a link with more query fields than this is not one the app made
MAX_LINK_CHARS = 20_000  # 8 optimizers with every hyperparameter and a formula need ~6,000
MAX_HP_VALUE_CHARS = 100  # one --hp value (a number or a switch)
MAX_WARNING_LINES = 20  # then "... and N more"
MAX_MESSAGE_CHARS = 1000  # one warning line (values inside are already cut to ~40-80)
# Chromium renders 16000 x 2500 and 7000 x 7000 px; a 64000 px canvas comes back as 3 bytes.
MAX_IMAGE_SIDE_PX = 16_000  # width (or height) x scale
MAX_IMAGE_PIXELS = 40_000_000  # width x height x scale², e.g. 4000 x 2500 at scale 2
DEFAULT_IMAGE_HEIGHT = 720  # the tallest figure's own height (used when --height is not given)

_HP_RE = re.compile(r"^([a-z_]+)(?:#(\d+))?\.([a-z_][a-z0-9_]*)=([^,()]+)$")


class CliError(Exception):
    """A problem with the user's input or environment, reported as one line (no traceback)."""

    def __init__(self, message: str, code: int = 2) -> None:
        super().__init__(message)
        self.code = code


# --- argument types: malformed flags become argparse errors ----------------------------------


def _choice_list(choices: Sequence[str], what: str, all_or_none: bool = False) -> Callable[[str], list[str]]:
    def parse(text: str) -> list[str]:
        items = [t.strip() for t in text.split(",") if t.strip()]
        if all_or_none and items in (["all"], ["none"]):
            return list(choices) if items == ["all"] else []
        bad = [t for t in items if t not in choices]
        if bad or not items:
            raise argparse.ArgumentTypeError(
                f"unknown {what} {', '.join(map(repr, bad)) or repr(text)} "
                f"(choose from {', '.join(choices)}{', all or none' if all_or_none else ''})"
            )
        return list(dict.fromkeys(items))  # repeated names once, order kept

    return parse


def _optimizer_list(text: str) -> list[str]:
    # Repeats are allowed here (adam,adam compares two Adams), unlike the other lists.
    names = [t.strip() for t in text.split(",") if t.strip()]
    bad = [n for n in names if n not in OPTIMIZERS]
    if bad or not names:
        raise argparse.ArgumentTypeError(
            f"unknown optimizer {', '.join(map(repr, bad)) or repr(text)} "
            f"(choose from {', '.join(OPTIMIZERS)})"
        )
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
            f"{text!r} is not OPTIMIZER.NAME=VALUE (e.g. adam.learning_rate=0.05, adam#2.b1=0.5)"
        )
    name, nth, key, value = match.groups()
    if len(value.strip()) > MAX_HP_VALUE_CHARS:
        raise argparse.ArgumentTypeError(
            f"the value of {name}.{key} is longer than {MAX_HP_VALUE_CHARS} characters"
        )
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
    one.add_argument(
        "--setup",
        metavar="FILE.json",
        type=Path,
        help="a setup saved from the app (its 'setup JSON' download)",
    )
    one.add_argument("--link", metavar="URL", help="a share link copied from the app")
    src.add_argument(
        "--surface",
        choices=[*SURFACES, CUSTOM],
        metavar="NAME",
        help=f"default rosenbrock; one of {', '.join([*SURFACES, CUSTOM])}",
    )
    src.add_argument(
        "--formula", help="a custom surface f(x, y), e.g. 'x**2 + 3*y**2' (implies --surface custom)"
    )
    src.add_argument(
        "--optimizers",
        type=_optimizer_list,
        metavar="A,B,...",
        help=f"comma-separated, up to 8 (default: sgd,momentum,rmsprop,adam); known: {', '.join(OPTIMIZERS)}",
    )
    src.add_argument(
        "--hp",
        type=_hp,
        action="append",
        default=[],
        metavar="OPT.NAME=VALUE",
        help="a hyperparameter, repeatable: adam.learning_rate=0.05; adam#2.b1=0.5 for the second Adam",
    )
    src.add_argument(
        "--preset",
        choices=list(PRESETS),
        help="hyperparameter defaults of every optimizer (resets their values)",
    )
    src.add_argument("--steps", type=int, help="number of steps (10-5000; default 500)")
    src.add_argument("--start", type=_point, metavar="X,Y", help="start point (default: the surface's)")
    src.add_argument("--noise", type=float, help="gradient noise σ (default 0)")
    src.add_argument("--seed", type=int, help="noise seed (default 0)")
    src.add_argument(
        "--schedule", choices=list(SCHEDULE_KINDS), help="learning-rate schedule (default constant)"
    )
    src.add_argument(
        "--strict",
        action="store_true",
        help="treat every warning about the setup (clamped or ignored values) as an error",
    )

    out = p.add_argument_group("output")
    out.add_argument("--out", required=True, type=Path, metavar="DIR", help="output directory (created)")
    out.add_argument(
        "--figures",
        type=_choice_list(FIGURE_CHOICES, "figure", all_or_none=True),
        default=["contour", "loss"],
        metavar="LIST",
        help=f"any of {','.join(FIGURE_CHOICES)}, all or none (default: contour,loss); "
        "'animation' is interactive, so HTML only: use --gif for slides",
    )
    out.add_argument(
        "--formats",
        type=_choice_list(FORMAT_CHOICES, "format"),
        default=["png", "html"],
        metavar="LIST",
        help=f"any of {','.join(FORMAT_CHOICES)} (default: png,html)",
    )
    out.add_argument("--gif", action="store_true", help="the animation as animation.gif")
    out.add_argument(
        "--data",
        type=_choice_list(DATA_CHOICES, "data format"),
        nargs="?",
        const=list(DATA_CHOICES),
        default=[],
        metavar="LIST",
        help="trajectories and metrics as csv and/or json (bare --data: both)",
    )
    out.add_argument(
        "--setup-json",
        action="store_true",
        help="also write setup.json (loads back into the app and into --setup)",
    )
    out.add_argument(
        "--width",
        type=_bounded(int, 8000),
        help="image width in px (default 900; the GIF is 640 wide); width and "
        f"height times scale at most {MAX_IMAGE_SIDE_PX} px each and "
        f"{MAX_IMAGE_PIXELS // 1_000_000} million pixels in all",
    )
    out.add_argument("--height", type=_bounded(int, 8000), help="image height in px (default: the figure's)")
    out.add_argument(
        "--scale", type=_bounded(float, 8), help="pixel density of images (default: PNG 2, SVG/PDF 1)"
    )
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


def _check_formula(surface: object, formula: object, where: str = "the link") -> None:
    """A custom surface needs a usable formula: from_query/from_json would put the example
    formula in its place with a warning, and the slides would show a function nobody chose."""
    if surface != CUSTOM:
        return
    if not isinstance(formula, str) or not formula.strip():
        key = "f=" if where == "the link" else '"expression"'
        raise CliError(
            f"{where} asks for a custom surface but gives no formula ({key}); "
            "refusing to draw the example formula instead"
        )
    problem = _formula_problem(formula)
    if problem is not None:
        raise CliError(f"the formula {formula[:80]!r} can't be used: {problem}")


def parse_link(link: str) -> Query:
    """The query of a share link (repeated keys kept as lists, as from_query expects)."""
    if len(link) > MAX_LINK_CHARS:
        raise CliError(
            f"the link is {len(link)} characters long, more than the "
            f"{MAX_LINK_CHARS} any link from the app needs; not read"
        )
    text = link.strip()
    try:
        query = urlsplit(text).query
    except ValueError as exc:  # e.g. "Invalid IPv6 URL" for http://[::1
        raise CliError(f"the link can't be read: {exc}") from None
    if not query and "=" in text and "://" not in text:
        query = text.lstrip("?")  # just the part after '?', pasted on its own
    try:
        parsed = parse_qs(query, keep_blank_values=True, max_num_fields=MAX_LINK_FIELDS)
    except ValueError as exc:
        raise CliError(f"the link can't be read: {exc}") from None
    if "s" not in parsed and "o" not in parsed:
        raise CliError(
            "the link holds no Playground setup (expected a link copied from the app, "
            "like http://host/playground?s=rosenbrock&o=adam&o=sgd)"
        )
    _check_formula(parsed.get("s", [""])[-1], parsed.get("f", [None])[-1])
    return dict(parsed)


def read_setup_file(path: Path) -> tuple[Setup, list[str]]:
    """A saved setup, validated by from_json. A file that holds no setup at all is an error here
    (the app would load the defaults): exporting defaults nobody asked for helps no one."""
    import json

    try:
        with path.open("rb") as f:  # at most one byte past the cap: /dev/zero ends here too
            raw = f.read(MAX_UPLOAD_BYTES + 1)
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
    _check_formula(data.get("surface"), data.get("expression"), where=str(path))
    return from_json(raw)


def _has_overrides(args: argparse.Namespace) -> bool:
    return any(
        getattr(args, k) not in (None, [])
        for k in (
            "surface",
            "formula",
            "optimizers",
            "hp",
            "preset",
            "steps",
            "start",
            "noise",
            "seed",
            "schedule",
        )
    )


def _optimizer_tokens(base: Setup, args: argparse.Namespace) -> list[str]:
    """The `o=` values of the link: name(key=value,...)@preset, one per optimizer.

    Entries kept from the base setup carry their values exactly; --preset resets them to that
    preset's defaults (as choosing a preset does), then --hp values apply as given text.
    """
    if args.optimizers is not None:
        entries: list[tuple[str, str, dict[str, str]]] = [
            (name, args.preset or "optax", {}) for name in args.optimizers
        ]
    else:
        entries = [
            (
                e.name,
                args.preset or e.preset,
                {}
                if args.preset and args.preset != e.preset
                else {k: format_number(v, None) for k, v in e.hparams.items()},
            )
            for e in base.optimizers
        ]
    names = [name for name, _, _ in entries]
    for hp in args.hp:
        count = names.count(hp.optimizer)
        if count == 0:
            raise CliError(
                f"--hp {hp.optimizer}.{hp.key}: there is no {hp.optimizer} among the "
                f"optimizers ({', '.join(names)})"
            )
        if hp.nth is not None and not 1 <= hp.nth <= count:
            raise CliError(f"--hp {hp.optimizer}#{hp.nth}.{hp.key}: there are {count} {hp.optimizer} entries")
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
    exact.update({f"sched.{k}": float(getattr(base.schedule, k)) for k in SCHEDULE_NUMBERS})
    q.update({k: format_number(v, None) for k, v in exact.items() if k in q})
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


def terminal_safe(text: str, limit: int = MAX_MESSAGE_CHARS) -> str:
    """One line a terminal shows as it is: every non-printable character (escape sequences,
    carriage returns, bidi overrides, ...) written as \\xNN / \\uNNNN, newlines as spaces,
    at most `limit` characters (then an ellipsis). Link and file values end up in messages."""
    flat = text[: limit + 1].replace("\n", " ")
    flat = "".join(c if c.isprintable() else c.encode("unicode_escape").decode("ascii") for c in flat)
    return flat if len(flat) <= limit else flat[: limit - 1] + "…"


def print_warnings(warnings: Sequence[str], limit: int = MAX_WARNING_LINES) -> None:
    """Every warning on stderr, one line each, at most `limit` lines and then how many more."""
    for message in warnings[:limit]:
        print(f"warning: {terminal_safe(message)}", file=sys.stderr)
    if len(warnings) > limit:
        print(f"warning: ... and {len(warnings) - limit} more", file=sys.stderr)


def _output_names(args: argparse.Namespace) -> list[str]:
    """Every file name this command line may write (checked before any work is done)."""
    names = ["setup.json"] if args.setup_json else []
    for fmt in args.data:
        names += [f"trajectories.{fmt}", f"metrics.{fmt}"]
    for name in args.figures:
        for fmt in args.formats:
            if fmt == "html" or name != "animation":
                names.append(f"{FIGURE_FILES[name]}.{fmt}")
    return names + (["animation.gif"] if args.gif else [])


def check_outputs(args: argparse.Namespace) -> None:
    """Refuse a symbolic link at --out or at any file to be written (or a non-file there)."""
    from viz.export import UnsafeOutput, check_output_path

    if args.out.is_symlink():
        raise CliError(
            f"--out {args.out} is a symbolic link (to {args.out.resolve()}); "
            "refusing to write through it: give the real directory"
        )
    for name in _output_names(args):
        try:
            check_output_path(args.out / name)
        except UnsafeOutput as exc:
            raise CliError(str(exc)) from None


def check_image_size(args: argparse.Namespace) -> None:
    """Refuse sizes Chromium cannot render (it hands back a few bytes instead of an image)."""
    from viz.export import DEFAULT_WIDTH

    formats = [f for f in args.formats if f in IMAGE_FORMATS]
    if not formats and args.width is None and args.height is None and args.scale is None:
        return
    width = args.width or DEFAULT_WIDTH
    height = args.height or DEFAULT_IMAGE_HEIGHT
    scale = args.scale if args.scale is not None else (2.0 if "png" in formats else 1.0)
    _check_pixels(width, height, scale)


def _check_pixels(width: float, height: float, scale: float) -> None:
    side = max(width, height) * scale
    pixels = width * height * scale * scale
    if side > MAX_IMAGE_SIDE_PX or pixels > MAX_IMAGE_PIXELS:
        raise CliError(
            f"images of {width:g} x {height:g} px at scale {scale:g} would be "
            f"{width * scale:g} x {height * scale:g} pixels; at most {MAX_IMAGE_SIDE_PX} per side "
            f"and {MAX_IMAGE_PIXELS / 1e6:g} million in all can be rendered (lower --width, "
            "--height or --scale)"
        )


class _Writer:
    """Writes files into the output directory (temp file + rename, never through a symlink)
    and lists each one with its size."""

    def __init__(self, out: Path) -> None:
        self.out = out
        self.written: list[Path] = []

    def write(self, name: str, data: bytes | str) -> None:
        from viz.export import UnsafeOutput, write_file

        path = self.out / name
        try:
            size = write_file(path, data)
        except UnsafeOutput as exc:
            raise CliError(str(exc)) from None
        except OSError as exc:
            raise CliError(f"can't write {path}: {exc.strerror or exc}", code=1) from None
        self.written.append(path)
        print(f"{path}  ({_size(size)})", flush=True)

    def write_image(self, name: str, fmt: str, data: bytes) -> None:
        """An image, only if its bytes really are `fmt` (else an error and no file)."""
        from viz.export import looks_like

        if not looks_like(fmt, data):
            raise CliError(
                f"the browser returned {len(data)} bytes that are not a "
                f"{fmt.upper()} image for {name} (is the image too large to render?); "
                "not written",
                code=1,
            )
        self.write(name, data)


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

        return animation_gif(
            self.run.surface, list(self.run.trajectories), surface_params=self.params, colors=self.colors
        )


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
    data_writers = {
        "csv": (writers.trajectories_csv, writers.metrics_csv),
        "json": (writers.trajectories_json, writers.metrics_json),
    }
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
        warnings.append(
            "the animation is interactive, so it is written as HTML only; --gif writes it for slides."
        )
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
            fig = figures[name]
            _check_pixels(
                args.width or fig.layout.width or vx.DEFAULT_WIDTH,
                args.height or fig.layout.height or vx.DEFAULT_HEIGHT,
                scale.get("scale", 2.0 if fmt == "png" else 1.0),
            )
            writer.write_image(
                f"{FIGURE_FILES[name]}.{fmt}",
                fmt,
                render[fmt](fig, width=args.width, height=args.height, **scale),
            )
        if args.gif:
            writer.write_image("animation.gif", "gif", drawing.gif())
    except vx.ExportUnavailable as exc:  # the browser failed mid-way: keep what was written
        warnings.append(f"{exc} The remaining images were skipped.")
    return warnings


def _summary(setup: Setup) -> str:
    from playground.compute import entry_label

    surface = (
        "custom f(x, y) = " + setup.expression if setup.surface == CUSTOM else SURFACES[setup.surface].label
    )
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
    from optim_core import configure_jax

    configure_jax()  # the persistent compilation cache, before the first compile
    try:
        check_image_size(args)
        check_outputs(args)
        setup, warnings = resolve_setup(args)
        print_warnings(warnings)
        if warnings and args.strict:
            raise CliError(f"{len(warnings)} problem(s) with the setup (see above) and --strict was given")
        try:
            args.out.mkdir(parents=True, exist_ok=True)
        except OSError as exc:
            raise CliError(f"can't create {args.out}: {exc.strerror or exc}", code=1) from None
        print(_summary(setup), flush=True)
        writer = _Writer(args.out)
        print_warnings(export(setup, args, writer))
    except CliError as exc:
        print(f"{PROG}: error: {terminal_safe(str(exc), 1000)}", file=sys.stderr)
        return exc.code
    if not writer.written:
        print(f"{PROG}: error: nothing was written (see the warnings above)", file=sys.stderr)
        return 1
    return 0
