"""Admin endpoints: signing services, task schedules, artifact distributions (read-only), and
the ``repositories/reclaim_space/`` and ``repair/`` operations."""

from drf_spectacular.utils import extend_schema
from rest_framework import mixins
from rest_framework.views import APIView

from pulpcore.app.access import defaults as access_defaults
from pulpcore.app.access.policy import SuperuserOnly
from pulpcore.app.models import ArtifactDistribution, Repository, SigningService, TaskSchedule
from pulpcore.app.serializers.admin import (
    ArtifactDistributionSerializer,
    ReclaimSpaceSerializer,
    SigningServiceSerializer,
    TaskScheduleSerializer,
)
from pulpcore.app.serializers.base import AsyncOperationResponseSerializer
from pulpcore.app.serializers.repository import RepairSerializer
from pulpcore.app.viewsets.access import RolesMixin
from pulpcore.app.viewsets.base import NamedModelViewSet, ReadOnlyNamedModelViewSet
from pulpcore.app.viewsets.filters.admin import SigningServiceFilter, TaskScheduleFilter
from pulpcore.app.viewsets.filters.publication import DistributionFilter
from pulpcore.app.viewsets.mixins import OperationPostponedResponse
from pulpcore.app.viewsets.publication import ListDistributionViewSet
from pulpcore.tasking.dispatch import dispatch


class SigningServiceViewSet(ReadOnlyNamedModelViewSet):
    """``signing-services/``: registered with ``pulpcore-manager add-signing-service``."""

    endpoint_name = "signing-services"
    queryset = SigningService.objects.order_by("name")
    serializer_class = SigningServiceSerializer
    filterset_class = SigningServiceFilter
    # As in Pulp: every user may see which signing services exist (plugins let them pick one).
    DEFAULT_ACCESS_POLICY = {"statements": [access_defaults.allow(["list", "retrieve"])]}


class TaskScheduleViewSet(RolesMixin, ReadOnlyNamedModelViewSet):
    """``task-schedules/``: what the workers dispatch periodically (configured in settings)."""

    endpoint_name = "task-schedules"
    queryset = TaskSchedule.objects.select_related("last_task").order_by("name")
    serializer_class = TaskScheduleSerializer
    filterset_class = TaskScheduleFilter
    # As in Pulp: listed to everyone, scoped to the schedules they may view.
    DEFAULT_ACCESS_POLICY = {
        "statements": [
            access_defaults.allow(["list", "my_permissions"]),
            access_defaults.allow("retrieve", "has_model_or_obj_perms:core.view_taskschedule"),
            access_defaults.allow(
                ["list_roles", "add_role", "remove_role"],
                "has_model_or_obj_perms:core.manage_roles_taskschedule",
            ),
        ],
        "queryset_scoping": access_defaults.SCOPED,
    }
    LOCKED_ROLES = {
        "core.taskschedule_owner": ["core.view_taskschedule", "core.manage_roles_taskschedule"],
        "core.taskschedule_viewer": ["core.view_taskschedule"],
    }


class ArtifactDistributionViewSet(
    mixins.RetrieveModelMixin, mixins.ListModelMixin, NamedModelViewSet
):
    """``distributions/core/artifacts/``: list and read only, as in Pulp."""

    endpoint_name = "artifacts"
    queryset = ArtifactDistribution.objects.select_related("content_guard").order_by(
        "-pulp_created"
    )
    serializer_class = ArtifactDistributionSerializer
    filterset_class = DistributionFilter
    DEFAULT_ACCESS_POLICY = {"statements": [access_defaults.allow(["list", "retrieve"])]}

    @classmethod
    def master_viewset(cls):
        return ListDistributionViewSet


class ReclaimSpaceView(APIView):
    """``repositories/reclaim_space/``: give back the disk space of content no one needs."""

    permission_classes = [SuperuserOnly]

    @extend_schema(
        operation_id="repositories_reclaim_space_reclaim",
        tags=["Repositories: Reclaim_Space"],
        request=ReclaimSpaceSerializer,
        responses={202: AsyncOperationResponseSerializer},
    )
    def post(self, request):
        """Delete the stored files that only the reclaimed versions need."""
        body = ReclaimSpaceSerializer(data=request.data)
        body.is_valid(raise_exception=True)
        repos = list(Repository.objects.filter(pk__in=body.validated_data["repo_hrefs"]))
        task = dispatch(
            "pulpcore.app.tasks.reclaim.reclaim_space",
            exclusive_resources=[repo.cast() for repo in repos],
            # Artifacts are deleted: not while orphan cleanup or a repair works on them.
            shared_resources=["/pulp/api/v3/orphans/cleanup/", "/pulp/api/v3/repair/"],
            kwargs={
                "repo_pks": body.validated_data["repo_hrefs"],
                "keeplist_pks": body.validated_data["repo_versions_keeplist"],
            },
        )
        return OperationPostponedResponse(task, request)


class RepairView(APIView):
    """``repair/``: check every stored artifact; re-download what is missing or corrupted."""

    permission_classes = [SuperuserOnly]

    @extend_schema(
        operation_id="repair_post",
        tags=["Repair"],
        request=RepairSerializer,
        responses={202: AsyncOperationResponseSerializer},
    )
    def post(self, request):
        body = RepairSerializer(data=request.data)
        body.is_valid(raise_exception=True)
        task = dispatch(
            "pulpcore.app.tasks.repair.repair_all_artifacts",
            kwargs={"verify_checksums": body.validated_data["verify_checksums"]},
            # Orphan cleanup must not delete an artifact while it is being re-downloaded.
            exclusive_resources=["/pulp/api/v3/repair/"],
            shared_resources=["/pulp/api/v3/orphans/cleanup/"],
        )
        return OperationPostponedResponse(task, request)
