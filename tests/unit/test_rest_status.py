"""``status/`` reports Redis reachability truthfully with its per-process Redis client."""

import pytest
from django.test import Client, override_settings

from tests.stack import free_port

pytestmark = pytest.mark.django_db

STATUS = "/pulp/api/v3/status/"


def test_status_reports_redis_up_and_down():
    c = Client()
    assert c.get(STATUS).json()["redis_connection"] == {"connected": True}
    # Nothing listens on a fresh free port: the status must say so, quickly, not fail.
    with override_settings(REDIS_URL=f"redis://127.0.0.1:{free_port()}/0"):
        body = c.get(STATUS).json()
        assert body["redis_connection"] == {"connected": False}
        assert body["database_connection"] == {"connected": True}
    # Repeated calls reuse the client and keep answering.
    for _ in range(3):
        assert c.get(STATUS).json()["redis_connection"] == {"connected": True}
