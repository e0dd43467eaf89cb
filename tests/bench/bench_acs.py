"""ACS benchmark: a sync whose remote is 20 ms away, with and without an ACS on loopback, through
the ``make start`` stack's API and workers (prints figures, never asserts).

Usage (venv active; options: see tests/bench/harness.py)::

    PULP_TEST_PREFIX=h3 PULP_TEST_REDIS_DB=7 python tests/bench/bench_acs.py [--count N]

Each round gets two new trees of ``--count`` × 16 KiB files (so each sync really downloads:
artifacts are shared by sha256), shared by both stacks of a ``--compare`` run. The far origin is a
small aiohttp server in its own process that answers every file after ``--delay`` s; the ACS is an
nginx of the bench's own serving a copy of the same trees. Figures: the sync of tree b with an
ACS (refreshed through the API first) beside the sync of tree a without one, and the refresh.
"""

from __future__ import annotations

import argparse
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))

from tests.bench.harness import (  # noqa: E402
    Figure,
    Stack,
    StaticServer,
    _wait_http,
    free_port,
    run,
    shared,
    synced_repository,
)
from tests.fixtures import make_file_fixture  # noqa: E402


def serve(root: str, port: int, delay: float) -> None:
    """The far origin: static files below ``root``, each file after ``delay`` seconds."""
    import asyncio

    from aiohttp import web

    async def handle(request: web.Request) -> web.StreamResponse:
        path = Path(root, request.path.lstrip("/"))
        if not path.is_file():
            raise web.HTTPNotFound()
        if not request.path.endswith("PULP_MANIFEST"):
            await asyncio.sleep(delay)
        return web.FileResponse(path)

    app = web.Application()
    app.router.add_get("/{tail:.*}", handle)
    web.run_app(app, host="127.0.0.1", port=port, access_log=None, print=None)


class Origins:
    """Far (delayed) and near (nginx) servers of the same trees, made per round on first use."""

    def __init__(self, count: int, delay: float):
        self.count = count
        self.root = Path(tempfile.mkdtemp(prefix="pulp-bench-acs-"))
        self.root.chmod(0o755)  # the ACS nginx's workers run as nobody
        (self.root / "far").mkdir()
        (self.root / "near").mkdir()
        self.port = free_port()
        self.far = subprocess.Popen(
            [sys.executable, __file__, "--serve", str(self.root / "far"), str(self.port)]
            + [str(delay)]
        )
        _wait_http(self.far_url, 30, "far origin")
        self.near = StaticServer(self.root / "near").__enter__()

    @property
    def far_url(self) -> str:
        return f"http://127.0.0.1:{self.port}/"

    def tree(self, round_: int) -> str:
        name = f"r{round_}"
        if not (self.root / "far" / name).exists():
            for d in "ab":
                make_file_fixture(self.root / "far" / name / d, count=self.count, size=16 * 1024)
            shutil.copytree(self.root / "far" / name, self.root / "near" / name)
            for sub in (self.root / "near").rglob("*"):
                if sub.is_dir():
                    sub.chmod(0o755)
        return name

    def close(self) -> None:
        self.far.terminate()
        self.far.wait(10)
        self.near.__exit__(None, None, None)
        shutil.rmtree(self.root, ignore_errors=True)


def setup(stack: Stack, args: argparse.Namespace) -> dict:
    return {"origins": shared("origins", lambda: Origins(args.count, args.delay)), "round": 0}


def measure(stack: Stack, ctx: dict, args: argparse.Namespace) -> list[Figure]:
    origins: Origins = ctx["origins"]
    name = origins.tree(ctx["round"])
    ctx["round"] += 1
    far = f"{origins.far_url}{name}/"
    _, _, without = synced_repository(stack, f"no-acs-{name}", f"{far}a/PULP_MANIFEST")
    remote = stack.create(
        "remotes/file/file/",
        json={"name": f"acs-{name}", "url": f"{origins.near.url}{name}/", "policy": "on_demand"},
    )
    acs = stack.create(
        "acs/file/file/",
        json={"name": f"acs-{name}", "remote": remote["pulp_href"], "paths": ["b/PULP_MANIFEST"]},
    )
    start = time.time()
    stack.wait_group(stack.create(f"{acs['pulp_href']}refresh/", json={})["task_group"])
    refreshed = time.time() - start
    _, _, with_acs = synced_repository(stack, f"with-acs-{name}", f"{far}b/PULP_MANIFEST")
    n = args.count
    return [
        Figure(f"sync {n} x 16KiB with ACS", with_acs, "s", without, "without ACS"),
        Figure(f"ACS refresh {n} files", refreshed, "s"),
    ]


if __name__ == "__main__":
    if sys.argv[1:2] == ["--serve"]:
        serve(sys.argv[2], int(sys.argv[3]), float(sys.argv[4]))
        sys.exit(0)
    parser = argparse.ArgumentParser()
    parser.add_argument("--count", type=int, default=500)
    parser.add_argument("--delay", type=float, default=0.020)
    run("acs", setup, measure, parser=parser, title="ACS: remote 20 ms away, ACS on loopback")
