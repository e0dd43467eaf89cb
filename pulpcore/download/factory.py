"""Builds downloaders configured from a Remote, sharing one aiohttp session per factory."""

import asyncio
import os
import ssl
from urllib.parse import urlparse

import aiohttp

from pulpcore.app.files import new_temp_path
from pulpcore.download.base import BaseDownloader, ChunkCallback
from pulpcore.download.file import FileDownloader
from pulpcore.download.http import HttpDownloader, rate_limiter

USER_AGENT = "pulpcore/3.49 (aiohttp)"


def remote_headers(remote) -> dict[str, str]:
    """The remote's ``headers`` field (a list of one-entry ``{name: value}`` dicts) as a dict."""
    result: dict[str, str] = {}
    raw = getattr(remote, "headers", None) or []
    if isinstance(raw, dict):
        raw = [raw]
    for item in raw:
        if isinstance(item, dict):
            for key, value in item.items():
                result[str(key)] = str(value)
    return result


def build_ssl_context(remote) -> ssl.SSLContext | bool:
    """TLS settings of a remote: CA bundle, client certificate, or validation switched off."""
    ca_cert = getattr(remote, "ca_cert", None)
    client_cert = getattr(remote, "client_cert", None)
    client_key = getattr(remote, "client_key", None)
    validate = getattr(remote, "tls_validation", True)
    if validate and not ca_cert and not client_cert:
        return True  # aiohttp's own cached default context: system CAs, hostname checks
    context = ssl.create_default_context(cadata=ca_cert or None)
    if not validate:
        context.check_hostname = False
        context.verify_mode = ssl.CERT_NONE
    if client_cert:
        # ssl only loads certificates from files: write them briefly, private to this process.
        cert_path = new_temp_path(".pem")
        key_path = new_temp_path(".key") if client_key else None
        try:
            with open(cert_path, "w") as fp:
                fp.write(client_cert)
            if key_path:
                with open(key_path, "w") as fp:
                    fp.write(client_key)
            context.load_cert_chain(cert_path, key_path)
        finally:
            for path in (cert_path, key_path):
                if path and os.path.exists(path):
                    os.unlink(path)
    return context


class DownloaderFactory:
    """Makes downloaders for one remote; all of them share a session, a semaphore and a limiter.

    ``download_concurrency`` caps simultaneous requests, ``rate_limit`` caps request starts per
    second, ``max_retries`` bounds retries of transient failures. The aiohttp session is created
    lazily inside the running event loop and reused (connection pooling); call :meth:`close`
    (or use ``async with``) when done.
    """

    def __init__(self, remote, downloader_overrides: dict | None = None):
        self.remote = remote
        self.downloader_overrides = downloader_overrides or {}
        concurrency = getattr(remote, "download_concurrency", None)
        self.concurrency = int(concurrency or remote.DEFAULT_DOWNLOAD_CONCURRENCY)
        retries = getattr(remote, "max_retries", None)
        self.max_retries = int(
            retries if retries is not None else getattr(remote, "DEFAULT_MAX_RETRIES", 3)
        )
        rate = getattr(remote, "rate_limit", None)
        self.rate_limiter = rate_limiter(rate) if rate else None
        self.headers = {"User-Agent": USER_AGENT, **remote_headers(remote)}
        username = getattr(remote, "username", None)
        password = getattr(remote, "password", None)
        self.auth = (username, password or "") if username else None
        self.proxy = getattr(remote, "proxy_url", None) or None
        proxy_user = getattr(remote, "proxy_username", None)
        proxy_password = getattr(remote, "proxy_password", None)
        self.proxy_auth = (proxy_user, proxy_password or "") if proxy_user else None
        self.timeout = aiohttp.ClientTimeout(
            total=getattr(remote, "total_timeout", None),
            connect=getattr(remote, "connect_timeout", None),
            sock_connect=_or(getattr(remote, "sock_connect_timeout", None), 60.0),
            sock_read=_or(getattr(remote, "sock_read_timeout", None), 300.0),
        )
        self._ssl = None
        self._session: aiohttp.ClientSession | None = None
        self._semaphore: asyncio.Semaphore | None = None

    @property
    def semaphore(self) -> asyncio.Semaphore:
        if self._semaphore is None:
            self._semaphore = asyncio.Semaphore(self.concurrency)
        return self._semaphore

    @property
    def session(self) -> aiohttp.ClientSession:
        """The shared session; must be first used from inside the event loop that will run it."""
        if self._session is None or self._session.closed:
            if self._ssl is None:
                self._ssl = build_ssl_context(self.remote)
            connector = aiohttp.TCPConnector(
                ssl=self._ssl, limit=max(self.concurrency, 1), enable_cleanup_closed=True
            )
            self._session = aiohttp.ClientSession(
                connector=connector,
                timeout=self.timeout,
                auto_decompress=False,  # keep bytes exactly as published (e.g. .gz files)
                trust_env=False,
            )
        return self._session

    def build(
        self,
        url: str,
        expected_digests: dict | None = None,
        expected_size: int | None = None,
        on_chunk: ChunkCallback | None = None,
        **kwargs,
    ) -> BaseDownloader:
        """A downloader for ``url`` that validates the given digests and size while streaming."""
        scheme = urlparse(url).scheme.lower()
        if scheme == "file":
            return FileDownloader(url, expected_digests, expected_size, on_chunk)
        if scheme not in ("http", "https"):
            raise ValueError(f"URL scheme {scheme!r} of {url} is not supported.")
        options = {
            "auth": self.auth,
            "proxy": self.proxy,
            "proxy_auth": self.proxy_auth,
            "headers": self.headers,
            "semaphore": self.semaphore,
            "rate_limiter": self.rate_limiter,
            "max_retries": self.max_retries,
        }
        options.update(self.downloader_overrides)
        options.update(kwargs)
        return HttpDownloader(
            url,
            lambda: self.session,  # built lazily: build() may run outside the event loop
            expected_digests,
            expected_size,
            on_chunk,
            **options,
        )

    async def close(self) -> None:
        if self._session is not None and not self._session.closed:
            await self._session.close()
        self._session = None

    async def __aenter__(self) -> "DownloaderFactory":
        return self

    async def __aexit__(self, *exc) -> None:
        await self.close()


def _or(value, default):
    return default if value is None else value
