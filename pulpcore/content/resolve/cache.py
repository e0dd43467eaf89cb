"""The in-process resolution cache, valid only while PostgreSQL says nothing changed.

Migration ``core.0003_content_resolve_triggers`` puts a statement-level trigger on every core
table a resolution reads (guard types' migrations do the same for their tables, through
``pulpcore.plugin.migrations.notify_content_app``); each one sends
``NOTIFY pulp_content_changed``. The cache keeps a LISTEN connection on that channel and empties
itself on any notification, or stops being used when the connection is lost, so a stale answer
is never served. The content app only reads the catalog to check the triggers exist: it needs no
right to change the schema.
"""

import logging
import threading

from django.db import connection, connections

log = logging.getLogger(__name__)

CHANNEL = "pulp_content_changed"
TRIGGER_FUNCTION = "pulp_content_notify_v1"  # the trigger and the function it runs
WATCHED_TABLES = (
    "core_distribution",
    "core_publication",
    "core_repositoryversion",
    "core_repositorycontent",
    "core_publishedartifact",
    "core_publishedmetadata",
    "core_contentartifact",
    "core_remoteartifact",
    "core_artifact",
    "core_contentguard",
)


def triggers_present() -> bool:
    """Whether every watched table has the NOTIFY trigger (runs in a DB thread)."""
    with connection.cursor() as cur:
        cur.execute(
            "SELECT count(DISTINCT c.relname) FROM pg_trigger t "
            "JOIN pg_class c ON c.oid = t.tgrelid WHERE t.tgname = %s AND c.relname = ANY(%s)",
            [TRIGGER_FUNCTION, list(WATCHED_TABLES)],
        )
        return cur.fetchone()[0] == len(WATCHED_TABLES)


class ResolutionCache:
    """Request target → (parsed path, Resolution), valid only while the LISTEN connection is up
    and quiet."""

    def __init__(self, max_entries: int):
        self.max_entries = max_entries
        self.entries: dict[str, tuple] = {}
        self.generation = 0
        self.enabled = False
        self._conn = None
        self._lock = threading.Lock()

    # connection management (called from the event loop thread)
    def connect(self) -> int:
        """Open the LISTEN connection; return its file descriptor."""
        import psycopg2

        params = connections["default"].get_connection_params()
        params.pop("cursor_factory", None)
        conn = psycopg2.connect(**params)
        conn.autocommit = True
        with conn.cursor() as cur:
            cur.execute(f"LISTEN {CHANNEL}")
        self._conn = conn
        self.invalidate()
        self.enabled = True
        return conn.fileno()

    def disconnect(self) -> None:
        self.enabled = False
        self.invalidate()
        if self._conn is not None:
            try:
                self._conn.close()
            except Exception:  # noqa: BLE001 - already broken
                pass
            self._conn = None

    def poll(self) -> bool:
        """Drain notifications; return False when the connection is gone."""
        conn = self._conn
        if conn is None:
            return False
        try:
            conn.poll()
        except Exception:  # noqa: BLE001 - any failure means we can no longer trust the cache
            log.warning("content cache: LISTEN connection lost; caching off until it is back")
            self.disconnect()
            return False
        if conn.notifies:
            conn.notifies.clear()
            self.invalidate()
        return True

    def invalidate(self) -> None:
        with self._lock:
            self.generation += 1
            self.entries = {}

    # lookups
    def get(self, key: str) -> tuple | None:
        """The cached value, or None; no database call.

        Notifications are drained by the event loop's reader on the LISTEN socket (``poll``), not
        here: a request is handled in a loop iteration after the one whose ``select`` saw its
        bytes, so a notification that had arrived by then was drained first. Polling here as well
        cost a syscall per request (9 % of a cache hit's time).
        """
        if not self.enabled:
            return None
        return self.entries.get(key)

    def put(self, key: str, value: tuple, generation: int) -> None:
        if not self.enabled:
            return
        with self._lock:
            if generation != self.generation:
                return  # the database changed while we were resolving
            if len(self.entries) >= self.max_entries:
                # Drop the oldest tenth (dicts keep insertion order): cheap and bounded.
                for k in list(self.entries)[: max(1, self.max_entries // 10)]:
                    del self.entries[k]
            self.entries[key] = value
