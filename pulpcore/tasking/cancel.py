"""Canceling a task: the one place that decides what a cancel request does to a task's state.

A waiting task is canceled at once. A running one becomes ``canceling``: its worker's monitor
thread sees that state and interrupts the body (see :mod:`pulpcore.tasking.runner`), which then
records ``canceled``. A finished task cannot be canceled (409).
"""

from django.db import transaction
from django.utils import timezone

from pulpcore.app import util
from pulpcore.app.exceptions import Conflict
from pulpcore.app.models import Task
from pulpcore.app.models.task import TASK_FINAL_STATES
from pulpcore.tasking import pg


def cancel_task(task_id) -> Task:
    """Cancel a task and return it as stored afterwards; Conflict (409) if it already finished."""
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
    transaction.on_commit(lambda: pg.notify("cancel"))
    return Task.objects.get(pk=task_id)
