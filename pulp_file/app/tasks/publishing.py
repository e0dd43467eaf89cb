"""Publishing a file repository version: every file at its relative path plus a manifest."""

import os
from collections.abc import Iterator

from django.db import transaction
from django.db.models import OuterRef, Subquery
from django.db.models.functions import Coalesce

from pulp_file.app.models import FileContent, FilePublication
from pulpcore.plugin.models import PublishedMetadata, RemoteArtifact, RepositoryVersion
from pulpcore.plugin.tasking import record_created
from pulpcore.plugin.util import new_temp_path, publish_content_artifacts, store_artifact_file


def manifest_lines(version: RepositoryVersion) -> Iterator[tuple[str, str]]:
    """``relative_path,sha256,size`` for every file of ``version``, sorted by path.

    The size comes from the stored artifact, or for on-demand files from the remote's manifest.
    One query, streamed (a server-side cursor in chunks): a publication of any size costs the
    worker the same memory, and no per-file work happens in Python beyond writing the line.
    """
    remote_size = (
        RemoteArtifact.objects.filter(content_artifact__content_id=OuterRef("pk"))
        .exclude(size=None)
        .values("size")[:1]
    )
    rows = (
        FileContent.objects.filter(pk__in=version.content_ids)
        .annotate(file_size=Coalesce("contentartifact__artifact__size", Subquery(remote_size)))
        .order_by("relative_path", "pk")
        .values_list("relative_path", "digest", "file_size")
    )
    for relative_path, digest, size in rows.iterator(chunk_size=5000):
        yield relative_path, f"{relative_path},{digest},{'' if size is None else size}"


def publish(repository_version_pk: str, manifest: str | None = "PULP_MANIFEST") -> FilePublication:
    """Create a complete FilePublication of the version, all at once or not at all."""
    version = RepositoryVersion.objects.get(pk=repository_version_pk)
    path = new_temp_path(suffix=".manifest")
    try:
        with open(path, "w") as out:
            for relative_path, line in manifest_lines(version):
                if manifest and relative_path == manifest:
                    raise ValueError(
                        f"The content at '{relative_path}' has the same path as the manifest; "
                        "choose another manifest name."
                    )
                out.write(line + "\n")
        with transaction.atomic():
            publication = FilePublication.objects.create(
                repository_version=version, manifest=manifest, complete=False
            )
            files = FileContent.objects.filter(pk__in=version.content_ids)
            publish_content_artifacts(publication, files)
            if manifest:
                artifact = store_artifact_file(path)
                PublishedMetadata.objects.create(
                    relative_path=manifest, artifact=artifact, publication=publication
                )
            publication.complete = True
            publication.save(update_fields=["complete", "pulp_last_updated"])
    finally:
        if os.path.exists(path):
            os.unlink(path)
    record_created(publication)
    return publication
