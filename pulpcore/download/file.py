"""``file://`` downloads: remotes that point at a local directory tree."""

import asyncio
import os
from urllib.parse import unquote, urlparse

from pulpcore.download.base import BaseDownloader, DownloadError

CHUNK_SIZE = 1024 * 1024


class FileDownloader(BaseDownloader):
    """Copies a local file through the same hashing and validation as HTTP downloads."""

    async def _run(self) -> dict:
        path = unquote(urlparse(self.url).path)
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
