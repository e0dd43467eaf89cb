"""What every worker process does in both systems: registration, heartbeats, cancel watch, cleanup.

The identity itself (``process_name``, ``current_worker``) lives in :mod:`pulpcore.tasking.context`.
"""

import logging
import threading
import time

from django.db import connections
from django.utils import timezone

from pulpcore.app.models import Task, Worker
from pulpcore.tasking import pg, recovery, runner, schedules
from pulpcore.tasking.context import current_worker, process_name, set_current_worker

log = logging.getLogger(__name__)

__all__ = ["Monitor", "current_worker", "process_name", "register"]


def component_versions() -> dict:
    from pulpcore.app.status import versions

    return {v["component"]: v["version"] for v in versions()}


def register(name: str, resource_manager: bool = False) -> Worker:
    """Create or refresh this process's Worker row and make it the current worker."""
    now = timezone.now()
    worker, _ = Worker.objects.update_or_create(
        name=name,
        defaults={
            "versions": component_versions(),
            "resource_manager": resource_manager,
            "gracefully_stopped": False,
            "last_heartbeat": now,
        },
    )
    set_current_worker(worker)
    return worker


class Monitor(threading.Thread):
    """Background thread: holds the worker's liveness lock, heartbeats, watches for cancellation
    of the running task and fails the tasks of dead workers. Survives database restarts."""

    def __init__(self, worker: Worker, cleanup: bool = True):
        super().__init__(name="pulp-monitor", daemon=True)
        self.worker = worker
        self.cleanup = cleanup
        self.stopping = threading.Event()
        self.conn = None
        self.lost_lock_callback = None

    def _ensure_lock(self) -> None:
        if self.conn is not None and not self.conn.closed:
            return
        self.conn = pg.connect()
        if not pg.try_lock(self.conn, pg.LOCK_WORKER, pg.name_key(self.worker.name)):
            log.error("Another process holds the liveness lock of %s", self.worker.name)
        else:
            log.debug("Liveness lock of %s taken", self.worker.name)

    def beat(self) -> None:
        self._ensure_lock()
        with self.conn.cursor() as cur:
            cur.execute("SELECT 1")
        now = timezone.now()
        if not Worker.objects.filter(pk=self.worker.pk).update(
            last_heartbeat=now, pulp_last_updated=now
        ):
            register(self.worker.name, self.worker.resource_manager)
            self.worker = current_worker()
        running = runner.STATE.running_id
        if running is not None:
            state = Task.objects.filter(pk=running).values_list("state", flat=True).first()
            if state not in ("running", None):
                # canceling: the user asked; failed/canceled: someone declared us dead meanwhile.
                log.info("Stopping task %s (state %s)", running, state)
                runner.request_cancel(running)

    def run(self) -> None:
        last_cleanup = 0.0
        while not self.stopping.wait(recovery.HEARTBEAT_INTERVAL):
            try:
                self.beat()
                if self.cleanup and time.monotonic() - last_cleanup > 2.0:
                    last_cleanup = time.monotonic()
                    recovery.cleanup_dead_workers()
                    schedules.dispatch_due()
            except Exception as exc:  # noqa: BLE001 - keep beating through outages
                log.warning("Heartbeat failed (%s); reconnecting", exc)
                try:
                    if self.conn is not None:
                        self.conn.close()
                except Exception:  # noqa: BLE001
                    pass
                self.conn = None
                connections.close_all()

    def stop(self, graceful: bool = True) -> None:
        self.stopping.set()
        self.join(timeout=5)
        if graceful:
            try:
                Worker.objects.filter(pk=self.worker.pk).update(gracefully_stopped=True)
            except Exception:  # noqa: BLE001
                pass
        try:
            if self.conn is not None:
                self.conn.close()
        except Exception:  # noqa: BLE001
            pass
