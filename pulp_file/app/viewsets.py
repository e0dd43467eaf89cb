"""Endpoints of the file plugin: content/file/files, repositories/file/file (+ versions),
remotes/file/file, publications/file/file and distributions/file/file."""

from drf_spectacular.utils import extend_schema
from rest_framework.decorators import action

from pulp_file.app.filters import FileContentFilter
from pulp_file.app.models import (
    FileAlternateContentSource,
    FileContent,
    FileDistribution,
    FilePublication,
    FileRemote,
    FileRepository,
)
from pulp_file.app.serializers import (
    FileAlternateContentSourceSerializer,
    FileContentSerializer,
    FileDistributionSerializer,
    FilePublicationSerializer,
    FileRemoteSerializer,
    FileRepositorySerializer,
)
from pulpcore.plugin.access_policy import RolesMixin, allow, object_policy, object_roles
from pulpcore.plugin.models import RepositoryVersion
from pulpcore.plugin.serializers import (
    AsyncOperationResponseSerializer,
    RepositorySyncURLSerializer,
)
from pulpcore.plugin.tasking import dispatch
from pulpcore.plugin.viewsets import (
    AlternateContentSourceViewSet,
    ContentViewSet,
    DistributionViewSet,
    OperationPostponedResponse,
    PublicationViewSet,
    RemoteViewSet,
    RepositoryVersionViewSet,
    RepositoryViewSet,
)


class FileContentViewSet(ContentViewSet):
    """``content/file/files/``: files created from an artifact or an upload."""

    endpoint_name = "files"
    queryset = FileContent.objects.all()
    serializer_class = FileContentSerializer
    filterset_class = FileContentFilter
    DEFAULT_ACCESS_POLICY = {
        "statements": [
            allow(["list", "retrieve"]),
            allow(
                "create",
                [
                    "has_required_repo_perms_on_upload:file.modify_filerepository",
                    "has_required_repo_perms_on_upload:file.view_filerepository",
                    "has_upload_param_model_or_obj_perms:core.change_upload",
                ],
            ),
        ],
        "queryset_scoping": {"function": "scope_queryset"},
    }


_REPO_VIEW = "has_model_or_obj_perms:file.view_filerepository"
_REMOTE_VIEW = "has_remote_param_model_or_obj_perms:file.view_fileremote"


class FileRepositoryViewSet(RolesMixin, RepositoryViewSet):
    """``repositories/file/file/``: file repositories, their sync and modify actions."""

    endpoint_name = "file"
    queryset = FileRepository.objects.all()
    serializer_class = FileRepositorySerializer
    DEFAULT_ACCESS_POLICY = object_policy(
        "file",
        "filerepository",
        create_condition=_REMOTE_VIEW,
        extra=[
            allow(
                "sync",
                ["has_model_or_obj_perms:file.sync_filerepository", _REMOTE_VIEW, _REPO_VIEW],
            ),
            allow(
                "modify",
                [
                    "has_model_or_obj_perms:file.modify_filerepository",
                    _REPO_VIEW,
                    "has_base_version_param_model_or_obj_perms:file.view_filerepository",
                ],
            ),
        ],
    )
    LOCKED_ROLES = object_roles("file", "filerepository", owner_extra=("modify", "sync", "repair"))

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
        return OperationPostponedResponse(task, request)


class FileRepositoryVersionViewSet(RepositoryVersionViewSet):
    """``repositories/file/file/<pk>/versions/``."""

    endpoint_name = "versions"
    parent_viewset = FileRepositoryViewSet
    queryset = RepositoryVersion.objects.all()
    DEFAULT_ACCESS_POLICY = {
        "statements": [
            allow(
                ["list", "retrieve"], "has_repository_model_or_obj_perms:file.view_filerepository"
            ),
            allow("destroy", "has_repository_model_or_obj_perms:file.delete_filerepository"),
            allow("repair", "has_repository_model_or_obj_perms:file.repair_filerepository"),
        ]
    }


class FileRemoteViewSet(RolesMixin, RemoteViewSet):
    """``remotes/file/file/``."""

    endpoint_name = "file"
    queryset = FileRemote.objects.all()
    serializer_class = FileRemoteSerializer
    DEFAULT_ACCESS_POLICY = object_policy("file", "fileremote")
    LOCKED_ROLES = object_roles("file", "fileremote")


class FilePublicationViewSet(RolesMixin, PublicationViewSet):
    """``publications/file/file/``: publish the latest or a given version (202)."""

    endpoint_name = "file"
    queryset = FilePublication.objects.all()
    serializer_class = FilePublicationSerializer
    DEFAULT_ACCESS_POLICY = object_policy(
        "file",
        "filepublication",
        create_condition="has_repo_or_repo_ver_param_model_or_obj_perms:file.view_filerepository",
    )
    LOCKED_ROLES = {
        "file.filepublication_creator": ["file.add_filepublication"],
        "file.filepublication_owner": [
            "file.view_filepublication",
            "file.delete_filepublication",
            "file.manage_roles_filepublication",
        ],
        "file.filepublication_viewer": ["file.view_filepublication"],
    }

    @extend_schema(responses={202: AsyncOperationResponseSerializer})
    def create(self, request, *args, **kwargs):
        serializer = self.get_serializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        version = serializer.validated_data["repository_version"]
        manifest = serializer.validated_data.get("manifest", "PULP_MANIFEST")
        return self.dispatch_publish(
            "pulp_file.app.tasks.publishing.publish", version, manifest=manifest
        )


class FileDistributionViewSet(RolesMixin, DistributionViewSet):
    """``distributions/file/file/``."""

    endpoint_name = "file"
    queryset = FileDistribution.objects.all()
    serializer_class = FileDistributionSerializer
    DEFAULT_ACCESS_POLICY = object_policy(
        "file",
        "filedistribution",
        create_condition=[
            "has_repo_attr_model_or_obj_perms:file.view_filerepository",
            "has_publication_param_model_or_obj_perms:file.view_filepublication",
        ],
    )
    LOCKED_ROLES = object_roles("file", "filedistribution")


class FileAlternateContentSourceViewSet(RolesMixin, AlternateContentSourceViewSet):
    """``acs/file/file/``: file ACSes; ``refresh`` reads each path's PULP_MANIFEST."""

    endpoint_name = "file"
    queryset = FileAlternateContentSource.objects.all()
    serializer_class = FileAlternateContentSourceSerializer
    refresh_task = "pulp_file.app.tasks.synchronizing.refresh_acs_path"
    DEFAULT_ACCESS_POLICY = object_policy(
        "file",
        "filealternatecontentsource",
        create_condition=_REMOTE_VIEW,
        extra=[
            allow(
                "refresh",
                [
                    "has_model_or_obj_perms:file.refresh_filealternatecontentsource",
                    "has_model_or_obj_perms:file.view_filealternatecontentsource",
                ],
            ),
        ],
    )
    LOCKED_ROLES = object_roles("file", "filealternatecontentsource", owner_extra=("refresh",))
