"""Every API process (each gunicorn worker, of every gunicorn) is an online API app in ``status/``
while it runs, and leaves the list when it stops: at once when it exits cleanly, after
``API_APP_TTL`` when it dies without a word (same rule as workers and content apps)."""

import os
import signal
import socket
import time
from contextlib import closing
from pathlib import Path

import pytest

from tests.stack import Stack, free_port, wait_for

TTL = 3


def _children(pid: int) -> set[int]:
    out = set()
    for status in Path("/proc").glob("[0-9]*/status"):
        try:
            fields = dict(
                line.split(":\t", 1) for line in status.read_text().splitlines() if ":\t" in line
            )
        except OSError:
            continue
        if fields.get("PPid", "").strip() == str(pid):
            out.add(int(fields["Pid"].strip()))
    return out


def _names(pids) -> set[str]:
    host = socket.gethostname()
    return {f"{pid}@{host}" for pid in pids}


@pytest.fixture
def hb_stack():
    s = Stack("apihb", extra_env={"PULP_API_APP_TTL": str(TTL)}).setup()
    yield s
    s.stop_all()
    s.drop_database()


def _online(stack) -> set[str]:
    return {app["name"] for app in stack.get("status/").json()["online_api_apps"]}


def _rows(stack) -> dict[str, object]:
    with closing(stack._db()) as conn, conn.cursor() as cur:
        cur.execute("SELECT name, last_heartbeat FROM core_appstatus WHERE app_type = 'api'")
        return dict(cur.fetchall())


def test_every_gunicorn_worker_heartbeats_and_vanishes(hb_stack):
    stack = hb_stack
    api = stack.start_api(workers=2)
    workers = wait_for(lambda: len(_children(api.pid)) == 2 and _children(api.pid), what="workers")
    expected = _names(workers)
    wait_for(lambda: _online(stack) == expected, timeout=20, what=f"{expected} online")
    apps = stack.get("status/").json()["online_api_apps"]
    assert all(app["versions"]["core"] == "3.49.0" for app in apps)

    # Beats keep coming (interval TTL/3): the heartbeat moves on.
    first = _rows(stack)
    wait_for(lambda: all(_rows(stack)[n] > first[n] for n in expected), timeout=10, what="beats")

    # A second gunicorn (as on another host) adds its worker, then dies without cleaning up:
    # its row stays but status/ drops it once older than API_APP_TTL.
    other_port = free_port()
    other = stack.start(
        "api-other",
        ["gunicorn", "pulpcore.app.wsgi:application", "--bind", f"127.0.0.1:{other_port}"],
    )
    other_workers = wait_for(lambda: _children(other.pid), what="other worker")
    other_names = _names(other_workers)
    wait_for(lambda: _online(stack) == expected | other_names, timeout=20, what="both online")
    stack.kill("api-other", signal.SIGKILL)
    for pid in other_workers:  # the worker is in the killed process group
        wait_for(lambda pid=pid: not Path(f"/proc/{pid}").exists(), what="worker gone")
    assert other_names <= set(_rows(stack))
    wait_for(lambda: _online(stack) == expected, timeout=TTL + 10, what="dead worker expired")
    assert other_names <= set(_rows(stack))  # expired, not deleted: nobody said goodbye

    # A worker that exits cleanly removes its row at once; gunicorn replaces it with a new one.
    victim = sorted(workers)[0]
    os.kill(victim, signal.SIGTERM)
    wait_for(lambda: _names([victim]).isdisjoint(_rows(stack)), timeout=10, what="row removed")
    replaced = wait_for(
        lambda: len(_children(api.pid)) == 2 and _children(api.pid) - {victim},
        what="replacement worker",
    )
    wait_for(lambda: _online(stack) == _names(replaced), timeout=20, what="replacement online")

    # Stopping the API removes every row of its workers.
    stack.stop("api")
    time.sleep(0.5)
    assert _names(replaced).isdisjoint(_rows(stack))


def test_preloaded_master_is_not_an_api_app(hb_stack):
    """With ``--preload`` the master loads the application before forking: only the workers
    are API apps."""
    stack = hb_stack
    port = free_port()
    argv = ["gunicorn", "pulpcore.app.wsgi:application", "--preload", "--workers", "2"]
    master = stack.start("api-preload", [*argv, "--bind", f"127.0.0.1:{port}"])
    workers = wait_for(lambda: len(_children(master.pid)) == 2 and _children(master.pid))
    try:
        wait_for(lambda: set(_rows(stack)) == _names(workers), timeout=20, what="workers only")
    except TimeoutError:
        raise AssertionError((master.pid, workers, _rows(stack), stack.log("api-preload")[-3000:]))
    time.sleep(TTL / 3 + 1)  # a master still beating would be back by now
    assert set(_rows(stack)) == _names(workers)
    stack.stop("api-preload")
    wait_for(lambda: not _rows(stack), timeout=10, what="rows removed")
