"""HTTP(S) downloads over a shared aiohttp session, with retries, rate limiting and concurrency."""

import asyncio
from collections.abc import Callable, Generator, Iterable

import aiohttp
import backoff
from aiolimiter import AsyncLimiter

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


def rate_limiter(rate: float) -> AsyncLimiter:
    """At most ``rate`` request starts per second, spaced evenly (no burst): one per 1/rate s.

    An ``aiolimiter`` bucket of capacity one, shared by all downloaders of a factory.
    """
    return AsyncLimiter(1, 1.0 / rate)


def retry_waits(base: float = BACKOFF_BASE, cap: float = BACKOFF_MAX) -> Generator:
    """Our retry policy as a ``backoff`` wait generator: ``base`` doubling up to ``cap``, and never
    shorter than a server's ``Retry-After`` (itself capped). backoff sends each exception in."""
    exc = yield
    attempt = 0
    while True:
        delay = min(base * 2**attempt, cap)
        retry_after = getattr(exc, "retry_after", None)
        if retry_after is not None:
            delay = min(max(delay, retry_after), cap)
        attempt += 1
        exc = yield delay


RETRYABLE_ERRORS = (TimeoutError, aiohttp.ClientError)


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
        rate_limiter: AsyncLimiter | None = None,
        max_retries: int = 0,
        retry_statuses: Iterable[int] = RETRYABLE_STATUSES,
    ):
        super().__init__(url, expected_digests, expected_size, on_chunk)
        self.session = session
        self.proxy = proxy
        self.headers = dict(headers or {})
        # aiohttp encodes the credentials (encode_basic_auth: what it recommends over the
        # deprecated BasicAuth/auth=); the remote's username wins over a custom Authorization.
        if auth is not None:
            self.headers = {k: v for k, v in self.headers.items() if k.lower() != "authorization"}
            self.headers["Authorization"] = aiohttp.encode_basic_auth(*auth)
        self.proxy_headers = None
        if proxy and proxy_auth:
            value = aiohttp.encode_basic_auth(*proxy_auth)
            if url.lower().startswith("https:"):
                self.proxy_headers = {"Proxy-Authorization": value}  # sent with CONNECT
            else:
                self.headers["Proxy-Authorization"] = value  # plain forward proxy sees the GET
        self.semaphore = semaphore
        self.rate_limiter = rate_limiter
        self.max_retries = max(0, int(max_retries or 0))
        self.retry_statuses = frozenset(retry_statuses)
        self.attempts = 0

    def _give_up(self, exc: Exception) -> bool:
        """Not worth another attempt: a permanent status, or bytes already went to the reader."""
        if self.chunks_delivered:
            return True
        return isinstance(exc, HttpStatusError) and exc.status not in self.retry_statuses

    async def _limited_attempt(self) -> dict:
        self.attempts += 1
        if self.semaphore is not None:
            async with self.semaphore:
                return await self._attempt()
        return await self._attempt()

    async def _run(self) -> dict:
        attempt = backoff.on_exception(
            retry_waits,
            (*RETRYABLE_ERRORS, HttpStatusError),
            max_tries=self.max_retries + 1,
            giveup=self._give_up,
            on_backoff=lambda details: self._discard(),
            jitter=None,
            logger=None,
        )(self._limited_attempt)
        try:
            return await attempt()
        except (*RETRYABLE_ERRORS, HttpStatusError) as exc:
            raise self._readable(exc) from exc

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
