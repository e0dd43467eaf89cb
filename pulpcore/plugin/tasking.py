"""Tasking for plugins: dispatch work, find the running task, record what it created."""

from pulpcore.app.tasks.base import general_create, general_delete, general_update
from pulpcore.tasking.context import current_task, record_created
from pulpcore.tasking.dispatch import dispatch
from pulpcore.tasking.exceptions import TaskCanceled

__all__ = [
    "TaskCanceled",
    "current_task",
    "dispatch",
    "general_create",
    "general_delete",
    "general_update",
    "record_created",
]
