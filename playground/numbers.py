"""The one number formatter of the app layer (links, setup files, titles, the CLI)."""

from __future__ import annotations

LINK_DIGITS = 6  # significant digits of a number in a link or a setup file
TITLE_DIGITS = 3  # significant digits of a number in a figure title


def format_number(value: float, digits: int | None = LINK_DIGITS) -> str:
    """`value` as text with `digits` significant digits (`%g` style: 0.02, 1e-08, 1000).

    digits=None gives the exact text that reads back to the same float (repr), with whole
    numbers written without '.0': switches (1.0/0.0) and counts read back as 1/0 and integers.
    """
    number = float(value)
    if digits is not None:
        return f"{number:.{digits}g}"
    if number.is_integer() and abs(number) < 2**53:
        return str(int(number))
    return repr(number)
