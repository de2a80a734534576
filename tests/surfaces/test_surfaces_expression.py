"""The formula parser: accepted formulas, rejected ones, bounds, LaTeX, caching and minima."""

from __future__ import annotations

import math
import time

import jax
import jax.numpy as jnp
import numpy as np
import pytest

from surfaces import SURFACES, ExpressionError, Surface, from_expression, get_surface
from surfaces.expression import parse_expression

XS = np.array([-2.3, -1.1, -0.4, 0.3, 0.9, 1.7, 2.6])
YS = np.array([-1.9, -0.7, 0.2, 0.8, 1.4, 2.2])
GRID_X, GRID_Y = np.meshgrid(XS, YS)


def _evaluate64(text: str, x=GRID_X, y=GRID_Y) -> np.ndarray:
    fn = parse_expression(text).fn
    with jax.enable_x64(True):
        return np.asarray(fn(jnp.asarray(x, jnp.float64), jnp.asarray(y, jnp.float64), {}))


def _sigmoid(a):
    return 1.0 / (1.0 + np.exp(-a))


# (formula, NumPy reference). Written independently of the parser.
VALID = [
    ("sin(x)*cos(y) + 0.1*(x**2 + y**2)", lambda x, y: np.sin(x) * np.cos(y) + 0.1 * (x**2 + y**2)),
    ("x^2 + y^2", lambda x, y: x**2 + y**2),
    ("2*x^2 + 1", lambda x, y: 2 * x**2 + 1),  # ^ binds like **, not like Python's XOR
    ("x^2*y - y^3/3", lambda x, y: x**2 * y - y**3 / 3),
    ("2^-x", lambda x, y: 2.0 ** (-x)),
    ("x**2**2", lambda x, y: x ** (2**2)),  # right-associative
    ("(x**2)**3", lambda x, y: (x**2) ** 3),
    ("-x**2", lambda x, y: -(x**2)),
    ("(-x)**2", lambda x, y: x**2),
    ("- - x + +y", lambda x, y: x + y),
    ("x - y - 1", lambda x, y: (x - y) - 1),
    ("x / y / 2", lambda x, y: (x / y) / 2),
    ("1 - (x - y)", lambda x, y: 1 - (x - y)),
    ("pi*x + e*y", lambda x, y: np.pi * x + np.e * y),
    ("e**x", lambda x, y: np.exp(x)),
    ("3", lambda x, y: np.full_like(x, 3.0)),
    ("y", lambda x, y: y),
    ("2.5e-1*x + 1E2", lambda x, y: 0.25 * x + 100.0),
    ("1_000 * x", lambda x, y: 1000.0 * x),
    (".5*x + 5.*y", lambda x, y: 0.5 * x + 5.0 * y),
    ("tan(x/3) + arctan(y) + atan(x)", lambda x, y: np.tan(x / 3) + np.arctan(y) + np.arctan(x)),
    ("arcsin(x/3) + asin(y/3)", lambda x, y: np.arcsin(x / 3) + np.arcsin(y / 3)),
    ("arccos(x/3) + acos(y/3)", lambda x, y: np.arccos(x / 3) + np.arccos(y / 3)),
    ("sinh(x) - cosh(y) * tanh(x)", lambda x, y: np.sinh(x) - np.cosh(y) * np.tanh(x)),
    ("exp(-x**2 - y**2)", lambda x, y: np.exp(-(x**2) - y**2)),
    ("log(1 + x**2) + ln(2 + y)", lambda x, y: np.log(1 + x**2) + np.log(2 + y)),
    ("log2(x**2 + 1) + log10(y**2 + 1)", lambda x, y: np.log2(x**2 + 1) + np.log10(y**2 + 1)),
    ("sqrt(x**2 + y**2)", lambda x, y: np.hypot(x, y)),
    ("abs(x) + abs(y - 1)", lambda x, y: np.abs(x) + np.abs(y - 1)),
    ("sigmoid(x) * softplus(y)", lambda x, y: _sigmoid(x) * np.log1p(np.exp(y))),
    ("min(x, y) + max(x, 2*y)", lambda x, y: np.minimum(x, y) + np.maximum(x, 2 * y)),
    ("pow(x, 3) + pow(2, y)", lambda x, y: x**3 + 2.0**y),
    ("atan2(y, x) + arctan2(x, 1)", lambda x, y: np.arctan2(y, x) + np.arctan2(x, 1)),
    ("x**-1 + y**-2", lambda x, y: 1 / x + 1 / y**2),
    ("x**0.5", lambda x, y: np.sqrt(x)),  # NaN for x < 0, like NumPy
    ("(1-x)**2 + 100*(y-x**2)**2", lambda x, y: (1 - x) ** 2 + 100 * (y - x**2) ** 2),
    ("x\u00b2 + 3\u00d7y \u2212 \u03c0", lambda x, y: x**2 + 3 * y - np.pi),  # x² + 3×y − π
    ("  x *\n y\t", lambda x, y: x * y),
]


@pytest.mark.parametrize(("text", "reference"), VALID, ids=[t for t, _ in VALID])
def test_valid_formulas_evaluate_like_numpy(text, reference):
    with np.errstate(all="ignore"):
        expected = reference(GRID_X, GRID_Y)
    got = _evaluate64(text)
    assert got.shape == GRID_X.shape
    np.testing.assert_allclose(got, expected, rtol=1e-12, atol=1e-12, equal_nan=True)


def test_float32_evaluation_and_gradient_of_a_custom_surface():
    surface = from_expression("sin(x)*cos(y) + 0.1*(x**2 + y**2)")
    values = np.asarray(surface.value(GRID_X, GRID_Y))
    assert values.dtype == np.float32
    np.testing.assert_allclose(
        values, np.sin(GRID_X) * np.cos(GRID_Y) + 0.1 * (GRID_X**2 + GRID_Y**2), atol=1e-6
    )
    grad = jax.jit(jax.grad(surface.loss_xy))
    for x, y in [(0.3, -1.2), (2.0, 0.5), (-1.0, 1.0)]:
        expected = [np.cos(x) * np.cos(y) + 0.2 * x, -np.sin(x) * np.sin(y) + 0.2 * y]
        np.testing.assert_allclose(np.asarray(grad(jnp.asarray([x, y]), {})), expected, atol=1e-5)


def test_gradient_of_custom_surface_matches_finite_differences_in_float64():
    text = "exp(-x**2/4) * sin(2*y) + sqrt(1 + x**2) * log(2 + cos(y)) - min(x, y)**2"

    def reference(x, y):
        return (
            np.exp(-(x**2) / 4) * np.sin(2 * y) + np.sqrt(1 + x**2) * np.log(2 + np.cos(y)) - min(x, y) ** 2
        )

    surface = from_expression(text)
    points = [(0.4, -1.3), (-2.2, 0.9), (1.5, 2.5)]
    with jax.enable_x64(True):
        grads = jax.jit(jax.vmap(jax.grad(surface.loss_xy), in_axes=(0, None)))(
            jnp.asarray(points, jnp.float64), {}
        )
    h = 1e-6
    for (x, y), got in zip(points, np.asarray(grads), strict=True):
        expected = [
            (reference(x + h, y) - reference(x - h, y)) / (2 * h),
            (reference(x, y + h) - reference(x, y - h)) / (2 * h),
        ]
        np.testing.assert_allclose(got, expected, rtol=1e-7, atol=1e-8)


def test_integer_powers_of_negative_numbers_have_finite_gradients():
    surface = from_expression("x**3 + y**2")
    grad = np.asarray(jax.jit(jax.grad(surface.loss_xy))(jnp.asarray([-2.0, -3.0]), {}))
    np.testing.assert_allclose(grad, [12.0, -6.0])


# ---------------------------------------------------------------------------------------------
# Rejections: one exception type, a message that names the problem and where.

ERRORS = [
    ("x + z", r"unknown name 'z' at column 5; use x, y, pi, e"),
    ("X**2", r"unknown name 'X' at column 1.*case-sensitive"),
    ("xy", r"unknown name 'xy'.*x\*y"),
    ("foo(x)", r"unknown function 'foo' at column 1"),
    ("sn(x)", r"unknown function 'sn'.*did you mean 'sin'"),
    ("Sin(x)", r"unknown function 'Sin'.*did you mean 'sin'"),
    ("sin", r"'sin' at column 1 is a function"),
    ("sin(x, y)", r"sin\(\) at column 1 takes 1 argument, got 2"),
    ("max(x)", r"max\(\) at column 1 takes 2 arguments, got 1"),
    ("sin(x=1)", r"keyword arguments are not allowed"),
    ("sin(*x)", r"unpacking with \* at column 5"),
    ("x(2)", r"'x' at column 1 is not a function"),
    ("sin(x)(y)", r"only named functions can be called"),
    ("x % 2", r"operator '%' at column 3 is not allowed"),
    ("x // 2", r"operator '//' at column 3"),
    ("x | y", r"operator '\|' at column 3.*abs"),
    ("x & y", r"operator '&'"),
    ("x << 1", r"operator '<<'"),
    ("x @ y", r"operator '@'"),
    ("~x", r"operator '~' at column 1"),
    ("not x", r"operator 'not' at column 1"),
    ("x < y", r"comparisons .* \(at column 3\)"),
    ("x == y", r"comparisons"),
    ("x and y", r"'and' / 'or' .*\(at column 3\)"),
    ("x if y else 1", r"conditional expressions .*\(at column 3\)"),
    ("(x := 1)", r"assignments"),
    ("x = 1", r"'=' at column 3 is not allowed"),
    ("x; y", r"';' at column 2 is not allowed"),
    ("2x", r"invalid number at column 1.*2\*x"),
    ("x y", r"missing operator before column 3"),
    ("(x + 1", r"'\(' at column 1 is never closed"),
    ("x + 1)", r"unmatched '\)' at column 6"),
    ("x +", r"ends too early"),
    ("x ^^ 2", r"syntax error.*column 4"),
    ("'a'", r"strings are not allowed"),
    ('"x"', r"strings are not allowed"),
    ("'x", r"strings are not allowed"),
    ("f'{x}'", r"strings are not allowed"),
    ("b'x'", r"strings are not allowed"),
    ("1j", r"complex number '1j' at column 1"),
    ("True", r"True at column 1 is not allowed"),
    ("None", r"None at column 1"),
    ("...", r"Ellipsis"),
    ("x.real", r"attribute access '\.real' at column 2"),
    ("x[0]", r"indexing with \[\.\.\.\] at column 2"),
    ("[x, y]", r"lists"),
    ("(x, y)", r"tuples"),
    ("{x}", r"sets"),
    ("{x: y}", r"dicts"),
    ("lambda: 1", r"lambda functions are not allowed"),
    ("[x for x in y]", r"comprehensions"),
    ("(x for x in y)", r"generator expressions"),
    ("9**9**9**9", r"power tower '9\*\*9\*\*9\*\*9' at column 1 is too tall"),
    ("x^2^2^2", r"power tower .* too tall"),
    ("2**1000", r"exponent '1000' at column 4 is too large"),
    ("x**-101", r"exponent '-101' at column 4 is too large"),
    ("pow(x, 1000)", r"exponent '1000' at column 8 is too large"),
    ("x**(1/0)", r"exponent '1/0' .* not a finite number"),
    ("1e999", r"number '1e999' at column 1 is too large"),
    ("1" * 400, r"number '1111.*' at column 1 is too large"),
    ("x + \u00e9", r"character 'é' \(U\+00E9\) at column 5"),
    ("x\x00", r"null byte at column 2"),
    ("x\x1b", r"character '\\x1b'"),
    ("", r"empty"),
    ("   ", r"empty"),
    ("x" * 501, r"too long: 501 characters \(at most 500\)"),
    ("-" * 100 + "x", r"nested too deeply at column 65"),
    ("(" * 240 + "x" + ")" * 240, r"too many nested parentheses"),
    ("+".join(["x"] * 70), r"nested too deeply"),
    ("sqrt(-1 - x**2 - y**2)", r"not finite anywhere on the domain"),
    ("log(-exp(x))", r"not finite anywhere"),
    ("0/0 + x", r"not finite anywhere"),
]


@pytest.mark.parametrize(("text", "pattern"), ERRORS, ids=[repr(t)[:40] for t, _ in ERRORS])
def test_rejections_name_the_problem(text, pattern):
    with pytest.raises(ExpressionError, match=pattern):
        from_expression(text)


def test_error_is_a_value_error_with_the_column():
    with pytest.raises(ValueError) as info:
        from_expression("x + y + zeta")
    assert isinstance(info.value, ExpressionError)
    assert info.value.column == 9


def test_columns_refer_to_the_typed_text_after_friendly_replacements():
    # '^' becomes '**' and 'π' becomes 'pi' before parsing; columns still count typed characters.
    with pytest.raises(ExpressionError, match="unknown name 'z' at column 9") as info:
        from_expression("x^2 + \u03c0*z")
    assert info.value.column == 9


def test_non_text_is_rejected():
    for value in (None, 3, b"x", ["x"]):
        with pytest.raises(ExpressionError, match="must be text"):
            from_expression(value)  # type: ignore[arg-type]


HOSTILE = [
    ("__import__('os').system('ls')", r"unknown function '__import__'"),
    ("x.__class__", r"attribute access '\.__class__'"),
    ("().__class__.__bases__", r"tuples"),
    ("x[0]", r"indexing"),
    ("lambda: 1", r"lambda"),
    ("[x for x in y]", r"comprehensions"),
    ("9**9**9**9", r"power tower"),
    ("(" * 10000 + "x" + ")" * 10000, r"too long"),
    ("x+" * 100000, r"too long"),
    ("open('f')", r"unknown function 'open'"),
    ("eval('1')", r"unknown function 'eval'"),
    ("exec('import os')", r"unknown function 'exec'"),
    ("globals()", r"unknown function 'globals'"),
    ("x if y else 1", r"conditional expressions"),
    ("'a'", r"strings"),
    ("1j", r"complex"),
    ("x; y", r"';'"),
    ("x\x00y", r"null byte"),
    ("\x00" * 400, r"null byte"),
    ("9" * 500, r"too large"),
    ("9" * 4301, r"too long"),
    ("1" + "0" * 497 + ".5", r"too large"),
    ("1e" + "9" * 400, r"too large"),
    ("(" * 199 + "x" + ")" * 199, r"^(?!.*Recursion)"),  # accepted or rejected, but quickly
    ("-" * 499 + "x", r"nested too deeply"),
    ("2**(2**(2**2))", r"power tower"),
    ("(9**99)**(9**99)", r"too large"),
    ("x**9**99", r"too large"),
]


@pytest.mark.parametrize(("text", "pattern"), HOSTILE, ids=[repr(t)[:30] for t, _ in HOSTILE])
def test_hostile_inputs_are_rejected_quickly(text, pattern):
    started = time.perf_counter()
    try:
        from_expression(text)
    except ExpressionError as err:
        assert __import__("re").search(pattern, str(err)), str(err)
    else:
        assert text.startswith("((("), "only the deep-but-legal parentheses may be accepted"
    assert time.perf_counter() - started < 0.5


# ---------------------------------------------------------------------------------------------
# Normalisation, caching, labels and LaTeX


def test_same_formula_gives_the_same_surface_object():
    a = from_expression("x^2 + y^2")
    b = from_expression("x**2+y**2")
    c = from_expression("  ((x) ** 2) + (y ** 2)  ")
    assert a is b is c
    assert a.key == "custom:x ** 2 + y ** 2"
    assert a.label == "Custom: f(x,y) = x^2 + y^2"
    # Aliases and pow() normalize too.
    assert from_expression("atan(x) + ln(y**2 + 1) + pow(x, 2)").key == (
        "custom:arctan(x) + log(y ** 2 + 1) + x ** 2"
    )


def test_other_domains_share_key_and_function_but_not_the_estimates():
    wide = from_expression("(x - 1)**2 + (y + 2)**2")
    narrow = from_expression("(x - 1)**2 + (y + 2)**2", domain=((0, 3), (-3, 0)))
    assert wide == narrow and hash(wide) == hash(narrow)  # same key: the same jit cache entry
    assert wide.fn is narrow.fn
    assert narrow.domain == ((0.0, 3.0), (-3.0, 0.0))
    assert from_expression("(x - 1)**2 + (y + 2)**2", domain=[[0, 3], [-3, 0]]) is narrow


def test_normalized_text_parses_back_to_the_same_function():
    for text, _ in VALID:
        parsed = parse_expression(text)
        again = parse_expression(parsed.normalized)
        assert again.normalized == parsed.normalized
        assert again is parsed  # cached on the normalized text: one compiled function


def test_custom_surfaces_work_through_get_surface_and_as_jit_static_arguments():
    surface = get_surface("custom:x**2 + 3*y**2")
    assert surface is from_expression("x ** 2 + 3 * y ** 2")

    @jax.jit
    def loss(xy):
        return surface.loss_xy(xy, {})

    assert float(loss(jnp.asarray([1.0, 2.0]))) == pytest.approx(13.0)
    static = jax.jit(lambda s, xy: s.loss_xy(xy, {}), static_argnums=0)
    assert float(static(surface, jnp.asarray([1.0, 1.0]))) == pytest.approx(4.0)


LATEX = [
    ("x**2 + y**2", r"x^{2} + y^{2}"),
    ("2*x^2", r"2 x^{2}"),
    ("x*y", r"x \cdot y"),
    ("sqrt(x)/2", r"\frac{\sqrt{x}}{2}"),
    ("-(x + y)", r"-\left(x + y\right)"),
    ("-x**2", r"-x^{2}"),
    ("(-x)**2", r"\left(-x\right)^{2}"),
    ("x - (y - 1)", r"x - \left(y - 1\right)"),
    ("(x - y) - 1", r"x - y - 1"),
    ("x * (y + 1)", r"x \cdot \left(y + 1\right)"),
    ("x + -y", r"x + \left(-y\right)"),
    ("sin(x)**2", r"\left(\sin\left(x\right)\right)^{2}"),
    ("exp(x) * log(y)", r"\exp\left(x\right) \cdot \ln\left(y\right)"),
    ("abs(x) + pi", r"\left|x\right| + \pi"),
    ("2**-x", r"2^{-x}"),
    ("1e-05 * x", r"1 \cdot 10^{-5} x"),
    ("max(x, y)", r"\max\left(x, y\right)"),
    ("log10(x) + log2(y)", r"\log_{10}\left(x\right) + \log_{2}\left(y\right)"),
]


@pytest.mark.parametrize(("text", "latex"), LATEX, ids=[t for t, _ in LATEX])
def test_latex_rendering(text, latex):
    assert parse_expression(text).latex == latex


def test_surface_latex_and_description():
    surface = from_expression("x^2 + y^2")
    assert surface.latex == "f(x,y) = x^{2} + y^{2}"
    assert "estimated" in surface.description
    assert surface.extra["minima_estimated"] is True


# ---------------------------------------------------------------------------------------------
# Estimated minima and start points


def _close_sets(found, expected, tol):
    return len(found) == len(expected) and all(min(math.dist(e, f) for f in found) < tol for e in expected)


def test_minimum_of_a_shifted_bowl():
    surface = from_expression("(x - 1)**2 + 2*(y + 2)**2 + 0.5")
    assert _close_sets(surface.minima, [(1.0, -2.0)], 1e-4)
    assert surface.extra["min_value"] == pytest.approx(0.5, abs=1e-9)


def test_all_four_himmelblau_minima_are_found():
    surface = from_expression("(x^2 + y - 11)^2 + (x + y^2 - 7)^2")
    assert _close_sets(surface.minima, SURFACES["himmelblau"].minima, 1e-4)


def test_minima_of_catalogue_formulas_typed_by_hand():
    beale = from_expression(
        "(1.5 - x + x*y)^2 + (2.25 - x + x*y^2)^2 + (2.625 - x + x*y^3)^2",
        domain=((-4.5, 4.5), (-4.5, 4.5)),
    )
    assert _close_sets(beale.minima, [(3.0, 0.5)], 1e-3)
    rosenbrock = from_expression("(1-x)^2 + 100*(y-x^2)^2", domain=((-2, 2), (-1, 3)))
    assert _close_sets(rosenbrock.minima, [(1.0, 1.0)], 1e-3)
    camel = from_expression(
        "(4 - 2.1*x^2 + x^4/3)*x^2 + x*y + (-4 + 4*y^2)*y^2", domain=((-2, 2), (-1.2, 1.2))
    )
    assert _close_sets(camel.minima, SURFACES["six_hump_camel"].minima, 1e-4)
    assert camel.extra["min_value"] == pytest.approx(-1.0316285, abs=1e-6)


def test_non_smooth_minimum_is_found():
    surface = from_expression("abs(x - 1) + abs(y + 0.5)")
    assert _close_sets(surface.minima, [(1.0, -0.5)], 1e-3)


@pytest.mark.parametrize(
    "text",
    [
        "x**2 - y**2",  # saddle: lowest on the edge
        "x + y",  # a plane
        "3",  # constant
        "x**2",  # a whole valley of minima
        "-(x**2 + y**2)",  # a peak
        "log(x*y)",  # falls to -inf at the axes: no minimum
        "log(x**2 + y**2)",  # a pole, not a minimum
    ],
)
def test_no_minima_reported_without_an_isolated_interior_minimum(text):
    surface = from_expression(text)
    assert surface.minima == ()
    assert surface.extra["min_value"] is None


@pytest.mark.parametrize(
    "text",
    ["x**2 + y**2", "sqrt(x)", "log(x*y)", "(x-1)**2 + (y+2)**2", "x**2 - y**2", "sqrt(x*y)"],
)
def test_default_start_is_inside_finite_and_away_from_the_minima(text):
    surface = from_expression(text)
    (xmin, xmax), (ymin, ymax) = surface.domain
    x, y = surface.start
    assert xmin <= x <= xmax and ymin <= y <= ymax
    value, grad = jax.jit(jax.value_and_grad(surface.loss_xy))(jnp.asarray([x, y]), {})
    assert np.isfinite(float(value)) and np.all(np.isfinite(np.asarray(grad)))
    for minimum in surface.minima:
        assert math.dist(surface.start, minimum) > 2.0


def test_given_start_is_used_and_checked():
    assert from_expression("x**2 + y**2", start=(1, -2)).start == (1.0, -2.0)
    with pytest.raises(ExpressionError, match="outside the domain"):
        from_expression("x**2 + y**2", start=(6.0, 0.0))
    with pytest.raises(ExpressionError, match="not finite at the start"):
        from_expression("sqrt(x)", start=(-1.0, 0.0))
    with pytest.raises(ExpressionError, match="pair of numbers"):
        from_expression("x", start=(1.0,))


@pytest.mark.parametrize(
    ("domain", "pattern"),
    [
        (((5, -5), (-5, 5)), r"xmin < xmax"),
        (((-5, 5), (1, 1)), r"ymin < ymax"),
        (((-5, float("inf")), (-5, 5)), r"finite"),
        (((float("nan"), 5), (-5, 5)), r"finite"),
        (((-1e6, 1e6), (-5, 5)), r"within"),
        (((0, 1e-5), (-5, 5)), r"width"),
        ((-5, 5), r"\(\(xmin, xmax\), \(ymin, ymax\)\)"),
        ((("a", "b"), (1, 2)), r"numbers"),
    ],
)
def test_bad_domains_are_rejected(domain, pattern):
    with pytest.raises(ExpressionError, match=pattern):
        from_expression("x + y", domain=domain)


def test_partly_undefined_formulas_are_accepted_and_report_coverage():
    surface = from_expression("sqrt(x)")
    assert 0.45 < surface.extra["finite_fraction"] < 0.55
    assert surface.start[0] >= 0


def test_log_colours_for_a_large_dynamic_range():
    assert from_expression("(1-x)^2 + 100*(y-x^2)^2", domain=((-2, 2), (-1, 3))).log_colors
    assert from_expression("exp(x + y)").log_colors
    assert not from_expression("x^2 + y^2").log_colors
    assert not from_expression("sin(x) * cos(y)").log_colors


def test_get_surface_rejects_unknown_names_listing_valid_ones():
    assert get_surface(SURFACES["booth"]) is SURFACES["booth"]
    with pytest.raises(ValueError, match="unknown surface 'rosenbrok'.*rosenbrock, saddle"):
        get_surface("rosenbrok")
    with pytest.raises(TypeError):
        get_surface(3)  # type: ignore[arg-type]
    with pytest.raises(ExpressionError):
        get_surface("custom:import os")
    assert isinstance(get_surface("custom:x*y"), Surface)
