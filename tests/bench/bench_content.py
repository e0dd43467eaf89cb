"""Serving benchmark: the production path and the content app alone, each beside nginx serving the
same file itself in the same run (prints figures, never asserts).

Usage (venv active; options and environment variables: see tests/bench/harness.py)::

    PULP_TEST_PREFIX=h3 PULP_TEST_REDIS_DB=7 python tests/bench/bench_content.py [--compare REF]

Two ``make start`` stacks, one after the other, each with a 16 KiB and a 4 MiB file uploaded,
published and distributed through the API:

* **production**: client → the project's nginx site (TLS) → content app with
  ``CONTENT_X_ACCEL_REDIRECT`` on, as ``roles/pulp_webserver`` configures a host that runs both
  (nginx then sends the bytes from MEDIA_ROOT); ceiling: the same nginx serving the artifact file
  directly over TLS. wrk at 10 and 100 connections.
* **content app alone**: the content app sends the bytes itself (X-Accel off, as ``make start``);
  ceiling: the same nginx serving the file directly on plain HTTP. Also: 2,000 distinct paths
  fetched once each (every path a resolve-cache miss) then again (cache hits), and an on_demand
  4 MiB file's first fetch (streamed from the origin while stored) against the origin itself.

nginx runs 2 worker processes (the machine's cores, as ``worker_processes auto``); the content app
as ``make start`` and the role's default run it (``PULP_CONTENT_WORKERS``, 2). Beside each serving
figure: CPU µs per request of the content app and of nginx (from /proc), since wrk shares the
cores and requests/s alone hides which side costs what.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import shutil
import sys
import tempfile
import time
from pathlib import Path

import requests

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))

from tests.bench.harness import (  # noqa: E402
    Figure,
    Stack,
    StaticServer,
    artifact_name,
    cpu_seconds,
    distribute,
    file_repository,
    publish_and_distribute,
    run,
    synced_repository,
    wrk,
)
from tests.fixtures import make_file_fixture  # noqa: E402

ACCEL = "/pulp/protected-artifacts/"
SIZES = {"16KiB": 16 * 1024, "4MiB": 4 * 1024 * 1024}
CONNECTIONS = (10, 100)
MANY = 2000


def _files(stack: Stack) -> dict[str, tuple[str, str]]:
    """Upload one file per size and distribute it; size -> (content path, artifact file name)."""
    data = {f"{label}.bin": os.urandom(size) for label, size in SIZES.items()}
    repo = file_repository(stack, "bench-serve", data)
    publish_and_distribute(stack, repo, "bench")
    return {rel[:-4]: (f"bench/{rel}", artifact_name(stack, body)) for rel, body in data.items()}


def _pair(
    stack: Stack, name: str, ours: str, ceiling: str, label: str, args: argparse.Namespace
) -> list[Figure]:
    """Both URLs at every concurrency, alternating, as req/s figures with the ceiling beside,
    and CPU µs per request of the content app and of nginx (ceiling: nginx serving directly)."""
    out = []
    content = [stack.pids()["content"]]
    nginx = [stack.nginx.proc.pid] if stack.nginx and stack.nginx.proc else []
    for conns in CONNECTIONS:
        before = cpu_seconds(nginx)
        direct = wrk(ceiling, seconds=args.seconds, connections=conns)
        direct_us = (cpu_seconds(nginx) - before) / max(1, direct.requests) * 1e6
        before_app, before_nginx = cpu_seconds(content), cpu_seconds(nginx)
        measured = wrk(ours, seconds=args.seconds, connections=conns)
        n = max(1, measured.requests)
        app_us = (cpu_seconds(content) - before_app) / n * 1e6
        nginx_us = (cpu_seconds(nginx) - before_nginx) / n * 1e6
        out.append(Figure(f"{name} c{conns}", measured.rps, "req/s", direct.rps, label))
        out.append(Figure(f"{name} c{conns} content app CPU/req", app_us, "us"))
        if nginx_us > 0.5:  # only when nginx is in the path
            out.append(Figure(f"{name} c{conns} nginx CPU/req", nginx_us, "us", direct_us, label))
    return out


# --- production path ------------------------------------------------------------------------------


def setup_production(stack: Stack, args: argparse.Namespace) -> dict:
    files = _files(stack)
    for _, (path, name) in files.items():
        via = requests.get(f"{stack.nginx_url}pulp/content/{path}", verify=False, timeout=30)
        direct = requests.get(stack.nginx_direct_url + name, verify=False, timeout=30)
        if via.status_code != 200 or via.content != direct.content:
            raise RuntimeError(f"nginx → content app for {path}: {via.status_code}")
        # Proof that the bytes came from nginx: the content app alone answers with the header.
        app = requests.get(stack.content_url + path, timeout=30)
        if app.headers.get("X-Accel-Redirect", "").find(ACCEL.rstrip("/")) != 0:
            raise RuntimeError(f"{path}: the content app did not answer with X-Accel-Redirect")
    return files


def measure_production(stack: Stack, files: dict, args: argparse.Namespace) -> list[Figure]:
    out = []
    for label, (path, name) in files.items():
        out += _pair(
            stack,
            f"nginx+x-accel {label}",
            f"{stack.nginx_url}pulp/content/{path}",
            stack.nginx_direct_url + name,
            "nginx direct, TLS",
            args,
        )
    return out


# --- the content app alone ------------------------------------------------------------------------


def setup_app(stack: Stack, args: argparse.Namespace) -> dict:
    files = _files(stack)
    root = Path(tempfile.mkdtemp(prefix="pulp-bench-serve-"))
    # Many distinct paths sharing one 16 KiB body: every first request is a resolve-cache miss.
    make_file_fixture(root / "many", count=MANY, size=16, seed="many")
    # on_demand: a new 4 MiB file per round, so every round has a first fetch.
    make_file_fixture(root / "od", count=max(1, args.rounds), size=4 * 1024 * 1024)
    origin = StaticServer(root).__enter__()
    repo, _, _ = synced_repository(stack, "bench-many", f"{origin.url}many/PULP_MANIFEST")
    distribute(stack, "bench-many", repository=repo["pulp_href"])
    repo, _, _ = synced_repository(
        stack, "bench-od", f"{origin.url}od/PULP_MANIFEST", policy="on_demand"
    )
    distribute(stack, "bench-od", repository=repo["pulp_href"])
    return {"files": files, "root": root, "origin": origin, "round": 0}


def _fetch_all(base: str, paths: list[str], concurrency: int = 10) -> float:
    """Requests/s fetching every path once, ``concurrency`` keep-alive connections (aiohttp)."""
    import aiohttp

    async def go() -> float:
        queue = list(paths)
        connector = aiohttp.TCPConnector(limit=concurrency)
        async with aiohttp.ClientSession(connector=connector) as session:

            async def worker() -> None:
                while queue:
                    async with session.get(base + queue.pop()) as resp:
                        await resp.read()
                        if resp.status != 200:
                            raise RuntimeError(f"{base}: {resp.status}")

            start = time.perf_counter()
            await asyncio.gather(*(worker() for _ in range(concurrency)))
            return len(paths) / (time.perf_counter() - start)

    return asyncio.run(go())


def _seconds_get(url: str) -> float:
    start = time.perf_counter()
    r = requests.get(url, timeout=120)
    r.raise_for_status()
    return time.perf_counter() - start


def measure_app(stack: Stack, ctx: dict, args: argparse.Namespace) -> list[Figure]:
    out = []
    for label, (path, name) in ctx["files"].items():
        out += _pair(
            stack,
            f"content app {label}",
            stack.content_url + path,
            stack.nginx_direct_http_url + name,
            "nginx direct, HTTP",
            args,
        )
    # Cold only once per stack: later rounds find the resolve cache warm.
    if ctx["round"] == 0:
        paths = [f"{i}.iso" for i in range(MANY)]
        base = stack.content_url + "bench-many/"
        cold = _fetch_all(base, paths)
        warm = _fetch_all(base, paths)
        out.append(Figure(f"{MANY} paths first fetch c10", cold, "req/s", warm, "same paths again"))
    n = ctx["round"] % max(1, args.rounds)
    origin = _seconds_get(f"{ctx['origin'].url}od/{n}.iso")
    first = _seconds_get(f"{stack.content_url}bench-od/{n}.iso")
    second = _seconds_get(f"{stack.content_url}bench-od/{n}.iso")
    out.append(Figure("on_demand 4MiB first fetch", first * 1000, "ms", origin * 1000, "origin"))
    out.append(Figure("on_demand 4MiB second fetch", second * 1000, "ms"))
    ctx["round"] += 1
    return out


def teardown_app(ctx: dict) -> None:
    ctx["origin"].__exit__(None, None, None)
    shutil.rmtree(ctx["root"], ignore_errors=True)


if __name__ == "__main__":
    run(
        "serve_prod",
        setup_production,
        measure_production,
        title="serving: client → nginx → content app (X-Accel-Redirect) vs nginx direct",
        site_vars={"pulp_content_x_accel_redirect": ACCEL},
        settings={"CONTENT_X_ACCEL_REDIRECT": ACCEL},
    )
    run(
        "serve_app",
        setup_app,
        measure_app,
        title="serving: the content app alone vs nginx direct",
        teardown=teardown_app,
    )
