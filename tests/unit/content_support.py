"""Shared helpers for the content-app tests: rows built straight in the database, and the real
aiohttp app running in a background thread on a free port (real sockets, real PostgreSQL)."""

import asyncio
import hashlib
import threading
import uuid

from aiohttp import web

from pulpcore.app.models import Artifact, ContentArtifact, RemoteArtifact, new_temp_path


def make_artifact(data: bytes) -> Artifact:
    """Store ``data`` as an artifact (content-addressed under MEDIA_ROOT)."""
    sha = hashlib.sha256(data).hexdigest()
    existing = Artifact.objects.filter(sha256=sha).first()
    if existing:
        return existing
    path = new_temp_path()
    with open(path, "wb") as fp:
        fp.write(data)
    return Artifact.init_and_validate(path).save_with_file(path)


def make_repository(name: str | None = None):
    from pulp_file.app.models import FileRepository

    return FileRepository.objects.create(name=name or f"repo-{uuid.uuid4()}")


def add_files(repository, files: dict[str, bytes], remote=None, on_demand: set | None = None):
    """New complete version of ``repository`` holding ``files`` (path → bytes) in addition to
    what it had. Paths in ``on_demand`` get no artifact, only a RemoteArtifact on ``remote``
    pointing at ``remote.url + path``."""
    from pulp_file.app.models import FileContent

    on_demand = on_demand or set()
    contents = []
    for rel, data in files.items():
        sha = hashlib.sha256(data).hexdigest()
        content = FileContent.objects.create(relative_path=rel, digest=sha)
        artifact = None if rel in on_demand else make_artifact(data)
        ca = ContentArtifact.objects.create(content=content, artifact=artifact, relative_path=rel)
        if rel in on_demand:
            RemoteArtifact.objects.create(
                url=remote.url.rstrip("/") + "/" + rel,
                size=len(data),
                sha256=sha,
                content_artifact=ca,
                remote=remote,
            )
        contents.append(content.pk)
    version = repository.new_version()
    version.add_content(FileContent.objects.filter(pk__in=contents))
    version.complete_version()
    return version


def remove_files(repository, paths: list[str]):
    from pulp_file.app.models import FileContent

    version = repository.new_version()
    version.remove_content(FileContent.objects.filter(relative_path__in=paths))
    version.complete_version()
    return version


def publish(version, pass_through: bool = False, metadata: dict[str, bytes] | None = None):
    """A complete publication of ``version``: every content artifact plus metadata files."""
    from pulp_file.app.models import FilePublication
    from pulpcore.app.models import PublishedArtifact, PublishedMetadata

    pub = FilePublication.objects.create(repository_version=version, pass_through=pass_through)
    if not pass_through:
        cas = ContentArtifact.objects.filter(content__in=version.content)
        PublishedArtifact.objects.bulk_create(
            [
                PublishedArtifact(
                    relative_path=ca.relative_path, content_artifact=ca, publication=pub
                )
                for ca in cas
            ]
        )
    for rel, data in (metadata or {}).items():
        PublishedMetadata.objects.create(
            relative_path=rel, artifact=make_artifact(data), publication=pub
        )
    pub.complete = True
    pub.save()
    return pub


def distribute(base_path: str, **kwargs):
    from pulp_file.app.models import FileDistribution

    return FileDistribution.objects.create(
        name=base_path + "-" + uuid.uuid4().hex[:6], base_path=base_path, **kwargs
    )


def make_remote(url: str, policy: str = "on_demand"):
    from pulp_file.app.models import FileRemote

    return FileRemote.objects.create(name=f"remote-{uuid.uuid4()}", url=url, policy=policy)


class AppThread:
    """The content app (``make_app``) served from its own event loop in a thread."""

    def __init__(self, heartbeat: bool = False, loop: asyncio.AbstractEventLoop | None = None):
        from pulpcore.content import new_event_loop

        self.heartbeat = heartbeat
        # The loop ``pulp-content`` runs (uvloop) unless a test asks for another.
        self.loop = loop or new_event_loop()
        self.port: int | None = None
        self.app: web.Application | None = None
        self._ready = threading.Event()
        self._error: BaseException | None = None
        self.thread = threading.Thread(target=self._run, daemon=True)

    def _run(self) -> None:
        asyncio.set_event_loop(self.loop)
        try:
            self.loop.run_until_complete(self._start())
        except BaseException as exc:  # noqa: BLE001 - reported to the starting thread
            self._error = exc
            self._ready.set()
            return
        self._ready.set()
        self.loop.run_forever()

    async def _start(self) -> None:
        from pulpcore.content.app import make_app

        self.app = make_app(heartbeat=self.heartbeat)
        self.runner = web.AppRunner(self.app, access_log=None)
        await self.runner.setup()
        site = web.TCPSite(self.runner, "127.0.0.1", 0)
        await site.start()
        self.port = site._server.sockets[0].getsockname()[1]

    def start(self) -> "AppThread":
        self.thread.start()
        self._ready.wait(30)
        if self._error:
            raise self._error
        return self

    @property
    def state(self):
        from pulpcore.content.app import STATE

        return self.app[STATE]

    def wait_cache_ready(self, timeout: float = 10.0) -> None:
        import time

        deadline = time.monotonic() + timeout
        while not self.state.cache.enabled:
            if time.monotonic() > deadline:
                raise TimeoutError("content cache never connected")
            time.sleep(0.02)

    def url(self, path: str) -> str:
        return f"http://127.0.0.1:{self.port}{path}"

    def call(self, coro, timeout: float = 30):
        return asyncio.run_coroutine_threadsafe(coro, self.loop).result(timeout)

    def stop(self) -> None:
        if self.thread.is_alive():
            self.call(self.runner.cleanup())
            self.loop.call_soon_threadsafe(self.loop.stop)
            self.thread.join(10)
