"""`python -m viz`: export the Playground's figures and data to files (see viz.cli)."""

from viz.cli import main

if __name__ == "__main__":
    raise SystemExit(main())
