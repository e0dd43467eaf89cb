"""The content guard endpoints through Django's full stack: CRUD, the generic list, bad input."""

import uuid

import pytest
from django.contrib.auth import get_user_model
from django.test import Client

from pulp_file.app.models import FileDistribution, FileRepository
from pulpcore.app.models import ContentGuard
from tests.certs import CA

pytestmark = pytest.mark.django_db

API = "/pulp/api/v3/"
G = f"{API}contentguards/"
HEADER, COMPOSITE, REDIRECT = (
    f"{G}core/header/",
    f"{G}core/composite/",
    f"{G}core/content_redirect/",
)
X509, RHSM = f"{G}certguard/x509/", f"{G}certguard/rhsm/"


@pytest.fixture
def client():
    admin = get_user_model().objects.create(
        username=f"admin-{uuid.uuid4().hex[:6]}", is_superuser=True
    )
    c = Client()
    c.force_login(admin)
    return c


def post(client, url, data):
    return client.post(url, data, content_type="application/json")


def patch(client, url, data):
    return client.patch(url, data, content_type="application/json")


def test_create_read_update_delete_each_type(client):
    ca = CA.create()
    made = {
        HEADER: {"name": "h", "header_name": "X-Key", "header_value": "v"},
        REDIRECT: {"name": "r"},
        X509: {"name": "x", "ca_certificate": ca.pem},
        RHSM: {"name": "s", "ca_certificate": ca.pem, "description": "entitlements"},
    }
    hrefs = {}
    for url, body in made.items():
        r = post(client, url, body)
        assert r.status_code == 201, r.content
        data = r.json()
        assert data["pulp_href"].startswith(url) and data["name"] == body["name"]
        for key, value in body.items():
            assert data[key] == value.strip()
        hrefs[url] = data["pulp_href"]
    assert "shared_secret" not in client.get(hrefs[REDIRECT]).json()
    r = post(client, COMPOSITE, {"name": "c", "guards": [hrefs[HEADER], hrefs[X509]]})
    assert r.status_code == 201, r.content
    comp = r.json()
    assert sorted(comp["guards"]) == sorted([hrefs[HEADER], hrefs[X509]])
    # update and partial update
    r = patch(client, hrefs[HEADER], {"jq_filter": ".org"})
    assert r.status_code == 200 and r.json()["jq_filter"] == ".org"
    r = client.put(
        hrefs[HEADER],
        {"name": "h2", "header_name": "X-Other", "header_value": "w"},
        content_type="application/json",
    )
    assert r.status_code == 200 and r.json()["header_name"] == "X-Other"
    r = patch(client, comp["pulp_href"], {"guards": [hrefs[RHSM]]})
    assert r.status_code == 200 and r.json()["guards"] == [hrefs[RHSM]]
    # lists: per type, and the generic one with every type (filterable by pulp_type)
    assert client.get(HEADER).json()["count"] == 1
    listed = client.get(G).json()
    assert listed["count"] == 5
    assert {g["pulp_href"].rsplit("/", 2)[0] + "/" for g in listed["results"]} == {
        HEADER,
        COMPOSITE,
        REDIRECT,
        X509,
        RHSM,
    }
    for pulp_type, url in (
        ("core.header", HEADER),
        ("core.composite", COMPOSITE),
        ("core.content_redirect", REDIRECT),
        ("certguard.x509", X509),
        ("certguard.rhsm", RHSM),
    ):
        r = client.get(G, {"pulp_type": pulp_type}).json()
        assert [g["pulp_href"] for g in r["results"]] == [hrefs.get(url, comp["pulp_href"])], (
            pulp_type
        )
    # delete
    assert client.delete(hrefs[REDIRECT]).status_code == 204
    assert client.get(hrefs[REDIRECT]).status_code == 404


def test_deleting_a_guard_in_use_detaches_it(client):
    r = post(client, HEADER, {"name": "inuse", "header_name": "X", "header_value": "v"})
    href = r.json()["pulp_href"]
    repo = FileRepository.objects.create(name="r-" + uuid.uuid4().hex[:6])
    r = post(
        client,
        f"{API}distributions/file/file/",
        {
            "name": "d",
            "base_path": "d",
            "repository": f"{API}repositories/file/file/{repo.pk}/",
            "content_guard": href,
        },
    )
    assert r.status_code == 202, r.content
    from tests.unit.test_plugin_file_api import run

    run(r)
    dist = FileDistribution.objects.get(name="d")
    assert dist.content_guard_id is not None
    comp = post(client, COMPOSITE, {"name": "holder", "guards": [href]}).json()
    assert client.delete(href).status_code == 204
    dist.refresh_from_db()
    assert dist.content_guard_id is None  # SET NULL, the distribution stays
    assert client.get(comp["pulp_href"]).json()["guards"] == []


def test_bad_input_is_400_and_changes_nothing(client):
    before = ContentGuard.objects.count()
    r = post(client, X509, {"name": "bad", "ca_certificate": "not a certificate"})
    assert r.status_code == 400 and "PEM" in r.json()["ca_certificate"][0]
    broken = "-----BEGIN CERTIFICATE-----\nAAAA\n-----END CERTIFICATE-----\n"
    r = post(client, RHSM, {"name": "bad", "ca_certificate": broken})
    assert r.status_code == 400 and "ca_certificate" in r.json()
    r = post(
        client,
        HEADER,
        {"name": "bad", "header_name": "X", "header_value": "v", "jq_filter": ".a | [[["},
    )
    assert r.status_code == 400 and "jq filter" in r.json()["jq_filter"][0]
    r = post(client, HEADER, {"name": "bad", "header_value": "v"})
    assert r.status_code == 400 and "header_name" in r.json()
    # a composite may not hold something that is not a guard, nor (through others) itself
    repo = FileRepository.objects.create(name="notaguard")
    r = post(
        client, COMPOSITE, {"name": "bad", "guards": [f"{API}repositories/file/file/{repo.pk}/"]}
    )
    assert r.status_code == 400 and "guards" in r.json()
    r = post(client, COMPOSITE, {"name": "bad", "guards": [f"{G}core/nosuch/{uuid.uuid4()}/"]})
    assert r.status_code == 400
    assert ContentGuard.objects.count() == before
    outer = post(client, COMPOSITE, {"name": "outer"}).json()["pulp_href"]
    r = patch(client, outer, {"guards": [outer]})
    assert r.status_code == 400 and "itself" in r.json()["guards"][0]
    inner = post(client, COMPOSITE, {"name": "inner", "guards": [outer]}).json()["pulp_href"]
    r = patch(client, outer, {"guards": [inner]})
    assert r.status_code == 400 and "itself" in r.json()["guards"][0]
    # an unknown guard type in the generic list's filter
    r = client.get(G, {"pulp_type": "core.nosuch"})
    assert r.status_code == 400
    # duplicate names across types (names are unique among all guards)
    post(client, HEADER, {"name": "dup", "header_name": "X", "header_value": "v"})
    r = post(client, REDIRECT, {"name": "dup"})
    assert r.status_code == 400 and "name" in r.json()


def test_anonymous_and_unprivileged_users_cannot_manage_guards(client):
    anonymous = Client()
    body = {"name": "anon", "header_name": "X", "header_value": "v"}
    assert post(anonymous, HEADER, body).status_code in (401, 403)
    assert anonymous.get(HEADER).status_code in (401, 403)
    # the admin can
    assert post(client, HEADER, body).status_code == 201


def test_certguard_is_a_plugin_in_status_and_openapi(client):
    versions = {v["component"]: v for v in client.get(f"{API}status/").json()["versions"]}
    assert versions["certguard"] == {
        "component": "certguard",
        "version": "3.49.0",
        "package": "pulpcore",
        "module": "pulp_certguard.app",
        "domain_compatible": versions["certguard"]["domain_compatible"],
    }
    doc = client.get(f"{API}docs/api.json", HTTP_HOST="localhost:24817").json()
    assert doc["info"]["x-pulp-app-versions"]["certguard"] == "3.49.0"
    assert set(doc["info"]["x-pulp-app-versions"]) >= {"core", "file", "certguard"}


def test_certguard_builds_on_the_plugin_api_only():
    """Like pulp_file, the plugin imports nothing of pulpcore but pulpcore.plugin."""
    import ast
    import pathlib

    import pulp_certguard

    root = pathlib.Path(pulp_certguard.__file__).parent
    for path in root.rglob("*.py"):
        for node in ast.walk(ast.parse(path.read_text())):
            names = []
            if isinstance(node, ast.ImportFrom) and node.module:
                names = [node.module]
            elif isinstance(node, ast.Import):
                names = [a.name for a in node.names]
            for name in names:
                if name.startswith("pulpcore"):
                    assert name.startswith("pulpcore.plugin"), f"{path}: imports {name}"


def test_migration_trigger_names_follow_the_content_app():
    from pulpcore.content import resolve
    from pulpcore.plugin import migrations

    assert (migrations.CHANNEL, migrations.TRIGGER_FUNCTION) == (
        resolve.CHANNEL,
        resolve.TRIGGER_FUNCTION,
    )


RBAC = f"{G}core/rbac/"


def test_rbac_guard_endpoint_as_creator_stranger_and_anonymous(client):
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    from pulpcore.app.access.roles import assign_role
    from pulpcore.app.models import Group

    users = get_user_model().objects
    maker, stranger = users.create(username="g-maker"), users.create(username="g-stranger")
    reader = users.create(username="g-reader")
    assign_role("core.rbaccontentguard_creator", user=maker)
    as_maker, as_stranger = Client(), Client()
    as_maker.force_login(maker)
    as_stranger.force_login(stranger)

    assert post(as_stranger, RBAC, {"name": "nope"}).status_code == 403
    assert post(Client(), RBAC, {"name": "nope"}).status_code in (401, 403)
    made = post(as_maker, RBAC, {"name": "mine", "description": "team files"})
    assert made.status_code == 201, made.content
    guard = made.json()
    assert [u["username"] for u in guard["users"]] == ["g-maker"]
    assert guard["users"][0]["pulp_href"] == f"{API}users/{maker.pk}/"
    href = guard["pulp_href"]
    assert as_stranger.get(href).status_code == 404
    assert as_stranger.get(RBAC).json()["count"] == 0
    team = Group.objects.create(name="g-team")
    r = post(as_maker, f"{href}add_role/",
             {"role": "core.rbaccontentguard_downloader", "groups": ["g-team"],
              "users": ["g-reader"]})  # fmt: skip
    assert r.status_code == 201, r.content
    shown = as_maker.get(href).json()
    assert [g["name"] for g in shown["groups"]] == ["g-team"]
    assert [u["username"] for u in shown["users"]] == ["g-maker", "g-reader"]
    # Bad input: a role of another type, a role nobody holds, an unknown user.
    wrong = {"role": "core.task_owner", "users": ["g-reader"]}
    assert post(as_maker, f"{href}add_role/", wrong).status_code == 400
    unheld = {"role": "core.rbaccontentguard_viewer", "users": ["g-reader"]}
    assert post(as_maker, f"{href}remove_role/", unheld).status_code == 400
    ghost = {"role": "core.rbaccontentguard_downloader", "users": ["nobody-here"]}
    assert post(as_maker, f"{href}add_role/", ghost).status_code == 400
    assert as_maker.get(f"{href}my_permissions/").json()["permissions"] == sorted(
        f"core.{p}_rbaccontentguard"
        for p in ("add", "change", "delete", "download", "manage_roles", "view")
    )
    # The generic list shows it with its type; the type filter documents no core.rbac.
    listed = client.get(G, {"name": "mine"}).json()["results"]
    assert [(x["name"], x["pulp_href"]) for x in listed] == [("mine", href)]

    # Listing costs the same number of queries for 3 guards as for 30.
    def count_list() -> int:
        with CaptureQueriesContext(connection) as ctx:
            assert client.get(RBAC, {"limit": 100}).status_code == 200
        return len(ctx.captured_queries)

    few = count_list()
    for i in range(30):
        pk = post(client, RBAC, {"name": f"many-{i}"}).json()["pulp_href"].split("/")[-2]
        many = ContentGuard.objects.get(pk=pk).cast()
        assign_role("core.rbaccontentguard_downloader", user=reader, obj=many)
        assign_role("core.rbaccontentguard_downloader", group=team, obj=many)
    assert count_list() == few
    assert patch(as_maker, href, {"description": None}).json()["description"] is None
    assert as_maker.delete(href).status_code == 204
