"""Runs one claimed task: context, state changes, errors, cancellation. Shared by both systems.

A task body is any importable callable (or coroutine function). Bodies own their transactions:
the generic tasks and plugin tasks wrap their writes in ``transaction.atomic`` so a failure leaves
nothing half-written, while progress reports stay visible while the task runs.

Cancellation of a running task: the worker's monitor thread notices the ``canceling`` state and
sends SIGUSR1 to its own process; the handler raises :class:`TaskCanceled` in the main thread,
which interrupts the body wherever it is in Python code (including sleeps).
"""

import asyncio
import inspect
import logging
import os
import signal
import threading
import traceback

from django.db import connections
from django.utils import timezone
from django.utils.module_loading import import_string

from pulpcore.app.logging import set_correlation_id
from pulpcore.app.models import Task
from pulpcore.tasking import pg
from pulpcore.tasking.context import reset_current_task, set_current_task
from pulpcore.tasking.exceptions import TaskCanceled

log = logging.getLogger(__name__)

__all__ = ["STATE", "TaskCanceled", "execute_task", "install_cancel_handler", "request_cancel"]


class _State:
    """What this process is running now (read by the monitor thread and the signal handler)."""

    running_id = None
    cancel_id = None
    lock = threading.Lock()


STATE = _State()


def _on_cancel_signal(signum, frame) -> None:
    if STATE.running_id is not None and STATE.cancel_id == STATE.running_id:
        STATE.cancel_id = None
        raise TaskCanceled("Task was canceled.")


def install_cancel_handler() -> None:
    """Let the monitor thread interrupt the running task (main thread only)."""
    signal.signal(signal.SIGUSR1, _on_cancel_signal)


def request_cancel(task_id) -> None:
    """Called by the monitor thread: stop ``task_id`` if this process is running it."""
    if STATE.running_id is not None and str(STATE.running_id) == str(task_id):
        STATE.cancel_id = STATE.running_id
        os.kill(os.getpid(), signal.SIGUSR1)


def describe_error(exc: BaseException) -> str:
    """The task error's ``description``: a sentence a user can act on, never a bare class name.

    Our own errors (validation, downloads, conflicts) already carry such a sentence and are kept
    as they are. Anything else is an unexpected failure inside Pulp: say so, name the error and
    point at the traceback, which is recorded next to the description.
    """
    text = " ".join(str(exc).split())
    name = type(exc).__name__
    if text and " " in text and text != name:
        return text
    detail = f"{name}: {text}" if text and text != name else name
    return (
        f"The task failed on an unexpected internal error ({detail}); the task's traceback "
        "shows where. Retry the operation, and report it as a bug if the error repeats."
    )


def _finish(task_id, state: str, error: dict | None) -> None:
    """Record the final state, retrying once on a fresh connection if the old one broke."""
    for attempt in (1, 2):
        try:
            now = timezone.now()
            Task.objects.filter(pk=task_id, state__in=("running", "canceling")).update(
                state=state, finished_at=now, error=error, pulp_last_updated=now
            )
            pg.notify("finished")
            return
        except Exception:  # noqa: BLE001 - the database may have gone away mid-task
            if attempt == 2:
                log.exception("Could not record the final state of task %s", task_id)
            connections.close_all()


def execute_task(task: Task) -> str:
    """Run ``task`` (already claimed: state running) to its end; return the final state."""
    set_correlation_id(task.logging_cid or str(task.pk))
    token = set_current_task(task)
    state, error = "completed", None
    log.info("Starting task %s (%s)", task.pk, task.name)
    STATE.running_id = task.pk
    try:
        try:
            func = import_string(task.name)
            result = func(*(task.args or []), **(task.kwargs or {}))
            if inspect.isawaitable(result):
                result = asyncio.run(_await(result))
        finally:
            STATE.running_id = None
    except TaskCanceled:
        state = "canceled"
        log.info("Task %s canceled", task.pk)
    except BaseException as exc:  # noqa: BLE001 - every failure becomes the task's error
        if isinstance(exc, KeyboardInterrupt | SystemExit):
            raise
        state = "failed"
        error = {"description": describe_error(exc), "traceback": traceback.format_exc()}
        log.warning("Task %s failed: %s", task.pk, error["description"])
    finally:
        reset_current_task(token)
    _finish(task.pk, state, error)
    log.info("Task %s %s", task.pk, state)
    return state


async def _await(awaitable):
    return await awaitable


def drop_broken_connections() -> None:
    """Between tasks: forget database connections that broke (e.g. PostgreSQL restarted)."""
    for conn in connections.all(initialized_only=True):
        if conn.connection is not None and conn.errors_occurred and not conn.is_usable():
            conn.close()
