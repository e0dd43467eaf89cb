"""Heartbeat of an API process: its ``AppStatus`` row, which ``status/`` lists as an online API app.

Every process that serves the API (each gunicorn worker on every host, ``runserver``) records
``<pid>@<host>`` every ``API_APP_TTL / 3`` seconds from a daemon thread, and deletes its row when
it exits. A process that dies without exiting cleanly simply stops beating: ``status/`` leaves it
out once its heartbeat is older than ``API_APP_TTL``, the same rule as workers and content apps.

A process that forks (the gunicorn master with ``--preload``) is not itself an API app: its own
heartbeat stops at the first fork, and every child starts a fresh one.
"""

from __future__ import annotations

import atexit
import logging
import os
import socket
import threading

from django.conf import settings
from django.db import close_old_connections, connection

log = logging.getLogger(__name__)


def _beat(name: str) -> None:
    from pulpcore.app.models import AppStatus
    from pulpcore.app.status import versions

    AppStatus.objects.update_or_create(
        name=name,
        defaults={
            "app_type": "api",
            "versions": {v["component"]: v["version"] for v in versions()},
        },
    )


def _import_in_this_thread() -> None:
    """Import what the thread uses before it starts: a fork while the thread is half-way through
    an import would leave the child a partially initialised module for good."""
    import pulpcore.app.models  # noqa: F401
    import pulpcore.app.status  # noqa: F401


def _forget(name: str) -> None:
    from pulpcore.app.models import AppStatus

    AppStatus.objects.filter(name=name, app_type="api").delete()


class ApiHeartbeat:
    """The heartbeat thread of the current process (one per process)."""

    def __init__(self) -> None:
        self.pid = os.getpid()
        self.name = f"{self.pid}@{socket.gethostname()}"
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None

    @property
    def interval(self) -> float:
        return max(1.0, float(settings.API_APP_TTL) / 3)

    def start(self) -> None:
        _import_in_this_thread()
        self._thread = threading.Thread(target=self._run, name="api-heartbeat", daemon=True)
        self._thread.start()

    def _run(self) -> None:
        while True:
            try:
                _beat(self.name)
            except Exception as exc:  # noqa: BLE001 - keep beating; status/ shows us stale
                log.warning("API heartbeat of %s failed: %s", self.name, exc)
            finally:
                # One short-lived connection per beat: none held open between beats, and a
                # restarted database is simply reconnected to.
                connection.close()
            if self._stop.wait(self.interval):
                break
        try:
            _forget(self.name)
        except Exception as exc:  # noqa: BLE001 - the row will simply expire
            log.warning("could not remove the API status row of %s: %s", self.name, exc)
        finally:
            close_old_connections()
            connection.close()

    def stop(self, timeout: float = 5.0) -> None:
        """Stop beating and remove the row (only from the process that started it)."""
        if self._thread is None or os.getpid() != self.pid:
            return
        self._stop.set()
        self._thread.join(timeout)
        self._thread = None


_current: ApiHeartbeat | None = None
_lock = threading.Lock()


def start() -> ApiHeartbeat:
    """Start this process's heartbeat (idempotent); children of a fork start their own."""
    global _current
    with _lock:
        if _current is None or _current.pid != os.getpid():
            _current = ApiHeartbeat()
            _current.start()
        return _current


def stop() -> None:
    global _current
    with _lock:
        beating, _current = _current, None
    if beating is not None:
        beating.stop()


def _after_fork_in_parent() -> None:
    # A process that forks workers is a master, not an API app.
    stop()


def _after_fork_in_child() -> None:
    global _current
    # The thread did not survive the fork; a lock held at fork time might not be released.
    globals()["_lock"] = threading.Lock()
    _current = None
    start()


_hooks_installed = False


def install() -> None:
    """Beat in this process from now on and in every child it forks; forget the row at exit."""
    global _hooks_installed
    if not _hooks_installed:
        os.register_at_fork(
            after_in_parent=_after_fork_in_parent, after_in_child=_after_fork_in_child
        )
        atexit.register(stop)
        _hooks_installed = True
    start()
