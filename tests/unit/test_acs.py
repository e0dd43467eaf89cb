"""Alternate content sources through Django's full stack, real PostgreSQL and real HTTP origins.

Two local origins serve the same files: the repository's own remote (made slow on purpose) and the
ACS. Their request logs show where each file came from. Dispatched tasks run in-process by importing
the recorded task name, so each test also checks what the view dispatched.
"""

import hashlib
import os
import shutil
import uuid
from pathlib import Path

import pytest
import requests
from django.conf import settings
from django.contrib.auth import get_user_model
from django.test import Client
from django.utils.module_loading import import_string

from pulp_file.app.models import FileAlternateContentSource, FileRepository
from pulpcore.app.access.roles import assign_role
from pulpcore.app.models import (
    AlternateContentSourcePath,
    Artifact,
    ProgressReport,
    RemoteArtifact,
    Repository,
    Task,
    TaskGroup,
)
from pulpcore.app.queries.acs import acs_offers
from pulpcore.tasking.context import reset_current_task, set_current_task
from tests.fixtures import FixtureServer, make_file_fixture
from tests.unit.content_support import AppThread, distribute

pytestmark = pytest.mark.django_db(transaction=True)

API = "/pulp/api/v3/"
ACS = f"{API}acs/file/file/"
REMOTES = f"{API}remotes/file/file/"
REPOS = f"{API}repositories/file/file/"
PASSWORD = "Blue-Heron-Rides-42"


def post(client, url, data=None):
    return client.post(url, data or {}, content_type="application/json")


def run_task(task: Task) -> Task:
    token = set_current_task(task)
    try:
        import_string(task.name)(*(task.args or []), **(task.kwargs or {}))
    finally:
        reset_current_task(token)
    return task


def run(resp) -> Task:
    """Execute the task a 202 answer names, in this process; re-raise its failure."""
    assert resp.status_code == 202, resp.content
    return run_task(Task.objects.get(pk=resp.json()["task"].rstrip("/").rsplit("/", 1)[-1]))


def refresh(client, acs_href: str) -> list[Task]:
    """POST refresh/ and run every task of the group it answers with."""
    resp = post(client, f"{acs_href}refresh/")
    assert resp.status_code == 202, resp.content
    assert set(resp.json()) == {"task_group"}
    group = TaskGroup.objects.get(pk=resp.json()["task_group"].rstrip("/").rsplit("/", 1)[-1])
    assert group.all_tasks_dispatched
    tasks = list(Task.objects.filter(task_group=group).order_by("pulp_created"))
    return [run_task(t) for t in tasks]


def pk(href: str) -> str:
    return href.rstrip("/").rsplit("/", 1)[-1]


@pytest.fixture
def admin():
    user = get_user_model().objects.create(
        username=f"adm-{uuid.uuid4().hex[:6]}", is_superuser=True
    )
    c = Client()
    c.force_login(user)
    return c


@pytest.fixture
def tree(tmp_path):
    return make_file_fixture(tmp_path / "files", count=5, size=16 * 1024)


@pytest.fixture
def far(tree):
    """The repository's own origin: every file answers after a delay."""
    with FixtureServer(tree.root) as server:
        server.behaviour["delay"] = {e.relative_path: 0.3 for e in tree.entries}
        yield server


@pytest.fixture
def near(tree, tmp_path):
    """The ACS origin: the same files below ``mirror/``."""
    root = tmp_path / "near"
    shutil.copytree(tree.root, root / "mirror")
    with FixtureServer(root) as server:
        server.root = root
        yield server


def make_remote(client, url: str, policy: str = "on_demand") -> str:
    resp = post(
        client, REMOTES, {"name": f"r-{uuid.uuid4().hex[:8]}", "url": url, "policy": policy}
    )
    assert resp.status_code == 201, resp.content
    return resp.json()["pulp_href"]


def make_acs(client, remote: str, paths=None, name=None) -> dict:
    body = {"name": name or f"acs-{uuid.uuid4().hex[:8]}", "remote": remote}
    if paths is not None:
        body["paths"] = paths
    resp = post(client, ACS, body)
    assert resp.status_code == 201, resp.content
    return resp.json()


def file_requests(server, tree) -> set[str]:
    wanted = {e.relative_path for e in tree.entries}
    return {p.lstrip("/").rsplit("/", 1)[-1] for p in server.httpd.requests} & wanted


def sync_repo(client, remote_href: str) -> tuple[dict, Task]:
    repo = post(client, REPOS, {"name": f"repo-{uuid.uuid4().hex[:8]}"})
    assert repo.status_code == 201, repo.content
    task = run(post(client, f"{repo.json()['pulp_href']}sync/", {"remote": remote_href}))
    return repo.json(), task


def reports(task: Task) -> dict[str, list[tuple[str, int]]]:
    out: dict[str, list[tuple[str, int]]] = {}
    for r in ProgressReport.objects.filter(task=task):
        out.setdefault(r.code, []).append((r.message, r.done))
    return out


# --- the endpoint --------------------------------------------------------------------------------
def test_crud_round_trip(admin, near):
    remote = make_remote(admin, near.url)
    acs = make_acs(admin, remote, paths=["mirror/PULP_MANIFEST", "other/PULP_MANIFEST"], name="n1")
    assert set(acs) == {
        "pulp_href",
        "pulp_created",
        "pulp_last_updated",
        "name",
        "remote",
        "paths",
        "last_refreshed",
    }
    assert acs["pulp_href"].startswith(ACS) and acs["remote"] == remote
    assert acs["paths"] == ["mirror/PULP_MANIFEST", "other/PULP_MANIFEST"]
    assert acs["last_refreshed"] is None
    assert admin.get(acs["pulp_href"]).json() == acs
    listed = admin.get(ACS, {"name__startswith": "n"}).json()
    assert listed["count"] == 1 and listed["results"][0] == acs
    assert admin.get(ACS, {"name": "zzz"}).json()["count"] == 0
    run(admin.patch(acs["pulp_href"], {"paths": ["mirror/PULP_MANIFEST"]}, "application/json"))
    assert admin.get(acs["pulp_href"]).json()["paths"] == ["mirror/PULP_MANIFEST"]
    run(admin.put(acs["pulp_href"], {"name": "n2", "remote": remote}, "application/json"))
    got = admin.get(acs["pulp_href"]).json()
    assert got["name"] == "n2" and got["paths"] == ["mirror/PULP_MANIFEST"]  # PUT without paths
    run(admin.delete(acs["pulp_href"]))
    assert admin.get(acs["pulp_href"]).status_code == 404
    assert not AlternateContentSourcePath.objects.exists()


def test_a_remote_an_acs_uses_is_not_deleted(admin):
    remote = make_remote(admin, "http://127.0.0.1:9/")
    acs = make_acs(admin, remote)
    with pytest.raises(ValueError) as failed:
        run(admin.delete(remote))
    assert acs["name"] in str(failed.value) and "delete or change them first" in str(failed.value)
    assert admin.get(remote).status_code == 200 and admin.get(acs["pulp_href"]).status_code == 200
    run(admin.delete(acs["pulp_href"]))
    run(admin.delete(remote))
    assert admin.get(remote).status_code == 404


def test_bad_input_is_400_and_creates_nothing(admin):
    immediate = make_remote(admin, "http://127.0.0.1:9/", policy="immediate")
    resp = post(admin, ACS, {"name": "bad", "remote": immediate})
    assert resp.status_code == 400
    assert "on_demand" in resp.json()["remote"][0]
    good = make_remote(admin, "http://127.0.0.1:9/")
    for body, field in (
        ({"remote": good}, "name"),
        ({"name": "x"}, "remote"),
        ({"name": "x", "remote": good, "paths": ["/abs"]}, "paths"),
        ({"name": "x", "remote": good, "paths": ["../up"]}, "paths"),
        ({"name": "x", "remote": good, "paths": ["a", "a"]}, "paths"),
        ({"name": "x", "remote": good, "paths": [""]}, "paths"),
        ({"name": "x", "remote": f"{REPOS}{uuid.uuid4()}/"}, "remote"),
    ):
        resp = post(admin, ACS, body)
        assert resp.status_code == 400, (body, resp.content)
        assert field in resp.json(), resp.json()
    assert not FileAlternateContentSource.objects.exists()
    make_acs(admin, good, name="taken")
    again = post(admin, ACS, {"name": "taken", "remote": good})
    assert again.status_code == 400 and "name" in again.json()
    # An update to a non-on_demand remote is refused before any task is dispatched.
    acs = admin.get(ACS).json()["results"][0]
    before = Task.objects.count()
    resp = admin.patch(acs["pulp_href"], {"remote": immediate}, "application/json")
    assert resp.status_code == 400 and Task.objects.count() == before


# --- refresh -------------------------------------------------------------------------------------
def test_refresh_runs_a_task_per_path_and_records_remote_artifacts(admin, near, tree):
    extra = make_file_fixture(near.root / "extra", count=2, size=1024)
    remote = make_remote(admin, near.url)
    acs = make_acs(admin, remote, paths=["mirror/PULP_MANIFEST", "extra/PULP_MANIFEST"])
    tasks = refresh(admin, acs["pulp_href"])
    assert len(tasks) == 2
    assert {t.kwargs["path_pk"] for t in tasks} == {
        str(p.pk) for p in AlternateContentSourcePath.objects.all()
    }
    # Nothing was downloaded: only the manifests were read.
    assert sorted(near.httpd.requests) == ["/extra/PULP_MANIFEST", "/mirror/PULP_MANIFEST"]
    assert not Artifact.objects.exists()
    ras = RemoteArtifact.objects.filter(remote_id=pk(remote))
    everything = tree.entries + extra.entries
    assert {ra.sha256 for ra in ras} == {e.sha256 for e in everything}
    assert {ra.url for ra in ras} == {
        f"{near.url}mirror/{e.relative_path}" for e in tree.entries
    } | {f"{near.url}extra/{e.relative_path}" for e in extra.entries}
    got = admin.get(acs["pulp_href"]).json()
    assert got["last_refreshed"] is not None
    # The hidden repositories are the ACS's own, not the API's.
    assert Repository.objects.filter(user_hidden=True).count() == 2
    assert admin.get(REPOS).json()["count"] == 0
    assert admin.get(f"{API}repositories/").json()["count"] == 0
    offers = acs_offers(e.sha256 for e in everything)
    assert set(offers) == {e.sha256 for e in everything}
    assert all(len(v) == 1 and v[0].acs_name == acs["name"] for v in offers.values())
    # A second refresh changes nothing and downloads nothing.
    refresh(admin, acs["pulp_href"])
    assert not Artifact.objects.exists()
    # Dropping a path drops what it offered.
    run(admin.patch(acs["pulp_href"], {"paths": ["mirror/PULP_MANIFEST"]}, "application/json"))
    assert set(acs_offers(e.sha256 for e in everything)) == {e.sha256 for e in tree.entries}
    # Deleting the ACS deletes its hidden repositories and so its offers.
    run(admin.delete(acs["pulp_href"]))
    assert not Repository.objects.filter(user_hidden=True).exists()
    assert acs_offers(e.sha256 for e in tree.entries) == {}


def test_refresh_of_a_missing_path_fails_readably_and_changes_nothing(admin, near, tree):
    acs = make_acs(admin, make_remote(admin, near.url), paths=["nowhere/PULP_MANIFEST"])
    with pytest.raises(Exception) as failed:
        refresh(admin, acs["pulp_href"])
    assert "404" in str(failed.value) and "nowhere/PULP_MANIFEST" in str(failed.value)
    assert admin.get(acs["pulp_href"]).json()["last_refreshed"] is None
    assert acs_offers(e.sha256 for e in tree.entries) == {}
    hidden = Repository.objects.get(user_hidden=True)
    assert hidden.versions.count() == 1  # only the empty version 0: nothing half-written


def test_refresh_without_paths_reads_the_remotes_own_url(admin, near, tree):
    remote = make_remote(admin, f"{near.url}mirror/PULP_MANIFEST")
    acs = make_acs(admin, remote)
    assert acs["paths"] == []
    tasks = refresh(admin, acs["pulp_href"])
    assert len(tasks) == 1
    assert set(acs_offers(e.sha256 for e in tree.entries)) == {e.sha256 for e in tree.entries}


def test_offers_are_one_query_whatever_the_batch(admin, near, tree, django_assert_num_queries):
    remote = make_remote(admin, near.url)
    acs = make_acs(admin, remote, paths=["mirror/PULP_MANIFEST"])
    refresh(admin, acs["pulp_href"])
    many = [e.sha256 for e in tree.entries] + [
        hashlib.sha256(str(i).encode()).hexdigest() for i in range(500)
    ]
    with django_assert_num_queries(1):
        offers = acs_offers(many)
    assert len(offers) == len(tree.entries)


# --- syncs use the ACS ---------------------------------------------------------------------------
def test_sync_fetches_from_the_acs_not_the_slow_remote(admin, far, near, tree):
    acs = make_acs(admin, make_remote(admin, near.url), paths=["mirror/PULP_MANIFEST"])
    refresh(admin, acs["pulp_href"])
    own = make_remote(admin, f"{far.url}PULP_MANIFEST", policy="immediate")
    repo, task = sync_repo(admin, own)
    # Access logs: every file from the ACS origin, only the manifest from the far one.
    assert file_requests(near, tree) == {e.relative_path for e in tree.entries}
    assert file_requests(far, tree) == set()
    assert "/PULP_MANIFEST" in far.httpd.requests
    for e in tree.entries:
        art = Artifact.objects.get(sha256=e.sha256)
        assert (
            Path(settings.MEDIA_ROOT, art.file.name).read_bytes()
            == (tree.root / e.relative_path).read_bytes()
        )
    got = reports(task)
    assert got["sync.downloading.artifacts.acs"] == [
        (f"Downloaded from alternate content source {acs['name']}", len(tree.entries))
    ]
    assert "sync.downloading.artifacts.remote" not in got
    assert got["sync.downloading.artifacts"][0][1] == len(tree.entries)


def test_corrupt_acs_copy_falls_back_to_the_remote(admin, far, near, tree):
    acs = make_acs(admin, make_remote(admin, near.url), paths=["mirror/PULP_MANIFEST"])
    refresh(admin, acs["pulp_href"])
    bad = tree.entries[0]
    near.behaviour["corrupt"] = {f"mirror/{bad.relative_path}"}
    far.behaviour["delay"] = {}
    own = make_remote(admin, f"{far.url}PULP_MANIFEST", policy="immediate")
    temp_before = set(os.listdir(settings.WORKING_DIRECTORY))
    repo, task = sync_repo(admin, own)
    assert set(os.listdir(settings.WORKING_DIRECTORY)) <= temp_before  # bad copy removed
    assert file_requests(far, tree) == {bad.relative_path}
    art = Artifact.objects.get(sha256=bad.sha256)
    assert hashlib.sha256(Path(settings.MEDIA_ROOT, art.file.name).read_bytes()).hexdigest() == (
        bad.sha256
    )
    version = FileRepository.objects.get(pk=pk(repo["pulp_href"])).latest_version()
    assert version.number == 1 and version.content.count() == len(tree.entries)
    got = reports(task)
    assert got["sync.downloading.artifacts.acs"][0][1] == len(tree.entries) - 1
    assert got["sync.downloading.artifacts.remote"][0][1] == 1


def test_unreachable_acs_falls_back_and_the_sync_succeeds(admin, far, near, tree):
    acs = make_acs(admin, make_remote(admin, near.url), paths=["mirror/PULP_MANIFEST"])
    refresh(admin, acs["pulp_href"])
    near.behaviour["missing"] = {f"mirror/{e.relative_path}" for e in tree.entries}
    far.behaviour["delay"] = {}
    own = make_remote(admin, f"{far.url}PULP_MANIFEST", policy="immediate")
    repo, task = sync_repo(admin, own)
    assert file_requests(far, tree) == {e.relative_path for e in tree.entries}
    assert reports(task)["sync.downloading.artifacts.remote"][0][1] == len(tree.entries)


def test_without_any_acs_progress_reports_are_unchanged(admin, far, tree):
    far.behaviour["delay"] = {}
    own = make_remote(admin, f"{far.url}PULP_MANIFEST", policy="immediate")
    repo, task = sync_repo(admin, own)
    codes = set(reports(task))
    assert "sync.downloading.artifacts" in codes
    assert not {c for c in codes if c.startswith("sync.downloading.artifacts.")}


# --- the content app uses the ACS for on_demand content ------------------------------------------
@pytest.fixture
def app():
    a = AppThread().start()
    a.wait_cache_ready()
    yield a
    a.stop()


def test_content_app_fetches_on_demand_files_from_the_acs(admin, app, far, near, tree):
    acs = make_acs(admin, make_remote(admin, near.url), paths=["mirror/PULP_MANIFEST"])
    refresh(admin, acs["pulp_href"])
    near.behaviour["corrupt"] = {f"mirror/{tree.entries[1].relative_path}"}
    far.behaviour["delay"] = {}
    own = make_remote(admin, f"{far.url}PULP_MANIFEST", policy="on_demand")
    repo, _ = sync_repo(admin, own)
    distribute("acs-od", repository=FileRepository.objects.get(pk=pk(repo["pulp_href"])))
    good, corrupt = tree.entries[0], tree.entries[1]
    r = requests.get(app.url(f"/pulp/content/acs-od/{good.relative_path}"), timeout=30)
    assert r.status_code == 200 and hashlib.sha256(r.content).hexdigest() == good.sha256
    assert file_requests(near, tree) == {good.relative_path}
    assert file_requests(far, tree) == set()
    r = requests.get(app.url(f"/pulp/content/acs-od/{corrupt.relative_path}"), timeout=30)
    assert r.status_code == 200 and hashlib.sha256(r.content).hexdigest() == corrupt.sha256
    assert file_requests(far, tree) == {corrupt.relative_path}  # the bad ACS copy fell back
    assert app.state.ondemand.from_alternates == 1
    assert Artifact.objects.filter(sha256__in=[good.sha256, corrupt.sha256]).count() == 2


# --- RBAC ----------------------------------------------------------------------------------------
def login(user) -> Client:
    c = Client()
    c.force_login(user)
    return c


def test_roles_permitted_unpermitted_and_anonymous(admin, near, tree):
    User = get_user_model()
    alice = User.objects.create_user(f"alice-{uuid.uuid4().hex[:4]}", password=PASSWORD)
    bob = User.objects.create_user(f"bob-{uuid.uuid4().hex[:4]}", password=PASSWORD)
    carol = User.objects.create_user(f"carol-{uuid.uuid4().hex[:4]}", password=PASSWORD)
    for role in ("file.fileremote_creator", "file.filealternatecontentsource_creator"):
        assign_role(role, user=alice)
    a, b, c, anon = login(alice), login(bob), login(carol), Client()
    remote = make_remote(a, near.url)
    # carol may not create an ACS at all; anonymous is asked to log in.
    assert post(c, ACS, {"name": "c", "remote": remote}).status_code == 403
    assert post(anon, ACS, {"name": "c", "remote": remote}).status_code in (401, 403)
    acs = make_acs(a, remote, paths=["mirror/PULP_MANIFEST"])
    href = acs["pulp_href"]
    # alice owns what she created: read, refresh, roles.
    assert a.get(href).status_code == 200
    perms = a.get(f"{href}my_permissions/").json()["permissions"]
    assert "file.refresh_filealternatecontentsource" in perms
    roles = a.get(f"{href}list_roles/").json()["roles"]
    assert any(
        r["role"] == "file.filealternatecontentsource_owner" and alice.username in r["users"]
        for r in roles
    )
    assert len(refresh(a, href)) == 1
    # carol sees nothing of it and cannot refresh it.
    assert c.get(ACS).json()["count"] == 0
    assert c.get(href).status_code == 404
    assert post(c, f"{href}refresh/").status_code == 404
    assert anon.get(ACS).status_code in (401, 403)
    assert post(anon, f"{href}refresh/").status_code in (401, 403)
    # bob as viewer reads it but may neither refresh, change nor delete it.
    added = post(
        a,
        f"{href}add_role/",
        {"role": "file.filealternatecontentsource_viewer", "users": [bob.username]},
    )
    assert added.status_code == 201, added.content
    assert b.get(href).status_code == 200 and b.get(ACS).json()["count"] == 1
    before = Task.objects.count()
    assert post(b, f"{href}refresh/").status_code == 403
    assert b.patch(href, {"paths": []}, "application/json").status_code == 403
    assert b.delete(href).status_code == 403
    assert (
        post(
            b,
            f"{href}add_role/",
            {"role": "file.filealternatecontentsource_viewer", "users": [carol.username]},
        ).status_code
        == 403
    )
    assert Task.objects.count() == before
    removed = post(
        a,
        f"{href}remove_role/",
        {"role": "file.filealternatecontentsource_viewer", "users": [bob.username]},
    )
    assert removed.status_code == 201
    assert b.get(href).status_code == 404


def test_list_queries_do_not_grow_with_rows(admin):
    from tests.unit.test_query_counts import count_queries

    def make(n: int) -> None:
        for _ in range(n):
            make_acs(admin, make_remote(admin, "http://127.0.0.1:9/"), paths=["a/", "b/"])

    make(2)
    few = count_queries(admin, ACS)
    make(20)
    many = count_queries(admin, ACS)
    assert admin.get(ACS).json()["count"] == 22
    assert many == few and many <= 8, (few, many)
