"""Which waiting tasks may start now: the one rule both tasking systems share.

A task may start when none of its resources is held by a task that is running or already handed
to a worker, and no earlier waiting task wants a conflicting resource (dispatch order per
resource). Exclusive resources conflict with everything; shared ones only with exclusive ones.
The two systems differ only in what they do with the answer: a PostgreSQL worker claims the first
ready task for itself, the resource-manager hands every ready task to the rq queue.
"""

from collections.abc import Iterable

from django.db import connection, transaction
from django.utils import timezone

from pulpcore.app.models import Task
from pulpcore.app.models.task import TASK_INCOMPLETE_STATES
from pulpcore.tasking import pg


def split_resources(record: Iterable[str] | None) -> tuple[set[str], set[str]]:
    """(exclusive, shared) resource sets of a ``reserved_resources_record``."""
    exclusive, shared = set(), set()
    for res in record or []:
        if res.startswith("shared:"):
            shared.add(res[len("shared:") :])
        else:
            exclusive.add(res)
    return exclusive, shared


def _incomplete_rows() -> list[dict]:
    return list(
        Task.objects.filter(state__in=TASK_INCOMPLETE_STATES)
        .order_by("pulp_created", "pk")
        .values("pk", "state", "unblocked_at", "reserved_resources_record", "worker_id")
    )


def _holds(row: dict) -> bool:
    """A task holds its resources once it runs or has been handed to a worker."""
    return row["state"] != "waiting" or row["unblocked_at"] is not None


def ready_task_ids(rows: list[dict] | None = None) -> list:
    """Ids of waiting, not yet handed-out tasks whose resources are free, in dispatch order."""
    rows = _incomplete_rows() if rows is None else rows
    blocked_exclusive: set[str] = set()
    blocked_shared: set[str] = set()
    for row in rows:
        if _holds(row):
            ex, sh = split_resources(row["reserved_resources_record"])
            blocked_exclusive |= ex
            blocked_shared |= sh
    ready = []
    for row in rows:
        if _holds(row):
            continue
        ex, sh = split_resources(row["reserved_resources_record"])
        if not (ex & (blocked_exclusive | blocked_shared)) and not (sh & blocked_exclusive):
            ready.append(row["pk"])
        # Later tasks must wait behind this one whether it could start or not.
        blocked_exclusive |= ex
        blocked_shared |= sh
    return ready


def blockers(rows: list[dict] | None = None) -> dict:
    """For each waiting task: ``[(resource, blocking row), ...]`` — what it waits for and why."""
    rows = _incomplete_rows() if rows is None else rows
    parsed = [(row, *split_resources(row["reserved_resources_record"])) for row in rows]
    out: dict = {}
    for index, (row, ex, sh) in enumerate(parsed):
        if _holds(row):
            continue
        waits = []
        for other_index, (other, oex, osh) in enumerate(parsed):
            if other_index == index or not (_holds(other) or other_index < index):
                continue
            for res in sorted((ex & (oex | osh)) | (sh & oex)):
                waits.append((res, other))
        out[row["pk"]] = waits
    return out


def claim(task_id, worker) -> Task | None:
    """Atomically move a waiting task to running on ``worker``; None if someone else got it.

    One ``UPDATE ... RETURNING`` (the ORM's update cannot return rows): the claim sits on every
    task's path from dispatch to start, and a second query to read the row back was one more
    round trip for a worker to wait on.
    """
    now = timezone.now()
    table = Task._meta.db_table
    # The model's own columns only: the table may hold retired ones (the clear-text ``args``
    # before encryption) whose names the model now uses for properties.
    columns = ", ".join(f'"{f.column}"' for f in Task._meta.concrete_fields)
    claimed = list(
        Task.objects.raw(
            f"UPDATE {table} SET state = 'running', worker_id = %s, started_at = %s, "
            "unblocked_at = COALESCE(unblocked_at, %s), pulp_last_updated = %s "
            f"WHERE pulp_id = %s AND state = 'waiting' RETURNING {columns}",
            [worker.pk, now, now, now, task_id],
        )
    )
    return claimed[0] if claimed else None


def claim_next(worker) -> Task | None:
    """PostgreSQL workers: claim the first ready task, serialised by an advisory lock."""
    with transaction.atomic():
        with connection.cursor() as cur:
            cur.execute("SELECT pg_advisory_xact_lock(%s, 0)", (pg.LOCK_SCHEDULER,))
        ready = ready_task_ids()
        if not ready:
            return None
        # Keep handed-out unblocked_at from the rq system out of the way: only unrouted tasks.
        return claim(ready[0], worker)


def mark_routed(task_ids: list) -> list:
    """Resource-manager: record that these ready tasks were handed to the queue.

    Returns the ids it marked (still waiting and not handed out before), in one statement.
    """
    if not task_ids:
        return []
    now = timezone.now()
    with connection.cursor() as cur:
        cur.execute(
            f"UPDATE {Task._meta.db_table} SET unblocked_at = %s "
            "WHERE pulp_id = ANY(%s::uuid[]) AND state = 'waiting' AND unblocked_at IS NULL "
            "RETURNING pulp_id",
            [now, [str(pk) for pk in task_ids]],
        )
        marked = {str(row[0]) for row in cur.fetchall()}
    # In the order asked (dispatch order), as the queue must receive them.
    return [pk for pk in task_ids if str(pk) in marked]
