"""upstream-pulps/ through Django's full stack: CRUD, write-only secrets, encryption at rest, bad
input, and the shipped roles as a permitted user, a user without roles and anonymous.

Replication itself runs against a second real stack: tests/functional/file/test_replicate.py.
"""

import base64
import http.server
import json
import threading
import uuid
from urllib.parse import parse_qs, urlparse

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
        ({"base_url": "http://[::1"}, "base_url"),
        ({"base_url": "http://host:port"}, "base_url"),
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


# --- the replication's own steps against a real local HTTP server standing in for the upstream ---
class _UpstreamAPI(http.server.BaseHTTPRequestHandler):
    """Answers Pulp-style paged distribution lists and publication reads; records requests."""

    def log_message(self, fmt, *args):
        pass

    def do_GET(self):
        server = self.server
        url = urlparse(self.path)
        server.seen.append((url.path, parse_qs(url.query), self.headers.get("Authorization")))
        if url.path.endswith("/publications/file/file/p/"):
            return self._json({"manifest": "LISTING"})
        if not url.path.startswith("/pulp/") or not url.path.endswith(
            "/api/v3/distributions/file/file/"
        ):
            return self._json({"detail": "Not found."}, 404)
        query = parse_qs(url.query)
        offset, limit = int(query["offset"][0]), int(query["limit"][0])
        page = server.distributions[offset : offset + limit]
        return self._json({"count": len(server.distributions), "results": page})

    def _json(self, data, status=200):
        raw = json.dumps(data).encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(raw)))
        self.end_headers()
        self.wfile.write(raw)


@pytest.fixture
def fake_upstream():
    httpd = http.server.ThreadingHTTPServer(("127.0.0.1", 0), _UpstreamAPI)
    httpd.seen = []
    httpd.distributions = []
    thread = threading.Thread(target=httpd.serve_forever, daemon=True)
    thread.start()
    yield httpd
    httpd.shutdown()
    httpd.server_close()


def test_planning_pages_through_every_distribution(fake_upstream):
    from pulpcore.app.tasks.replica import replicate_distributions
    from pulpcore.tasking.context import reset_current_task, set_current_task

    port = fake_upstream.server_address[1]
    fake_upstream.distributions = [
        {
            "name": f"d{i:03}",
            "base_path": f"p/{i}",
            "base_url": f"http://127.0.0.1:{port}/pulp/content/p/{i}/",
            "publication": "/pulp/api/v3/publications/file/file/p/" if i % 50 else None,
            "repository": None,
            "pulp_labels": {"env": "prod"},
        }
        for i in range(230)
    ]
    upstream = UpstreamPulp.objects.create(
        name="paged", base_url=f"http://127.0.0.1:{port}", api_root="pulp", domain="dom",
        username="replicator", password=SECRET, pulp_label_select="env=prod",
    )  # fmt: skip
    group = TaskGroup.objects.create(description="replication")
    planner = Task.objects.create(name="plan", state="running", task_group=group)
    token = set_current_task(planner)
    try:
        replicate_distributions(str(upstream.pk))
    finally:
        reset_current_task(token)
    lists = [s for s in fake_upstream.seen if s[0].endswith("/distributions/file/file/")]
    assert [q["offset"] for _, q, _ in lists] == [["0"], ["100"], ["200"]]
    assert all(path == "/pulp/dom/api/v3/distributions/file/file/" for path, _, _ in lists)
    assert all(q["pulp_label_select"] == ["env=prod"] for _, q, _ in lists)
    expected_auth = "Basic " + base64.b64encode(f"replicator:{SECRET}".encode()).decode()
    assert {auth for _, _, auth in fake_upstream.seen} == {expected_auth}
    children = Task.objects.filter(task_group=group).exclude(pk=planner.pk)
    per_distribution = children.filter(name="pulpcore.app.tasks.replica.replicate_distribution")
    # every distribution serving a publication (i % 50 != 0 of 230: 225), plus one cleanup
    assert per_distribution.count() == 225
    urls = {t.enc_kwargs["distribution"]["name"]: t.enc_kwargs["url"] for t in per_distribution}
    assert urls["d001"] == f"http://127.0.0.1:{port}/pulp/content/p/1/LISTING"
    assert "d000" not in urls and "d050" not in urls
    (cleanup,) = children.filter(name="pulpcore.app.tasks.replica.remove_stale_replicas")
    assert sorted(cleanup.enc_kwargs["keep_names"]) == sorted(urls)
    group.refresh_from_db()
    assert group.all_tasks_dispatched


def test_unreadable_upstream_dispatches_nothing(fake_upstream):
    from pulpcore.app.tasks.replica import UpstreamError, replicate_distributions

    port = fake_upstream.server_address[1]
    upstream = UpstreamPulp.objects.create(
        name="lost", base_url=f"http://127.0.0.1:{port}", api_root="elsewhere/x"
    )
    before = Task.objects.count()
    with pytest.raises(UpstreamError, match="HTTP 404") as caught:
        replicate_distributions(str(upstream.pk))
    assert "upstream pulp 'lost'" in str(caught.value)
    assert Task.objects.count() == before


def _replicate_one(upstream, name="x", base_path="rep/x"):
    from pulpcore.app.tasks.replica import replicate_distribution

    replicate_distribution(
        str(upstream.pk),
        "pulp_file.app.replica.FileReplicator",
        {"name": name, "base_path": base_path, "pulp_labels": {}},
        "http://127.0.0.1:9/PULP_MANIFEST",
    )


def test_objects_made_by_hand_are_refused_and_left_untouched():
    from pulp_file.app.models import FileDistribution, FileRemote, FileRepository
    from pulpcore.app.tasks.replica import ReplicaConflict

    upstream = UpstreamPulp.objects.create(name="u", base_url="http://u", api_root="pulp")
    hand = FileRemote.objects.create(name="x", url="http://hand.example/PULP_MANIFEST")
    with pytest.raises(ReplicaConflict, match="remote with name='x' already exists"):
        _replicate_one(upstream)
    hand.refresh_from_db()
    assert hand.url == "http://hand.example/PULP_MANIFEST" and hand.pulp_labels == {}
    assert not FileRepository.objects.exists() and not FileDistribution.objects.exists()

    FileDistribution.objects.create(name="by-hand", base_path="rep")
    with pytest.raises(ReplicaConflict, match="overlaps the base path of distribution 'by-hand'"):
        _replicate_one(upstream, name="y", base_path="rep/y")
    assert not FileRemote.objects.filter(name="y").exists()


def test_cleanup_removes_only_what_this_upstream_made():
    from pulp_file.app.models import FileDistribution, FileRemote, FileRepository
    from pulpcore.app.tasks.replica import remove_stale_replicas

    mine = UpstreamPulp.objects.create(name="mine", base_url="http://m", api_root="pulp")
    other = UpstreamPulp.objects.create(name="other", base_url="http://o", api_root="pulp")
    for owner, names in ((mine, ("kept", "gone")), (other, ("theirs",)), (None, ("hand",))):
        for name in names:
            labels = {"UpstreamPulp": str(owner.pk)} if owner else {}
            remote = FileRemote.objects.create(name=name, url="http://x/", pulp_labels=labels)
            repo = FileRepository.objects.create(name=name, remote=remote, pulp_labels=labels)
            FileDistribution.objects.create(
                name=name, base_path=name, repository=repo, pulp_labels=labels
            )
    removed = remove_stale_replicas(str(mine.pk), ["kept"])
    assert removed == {"distributions": ["gone"], "repositories": ["gone"], "remotes": ["gone"]}
    for model in (FileRemote, FileRepository, FileDistribution):
        assert set(model.objects.values_list("name", flat=True)) == {"kept", "theirs", "hand"}


@pytest.mark.django_db(transaction=True)
def test_one_distribution_on_demand_then_moved(tmp_path, settings):
    """REPLICATE_REMOTE_POLICY=on_demand: the files are listed, not downloaded; the repository
    is published with the upstream's manifest name; a moved upstream base path follows."""
    from pulp_file.app.models import FileDistribution, FilePublication, FileRemote, FileRepository
    from pulpcore.app.models import ContentArtifact
    from tests.fixtures import FixtureServer, make_file_fixture

    settings.REPLICATE_REMOTE_POLICY = "on_demand"
    fixture = make_file_fixture(tmp_path / "up", count=3)
    upstream = UpstreamPulp.objects.create(name="od", base_url="http://u", api_root="pulp")
    with FixtureServer(fixture.root) as server:
        from pulpcore.app.tasks.replica import replicate_distribution

        def run(base_path):
            replicate_distribution(
                str(upstream.pk),
                "pulp_file.app.replica.FileReplicator",
                {"name": "od", "base_path": base_path, "pulp_labels": {"tier": "gold"}},
                f"{server.url}PULP_MANIFEST",
            )

        run("od/first")
        remote = FileRemote.objects.get(name="od")
        repo = FileRepository.objects.get(name="od")
        assert remote.policy == "on_demand" and repo.remote_id == remote.pk
        version = repo.latest_version()
        assert version.number == 1 and version.content.count() == 3
        held = ContentArtifact.objects.filter(content__in=version.content.values("pk"))
        assert held.count() == 3 and not held.exclude(artifact=None).exists()
        assert FilePublication.objects.filter(
            repository_version=version, complete=True, manifest="PULP_MANIFEST"
        ).exists()
        dist = FileDistribution.objects.get(name="od")
        assert dist.base_path == "od/first" and dist.repository_id == repo.pk
        assert dist.pulp_labels == {"tier": "gold", "UpstreamPulp": str(upstream.pk)}
        touched = remote.pulp_last_updated

        run("od/moved")
    dist.refresh_from_db()
    remote.refresh_from_db()
    assert dist.base_path == "od/moved"
    assert repo.latest_version().number == 1 and remote.pulp_last_updated == touched
    assert FilePublication.objects.filter(repository_version__repository=repo).count() == 1
