"""Publishing a file repository version: every file at its relative path plus a manifest."""

import os

from django.db import transaction
from django.db.models import OuterRef, QuerySet, Subquery
from django.db.models.functions import Coalesce

from pulp_file.app.models import FileContent, FilePublication
from pulpcore.plugin.models import PublishedMetadata, RemoteArtifact, RepositoryVersion
from pulpcore.plugin.tasking import record_created
from pulpcore.plugin.util import (
    new_temp_path,
    store_artifact_file,
    streamed_rows,
)


def manifest_rows(version: RepositoryVersion) -> QuerySet:
    """``(relative_path, sha256, size)`` of every file of ``version``, sorted by path.

    The size comes from the stored artifact, or for on-demand files from the remote's manifest.
    """
    remote_size = (
        RemoteArtifact.objects.filter(content_artifact__content_id=OuterRef("pk"))
        .exclude(size=None)
        .values("size")[:1]
    )
    return (
        FileContent.objects.filter(pk__in=version.content_ids)
        .annotate(file_size=Coalesce("contentartifact__artifact__size", Subquery(remote_size)))
        .order_by("relative_path", "pk")
        .values_list("relative_path", "digest", "file_size")
    )


def write_manifest(version: RepositoryVersion, path: str, name: str) -> None:
    """Write ``relative_path,sha256,size`` lines of ``version`` to ``path``.

    One query read through a server-side cursor planned for reading every row
    (``streamed_rows``): a publication of any size costs the worker one chunk of memory, and the
    only per-file Python is formatting the line. A file at ``name`` would be hidden by the
    manifest, so it is refused.
    """
    with streamed_rows(manifest_rows(version)) as rows, open(path, "w") as out:
        write = out.write
        for relative_path, digest, size in rows:
            if relative_path == name:
                raise ValueError(
                    f"The content at '{relative_path}' has the same path as the manifest; "
                    "choose another manifest name."
                )
            write(f"{relative_path},{digest},{'' if size is None else size}\n")


def publish(repository_version_pk: str, manifest: str | None = "PULP_MANIFEST") -> FilePublication:
    """Create a complete FilePublication of the version, all at once or not at all."""
    version = RepositoryVersion.objects.get(pk=repository_version_pk)
    path = new_temp_path(suffix=".manifest") if manifest else None
    try:
        with transaction.atomic():
            # Pass-through, as Pulp's file plugin publishes: the content app serves the version's
            # own files at their paths, so no row per file is written (nor checked at commit).
            publication = FilePublication.objects.create(
                repository_version=version, manifest=manifest, pass_through=True, complete=False
            )
            if manifest and path:
                write_manifest(version, path, manifest)
                artifact = store_artifact_file(path)
                PublishedMetadata.objects.create(
                    relative_path=manifest, artifact=artifact, publication=publication
                )
            publication.complete = True
            publication.save(update_fields=["complete", "pulp_last_updated"])
    finally:
        if path and os.path.exists(path):
            os.unlink(path)
    record_created(publication)
    return publication
