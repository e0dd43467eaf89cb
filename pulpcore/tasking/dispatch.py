"""The one interface views and plugins use to run work asynchronously.

``dispatch`` records a Task in PostgreSQL (state ``waiting``) and wakes the tasking system with a
PostgreSQL NOTIFY once the transaction commits. Both systems read waiting tasks from PostgreSQL, so
nothing is lost if Redis or a notification is: the database is the truth.
The task body is any importable callable; arguments must be JSON-serialisable.
"""

import json
from collections.abc import Callable, Iterable

from django.db import transaction
from django.db.models import Model

from pulpcore.app.logging import get_correlation_id
from pulpcore.app.models import Task, TaskGroup
from pulpcore.tasking import pg
from pulpcore.tasking.context import current_task


def func_path(func: Callable | str) -> str:
    """Dotted import path of a task body."""
    if isinstance(func, str):
        if "." not in func:
            raise ValueError(f"Task function {func!r} must be a dotted import path.")
        return func
    module = getattr(func, "__module__", None)
    qualname = getattr(func, "__qualname__", None)
    if not module or not qualname or "<" in qualname:
        raise ValueError(f"Task function {func!r} must be importable (module-level).")
    return f"{module}.{qualname}"


def resource_name(resource) -> str:
    """A resource as recorded: model instances become their href, strings stay as they are."""
    if isinstance(resource, Model):
        from pulpcore.app.util import get_url

        try:
            return get_url(resource)
        except LookupError:
            return f"pdrn:{type(resource)._meta.label_lower}:{resource.pk}"
    if isinstance(resource, str) and resource:
        return resource
    raise ValueError(f"Resource {resource!r} must be a model instance or a non-empty string.")


def _request_user():
    from pulpcore.app.middleware import current_request

    request = current_request()
    user = getattr(request, "user", None) if request is not None else None
    if user is not None and getattr(user, "is_authenticated", False) and user.pk:
        return user
    return None


def dispatch(
    func: Callable | str,
    args: Iterable | None = None,
    kwargs: dict | None = None,
    exclusive_resources: Iterable | None = None,
    shared_resources: Iterable | None = None,
    task_group: TaskGroup | None = None,
) -> Task:
    """Record a task and queue it; resources are hrefs/strings or model instances.

    Tasks sharing an exclusive resource never run together and run in dispatch order.
    """
    exclusive = list(dict.fromkeys(resource_name(r) for r in exclusive_resources or []))
    shared = [
        r
        for r in dict.fromkeys(resource_name(r) for r in shared_resources or [])
        if r not in exclusive
    ]
    args = list(args or [])
    kwargs = dict(kwargs or {})
    try:
        json.dumps(args)
        json.dumps(kwargs)
    except (TypeError, ValueError) as exc:
        raise ValueError(f"Task arguments must be JSON-serialisable: {exc}")
    parent = current_task()
    task = Task.objects.create(
        state="waiting",
        name=func_path(func),
        args=args,
        kwargs=kwargs,
        logging_cid=get_correlation_id() or (parent.logging_cid if parent else ""),
        reserved_resources_record=exclusive + [f"shared:{r}" for r in shared],
        task_group=task_group or (parent.task_group if parent else None),
        parent_task=parent,
        created_by=_request_user() or (parent.created_by if parent else None),
    )
    transaction.on_commit(lambda: pg.notify("dispatch"))
    return task
