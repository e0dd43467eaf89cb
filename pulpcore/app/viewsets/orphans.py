"""orphans/cleanup/: remove unused content and artifacts in a task."""

from drf_spectacular.utils import extend_schema
from rest_framework import serializers
from rest_framework.decorators import action
from rest_framework.views import APIView

from pulpcore.app.access import defaults as access_defaults
from pulpcore.app.access.policy import SuperuserOnly
from pulpcore.app.models import Content
from pulpcore.app.serializers.base import AsyncOperationResponseSerializer, pks_from_hrefs
from pulpcore.app.viewsets.base import NamedModelViewSet
from pulpcore.app.viewsets.mixins import OperationPostponedResponse


class OrphansCleanupSerializer(serializers.Serializer):
    content_hrefs = serializers.ListField(child=serializers.JSONField(), required=False)
    orphan_protection_time = serializers.IntegerField(required=False, allow_null=True)

    class Meta:
        ref_name = "OrphansCleanup"

    def validate_orphan_protection_time(self, value: int | None) -> int | None:
        if value is not None and value < 0:
            raise serializers.ValidationError("orphan_protection_time must be 0 or more minutes.")
        return value

    def validate_content_hrefs(self, value: list) -> list[str]:
        return pks_from_hrefs(value, Content)


class OrphansCleanupViewSet(NamedModelViewSet):
    """Only the ``cleanup`` action; owns no hrefs."""

    endpoint_name = "orphans"
    DEFAULT_ACCESS_POLICY = access_defaults.ORPHANS
    queryset = Content.objects.none()
    owns_hrefs = False
    serializer_class = OrphansCleanupSerializer
    filterset_class = None

    @extend_schema(
        operation_id="orphans_cleanup_cleanup",
        tags=["Orphans: Cleanup"],
        request=OrphansCleanupSerializer,
        responses={202: AsyncOperationResponseSerializer},
    )
    @action(detail=False, methods=["post"])
    def cleanup(self, request):
        body = OrphansCleanupSerializer(data=request.data)
        body.is_valid(raise_exception=True)
        task = dispatch_orphan_cleanup(
            body.validated_data.get("content_hrefs"),
            body.validated_data.get("orphan_protection_time"),
        )
        return OperationPostponedResponse(task, request)


def dispatch_orphan_cleanup(content_pks: list | None = None, protection: int | None = None):
    """Queue the orphan cleanup task (shared by ``cleanup/`` and ``DELETE orphans/``; the
    periodic schedule reserves the same resource, see ``tasking/schedules.py``)."""
    from pulpcore.tasking.dispatch import dispatch

    return dispatch(
        "pulpcore.app.tasks.orphan.orphan_cleanup",
        kwargs={"content_pks": content_pks, "orphan_protection_time": protection},
        # Nothing may add content to a repository while we decide what is orphaned.
        exclusive_resources=["/pulp/api/v3/orphans/cleanup/"],
    )


class OrphansView(APIView):
    """``DELETE orphans/``: Pulp's deprecated spelling of ``orphans/cleanup/`` with defaults."""

    def get_permissions(self):
        return [SuperuserOnly()]  # as orphans/cleanup/: admin only

    @extend_schema(
        operation_id="orphans_delete",
        tags=["Orphans"],
        request=None,
        responses={202: AsyncOperationResponseSerializer},
    )
    def delete(self, request):
        return OperationPostponedResponse(dispatch_orphan_cleanup(), request)
