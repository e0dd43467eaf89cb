"""Downloaders for plugins: build them from a remote with ``DownloaderFactory``."""

from pulpcore.download import (  # noqa: F401
    BaseDownloader,
    DigestValidationError,
    DownloaderFactory,
    DownloadError,
    DownloadResult,
    DownloadValidationError,
    FileDownloader,
    HttpDownloader,
    HttpStatusError,
    SizeValidationError,
)
