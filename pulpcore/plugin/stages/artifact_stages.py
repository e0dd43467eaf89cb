"""Stages that find, download and store the artifacts declared by the first stage."""

import asyncio
import logging
import os
from collections import OrderedDict
from concurrent.futures import ThreadPoolExecutor

from django.db import DEFAULT_DB_ALIAS, connections, transaction

from pulpcore.app.models import Artifact, Remote
from pulpcore.app.queries.acs import acs_offers, any_acs_refreshed
from pulpcore.app.storage import place_artifact_file
from pulpcore.download import DownloaderFactory
from pulpcore.plugin.stages.api import AsyncProgress, Stage, db
from pulpcore.plugin.stages.content_stages import insert_rows
from pulpcore.plugin.stages.models import DeclarativeArtifact, DeclarativeContent

# Strongest first: the digest used to recognise an artifact we already store.
LOOKUP_DIGESTS = ("sha256", "sha512", "sha384", "sha224")
FILE_POOL = ThreadPoolExecutor(max_workers=4, thread_name_prefix="place")
log = logging.getLogger(__name__)


class PipelineContext:
    """State the stages of one pipeline share: downloader factories and temp files to clean."""

    def __init__(self):
        self.factories: dict = {}
        self.temp_paths: set[str] = set()
        # Set by ACSArtifactHandler: whether any ACS was refreshed, and the ACS remotes by pk.
        self.acs_active = False
        self.acs_remotes: dict[str, Remote] = {}

    def factory_for(self, remote) -> DownloaderFactory:
        key = remote.pk or id(remote)
        if key not in self.factories:
            self.factories[key] = DownloaderFactory(remote)
        return self.factories[key]

    async def close(self) -> None:
        for factory in self.factories.values():
            await factory.close()
        self.factories.clear()
        for path in list(self.temp_paths):
            if os.path.exists(path):
                os.unlink(path)
        self.temp_paths.clear()


def _unsaved(dc: DeclarativeContent) -> list[DeclarativeArtifact]:
    return [da for da in dc.d_artifacts if not da.saved]


class QueryExistingArtifacts(Stage):
    """Swap declared artifacts for stored ones with the same digest (one query per batch)."""

    async def run(self) -> None:
        async for batch in self.batches():
            await db(self._resolve, batch)
            for dc in batch:
                await self.put(dc)

    @staticmethod
    def _resolve(batch: list[DeclarativeContent]) -> None:
        allowed = set(Artifact.allowed_checksums())
        wanted: dict[str, dict[str, list[DeclarativeArtifact]]] = {}
        for dc in batch:
            for da in _unsaved(dc):
                for name in LOOKUP_DIGESTS:
                    value = getattr(da.artifact, name)
                    if name in allowed and value:
                        wanted.setdefault(name, {}).setdefault(value.lower(), []).append(da)
                        break
        for name, by_value in wanted.items():
            found = Artifact.objects.filter(**{f"{name}__in": list(by_value)})
            for artifact in found:
                for da in by_value.get(getattr(artifact, name), []):
                    da.artifact = artifact


class ACSArtifactHandler(Stage):
    """Attach what alternate content sources offer to each artifact still to download.

    One query per batch (``queries.acs.acs_offers``, the rule the content app uses too); the
    downloader then tries those offers before the artifact's own URL. Without any refreshed ACS
    units pass straight through after a single check.
    """

    def __init__(self, context: PipelineContext):
        self.context = context

    async def run(self) -> None:
        self.context.acs_active = await db(any_acs_refreshed)
        if not self.context.acs_active:
            while (item := await self.input_queue.get()) is not None:
                await self.put(item)
            return
        async for batch in self.batches():
            await db(self._attach, batch)
            for dc in batch:
                await self.put(dc)

    def _attach(self, batch: list[DeclarativeContent]) -> None:
        todo = [
            da
            for dc in batch
            for da in _unsaved(dc)
            if not da.deferred_download and da.declared.get("sha256")
        ]
        if not todo:
            return
        offers = acs_offers(da.declared["sha256"] for da in todo)
        missing = {o.remote_id for os_ in offers.values() for o in os_} - set(
            self.context.acs_remotes
        )
        if missing:
            for remote in Remote.objects.filter(pk__in=missing):
                self.context.acs_remotes[str(remote.pk)] = remote.cast()
        for da in todo:
            da.alternates = offers.get(da.declared["sha256"], [])


class ArtifactDownloader(Stage):
    """Download artifacts not stored yet, at most ``max_concurrent_content`` units in flight.

    Each remote's own ``download_concurrency`` still caps simultaneous requests (the factory's
    semaphore). Units whose artifacts are all stored or deferred pass straight through.
    """

    RECENT = 5000

    def __init__(self, context: PipelineContext, max_concurrent_content: int = 200):
        self.context = context
        self.max_concurrent_content = max_concurrent_content
        self.progress = AsyncProgress("Downloading Artifacts", "sync.downloading.artifacts")
        self.total = 0
        # Downloads by sha256, running or recently finished, so bytes declared twice are fetched
        # once. Bounded: a sync of any size holds at most RECENT finished artifacts; a duplicate
        # declared later than that is found stored by QueryExistingArtifacts (or, at worst,
        # downloaded again and deduplicated by ArtifactSaver).
        self._inflight: OrderedDict[str, asyncio.Future] = OrderedDict()
        # With an ACS in play: one report per source, saying how many artifacts came from it.
        self._by_source: dict[tuple[str, str], AsyncProgress] = {}

    async def _count_source(self, code: str, message: str) -> None:
        progress = self._by_source.get((code, message))
        if progress is None:
            progress = self._by_source[(code, message)] = AsyncProgress(message, code)
            await progress.start()
        await progress.increase_by(1)

    async def run(self) -> None:
        try:
            await self._run()
        finally:
            for progress in self._by_source.values():
                await asyncio.shield(progress.finish())

    async def _run(self) -> None:
        async with self.progress:
            pending: set[asyncio.Task] = set()
            getter: asyncio.Task | None = None
            input_done = False
            try:
                while not input_done or pending:
                    waiting = set(pending)
                    if not input_done and len(pending) < self.max_concurrent_content:
                        if getter is None:
                            getter = asyncio.create_task(self.input_queue.get())
                        waiting.add(getter)
                    done, _ = await asyncio.wait(waiting, return_when=asyncio.FIRST_COMPLETED)
                    if getter is not None and getter in done:
                        item, getter = getter.result(), None
                        if item is None:
                            input_done = True
                        else:
                            await self._start(item, pending)
                    for task in done & pending:
                        pending.discard(task)
                        await self.put(task.result())  # re-raises a download failure
            finally:
                for task in [*pending, *([getter] if getter else [])]:
                    task.cancel()
            self.progress.report.total = self.total

    async def _start(self, dc: DeclarativeContent, pending: set[asyncio.Task]) -> None:
        """Pass ``dc`` on, or start downloading what it still needs."""
        todo = [da for da in _unsaved(dc) if not da.deferred_download]
        if not todo:
            await self.put(dc)
            return
        for da in todo:
            sha256 = da.declared.get("sha256")
            if not sha256 or sha256 not in self._inflight:
                self.total += 1
        self.progress.report.total = self.total  # grows as units arrive; final at the end
        pending.add(asyncio.create_task(self._download_all(dc, todo)))

    async def _download_all(
        self, dc: DeclarativeContent, todo: list[DeclarativeArtifact]
    ) -> DeclarativeContent:
        await asyncio.gather(*(self._download(da) for da in todo))
        return dc

    async def _download(self, da: DeclarativeArtifact) -> None:
        sha256 = da.declared.get("sha256")
        shared = self._inflight.get(sha256) if sha256 else None
        if shared is not None:
            # The same bytes declared again (another path or unit): download them once.
            da.artifact = await asyncio.shield(shared)
            return
        future: asyncio.Future | None = None
        if sha256:
            future = self._inflight[sha256] = asyncio.get_running_loop().create_future()
            while len(self._inflight) > self.RECENT and next(iter(self._inflight.values())).done():
                self._inflight.popitem(last=False)
        try:
            if da.url is None:
                raise ValueError(f"{da.relative_path} has no URL to download it from.")
            result = await self._from_alternates(da)
            if result is None:
                factory = self.context.factory_for(da.remote)
                downloader = factory.build(
                    da.url,
                    expected_digests=da.expected_digests(),
                    expected_size=da.expected_size(),
                )
                result = await downloader.run()
                if self.context.acs_active:
                    await self._count_source(
                        "sync.downloading.artifacts.remote",
                        f"Downloaded from remote {da.remote.name if da.remote else da.url}",
                    )
        except BaseException as exc:
            if sha256 and future is not None:
                del self._inflight[sha256]
                if not future.done():
                    future.set_exception(exc)
                    future.exception()  # retrieved: waiters re-raise, nobody logs it twice
            raise
        self.context.temp_paths.add(result.path)
        artifact = Artifact(**result.artifact_attributes)
        artifact.file = result.path
        da.artifact = artifact
        if future is not None:
            future.set_result(artifact)
        await self.progress.increase_by(1)

    async def _from_alternates(self, da: DeclarativeArtifact):
        """The first ACS copy that downloads and validates, or None (then the own remote)."""
        for offer in da.alternates:
            remote = self.context.acs_remotes.get(offer.remote_id)
            if remote is None:
                continue
            downloader = self.context.factory_for(remote).build(
                offer.url,
                expected_digests=da.expected_digests(),
                expected_size=da.expected_size(),
            )
            try:
                result = await downloader.run()
            except Exception as exc:  # noqa: BLE001 - any failure means: try the next source
                log.warning(
                    "Alternate content source %s could not provide %s (%s); trying the next "
                    "source.",
                    offer.acs_name,
                    da.relative_path,
                    exc,
                )
                continue
            await self._count_source(
                "sync.downloading.artifacts.acs",
                f"Downloaded from alternate content source {offer.acs_name}",
            )
            return result
        return None


class ArtifactSaver(Stage):
    """Move downloaded files into storage and insert their rows in bulk (sorted by sha256)."""

    def __init__(self, context: PipelineContext):
        self.context = context

    async def run(self) -> None:
        async for batch in self.batches():
            await db(self._save, batch)
            for dc in batch:
                await self.put(dc)

    def _save(self, batch: list[DeclarativeContent]) -> None:
        by_sha: dict[str, list[DeclarativeArtifact]] = {}
        for dc in batch:
            for da in _unsaved(dc):
                if da.artifact.file and da.artifact.file.name in self.context.temp_paths:
                    by_sha.setdefault(da.artifact.sha256, []).append(da)
        if not by_sha:
            return
        moves = []
        for sha256 in sorted(by_sha):
            das = by_sha[sha256]
            temp = das[0].artifact.file.name
            for other in das[1:]:  # the same bytes declared twice in one batch
                other_temp = other.artifact.file.name
                if other_temp != temp and os.path.exists(other_temp):
                    os.unlink(other_temp)
                self.context.temp_paths.discard(other_temp)
            moves.append((das[0].artifact, temp, sha256))
        # Renames are syscalls that release the GIL: do them side by side.
        placed = list(FILE_POOL.map(lambda m: place_artifact_file(m[1], m[2]), moves))
        new = []
        for (artifact, temp, _sha256), name in zip(moves, placed, strict=True):
            artifact.file.name = name
            self.context.temp_paths.discard(temp)
            new.append(artifact)
        connection = connections[DEFAULT_DB_ALIAS]  # the wrapper itself: no proxy per value
        fields = list(Artifact._meta.local_concrete_fields)
        rows = [
            tuple(f.get_db_prep_save(f.pre_save(a, True), connection) for f in fields) for a in new
        ]
        with transaction.atomic():
            insert_rows(Artifact, [f.name for f in fields], rows)
        for artifact in new:
            artifact._state.adding = False
            artifact._state.db = connection.alias
        stored = {a.sha256: a for a in Artifact.objects.filter(sha256__in=list(by_sha))}
        for artifact in new:
            # Another sync may have stored these bytes first: point every reference at its row.
            artifact.pk = stored[artifact.sha256].pk
        for sha256, das in by_sha.items():
            for da in das:
                da.artifact = stored[sha256]
