"""Authentication: basic and session auth, 401 for anonymous calls, the credential cache, and
``pulpcore-manager reset-admin-password``."""

import base64
import io

import pytest
from django.contrib.auth import get_user_model
from django.core.management import CommandError, call_command
from django.test import Client

from pulpcore.app.viewsets.base import REGISTRY

pytestmark = pytest.mark.django_db

API = "/pulp/api/v3/"
ARTIFACTS = f"{API}artifacts/"


def basic(username: str, password: str) -> dict:
    token = base64.b64encode(f"{username}:{password}".encode()).decode()
    return {"Authorization": f"Basic {token}"}


@pytest.fixture
def alice():
    return get_user_model().objects.create_user("alice", password="first-secret")


def list_urls() -> list[str]:
    """Every registered list route, with nested parents filled by a syntactically valid id."""
    urls = []
    for viewset in REGISTRY:
        if not hasattr(viewset, "list"):
            continue
        prefix = viewset.url_prefix()
        if viewset.parent_viewset is not None:
            kwarg = next(iter(viewset.parent_lookup_kwargs))
            prefix = prefix.replace(f"(?P<{kwarg}>[^/.]+)", "00000000-0000-0000-0000-000000000000")
        urls.append(f"{API}{prefix}/")
    return urls


def test_anonymous_is_401_with_basic_challenge_everywhere():
    c = Client()
    urls = list_urls()
    assert f"{API}artifacts/" in urls
    for url in urls:
        r = c.get(url)
        assert r.status_code == 401, url
        assert r["WWW-Authenticate"].startswith("Basic"), url
        assert r.json() == {"detail": "Authentication credentials were not provided."}
    assert c.post(ARTIFACTS, {}).status_code == 401
    assert c.delete(f"{ARTIFACTS}00000000-0000-0000-0000-000000000000/").status_code == 401


def test_status_and_docs_are_public():
    c = Client()
    assert c.get(f"{API}status/").status_code == 200
    assert c.get(f"{API}docs/api.json").status_code == 200
    assert c.get(f"{API}docs/").status_code == 200
    # Even bad credentials do not lock anyone out of status/.
    assert c.get(f"{API}status/", headers=basic("nobody", "wrong")).status_code == 200


def test_basic_auth(alice):
    c = Client()
    assert c.get(ARTIFACTS, headers=basic("alice", "first-secret")).status_code == 200
    r = c.get(ARTIFACTS, headers=basic("alice", "wrong"))
    assert r.status_code == 401 and r["WWW-Authenticate"].startswith("Basic")
    assert r.json() == {"detail": "Invalid username/password."}
    assert c.get(ARTIFACTS, headers=basic("mallory", "first-secret")).status_code == 401


def test_session_auth_and_csrf(alice):
    c = Client(enforce_csrf_checks=True)
    assert c.login(username="alice", password="first-secret")
    assert "sessionid" in c.cookies  # the contract's cookieAuth scheme
    assert c.get(ARTIFACTS).status_code == 200
    # Unsafe methods with a session cookie need the CSRF token.
    r = c.delete(f"{ARTIFACTS}00000000-0000-0000-0000-000000000000/")
    assert r.status_code == 403 and "CSRF" in r.json()["detail"]


def test_login_page_sets_a_working_session(alice):
    c = Client()
    r = c.post(f"{API}login/login/", {"username": "alice", "password": "first-secret"})
    assert r.status_code == 302
    assert c.get(ARTIFACTS).status_code == 200


def test_cached_basic_auth_honours_password_change_at_once(alice):
    c = Client()
    old = basic("alice", "first-secret")
    assert c.get(ARTIFACTS, headers=old).status_code == 200
    assert c.get(ARTIFACTS, headers=old).status_code == 200  # served from the cache
    alice.set_password("second-secret")
    alice.save()
    assert c.get(ARTIFACTS, headers=old).status_code == 401
    assert c.get(ARTIFACTS, headers=basic("alice", "second-secret")).status_code == 200


def test_cached_basic_auth_honours_deactivation_and_deletion(alice):
    c = Client()
    creds = basic("alice", "first-secret")
    assert c.get(ARTIFACTS, headers=creds).status_code == 200
    alice.is_active = False
    alice.save()
    assert c.get(ARTIFACTS, headers=creds).status_code == 401
    alice.is_active = True
    alice.save()
    assert c.get(ARTIFACTS, headers=creds).status_code == 200
    alice.delete()
    assert c.get(ARTIFACTS, headers=creds).status_code == 401


def test_reset_admin_password_with_password():
    out = io.StringIO()
    call_command("reset-admin-password", "--password", "s3cret-one", stdout=out)
    admin = get_user_model().objects.get(username="admin")
    assert admin.is_superuser and admin.is_staff and admin.is_active
    assert admin.check_password("s3cret-one")
    assert "created" in out.getvalue()
    pk = admin.pk
    call_command("reset-admin-password", "--password", "s3cret-two", stdout=io.StringIO())
    admin = get_user_model().objects.get(username="admin")
    assert admin.pk == pk and admin.check_password("s3cret-two")
    assert not admin.check_password("s3cret-one")
    assert Client().get(ARTIFACTS, headers=basic("admin", "s3cret-two")).status_code == 200
    assert Client().get(ARTIFACTS, headers=basic("admin", "s3cret-one")).status_code == 401


def test_reset_admin_password_random():
    out = io.StringIO()
    call_command("reset-admin-password", "--random", stdout=out)
    line = next(x for x in out.getvalue().splitlines() if "Generated password" in x)
    password = line.split(": ", 1)[1].strip()
    assert len(password) >= 16
    assert get_user_model().objects.get(username="admin").check_password(password)
    assert Client().get(ARTIFACTS, headers=basic("admin", password)).status_code == 200


def test_reset_admin_password_options_exclusive():
    with pytest.raises(CommandError):
        call_command("reset-admin-password", "--random", "--password", "x")


@pytest.mark.parametrize(
    "header",
    [
        "Basic",
        "Basic !!!not-base64!!!",
        "Basic " + base64.b64encode(b"no-colon").decode(),
        "Basic " + base64.b64encode(b"\xff\xfe:\xff").decode(),
        "Basic a b c",
    ],
)
def test_malformed_basic_header_is_401_not_500(header):
    r = Client().get(ARTIFACTS, headers={"Authorization": header})
    assert r.status_code == 401
    assert r["Content-Type"] == "application/json" and "detail" in r.json()


def test_non_ascii_password_works():
    get_user_model().objects.create_user("zoë", password="pässwörd-✓")
    token = base64.b64encode("zoë:pässwörd-✓".encode()).decode()
    r = Client().get(ARTIFACTS, headers={"Authorization": f"Basic {token}"})
    assert r.status_code == 200


def test_webserver_authentication_reads_remote_user_environ_name(settings, alice):
    """PulpRemoteUserAuthentication trusts the header named by REMOTE_USER_ENVIRON_NAME."""
    from django.test import RequestFactory
    from rest_framework.request import Request

    from pulpcore.app.authentication import PulpRemoteUserAuthentication

    settings.AUTHENTICATION_BACKENDS = [
        "django.contrib.auth.backends.RemoteUserBackend",
        "django.contrib.auth.backends.ModelBackend",
    ]
    settings.REMOTE_USER_ENVIRON_NAME = "HTTP_X_PULP_USER"
    auth = PulpRemoteUserAuthentication()
    request = Request(RequestFactory().get(ARTIFACTS, headers={"X-Pulp-User": "alice"}))
    user, _ = auth.authenticate(request)
    assert user.pk == alice.pk
    # Another header, or none, authenticates nobody.
    other = Request(RequestFactory().get(ARTIFACTS, headers={"Remote-User": "alice"}))
    assert auth.authenticate(other) is None
    settings.REMOTE_USER_ENVIRON_NAME = "HTTP_REMOTE_USER"
    assert auth.authenticate(other)[0].pk == alice.pk


def test_remote_user_header_is_ignored_unless_enabled(alice):
    """By default a client's Remote-User header grants nothing (the class is opt-in)."""
    resp = Client().get(ARTIFACTS, headers={"Remote-User": "alice"})
    assert resp.status_code == 401
