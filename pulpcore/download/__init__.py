"""aiohttp downloaders that validate size and checksums while streaming."""

from pulpcore.download.base import (
    BaseDownloader,
    DigestValidationError,
    DownloadError,
    DownloadResult,
    DownloadValidationError,
    SizeValidationError,
    UnsupportedDigestError,
)
from pulpcore.download.factory import DownloaderFactory, build_ssl_context, remote_headers
from pulpcore.download.file import FileDownloader
from pulpcore.download.http import HttpDownloader, HttpStatusError, rate_limiter

__all__ = [
    "BaseDownloader",
    "DigestValidationError",
    "DownloadError",
    "DownloadResult",
    "DownloadValidationError",
    "DownloaderFactory",
    "FileDownloader",
    "HttpDownloader",
    "HttpStatusError",
    "SizeValidationError",
    "UnsupportedDigestError",
    "build_ssl_context",
    "rate_limiter",
    "remote_headers",
]
