"""Functional fixtures: one real stack (API under gunicorn) per test session."""

import pytest

from tests.stack import Stack


@pytest.fixture(scope="session")
def stack():
    s = Stack("func").setup()
    s.start_api()
    yield s
    s.stop_all()


@pytest.fixture(scope="session")
def workers(stack):
    """Two task workers (plus the resource-manager in the default rq system) on ``stack``."""
    names = []
    if stack.env.get("PULP_USE_NEW_WORKER_STYLE", "").lower() not in ("true", "1", "yes"):
        stack.start_resource_manager("resource-manager")
        names.append("resource-manager")
    for index in (1, 2):
        stack.start_worker(f"worker-{index}")
        names.append(f"worker-{index}")
    yield names
    for name in names:
        stack.stop(name)
