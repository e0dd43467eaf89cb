"""SQL queries per list request must not grow with the number of objects listed.

A table pins, per endpoint, the most queries a request may make; each endpoint is measured with
few and with many objects and both counts must be equal and within the pin. An N+1 regression
(a query per row) fails here long before it shows up as a slow page.
"""

import hashlib
import uuid
from collections.abc import Callable
from datetime import timedelta

import pytest
from django.contrib.auth import get_user_model
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from pulpcore.app.models import (
    AppStatus,
    Artifact,
    CreatedResource,
    GroupProgressReport,
    ProgressReport,
    Task,
    TaskGroup,
    Worker,
)

pytestmark = pytest.mark.django_db

API = "/pulp/api/v3/"


def make_artifacts(n: int) -> None:
    for _ in range(n):
        sha = hashlib.sha256(uuid.uuid4().bytes).hexdigest()
        Artifact.objects.create(file=f"artifact/{sha[:2]}/{sha[2:]}", size=1, sha256=sha)


def make_online_processes(n: int) -> None:
    """``n`` workers (each with a running task) and ``n`` API and content apps, all online."""
    for _ in range(n):
        worker = Worker.objects.create(name=f"worker-{uuid.uuid4()}")
        Task.objects.create(name="busy", state="running", worker=worker)
        AppStatus.objects.create(app_type="api", name=f"api-{uuid.uuid4()}")
        AppStatus.objects.create(app_type="content", name=f"content-{uuid.uuid4()}")


def make_tasks(n: int) -> None:
    """``n`` finished tasks, each in a group, run by a worker, with progress and an artifact."""
    from django.contrib.contenttypes.models import ContentType

    make_artifacts(n)
    artifacts = list(Artifact.objects.order_by("-pulp_created")[:n])
    artifact_type = ContentType.objects.get_for_model(Artifact)
    for artifact in artifacts:
        group = TaskGroup.objects.create(description="g", all_tasks_dispatched=True)
        GroupProgressReport.objects.create(task_group=group, message="m", code="c", total=1)
        worker = Worker.objects.create(name=f"worker-{uuid.uuid4()}")
        parent = Task.objects.create(name="parent", state="completed", worker=worker)
        task = Task.objects.create(
            name="t", state="completed", worker=worker, task_group=group, parent_task=parent
        )
        ProgressReport.objects.create(task=task, message="m", code="c", total=3, done=3)
        CreatedResource.objects.create(task=task, content_type=artifact_type, object_id=artifact.pk)


def make_file_objects(n: int) -> None:
    """``n`` of each plugin object: repository (2 versions), content with artifact, remote,
    publication and a distribution serving it."""
    from pulp_file.app.models import (
        FileContent,
        FileDistribution,
        FilePublication,
        FileRemote,
        FileRepository,
    )
    from pulpcore.app.models import ContentArtifact, RepositoryVersion

    make_artifacts(n)
    for artifact in Artifact.objects.order_by("-pulp_created")[:n]:
        tag = uuid.uuid4().hex
        remote = FileRemote.objects.create(name=f"remote-{tag}", url="http://example.invalid/")
        repo = FileRepository.objects.create(name=f"repo-{tag}", next_version=2, remote=remote)
        RepositoryVersion.objects.create(repository=repo, number=0, complete=True)
        version = RepositoryVersion.objects.create(repository=repo, number=1)
        content = FileContent.objects.create(relative_path=tag, digest=artifact.sha256)
        ContentArtifact.objects.create(content=content, artifact=artifact, relative_path=tag)
        version.add_content(FileContent.objects.filter(pk=content.pk))
        version.complete = True
        version.save()
        publication = FilePublication.objects.create(repository_version=version, complete=True)
        FileDistribution.objects.create(
            name=f"dist-{tag}", base_path=f"path/{tag}", publication=publication
        )


def make_upstream_pulps(n: int) -> None:
    from pulpcore.app.models import UpstreamPulp

    for _ in range(n):
        UpstreamPulp.objects.create(
            name=f"up-{uuid.uuid4()}", base_url="https://up.invalid", password="p", client_key="k"
        )


# endpoint, factory making N objects it lists, most queries allowed for one request
# (session auth: 2 queries for session + user; then count + page, or the status queries).
PINS: list[tuple[str, Callable[[int], None], int]] = [
    ("artifacts/", make_artifacts, 4),
    ("artifacts/?ordering=-size&fields=pulp_href,size", make_artifacts, 4),
    ("status/", make_online_processes, 2),
    ("tasks/", make_tasks, 8),
    ("remotes/file/file/", make_file_objects, 4),
    ("upstream-pulps/", make_upstream_pulps, 4),
    # Not pinned yet: these lists still make queries per row (measured 2 → 27 objects, session
    # auth): content/ and content/file/files/ 8 → 58, repositories/ 16 → 166,
    # repositories/file/file/ 10 → 85, repository_versions/ 32 → 382, remotes/ 6 → 31,
    # publications/ 14 → 139, publications/file/file/ 16 → 166, distributions/ 6 → 31,
    # distributions/file/file/ 8 → 58; task-groups/ 10 → 60 and workers/ 6 → 31.
    # Add each row here once its list is fixed.
]


def test_href_filter_does_not_query_per_href():
    admin = get_user_model().objects.create(username="admin", is_superuser=True)
    client = Client()
    client.force_login(admin)
    make_artifacts(30)
    hrefs = [f"{API}artifacts/{pk}/" for pk in Artifact.objects.values_list("pk", flat=True)]
    few = count_queries(client, f"{API}artifacts/?pulp_href__in={','.join(hrefs[:2])}")
    many = count_queries(client, f"{API}artifacts/?pulp_href__in={','.join(hrefs)}")
    assert few == many <= 4


def count_queries(client: Client, url: str) -> int:
    with CaptureQueriesContext(connection) as ctx:
        r = client.get(url)
    assert r.status_code == 200, (url, r.content[:300])
    return len(ctx.captured_queries)


@pytest.mark.parametrize("endpoint,factory,pin", PINS, ids=[p[0] for p in PINS])
def test_queries_do_not_grow_with_rows(endpoint, factory, pin):
    admin = get_user_model().objects.create(username="admin", is_superuser=True)
    client = Client()
    client.force_login(admin)
    url = f"{API}{endpoint}"
    factory(2)
    few = count_queries(client, url)
    factory(25)
    many = count_queries(client, url)
    assert many == few, f"{endpoint}: {few} queries for 2 objects, {many} for 27"
    assert many <= pin, f"{endpoint}: {many} queries, pinned at {pin}"


def test_status_lists_the_online_workers_it_counts():
    """The status pin is only meaningful if the workers really are listed."""
    make_online_processes(3)
    Worker.objects.create(name="stale").__class__.objects.filter(name="stale").update(
        last_heartbeat=timezone.now() - timedelta(hours=1)
    )
    body = Client().get(f"{API}status/").json()
    assert len(body["online_workers"]) == 3
    assert all(w["current_task"] for w in body["online_workers"])
    assert len(body["online_content_apps"]) == 3


# --- non-admin users: RBAC checks and queryset scoping ------------------------------------------
def grant_object_roles(user) -> None:
    """Object-level roles for ``user`` on every repository, remote and task (bulk, no API)."""
    from django.contrib.contenttypes.models import ContentType

    from pulp_file.app.models import FileRemote, FileRepository
    from pulpcore.app.models import Role, UserRole

    rows = []
    for model, role in (
        (FileRepository, "file.filerepository_viewer"),
        (FileRemote, "file.fileremote_viewer"),
        (Task, "core.task_viewer"),
    ):
        ct = ContentType.objects.get_for_model(model)
        role_obj = Role.objects.get(name=role)
        have = set(
            UserRole.objects.filter(user=user, content_type=ct).values_list("object_id", flat=True)
        )
        rows += [
            UserRole(user=user, role=role_obj, content_type=ct, object_id=str(pk))
            for pk in model.objects.values_list("pk", flat=True)
            if str(pk) not in have
        ]
    UserRole.objects.bulk_create(rows)


# endpoint, factory, pin, model whose rows the scoped user must see all of. The admin pins above
# plus the access policy, the user's effective permissions (one UNION query over user and group
# roles) and, for artifacts, the content-type lookup of the scoping subquery.
SCOPED_PINS = [
    ("artifacts/", make_file_objects, 7, Artifact),
    ("tasks/", make_tasks, 11, Task),
    ("remotes/file/file/", make_file_objects, 6, None),
]


@pytest.mark.parametrize("endpoint,factory,pin,model", SCOPED_PINS, ids=[p[0] for p in SCOPED_PINS])
def test_scoped_lists_do_not_grow_with_rows_or_roles(endpoint, factory, pin, model):
    """A non-admin with object roles on many objects: permission checks and scoping cost a fixed
    number of queries (policy, effective permissions, groups), never one per row or per role."""
    user = get_user_model().objects.create_user("scoped", password="Scoped-Pass-123")
    client = Client()
    client.force_login(user)
    url = f"{API}{endpoint}"
    factory(2)
    grant_object_roles(user)
    few = count_queries(client, url)
    factory(25)
    grant_object_roles(user)
    many = count_queries(client, url)
    body = client.get(url).json()
    from pulp_file.app.models import FileRemote

    expected = (model or FileRemote).objects.count()
    assert body["count"] == expected > 25, "the scoped user must see every object granted"
    assert many == few, f"{endpoint}: {few} queries for 2 objects, {many} for 27"
    assert many <= pin, f"{endpoint}: {many} queries, pinned at {pin}"


def test_pagination_counts_only_when_the_page_cannot_tell():
    """A short (last) page gives the count itself; a full page or an offset past the end asks
    PostgreSQL. The counts reported are the same either way."""
    admin = get_user_model().objects.create(username="admin", is_superuser=True)
    client = Client()
    client.force_login(admin)
    make_artifacts(3)

    def page(query: str) -> tuple[int, int, bool]:
        with CaptureQueriesContext(connection) as ctx:
            body = client.get(f"{API}artifacts/?{query}").json()
        counted = any("COUNT(" in q["sql"].upper() for q in ctx.captured_queries)
        return body["count"], len(body["results"]), counted

    assert page("limit=100") == (3, 3, False)
    assert page("limit=2") == (3, 2, True)
    assert page("limit=2&offset=2") == (3, 1, False)
    assert page("limit=3") == (3, 3, True)
    assert page("limit=2&offset=5") == (3, 0, True)
    Artifact.objects.all().delete()
    assert page("limit=10") == (0, 0, False)
