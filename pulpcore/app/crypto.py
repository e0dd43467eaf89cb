"""Symmetric encryption of database fields with the key file named by ``DB_ENCRYPTION_KEY``.

The file holds one or more Fernet keys, one per line (url-safe base64 of 32 random bytes, the
output of ``openssl rand -base64 32``), as Pulp documents it. The first key encrypts; every key
decrypts, so an operator can add a new key, restart, and re-encrypt with ``rotate-db-key``
without downtime.
"""

import base64
import binascii
import threading
from pathlib import Path

from cryptography.fernet import Fernet, InvalidToken, MultiFernet

__all__ = ["KeyFileError", "InvalidToken", "load_keys", "fernet", "encrypt", "decrypt", "reset"]


class KeyFileError(Exception):
    """The key file is missing, unreadable or holds no valid key."""


def _normalise(line: str) -> bytes:
    """Accept standard and url-safe base64 (openssl writes the former) and return Fernet's form."""
    try:
        raw = base64.b64decode(line.replace("-", "+").replace("_", "/"), validate=True)
    except (binascii.Error, ValueError):
        raise KeyFileError("a line is not base64")
    if len(raw) != 32:
        raise KeyFileError(f"a key decodes to {len(raw)} bytes, 32 are needed")
    return base64.urlsafe_b64encode(raw)


def load_keys(path: str | Path) -> list[bytes]:
    """Read and check every key of the key file; raise KeyFileError with the reason."""
    try:
        text = Path(path).read_text()
    except FileNotFoundError:
        raise KeyFileError(f"DB_ENCRYPTION_KEY file {path} does not exist")
    except OSError as exc:
        raise KeyFileError(f"DB_ENCRYPTION_KEY file {path} cannot be read ({exc.strerror})")
    lines = [line.strip() for line in text.splitlines() if line.strip()]
    if not lines:
        raise KeyFileError(f"DB_ENCRYPTION_KEY file {path} holds no key")
    try:
        return [_normalise(line) for line in lines]
    except KeyFileError as exc:
        raise KeyFileError(f"DB_ENCRYPTION_KEY file {path}: {exc}")


_lock = threading.Lock()
_cache: dict[str, MultiFernet] = {}


def fernet() -> MultiFernet:
    """The process's cipher: the first key encrypts, all keys decrypt (read once per process)."""
    from django.conf import settings

    path = str(settings.DB_ENCRYPTION_KEY)
    cipher = _cache.get(path)
    if cipher is None:
        with _lock:
            cipher = _cache.get(path)
            if cipher is None:
                cipher = MultiFernet([Fernet(k) for k in load_keys(path)])
                _cache[path] = cipher
    return cipher


def reset() -> None:
    """Forget the cached keys (after the key file changed, e.g. in rotate-db-key)."""
    with _lock:
        _cache.clear()


def encrypt(text: str) -> str:
    return fernet().encrypt(text.encode()).decode()


def decrypt(token: str) -> str:
    return fernet().decrypt(token.encode()).decode()
