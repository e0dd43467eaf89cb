"""API benchmark: requests/s and task latency of the ``make start`` API (gunicorn, 2 workers),
straight and through the project's nginx site (prints figures, never asserts).

Usage (venv active; options: see tests/bench/harness.py)::

    PULP_TEST_PREFIX=h3 PULP_TEST_REDIS_DB=7 python tests/bench/bench_api.py [--compare REF]

Setup through the API: 100 small files in one repository. Figures (wrk, 10 connections):
``status/`` anonymous (gunicorn, and via nginx/TLS), ``content/file/files/?limit=100`` and
``artifacts/?limit=100`` as admin with basic auth; a task POST (``tasks/purge/``) → completed,
median of 20 sequential; one request whose credentials no worker has verified yet (the password
hash) against the same request once cached. There is no ceiling for these: ``--compare REF`` puts
the previous commit beside them.
"""

from __future__ import annotations

import argparse
import os
import sys
import time
from pathlib import Path

import requests

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))

from tests.bench.harness import Figure, Stack, file_repository, median, run, wrk  # noqa: E402


def setup(stack: Stack, args: argparse.Namespace) -> dict:
    file_repository(stack, "bench-api", {f"f{i}.bin": os.urandom(1024) for i in range(100)})
    return {"users": 0}


def _fresh_user(stack: Stack, ctx: dict) -> tuple[str, str] | None:
    """A user no worker has seen; None where the commit has no ``users/`` endpoint yet."""
    ctx["users"] += 1
    name, password = f"bench-fresh-{ctx['users']}", "Kq7-zL9w-Tr4x-mV2p"
    r = stack.post("users/", json={"username": name, "password": password})
    if r.status_code == 404:
        return None
    if r.status_code >= 400:
        raise RuntimeError(f"POST users/: {r.status_code} {r.text[:300]}")
    return name, password


def measure(stack: Stack, ctx: dict, args: argparse.Namespace) -> list[Figure]:
    auth = stack.basic_auth_header
    out = [
        Figure("status/ c10", wrk(stack.api_url + "status/", args.seconds).rps, "req/s"),
        Figure(
            "status/ via nginx c10",
            wrk(stack.nginx_url + "pulp/api/v3/status/", args.seconds).rps,
            "req/s",
        ),
        Figure(
            "content/file/files/?limit=100 c10",
            wrk(stack.api_url + "content/file/files/?limit=100", args.seconds, headers=auth).rps,
            "req/s",
        ),
        Figure(
            "artifacts/?limit=100 c10",
            wrk(stack.api_url + "artifacts/?limit=100", args.seconds, headers=auth).rps,
            "req/s",
        ),
    ]
    latencies = [stack.run_task("tasks/purge/", json={})[1] for _ in range(20)]
    out.append(Figure("task POST → completed (median of 20)", median(latencies) * 1000, "ms"))

    user = _fresh_user(stack, ctx)
    if user is None:
        return out
    url = stack.api_url + "artifacts/?limit=1"
    start = time.perf_counter()
    requests.get(url, auth=user, timeout=30).raise_for_status()
    cold = time.perf_counter() - start
    for _ in range(10):  # every gunicorn worker verifies once
        requests.get(url, auth=user, timeout=30).raise_for_status()
    warm = []
    for _ in range(20):
        start = time.perf_counter()
        requests.get(url, auth=user, timeout=30).raise_for_status()
        warm.append(time.perf_counter() - start)
    out.append(Figure("request, new credentials", cold * 1000, "ms", median(warm) * 1000, "cached"))
    return out


if __name__ == "__main__":
    run("api", setup, measure, title="API: make-start gunicorn (2 workers), nginx in front")
