"""What ``status/`` reports, gathered with as few queries as possible."""

import logging
import shutil
from datetime import timedelta

from django.apps import apps
from django.conf import settings
from django.db import connection
from django.utils import timezone

from pulpcore.app.apps import PulpPluginAppConfig

log = logging.getLogger(__name__)


def versions() -> list[dict]:
    return [
        {
            "component": cfg.label,
            "version": cfg.version,
            "package": cfg.python_package_name.replace("_", "-"),
            "module": cfg.name,
            "domain_compatible": cfg.domain_compatible,
        }
        for cfg in apps.get_app_configs()
        if isinstance(cfg, PulpPluginAppConfig)
    ]


def _database_ok() -> bool:
    try:
        with connection.cursor() as cur:
            cur.execute("SELECT 1")
        return True
    except Exception:
        return False


_redis_clients: dict[str, object] = {}


def _redis_ok() -> bool:
    """PING over a per-process client: a new connection per status call costs ~10 ms (handshake
    plus redis-py's client-info metadata lookups); the pool reconnects after Redis restarts."""
    try:
        import redis

        client = _redis_clients.get(settings.REDIS_URL)
        if client is None:
            client = redis.Redis.from_url(
                settings.REDIS_URL, socket_timeout=1, socket_connect_timeout=1
            )
            _redis_clients[settings.REDIS_URL] = client
        return bool(client.ping())
    except Exception:
        return False


def _storage() -> dict | None:
    """Disk usage of MEDIA_ROOT; for an object store None while it answers (a bucket has no size
    to report cheaply), and all-null figures when it does not, as for an unreadable MEDIA_ROOT.

    The bucket probe has its own short timeouts, so status/ answers within seconds of a store
    going away instead of waiting on boto3's retries.
    """
    from pulpcore.app.storage import StorageUnavailable, is_local, probe

    if not is_local():
        try:
            probe(timeout=2.0)
            return None
        except StorageUnavailable as exc:
            log.warning("status: storage unavailable: %s", exc)
            return {"total": None, "used": None, "free": None}
    try:
        usage = shutil.disk_usage(settings.MEDIA_ROOT)
        return {"total": usage.total, "used": usage.used, "free": usage.free}
    except OSError:
        return {"total": None, "used": None, "free": None}


def collect_status() -> dict:
    from pulpcore.app.models import AppStatus, Task, Worker
    from pulpcore.app.util import get_url

    db_ok = _database_ok()
    workers, api_apps, content_apps = [], [], []
    if db_ok:
        now = timezone.now()
        online = list(
            Worker.objects.filter(
                last_heartbeat__gte=now - timedelta(seconds=settings.WORKER_TTL),
                resource_manager=False,
            ).order_by("name")
        )
        # One query for every worker's current task (not one per worker).
        current_tasks = {}
        for task in Task.objects.filter(
            worker__in=online, state__in=["running", "canceling"]
        ).order_by("-pulp_created"):
            current_tasks.setdefault(task.worker_id, task)
        for worker in online:
            current = current_tasks.get(worker.pk)
            workers.append(
                {
                    "pulp_href": get_url(worker),
                    "pulp_created": worker.pulp_created,
                    "pulp_last_updated": worker.pulp_last_updated,
                    "name": worker.name,
                    "last_heartbeat": worker.last_heartbeat,
                    "versions": worker.versions,
                    "current_task": get_url(current) if current else None,
                }
            )
        for app in AppStatus.objects.order_by("name"):
            ttl = settings.API_APP_TTL if app.app_type == "api" else settings.CONTENT_APP_TTL
            if app.last_heartbeat < now - timedelta(seconds=ttl):
                continue
            entry = {
                "name": app.name,
                "last_heartbeat": app.last_heartbeat,
                "versions": app.versions,
            }
            (api_apps if app.app_type == "api" else content_apps).append(entry)
    return {
        "versions": versions(),
        "online_workers": workers,
        "online_api_apps": api_apps,
        "online_content_apps": content_apps,
        "database_connection": {"connected": db_ok},
        "redis_connection": {"connected": _redis_ok()},
        **({} if (storage := _storage()) is None else {"storage": storage}),
        "content_settings": {
            "content_origin": settings.CONTENT_ORIGIN,
            "content_path_prefix": settings.CONTENT_PATH_PREFIX,
        },
        "domain_enabled": False,
    }
