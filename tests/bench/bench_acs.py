"""ACS benchmark: a sync whose remote is 20 ms away, with and without an ACS on loopback.

Usage (from the worktree, venv active)::

    PULP_TEST_PREFIX=benchacs PULP_TEST_REDIS_DB=5 python tests/bench/bench_acs.py [--count N]

Two trees of ``--count`` × 16 KiB files (so each sync really downloads: artifacts are shared by
sha256). Both origins are small aiohttp servers in their own processes (so they don't share this
process's GIL); the far one answers every file after ``--delay`` seconds, the near one (the ACS) at
once, and each writes an access log. ``synchronize`` runs in this process (the pipeline
alone, no tasking); the ACS is refreshed in-process too, and its refresh time is printed
separately. Figures only, never asserts speed.
"""

import argparse
import os
import shutil
import subprocess
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))

from tests import testenv  # noqa: E402  (sets PULP_* defaults for this prefix)
from tests.fixtures import make_file_fixture  # noqa: E402
from tests.stack import Stack, free_port  # noqa: E402


def serve(root: str, port: int, delay: float, log: str) -> None:
    """An origin: static files below ``root``, each after ``delay`` s, every path logged."""
    import asyncio

    from aiohttp import web

    out = open(log, "w", buffering=1)  # line-buffered: complete when the process is stopped

    async def handle(request: web.Request) -> web.StreamResponse:
        out.write(request.path + "\n")
        path = Path(root, request.path.lstrip("/"))
        if not path.is_file():
            raise web.HTTPNotFound()
        if delay and not request.path.endswith("PULP_MANIFEST"):
            await asyncio.sleep(delay)
        return web.FileResponse(path)

    app = web.Application()
    app.router.add_get("/{tail:.*}", handle)
    web.run_app(app, host="127.0.0.1", port=port, access_log=None, print=None)


class Origin:
    """``serve`` in a subprocess; ``requests`` (paths asked for) is read after it stopped."""

    def __init__(self, root: Path, delay: float):
        self.root, self.delay, self.port = root, delay, free_port()
        self.log = root.parent / f"{root.name}.log"
        self.requests: list[str] = []

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}/"

    def __enter__(self) -> "Origin":
        import requests

        argv = [sys.executable, __file__, "--serve", str(self.root), str(self.port)]
        self.proc = subprocess.Popen([*argv, str(self.delay), str(self.log)])
        for _ in range(200):
            try:
                requests.get(self.url, timeout=1)
                break
            except requests.RequestException:
                time.sleep(0.05)
        return self

    def __exit__(self, *exc) -> None:
        self.proc.terminate()
        self.proc.wait(10)
        self.requests = [p for p in self.log.read_text().splitlines() if p]


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--count", type=int, default=1000)
    parser.add_argument("--delay", type=float, default=0.020)
    args = parser.parse_args()

    stack = Stack("benchacs").setup()
    os.environ.update(stack.env)
    import django

    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "pulpcore.app.settings")
    django.setup()
    from pulp_file.app.models import FileAlternateContentSource, FileRemote, FileRepository
    from pulp_file.app.tasks.synchronizing import refresh_acs_path, synchronize

    data = Path(testenv.ROOT) / "bench-acs-data"
    shutil.rmtree(data, ignore_errors=True)
    for d in "ab":
        make_file_fixture(data / "far" / d, count=args.count, size=16 * 1024)
    shutil.copytree(data / "far", data / "near")
    tag = str(int(time.time()))

    def repo(name: str, url: str, policy: str = "immediate"):
        r = FileRepository.objects.create(name=f"{name}-{tag}")
        r.add_initial_version()
        return r, FileRemote.objects.create(name=f"{name}-{tag}", url=url, policy=policy)

    def timed_sync(name: str, url: str) -> float:
        r, remote = repo(name, url)
        started = time.perf_counter()
        synchronize(str(remote.pk), str(r.pk))
        return time.perf_counter() - started

    with Origin(data / "far", args.delay) as far, Origin(data / "near", 0.0) as near:
        without = timed_sync("no-acs", f"{far.url}a/PULP_MANIFEST")

        acs_remote = FileRemote.objects.create(name=f"acs-{tag}", url=near.url, policy="on_demand")
        acs = FileAlternateContentSource.objects.create(name=f"acs-{tag}", remote=acs_remote)
        acs.set_paths(["b/PULP_MANIFEST"])
        started = time.perf_counter()
        for path in acs.paths.all():
            refresh_acs_path(str(acs.pk), str(path.pk))
        refreshed = time.perf_counter() - started
        with_acs = timed_sync("with-acs", f"{far.url}b/PULP_MANIFEST")
    from_near = sum(1 for p in near.requests if p.endswith(".iso"))
    from_far = sum(1 for p in far.requests if p.startswith("/b/") and p.endswith(".iso"))

    n, ms = args.count, args.delay * 1000
    print(f"sync {n} x 16 KiB, remote {ms:.0f} ms away, no ACS : {without:6.2f} s")
    print(f"ACS refresh ({n} files, manifest only)          : {refreshed:6.2f} s")
    print(f"sync {n} x 16 KiB, ACS on loopback              : {with_acs:6.2f} s")
    print(f"  files from the ACS origin: {from_near}, from the remote: {from_far}")
    print(f"  speed-up: {without / with_acs:.1f}x")


if __name__ == "__main__":
    if sys.argv[1:2] == ["--serve"]:
        serve(sys.argv[2], int(sys.argv[3]), float(sys.argv[4]), sys.argv[5])
    else:
        main()
