"""Tasking benchmark for both systems through the ``make start`` stack's API (prints figures).

Usage (venv active; options: see tests/bench/harness.py)::

    PULP_TEST_PREFIX=h3 PULP_TEST_REDIS_DB=7 python tests/bench/bench_tasking.py [--compare REF]

Runs once with rq + resource-manager (``make start``'s default) and once with
``USE_NEW_WORKER_STYLE`` PostgreSQL workers, each with ``make start``'s 2 workers:

* a task POST (``tasks/purge/``) → completed, 20 one after another: median and p95;
* throughput: 100 ``modify/`` tasks (no change) over 10 repositories posted at once, tasks/s
  from the first POST to the last ``finished_at``.

Latency is the task's ``finished_at`` minus the client clock just before the POST (one machine).
"""

from __future__ import annotations

import argparse
import datetime
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))

from tests.bench.harness import Figure, Stack, median, run  # noqa: E402

REPOS = 10
TASKS = 100


def setup(stack: Stack, args: argparse.Namespace) -> list[str]:
    return [
        stack.create("repositories/file/file/", json={"name": f"t{i}"})["pulp_href"]
        for i in range(REPOS)
    ]


def measure(stack: Stack, repos: list[str], args: argparse.Namespace) -> list[Figure]:
    latencies = sorted(stack.run_task("tasks/purge/", json={})[1] for _ in range(20))
    start = time.time()
    hrefs = [stack.create(f"{repos[i % REPOS]}modify/", json={})["task"] for i in range(TASKS)]
    finished = max(
        datetime.datetime.fromisoformat(
            stack.wait_task(h)["finished_at"].replace("Z", "+00:00")
        ).timestamp()
        for h in hrefs
    )
    return [
        Figure("task POST → completed, median of 20", median(latencies) * 1000, "ms"),
        Figure("task POST → completed, p95 of 20", latencies[18] * 1000, "ms"),
        Figure(f"throughput, {TASKS} modify tasks", TASKS / (finished - start), "tasks/s"),
    ]


if __name__ == "__main__":
    run("tasking_rq", setup, measure, title="tasking: rq + resource-manager (make start default)")
    run(
        "tasking_pg",
        setup,
        measure,
        title="tasking: PostgreSQL workers (USE_NEW_WORKER_STYLE)",
        env={"PULP_USE_NEW_WORKER_STYLE": "true"},
    )
