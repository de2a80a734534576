"""The one validated, immutable setup of the Playground (and Compare) page.

Data flows one way: widgets, a share link or an uploaded JSON file -> `Setup` -> runs ->
figures. The URL and the JSON export both serialize this object, so they cannot disagree.
Everything read from outside is untrusted: `from_query` and `from_json` never raise on bad
values; they fall back to defaults and return a list of warnings the page shows.
"""

from __future__ import annotations

import itertools
import json
import math
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field, replace
from typing import Any
from urllib.parse import urlencode

import numpy as np

from optim_core import OPTIMIZERS, PRESETS, HParams, HyperParam, OptimizerSettings, resolve_hparams
from optim_core.schedules import SCHEDULE_KINDS, Schedule
from playground.numbers import format_number
from playground.safe_text import shorten, shown
from surfaces import SURFACES, ExpressionError, from_expression
from surfaces._base import Surface

# Caps that keep any link or upload from exhausting the server.
MAX_OPTIMIZERS = 8
MAX_STEPS = 5000
MIN_STEPS = 10
MAX_EXPRESSION_CHARS = 300
MAX_QUERY_VALUE_CHARS = 2000
MAX_KEYS_PER_MAPPING = 100  # keys read from one mapping (hyperparameters, sp.*, sched.*, ...)
MAX_UPLOAD_BYTES = 200_000

# Widget ranges: what each control of the Playground and Compare pages can show. The readers
# below clamp every untrusted value to exactly these ranges and the pages build their widgets
# from them, so a value that got through can always be shown (Streamlit raises otherwise).
NOISE_RANGE = (0.0, 10.0)  # gradient noise σ (slider)
NOISE_STEP = 0.01
SEED_RANGE = (0, 2**31 - 1)  # noise seed (number box)
STEPS_STEP = 10  # the steps slider's step; any whole number in [MIN_STEPS, MAX_STEPS] is shown
DECAY_RATE_RANGE = (0.01, 1.0)  # step-decay γ (slider)
DECAY_RATE_STEP = 0.01
FINAL_FRACTION_RANGE = (0.0, 1.0)  # cosine final fraction (slider)
FINAL_FRACTION_STEP = 0.05
DECAY_EVERY_RANGE = (1, MAX_STEPS)  # number box
WARMUP_RANGE = (1, MAX_STEPS)  # number box
CUSTOM = "custom"
SCHEDULE_NUMBERS = ("decay_rate", "decay_every", "final_fraction", "warmup_steps")  # Schedule's numbers
DEFAULT_EXPRESSION = "sin(x)*cos(y) + 0.1*(x**2 + y**2)"
SETUP_FORMAT = "optimizer-playground/setup@1"

_NAME = re.compile(r"^[a-z_][a-z0-9_]{0,40}$")


# One optimizer on the page: its name, preset and full hyperparameter values. The app, the
# engine and MNIST training share this one type (optim_core.OptimizerSettings).
OptimizerEntry = OptimizerSettings


def _default_optimizers() -> tuple[OptimizerEntry, ...]:
    return tuple(OptimizerEntry.default(n) for n in ("sgd", "momentum", "rmsprop", "adam"))


@dataclass(frozen=True)
class Setup:
    surface: str = "rosenbrock"
    expression: str = DEFAULT_EXPRESSION  # used when surface == "custom"
    surface_params: Mapping[str, float] = field(default_factory=HParams)
    noise: float = 0.0
    seed: int = 0
    steps: int = 500
    start: tuple[float, float] | None = None  # None: the surface's default start
    schedule: Schedule = field(default_factory=Schedule)
    optimizers: tuple[OptimizerEntry, ...] = field(default_factory=_default_optimizers)
    focus: int = 0  # which optimizer the internals panel explains
    scrub: int = 0  # the scrubbed step of the internals panel
    classroom: bool = False  # hide the controls named in `hidden`
    hidden: tuple[str, ...] = ()

    def __post_init__(self) -> None:
        # Immutable all the way down, so a Setup is hashable and is the run cache's key.
        if not isinstance(self.surface_params, HParams):
            object.__setattr__(self, "surface_params", HParams(self.surface_params))
        if not isinstance(self.optimizers, tuple):
            object.__setattr__(self, "optimizers", tuple(self.optimizers))
        if not isinstance(self.hidden, tuple):
            object.__setattr__(self, "hidden", tuple(self.hidden))
        if self.start is not None and not isinstance(self.start, tuple):
            object.__setattr__(self, "start", tuple(self.start))

    def resolved_surface(self) -> Surface:
        """The Surface object; raises ExpressionError for a bad custom formula."""
        if self.surface == CUSTOM:
            return from_expression(self.expression)
        return SURFACES[self.surface]

    def resolved_start(self) -> tuple[float, float]:
        if self.start is not None:
            return self.start
        return self.resolved_surface().start

    def with_changes(self, **changes: Any) -> Setup:
        return replace(self, **changes)


HIDEABLE_CONTROLS: dict[str, str] = {
    "surface": "surface picker",
    "optimizers": "optimizer list",
    "hparams": "hyperparameter sliders",
    "schedule": "learning-rate schedule",
    "noise": "noise and seed",
    "start": "start point",
    "steps": "number of steps",
}


# --- reading untrusted values -------------------------------------------------------------


def widget_range(h: HyperParam) -> tuple[float, float]:
    """The values a hyperparameter's widget can show, and so what a link or file may set.

    A linear slider shows exactly [low, high]. A log-scale hyperparameter has a typed box beside
    its slider that takes any legal value (the slider then sits at the nearest stop), so its
    range is the valid range. A switch is 0 or 1.
    """
    if h.kind == "bool":
        return (0.0, 1.0)
    if h.log:
        return h.valid_range
    return (float(h.low), float(h.high))


LOG_STOPS_PER_DECADE = 10  # log sliders: at least this many stops per decade


def log_stops(low: float, high: float, per_decade: int = LOG_STOPS_PER_DECADE) -> list[float]:
    """A log slider's stops from low to high, rounded to 3 significant digits."""
    n = max(2, int(round(math.log10(high / low) * per_decade)) + 1)
    return sorted({float(f"{v:.3g}") for v in np.geomspace(low, high, n)})


def log_slider_options(low: float, high: float, value: float) -> list[float]:
    """A log slider's options: its stops plus the value in use, so that the slider shows exactly
    that value (a typed 0.035 is shown as 0.035, not as the nearest stop)."""
    options = log_stops(low, high)
    if low <= value <= high and value not in options:
        options = sorted([*options, value])
    return options


def linear_stops(h: HyperParam) -> list[float]:
    """Every value a linear slider can take: from its low end in steps of `linear_step`, and
    its high end."""
    step = linear_step(h)
    count = int(math.floor((h.high - h.low) / step + 1e-9))
    stops = {float(f"{h.low + k * step:.10g}") for k in range(count + 1)} | {float(h.high)}
    return sorted(v for v in stops if h.low <= v <= h.high)


def linear_step(h: HyperParam) -> float:
    """A linear slider's step: 200 steps over its range, rounded to 2 significant digits."""
    return float(f"{(h.high - h.low) / 200:.2g}")


_DECIMAL = re.compile(r"[+-]?(?:[0-9]+\.?[0-9]*|\.[0-9]+)(?:[eE][+-]?[0-9]+)?")
_NON_FINITE = {f"{sign}{word}" for sign in ("", "+", "-") for word in ("inf", "infinity", "nan")}
_WHOLE = re.compile(r"[+-]?[0-9]{1,12}")


def parse_number(raw: object) -> float | None:
    """A float from untrusted input, or None when it is not written as a plain number.

    Only ASCII decimal notation (and inf/nan, which the callers reject as not finite): no
    underscores, hex, unicode digits or booleans. Integers too large for a float become ±inf.
    """
    if isinstance(raw, bool):
        return None
    if isinstance(raw, int):
        try:
            return float(raw)
        except OverflowError:
            return math.inf if raw > 0 else -math.inf
    if isinstance(raw, float):
        return raw
    if isinstance(raw, str):
        text = raw.strip()
        if len(text) <= 400 and (_DECIMAL.fullmatch(text) or text.lower() in _NON_FINITE):
            return float(text)
    return None


def raw_text(raw: object) -> str:
    """An untrusted value quoted for a message (safe_text.shown); containers are only named."""
    if isinstance(raw, (str, int, float)) or raw is None:
        return shown(raw)
    return f"a {type(raw).__name__}"


def _names(items: Sequence[object], total: int) -> str:
    """'a', 'b', 'c' (and 7 more): at most five quoted names."""
    text = ", ".join(raw_text(i) for i in items[:5])
    return text + (f" (and {total - 5} more)" if total > 5 else "")


class Reader:
    """Reads and validates untrusted values, collecting a warning for every fallback.

    Every message that repeats an untrusted value quotes it with `raw_text` (safe_text.shown:
    truncated, control characters visible); the page escapes the whole message on display.
    """

    def __init__(self) -> None:
        self.warnings: list[str] = []
        self.reported: set[str] = set()  # query keys already warned about (first_value)

    def warn(self, message: str) -> None:
        self.warnings.append(message)

    def number(self, raw: object, what: str, default: float, low: float, high: float) -> float:
        value = parse_number(raw)
        if value is None:
            self.warn(f"{what}: {raw_text(raw)} is not a number; using {default:g}.")
            return default
        if not math.isfinite(value):
            self.warn(f"{what}: {raw_text(raw)} is not finite; using {default:g}.")
            return default
        value += 0.0  # -0 -> 0
        if not low <= value <= high:
            clamped = min(max(value, low), high)
            self.warn(f"{what}: {value:g} is outside [{low:g}, {high:g}]; using {clamped:g}.")
            return clamped
        return value

    def integer(self, raw: object, what: str, default: int, low: int, high: int) -> int:
        value: int | None = None
        if isinstance(raw, int) and not isinstance(raw, bool):
            value = raw
        elif isinstance(raw, float) and math.isfinite(raw) and raw.is_integer():
            value = int(raw)
        elif isinstance(raw, str) and _WHOLE.fullmatch(raw.strip()):
            value = int(raw.strip())
        if value is None:
            self.warn(f"{what}: {raw_text(raw)} is not a whole number; using {default}.")
            return default
        if not low <= value <= high:
            clamped = min(max(value, low), high)
            self.warn(f"{what}: {shorten(str(value), 30)} is outside [{low}, {high}]; using {clamped}.")
            return clamped
        return value

    def choice(self, raw: object, what: str, default: str, options: tuple[str, ...] | list[str]) -> str:
        if isinstance(raw, str) and raw in options:
            return raw
        listed = ", ".join(options[:15]) + (", ..." if len(options) > 15 else "")
        self.warn(f"{what}: {raw_text(raw)} is not one of {listed}; using {default!r}.")
        return default

    def boolean(self, raw: object, what: str, default: bool) -> bool:
        if isinstance(raw, bool):
            return raw
        text = raw.strip().lower() if isinstance(raw, str) else raw
        if text in ("1", "1.0", "true", "yes", "on", 1, 1.0):
            return True
        if text in ("0", "0.0", "false", "no", "off", 0, 0.0):
            return False
        self.warn(f"{what}: {raw_text(raw)} is not true/false; using {default}.")
        return default

    def capped(self, mapping: Mapping[Any, Any], what: str) -> list[tuple[Any, Any]]:
        """The first MAX_KEYS_PER_MAPPING items of an untrusted mapping (one warning for more)."""
        items = list(itertools.islice(mapping.items(), MAX_KEYS_PER_MAPPING))
        if len(mapping) > MAX_KEYS_PER_MAPPING:
            self.warn(
                f"{what}: {len(mapping)} entries given; read the first {MAX_KEYS_PER_MAPPING}, "
                f"ignored {len(mapping) - MAX_KEYS_PER_MAPPING}."
            )
        return items

    def optimizer(self, name: object, preset: object, hparams: Mapping[str, object]) -> OptimizerEntry | None:
        """One optimizer entry; each value read to its widget's range (`widget_range`)."""
        if not isinstance(name, str) or name not in OPTIMIZERS:
            self.warn(f"optimizer {raw_text(name)} is unknown and was dropped.")
            return None
        preset = self.choice(
            preset if preset is not None else "optax", f"{name} preset", "optax", tuple(PRESETS)
        )
        values = resolve_hparams(name, None, preset)
        spec = OPTIMIZERS[name]
        unknown: list[object] = []
        items = self.capped(hparams, f"{spec.label} hyperparameters")
        for key, raw in items:
            if key not in values:
                unknown.append(key)
                continue
            h = spec.hyperparam(key)
            if h.kind == "bool":
                values[key] = float(self.boolean(raw, f"{spec.label} {key}", bool(values[key])))
            else:
                low, high = widget_range(h)
                values[key] = self.number(raw, f"{spec.label} {key}", values[key], low, high)
        if unknown:
            self.warn(f"{spec.label}: no hyperparameter {_names(unknown, len(unknown))}; ignored.")
        return OptimizerEntry(name, values, preset)

    def surface(self, name: object, expression: object) -> tuple[str, str]:
        surface = self.choice(name, "surface", "rosenbrock", (*SURFACES, CUSTOM))
        text = DEFAULT_EXPRESSION
        if surface == CUSTOM:
            if not isinstance(expression, str):
                self.warn("custom formula missing; using the example formula.")
            elif len(expression) > MAX_EXPRESSION_CHARS:
                self.warn(
                    f"custom formula {raw_text(expression)} is longer than "
                    f"{MAX_EXPRESSION_CHARS} characters; using the example formula."
                )
            else:
                try:
                    from_expression(expression)
                    text = expression
                except ExpressionError as exc:
                    self.warn(
                        f"custom formula rejected ({shorten(str(exc), 160)}); using the example formula."
                    )
        return surface, text

    def surface_params(self, surface: str, raw: Mapping[str, object]) -> dict[str, float]:
        items = self.capped(raw, "surface parameters")
        if surface == CUSTOM:
            if items:
                names = _names([k for k, _ in items], len(raw))
                self.warn(f"surface parameters ignored (a custom formula has none): {names}.")
            return {}
        out: dict[str, float] = {}
        specs = {p.name: p for p in SURFACES[surface].params}
        unknown: list[object] = []
        for key, value in items:
            spec = specs.get(key)
            if spec is None:
                unknown.append(key)
                continue
            number = self.number(
                value, f"surface parameter {key} ({spec.label})", spec.default, spec.low, spec.high
            )
            if number != float(spec.default):  # one form per setup: a default is left out
                out[key] = number
        if unknown:
            self.warn(f"surface has no parameter {_names(unknown, len(unknown))}; ignored.")
        return out


def _start_limit(surface: str) -> float:
    if surface == CUSTOM:
        return 1e3
    (x0, x1), (y0, y1) = SURFACES[surface].domain
    return 10.0 * max(abs(x0), abs(x1), abs(y0), abs(y1), 1.0)


_SETUP_FIELDS = frozenset(
    {
        "format",
        "surface",
        "expression",
        "surface_params",
        "noise",
        "seed",
        "steps",
        "start",
        "schedule",
        "optimizers",
        "focus",
        "scrub",
        "classroom",
        "hidden",
    }
)


def _build(reader: Reader, data: Mapping[str, Any]) -> Setup:
    """A Setup from plain values (already split into fields), validating each one."""
    base = Setup()
    surface, expression = reader.surface(data.get("surface", base.surface), data.get("expression"))
    limit = _start_limit(surface)
    start = None
    if data.get("start") is not None:
        raw = data["start"]
        if isinstance(raw, (list, tuple)) and len(raw) == 2:
            start = (
                reader.number(raw[0], "start x", 0.0, -limit, limit),
                reader.number(raw[1], "start y", 0.0, -limit, limit),
            )
        else:
            reader.warn("start must be two numbers; using the surface's default start.")
    sched_raw = data.get("schedule") or {}
    if not isinstance(sched_raw, Mapping):
        reader.warn("schedule is malformed; using a constant learning rate.")
        sched_raw = {}
    defaults = Schedule()
    sched_items = dict(reader.capped(sched_raw, "schedule settings"))
    unknown = [k for k in sched_items if k not in defaults.to_dict()]
    if unknown:
        reader.warn(f"unknown schedule settings ignored: {_names(unknown, len(unknown))}.")
    schedule = Schedule(
        kind=reader.choice(sched_items.get("kind", "constant"), "schedule", "constant", SCHEDULE_KINDS),
        decay_rate=reader.number(
            sched_items.get("decay_rate", defaults.decay_rate),
            "schedule: step decay γ",
            defaults.decay_rate,
            *DECAY_RATE_RANGE,
        ),
        decay_every=reader.integer(
            sched_items.get("decay_every", defaults.decay_every),
            "schedule: decay every",
            defaults.decay_every,
            *DECAY_EVERY_RANGE,
        ),
        final_fraction=reader.number(
            sched_items.get("final_fraction", defaults.final_fraction),
            "schedule: cosine final fraction",
            defaults.final_fraction,
            *FINAL_FRACTION_RANGE,
        ),
        warmup_steps=reader.integer(
            sched_items.get("warmup_steps", defaults.warmup_steps),
            "schedule: warm-up steps",
            defaults.warmup_steps,
            *WARMUP_RANGE,
        ),
    )
    entries: list[OptimizerEntry] = []
    raw_opts = data.get("optimizers")
    if raw_opts is not None:
        if not isinstance(raw_opts, (list, tuple)):
            reader.warn("optimizers list is malformed; using the default four.")
            raw_opts = None
        else:
            if len(raw_opts) > MAX_OPTIMIZERS:
                reader.warn(
                    f"{len(raw_opts)} optimizers requested; keeping the first {MAX_OPTIMIZERS}, "
                    f"{len(raw_opts) - MAX_OPTIMIZERS} dropped."
                )
            for item in raw_opts[:MAX_OPTIMIZERS]:
                if not isinstance(item, Mapping):
                    reader.warn("an optimizer entry is malformed and was dropped.")
                    continue
                hp = item.get("hparams") or {}
                if not isinstance(hp, Mapping):
                    reader.warn(
                        f"{raw_text(item.get('name'))}: hyperparameters are malformed; "
                        "using the preset's values."
                    )
                    hp = {}
                entry = reader.optimizer(item.get("name"), item.get("preset"), hp)
                if entry is not None:
                    entries.append(entry)
            if not entries:
                reader.warn("no valid optimizer given; using Adam.")
                entries = [OptimizerEntry.default("adam")]
    optimizers = tuple(entries) if raw_opts is not None else base.optimizers
    steps = reader.integer(data.get("steps", base.steps), "steps", base.steps, MIN_STEPS, MAX_STEPS)
    hidden_raw = data.get("hidden") or ()
    hidden: tuple[str, ...] = ()
    if isinstance(hidden_raw, (list, tuple)):
        picked = hidden_raw[:MAX_KEYS_PER_MAPPING]
        hidden = tuple(dict.fromkeys(h for h in picked if isinstance(h, str) and h in HIDEABLE_CONTROLS))
        bad = [h for h in picked if not (isinstance(h, str) and h in HIDEABLE_CONTROLS)]
        more = max(len(hidden_raw) - MAX_KEYS_PER_MAPPING, 0)
        if bad or more:
            reader.warn(f"unknown controls to hide ignored: {_names(bad, len(bad) + more)}.")
    else:
        reader.warn(f"hidden controls must be a list; got {raw_text(hidden_raw)}; nothing hidden.")
    sp_raw = data.get("surface_params") or {}
    if not isinstance(sp_raw, Mapping):
        reader.warn("surface parameters are malformed; using the surface's defaults.")
        sp_raw = {}
    return Setup(
        surface=surface,
        expression=expression,
        surface_params=reader.surface_params(surface, sp_raw),
        noise=reader.number(data.get("noise", base.noise), "noise σ", base.noise, *NOISE_RANGE),
        seed=reader.integer(data.get("seed", base.seed), "seed", base.seed, *SEED_RANGE),
        steps=steps,
        start=start,
        schedule=schedule,
        optimizers=optimizers,
        focus=reader.integer(data.get("focus", 0), "focus", 0, 0, max(len(optimizers) - 1, 0)),
        scrub=reader.integer(data.get("scrub", 0), "scrubbed step", 0, 0, steps),
        classroom=reader.boolean(data.get("classroom", False), "classroom", False),
        hidden=hidden,
    )


def validate(setup: Setup) -> tuple[Setup, list[str]]:
    """The setup with every value inside what its widget can show, and a warning per change.

    The one range policy of the app (`widget_range` for hyperparameters, the *_RANGE constants,
    MIN_STEPS..MAX_STEPS, known surfaces, a formula that parses, ...): links (`from_query`),
    uploaded files (`from_json`) and the CLI read through it, and every page validates the Setup
    it built from its widgets before running it or writing its link. Validating a valid setup
    returns an equal setup and no warnings.
    """
    reader = Reader()
    return _build(reader, to_dict(setup)), reader.warnings


# --- JSON -----------------------------------------------------------------------------------


def to_dict(setup: Setup) -> dict[str, Any]:
    return {
        "format": SETUP_FORMAT,
        "surface": setup.surface,
        "expression": setup.expression if setup.surface == CUSTOM else None,
        "surface_params": dict(setup.surface_params),
        "noise": setup.noise,
        "seed": setup.seed,
        "steps": setup.steps,
        "start": list(setup.start) if setup.start is not None else None,
        "schedule": setup.schedule.to_dict(),
        "optimizers": [
            {"name": e.name, "preset": e.preset, "hparams": dict(e.hparams)} for e in setup.optimizers
        ],
        "focus": setup.focus,
        "scrub": setup.scrub,
        "classroom": setup.classroom,
        "hidden": list(setup.hidden),
    }


def to_json(setup: Setup) -> str:
    return json.dumps(to_dict(setup), indent=2)


def load_json(text: str | bytes) -> tuple[Setup | None, list[str]]:
    """A Setup from an uploaded file, or None (with a warning) when the file holds no setup at
    all: too large, not JSON, not an object. The size is checked before anything is parsed."""
    reader = Reader()
    too_big = len(text) > MAX_UPLOAD_BYTES or (
        isinstance(text, str) and len(text.encode("utf-8", "surrogatepass")) > MAX_UPLOAD_BYTES
    )
    if too_big:
        reader.warn(f"the file is larger than {MAX_UPLOAD_BYTES // 1000} kB; ignored.")
        return None, reader.warnings
    try:
        data = json.loads(text)
    except RecursionError:
        reader.warn("the file is nested too deeply to be a setup; nothing was loaded.")
        return None, reader.warnings
    except (ValueError, UnicodeDecodeError) as exc:
        reader.warn(f"the file is not valid JSON ({shorten(str(exc), 80)}); nothing was loaded.")
        return None, reader.warnings
    if not isinstance(data, dict):
        reader.warn("the file does not hold a setup object; nothing was loaded.")
        return None, reader.warnings
    if data.get("format") not in (None, SETUP_FORMAT):
        reader.warn(f"unknown setup format {raw_text(data.get('format'))}; reading what fits.")
    unknown = [k for k in itertools.islice(data, MAX_KEYS_PER_MAPPING) if k not in _SETUP_FIELDS]
    if unknown or len(data) > MAX_KEYS_PER_MAPPING:
        total = len(data) - len(data.keys() & _SETUP_FIELDS)
        reader.warn(f"unknown fields ignored: {_names(unknown, total)}.")
    return _build(reader, data), reader.warnings


def from_json(text: str | bytes) -> tuple[Setup, list[str]]:
    """A Setup from uploaded JSON; malformed input gives the default setup and a warning."""
    setup, warnings = load_json(text)
    return (setup if setup is not None else Setup()), warnings


# --- URL --------------------------------------------------------------------------------------
# Query layout (short keys, readable): s=rosenbrock  f=<formula>  sp.condition=50  noise=0.1
# seed=0  steps=500  x0=-1.5  y0=2  sched=cosine  sched.decay_rate=0.5 ...
# o=adam(learning_rate=0.02,b1=0.9)@optax  (repeated; one per optimizer, in order)
# focus=1  scrub=120  classroom=1  hide=hparams,schedule

_OPT_RE = re.compile(r"^([a-z_]{1,20})(?:\(([^()]{0,600})\))?(?:@([a-z]{1,12}))?$")


def encode_optimizer(entry: OptimizerEntry) -> str:
    """adam(learning_rate=0.02,b1=0.9)@keras: only values that differ from the preset's."""
    defaults = resolve_hparams(entry.name, None, entry.preset)
    changed = [
        f"{k}={format_number(v)}"
        for k, v in entry.hparams.items()
        if not math.isclose(v, defaults[k], rel_tol=1e-6, abs_tol=0.0)
    ]
    text = entry.name + (f"({','.join(changed)})" if changed else "")
    return text + (f"@{entry.preset}" if entry.preset != "optax" else "")


def to_query(setup: Setup) -> dict[str, str | list[str]]:
    """The URL query parameters of a setup (values that equal the defaults are left out)."""
    base = Setup()
    q: dict[str, str | list[str]] = {"s": setup.surface}
    if setup.surface == CUSTOM:
        q["f"] = setup.expression
    for k, v in setup.surface_params.items():
        q[f"sp.{k}"] = format_number(v)
    if setup.noise != base.noise:
        q["noise"] = format_number(setup.noise)
    if setup.seed != base.seed:
        q["seed"] = str(setup.seed)
    if setup.steps != base.steps:
        q["steps"] = str(setup.steps)
    if setup.start is not None:
        q["x0"], q["y0"] = format_number(setup.start[0]), format_number(setup.start[1])
    if setup.schedule != Schedule():
        q["sched"] = setup.schedule.kind
        for k in SCHEDULE_NUMBERS:
            value = float(getattr(setup.schedule, k))
            if value != getattr(Schedule(), k):
                q[f"sched.{k}"] = format_number(value)
    q["o"] = [encode_optimizer(e) for e in setup.optimizers]
    if setup.focus:
        q["focus"] = str(setup.focus)
    if setup.scrub:
        q["scrub"] = str(setup.scrub)
    if setup.classroom:
        q["classroom"] = "1"
        if setup.hidden:
            q["hide"] = ",".join(setup.hidden)
    return q


def parse_optimizer_text(text: str, reader: Reader, default_preset: str = "optax") -> dict[str, Any] | None:
    """`adam(learning_rate=0.02,b1=0.9)@keras` -> {"name", "preset", "hparams"} (values still
    untrusted strings), or None with a warning when malformed."""
    match = _OPT_RE.match(text.strip())
    if not match:
        reader.warn(f"optimizer {raw_text(text)} is malformed and was dropped.")
        return None
    name, args, preset = match.groups()
    hparams: dict[str, str] = {}
    bad: list[object] = []
    parts = [p for p in (args or "").split(",") if p.strip()]
    for part in parts:
        key, sep, value = part.partition("=")
        if not sep or not _NAME.match(key.strip()):
            bad.append(part)
            continue
        key = key.strip()
        if key in hparams and hparams[key] != value.strip():
            bad.append(f"{key}={hparams[key]}")  # given twice: the last value wins
        hparams[key] = value.strip()
    if bad:
        reader.warn(
            f"{name}: {_names(bad, len(bad))} {'is' if len(bad) == 1 else 'are'} not name=value; ignored."
        )
    return {"name": name, "preset": preset or default_preset, "hparams": hparams}


def first_value(query: Mapping[str, str | list[str]], key: str, reader: Reader) -> str | None:
    """The last value of a query key, or None. Links may repeat a key: the last value wins and
    the others are named in a warning; an over-long value is refused with a warning."""
    value = query.get(key)
    if isinstance(value, (list, tuple)):
        distinct = list(dict.fromkeys(value))
        value = value[-1] if value else None
        if len(distinct) > 1 and key not in reader.reported:
            reader.reported.add(key)
            others = [v for v in distinct if v != value]
            reader.warn(
                f"{key} is given {len(distinct)} different values; using the last, "
                f"{raw_text(value)}, and ignoring {_names(others, len(others))}."
            )
    if value is not None and not isinstance(value, str):
        value = str(value)
    if value is not None and len(value) > MAX_QUERY_VALUE_CHARS:
        if key + "\0long" not in reader.reported:
            reader.reported.add(key + "\0long")
            reader.warn(
                f"{key}: value {raw_text(value)} is longer than {MAX_QUERY_VALUE_CHARS} characters; ignored."
            )
        return None
    return value


# Query keys a link may carry without being read here: the tabs (bound to their widgets) and
# the Compare page's own settings (a link carries over between the two pages).
_SILENT_PREFIXES = ("cmp.",)
_SILENT_SUFFIXES = (".tab",)
KNOWN_QUERY_KEYS = frozenset(
    {
        "s",
        "f",
        "noise",
        "seed",
        "steps",
        "x0",
        "y0",
        "sched",
        "o",
        "focus",
        "scrub",
        "classroom",
        "hide",
        "lesson",
    }
)


def from_query(query: Mapping[str, str | list[str]]) -> tuple[Setup, list[str]]:
    """A Setup from URL query parameters (each a string, or a list for repeated keys)."""
    reader = Reader()

    def first(key: str) -> str | None:
        return first_value(query, key, reader)

    data: dict[str, Any] = {}
    for key, field_name in (
        ("s", "surface"),
        ("f", "expression"),
        ("noise", "noise"),
        ("seed", "seed"),
        ("steps", "steps"),
        ("focus", "focus"),
        ("scrub", "scrub"),
        ("classroom", "classroom"),
    ):
        value = first(key)
        if value is not None:
            data[field_name] = value
    x0, y0 = first("x0"), first("y0")
    if x0 is not None or y0 is not None:
        data["start"] = [x0, y0]
    sp_keys = [k for k in query if k.startswith("sp.")]
    data["surface_params"] = {k[3:]: first(k) for k in sp_keys[:MAX_KEYS_PER_MAPPING]}
    if len(sp_keys) > MAX_KEYS_PER_MAPPING:
        reader.warn(f"{len(sp_keys)} surface parameters in the link; read the first {MAX_KEYS_PER_MAPPING}.")
    schedule: dict[str, Any] = {}
    if first("sched") is not None:
        schedule["kind"] = first("sched")
    sched_keys = [k for k in query if k.startswith("sched.")]
    for k in sched_keys[: MAX_KEYS_PER_MAPPING - 1]:  # with `sched`: at most MAX_KEYS_PER_MAPPING
        schedule[k[6:]] = first(k)
    if len(sched_keys) > MAX_KEYS_PER_MAPPING - 1:
        reader.warn(
            f"{len(sched_keys)} schedule settings in the link; read the first {MAX_KEYS_PER_MAPPING - 1}."
        )
    data["schedule"] = schedule
    raw_opts = query.get("o")
    if raw_opts is not None:
        items = list(raw_opts) if isinstance(raw_opts, (list, tuple)) else [raw_opts]
        if len(items) > MAX_OPTIMIZERS:
            reader.warn(
                f"{len(items)} optimizers in the link; keeping the first {MAX_OPTIMIZERS}, "
                f"{len(items) - MAX_OPTIMIZERS} dropped."
            )
        kept = [str(t) for t in items[:MAX_OPTIMIZERS]]
        too_long = [t for t in kept if len(t) > MAX_QUERY_VALUE_CHARS]
        if too_long:
            reader.warn(
                f"{len(too_long)} optimizer value(s) in the link are longer than "
                f"{MAX_QUERY_VALUE_CHARS} characters ({_names(too_long, len(too_long))}); "
                "dropped."
            )
        parsed = [parse_optimizer_text(t, reader) for t in kept if len(t) <= MAX_QUERY_VALUE_CHARS]
        data["optimizers"] = [p for p in parsed if p is not None]
    hide = first("hide")
    if hide:
        data["hidden"] = [h.strip() for h in hide.split(",")]
    lesson = first("lesson")
    if lesson is not None:
        from playground.lessons import LESSONS_BY_SLUG

        if lesson not in LESSONS_BY_SLUG:
            reader.warn(f"lesson {raw_text(lesson)} is unknown; ignored.")
    extra = [
        k
        for k in query
        if k not in KNOWN_QUERY_KEYS
        and not k.startswith(("sp.", "sched."))
        and not k.startswith(_SILENT_PREFIXES)
        and not k.endswith(_SILENT_SUFFIXES)
    ]
    if extra:
        reader.warn(f"unknown link parameters ignored: {_names(extra, len(extra))}.")
    return _build(reader, data), reader.warnings


def share_url(page_url: str | None, query: Mapping[str, str | list[str]]) -> str:
    """The full link to a page with `query`: the page's address as the browser has it (its own
    query string dropped), or the bare `?...` when the address is not known."""
    base = (page_url or "").split("#", 1)[0].split("?", 1)[0]
    return base + query_string(query)


def query_string(query: Mapping[str, str | list[str]]) -> str:
    """`?k=v&...` with every key and value URL-encoded (repeated keys for lists)."""
    return "?" + urlencode({k: v for k, v in query.items()}, doseq=True)
