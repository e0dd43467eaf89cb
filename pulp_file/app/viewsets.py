"""Endpoints of the file plugin: content/file/files, repositories/file/file (+ versions),
remotes/file/file, publications/file/file and distributions/file/file."""

from drf_spectacular.utils import extend_schema
from rest_framework.decorators import action

from pulp_file.app.filters import FileContentFilter
from pulp_file.app.models import (
    FileContent,
    FileDistribution,
    FilePublication,
    FileRemote,
    FileRepository,
)
from pulp_file.app.serializers import (
    FileContentSerializer,
    FileDistributionSerializer,
    FilePublicationSerializer,
    FileRemoteSerializer,
    FileRepositorySerializer,
)
from pulpcore.plugin.models import RepositoryVersion
from pulpcore.plugin.serializers import (
    AsyncOperationResponseSerializer,
    RepositorySyncURLSerializer,
)
from pulpcore.plugin.tasking import dispatch
from pulpcore.plugin.viewsets import (
    ContentViewSet,
    DistributionViewSet,
    PublicationViewSet,
    RemoteViewSet,
    RepositoryVersionViewSet,
    RepositoryViewSet,
    task_response,
)


class FileContentViewSet(ContentViewSet):
    """``content/file/files/``: files created from an artifact or an upload."""

    endpoint_name = "files"
    queryset = FileContent.objects.all()
    serializer_class = FileContentSerializer
    filterset_class = FileContentFilter


class FileRepositoryViewSet(RepositoryViewSet):
    """``repositories/file/file/``: file repositories, their sync and modify actions."""

    endpoint_name = "file"
    queryset = FileRepository.objects.all()
    serializer_class = FileRepositorySerializer

    @extend_schema(
        request=RepositorySyncURLSerializer, responses={202: AsyncOperationResponseSerializer}
    )
    @action(detail=True, methods=["post"], serializer_class=RepositorySyncURLSerializer)
    def sync(self, request, *args, **kwargs):
        """Sync from the remote's PULP_MANIFEST; ``mirror`` drops files the remote lacks."""
        repository = self.get_object()
        serializer = RepositorySyncURLSerializer(
            data=request.data, context={"request": request, "repository": repository}
        )
        serializer.is_valid(raise_exception=True)
        remote = serializer.validated_data["remote"]
        task = dispatch(
            "pulp_file.app.tasks.synchronizing.synchronize",
            exclusive_resources=[repository],
            shared_resources=[remote],
            kwargs={
                "remote_pk": str(remote.pk),
                "repository_pk": str(repository.pk),
                "mirror": serializer.validated_data["mirror"],
            },
        )
        return task_response(task)


class FileRepositoryVersionViewSet(RepositoryVersionViewSet):
    """``repositories/file/file/<pk>/versions/``."""

    endpoint_name = "versions"
    parent_viewset = FileRepositoryViewSet
    queryset = RepositoryVersion.objects.all()


class FileRemoteViewSet(RemoteViewSet):
    """``remotes/file/file/``."""

    endpoint_name = "file"
    queryset = FileRemote.objects.all()
    serializer_class = FileRemoteSerializer


class FilePublicationViewSet(PublicationViewSet):
    """``publications/file/file/``: publish the latest or a given version (202)."""

    endpoint_name = "file"
    queryset = FilePublication.objects.all()
    serializer_class = FilePublicationSerializer

    @extend_schema(responses={202: AsyncOperationResponseSerializer})
    def create(self, request, *args, **kwargs):
        serializer = self.get_serializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        version = serializer.validated_data["repository_version"]
        manifest = serializer.validated_data.get("manifest", "PULP_MANIFEST")
        return self.dispatch_publish(
            "pulp_file.app.tasks.publishing.publish", version, manifest=manifest
        )


class FileDistributionViewSet(DistributionViewSet):
    """``distributions/file/file/``."""

    endpoint_name = "file"
    queryset = FileDistribution.objects.all()
    serializer_class = FileDistributionSerializer
