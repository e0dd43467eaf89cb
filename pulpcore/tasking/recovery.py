"""Finding dead workers and freeing what they held. Used by workers, the resource-manager and the
``pulpcore-manager`` commands.

A worker is dead when its advisory lock is free (its PostgreSQL session ended: the process exited
or was killed) and its last heartbeat is older than a short grace period, or when its heartbeat is
older than ``WORKER_TTL`` whatever the lock says (e.g. a frozen host). Its running tasks become
``failed`` with a readable reason, which frees their resources for the next task.
"""

import logging
from datetime import timedelta

from django.conf import settings
from django.db import transaction
from django.utils import timezone

from pulpcore.app.models import Task, Worker
from pulpcore.tasking import pg

log = logging.getLogger(__name__)

HEARTBEAT_INTERVAL = 1.0
DEAD_GRACE = timedelta(seconds=4)


def worker_is_dead(worker: Worker, now=None) -> bool:
    now = now or timezone.now()
    age = now - worker.last_heartbeat
    if age > timedelta(seconds=settings.WORKER_TTL):
        return True
    if age > DEAD_GRACE and not pg.lock_is_held(pg.LOCK_WORKER, pg.name_key(worker.name)):
        return True
    return False


def fail_tasks_of(worker: Worker | None, reason: str, task_ids: list | None = None) -> list:
    """Mark the running tasks of ``worker`` failed (canceling ones canceled); return their ids."""
    now = timezone.now()
    with transaction.atomic():
        qs = Task.objects.select_for_update(skip_locked=True).filter(
            state__in=("running", "canceling"), worker=worker
        )
        if task_ids is not None:
            qs = qs.filter(pk__in=task_ids)
        done = []
        for task in qs:
            if task.state == "canceling":
                task.state, task.error = "canceled", None
            else:
                task.state = "failed"
                task.error = {"description": reason, "traceback": ""}
            task.finished_at = now
            task.save(update_fields=["state", "error", "finished_at", "pulp_last_updated"])
            done.append(task.pk)
    return done


def cleanup_dead_workers() -> list:
    """Fail tasks still marked running on dead (or vanished) workers; return the task ids."""
    now = timezone.now()
    failed = []
    busy = (
        Worker.objects.filter(tasks__state__in=("running", "canceling"))
        .filter(last_heartbeat__lt=now - DEAD_GRACE)
        .distinct()
    )
    for worker in busy:
        if not worker_is_dead(worker, now):
            continue
        reason = (
            f"Worker {worker.name} stopped unexpectedly while running this task "
            f"(no heartbeat since {worker.last_heartbeat.isoformat()}); "
            "the task was marked failed and its resources released."
        )
        ids = fail_tasks_of(worker, reason)
        if ids:
            log.warning("Worker %s is dead; failed its tasks %s", worker.name, ids)
            failed += ids
    orphan_ids = fail_tasks_of(None, "The worker running this task no longer exists.")
    failed += orphan_ids
    if failed:
        pg.notify("released")
    return failed
