"""Content app benchmark: prints figures beside nginx serving the same files (never asserts).

Usage (from /work/main, venv active)::

    PULP_TEST_PREFIX=h6 PULP_TEST_REDIS_DB=7 python tests/bench/bench_content.py [--seconds 3]

What it does, on a fresh database of its own:

* stores a 16 KiB and a 4 MiB artifact, publishes them and distributes the publication;
* starts ``pulp-content`` (1 process, then 2 gunicorn aiohttp workers) and an nginx of its own
  (same number of worker processes, sendfile on, temp config on a free port) serving the very same
  artifact files from MEDIA_ROOT;
* runs ``wrk`` at 10 connections for a few seconds per URL and prints requests/s, MiB/s and the
  ratio to nginx;
* times the first (download from the origin while streaming) and second (from storage) fetch of a
  4 MiB on_demand file, and counts origin GETs for 10 concurrent first fetches of another one.
"""

import argparse
import concurrent.futures
import os
import re
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import requests

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))

from tests import testenv  # noqa: E402,F401  (sets PULP_* defaults for this prefix)
from tests.fixtures import FixtureServer, make_file_fixture  # noqa: E402
from tests.stack import Stack, free_port  # noqa: E402


class Nginx:
    """An nginx of our own serving ``root`` on a free port; never touches /etc/nginx sites."""

    def __init__(self, root: str, workers: int):
        self.root, self.workers = root, workers
        self.port = free_port()
        self.dir = Path(tempfile.mkdtemp(prefix="bench-content-nginx-"))
        self.proc = None

    def __enter__(self) -> "Nginx":
        conf = self.dir / "nginx.conf"
        conf.write_text(
            f"""
worker_processes {self.workers};
daemon off;
pid {self.dir}/nginx.pid;
error_log {self.dir}/error.log;
events {{ worker_connections 1024; }}
http {{
  access_log off;
  sendfile on;
  tcp_nopush on;
  keepalive_requests 1000000;
  default_type application/octet-stream;
  client_body_temp_path {self.dir}/body;
  proxy_temp_path {self.dir}/proxy;
  fastcgi_temp_path {self.dir}/fastcgi;
  uwsgi_temp_path {self.dir}/uwsgi;
  scgi_temp_path {self.dir}/scgi;
  server {{ listen 127.0.0.1:{self.port}; root {self.root}; }}
}}
"""
        )
        self.proc = subprocess.Popen(
            ["nginx", "-c", str(conf), "-p", str(self.dir)],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
            start_new_session=True,
        )
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline:
            try:
                requests.get(f"http://127.0.0.1:{self.port}/", timeout=1)
                return self
            except requests.ConnectionError:
                time.sleep(0.05)
        raise RuntimeError("nginx did not start: " + (self.dir / "error.log").read_text())

    def __exit__(self, *exc) -> None:
        if self.proc:
            self.proc.terminate()
            self.proc.wait(10)
        shutil.rmtree(self.dir, ignore_errors=True)


def session_cpu_seconds(sid: int) -> float:
    """CPU time (user + system) used so far by every process of session ``sid``."""
    total = 0
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            with open(f"/proc/{entry}/stat") as fp:
                fields = fp.read().rsplit(")", 1)[1].split()
        except OSError:
            continue
        if int(fields[3]) == sid:  # field 6 (session) counted after the ")" of the name
            total += int(fields[11]) + int(fields[12])  # utime, stime
    return total / os.sysconf("SC_CLK_TCK")


def wrk(url: str, seconds: float, connections: int = 10, sid: int | None = None) -> tuple:
    """(requests/s, MiB/s, server CPU µs per request) measured by wrk.

    CPU per request is the less noisy figure on a shared machine: it does not depend on how
    much CPU other processes left to the server.
    """
    cpu0 = session_cpu_seconds(sid) if sid else 0.0
    out = subprocess.run(
        ["wrk", "-t2", f"-c{connections}", f"-d{max(1, int(seconds))}s", url],
        capture_output=True,
        text=True,
        timeout=seconds + 30,
    ).stdout
    cpu = session_cpu_seconds(sid) - cpu0 if sid else 0.0
    rps = float(re.search(r"Requests/sec:\s+([\d.]+)", out).group(1))
    count = int(re.search(r"(\d+) requests in", out).group(1))
    errors = re.search(r"Non-2xx or 3xx responses: (\d+)", out)
    if errors:
        raise RuntimeError(f"{url}: {errors.group(1)} error responses\n{out}")
    m = re.search(r"Transfer/sec:\s+([\d.]+)([KMG]?B)", out)
    scale = {"B": 1 / 2**20, "KB": 1 / 1024, "MB": 1, "GB": 1024}[m.group(2)]
    return rps, float(m.group(1)) * scale, cpu / max(count, 1) * 1e6


def setup_data(stack: Stack, origin_url: str) -> dict:
    """Create artifacts, a publication and distributions straight in the bench database."""
    for key in ("PULP_DATABASES__default__NAME", "PULP_MEDIA_ROOT", "PULP_WORKING_DIRECTORY"):
        os.environ[key] = stack.env[key]
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "pulpcore.app.settings")
    import django

    django.setup()
    from tests.unit.content_support import (
        add_files,
        distribute,
        make_repository,
        publish,
    )

    small, big = os.urandom(16 * 1024), os.urandom(4 * 1024 * 1024)
    version = add_files(make_repository(), {"small.bin": small, "big.bin": big})
    distribute("bench", publication=publish(version))
    from pulpcore.app.models import Artifact

    names = {}
    for label, data in (("small", small), ("big", big)):
        import hashlib

        names[label] = Artifact.objects.get(sha256=hashlib.sha256(data).hexdigest()).file.name
    return names


COLD_FILES = 2000


def setup_many_paths() -> list[str]:
    """A publication of COLD_FILES distinct paths (one shared 16 KiB artifact): every first
    request for a path is a cache miss, as when a client mirrors a repository."""
    from django.db import transaction

    from pulp_file.app.models import FileContent
    from pulpcore.app.models import ContentArtifact
    from tests.unit.content_support import distribute, make_artifact, make_repository, publish

    artifact = make_artifact(os.urandom(16 * 1024))
    paths = [f"d{i % 20}/file-{i}.bin" for i in range(COLD_FILES)]
    with transaction.atomic():
        units = [FileContent.objects.create(relative_path=p, digest=artifact.sha256) for p in paths]
        ContentArtifact.objects.bulk_create(
            [
                ContentArtifact(content=u, artifact=artifact, relative_path=u.relative_path)
                for u in units
            ]
        )
    repo = make_repository()
    version = repo.new_version()
    version.add_content(FileContent.objects.filter(pk__in=[u.pk for u in units]))
    version.complete_version()
    distribute("bench-many", publication=publish(version))
    return paths


def fetch_all(base: str, paths: list[str], concurrency: int = 10) -> float:
    """Requests/s fetching every path once with an aiohttp client at ``concurrency``."""
    import asyncio

    import aiohttp

    async def run() -> float:
        queue = list(paths)
        async with aiohttp.ClientSession(
            connector=aiohttp.TCPConnector(limit=concurrency)
        ) as session:

            async def worker():
                while queue:
                    async with session.get(base + queue.pop()) as resp:
                        await resp.read()
                        assert resp.status == 200, resp.status

            start = time.perf_counter()
            await asyncio.gather(*(worker() for _ in range(concurrency)))
            return len(paths) / (time.perf_counter() - start)

    return asyncio.run(run())


def setup_on_demand(origin_root: Path, origin_url: str) -> dict:
    from tests.unit.content_support import (
        add_files,
        distribute,
        make_remote,
        make_repository,
        publish,
    )

    remote = make_remote(origin_url, policy="on_demand")
    files = {p.name: p.read_bytes() for p in sorted(origin_root.glob("*.iso"))}
    version = add_files(make_repository(), files, remote=remote, on_demand=set(files))
    distribute("bench-od", publication=publish(version))
    return files


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--seconds", type=float, default=3)
    parser.add_argument(
        "--rounds", type=int, default=2, help="alternate nginx/ours this often; keep the best"
    )
    args = parser.parse_args()
    if not shutil.which("wrk") or not shutil.which("nginx"):
        sys.exit("bench_content needs wrk and nginx (apt-get install -y wrk nginx)")

    load_before = " ".join(f"{x:.1f}" for x in os.getloadavg())
    stack = Stack("bench_content").setup()
    tmp = Path(tempfile.mkdtemp(prefix="bench-content-origin-"))
    fixture = make_file_fixture(tmp, count=2, size=4 * 1024 * 1024)
    try:
        with FixtureServer(fixture.root) as origin:
            names = setup_data(stack, origin.url)
            od_files = setup_on_demand(fixture.root, origin.url)
            many = setup_many_paths()
            media = stack.env["PULP_MEDIA_ROOT"]
            rows = []
            for workers in (1, 2):
                content = stack.start_content(workers=workers, gunicorn=workers > 1)
                with Nginx(media, workers) as nginx:
                    for label in ("small", "big"):
                        rel = "small.bin" if label == "small" else "big.bin"
                        ours = f"{stack.content_origin}/pulp/content/bench/{rel}"
                        theirs = f"http://127.0.0.1:{nginx.port}/{names[label]}"
                        assert requests.get(ours).content == requests.get(theirs).content
                        # Shared, noisy machine: alternate the two servers, keep each one's best.
                        n_best = c_best = (0.0, 0.0, 0.0)
                        for _ in range(args.rounds):
                            n_best = max(n_best, wrk(theirs, args.seconds, sid=nginx.proc.pid))
                            c_best = max(c_best, wrk(ours, args.seconds, sid=content.pid))
                        rows.append((workers, label, *c_best, *n_best))
                if workers == 1:
                    od = on_demand_figures(stack, origin, od_files)
                    base = f"{stack.content_origin}/pulp/content/bench-many/"
                    cold = fetch_all(base, many)
                    warm = fetch_all(base, many)
                stack.stop("content")
    finally:
        stack.stop_all()
        stack.drop_database()
        shutil.rmtree(tmp, ignore_errors=True)

    print(
        f"\ncontent app vs nginx, wrk 10 connections, {args.seconds:.0f} s each, "
        f"best of {args.rounds}; load average before: {load_before}"
    )
    print(
        f"{'procs':>5} {'file':>6} {'ours req/s':>11} {'ours MiB/s':>11} {'ours cpu/req':>13} "
        f"{'nginx req/s':>12} {'nginx MiB/s':>12} {'nginx cpu/req':>14} {'ratio':>6}"
    )
    for workers, label, c_rps, c_mib, c_cpu, n_rps, n_mib, n_cpu in rows:
        size = "16KiB" if label == "small" else "4MiB"
        print(
            f"{workers:>5} {size:>6} {c_rps:>11.0f} {c_mib:>11.1f} {c_cpu:>10.0f} µs "
            f"{n_rps:>12.0f} {n_mib:>12.1f} {n_cpu:>11.0f} µs {c_rps / n_rps:>6.2f}"
        )
    print(
        f"\n{COLD_FILES} distinct 16 KiB paths, 1 process, aiohttp client at 10: first pass (every "
        f"path a cache miss: one prepared query each) {cold:.0f} req/s, "
        f"second pass {warm:.0f} req/s"
    )
    print(
        f"on_demand 4 MiB: first fetch {od['first'] * 1000:.1f} ms (origin direct "
        f"{od['origin'] * 1000:.1f} ms), second fetch {od['second'] * 1000:.1f} ms; "
        f"10 concurrent first fetches -> {od['concurrent_gets']} origin GET(s)"
    )


def on_demand_figures(stack: Stack, origin: FixtureServer, files: dict) -> dict:
    first_name, other = sorted(files)[:2]
    base = f"{stack.content_origin}/pulp/content/bench-od/"
    t = time.perf_counter()
    requests.get(origin.url + other, timeout=30)  # origin speed, and warms its page cache
    origin_time = time.perf_counter() - t
    t = time.perf_counter()
    body = requests.get(base + first_name, timeout=60).content
    first = time.perf_counter() - t
    assert body == files[first_name]
    t = time.perf_counter()
    body = requests.get(base + first_name, timeout=60).content
    second = time.perf_counter() - t
    assert body == files[first_name]
    before = origin.counts.get(other, 0)
    with concurrent.futures.ThreadPoolExecutor(10) as pool:
        bodies = list(pool.map(lambda _: requests.get(base + other, timeout=60).content, range(10)))
    assert all(b == files[other] for b in bodies)
    return {
        "first": first,
        "second": second,
        "origin": origin_time,
        "concurrent_gets": origin.counts.get(other, 0) - before,
    }


if __name__ == "__main__":
    main()
