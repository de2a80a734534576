"""Root conftest: makes the project's packages importable in every test, and configures JAX
(the persistent compilation cache) before any test compiles, as every entry point does."""

from optim_core import configure_jax

configure_jax()
