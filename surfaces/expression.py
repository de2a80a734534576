"""Typed formulas f(x, y) -> Surface, through a whitelist parser over Python's `ast`.

Nothing here runs the user's text as code. The text is parsed with `ast.parse(mode="eval")`,
every node is checked against a whitelist, and the checked tree is turned into a closure of
jax.numpy calls that JAX differentiates. No eval, exec, compile or sympy (sympy's parser executes
`__import__('os')...`; numexpr hangs on `9**9**9**9`).

What a formula may contain
    numbers     int and float literals: 3, 2.5, 1e-3 (|value| <= 1e30); no complex, strings, bools
    names       x, y, pi, e
    operators   + - * / ** and unary - +, with Python's precedence and parentheses.
                `^` means power (as on calculators, NOT Python's XOR) and binds like `**`:
                2*x^2 + 1 is 2*(x**2) + 1. Also accepted: − × · ÷ π ² ³.
    functions   one argument:  sin cos tan arcsin arccos arctan sinh cosh tanh exp log (natural)
                               log2 log10 sqrt abs sigmoid softplus
                two arguments: min max pow arctan2
                aliases:       asin acos atan atan2 ln
Everything else (attributes, indexing, lambdas, comprehensions, keywords, comparisons, and/or,
if/else, other names, statements) is an `ExpressionError` saying what is wrong and at which column.

Bounds, so that no input can hang the parser or build a huge number: at most 500 characters,
300 syntax nodes, nesting depth 64 (checked without recursion before anything recursive runs),
at most two stacked powers (x**2**3 is fine, 9**9**9**9 is not) and constant exponents within
±100. Literals become floats and all arithmetic runs in jax.numpy / NumPy floats, never in
Python ints.

Cost, so that no formula makes the server compile for long: `from_expression` refuses a formula
whose `formula_cost` exceeds MAX_COST ("too complex to draw quickly"), before anything is
compiled. The engine compiles the formula and its gradient into one program per optimizer, and
that compile time grows with the formula's non-constant operations (measured: each function
call or power adds about 0.04-0.06 s of CPU to the first run of four optimizers; + and - much
less). Weights: + - and unary minus 1, * and / 2, x**n 4, other powers 6 (10 with a variable
exponent), a function call 5; parts without x or y cost nothing (they are constants). 300
characters of nested exp(...) cost about 300; the catalogue's formulas typed in cost under 80
(Goldstein-Price, the largest, 73).

`from_expression` also checks that f is finite (in float32, through the JAX function) somewhere
on the domain, estimates the minima and picks a start point (`surfaces.minima`, on a float64
NumPy twin of the formula; flagged in `extra["minima_estimated"]`). Results are cached on the
normalized text, so the same formula gives the same `fn` and, for the same domain and start, the
same Surface object. The key is "custom:<normalized text>" whatever the domain, so surfaces of
one formula on different domains compare equal and share the engine's jit cache entry (their
`fn` is the same object). The surface cache is bounded (MAX_CACHED_FORMULAS formulas, least
recently used dropped first, see `surfaces._surface_cache`); dropping formulas also clears JAX's
in-memory program caches, so server memory stays flat however many formulas visitors type.
Rejections are cached too: a bad formula in a link is not evaluated again on every rerun.
"""

from __future__ import annotations

import ast
import difflib
import functools
import math
import warnings
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import jax
import jax.numpy as jnp
import numpy as np

from surfaces._base import Surface, SurfaceFn
from surfaces._surface_cache import FormulaCache
from surfaces.minima import Domain, choose_start, estimate_minima

MAX_LENGTH = 500
MAX_NODES = 300
MAX_DEPTH = 64
MAX_POWER_TOWER = 2
MAX_CONSTANT_EXPONENT = 100.0
MAX_LITERAL = 1e30
MAX_DOMAIN_ABS = 1e4
MAX_COST = 250  # see formula_cost; the catalogue's formulas typed in cost at most 73
MAX_CACHED_FORMULAS = 24  # distinct custom formulas kept compiled (about 8 MB each)
MIN_DOMAIN_WIDTH = 1e-3
DEFAULT_DOMAIN = ((-5.0, 5.0), (-5.0, 5.0))

_GRID_POINTS = 201  # odd, so symmetric domains include their centre


class ExpressionError(ValueError):
    """A formula, its domain or its start point was rejected; the message says what and where."""

    def __init__(self, message: str, column: int | None = None) -> None:
        super().__init__(message)
        self.column = column  # 1-based column in the typed text, when the problem has one


# ---------------------------------------------------------------------------------------------
# The whitelist


@dataclass(frozen=True)
class _Function:
    arity: int
    jax_fn: Callable[..., jax.Array]
    numpy_fn: Callable[..., np.ndarray]
    latex: str  # str.format template over the arguments' LaTeX


def _numpy_sigmoid(a: np.ndarray) -> np.ndarray:
    return 0.5 * (1.0 + np.tanh(0.5 * a))  # no overflow for large |a|


def _numpy_softplus(a: np.ndarray) -> np.ndarray:
    return np.logaddexp(0.0, a)


FUNCTIONS: dict[str, _Function] = {
    "sin": _Function(1, jnp.sin, np.sin, r"\sin\left({0}\right)"),
    "cos": _Function(1, jnp.cos, np.cos, r"\cos\left({0}\right)"),
    "tan": _Function(1, jnp.tan, np.tan, r"\tan\left({0}\right)"),
    "arcsin": _Function(1, jnp.arcsin, np.arcsin, r"\arcsin\left({0}\right)"),
    "arccos": _Function(1, jnp.arccos, np.arccos, r"\arccos\left({0}\right)"),
    "arctan": _Function(1, jnp.arctan, np.arctan, r"\arctan\left({0}\right)"),
    "sinh": _Function(1, jnp.sinh, np.sinh, r"\sinh\left({0}\right)"),
    "cosh": _Function(1, jnp.cosh, np.cosh, r"\cosh\left({0}\right)"),
    "tanh": _Function(1, jnp.tanh, np.tanh, r"\tanh\left({0}\right)"),
    "exp": _Function(1, jnp.exp, np.exp, r"\exp\left({0}\right)"),
    "log": _Function(1, jnp.log, np.log, r"\ln\left({0}\right)"),
    "log2": _Function(1, jnp.log2, np.log2, r"\log_{{2}}\left({0}\right)"),
    "log10": _Function(1, jnp.log10, np.log10, r"\log_{{10}}\left({0}\right)"),
    "sqrt": _Function(1, jnp.sqrt, np.sqrt, r"\sqrt{{{0}}}"),
    "abs": _Function(1, jnp.abs, np.abs, r"\left|{0}\right|"),
    "sigmoid": _Function(1, jax.nn.sigmoid, _numpy_sigmoid, r"\sigma\left({0}\right)"),
    "softplus": _Function(1, jax.nn.softplus, _numpy_softplus, r"\operatorname{{softplus}}\left({0}\right)"),
    "min": _Function(2, jnp.minimum, np.minimum, r"\min\left({0}, {1}\right)"),
    "max": _Function(2, jnp.maximum, np.maximum, r"\max\left({0}, {1}\right)"),
    "arctan2": _Function(2, jnp.arctan2, np.arctan2, r"\operatorname{{atan2}}\left({0}, {1}\right)"),
}
# pow(a, b) is rewritten to a ** b, so it gets the same exponent bounds.
_POW = "pow"
ALIASES: dict[str, str] = {
    "asin": "arcsin",
    "acos": "arccos",
    "atan": "arctan",
    "atan2": "arctan2",
    "ln": "log",
}
VARIABLES = ("x", "y")
CONSTANTS: dict[str, float] = {"pi": math.pi, "e": math.e}
_ALLOWED_NAMES = "x, y, pi, e"
_CALLABLE = sorted({*FUNCTIONS, *ALIASES, _POW})

# Friendly spellings, replaced before parsing. `^` becomes `**` textually, so it also gets the
# precedence of `**` (Python's `^` would bind looser than `+`: x^2+1 would mean x^(2+1)).
_REPLACEMENTS = {
    "^": "**",
    "\t": " ",
    "\n": " ",
    "\r": " ",
    "\u2212": "-",  # − minus sign
    "\u00d7": "*",  # ×
    "\u00b7": "*",  # ·
    "\u22c5": "*",  # ⋅
    "\u00f7": "/",  # ÷
    "\u03c0": "pi",  # π
    "\u00b2": "**2",  # ²
    "\u00b3": "**3",  # ³
}

_BINARY_SYMBOLS: dict[type[ast.operator], str] = {
    ast.Add: "+",
    ast.Sub: "-",
    ast.Mult: "*",
    ast.Div: "/",
    ast.Pow: "**",
    ast.Mod: "%",
    ast.FloorDiv: "//",
    ast.MatMult: "@",
    ast.BitXor: "^",
    ast.BitAnd: "&",
    ast.BitOr: "|",
    ast.LShift: "<<",
    ast.RShift: ">>",
}
_ALLOWED_BINARY = (ast.Add, ast.Sub, ast.Mult, ast.Div, ast.Pow)

# What to call a node we do not allow in an error message, and a hint.
_FORBIDDEN_NODES: dict[type[ast.AST], tuple[str, str]] = {
    ast.Lambda: ("lambda functions", ""),
    ast.ListComp: ("comprehensions", ""),
    ast.SetComp: ("comprehensions", ""),
    ast.DictComp: ("comprehensions", ""),
    ast.GeneratorExp: ("generator expressions", ""),
    ast.List: ("lists [...]", "; use parentheses for grouping"),
    ast.Tuple: ("tuples (a, b)", "; f must be a single expression"),
    ast.Set: ("sets {...}", "; use parentheses for grouping"),
    ast.Dict: ("dicts {...}", ""),
    ast.Compare: ("comparisons (<, >, ==, ...)", ""),
    ast.BoolOp: ("'and' / 'or'", ""),
    ast.IfExp: ("conditional expressions (a if c else b)", "; try min(a, b) or max(a, b)"),
    ast.NamedExpr: ("assignments (:=)", ""),
    ast.Await: ("await", ""),
    ast.Yield: ("yield", ""),
    ast.YieldFrom: ("yield", ""),
    ast.JoinedStr: ("strings", ""),
    ast.FormattedValue: ("strings", ""),
    ast.Starred: ("unpacking with *", ""),
    ast.Slice: ("slices", ""),
}


# ---------------------------------------------------------------------------------------------
# Source text and positions


@dataclass(frozen=True)
class _Source:
    text: str  # as typed
    code: str  # the ASCII text handed to ast.parse
    columns: tuple[int, ...]  # columns[i]: index in `text` of code[i]

    def column(self, offset: int | None) -> int:
        """1-based column in the typed text of an offset into `code` (past the end: one past)."""
        if offset is None or offset < 0 or offset >= len(self.columns):
            return len(self.text) + 1
        return self.columns[offset] + 1

    def snippet(self, node: ast.expr, limit: int = 30) -> str:
        """The typed text of a node, shortened."""
        start, end = node.col_offset, node.end_col_offset
        if end is None or end <= start or start >= len(self.columns):
            return ""
        piece = self.text[self.columns[start] : self.columns[end - 1] + 1]
        return piece if len(piece) <= limit else piece[: limit - 1] + "…"

    def next_token_column(self, offset: int | None) -> int:
        """Column of the first non-space character at or after `offset` (an operator's place)."""
        index = offset if offset is not None else len(self.code)
        while index < len(self.code) and self.code[index] == " ":
            index += 1
        return self.column(index)


def _prepare(text: object) -> _Source:
    """Type, length and character checks, then the friendly replacements."""
    if not isinstance(text, str):
        raise ExpressionError(f"the formula must be text, not {type(text).__name__}")
    if len(text) > MAX_LENGTH:  # first: nothing below may scan a huge input twice
        raise ExpressionError(f"the formula is too long: {len(text)} characters (at most {MAX_LENGTH})")
    if not text.strip():
        raise ExpressionError("the formula is empty; type f(x, y), for example x**2 + y**2")
    code: list[str] = []
    columns: list[int] = []
    for index, char in enumerate(text):
        replacement = _REPLACEMENTS.get(char)
        if replacement is None:
            if char == "\x00":
                raise ExpressionError(f"null byte at column {index + 1} is not allowed", index + 1)
            if not (" " <= char <= "~"):
                raise ExpressionError(
                    f"character {char!r} (U+{ord(char):04X}) at column {index + 1} is not "
                    "allowed; use numbers, x, y, pi, e, + - * / ** ^, parentheses and "
                    "function names",
                    index + 1,
                )
            replacement = char
        code.append(replacement)
        columns.extend([index] * len(replacement))
    joined = "".join(code)
    lead = len(joined) - len(joined.lstrip(" "))  # leading spaces are an indent to ast.parse
    return _Source(text=text, code=joined[lead:], columns=tuple(columns[lead:]))


def _parse(source: _Source) -> ast.expr:
    try:
        # ast.parse warns about things like "1if" (SyntaxWarning) on stderr; whatever it warns
        # about is rejected by the whitelist anyway.
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", SyntaxWarning)
            tree = ast.parse(source.code, mode="eval")
    except SyntaxError as err:
        raise _syntax_error(err, source) from None
    except (RecursionError, MemoryError, ValueError, OverflowError) as err:
        raise ExpressionError(
            f"the formula could not be parsed ({type(err).__name__}): it is too large or too deeply nested"
        ) from None
    return tree.body


def _syntax_error(err: SyntaxError, source: _Source) -> ExpressionError:
    code = source.code
    index = (err.offset - 1) if err.offset and err.offset >= 1 else len(code)
    message = (err.msg or "invalid syntax").split(" (detected")[0]
    if index >= len(code):
        column = len(source.text) + 1
        if "never closed" in message:
            return ExpressionError(f"syntax error: {message}", column)
        return ExpressionError(
            "syntax error: the formula ends too early (missing a number, name or ')' at the end?)",
            column,
        )
    column = source.column(index)
    char = source.text[column - 1]  # as typed (code may hold '**' for '^')
    before = code[:index].rstrip(" ")
    if "never closed" in message:
        detail = f"'(' at column {column} is never closed; add a ')'"
    elif "unmatched" in message:
        detail = f"unmatched {char!r} at column {column}"
    elif char in "'\"" or "string" in message:
        detail = f"strings are not allowed (quote at column {column})"
    elif char == ";":
        detail = f"';' at column {column} is not allowed; type a single expression"
    elif char == "=":
        detail = (
            f"'=' at column {column} is not allowed; type only the right-hand side, for example x**2 + y**2"
        )
    elif "decimal literal" in message:
        detail = f"invalid number at column {column}; write '*' between a number and a name, for example 2*x"
    elif (char.isalnum() or char in "_(.") and before and (before[-1].isalnum() or before[-1] in "_)."):
        detail = (
            f"missing operator before column {column} ({char!r}); write '*' for products, "
            "for example 2*x or x*y"
        )
    else:
        detail = f"{message} at column {column} ({char!r})"
    return ExpressionError(f"syntax error: {detail}", column)


# ---------------------------------------------------------------------------------------------
# Checking the tree


def _check_size(root: ast.expr, source: _Source) -> None:
    """Node count and nesting depth, iteratively: nothing recursive may see a deeper tree."""
    stack: list[tuple[ast.AST, int]] = [(root, 1)]
    count = 0
    while stack:
        node, depth = stack.pop()
        if isinstance(node, ast.expr):
            count += 1
            if count > MAX_NODES:
                raise ExpressionError(f"the formula is too complex: more than {MAX_NODES} parts")
            if depth > MAX_DEPTH:
                column = source.column(node.col_offset)
                raise ExpressionError(
                    f"the formula is nested too deeply at column {column}: more than "
                    f"{MAX_DEPTH} levels of operations or parentheses",
                    column,
                )
            depth += 1
        stack.extend((child, depth) for child in ast.iter_child_nodes(node))


def _located(new: ast.expr, old: ast.AST) -> ast.expr:
    return ast.copy_location(new, old)


def _validate(node: ast.expr, source: _Source) -> ast.expr:
    """The whitelist. Returns the canonical tree (aliases resolved, pow() as **).

    Children are checked before the node itself where they come first in the text, so the
    leftmost problem is the one reported.
    """
    if isinstance(node, ast.Constant):
        return _validate_constant(node, source)
    if isinstance(node, ast.Name):
        return _validate_name(node, source)
    if isinstance(node, ast.BinOp):
        left = _validate(node.left, source)
        if not isinstance(node.op, _ALLOWED_BINARY):
            symbol = _BINARY_SYMBOLS.get(type(node.op), type(node.op).__name__)
            column = source.next_token_column(node.left.end_col_offset)
            hint = "; for |x| use abs(x)" if symbol == "|" else ""
            raise ExpressionError(
                f"operator {symbol!r} at column {column} is not allowed; use + - * / ** "
                f"(or ^ for powers){hint}",
                column,
            )
        right = _validate(node.right, source)
        return _located(ast.BinOp(left=left, op=node.op, right=right), node)
    if isinstance(node, ast.UnaryOp):
        if not isinstance(node.op, (ast.USub, ast.UAdd)):
            column = source.column(node.col_offset)
            symbol = "not" if isinstance(node.op, ast.Not) else "~"
            raise ExpressionError(
                f"operator {symbol!r} at column {column} is not allowed; only - and + "
                "can stand before a term",
                column,
            )
        operand = _validate(node.operand, source)
        return _located(ast.UnaryOp(op=node.op, operand=operand), node)
    if isinstance(node, ast.Call):
        return _validate_call(node, source)
    if isinstance(node, (ast.Attribute, ast.Subscript)):
        _validate(node.value, source)  # the part before '.' or '[' comes first in the text
        if isinstance(node, ast.Attribute):
            column = source.next_token_column(node.value.end_col_offset)
            raise ExpressionError(
                f"attribute access '.{node.attr}' at column {column} is not allowed", column
            )
        column = source.next_token_column(node.value.end_col_offset)
        raise ExpressionError(f"indexing with [...] at column {column} is not allowed", column)
    what, hint = _FORBIDDEN_NODES.get(type(node), (f"'{type(node).__name__}' expressions", ""))
    if isinstance(node, ast.Compare):
        column = source.next_token_column(node.left.end_col_offset)
    elif isinstance(node, ast.IfExp):
        column = source.next_token_column(node.body.end_col_offset)
    elif isinstance(node, ast.BoolOp):
        column = source.next_token_column(node.values[0].end_col_offset)
    else:
        column = source.column(node.col_offset)
    raise ExpressionError(f"{what} are not allowed (at column {column}){hint}", column)


def _validate_constant(node: ast.Constant, source: _Source) -> ast.expr:
    value = node.value
    column = source.column(node.col_offset)
    if isinstance(value, bool) or value is None or value is Ellipsis:
        raise ExpressionError(f"{value!r} at column {column} is not allowed; use numbers", column)
    if isinstance(value, (str, bytes)):
        raise ExpressionError(f"strings are not allowed (at column {column})", column)
    if isinstance(value, complex):
        raise ExpressionError(
            f"complex number {source.snippet(node)!r} at column {column} is not allowed", column
        )
    if not isinstance(value, (int, float)):
        raise ExpressionError(f"constant at column {column} is not allowed", column)
    # int vs float comparison is exact in Python, so a 500-digit literal cannot overflow here;
    # 1e999 parses to inf.
    if not abs(value) <= MAX_LITERAL:
        raise ExpressionError(
            f"number {source.snippet(node)!r} at column {column} is too large (at most {MAX_LITERAL:g})",
            column,
        )
    return _located(ast.Constant(value=value), node)


def _validate_name(node: ast.Name, source: _Source) -> ast.expr:
    name = node.id
    column = source.column(node.col_offset)
    if name in VARIABLES or name in CONSTANTS:
        return _located(ast.Name(id=name, ctx=ast.Load()), node)
    if name in _CALLABLE:
        raise ExpressionError(f"{name!r} at column {column} is a function; call it like {name}(x)", column)
    raise ExpressionError(
        f"unknown name {name!r} at column {column}; use {_ALLOWED_NAMES}{_name_hint(name)}",
        column,
    )


def _name_hint(name: str) -> str:
    if name.lower() in (*VARIABLES, *CONSTANTS):
        return f" (names are case-sensitive: {name.lower()})"
    if set(name) <= set("xy") or name in ("xe", "ex", "pix", "xpi", "piy", "ypi"):
        return f" (for a product write '*', for example {'*'.join(name)})"
    close = difflib.get_close_matches(name, [*VARIABLES, *CONSTANTS, *_CALLABLE], n=1, cutoff=0.75)
    return f" (did you mean {close[0]!r}?)" if close else ""


def _validate_call(node: ast.Call, source: _Source) -> ast.expr:
    column = source.column(node.col_offset)
    if not isinstance(node.func, ast.Name):
        _validate(node.func, source)  # reports what the callee is (attribute, ...)
        raise ExpressionError(f"only named functions can be called (at column {column})", column)
    name = node.func.id
    if name in VARIABLES or name in CONSTANTS:
        raise ExpressionError(
            f"{name!r} at column {column} is not a function; for a product write {name}*(...)",
            column,
        )
    if name not in _CALLABLE:
        if name.lower() in _CALLABLE:
            close = [name.lower()]  # names are case-sensitive
        else:
            close = difflib.get_close_matches(name, _CALLABLE, n=1, cutoff=0.75)
        hint = f"did you mean {close[0]!r}? " if close else ""
        raise ExpressionError(
            f"unknown function {name!r} at column {column}; {hint}allowed: {', '.join(_CALLABLE)}",
            column,
        )
    if node.keywords:
        keyword = node.keywords[0]
        key_column = source.column(keyword.col_offset)
        raise ExpressionError(
            f"keyword arguments are not allowed (at column {key_column} in {name}(...))",
            key_column,
        )
    for arg in node.args:
        if isinstance(arg, ast.Starred):
            star_column = source.column(arg.col_offset)
            raise ExpressionError(f"unpacking with * at column {star_column} is not allowed", star_column)
    canonical = ALIASES.get(name, name)
    arity = 2 if canonical == _POW else FUNCTIONS[canonical].arity
    if len(node.args) != arity:
        plural = "argument" if arity == 1 else "arguments"
        raise ExpressionError(
            f"{name}() at column {column} takes {arity} {plural}, got {len(node.args)}", column
        )
    args = [_validate(arg, source) for arg in node.args]
    if canonical == _POW:
        return _located(ast.BinOp(left=args[0], op=ast.Pow(), right=args[1]), node)
    return _located(ast.Call(func=ast.Name(id=canonical, ctx=ast.Load()), args=args, keywords=[]), node)


def _is_constant(node: ast.expr) -> bool:
    return not any(isinstance(n, ast.Name) and n.id in VARIABLES for n in ast.walk(node))


def _check_power_towers(node: ast.expr, source: _Source) -> int:
    """Height of the tallest power tower in `node`; raises past MAX_POWER_TOWER."""
    heights = [
        _check_power_towers(child, source)
        for child in ast.iter_child_nodes(node)
        if isinstance(child, ast.expr)
    ]
    if isinstance(node, ast.BinOp) and isinstance(node.op, ast.Pow):
        base_height, exponent_height = heights
        height = max(base_height, 1 + exponent_height)
        if height > MAX_POWER_TOWER:
            column = source.column(node.col_offset)
            raise ExpressionError(
                f"power tower {source.snippet(node)!r} at column {column} is too tall: at most "
                f"{MAX_POWER_TOWER} stacked powers like x**2**3",
                column,
            )
        return height
    return max(heights, default=0)


def _check_constant_exponents(node: ast.expr, source: _Source) -> None:
    for sub in ast.walk(node):
        if isinstance(sub, ast.BinOp) and isinstance(sub.op, ast.Pow) and _is_constant(sub.right):
            value = _constant_value(sub.right)
            if not (math.isfinite(value) and abs(value) <= MAX_CONSTANT_EXPONENT):
                column = source.column(sub.right.col_offset)
                problem = "is too large" if math.isfinite(value) else "is not a finite number"
                raise ExpressionError(
                    f"exponent {source.snippet(sub.right)!r} at column {column} {problem}: "
                    f"constant exponents must stay within ±{MAX_CONSTANT_EXPONENT:g}",
                    column,
                )


_CALL_COST = 5
_BINARY_COST: dict[type[ast.operator], int] = {ast.Add: 1, ast.Sub: 1, ast.Mult: 2, ast.Div: 2}


def formula_cost(node: ast.expr) -> int:
    """Work units of a checked tree (canonical: aliases resolved, pow() as **), a proxy for the
    time JAX needs to compile the formula and its gradient. Constant parts cost nothing.
    Iterative, and only called on trees that passed the size and depth checks."""
    total = 0
    stack = [node]
    while stack:
        sub = stack.pop()
        if _is_constant(sub):
            continue
        if isinstance(sub, ast.UnaryOp):
            total += 1 if isinstance(sub.op, ast.USub) else 0
            stack.append(sub.operand)
        elif isinstance(sub, ast.BinOp):
            if isinstance(sub.op, ast.Pow):
                if not _is_constant(sub.right):
                    total += 10
                else:
                    exponent = _constant_value(sub.right)
                    total += 4 if exponent == int(exponent) else 6
            else:
                total += _BINARY_COST[type(sub.op)]
            stack.extend((sub.left, sub.right))
        elif isinstance(sub, ast.Call):
            total += _CALL_COST
            stack.extend(sub.args)
    return total


def _check_cost(cost: int) -> None:
    if cost > MAX_COST:
        raise ExpressionError(
            f"the formula is too complex to draw quickly: it costs {cost} (at most {MAX_COST}; "
            f"each function call such as exp(...) counts {_CALL_COST}, each power 4-10, "
            "each * or / 2, each + or - 1); use fewer functions and terms"
        )


def _literal(node: ast.Constant) -> int | float:
    """The value of a literal the validator accepted (an int or a float, never a bool)."""
    value = node.value
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise TypeError(f"not a validated number literal: {value!r}")
    return value


def _callee(node: ast.Call) -> str:
    """The function name of a call the validator accepted (a plain name)."""
    if not isinstance(node.func, ast.Name):
        raise TypeError("not a validated function call")
    return node.func.id


def _constant_value(node: ast.expr) -> float:
    """Value of a constant subtree, in NumPy float64 (overflow gives inf, never a hang)."""
    with np.errstate(all="ignore"):
        return float(_compile(node, _NUMPY)(np.float64(0.0), np.float64(0.0)))


# ---------------------------------------------------------------------------------------------
# Compiling the tree into closures


@dataclass(frozen=True)
class _Backend:
    add: Callable
    subtract: Callable
    multiply: Callable
    divide: Callable
    power: Callable
    negative: Callable
    function: Callable[[_Function], Callable]


_JAX = _Backend(
    jnp.add,
    jnp.subtract,
    jnp.multiply,
    jnp.divide,
    jnp.power,
    jnp.negative,
    lambda spec: spec.jax_fn,
)
_NUMPY = _Backend(
    np.add,
    np.subtract,
    np.multiply,
    np.divide,
    np.power,
    np.negative,
    lambda spec: spec.numpy_fn,
)

Evaluator = Callable[[Any, Any], Any]  # (x, y) -> value: JAX or NumPy arrays, or floats


def _compile(node: ast.expr, backend: _Backend) -> Evaluator:
    """A closure (x, y) -> value. Literals become Python floats (weakly typed, so they follow
    the dtype of x and y) and every operation is a backend call, never Python arithmetic."""
    if isinstance(node, ast.Constant):
        value = float(_literal(node))
        return lambda x, y: value
    if isinstance(node, ast.Name):
        if node.id == "x":
            return lambda x, y: x
        if node.id == "y":
            return lambda x, y: y
        constant = CONSTANTS[node.id]
        return lambda x, y: constant
    if isinstance(node, ast.UnaryOp):
        operand = _compile(node.operand, backend)
        if isinstance(node.op, ast.UAdd):
            return operand
        negative = backend.negative
        return lambda x, y: negative(operand(x, y))
    if isinstance(node, ast.BinOp):
        left = _compile(node.left, backend)
        power = backend.power
        if isinstance(node.op, ast.Pow) and _is_constant(node.right):
            exponent = _constant_value(node.right)
            if exponent == int(exponent):
                # An int exponent is lax.integer_pow in JAX: exact, and its gradient is finite
                # for negative bases.
                whole = int(exponent)
                return lambda x, y: power(left(x, y), whole)
            return lambda x, y: power(left(x, y), exponent)
        right = _compile(node.right, backend)
        operation = {
            ast.Add: backend.add,
            ast.Sub: backend.subtract,
            ast.Mult: backend.multiply,
            ast.Div: backend.divide,
            ast.Pow: backend.power,
        }[type(node.op)]
        return lambda x, y: operation(left(x, y), right(x, y))
    if isinstance(node, ast.Call):
        function = backend.function(FUNCTIONS[_callee(node)])
        args = [_compile(arg, backend) for arg in node.args]
        if len(args) == 1:
            (only,) = args
            return lambda x, y: function(only(x, y))
        first, second = args
        return lambda x, y: function(first(x, y), second(x, y))
    raise AssertionError(f"unvalidated node {type(node).__name__}")  # _validate prevents this


def _jax_surface_fn(body: Evaluator) -> SurfaceFn:
    def fn(x: jax.Array, y: jax.Array, params: Mapping[str, jax.Array]) -> jax.Array:
        out = body(x, y)
        # A formula without x or y ("3", "sin(x)") must still fill the grid and be a float.
        dtype = jnp.result_type(x, y, float)
        shape = jnp.broadcast_shapes(jnp.shape(x), jnp.shape(y))
        return jnp.broadcast_to(jnp.asarray(out, dtype=dtype), shape)

    return fn


def _numpy_fn(body: Evaluator) -> Callable[[np.ndarray, np.ndarray], np.ndarray]:
    def fn(x: np.ndarray, y: np.ndarray) -> np.ndarray:
        with np.errstate(all="ignore"):
            out = np.asarray(body(x, y), dtype=np.float64)
        return np.broadcast_to(out, np.broadcast_shapes(np.shape(x), np.shape(y)))

    return fn


# ---------------------------------------------------------------------------------------------
# LaTeX

_SUM, _PRODUCT, _UNARY, _POWER, _ATOM = range(1, 6)


def _precedence(node: ast.expr) -> int:
    if isinstance(node, ast.BinOp):
        if isinstance(node.op, (ast.Add, ast.Sub)):
            return _SUM
        if isinstance(node.op, ast.Mult):
            return _PRODUCT
        if isinstance(node.op, ast.Div):
            return _ATOM  # \frac{}{} groups itself
        return _POWER
    if isinstance(node, ast.UnaryOp):
        return _UNARY
    return _ATOM


def _wrap(latex: str) -> str:
    return rf"\left({latex}\right)"


def _latex_number(value: float | int) -> str:
    if isinstance(value, int):
        return str(value)
    text = repr(float(value))
    if "e" in text:
        mantissa, exponent = text.split("e")
        mantissa = mantissa.removesuffix(".0")
        return rf"{mantissa} \cdot 10^{{{int(exponent)}}}"
    return text


def _latex(node: ast.expr) -> str:
    if isinstance(node, ast.Constant):
        return _latex_number(_literal(node))
    if isinstance(node, ast.Name):
        return r"\pi" if node.id == "pi" else node.id
    if isinstance(node, ast.UnaryOp):
        inner = _latex(node.operand)
        if _precedence(node.operand) <= _UNARY:
            inner = _wrap(inner)
        return ("-" if isinstance(node.op, ast.USub) else "+") + inner
    if isinstance(node, ast.Call):
        return FUNCTIONS[_callee(node)].latex.format(*(_latex(arg) for arg in node.args))
    assert isinstance(node, ast.BinOp)
    left, right = _latex(node.left), _latex(node.right)
    if isinstance(node.op, ast.Div):
        return rf"\frac{{{left}}}{{{right}}}"
    if isinstance(node.op, ast.Pow):
        simple_base = isinstance(node.left, (ast.Name, ast.Constant)) or (
            isinstance(node.left, ast.Call) and _callee(node.left) in ("sqrt", "abs")
        )
        base = left if simple_base else _wrap(left)
        return f"{base}^{{{right}}}"
    level = _precedence(node)
    if _precedence(node.left) < level:
        left = _wrap(left)
    # The right operand is wrapped at equal level too (a - (b - c)), and when it is unary.
    if _precedence(node.right) <= level or isinstance(node.right, ast.UnaryOp):
        right = _wrap(right)
    if isinstance(node.op, ast.Add):
        return f"{left} + {right}"
    if isinstance(node.op, ast.Sub):
        return f"{left} - {right}"
    # Juxtapose a leading number with what follows (2 x); \cdot elsewhere.
    if isinstance(node.left, ast.Constant) and not isinstance(node.right, ast.Constant):
        return f"{left} {right}" if not right.startswith(("-", "+")) else rf"{left} \cdot {right}"
    return rf"{left} \cdot {right}"


# ---------------------------------------------------------------------------------------------
# Parsing


@dataclass(frozen=True, eq=False)
class ParsedExpression:
    """A checked formula: canonical text, LaTeX and the compiled JAX and NumPy functions."""

    normalized: str  # canonical Python-syntax text; parses back to the same tree
    latex: str
    fn: SurfaceFn  # jax.numpy, elementwise, the Surface contract
    numpy_fn: Callable[[np.ndarray, np.ndarray], np.ndarray]  # float64 twin for estimation
    uses_x: bool
    uses_y: bool
    cost: int  # formula_cost: from_expression refuses more than MAX_COST


def parse_expression(text: str) -> ParsedExpression:
    """Check `text` against the whitelist and bounds; raise ExpressionError naming the problem."""
    source = _prepare(text)
    root = _parse(source)
    _check_size(root, source)  # before any recursion over the tree
    canonical = _validate(root, source)
    _check_power_towers(canonical, source)
    _check_constant_exponents(canonical, source)
    return _compiled(ast.unparse(canonical))


@functools.lru_cache(maxsize=256)
def _compiled(normalized: str) -> ParsedExpression:
    # `normalized` came from a validated tree, so re-parsing it is safe and gives that tree.
    tree = ast.parse(normalized, mode="eval").body
    names = {n.id for n in ast.walk(tree) if isinstance(n, ast.Name)}
    return ParsedExpression(
        normalized=normalized,
        latex=_latex(tree),
        fn=_jax_surface_fn(_compile(tree, _JAX)),
        numpy_fn=_numpy_fn(_compile(tree, _NUMPY)),
        uses_x="x" in names,
        uses_y="y" in names,
        cost=formula_cost(tree),
    )


# ---------------------------------------------------------------------------------------------
# Surfaces


def from_expression(
    text: str,
    domain: Sequence[Sequence[float]] = DEFAULT_DOMAIN,
    start: Sequence[float] | None = None,
) -> Surface:
    """A Surface for the typed formula f(x, y); see the module docstring for the grammar.

    Raises ExpressionError (a ValueError) for a rejected formula, a bad domain or start, or a
    formula that is not finite anywhere on the domain. The same normalized formula, domain and
    start give the same Surface object; its key is "custom:<normalized formula>".
    """
    parsed = parse_expression(text)
    _check_cost(parsed.cost)
    checked_domain = _check_domain(domain)
    checked_start = None if start is None else _check_start(start, checked_domain)
    key = (checked_domain, checked_start)
    cached = _SURFACES.get(parsed.normalized, key)
    if cached is None:
        try:
            cached = _build_surface(parsed.normalized, checked_domain, checked_start)
        except ExpressionError as err:
            cached = ExpressionError(str(err), err.column)  # no traceback (it holds the grid)
        cached = _SURFACES.put(parsed.normalized, key, cached)
    if isinstance(cached, Exception):  # a cached rejection (always an ExpressionError)
        raise ExpressionError(str(cached), getattr(cached, "column", None))
    return cached


# Built surfaces and rejections, per normalized formula; see surfaces._surface_cache.
_SURFACES: FormulaCache[Surface] = FormulaCache(MAX_CACHED_FORMULAS)


def cache_info() -> dict[str, int]:
    """Formulas held, capacity, hits, misses and evictions of the custom-surface cache."""
    return _SURFACES.info()


def _check_domain(domain: object) -> Domain:
    try:
        (xmin, xmax), (ymin, ymax) = domain  # type: ignore[misc]  # any object: checked here
        bounds = [float(v) for v in (xmin, xmax, ymin, ymax)]  # type: ignore[has-type]
    except (TypeError, ValueError):
        raise ExpressionError(
            f"domain must be ((xmin, xmax), (ymin, ymax)) of numbers, got {domain!r}"
        ) from None
    if not all(math.isfinite(v) for v in bounds):
        raise ExpressionError(f"domain bounds must be finite numbers, got {domain!r}")
    if any(abs(v) > MAX_DOMAIN_ABS for v in bounds):
        raise ExpressionError(f"domain bounds must lie within ±{MAX_DOMAIN_ABS:g}, got {domain!r}")
    for axis, low, high in (("x", bounds[0], bounds[1]), ("y", bounds[2], bounds[3])):
        if not high - low >= MIN_DOMAIN_WIDTH:
            raise ExpressionError(
                f"domain {axis} range must have {axis}min < {axis}max (width at least "
                f"{MIN_DOMAIN_WIDTH:g}), got [{low:g}, {high:g}]"
            )
    return ((bounds[0], bounds[1]), (bounds[2], bounds[3]))


def _check_start(start: object, domain: Domain) -> tuple[float, float]:
    try:
        x, y = (float(v) for v in start)  # type: ignore[attr-defined]  # any object: checked here
    except (TypeError, ValueError):
        raise ExpressionError(f"start must be a pair of numbers (x, y), got {start!r}") from None
    (xmin, xmax), (ymin, ymax) = domain
    if not (xmin <= x <= xmax and ymin <= y <= ymax):
        raise ExpressionError(f"start {start!r} lies outside the domain {domain!r}")
    return (x, y)


def _build_surface(normalized: str, domain: Domain, start: tuple[float, float] | None) -> Surface:
    parsed = _compiled(normalized)
    (xmin, xmax), (ymin, ymax) = domain
    xs = np.linspace(xmin, xmax, _GRID_POINTS)
    ys = np.linspace(ymin, ymax, _GRID_POINTS)
    grid_x, grid_y = np.meshgrid(xs, ys, indexing="xy")

    # Finite where it matters: in float32, through the real JAX function. One call of one fixed
    # shape (the grid plus the start point), because every new shape compiles each operation.
    probe = start if start is not None else (xs[_GRID_POINTS // 2], ys[_GRID_POINTS // 2])
    flat_x = np.append(grid_x.ravel(), probe[0]).astype(np.float32)
    flat_y = np.append(grid_y.ravel(), probe[1]).astype(np.float32)
    flat = np.asarray(parsed.fn(jnp.asarray(flat_x), jnp.asarray(flat_y), {}))
    values32, start_value32 = flat[:-1].reshape(grid_x.shape), flat[-1]
    finite = np.isfinite(values32)
    if not finite.any():
        raise ExpressionError(
            f"f(x, y) = {normalized} is not finite anywhere on the domain x in [{xmin:g}, "
            f"{xmax:g}], y in [{ymin:g}, {ymax:g}] (NaN or infinite at every grid point): check "
            "for logs or square roots of negative numbers, divisions by zero or overflow"
        )

    values = np.where(finite, parsed.numpy_fn(grid_x, grid_y), np.inf)
    values = np.where(np.isfinite(values), values, np.inf)
    minima, min_value = estimate_minima(parsed.numpy_fn, values, xs, ys, domain)

    if start is None:
        start = choose_start(parsed.numpy_fn, values32, grid_x, grid_y, domain, minima)
    elif not np.isfinite(start_value32):
        raise ExpressionError(f"f(x, y) = {normalized} is not finite at the start point {start}")

    finite_values = values32[finite].astype(np.float64)
    low, q25, q95 = np.quantile(finite_values, [0.0, 0.25, 0.95])
    display = normalized.replace(" ** ", "^")
    if len(display) > 80:
        display = display[:79] + "…"
    return Surface(
        key=f"custom:{normalized}",
        label=f"Custom: f(x,y) = {display}",
        fn=parsed.fn,
        latex=f"f(x,y) = {parsed.latex}",
        domain=domain,
        minima=minima,
        start=start,
        description="Your own formula; its minima are estimated numerically (grid search, then "
        "gradient and Newton steps).",
        # Log colours when most of the picture would otherwise be one flat colour.
        log_colors=bool(q95 - low > 25.0 * max(q25 - low, 1e-12)),
        extra={
            "expression": normalized,
            "minima_estimated": True,
            "min_value": min_value,
            "finite_fraction": float(finite.mean()),
        },
    )
