"""``pulpcore-worker``: runs tasks (rq worker, resource-manager, or PostgreSQL worker).

``pulpcore-worker``                     a task worker of the configured system
``pulpcore-worker --resource-manager``  the rq resource-manager; with ``USE_NEW_WORKER_STYLE`` it
                                        has nothing to do and idles until stopped, so the same
                                        systemd units work in both modes.
"""

import argparse
import logging
import os
import pkgutil
import signal
import sys
import threading


def _setup_django() -> None:
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "pulpcore.app.settings")
    import django

    django.setup()


def _preload_task_modules() -> None:
    """Import every Pulp app's ``tasks`` package before the first task arrives.

    A sync otherwise pays ~0.3 s on the worker's first task to import aiohttp and the stages.
    """
    from importlib import import_module
    from importlib.util import find_spec

    from django.apps import apps

    from pulpcore.app.apps import PulpPluginAppConfig

    log = logging.getLogger("pulpcore.tasking.worker")
    for config in apps.get_app_configs():
        if not isinstance(config, PulpPluginAppConfig):
            continue
        name = f"{config.name}.tasks"
        try:
            if find_spec(name) is None:
                continue
            package = import_module(name)
            for info in pkgutil.iter_modules(getattr(package, "__path__", [])):
                import_module(f"{name}.{info.name}")
        except Exception:  # noqa: BLE001 - a broken plugin must not stop the worker starting
            log.exception("could not preload %s", name)


def _idle_forever() -> None:
    log = logging.getLogger("pulpcore.tasking.worker")
    log.info(
        "USE_NEW_WORKER_STYLE is set: no resource-manager is needed; idling until stopped "
        "(workers schedule tasks themselves)"
    )
    stop = threading.Event()
    signal.signal(signal.SIGTERM, lambda *a: stop.set())
    signal.signal(signal.SIGINT, lambda *a: stop.set())
    while not stop.wait(3600):
        pass


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="pulpcore-worker", description=__doc__.splitlines()[0])
    parser.add_argument(
        "--resource-manager",
        action="store_true",
        help="run the resource-manager (rq system) instead of a task worker",
    )
    args = parser.parse_args(argv)
    _setup_django()
    from django.conf import settings

    from pulpcore.app.storage import check_storage_or_exit

    check_storage_or_exit()

    if args.resource_manager:
        if settings.USE_NEW_WORKER_STYLE:
            _idle_forever()
            return
        from pulpcore.tasking.backends.rq import run_resource_manager

        run_resource_manager()
        return
    _preload_task_modules()
    if settings.USE_NEW_WORKER_STYLE:
        from pulpcore.tasking.backends.postgres import PostgresWorker

        PostgresWorker().run()
    else:
        from pulpcore.tasking.backends.rq import run_worker

        run_worker()
    sys.exit(0)
