"""Serving artifacts kept in an object store (S3): a redirect to a presigned URL, or a relay.

Redirect mode (``REDIRECT_TO_OBJECT_STORAGE``, the default) answers 302 with a URL signed for
``AWS_QUERYSTRING_EXPIRE`` seconds; the client then fetches the bytes (ranges, validators) from the
store directly, and every request gets a freshly signed URL. Stream mode fetches that same presigned
URL with aiohttp's client and relays status, validators and body, so the event loop never waits on
boto3: signing is local computation and the transfer is asynchronous.
"""

import asyncio
import logging

import aiohttp
from aiohttp import hdrs, web

from pulpcore.content.serve import MissingArtifactFile, content_type_for

log = logging.getLogger(__name__)

# Request headers passed to the store in stream mode: ranges and conditional requests.
_FORWARD = (
    hdrs.RANGE,
    hdrs.IF_RANGE,
    hdrs.IF_MATCH,
    hdrs.IF_NONE_MATCH,
    hdrs.IF_MODIFIED_SINCE,
    hdrs.IF_UNMODIFIED_SINCE,
)
# Response headers relayed from the store.
_RELAY = (
    hdrs.CONTENT_LENGTH,
    hdrs.CONTENT_RANGE,
    hdrs.ETAG,
    hdrs.LAST_MODIFIED,
    hdrs.ACCEPT_RANGES,
)
CHUNK = 256 * 1024


async def _exists(request: web.Request, name: str) -> bool:
    """Whether the object exists (boto3's HEAD, in a thread: never on the event loop)."""
    from pulpcore.app.storage import stored_exists

    try:
        return await asyncio.get_running_loop().run_in_executor(None, stored_exists, name)
    except Exception as exc:  # noqa: BLE001 - cannot tell: not "missing"
        log.warning("could not check %s in the object store: %s", name, exc)
        return True


class ObjectServer:
    """Answers requests for stored artifacts on an object store; one per content-app process."""

    def __init__(self, redirect: bool):
        self.redirect = redirect
        self._session: aiohttp.ClientSession | None = None

    def warm_up(self) -> None:
        """Build the signing client now (on the event loop thread, which signs every URL).

        django-storages keeps one boto3 client per thread; the first one costs a few hundred
        milliseconds that should be paid at start, not by the first download.
        """
        self.sign("artifact/warm-up", None)

    @staticmethod
    def sign(name: str, content_type: str | None) -> str:
        from pulpcore.app.storage import presigned_url

        return presigned_url(name, content_type)

    async def close(self) -> None:
        if self._session is not None:
            await self._session.close()
            self._session = None

    async def serve(
        self, request: web.Request, name: str, relative_path: str
    ) -> web.StreamResponse:
        ctype = content_type_for(relative_path)
        url = self.sign(name, ctype)
        if self.redirect:
            # Not cached by clients or proxies: the URL stops working when its signature expires.
            return web.Response(
                status=302, headers={hdrs.LOCATION: url, hdrs.CACHE_CONTROL: "no-store"}
            )
        return await self._relay(request, url, ctype, name)

    async def _relay(
        self, request: web.Request, url: str, ctype: str, name: str
    ) -> web.StreamResponse:
        if self._session is None:
            self._session = aiohttp.ClientSession(
                timeout=aiohttp.ClientTimeout(total=None, connect=10, sock_read=60),
                auto_decompress=False,
            )
        headers = {k: v for k in _FORWARD if (v := request.headers.get(k)) is not None}
        rng = headers.get(hdrs.RANGE)
        if rng is not None and (not rng.strip().lower().startswith("bytes=") or "," in rng):
            # As for files on disk: other units and several ranges get the whole object.
            del headers[hdrs.RANGE]
        method = "HEAD" if request.method == "HEAD" else "GET"
        try:
            upstream = await self._session.request(method, url, headers=headers)
        except (TimeoutError, aiohttp.ClientError) as exc:
            log.warning("object store unreachable for %s: %s", request.path, exc)
            return web.Response(status=502, text="The object store did not answer.\n")
        async with upstream:
            if upstream.status == 404 or (
                upstream.status == 403 and not await _exists(request, name)
            ):
                # Stores without list rights answer 403 for a missing key: ask which it is.
                raise MissingArtifactFile(request.path)
            if upstream.status >= 500 or upstream.status in (401, 403):
                log.warning("object store answered %s for %s", upstream.status, request.path)
                return web.Response(status=502, text="The object store refused the request.\n")
            response = web.StreamResponse(status=upstream.status)
            for key in _RELAY:
                if (value := upstream.headers.get(key)) is not None:
                    response.headers[key] = value
            if upstream.status != 304:
                response.headers[hdrs.CONTENT_TYPE] = ctype
            await response.prepare(request)
            if method == "GET":
                async for chunk in upstream.content.iter_chunked(CHUNK):
                    await response.write(chunk)
            await response.write_eof()
            return response
