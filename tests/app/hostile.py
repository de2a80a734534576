"""Hostile values for links and uploads, shared by the property tests of every page.

Built from the link grammar in the README: each generated value is something a link's author
could type, chosen to break a reader that trusts it: numbers of every kind (±inf, nan, 1e309,
-0, denormals, huge and tiny, unicode digits), markup payloads (Markdown, Streamlit's colour
directives, LaTeX, HTML, autolinks), long strings, control characters.
"""

from __future__ import annotations

import re
import string

from hypothesis import strategies as st

MARKUP = (
    "**ZZ**",
    "![x](//127.1:81/i)",
    "[ZZ](javascript:alert(1))",
    "$\\href{//127.1:81/k}{ZZ}$",
    ":red[ZZ]",
    "<img src=//127.1:81/h>",
    "<https://127.1:81/z>",
    "http://127.1:81/auto",
    "www.evil.example",
    "a@evil.example",
    "`code`",
    "# head",
)

SPECIAL_NUMBERS = (
    "inf",
    "-inf",
    "Infinity",
    "nan",
    "NaN",
    "1e309",
    "-1e309",
    "-0",
    "0",
    "5e-324",
    "1e-310",
    "1e-30",
    "1e30",
    "9" * 40,
    "-" + "9" * 40,
    "0x10",
    "1_000",
    " 3 ",
    "+2",
    "1e",
    ".",
    "",
    "١٢",
    "½",
    "１２",
    "²",
    "3.0.1",
    "true",
    "None",
)


def numbers() -> st.SearchStrategy[str]:
    """Number-ish text: special spellings, or any float / integer written out."""
    return st.one_of(
        st.sampled_from(SPECIAL_NUMBERS),
        st.floats(allow_nan=True, allow_infinity=True).map(repr),
        st.integers(min_value=-(10**30), max_value=10**30).map(str),
    )


def junk() -> st.SearchStrategy[str]:
    """Text that is no valid value at all: markup, long strings, control characters."""
    return st.one_of(
        st.sampled_from(MARKUP),
        st.text(max_size=30),
        st.text(alphabet="*_[]()!:$<>`\\#~|{}", min_size=1, max_size=30),
        st.integers(min_value=200, max_value=3000).map(lambda n: "x" * n),
    )


def values() -> st.SearchStrategy[str]:
    return st.one_of(numbers(), junk())


def names(known: list[str]) -> st.SearchStrategy[str]:
    """A known name, a near miss, or junk."""
    return st.one_of(st.sampled_from(known), st.sampled_from(known).map(lambda n: n.upper()), junk())


def json_values() -> st.SearchStrategy[object]:
    """What a JSON setup file may hold where a number is expected."""
    return st.one_of(
        st.floats(allow_nan=True, allow_infinity=True),
        st.integers(min_value=-(10**40), max_value=10**40),
        st.booleans(),
        st.none(),
        values(),
        st.lists(st.integers(), max_size=3),
        st.dictionaries(st.text(max_size=5), st.integers(), max_size=2),
    )


def unescaped_markup(line: str) -> str | None:
    """The first character of `line` (one escaped message, Markdown) that the renderer could
    read as markup: ASCII punctuation without its backslash, or an unbroken autolink."""
    i = 0
    while i < len(line):
        ch = line[i]
        if ch == "\\":
            i += 2
            continue
        if ch in string.punctuation:
            return line[max(0, i - 20) : i + 20]
        i += 1
    unbroken = line.replace("\\", "")
    for pattern in ("://", "www.", "WWW."):
        if pattern in unbroken:
            return pattern
    if re.search("(?<!\u200b)@", unbroken):
        return "@"
    return None


def warning_items(body: str) -> list[str]:
    """The message lines of a warning box written by app_pages.ui.show_warnings."""
    return [line[2:] for line in body.splitlines() if line.startswith("- ")]


def assert_escaped(body: str) -> None:
    for line in warning_items(body):
        bad = unescaped_markup(line)
        assert bad is None, f"markup {bad!r} in {line[:200]!r}"
