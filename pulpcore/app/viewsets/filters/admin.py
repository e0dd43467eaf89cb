"""Filtersets of the admin endpoints: signing services and task schedules."""

from __future__ import annotations

from pulpcore.app.filters import BaseFilterSet, ordering_filter
from pulpcore.app.models import SigningService, TaskSchedule


class SigningServiceFilter(BaseFilterSet):
    ordering = ordering_filter(SigningService)

    class Meta:
        model = SigningService
        fields = {"name": ["exact"]}


class TaskScheduleFilter(BaseFilterSet):
    ordering = ordering_filter(TaskSchedule)

    class Meta:
        model = TaskSchedule
        fields = {"name": ["exact", "contains"], "task_name": ["exact", "contains"]}
