"""Property tests of the formula parser: a grammar of valid formulas, and junk."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import jax
import jax.numpy as jnp
import numpy as np
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from surfaces import ExpressionError, Surface, from_expression
from surfaces.expression import parse_expression

# Derandomized: the same examples on every run, so CI never flakes on a rare float corner.
PROPERTY = settings(
    max_examples=100,
    deadline=None,
    derandomize=True,
    suppress_health_check=[HealthCheck.too_slow],
)

# The same (6, 7) shape as in test_surfaces_expression.py: JAX compiles each operation once per
# shape, so sharing it keeps the suite fast.
XS, YS = np.meshgrid(np.linspace(-2.7, 2.9, 7), np.linspace(-2.3, 2.6, 6))

# Precedence levels of the text printer below, following Python's grammar.
SUM, PRODUCT, UNARY, POWER, ATOM = 1, 2, 3, 4, 5


@dataclass(frozen=True)
class Formula:
    """Generated formula text together with an independent NumPy evaluation of the same tree."""

    text: str  # minimal parentheses
    decorated: str  # the same tree with extra parentheses, spaces and ^ for **
    level: int
    ref: Callable[[np.ndarray, np.ndarray], np.ndarray]


def _wrap_if(formula: Formula, needed: bool) -> tuple[str, str]:
    if needed:
        return f"({formula.text})", f"( {formula.decorated} )"
    return formula.text, formula.decorated


def _constant(value: float, text: str) -> Formula:
    return Formula(text, text, ATOM, lambda x, y: np.full_like(x, value))


NAMES = {
    "x": lambda x, y: x,
    "y": lambda x, y: y,
    "pi": lambda x, y: np.full_like(x, np.pi),
    "e": lambda x, y: np.full_like(x, np.e),
}
UNARY_FUNCTIONS = {
    "sin": np.sin,
    "cos": np.cos,
    "tan": np.tan,
    "arctan": np.arctan,
    "atan": np.arctan,
    "arcsin": np.arcsin,
    "acos": np.arccos,
    "sinh": np.sinh,
    "cosh": np.cosh,
    "tanh": np.tanh,
    "exp": np.exp,
    "log": np.log,
    "ln": np.log,
    "log2": np.log2,
    "log10": np.log10,
    "sqrt": np.sqrt,
    "abs": np.abs,
    "sigmoid": lambda a: 1.0 / (1.0 + np.exp(-a)),
    "softplus": lambda a: np.log1p(np.exp(a)),
}
BINARY_FUNCTIONS = {
    "min": np.minimum,
    "max": np.maximum,
    "atan2": np.arctan2,
    "arctan2": np.arctan2,
}
OPERATORS = {
    "+": (SUM, np.add),
    "-": (SUM, np.subtract),
    "*": (PRODUCT, np.multiply),
    "/": (PRODUCT, np.divide),
}

leaves = st.one_of(
    st.sampled_from(sorted(NAMES)).map(lambda n: Formula(n, n, ATOM, NAMES[n])),
    st.integers(0, 50).map(lambda n: _constant(float(n), str(n))),
    st.floats(0.01, 50.0).map(lambda v: f"{v:.4g}").map(lambda t: _constant(float(t), t)),
    st.floats(1e-3, 1e3).map(lambda v: f"{v:.3e}").map(lambda t: _constant(float(t), t)),
)


def _binary(op: str, a: Formula, b: Formula) -> Formula:
    level, ufunc = OPERATORS[op]
    # Left-associative: an equal-level left operand needs no parentheses, a right one does.
    left, left_d = _wrap_if(a, a.level < level)
    right, right_d = _wrap_if(b, b.level <= level)
    return Formula(
        f"{left}{op}{right}",
        f"{left_d} {op} {right_d}",
        level,
        lambda x, y: ufunc(a.ref(x, y), b.ref(x, y)),
    )


def _negate(a: Formula) -> Formula:
    inner, inner_d = _wrap_if(a, a.level < UNARY)  # -x**2 is -(x**2): no parentheses needed
    return Formula(f"-{inner}", f"- {inner_d}", UNARY, lambda x, y: -a.ref(x, y))


def _power(a: Formula, exponent: int, caret: bool) -> Formula:
    base, base_d = _wrap_if(a, a.level < ATOM)
    exponent_text = str(exponent)  # "-1" is a unary minus, allowed right after ** in Python
    symbol = "^" if caret else "**"
    return Formula(
        f"{base}**{exponent_text}",
        f"{base_d}{symbol}{exponent_text}",
        POWER,
        lambda x, y: np.power(a.ref(x, y), float(exponent)),
    )


def _call(name: str, args: list[Formula]) -> Formula:
    function = UNARY_FUNCTIONS.get(name) or BINARY_FUNCTIONS[name]
    text = f"{name}({', '.join(a.text for a in args)})"
    decorated = f"{name}( {' , '.join(a.decorated for a in args)} )"
    return Formula(text, decorated, ATOM, lambda x, y: function(*(a.ref(x, y) for a in args)))


def _extend(children: st.SearchStrategy[Formula]) -> st.SearchStrategy[Formula]:
    return st.one_of(
        st.builds(_binary, st.sampled_from(sorted(OPERATORS)), children, children),
        st.builds(_negate, children),
        st.builds(_power, children, st.integers(-2, 4), st.booleans()),
        st.builds(lambda n, a: _call(n, [a]), st.sampled_from(sorted(UNARY_FUNCTIONS)), children),
        st.builds(
            lambda n, a, b: _call(n, [a, b]),
            st.sampled_from(sorted(BINARY_FUNCTIONS)),
            children,
            children,
        ),
    )


formulas = st.recursive(leaves, _extend, max_leaves=10)


def _evaluate64(text: str) -> np.ndarray:
    fn = parse_expression(text).fn
    with jax.enable_x64(True):
        return np.asarray(fn(jnp.asarray(XS), jnp.asarray(YS), {}))


@PROPERTY
@given(formulas)
def test_generated_formulas_evaluate_like_numpy(formula):
    with np.errstate(all="ignore"):
        expected = formula.ref(XS, YS)
    got = _evaluate64(formula.text)
    assert got.shape == XS.shape
    # Compare where the reference is finite and moderate: near poles and overflow two correct
    # libraries may differ by an ulp that is then blown up.
    usable = np.isfinite(expected) & (np.abs(expected) < 1e8)
    np.testing.assert_allclose(got[usable], expected[usable], rtol=1e-9, atol=1e-9)


@PROPERTY
@given(formulas)
def test_parentheses_spaces_and_caret_do_not_change_the_meaning(formula):
    plain = parse_expression(formula.text)
    decorated = parse_expression(formula.decorated)
    assert decorated is plain  # same normalized text, same cached function
    assert parse_expression(plain.normalized) is plain
    latex = plain.latex
    assert latex.count("{") == latex.count("}")
    assert latex.count(r"\left") == latex.count(r"\right")


@settings(max_examples=20, deadline=None, derandomize=True, suppress_health_check=[HealthCheck.too_slow])
@given(formulas)
def test_generated_formulas_make_surfaces_or_say_why_not(formula):
    try:
        surface = from_expression(formula.text)
    except ExpressionError as err:
        assert "not finite anywhere" in str(err)
        return
    assert isinstance(surface, Surface)
    (xmin, xmax), (ymin, ymax) = surface.domain
    assert xmin <= surface.start[0] <= xmax and ymin <= surface.start[1] <= ymax
    assert np.isfinite(float(surface.value(*surface.start)))
    for mx, my in surface.minima:
        assert xmin < mx < xmax and ymin < my < ymax


# ---------------------------------------------------------------------------------------------
# Junk: anything at all is a Surface or an ExpressionError, fast.

TOKENS = [
    "x",
    "y",
    "pi",
    "e",
    "1",
    "2.5",
    "1e3",
    "(",
    ")",
    "+",
    "-",
    "*",
    "/",
    "**",
    "^",
    ",",
    " ",
    "sin",
    "log",
    "max",
    "pow",
    ".",
    "[",
    "]",
    "'",
    ":",
    "=",
    "lambda",
    "if",
    "else",
    "for",
    "in",
    "__import__",
    "__class__",
    "j",
    "%",
    "<",
    "@",
    "\x00",
    "\u03c0",
    "9**9",
    "{",
    "}",
]
junk_texts = st.one_of(
    st.text(max_size=200),
    st.lists(st.sampled_from(TOKENS), max_size=60).map("".join),
)


@settings(max_examples=200, deadline=500, derandomize=True)
@given(junk_texts)
def test_junk_text_only_ever_raises_expression_error(text):
    try:
        parse_expression(text)
    except ExpressionError as err:
        assert str(err)  # always says something
    # Any other exception type propagates and fails the test; the deadline catches hangs.


@settings(max_examples=40, deadline=5000, derandomize=True)
@given(st.lists(st.sampled_from(TOKENS[:25]), min_size=1, max_size=12).map("".join))
def test_token_soup_through_from_expression(text):
    try:
        surface = from_expression(text)
    except ExpressionError:
        return
    assert surface.key.startswith("custom:")
