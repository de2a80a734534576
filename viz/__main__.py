"""`python -m viz`: export the Playground's figures and data to files.

The CLI reads setups, so it lives in playground.figures_cli; this thin entry point is the one
import from viz up into playground (tests/test_layers.py allows exactly this one).
"""

from playground.figures_cli import main

if __name__ == "__main__":
    raise SystemExit(main())
