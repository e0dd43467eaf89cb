"""``acs/<plugin>/<type>/``: alternate content sources and their ``refresh`` (a task group)."""

from django.db import transaction
from drf_spectacular.utils import extend_schema
from rest_framework import mixins
from rest_framework.decorators import action

from pulpcore.app.models import TaskGroup
from pulpcore.app.serializers.base import TaskGroupOperationResponseSerializer
from pulpcore.app.viewsets.base import NamedModelViewSet
from pulpcore.app.viewsets.filters.acs import AlternateContentSourceFilter
from pulpcore.app.viewsets.mixins import (
    AsyncRemoveMixin,
    AsyncUpdateMixin,
    TaskGroupOperationResponse,
)
from pulpcore.tasking.dispatch import dispatch


class AlternateContentSourceViewSet(
    mixins.CreateModelMixin,
    mixins.RetrieveModelMixin,
    mixins.ListModelMixin,
    AsyncUpdateMixin,
    AsyncRemoveMixin,
    NamedModelViewSet,
):
    """Base of every ACS endpoint: create (201), read, async update and delete, ``refresh``.

    Plugins set ``queryset``, ``serializer_class``, ``endpoint_name`` and ``refresh_task``: the
    dotted name of the task that syncs one path (``acs_pk``, ``path_pk`` keyword arguments)
    into its hidden repository without downloading.
    """

    endpoint_name = "acs"
    filterset_class = AlternateContentSourceFilter
    refresh_task: str | None = None

    def get_queryset(self):
        return (
            super()
            .get_queryset()
            .select_related("remote")
            .prefetch_related("paths")
            .order_by("-pulp_created")
        )

    @extend_schema(
        request=None,
        responses={202: TaskGroupOperationResponseSerializer},
    )
    @action(detail=True, methods=["post"], serializer_class=None)
    def refresh(self, request, *args, **kwargs):
        """One task per path (or one for the remote's URL), all in one task group."""
        acs = self.get_object()
        with transaction.atomic():
            group = TaskGroup.objects.create(description=f"Refreshing {acs.name}")
            for path in acs.paths.order_by("path"):
                repository = path.ensure_repository()
                dispatch(
                    self.refresh_task,
                    exclusive_resources=[repository],
                    shared_resources=[acs.remote.cast(), acs],
                    kwargs={"acs_pk": str(acs.pk), "path_pk": str(path.pk)},
                    task_group=group,
                )
            group.all_tasks_dispatched = True
            group.save(update_fields=["all_tasks_dispatched"])
        return TaskGroupOperationResponse(group, request)
