"""Publications (what to serve), distributions (where to serve it) and content guards."""

from django.db import models

from pulpcore.app.models.base import BaseModel, MasterModel
from pulpcore.app.models.content import Artifact, ContentArtifact
from pulpcore.app.models.contentguard import ContentGuard
from pulpcore.app.models.repository import Remote, Repository, RepositoryVersion


class Publication(MasterModel):
    """A servable rendering of one repository version, created complete or not at all."""

    complete = models.BooleanField(db_index=True, default=False)
    pass_through = models.BooleanField(default=False)
    repository_version = models.ForeignKey(RepositoryVersion, on_delete=models.CASCADE)


class PublishedArtifact(BaseModel):
    """A content artifact exposed at a relative path in a publication."""

    relative_path = models.TextField()
    content_artifact = models.ForeignKey(ContentArtifact, on_delete=models.PROTECT)
    publication = models.ForeignKey(
        Publication, on_delete=models.CASCADE, related_name="published_artifact"
    )

    class Meta:
        unique_together = ("publication", "relative_path")


class PublishedMetadata(BaseModel):
    """A metadata file generated for a publication (e.g. ``PULP_MANIFEST``)."""

    relative_path = models.TextField()
    artifact = models.ForeignKey(Artifact, on_delete=models.PROTECT)
    publication = models.ForeignKey(
        Publication, on_delete=models.CASCADE, related_name="published_metadata"
    )

    class Meta:
        unique_together = ("publication", "relative_path")


class Distribution(MasterModel):
    """Serves a publication, a repository's latest version or a fixed version at a base path."""

    name = models.TextField(unique=True)
    base_path = models.TextField(unique=True)
    pulp_labels = models.JSONField(default=dict)
    hidden = models.BooleanField(default=False, null=True)
    content_guard = models.ForeignKey(ContentGuard, null=True, on_delete=models.SET_NULL)
    publication = models.ForeignKey(Publication, null=True, on_delete=models.SET_NULL)
    repository = models.ForeignKey(
        Repository, null=True, on_delete=models.SET_NULL, related_name="distributions"
    )
    repository_version = models.ForeignKey(RepositoryVersion, null=True, on_delete=models.SET_NULL)
    remote = models.ForeignKey(Remote, null=True, on_delete=models.SET_NULL)

    @staticmethod
    def overlapping(base_path: str) -> models.Q:
        """Q matching distributions whose base_path equals, contains or is inside ``base_path``."""
        parts = base_path.strip("/").split("/")
        prefixes = ["/".join(parts[: i + 1]) for i in range(len(parts))]
        return models.Q(base_path__in=prefixes) | models.Q(base_path__startswith=base_path + "/")
