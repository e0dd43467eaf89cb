"""Stages connected by bounded queues, run concurrently in one event loop.

Each stage reads items (usually :class:`DeclarativeContent`) from its input queue, works on them
(often in batches, so database work is a few bulk statements instead of one per unit), and puts
them on its output queue. ``None`` marks the end of the stream. If any stage fails, the others are
canceled and the first error is raised as is, so the task's error description stays readable.

Sync code starts async work with :func:`run_async`: the event loop runs in a helper thread while
the calling thread (the task's, with its database connection) executes the blocking work that
stages hand it through :func:`db`. If the calling thread is interrupted (a task cancel arrives as
an exception there), the async work is canceled and waited for before the exception goes on, so no
loop thread, open session or temp file outlives the task.
"""

import asyncio
import contextvars
import queue
import threading
import time
from collections.abc import AsyncIterator, Awaitable, Callable
from concurrent.futures import Future
from typing import Any

from asgiref.sync import sync_to_async
from django.utils.timezone import now

from pulpcore.app.models import ProgressReport
from pulpcore.tasking.exceptions import TaskCanceled

END = None
QUEUE_SIZE = 1000
BATCH_SIZE = 500
BATCH_WAIT = 0.05  # seconds a partial batch waits for more items before going downstream


_OWNER: contextvars.ContextVar = contextvars.ContextVar("pulp_stages_owner", default=None)
_WAKE = object()


class _OwnerThread:
    """Work queue the thread that called :func:`run_async` serves while the loop runs."""

    def __init__(self):
        self.items: queue.SimpleQueue = queue.SimpleQueue()

    def submit(self, func: Callable, args: tuple, kwargs: dict) -> Future:
        future: Future = Future()
        self.items.put((future, func, args, kwargs))
        return future

    def serve_one(self) -> None:
        item = self.items.get()
        if item is _WAKE:
            return
        future, func, args, kwargs = item
        if not future.set_running_or_notify_cancel():
            return
        try:
            future.set_result(func(*args, **kwargs))
        except BaseException as exc:  # noqa: BLE001 - handed to the awaiting coroutine
            future.set_exception(exc)


def run_async(func: Callable[..., Awaitable], *args, **kwargs) -> Any:
    """Run ``await func(*args, **kwargs)`` from sync code; :func:`db` calls run in this thread."""
    owner = _OwnerThread()
    started = threading.Event()
    state: dict = {}
    done: Future = Future()
    context = contextvars.copy_context()

    async def main():
        state["loop"], state["task"] = asyncio.get_running_loop(), asyncio.current_task()
        started.set()
        _OWNER.set(owner)
        return await func(*args, **kwargs)

    def thread_main() -> None:
        try:
            done.set_result(context.run(asyncio.run, main()))
        except BaseException as exc:  # noqa: BLE001 - re-raised in the calling thread
            done.set_exception(exc)
        finally:
            started.set()
            owner.items.put(_WAKE)

    thread = threading.Thread(target=thread_main, name="pulp-stages-loop", daemon=True)
    thread.start()
    interrupted: BaseException | None = None
    while not done.done():
        try:
            owner.serve_one()
        except BaseException as exc:  # e.g. the task was canceled: stop the async side first
            if interrupted is None:
                interrupted = exc
                started.wait()
                if "loop" in state and not state["task"].done():
                    state["loop"].call_soon_threadsafe(state["task"].cancel)
    thread.join()
    if interrupted is not None:
        raise interrupted
    return done.result()


async def db(func: Callable, *args, **kwargs) -> Any:
    """Run blocking (database or file) work in the thread that called :func:`run_async`."""
    owner = _OWNER.get()
    if owner is None:  # started some other way (e.g. asgiref's async_to_sync)
        return await sync_to_async(func, thread_sensitive=True)(*args, **kwargs)
    return await asyncio.wrap_future(owner.submit(func, args, kwargs))


class Stage:
    """Base class of a pipeline stage: override :meth:`run` using items/batches/put."""

    _in_q: asyncio.Queue | None = None
    _out_q: asyncio.Queue | None = None
    # what a DeclarativeVersion hands its first stage (remote, downloader factories, temp files)
    context: Any = None

    @property
    def input_queue(self) -> asyncio.Queue:
        """The queue this stage reads; only a pipeline's first stage has none."""
        if self._in_q is None:
            raise RuntimeError(f"{type(self).__name__} is the first stage: it has no input.")
        return self._in_q

    async def run(self) -> None:
        raise NotImplementedError

    async def __call__(self) -> None:
        await self.run()
        await self._put_end()

    async def items(self) -> AsyncIterator[Any]:
        """Yield input items one at a time until the end marker."""
        while True:
            item = await self.input_queue.get()
            if item is END:
                return
            yield item

    async def batches(self, minsize: int = BATCH_SIZE) -> AsyncIterator[list[Any]]:
        """Yield lists of up to ``minsize`` items, not waiting long for a batch to fill up."""
        batch: list[Any] = []
        ended = False
        while not ended:
            item = await self.input_queue.get()
            if item is END:
                break
            batch.append(item)
            while len(batch) < minsize:
                try:
                    item = self.input_queue.get_nowait()
                except asyncio.QueueEmpty:
                    try:
                        item = await asyncio.wait_for(self.input_queue.get(), BATCH_WAIT)
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
    in_q: asyncio.Queue | None = None
    for stage in stages:
        out_q: asyncio.Queue = asyncio.Queue(maxsize=maxsize)
        stage._in_q, stage._out_q = in_q, out_q
        in_q = out_q
    stages[-1]._out_q = None
    tasks = [asyncio.create_task(stage(), name=type(stage).__name__) for stage in stages]
    try:
        done, pending = await asyncio.wait(tasks, return_when=asyncio.FIRST_EXCEPTION)
        for task in done:
            if (error := task.exception()) is not None:
                raise error
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
            report = self.report
            type(report).objects.filter(pk=report.pk).update(
                done=report.done, total=report.total, state=report.state, pulp_last_updated=now()
            )

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
        elif issubclass(exc_type, TaskCanceled | asyncio.CancelledError):
            await asyncio.shield(self.finish("canceled"))
        else:
            await self.finish("failed")
