"""pulp_file's REST endpoints and the core task bodies behind them, through Django's full stack.

Dispatched tasks are executed in-process by importing the recorded task name and calling it with
the recorded arguments, so every test also checks what the view dispatched. Workers and the real
CLI are exercised in ``tests/functional/file``.
"""

import hashlib
import os
import uuid
from pathlib import Path

import pytest
from django.conf import settings
from django.contrib.auth import get_user_model
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client
from django.utils.module_loading import import_string

from pulp_file.app.models import (
    FileContent,
    FileDistribution,
    FilePublication,
    FileRemote,
    FileRepository,
)
from pulpcore.app.models import (
    Artifact,
    ContentArtifact,
    PublishedMetadata,
    RemoteArtifact,
    RepositoryVersion,
    Task,
)
from pulpcore.tasking.context import reset_current_task, set_current_task

pytestmark = pytest.mark.django_db

API = "/pulp/api/v3/"
REPOS = f"{API}repositories/file/file/"
REMOTES = f"{API}remotes/file/file/"
FILES = f"{API}content/file/files/"
PUBS = f"{API}publications/file/file/"
DISTS = f"{API}distributions/file/file/"


@pytest.fixture
def client():
    admin = get_user_model().objects.create(username="admin", is_superuser=True)
    c = Client()
    c.force_login(admin)
    return c


def post(client, url, data=None, **kw):
    return client.post(url, data or {}, content_type="application/json", **kw)


def run(resp) -> Task:
    """Execute the task a 202 answer names, in this process; re-raise its failure."""
    assert resp.status_code == 202, resp.content
    task = Task.objects.get(pk=resp.json()["task"].rstrip("/").rsplit("/", 1)[-1])
    token = set_current_task(task)
    try:
        import_string(task.name)(*(task.args or []), **(task.kwargs or {}))
    finally:
        reset_current_task(token)
    return task


def created(task: Task) -> list[str]:
    from pulpcore.app.util import get_url

    return [get_url(r.content_object) for r in task.created_resources.all()]


def make_repo(client, **fields) -> dict:
    resp = post(client, REPOS, {"name": f"repo-{uuid.uuid4().hex[:8]}", **fields})
    assert resp.status_code == 201, resp.content
    return resp.json()


def upload(client, data: bytes, relative_path: str | None, repository: str | None = None):
    body = {"file": SimpleUploadedFile("f.bin", data)}
    if relative_path is not None:
        body["relative_path"] = relative_path
    if repository is not None:
        body["repository"] = repository
    return client.post(FILES, body)


def add_file(client, data: bytes, path: str, repository: str | None = None) -> str:
    task = run(upload(client, data, path, repository))
    return next(h for h in created(task) if h.startswith(FILES))


def versions(client, repo: dict) -> list[dict]:
    resp = client.get(repo["versions_href"])
    assert resp.status_code == 200, resp.content
    return resp.json()["results"]


def present_paths(version_href: str) -> set[str]:
    number = int(version_href.rstrip("/").rsplit("/", 1)[-1])
    repo_pk = version_href.split("/")[-4]
    version = RepositoryVersion.objects.get(repository_id=repo_pk, number=number)
    return set(
        FileContent.objects.filter(pk__in=version.content.values("pk")).values_list(
            "relative_path", flat=True
        )
    )


# --- repositories and versions -------------------------------------------------------------------
def test_repository_create_has_version_zero(client):
    repo = make_repo(client, description="d", retain_repo_versions=3, pulp_labels={"a": "b"})
    assert repo["latest_version_href"] == f"{repo['pulp_href']}versions/0/"
    assert repo["versions_href"] == f"{repo['pulp_href']}versions/"
    assert repo["manifest"] == "PULP_MANIFEST" and repo["autopublish"] is False
    assert repo["retain_repo_versions"] == 3 and repo["pulp_labels"] == {"a": "b"}
    [v0] = versions(client, repo)
    assert v0["number"] == 0 and v0["base_version"] is None
    assert v0["content_summary"] == {"added": {}, "removed": {}, "present": {}}
    dup = post(client, REPOS, {"name": repo["name"]})
    assert dup.status_code == 400 and "name" in dup.json()
    assert post(client, REPOS, {"name": "x", "retain_repo_versions": 0}).status_code == 400


def test_upload_adds_to_new_version_with_summary(client):
    repo = make_repo(client)
    data = os.urandom(3000)
    before = set(os.listdir(settings.WORKING_DIRECTORY))
    task = run(upload(client, data, "dir/a.bin", repo["pulp_href"]))
    # The upload was moved into storage, not copied: nothing is left in the working directory.
    assert set(os.listdir(settings.WORKING_DIRECTORY)) - before == set()
    stored = Artifact.objects.get(sha256=hashlib.sha256(data).hexdigest())
    assert (Path(settings.MEDIA_ROOT) / stored.file.name).read_bytes() == data
    assert stored.size == 3000 and stored.sha512 == hashlib.sha512(data).hexdigest()
    hrefs = created(task)
    content_href = next(h for h in hrefs if h.startswith(FILES))
    assert f"{repo['pulp_href']}versions/1/" in hrefs
    unit = client.get(content_href).json()
    assert unit["relative_path"] == "dir/a.bin"
    assert unit["sha256"] == hashlib.sha256(data).hexdigest()
    assert unit["artifact"].startswith(f"{API}artifacts/")
    v1 = client.get(f"{repo['pulp_href']}versions/1/").json()
    assert v1["base_version"] == f"{repo['pulp_href']}versions/0/"
    added = v1["content_summary"]["added"]["file.file"]
    assert added["count"] == 1
    listed = client.get(added["href"]).json()
    assert [u["pulp_href"] for u in listed["results"]] == [content_href]
    assert v1["content_summary"]["present"]["file.file"]["count"] == 1
    assert client.get(repo["pulp_href"]).json()["latest_version_href"] == v1["pulp_href"]


def test_upload_without_relative_path_is_400_and_stores_nothing(client):
    before = Artifact.objects.count()
    resp = upload(client, b"some bytes", None)
    assert resp.status_code == 400 and "relative_path" in resp.json()
    assert Artifact.objects.count() == before
    assert not Task.objects.exists()
    both = client.post(
        FILES,
        {"file": SimpleUploadedFile("f", b"x"), "relative_path": "x", "artifact": "/nope/"},
    )
    assert both.status_code == 400
    neither = client.post(FILES, {"relative_path": "x"})
    assert neither.status_code == 400 and "artifact" in str(neither.json())
    bad_path = upload(client, b"x", "../escape")
    assert bad_path.status_code == 400 and "relative_path" in bad_path.json()
    assert Artifact.objects.count() == before


def test_upload_from_artifact_and_same_unit_twice_makes_no_new_version(client):
    repo = make_repo(client)
    href = add_file(client, b"hello", "h.txt", repo["pulp_href"])
    artifact = client.get(href).json()["artifact"]
    again = run(
        client.post(
            FILES, {"artifact": artifact, "relative_path": "h.txt", "repository": repo["pulp_href"]}
        )
    )
    assert href in created(again)
    assert [v["number"] for v in versions(client, repo)] == [1, 0]
    assert FileContent.objects.count() == 1


def test_same_path_new_file_replaces_old_one(client):
    repo = make_repo(client)
    add_file(client, b"one", "same.txt", repo["pulp_href"])
    second = add_file(client, b"two", "same.txt", repo["pulp_href"])
    v2 = f"{repo['pulp_href']}versions/2/"
    units = client.get(f"{FILES}?repository_version={v2}").json()["results"]
    assert [u["pulp_href"] for u in units] == [second]
    summary = client.get(v2).json()["content_summary"]
    assert summary["added"]["file.file"]["count"] == 1
    assert summary["removed"]["file.file"]["count"] == 1


def test_modify_add_remove_base_version_and_noop(client):
    repo = make_repo(client)
    a = add_file(client, b"a", "a")
    b = add_file(client, b"b", "b")
    run(post(client, f"{repo['pulp_href']}modify/", {"add_content_units": [a, b]}))
    v1 = f"{repo['pulp_href']}versions/1/"
    assert present_paths(v1) == {"a", "b"}
    run(post(client, f"{repo['pulp_href']}modify/", {"remove_content_units": [a]}))
    assert present_paths(f"{repo['pulp_href']}versions/2/") == {"b"}
    # Nothing changes: no version 3, and the number is not burnt.
    noop = run(post(client, f"{repo['pulp_href']}modify/", {"add_content_units": [b]}))
    assert created(noop) == []
    assert [v["number"] for v in versions(client, repo)] == [2, 1, 0]
    # From version 1 again (a and b) plus nothing: differs from latest, so version 3.
    run(post(client, f"{repo['pulp_href']}modify/", {"base_version": v1}))
    assert present_paths(f"{repo['pulp_href']}versions/3/") == {"a", "b"}
    run(post(client, f"{repo['pulp_href']}modify/", {"remove_content_units": ["*"]}))
    assert present_paths(f"{repo['pulp_href']}versions/4/") == set()


def test_modify_from_base_version_zero_with_a_unit_already_in_latest(client):
    """What ``pulp file repository content add --base-version 0`` sends when the unit is in the
    latest version: the task succeeds (it failed with a bare 'EmptyResultSet') and makes no
    version, since base 0 plus the unit is exactly the latest version."""
    repo = make_repo(client)
    a = add_file(client, b"a", "a", repo["pulp_href"])
    v0 = f"{repo['pulp_href']}versions/0/"
    url = f"{repo['pulp_href']}modify/"
    same = run(post(client, url, {"add_content_units": [a], "base_version": v0}))
    assert created(same) == []
    assert [v["number"] for v in versions(client, repo)] == [1, 0]
    b = add_file(client, b"b", "b")
    run(post(client, url, {"add_content_units": [b], "base_version": v0}))
    v2 = f"{repo['pulp_href']}versions/2/"
    assert present_paths(v2) == {"b"}
    summary = client.get(v2).json()["content_summary"]
    assert summary["added"]["file.file"]["count"] == 1
    assert summary["removed"]["file.file"]["count"] == 1


def test_modify_bad_hrefs_are_400_and_make_no_task(client):
    repo = make_repo(client)
    other = make_repo(client)
    url = f"{repo['pulp_href']}modify/"
    cases = [
        ({"add_content_units": [other["pulp_href"]]}, "add_content_units"),
        ({"add_content_units": ["/pulp/api/v3/content/file/files/not-a-uuid/"]}, None),
        ({"add_content_units": [f"{FILES}{uuid.uuid4()}/"]}, "add_content_units"),
        ({"remove_content_units": ["garbage"]}, "remove_content_units"),
        ({"add_content_units": "not-a-list"}, "add_content_units"),
        ({"base_version": f"{other['pulp_href']}versions/0/"}, "base_version"),
        ({"remove_content_units": ["*", "x"]}, "remove_content_units"),
    ]
    for body, field in cases:
        resp = post(client, url, body)
        assert resp.status_code == 400, (body, resp.content)
        if field:
            assert field in resp.json(), resp.json()
    assert not Task.objects.exists()
    assert [v["number"] for v in versions(client, repo)] == [0]


def test_failed_modify_leaves_no_version(client):
    repo = make_repo(client)
    a = add_file(client, b"a", "a")
    resp = post(client, f"{repo['pulp_href']}modify/", {"add_content_units": [a]})
    ContentArtifact.objects.all().delete()
    FileContent.objects.all().delete()
    with pytest.raises(ValueError, match="no longer exists"):
        run(resp)
    assert [v["number"] for v in versions(client, repo)] == [0]
    assert FileRepository.objects.get(pk=repo["pulp_href"].split("/")[-2]).next_version == 1


def test_version_delete_rules(client):
    repo = make_repo(client)
    [v0] = versions(client, repo)
    only = client.delete(v0["pulp_href"])
    assert only.status_code == 400 and "at least one" in only.json()["detail"]
    a = add_file(client, b"a", "a", repo["pulp_href"])
    add_file(client, b"b", "b", repo["pulp_href"])
    # Deleting version 1 folds "added a" into version 2, which still holds a and b.
    run(client.delete(f"{repo['pulp_href']}versions/1/"))
    assert [v["number"] for v in versions(client, repo)] == [2, 0]
    assert present_paths(f"{repo['pulp_href']}versions/2/") == {"a", "b"}
    summary = client.get(f"{repo['pulp_href']}versions/2/").json()["content_summary"]
    assert summary["added"]["file.file"]["count"] == 2
    # Deleting the latest makes version 0 the latest again.
    run(client.delete(f"{repo['pulp_href']}versions/2/"))
    assert client.get(repo["pulp_href"]).json()["latest_version_href"].endswith("/versions/0/")
    assert (
        client.get(f"{FILES}?repository_version={repo['pulp_href']}versions/0/").json()["count"]
        == 0
    )
    assert client.get(a).status_code == 200  # content outlives versions
    assert client.get(f"{repo['pulp_href']}versions/7/").status_code == 404
    assert client.get(f"{repo['pulp_href']}versions/abc/").status_code == 404


def test_retain_repo_versions_keeps_the_newest(client):
    repo = make_repo(client, retain_repo_versions=2)
    for i in range(4):
        add_file(client, f"f{i}".encode(), f"f{i}", repo["pulp_href"])
    assert [v["number"] for v in versions(client, repo)] == [4, 3]
    assert present_paths(f"{repo['pulp_href']}versions/4/") == {"f0", "f1", "f2", "f3"}
    # Lowering the limit applies at once; the latest version is always kept.
    run(
        client.patch(
            repo["pulp_href"], {"retain_repo_versions": 1}, content_type="application/json"
        )
    )
    assert [v["number"] for v in versions(client, repo)] == [4]
    assert present_paths(f"{repo['pulp_href']}versions/4/") == {"f0", "f1", "f2", "f3"}


def test_autopublish_writes_manifest(client):
    repo = make_repo(client, autopublish=True, manifest="MANIFEST.csv")
    data = os.urandom(100)
    add_file(client, data, "x/y.bin", repo["pulp_href"])
    pubs = client.get(f"{PUBS}?repository={repo['pulp_href']}").json()["results"]
    assert len(pubs) == 1
    assert pubs[0]["repository_version"] == f"{repo['pulp_href']}versions/1/"
    assert pubs[0]["manifest"] == "MANIFEST.csv"
    pub = FilePublication.objects.get(pk=pubs[0]["pulp_href"].split("/")[-2])
    meta = PublishedMetadata.objects.get(publication=pub)
    assert meta.relative_path == "MANIFEST.csv"
    text = (Path(settings.MEDIA_ROOT) / meta.artifact.file.name).read_text()
    assert text == f"x/y.bin,{hashlib.sha256(data).hexdigest()},100\n"
    # Pass-through, as Pulp's file plugin publishes: the version's files are served as they are.
    assert pub.pass_through and not pub.published_artifact.exists()


def test_publication_create_validation_and_delete(client):
    repo = make_repo(client)
    add_file(client, b"p", "p", repo["pulp_href"])
    v1 = f"{repo['pulp_href']}versions/1/"
    assert post(client, PUBS, {}).status_code == 400
    assert (
        post(client, PUBS, {"repository": repo["pulp_href"], "repository_version": v1}).status_code
        == 400
    )
    assert post(client, PUBS, {"repository": "/pulp/api/v3/nothing/"}).status_code == 400
    t1 = run(post(client, PUBS, {"repository": repo["pulp_href"]}))
    t2 = run(post(client, PUBS, {"repository_version": f"{repo['pulp_href']}versions/0/"}))
    [p1] = [h for h in created(t1) if h.startswith(PUBS)]
    [p2] = [h for h in created(t2) if h.startswith(PUBS)]
    assert client.get(p1).json()["repository_version"] == v1
    assert client.get(p1).json()["repository"] == repo["pulp_href"]
    listed = client.get(f"{PUBS}?repository_version={v1}").json()["results"]
    assert [p["pulp_href"] for p in listed] == [p1]
    assert client.get(f"{API}publications/?pulp_type=file.file").json()["count"] == 2
    assert client.delete(p2).status_code == 204
    assert client.get(p2).status_code == 404


def test_distribution_create_overlap_and_exclusive_sources(client):
    repo = make_repo(client)
    run(post(client, PUBS, {"repository": repo["pulp_href"]}))
    pub = client.get(PUBS).json()["results"][0]["pulp_href"]
    task = run(post(client, DISTS, {"name": "d1", "base_path": "a/b", "publication": pub}))
    [dist] = created(task)
    body = client.get(dist).json()
    assert body["base_url"].endswith("/pulp/content/a/b/")
    assert body["publication"] == pub and body["repository"] is None
    for base_path in ("a/b", "a", "a/b/c", "/x", "a//b", "a/../b"):
        resp = post(client, DISTS, {"name": f"n-{base_path}", "base_path": base_path})
        assert resp.status_code == 400 and "base_path" in resp.json(), (base_path, resp.content)
    assert post(client, DISTS, {"name": "ok", "base_path": "a/bc"}).status_code == 202
    both = post(
        client,
        DISTS,
        {"name": "d2", "base_path": "z", "publication": pub, "repository": repo["pulp_href"]},
    )
    assert both.status_code == 400
    # Switch to the repository (as pulp-cli does: the other one set to null).
    run(
        client.patch(
            dist,
            {"repository": repo["pulp_href"], "publication": None},
            content_type="application/json",
        )
    )
    body = client.get(dist).json()
    assert body["repository"] == repo["pulp_href"] and body["publication"] is None
    by_repo = client.get(f"{DISTS}?repository={repo['pulp_href']}")
    assert by_repo.status_code == 200 and by_repo.json()["count"] == 1, by_repo.content
    # Labels answer 200 on distributions.
    resp = post(client, f"{dist}set_label/", {"key": "env", "value": "prod"})
    assert resp.status_code == 200 and resp.json() == {"key": "env", "value": "prod"}
    assert client.get(f"{API}distributions/?pulp_label_select=env=prod").json()["count"] == 1
    assert client.get(f"{API}distributions/?pulp_label_select=env!=prod").json()["count"] == 0
    resp = post(client, f"{dist}unset_label/", {"key": "env"})
    assert resp.status_code == 200 and resp.json()["value"] == "prod"
    assert post(client, f"{dist}unset_label/", {"key": "env"}).status_code == 400
    run(client.delete(dist))
    assert not FileDistribution.objects.filter(name="d1").exists()


def test_remote_secrets_are_write_only(client):
    body = {
        "name": "r1",
        "url": "http://example.invalid/PULP_MANIFEST",
        "username": "u",
        "password": "p",
        "proxy_url": "http://proxy.invalid:3128",
        "proxy_username": "pu",
        "proxy_password": "pp",
        "client_key": "KEY",
        "policy": "on_demand",
        "headers": [{"X-A": "1"}],
        "download_concurrency": 3,
        "total_timeout": 12.5,
        "rate_limit": 5,
        "tls_validation": False,
    }
    resp = post(client, REMOTES, body)
    assert resp.status_code == 201, resp.content
    remote = resp.json()
    for secret in ("username", "password", "proxy_username", "proxy_password", "client_key"):
        assert secret not in remote
    hidden = {h["name"]: h["is_set"] for h in remote["hidden_fields"]}
    assert hidden == dict.fromkeys(
        ["client_key", "username", "password", "proxy_username", "proxy_password"], True
    )
    assert remote["headers"] == [{"X-A": "1"}] and remote["policy"] == "on_demand"
    assert remote["download_concurrency"] == 3 and remote["total_timeout"] == 12.5
    stored = FileRemote.objects.get(name="r1")
    assert stored.password == "p" and stored.client_key == "KEY"
    run(
        client.patch(
            remote["pulp_href"],
            {"username": None, "password": None, "policy": "streamed"},
            content_type="application/json",
        )
    )
    again = client.get(remote["pulp_href"]).json()
    assert again["policy"] == "streamed"
    hidden = {h["name"]: h["is_set"] for h in again["hidden_fields"]}
    assert hidden["username"] is False and hidden["proxy_password"] is True
    bad = [
        {"name": "b1", "url": "x", "policy": "sometimes"},
        {"name": "b2", "url": "http://h/", "proxy_username": "only"},
        {"name": "b3", "url": "http://h/", "download_concurrency": 0},
        {"name": "b4", "url": "http://h/", "headers": [{"a": "1", "b": "2"}]},
        {"name": "r1", "url": "http://h/"},
    ]
    for data in bad:
        assert post(client, REMOTES, data).status_code == 400, data
    assert client.get(f"{API}remotes/?pulp_type=file.file").json()["count"] == 1


def test_sync_validates_and_dispatches_with_resources(client):
    repo = make_repo(client)
    resp = post(client, f"{repo['pulp_href']}sync/", {})
    assert resp.status_code == 400 and "remote" in resp.json()
    remote = post(client, REMOTES, {"name": "s", "url": "http://h/PULP_MANIFEST"}).json()
    resp = post(
        client, f"{repo['pulp_href']}sync/", {"remote": remote["pulp_href"], "mirror": True}
    )
    assert resp.status_code == 202
    task = Task.objects.get()
    assert task.name == "pulp_file.app.tasks.synchronizing.synchronize"
    assert task.kwargs == {
        "remote_pk": remote["pulp_href"].split("/")[-2],
        "repository_pk": repo["pulp_href"].split("/")[-2],
        "mirror": True,
    }
    assert task.reserved_resources_record == [
        repo["pulp_href"],
        f"shared:{remote['pulp_href']}",
    ]
    wrong = post(client, f"{repo['pulp_href']}sync/", {"remote": repo["pulp_href"]})
    assert wrong.status_code == 400


def test_generic_lists_and_filters(client):
    repo = make_repo(client)
    other = make_repo(client)
    a = add_file(client, b"a", "a", repo["pulp_href"])
    add_file(client, b"b", "b", repo["pulp_href"])
    run(post(client, f"{repo['pulp_href']}modify/", {"remove_content_units": [a]}))
    content = client.get(f"{API}content/?pulp_type=file.file").json()
    assert content["count"] == 2 and "artifacts" in content["results"][0]
    v3 = f"{repo['pulp_href']}versions/3/"
    assert client.get(f"{API}content/?repository_version_removed={v3}").json()["count"] == 1
    assert client.get(f"{FILES}?relative_path=b").json()["count"] == 1
    sha = hashlib.sha256(b"a").hexdigest()
    assert [u["pulp_href"] for u in client.get(f"{FILES}?sha256={sha}").json()["results"]] == [a]
    names = lambda url: sorted(r["name"] for r in client.get(url).json()["results"])  # noqa: E731
    assert names(f"{API}repositories/?with_content={a}") == [repo["name"]]
    assert names(f"{API}repositories/?latest_with_content={a}") == []
    assert names(f"{REPOS}?name__startswith=repo-") == sorted([repo["name"], other["name"]])
    vers = client.get(f"{API}repository_versions/?content={a}").json()["results"]
    assert sorted(v["pulp_href"] for v in vers) == [
        f"{repo['pulp_href']}versions/1/",
        f"{repo['pulp_href']}versions/2/",
    ]
    numbers = client.get(f"{repo['versions_href']}?number__range=1,2&ordering=number").json()
    assert [v["number"] for v in numbers["results"]] == [1, 2]
    for bad in (
        f"{FILES}?repository_version=nonsense",
        f"{API}content/?pulp_type=nope.nope",
        f"{API}repositories/?with_content=/pulp/api/v3/nothing/",
        f"{FILES}?unknown_filter=1",
    ):
        assert client.get(bad).status_code == 400, bad
    assert client.get(f"{API}contentguards/").status_code == 200
    assert client.get(f"{API}distributions/").json()["count"] == 0


def test_repository_update_and_delete_are_tasks(client):
    repo = make_repo(client)
    run(client.patch(repo["pulp_href"], {"description": "new"}, content_type="application/json"))
    assert client.get(repo["pulp_href"]).json()["description"] == "new"
    resp = post(client, f"{repo['pulp_href']}set_label/", {"key": "k", "value": "v"})
    assert resp.status_code == 201
    assert client.get(f"{REPOS}?pulp_label_select=k").json()["count"] == 1
    bad_label = post(client, f"{repo['pulp_href']}set_label/", {"key": "bad key", "value": "v"})
    assert bad_label.status_code == 400
    run(client.delete(repo["pulp_href"]))
    assert client.get(repo["pulp_href"]).status_code == 404


# --- repair --------------------------------------------------------------------------------------
def test_repair_redownloads_corrupted_and_reports_unrepairable(client, tmp_path):
    from tests.fixtures import FixtureServer

    origin = tmp_path / "origin"
    origin.mkdir()
    good = os.urandom(5000)
    (origin / "f.bin").write_bytes(good)
    repo = make_repo(client)
    href = add_file(client, good, "f.bin", repo["pulp_href"])
    lonely = add_file(client, b"no remote knows me", "lonely.txt", repo["pulp_href"])
    unit = FileContent.objects.get(pk=href.split("/")[-2])
    ca = ContentArtifact.objects.get(content=unit)
    with FixtureServer(origin) as server:
        remote = FileRemote.objects.create(name="rr", url=server.url + "PULP_MANIFEST")
        RemoteArtifact.objects.create(
            url=server.url + "f.bin",
            sha256=ca.artifact.sha256,
            size=len(good),
            content_artifact=ca,
            remote=remote,
        )
        stored = Path(settings.MEDIA_ROOT) / ca.artifact.file.name
        stored.write_bytes(b"x" * len(good))  # same size, wrong bytes
        version = f"{repo['pulp_href']}versions/2/"
        run(post(client, f"{version}repair/", {"verify_checksums": True}))
        assert stored.read_bytes() == good
        # Now lose a file nobody can give back: the task completes and its progress says so.
        lonely_ca = ContentArtifact.objects.get(content_id=lonely.split("/")[-2])
        (Path(settings.MEDIA_ROOT) / lonely_ca.artifact.file.name).unlink()
        task = run(post(client, f"{version}repair/", {}))
        reports = {pr.code: pr.done for pr in task.progress_reports.all()}
        assert reports["repair.missing"] == 1
        assert reports["repair.repaired"] == 0
        assert reports["repair.unrepaired"] == 1
        assert stored.read_bytes() == good
    assert post(client, f"{version}repair/", {"verify_checksums": "maybe"}).status_code == 400


# --- plugin API boundary and sync integration ----------------------------------------------------
def test_pulp_file_imports_only_the_plugin_api():
    import ast

    root = Path(__file__).resolve().parents[2] / "pulp_file"
    offenders = []
    for path in root.rglob("*.py"):
        if "migrations" in path.parts:
            continue
        for node in ast.walk(ast.parse(path.read_text())):
            names = []
            if isinstance(node, ast.ImportFrom) and node.module:
                names = [node.module]
            elif isinstance(node, ast.Import):
                names = [a.name for a in node.names]
            for mod in names:
                if mod.startswith("pulpcore") and not mod.startswith("pulpcore.plugin"):
                    offenders.append(f"{path.relative_to(root)}: {mod}")
    assert offenders == []


def test_sync_into_autopublish_repository_publishes_once_per_new_version(client, tmp_path):
    from pulp_file.app.tasks.synchronizing import synchronize
    from tests.fixtures import FixtureServer, make_file_fixture

    tree = make_file_fixture(tmp_path / "origin", count=3, size=512)
    repo = make_repo(client, autopublish=True)
    repo_pk = repo["pulp_href"].split("/")[-2]
    with FixtureServer(tree.root) as server:
        remote = FileRemote.objects.create(name="auto", url=server.url + "PULP_MANIFEST")
        synchronize(str(remote.pk), repo_pk, mirror=False)
        synchronize(str(remote.pk), repo_pk, mirror=False)  # nothing new: no version, no pub
    assert [v["number"] for v in versions(client, repo)] == [1, 0]
    pubs = client.get(f"{PUBS}?repository={repo['pulp_href']}").json()["results"]
    assert [p["repository_version"] for p in pubs] == [f"{repo['pulp_href']}versions/1/"]
    pub = FilePublication.objects.get(pk=pubs[0]["pulp_href"].split("/")[-2])
    meta = PublishedMetadata.objects.get(publication=pub)
    lines = (Path(settings.MEDIA_ROOT) / meta.artifact.file.name).read_text().splitlines()
    assert lines == sorted(f"{e.relative_path},{e.sha256},{e.size}" for e in tree.entries)
    # The generic lists find the synced content through the publication and the repository.
    unit = client.get(f"{FILES}?relative_path={tree.entries[0].relative_path}").json()
    href = unit["results"][0]["pulp_href"]
    assert client.get(f"{API}publications/?content={href}").json()["count"] == 1
    run(post(client, DISTS, {"name": "auto", "base_path": "auto", "repository": repo["pulp_href"]}))
    assert client.get(f"{API}distributions/?with_content={href}").json()["count"] == 1


@pytest.mark.parametrize(
    "url,body",
    [
        (REPOS, {"name": "x", "remote": "/pulp/api/v3/remotes/file/file/not-a-uuid/"}),
        (REPOS, {"name": "x", "remote": f"{REPOS}{uuid.uuid4()}/"}),
        (REPOS, {"name": ""}),
        (REPOS, {"name": "x", "manifest": "a/b"}),
        (REMOTES, {"name": "x", "url": "ftp://h/"}),
        (REMOTES, {"name": "x", "url": "http://h/", "proxy_url": "http://u:p@h:1/"}),
        (REMOTES, {"name": "x", "url": "http://h/", "total_timeout": -1}),
        (PUBS, {"repository_version": "/pulp/api/v3/repositories/file/file/x/versions/1/"}),
        (PUBS, {"repository": REPOS}),
        (DISTS, {"name": "x", "base_path": "ok", "content_guard": "nonsense"}),
        (DISTS, {"name": "x", "base_path": "ok", "publication": "/pulp/api/v3/artifacts/"}),
        (DISTS, {"name": "x"}),
        (DISTS, {"name": "x", "base_path": ""}),
    ],
)
def test_bad_bodies_are_400_and_change_nothing(client, url, body):
    before = {m: m.objects.count() for m in (FileRepository, FileRemote, FileDistribution)}
    resp = post(client, url, body)
    assert resp.status_code == 400, resp.content
    assert isinstance(resp.json(), dict) and resp.json()
    assert not Task.objects.exists()
    assert {m: m.objects.count() for m in before} == before


def test_content_into_wrong_repository_type_or_two_files_at_one_path(client):
    remote = post(client, REMOTES, {"name": "w", "url": "http://h/"}).json()
    resp = upload(client, b"x", "x", remote["pulp_href"])
    assert resp.status_code == 400 and "repository" in resp.json()
    repo = make_repo(client)
    a = add_file(client, b"first", "same")
    b = add_file(client, b"second", "same")
    resp = post(client, f"{repo['pulp_href']}modify/", {"add_content_units": [a, b]})
    with pytest.raises(ValueError, match="same relative path: same"):
        run(resp)
    assert [v["number"] for v in versions(client, repo)] == [0]


def test_q_filter_and_ordering(client):
    for n in ("alpha", "beta", "gamma"):
        make_repo(client, description=n)
    names = [
        r["description"] for r in client.get(f"{REPOS}?ordering=description").json()["results"]
    ]
    assert names == ["alpha", "beta", "gamma"]
    q = 'name__contains="repo" AND NOT pulp_label_select="x"'
    assert client.get(f"{REPOS}?q={q}").json()["count"] == 3
    assert client.get(f"{REPOS}?ordering=nope").status_code == 400
    assert client.get(f"{REPOS}?name__regex=^repo-").json()["count"] == 3
    bad = client.get(f"{API}remotes/?name__iregex=[unclosed")
    assert bad.status_code == 400 and "name__iregex" in bad.json()


def test_content_create_task_fails_readably_when_repository_vanished(client):
    repo = make_repo(client)
    resp = upload(client, b"late", "late.txt", repo["pulp_href"])
    FileRepository.objects.filter(pk=repo["pulp_href"].split("/")[-2]).delete()
    with pytest.raises(ValueError, match=r"can no longer be created: repository: URI .* not found"):
        run(resp)
    assert not FileContent.objects.filter(relative_path="late.txt").exists()


def test_version_left_incomplete_by_a_dead_task_is_undone(client):
    repo = make_repo(client)
    keep = add_file(client, b"keep", "keep")
    ghost = add_file(client, b"ghost", "ghost")
    run(post(client, f"{repo['pulp_href']}modify/", {"add_content_units": [keep]}))
    db_repo = FileRepository.objects.get(pk=repo["pulp_href"].split("/")[-2])
    dead = db_repo.new_version()  # a worker died here, after adding and removing units
    dead.add_content(FileContent.objects.filter(pk=ghost.split("/")[-2]))
    dead.remove_content(FileContent.objects.filter(pk=keep.split("/")[-2]))
    extra = add_file(client, b"extra", "extra")
    run(post(client, f"{repo['pulp_href']}modify/", {"add_content_units": [extra]}))
    latest = client.get(repo["pulp_href"]).json()["latest_version_href"]
    assert present_paths(latest) == {"keep", "extra"}
    assert not RepositoryVersion.objects.filter(pk=dead.pk).exists()
