"""Raw PostgreSQL connections for what Django's ORM cannot do: session advisory locks, LISTEN.

Workers keep one such connection each. A session-level advisory lock lives exactly as long as the
connection, so when a process dies (even by ``kill -9``) PostgreSQL frees its lock at once, which is
how the others tell a dead process from a slow one.
"""

import select
import zlib

import psycopg2
import psycopg2.extensions
from django.conf import settings
from django.db import connection

CHANNEL = "pulp_tasking"

# Advisory lock "classes" (first key of the two-key form).
LOCK_WORKER = 0x5055  # one per live worker process, keyed by its name
LOCK_RESOURCE_MANAGER = 0x5056  # exactly one active resource-manager
LOCK_SCHEDULER = 0x5057  # serialises "pick the next ready task" between PostgreSQL workers


def name_key(name: str) -> int:
    """A stable signed 32-bit key for a worker name."""
    value = zlib.crc32(name.encode())
    return value - (1 << 32) if value >= (1 << 31) else value


def connect() -> psycopg2.extensions.connection:
    """A new autocommit connection using Django's database settings."""
    db = settings.DATABASES["default"]
    params = {
        "dbname": db["NAME"],
        "user": db.get("USER") or None,
        "password": db.get("PASSWORD") or None,
        "host": db.get("HOST") or None,
        "port": db.get("PORT") or None,
        "connect_timeout": 5,
        "application_name": "pulpcore-worker",
    }
    params.update(db.get("OPTIONS") or {})
    conn = psycopg2.connect(**{k: v for k, v in params.items() if v is not None})
    conn.autocommit = True
    return conn


def try_lock(conn, cls: int, key: int) -> bool:
    """Take a session advisory lock if free; True when this connection now holds it."""
    with conn.cursor() as cur:
        cur.execute("SELECT pg_try_advisory_lock(%s, %s)", (cls, key))
        return bool(cur.fetchone()[0])


def lock_is_held(cls: int, key: int) -> bool:
    """Whether some session holds the advisory lock (checked through Django's connection)."""
    with connection.cursor() as cur:
        cur.execute(
            "SELECT EXISTS (SELECT 1 FROM pg_locks WHERE locktype = 'advisory' AND granted"
            " AND classid = %s::oid AND objid = %s::oid AND objsubid = 2"
            " AND database = (SELECT oid FROM pg_database WHERE datname = current_database()))",
            (cls & 0xFFFFFFFF, key & 0xFFFFFFFF),
        )
        return bool(cur.fetchone()[0])


def listen(conn, channel: str = CHANNEL) -> None:
    with conn.cursor() as cur:
        cur.execute(f"LISTEN {channel}")


def wait_for_notify(conn, timeout: float, extra_fds: tuple = ()) -> list[str]:
    """Sleep until a NOTIFY arrives on ``conn`` (or an fd in ``extra_fds`` is readable)."""
    if not conn.notifies:
        readable, _, _ = select.select([conn, *extra_fds], [], [], timeout)
        if conn in readable:
            conn.poll()
    payloads = [n.payload for n in conn.notifies]
    conn.notifies.clear()
    return payloads


def notify(payload: str = "") -> None:
    """Wake every listening worker / resource-manager (through Django's connection)."""
    with connection.cursor() as cur:
        cur.execute("SELECT pg_notify(%s, %s)", (CHANNEL, payload))


def wait_for_notify_sleep(timeout: float, fd: int) -> None:
    """Sleep ``timeout`` seconds unless ``fd`` becomes readable first."""
    select.select([fd], [], [], timeout)
