"""``artifacts/``: upload, list, read and delete stored files."""

import os
from datetime import timedelta

import django_filters
from django.conf import settings
from django.db import models, transaction
from django.utils import timezone
from rest_framework import mixins, status
from rest_framework.exceptions import ValidationError
from rest_framework.parsers import FormParser, MultiPartParser
from rest_framework.response import Response

from pulpcore.app import util
from pulpcore.app.exceptions import Conflict
from pulpcore.app.filters import BaseFilterSet
from pulpcore.app.models import Artifact, ContentArtifact, RepositoryVersion
from pulpcore.app.models.content import CHECKSUM_NAMES
from pulpcore.app.serializers.artifact import ArtifactSerializer
from pulpcore.app.upload_handlers import HashingFileUploadHandler
from pulpcore.app.viewsets.base import NamedModelViewSet

IN_USE_MESSAGE = "The Artifact cannot be deleted because it is associated with Content."

ORDERING_FIELDS = (
    "pk",
    "pulp_id",
    "pulp_created",
    "pulp_last_updated",
    "file",
    "size",
    *CHECKSUM_NAMES,
    "timestamp_of_interest",
)


def artifacts_in_version(version: RepositoryVersion) -> models.QuerySet:
    """Artifacts used by the content present in ``version``."""
    return Artifact.objects.filter(
        pk__in=ContentArtifact.objects.filter(
            content__in=version.content, artifact__isnull=False
        ).values("artifact_id")
    )


def orphaned_artifacts(minutes: float) -> models.QuerySet:
    """Artifacts no content uses, untouched for at least ``minutes`` (-1: the protection time)."""
    if minutes == -1:
        minutes = settings.ORPHAN_PROTECTION_TIME
    try:
        cutoff = timezone.now() - timedelta(minutes=minutes)
    except OverflowError:
        return Artifact.objects.none()  # longer ago than datetimes go: nothing is that old
    used = ContentArtifact.objects.filter(artifact__isnull=False).values("artifact_id")
    return Artifact.objects.exclude(pk__in=used).filter(timestamp_of_interest__lte=cutoff)


class ArtifactFilter(BaseFilterSet):
    """Checksums (exact), repository version membership, orphans, ordering."""

    repository_version = django_filters.CharFilter(method="filter_repository_version")
    orphaned_for = django_filters.NumberFilter(method="filter_orphaned_for")
    ordering = django_filters.OrderingFilter(fields=tuple((f, f) for f in ORDERING_FIELDS))

    class Meta:
        model = Artifact
        fields = {name: ["exact"] for name in CHECKSUM_NAMES}

    def filter_repository_version(self, qs, name, value):
        try:
            version = util.resolve_href(value, RepositoryVersion)
        except util.HrefError as exc:
            raise ValidationError({name: [str(exc)]})
        return qs.filter(pk__in=artifacts_in_version(version).values("pk"))

    def filter_orphaned_for(self, qs, name, value):
        if value < 0 and value != -1:
            raise ValidationError({name: ["Must be a number of minutes >= 0, or -1."]})
        return qs.filter(pk__in=orphaned_artifacts(float(value)).values("pk"))


class ArtifactViewSet(
    mixins.CreateModelMixin,
    mixins.RetrieveModelMixin,
    mixins.ListModelMixin,
    mixins.DestroyModelMixin,
    NamedModelViewSet,
):
    """Artifacts are created by a multipart upload and never changed afterwards."""

    endpoint_name = "artifacts"
    queryset = Artifact.objects.all().order_by("-pulp_created", "pk")
    serializer_class = ArtifactSerializer
    filterset_class = ArtifactFilter
    parser_classes = (MultiPartParser, FormParser)

    def initialize_request(self, request, *args, **kwargs):
        # Before anything reads the body: hash uploads while they are written to disk.
        if request.method == "POST":
            request.upload_handlers = [HashingFileUploadHandler(request)]
        return super().initialize_request(request, *args, **kwargs)

    def destroy(self, request, *args, **kwargs):
        """Delete the row and its file, unless content still uses the artifact (409)."""
        artifact = self.get_object()
        if ContentArtifact.objects.filter(artifact=artifact).exists():
            raise Conflict(IN_USE_MESSAGE)
        name, sha256 = artifact.file.name, artifact.sha256
        try:
            with transaction.atomic():
                artifact.delete()
                transaction.on_commit(lambda: _remove_stored_file(name, sha256))
        except models.ProtectedError:
            raise Conflict(IN_USE_MESSAGE)
        return Response(status=status.HTTP_204_NO_CONTENT)


def _remove_stored_file(name: str, sha256: str) -> None:
    """Remove an artifact's file unless a new row for the same bytes appeared meanwhile."""
    if not name or Artifact.objects.filter(sha256=sha256).exists():
        return
    path = os.path.join(settings.MEDIA_ROOT, name)
    try:
        os.unlink(path)
    except FileNotFoundError:
        pass
