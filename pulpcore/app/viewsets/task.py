"""Tasks, task groups and workers: read them, cancel, delete and purge tasks."""

from drf_spectacular.utils import extend_schema
from rest_framework import mixins, status
from rest_framework.decorators import action
from rest_framework.response import Response

from pulpcore.app import util
from pulpcore.app.access import defaults as access_defaults
from pulpcore.app.exceptions import Conflict
from pulpcore.app.models import Task
from pulpcore.app.models.task import TASK_FINAL_STATES
from pulpcore.app.serializers.base import AsyncOperationResponseSerializer
from pulpcore.app.serializers.task import (
    PurgeSerializer,
    TaskCancelSerializer,
    TaskGroupSerializer,
    TaskSerializer,
    WorkerSerializer,
    task_group_queryset,
    worker_queryset,
)
from pulpcore.app.viewsets.access import RolesMixin
from pulpcore.app.viewsets.base import NamedModelViewSet, ReadOnlyNamedModelViewSet
from pulpcore.app.viewsets.filters.task import TaskFilter, WorkerFilter
from pulpcore.app.viewsets.mixins import OperationPostponedResponse
from pulpcore.tasking.cancel import cancel_task


# --- viewsets ------------------------------------------------------------------------------------
class TaskViewSet(
    RolesMixin,
    mixins.ListModelMixin,
    mixins.RetrieveModelMixin,
    mixins.DestroyModelMixin,
    NamedModelViewSet,
):
    """Tasks: list/read, cancel (PATCH state=canceled), delete when finished, purge."""

    endpoint_name = "tasks"
    DEFAULT_ACCESS_POLICY, LOCKED_ROLES = access_defaults.TASKS, access_defaults.TASK_ROLES
    queryset = (
        Task.objects.all()
        .select_related("worker", "parent_task", "task_group")
        .prefetch_related("progress_reports", "created_resources__content_object", "child_tasks")
        .order_by("-pulp_created")
    )
    serializer_class = TaskSerializer
    filterset_class = TaskFilter
    http_method_names = ["get", "patch", "delete", "post", "head", "options"]

    def get_serializer_class(self):
        if self.action == "partial_update":
            return TaskCancelSerializer
        if self.action == "purge":
            return PurgeSerializer
        return TaskSerializer

    @extend_schema(
        operation_id="tasks_cancel",
        request=TaskCancelSerializer,
        responses={200: TaskSerializer, 409: TaskSerializer},
    )
    def partial_update(self, request, *args, **kwargs):
        task = self.get_object()
        body = TaskCancelSerializer(data=request.data)
        body.is_valid(raise_exception=True)
        task = cancel_task(task.pk)
        return Response(TaskSerializer(task, context=self.get_serializer_context()).data)

    def destroy(self, request, *args, **kwargs):
        task = self.get_object()
        if task.state not in TASK_FINAL_STATES:
            raise Conflict(
                detail=f"Task {util.get_url(task)} is {task.state}; only finished tasks "
                "can be deleted. Cancel it first."
            )
        task.delete()
        return Response(status=status.HTTP_204_NO_CONTENT)

    @extend_schema(request=PurgeSerializer, responses={202: AsyncOperationResponseSerializer})
    @action(detail=False, methods=["post"])
    def purge(self, request):
        from pulpcore.tasking.dispatch import dispatch

        body = PurgeSerializer(data=request.data)
        body.is_valid(raise_exception=True)
        task = dispatch(
            "pulpcore.app.tasks.purge.purge",
            kwargs={
                "finished_before": body.validated_data["finished_before"].isoformat(),
                "states": body.validated_data["states"],
            },
            exclusive_resources=["/pulp/api/v3/tasks/purge/"],
        )
        return OperationPostponedResponse(task, request)


class TaskGroupViewSet(ReadOnlyNamedModelViewSet):
    endpoint_name = "task-groups"
    DEFAULT_ACCESS_POLICY = access_defaults.TASK_GROUPS
    queryset = task_group_queryset().order_by("-pulp_created")
    serializer_class = TaskGroupSerializer
    filterset_class = None


class WorkerViewSet(ReadOnlyNamedModelViewSet):
    endpoint_name = "workers"
    DEFAULT_ACCESS_POLICY = access_defaults.WORKERS
    queryset = worker_queryset().filter(resource_manager=False).order_by("name")
    serializer_class = WorkerSerializer
    filterset_class = WorkerFilter
