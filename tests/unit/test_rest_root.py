"""``GET /pulp/api/v3/``: the API root lists the top-level endpoints, as Pulp's does."""

import base64

import pytest
from django.contrib.auth import get_user_model
from django.test import Client

from tests.contract.contract import served_document

pytestmark = pytest.mark.django_db

API = "/pulp/api/v3/"


def _basic(user: str, password: str) -> dict:
    token = base64.b64encode(f"{user}:{password}".encode()).decode()
    return {"HTTP_AUTHORIZATION": f"Basic {token}"}


@pytest.fixture
def users():
    model = get_user_model()
    model.objects.create_superuser("root-admin", password="admin-pw")
    model.objects.create_user("root-reader", password="reader-pw")


def test_root_lists_endpoints_as_json(users):
    c = Client()
    r = c.get(API, HTTP_ACCEPT="application/json", **_basic("root-admin", "admin-pw"))
    assert r.status_code == 200 and r["Content-Type"] == "application/json"
    body = r.json()
    for prefix in ("artifacts", "tasks", "repositories/file/file", "content/file/files"):
        assert body[prefix] == f"http://testserver{API}{prefix}/"
    # Nested routes (repository versions) are reached from their parent, not listed here.
    assert not any("(" in key or "{" in key for key in body)
    # Every listed URL is a real endpoint.
    for url in body.values():
        listed = c.get(url, **_basic("root-admin", "admin-pw"))
        assert listed.status_code == 200, (url, listed.content[:300])


def test_root_for_other_users_and_anonymous(users):
    c = Client()
    r = c.get(API, HTTP_ACCEPT="application/json", **_basic("root-reader", "reader-pw"))
    assert r.status_code == 200 and "artifacts" in r.json()
    r = c.get(API, HTTP_ACCEPT="application/json")
    assert r.status_code == 401
    assert r.json() == {"detail": "Authentication credentials were not provided."}


def test_root_is_browsable_in_a_browser(users):
    c = Client()
    r = c.get(API, HTTP_ACCEPT="text/html", **_basic("root-admin", "admin-pw"))
    assert r.status_code == 200 and r["Content-Type"].startswith("text/html")
    assert f"{API}artifacts/" in r.content.decode()


def test_root_is_not_an_operation_of_the_document():
    assert API not in served_document()["paths"]
