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

from django.contrib.auth import authenticate, get_user_model
from rest_framework import exceptions
from rest_framework.authentication import BasicAuthentication, RemoteUserAuthentication

_SALT = os.urandom(16)
_TTL = 60.0
_MAX_ENTRIES = 1024
_cache: dict[bytes, tuple[int, str, float]] = {}
_lock = threading.Lock()


def _key(username: str, password: str) -> bytes:
    return hashlib.sha256(_SALT + username.encode() + b"\0" + password.encode()).digest()


def check_credentials(userid: str, password: str, request=None):
    """The active user these credentials belong to, or None (cached verification).

    One home for password checks: the API's basic authentication and the content app's RBAC
    guard both ask here, so both honour the same cache and the same password changes.
    """
    # No account name or password holds a NUL, and PostgreSQL refuses one in a query.
    if "\x00" in userid or "\x00" in password:
        return None
    key = _key(userid, password)
    now = time.monotonic()
    entry = _cache.get(key)
    if entry and entry[2] > now:
        user_id, pw_hash, _ = entry
        user = get_user_model().objects.filter(pk=user_id).first()
        if user is not None and user.is_active and user.password == pw_hash:
            return user
    user = authenticate(request=request, username=userid, password=password)
    if user is None or not user.is_active:
        return None
    with _lock:
        if len(_cache) >= _MAX_ENTRIES:
            _cache.clear()
        _cache[key] = (user.pk, user.password, now + _TTL)
    return user


def session_user(session_key: str):
    """The active user logged in with Django session ``session_key``, or None.

    The same checks as Django's own ``get_user``: the session names a user and carries the hash
    of that user's current password, so logging out or changing the password ends it.
    """
    from importlib import import_module

    from django.conf import settings
    from django.contrib.auth import HASH_SESSION_KEY, SESSION_KEY
    from django.utils.crypto import constant_time_compare

    store = import_module(settings.SESSION_ENGINE).SessionStore(session_key)
    user_id, session_hash = store.get(SESSION_KEY), store.get(HASH_SESSION_KEY)
    if user_id is None or not session_hash:
        return None
    user = get_user_model().objects.filter(pk=user_id, is_active=True).first()
    if user is None or not constant_time_compare(session_hash, user.get_session_auth_hash()):
        return None
    return user


class CachedBasicAuthentication(BasicAuthentication):
    """BasicAuthentication that skips the slow hash for recently verified credentials."""

    def authenticate_credentials(self, userid, password, request=None):
        user = check_credentials(userid, password, request)
        if user is None:
            raise exceptions.AuthenticationFailed("Invalid username/password.")
        return (user, None)


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
