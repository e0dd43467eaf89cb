"""``upstream-pulps/``: CRUD of upstream Pulps (synchronous, as in Pulp) and ``replicate``.

Nothing else reads an UpstreamPulp while it runs except the replication, which copies what it
needs when it starts, so create/update/delete need no task. ``replicate`` opens a TaskGroup: one
planning task reads the upstream's distributions and adds a task per distribution plus the
cleanup to that group (see :mod:`pulpcore.app.tasks.replica`).
"""

from django.db import transaction
from drf_spectacular.utils import extend_schema
from rest_framework import mixins
from rest_framework.decorators import action

from pulpcore.app.access import defaults as access_defaults
from pulpcore.app.models import TaskGroup, UpstreamPulp
from pulpcore.app.serializers.base import TaskGroupOperationResponseSerializer
from pulpcore.app.serializers.replica import UpstreamPulpSerializer
from pulpcore.app.viewsets.access import RolesMixin
from pulpcore.app.viewsets.base import NamedModelViewSet
from pulpcore.app.viewsets.mixins import TaskGroupOperationResponse
from pulpcore.tasking.dispatch import dispatch


class UpstreamPulpViewSet(
    RolesMixin,
    mixins.CreateModelMixin,
    mixins.RetrieveModelMixin,
    mixins.ListModelMixin,
    mixins.UpdateModelMixin,
    mixins.DestroyModelMixin,
    NamedModelViewSet,
):
    """API for configuring an upstream Pulp to replicate."""

    endpoint_name = "upstream-pulps"
    queryset = UpstreamPulp.objects.all().order_by("-pulp_created")
    serializer_class = UpstreamPulpSerializer
    filterset_class = None
    DEFAULT_ACCESS_POLICY = access_defaults.UPSTREAM_PULPS
    LOCKED_ROLES = access_defaults.UPSTREAM_PULP_ROLES

    @extend_schema(
        summary="Replicate",
        description="Make this Pulp's file distributions match the upstream Pulp's.",
        request=None,
        responses={202: TaskGroupOperationResponseSerializer},
    )
    @action(detail=True, methods=["post"])
    def replicate(self, request, *args, **kwargs):
        upstream = self.get_object()
        with transaction.atomic():
            group = TaskGroup.objects.create(description=f"Replication of {upstream.name}")
            dispatch(
                "pulpcore.app.tasks.replica.replicate_distributions",
                kwargs={"upstream_pk": str(upstream.pk)},
                exclusive_resources=[upstream],
                task_group=group,
            )
        return TaskGroupOperationResponse(group, request)
