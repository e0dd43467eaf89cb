"""``USE_NEW_WORKER_STYLE``: workers find and claim ready tasks in PostgreSQL themselves.

Each idle worker sleeps on ``LISTEN pulp_tasking`` (dispatch and finished tasks NOTIFY it) with a
periodic rescan, so a lost notification delays nothing for long. Claims are serialised by an
advisory transaction lock, so two workers never take conflicting tasks.
"""

import logging
import os
import signal

from django.db import connections

from pulpcore.tasking import pg, runner, scheduler
from pulpcore.tasking.backends import common

log = logging.getLogger(__name__)

RESCAN_INTERVAL = 5.0


class PostgresWorker:
    def __init__(self):
        self.name = common.process_name()
        self.stop_requested = False
        self.wake_r, self.wake_w = os.pipe()
        os.set_blocking(self.wake_w, False)
        self.listen_conn = None

    def _on_term(self, signum, frame) -> None:
        if self.stop_requested:
            raise SystemExit(1)
        log.info("Worker %s: stopping after the current task", self.name)
        self.stop_requested = True
        try:
            os.write(self.wake_w, b"x")
        except OSError:
            pass

    def _listen(self) -> None:
        if self.listen_conn is None or self.listen_conn.closed:
            self.listen_conn = pg.connect()
            pg.listen(self.listen_conn)

    def run(self) -> None:
        signal.signal(signal.SIGTERM, self._on_term)
        signal.signal(signal.SIGINT, self._on_term)
        runner.install_cancel_handler()
        worker = common.register(self.name)
        monitor = common.Monitor(worker)
        monitor.start()
        log.info("PostgreSQL worker %s started", self.name)
        try:
            while not self.stop_requested:
                try:
                    self._listen()
                    task = scheduler.claim_next(common.current_worker())
                    if task is not None:
                        runner.execute_task(task)
                        runner.drop_broken_connections()
                        continue
                    pg.wait_for_notify(self.listen_conn, RESCAN_INTERVAL, (self.wake_r,))
                except runner.TaskCanceled:
                    continue  # a late cancel signal between tasks
                except Exception as exc:  # noqa: BLE001 - database outages: reconnect and go on
                    log.warning("Worker %s: %s; reconnecting", self.name, exc)
                    connections.close_all()
                    try:
                        if self.listen_conn is not None:
                            self.listen_conn.close()
                    except Exception:  # noqa: BLE001
                        pass
                    self.listen_conn = None
                    pg.wait_for_notify_sleep(1.0, self.wake_r)
        finally:
            monitor.stop(graceful=True)
            log.info("PostgreSQL worker %s stopped", self.name)
