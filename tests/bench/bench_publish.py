"""Modify and publish benchmark at two repository sizes, through the ``make start`` stack's API
and workers (prints figures, never asserts).

Usage (venv active; options: see tests/bench/harness.py)::

    PULP_TEST_PREFIX=h3 PULP_TEST_REDIS_DB=7 python tests/bench/bench_publish.py [--files N ...]

For each size N, setup syncs N tiny files (served by an nginx of the bench's own) into a source
repository. Each round then adds all N units to a new repository with one ``modify/`` task, runs
a no-op ``modify/`` (units already present) and publishes the result. Times are task wall time
(``finished_at`` minus the client clock before the POST); ``--compare REF`` is the reference.
"""

from __future__ import annotations

import argparse
import shutil
import sys
import tempfile
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))

from tests.bench.harness import (  # noqa: E402
    Figure,
    Stack,
    StaticServer,
    run,
    synced_repository,
)
from tests.fixtures import make_file_fixture  # noqa: E402


def setup(stack: Stack, args: argparse.Namespace) -> dict:
    root = Path(tempfile.mkdtemp(prefix="pulp-bench-publish-"))
    units: dict[int, list[str]] = {}
    with StaticServer(root) as origin:
        for n in args.files:
            make_file_fixture(root / str(n), count=n, size=64)
            (root / str(n)).chmod(0o755)
            repo, _, _ = synced_repository(stack, f"src-{n}", f"{origin.url}{n}/PULP_MANIFEST")
            version = stack.get(repo["pulp_href"]).json()["latest_version_href"]
            units[n] = _content_hrefs(stack, version)
    shutil.rmtree(root, ignore_errors=True)
    return {"units": units, "round": 0}


def _content_hrefs(stack: Stack, version: str) -> list[str]:
    hrefs: list[str] = []
    url = f"content/file/files/?repository_version={version}&limit=1000&fields=pulp_href"
    while url:
        page = stack.get(url).json()
        hrefs += [c["pulp_href"] for c in page["results"]]
        url = page["next"]
    return hrefs


def measure(stack: Stack, ctx: dict, args: argparse.Namespace) -> list[Figure]:
    out = []
    ctx["round"] += 1
    for n, hrefs in ctx["units"].items():
        repo = stack.create("repositories/file/file/", json={"name": f"dst-{n}-{ctx['round']}"})
        modify = f"{repo['pulp_href']}modify/"
        _, added = stack.run_task(modify, json={"add_content_units": hrefs})
        _, noop = stack.run_task(modify, json={"add_content_units": hrefs[:10]})
        _, published = stack.run_task(
            "publications/file/file/", json={"repository": repo["pulp_href"]}
        )
        out += [
            Figure(f"modify add {n}", added, "s"),
            Figure(f"modify no-op {n}", noop, "s"),
            Figure(f"publish {n}", published, "s"),
        ]
    return out


if __name__ == "__main__":
    parser = argparse.ArgumentParser()
    parser.add_argument("--files", type=int, nargs="+", default=[1000, 10000])
    run("publish", setup, measure, parser=parser, title="modify and publish (task wall time)")
