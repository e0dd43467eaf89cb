"""The task being executed in this thread/coroutine, for progress reports and created resources."""

import contextvars

_current: contextvars.ContextVar = contextvars.ContextVar("pulp_current_task", default=None)


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
