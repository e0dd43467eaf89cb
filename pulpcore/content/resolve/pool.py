"""The content app's database threads: Django's database layer is synchronous, so every query
of a request runs in one of a few threads, each holding one persistent connection."""

import asyncio
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from typing import Any

from django.db import DatabaseError, InterfaceError, OperationalError, connection, connections


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
