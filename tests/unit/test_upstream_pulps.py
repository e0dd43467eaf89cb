"""upstream-pulps/ through Django's full stack: CRUD, write-only secrets, encryption at rest, bad
input, and the shipped roles as a permitted user, a user without roles and anonymous.

Replication itself runs against a second real stack: tests/functional/file/test_replicate.py.
"""

import uuid

import pytest
from django.contrib.auth import get_user_model
from django.db import connection
from django.test import Client

from pulpcore.app.access.roles import assign_role
from pulpcore.app.models import Role, Task, TaskGroup, UpstreamPulp

pytestmark = pytest.mark.django_db

API = "/pulp/api/v3/"
URL = f"{API}upstream-pulps/"
SECRET = "s3cret-" + uuid.uuid4().hex
KEY = (
    "-----BEGIN PRIVATE KEY-----\nnot-a-real-key-"
    + uuid.uuid4().hex
    + "\n-----END PRIVATE KEY-----"
)


def user(superuser: bool = False):
    return get_user_model().objects.create(
        username=f"u-{uuid.uuid4().hex[:8]}", is_superuser=superuser
    )


def login(who) -> Client:
    c = Client()
    c.force_login(who)
    return c


def post(client, url, data=None):
    return client.post(url, data or {}, content_type="application/json")


def body(**over) -> dict:
    data = {
        "name": f"up-{uuid.uuid4().hex[:6]}",
        "base_url": "https://upstream.example.com",
        "api_root": "pulp",
        "username": "replicator",
        "password": SECRET,
        "client_cert": "-----BEGIN CERTIFICATE-----\nx\n-----END CERTIFICATE-----",
        "client_key": KEY,
        "pulp_label_select": "env=prod",
    }
    data.update(over)
    return data


@pytest.fixture
def admin():
    return login(user(superuser=True))


def test_crud_with_write_only_secrets(admin):
    r = post(admin, URL, body(name="central"))
    assert r.status_code == 201, r.content
    made = r.json()
    assert made["pulp_href"].startswith(URL) and made["name"] == "central"
    assert made["base_url"] == "https://upstream.example.com" and made["api_root"] == "pulp"
    assert made["tls_validation"] is True and made["domain"] is None
    assert made["pulp_label_select"] == "env=prod"
    for secret in ("username", "password", "client_key"):
        assert secret not in made
    assert {f["name"]: f["is_set"] for f in made["hidden_fields"]} == {
        "client_key": True,
        "username": True,
        "password": True,
    }
    href = made["pulp_href"]
    assert admin.get(href).json() == made
    listed = admin.get(URL).json()
    assert listed["count"] == 1 and listed["results"][0]["pulp_href"] == href

    r = admin.patch(
        href, {"password": None, "tls_validation": False}, content_type="application/json"
    )
    assert r.status_code == 200, r.content
    hidden = {f["name"]: f["is_set"] for f in r.json()["hidden_fields"]}
    assert hidden == {"client_key": True, "username": True, "password": False}
    assert r.json()["tls_validation"] is False
    r = admin.put(
        href,
        {"name": "central", "base_url": "http://other:24817/", "api_root": "/alt/"},
        content_type="application/json",
    )
    assert r.status_code == 200, r.content
    assert r.json()["base_url"] == "http://other:24817" and r.json()["api_root"] == "alt"

    assert admin.delete(href).status_code == 204
    assert admin.get(href).status_code == 404
    assert not UpstreamPulp.objects.exists()


def test_secrets_are_encrypted_at_rest(admin):
    r = post(admin, URL, body(name="enc"))
    assert r.status_code == 201
    with connection.cursor() as cur:
        cur.execute(
            "SELECT password, client_key, username FROM core_upstreampulp WHERE name = 'enc'"
        )
        password, client_key, username = cur.fetchone()
    assert SECRET not in password and "not-a-real-key" not in client_key
    stored = UpstreamPulp.objects.get(name="enc")
    assert stored.password == SECRET and stored.client_key == KEY
    assert username == "replicator"


@pytest.mark.parametrize(
    "over, field",
    [
        ({"base_url": "ftp://upstream"}, "base_url"),
        ({"base_url": "not a url"}, "base_url"),
        ({"base_url": "https://user:pw@upstream"}, "base_url"),
        ({"api_root": "/../"}, "api_root"),
        ({"pulp_label_select": "a=1,,b"}, "pulp_label_select"),
        ({"client_cert": None}, "client_key"),
        ({"tls_validation": "maybe"}, "tls_validation"),
        ({"name": ""}, "name"),
    ],
)
def test_bad_input_is_400_and_creates_nothing(admin, over, field):
    r = post(admin, URL, body(**over))
    assert r.status_code == 400, r.content
    assert field in r.json()
    assert not UpstreamPulp.objects.exists()


def test_missing_required_fields_and_duplicate_name(admin):
    r = post(admin, URL, {})
    assert r.status_code == 400
    assert {"name", "base_url", "api_root"} <= set(r.json())
    assert post(admin, URL, body(name="dup")).status_code == 201
    r = post(admin, URL, body(name="dup"))
    assert r.status_code == 400 and "name" in r.json()
    assert UpstreamPulp.objects.count() == 1


def test_replicate_answers_a_task_group(admin):
    href = post(admin, URL, body(name="rep")).json()["pulp_href"]
    r = post(admin, f"{href}replicate/")
    assert r.status_code == 202, r.content
    group_href = r.json()["task_group"]
    assert set(r.json()) == {"task_group"}
    group = TaskGroup.objects.get(pk=group_href.rstrip("/").rsplit("/", 1)[1])
    (task,) = Task.objects.filter(task_group=group)
    assert task.name == "pulpcore.app.tasks.replica.replicate_distributions"
    assert admin.get(group_href).status_code == 200


def test_locked_roles_hold_what_pulp_ships():
    perms = {
        role.name: sorted(p.codename for p in role.permissions.all())
        for role in Role.objects.filter(name__startswith="core.upstreampulp_")
    }
    assert perms == {
        "core.upstreampulp_creator": ["add_upstreampulp"],
        "core.upstreampulp_owner": sorted(
            [
                "view_upstreampulp",
                "change_upstreampulp",
                "delete_upstreampulp",
                "replicate_upstreampulp",
                "manage_roles_upstreampulp",
            ]
        ),
        "core.upstreampulp_viewer": ["view_upstreampulp"],
        "core.upstreampulp_user": ["replicate_upstreampulp", "view_upstreampulp"],
    }


def test_roles_permitted_unpermitted_and_anonymous(admin):
    href = post(admin, URL, body(name="guarded")).json()["pulp_href"]
    obj = UpstreamPulp.objects.get(name="guarded")
    nobody, viewer, replicator, creator = user(), user(), user(), user()
    assign_role("core.upstreampulp_viewer", user=viewer, obj=obj)
    assign_role("core.upstreampulp_user", user=replicator, obj=obj)
    assign_role("core.upstreampulp_creator", user=creator)

    # anonymous: nothing at all
    anon = Client()
    assert anon.get(URL).status_code == 401
    assert anon.get(href).status_code == 401
    assert post(anon, f"{href}replicate/").status_code == 401
    assert post(anon, URL, body()).status_code == 401

    # no roles: sees an empty list, the object does not exist for them, may not create
    c = login(nobody)
    assert c.get(URL).json()["count"] == 0
    assert c.get(href).status_code == 404
    assert post(c, f"{href}replicate/").status_code == 404
    assert post(c, URL, body()).status_code == 403
    assert c.delete(href).status_code == 404

    # viewer: reads, may not replicate, change or delete
    c = login(viewer)
    assert c.get(URL).json()["count"] == 1
    assert c.get(href).status_code == 200
    assert post(c, f"{href}replicate/").status_code == 403
    r = c.patch(href, {"tls_validation": False}, content_type="application/json")
    assert r.status_code == 403
    assert c.delete(href).status_code == 403

    # user role: may replicate, still not change or manage roles
    c = login(replicator)
    assert post(c, f"{href}replicate/").status_code == 202
    assert c.delete(href).status_code == 403
    assert c.get(f"{href}list_roles/").status_code == 403

    # creator: creates and then owns what it created (not the others' objects)
    c = login(creator)
    r = post(c, URL, body(name="mine"))
    assert r.status_code == 201, r.content
    mine = r.json()["pulp_href"]
    assert c.get(URL).json()["count"] == 1
    assert post(c, f"{mine}replicate/").status_code == 202
    assert c.get(f"{mine}list_roles/").status_code == 200
    assert c.delete(mine).status_code == 204
    assert c.get(href).status_code == 404
    assert UpstreamPulp.objects.filter(name="guarded").exists()
