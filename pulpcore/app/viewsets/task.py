"""Tasks, task groups and workers: read them, cancel, delete and purge tasks."""

import uuid

import django_filters
from django import forms
from django.db import transaction
from django.db.models import Q
from django.utils import timezone
from drf_spectacular.utils import extend_schema, extend_schema_field
from rest_framework import mixins, status
from rest_framework.decorators import action
from rest_framework.exceptions import ValidationError
from rest_framework.response import Response

from pulpcore.app import util
from pulpcore.app.exceptions import Conflict
from pulpcore.app.filters import BaseFilterSet
from pulpcore.app.models import Task, TaskGroup, Worker
from pulpcore.app.models.task import TASK_FINAL_STATES, TASK_STATES
from pulpcore.app.serializers.base import AsyncOperationResponseSerializer
from pulpcore.app.serializers.task import (
    PurgeSerializer,
    TaskCancelSerializer,
    TaskGroupSerializer,
    TaskSerializer,
    WorkerSerializer,
    task_group_queryset,
    worker_online_cutoff,
    worker_queryset,
)
from pulpcore.app.viewsets.base import NamedModelViewSet, ReadOnlyNamedModelViewSet
from pulpcore.app.viewsets.filtersets import CharInFilter, datetime_filters, name_filters


# --- filters -------------------------------------------------------------------------------------
def _pk_from(value: str, field: str, expected=None) -> uuid.UUID:
    """A UUID given directly or as an href."""
    if util.is_uuid(value):
        return uuid.UUID(str(value))
    try:
        return util.resolve_href(value, expected).pk
    except util.HrefError as exc:
        raise ValidationError({field: [str(exc)]})


class HrefOrIdFilter(django_filters.UUIDFilter):
    """Accepts an href or a bare UUID of the related object."""

    field_class = django_filters.fields.forms.CharField

    def __init__(self, *args, expected=None, **kwargs):
        self.expected = expected
        super().__init__(*args, **kwargs)

    def filter(self, qs, value):
        if value in (None, ""):
            return qs
        pk = _pk_from(value, self.field_name, self.expected)
        return qs.filter(**{f"{self.field_name}__{self.lookup_expr}": pk}).distinct()


class HrefOrIdInFilter(django_filters.BaseInFilter, django_filters.CharFilter):
    def __init__(self, *args, expected=None, **kwargs):
        self.expected = expected
        super().__init__(*args, **kwargs)

    def filter(self, qs, value):
        if not value:
            return qs
        pks = [_pk_from(v, self.field_name, self.expected) for v in value]
        return qs.filter(**{f"{self.field_name}__in": pks})


class StrictBooleanField(forms.CharField):
    """true/false (or 1/0); anything else is a validation error, not silently ignored."""

    def to_python(self, value):
        if value in (None, ""):
            return None
        text = str(value).strip().lower()
        if text in ("true", "1"):
            return True
        if text in ("false", "0"):
            return False
        raise forms.ValidationError(f"{value!r} is not a boolean (use true or false).")


class StrictBooleanFilter(django_filters.BooleanFilter):
    field_class = StrictBooleanField


@extend_schema_field({"type": "string", "format": "uuid"})
class UUIDHrefInFilter(HrefOrIdInFilter):
    """Hrefs or UUIDs, documented as UUIDs like Pulp does."""


class StateNeFilter(django_filters.CharFilter):
    def filter(self, qs, value):
        if value and value not in TASK_STATES:
            raise ValidationError(
                {"state__ne": [f"Unknown state {value!r}; valid: {', '.join(TASK_STATES)}."]}
            )
        return super().filter(qs, value)


class StateInFilter(django_filters.BaseInFilter, django_filters.CharFilter):
    def filter(self, qs, value):
        if not value:
            return qs
        bad = [v for v in value if v not in TASK_STATES]
        if bad:
            raise ValidationError(
                {
                    "state__in": [
                        f"Unknown state(s) {', '.join(bad)}; valid: {', '.join(TASK_STATES)}."
                    ]
                }
            )
        return qs.filter(state__in=value)


class ResourceFilter(django_filters.CharFilter):
    """Tasks whose reserved resources include a value (exclusive, shared or either)."""

    def __init__(self, *args, kind: str = "any", **kwargs):
        self.kind = kind
        super().__init__(*args, **kwargs)

    def _q(self, value: str) -> Q:
        if self.kind == "exclusive":
            return Q(reserved_resources_record__contains=[value])
        if self.kind == "shared":
            return Q(reserved_resources_record__contains=[f"shared:{value}"])
        return Q(reserved_resources_record__contains=[value]) | Q(
            reserved_resources_record__contains=[f"shared:{value}"]
        )

    def filter(self, qs, value):
        if not value:
            return qs
        return qs.filter(self._q(value))


class ResourceInFilter(django_filters.BaseInFilter, ResourceFilter):
    def filter(self, qs, value):
        if not value:
            return qs
        q = Q()
        for item in value:
            q |= self._q(item)
        return qs.filter(q)


@extend_schema_field({"type": "array", "items": {"type": "string"}, "nullable": True})
class ReservedResourcesRecordFilter(django_filters.CharFilter):
    """``reserved_resources_record``: tasks whose record contains every given entry."""

    def filter(self, qs, value):
        if not value:
            return qs
        items = [v for v in self.parent.data.getlist(self.field_name)] if self.parent else [value]
        return qs.filter(reserved_resources_record__contains=items)


class TaskFilter(BaseFilterSet):
    state = django_filters.ChoiceFilter(choices=[(s, s) for s in TASK_STATES])
    state__in = StateInFilter(field_name="state")
    state__ne = StateNeFilter(field_name="state", exclude=True)
    name = django_filters.CharFilter()
    name__contains = django_filters.CharFilter(field_name="name", lookup_expr="contains")
    name__in = CharInFilter(field_name="name", lookup_expr="in")
    name__ne = django_filters.CharFilter(field_name="name", exclude=True)
    logging_cid = django_filters.CharFilter()
    logging_cid__contains = django_filters.CharFilter(
        field_name="logging_cid", lookup_expr="contains"
    )
    locals().update(datetime_filters("started_at"))
    locals().update(datetime_filters("finished_at"))
    worker = HrefOrIdFilter(field_name="worker", lookup_expr="exact", expected=Worker)
    worker__in = UUIDHrefInFilter(field_name="worker", expected=Worker)
    worker__isnull = StrictBooleanFilter(field_name="worker", lookup_expr="isnull")
    parent_task = HrefOrIdFilter(field_name="parent_task", lookup_expr="exact", expected=Task)
    child_tasks = HrefOrIdFilter(field_name="child_tasks", lookup_expr="exact", expected=Task)
    task_group = HrefOrIdFilter(field_name="task_group", lookup_expr="exact", expected=TaskGroup)
    created_resources = HrefOrIdFilter(
        field_name="created_resources__object_id", lookup_expr="exact"
    )
    reserved_resources = ResourceFilter()
    reserved_resources__in = ResourceInFilter()
    exclusive_resources = ResourceFilter(kind="exclusive")
    exclusive_resources__in = ResourceInFilter(kind="exclusive")
    shared_resources = ResourceFilter(kind="shared")
    shared_resources__in = ResourceInFilter(kind="shared")
    reserved_resources_record = ReservedResourcesRecordFilter()
    ordering = django_filters.OrderingFilter(
        fields=(
            ("pk", "pk"),
            ("pulp_id", "pulp_id"),
            ("pulp_created", "pulp_created"),
            ("pulp_last_updated", "pulp_last_updated"),
            ("state", "state"),
            ("name", "name"),
            ("logging_cid", "logging_cid"),
            ("unblocked_at", "unblocked_at"),
            ("started_at", "started_at"),
            ("finished_at", "finished_at"),
            ("error", "error"),
            ("args", "enc_args"),
            ("kwargs", "enc_kwargs"),
            ("reserved_resources_record", "reserved_resources_record"),
            ("versions", "versions"),
        )
    )

    class Meta:
        model = Task
        fields = []


class WorkerFilter(BaseFilterSet):
    locals().update(name_filters("name"))
    locals().update(datetime_filters("last_heartbeat"))
    online = StrictBooleanFilter(method="filter_online")
    missing = StrictBooleanFilter(method="filter_missing")
    ordering = django_filters.OrderingFilter(
        fields=(
            ("pk", "pk"),
            ("pulp_id", "pulp_id"),
            ("pulp_created", "pulp_created"),
            ("pulp_last_updated", "pulp_last_updated"),
            ("name", "name"),
            ("last_heartbeat", "last_heartbeat"),
            ("versions", "versions"),
        )
    )

    class Meta:
        model = Worker
        fields = []

    def filter_online(self, qs, name, value):
        online = Q(last_heartbeat__gte=worker_online_cutoff(), gracefully_stopped=False)
        return qs.filter(online) if value else qs.exclude(online)

    def filter_missing(self, qs, name, value):
        missing = Q(last_heartbeat__lt=worker_online_cutoff(), gracefully_stopped=False)
        return qs.filter(missing) if value else qs.exclude(missing)


# --- viewsets ------------------------------------------------------------------------------------
class TaskViewSet(
    mixins.ListModelMixin,
    mixins.RetrieveModelMixin,
    mixins.DestroyModelMixin,
    NamedModelViewSet,
):
    """Tasks: list/read, cancel (PATCH state=canceled), delete when finished, purge."""

    endpoint_name = "tasks"
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
        return Response({"task": util.get_url(task)}, status=status.HTTP_202_ACCEPTED)


def cancel_task(task_id) -> Task:
    """Cancel a task: a waiting one at once, a running one by asking its worker to stop it.

    Raises Conflict (409) when the task already finished.
    """
    now = timezone.now()
    with transaction.atomic():
        task = Task.objects.select_for_update().get(pk=task_id)
        if task.state in TASK_FINAL_STATES:
            raise Conflict(
                detail=f"Task {util.get_url(task)} is already {task.state} and cannot be canceled."
            )
        if task.state == "waiting":
            task.state = "canceled"
            task.finished_at = now
            task.save(update_fields=["state", "finished_at", "pulp_last_updated"])
        elif task.state == "running":
            task.state = "canceling"
            task.save(update_fields=["state", "pulp_last_updated"])
    from pulpcore.tasking import pg

    transaction.on_commit(lambda: pg.notify("cancel"))
    return Task.objects.get(pk=task_id)


class TaskGroupViewSet(ReadOnlyNamedModelViewSet):
    endpoint_name = "task-groups"
    queryset = task_group_queryset().order_by("-pulp_created")
    serializer_class = TaskGroupSerializer
    filterset_class = None


class WorkerViewSet(ReadOnlyNamedModelViewSet):
    endpoint_name = "workers"
    queryset = worker_queryset().filter(resource_manager=False).order_by("name")
    serializer_class = WorkerSerializer
    filterset_class = WorkerFilter
