"""The scheduling rule, dispatch recording, the runner's outcomes and the generic tasks."""

import uuid
from datetime import timedelta

import pytest
from django.contrib.auth import get_user_model
from django.utils import timezone

from pulpcore.app.models import Task, TaskGroup, Worker
from pulpcore.tasking import recovery, runner, scheduler
from pulpcore.tasking.dispatch import dispatch

pytestmark = pytest.mark.django_db


def row(res, state="waiting", routed=False):
    return {
        "pk": uuid.uuid4(),
        "state": state,
        "unblocked_at": timezone.now() if routed else None,
        "reserved_resources_record": res,
        "worker_id": None,
    }


# --- the rule ------------------------------------------------------------------------------------
def test_exclusive_resource_runs_one_at_a_time_in_order():
    a, b, c = row(["r1"]), row(["r1"]), row(["r2"])
    assert scheduler.ready_task_ids([a, b, c]) == [a["pk"], c["pk"]]


def test_running_task_blocks_conflicting_waiting_ones():
    running = row(["r1"], state="running")
    waiting = row(["r1", "shared:r9"])
    assert scheduler.ready_task_ids([running, waiting]) == []


def test_shared_resources_run_together_but_not_with_exclusive():
    s1, s2 = row(["shared:r1"]), row(["shared:r1"])
    ex = row(["r1"])
    s3 = row(["shared:r1"])  # after the exclusive one: must wait for it (dispatch order)
    assert scheduler.ready_task_ids([s1, s2, ex, s3]) == [s1["pk"], s2["pk"]]


def test_routed_task_holds_its_resources_even_if_later():
    later_routed = row(["r1"], routed=True)
    assert scheduler.ready_task_ids([row(["r1"]), later_routed])[:1] == []


def test_task_without_resources_is_always_ready():
    running = row(["r1"], state="running")
    free = row([])
    assert scheduler.ready_task_ids([running, free]) == [free["pk"]]


def test_blockers_name_the_resource_and_the_holder():
    running = row(["r1"], state="running")
    waiting = row(["shared:r1"])
    out = scheduler.blockers([running, waiting])
    assert out[waiting["pk"]] == [("r1", running)]


# --- dispatch ------------------------------------------------------------------------------------
def test_dispatch_records_a_waiting_task_with_resource_records():
    group = TaskGroup.objects.create(description="g")
    worker = Worker.objects.create(name="w-res")
    task = dispatch(
        scheduler.split_resources,
        args=[["a"]],
        exclusive_resources=["/x/", worker, "/x/"],
        shared_resources=["/y/", "/x/"],
        task_group=group,
    )
    task.refresh_from_db()
    assert task.state == "waiting"
    assert task.name == "pulpcore.tasking.scheduler.split_resources"
    assert task.reserved_resources_record == [
        "/x/",
        f"/pulp/api/v3/workers/{worker.pk}/",
        "shared:/y/",
    ]
    assert task.task_group == group
    assert task.args == [["a"]]


def test_dispatch_rejects_unimportable_and_unserialisable():
    with pytest.raises(ValueError, match="importable"):
        dispatch(lambda: None)
    with pytest.raises(ValueError, match="JSON"):
        dispatch("os.getcwd", args=[object()])
    with pytest.raises(ValueError, match="Resource"):
        dispatch("os.getcwd", exclusive_resources=[None])
    assert not Task.objects.exists()


# --- runner --------------------------------------------------------------------------------------
def run(task: Task) -> Task:
    worker, _ = Worker.objects.get_or_create(name="unit-worker")
    claimed = scheduler.claim(task.pk, worker)
    assert claimed is not None
    runner.execute_task(claimed)
    claimed.refresh_from_db()
    return claimed


def test_runner_completes_and_records_timestamps():
    task = run(dispatch("os.getcwd"))
    assert task.state == "completed"
    assert task.started_at <= task.finished_at
    assert task.unblocked_at is not None and task.error is None


def test_runner_records_readable_error():
    task = run(dispatch("json.loads", args=["{not json"]))
    assert task.state == "failed"
    assert "Expecting property name" in task.error["description"]
    assert "Traceback" in task.error["traceback"]


def test_runner_reports_missing_function():
    task = run(dispatch("pulpcore.nowhere.nothing"))
    assert task.state == "failed"
    assert "nowhere" in task.error["description"]


@pytest.mark.parametrize(
    "func,args,name",
    [
        ("tests.tasking_support.raise_bare", ["django.core.exceptions.EmptyResultSet"], None),
        ("tests.tasking_support.raise_bare", ["builtins.RuntimeError"], None),
        ("operator.getitem", [{}, "missing"], "KeyError: 'missing'"),
    ],
)
def test_runner_never_describes_an_error_by_its_class_name_alone(func, args, name):
    task = run(dispatch(func, args=args))
    assert task.state == "failed"
    description = task.error["description"]
    bare = name or args[0].rsplit(".", 1)[1]
    assert description != bare and description.strip("'") != "missing"
    assert description.startswith("The task failed on an unexpected internal error (")
    assert f"({bare})" in description or f"({name})" in description
    assert "Retry the operation" in description and description.endswith(".")
    assert "Traceback" in task.error["traceback"]


def test_runner_keeps_a_sentence_as_it_is():
    task = run(dispatch("tests.tasking_support.fail_with", args=["The remote said no."]))
    assert task.error["description"] == "The remote said no."


def test_claim_is_exclusive():
    task = dispatch("os.getcwd")
    w = Worker.objects.create(name="claimer")
    assert scheduler.claim(task.pk, w) is not None
    assert scheduler.claim(task.pk, w) is None


def test_claim_returns_the_running_task_with_its_arguments():
    task = dispatch("json.loads", args=["[1]"], kwargs={"strict": True})
    w = Worker.objects.create(name="claimer-args")
    claimed = scheduler.claim(task.pk, w)
    assert claimed.pk == task.pk and claimed.state == "running" and claimed.worker_id == w.pk
    assert claimed.args == ["[1]"] and claimed.kwargs == {"strict": True}
    assert claimed.started_at is not None and claimed.unblocked_at == claimed.started_at


def test_mark_routed_marks_each_waiting_task_once_in_the_order_given():
    a, b, c = dispatch("os.getcwd"), dispatch("os.getcwd"), dispatch("os.getcwd")
    Task.objects.filter(pk=c.pk).update(state="canceled")
    assert scheduler.mark_routed([b.pk, a.pk, c.pk]) == [b.pk, a.pk]
    assert scheduler.mark_routed([a.pk, b.pk]) == []  # already handed out
    assert Task.objects.filter(pk__in=[a.pk, b.pk], unblocked_at__isnull=False).count() == 2
    assert Task.objects.get(pk=c.pk).unblocked_at is None


def test_claim_next_respects_order_and_resources():
    w = Worker.objects.create(name="claimer2")
    first = dispatch("os.getcwd", exclusive_resources=["r"])
    dispatch("os.getcwd", exclusive_resources=["r"])
    other = dispatch("os.getcwd", exclusive_resources=["s"])
    assert scheduler.claim_next(w).pk == first.pk
    assert scheduler.claim_next(w).pk == other.pk
    assert scheduler.claim_next(w) is None


# --- recovery ------------------------------------------------------------------------------------
def test_dead_worker_tasks_fail_with_reason_and_free_resources():
    dead = Worker.objects.create(name="dead@nowhere")
    Worker.objects.filter(pk=dead.pk).update(last_heartbeat=timezone.now() - timedelta(minutes=5))
    task = dispatch("os.getcwd", exclusive_resources=["r"])
    scheduler.claim(task.pk, dead)
    nxt = dispatch("os.getcwd", exclusive_resources=["r"])
    assert scheduler.ready_task_ids() == []
    assert recovery.cleanup_dead_workers() == [task.pk]
    task.refresh_from_db()
    assert task.state == "failed"
    assert "dead@nowhere stopped unexpectedly" in task.error["description"]
    assert scheduler.ready_task_ids() == [nxt.pk]


def test_live_worker_is_left_alone():
    alive = Worker.objects.create(name="alive@here")
    task = dispatch("os.getcwd")
    scheduler.claim(task.pk, alive)
    assert recovery.cleanup_dead_workers() == []


# --- generic tasks -------------------------------------------------------------------------------
SER = "pulpcore.app.serializers.task.TaskGroupSerializer"


def test_general_create_update_delete():
    created = run(
        dispatch(
            "pulpcore.app.tasks.base.general_create",
            args=["core", SER],
            kwargs={"data": {"description": "made", "all_tasks_dispatched": False}},
        )
    )
    assert created.state == "completed", created.error
    group = TaskGroup.objects.get(description="made")
    assert [c.content_object for c in created.created_resources.all()] == [group]

    updated = run(
        dispatch(
            "pulpcore.app.tasks.base.general_update",
            args=[str(group.pk), "core", SER],
            kwargs={"data": {"description": "changed"}, "partial": True},
        )
    )
    assert updated.state == "completed", updated.error
    group.refresh_from_db()
    assert group.description == "changed"

    bad = run(
        dispatch(
            "pulpcore.app.tasks.base.general_update",
            args=[str(group.pk), "core", SER],
            kwargs={"data": {"description": ""}, "partial": False},
        )
    )
    assert bad.state == "failed" and "description" in bad.error["description"]
    group.refresh_from_db()
    assert group.description == "changed"

    deleted = run(
        dispatch("pulpcore.app.tasks.base.general_delete", args=[str(group.pk), "core", SER])
    )
    assert deleted.state == "completed", deleted.error
    assert not TaskGroup.objects.filter(pk=group.pk).exists()


def test_created_by_is_the_request_user():
    from django.test import Client

    admin = get_user_model().objects.create(username="admin", is_superuser=True)
    client = Client()
    client.force_login(admin)
    r = client.post("/pulp/api/v3/tasks/purge/", {}, content_type="application/json")
    assert r.status_code == 202, r.content
    task = Task.objects.get()
    assert task.created_by == admin
    assert task.logging_cid == r["Correlation-ID"]
