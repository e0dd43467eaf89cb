"""Hashing helpers: every allowed checksum computed in a single pass over the bytes."""

import hashlib
from collections.abc import Iterable

from django.conf import settings

CHUNK = 1024 * 1024


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
