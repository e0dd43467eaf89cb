"""The life of a repository version, owned by the model, against real PostgreSQL.

``with repository.new_version() as version:`` completes the version, deletes it when it changed
nothing, discards it when the block raised, and records a kept version in the running task's
``created_resources``. The membership rule has one home (``pulpcore.app.queries.versions``);
its ORM and SQL forms must agree. Raw SQL built from lists never meets an empty ``IN ()``.
"""

import importlib
import time
import uuid

import pytest
from django.db import connection, transaction

from pulp_file.app.models import FileContent, FilePublication, FileRepository
from pulpcore.app.models import RepositoryContent, RepositoryVersion, Task
from pulpcore.app.queries import versions as version_queries
from pulpcore.app.queries.sql import pk_subquery, streamed_rows
from pulpcore.app.tasks.publication import publish_content_artifacts
from pulpcore.app.tasks.repository import add_and_remove
from pulpcore.content.resolve import (
    LISTING_SQL,
    RESOLVE_SQL,
    WATCHED_TABLES,
    triggers_present,
)
from pulpcore.content.resolve import cache as resolve_cache
from pulpcore.plugin.migrations import notify_content_app
from pulpcore.tasking.context import reset_current_task, set_current_task

pytestmark = pytest.mark.django_db


class Boom(Exception):
    pass


def make_repo(**fields) -> FileRepository:
    repo = FileRepository.objects.create(name=f"repo-{uuid.uuid4().hex[:8]}", **fields)
    repo.new_version().complete_version()  # version 0, as the REST layer creates it
    return repo


def unit(path: str | None = None) -> FileContent:
    return FileContent.objects.create(
        relative_path=path or uuid.uuid4().hex, digest=uuid.uuid4().hex * 2
    )


def qs(*units):
    return FileContent.objects.filter(pk__in=[u.pk for u in units])


def paths(version: RepositoryVersion) -> set[str]:
    return set(
        FileContent.objects.filter(pk__in=version.content.values("pk")).values_list(
            "relative_path", flat=True
        )
    )


@pytest.fixture
def task():
    task = Task.objects.create(name="tests.version_lifecycle", state="running")
    token = set_current_task(task)
    yield task
    reset_current_task(token)


# --- life cycle ----------------------------------------------------------------------------------
def test_block_completes_the_version_and_records_it_for_the_task(task):
    repo = make_repo()
    a = unit("a")
    with repo.new_version() as version:
        assert not version.complete
        version.add_content(qs(a))
    assert version.complete
    assert repo.latest_version() == version and version.number == 1
    assert paths(version) == {"a"}
    recorded = [r.content_object for r in task.created_resources.all()]
    assert recorded == [version]


def test_block_that_raises_discards_the_version_and_its_rows(task):
    repo = make_repo()
    keep, ghost = unit("keep"), unit("ghost")
    with repo.new_version() as v1:
        v1.add_content(qs(keep))
    with pytest.raises(Boom):
        with repo.new_version() as failed:
            failed.add_content(qs(ghost))
            failed.remove_content(qs(keep))
            raise Boom("the body failed")
    assert not RepositoryVersion.objects.filter(pk=failed.pk).exists()
    assert not RepositoryContent.objects.filter(content=ghost).exists()
    assert RepositoryContent.objects.get(content=keep).version_removed is None
    repo.refresh_from_db()
    assert repo.next_version == 2  # the number is given back
    assert repo.latest_version() == v1 and paths(v1) == {"keep"}
    assert [r.content_object for r in task.created_resources.all()] == [v1]


def test_version_that_changes_nothing_is_deleted(task):
    repo = make_repo()
    a = unit("a")
    with repo.new_version() as v1:
        v1.add_content(qs(a))
    with repo.new_version() as noop:
        assert noop.add_content(qs(a)) == 0  # already present
    assert not noop.complete
    assert not RepositoryVersion.objects.filter(pk=noop.pk).exists()
    repo.refresh_from_db()
    assert repo.next_version == 2 and repo.latest_version() == v1
    assert [r.content_object for r in task.created_resources.all()] == [v1]


def test_failing_completion_hook_discards_and_propagates(task):
    repo = make_repo()
    a, also_a = unit("a"), unit("a")  # pulp_file refuses two files at one path
    with pytest.raises(ValueError, match="same relative path: a"):
        with repo.new_version() as version:
            version.add_content(qs(a, also_a))
    assert not RepositoryVersion.objects.filter(pk=version.pk).exists()
    assert not RepositoryContent.objects.filter(content__in=[a, also_a]).exists()
    assert repo.latest_version().number == 0
    assert not task.created_resources.exists()


def test_completion_applies_retention():
    repo = make_repo(retain_repo_versions=2)
    for name in ("a", "b", "c"):
        with repo.new_version() as version:
            version.add_content(qs(unit(name)))
    numbers = list(repo.versions.values_list("number", flat=True))
    assert numbers == [2, 3]
    assert paths(repo.latest_version()) == {"a", "b", "c"}


def test_version_info_is_saved_with_completion():
    repo = make_repo()
    with repo.new_version() as version:
        version.add_content(qs(unit()))
        version.info = {"sync": "x"}
    assert RepositoryVersion.objects.get(pk=version.pk).info == {"sync": "x"}


def test_models_do_not_import_task_modules():
    import ast
    from pathlib import Path

    import pulpcore.app.models as models_pkg

    for path in Path(models_pkg.__file__).parent.glob("*.py"):
        for node in ast.walk(ast.parse(path.read_text())):
            if isinstance(node, ast.ImportFrom) and node.module:
                assert not node.module.startswith("pulpcore.app.tasks"), path


# --- base versions and the empty IN () -----------------------------------------------------------
def test_modify_from_an_older_base_with_a_unit_already_in_latest(task):
    """``pulp file repository content add --base-version 0`` of a unit the latest holds: the new
    version equals the latest, so nothing is created (this raised EmptyResultSet before)."""
    repo = make_repo()
    a, b = unit("a"), unit("b")
    with repo.new_version() as v1:
        v1.add_content(qs(a))
    v0 = repo.versions.get(number=0)
    add_and_remove(str(repo.pk), [str(a.pk)], [], base_version_pk=str(v0.pk))
    assert repo.latest_version() == v1
    assert list(repo.versions.values_list("number", flat=True)) == [0, 1]

    add_and_remove(str(repo.pk), [str(b.pk)], [], base_version_pk=str(v0.pk))
    v2 = repo.latest_version()
    assert v2.number == 2 and v2.base_version == v0
    assert paths(v2) == {"b"}
    summary = version_queries.content_counts([v2.pk])[v2.pk]
    assert summary == {
        "added": {"file.file": 1},
        "removed": {"file.file": 1},
        "present": {"file.file": 1},
    }


def test_removing_and_adding_the_same_unit_is_no_change():
    repo = make_repo()
    a = unit("a")
    with repo.new_version() as v1:
        v1.add_content(qs(a))
    with repo.new_version() as same:
        same.remove_content(qs(a))
        assert same.add_content(qs(a)) == 1
    assert not RepositoryVersion.objects.filter(pk=same.pk).exists()
    assert RepositoryContent.objects.filter(content=a).count() == 1


def test_empty_lists_build_no_sql():
    repo = make_repo()
    assert pk_subquery(FileContent.objects.filter(pk__in=[])) is None
    assert pk_subquery(FileContent.objects.all()) is not None
    with repo.new_version() as version:
        assert version.add_content(FileContent.objects.filter(pk__in=[])) == 0
        version.remove_content(FileContent.objects.filter(pk__in=[]))
    assert not version.complete
    publication = FilePublication.objects.create(repository_version=repo.latest_version())
    assert publish_content_artifacts(publication, FileContent.objects.filter(pk__in=[])) == 0


def _cursor_tuple_fraction() -> str:
    with connection.cursor() as cursor:
        cursor.execute("SHOW cursor_tuple_fraction")
        return cursor.fetchone()[0]


def test_streamed_rows_reads_every_row_with_a_plan_for_all_of_them():
    units = [unit(f"streamed/{i}") for i in range(5)]
    query = qs(*units).order_by("relative_path").values_list("relative_path", "digest")
    with transaction.atomic():
        with connection.cursor() as cursor:
            cursor.execute("SET LOCAL cursor_tuple_fraction = 0.3")
        with streamed_rows(query, chunk_size=2) as rows:
            assert _cursor_tuple_fraction() == "1"  # planned for reading every row
            assert list(rows) == [(u.relative_path, u.digest) for u in units]
        assert _cursor_tuple_fraction() == "0.3"  # the caller's transaction plans as before
    with streamed_rows(FileContent.objects.filter(pk__in=[]).values_list("pk")) as rows:
        assert list(rows) == []
    default = _cursor_tuple_fraction()
    with pytest.raises(Boom), streamed_rows(query) as rows:
        next(rows)
        raise Boom
    assert _cursor_tuple_fraction() == default


# --- one membership rule -------------------------------------------------------------------------
def test_orm_and_sql_forms_of_the_membership_rule_agree():
    repo = make_repo()
    a, b, c = unit("a"), unit("b"), unit("c")
    steps = [((a, b), ()), ((c,), (a,)), ((a,), (b,)), ((), (c,))]
    for add, remove in steps:
        with repo.new_version() as version:
            if remove:
                version.remove_content(qs(*remove))
            if add:
                version.add_content(qs(*add))
    m = version_queries.membership_sql("%(repo)s", "%(num)s")
    sql = f"SELECT rc.content_id FROM {m.joins} WHERE {m.condition}"
    counts = version_queries.content_counts(repo.versions.values_list("pk", flat=True))
    for version in repo.versions.all():
        orm = set(version.content.values_list("pk", flat=True))
        with connection.cursor() as cur:
            cur.execute(sql, {"repo": repo.pk, "num": version.number})
            raw = {row[0] for row in cur.fetchall()}
        assert orm == raw, version.number
        assert counts[version.pk]["present"].get("file.file", 0) == len(orm)
    assert paths(repo.latest_version()) == {"a"}
    for u in (a, b, c):
        holding = set(version_queries.versions_containing([u.pk]).values_list("pk", flat=True))
        expected = {v.pk for v in repo.versions.all() if v.content.filter(pk=u.pk).exists()}
        assert holding == expected and holding, u.relative_path
    # The content app's statements embed this very rule.
    assert m.condition in LISTING_SQL
    served = version_queries.membership_sql("src.repository_id", "src.version_number")
    assert served.condition in RESOLVE_SQL


# --- schema changes only in migrations -----------------------------------------------------------
def test_cache_triggers_come_from_the_migration():
    migration = importlib.import_module("pulpcore.app.migrations.0003_content_resolve_triggers")
    assert tuple(migration.TABLES) == tuple(WATCHED_TABLES)
    assert triggers_present()
    with connection.cursor() as cur:
        cur.execute(
            "SELECT count(*) FROM pg_trigger WHERE tgname = %s", [resolve_cache.TRIGGER_FUNCTION]
        )
        assert cur.fetchone()[0] >= len(WATCHED_TABLES)  # guard types add their own tables


@pytest.mark.django_db(transaction=True)
def test_content_app_changes_no_schema_and_serves_uncached_without_its_triggers():
    """The content app only checks for the triggers; with one missing it serves correctly with
    the cache off and leaves the schema alone (it used to CREATE TRIGGER at start)."""
    import requests

    from tests.unit.content_support import AppThread, add_files, distribute, make_repository

    with connection.cursor() as cur:
        cur.execute(f"DROP TRIGGER {resolve_cache.TRIGGER_FUNCTION} ON core_distribution")
    try:
        repo = make_repository()
        add_files(repo, {"f.txt": b"one"})
        distribute("noddl", repository=repo)
        app = AppThread().start()
        try:
            assert requests.get(app.url("/pulp/content/noddl/f.txt")).content == b"one"
            time.sleep(1.5)  # past the app's first retry of its cache connection
            assert not app.state.cache.enabled
            assert not triggers_present()
            add_files(repo, {"g.txt": b"two"})
            assert requests.get(app.url("/pulp/content/noddl/g.txt")).content == b"two"
        finally:
            app.stop()
    finally:
        with connection.cursor() as cur:
            for statement in notify_content_app("core_distribution").sql:
                cur.execute(statement)
    assert triggers_present()


def test_modify_whose_base_version_vanished_fails_with_a_sentence():
    repo = make_repo()
    a = unit("a")
    with repo.new_version() as v1:
        v1.add_content(qs(a))
    gone = str(uuid.uuid4())
    with pytest.raises(ValueError, match=r"^The base version was deleted before"):
        add_and_remove(str(repo.pk), [str(a.pk)], [], base_version_pk=gone)
    with pytest.raises(ValueError, match=r"^The repository was deleted before"):
        add_and_remove(gone, [str(a.pk)], [])
    assert repo.latest_version() == v1


def test_removing_then_adding_a_unit_in_one_version_changes_nothing():
    repo = make_repo()
    a, b = unit("a"), unit("b")
    with repo.new_version() as first:
        first.add_content(qs(a, b))
    with repo.new_version() as second:
        second.remove_content(qs(a))
        assert paths(second) == {"b"}
        assert second.add_content(qs(a)) == 1  # the removal is undone, not a second row
        assert paths(second) == {"a", "b"}
    assert RepositoryContent.objects.filter(repository=repo, content=a).count() == 1
    assert repo.latest_version() == first  # a version that changed nothing is not kept
