"""Publishing a file repository version: every file at its relative path plus a manifest."""

import os

from django.db import transaction

from pulp_file.app.models import FileContent, FilePublication
from pulpcore.plugin.models import PublishedMetadata, RemoteArtifact, RepositoryVersion
from pulpcore.plugin.tasking import record_created
from pulpcore.plugin.util import new_temp_path, publish_content_artifacts, store_artifact_file


def manifest_lines(version: RepositoryVersion):
    """``relative_path,sha256,size`` for every file of ``version``, sorted by path.

    The size comes from the stored artifact, or for on-demand files from the remote's manifest.
    """
    files = FileContent.objects.filter(pk__in=version.content.values("pk"))
    rows = files.values_list("pk", "relative_path", "digest", "contentartifact__artifact__size")
    rows = list(rows.order_by("relative_path", "pk"))
    missing = [pk for pk, _, _, size in rows if size is None]
    sizes = {}
    if missing:
        sizes = dict(
            RemoteArtifact.objects.filter(content_artifact__content_id__in=missing)
            .exclude(size=None)
            .values_list("content_artifact__content_id", "size")
        )
    for pk, relative_path, digest, size in rows:
        if size is None:
            size = sizes.get(pk, "")
        yield relative_path, f"{relative_path},{digest},{size}"


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
            files = FileContent.objects.filter(pk__in=version.content.values("pk"))
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
