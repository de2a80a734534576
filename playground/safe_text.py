"""Text that came from outside (links, uploads, typed formulas), made safe to show.

Streamlit renders the body of `st.warning`, `st.error`, `st.info` and `st.markdown` as
Markdown with extensions: `:red[...]` colour directives, `$...$` LaTeX (KaTeX, whose
`\\href` makes links), images that make every visitor's browser fetch a URL, HTML. Nothing
from outside may reach that renderer as markup. Two steps, both here:

* `shown(value)` quotes an untrusted value for a message: truncated to `VALUE_CHARS`
  characters with an ellipsis, control characters made visible, quoted like `repr`.
* `plain(text)` escapes a whole message for Markdown: every ASCII punctuation character gets a
  backslash (CommonMark's escape), so emphasis, links, images, HTML, directives and math all
  come out as the literal characters; line breaks become spaces.

`warning_lines` bounds how much a list of warnings can print. No Streamlit import.
"""

from __future__ import annotations

import re
import string
from collections.abc import Sequence

VALUE_CHARS = 60  # an echoed value is cut here, with an ellipsis
MAX_WARNING_LINES = 20  # then "... and N more"
MAX_MESSAGE_CHARS = 300  # one warning line, at most

_PUNCTUATION = frozenset(string.punctuation)


def shorten(text: str, limit: int = VALUE_CHARS) -> str:
    """`text` cut to `limit` characters, an ellipsis marking the cut."""
    return text if len(text) <= limit else text[: max(limit - 1, 0)] + "…"


def _visible(text: str) -> str:
    out = []
    for ch in text:
        if ch in "\r\n\t":
            out.append(" ")
        elif ord(ch) < 32 or 0x7F <= ord(ch) < 0xA0 or ch in "\u2028\u2029\ufeff":
            out.append(f"\\x{ord(ch):02x}" if ord(ch) < 256 else f"\\u{ord(ch):04x}")
        else:
            out.append(ch)
    return "".join(out)


def shown(value: object, limit: int = VALUE_CHARS) -> str:
    """An untrusted value quoted for a message: 'like this', at most `limit` characters."""
    text = value if isinstance(value, str) else repr(value)
    return "'" + shorten(_visible(text), limit) + "'"


_ZW = "\u200b"  # a zero-width space: breaks GFM's bare-URL and e-mail autolinks
_AUTOLINK = re.compile(r"(://|(?<![A-Za-z0-9])www\.|@)", re.IGNORECASE)


def plain(text: str, limit: int = MAX_MESSAGE_CHARS) -> str:
    """`text` as Markdown that renders as these characters (no markup, no link of any kind).

    Backslash escapes stop emphasis, links, images, HTML, directives and math; GFM's autolinks
    (`http://…`, `www.…`, `a@b.c`) ignore escapes, so a zero-width space breaks their pattern.
    """
    text = shorten(_visible(text), limit)
    text = _AUTOLINK.sub(lambda m: m.group(0)[:-1] + _ZW + m.group(0)[-1], text)
    return "".join("\\" + ch if ch in _PUNCTUATION else ch for ch in text)


def warning_lines(warnings: Sequence[str], max_lines: int = MAX_WARNING_LINES) -> list[str]:
    """At most `max_lines` escaped lines; the rest counted in a last line."""
    lines = [plain(w) for w in warnings[:max_lines]]
    if len(warnings) > max_lines:
        lines.append(plain(f"… and {len(warnings) - max_lines} more."))
    return lines
