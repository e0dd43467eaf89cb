"""``artifacts/``: upload, list, read and delete stored files."""

from django.db import models, transaction
from rest_framework import mixins, status
from rest_framework.parsers import FormParser, MultiPartParser
from rest_framework.response import Response

from pulpcore.app.access import defaults as access_defaults
from pulpcore.app.exceptions import Conflict
from pulpcore.app.models import Artifact, ContentArtifact
from pulpcore.app.serializers.artifact import ArtifactSerializer
from pulpcore.app.storage import delete_stored
from pulpcore.app.upload_handlers import HashingFileUploadHandler
from pulpcore.app.viewsets.base import NamedModelViewSet
from pulpcore.app.viewsets.filters.content import ArtifactFilter

IN_USE_MESSAGE = "The Artifact cannot be deleted because it is associated with Content."


class ArtifactViewSet(
    mixins.CreateModelMixin,
    mixins.RetrieveModelMixin,
    mixins.ListModelMixin,
    mixins.DestroyModelMixin,
    NamedModelViewSet,
):
    """Artifacts are created by a multipart upload and never changed afterwards."""

    endpoint_name = "artifacts"
    DEFAULT_ACCESS_POLICY = access_defaults.ARTIFACTS
    rbac_scope = access_defaults.scope_artifacts
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
    delete_stored(name)
