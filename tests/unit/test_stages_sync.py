"""The declarative pipeline through pulp_file's ``synchronize`` against a real local origin."""

import hashlib
import os
import threading
import time
import uuid
from pathlib import Path

import pytest
from django.conf import settings
from django.db import connections

from pulp_file.app.models import FileContent, FileRemote, FileRepository
from pulp_file.app.tasks.synchronizing import ManifestError, parse_manifest, synchronize
from pulpcore.app.models import (
    Artifact,
    ContentArtifact,
    ProgressReport,
    RemoteArtifact,
    RepositoryVersion,
    Task,
)
from pulpcore.app.storage import artifact_relpath, open_stored, stored_exists
from pulpcore.download import DigestValidationError, HttpStatusError, SizeValidationError
from pulpcore.tasking.context import reset_current_task, set_current_task
from pulpcore.tasking.runner import describe_error
from tests.fixtures import FixtureServer, make_file_fixture, write_manifest

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture
def tree(tmp_path):
    return make_file_fixture(tmp_path / "origin", count=5, size=2048)


@pytest.fixture
def server(tree):
    with FixtureServer(tree.root) as srv:
        yield srv


def make_repo_remote(url: str, policy: str = "immediate", **fields):
    name = uuid.uuid4().hex[:8]
    repo = FileRepository.objects.create(name=f"repo-{name}", **fields)
    repo.new_version().complete_version()  # version 0, as the REST layer creates it
    remote = FileRemote.objects.create(name=f"remote-{name}", url=url, policy=policy)
    return repo, remote


def latest(repo) -> RepositoryVersion:
    return repo.latest_version()


def paths_in(version: RepositoryVersion) -> set[str]:
    return set(
        FileContent.objects.filter(pk__in=version.content.values("pk")).values_list(
            "relative_path", flat=True
        )
    )


def fp_bytes(tree, entry) -> bytes:
    return (tree.root / entry.relative_path).read_bytes()


def working_files() -> set[str]:
    return set(os.listdir(settings.WORKING_DIRECTORY))


def test_immediate_sync_stores_artifacts(tree, server, storage_backend):
    repo, remote = make_repo_remote(server.url + "PULP_MANIFEST")
    synchronize(str(remote.pk), str(repo.pk), mirror=False)
    version = latest(repo)
    assert version.number == 1
    assert paths_in(version) == {e.relative_path for e in tree.entries}
    for entry in tree.entries:
        unit = FileContent.objects.get(relative_path=entry.relative_path, digest=entry.sha256)
        ca = ContentArtifact.objects.get(content=unit)
        assert ca.relative_path == entry.relative_path
        assert ca.artifact.sha256 == entry.sha256 and ca.artifact.size == entry.size
        with open_stored(ca.artifact.file.name) as fp:
            assert fp.read() == (tree.root / entry.relative_path).read_bytes()
        if storage_backend is not None:  # in the bucket, not under MEDIA_ROOT
            assert storage_backend.read(ca.artifact.file.name) == fp_bytes(tree, entry)
            assert not (Path(settings.MEDIA_ROOT) / ca.artifact.file.name).exists()
        assert ca.artifact.sha512 and ca.artifact.sha224 and ca.artifact.sha384
        ra = RemoteArtifact.objects.get(content_artifact=ca, remote=remote)
        assert ra.url == server.url + entry.relative_path and ra.sha256 == entry.sha256


def test_on_demand_saves_remote_artifacts_only(tree, server):
    repo, remote = make_repo_remote(server.url + "PULP_MANIFEST", policy="on_demand")
    synchronize(str(remote.pk), str(repo.pk), mirror=False)
    assert latest(repo).number == 1
    assert paths_in(latest(repo)) == {e.relative_path for e in tree.entries}
    assert Artifact.objects.count() == 0
    assert set(server.counts) == {"PULP_MANIFEST"}  # no file was fetched
    cas = ContentArtifact.objects.filter(content__in=latest(repo).content)
    assert cas.count() == len(tree.entries) and not cas.exclude(artifact=None).exists()
    for entry in tree.entries:
        ra = RemoteArtifact.objects.get(
            content_artifact__relative_path=entry.relative_path, remote=remote
        )
        assert ra.sha256 == entry.sha256 and ra.size == entry.size
        assert ra.url == server.url + entry.relative_path

    # An immediate sync later fills in the artifacts without changing the content set.
    remote.policy = "immediate"
    remote.save()
    synchronize(str(remote.pk), str(repo.pk), mirror=False)
    assert latest(repo).number == 1
    assert Artifact.objects.count() == len(tree.entries)
    assert not cas.filter(artifact=None).exists()


def test_streamed_policy_downloads_nothing(tree, server):
    repo, remote = make_repo_remote(server.url + "PULP_MANIFEST", policy="streamed")
    synchronize(str(remote.pk), str(repo.pk))
    assert latest(repo).content.count() == len(tree.entries)
    assert Artifact.objects.count() == 0


def test_resync_without_change_creates_no_version(tree, server):
    repo, remote = make_repo_remote(server.url + "PULP_MANIFEST")
    synchronize(str(remote.pk), str(repo.pk))
    synchronize(str(remote.pk), str(repo.pk))
    synchronize(str(remote.pk), str(repo.pk), mirror=True)
    repo.refresh_from_db()
    assert list(repo.versions.values_list("number", flat=True)) == [0, 1]
    assert repo.next_version == 2  # discarded provisional numbers are given back
    # Files were downloaded once only.
    assert all(server.counts[e.relative_path] == 1 for e in tree.entries)


def test_mirror_removes_and_additive_keeps(tree, server, tmp_path):
    repo, remote = make_repo_remote(server.url + "PULP_MANIFEST")
    synchronize(str(remote.pk), str(repo.pk))
    dropped = tree.entries.pop(0)
    extra = make_file_fixture(tmp_path / "extra", count=1, size=100, subdir="new")
    extra_entry = extra.entries[0]
    target = tree.root / extra_entry.relative_path
    target.parent.mkdir(parents=True, exist_ok=True)
    target.write_bytes((extra.root / extra_entry.relative_path).read_bytes())
    tree.entries.append(extra_entry)
    write_manifest(tree)

    synchronize(str(remote.pk), str(repo.pk), mirror=False)
    v2 = latest(repo)
    assert v2.number == 2
    assert dropped.relative_path in paths_in(v2) and extra_entry.relative_path in paths_in(v2)
    assert v2.added_content.count() == 1 and v2.removed_content.count() == 0

    task = run_in_task(synchronize, str(remote.pk), str(repo.pk), mirror=True)
    reports = {r.code: r for r in ProgressReport.objects.filter(task=task)}
    assert (reports["unassociating.content"].done, reports["unassociating.content"].total) == (1, 1)
    assert reports["associating.content"].done == 0
    v3 = latest(repo)
    assert v3.number == 3
    assert paths_in(v3) == {e.relative_path for e in tree.entries}
    assert v3.removed_content.count() == 1 and v3.added_content.count() == 0


def test_mirror_removal_statement_does_not_list_the_kept_units(tree, server):
    """The removal is decided in the database against the units the sync saw (a temporary
    table): no statement touching the version's membership names the kept units one by one, so
    its size does not grow with the repository."""
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    repo, remote = make_repo_remote(server.url + "PULP_MANIFEST")
    synchronize(str(remote.pk), str(repo.pk))
    dropped = tree.entries.pop(0)
    write_manifest(tree)
    kept = [
        str(pk)
        for pk in FileContent.objects.filter(
            relative_path__in=[e.relative_path for e in tree.entries]
        ).values_list("pk", flat=True)
    ]
    with CaptureQueriesContext(connection) as ctx:
        synchronize(str(remote.pk), str(repo.pk), mirror=True)
    assert paths_in(latest(repo)) == {e.relative_path for e in tree.entries}
    assert dropped.relative_path not in paths_in(latest(repo))
    removal = [
        q["sql"]
        for q in ctx.captured_queries
        if q["sql"].startswith(('UPDATE "core_repositorycontent"', 'DELETE FROM "core_repositoryc'))
    ]
    assert removal, "no removal statement was captured"
    for sql in removal:
        assert sum(pk in sql for pk in kept) <= 1, sql


def test_manifest_404_fails_without_version(server):
    repo, remote = make_repo_remote(server.url + "missing/PULP_MANIFEST")
    with pytest.raises(HttpStatusError) as info:
        synchronize(str(remote.pk), str(repo.pk))
    assert "404" in str(info.value) and "missing/PULP_MANIFEST" in str(info.value)
    repo.refresh_from_db()
    assert list(repo.versions.values_list("number", flat=True)) == [0]
    assert repo.next_version == 1


def test_malformed_line_names_the_line(tree, server):
    write_manifest(tree, extra_lines=["oops-no-commas"])
    repo, remote = make_repo_remote(server.url + "PULP_MANIFEST")
    with pytest.raises(ManifestError) as info:
        synchronize(str(remote.pk), str(repo.pk))
    assert f"Line {len(tree.entries) + 1}" in str(info.value)
    assert repo.versions.count() == 1
    assert FileContent.objects.count() == 0 and Artifact.objects.count() == 0
    assert set(server.counts) == {"PULP_MANIFEST"}


@pytest.mark.parametrize(
    "line, message",
    [
        ("a.iso,xyz,10", "invalid sha256"),
        ("a.iso," + "a" * 64 + ",ten", "invalid size"),
        ("../etc/passwd," + "a" * 64 + ",1", "unsafe relative path"),
        ("/abs," + "a" * 64 + ",1", "unsafe relative path"),
        (",," + "a" * 64, "empty relative path"),
        ("only,two", "malformed"),
    ],
)
def test_parse_manifest_rejects(line, message):
    with pytest.raises(ManifestError) as info:
        parse_manifest("# comment\n\n" + line + "\n", "http://h/x/PULP_MANIFEST")
    assert message in str(info.value) and "Line 3" in str(info.value)


def test_parse_manifest_resolves_urls():
    entries = parse_manifest(
        f"dir/a b.iso,{'A' * 64},3\nx,y.iso,{'b' * 64},0\n", "http://h:1/base/PULP_MANIFEST"
    )
    assert entries[0].url == "http://h:1/base/dir/a%20b.iso"
    assert entries[0].digest == "a" * 64
    assert entries[1].relative_path == "x,y.iso" and entries[1].size == 0


def test_checksum_mismatch_leaves_no_version_and_no_artifact(tree, server, storage_backend):
    before = working_files()
    server.behaviour["corrupt"] = {tree.entries[2].relative_path}
    repo, remote = make_repo_remote(server.url + "PULP_MANIFEST")
    with pytest.raises(DigestValidationError) as info:
        synchronize(str(remote.pk), str(repo.pk))
    assert tree.entries[2].relative_path in str(info.value)
    assert repo.versions.count() == 1
    bad = Artifact.objects.filter(sha256=tree.entries[2].sha256)
    assert not bad.exists()
    assert not stored_exists(artifact_relpath(tree.entries[2].sha256))  # never reached storage
    assert working_files() == before  # no stray downloads left behind


def test_store_going_away_mid_sync_fails_readably_then_resync_completes(
    tree, server, s3_outage, moto_s3
):
    """The bucket stops answering while files download: the sync fails with a sentence, every
    artifact row it left names an object that is in the bucket, and a re-sync completes."""
    before = working_files()
    late = tree.entries[3].relative_path
    server.behaviour["delay"] = {late: 1.0}

    def cut_when_late_file_is_asked_for():
        deadline = time.monotonic() + 20
        while not server.counts.get(late) and time.monotonic() < deadline:
            time.sleep(0.02)
        s3_outage.down()

    cutter = threading.Thread(target=cut_when_late_file_is_asked_for)
    cutter.start()
    repo, remote = make_repo_remote(server.url + "PULP_MANIFEST")
    with pytest.raises(Exception) as info:
        synchronize(str(remote.pk), str(repo.pk))
    cutter.join()
    message = describe_error(info.value)
    assert "Could not store" in message and moto_s3.bucket in message, message
    assert repo.versions.count() == 1
    in_bucket = moto_s3.keys("artifact/")  # asked of moto directly, not through the cut relay
    rows = set(Artifact.objects.values_list("file", flat=True))
    assert rows <= in_bucket, rows - in_bucket
    assert artifact_relpath(tree.entries[3].sha256) not in rows
    assert working_files() == before
    s3_outage.up()
    synchronize(str(remote.pk), str(repo.pk))
    assert paths_in(latest(repo)) == {e.relative_path for e in tree.entries}
    assert {artifact_relpath(e.sha256) for e in tree.entries} <= moto_s3.keys("artifact/")


def test_size_mismatch_fails(tree, server):
    entry = tree.entries[0]
    write_manifest(tree)
    text = tree.manifest.read_text().replace(
        f"{entry.sha256},{entry.size}", f"{entry.sha256},{entry.size + 1}"
    )
    tree.manifest.write_text(text)
    repo, remote = make_repo_remote(server.url + "PULP_MANIFEST")
    with pytest.raises(SizeValidationError):
        synchronize(str(remote.pk), str(repo.pk))
    assert repo.versions.count() == 1


def test_transient_errors_are_retried(tree, server):
    server.behaviour["fail"] = {tree.entries[0].relative_path: 1, "PULP_MANIFEST": 1}
    repo, remote = make_repo_remote(server.url + "PULP_MANIFEST")
    synchronize(str(remote.pk), str(repo.pk))
    assert latest(repo).content.count() == len(tree.entries)
    assert server.counts["PULP_MANIFEST"] == 2


def test_progress_reports_recorded_in_task(tree, server):
    repo, remote = make_repo_remote(server.url + "PULP_MANIFEST")
    task = Task.objects.create(
        name="pulp_file.app.tasks.synchronizing.synchronize", state="running"
    )
    token = set_current_task(task)
    try:
        synchronize(str(remote.pk), str(repo.pk))
    finally:
        reset_current_task(token)
    reports = {r.code: r for r in ProgressReport.objects.filter(task=task)}
    n = len(tree.entries)
    assert reports["sync.downloading.metadata"].done == 1
    assert reports["sync.downloading.metadata"].total == 1
    assert (reports["sync.parsing.metadata"].done, reports["sync.parsing.metadata"].total) == (n, n)
    assert (
        reports["sync.downloading.artifacts"].done,
        reports["sync.downloading.artifacts"].total,
    ) == (n, n)
    assert (reports["associating.content"].done, reports["associating.content"].total) == (n, n)
    assert all(r.state == "completed" for r in reports.values())
    assert reports["sync.downloading.artifacts"].message == "Downloading Artifacts"
    created = [c.content_object for c in task.created_resources.all()]
    assert created == [latest(repo)]


def test_failed_sync_marks_progress_failed(tree, server):
    server.behaviour["missing"] = {tree.entries[1].relative_path}
    repo, remote = make_repo_remote(server.url + "PULP_MANIFEST")
    task = Task.objects.create(name="sync", state="running")
    token = set_current_task(task)
    try:
        with pytest.raises(HttpStatusError):
            synchronize(str(remote.pk), str(repo.pk))
    finally:
        reset_current_task(token)
    states = dict(ProgressReport.objects.filter(task=task).values_list("code", "state"))
    assert states["sync.downloading.artifacts"] in ("failed", "canceled")
    assert not task.created_resources.exists()


def test_parallel_overlapping_syncs_share_content(tmp_path):
    tree = make_file_fixture(tmp_path / "big", count=300, size=256)
    with FixtureServer(tree.root) as srv:
        pairs = [make_repo_remote(srv.url + "PULP_MANIFEST") for _ in range(3)]
        errors = []

        def run(repo, remote):
            try:
                synchronize(str(remote.pk), str(repo.pk))
            except Exception as exc:  # noqa: BLE001 - reported below
                errors.append(exc)
            finally:
                connections.close_all()

        threads = [threading.Thread(target=run, args=pair) for pair in pairs]
        for t in threads:
            t.start()
        for t in threads:
            t.join(120)
    assert errors == []
    assert FileContent.objects.count() == 300
    assert Artifact.objects.count() == 300
    for repo, _ in pairs:
        assert latest(repo).content.count() == 300


def run_in_task(func, *args, **kwargs) -> Task:
    """Run ``func`` as the current task so its progress reports are recorded."""
    task = Task.objects.create(name="test", state="running")
    token = set_current_task(task)
    try:
        func(*args, **kwargs)
    finally:
        reset_current_task(token)
    return task


def codes(task: Task) -> set[str]:
    return set(ProgressReport.objects.filter(task=task).values_list("code", flat=True))


def test_unchanged_manifest_skips_pipeline_but_content_change_does_not(tree, server):
    repo, remote = make_repo_remote(server.url + "PULP_MANIFEST")
    first = run_in_task(synchronize, str(remote.pk), str(repo.pk))
    assert "sync.parsing.metadata" in codes(first)
    again = run_in_task(synchronize, str(remote.pk), str(repo.pk))
    assert codes(again) == {"sync.downloading.metadata"}  # same bytes, same remote: skipped

    # Same units, different manifest bytes (order, a comment): the latest version already holds
    # them all, linked to this remote at the same URLs, so the pipeline does not run either.
    lines = tree.manifest.read_text().splitlines()
    tree.manifest.write_text("# reordered\n" + "\n".join(reversed(lines)) + "\n")
    reordered = run_in_task(synchronize, str(remote.pk), str(repo.pk))
    assert codes(reordered) == {"sync.downloading.metadata"}
    assert list(repo.versions.values_list("number", flat=True)) == [0, 1]

    # One file's bytes change (and so its digest): the pipeline runs and makes version 2.
    changed = tree.entries[0]
    data = os.urandom(changed.size)
    (tree.root / changed.relative_path).write_bytes(data)
    changed.sha256 = hashlib.sha256(data).hexdigest()
    write_manifest(tree, ["# one file changed"])
    after = run_in_task(synchronize, str(remote.pk), str(repo.pk), mirror=True)
    assert "sync.parsing.metadata" in codes(after)
    assert latest(repo).number == 2
    digests = set(
        FileContent.objects.filter(pk__in=latest(repo).content).values_list("digest", flat=True)
    )
    assert digests == {e.sha256 for e in tree.entries}


def test_same_files_from_another_remote_are_not_skipped(tree, server):
    """The shortcut needs this remote's RemoteArtifacts: another remote serving the very same
    files still gets its own, so on-demand downloads and repair can use it."""
    repo, remote = make_repo_remote(server.url + "PULP_MANIFEST")
    synchronize(str(remote.pk), str(repo.pk))
    with FixtureServer(tree.root) as mirror_server:
        _, other = make_repo_remote(mirror_server.url + "PULP_MANIFEST")
        synchronize(str(other.pk), str(repo.pk), mirror=True)
        urls = set(RemoteArtifact.objects.filter(remote=other).values_list("url", flat=True))
        assert urls == {mirror_server.url + e.relative_path for e in tree.entries}
    assert list(repo.versions.values_list("number", flat=True)) == [0, 1]


def test_on_demand_files_listed_again_for_immediate_are_downloaded(tree, server):
    """With the immediate policy a unit without a stored artifact is not "already held"."""
    repo, remote = make_repo_remote(server.url + "PULP_MANIFEST", policy="on_demand")
    synchronize(str(remote.pk), str(repo.pk))
    immediate = FileRemote.objects.create(
        name=f"imm-{uuid.uuid4().hex[:8]}", url=remote.url, policy="immediate"
    )
    RemoteArtifact.objects.filter(remote=remote).update(remote=immediate)  # same URLs, sizes
    synchronize(str(immediate.pk), str(repo.pk))
    assert Artifact.objects.filter(sha256__in=[e.sha256 for e in tree.entries]).count() == len(
        tree.entries
    )


def test_modified_repository_is_synced_again(tree, server):
    repo, remote = make_repo_remote(server.url + "PULP_MANIFEST")
    synchronize(str(remote.pk), str(repo.pk))
    # A user removes a unit (as modify does): the same manifest must bring it back.
    version = repo.new_version()
    version.remove_content(FileContent.objects.filter(relative_path=tree.entries[0].relative_path))
    version.complete_version()
    assert latest(repo).content.count() == len(tree.entries) - 1
    synchronize(str(remote.pk), str(repo.pk))
    assert latest(repo).number == 3
    assert latest(repo).content.count() == len(tree.entries)


def test_mirror_after_additive_sync_is_not_skipped(tree, server, tmp_path):
    other = make_file_fixture(tmp_path / "other", count=2, size=64, subdir="o", seed="other")
    with FixtureServer(other.root) as other_server:
        repo, remote = make_repo_remote(server.url + "PULP_MANIFEST")
        _, remote2 = make_repo_remote(other_server.url + "PULP_MANIFEST")
        synchronize(str(remote2.pk), str(repo.pk))
        synchronize(str(remote.pk), str(repo.pk))  # additive: 2 + 5 units
        assert latest(repo).content.count() == len(tree.entries) + 2
        synchronize(str(remote.pk), str(repo.pk), mirror=True)
        assert latest(repo).content.count() == len(tree.entries)
        assert paths_in(latest(repo)) == {e.relative_path for e in tree.entries}


def test_editing_the_remote_forces_a_full_sync(tree, server):
    repo, remote = make_repo_remote(server.url + "PULP_MANIFEST", policy="on_demand")
    synchronize(str(remote.pk), str(repo.pk))
    assert Artifact.objects.count() == 0
    remote.policy = "immediate"
    remote.save()
    task = run_in_task(synchronize, str(remote.pk), str(repo.pk))
    assert "sync.downloading.artifacts" in codes(task)
    assert Artifact.objects.count() == len(tree.entries)


def test_remote_that_times_out_fails_readably(tree, server):
    server.behaviour["delay"] = {"PULP_MANIFEST": 1.5}
    repo, remote = make_repo_remote(server.url + "PULP_MANIFEST")
    remote.sock_read_timeout = 0.3
    remote.max_retries = 1
    remote.save()
    with pytest.raises(Exception) as info:
        synchronize(str(remote.pk), str(repo.pk))
    assert "timed out" in str(info.value) and "PULP_MANIFEST" in str(info.value)
    assert server.counts["PULP_MANIFEST"] == 2  # retried once
    assert repo.versions.count() == 1


def test_file_timing_out_mid_sync_leaves_nothing(tree, server):
    before = working_files()
    server.behaviour["delay"] = {tree.entries[4].relative_path: 1.5}
    repo, remote = make_repo_remote(server.url + "PULP_MANIFEST")
    remote.sock_read_timeout = 0.3
    remote.max_retries = 0
    remote.save()
    with pytest.raises(Exception) as info:
        synchronize(str(remote.pk), str(repo.pk))
    assert "timed out" in str(info.value) and tree.entries[4].relative_path in str(info.value)
    assert repo.versions.count() == 1
    assert working_files() == before
