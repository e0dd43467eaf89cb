"""Task: delete finished tasks older than a date (``tasks/purge/``)."""

from django.db import transaction
from django.utils.dateparse import parse_datetime

from pulpcore.app.models import ProgressReport, Task
from pulpcore.app.models.task import TASK_FINAL_STATES


def purge(finished_before: str, states: list[str]) -> None:
    """Remove tasks in final ``states`` that finished before ``finished_before``."""
    cutoff = parse_datetime(finished_before)
    if cutoff is None:
        raise ValueError(f"finished_before {finished_before!r} is not a date-time.")
    states = [s for s in states if s in TASK_FINAL_STATES]
    qs = Task.objects.filter(finished_at__lt=cutoff, state__in=states)
    total = qs.count()
    with ProgressReport(message="Purging tasks", code="purge.tasks.total", total=total) as pr:
        with transaction.atomic():
            deleted = 0
            for ids in _batches(qs.values_list("pk", flat=True), 1000):
                Task.objects.filter(pk__in=ids).delete()
                deleted += len(ids)
            pr.done = deleted


def _batches(iterable, size: int):
    batch = []
    for item in iterable.iterator():
        batch.append(item)
        if len(batch) >= size:
            yield batch
            batch = []
    if batch:
        yield batch
