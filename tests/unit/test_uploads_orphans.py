"""uploads/ (chunks with Content-Range, commit checks sha256) and orphans/cleanup/."""

import hashlib
import os
from datetime import timedelta

import pytest
from django.contrib.auth import get_user_model
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client
from django.utils import timezone

from pulpcore.app.models import Artifact, Task, Upload, Worker
from pulpcore.app.storage import open_stored, stored_exists
from pulpcore.tasking import runner, scheduler

pytestmark = pytest.mark.django_db
API = "/pulp/api/v3/"


@pytest.fixture
def client():
    admin = get_user_model().objects.create(username="admin", is_superuser=True)
    c = Client()
    c.force_login(admin)
    return c


def run_task_of(resp) -> Task:
    assert resp.status_code == 202, resp.content
    task_id = resp.json()["task"].rstrip("/").split("/")[-1]
    worker, _ = Worker.objects.get_or_create(name="unit")
    task = scheduler.claim(task_id, worker)
    runner.execute_task(task)
    task.refresh_from_db()
    return task


def put_chunk(client, href, data: bytes, start: int, total: int, sha=None, header=None):
    body = {"file": SimpleUploadedFile("chunk", data)}
    if sha is not False:
        body["sha256"] = sha or hashlib.sha256(data).hexdigest()
    rng = header or f"bytes {start}-{start + len(data) - 1}/{total}"
    return client.put(
        href, data=_multipart(body), content_type=MULTIPART, headers={"Content-Range": rng}
    )


MULTIPART = "multipart/form-data; boundary=BoUnDaRy"


def _multipart(fields: dict) -> bytes:
    from django.test.client import encode_multipart

    return encode_multipart("BoUnDaRy", fields)


def test_chunked_upload_commit_creates_artifact(client, storage_backend):
    data = os.urandom(2500)
    resp = client.post(f"{API}uploads/", {"size": len(data)}, content_type="application/json")
    assert resp.status_code == 201, resp.content
    href = resp.json()["pulp_href"]
    # out of order chunks are fine
    assert put_chunk(client, href, data[1000:], 1000, len(data)).status_code == 200
    assert put_chunk(client, href, data[:1000], 0, len(data)).status_code == 200
    detail = client.get(href).json()
    assert sorted((c["offset"], c["size"]) for c in detail["chunks"]) == [(0, 1000), (1000, 1500)]
    sha = hashlib.sha256(data).hexdigest()
    task = run_task_of(client.post(f"{href}commit/", {"sha256": sha}, "application/json"))
    assert task.state == "completed", task.error
    artifact = Artifact.objects.get(sha256=sha)
    assert [c.content_object for c in task.created_resources.all()] == [artifact]
    with open_stored(artifact.file.name) as fp:
        assert fp.read() == data
    if storage_backend is not None:  # chunks and artifact went to the bucket, chunks are gone
        assert storage_backend.keys("artifact/") >= {artifact.file.name}
        assert not storage_backend.keys("upload/")
    assert not Upload.objects.exists()


def test_commit_with_wrong_sha256_fails_and_stores_nothing(client):
    data = os.urandom(100)
    href = client.post(f"{API}uploads/", {"size": 100}, "application/json").json()["pulp_href"]
    put_chunk(client, href, data, 0, 100)
    task = run_task_of(client.post(f"{href}commit/", {"sha256": "0" * 64}, "application/json"))
    assert task.state == "failed"
    assert "does not match" in task.error["description"]
    assert not Artifact.objects.exists()
    assert Upload.objects.exists()


def test_commit_of_incomplete_upload_fails_clearly(client):
    href = client.post(f"{API}uploads/", {"size": 100}, "application/json").json()["pulp_href"]
    put_chunk(client, href, b"x" * 50, 0, 100)
    task = run_task_of(client.post(f"{href}commit/", {"sha256": "a" * 64}, "application/json"))
    assert task.state == "failed" and "50 of 100 bytes" in task.error["description"]


@pytest.mark.parametrize(
    "header,data,sha,fragment",
    [
        (None, b"abc", False, "Content-Range"),
        ("bytes=0-2/10", b"abc", False, "Malformed"),
        ("bytes 0-2/11", b"abc", False, "differs"),
        ("bytes 8-10/10", b"abc", False, "past"),
        ("bytes 0-3/10", b"abc", False, "announces"),
        ("bytes 0-2/10", b"abc", "f" * 64, "sha256"),
    ],
)
def test_bad_chunks_are_400(client, header, data, sha, fragment):
    href = client.post(f"{API}uploads/", {"size": 10}, "application/json").json()["pulp_href"]
    body = {"file": SimpleUploadedFile("c", data)}
    if sha:
        body["sha256"] = sha
    headers = {"Content-Range": header} if header else {}
    resp = client.put(href, data=_multipart(body), content_type=MULTIPART, headers=headers)
    assert resp.status_code == 400, resp.content
    assert fragment in resp.content.decode()
    assert client.get(href).json()["chunks"] == []


def test_upload_bad_input_and_delete(client):
    assert client.post(f"{API}uploads/", {"size": 0}, "application/json").status_code == 400
    assert client.post(f"{API}uploads/", {}, "application/json").status_code == 400
    href = client.post(f"{API}uploads/", {"size": 5}, "application/json").json()["pulp_href"]
    resp = client.post(f"{href}commit/", {"sha256": "nothex"}, "application/json")
    assert resp.status_code == 400 and "sha256" in resp.json()
    assert client.get(f"{API}uploads/?size__gt=4").json()["count"] == 1
    assert client.get(f"{API}uploads/?size__lt=4").json()["count"] == 0
    assert client.delete(href).status_code == 204
    assert client.get(href).status_code == 404


def _artifact(data: bytes, age_minutes: int = 0) -> Artifact:
    from pulpcore.app.models.content import new_temp_path

    path = new_temp_path()
    with open(path, "wb") as fp:
        fp.write(data)
    art = Artifact.init_and_validate(path)
    art.save_with_file(path)
    if age_minutes:
        Artifact.objects.filter(pk=art.pk).update(
            timestamp_of_interest=timezone.now() - timedelta(minutes=age_minutes)
        )
    return art


def test_orphan_cleanup_removes_old_unused_artifacts_and_files(client, storage_backend):
    old = _artifact(os.urandom(10), age_minutes=120)
    fresh = _artifact(os.urandom(10))
    assert stored_exists(old.file.name)
    if storage_backend is not None:
        assert old.file.name in storage_backend.keys("artifact/")
    task = run_task_of(
        client.post(f"{API}orphans/cleanup/", {"orphan_protection_time": 60}, "application/json")
    )
    assert task.state == "completed", task.error
    assert not Artifact.objects.filter(pk=old.pk).exists()
    assert not stored_exists(old.file.name) and stored_exists(fresh.file.name)
    if storage_backend is not None:
        assert old.file.name not in storage_backend.keys("artifact/")
    assert Artifact.objects.filter(pk=fresh.pk).exists()
    codes = sorted(p.code for p in task.progress_reports.all())
    assert codes == ["clean-up.artifacts", "clean-up.content"]
    task = run_task_of(
        client.post(f"{API}orphans/cleanup/", {"orphan_protection_time": 0}, "application/json")
    )
    assert not Artifact.objects.exists()


def test_orphan_cleanup_bad_input(client):
    resp = client.post(f"{API}orphans/cleanup/", {"content_hrefs": ["/nope/"]}, "application/json")
    assert resp.status_code == 400 and "content_hrefs" in resp.json()
    resp = client.post(f"{API}orphans/cleanup/", {"orphan_protection_time": -1}, "application/json")
    assert resp.status_code == 400 and "orphan_protection_time" in resp.json()
    assert not Task.objects.exists()


def test_orphan_cleanup_removes_unused_content_but_keeps_repository_content(client):
    from pulp_file.app.models import FileContent, FileRepository
    from pulpcore.app.models import Content, ContentArtifact, RepositoryContent, RepositoryVersion

    def unit(name: str) -> FileContent:
        art = _artifact(os.urandom(16), age_minutes=120)
        content = FileContent.objects.create(relative_path=name, digest=art.sha256)
        ContentArtifact.objects.create(content=content, artifact=art, relative_path=name)
        Content.objects.filter(pk=content.pk).update(
            timestamp_of_interest=timezone.now() - timedelta(minutes=120)
        )
        return content

    kept, orphan, spared = unit("kept.txt"), unit("orphan.txt"), unit("spared.txt")
    repo = FileRepository.objects.create(name="r")
    version = RepositoryVersion.objects.create(repository=repo, number=1, complete=True)
    RepositoryContent.objects.create(repository=repo, content=kept, version_added=version)
    # only the listed content is considered
    from pulpcore.app.util import get_url

    task = run_task_of(
        client.post(
            f"{API}orphans/cleanup/",
            {"content_hrefs": [get_url(orphan), get_url(kept)], "orphan_protection_time": 0},
            "application/json",
        )
    )
    assert task.state == "completed", task.error
    assert set(Content.objects.values_list("pk", flat=True)) == {kept.pk, spared.pk}
    # the orphan's artifact went with it; the others' artifacts stay
    assert Artifact.objects.count() == 2


def _age(model, pk, **minutes_by_field) -> None:
    """Move timestamps into the past with SQL (auto_now fields ignore assignments)."""
    now = timezone.now()
    model.objects.filter(pk=pk).update(
        **{f: now - timedelta(minutes=m) for f, m in minutes_by_field.items()}
    )


def test_upload_protection_time_removes_stale_uploads_in_orphan_cleanup(
    client, settings, storage_backend
):
    resp = client.post(f"{API}uploads/", {"size": 4}, "application/json")
    old_href = resp.json()["pulp_href"]
    assert put_chunk(client, old_href, b"ab", 0, 4).status_code == 200
    old = Upload.objects.get()
    chunk_name = old.chunks.get().file.name
    assert stored_exists(chunk_name)
    fresh_href = client.post(f"{API}uploads/", {"size": 4}, "application/json").json()["pulp_href"]
    _age(Upload, old.pk, pulp_created=90)
    cleanup = f"{API}orphans/cleanup/"
    # 0 (the default) keeps every upload.
    settings.UPLOAD_PROTECTION_TIME = 0
    assert run_task_of(client.post(cleanup, {}, "application/json")).state == "completed"
    assert Upload.objects.count() == 2
    settings.UPLOAD_PROTECTION_TIME = 60
    assert run_task_of(client.post(cleanup, {}, "application/json")).state == "completed"
    assert client.get(old_href).status_code == 404
    assert not stored_exists(chunk_name)
    assert client.get(fresh_href).status_code == 200


def test_task_protection_time_removes_old_finished_tasks_in_orphan_cleanup(client, settings):
    cleanup = f"{API}orphans/cleanup/"
    first = run_task_of(client.post(cleanup, {}, "application/json"))
    second = run_task_of(client.post(cleanup, {}, "application/json"))
    waiting = Task.objects.create(name="x.y", state="waiting")
    _age(Task, first.pk, finished_at=120)
    _age(Task, waiting.pk, pulp_created=120)
    settings.TASK_PROTECTION_TIME = 0
    run_task_of(client.post(cleanup, {}, "application/json"))
    assert Task.objects.filter(pk=first.pk).exists()
    settings.TASK_PROTECTION_TIME = 60
    third = run_task_of(client.post(cleanup, {}, "application/json"))
    assert third.state == "completed", third.error
    assert not Task.objects.filter(pk=first.pk).exists()
    # Recent and unfinished tasks, and the cleanup task itself, stay.
    assert Task.objects.filter(pk__in=[second.pk, waiting.pk, third.pk]).count() == 3
