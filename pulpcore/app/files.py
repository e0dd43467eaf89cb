"""Leaf helpers for files on disk: checksum names, single-pass hashing and fresh temp files.

Shared by the models, the upload path, the download package and the content app; it imports no
model, so ``pulpcore.download`` can use it without loading the ORM.
"""

import hashlib
import os
import tempfile
from collections.abc import Iterable

from django.conf import settings

CHUNK = 1024 * 1024
# Every checksum an Artifact can carry (ALLOWED_CONTENT_CHECKSUMS picks the ones computed).
CHECKSUM_NAMES = ("md5", "sha1", "sha224", "sha256", "sha384", "sha512")


class MultiHasher:
    """Feeds bytes to one hashlib object per allowed checksum and counts the size."""

    def __init__(self, names: Iterable[str] | None = None):
        names = list(names or settings.ALLOWED_CONTENT_CHECKSUMS)
        self.hashers = {name: hashlib.new(name) for name in names}
        self.size = 0

    def update(self, data: bytes) -> None:
        for h in self.hashers.values():
            h.update(data)
        self.size += len(data)

    def digests(self) -> dict[str, str]:
        return {name: h.hexdigest() for name, h in self.hashers.items()}


def hash_file(path: str) -> tuple[dict[str, str], int]:
    """Return ({checksum name: hex digest}, size) for the file at ``path``."""
    hasher = MultiHasher()
    with open(path, "rb") as fp:
        while chunk := fp.read(CHUNK):
            hasher.update(chunk)
    return hasher.digests(), hasher.size


def new_temp_path(suffix: str = "") -> str:
    """A fresh file in WORKING_DIRECTORY (same filesystem as MEDIA_ROOT: moves are cheap)."""
    os.makedirs(settings.WORKING_DIRECTORY, exist_ok=True)
    fd, path = tempfile.mkstemp(dir=settings.WORKING_DIRECTORY, suffix=suffix)
    os.close(fd)
    return path
