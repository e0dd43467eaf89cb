"""Scale benchmark: how sync, publish, listing and orphan cleanup grow from 1,000 to 100,000 files.

Usage (from the worktree, venv active)::

    PULP_TEST_PREFIX=h5 PULP_TEST_REDIS_DB=9 python tests/bench/bench_scale.py \\
        [--sizes 1000 10000 100000] [--size-bytes 50] [--compare REF --ref-redis-db 14]

For each size N the bench writes N small files of random bytes and their ``PULP_MANIFEST`` (fresh
bytes per stack and size, so a cold sync really downloads) below a directory that its own nginx
serves, then, on a ``make start`` stack (:class:`tests.bench.harness.Stack`), through the API:

* cold sync (mirror), re-sync with no change, re-sync after 1 % of the files changed, re-sync when
  the manifest's bytes change but its files don't (a comment line is appended), publish;
* ``content/file/files/?limit=100`` first page vs. the deepest page (``offset=N-100``), and the
  same two pages of ``?repository_version=<latest>`` (the version's content list);
* delete the repository, then ``orphans/cleanup/`` with ``orphan_protection_time=0``.

A task figure is the server's ``finished_at - started_at`` of that task, and the worker's peak RSS
while it ran: the bench resets the high-water mark of every worker of the stack
(``/proc/<pid>/clear_refs``) before dispatching and reads ``VmHWM`` of the worker that ran it
afterwards (task → ``worker`` → ``pid@host``). List pages are the best of ``--page-repeat`` GETs
timed by the client (gunicorn directly). Each figure is printed beside REF's with ``--compare``,
then a growth table: each time divided by N, relative to the smallest size (1.0 = linear).

Takes roughly (2 cores, lightly loaded): 1,000 files ~15 s, 10,000 ~1 min, 100,000 ~10 min; far
longer when other work shares the machine (load average 10: 100,000 took ~15 min). The default
sizes include 100,000; ``--sizes 1000 10000`` for a quick run, which also suits ``--compare``.
Figures only; nothing is asserted.
"""

from __future__ import annotations

import argparse
import contextlib
import hashlib
import os
import shutil
import subprocess
import sys
import tempfile
import time
from datetime import datetime
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))

from tests.bench.harness import (  # noqa: E402
    Figure,
    Stack,
    common_args,
    free_port,
    print_table,
    stacks_for,
)

MANIFEST = "PULP_MANIFEST"


class FixtureNginx:
    """A separate nginx process serving ``root`` (the remote every sync of the bench talks to)."""

    def __init__(self, root: Path):
        self.root = root
        self.port = free_port()
        self.dir = Path(tempfile.mkdtemp(prefix="bench-scale-nginx-"))
        self.proc: subprocess.Popen | None = None

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}/"

    def __enter__(self) -> FixtureNginx:
        import requests

        d = self.dir
        conf = d / "nginx.conf"
        conf.write_text(
            f"""
worker_processes 1;
daemon off;
pid {d}/nginx.pid;
error_log {d}/error.log warn;
events {{ worker_connections 1024; }}
http {{
    access_log off;
    sendfile on;
    keepalive_requests 1000000;
    client_body_temp_path {d}/body;
    proxy_temp_path {d}/proxy;
    fastcgi_temp_path {d}/fastcgi;
    uwsgi_temp_path {d}/uwsgi;
    scgi_temp_path {d}/scgi;
    server {{
        listen 127.0.0.1:{self.port};
        root {self.root};
    }}
}}
"""
        )
        self.proc = subprocess.Popen(
            ["nginx", "-p", str(d), "-c", str(conf)],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
            start_new_session=True,
        )
        for _ in range(200):
            try:
                requests.get(self.url, timeout=1)
                return self
            except requests.RequestException:
                time.sleep(0.05)
        raise RuntimeError(f"the fixture nginx did not start: {d / 'error.log'}")

    def __exit__(self, *exc: object) -> None:
        if self.proc is not None:
            self.proc.terminate()
            self.proc.wait(10)
        shutil.rmtree(self.dir, ignore_errors=True)


class Tree:
    """N files of ``size`` random bytes in 100 directories, and their manifest."""

    def __init__(self, root: Path, count: int, size: int):
        self.root, self.count, self.size = root, count, size
        self.lines: dict[str, str] = {}

    def path(self, i: int) -> str:
        return f"d{i % 100:02d}/f{i:06d}.bin"

    def write_file(self, i: int) -> None:
        data = os.urandom(self.size)
        rel = self.path(i)
        target = self.root / rel
        target.write_bytes(data)
        self.lines[rel] = f"{rel},{hashlib.sha256(data).hexdigest()},{len(data)}"

    def create(self) -> Tree:
        shutil.rmtree(self.root, ignore_errors=True)
        for d in range(min(100, self.count)):
            (self.root / f"d{d:02d}").mkdir(parents=True)
        for i in range(self.count):
            self.write_file(i)
        self.write_manifest()
        return self

    def write_manifest(self, trailer: str = "") -> None:
        text = "\n".join(self.lines[k] for k in sorted(self.lines)) + "\n" + trailer
        (self.root / MANIFEST).write_text(text)

    def change(self, fraction: float) -> int:
        """New bytes for every ``1/fraction``-th file; returns how many changed."""
        step = max(1, round(1 / fraction))
        changed = range(0, self.count, step)
        for i in changed:
            self.write_file(i)
        self.write_manifest()
        return len(changed)


def _ts(value: str) -> float:
    return datetime.fromisoformat(value.replace("Z", "+00:00")).timestamp()


class Worker:
    """Peak RSS of the stack's workers: reset before a task, read from the one that ran it."""

    def __init__(self, stack: Stack):
        self.stack = stack

    def reset(self) -> None:
        for name, pid in self.stack.pids().items():
            if name.startswith("worker-"):
                try:
                    Path(f"/proc/{pid}/clear_refs").write_text("5")
                except OSError:
                    pass  # not ours or gone: its figure will be the lifetime peak

    def peak_mib(self, task: dict) -> float:
        if not task.get("worker"):
            return float("nan")
        name = self.stack.get(task["worker"]).json()["name"]
        pid = int(name.split("@", 1)[0])
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) / 1024
        return float("nan")


def run_task(stack: Stack, worker: Worker, method: str, path: str, **body: object) -> dict:
    worker.reset()
    response = stack.session.request(method, stack._url(path), json=body or None, timeout=120)
    if response.status_code != 202:
        raise RuntimeError(f"{method} {path}: {response.status_code} {response.text[:500]}")
    return stack.wait_task(response.json()["task"], timeout=3600)


def task_figures(name: str, size: int, worker: Worker, task: dict) -> list[Figure]:
    seconds = _ts(task["finished_at"]) - _ts(task["started_at"])
    return [
        Figure(f"{name} time {size}", seconds, "s"),
        Figure(f"{name} peak RSS {size}", worker.peak_mib(task), "MiB"),
    ]


def page_seconds(stack: Stack, path: str, repeat: int) -> float:
    best = float("inf")
    for _ in range(repeat):
        started = time.perf_counter()
        r = stack.get(path)
        elapsed = time.perf_counter() - started
        r.raise_for_status()
        best = min(best, elapsed)
    return best


def measure_size(
    stack: Stack, origin: FixtureNginx, data: Path, n: int, args: argparse.Namespace
) -> list[Figure]:
    tag = f"{stack.label.replace('/', '-')}-{n}"
    tree = Tree(data / tag, n, args.size_bytes)
    t = time.perf_counter()
    tree.create()
    print(f"  {tag}: {n} files written in {time.perf_counter() - t:.1f} s", flush=True)
    worker = Worker(stack)
    repo = stack.post("repositories/file/file/", json={"name": f"scale-{tag}"})
    repo.raise_for_status()
    remote = stack.post(
        "remotes/file/file/",
        json={"name": f"scale-{tag}", "url": f"{origin.url}{tag}/{MANIFEST}"},
    )
    remote.raise_for_status()
    repo_href, remote_href = repo.json()["pulp_href"], remote.json()["pulp_href"]
    sync = f"{repo_href}sync/"
    figures: list[Figure] = []

    def step(name: str, method: str, path: str, **body: object) -> dict:
        started = time.perf_counter()
        task = run_task(stack, worker, method, path, **body)
        figs = task_figures(name, n, worker, task)
        figures.extend(figs)
        print(
            f"  {tag}: {name}: {figs[0].value:.3f} s, {figs[1].value:.0f} MiB"
            f" (client {time.perf_counter() - started:.1f} s)",
            flush=True,
        )
        return task

    step("cold sync", "POST", sync, remote=remote_href, mirror=True)
    step("re-sync no change", "POST", sync, remote=remote_href, mirror=True)
    changed = tree.change(0.01)
    step("re-sync 1% changed", "POST", sync, remote=remote_href, mirror=True)
    tree.write_manifest(trailer="# the same files, other manifest bytes\n")
    step("re-sync manifest bytes", "POST", sync, remote=remote_href, mirror=True)
    publish = step("publish", "POST", "publications/file/file/", repository=repo_href)
    version = stack.get(repo_href).json()["latest_version_href"]
    listed = stack.get(f"content/file/files/?repository_version={version}&limit=1").json()
    if listed["count"] != n:
        raise RuntimeError(f"version {version} holds {listed['count']} files, expected {n}")
    print(f"  {tag}: {changed} files changed; version holds {listed['count']}", flush=True)

    total = stack.get("content/file/files/?limit=1").json()["count"]
    deep = max(0, total - 100)
    for label, query in (
        ("files", "content/file/files/?limit=100"),
        ("version content", f"content/file/files/?repository_version={version}&limit=100"),
    ):
        last = deep if label == "files" else max(0, n - 100)
        first_s = page_seconds(stack, f"{query}&offset=0", args.page_repeat)
        deep_s = page_seconds(stack, f"{query}&offset={last}", args.page_repeat)
        figures.append(Figure(f"{label} first page {n}", first_s, "s"))
        figures.append(
            Figure(f"{label} last page {n}", deep_s, "s", ceiling=first_s, ceiling_label="first")
        )
        print(f"  {tag}: {label}: first {first_s:.4f} s, offset {last} {deep_s:.4f} s", flush=True)

    # Orphans: the publication and the repository go, then everything the sync brought.
    gone = stack.session.delete(stack._url(publish["created_resources"][0]), timeout=120)
    if gone.status_code == 202:
        stack.wait_task(gone.json()["task"])
    elif gone.status_code != 204:
        raise RuntimeError(f"deleting the publication: {gone.status_code} {gone.text[:300]}")
    step("delete repository", "DELETE", repo_href)
    step("orphan cleanup", "POST", "orphans/cleanup/", orphan_protection_time=0)
    stack.session.delete(stack._url(remote_href))
    shutil.rmtree(tree.root, ignore_errors=True)
    return figures


def growth_table(figures: list[Figure], sizes: list[int]) -> None:
    """Seconds per file at each size relative to the smallest size: 1.0 is linear."""
    by_name = {f.name: f for f in figures}
    names = []
    for f in figures:
        base = f.name.rsplit(" ", 1)[0]
        if f.unit == "s" and f.name.endswith(f" {sizes[0]}") and base not in names:
            names.append(base)
    if len(sizes) < 2:
        return
    print("\n== growth: (time / N) relative to N = " + f"{sizes[0]} (1.00 = linear)")
    print(f"{'figure':<32}" + "".join(f"{n:>10}" for n in sizes[1:]))
    for base in names:
        first = by_name.get(f"{base} {sizes[0]}")
        row = f"{base:<32}"
        for n in sizes[1:]:
            other = by_name.get(f"{base} {n}")
            if first and other and first.value:
                row += f"{(other.value / n) / (first.value / sizes[0]):>10.2f}"
            else:
                row += f"{'-':>10}"
        print(row)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0])
    parser.add_argument("--sizes", type=int, nargs="+", default=[1000, 10000, 100000])
    parser.add_argument("--size-bytes", type=int, default=50, help="bytes per file (default 50)")
    parser.add_argument("--page-repeat", type=int, default=5)
    args = common_args(parser).parse_args()
    data = Path(tempfile.mkdtemp(prefix="bench-scale-data-"))
    data.chmod(0o755)  # nginx's workers (nobody, when started as root) read the tree
    stacks = stacks_for("scale", args)
    results: list[list[Figure]] = [[] for _ in stacks]
    try:
        with FixtureNginx(data) as origin, contextlib.ExitStack() as running:
            for stack in stacks:
                running.enter_context(stack)
                print(f"stack {stack.label}: started", flush=True)
            # Size by size, each stack in turn, so both see about the same machine load.
            for n in args.sizes:
                for i, stack in enumerate(stacks):
                    results[i].extend(measure_size(stack, origin, data, n, args))
    finally:
        shutil.rmtree(data, ignore_errors=True)
    this = results[0]
    ref = results[1] if len(results) > 1 else None
    print_table(f"scale ({args.size_bytes} B files)", this, ref, args.compare or "")
    growth_table(this, args.sizes)
    if ref:
        print(f"(REF {args.compare})")
        growth_table(ref, args.sizes)


if __name__ == "__main__":
    main()
