"""HTTP(S) downloads over a shared aiohttp session, with retries, rate limiting and concurrency."""

import asyncio
import base64
import time
from collections.abc import Callable, Iterable

import aiohttp

from pulpcore.download.base import BaseDownloader, ChunkCallback, DownloadError

CHUNK_SIZE = 1024 * 1024
# Statuses that say "try again later" rather than "this will never work".
RETRYABLE_STATUSES = frozenset({408, 429, 500, 502, 503, 504})
BACKOFF_BASE = 0.2  # seconds; doubles on each retry
BACKOFF_MAX = 10.0


class HttpStatusError(DownloadError):
    """The server answered with an error status."""

    def __init__(self, url: str, status: int, reason: str | None):
        self.status, self.reason = status, reason or ""
        message = f"Downloading {url} failed: HTTP {status} {self.reason}".strip()
        super().__init__(url, message + ".")


def basic_auth_header(username: str, password: str) -> str:
    """The value of an HTTP Basic ``Authorization`` header."""
    token = base64.b64encode(f"{username}:{password}".encode()).decode("ascii")
    return f"Basic {token}"


class RateLimiter:
    """Spaces request starts so that at most ``rate`` begin per second (shared by a factory)."""

    def __init__(self, rate: float):
        self.interval = 1.0 / rate
        self._next = 0.0

    async def acquire(self) -> None:
        now = time.monotonic()
        start = max(now, self._next)
        self._next = start + self.interval
        if start > now:
            await asyncio.sleep(start - now)


class HttpDownloader(BaseDownloader):
    """Downloads one URL with a (shared) aiohttp session.

    Usable on its own (pass any ``aiohttp.ClientSession``, or a callable returning one) or built
    by ``DownloaderFactory``, which supplies the remote's auth, proxy, headers, concurrency
    semaphore, rate limiter and retries.
    Connection errors, timeouts, 5xx and 429 are retried with exponential backoff; 4xx (such as 404)
    and validation errors are not. Once bytes went to ``on_chunk`` nothing is retried, so a
    streaming reader never receives the same bytes twice.
    """

    def __init__(
        self,
        url: str,
        session: "aiohttp.ClientSession | Callable[[], aiohttp.ClientSession]",
        expected_digests: dict | None = None,
        expected_size: int | None = None,
        on_chunk: ChunkCallback | None = None,
        *,
        auth: tuple[str, str] | None = None,
        proxy: str | None = None,
        proxy_auth: tuple[str, str] | None = None,
        headers: dict | None = None,
        semaphore: asyncio.Semaphore | None = None,
        rate_limiter: RateLimiter | None = None,
        max_retries: int = 0,
        retry_statuses: Iterable[int] = RETRYABLE_STATUSES,
    ):
        super().__init__(url, expected_digests, expected_size, on_chunk)
        self.session = session
        self.proxy = proxy
        self.headers = dict(headers or {})
        if auth is not None:
            self.headers["Authorization"] = basic_auth_header(*auth)
        self.proxy_headers = None
        if proxy and proxy_auth:
            value = basic_auth_header(*proxy_auth)
            if url.lower().startswith("https:"):
                self.proxy_headers = {"Proxy-Authorization": value}  # sent with CONNECT
            else:
                self.headers["Proxy-Authorization"] = value  # plain forward proxy sees the GET
        self.semaphore = semaphore
        self.rate_limiter = rate_limiter
        self.max_retries = max(0, int(max_retries or 0))
        self.retry_statuses = frozenset(retry_statuses)
        self.attempts = 0

    async def _run(self) -> dict:
        attempt = 0
        while True:
            attempt += 1
            self.attempts = attempt
            try:
                if self.semaphore is not None:
                    async with self.semaphore:
                        return await self._attempt()
                return await self._attempt()
            except (TimeoutError, HttpStatusError, aiohttp.ClientError) as exc:
                retryable = not isinstance(exc, HttpStatusError) or (
                    exc.status in self.retry_statuses
                )
                if not retryable or attempt > self.max_retries or self.chunks_delivered:
                    raise self._readable(exc) from exc
                delay = min(BACKOFF_BASE * 2 ** (attempt - 1), BACKOFF_MAX)
                retry_after = getattr(exc, "retry_after", None)
                if retry_after is not None:
                    delay = min(max(delay, retry_after), BACKOFF_MAX)
                self._discard()
                await asyncio.sleep(delay)

    def _readable(self, exc: Exception) -> DownloadError:
        if isinstance(exc, DownloadError):
            return exc
        if isinstance(exc, TimeoutError):
            return DownloadError(self.url, f"Downloading {self.url} timed out.")
        detail = str(exc) or type(exc).__name__
        return DownloadError(self.url, f"Downloading {self.url} failed: {detail}")

    async def _attempt(self) -> dict:
        if self.rate_limiter is not None:
            await self.rate_limiter.acquire()
        session = self.session if isinstance(self.session, aiohttp.ClientSession) else None
        if session is None:
            session = self.session()  # created on first use, inside the running loop
        async with session.get(
            self.url,
            proxy=self.proxy,
            proxy_headers=self.proxy_headers,
            headers=self.headers,
        ) as response:
            if response.status >= 400:
                error = HttpStatusError(self.url, response.status, response.reason)
                retry_after = response.headers.get("Retry-After", "")
                if retry_after.isdigit():
                    error.retry_after = float(retry_after)
                raise error
            while True:
                chunk = await response.content.read(CHUNK_SIZE)
                if not chunk:
                    break
                await self.handle_data(chunk)
            return dict(response.headers)
