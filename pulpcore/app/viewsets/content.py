"""Content units: the base plugins subclass for their content types, and the generic list."""

from drf_spectacular.utils import extend_schema
from rest_framework import mixins
from rest_framework.parsers import FormParser, MultiPartParser

from pulpcore.app.access import defaults as access_defaults
from pulpcore.app.models import Content
from pulpcore.app.serializers.base import AsyncOperationResponseSerializer
from pulpcore.app.serializers.content import MultipleArtifactContentSerializer, attach_artifacts
from pulpcore.app.upload_handlers import HashingFileUploadHandler
from pulpcore.app.viewsets.base import ListOnlyViewSet, NamedModelViewSet
from pulpcore.app.viewsets.filters.content import ContentFilter, GenericContentFilter
from pulpcore.app.viewsets.mixins import OperationPostponedResponse
from pulpcore.tasking.dispatch import dispatch


class ArtifactsAttachedMixin:
    """Attach the artifacts of the units a list page serializes, in one query a page."""

    def paginate_queryset(self, queryset):
        page = super().paginate_queryset(queryset)  # type: ignore[misc]
        if page is not None:
            attach_artifacts(page)
        return page


class ReadOnlyContentViewSet(
    ArtifactsAttachedMixin, mixins.RetrieveModelMixin, mixins.ListModelMixin, NamedModelViewSet
):
    """Base of every plugin's content endpoint that only lists and reads."""

    endpoint_name = "content"
    filterset_class = ContentFilter
    DEFAULT_ACCESS_POLICY = access_defaults.CONTENT
    rbac_scope = access_defaults.scope_content

    def get_queryset(self):
        return super().get_queryset().order_by("-pulp_created")


class ContentViewSet(ReadOnlyContentViewSet):
    """Content created asynchronously from an artifact, an uploaded file or a chunked upload.

    The serializer must derive from ``SingleArtifactContentUploadSerializer`` (or provide
    ``task_payload()``); the task re-validates it and optionally makes a new repository version.
    """

    parser_classes = (MultiPartParser, FormParser)

    def initialize_request(self, request, *args, **kwargs):
        # Hash uploaded files while they are written to WORKING_DIRECTORY (no second read).
        if request.method == "POST":
            request.upload_handlers = [HashingFileUploadHandler(request)]
        return super().initialize_request(request, *args, **kwargs)

    @extend_schema(responses={202: AsyncOperationResponseSerializer})
    def create(self, request, *args, **kwargs):
        serializer = self.get_serializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        data = serializer.validated_data
        repository = data.get("repository")
        upload = data.get("upload")
        payload = serializer.task_payload()
        cls = type(serializer)
        task = dispatch(
            "pulpcore.app.tasks.content.general_content_create",
            kwargs={
                "serializer_name": f"{cls.__module__}.{cls.__qualname__}",
                "data": payload,
                "upload_pk": str(upload.pk) if upload is not None else None,
            },
            exclusive_resources=[repository] if repository is not None else [],
            shared_resources=[upload] if upload is not None else [],
        )
        return OperationPostponedResponse(task, request)


class ListContentViewSet(ArtifactsAttachedMixin, ListOnlyViewSet):
    """``content/``: every content unit of every type."""

    endpoint_name = "content"
    queryset = Content.objects.all().order_by("-pulp_created")
    serializer_class = MultipleArtifactContentSerializer
    filterset_class = GenericContentFilter
    rbac_scope = access_defaults.scope_content
