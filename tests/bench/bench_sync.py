"""Sync benchmark: prints figures next to docs/performance targets (never asserts speed).

Usage (from /work/main, venv active)::

    PULP_TEST_PREFIX=h5 PULP_TEST_REDIS_DB=6 python tests/bench/bench_sync.py [--small N] [--big N]

Two ways are measured on one fresh database:

* ``pipeline``: ``synchronize`` called in this process (the pipeline alone, no tasking);
* ``api``: the real path — POST ``repositories/file/file/<id>/sync/`` to gunicorn, a
  ``pulpcore-worker`` runs it; time = task ``finished_at`` minus the client clock before the POST
  (as in ``performance-targets.md``). Skipped when the endpoints or workers are not available.

Fixtures (random files + PULP_MANIFEST) are served by nginx when it is installed, else by the
Python fixture server (HTTP/1.1 keep-alive).
"""

import argparse
import os
import shutil
import subprocess
import sys
import tempfile
import time
from datetime import datetime
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))

from tests import testenv  # noqa: E402  (sets PULP_* defaults for this prefix)
from tests.fixtures import FixtureServer, make_file_fixture  # noqa: E402
from tests.stack import Stack, free_port  # noqa: E402

TARGETS = {
    "sync small immediate": ("11.7 s", "≤ 4 s"),
    "sync big immediate": ("4.1 s", "≤ 2 s"),
    "re-sync no change": ("0.55 s", "≤ 0.15 s"),
    "re-sync no change (best of 3)": ("0.55 s", "≤ 0.15 s"),
    "re-sync, manifest bytes changed": ("0.55 s", "≤ 0.15 s"),
    "publish": ("0.80 s", "≤ 0.25 s"),
    "sync small on_demand": ("—", "—"),
}


class NginxOrigin:
    """nginx serving ``root`` on a free port (sendfile), started and stopped by the bench."""

    def __init__(self, root: Path):
        self.root = root
        self.port = free_port()
        self.dir = Path(tempfile.mkdtemp(prefix="bench-nginx-"))
        self.proc = None

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}/"

    def __enter__(self) -> "NginxOrigin":
        conf = self.dir / "nginx.conf"
        conf.write_text(
            f"""
worker_processes 1;
daemon off;
pid {self.dir}/nginx.pid;
error_log {self.dir}/error.log;
events {{ worker_connections 1024; }}
http {{
  access_log off;
  sendfile on;
  keepalive_requests 100000;
  client_body_temp_path {self.dir}/body;
  proxy_temp_path {self.dir}/proxy;
  fastcgi_temp_path {self.dir}/fastcgi;
  uwsgi_temp_path {self.dir}/uwsgi;
  scgi_temp_path {self.dir}/scgi;
  server {{
    listen 127.0.0.1:{self.port};
    root {self.root};
  }}
}}
"""
        )
        self.proc = subprocess.Popen(
            [shutil.which("nginx"), "-c", str(conf), "-p", str(self.dir)],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        import requests

        for _ in range(100):
            try:
                requests.get(self.url, timeout=1)
                break
            except requests.RequestException:
                time.sleep(0.05)
        return self

    def __exit__(self, *exc) -> None:
        if self.proc is not None:
            self.proc.terminate()
            self.proc.wait(10)
        shutil.rmtree(self.dir, ignore_errors=True)


def origin_for(root: Path):
    if shutil.which("nginx"):
        return NginxOrigin(root), "nginx"
    return FixtureServer(root, keep_alive=True), "python http.server (HTTP/1.1)"


def parse_ts(value: str) -> float:
    return datetime.fromisoformat(value.replace("Z", "+00:00")).timestamp()


class Pipeline:
    """Measure ``synchronize`` and ``publish`` in this process."""

    def __init__(self):
        import django

        os.environ.setdefault("DJANGO_SETTINGS_MODULE", "pulpcore.app.settings")
        django.setup()
        from pulp_file.app.models import FileRemote, FileRepository

        self.FileRemote, self.FileRepository = FileRemote, FileRepository

    def repo(self, name: str, url: str, policy: str = "immediate"):
        repo = self.FileRepository.objects.create(name=name)
        repo.new_version().complete_version()
        remote = self.FileRemote.objects.create(name=name, url=url, policy=policy)
        return repo, remote

    def sync(self, repo, remote) -> float:
        from pulp_file.app.tasks.synchronizing import synchronize

        started = time.perf_counter()
        synchronize(str(remote.pk), str(repo.pk), mirror=False)
        return time.perf_counter() - started

    def publish(self, repo) -> float | None:
        try:
            from pulp_file.app.tasks.publishing import publish
        except ImportError:
            return None
        version = repo.latest_version()
        started = time.perf_counter()
        publish(str(version.pk), manifest="PULP_MANIFEST")
        return time.perf_counter() - started


class Api:
    """Measure through gunicorn + pulpcore-worker (the reference's way of timing)."""

    def __init__(self, stack: Stack):
        self.stack = stack

    def available(self) -> str | None:
        r = self.stack.get("repositories/file/file/")
        if r.status_code != 200:
            return f"repositories/file/file/ answered {r.status_code}"
        return None

    def repo(self, name: str, url: str, policy: str = "immediate"):
        repo = self.stack.post("repositories/file/file/", json={"name": name})
        remote = self.stack.post(
            "remotes/file/file/", json={"name": name, "url": url, "policy": policy}
        )
        repo.raise_for_status()
        remote.raise_for_status()
        return repo.json(), remote.json()

    def timed(self, path: str, body: dict) -> float:
        started = time.time()
        r = self.stack.post(path, json=body)
        r.raise_for_status()
        task = self.stack.wait_task(r.json()["task"], timeout=600)
        if task["state"] != "completed":
            raise RuntimeError(f"task {task['state']}: {task.get('error')}")
        return parse_ts(task["finished_at"]) - started

    def sync(self, repo, remote) -> float:
        return self.timed(f"{repo['pulp_href']}sync/", {"remote": remote["pulp_href"]})

    def publish(self, repo) -> float | None:
        return self.timed("publications/file/file/", {"repository": repo["pulp_href"]})


DATA: Path | None = None


def manifest_path(url: str) -> Path:
    """The fixture file behind a manifest URL served from DATA."""
    relative = url.split("/", 3)[3]
    return DATA / relative


def run(mode, small_url, big_url, od_url, tag: str) -> dict[str, float | None]:
    figures: dict[str, float | None] = {}
    repo, remote = mode.repo(f"{tag}-small", small_url)
    figures["sync small immediate"] = mode.sync(repo, remote)
    resyncs = [mode.sync(repo, remote) for _ in range(3)]
    figures["re-sync no change"] = resyncs[0]
    figures["re-sync no change (best of 3)"] = min(resyncs)
    # Same units, different manifest bytes: the whole pipeline runs and finds nothing new.
    with open(manifest_path(small_url), "a") as fp:
        fp.write(f"# touched {tag}\n")
    figures["re-sync, manifest bytes changed"] = mode.sync(repo, remote)
    figures["publish"] = mode.publish(repo)
    repo, remote = mode.repo(f"{tag}-od", od_url, policy="on_demand")
    figures["sync small on_demand"] = mode.sync(repo, remote)
    repo, remote = mode.repo(f"{tag}-big", big_url)
    figures["sync big immediate"] = mode.sync(repo, remote)
    return figures


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--small", type=int, default=1000)
    parser.add_argument("--big", type=int, default=50)
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--skip-api", action="store_true")
    args = parser.parse_args()

    stack = Stack("bench").setup()
    os.environ.update(stack.env)
    global DATA
    data = DATA = Path(testenv.ROOT) / "bench-data"
    shutil.rmtree(data, ignore_errors=True)
    # Three trees, so each cold sync really downloads (artifacts are shared by sha256).
    make_file_fixture(data / "small", count=args.small, size=16 * 1024)
    make_file_fixture(data / "ondemand", count=args.small, size=16 * 1024)
    make_file_fixture(data / "big", count=args.big, size=4 * 1024 * 1024)
    api_fig = pipe_fig = None
    origin, origin_name = origin_for(data)
    with origin:
        urls = [f"{origin.url}{d}/PULP_MANIFEST" for d in ("small", "big", "ondemand")]
        pipe_fig = run(Pipeline(), *urls, tag="pipe")
        # Fresh storage and database state for the API run: cold again.
        if not args.skip_api:
            stack.create_database()
            stack.manage("migrate", "--no-input", "-v0")
            stack.manage("reset-admin-password", "--password", stack.admin_password)
            shutil.rmtree(stack.root / "media", ignore_errors=True)
            (stack.root / "media").mkdir()
            try:
                stack.start_api()
                api = Api(stack)
                reason = api.available()
                if reason is None:
                    new_style = stack.env.get("PULP_USE_NEW_WORKER_STYLE", "").lower()
                    if new_style not in ("true", "1", "yes"):
                        stack.start_resource_manager("resource-manager")
                    for i in range(args.workers):
                        stack.start_worker(f"worker{i}")
                    api_fig = run(api, *urls, tag="api")
                else:
                    print(f"api mode skipped: {reason}")
            except Exception as exc:  # noqa: BLE001 - report and keep the pipeline figures
                print(f"api mode failed: {exc}")
            finally:
                stack.stop_all()
    print()
    print(f"origin: {origin_name}; {args.small} x 16 KiB, {args.big} x 4 MiB; 2 shared cores")
    header = f"{'measure':32} {'pipeline':>10} {'api+worker':>11} {'pulpcore':>10} {'target':>9}"
    print(header)
    print("-" * len(header))
    for name, (reference, target) in TARGETS.items():
        p = pipe_fig.get(name) if pipe_fig else None
        a = api_fig.get(name) if api_fig else None
        print(
            f"{name:32} {fmt(p):>10} {fmt(a):>11} {reference:>10} {target:>9}",
        )
    big_bytes = args.big * 4 * 1024 * 1024
    for label, fig in (("pipeline", pipe_fig), ("api+worker", api_fig)):
        if fig and fig.get("sync big immediate"):
            rate = big_bytes / fig["sync big immediate"] / 2**20
            print(f"{label}: big sync throughput {rate:.0f} MiB/s")
    stack.drop_database()


def fmt(value: float | None) -> str:
    return "—" if value is None else f"{value:.2f} s"


if __name__ == "__main__":
    main()
