"""Functional fixtures: one real stack (API under gunicorn) per test session."""

import pytest

from tests.stack import Stack


@pytest.fixture(scope="session")
def stack():
    s = Stack("func").setup()
    s.start_api()
    yield s
    s.stop_all()
