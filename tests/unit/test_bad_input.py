"""Bad input answers 4xx in Pulp's format, never 500: NUL bytes in credentials and label keys,
integers that do not fit the database column (on create and through PATCH)."""

import base64

import pytest
from django.contrib.auth import get_user_model
from django.db import connection, models
from django.test import Client
from rest_framework import serializers

from pulpcore.app.models import Task
from pulpcore.app.viewsets.base import REGISTRY

pytestmark = pytest.mark.django_db

API = "/pulp/api/v3/"
REMOTES = f"{API}remotes/file/file/"
REPOSITORIES = f"{API}repositories/file/file/"
DISTRIBUTIONS = f"{API}distributions/file/file/"


def basic(username: str, password: str) -> dict:
    token = base64.b64encode(f"{username}:{password}".encode()).decode()
    return {"HTTP_AUTHORIZATION": f"Basic {token}"}


@pytest.fixture
def admin():
    return get_user_model().objects.create_superuser("bad-input-admin", password="pw-admin")


@pytest.fixture
def client(admin):
    c = Client(raise_request_exception=False)
    c.force_login(admin)
    return c


# --- NUL bytes -----------------------------------------------------------------------------------
@pytest.mark.parametrize(
    "user, password",
    [("bad-input-admin\x00", "pw-admin"), ("bad\x00input", "x"), ("bad-input-admin", "pw\x00")],
)
def test_nul_in_basic_auth_is_401(admin, user, password):
    r = Client(raise_request_exception=False).get(f"{API}artifacts/", **basic(user, password))
    assert r.status_code == 401, r.content[:500]
    assert r.json() == {"detail": "Invalid username/password."}
    # The right credentials still work.
    ok = Client().get(f"{API}artifacts/", **basic("bad-input-admin", "pw-admin"))
    assert ok.status_code == 200


@pytest.mark.parametrize("url, extra", [(REPOSITORIES, {}), (REMOTES, {"url": "http://x/m"})])
def test_nul_in_label_key_is_400(client, url, extra):
    body = {"name": "nul-labels", "pulp_labels": {"a\x00b": "v"}, **extra}
    r = client.post(url, body, content_type="application/json")
    assert r.status_code == 400, r.content[:500]
    assert r.json() == {"pulp_labels": ["Label keys cannot contain NUL (\\x00) characters."]}
    r = client.post(url, {**body, "pulp_labels": {"k": "v\x00"}}, content_type="application/json")
    assert r.status_code == 400 and "pulp_labels" in r.json()
    # Nothing was created; a clean label set works.
    assert client.get(f"{url}?name=nul-labels").json()["count"] == 0
    r = client.post(url, {**body, "pulp_labels": {"a b": "v"}}, content_type="application/json")
    assert r.status_code == 201, r.content[:500]


# --- integers beyond the column ------------------------------------------------------------------
@pytest.mark.parametrize(
    "url, field, extra",
    [
        (REPOSITORIES, "retain_repo_versions", {}),
        (REMOTES, "download_concurrency", {"url": "http://x/m"}),
        (REMOTES, "max_retries", {"url": "http://x/m"}),
        (REMOTES, "rate_limit", {"url": "http://x/m"}),
    ],
)
def test_integer_too_large_on_create_is_400(client, url, field, extra):
    for value in (2**31, 2**63, 10**30):
        body = {"name": f"big-{field}", field: value, **extra}
        r = client.post(url, body, content_type="application/json")
        assert r.status_code == 400, (value, r.content[:500])
        assert r.json() == {field: ["Ensure this value is less than or equal to 2147483647."]}
    r = client.post(url, {"name": f"big-{field}", field: 2**31 - 1, **extra}, "application/json")
    assert r.status_code == 201, r.content[:500]
    assert r.json()[field] == 2**31 - 1


def test_negative_count_beyond_column_is_400(client):
    r = client.post(
        REMOTES, {"name": "neg", "url": "http://x/m", "max_retries": -1}, "application/json"
    )
    assert r.status_code == 400
    assert r.json() == {"max_retries": ["Ensure this value is greater than or equal to 0."]}


def test_integer_too_large_through_patch_is_400_not_a_failed_task(client):
    remote = client.post(REMOTES, {"name": "patch-big", "url": "http://x/m"}, "application/json")
    href = remote.json()["pulp_href"]
    tasks_before = Task.objects.count()
    for field in ("download_concurrency", "max_retries", "rate_limit"):
        r = client.patch(href, {field: 2**31}, content_type="application/json")
        assert r.status_code == 400, r.content[:500]
        assert field in r.json()
    assert Task.objects.count() == tasks_before
    repo = client.post(REPOSITORIES, {"name": "patch-big"}, "application/json").json()
    r = client.patch(repo["pulp_href"], {"retain_repo_versions": 2**31}, "application/json")
    assert r.status_code == 400 and "retain_repo_versions" in r.json()


def _writable_integer_columns():
    """(serializer class, field name, column max) for every writable integer field stored in an
    integer column, over every registered endpoint (plugins' included)."""
    seen = set()
    for viewset in REGISTRY:
        serializer_class = getattr(viewset, "serializer_class", None)
        if serializer_class is None or serializer_class in seen:
            continue
        seen.add(serializer_class)
        model = getattr(getattr(serializer_class, "Meta", None), "model", None)
        if model is None:
            continue
        for name, field in serializer_class().get_fields().items():
            if not isinstance(field, serializers.IntegerField) or field.read_only:
                continue
            try:
                column = model._meta.get_field(field.source or name)
            except Exception:  # noqa: BLE001 - not a model column
                continue
            if isinstance(column, models.IntegerField):
                _, high = connection.ops.integer_field_range(column.get_internal_type())
                yield serializer_class, name, high


def test_every_integer_field_is_bounded_by_its_column():
    found = list(_writable_integer_columns())
    names = {name for _, name, _ in found}
    assert {"retain_repo_versions", "download_concurrency", "max_retries", "rate_limit"} <= names
    for serializer_class, name, high in found:
        field = serializer_class().get_fields()[name]
        with pytest.raises(serializers.ValidationError):
            field.run_validation(high + 1)
        assert field.run_validation(min(high, 5)) == min(high, 5)


# --- URLs urllib cannot parse --------------------------------------------------------------------
# ``urlparse`` raises ValueError on an unclosed IPv6 bracket and ``.port`` on a port that is not a
# number; each must be a 400 naming the field, never a 500.
@pytest.mark.parametrize("bad", ["http://[::1", "http://[::1/manifest", "http://host:port/m"])
@pytest.mark.parametrize("field", ["url", "proxy_url"])
def test_unparseable_remote_urls_are_400(client, bad, field):
    body = {"name": "bad-url", "url": "http://ok.example/m", field: bad}
    r = client.post(REMOTES, body, content_type="application/json")
    assert r.status_code == 400, r.content[:500]
    assert list(r.json()) == [field]
    assert client.get(f"{REMOTES}?name=bad-url").json()["count"] == 0


@pytest.mark.parametrize(
    "query",
    [
        "repositories/file/file/?remote=http://[::1",
        "distributions/file/file/?repository=http://[::1",
        "roles/?for_object_type=http://[::1",
        "publications/file/file/?repository_version=http://[::1/",
    ],
)
def test_unparseable_hrefs_in_filters_are_400(client, query):
    r = client.get(API + query)
    assert r.status_code == 400, r.content[:500]
