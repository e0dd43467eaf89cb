"""The stages API as a plugin author uses it: custom first stages, batching, errors, sharing."""

import asyncio
import uuid

import pytest
from asgiref.sync import async_to_sync

from pulp_file.app.models import FileContent, FileRemote, FileRepository
from pulpcore.app.models import Artifact, ContentArtifact, RemoteArtifact
from pulpcore.plugin.stages import (
    DeclarativeArtifact,
    DeclarativeContent,
    DeclarativeVersion,
    Stage,
    create_pipeline,
)
from tests.fixtures import FixtureServer, make_file_fixture


class ListStage(Stage):
    def __init__(self, items):
        self.items_to_send = items

    async def run(self):
        for item in self.items_to_send:
            await self.put(item)


class Collect(Stage):
    def __init__(self, minsize=3):
        self.minsize = minsize
        self.batches_seen = []

    async def run(self):
        async for batch in self.batches(self.minsize):
            self.batches_seen.append(list(batch))
            for item in batch:
                await self.put(item)


def test_batches_keep_order_and_size():
    collect = Collect(minsize=3)
    asyncio.run(create_pipeline([ListStage(list(range(8))), collect]))
    assert [i for b in collect.batches_seen for i in b] == list(range(8))
    assert all(len(b) <= 3 for b in collect.batches_seen)
    assert collect.batches_seen[0] == [0, 1, 2]


def test_first_error_is_raised_and_other_stages_stop():
    class Boom(Stage):
        async def run(self):
            async for item in self.items():
                if item == 5:
                    raise ValueError("item 5 is bad")
                await self.put(item)

    class Forever(Stage):
        cancelled = False

        async def run(self):
            try:
                await asyncio.sleep(3600)
            except asyncio.CancelledError:
                Forever.cancelled = True
                raise

    with pytest.raises(ValueError, match="item 5 is bad"):
        asyncio.run(
            asyncio.wait_for(create_pipeline([ListStage(range(10)), Boom(), Forever()]), 10)
        )
    assert Forever.cancelled


def test_declarative_artifact_needs_url_or_saved_artifact():
    with pytest.raises(ValueError):
        DeclarativeArtifact(Artifact(sha256="a" * 64), url=None, relative_path="x")
    with pytest.raises(ValueError):
        DeclarativeArtifact(Artifact(), url="http://h/x", relative_path="x", remote=None)


@pytest.mark.django_db(transaction=True)
def test_shared_bytes_duplicates_and_two_units_per_batch(tmp_path):
    """Same bytes at two paths download once; a unit declared twice is saved once."""
    tree = make_file_fixture(tmp_path / "o", count=2, size=5000)
    a, b = tree.entries
    with FixtureServer(tree.root) as server:
        remote = FileRemote.objects.create(name=f"r-{uuid.uuid4().hex[:6]}", url=server.url)
        repo = FileRepository.objects.create(name=f"p-{uuid.uuid4().hex[:6]}")

        def dc(path, entry, url_path):
            artifact = Artifact(sha256=entry.sha256, size=entry.size)
            da = DeclarativeArtifact(artifact, server.url + url_path, path, remote)
            return DeclarativeContent(FileContent(relative_path=path, digest=entry.sha256), [da])

        items = [
            dc("one/a.iso", a, a.relative_path),
            dc("two/a.iso", a, a.relative_path),  # same bytes, other path
            dc("one/a.iso", a, a.relative_path),  # the very same unit again
            dc("b.iso", b, b.relative_path),
        ]
        version = DeclarativeVersion(ListStage(items), repo).create()
    assert version is not None and version.number == 0
    assert version.content.count() == 3
    assert server.counts[a.relative_path] == 1  # downloaded once for two paths
    assert Artifact.objects.count() == 2
    shared = Artifact.objects.get(sha256=a.sha256)
    assert set(
        ContentArtifact.objects.filter(artifact=shared).values_list("relative_path", flat=True)
    ) == {"one/a.iso", "two/a.iso"}
    assert RemoteArtifact.objects.filter(remote=remote).count() == 3


@pytest.mark.django_db(transaction=True)
def test_resolution_future_gives_saved_unit(tmp_path):
    tree = make_file_fixture(tmp_path / "o", count=1, size=10)
    entry = tree.entries[0]
    seen = []

    class Resolving(Stage):
        def __init__(self, remote, url):
            self.remote, self.url = remote, url

        async def run(self):
            artifact = Artifact(sha256=entry.sha256, size=entry.size)
            da = DeclarativeArtifact(artifact, self.url, entry.relative_path, self.remote)
            unit = DeclarativeContent(
                FileContent(relative_path=entry.relative_path, digest=entry.sha256), [da]
            )
            waiter = asyncio.ensure_future(unit.resolution())
            await self.put(unit)
            seen.append(await waiter)

    with FixtureServer(tree.root) as server:
        remote = FileRemote.objects.create(name=f"r-{uuid.uuid4().hex[:6]}", url=server.url)
        repo = FileRepository.objects.create(name=f"p-{uuid.uuid4().hex[:6]}")
        DeclarativeVersion(Resolving(remote, server.url + entry.relative_path), repo).create()
    assert len(seen) == 1 and not seen[0]._state.adding
    assert FileContent.objects.get(pk=seen[0].pk).digest == entry.sha256


def test_db_helper_runs_in_calling_thread():
    import threading

    from pulpcore.plugin.stages import db

    caller = threading.get_ident()

    async def go():
        assert threading.get_ident() != caller  # the loop runs elsewhere
        return await db(threading.get_ident)

    assert async_to_sync(go)() == caller


def test_run_async_serves_db_in_calling_thread_and_propagates_errors():
    import threading

    from pulpcore.plugin.stages import db, run_async

    caller = threading.get_ident()

    async def go(x):
        assert threading.get_ident() != caller
        return await db(threading.get_ident), x

    assert run_async(go, 7) == (caller, 7)

    async def bad():
        await db(int, "not a number")

    with pytest.raises(ValueError):
        run_async(bad)


def test_run_async_interrupted_cancels_the_loop_first():
    """A task cancel arrives as an exception in the calling thread: the loop stops too."""
    import signal
    import threading

    from pulpcore.plugin.stages import db, run_async

    class Interrupted(Exception):
        pass

    cleaned = threading.Event()

    async def endless():
        try:
            while True:
                await asyncio.sleep(0.01)
                await db(int, "1")
        finally:
            cleaned.set()

    def handler(signum, frame):
        raise Interrupted("canceled")

    previous = signal.signal(signal.SIGALRM, handler)
    try:
        signal.setitimer(signal.ITIMER_REAL, 0.3)
        with pytest.raises(Interrupted):
            run_async(endless)
    finally:
        signal.setitimer(signal.ITIMER_REAL, 0)
        signal.signal(signal.SIGALRM, previous)
    assert cleaned.is_set()
    assert not [t for t in threading.enumerate() if t.name == "pulp-stages-loop"]
