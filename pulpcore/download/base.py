"""What every downloader shares: a temp file, hashing while streaming, validation, the result."""

import asyncio
import hashlib
import os
import tempfile
from collections.abc import Awaitable, Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field

from django.conf import settings

from pulpcore.app.files import CHECKSUM_NAMES

ChunkCallback = Callable[[bytes], Awaitable[None]]
_READY_DIRS: set[str] = set()

# Hashing every allowed checksum costs ~10 ms per MiB of CPU; big pieces are hashed and written in
# these threads (hashlib releases the GIL) so the event loop keeps serving other downloads.
OFFLOAD_THRESHOLD = 256 * 1024
_HASH_POOL = ThreadPoolExecutor(max_workers=max(2, os.cpu_count() or 2), thread_name_prefix="hash")


class DownloadError(Exception):
    """A download failed; ``url`` says which one."""

    def __init__(self, url: str, message: str):
        self.url = url
        super().__init__(message)


class DownloadValidationError(DownloadError):
    """The bytes received are not the bytes the caller expected."""


class DigestValidationError(DownloadValidationError):
    """A checksum of the downloaded bytes differs from the expected one."""

    def __init__(self, url: str, name: str, expected: str, actual: str):
        self.name, self.expected, self.actual = name, expected, actual
        super().__init__(
            url,
            f"A file downloaded from {url} failed {name} validation: expected {expected}, "
            f"got {actual}.",
        )


class SizeValidationError(DownloadValidationError):
    """The number of bytes downloaded differs from the expected size."""

    def __init__(self, url: str, expected: int, actual: int):
        self.expected, self.actual = expected, actual
        super().__init__(
            url,
            f"A file downloaded from {url} has the wrong size: expected {expected} bytes, "
            f"got {actual} or more.",
        )


class UnsupportedDigestError(DownloadError):
    """The caller asked to validate a checksum this installation does not compute."""


@dataclass
class DownloadResult:
    """A finished, validated download: the file lives at ``path`` until the caller moves it."""

    path: str
    url: str
    artifact_attributes: dict = field(default_factory=dict)
    headers: dict = field(default_factory=dict)


class BaseDownloader:
    """Streams bytes to a temp file in WORKING_DIRECTORY, hashing and validating as they arrive.

    Subclasses implement :meth:`_run`, feeding chunks to :meth:`handle_data` and returning the
    response headers. Validation happens before anything is handed back, so a caller never sees a
    bad file, and a failed download leaves no file behind.
    """

    def __init__(
        self,
        url: str,
        expected_digests: dict | None = None,
        expected_size: int | None = None,
        on_chunk: ChunkCallback | None = None,
    ):
        self.url = url
        self.expected_digests = {
            k.lower(): v.lower() for k, v in (expected_digests or {}).items() if v
        }
        self.expected_size = int(expected_size) if expected_size is not None else None
        self.on_chunk = on_chunk
        allowed = list(settings.ALLOWED_CONTENT_CHECKSUMS)
        for name in self.expected_digests:
            if name not in CHECKSUM_NAMES:
                raise UnsupportedDigestError(url, f"Unknown checksum type {name!r} for {url}.")
        self._allowed = allowed
        self._names = sorted(set(allowed) | set(self.expected_digests))
        self._reset()
        # True once any byte went to ``on_chunk``: a retry would then repeat bytes to the reader.
        self.chunks_delivered = False

    def _reset(self) -> None:
        self._hashers = {name: hashlib.new(name) for name in self._names}
        self._size = 0
        self._fp = None
        self._pending: list[bytes] = []
        self._pending_size = 0
        self.path: str | None = None

    def _open(self) -> None:
        directory = str(settings.WORKING_DIRECTORY)
        if directory not in _READY_DIRS:
            os.makedirs(directory, exist_ok=True)
            _READY_DIRS.add(directory)
        # One open() per download: syscalls dominate the cost of many small files.
        try:
            fd, self.path = tempfile.mkstemp(dir=directory, suffix=".download")
        except FileNotFoundError:  # the directory was removed since
            os.makedirs(directory, exist_ok=True)
            fd, self.path = tempfile.mkstemp(dir=directory, suffix=".download")
        self._fp = os.fdopen(fd, "wb")

    async def handle_data(self, data: bytes) -> None:
        """Size-check one chunk, hand it to ``on_chunk``, then write and hash it (batched)."""
        if self._fp is None:
            self._open()
        self._size += len(data)
        if self.expected_size is not None and self._size > self.expected_size:
            raise SizeValidationError(self.url, self.expected_size, self._size)
        self._pending.append(data)
        self._pending_size += len(data)
        if self.on_chunk is not None:
            self.chunks_delivered = True
            await self.on_chunk(data)
        if self._pending_size >= OFFLOAD_THRESHOLD:
            await self._flush_pending()

    async def _flush_pending(self) -> None:
        if not self._pending:
            return
        data = self._pending[0] if len(self._pending) == 1 else b"".join(self._pending)
        self._pending, self._pending_size = [], 0
        if len(data) >= OFFLOAD_THRESHOLD:
            await asyncio.get_running_loop().run_in_executor(_HASH_POOL, self._consume, data)
        else:
            self._consume(data)

    def _consume(self, data: bytes) -> None:
        self._fp.write(data)
        for hasher in self._hashers.values():
            hasher.update(data)

    async def _finalize(self, headers: dict) -> DownloadResult:
        if self._fp is None:
            self._open()  # an empty file is still a file
        await self._flush_pending()
        self._fp.close()
        if self.expected_size is not None and self._size != self.expected_size:
            raise SizeValidationError(self.url, self.expected_size, self._size)
        digests = {name: h.hexdigest() for name, h in self._hashers.items()}
        for name, expected in self.expected_digests.items():
            if digests[name] != expected:
                raise DigestValidationError(self.url, name, expected, digests[name])
        attributes = {"size": self._size}
        attributes.update({name: digests[name] for name in self._allowed if name in digests})
        return DownloadResult(
            path=self.path, url=self.url, artifact_attributes=attributes, headers=headers
        )

    def _discard(self) -> None:
        if self._fp is not None:
            self._fp.close()
        if self.path and os.path.exists(self.path):
            os.unlink(self.path)
        self._reset()

    async def _run(self) -> dict:
        """Fetch ``self.url``, feeding bytes to :meth:`handle_data`; return response headers."""
        raise NotImplementedError

    async def run(self) -> DownloadResult:
        """Download, validate and return the result; on any error remove the partial file."""
        try:
            headers = await self._run()
            return await self._finalize(headers)
        except BaseException:
            self._discard()
            raise
