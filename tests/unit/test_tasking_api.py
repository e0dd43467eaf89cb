"""tasks/, task-groups/ and workers/: filters, cancel, delete, purge and bad input."""

import uuid
from datetime import timedelta

import pytest
from django.contrib.auth import get_user_model
from django.test import Client
from django.utils import timezone

from pulpcore.app.models import ProgressReport, Task, TaskGroup, Worker
from pulpcore.tasking import scheduler
from pulpcore.tasking.dispatch import dispatch

pytestmark = pytest.mark.django_db
API = "/pulp/api/v3/"


@pytest.fixture
def client():
    admin = get_user_model().objects.create(username="admin", is_superuser=True)
    c = Client()
    c.force_login(admin)
    return c


def names(resp) -> list[str]:
    assert resp.status_code == 200, resp.content
    return sorted(t["name"] for t in resp.json()["results"])


def href(obj) -> str:
    from pulpcore.app.util import get_url

    return get_url(obj)


@pytest.fixture
def tasks():
    w = Worker.objects.create(name="1@host")
    group = TaskGroup.objects.create(description="grp")
    a = dispatch("mod.a", exclusive_resources=["/r/1/"], task_group=group)
    b = dispatch("mod.b", shared_resources=["/r/1/"])
    c = dispatch("mod.c", exclusive_resources=["/r/2/"])
    scheduler.claim(c.pk, w)
    Task.objects.filter(pk=c.pk).update(state="completed", finished_at=timezone.now())
    ProgressReport.objects.create(task=a, message="m", code="c", total=3, done=1)
    return {"a": a, "b": b, "c": c, "worker": w, "group": group}


def test_task_detail_shape(client, tasks):
    body = client.get(href(tasks["a"])).json()
    assert body["state"] == "waiting" and body["name"] == "mod.a"
    assert body["reserved_resources_record"] == ["/r/1/"]
    assert body["progress_reports"] == [
        {"message": "m", "code": "c", "state": "waiting", "total": 3, "done": 1, "suffix": None}
    ]
    assert body["task_group"] == href(tasks["group"])
    for key in ("worker", "parent_task", "error", "started_at", "finished_at", "unblocked_at"):
        assert body[key] is None
    assert body["child_tasks"] == [] and body["created_resources"] == []


@pytest.mark.parametrize(
    "query,expected",
    [
        ("state=waiting", ["mod.a", "mod.b"]),
        ("state__in=completed,waiting", ["mod.a", "mod.b", "mod.c"]),
        ("state__ne=waiting", ["mod.c"]),
        ("name=mod.b", ["mod.b"]),
        ("name__contains=od.", ["mod.a", "mod.b", "mod.c"]),
        ("name__in=mod.a,mod.c", ["mod.a", "mod.c"]),
        ("name__ne=mod.a", ["mod.b", "mod.c"]),
        ("reserved_resources=/r/1/", ["mod.a", "mod.b"]),
        ("exclusive_resources=/r/1/", ["mod.a"]),
        ("shared_resources=/r/1/", ["mod.b"]),
        # every resource given must be reserved (Pulp's rule): no task reserved both
        ("reserved_resources__in=/r/1/,/r/2/", []),
        ("reserved_resources__in=/r/1/", ["mod.a", "mod.b"]),
        ("exclusive_resources__in=/r/2/", ["mod.c"]),
        ("reserved_resources_record=shared:/r/1/", ["mod.b"]),
        ("worker__isnull=true", ["mod.a", "mod.b"]),
        ("finished_at__isnull=x", None),
    ],
)
def test_task_filters(client, tasks, query, expected):
    resp = client.get(f"{API}tasks/?{query}")
    if expected is None:
        assert resp.status_code == 400
        return
    assert names(resp) == expected


def test_task_filters_by_href_or_uuid(client, tasks):
    w = tasks["worker"]
    assert names(client.get(f"{API}tasks/?worker={href(w)}")) == ["mod.c"]
    assert names(client.get(f"{API}tasks/?worker={w.pk}")) == ["mod.c"]
    assert names(client.get(f"{API}tasks/?worker__in={href(w)}")) == ["mod.c"]
    assert names(client.get(f"{API}tasks/?task_group={href(tasks['group'])}")) == ["mod.a"]


def test_task_date_filters(client, tasks):
    past = (timezone.now() - timedelta(hours=1)).isoformat().replace("+00:00", "Z")
    future = (timezone.now() + timedelta(hours=1)).isoformat().replace("+00:00", "Z")
    assert names(client.get(f"{API}tasks/?finished_at__gt={past}")) == ["mod.c"]
    assert names(client.get(f"{API}tasks/?finished_at__range={past},{future}")) == ["mod.c"]
    assert names(client.get(f"{API}tasks/?started_at__lt={past}")) == []


@pytest.mark.parametrize(
    "query,fragment",
    [
        ("state=bogus", "state"),
        ("state__in=waiting,bogus", "bogus"),
        ("started_at__gt=yesterday", "started_at__gt"),
        ("finished_at__range=2020-01-01", "finished_at__range"),
        ("worker=/pulp/api/v3/nothing/", "worker"),
        ("wurker=1", "wurker"),
        ("ordering=-nope", "ordering"),
    ],
)
def test_bad_task_filters_are_400(client, tasks, query, fragment):
    resp = client.get(f"{API}tasks/?{query}")
    assert resp.status_code == 400, resp.content
    assert fragment in resp.content.decode()


def test_cancel_waiting_task(client, tasks):
    resp = client.patch(href(tasks["a"]), {"state": "canceled"}, content_type="application/json")
    assert resp.status_code == 200, resp.content
    assert resp.json()["state"] == "canceled" and resp.json()["finished_at"]
    # canceling a finished task: 409 with a message
    resp = client.patch(href(tasks["a"]), {"state": "canceled"}, content_type="application/json")
    assert resp.status_code == 409
    assert "already canceled" in resp.json()["detail"]


def test_cancel_running_task_asks_the_worker(client, tasks):
    scheduler.claim(tasks["b"].pk, tasks["worker"])
    resp = client.patch(href(tasks["b"]), {"state": "canceled"}, content_type="application/json")
    assert resp.status_code == 200
    assert resp.json()["state"] == "canceling"


def test_cancel_rejects_other_states(client, tasks):
    resp = client.patch(href(tasks["a"]), {"state": "completed"}, content_type="application/json")
    assert resp.status_code == 400
    assert "canceled" in resp.json()["state"][0]
    assert Task.objects.get(pk=tasks["a"].pk).state == "waiting"


def test_delete_only_finished_tasks(client, tasks):
    resp = client.delete(href(tasks["a"]))
    assert resp.status_code == 409
    assert "waiting" in resp.json()["detail"]
    assert client.delete(href(tasks["c"])).status_code == 204
    assert not Task.objects.filter(pk=tasks["c"].pk).exists()
    assert client.get(href(tasks["c"])).status_code == 404


def test_purge_dispatches_and_validates(client, tasks):
    resp = client.post(
        f"{API}tasks/purge/", {"states": ["running"]}, content_type="application/json"
    )
    assert resp.status_code == 400 and "states" in resp.json()
    resp = client.post(
        f"{API}tasks/purge/",
        {"finished_before": "2100-01-01T00:00:00Z", "states": ["completed", "failed"]},
        content_type="application/json",
    )
    assert resp.status_code == 202
    task = Task.objects.get(pk=resp.json()["task"].rstrip("/").split("/")[-1])
    assert task.name == "pulpcore.app.tasks.purge.purge"
    from pulpcore.app.tasks.purge import purge

    purge(**task.kwargs)
    assert not Task.objects.filter(pk=tasks["c"].pk).exists()
    assert Task.objects.filter(pk=tasks["a"].pk).exists()


def test_task_groups(client, tasks):
    body = client.get(href(tasks["group"])).json()
    assert body["description"] == "grp" and body["waiting"] == 1 and body["completed"] == 0
    assert [t["name"] for t in body["tasks"]] == ["mod.a"]
    assert client.get(f"{API}task-groups/").json()["count"] == 1


def test_workers_online_missing(client, tasks):
    old = Worker.objects.create(name="2@host")
    Worker.objects.filter(pk=old.pk).update(last_heartbeat=timezone.now() - timedelta(hours=1))
    Worker.objects.create(name="resource-manager@x", resource_manager=True)
    scheduler.claim(tasks["b"].pk, tasks["worker"])

    def wnames(q):
        r = client.get(f"{API}workers/?{q}")
        assert r.status_code == 200, r.content
        return sorted(w["name"] for w in r.json()["results"])

    assert wnames("") == ["1@host", "2@host"]
    assert wnames("online=true") == ["1@host"]
    assert wnames("missing=true") == ["2@host"]
    assert wnames("name__startswith=2") == ["2@host"]
    body = client.get(href(tasks["worker"])).json()
    assert body["current_task"] == href(tasks["b"])
    assert client.get(f"{API}workers/?online=maybe").status_code == 400


def test_list_href_is_not_an_object_href(client, tasks):
    resp = client.get(f"{API}tasks/?worker={API}tasks/")
    assert resp.status_code == 400
    assert "worker" in resp.json()


@pytest.mark.parametrize("endpoint", ["tasks/", "workers/", "task-groups/"])
def test_list_queries_do_not_grow_with_rows(client, endpoint):
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    def make(n):
        for _ in range(n):
            w = Worker.objects.create(name=f"{uuid.uuid4()}@h")
            g = TaskGroup.objects.create(description="g")
            t = dispatch("mod.x", exclusive_resources=["/r/"], task_group=g)
            scheduler.claim(t.pk, w)
            ProgressReport.objects.create(task=t, message="m", code="c")
            dispatch("mod.child", task_group=g)

    def count():
        with CaptureQueriesContext(connection) as ctx:
            assert client.get(f"{API}{endpoint}").status_code == 200
        return len(ctx.captured_queries)

    make(2)
    few = count()
    make(10)
    assert count() == few


def test_worker_name_filters_share_the_common_lookups(client):
    Worker.objects.create(name="11@alpha")
    Worker.objects.create(name="12@beta")
    resp = client.get(f"{API}workers/?name__regex=@al")
    assert [w["name"] for w in resp.json()["results"]] == ["11@alpha"]
    bad = client.get(f"{API}workers/?name__iregex=[unclosed")
    assert bad.status_code == 400 and "name__iregex" in bad.json()
    window = client.get(
        f"{API}workers/?last_heartbeat__range=2000-01-01T00:00:00Z,2999-01-01T00:00:00Z"
    )
    assert window.json()["count"] == 2
