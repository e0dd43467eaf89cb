"""RBAC benchmark: list rates for admin and for a user whose view comes from object roles.

Usage (venv active; options: see tests/bench/harness.py)::

    PULP_TEST_PREFIX=h3 PULP_TEST_REDIS_DB=7 python tests/bench/bench_rbac.py [--compare REF]

Setup through the API: 100 file repositories with one file each; user ``scoped`` gets the viewer
role on 50 of them (so every request of theirs runs the access policy, loads 50 object roles and
scopes the queryset). wrk at 10 connections against the ``make start`` API (2 gunicorn workers),
as ``scoped`` beside the same list as admin in the same round.
"""

from __future__ import annotations

import argparse
import base64
import os
import sys
from pathlib import Path

import requests

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))

from tests.bench.harness import Figure, Stack, run, wrk  # noqa: E402

SCOPED = ("scoped", "Scoped-Bench-Pass-1")
REPOS = 100
PATHS = ("content/file/files/?limit=100", "repositories/file/file/")


def setup(stack: Stack, args: argparse.Namespace) -> dict[str, dict[str, str]]:
    stack.create("users/", json={"username": SCOPED[0], "password": SCOPED[1]})
    repos = [
        stack.create("repositories/file/file/", json={"name": f"rbac-{i}"})["pulp_href"]
        for i in range(REPOS)
    ]
    tasks = [  # posted at once: the workers run them side by side
        stack.create(
            "content/file/files/",
            data={"relative_path": f"f{i}.bin", "repository": href},
            files={"file": (f"f{i}.bin", os.urandom(64))},
        )["task"]
        for i, href in enumerate(repos)
    ]
    for task in tasks:
        stack.wait_task(task)
    for href in repos[::2]:
        r = stack.post(
            f"{href}add_role/", json={"role": "file.filerepository_viewer", "users": [SCOPED[0]]}
        )
        if r.status_code >= 400:
            raise RuntimeError(f"add_role: {r.status_code} {r.text[:300]}")
    seen = requests.get(stack.api_url + PATHS[1], auth=SCOPED, timeout=30).json()
    if seen.get("count") != REPOS // 2:
        raise RuntimeError(f"scoped sees {seen.get('count')} repositories, not {REPOS // 2}")
    token = base64.b64encode(":".join(SCOPED).encode()).decode()
    return {"admin": stack.basic_auth_header, "scoped": {"Authorization": f"Basic {token}"}}


def measure(stack: Stack, auth: dict, args: argparse.Namespace) -> list[Figure]:
    out = []
    for path in PATHS:
        admin = wrk(stack.api_url + path, args.seconds, headers=auth["admin"]).rps
        scoped = wrk(stack.api_url + path, args.seconds, headers=auth["scoped"]).rps
        out.append(Figure(f"{path} scoped c10", scoped, "req/s", admin, "admin"))
    return out


if __name__ == "__main__":
    run("rbac", setup, measure, title="RBAC: scoped user vs admin (list endpoints)")
