"""Request path → what to serve, in one SQL round trip, remembered until the database changes.

A content request is resolved by a single statement that finds the distribution (longest base path
among the request's prefixes), what it serves (publication, latest version of a repository, or a
fixed version, preferring a complete publication of that version), and the file at the relative
path (published metadata, published artifact, then, for pass-through publications or plain
versions, the content artifacts of the version).

Results (including "not found") are cached in-process. Statement-level triggers on the tables that
feed the resolution send a PostgreSQL NOTIFY; a dedicated LISTEN connection drops the cache when one
arrives. Without that connection (no permission to create triggers, database restarting) the cache
is simply not used, so correctness never depends on it.
"""

import asyncio
import logging
import os
import threading
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from django.conf import settings
from django.db import DatabaseError, InterfaceError, OperationalError, connection, connections

log = logging.getLogger(__name__)

CHANNEL = "pulp_content_changed"
TRIGGER_FUNCTION = "pulp_content_notify_v1"
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


# --- results --------------------------------------------------------------------------------------
@dataclass(frozen=True)
class Distro:
    """The distribution a request falls in and what it serves."""

    pk: str
    base_path: str
    content_guard_id: str | None
    version_id: str | None
    version_number: int | None
    repository_id: str | None
    publication_id: str | None
    pass_through: bool
    explicit_publication: bool


@dataclass(frozen=True)
class Match:
    """A file found at the requested relative path."""

    relative_path: str
    content_artifact_id: str | None
    artifact_file: str | None  # name relative to MEDIA_ROOT; None for on-demand content
    size: int | None
    sha256: str | None
    created: datetime | None

    @property
    def on_demand(self) -> bool:
        return self.artifact_file is None


@dataclass(frozen=True)
class Entry:
    """One line of a directory listing."""

    name: str
    is_dir: bool
    size: int | None = None
    created: datetime | None = None


@dataclass(frozen=True)
class Resolution:
    """Outcome of resolving one path."""

    distro: Distro | None = None
    match: Match | None = None
    listing: tuple[Entry, ...] | None = None  # set when the path is a directory
    listing_is_dir: bool = False  # a listing exists (maybe empty, e.g. an empty distribution)


@dataclass
class RemoteSource:
    """A place on-demand content can be downloaded from."""

    remote_id: str
    url: str
    size: int | None
    digests: dict[str, str]
    policy: str


@dataclass
class OnDemandInfo:
    artifact_file: str | None
    sources: list[RemoteSource] = field(default_factory=list)


# --- SQL ------------------------------------------------------------------------------------------
# One statement: distribution by longest base path, what it serves, and the file at the path.
RESOLVE_SQL = """
WITH d AS (
    SELECT pulp_id, base_path, content_guard_id, publication_id, repository_id,
           repository_version_id, substr(%(full)s, length(base_path) + 2) AS rel
    FROM core_distribution WHERE base_path = ANY(%(prefixes)s)
    ORDER BY length(base_path) DESC LIMIT 1
),
src AS (
    SELECT rv.pulp_id AS version_id, rv.number AS version_number, rv.repository_id,
           pub.pulp_id AS pub_id, COALESCE(pub.pass_through, false) AS pass_through
    FROM d
    JOIN LATERAL (
        SELECT v.pulp_id, v.number, v.repository_id FROM core_repositoryversion v
        WHERE v.complete AND v.pulp_id = COALESCE(
            (SELECT p.repository_version_id FROM core_publication p
             WHERE p.pulp_id = d.publication_id),
            d.repository_version_id,
            (SELECT v2.pulp_id FROM core_repositoryversion v2
             WHERE v2.repository_id = d.repository_id AND v2.complete
             ORDER BY v2.number DESC LIMIT 1))
    ) rv ON true
    LEFT JOIN LATERAL (
        (SELECT p.pulp_id, p.pass_through FROM core_publication p
         WHERE d.publication_id IS NOT NULL AND p.pulp_id = d.publication_id AND p.complete)
        UNION ALL
        (SELECT p.pulp_id, p.pass_through FROM core_publication p
         WHERE d.publication_id IS NULL AND p.repository_version_id = rv.pulp_id AND p.complete
         ORDER BY p.pulp_created DESC LIMIT 1)
        LIMIT 1
    ) pub ON true
),
m AS (
    SELECT * FROM (
        SELECT 0 AS prio, NULL::uuid AS ca_id, a.file, a.size, a.sha256, a.pulp_created
        FROM d, src, core_publishedmetadata pm JOIN core_artifact a ON a.pulp_id = pm.artifact_id
        WHERE pm.publication_id = src.pub_id AND pm.relative_path = d.rel
        UNION ALL
        SELECT 1, ca.pulp_id, a.file, COALESCE(a.size, ra.size), a.sha256, a.pulp_created
        FROM d, src, core_publishedartifact pa
        JOIN core_contentartifact ca ON ca.pulp_id = pa.content_artifact_id
        LEFT JOIN core_artifact a ON a.pulp_id = ca.artifact_id
        LEFT JOIN LATERAL (SELECT r.size FROM core_remoteartifact r
                           WHERE r.content_artifact_id = ca.pulp_id LIMIT 1) ra
               ON a.pulp_id IS NULL
        WHERE pa.publication_id = src.pub_id AND pa.relative_path = d.rel
        UNION ALL
        SELECT 2, ca.pulp_id, a.file, COALESCE(a.size, ra.size), a.sha256, a.pulp_created
        FROM d, src, core_repositorycontent rc
        JOIN core_repositoryversion va ON va.pulp_id = rc.version_added_id
        LEFT JOIN core_repositoryversion vr ON vr.pulp_id = rc.version_removed_id
        JOIN core_contentartifact ca ON ca.content_id = rc.content_id
        LEFT JOIN core_artifact a ON a.pulp_id = ca.artifact_id
        LEFT JOIN LATERAL (SELECT r.size FROM core_remoteartifact r
                           WHERE r.content_artifact_id = ca.pulp_id LIMIT 1) ra
               ON a.pulp_id IS NULL
        WHERE ((src.pub_id IS NULL AND d.publication_id IS NULL) OR src.pass_through)
          AND rc.repository_id = src.repository_id AND va.number <= src.version_number
          AND (vr.pulp_id IS NULL OR vr.number > src.version_number)
          AND ca.relative_path = d.rel
    ) u
    WHERE %(want_file)s
    ORDER BY prio LIMIT 1
)
SELECT d.pulp_id, d.base_path, d.content_guard_id, d.publication_id,
       src.version_id, src.version_number, src.repository_id, src.pub_id, src.pass_through,
       m.prio, m.ca_id, m.file, m.size, m.sha256, m.pulp_created
FROM d LEFT JOIN src ON true LEFT JOIN m ON true
"""

# Every file below a directory prefix of the served source.
LISTING_SQL = """
SELECT pm.relative_path, a.size, a.pulp_created
FROM core_publishedmetadata pm JOIN core_artifact a ON a.pulp_id = pm.artifact_id
WHERE pm.publication_id = %(pub)s AND left(pm.relative_path, %(plen)s) = %(prefix)s
UNION ALL
SELECT pa.relative_path, COALESCE(a.size, ra.size), a.pulp_created
FROM core_publishedartifact pa
JOIN core_contentartifact ca ON ca.pulp_id = pa.content_artifact_id
LEFT JOIN core_artifact a ON a.pulp_id = ca.artifact_id
LEFT JOIN LATERAL (SELECT size FROM core_remoteartifact r
                   WHERE r.content_artifact_id = ca.pulp_id LIMIT 1) ra ON a.pulp_id IS NULL
WHERE pa.publication_id = %(pub)s AND left(pa.relative_path, %(plen)s) = %(prefix)s
UNION ALL
SELECT ca.relative_path, COALESCE(a.size, ra.size), a.pulp_created
FROM core_repositorycontent rc
JOIN core_repositoryversion va ON va.pulp_id = rc.version_added_id
LEFT JOIN core_repositoryversion vr ON vr.pulp_id = rc.version_removed_id
JOIN core_contentartifact ca ON ca.content_id = rc.content_id
LEFT JOIN core_artifact a ON a.pulp_id = ca.artifact_id
LEFT JOIN LATERAL (SELECT size FROM core_remoteartifact r
                   WHERE r.content_artifact_id = ca.pulp_id LIMIT 1) ra ON a.pulp_id IS NULL
WHERE %(use_version)s AND rc.repository_id = %(repo)s AND va.number <= %(num)s
  AND (vr.pulp_id IS NULL OR vr.number > %(num)s)
  AND left(ca.relative_path, %(plen)s) = %(prefix)s
"""

BASE_PATHS_SQL = """
SELECT base_path FROM core_distribution
WHERE NOT COALESCE(hidden, false) AND left(base_path, %(plen)s) = %(prefix)s
  AND NOT (%(hide_guarded)s AND content_guard_id IS NOT NULL)
"""

ON_DEMAND_SQL = """
SELECT a.file, ra.remote_id, ra.url, ra.size, ra.md5, ra.sha1, ra.sha224, ra.sha256, ra.sha384,
       ra.sha512, r.policy
FROM core_contentartifact ca
LEFT JOIN core_artifact a ON a.pulp_id = ca.artifact_id
LEFT JOIN core_remoteartifact ra ON ra.content_artifact_id = ca.pulp_id
LEFT JOIN core_remote r ON r.pulp_id = ra.remote_id
WHERE ca.pulp_id = %(ca)s
ORDER BY ra.pulp_created
"""


# --- database access from threads ----------------------------------------------------------------
class DB:
    """A small thread pool for the (synchronous) Django database layer.

    Each thread keeps one persistent connection; a connection that raised is closed and the call
    retried once, so a database restart costs one failed query per thread, not an outage.
    """

    def __init__(self, threads: int):
        self.pool = ThreadPoolExecutor(max_workers=threads, thread_name_prefix="pulp-content-db")
        self._wrappers: set = set()

    def _call(self, fn: Callable, args: tuple) -> Any:
        self._wrappers.add(connections["default"])
        for attempt in (0, 1):
            try:
                return fn(*args)
            except (OperationalError, InterfaceError):
                if connection.in_atomic_block:
                    raise
                connection.close()
                if attempt:
                    raise
            except DatabaseError:
                if not connection.in_atomic_block and not connection.is_usable():
                    connection.close()
                raise
        raise AssertionError("unreachable")

    async def run(self, fn: Callable, *args: Any) -> Any:
        """Run ``fn(*args)`` in a DB thread."""
        loop = asyncio.get_running_loop()
        return await loop.run_in_executor(self.pool, self._call, fn, args)

    def shutdown(self) -> None:
        """Stop the threads and close their connections (so the database can be dropped)."""
        self.pool.shutdown(wait=True, cancel_futures=True)
        for wrapper in list(self._wrappers):
            raw = wrapper.connection
            if raw is not None:
                try:
                    raw.close()  # the psycopg2 object may be closed from any thread
                except Exception:  # noqa: BLE001 - already gone
                    pass
        self._wrappers.clear()


# The resolution statement takes several times longer to plan than to run, so each connection
# prepares it once (a cold request then costs one EXECUTE of a cached plan).
_PREPARED_NAME = "pulp_content_resolve_v1"
_PREPARE_SQL = f"PREPARE {_PREPARED_NAME}(text[], text, boolean) AS " + RESOLVE_SQL.replace(
    "%(prefixes)s", "$1"
).replace("%(full)s", "$2").replace("%(want_file)s", "$3").replace("%%", "%")


def _execute_resolve(params: tuple) -> list[tuple]:
    connection.ensure_connection()
    raw = connection.connection
    with connection.cursor() as cur:
        # Remember on the Django wrapper which raw connection holds the statement: a reconnect
        # gives a new raw connection object, which then prepares again.
        if getattr(connection, "_pulp_content_prepared", None) is not raw:
            cur.execute(_PREPARE_SQL)
            connection._pulp_content_prepared = raw
        cur.execute(f"EXECUTE {_PREPARED_NAME}(%s, %s, %s)", params)
        return cur.fetchall()


def _fetch(sql: str, params: dict) -> list[tuple]:
    with connection.cursor() as cur:
        cur.execute(sql, params)
        return cur.fetchall()


def resolve_sync(segments: tuple[str, ...], want_dir: bool) -> Resolution:
    """Resolve a request path below the content prefix (runs in a DB thread)."""
    full = "/".join(segments)
    prefixes = ["/".join(segments[:i]) for i in range(len(segments), 0, -1)]
    want_file = bool(segments) and not want_dir
    rows = _execute_resolve((prefixes, full, want_file))
    if not rows:
        return _root_listing(full)
    row = rows[0]
    distro = Distro(
        pk=str(row[0]),
        base_path=row[1],
        content_guard_id=str(row[2]) if row[2] else None,
        version_id=str(row[4]) if row[4] else None,
        version_number=row[5],
        repository_id=str(row[6]) if row[6] else None,
        publication_id=str(row[7]) if row[7] else None,
        pass_through=bool(row[8]),
        explicit_publication=row[3] is not None,
    )
    rel = full[len(distro.base_path) + 1 :]
    if row[9] is not None:
        match = Match(
            relative_path=rel,
            content_artifact_id=str(row[10]) if row[10] else None,
            artifact_file=row[11],
            size=row[12],
            sha256=row[13],
            created=row[14],
        )
        return Resolution(distro=distro, match=match)
    entries = _listing(distro, rel + "/" if rel else "")
    if entries is None:
        return Resolution(distro=distro)
    return Resolution(distro=distro, listing=entries, listing_is_dir=True)


def _listing(distro: Distro, prefix: str) -> tuple[Entry, ...] | None:
    """Immediate children of ``prefix`` in what ``distro`` serves; None if no such directory."""
    if distro.version_id is None:
        return () if prefix == "" else None
    use_version = (distro.publication_id is None and not distro.explicit_publication) or (
        distro.pass_through
    )
    rows = _fetch(
        LISTING_SQL,
        {
            "pub": distro.publication_id,
            "prefix": prefix,
            "plen": len(prefix),
            "use_version": use_version,
            "repo": distro.repository_id,
            "num": distro.version_number,
        },
    )
    if not rows and prefix:
        return None
    files: dict[str, Entry] = {}
    dirs: set[str] = set()
    for path, size, created in rows:
        rest = path[len(prefix) :]
        if "/" in rest:
            dirs.add(rest.split("/", 1)[0])
        elif rest and rest not in files:
            files[rest] = Entry(rest, False, size, created)
    entries = [Entry(d, True) for d in sorted(dirs)]
    entries += [files[n] for n in sorted(files) if n not in dirs]
    return tuple(entries)


def _root_listing(full: str) -> Resolution:
    """Outside any distribution: list the base paths below ``full`` (content root included)."""
    prefix = full + "/" if full else ""
    hide_guarded = bool(getattr(settings, "HIDE_GUARDED_DISTRIBUTIONS", False))
    rows = _fetch(
        BASE_PATHS_SQL, {"prefix": prefix, "plen": len(prefix), "hide_guarded": hide_guarded}
    )
    if not rows and prefix:
        return Resolution()
    names = sorted({bp[len(prefix) :].split("/", 1)[0] for (bp,) in rows})
    return Resolution(listing=tuple(Entry(n, True) for n in names), listing_is_dir=True)


def on_demand_sync(content_artifact_id: str) -> OnDemandInfo:
    """Current artifact (if stored meanwhile) and remote sources of a content artifact."""
    rows = _fetch(ON_DEMAND_SQL, {"ca": content_artifact_id})
    info = OnDemandInfo(artifact_file=rows[0][0] if rows else None)
    names = ("md5", "sha1", "sha224", "sha256", "sha384", "sha512")
    for row in rows:
        if row[1] is None:
            continue
        digests = {n: v for n, v in zip(names, row[4:10], strict=True) if v}
        info.sources.append(
            RemoteSource(
                remote_id=str(row[1]), url=row[2], size=row[3], digests=digests, policy=row[10]
            )
        )
    return info


# --- invalidation ---------------------------------------------------------------------------------
def install_triggers() -> None:
    """Create (idempotently) the NOTIFY triggers the cache relies on (runs in a DB thread)."""
    from django.db import transaction

    with transaction.atomic(), connection.cursor() as cur:
        cur.execute("SELECT pg_advisory_xact_lock(hashtext(%s))", [TRIGGER_FUNCTION])
        cur.execute(
            "SELECT c.relname FROM pg_trigger t JOIN pg_class c ON c.oid = t.tgrelid "
            "WHERE t.tgname = %s",
            [TRIGGER_FUNCTION],
        )
        present = {r[0] for r in cur.fetchall()}
        missing = [t for t in WATCHED_TABLES if t not in present]
        if not missing:
            return
        cur.execute(
            f"CREATE OR REPLACE FUNCTION {TRIGGER_FUNCTION}() RETURNS trigger "
            f"LANGUAGE plpgsql AS $$ BEGIN PERFORM pg_notify('{CHANNEL}', ''); RETURN NULL; END $$"
        )
        for table in missing:
            cur.execute(
                f"CREATE OR REPLACE TRIGGER {TRIGGER_FUNCTION} "
                f"AFTER INSERT OR UPDATE OR DELETE OR TRUNCATE ON {table} "
                f"FOR EACH STATEMENT EXECUTE FUNCTION {TRIGGER_FUNCTION}()"
            )


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
        if not self.enabled or not self.poll():
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


def artifact_abspath(name: str) -> str:
    return os.path.join(settings.MEDIA_ROOT, name)
