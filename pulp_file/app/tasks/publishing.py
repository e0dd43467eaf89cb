"""Publishing a file repository version: every file at its relative path plus a manifest."""

import os

from django.db import transaction

from pulp_file.app.models import FileContent, FilePublication
from pulpcore.plugin.models import (
    ContentArtifact,
    PublishedArtifact,
    PublishedMetadata,
    RemoteArtifact,
    RepositoryVersion,
)
from pulpcore.plugin.tasking import record_created
from pulpcore.plugin.util import new_temp_path, store_artifact_file


def manifest_lines(version: RepositoryVersion):
    """``relative_path,sha256,size`` for every file of ``version``, sorted by path."""
    files = FileContent.objects.filter(pk__in=version.content.values("pk")).order_by(
        "relative_path"
    )
    cas = {
        ca.content_id: ca
        for ca in ContentArtifact.objects.filter(content__in=files).select_related("artifact")
    }
    sizes = dict(
        RemoteArtifact.objects.filter(content_artifact__content__in=files)
        .exclude(size=None)
        .values_list("content_artifact__content_id", "size")
    )
    for unit in files:
        ca = cas.get(unit.pk)
        size = ca.artifact.size if ca is not None and ca.artifact_id else sizes.get(unit.pk, "")
        yield unit, ca, f"{unit.relative_path},{unit.digest},{size}"


def publish(repository_version_pk: str, manifest: str | None = "PULP_MANIFEST") -> FilePublication:
    """Create a complete FilePublication of the version, all at once or not at all."""
    version = RepositoryVersion.objects.get(pk=repository_version_pk)
    path = new_temp_path(suffix=".manifest")
    published = []
    with open(path, "w") as out:
        for unit, ca, line in manifest_lines(version):
            if manifest and unit.relative_path == manifest:
                os.unlink(path)
                raise ValueError(
                    f"The content at '{unit.relative_path}' has the same path as the manifest; "
                    "choose another manifest name."
                )
            out.write(line + "\n")
            if ca is not None:
                published.append((unit.relative_path, ca))
    with transaction.atomic():
        publication = FilePublication.objects.create(
            repository_version=version, manifest=manifest, complete=False
        )
        PublishedArtifact.objects.bulk_create(
            [
                PublishedArtifact(relative_path=rel, content_artifact=ca, publication=publication)
                for rel, ca in published
            ],
            batch_size=1000,
        )
        if manifest:
            artifact = store_artifact_file(path)
            PublishedMetadata.objects.create(
                relative_path=manifest, artifact=artifact, publication=publication
            )
        elif os.path.exists(path):
            os.unlink(path)
        publication.complete = True
        publication.save(update_fields=["complete", "pulp_last_updated"])
    record_created(publication)
    return publication
