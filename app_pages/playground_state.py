"""Two-way mapping between a Setup and the Playground's widget state (st.session_state).

`seed(setup)` writes every widget key before the widgets are drawn (first visit, a changed
URL, an uploaded setup, a lesson); the page then reads the widgets back into a new Setup.
Optimizer entries have stable ids so that removing one does not shift the others' widgets.
"""

from __future__ import annotations

import streamlit as st

from optim_core import OPTIMIZERS
from playground.setup import OptimizerEntry, Setup

P = "pg"  # key prefix of the Playground's widgets


def key(*parts: object) -> str:
    return ".".join([P, *map(str, parts)])


def entry_prefix(entry_id: int) -> str:
    return key("e", entry_id)


def write_entry(entry_id: int, entry: OptimizerEntry) -> None:
    st.session_state[entry_prefix(entry_id) + ".name"] = entry.name
    st.session_state[entry_prefix(entry_id) + ".preset"] = entry.preset
    for hp_name, value in entry.hparams.items():
        hp_key = f"{entry_prefix(entry_id)}.{entry.name}.{hp_name}"
        kind = OPTIMIZERS[entry.name].hyperparam(hp_name).kind
        st.session_state[hp_key] = bool(value) if kind == "bool" else float(value)


def set_hparam(entry_id: int, name: str, hparam: str, value: float) -> None:
    """One hyperparameter of one card, as if its own widget had been moved."""
    kind = OPTIMIZERS[name].hyperparam(hparam).kind
    st.session_state[f"{entry_prefix(entry_id)}.{name}.{hparam}"] = (
        bool(value) if kind == "bool" else float(value)
    )


def seed(setup: Setup) -> None:
    """Write a whole setup into the widget state."""
    ss = st.session_state
    ss[key("surface")] = setup.surface
    ss[key("expression")] = setup.expression
    for name, value in setup.surface_params.items():
        ss[key("sp", name)] = float(value)
    ss[key("noise")] = float(setup.noise)
    ss[key("seed")] = int(setup.seed)
    ss[key("steps")] = int(setup.steps)
    try:
        start = setup.resolved_start()
    except ValueError:  # a bad custom formula; the page reports it
        start = (0.0, 0.0)
    ss[key("x0")], ss[key("y0")] = float(start[0]), float(start[1])
    ss[key("start_is_default")] = setup.start is None
    sched = setup.schedule
    ss[key("sched")] = sched.kind
    ss[key("sched", "decay_rate")] = float(sched.decay_rate)
    ss[key("sched", "decay_every")] = int(sched.decay_every)
    ss[key("sched", "final_fraction")] = float(sched.final_fraction)
    ss[key("sched", "warmup_steps")] = int(sched.warmup_steps)
    ids = list(range(len(setup.optimizers)))
    ss[key("entry_ids")] = ids
    ss[key("next_id")] = len(ids)
    for entry_id, entry in zip(ids, setup.optimizers):
        write_entry(entry_id, entry)
    ss[key("focus")] = setup.focus
    ss[key("scrub")] = setup.scrub
    ss[key("classroom")] = setup.classroom
    ss[key("hidden")] = list(setup.hidden)
    ss[key("base")] = setup  # values of hidden controls come from here


def base() -> Setup:
    return st.session_state.get(key("base"), Setup())


def hidden_entry(entry_id: int, name: str) -> OptimizerEntry:
    """An optimizer whose hyperparameters are hidden (classroom mode): the link's entry, or the
    defaults of an optimizer picked since (seed() numbers the link's entries 0, 1, ...)."""
    link = base().optimizers
    if entry_id < len(link) and link[entry_id].name == name:
        return link[entry_id]
    return OptimizerEntry.default(name)


def add_entry(name: str) -> None:
    ss = st.session_state
    entry_id = ss[key("next_id")]
    ss[key("next_id")] = entry_id + 1
    ss[key("entry_ids")] = [*ss[key("entry_ids")], entry_id]
    write_entry(entry_id, OptimizerEntry.default(name))


def open_entry_id(ids: list[int]) -> int | None:
    """The card whose widgets are drawn: the one last opened, else the first."""
    chosen = st.session_state.get(key("open"))
    return chosen if chosen in ids else (ids[0] if ids else None)


def open_entry(entry_id: int) -> None:
    st.session_state[key("open")] = entry_id


def keep_keys(keys: list[str]) -> None:
    """Keep the values of widgets that are not drawn in this run.

    Streamlit forgets a widget's value when a run does not draw it; written back as plain
    session state, the value survives until the widget is drawn again.
    """
    ss = st.session_state
    for k in keys:
        if k in ss:
            ss[k] = ss[k]


def keep_entry(entry_id: int) -> None:
    """Keep every widget value of a card that is closed in this run."""
    prefix = entry_prefix(entry_id)
    name = st.session_state[prefix + ".name"]
    values = f"{prefix}.{name}."
    keep_keys(
        [prefix + ".name", prefix + ".preset"]
        + [k for k in list(st.session_state) if isinstance(k, str) and k.startswith(values)]
    )


def entry_from_state(entry_id: int) -> OptimizerEntry:
    """A closed card's entry, from the values its widgets last had (defaults where unset)."""
    ss = st.session_state
    prefix = entry_prefix(entry_id)
    name = ss[prefix + ".name"]
    spec = OPTIMIZERS[name]
    values = {
        h.name: float(ss.get(f"{prefix}.{name}.{h.name}", spec.defaults.get(h.name, h.default)))
        for h in spec.hyperparams
    }
    return OptimizerEntry(name, values, ss.get(prefix + ".preset", "optax"))


def remove_entry(entry_id: int) -> None:
    ss = st.session_state
    ss[key("entry_ids")] = [i for i in ss[key("entry_ids")] if i != entry_id]


def apply_preset(entry_id: int) -> None:
    """Preset changed: reset that optimizer's sliders to the preset's values."""
    name = st.session_state[entry_prefix(entry_id) + ".name"]
    preset = st.session_state[entry_prefix(entry_id) + ".preset"]
    write_entry(entry_id, OptimizerEntry.default(name, preset))


def change_optimizer(entry_id: int) -> None:
    """Optimizer picked anew in an entry: start it from its defaults."""
    name = st.session_state[entry_prefix(entry_id) + ".name"]
    write_entry(entry_id, OptimizerEntry.default(name))


def surface_changed() -> None:
    """A new surface starts from its own default start point (a typed or clicked one is reset)."""
    ss = st.session_state
    setup = Setup(surface=ss[key("surface")], expression=ss.get(key("expression"), Setup().expression))
    try:
        start = setup.resolved_start()
    except ValueError:  # a bad custom formula: keep the start; the page shows the error
        return
    ss[key("x0")], ss[key("y0")] = float(start[0]), float(start[1])
    ss[key("start_is_default")] = True
    # A surface made for noise (the noisy bowl) starts with its noise, not with the last one's σ.
    ss[key("noise")] = float(setup.resolved_surface().default_noise)


def start_typed() -> None:
    st.session_state[key("start_is_default")] = False
