"""`python -m training`: train optim_core optimizers on MNIST from the command line.

The CLI draws figures and writes files, so it lives in playground.training_cli; this thin entry
point is the one import from training up into playground (tests/test_layers.py allows it).
"""

from playground.training_cli import main

if __name__ == "__main__":
    raise SystemExit(main())
