"""Tasking survives crashes, in both systems: the same suite runs against rq and PostgreSQL workers.

Real processes are killed with SIGKILL; Redis is flushed (our own DB) or, for the restart case, a
private redis-server is killed and started again; PostgreSQL backends of the stack's database are
terminated (the shared server itself is never restarted).
"""

import json
import os
import signal
import subprocess
import time

import pytest
import redis

from tests import testenv  # noqa: F401 - sets PULP_REDIS_DB
from tests.stack import free_port, wait_for
from tests.tasking_stack import TaskingStack

SYSTEMS = ["rq", "postgres"]
pytestmark = [pytest.mark.functional, pytest.mark.fault]


def record_spec(stack: TaskingStack, label: str, seconds: float, resource: str = "/res/a/") -> dict:
    return {
        "func": "tests.tasking_support.record",
        "args": [str(stack.evidence), label, seconds],
        "exclusive_resources": [resource],
    }


@pytest.fixture(scope="module", params=SYSTEMS)
def tstack(request):
    stack = TaskingStack(request.param).setup()
    redis.Redis.from_url(_redis_url()).flushdb()
    stack.start_api()
    stack.start_tasking()
    yield stack
    stack.stop_all()


def _redis_url() -> str:
    return f"redis://127.0.0.1:6379/{os.environ['PULP_REDIS_DB']}"


def ensure_workers(stack: TaskingStack, count: int = 2) -> None:
    alive = [n for n, p in stack.procs.items() if n.startswith("w-") and p.poll() is None]
    index = 1
    while len(alive) < count:
        name = f"w-{index}"
        if name not in alive:
            stack.procs.pop(name, None)
            stack.start_worker(name)
            alive.append(name)
        index += 1


# --- basics --------------------------------------------------------------------------------------
def test_tasks_run_and_show_in_cli(tstack):
    [href] = tstack.dispatch([record_spec(tstack, "basic", 0)])
    task = tstack.wait_task(href, timeout=30)
    assert task["state"] == "completed", task
    assert task["worker"] and task["started_at"] and task["finished_at"]
    shown = json.loads(tstack.pulp("task", "show", "--href", href).stdout)
    assert shown["pulp_href"] == href
    listed = json.loads(tstack.pulp("task", "list", "--state", "completed").stdout)
    assert href in [t["pulp_href"] for t in listed]
    workers = json.loads(tstack.pulp("worker", "list").stdout)
    assert len(workers) >= 2 and all("@" in w["name"] for w in workers)


def test_failed_task_has_readable_error(tstack):
    [href] = tstack.dispatch([{"func": "tests.tasking_support.fail_with", "args": ["boom 42"]}])
    task = tstack.wait_task(href, timeout=30)
    assert task["state"] == "failed"
    assert task["error"]["description"] == "boom 42"
    assert "RuntimeError" in task["error"]["traceback"]


def test_cancel_waiting_and_running(tstack):
    ensure_workers(tstack)
    marker = tstack.root / "tick"
    running, waiting = tstack.dispatch(
        [
            {
                "func": "tests.tasking_support.tick",
                "args": [str(marker), 60],
                "exclusive_resources": ["/res/cancel/"],
            },
            record_spec(tstack, "after-cancel", 0, "/res/cancel/"),
        ]
    )
    tstack.wait_state(running, {"running"})
    assert tstack.task(waiting)["state"] == "waiting"
    # waiting: canceled at once, through the real CLI
    tstack.pulp("task", "cancel", "--href", waiting)
    assert tstack.task(waiting)["state"] == "canceled"
    # running: really stopped (the marker stops changing), then canceled
    r = tstack.api.patch(tstack.url(running), json={"state": "canceled"}, timeout=30)
    assert r.status_code == 200 and r.json()["state"] in ("canceling", "canceled")
    task = tstack.wait_state(running, {"canceled"}, timeout=15)
    assert task["finished_at"]
    stamp = marker.read_text()
    time.sleep(0.5)
    assert marker.read_text() == stamp, "the canceled task is still running"
    # finished tasks: 409 on cancel, delete allowed; running ones cannot be deleted
    r = tstack.api.patch(tstack.url(running), json={"state": "canceled"}, timeout=30)
    assert r.status_code == 409 and "already canceled" in r.json()["detail"]
    # the worker is free again
    [nxt] = tstack.dispatch([record_spec(tstack, "after-cancel-2", 0, "/res/cancel/")])
    assert tstack.wait_task(nxt, timeout=20)["state"] == "completed"


def test_delete_running_task_is_409(tstack):
    [href] = tstack.dispatch(
        [{"func": "tests.tasking_support.tick", "args": [str(tstack.root / "t2"), 30]}]
    )
    tstack.wait_state(href, {"running"})
    r = tstack.api.delete(tstack.url(href), timeout=30)
    assert r.status_code == 409 and "running" in r.json()["detail"]
    tstack.api.patch(tstack.url(href), json={"state": "canceled"}, timeout=30)
    tstack.wait_state(href, {"canceled"}, timeout=15)
    assert tstack.api.delete(tstack.url(href), timeout=30).status_code == 204


def test_fifty_tasks_one_resource_three_workers_never_overlap(tstack):
    ensure_workers(tstack, 3)
    out = tstack.evidence / "fifty"
    specs = [
        {
            "func": "tests.tasking_support.record",
            "args": [str(out), f"{i:03d}", 0.02],
            "exclusive_resources": ["/res/fifty/"],
        }
        for i in range(50)
    ]
    # a few unrelated tasks that may run alongside
    specs += [record_spec(tstack, f"free-{i}", 0.02, f"/res/free/{i}/") for i in range(5)]
    hrefs = tstack.dispatch(specs)
    wait_for(
        lambda: (
            all(tstack.task(h)["state"] in ("completed", "failed") for h in hrefs[-5:])
            and tstack.task(hrefs[49])["state"] == "completed"
        ),
        timeout=120,
        interval=0.5,
        what="50 tasks",
    )
    states = [tstack.task(h)["state"] for h in hrefs]
    assert states == ["completed"] * 55
    runs = sorted(
        (json.loads((out / f"{i:03d}.json").read_text()) for i in range(50)),
        key=lambda r: r["start"],
    )
    assert [r["label"] for r in runs] == [f"{i:03d}" for i in range(50)], "not in dispatch order"
    for before, after in zip(runs, runs[1:], strict=False):
        assert before["end"] <= after["start"], f"{before['label']} overlaps {after['label']}"
    assert len({r["pid"] for r in runs}) >= 2, "expected the work to spread over workers"


# --- crashes -------------------------------------------------------------------------------------
def test_kill_worker_mid_task(tstack):
    ensure_workers(tstack, 2)
    marker = tstack.root / "killed"
    first, second = tstack.dispatch(
        [
            {
                "func": "tests.tasking_support.tick",
                "args": [str(marker), 60],
                "exclusive_resources": ["/res/kill/"],
            },
            record_spec(tstack, "after-kill", 0, "/res/kill/"),
        ]
    )
    task = tstack.wait_state(first, {"running"})
    victim = tstack.proc_of_worker(task["worker"])
    tstack.kill(victim, signal.SIGKILL)
    killed_at = time.time()
    failed = tstack.wait_state(first, {"failed"}, timeout=15)
    assert "stopped unexpectedly" in failed["error"]["description"]
    nxt = tstack.wait_state(second, {"running", "completed"}, timeout=15)
    started = nxt["started_at"]
    from datetime import datetime

    delay = datetime.fromisoformat(started.replace("Z", "+00:00")).timestamp() - killed_at
    assert delay < 10, f"next task on the resource started {delay:.1f}s after the kill"
    assert tstack.wait_task(second)["state"] == "completed"
    ensure_workers(tstack, 2)


def test_sigterm_finishes_the_running_task_then_the_worker_exits(tstack):
    """Warm shutdown (systemd stop): rq's own SIGTERM handling in the rq system, ours otherwise."""
    ensure_workers(tstack, 2)
    marker = tstack.root / "warm"
    [href] = tstack.dispatch(
        [
            {
                "func": "tests.tasking_support.tick",
                "args": [str(marker), 2],
                "exclusive_resources": ["/res/warm/"],
            }
        ]
    )
    task = tstack.wait_state(href, {"running"})
    name = tstack.proc_of_worker(task["worker"])
    proc = tstack.procs[name]
    os.killpg(proc.pid, signal.SIGTERM)
    # exits by itself (no SIGKILL), after the task finished
    assert proc.wait(timeout=30) == 0
    assert tstack.wait_task(href, timeout=10)["state"] == "completed"
    tstack.procs.pop(name)
    ensure_workers(tstack, 2)


def test_resource_manager_single_active_and_takeover(tstack):
    if tstack.system == "postgres":
        # No resource-manager in this mode: --resource-manager idles and stops cleanly.
        proc = tstack.procs["rm-1"]
        assert proc.poll() is None and "idling" in tstack.log("rm-1")  # checked at its start
        tstack.stop("rm-1")
        assert proc.returncode == 0
        tstack.procs.pop("rm-1")
        tstack.start_resource_manager("rm-1")
        return
    offset = len(tstack.log("rm-2"))  # logs are appended to across runs
    standby = tstack.start("rm-2", ["pulpcore-worker", "--resource-manager"])
    standby.wait(timeout=20)
    assert standby.returncode != 0
    assert "another resource-manager is active" in tstack.log("rm-2")[offset:]
    offset = len(tstack.log("rm-2"))
    tstack.kill("rm-1", signal.SIGKILL)
    killed = time.monotonic()
    # a task dispatched while nobody routes must not be lost
    [href] = tstack.dispatch([record_spec(tstack, "during-takeover", 0, "/res/rm/")])
    # emulate systemd's Restart=always with RestartSec=1 for the standby
    while True:
        proc = tstack.start("rm-2", ["pulpcore-worker", "--resource-manager"])
        try:
            proc.wait(timeout=1.5)
        except subprocess.TimeoutExpired:
            if "is now the active resource-manager" in tstack.log("rm-2")[offset:]:
                break
        assert time.monotonic() - killed < 10, "no standby took over within 10 s"
        time.sleep(0.5)
    assert tstack.wait_task(href, timeout=20)["state"] == "completed"
    tstack.stop("rm-2")
    tstack.procs.pop("rm-1")
    tstack.start_resource_manager("rm-1")


def test_redis_flushed_waiting_tasks_still_run(tstack):
    for name in [n for n in tstack.procs if n.startswith("w-")]:
        tstack.stop(name)
        tstack.procs.pop(name)
    hrefs = tstack.dispatch(
        [record_spec(tstack, f"flush-{i}", 0, f"/res/flush/{i}/") for i in range(3)]
    )
    time.sleep(1.5)  # the resource-manager has routed them into Redis by now
    redis.Redis.from_url(_redis_url()).flushdb()
    ensure_workers(tstack, 2)
    for href in hrefs:
        assert tstack.wait_task(href, timeout=30)["state"] == "completed"


def test_postgres_connections_terminated_everyone_reconnects(tstack):
    ensure_workers(tstack, 2)
    killed = tstack.sql(
        "SELECT count(pg_terminate_backend(pid)) FROM pg_stat_activity"
        " WHERE datname = current_database() AND pid <> pg_backend_pid()"
    )[0][0]
    assert killed >= 3
    [href] = tstack.dispatch([record_spec(tstack, "after-pg", 0, "/res/pg/")])
    assert tstack.wait_task(href, timeout=30)["state"] == "completed"
    # the same processes are still alive and heartbeating
    assert all(p.poll() is None for n, p in tstack.procs.items() if n != "rm-2")
    wait_for(lambda: len(tstack.online_workers()) >= 2, timeout=15, what="workers online")
    if tstack.system == "rq":
        # the resource-manager took its lock again (and routed the task above)
        held = tstack.sql(
            "SELECT count(*) FROM pg_locks WHERE locktype = 'advisory' AND granted"
            " AND classid = %s::oid AND objid = 0"
            " AND database = (SELECT oid FROM pg_database WHERE datname = current_database())",
            (0x5056,),
        )[0][0]
        assert held == 1


# --- Redis restarted (private redis-server, rq system only matters; run for both) ---------------
@pytest.mark.parametrize("system", SYSTEMS)
def test_redis_restarted(system, tmp_path):
    port = free_port()

    def start_redis():
        return subprocess.Popen(
            [
                "redis-server",
                "--port",
                str(port),
                "--bind",
                "127.0.0.1",
                "--save",
                "",
                "--appendonly",
                "no",
                "--dir",
                str(tmp_path),
            ],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )

    server = start_redis()
    stack = TaskingStack(
        system, {"PULP_REDIS_PORT": str(port), "PULP_REDIS_DB": "0"}, name=f"redis_{system}"
    )
    try:
        wait_for(lambda: redis.Redis(port=port).ping(), timeout=10, what="redis-server")
        stack.setup()
        stack.start_api()
        stack.start_tasking(workers=1)
        [href] = stack.dispatch([record_spec(stack, "before", 0)])
        assert stack.wait_task(href, timeout=30)["state"] == "completed"
        server.kill()
        server.wait()
        [href] = stack.dispatch([record_spec(stack, "while-down", 0)])
        time.sleep(2)
        server = start_redis()
        assert stack.wait_task(href, timeout=40)["state"] == "completed"
        assert all(p.poll() is None for p in stack.procs.values())
    finally:
        stack.stop_all()
        server.kill()
        server.wait()
        stack.drop_database()
