"""The MNIST page's widget state: `seed_widgets(state, setup)` writes every widget key before the
widgets are drawn, `read_setup(state)` reads them back into a `MnistSetup`. `state` is
st.session_state on the page and a plain dict in the tests (anything with `WidgetState`'s methods)."""

from __future__ import annotations

from typing import Any, Protocol

from playground.mnist_setup import (
    ADADELTA_FIXED_LR,
    BATCH_SIZES,
    DATA_SOURCES,
    MAX_EPOCHS,
    MAX_OPTIMIZERS,
    MnistSetup,
    default_entry,
    nearest,
    train_sizes,
)
from playground.setup import (
    OptimizerEntry,
)
from training.optimizers import NETWORK_OPTIMIZERS, resolve_network_hparams

# --- widget state --------------------------------------------------------------------------------


class WidgetState(Protocol):
    """What the widget-state functions use of st.session_state (a plain dict in the tests)."""

    def __getitem__(self, key: str, /) -> Any: ...

    def __setitem__(self, key: str, value: Any, /) -> None: ...

    def __contains__(self, key: object, /) -> bool: ...


P = "mn"  # every key of this page starts with it


def wkey(*parts: object) -> str:
    return ".".join([P, *map(str, parts)])


def entry_prefix(entry_id: int) -> str:
    return wkey("e", entry_id)


def hparam_key(entry_id: int, name: str, hp: str) -> str:
    return f"{entry_prefix(entry_id)}.{name}.{hp}"


def write_entry(state: WidgetState, entry_id: int, entry: OptimizerEntry) -> None:
    state[entry_prefix(entry_id) + ".name"] = entry.name
    state[entry_prefix(entry_id) + ".preset"] = entry.preset
    for h in NETWORK_OPTIMIZERS[entry.name].hyperparams:
        value = entry.hparams.get(h.name, h.default)
        state[hparam_key(entry_id, entry.name, h.name)] = bool(value) if h.kind == "bool" else float(value)


def seed_widgets(state: WidgetState, setup: MnistSetup) -> None:
    """Write a whole setup into the widget state (before the widgets are drawn)."""
    state[wkey("model")] = setup.model
    state[wkey("data")] = setup.data
    state[wkey("n")] = setup.train_size
    state[wkey("batch")] = setup.batch_size
    state[wkey("epochs")] = setup.epochs
    state[wkey("seed")] = setup.seed
    # Fresh ids each time: widgets of a removed entry can never leak into a new one.
    start = int(state[wkey("next_id")]) if wkey("next_id") in state else 0
    ids = list(range(start, start + len(setup.optimizers)))
    state[wkey("entry_ids")] = ids
    state[wkey("next_id")] = start + len(ids)
    for entry_id, entry in zip(ids, setup.optimizers, strict=True):
        write_entry(state, entry_id, entry)


def widgets_seeded(state: WidgetState) -> bool:
    """False when Streamlit has dropped the widget values (the user was on another page)."""
    keys = [wkey(k) for k in ("model", "data", "n", "batch", "epochs", "seed", "entry_ids")]
    if not all(k in state for k in keys):
        return False
    return all(
        entry_prefix(i) + ".name" in state and entry_prefix(i) + ".preset" in state
        for i in state[wkey("entry_ids")]
    )


def read_entry(state: WidgetState, entry_id: int) -> OptimizerEntry:
    name = state[entry_prefix(entry_id) + ".name"]
    preset = state[entry_prefix(entry_id) + ".preset"]
    values = resolve_network_hparams(name, None, preset)
    for h in NETWORK_OPTIMIZERS[name].hyperparams:
        key = hparam_key(entry_id, name, h.name)
        if key in state:
            values[h.name] = float(state[key])
    return OptimizerEntry(name, values, preset)


def read_setup(state: WidgetState) -> MnistSetup:
    """The setup the widgets show (values are clamped to the caps, as a link's would be)."""
    data = state[wkey("data")] if state[wkey("data")] in DATA_SOURCES else "sample"
    sizes = train_sizes(data)
    n = int(state[wkey("n")])
    return MnistSetup(
        model=state[wkey("model")],
        optimizers=tuple(read_entry(state, i) for i in state[wkey("entry_ids")][:MAX_OPTIMIZERS]),
        epochs=min(max(int(state[wkey("epochs")]), 1), MAX_EPOCHS),
        batch_size=nearest(BATCH_SIZES, int(state[wkey("batch")])),
        data=data,
        train_size=n if n in sizes else nearest(sizes, n),
        seed=int(state[wkey("seed")]),
    )


def add_entry(state: WidgetState, name: str) -> None:
    ids = list(state[wkey("entry_ids")])
    if name not in NETWORK_OPTIMIZERS or len(ids) >= MAX_OPTIMIZERS:
        return
    entry_id = int(state[wkey("next_id")])
    state[wkey("next_id")] = entry_id + 1
    state[wkey("entry_ids")] = [*ids, entry_id]
    write_entry(state, entry_id, default_entry(name))


def remove_entry(state: WidgetState, entry_id: int) -> None:
    ids = [i for i in state[wkey("entry_ids")] if i != entry_id]
    if ids:  # never remove the last one
        state[wkey("entry_ids")] = ids


def apply_preset(state: WidgetState, entry_id: int) -> None:
    """Preset picked: the sliders jump to that framework's defaults."""
    name = state[entry_prefix(entry_id) + ".name"]
    write_entry(state, entry_id, default_entry(name, state[entry_prefix(entry_id) + ".preset"]))


def change_optimizer(state: WidgetState, entry_id: int) -> None:
    """Another optimizer picked in an entry: it starts from the entry's preset."""
    name = state[entry_prefix(entry_id) + ".name"]
    write_entry(state, entry_id, default_entry(name, state[entry_prefix(entry_id) + ".preset"]))


def data_changed(state: WidgetState) -> None:
    """The sample has 8000 training images: a larger size chosen for the full set shrinks."""
    sizes = train_sizes(state[wkey("data")])
    if state[wkey("n")] not in sizes:
        state[wkey("n")] = nearest(sizes, int(state[wkey("n")]))


def fix_adadelta_widgets(state: WidgetState) -> None:
    """The one-click fix: Adadelta's learning-rate slider(s) to 1.0."""
    for entry_id in state[wkey("entry_ids")]:
        if state[entry_prefix(entry_id) + ".name"] == "adadelta":
            state[hparam_key(entry_id, "adadelta", "learning_rate")] = ADADELTA_FIXED_LR
