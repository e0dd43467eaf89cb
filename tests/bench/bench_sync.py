"""Sync and publish benchmark through the ``make start`` stack's API and task workers (prints
figures, never asserts).

Usage (venv active; options: see tests/bench/harness.py)::

    PULP_TEST_PREFIX=h3 PULP_TEST_REDIS_DB=7 python tests/bench/bench_sync.py [--small N] [--big N]

Fixtures (random files + PULP_MANIFEST) are served by an nginx of the bench's own. Every round
gets new trees, so each cold sync really downloads (artifacts are shared by sha256); both stacks
of a ``--compare`` run sync the same trees. Times are the task's ``finished_at`` minus the client
clock just before the POST. Figures: cold sync of ``--small`` × 16 KiB (immediate and on_demand)
and ``--big`` × 4 MiB, re-sync with no change, re-sync after the manifest's bytes changed but not
its files, publish. The reference is ``--compare REF``; the origin's own speed (a plain download
of every big file) is the ceiling of the big sync.
"""

from __future__ import annotations

import argparse
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
    run,
    sync,
    synced_repository,
)
from tests.fixtures import make_file_fixture  # noqa: E402


class Trees:
    """Fixture trees per round, made on first use and shared by both stacks."""

    def __init__(self, small: int, big: int):
        self.small, self.big = small, big
        self.root = Path(tempfile.mkdtemp(prefix="pulp-bench-sync-"))
        self.server = StaticServer(self.root).__enter__()

    def url(self, round_: int, kind: str) -> str:
        tree = self.root / f"r{round_}" / kind
        if not tree.exists():
            count, size = (self.big, 4 * 2**20) if kind == "big" else (self.small, 16 * 1024)
            make_file_fixture(tree, count=count, size=size)
            for parent in (tree, tree.parent):
                parent.chmod(0o755)
        return f"{self.server.url}r{round_}/{kind}/PULP_MANIFEST"

    def close(self) -> None:
        self.server.__exit__(None, None, None)
        shutil.rmtree(self.root, ignore_errors=True)


TREES: Trees | None = None


def setup(stack: Stack, args: argparse.Namespace) -> dict:
    global TREES
    TREES = TREES or Trees(args.small, args.big)
    return {"round": 0}


def measure(stack: Stack, ctx: dict, args: argparse.Namespace) -> list[Figure]:
    assert TREES
    n, tag = ctx["round"], f"r{ctx['round']}"
    ctx["round"] += 1
    small = TREES.url(n, "small")
    repo, remote, cold = synced_repository(stack, f"small-{tag}", small)
    resync = min(sync(stack, repo, remote)[1] for _ in range(3))
    manifest = TREES.root / f"r{n}" / "small" / "PULP_MANIFEST"
    with manifest.open("a") as fh:  # same units, other bytes: the whole pipeline runs
        fh.write(f"# touched by {stack.label}\n")
    touched = sync(stack, repo, remote)[1]
    _, published = stack.run_task("publications/file/file/", json={"repository": repo["pulp_href"]})
    _, _, on_demand = synced_repository(
        stack, f"od-{tag}", TREES.url(n, "ondemand"), policy="on_demand"
    )
    big = TREES.url(n, "big")
    _, _, big_sync = synced_repository(stack, f"big-{tag}", big)
    start = time.perf_counter()
    for i in range(args.big):  # the origin alone: the same bytes, one after another
        requests.get(big.replace("PULP_MANIFEST", f"{i}.iso"), timeout=60).raise_for_status()
    origin = time.perf_counter() - start
    return [
        Figure(f"cold sync {args.small} x 16KiB", cold, "s"),
        Figure("re-sync no change (best of 3)", resync, "s"),
        Figure("re-sync, manifest bytes changed", touched, "s"),
        Figure(f"publish {args.small}", published, "s"),
        Figure(f"cold sync on_demand {args.small}", on_demand, "s"),
        Figure(f"cold sync {args.big} x 4MiB", big_sync, "s", origin, "origin GETs"),
    ]


if __name__ == "__main__":
    parser = argparse.ArgumentParser()
    parser.add_argument("--small", type=int, default=1000)
    parser.add_argument("--big", type=int, default=50)
    try:
        run("sync", setup, measure, parser=parser, title="sync and publish (task wall time)")
    finally:
        if TREES:
            TREES.close()
