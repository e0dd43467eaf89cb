"""OpenAPI benchmark: building and serving ``docs/api.json`` on the ``make start`` API.

Usage (venv active; options: see tests/bench/harness.py)::

    PULP_TEST_PREFIX=h3 PULP_TEST_REDIS_DB=7 python tests/bench/bench_openapi.py [--compare REF]

Every ``pulp`` command without a cached document starts by fetching it, so both matter: the first
fetch after the API started (each gunicorn worker builds the document once: the two first
fetches, at 2 connections so both workers build) and the cached response (median of 20, as admin,
through nginx as a client gets it, beside the same fetch straight from gunicorn).
"""

from __future__ import annotations

import argparse
import concurrent.futures
import sys
import time
from pathlib import Path

import requests

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))

from tests.bench.harness import Figure, Stack, median, run  # noqa: E402

DOC = "docs/api.json"


def _get(url: str, auth: tuple[str, str]) -> float:
    start = time.perf_counter()
    r = requests.get(url, auth=auth, timeout=120, verify=False)
    r.raise_for_status()
    return time.perf_counter() - start


def setup(stack: Stack, args: argparse.Namespace) -> dict:
    # The stack has just started: no worker has built the document yet.
    with concurrent.futures.ThreadPoolExecutor(2) as pool:
        cold = list(pool.map(lambda _: _get(stack.api_url + DOC, stack.admin_auth), range(2)))
    return {"cold": max(cold), "reported": False}


def measure(stack: Stack, ctx: dict, args: argparse.Namespace) -> list[Figure]:
    direct = median([_get(stack.api_url + DOC, stack.admin_auth) for _ in range(20)])
    via = median(
        [_get(stack.nginx_url + "pulp/api/v3/" + DOC, stack.admin_auth) for _ in range(20)]
    )
    out = [Figure("api.json cached, via nginx", via * 1000, "ms", direct * 1000, "gunicorn")]
    if not ctx["reported"]:
        out.append(Figure("api.json first fetch per worker", ctx["cold"] * 1000, "ms"))
        ctx["reported"] = True
    return out


if __name__ == "__main__":
    run("openapi", setup, measure, title="OpenAPI document")
