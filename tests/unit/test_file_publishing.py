"""pulp_file's publish task against real PostgreSQL: the manifest's exact bytes, all or nothing,
a query count that does not grow with the version, and the publication served as published."""

import hashlib
from pathlib import Path

import pytest
import requests
from django.conf import settings
from django.db import connection
from django.test.utils import CaptureQueriesContext

from pulp_file.app.models import FilePublication
from pulp_file.app.tasks.publishing import publish
from pulpcore.app.models import Artifact, PublishedMetadata
from tests.unit.content_support import (
    AppThread,
    add_files,
    distribute,
    make_remote,
    make_repository,
)

pytestmark = pytest.mark.django_db(transaction=True)


def manifest_text(publication: FilePublication) -> str:
    meta = PublishedMetadata.objects.get(publication=publication)
    return (Path(settings.MEDIA_ROOT) / meta.artifact.file.name).read_text()


def sha(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def test_manifest_lists_every_file_sorted_with_stored_or_remote_size():
    repo = make_repository()
    remote = make_remote("http://127.0.0.1:9/")
    files = {"b/z.bin": b"zz", "a.txt": b"a" * 7, "b/a,odd name.txt": b"", "lazy.iso": b"L" * 11}
    add_files(repo, files, remote=remote, on_demand={"lazy.iso"})
    pub = publish(str(repo.latest_version().pk))
    assert pub.complete and pub.manifest == "PULP_MANIFEST"
    # Pass-through, as Pulp's file plugin publishes: no row per file.
    assert pub.pass_through and not pub.published_artifact.exists()
    assert manifest_text(pub) == (
        f"a.txt,{sha(files['a.txt'])},7\n"
        f"b/a,odd name.txt,{sha(b'')},0\n"
        f"b/z.bin,{sha(b'zz')},2\n"
        f"lazy.iso,{sha(files['lazy.iso'])},11\n"  # size from the remote's RemoteArtifact
    )
    bare = make_repository()
    bare.new_version().complete_version()  # version 0, as the REST layer creates it
    empty = publish(str(bare.latest_version().pk))
    assert manifest_text(empty) == ""


def test_content_at_the_manifest_path_publishes_nothing():
    repo = make_repository()
    add_files(repo, {"MANIFEST": b"mine", "f": b"f"})
    before = Artifact.objects.count()
    with pytest.raises(ValueError, match="same path as the manifest"):
        publish(str(repo.latest_version().pk), manifest="MANIFEST")
    assert not FilePublication.objects.exists()
    assert Artifact.objects.count() == before
    assert publish(str(repo.latest_version().pk), manifest="OTHER").complete


def test_publish_without_a_manifest_has_no_metadata():
    repo = make_repository()
    add_files(repo, {"f": b"f"})
    pub = publish(str(repo.latest_version().pk), manifest=None)
    assert pub.complete and pub.manifest is None
    assert not PublishedMetadata.objects.filter(publication=pub).exists()


def test_query_count_does_not_grow_with_the_version():
    def count(n: int) -> int:
        repo = make_repository()
        add_files(repo, {f"d/{n}-{i}": f"{n}-{i}".encode() for i in range(n)})
        with CaptureQueriesContext(connection) as queries:
            publish(str(repo.latest_version().pk))
        return len(queries)

    assert count(2) == count(40)


def test_published_files_and_manifest_are_served(content_storage):
    repo = make_repository()
    add_files(repo, {"x/y.bin": b"yy", "top": b"t"})
    pub = publish(str(repo.latest_version().pk))
    distribute("published", publication=pub)
    app = AppThread().start()
    try:
        app.wait_cache_ready()
        base = app.url("/pulp/content/published/")
        assert requests.get(base + "x/y.bin").content == b"yy"
        assert requests.get(base + "PULP_MANIFEST").text == manifest_text(pub)
        assert requests.get(base + "nothere").status_code == 404
    finally:
        app.stop()
