"""Tasking benchmark for both systems: latency and throughput of trivial tasks. Prints figures.

Usage (from /work/main, venv active)::

    PULP_TEST_PREFIX=h3 PULP_TEST_REDIS_DB=3 python tests/bench/bench_tasking.py [--system rq]

For each system (rq + resource-manager, and USE_NEW_WORKER_STYLE PostgreSQL workers) it builds a
fresh stack and measures, with ``tests.tasking_support.noop`` as the task body:

* dispatch → completed latency, 100 tasks one after another (next dispatched when the previous
  completed), and 100 tasks dispatched at once (no resources), with 2 workers;
* throughput (tasks/s from the first dispatch to the last finish) of 200 tasks with 1, 2 and 4
  workers;
* POST ``tasks/purge/`` → completed through the API (basic auth), 20 sequential.

Latency = the task's server-side ``finished_at`` minus the client clock just before dispatch
(same machine, same clock).
"""

import argparse
import os
import statistics
import subprocess
import sys
import time
from datetime import datetime
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))

from tests import testenv  # noqa: E402,F401  (sets PULP_* defaults for this prefix)
from tests.tasking_stack import TaskingStack  # noqa: E402

NOOP = "tests.tasking_support.noop"


def ms(seconds: float) -> str:
    return f"{seconds * 1000:.0f} ms"


def summary(values: list[float]) -> str:
    values = sorted(values)
    p95 = values[int(len(values) * 0.95) - 1]
    return f"median {ms(statistics.median(values))}, p95 {ms(p95)}, max {ms(values[-1])}"


def run_system(system: str) -> None:
    stack = TaskingStack(system, name=f"bench_{system}").setup()
    os.environ.update(stack.env)
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "pulpcore.app.settings")
    sys.path.insert(0, str(stack.root / "pythonpath"))
    import django

    django.setup()
    from pulpcore.app.models import Task
    from pulpcore.tasking import pg
    from pulpcore.tasking.dispatch import dispatch

    listen = pg.connect()
    pg.listen(listen)

    def wait_done(ids: list, timeout: float = 120.0) -> dict:
        deadline = time.monotonic() + timeout
        pending = set(ids)
        finished: dict = {}
        while pending and time.monotonic() < deadline:
            rows = Task.objects.filter(pk__in=pending, finished_at__isnull=False).values_list(
                "pk", "state", "finished_at"
            )
            for pk, state, finished_at in rows:
                if state != "completed":
                    raise RuntimeError(f"task {pk} ended {state}")
                finished[pk] = finished_at.timestamp()
                pending.discard(pk)
            if pending:
                pg.wait_for_notify(listen, 0.05)
        if pending:
            raise RuntimeError(f"{len(pending)} tasks did not finish in {timeout}s")
        return finished

    def set_workers(count: int) -> None:
        running = sorted(
            n for n, p in stack.procs.items() if n.startswith("w-") and p.poll() is None
        )
        for name in running[count:]:
            stack.stop(name)
        for index in range(1, count + 1):
            name = f"w-{index}"
            if name not in stack.procs or stack.procs[name].poll() is not None:
                stack.procs.pop(name, None)
                stack.start_worker(name)

    try:
        stack.start_api()
        stack.start_resource_manager("rm-1")
        set_workers(2)
        label = "rq + resource-manager" if system == "rq" else "PostgreSQL workers"
        print(f"\n== {system} system ({label})", flush=True)
        # warm up
        wait_done([dispatch(NOOP).pk for _ in range(5)])

        lat = []
        for _ in range(100):
            t0 = time.time()
            task = dispatch(NOOP)
            lat.append(wait_done([task.pk])[task.pk] - t0)
        print(f"100 sequential, 2 workers: {summary(lat)}")

        starts = {}
        ids = []
        for _ in range(100):
            t0 = time.time()
            task = dispatch(NOOP)
            starts[task.pk] = t0
            ids.append(task.pk)
        done = wait_done(ids)
        lat = [done[i] - starts[i] for i in ids]
        span = max(done.values()) - min(starts.values())
        print(f"100 concurrent, 2 workers: {summary(lat)}; all done in {span:.2f} s")

        for count in (1, 2, 4):
            set_workers(count)
            t0 = time.time()
            ids = [dispatch(NOOP).pk for _ in range(200)]
            done = wait_done(ids)
            span = max(done.values()) - t0
            rate = 200 / span
            print(f"throughput, {count} worker(s): {rate:.0f} tasks/s (200 tasks in {span:.2f} s)")

        set_workers(2)
        lat = []
        for _ in range(20):
            t0 = time.time()
            r = stack.post("tasks/purge/", json={})
            href = r.json()["task"]
            task = stack.wait_task(href, timeout=30)
            finished = datetime.fromisoformat(task["finished_at"].replace("Z", "+00:00"))
            lat.append(finished.timestamp() - t0)
        print(f"API POST tasks/purge/ -> completed, 20 sequential (basic auth): {summary(lat)}")
    finally:
        listen.close()
        stack.stop_all()
        from django.db import connections

        connections.close_all()
        stack.drop_database()


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--system", choices=["rq", "postgres"])
    args = parser.parse_args()
    if args.system:
        run_system(args.system)
        return
    for system in ("rq", "postgres"):
        subprocess.run([sys.executable, __file__, "--system", system], check=True)


if __name__ == "__main__":
    main()
