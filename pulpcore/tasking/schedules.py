"""Periodic tasks dispatched by the workers themselves (no separate scheduler process).

Every worker's monitor thread calls :func:`dispatch_due` every few seconds. Due schedules are
locked ``FOR UPDATE SKIP LOCKED``, so with many workers each due schedule is dispatched once.
The schedules Pulp users rely on come from settings (:func:`sync_from_settings`); the
``task-schedules/`` endpoint shows them.
"""

import logging
from datetime import timedelta

from django.conf import settings
from django.db import transaction
from django.utils import timezone

from pulpcore.app.models import TASK_FINAL_STATES, TaskSchedule

log = logging.getLogger(__name__)

ORPHAN_CLEANUP_NAME = "pulpcore.orphan_cleanup"
ORPHAN_CLEANUP_TASK = "pulpcore.app.tasks.orphan.orphan_cleanup"

_synced = False


def sync_from_settings() -> None:
    """Create, update or remove the setting-driven schedules to match the settings."""
    minutes = settings.ORPHAN_CLEANUP_INTERVAL
    if not minutes:
        TaskSchedule.objects.filter(name=ORPHAN_CLEANUP_NAME).delete()
        return
    interval = timedelta(minutes=int(minutes))
    with transaction.atomic():
        schedule, created = TaskSchedule.objects.select_for_update().get_or_create(
            name=ORPHAN_CLEANUP_NAME,
            defaults={
                "task_name": ORPHAN_CLEANUP_TASK,
                "dispatch_interval": interval,
                "next_dispatch": timezone.now() + interval,
            },
        )
        if not created and schedule.dispatch_interval != interval:
            schedule.dispatch_interval = interval
            schedule.next_dispatch = timezone.now() + interval
            schedule.save(update_fields=["dispatch_interval", "next_dispatch", "pulp_last_updated"])


# Resources a scheduled task reserves: the same ones its REST endpoint reserves.
TASK_RESOURCES = {ORPHAN_CLEANUP_TASK: ["/pulp/api/v3/orphans/cleanup/"]}


def _dispatch(schedule: TaskSchedule):
    from pulpcore.tasking.dispatch import dispatch

    return dispatch(
        schedule.task_name, exclusive_resources=TASK_RESOURCES.get(schedule.task_name, [])
    )


def dispatch_due(now=None) -> list:
    """Dispatch every schedule whose time has come; return the tasks dispatched.

    Errors are logged and swallowed: a broken schedule must not stop the worker's heartbeat.
    """
    try:
        return _dispatch_due(now)
    except Exception:  # noqa: BLE001 - logged; the next tick tries again
        log.exception("Could not dispatch scheduled tasks")
        return []


def _dispatch_due(now=None) -> list:
    global _synced
    if not _synced:
        sync_from_settings()
        _synced = True
    now = now or timezone.now()
    dispatched = []
    with transaction.atomic():
        due = (
            TaskSchedule.objects.select_for_update(skip_locked=True, of=("self",))
            .select_related("last_task")
            .filter(next_dispatch__lte=now)
        )
        for schedule in due:
            last = schedule.last_task
            if last is not None and last.state not in TASK_FINAL_STATES:
                continue  # the previous run is still queued or running
            task = _dispatch(schedule)
            dispatched.append(task)
            schedule.last_task = task
            if schedule.dispatch_interval:
                nxt = schedule.next_dispatch
                while nxt <= now:
                    nxt += schedule.dispatch_interval
                schedule.next_dispatch = nxt
            else:
                schedule.next_dispatch = None
            schedule.save(update_fields=["last_task", "next_dispatch", "pulp_last_updated"])
            log.info("Dispatched scheduled task %s (%s)", schedule.name, task.pk)
    return dispatched
