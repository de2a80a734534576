"""Bounded work per formula: a cost cap before anything is compiled, and a bounded surface cache
that drops what JAX compiled for the formulas it evicts."""

from __future__ import annotations

import numpy as np
import pytest

from optim_core import engine, run
from surfaces import ExpressionError, expression, from_expression
from surfaces._surface_cache import FormulaCache
from surfaces.expression import MAX_CACHED_FORMULAS, MAX_COST, parse_expression

# What people type: the README's example and the catalogue's surfaces written as formulas.
ORDINARY = [
    "sin(x)*cos(y) + 0.1*(x**2 + y**2)",
    "x**2 + 3*y**2",
    "x^2 - y^2",
    "x**3 - 3*x*y**2",
    "(1 - x)**2 + 100*(y - x**2)**2",
    "(x**2 + y - 11)**2 + (x + y**2 - 7)**2",
    "(1.5 - x + x*y)**2 + (2.25 - x + x*y**2)**2 + (2.625 - x + x*y**3)**2",
    "20 + x**2 - 10*cos(2*pi*x) + y**2 - 10*cos(2*pi*y)",
    "-20*exp(-0.2*sqrt(0.5*(x**2 + y**2))) - exp(0.5*(cos(2*pi*x) + cos(2*pi*y))) + e + 20",
    "(x + 2*y - 7)**2 + (2*x + y - 5)**2",
    "(1 + (x + y + 1)**2*(19 - 14*x + 3*x**2 - 14*y + 6*x*y + 3*y**2))"
    "*(30 + (2*x - 3*y)**2*(18 - 32*x + 12*x**2 + 48*y - 36*x*y + 27*y**2))",
    "(4 - 2.1*x**2 + x**4/3)*x**2 + x*y + (-4 + 4*y**2)*y**2",
    "log(1 + x**2 + y**2) + abs(x - y)",
    "softplus(x) + sigmoid(y) + tanh(x*y) + max(x, y) + min(x, -y) + atan2(y, 1 + x**2)",
]

EXP_CHAIN = "exp(" * 59 + "x" + ")" * 59  # 296 characters of exp


def test_the_300_character_exp_chain_is_refused_before_anything_is_built(monkeypatch):
    assert 290 <= len(EXP_CHAIN) <= 300
    built = []
    monkeypatch.setattr(expression, "_build_surface", lambda *a: built.append(a))
    with pytest.raises(ExpressionError, match=r"too complex to draw quickly: it costs 295 \(at most"):
        from_expression(EXP_CHAIN)
    assert built == []  # refused on the tree: no grid, no estimate, nothing for JAX to compile


@pytest.mark.parametrize(
    "text",
    [
        "+".join(["exp(x)"] * 43),  # 300 characters of exp(x) terms
        "sin(" * 59 + "x" + ")" * 59,
        "+".join(f"exp(tanh({0.1 + 0.01 * k:.2f}*x))" for k in range(24)),
    ],
)
def test_other_long_chains_of_functions_are_refused(text):
    with pytest.raises(ExpressionError, match="too complex to draw quickly"):
        from_expression(text)


@pytest.mark.parametrize("text", ORDINARY)
def test_ordinary_formulas_are_accepted(text):
    assert parse_expression(text).cost <= 80
    surface = from_expression(text)
    assert np.isfinite(float(surface.value(*surface.start)))


def test_the_cap_is_exact():
    # 41 sin(x) terms cost 41*5 + 40 = 245; "+ x*y*y" adds 1 + 2 + 2.
    at_cap = "+".join(["sin(x)"] * 41) + " + x*y*y"
    over = "+".join(["sin(x)"] * 41) + " + x*y*y*y"
    assert parse_expression(at_cap).cost == MAX_COST == 250
    assert parse_expression(over).cost == MAX_COST + 2
    from_expression(at_cap)
    with pytest.raises(ExpressionError, match="costs 252"):
        from_expression(over)


@pytest.mark.parametrize(
    ("text", "cost"),
    [
        ("x", 0),
        ("3*pi + e**2", 0),
        ("-x", 1),
        ("x + y", 1),
        ("x*y", 2),
        ("x/y", 2),
        ("x**2", 4),
        ("x**0.5", 6),
        ("x**y", 10),
        ("2**x", 10),
        ("exp(x)", 5),
        ("max(x, 1)", 5),
        ("exp(2*pi) * x", 2),  # constant parts cost nothing
    ],
)
def test_formula_cost_weights(text, cost):
    assert parse_expression(text).cost == cost


def test_parsing_alone_is_not_capped():
    # The cap guards surfaces (what the engine compiles); evaluating a parsed formula is allowed.
    assert parse_expression(EXP_CHAIN).cost > MAX_COST


# ---------------------------------------------------------------------------------------------
# The bounded cache


def test_formula_cache_keeps_at_most_capacity_formulas_least_recently_used_first():
    evictions = []
    cache: FormulaCache[str] = FormulaCache(4, on_evict=lambda: evictions.append(1))
    for name in "abcd":
        cache.put(name, None, name.upper())
    assert cache.get("a", None) == "A"  # a is now the most recently used
    cache.put("e", None, "E")
    assert evictions == [1]
    assert cache.formulas() == ["a", "e"]  # the least recently used half (b, c, d) went
    assert cache.get("b", None) is None
    assert cache.put("a", None, "other") == "A"  # first stored value wins
    assert cache.info()["evictions"] == 1


def test_from_expression_holds_at_most_the_capacity_and_clears_jax_caches(monkeypatch):
    evictions = []
    small: FormulaCache = FormulaCache(4, on_evict=lambda: evictions.append(1))
    monkeypatch.setattr(expression, "_SURFACES", small)
    texts = [f"(x - {k})**2 + y**2" for k in range(9)]
    first = from_expression(texts[0])
    assert from_expression(texts[0]) is first  # cached
    for text in texts[1:]:
        from_expression(text)
    assert len(small.formulas()) <= 4
    assert len(evictions) >= 2
    assert small.info()["capacity"] == 4
    again = from_expression(texts[0])  # evicted, built anew: equal, with the same function
    assert again is not first and again == first and again.fn is first.fn


def test_rejections_are_cached_and_keep_their_message(monkeypatch):
    small: FormulaCache = FormulaCache(4, on_evict=lambda: None)
    monkeypatch.setattr(expression, "_SURFACES", small)
    calls = []
    real = expression._build_surface

    def counting(*args):
        calls.append(args)
        return real(*args)

    monkeypatch.setattr(expression, "_build_surface", counting)
    for _ in range(3):
        with pytest.raises(ExpressionError, match="not finite anywhere") as info:
            from_expression("log(-exp(x))")
        assert info.value.__traceback__ is not None
    assert len(calls) == 1


def test_evicting_formulas_drops_the_programs_jax_compiled_for_them(monkeypatch):
    small: FormulaCache = FormulaCache(2)  # the real hook: jax.clear_caches()
    monkeypatch.setattr(expression, "_SURFACES", small)
    surface = from_expression("(x - 0.25)**2 + 2*(y + 0.5)**2")
    run(surface, "sgd", steps=50)
    assert engine._simulate_groups._cache_size() >= 1
    from_expression("(x - 0.75)**2 + 2*(y + 0.5)**2")
    from_expression("(x - 1.25)**2 + 2*(y + 0.5)**2")  # over capacity: evicts and clears
    assert small.info()["evictions"] == 1
    assert engine._simulate_groups._cache_size() == 0
    # Still usable afterwards: the next call compiles again.
    assert run(surface, "sgd", steps=50).path.shape == (51, 2)


def test_the_module_cache_is_bounded():
    info = expression.cache_info()
    assert info["capacity"] == MAX_CACHED_FORMULAS == 24
    assert info["formulas"] <= MAX_CACHED_FORMULAS
