"""Serializers of tasks, task groups, progress reports and workers (contract component names)."""

from datetime import timedelta

from django.conf import settings
from django.db.models import Count, OuterRef, Q, Subquery
from django.utils import timezone
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from pulpcore.app import util
from pulpcore.app.models import (
    GroupProgressReport,
    ProgressReport,
    Task,
    TaskGroup,
    Worker,
)
from pulpcore.app.models.task import TASK_FINAL_STATES, TASK_STATES
from pulpcore.app.serializers.base import FieldSelectionMixin, ModelSerializer, RelatedField


def _href_or_none(obj) -> str | None:
    if obj is None:
        return None
    try:
        return util.get_url(obj)
    except LookupError:
        return None


class ProgressReportSerializer(serializers.ModelSerializer):
    message = serializers.CharField(read_only=True)
    code = serializers.CharField(read_only=True)
    state = serializers.CharField(read_only=True)
    total = serializers.IntegerField(read_only=True)
    done = serializers.IntegerField(read_only=True)
    suffix = serializers.CharField(read_only=True, allow_null=True)

    class Meta:
        model = ProgressReport
        fields = ("message", "code", "state", "total", "done", "suffix")


class GroupProgressReportSerializer(serializers.ModelSerializer):
    message = serializers.CharField(read_only=True)
    code = serializers.CharField(read_only=True)
    total = serializers.IntegerField(read_only=True)
    done = serializers.IntegerField(read_only=True)
    suffix = serializers.CharField(read_only=True, allow_null=True)

    class Meta:
        model = GroupProgressReport
        fields = ("message", "code", "total", "done", "suffix")


@extend_schema_field(
    {"type": "object", "additionalProperties": {"type": "object"}, "readOnly": True}
)
class TaskErrorField(serializers.JSONField):
    """``{"description": ..., "traceback": ...}`` of a failed task (null otherwise)."""


class TaskSerializer(ModelSerializer):
    """A task as users poll it: state, timings, error, progress and what it created."""

    state = serializers.CharField(read_only=True)
    name = serializers.CharField()
    logging_cid = serializers.CharField(allow_blank=True)
    created_by = serializers.SerializerMethodField()
    unblocked_at = serializers.DateTimeField(read_only=True)
    started_at = serializers.DateTimeField(read_only=True)
    finished_at = serializers.DateTimeField(read_only=True)
    error = TaskErrorField(read_only=True)
    worker = RelatedField(read_only=True)
    parent_task = RelatedField(read_only=True)
    child_tasks = serializers.SerializerMethodField()
    task_group = RelatedField(read_only=True)
    progress_reports = ProgressReportSerializer(many=True, read_only=True)
    created_resources = serializers.SerializerMethodField()
    reserved_resources_record = serializers.ListField(child=serializers.CharField(), read_only=True)

    class Meta:
        model = Task
        fields = ModelSerializer.Meta.fields + (
            "state",
            "name",
            "logging_cid",
            "created_by",
            "unblocked_at",
            "started_at",
            "finished_at",
            "error",
            "worker",
            "parent_task",
            "child_tasks",
            "task_group",
            "progress_reports",
            "created_resources",
            "reserved_resources_record",
        )

    @extend_schema_field(OpenApiTypes.STR)
    def get_created_by(self, obj: Task) -> str | None:
        if obj.created_by_id is None:
            return None
        return f"{util.api_root()}users/{obj.created_by_id}/"

    @extend_schema_field(serializers.ListField(child=serializers.URLField()))
    def get_child_tasks(self, obj: Task) -> list[str]:
        return [util.get_url(t) for t in obj.child_tasks.all()]

    @extend_schema_field(serializers.ListField(child=serializers.URLField()))
    def get_created_resources(self, obj: Task) -> list[str]:
        hrefs = []
        for created in obj.created_resources.all():
            href = _href_or_none(created.content_object)
            if href:
                hrefs.append(href)
        return hrefs


class MinimalTaskSerializer(TaskSerializer):
    class Meta:
        model = Task
        fields = ModelSerializer.Meta.fields + (
            "name",
            "state",
            "unblocked_at",
            "started_at",
            "finished_at",
            "worker",
        )


class TaskCancelSerializer(serializers.Serializer):
    """Body of ``PATCH {task_href}``: only ``{"state": "canceled"}`` is accepted."""

    state = serializers.CharField()

    def validate_state(self, value: str) -> str:
        if value != "canceled":
            raise serializers.ValidationError(
                f"The only valid state to set is 'canceled', not {value!r}."
            )
        return value


class TaskGroupSerializer(FieldSelectionMixin, serializers.ModelSerializer):
    pulp_href = serializers.SerializerMethodField()
    description = serializers.CharField()
    all_tasks_dispatched = serializers.BooleanField()
    waiting = serializers.SerializerMethodField()
    skipped = serializers.SerializerMethodField()
    running = serializers.SerializerMethodField()
    completed = serializers.SerializerMethodField()
    canceled = serializers.SerializerMethodField()
    failed = serializers.SerializerMethodField()
    canceling = serializers.SerializerMethodField()
    group_progress_reports = GroupProgressReportSerializer(many=True, read_only=True)
    tasks = MinimalTaskSerializer(many=True, read_only=True)

    class Meta:
        model = TaskGroup
        fields = (
            "pulp_href",
            "description",
            "all_tasks_dispatched",
            "waiting",
            "skipped",
            "running",
            "completed",
            "canceled",
            "failed",
            "canceling",
            "group_progress_reports",
            "tasks",
        )

    @extend_schema_field(serializers.URLField(read_only=True))
    def get_pulp_href(self, obj) -> str:
        return util.get_url(obj)

    def _counts(self, obj) -> dict:
        """Tasks per state: from the list queryset's annotations, else one query."""
        if hasattr(obj, "n_waiting"):
            return {state: getattr(obj, f"n_{state}") for state in TASK_STATES}
        cache = self.__dict__.setdefault("_count_cache", {})
        if obj.pk not in cache:
            rows = obj.tasks.values("state").annotate(n=Count("pk")).order_by()
            cache[obj.pk] = {r["state"]: r["n"] for r in rows}
        return cache[obj.pk]

    @extend_schema_field(OpenApiTypes.INT64)
    def get_waiting(self, obj) -> int:
        return self._counts(obj).get("waiting", 0)

    @extend_schema_field(OpenApiTypes.INT64)
    def get_skipped(self, obj) -> int:
        return self._counts(obj).get("skipped", 0)

    @extend_schema_field(OpenApiTypes.INT64)
    def get_running(self, obj) -> int:
        return self._counts(obj).get("running", 0)

    @extend_schema_field(OpenApiTypes.INT64)
    def get_completed(self, obj) -> int:
        return self._counts(obj).get("completed", 0)

    @extend_schema_field(OpenApiTypes.INT64)
    def get_canceled(self, obj) -> int:
        return self._counts(obj).get("canceled", 0)

    @extend_schema_field(OpenApiTypes.INT64)
    def get_failed(self, obj) -> int:
        return self._counts(obj).get("failed", 0)

    @extend_schema_field(OpenApiTypes.INT64)
    def get_canceling(self, obj) -> int:
        return self._counts(obj).get("canceling", 0)


class WorkerSerializer(ModelSerializer):
    name = serializers.CharField(read_only=True)
    last_heartbeat = serializers.DateTimeField(read_only=True)
    versions = serializers.DictField(child=serializers.CharField(allow_null=True), read_only=True)
    current_task = serializers.SerializerMethodField()

    class Meta:
        model = Worker
        fields = ModelSerializer.Meta.fields + (
            "name",
            "last_heartbeat",
            "versions",
            "current_task",
        )

    @extend_schema_field(serializers.URLField(read_only=True))
    def get_current_task(self, obj: Worker) -> str | None:
        if hasattr(obj, "current_task_id"):
            task_id = obj.current_task_id
        else:
            task_id = (
                obj.tasks.filter(state__in=("running", "canceling")).values_list("pk", flat=True)
            ).first()
        return util.get_url(Task(pk=task_id)) if task_id else None


def _default_finished_before():
    return timezone.now() - timedelta(days=30)


class PurgeSerializer(serializers.Serializer):
    """Body of ``tasks/purge/``: remove finished tasks older than a date, in given states."""

    finished_before = serializers.DateTimeField(required=False, default=_default_finished_before)
    states = serializers.ListField(
        child=serializers.ChoiceField(choices=list(TASK_FINAL_STATES)),
        required=False,
        default=["completed"],
    )

    class Meta:
        ref_name = "Purge"

    def validate_states(self, value: list[str]) -> list[str]:
        if not value:
            raise serializers.ValidationError("At least one final state is required.")
        return sorted(set(value))


def task_group_queryset():
    """Task groups with their per-state task counts, for lists without a query per group."""
    return TaskGroup.objects.annotate(
        **{f"n_{state}": Count("tasks", filter=Q(tasks__state=state)) for state in TASK_STATES}
    ).prefetch_related("group_progress_reports", "tasks__worker")


def worker_queryset():
    """Workers with the pk of the task each is running, in the same query."""
    running = Task.objects.filter(worker=OuterRef("pk"), state__in=("running", "canceling")).values(
        "pk"
    )[:1]
    return Worker.objects.annotate(current_task_id=Subquery(running))


def worker_online_cutoff():
    return timezone.now() - timedelta(seconds=settings.WORKER_TTL)


__all__ = [
    "GroupProgressReportSerializer",
    "MinimalTaskSerializer",
    "ProgressReportSerializer",
    "PurgeSerializer",
    "TaskCancelSerializer",
    "TaskGroupSerializer",
    "TaskSerializer",
    "WorkerSerializer",
    "TASK_STATES",
]
