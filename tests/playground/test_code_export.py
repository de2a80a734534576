"""playground.code_export: the downloaded optax / PyTorch / Keras scripts reproduce the Playground.

Each script is written to disk exactly as `export_script` returns it (the bytes a user
downloads) and run in a fresh Python per framework (one process runs all of that framework's
scripts through `runpy.run_path` and calls their `main()`): the scripts import nothing from this
project. Their final points must equal the app's update rules run in float64 (the scripts
compute in float64) to 1e-5 relative (‖Δ‖ ≤ 1e-5·max(‖x‖, 1)), and they must leave the picture
at the same step.

Why float64 and not the app's float32 trajectory: on Rosenbrock, RMSprop at its defaults is
chaotic enough that float32 and float64 runs of the *same* code end 0.2 apart after 200 steps.
So the reference here replays the engine's step (the registry's optimizer code, the surface's
jax function, the same noise table and schedule factors) in float64, and a separate check ties
that replay to the engine: the first 20 steps of the engine's float32 path agree with it to 1e-4.

Setups cover every optimizer each framework has (optim_core.presets.FRAMEWORK_OPTIMIZERS for
PyTorch and Keras, with their presets; every optimizer for optax), on Rosenbrock, the rotated
ravine with gradient noise, and a custom formula with + - * / ^ ( ) and a function; each
framework sees its constant, step, cosine and warm-up schedules.
"""

from __future__ import annotations

import ast
import functools
import json
import math
import os
import subprocess
import sys

import jax
import jax.numpy as jnp
import numpy as np
import pytest

from optim_core import FRAMEWORK_OPTIMIZERS, OPTIMIZERS, preset_support, resolve_hparams
from optim_core.engine import RunConfig, divergence_bound, run_batch
from optim_core.optimizers_modern import MODERN_SPECS
from optim_core.schedules import Schedule
from playground import code_export as ce
from playground.compute import entry_label
from playground.setup import OptimizerEntry, Setup
from surfaces import SURFACES, ExpressionError

STEPS = 100
RTOL = 1e-5
FORMULA = "(x^2 + y - 11)^2/50 + (x + y^2 - 7)^2*0.02 - 3/(1 + (x - 1)^2 + y^2) + sigmoid(x*y)"
RAVINE = {"condition": 20.0, "angle": 30.0}


def _entry(name: str, preset: str = "optax", **hp: float) -> OptimizerEntry:
    return OptimizerEntry(name, resolve_hparams(name, hp, preset), preset)


def _setup(surface: str, entries, **kw) -> Setup:
    return Setup(surface=surface, steps=kw.pop("steps", STEPS), optimizers=tuple(entries), **kw)


_MODERN = {spec.name for spec in MODERN_SPECS}


def _setups() -> dict[str, list[Setup]]:
    """Per framework: every optimizer it has on Rosenbrock, the ravine with noise, the custom
    formula; each of the three schedules once per framework (few surfaces: fewer compiles)."""
    step = Schedule("step", decay_rate=0.5, decay_every=40)
    cosine = Schedule("cosine", final_fraction=0.1)
    warmup = Schedule("warmup", warmup_steps=30)
    custom = {"expression": FORMULA, "start": (-1.0, -2.0)}
    ravine = {"surface_params": RAVINE, "noise": 0.3, "seed": 7}
    return {
        "optax": [
            _setup(
                "rosenbrock",
                [
                    *(_entry(n) for n in OPTIMIZERS),  # the 2026 optimizers included
                    _entry("sgd", learning_rate=0.01),  # leaves the picture
                    _entry("adadelta", weight_decay=0.01),
                    _entry("adamw", weight_decay=0.01),
                    _entry("rmsprop", centered=1.0, learning_rate=0.005),
                ],
            ),
            _setup(
                "ravine",
                [
                    _entry("sgd", learning_rate=0.05),
                    _entry("momentum", learning_rate=0.03, momentum=0.8),
                    _entry("rmsprop", momentum=0.5, nesterov=1.0, eps_inside=0.0, initial_scale=0.5),
                    _entry("lion", learning_rate=0.01),
                    # the 2026 optimizers whose optax schedules count steps as the app does
                    _entry("prodigy", learning_rate=0.5, b1=0.5, weight_decay=0.01),
                    _entry("yogi", learning_rate=0.05),
                    _entry("adan", learning_rate=0.02, weight_decay=0.01),
                    _entry("lookahead_adam", learning_rate=0.05, sync_period=3.0, slow_step_size=0.3),
                    # refused with a schedule: optax counts their steps differently
                    _entry("schedule_free_sgd", learning_rate=0.01),
                    _entry("sam", learning_rate=0.003),
                ],
                schedule=warmup,
                **ravine,
            ),
            _setup(
                "custom",
                [
                    _entry("schedule_free_sgd", learning_rate=0.02, b1=0.5, weight_decay=0.01),
                    _entry("schedule_free_adamw", learning_rate=0.05, weight_lr_power=3.0),
                    _entry("sam", learning_rate=0.004, rho=0.2),
                    _entry("lookahead_adam", learning_rate=0.1, sync_period=2.6),  # k rounds to 3
                ],
                **custom,
            ),
            _setup(
                "custom",
                [
                    _entry("adam", learning_rate=0.05),
                    _entry("radam", learning_rate=0.05, threshold=6.0),
                    _entry("adagrad", learning_rate=0.5),
                    _entry("adabelief", learning_rate=0.05),
                ],
                schedule=cosine,
                **custom,
            ),
            _setup(
                "custom",
                [
                    _entry("adam", learning_rate=0.05),
                    _entry("adagrad", learning_rate=0.5),
                ],
                schedule=step,
                **custom,
            ),
        ],
        "pytorch": [
            _setup(
                "rosenbrock",
                [
                    *(_entry(n, "pytorch") for n in FRAMEWORK_OPTIMIZERS["pytorch"]),
                    _entry("amsgrad", "pytorch", learning_rate=0.01),
                    _entry("adadelta", "pytorch", weight_decay=0.01),
                ],
                schedule=step,
            ),
            _setup(
                "ravine",
                [
                    _entry("momentum", "pytorch", learning_rate=0.03, momentum=0.8),
                    _entry("rmsprop", "pytorch"),
                    _entry("radam", "pytorch", learning_rate=0.05),
                ],
                schedule=warmup,
                **ravine,
            ),
            _setup(
                "custom",
                [
                    _entry("adamw", "pytorch", learning_rate=0.05, weight_decay=0.01),
                    _entry("nadam", "pytorch", learning_rate=0.05),
                    _entry("adagrad", "pytorch", learning_rate=0.5),
                    # refused: torch's RMSprop puts α outside its momentum buffer
                    _entry("rmsprop", "pytorch", momentum=0.5, centered=1.0),
                ],
                schedule=cosine,
                **custom,
            ),
        ],
        "keras": [
            _setup("rosenbrock", [_entry(n, "keras") for n in FRAMEWORK_OPTIMIZERS["keras"]], steps=60),
            _setup(
                "custom",
                [
                    _entry("adam", "keras", learning_rate=0.05),
                    _entry("rmsprop", "keras", learning_rate=0.02, momentum=0.5, centered=1.0),
                    _entry("lion", "keras", learning_rate=0.01, weight_decay=0.01),
                    # refused: Keras's SGD puts α inside its velocity
                    _entry("momentum", "keras"),
                ],
                steps=60,
                schedule=cosine,
                **custom,
            ),
            _setup(
                "ravine",
                [
                    _entry("nadam", "keras", learning_rate=0.05),
                    _entry("adamax", "keras", learning_rate=0.05),
                    _entry("amsgrad", "keras", learning_rate=0.05),
                ],
                steps=60,
                schedule=step,
                **ravine,
            ),
            _setup(
                "custom",
                [
                    _entry("adam", "keras", learning_rate=0.05),
                    _entry("lion", "keras", learning_rate=0.01),
                ],
                steps=60,
                schedule=warmup,
                **custom,
            ),
        ],
    }


SETUPS = _setups()
POINTS = [(-1.3, 0.7), (0.4, -2.1), (2.5, 1.5), (0.0, 0.0), (-0.7, -0.3)]
_DRIVER = """
import json, runpy, sys
import numpy as np
split = sys.argv.index("--surfaces")
out = []
for path in sys.argv[1:split]:
    results = runpy.run_path(path)["main"](verbose=False)
    out.append([[label, None if p is None else [float(v) for v in p], d, note]
                for label, p, d, note in results])
values = []
for path in sys.argv[split + 1:]:
    ns = runpy.run_path(path)
    points = np.asarray(POINTS, dtype=np.float64)
    array = ns["torch"].tensor if "torch" in ns else ns["jax"].numpy.asarray
    x, y = array(points[:, 0]), array(points[:, 1])
    values.append([float(v) for v in np.asarray(ns["f"](x, y))])
print("RESULTS" + json.dumps([out, values]))
""".replace("POINTS", repr(POINTS))


@pytest.fixture(scope="module")
def script_results(tmp_path_factory):
    """{framework: [per setup: [(label, final, diverged_at, note)]]}, the three frameworks'
    processes running side by side; and the scripts' text."""
    root = tmp_path_factory.mktemp("exported")
    env = {k: v for k, v in os.environ.items() if k != "PYTHONPATH"}
    env["KERAS_BACKEND"] = "jax"
    env["JAX_PLATFORMS"] = "cpu"
    processes, texts = {}, {}
    for framework, setups in SETUPS.items():
        paths = []
        for i, setup in enumerate(setups):
            text = ce.export_script(setup, framework)
            path = root / f"{i}_{ce.script_filename(setup, framework)}"
            path.write_text(text, encoding="utf-8")
            assert path.read_text(encoding="utf-8") == text
            paths.append(str(path))
            texts[(framework, i)] = text
        # and every named surface, written in the framework's ops
        surface_paths = []
        for name in SURFACES:
            path = root / f"surface_{name}_{framework}.py"
            text = ce.export_script(_setup(name, [_entry("sgd")], steps=10), framework)
            path.write_text(text, encoding="utf-8")
            surface_paths.append(str(path))
        processes[framework] = subprocess.Popen(
            [sys.executable, "-c", _DRIVER, *paths, "--surfaces", *surface_paths],
            cwd=root,
            env=env,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
    # the float64 references, computed while the frameworks run
    references = {
        (framework, i, j): _replay(setup, entry)
        for framework, setups in SETUPS.items()
        for i, setup in enumerate(setups)
        for j, entry in enumerate(setup.optimizers)
        if ce.optimizer_support(entry.name, dict(entry.hparams), framework, entry.preset, setup.schedule).ok
    }
    results = {}
    for framework, process in processes.items():
        out, err = process.communicate(timeout=900)
        assert process.returncode == 0, f"{framework} scripts failed:\n{err[-3000:]}"
        line = next(x for x in out.splitlines() if x.startswith("RESULTS"))
        results[framework] = json.loads(line[len("RESULTS") :])
    return results, texts, references


# --- the reference: the engine's step, in float64 -------------------------------------------


def _factors(schedule: Schedule, steps: int) -> np.ndarray:
    """α_t/α as optim_core.schedules documents it (SCHEDULE_LATEX), t = 0 … steps − 1."""
    t = np.arange(steps, dtype=np.float64)
    if schedule.kind == "step":
        return schedule.decay_rate ** np.floor(t / schedule.decay_every)
    if schedule.kind == "cosine":
        f = schedule.final_fraction
        return f + (1 - f) * 0.5 * (1 + np.cos(np.pi * np.minimum(t / steps, 1.0)))
    if schedule.kind == "warmup":
        return np.minimum(1.0, (t + 1) / schedule.warmup_steps)
    return np.ones(steps)


@functools.partial(jax.jit, static_argnames=("fn", "name"))
def _scan(fn, name, hp, start, noise, factors, params):
    opt = OPTIMIZERS[name].optimizer
    value_and_grad = jax.value_and_grad(lambda xy: fn(xy[0], xy[1], params))

    def body(carry, xs):
        xy, grad, state = carry
        noise_t, factor = xs
        hp_t = {**hp, "learning_rate": hp["learning_rate"] * factor}
        update, state, _ = opt.update(grad + noise_t, state, xy, hp_t)
        xy = xy + update
        loss, grad = value_and_grad(xy)
        return (xy, grad, state), (xy, loss)

    _, grad = value_and_grad(start)
    return jax.lax.scan(body, (start, grad, opt.init(start)), (noise, factors))[1]


def _noise(setup: Setup) -> np.ndarray:
    table = np.random.default_rng(setup.seed).standard_normal((setup.steps, 2)).astype(np.float32)
    return (np.float32(setup.noise) * table).astype(np.float64)


def _replay(setup: Setup, entry: OptimizerEntry) -> tuple[np.ndarray, int | None, np.ndarray]:
    """(last point inside the picture, divergence step or None, path) in float64."""
    surface = setup.resolved_surface()
    hp = resolve_hparams(entry.name, dict(entry.hparams), entry.preset)
    with jax.enable_x64(True):
        params = {k: jnp.float64(v) for k, v in surface.resolve_params(dict(setup.surface_params)).items()}
        path, loss = _scan(
            surface.fn,
            entry.name,
            {k: jnp.float64(v) for k, v in hp.items()},
            jnp.asarray(setup.resolved_start(), jnp.float64),
            jnp.asarray(_noise(setup)),
            jnp.asarray(_factors(setup.schedule, setup.steps)),
            params,
        )
        path, loss = np.asarray(path), np.asarray(loss)
    assert path.dtype == np.float64
    path = np.concatenate([[setup.resolved_start()], path])
    with np.errstate(invalid="ignore"):
        bad = (
            ~np.isfinite(loss)
            | ~np.isfinite(path[1:]).all(axis=1)
            | (np.abs(path[1:]) > divergence_bound(surface)).any(axis=1)
        )
    if bad.any():
        k = int(bad.argmax()) + 1
        return path[k - 1], k, path
    return path[-1], None, path


def _close(ours: np.ndarray, theirs: np.ndarray) -> float:
    return float(np.linalg.norm(np.asarray(ours) - np.asarray(theirs)) / max(np.linalg.norm(ours), 1.0))


# --- the tests ------------------------------------------------------------------------------


@pytest.mark.parametrize("framework", ce.FRAMEWORKS)
def test_scripts_reproduce_the_playground(script_results, framework):
    results, _, references = script_results
    checked, failures, worst = set(), [], [0.0]
    for i, (setup, ran) in enumerate(zip(SETUPS[framework], results[framework][0])):
        assert len(ran) == len(setup.optimizers)
        for j, (entry, (label, final, diverged_at, note)) in enumerate(zip(setup.optimizers, ran)):
            code = ce.optimizer_support(
                entry.name, dict(entry.hparams), framework, entry.preset, setup.schedule
            )
            if not code.ok:
                assert final is None and code.refusal in note, (label, note)
                continue
            checked.add(entry.name)
            ours, ours_diverged, _ = references[(framework, i, j)]
            error = _close(ours, np.asarray(final))
            worst[0] = max(worst[0], error)
            if diverged_at != ours_diverged or not error <= RTOL:
                failures.append(
                    f"{setup.surface} {label}: script {final} (left at {diverged_at}), "
                    f"ours {ours.tolist()} (left at {ours_diverged}), error {error:.1e}"
                )
    assert not failures, "\n".join(failures)
    print(f"{framework}: {len(checked)} optimizers matched, worst relative difference {worst[0]:.1e}")
    # every optimizer the framework has was run and matched
    expected = set(ce.EXPORTABLE["optax"]) if framework == "optax" else set(FRAMEWORK_OPTIMIZERS[framework])
    assert checked >= expected, expected - checked
    assert set(ce.EXPORTABLE[framework]) == checked
    for name in OPTIMIZERS:
        if framework != "optax":
            assert (preset_support(name, framework) is None) == (name in checked), name


@pytest.mark.parametrize("framework", ce.FRAMEWORKS)
def test_every_named_surface_is_written_exactly(script_results, framework):
    results, _, _ = script_results
    values = results[framework][1]
    xs, ys = np.asarray(POINTS).T
    for name, got in zip(SURFACES, values):
        surface = SURFACES[name]
        with jax.enable_x64(True):
            params = {k: jnp.float64(v) for k, v in surface.default_params().items()}
            expected = np.asarray(surface.fn(jnp.asarray(xs), jnp.asarray(ys), params))
        np.testing.assert_allclose(got, expected, rtol=1e-12, atol=1e-12, err_msg=f"{framework} {name}")


def test_some_runs_leave_the_picture_and_the_scripts_say_when(script_results):
    results, _, references = script_results
    diverged = [(fw, r[0], r[2]) for fw in results for setup in results[fw][0] for r in setup if r[2]]
    assert diverged, "no setup exercises the divergence rule"
    # optax's SGD at α = 0.01 on Rosenbrock, Keras's SGD at its default 0.01
    second_sgd = entry_label(SETUPS["optax"][0], len(OPTIMIZERS))  # named as the app's legend names it
    assert second_sgd.startswith("SGD ") and "#" not in second_sgd
    assert any(fw == "optax" and label == second_sgd for fw, label, _ in diverged)
    assert any(fw == "keras" and label == "SGD" for fw, label, _ in diverged)


def test_the_float64_reference_is_the_engine(script_results):
    """The replay follows the engine's float32 path over the first 20 steps (before float32
    rounding is amplified) and leaves the picture at the same step. Checked on optax's setups:
    they hold every optimizer, the three schedules, noise, surface parameters, the custom formula
    and a divergence; the other frameworks' references come from the same replay."""
    _, _, references = script_results
    for framework, setups in SETUPS.items():
        if framework != "optax":
            continue
        for i, setup in enumerate(setups):
            surface = setup.resolved_surface()
            trajectories = run_batch(
                surface,
                [
                    RunConfig(e.name, dict(e.hparams), e.preset, setup.resolved_start())
                    for e in setup.optimizers
                ],
                steps=setup.steps,
                seed=setup.seed,
                noise=setup.noise,
                schedule=setup.schedule,
                surface_params=dict(setup.surface_params),
                record="path",
            )
            for j, (entry, trajectory) in enumerate(zip(setup.optimizers, trajectories)):
                if (framework, i, j) not in references:
                    continue
                _, diverged_at, path = references[(framework, i, j)]
                label = f"{framework} {setup.surface} {entry.name}"
                assert trajectory.diverged_at == diverged_at, label
                n = min(21, diverged_at or 21)
                np.testing.assert_allclose(trajectory.path[:n], path[:n], rtol=1e-4, atol=1e-5, err_msg=label)


def test_refusals_are_named_in_the_script_and_by_supported(script_results):
    _, texts, _ = script_results
    ok, why = ce.supported(SETUPS["pytorch"][2], "pytorch")
    assert not ok and "RMSprop" in why and "outside its momentum buffer" in why
    text = texts[("pytorch", 2)]
    assert "NOT EXPORTED" in text and "RMSprop" in text.split('"""')[1]  # in the header too
    ok, why = ce.supported(SETUPS["keras"][1], "keras")
    assert not ok and "velocity in steps" in why
    assert ce.supported(SETUPS["optax"][0], "optax") == (True, "")
    # optax at its own defaults can run everything; PyTorch at optax's defaults cannot run RMSprop
    # with ε inside the root, and says which preset would
    default = _setup("rosenbrock", [_entry("rmsprop")])
    ok, why = ce.supported(default, "pytorch")
    assert not ok and "ε inside" in why and "'pytorch' preset" in why
    # the frameworks' own presets the other way round
    for framework, other in (("optax", "keras"), ("pytorch", "keras"), ("keras", "pytorch")):
        ok, why = ce.supported(_setup("rosenbrock", [_entry("adam", other)]), framework)
        assert not ok and "ε" in why, (framework, other)
    # missing optimizers
    assert "no Lion" in ce.supported(_setup("rosenbrock", [_entry("lion")]), "pytorch")[1]
    assert "no RAdam" in ce.supported(_setup("rosenbrock", [_entry("radam")]), "keras")[1]
    for name in _MODERN:  # optax has every 2026 optimizer; torch.optim and Keras none, by name
        assert ce.supported(_setup("rosenbrock", [_entry(name)]), "optax") == (True, ""), name
        for framework in ("pytorch", "keras"):
            ok, why = ce.supported(_setup("rosenbrock", [_entry(name)]), framework)
            assert not ok and OPTIMIZERS[name].label in why, (name, framework)
    # Schedule-Free and SAM with a schedule: refused, saying why
    ok, why = ce.supported(SETUPS["optax"][1], "optax")
    assert not ok and "Schedule-Free" in why and "count + 1" in why and "descent steps only" in why


def test_scripts_are_standalone_python_with_a_main(script_results):
    _, texts, _ = script_results
    for (framework, i), text in texts.items():
        tree = ast.parse(text)
        imported = {
            alias.name.split(".")[0]
            for node in ast.walk(tree)
            if isinstance(node, (ast.Import, ast.ImportFrom))
            for alias in (node.names if isinstance(node, ast.Import) else [ast.alias(node.module)])
        }
        assert imported <= {"math", "os", "numpy", "jax", "optax", "torch", "keras"}, imported
        assert 'if __name__ == "__main__":' in text
        assert f"STEPS = {SETUPS[framework][i].steps}" in text


def test_custom_formula_is_translated_from_the_tree_not_pasted():
    normalized, code = ce.formula_code("2*x^3 - (y + 1)/(1 + x^2) + softplus(-y) + pi", "pytorch")
    assert normalized == "2 * x ** 3 - (y + 1) / (1 + x ** 2) + softplus(-y) + pi"
    assert "^" not in code and "_softplus(-y)" in code and str(math.pi) in code and "x ** 3" in code
    _, jax_code = ce.formula_code("min(x, y)^2.5 + atan2(y, x) + ln(2 + x^2)", "optax")
    assert "jnp.minimum(x, y) ** 2.5" in jax_code and "jnp.arctan2(y, x)" in jax_code
    assert "jnp.log(" in jax_code
    _, keras_code = ce.formula_code("x^(1+1) + y^-2 + x^y + cos(x)", "keras")
    assert "jnp.cos(x)" in keras_code  # jax.numpy: keras.ops.cos returns float32 for float64
    assert "x ** 2 " in keras_code and "y ** (-2)" in keras_code.replace("y ** -2", "y ** (-2)")
    assert "x ** y" in keras_code
    # only whitelisted names reach the file
    for framework in ce.FRAMEWORKS:
        _, code = ce.formula_code(FORMULA, framework)
        names = {n.id for n in ast.walk(ast.parse(code)) if isinstance(n, ast.Name)}
        assert names <= {"x", "y", "jnp", "jax", "torch", "_softplus"}, names
    for hostile in [
        "__import__('os').system('echo hi')",
        "x.__class__",
        "x\n)\nimport os",
        "x; y",
        "'''",
        "lambda: 1",
        "[x for x in y]",
        "9**9**9**9",
    ]:
        with pytest.raises(ExpressionError):
            ce.formula_code(hostile, "optax")
        setup = _setup("custom", [_entry("sgd")], expression=hostile)
        ok, why = ce.supported(setup, "optax")
        assert not ok and "cannot be exported" in why


def test_formula_code_matches_the_app_surface():
    """The translated formula, run with jax.numpy, gives the app's values (float64 twin)."""
    from surfaces.expression import parse_expression

    parsed = parse_expression(FORMULA)
    _, code = ce.formula_code(FORMULA, "optax")
    rng = np.random.default_rng(0)
    xs, ys = rng.uniform(-3, 3, 50), rng.uniform(-3, 3, 50)
    with jax.enable_x64(True):
        f = eval(
            compile(ast.parse(f"lambda x, y: {code}", mode="eval"), "<test>", "eval"),  # noqa: S307
            {"jnp": jnp, "jax": jax},
        )
        values = np.asarray(f(jnp.asarray(xs), jnp.asarray(ys)))
    np.testing.assert_allclose(values, parsed.numpy_fn(xs, ys), rtol=1e-12)


def test_nesterov_without_momentum_and_radam_thresholds():
    code = ce.optimizer_support("nesterov", {"momentum": 0.0}, "pytorch")
    assert code.ok and "nesterov=True" not in code.code and "plain SGD" in code.comment
    assert "nesterov=True" in ce.optimizer_support("nesterov", {}, "pytorch").code
    assert not ce.optimizer_support("radam", {"threshold": 3.0}, "optax").ok
    assert ce.optimizer_support("radam", {"threshold": 4.5}, "optax").ok
    assert not ce.optimizer_support("radam", {"threshold": 6.0}, "pytorch", "pytorch").ok
    assert not ce.optimizer_support("adadelta", {"weight_decay": 0.01}, "keras", "keras").ok
    # with a schedule: Keras's SGD momentum and torch's RMSprop momentum are refused, the rest not
    step = Schedule("step")
    assert ce.optimizer_support("momentum", {"momentum": 0.0}, "keras", "keras", step).ok
    assert not ce.optimizer_support("momentum", {}, "keras", "keras", step).ok
    assert ce.optimizer_support("momentum", {}, "pytorch", "pytorch", step).ok
    assert ce.optimizer_support("rmsprop", {"momentum": 0.5}, "keras", "keras", step).ok
    assert not ce.optimizer_support("rmsprop", {"momentum": 0.5}, "pytorch", "pytorch", step).ok


def test_optimizers_the_export_does_not_know_are_refused_by_name():
    for name, spec in OPTIMIZERS.items():
        for framework in ce.FRAMEWORKS:
            code = ce.optimizer_support(name, None, framework)
            if name not in ce.EXPORTABLE[framework]:
                assert not code.ok and spec.label in code.refusal, (name, framework)


def test_script_downloads_for_the_ui():
    setup = _setup("rosenbrock", [_entry("adam"), _entry("lion")], steps=50)
    downloads = {d.framework: d for d in ce.script_downloads(setup)}
    assert set(downloads) == set(ce.FRAMEWORKS)
    assert downloads["optax"].complete and downloads["optax"].note == ""
    assert not downloads["pytorch"].complete and "Lion" in downloads["pytorch"].note
    assert downloads["pytorch"].text == ce.export_script(setup, "pytorch")
    assert downloads["keras"].filename == "playground_rosenbrock_keras.py"
    bad = _setup("custom", [_entry("adam")], expression="log(-1 - x^2 - y^2)")  # nowhere finite
    for d in ce.script_downloads(bad):
        assert d.text is None and not d.complete and "cannot be exported" in d.note


def test_unknown_framework_and_filenames():
    with pytest.raises(ValueError, match="unknown framework"):
        ce.export_script(Setup(), "jax2")
    assert ce.script_filename(Setup(), "pytorch") == "playground_rosenbrock_pytorch.py"
    assert ce.script_filename(Setup(surface="custom"), "keras") == "playground_custom_keras.py"
