"""Task: reclaim disk space of repositories by dropping stored files only they need.

Content units and their RemoteArtifacts stay, so the content app can serve the units on demand
again and repair can fetch them. A file stays when anything else may still be served from it:
a version kept on purpose, another repository, a publication, or published metadata. Files of
content no remote knows (uploads) stay too, since nothing could ever fetch them back.
"""

import logging

from django.db import transaction
from django.db.models import Exists, OuterRef

from pulpcore.app.models import (
    Artifact,
    ContentArtifact,
    ProgressReport,
    Publication,
    PublishedArtifact,
    PublishedMetadata,
    RemoteArtifact,
    RepositoryContent,
    RepositoryVersion,
)
from pulpcore.app.queries import versions

log = logging.getLogger(__name__)


def reclaimable_content_artifacts(repo_pks: list, keeplist_pks: list):
    """ContentArtifacts (with a stored file) that only the reclaimed versions need."""
    in_reclaimed = RepositoryContent.objects.filter(repository_id__in=repo_pks).values("content_id")
    in_other_repos = RepositoryContent.objects.exclude(repository_id__in=repo_pks).values(
        "content_id"
    )
    qs = ContentArtifact.objects.filter(
        content_id__in=in_reclaimed, artifact__isnull=False
    ).exclude(content_id__in=in_other_repos)
    for version in RepositoryVersion.objects.filter(pk__in=keeplist_pks):
        qs = qs.exclude(content_id__in=versions.content_in(version).values("pk"))
    published = PublishedArtifact.objects.filter(content_artifact=OuterRef("pk"))
    # A pass-through publication has no PublishedArtifact rows: it serves its version's files.
    served_through = Publication.objects.filter(
        pass_through=True, repository_version__repository_id__in=repo_pks
    ).filter(
        Exists(
            RepositoryContent.objects.filter(
                versions.membership_q(OuterRef("repository_version__number")),
                repository_id=OuterRef("repository_version__repository_id"),
                content_id=OuterRef(OuterRef("content_id")),
            )
        )
    )
    refetchable = RemoteArtifact.objects.filter(content_artifact=OuterRef("pk"))
    return qs.exclude(Exists(published) | Exists(served_through)).filter(Exists(refetchable))


def reclaim_space(repo_pks: list, keeplist_pks: list | None = None) -> None:
    """Detach reclaimable files from their content; delete the artifacts nothing else uses."""
    keeplist_pks = keeplist_pks or []
    with ProgressReport(
        message="Reclaim disk space", code="reclaim-space.artifact", done=0
    ) as progress:
        with transaction.atomic():
            cas = reclaimable_content_artifacts(repo_pks, keeplist_pks).select_for_update()
            rows = list(cas.values_list("pk", "artifact_id"))
            artifact_pks = {artifact_pk for _, artifact_pk in rows}
            ContentArtifact.objects.filter(pk__in=[pk for pk, _ in rows]).update(artifact=None)
            still_used = ContentArtifact.objects.filter(artifact=OuterRef("pk"))
            metadata = PublishedMetadata.objects.filter(artifact=OuterRef("pk"))
            doomed = Artifact.objects.filter(pk__in=artifact_pks).exclude(
                Exists(still_used) | Exists(metadata)
            )
            files = list(doomed.values_list("file", flat=True))
            doomed.delete()
        progress.total = len(files)
        progress.save()
        storage = Artifact._meta.get_field("file").storage
        for name in files:
            try:
                storage.delete(name)
            except OSError as exc:
                log.warning("Could not remove reclaimed artifact file %s: %s", name, exc)
            progress.increment()
