"""Downloaded files are named after the setup they show."""

from __future__ import annotations

from playground.exports import MAX_STEM_CHARS, download_name
from playground.setup import CUSTOM, OptimizerEntry, Setup


def test_names_say_the_surface_the_optimizers_and_the_figure() -> None:
    assert download_name(Setup(), "paths.png") == "rosenbrock_sgd-momentum-rmsprop-adam_paths.png"
    two_adams = Setup(optimizers=(OptimizerEntry.default("adam"), OptimizerEntry.default("adam")))
    assert download_name(two_adams, "loss") == "rosenbrock_adam_loss"


def test_a_typed_formula_never_reaches_the_file_name() -> None:
    setup = Setup(surface=CUSTOM, expression="x**2 + y**2  # ../../etc/passwd")
    name = download_name(setup, "setup.json")
    assert name.startswith("custom_") and "/" not in name and ".." not in name


def test_eight_optimizers_give_a_short_name() -> None:
    names = ["sgd", "momentum", "nesterov", "rmsprop", "adam", "adamw", "nadam", "lion"]
    setup = Setup(optimizers=tuple(OptimizerEntry.default(n) for n in names))
    stem = download_name(setup, "x")[: -len("_x")]
    assert len(stem) <= MAX_STEM_CHARS and stem.replace("_", "").replace("-", "").isalnum()
