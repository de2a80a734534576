"""Fixtures for the training tests; every test here runs with the network switched off."""

from __future__ import annotations

import socket

import pytest


@pytest.fixture(autouse=True)
def no_network(monkeypatch: pytest.MonkeyPatch) -> None:
    """Any attempt to open an internet connection fails the test loudly (local pipes ok)."""

    real_connect = socket.socket.connect

    def guarded(self: socket.socket, address: object) -> object:
        if self.family in (socket.AF_INET, socket.AF_INET6):
            raise AssertionError(f"test tried to reach the network: {address!r}")
        return real_connect(self, address)

    monkeypatch.setattr(socket.socket, "connect", guarded)
    monkeypatch.setattr(
        socket,
        "getaddrinfo",
        lambda *a, **k: (_ for _ in ()).throw(
            AssertionError(f"test tried to resolve a host name: {a[:1]!r}")
        ),
    )


@pytest.fixture(scope="session")
def sample():
    from training.data import load_sample

    return load_sample()
