"""Content guards in the content app: loaded with the resolution, checked per request.

On a cache miss the DB thread that resolves a path also loads the distribution's guard (cast to
its type and ``prepare()``-d, so composites hold their members and certificate guards their
parsed CA). The pair is cached together under the request target, so a cached request checks its
guard without any query. Any write to a guard table sends the same NOTIFY as a write to a
distribution (triggers from migrations ``core.0006`` and ``certguard.0001``), which empties the
cache in every content-app process.
"""

from __future__ import annotations

import logging
from typing import Any

from pulpcore.content.resolve import Resolution, resolve_sync

log = logging.getLogger("pulpcore.content")


class UnavailableGuard:
    """Stands in for a guard that vanished or cannot be loaded: it refuses everything."""

    needs_db = False
    name = "unavailable"

    def __init__(self, reason: str):
        self.reason = reason

    def permit(self, request: Any) -> None:
        raise PermissionError(self.reason)


def load_guard(guard_id: str):
    """The prepared guard ``guard_id`` (runs in a DB thread)."""
    from pulpcore.app.models import ContentGuard

    guard = ContentGuard.objects.filter(pk=guard_id).first()
    if guard is None:
        return UnavailableGuard("Access denied: the distribution's content guard is gone.")
    try:
        return guard.cast().prepare()
    except Exception as exc:  # noqa: BLE001 - a broken guard refuses, it never opens up
        log.warning("content guard %s cannot be used: %s", guard_id, exc)
        return UnavailableGuard("Access denied: the distribution's content guard is unusable.")


def resolve_guarded(segments: tuple[str, ...], want_dir: bool) -> tuple[Resolution, Any]:
    """Resolve a path and load its distribution's guard in one DB-thread call."""
    resolution = resolve_sync(segments, want_dir)
    guard_id = resolution.distro.content_guard_id if resolution.distro else None
    return resolution, (load_guard(guard_id) if guard_id else None)


def _permit(guard: Any, request: Any) -> tuple[int, str] | None:
    from pulpcore.app.models.contentguard import NotAuthenticated

    try:
        guard.permit(request)
    except NotAuthenticated as exc:
        return 401, str(exc) or "Authentication required."
    except PermissionError as exc:
        return 403, str(exc) or "Access denied."
    except Exception:  # noqa: BLE001 - a guard bug is a refusal, never a 500
        log.exception("content guard %s failed on %s", getattr(guard, "name", "?"), request.path)
        return 403, "Access denied: the content guard could not check the request."
    return None


async def refusal(guard: Any, request: Any, db) -> tuple[int, str] | None:
    """None when ``guard`` lets ``request`` through, else the status (401/403) and the reason."""
    if getattr(guard, "needs_db", False):
        return await db.run(_permit, guard, request)
    return _permit(guard, request)
