"""Default system: rq workers fed by one active resource-manager.

The resource-manager is the only process that decides which waiting task may start
(:func:`pulpcore.tasking.scheduler.ready_task_ids`, the same rule the PostgreSQL workers use); it
marks a ready task as handed out (``unblocked_at``) and enqueues an rq job named after the task on
the shared ``pulp-tasks`` queue. Any idle rq worker takes it and claims the task in PostgreSQL
before running it, so a duplicated job is harmless. If Redis loses jobs (flush, restart), the
resource-manager notices handed-out tasks whose job vanished and enqueues them again.

Exactly one resource-manager is active: it holds a PostgreSQL session advisory lock. Others exit
with status 1 and a log line, so systemd (``Restart=always``) retries them; when the active one
dies its session ends, the lock is free and the next restart takes over.
"""

import logging
import signal
import sys
import time
from datetime import timedelta

import redis
from django.conf import settings
from django.db import OperationalError, connections
from django.utils import timezone
from rq import Queue, SimpleWorker
from rq.job import Job, JobStatus

from pulpcore.app.models import Task
from pulpcore.tasking import pg, runner, scheduler
from pulpcore.tasking.backends import common

log = logging.getLogger(__name__)

QUEUE_NAME = "pulp-tasks"
RESCAN_INTERVAL = 2.0
BATCH_DELAY = 0.002
REQUEUE_AFTER = timedelta(seconds=3)
STARTED_GRACE = timedelta(seconds=30)


def redis_connection() -> redis.Redis:
    return redis.Redis.from_url(
        settings.REDIS_URL, socket_timeout=10, socket_connect_timeout=5, health_check_interval=5
    )


def run_task_by_id(task_id: str) -> str | None:
    """What an rq job runs: claim the task for this worker and run it.

    Returns None when the task is no longer waiting (canceled, or a duplicate delivery).
    """
    try:
        task = scheduler.claim(task_id, common.current_worker())
    except OperationalError:
        connections.close_all()
        task = scheduler.claim(task_id, common.current_worker())
    if task is None:
        return None
    try:
        return runner.execute_task(task)
    finally:
        runner.drop_broken_connections()


RQ_JOB_FUNCTION = f"{__name__}.run_task_by_id"


def _job_data(task_id):
    return Queue.prepare_data(
        RQ_JOB_FUNCTION,
        args=[str(task_id)],
        job_id=str(task_id),
        timeout=-1,
        result_ttl=0,
        failure_ttl=3600,
        description=f"pulp task {task_id}",
    )


def enqueue(queue: Queue, task_ids: list) -> None:
    """Put rq jobs (named after the tasks) on the queue, in one Redis round trip per batch."""
    for start in range(0, len(task_ids), 500):
        queue.enqueue_many([_job_data(t) for t in task_ids[start : start + 500]])


# --- worker ------------------------------------------------------------------------------------
class PulpRqWorker(SimpleWorker):
    """Runs jobs in this process (no fork per task), one at a time.

    rq handles SIGTERM/SIGINT itself (warm shutdown: finish the current job, then return from
    ``work``); overriding its public ``request_stop`` hook lets us tell that apart from ``work``
    returning for any other reason, without reading rq's private attributes.
    """

    stop_signal_received = False

    def request_stop(self, signum, frame) -> None:
        self.stop_signal_received = True
        super().request_stop(signum, frame)


def run_worker() -> None:
    name = common.process_name()
    runner.install_cancel_handler()
    worker = common.register(name)
    monitor = common.Monitor(worker)
    monitor.start()
    stop = {"requested": False}
    log.info("rq worker %s started on queue %s", name, QUEUE_NAME)
    try:
        while not stop["requested"]:
            try:
                conn = redis_connection()
                rq_worker = PulpRqWorker(
                    [Queue(QUEUE_NAME, connection=conn)], name=name, connection=conn
                )
                # rq installs its own SIGTERM handler (warm shutdown: finish the current job).
                rq_worker.work(logging_level="WARNING")
                # SIGTERM/SIGINT: rq stops after the current job (warm shutdown); so do we.
                if rq_worker.stop_signal_received:
                    stop["requested"] = True
            except redis.exceptions.RedisError as exc:
                log.warning("rq worker %s: Redis unavailable (%s); retrying", name, exc)
                time.sleep(1)
            except runner.TaskCanceled:
                continue
            except Exception as exc:  # noqa: BLE001 - e.g. a lost database: start over
                log.warning("rq worker %s: %s; restarting the work loop", name, exc)
                connections.close_all()
                time.sleep(1)
    finally:
        monitor.stop(graceful=True)
        log.info("rq worker %s stopped", name)


# --- resource-manager --------------------------------------------------------------------------
class ResourceManager:
    def __init__(self):
        self.name = f"resource-manager@{common.process_name()}"
        self.conn = None
        self.stop_requested = False
        self.redis = redis_connection()
        self.queue = Queue(QUEUE_NAME, connection=self.redis)
        self.last_requeue_check = 0.0

    def _on_term(self, signum, frame) -> None:
        self.stop_requested = True

    def _acquire(self) -> None:
        """Connect and take the resource-manager lock; exit 1 if another one is active."""
        self.conn = pg.connect()
        if not pg.try_lock(self.conn, pg.LOCK_RESOURCE_MANAGER, 0):
            log.error(
                "resource-manager %s: another resource-manager is active (PostgreSQL advisory "
                "lock held); exiting so the service manager retries later",
                self.name,
            )
            sys.stdout.flush()
            raise SystemExit(1)
        pg.listen(self.conn)
        log.info("resource-manager %s is now the active resource-manager", self.name)

    def route(self) -> int:
        ready = scheduler.ready_task_ids()
        routed = scheduler.mark_routed(ready)
        if routed:
            enqueue(self.queue, routed)
        return len(routed)

    def requeue_lost(self) -> int:
        """Enqueue again handed-out tasks whose rq job is gone (Redis flushed or restarted)."""
        now = timezone.now()
        pending = list(
            Task.objects.filter(
                state="waiting", unblocked_at__isnull=False, unblocked_at__lt=now - REQUEUE_AFTER
            ).values_list("pk", "unblocked_at")
        )
        if not pending:
            return 0
        queued = set(self.queue.get_job_ids())
        count = 0
        for task_id, unblocked_at in pending:
            job_id = str(task_id)
            if job_id in queued:
                continue
            job = (
                Job.fetch(job_id, connection=self.redis) if Job.exists(job_id, self.redis) else None
            )
            if job is not None:
                # A worker took the job and is about to claim the task: leave it, unless that
                # worker died before claiming (the claim is atomic, so a duplicate is harmless).
                if job.get_status() == JobStatus.STARTED and now - unblocked_at < STARTED_GRACE:
                    continue
                job.delete()
            enqueue(self.queue, [task_id])
            count += 1
        if count:
            log.warning("resource-manager: re-enqueued %d task(s) whose rq job was lost", count)
        return count

    def run(self) -> None:
        signal.signal(signal.SIGTERM, self._on_term)
        signal.signal(signal.SIGINT, self._on_term)
        self._acquire()
        worker = common.register(self.name, resource_manager=True)
        monitor = common.Monitor(worker)
        monitor.start()
        try:
            while not self.stop_requested:
                try:
                    if self.conn is None or self.conn.closed:
                        self._reacquire()
                    self.route()
                    if time.monotonic() - self.last_requeue_check > RESCAN_INTERVAL:
                        self.last_requeue_check = time.monotonic()
                        self.requeue_lost()
                    if pg.wait_for_notify(self.conn, RESCAN_INTERVAL):
                        # Let a burst of dispatches/finishes arrive, then route them in one pass.
                        time.sleep(BATCH_DELAY)
                        pg.wait_for_notify(self.conn, 0)
                except SystemExit:
                    raise
                except Exception as exc:  # noqa: BLE001 - outages of PostgreSQL or Redis
                    log.warning("resource-manager: %s; retrying", exc)
                    connections.close_all()
                    try:
                        self.conn.close()
                    except Exception:  # noqa: BLE001
                        pass
                    self.conn = None
                    time.sleep(1)
        finally:
            monitor.stop(graceful=True)
            log.info("resource-manager %s stopped", self.name)

    def _reacquire(self) -> None:
        """After losing the database connection the lock is gone too: take it again or leave."""
        try:
            self._acquire()
        except SystemExit:
            log.error("resource-manager %s lost its lock to another instance; exiting", self.name)
            raise


def run_resource_manager() -> None:
    ResourceManager().run()
