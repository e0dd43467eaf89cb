"""``file://`` downloads: remotes that point at a local directory tree."""

import asyncio
import os
from urllib.parse import unquote, urlparse

from django.conf import settings

from pulpcore.download.base import BaseDownloader, DownloadError

CHUNK_SIZE = 1024 * 1024


def allowed_path(path: str) -> bool:
    """Whether ``path`` (symlinks resolved) lies under one of ``ALLOWED_IMPORT_PATHS``."""
    real = os.path.realpath(path)
    for root in settings.ALLOWED_IMPORT_PATHS or []:
        base = os.path.realpath(root)
        if real == base or real.startswith(base.rstrip(os.sep) + os.sep):
            return True
    return False


class FileDownloader(BaseDownloader):
    """Copies a local file through the same hashing and validation as HTTP downloads.

    Only files under ``ALLOWED_IMPORT_PATHS`` may be read, so a remote cannot expose arbitrary
    files of the server.
    """

    async def _run(self) -> dict:
        path = unquote(urlparse(self.url).path)
        if not allowed_path(path):
            raise DownloadError(
                self.url,
                f"Downloading {self.url} refused: the path is not under ALLOWED_IMPORT_PATHS.",
            )
        if not os.path.isfile(path):
            raise DownloadError(self.url, f"Downloading {self.url} failed: no such file.")
        loop = asyncio.get_running_loop()
        with open(path, "rb") as fp:
            while True:
                chunk = await loop.run_in_executor(None, fp.read, CHUNK_SIZE)
                if not chunk:
                    break
                await self.handle_data(chunk)
        return {}
