"""Task schedules: tasks the workers dispatch by themselves at a fixed interval."""

from django.db import models

from pulpcore.app.models.base import BaseModel


class TaskSchedule(BaseModel):
    """Dispatch ``task_name`` every ``dispatch_interval`` from ``next_dispatch`` on.

    A schedule whose previous task has not finished yet is not dispatched again, so a slow
    task never piles up copies of itself.
    """

    name = models.TextField(unique=True)
    task_name = models.TextField()
    next_dispatch = models.DateTimeField(null=True, default=None)
    dispatch_interval = models.DurationField(null=True, default=None)
    last_task = models.ForeignKey(
        "core.Task", null=True, on_delete=models.SET_NULL, related_name="+"
    )

    class Meta:
        permissions = [
            ("manage_roles_taskschedule", "Can manage role assignments on task schedules")
        ]
