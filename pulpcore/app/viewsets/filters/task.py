"""Filtersets of tasks and workers."""

from __future__ import annotations

import django_filters
from django.db.models import Q
from drf_spectacular.utils import extend_schema_field
from rest_framework.exceptions import ValidationError

from pulpcore.app.filters import (
    COMMON_ORDERING,
    DATETIME_LOOKUPS,
    NAME_FILTER_OPTIONS,
    BaseFilterSet,
    HrefOrIdFilter,
    HrefOrIdInFilter,
    StrictBooleanFilter,
    ordering_filter,
)
from pulpcore.app.models import Task, TaskGroup, Worker
from pulpcore.app.models.task import TASK_STATES
from pulpcore.app.serializers.task import worker_online_cutoff


def _unknown_states(field: str, values) -> None:
    bad = [v for v in values if v not in TASK_STATES]
    if bad:
        raise ValidationError(
            {field: [f"Unknown state(s) {', '.join(bad)}; valid: {', '.join(TASK_STATES)}."]}
        )


class StateNeFilter(django_filters.CharFilter):
    """``state__ne``: tasks in any other state."""

    def filter(self, qs, value):
        if value:
            _unknown_states("state__ne", [value])
        return super().filter(qs, value)


class StateInFilter(django_filters.BaseInFilter, django_filters.CharFilter):
    """``state__in``: tasks in any of the states."""

    def filter(self, qs, value):
        if not value:
            return qs
        _unknown_states("state__in", value)
        return qs.filter(state__in=value)


def _reserved(resource: str, kind: str) -> Q:
    """Tasks that reserved ``resource`` exclusively, shared, or (``any``) either way."""
    if kind == "exclusive":
        return Q(reserved_resources_record__contains=[resource])
    if kind == "shared":
        return Q(reserved_resources_record__contains=[f"shared:{resource}"])
    return Q(reserved_resources_record__overlap=[resource, f"shared:{resource}"])


class ResourceFilter(django_filters.CharFilter):
    """Tasks that reserved a resource (``kind``: ``exclusive``, ``shared`` or ``any``)."""

    def __init__(self, *args, kind: str = "any", **kwargs):
        self.kind = kind
        super().__init__(*args, **kwargs)

    def filter(self, qs, value):
        if not value:
            return qs
        return qs.filter(_reserved(value, self.kind))


class ResourceInFilter(django_filters.BaseInFilter, ResourceFilter):
    """Comma-separated resources: tasks that reserved every one of them, as in Pulp."""

    def filter(self, qs, value):
        if not value:
            return qs
        for resource in value:
            qs = qs.filter(_reserved(resource, self.kind))
        return qs


@extend_schema_field({"type": "array", "items": {"type": "string"}, "nullable": True})
class ReservedResourcesRecordFilter(django_filters.CharFilter):
    """``reserved_resources_record`` (repeatable): tasks whose record contains every entry."""

    def filter(self, qs, value):
        if not value:
            return qs
        data = getattr(self.parent, "data", None)
        # a query string may repeat the parameter; a q= term gives one value
        items = list(data.getlist(self.field_name)) if hasattr(data, "getlist") else [value]
        return qs.filter(reserved_resources_record__contains=items)


class TaskFilter(BaseFilterSet):
    """Tasks by state, name, times, worker, relations and reserved resources."""

    state = django_filters.ChoiceFilter(choices=[(s, s) for s in TASK_STATES])
    state__in = StateInFilter(field_name="state")
    state__ne = StateNeFilter(field_name="state", exclude=True)
    worker = HrefOrIdFilter(field_name="worker", model=Worker)
    worker__in = HrefOrIdInFilter(field_name="worker", model=Worker)
    worker__isnull = StrictBooleanFilter(field_name="worker", lookup_expr="isnull")
    parent_task = HrefOrIdFilter(field_name="parent_task", model=Task)
    child_tasks = HrefOrIdFilter(field_name="child_tasks", model=Task, distinct=True)
    task_group = HrefOrIdFilter(field_name="task_group", model=TaskGroup)
    created_resources = HrefOrIdFilter(field_name="created_resources__object_id", distinct=True)
    reserved_resources = ResourceFilter()
    reserved_resources__in = ResourceInFilter()
    exclusive_resources = ResourceFilter(kind="exclusive")
    exclusive_resources__in = ResourceInFilter(kind="exclusive")
    shared_resources = ResourceFilter(kind="shared")
    shared_resources__in = ResourceInFilter(kind="shared")
    reserved_resources_record = ReservedResourcesRecordFilter()
    ordering = ordering_filter(
        Task,
        fields=[
            *COMMON_ORDERING,
            *("state", "name", "logging_cid", "unblocked_at", "started_at", "finished_at"),
            "error",
            ("args", "enc_args"),
            ("kwargs", "enc_kwargs"),
            *("reserved_resources_record", "versions"),
        ],
    )

    class Meta:
        model = Task
        fields = {
            "name": ["exact", "contains", "in", "ne"],
            "logging_cid": ["exact", "contains"],
            "started_at": DATETIME_LOOKUPS,
            "finished_at": DATETIME_LOOKUPS,
        }


class WorkerFilter(BaseFilterSet):
    """Workers by name, heartbeat, and whether they are online or missing."""

    online = StrictBooleanFilter(method="filter_online")
    missing = StrictBooleanFilter(method="filter_missing")
    ordering = ordering_filter(
        Worker, fields=[*COMMON_ORDERING, "name", "last_heartbeat", "versions"]
    )

    class Meta:
        model = Worker
        fields = {"name": NAME_FILTER_OPTIONS, "last_heartbeat": DATETIME_LOOKUPS}

    def filter_online(self, qs, name, value):
        online = Q(last_heartbeat__gte=worker_online_cutoff(), gracefully_stopped=False)
        return qs.filter(online) if value else qs.exclude(online)

    def filter_missing(self, qs, name, value):
        missing = Q(last_heartbeat__lt=worker_online_cutoff(), gracefully_stopped=False)
        return qs.filter(missing) if value else qs.exclude(missing)
