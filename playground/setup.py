"""The one validated, immutable setup of the Playground (and Compare) page.

Data flows one way: widgets, a share link or an uploaded JSON file -> `Setup` -> runs ->
figures. The URL and the JSON export both serialize this object, so they cannot disagree.
Everything read from outside is untrusted: `from_query` and `from_json` never raise on bad
values; they fall back to defaults and return a list of warnings the page shows.
"""

from __future__ import annotations

import json
import math
import re
from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from typing import Any

from optim_core import OPTIMIZERS, PRESETS, resolve_hparams
from optim_core.schedules import SCHEDULE_KINDS, Schedule
from surfaces import SURFACES, ExpressionError, from_expression
from surfaces._base import Surface

# Caps that keep any link or upload from exhausting the server.
MAX_OPTIMIZERS = 8
MAX_STEPS = 5000
MIN_STEPS = 10
MAX_EXPRESSION_CHARS = 300
MAX_QUERY_VALUE_CHARS = 2000
CUSTOM = "custom"
DEFAULT_EXPRESSION = "sin(x)*cos(y) + 0.1*(x**2 + y**2)"
SETUP_FORMAT = "optimizer-playground/setup@1"

_NAME = re.compile(r"^[a-z_][a-z0-9_]{0,40}$")


@dataclass(frozen=True)
class OptimizerEntry:
    """One optimizer on the page: its name, preset and full hyperparameter values."""

    name: str
    hparams: Mapping[str, float]
    preset: str = "optax"

    @classmethod
    def default(cls, name: str, preset: str = "optax") -> OptimizerEntry:
        return cls(name, resolve_hparams(name, None, preset), preset)


def _default_optimizers() -> tuple[OptimizerEntry, ...]:
    return tuple(OptimizerEntry.default(n) for n in ("sgd", "momentum", "rmsprop", "adam"))


@dataclass(frozen=True)
class Setup:
    surface: str = "rosenbrock"
    expression: str = DEFAULT_EXPRESSION  # used when surface == "custom"
    surface_params: Mapping[str, float] = field(default_factory=dict)
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

class Reader:
    """Reads and validates untrusted values, collecting a warning for every fallback."""

    def __init__(self) -> None:
        self.warnings: list[str] = []

    def warn(self, message: str) -> None:
        self.warnings.append(message)

    def number(self, raw: object, what: str, default: float, low: float, high: float) -> float:
        try:
            value = float(raw)  # type: ignore[arg-type]
        except (TypeError, ValueError):
            self.warn(f"{what}: {str(raw)[:40]!r} is not a number; using {default:g}.")
            return default
        if not math.isfinite(value):
            self.warn(f"{what}: {value} is not finite; using {default:g}.")
            return default
        if not low <= value <= high:
            clamped = min(max(value, low), high)
            self.warn(f"{what}: {value:g} is outside [{low:g}, {high:g}]; using {clamped:g}.")
            return clamped
        return value

    def integer(self, raw: object, what: str, default: int, low: int, high: int) -> int:
        if isinstance(raw, float) and raw.is_integer():
            raw = int(raw)
        if isinstance(raw, str) and re.fullmatch(r"-?\d{1,12}", raw.strip()):
            raw = int(raw.strip())
        if isinstance(raw, bool) or not isinstance(raw, int):
            self.warn(f"{what}: {str(raw)[:40]!r} is not a whole number; using {default}.")
            return default
        if not low <= raw <= high:
            clamped = min(max(raw, low), high)
            self.warn(f"{what}: {raw} is outside [{low}, {high}]; using {clamped}.")
            return clamped
        return raw

    def choice(self, raw: object, what: str, default: str, options: tuple[str, ...] | list[str]) -> str:
        if isinstance(raw, str) and raw in options:
            return raw
        self.warn(f"{what}: {str(raw)[:40]!r} is not one of {', '.join(options)}; using {default!r}.")
        return default

    def boolean(self, raw: object, what: str, default: bool) -> bool:
        if isinstance(raw, bool):
            return raw
        if str(raw).lower() in ("1", "1.0", "true", "yes", "on"):
            return True
        if str(raw).lower() in ("0", "0.0", "false", "no", "off"):
            return False
        self.warn(f"{what}: {str(raw)[:40]!r} is not true/false; using {default}.")
        return default

    def optimizer(self, name: object, preset: object, hparams: Mapping[str, object]) -> OptimizerEntry | None:
        if not isinstance(name, str) or name not in OPTIMIZERS:
            self.warn(f"optimizer {str(name)[:40]!r} is unknown and was dropped.")
            return None
        preset = self.choice(preset if preset is not None else "optax", f"{name} preset",
                             "optax", tuple(PRESETS))
        values = resolve_hparams(name, None, preset)
        spec = OPTIMIZERS[name]
        for key, raw in hparams.items():
            if key not in values:
                self.warn(f"{spec.label}: no hyperparameter {str(key)[:40]!r}; ignored.")
                continue
            h = spec.hyperparam(key)
            low, high = h.valid_range
            if h.kind == "bool":
                values[key] = float(self.boolean(raw, f"{spec.label} {key}", bool(values[key])))
            else:
                values[key] = self.number(raw, f"{spec.label} {key}", values[key], low, high)
        return OptimizerEntry(name, values, preset)

    def surface(self, name: object, expression: object) -> tuple[str, str]:
        surface = self.choice(name, "surface", "rosenbrock", (*SURFACES, CUSTOM))
        text = DEFAULT_EXPRESSION
        if surface == CUSTOM:
            if not isinstance(expression, str) or len(expression) > MAX_EXPRESSION_CHARS:
                self.warn("custom formula missing or too long; using the example formula.")
            else:
                try:
                    from_expression(expression)
                    text = expression
                except ExpressionError as exc:
                    self.warn(f"custom formula rejected ({exc}); using the example formula.")
        return surface, text

    def surface_params(self, surface: str, raw: Mapping[str, object]) -> dict[str, float]:
        if surface == CUSTOM:
            return {}
        out: dict[str, float] = {}
        specs = {p.name: p for p in SURFACES[surface].params}
        for key, value in raw.items():
            spec = specs.get(key)
            if spec is None:
                self.warn(f"surface has no parameter {str(key)[:40]!r}; ignored.")
                continue
            out[key] = self.number(value, spec.label, spec.default, spec.low, spec.high)
        return out


def _start_limit(surface: str) -> float:
    if surface == CUSTOM:
        return 1e3
    (x0, x1), (y0, y1) = SURFACES[surface].domain
    return 10.0 * max(abs(x0), abs(x1), abs(y0), abs(y1), 1.0)


def _build(reader: Reader, data: Mapping[str, Any]) -> Setup:
    """A Setup from plain values (already split into fields), validating each one."""
    base = Setup()
    surface, expression = reader.surface(data.get("surface", base.surface), data.get("expression"))
    limit = _start_limit(surface)
    start = None
    if data.get("start") is not None:
        raw = data["start"]
        if isinstance(raw, (list, tuple)) and len(raw) == 2:
            start = (reader.number(raw[0], "start x", 0.0, -limit, limit),
                     reader.number(raw[1], "start y", 0.0, -limit, limit))
        else:
            reader.warn("start must be two numbers; using the surface's default start.")
    sched_raw = data.get("schedule") or {}
    if not isinstance(sched_raw, Mapping):
        reader.warn("schedule is malformed; using a constant learning rate.")
        sched_raw = {}
    defaults = Schedule()
    unknown = [str(k)[:20] for k in sched_raw if k not in defaults.to_dict()]
    if unknown:
        reader.warn(f"unknown schedule settings ignored: {', '.join(unknown[:5])}.")
    schedule = Schedule(
        kind=reader.choice(sched_raw.get("kind", "constant"), "schedule", "constant", SCHEDULE_KINDS),
        decay_rate=reader.number(sched_raw.get("decay_rate", defaults.decay_rate),
                                 "step decay γ", defaults.decay_rate, 0.01, 1.0),
        decay_every=reader.integer(sched_raw.get("decay_every", defaults.decay_every),
                                   "decay every", defaults.decay_every, 1, MAX_STEPS),
        final_fraction=reader.number(sched_raw.get("final_fraction", defaults.final_fraction),
                                     "cosine final fraction", defaults.final_fraction, 0.0, 1.0),
        warmup_steps=reader.integer(sched_raw.get("warmup_steps", defaults.warmup_steps),
                                    "warm-up steps", defaults.warmup_steps, 1, MAX_STEPS),
    )
    entries: list[OptimizerEntry] = []
    raw_opts = data.get("optimizers")
    if raw_opts is not None:
        if not isinstance(raw_opts, (list, tuple)):
            reader.warn("optimizers list is malformed; using the default four.")
            raw_opts = None
        else:
            if len(raw_opts) > MAX_OPTIMIZERS:
                reader.warn(f"{len(raw_opts)} optimizers requested; keeping the first {MAX_OPTIMIZERS}.")
            for item in raw_opts[:MAX_OPTIMIZERS]:
                if not isinstance(item, Mapping):
                    reader.warn("an optimizer entry is malformed and was dropped.")
                    continue
                hp = item.get("hparams") or {}
                if not isinstance(hp, Mapping):
                    reader.warn(f"{str(item.get('name'))[:40]}: hyperparameters are malformed; "
                                "using the preset's values.")
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
    hidden = tuple(h for h in hidden_raw if isinstance(h, str) and h in HIDEABLE_CONTROLS) \
        if isinstance(hidden_raw, (list, tuple)) else ()
    sp_raw = data.get("surface_params") or {}
    if not isinstance(sp_raw, Mapping):
        reader.warn("surface parameters are malformed; using the surface's defaults.")
        sp_raw = {}
    return Setup(
        surface=surface,
        expression=expression,
        surface_params=reader.surface_params(surface, sp_raw),
        noise=reader.number(data.get("noise", base.noise), "noise σ", base.noise, 0.0, 10.0),
        seed=reader.integer(data.get("seed", base.seed), "seed", base.seed, 0, 2**31 - 1),
        steps=steps,
        start=start,
        schedule=schedule,
        optimizers=optimizers,
        focus=reader.integer(data.get("focus", 0), "focus", 0, 0, max(len(optimizers) - 1, 0)),
        scrub=reader.integer(data.get("scrub", 0), "scrubbed step", 0, 0, steps),
        classroom=reader.boolean(data.get("classroom", False), "classroom", False),
        hidden=hidden,
    )


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
        "optimizers": [{"name": e.name, "preset": e.preset, "hparams": dict(e.hparams)}
                       for e in setup.optimizers],
        "focus": setup.focus,
        "scrub": setup.scrub,
        "classroom": setup.classroom,
        "hidden": list(setup.hidden),
    }


def to_json(setup: Setup) -> str:
    return json.dumps(to_dict(setup), indent=2)


MAX_UPLOAD_BYTES = 200_000


def from_json(text: str | bytes) -> tuple[Setup, list[str]]:
    """A Setup from uploaded JSON; malformed input gives the default setup and a warning."""
    reader = Reader()
    if len(text) > MAX_UPLOAD_BYTES:
        reader.warn(f"the file is larger than {MAX_UPLOAD_BYTES // 1000} kB; ignored.")
        return Setup(), reader.warnings
    try:
        data = json.loads(text)
    except RecursionError:
        reader.warn("the file is nested too deeply to be a setup; nothing was loaded.")
        return Setup(), reader.warnings
    except (ValueError, UnicodeDecodeError) as exc:
        reader.warn(f"the file is not valid JSON ({str(exc)[:80]}); nothing was loaded.")
        return Setup(), reader.warnings
    if not isinstance(data, dict):
        reader.warn("the file does not hold a setup object; nothing was loaded.")
        return Setup(), reader.warnings
    if data.get("format") not in (None, SETUP_FORMAT):
        reader.warn(f"unknown setup format {str(data.get('format'))[:40]!r}; reading what fits.")
    return _build(reader, data), reader.warnings


# --- URL --------------------------------------------------------------------------------------
# Query layout (short keys, readable): s=rosenbrock  f=<formula>  sp.condition=50  noise=0.1
# seed=0  steps=500  x0=-1.5  y0=2  sched=cosine  sched.decay_rate=0.5 ...
# o=adam(learning_rate=0.02,b1=0.9)@optax  (repeated; one per optimizer, in order)
# focus=1  scrub=120  classroom=1  hide=hparams,schedule

_OPT_RE = re.compile(r"^([a-z_]{1,20})(?:\(([^()]{0,600})\))?(?:@([a-z]{1,12}))?$")


def _format_number(value: float) -> str:
    return f"{value:.6g}"


def encode_optimizer(entry: OptimizerEntry) -> str:
    """adam(learning_rate=0.02,b1=0.9)@keras: only values that differ from the preset's."""
    defaults = resolve_hparams(entry.name, None, entry.preset)
    changed = [f"{k}={_format_number(v)}" for k, v in entry.hparams.items()
               if not math.isclose(v, defaults[k], rel_tol=1e-6, abs_tol=0.0)]
    text = entry.name + (f"({','.join(changed)})" if changed else "")
    return text + (f"@{entry.preset}" if entry.preset != "optax" else "")


def to_query(setup: Setup) -> dict[str, str | list[str]]:
    """The URL query parameters of a setup (values that equal the defaults are left out)."""
    base = Setup()
    q: dict[str, str | list[str]] = {"s": setup.surface}
    if setup.surface == CUSTOM:
        q["f"] = setup.expression
    for k, v in setup.surface_params.items():
        q[f"sp.{k}"] = _format_number(v)
    if setup.noise != base.noise:
        q["noise"] = _format_number(setup.noise)
    if setup.seed != base.seed:
        q["seed"] = str(setup.seed)
    if setup.steps != base.steps:
        q["steps"] = str(setup.steps)
    if setup.start is not None:
        q["x0"], q["y0"] = _format_number(setup.start[0]), _format_number(setup.start[1])
    if setup.schedule != Schedule():
        sched = setup.schedule.to_dict()
        q["sched"] = str(sched.pop("kind"))
        for k, v in sched.items():
            if v != getattr(Schedule(), k):
                q[f"sched.{k}"] = _format_number(float(v))
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


def parse_optimizer_text(text: str, reader: Reader, default_preset: str = "optax"
                         ) -> dict[str, Any] | None:
    """`adam(learning_rate=0.02,b1=0.9)@keras` -> {"name", "preset", "hparams"} (values still
    untrusted strings), or None with a warning when malformed."""
    match = _OPT_RE.match(text.strip())
    if not match:
        reader.warn(f"optimizer {text[:40]!r} is malformed and was dropped.")
        return None
    name, args, preset = match.groups()
    hparams: dict[str, str] = {}
    for part in (args or "").split(","):
        if not part.strip():
            continue
        key, sep, value = part.partition("=")
        if not sep or not _NAME.match(key.strip()):
            reader.warn(f"{name}: {part[:40]!r} is not name=value; ignored.")
            continue
        hparams[key.strip()] = value.strip()
    return {"name": name, "preset": preset or default_preset, "hparams": hparams}


def first_value(query: Mapping[str, str | list[str]], key: str, reader: Reader) -> str | None:
    """The last value of a query key (links may repeat keys), or None; over-long values warn."""
    value = query.get(key)
    if isinstance(value, list):
        value = value[-1] if value else None
    if value is not None and len(value) > MAX_QUERY_VALUE_CHARS:
        reader.warn(f"{key}: value too long; ignored.")
        return None
    return value


def from_query(query: Mapping[str, str | list[str]]) -> tuple[Setup, list[str]]:
    """A Setup from URL query parameters (each a string, or a list for repeated keys)."""
    reader = Reader()

    def first(key: str) -> str | None:
        return first_value(query, key, reader)

    data: dict[str, Any] = {}
    for key, field_name in (("s", "surface"), ("f", "expression"), ("noise", "noise"),
                            ("seed", "seed"), ("steps", "steps"), ("focus", "focus"),
                            ("scrub", "scrub"), ("classroom", "classroom")):
        value = first(key)
        if value is not None:
            data[field_name] = value
    x0, y0 = first("x0"), first("y0")
    if x0 is not None or y0 is not None:
        data["start"] = [x0, y0]
    data["surface_params"] = {k[3:]: first(k) for k in query if k.startswith("sp.")}
    schedule: dict[str, Any] = {}
    if first("sched") is not None:
        schedule["kind"] = first("sched")
    for k in query:
        if k.startswith("sched."):
            schedule[k[6:]] = first(k)
    data["schedule"] = schedule
    raw_opts = query.get("o")
    if raw_opts is not None:
        items = raw_opts if isinstance(raw_opts, list) else [raw_opts]
        if len(items) > MAX_OPTIMIZERS:
            reader.warn(f"{len(items)} optimizers in the link; keeping the first {MAX_OPTIMIZERS}.")
        too_long = [t for t in items[:MAX_OPTIMIZERS] if len(t) > MAX_QUERY_VALUE_CHARS]
        if too_long:
            reader.warn(f"{len(too_long)} optimizer value(s) in the link are too long; dropped.")
        parsed = [parse_optimizer_text(t, reader) for t in items[:MAX_OPTIMIZERS]
                  if isinstance(t, str) and len(t) <= MAX_QUERY_VALUE_CHARS]
        data["optimizers"] = [p for p in parsed if p is not None]
    hide = first("hide")
    if hide:
        data["hidden"] = [h.strip() for h in hide.split(",")]
        unknown = [h for h in data["hidden"] if h not in HIDEABLE_CONTROLS]
        if unknown:
            reader.warn(f"unknown controls to hide: {', '.join(u[:20] for u in unknown[:5])}; ignored.")
    known = {"s", "f", "noise", "seed", "steps", "x0", "y0", "sched", "o", "focus", "scrub",
             "classroom", "hide", "page", "lesson"}
    extra = [k for k in query if k not in known and not k.startswith(("sp.", "sched.", "c.", "pg.", "cmp."))]
    if extra:
        reader.warn(f"unknown link parameters ignored: {', '.join(e[:20] for e in extra[:5])}.")
    return _build(reader, data), reader.warnings
