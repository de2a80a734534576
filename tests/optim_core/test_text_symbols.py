"""Every hyperparameter has a plain-text symbol: widget names and screen readers never get LaTeX."""

from __future__ import annotations

import pytest

from optim_core import OPTIMIZERS


@pytest.mark.parametrize("name", sorted(OPTIMIZERS))
def test_every_symbol_reads_as_plain_text(name: str) -> None:
    for h in OPTIMIZERS[name].hyperparams:
        text = h.text_symbol
        assert text and not any(c in text for c in "\\{}$^"), (name, h.name, text)
        if not h.symbol.startswith(r"\text"):  # \text{...} symbols are words: read by their name
            assert text != h.symbol or text.isalpha(), (name, h.name)
