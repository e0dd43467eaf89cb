"""On-demand and streamed content: fetch from the remote while answering the client.

One download per content artifact per process (a "flight"): the first request starts it, later
requests for the same content artifact join it and receive the bytes already seen, then the rest as
they arrive. The download runs as its own task, so a client hanging up does not stop it for the
others or for storage.

Every reader holds back the last chunk it received until the download has been validated (size and
checksums) and, for ``on_demand``, the artifact is saved. A corrupted download is therefore never
delivered as a complete response: the connection is aborted with bytes missing, nothing is stored,
and the next request tries again.
"""

import asyncio
import logging
import os
from dataclasses import dataclass, field

from django.db import IntegrityError, transaction

from pulpcore.content.resolve import DB, RemoteSource

log = logging.getLogger(__name__)

_END = object()


class NoSource(LookupError):
    """The content has neither a stored artifact nor a remote to fetch it from."""


@dataclass
class Flight:
    """One running download and the readers following it."""

    content_artifact_id: str
    replay_limit: int
    size: int | None = None
    buffer: list[bytes] = field(default_factory=list)
    buffered: int = 0
    replayable: bool = True
    readers: set = field(default_factory=set)
    done: bool = False
    error: BaseException | None = None
    artifact_file: str | None = None  # set once stored (on_demand)
    task: asyncio.Task | None = None

    def join(self) -> asyncio.Queue | None:
        """A queue replaying the bytes so far, then live ones; None once replay is impossible."""
        if not self.replayable:
            return None
        queue: asyncio.Queue = asyncio.Queue()
        for chunk in self.buffer:
            queue.put_nowait(chunk)
        if self.done:
            queue.put_nowait(_END)
        else:
            self.readers.add(queue)
        return queue

    def leave(self, queue: asyncio.Queue) -> None:
        self.readers.discard(queue)

    async def feed(self, chunk: bytes) -> None:
        """The downloader's ``on_chunk``: fan the chunk out to every reader."""
        if self.replayable:
            self.buffer.append(chunk)
            self.buffered += len(chunk)
            if self.buffered > self.replay_limit:
                # Too big to keep for late joiners; they will wait and read from storage instead.
                self.replayable = False
                self.buffer = []
        for queue in self.readers:
            queue.put_nowait(chunk)

    def finish(self, error: BaseException | None) -> None:
        self.done = True
        self.error = error
        self.buffer = [] if error else self.buffer
        for queue in self.readers:
            queue.put_nowait(_END)
        self.readers.clear()


class OnDemand:
    """Runs flights and keeps one DownloaderFactory per remote (connection reuse, limits)."""

    def __init__(self, db: DB, replay_limit: int = 32 * 1024 * 1024):
        self.db = db
        self.replay_limit = replay_limit
        self.flights: dict[str, Flight] = {}
        self.factories: dict[str, tuple[object, object]] = {}
        self.downloads_started = 0  # observability for tests and benchmarks
        self.from_alternates = 0  # downloads an alternate content source served

    async def close(self) -> None:
        for flight in list(self.flights.values()):
            if flight.task:
                flight.task.cancel()
        for _stamp, factory in self.factories.values():
            await _close_factory(factory)
        self.factories.clear()

    def flight_for(
        self, content_artifact_id: str, sources: list[RemoteSource], shared: bool = True
    ) -> Flight:
        """The running flight for this content artifact, or a new one.

        ``shared=False`` starts a private download (a streamed reader too late to join a flight
        that can no longer replay its beginning).
        """
        flight = self.flights.get(content_artifact_id) if shared else None
        if flight is not None and not flight.done:
            return flight
        flight = Flight(content_artifact_id, self.replay_limit, size=sources[0].size)
        if shared:
            self.flights[content_artifact_id] = flight
        self.downloads_started += 1
        flight.task = asyncio.get_running_loop().create_task(self._download(flight, sources))
        return flight

    async def _factory(self, remote_id: str):
        from pulpcore.download import DownloaderFactory

        remote = await self.db.run(_load_remote, remote_id)
        stamp = remote.pulp_last_updated
        cached = self.factories.get(remote_id)
        if cached and cached[0] == stamp:
            return cached[1]
        factory = DownloaderFactory(remote)
        self.factories[remote_id] = (stamp, factory)
        if cached:
            await _close_factory(cached[1])
        return factory

    async def _download(self, flight: Flight, sources: list[RemoteSource]) -> None:
        error: BaseException | None = None
        try:
            result = None
            for source in sources:
                factory = await self._factory(source.remote_id)
                downloader = factory.build(
                    source.url,
                    expected_digests=source.digests or None,
                    expected_size=source.size,
                    # An ACS copy is validated whole before readers see it: a corrupt one then
                    # costs nothing but the try, and the next source serves the request.
                    on_chunk=None if source.alternate else flight.feed,
                )
                try:
                    result = await downloader.run()
                except Exception as exc:
                    # Another remote may have it, unless bytes already went to readers.
                    if getattr(downloader, "chunks_delivered", True) or source is sources[-1]:
                        raise
                    log.info("on-demand: %s failed (%s); trying the next remote", source.url, exc)
                    continue
                if source.alternate:
                    self.from_alternates += 1
                    await _replay_file(result.path, flight)
                break
            assert result is not None
            if source.policy == "streamed":
                _unlink(result.path)
            else:
                flight.artifact_file = await self.db.run(
                    save_artifact,
                    result.path,
                    result.artifact_attributes,
                    flight.content_artifact_id,
                )
        except asyncio.CancelledError as exc:
            error = exc
            raise
        except BaseException as exc:  # noqa: BLE001 - readers must learn about every failure
            log.warning("on-demand download for %s failed: %s", flight.content_artifact_id, exc)
            error = exc
        finally:
            flight.finish(error)
            if self.flights.get(flight.content_artifact_id) is flight:
                del self.flights[flight.content_artifact_id]


async def _replay_file(path: str, flight: Flight, chunk_size: int = 256 * 1024) -> None:
    """Feed a validated download to the flight's readers, as if it were streaming."""
    with open(path, "rb") as fp:
        while chunk := await asyncio.to_thread(fp.read, chunk_size):
            await flight.feed(chunk)


async def _close_factory(factory) -> None:
    close = getattr(factory, "close", None)
    if close is None:
        return
    res = close()
    if asyncio.iscoroutine(res):
        await res


def _unlink(path: str) -> None:
    try:
        os.unlink(path)
    except FileNotFoundError:
        pass


def _load_remote(remote_id: str):
    from pulpcore.app.models import Remote

    return Remote.objects.get(pk=remote_id).cast()


def save_artifact(path: str, attributes: dict, content_artifact_id: str) -> str:
    """Store a validated download once and link the content artifact to it (DB thread).

    Another process may have stored the same bytes first: the existing artifact is reused and the
    downloaded copy removed. Returns the artifact's storage name.
    """
    from pulpcore.app.files import hash_file
    from pulpcore.app.models import Artifact, ContentArtifact
    from pulpcore.app.models.content import CHECKSUM_NAMES

    attrs = dict(attributes or {})
    if "sha256" not in attrs or "size" not in attrs:
        digests, size = hash_file(path)
        attrs.update(digests, size=size)
    fields = {k: v for k, v in attrs.items() if k in CHECKSUM_NAMES}
    artifact = Artifact.objects.filter(sha256=fields["sha256"]).first()
    if artifact is None:
        try:
            with transaction.atomic():
                artifact = Artifact(size=int(attrs["size"]), **fields)
                artifact.save_with_file(path)
        except IntegrityError:
            artifact = Artifact.objects.get(sha256=fields["sha256"])
    else:
        _unlink(path)
    ContentArtifact.objects.filter(pk=content_artifact_id, artifact__isnull=True).update(
        artifact=artifact
    )
    return artifact.file.name
