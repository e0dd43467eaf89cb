"""Stages connected by bounded queues, run concurrently in one event loop.

Each stage reads items (usually :class:`DeclarativeContent`) from its input queue, works on them
(often in batches, so database work is a few bulk statements instead of one per unit), and puts
them on its output queue. ``None`` marks the end of the stream. If any stage fails, the others are
canceled and the first error is raised as is, so the task's error description stays readable.

Database work runs through :func:`db`, which executes it in the thread that started the pipeline
(``asgiref`` thread-sensitive mode): the task's own connection, never the event loop thread.
"""

import asyncio
import time
from collections.abc import AsyncIterator, Callable
from typing import Any

from asgiref.sync import sync_to_async

from pulpcore.app.models import ProgressReport

END = None
QUEUE_SIZE = 1000
BATCH_SIZE = 500
BATCH_WAIT = 0.05  # seconds a partial batch waits for more items before going downstream


async def db(func: Callable, *args, **kwargs) -> Any:
    """Run blocking (database or file) work in the pipeline's owner thread."""
    return await sync_to_async(func, thread_sensitive=True)(*args, **kwargs)


class Stage:
    """Base class of a pipeline stage: override :meth:`run` using items/batches/put."""

    _in_q: asyncio.Queue | None = None
    _out_q: asyncio.Queue | None = None

    async def run(self) -> None:
        raise NotImplementedError

    async def __call__(self) -> None:
        await self.run()
        await self._put_end()

    async def items(self) -> AsyncIterator[Any]:
        """Yield input items one at a time until the end marker."""
        while True:
            item = await self._in_q.get()
            if item is END:
                return
            yield item

    async def batches(self, minsize: int = BATCH_SIZE) -> AsyncIterator[list[Any]]:
        """Yield lists of up to ``minsize`` items, not waiting long for a batch to fill up."""
        batch: list[Any] = []
        ended = False
        while not ended:
            item = await self._in_q.get()
            if item is END:
                break
            batch.append(item)
            while len(batch) < minsize:
                try:
                    item = self._in_q.get_nowait()
                except asyncio.QueueEmpty:
                    try:
                        item = await asyncio.wait_for(self._in_q.get(), BATCH_WAIT)
                    except TimeoutError:
                        break
                if item is END:
                    ended = True
                    break
                batch.append(item)
            yield batch
            batch = []
        if batch:
            yield batch

    async def put(self, item: Any) -> None:
        if item is END:
            raise ValueError("Stages must not put None; the pipeline sends the end marker.")
        if self._out_q is not None:
            await self._out_q.put(item)

    async def _put_end(self) -> None:
        if self._out_q is not None:
            await self._out_q.put(END)


class EndStage(Stage):
    """Drains the last queue."""

    async def run(self) -> None:
        async for _ in self.items():
            pass


async def create_pipeline(stages: list[Stage], maxsize: int = QUEUE_SIZE) -> None:
    """Connect ``stages`` with queues and run them until all finish or one fails."""
    if not stages or not isinstance(stages[-1], EndStage):
        stages = [*stages, EndStage()]
    in_q = None
    for stage in stages:
        out_q = asyncio.Queue(maxsize=maxsize)
        stage._in_q, stage._out_q = in_q, out_q
        in_q = out_q
    stages[-1]._out_q = None
    tasks = [asyncio.create_task(stage(), name=type(stage).__name__) for stage in stages]
    try:
        done, pending = await asyncio.wait(tasks, return_when=asyncio.FIRST_EXCEPTION)
        for task in done:
            if task.exception() is not None:
                raise task.exception()
    finally:
        for task in tasks:
            if not task.done():
                task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)


class AsyncProgress:
    """A ProgressReport updated from async code without a query per item (flushed at most 4/s)."""

    FLUSH_INTERVAL = 0.25

    def __init__(self, message: str, code: str, total: int | None = None):
        self.report = ProgressReport(message=message, code=code, total=total, state="waiting")
        self._last_flush = 0.0

    @property
    def done(self) -> int:
        return self.report.done

    def _save(self) -> None:
        if self.report._state.adding:
            self.report.save()
        elif self.report.task_id:
            self.report.save(update_fields=["done", "total", "state", "pulp_last_updated"])

    async def flush(self) -> None:
        self._last_flush = time.monotonic()
        await db(self._save)

    async def start(self) -> "AsyncProgress":
        self.report.state = "running"
        await self.flush()
        return self

    async def increase_by(self, count: int) -> None:
        self.report.done += count
        if time.monotonic() - self._last_flush >= self.FLUSH_INTERVAL:
            await self.flush()

    async def set_total(self, total: int | None) -> None:
        self.report.total = total
        await self.flush()

    async def finish(self, state: str = "completed") -> None:
        self.report.state = state
        await self.flush()

    async def __aenter__(self) -> "AsyncProgress":
        return await self.start()

    async def __aexit__(self, exc_type, exc, tb) -> None:
        if exc_type is None:
            await self.finish("completed")
        elif exc_type.__name__ in ("TaskCanceled", "CancelledError"):
            await asyncio.shield(self.finish("canceled"))
        else:
            await self.finish("failed")
