"""Root conftest: makes the project's packages importable in every test."""
