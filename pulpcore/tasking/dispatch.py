"""The one interface views and plugins use to run work asynchronously.

``dispatch`` records a Task in PostgreSQL (state ``waiting``) and hands it to the configured
tasking system. The task body is any importable callable; arguments must be JSON-serialisable.
"""

from collections.abc import Callable, Iterable

from pulpcore.app.models import Task, TaskGroup


def dispatch(
    func: Callable | str,
    args: Iterable | None = None,
    kwargs: dict | None = None,
    exclusive_resources: Iterable | None = None,
    shared_resources: Iterable | None = None,
    task_group: TaskGroup | None = None,
) -> Task:
    """Record a task and queue it; resources are hrefs/strings or model instances."""
    raise NotImplementedError("tasking is being built (issue 3)")
