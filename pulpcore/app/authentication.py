"""Authentication: HTTP basic with a short-lived cache of verified credentials.

Django's PBKDF2 check costs ~0.3 s of CPU per request. We remember, for a short time, that a given
(username, password) pair was verified, keyed by a salted digest (the password itself is never
kept). An entry is only honoured while the user's stored password hash is unchanged, so a password
change or deactivation takes effect on the next request.
"""

import hashlib
import os
import threading
import time

from django.contrib.auth import get_user_model
from rest_framework import exceptions
from rest_framework.authentication import BasicAuthentication, RemoteUserAuthentication

_SALT = os.urandom(16)
_TTL = 60.0
_MAX_ENTRIES = 1024
_cache: dict[bytes, tuple[int, str, float]] = {}
_lock = threading.Lock()


def _key(username: str, password: str) -> bytes:
    return hashlib.sha256(_SALT + username.encode() + b"\0" + password.encode()).digest()


class CachedBasicAuthentication(BasicAuthentication):
    """BasicAuthentication that skips the slow hash for recently verified credentials."""

    def authenticate_credentials(self, userid, password, request=None):
        # No account name or password holds a NUL, and PostgreSQL refuses one in a query.
        if "\x00" in userid or "\x00" in password:
            raise exceptions.AuthenticationFailed("Invalid username/password.")
        key = _key(userid, password)
        now = time.monotonic()
        entry = _cache.get(key)
        if entry and entry[2] > now:
            user_id, pw_hash, _ = entry
            user = get_user_model().objects.filter(pk=user_id).first()
            if user is not None and user.is_active and user.password == pw_hash:
                return (user, None)
        user, auth = super().authenticate_credentials(userid, password, request)
        with _lock:
            if len(_cache) >= _MAX_ENTRIES:
                _cache.clear()
            _cache[key] = (user.pk, user.password, now + _TTL)
        return (user, auth)


class PulpRemoteUserAuthentication(RemoteUserAuthentication):
    """Webserver authentication: trust the user name the webserver in front has put in a header.

    The header is the WSGI environ name in ``REMOTE_USER_ENVIRON_NAME`` (``HTTP_REMOTE_USER`` for
    a ``Remote-User`` header set by nginx). Enable it only behind a webserver that strips the
    header from clients' requests; it needs ``RemoteUserBackend`` in AUTHENTICATION_BACKENDS.
    """

    @property
    def header(self) -> str:  # type: ignore[override]
        from django.conf import settings

        return settings.REMOTE_USER_ENVIRON_NAME
