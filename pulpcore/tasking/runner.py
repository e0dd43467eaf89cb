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

from django.db import OperationalError, connections
from django.utils import timezone
from django.utils.module_loading import import_string

from pulpcore.app.logging import set_correlation_id
from pulpcore.app.models import Task
from pulpcore.tasking import pg
from pulpcore.tasking.context import reset_current_task, set_current_task

log = logging.getLogger(__name__)


class TaskCanceled(Exception):
    """Raised inside a running task body when a user canceled it."""


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


def _describe(exc: BaseException) -> str:
    text = str(exc).strip()
    return text if text else type(exc).__name__


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
        error = {"description": _describe(exc), "traceback": traceback.format_exc()}
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


def run_task_by_id(task_id: str) -> str | None:
    """Entry point for rq jobs: claim the task for this worker and run it.

    Returns None when the task is no longer waiting (canceled, or a duplicate delivery).
    """
    from pulpcore.tasking import scheduler
    from pulpcore.tasking.backends.common import current_worker

    try:
        task = scheduler.claim(task_id, current_worker())
    except OperationalError:
        connections.close_all()
        task = scheduler.claim(task_id, current_worker())
    if task is None:
        return None
    try:
        return execute_task(task)
    finally:
        drop_broken_connections()
