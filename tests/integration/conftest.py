"""Fixtures of the pygen process tests (the service fixtures are in tests/conftest.py)."""

from __future__ import annotations

import secrets

import pytest

from tests.integration.pygen_runner import PygenFactory


@pytest.fixture
def case() -> str:
    """A fresh value for the ``pygen.case`` label: a test selects only the containers it made."""
    return secrets.token_hex(4)


@pytest.fixture
def pygen_bg(tmp_path):
    """Factory of background pygen processes (logs in tmp_path); all killed at teardown."""
    factory = PygenFactory(tmp_path)
    yield factory
    factory.cleanup()
