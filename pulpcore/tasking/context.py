"""Who is running what here: the task of this thread/coroutine and the worker of this process.

Progress reports and created resources read the current task; the scheduler's claim and the
heartbeat read the current worker. Nothing here talks to rq or to a tasking backend.
"""

import contextvars
import os
import socket

_current: contextvars.ContextVar = contextvars.ContextVar("pulp_current_task", default=None)
_worker = None


def current_task():
    """The Task now running here, or None outside a task."""
    return _current.get()


def set_current_task(task) -> contextvars.Token:
    return _current.set(task)


def reset_current_task(token: contextvars.Token) -> None:
    _current.reset(token)


def record_created(obj) -> None:
    """Note ``obj`` in the running task's ``created_resources`` (no-op outside a task)."""
    from pulpcore.app.models import CreatedResource

    task = current_task()
    if task is not None:
        CreatedResource.objects.create(task=task, content_object=obj)


def process_name() -> str:
    """This process's worker name, ``pid@hostname`` (unique among live processes)."""
    return f"{os.getpid()}@{socket.gethostname()}"


def current_worker():
    """The Worker row of this process (None outside ``pulpcore-worker``)."""
    return _worker


def set_current_worker(worker) -> None:
    """Remember this process's Worker row (called when the worker registers)."""
    global _worker
    _worker = worker
