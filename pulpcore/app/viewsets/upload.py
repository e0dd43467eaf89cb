"""uploads/: chunked uploads for files too big for one request (``pulp artifact upload``)."""

import hashlib
import uuid

from django.core.files.base import File
from django.db import transaction
from drf_spectacular.utils import OpenApiParameter, extend_schema, extend_schema_view
from rest_framework import mixins, serializers, status
from rest_framework.decorators import action
from rest_framework.response import Response

from pulpcore.app.access import defaults as access_defaults
from pulpcore.app.models import Upload, UploadChunk
from pulpcore.app.serializers.base import AsyncOperationResponseSerializer
from pulpcore.app.serializers.upload import (
    UploadChunkSerializer,
    UploadCommitSerializer,
    UploadDetailSerializer,
    UploadSerializer,
    parse_content_range,
)
from pulpcore.app.viewsets.access import RolesMixin
from pulpcore.app.viewsets.base import NamedModelViewSet
from pulpcore.app.viewsets.filters.upload import UploadFilter
from pulpcore.app.viewsets.mixins import OperationPostponedResponse


@extend_schema_view(
    # Pulp documents these two bodies as Upload (a quirk of its schema the clients rely on).
    add_role=extend_schema(request=UploadSerializer),
    remove_role=extend_schema(request=UploadSerializer),
)
class UploadViewSet(
    RolesMixin,
    mixins.CreateModelMixin,
    mixins.ListModelMixin,
    mixins.RetrieveModelMixin,
    mixins.DestroyModelMixin,
    NamedModelViewSet,
):
    """Create an upload with its size, PUT chunks with Content-Range, then commit it."""

    endpoint_name = "uploads"
    DEFAULT_ACCESS_POLICY, LOCKED_ROLES = access_defaults.UPLOADS, access_defaults.UPLOAD_ROLES
    queryset = Upload.objects.prefetch_related("chunks").order_by("-pulp_created")
    serializer_class = UploadSerializer
    filterset_class = UploadFilter
    http_method_names = ["get", "post", "put", "delete", "head", "options"]

    def get_serializer_class(self):
        if self.action == "retrieve":
            return UploadDetailSerializer
        if self.action == "update":
            return UploadChunkSerializer
        if self.action == "commit":
            return UploadCommitSerializer
        return UploadSerializer

    @extend_schema(
        request={
            "multipart/form-data": UploadChunkSerializer,
            "application/x-www-form-urlencoded": UploadChunkSerializer,
        },
        responses={200: UploadSerializer},
        parameters=[OpenApiParameter("Content-Range", str, OpenApiParameter.HEADER, required=True)],
    )
    def update(self, request, *args, **kwargs):
        upload = self.get_object()
        body = UploadChunkSerializer(data=request.data)
        body.is_valid(raise_exception=True)
        start, end = parse_content_range(request.headers.get("Content-Range"), upload.size)
        incoming = body.validated_data["file"]
        if incoming.size != end - start + 1:
            raise serializers.ValidationError(
                {
                    "file": [
                        f"The chunk has {incoming.size} bytes but Content-Range announces "
                        f"{end - start + 1}."
                    ]
                }
            )
        expected = body.validated_data.get("sha256")
        if expected:
            digest = hashlib.sha256()
            for block in incoming.chunks():
                digest.update(block)
            if digest.hexdigest() != expected.strip().lower():
                raise serializers.ValidationError(
                    {"sha256": ["The chunk's sha256 does not match the provided sha256."]}
                )
            incoming.seek(0)
        chunk = UploadChunk(upload=upload, offset=start, size=incoming.size)
        chunk.file.save(f"{upload.pk}-{start}-{uuid.uuid4().hex}", File(incoming), save=False)
        try:
            with transaction.atomic():
                chunk.save()
        except Exception:
            chunk.file.storage.delete(chunk.file.name)
            raise
        upload.refresh_from_db()
        return Response(UploadSerializer(upload, context=self.get_serializer_context()).data)

    def destroy(self, request, *args, **kwargs):
        from pulpcore.app.tasks.upload import delete_upload

        delete_upload(self.get_object())
        return Response(status=status.HTTP_204_NO_CONTENT)

    @extend_schema(
        request=UploadCommitSerializer, responses={202: AsyncOperationResponseSerializer}
    )
    @action(detail=True, methods=["post"])
    def commit(self, request, pk=None):
        from pulpcore.tasking.dispatch import dispatch

        upload = self.get_object()
        body = UploadCommitSerializer(data=request.data)
        body.is_valid(raise_exception=True)
        task = dispatch(
            "pulpcore.app.tasks.upload.commit",
            args=[str(upload.pk), body.validated_data["sha256"]],
            exclusive_resources=[upload],
        )
        return OperationPostponedResponse(task, request)
