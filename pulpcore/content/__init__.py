"""``pulp-content``: the aiohttp app that serves distributed content.

Run it as ``pulp-content [--bind HOST:PORT] [--workers N]`` (``PULP_CONTENT_WORKERS``: ``make
start`` and the systemd unit run 2, one event loop per core) or under gunicorn::

    gunicorn pulpcore.content:server --worker-class aiohttp.GunicornUVLoopWebWorker

It serves ``CONTENT_PATH_PREFIX<base_path>/<relative path>`` for every distribution and registers
each process in ``status/`` (``online_content_apps``). Settings it reads besides Pulp's own
(``PULP_<NAME>`` environment variables or settings.yaml):

``CONTENT_RESOLVE_CACHE`` (True)
    Remember path resolutions in-process; dropped on every change through PostgreSQL NOTIFY
    triggers (installed by migration ``core.0003``) on the tables it reads.
``CONTENT_RESOLVE_CACHE_SIZE`` (20000)
    Entries kept per process.
``CONTENT_DB_THREADS`` (4)
    Threads (and database connections) per process for queries.
``CONTENT_X_ACCEL_REDIRECT`` (unset)
    An nginx ``internal`` location mapped to MEDIA_ROOT, e.g. ``/pulp/media/``: stored files are
    then handed to nginx with ``X-Accel-Redirect`` instead of being sent by this process.
``CONTENT_STREAM_REPLAY_LIMIT`` (32 MiB)
    How much of an on-demand download is kept in memory for requests that join it late.
"""

import argparse
import asyncio
import os
import sys

DEFAULT_BIND = "127.0.0.1:24816"


def _setup_django() -> None:
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "pulpcore.app.settings")
    import django

    django.setup()
    from pulpcore.app.storage import check_storage_or_exit

    check_storage_or_exit()


async def server():
    """App factory for ``gunicorn pulpcore.content:server -k aiohttp.GunicornUVLoopWebWorker``."""
    _setup_django()
    from pulpcore.content.app import make_app

    return make_app()


def new_event_loop() -> "asyncio.AbstractEventLoop":
    """uvloop's event loop: a cached small file costs about a third less CPU than on asyncio's
    selector loop (its transports and callbacks are C). The gunicorn worker class used with
    ``--workers`` is aiohttp's uvloop one, so both ways of running serve on the same loop."""
    import uvloop

    return uvloop.new_event_loop()


def _parse_bind(value: str) -> tuple[str, int]:
    host, sep, port = value.rpartition(":")
    if not sep or not port.isdigit():
        raise argparse.ArgumentTypeError(f"--bind wants HOST:PORT, got {value!r}")
    return host.strip("[]") or "0.0.0.0", int(port)


def main(argv: list[str] | None = None) -> None:
    """Serve content; with ``--workers`` > 1, under gunicorn's aiohttp worker."""
    parser = argparse.ArgumentParser(prog="pulp-content", description=__doc__.splitlines()[0])
    parser.add_argument("--bind", default=DEFAULT_BIND, help=f"HOST:PORT (default {DEFAULT_BIND})")
    parser.add_argument(
        "--workers",
        type=int,
        default=int(os.environ.get("PULP_CONTENT_WORKERS") or 1),
        help="worker processes (default: PULP_CONTENT_WORKERS or 1); one event loop each",
    )
    parser.add_argument("--access-log", action="store_true", help="log every request")
    args = parser.parse_args(argv)
    host, port = _parse_bind(args.bind)
    if args.workers < 1:
        parser.error("--workers must be at least 1")

    if args.workers > 1:
        gunicorn = os.path.join(os.path.dirname(sys.executable), "gunicorn")
        cmd = [
            gunicorn,
            "pulpcore.content:server",
            "--worker-class",
            "aiohttp.GunicornUVLoopWebWorker",
            "--bind",
            args.bind,
            "--workers",
            str(args.workers),
            "--graceful-timeout",
            "10",
        ]
        if args.access_log:
            cmd += ["--access-logfile", "-"]
        os.execv(gunicorn, cmd)

    _setup_django()
    from aiohttp import web

    from pulpcore.content.app import make_app

    web.run_app(
        make_app(),
        loop=new_event_loop(),
        host=host,
        port=port,
        access_log=web.access_logger if args.access_log else None,
        print=lambda msg: sys.stderr.write(msg + "\n"),
        shutdown_timeout=10,
    )
