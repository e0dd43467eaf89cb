"""pulpcore-manager task-waits / release-dead-workers: the operator's tools when tasks jam."""

import io
import json
from datetime import timedelta

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError
from django.utils import timezone

from pulpcore.app.models import Task, Worker
from pulpcore.tasking import scheduler
from pulpcore.tasking.dispatch import dispatch

pytestmark = pytest.mark.django_db


def run(*args) -> str:
    out = io.StringIO()
    call_command(*args, stdout=out)
    return out.getvalue()


@pytest.fixture
def jam():
    dead = Worker.objects.create(name="99@gone")
    Worker.objects.filter(pk=dead.pk).update(last_heartbeat=timezone.now() - timedelta(hours=1))
    holder = dispatch("mod.sync", exclusive_resources=["/repo/1/"])
    scheduler.claim(holder.pk, dead)
    blocked = dispatch("mod.publish", shared_resources=["/repo/1/"])
    free = dispatch("mod.other", exclusive_resources=["/repo/2/"])
    return {"dead": dead, "holder": holder, "blocked": blocked, "free": free}


def test_task_waits_names_resource_holder_and_dead_worker(jam):
    report = json.loads(run("task-waits", "--json"))
    by_task = {e["task"]: e for e in report}
    entry = by_task[str(jam["blocked"].pk)]
    assert entry["status"] == "blocked"
    [wait] = entry["waits_for"]
    assert wait["resource"] == "/repo/1/"
    assert wait["held_by_task"] == str(jam["holder"].pk)
    assert wait["worker"] == "99@gone" and wait["worker_alive"] is False
    assert by_task[str(jam["free"].pk)]["status"].startswith("ready")
    text = run("task-waits")
    assert "DEAD" in text and "/repo/1/" in text


def test_release_dead_workers(jam):
    assert "would release" in run("release-dead-workers", "--dry-run")
    assert Task.objects.get(pk=jam["holder"].pk).state == "running"
    out = run("release-dead-workers")
    assert "1 task(s) released" in out
    holder = Task.objects.get(pk=jam["holder"].pk)
    assert holder.state == "failed" and "declared dead" in holder.error["description"]
    assert jam["blocked"].pk in scheduler.ready_task_ids()


def test_release_leaves_live_workers_unless_forced():
    alive = Worker.objects.create(name="1@here")
    task = dispatch("mod.x")
    scheduler.claim(task.pk, alive)
    assert "left alone" in run("release-dead-workers", "--worker", "1@here")
    assert Task.objects.get(pk=task.pk).state == "running"
    run("release-dead-workers", "--worker", "1@here", "--force")
    assert Task.objects.get(pk=task.pk).state == "failed"
    with pytest.raises(CommandError, match="No worker"):
        run("release-dead-workers", "--worker", "nobody")
