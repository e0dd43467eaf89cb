"""The aiohttp application: routing below CONTENT_PATH_PREFIX, resolution, serving, heartbeat."""

import asyncio
import logging
import os
import socket

from aiohttp import web
from django.conf import settings

from pulpcore.content.guards import refusal, resolve_guarded
from pulpcore.content.ondemand import Flight, OnDemand
from pulpcore.content.paths import BadPath, parse_content_path
from pulpcore.content.resolve import (
    DB,
    ResolutionCache,
    on_demand_sync,
    triggers_present,
)
from pulpcore.content.serve import (
    ArtifactResponse,
    MissingArtifactFile,
    SmallFiles,
    content_type_for,
    listing_page,
)

log = logging.getLogger("pulpcore.content")

STATE = web.AppKey("pulp_content_state", object)


class ContentApp:
    """Everything one content-app process holds: DB threads, cache, flights, heartbeat."""

    def __init__(self, heartbeat: bool = True):
        self.prefix = settings.CONTENT_PATH_PREFIX
        if not self.prefix.endswith("/"):
            self.prefix += "/"
        self.media_root = settings.MEDIA_ROOT
        self.db = DB(settings.CONTENT_DB_THREADS)
        self.cache = ResolutionCache(settings.CONTENT_RESOLVE_CACHE_SIZE)
        self.small_files = SmallFiles()
        self.use_cache = settings.CONTENT_RESOLVE_CACHE
        self.accel_prefix = settings.CONTENT_X_ACCEL_REDIRECT
        self.ondemand = OnDemand(self.db, replay_limit=settings.CONTENT_STREAM_REPLAY_LIMIT)
        self.objects = _object_server()
        self.heartbeat_enabled = heartbeat
        self.name = f"{os.getpid()}@{socket.gethostname()}"
        self._tasks: list[asyncio.Task] = []
        self._listen_fd: int | None = None

    # --- lifecycle --------------------------------------------------------------------------------
    async def startup(self, app: web.Application) -> None:
        if self.objects is not None:
            self.objects.warm_up()
        if self.use_cache:
            self._tasks.append(asyncio.get_running_loop().create_task(self._keep_listening()))
        if self.heartbeat_enabled:
            await self.db.run(_heartbeat, self.name)
            self._tasks.append(asyncio.get_running_loop().create_task(self._heartbeat_loop()))
        log.info("pulp-content %s serving %s", self.name, self.prefix)

    async def cleanup(self, app: web.Application) -> None:
        for task in self._tasks:
            task.cancel()
        for task in self._tasks:
            try:
                await task
            except (asyncio.CancelledError, Exception):  # noqa: BLE001 - shutting down
                pass
        self._stop_listening()
        await self.ondemand.close()
        if self.objects is not None:
            await self.objects.close()
        if self.heartbeat_enabled:
            try:
                await self.db.run(_forget, self.name)
            except Exception as exc:  # noqa: BLE001 - the row will simply expire
                log.warning("could not remove the content app status row: %s", exc)
        self.small_files.clear()
        self.db.shutdown()

    async def _heartbeat_loop(self) -> None:
        interval = max(1.0, float(settings.CONTENT_APP_TTL) / 3)
        while True:
            await asyncio.sleep(interval)
            try:
                await self.db.run(_heartbeat, self.name)
            except Exception as exc:  # noqa: BLE001 - keep beating; status/ shows us stale
                log.warning("content app heartbeat failed: %s", exc)

    async def _keep_listening(self) -> None:
        """Keep the cache-invalidation LISTEN connection up; retry while the DB is away."""
        loop = asyncio.get_running_loop()
        delay = 1.0
        while True:
            if self._listen_fd is None:
                try:
                    if not await self.db.run(triggers_present):
                        raise RuntimeError(
                            "its NOTIFY triggers are missing; run 'pulpcore-manager migrate'"
                        )
                    fd = self.cache.connect()
                    loop.add_reader(fd, self.cache.poll)
                    self._listen_fd = fd
                    delay = 1.0
                except Exception as exc:  # noqa: BLE001 - serve uncached until it works
                    log.warning("content cache disabled (%s); retrying in %.0fs", exc, delay)
                    self._stop_listening()
                    await asyncio.sleep(delay)
                    delay = min(delay * 2, 30.0)
                    continue
            await asyncio.sleep(2.0)
            if not self.cache.poll():
                self._stop_listening()

    def _stop_listening(self) -> None:
        if self._listen_fd is not None:
            try:
                asyncio.get_running_loop().remove_reader(self._listen_fd)
            except Exception:  # noqa: BLE001 - loop closing
                pass
            self._listen_fd = None
        self.cache.disconnect()

    # --- requests ---------------------------------------------------------------------------------
    async def handle(self, request: web.Request) -> web.StreamResponse:
        if request.method not in ("GET", "HEAD"):
            return _error(405, "Only GET and HEAD are supported.", {"Allow": "GET, HEAD"})
        raw = request.raw_path
        target = raw.split("?", 1)[0] if "?" in raw else raw
        # The cache is keyed by the raw target: a hit skips parsing too (only targets that
        # passed validation are ever stored).
        hit = self.cache.get(target) if self.use_cache else None
        if hit is not None:
            path, resolution, guard = hit
        else:
            if target + "/" == self.prefix:
                raise web.HTTPMovedPermanently(self.prefix)
            try:
                path = parse_content_path(target, self.prefix)
            except BadPath as exc:
                return _error(400, f"Bad path: {exc}")
            if path is None:
                return _error(404, f"Not found: content is served below {self.prefix}")
            generation = self.cache.generation
            resolution, guard = await self.db.run(
                resolve_guarded, path.segments, path.trailing_slash
            )
            if self.use_cache:
                self.cache.put(target, (path, resolution, guard), generation)

        if guard is not None:
            denied = await refusal(guard, request, self.db)
            if denied:
                code, reason = denied
                challenge = {"WWW-Authenticate": 'Basic realm="pulp"'} if code == 401 else None
                return _error(code, reason, challenge)

        match = resolution.match
        if match is not None:
            if match.artifact_file is not None:
                try:
                    return await self._serve_stored(request, match.artifact_file, match)
                except MissingArtifactFile:
                    self.cache.invalidate()
                    return _error(404, f"Not found: {request.path} (its file is missing)")
            return await self._serve_on_demand(request, match)
        if resolution.listing_is_dir:
            if not path.trailing_slash and path.segments:
                raise web.HTTPMovedPermanently(request.path + "/")
            body = listing_page(request.path, resolution.listing or (), bool(path.segments))
            return web.Response(text=body, content_type="text/html", charset="utf-8")
        if resolution.distro is None:
            return _error(404, f"Not found: no distribution serves {request.path}")
        return _error(
            404,
            f"Not found: {request.path} is not in distribution '{resolution.distro.base_path}'",
        )

    async def _serve_stored(self, request: web.Request, name: str, match) -> web.StreamResponse:
        """A stored artifact from whichever storage holds it."""
        if self.objects is not None:
            return await self.objects.serve(request, name, match.relative_path)
        return await self._serve_file(request, name, match)

    async def _serve_file(self, request: web.Request, name: str, match) -> web.StreamResponse:
        response = ArtifactResponse(
            os.path.join(self.media_root, name),
            match.relative_path,
            match.sha256,
            match.created,
            accel_prefix=self.accel_prefix,
            artifact_name=name,
            small_files=self.small_files,
        )
        await response.prepare(request)
        return response

    async def _serve_on_demand(self, request: web.Request, match) -> web.StreamResponse:
        info = await self.db.run(on_demand_sync, match.content_artifact_id)
        if info.artifact_file:  # stored meanwhile (by us or another process)
            self.cache.invalidate()
            return await self._serve_stored(request, info.artifact_file, match)
        if not info.sources:
            return _error(404, f"Not found: {request.path} has no artifact and no remote")
        ctype = content_type_for(match.relative_path)
        size = info.sources[0].size
        if request.method == "HEAD":
            headers = {"Content-Type": ctype}
            if size is not None:
                headers["Content-Length"] = str(size)
            return web.Response(status=200, headers=headers)
        flight = self.ondemand.flight_for(match.content_artifact_id, info.sources)
        queue = flight.join()
        if queue is None and info.sources[0].policy == "streamed":
            # Nothing will be stored to wait for: fetch privately.
            flight = self.ondemand.flight_for(match.content_artifact_id, info.sources, shared=False)
            queue = flight.join()
        if queue is None:
            # Too far along to replay: wait for the stored file (or the failure).
            await asyncio.shield(flight.task)
            if flight.error is None and flight.artifact_file:
                return await self._serve_stored(request, flight.artifact_file, match)
            return _error(502, f"Could not fetch {request.path} from the remote.")
        return await self._stream(request, flight, queue, ctype, size)

    async def _stream(
        self, request: web.Request, flight: Flight, queue: asyncio.Queue, ctype: str, size
    ) -> web.StreamResponse:
        from pulpcore.content.ondemand import _END

        response = web.StreamResponse(status=200)
        response.content_type = ctype
        if size is not None:
            response.content_length = size
        prepared = False
        held: bytes | None = None
        try:
            while True:
                chunk = await queue.get()
                if chunk is _END:
                    break
                if not prepared:
                    await response.prepare(request)
                    prepared = True
                if held is not None:
                    await response.write(held)
                held = chunk
        finally:
            flight.leave(queue)
        if flight.error is not None:
            if not prepared:
                return _error(502, f"Could not fetch {request.path} from the remote.")
            # Bytes went out already: cut the connection so the client sees an incomplete body.
            log.warning("aborting response for %s: %s", request.path, flight.error)
            if request.transport is not None:
                request.transport.abort()
            raise ConnectionResetError("on-demand download failed")
        if not prepared:
            await response.prepare(request)
        if held is not None:
            await response.write(held)
        await response.write_eof()
        return response


def _object_server():
    """An ObjectServer when artifacts live in an object store; None for the filesystem."""
    from pulpcore.app.storage import is_local

    if is_local():
        return None
    from pulpcore.content.objects import ObjectServer

    return ObjectServer(redirect=settings.REDIRECT_TO_OBJECT_STORAGE)


def _error(status: int, message: str, headers: dict | None = None) -> web.Response:
    return web.Response(status=status, text=message + "\n", headers=headers)


def _heartbeat(name: str) -> None:
    from pulpcore.app.models import AppStatus
    from pulpcore.app.status import versions

    AppStatus.objects.update_or_create(
        name=name,
        defaults={
            "app_type": "content",
            "versions": {v["component"]: v["version"] for v in versions()},
        },
    )


def _forget(name: str) -> None:
    from pulpcore.app.models import AppStatus

    AppStatus.objects.filter(name=name).delete()


def make_app(heartbeat: bool = True) -> web.Application:
    """Build the application (Django must be set up)."""
    state = ContentApp(heartbeat=heartbeat)
    app = web.Application(handler_args={"max_field_size": 16384})
    app[STATE] = state
    app.on_startup.append(state.startup)
    app.on_cleanup.append(state.cleanup)
    app.router.add_route("*", r"/{tail:[\s\S]*}", state.handle)
    return app
