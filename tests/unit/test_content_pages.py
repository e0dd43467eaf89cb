"""Deep pages of content lists: the right rows in the right order at every offset.

``queries.pages`` reads a page of keys from ``core_content`` (by index) and then the rows; these
tests walk every page of a list through the API and compare the concatenation with the full list
in one page and with the order computed here, with and without filters, with units that share
``pulp_created`` (the pk tie-break must keep them on exactly one page).
"""

from __future__ import annotations

import hashlib
import uuid
from datetime import timedelta

import pytest
from django.db import connection
from django.test import Client
from django.utils import timezone

from pulp_file.app.models import FileContent, FileRepository
from pulpcore.app.models import Content, RepositoryVersion
from pulpcore.app.queries.pages import page_queryset
from pulpcore.app.queries.versions import unit_ids

pytestmark = pytest.mark.django_db
API = "/pulp/api/v3/"
FILES = f"{API}content/file/files/"
UNITS = 60


@pytest.fixture
def client(admin_client):
    """Pages are read as pytest-django's logged-in superuser (RBAC scoping is tested elsewhere)."""
    return admin_client


@pytest.fixture
def units() -> list[FileContent]:
    """UNITS files; groups of five share one ``pulp_created`` (as one bulk insert can)."""
    made = [
        FileContent.objects.create(
            relative_path=f"p/{i:03}-{uuid.uuid4().hex[:6]}", digest=_digest(i)
        )
        for i in range(UNITS)
    ]
    start = timezone.now() - timedelta(hours=1)
    for i in range(0, UNITS, 5):
        group = [u.pk for u in made[i : i + 5]]
        Content.objects.filter(pk__in=group).update(pulp_created=start + timedelta(seconds=i))
    return made


def _digest(i: int) -> str:
    return hashlib.sha256(f"{i}-{uuid.uuid4()}".encode()).hexdigest()


@pytest.fixture
def version(units) -> RepositoryVersion:
    """Version 2 of a repository: version 1 took two thirds of the units, version 2 removed a
    tenth of those, so ranges of both kinds are in play."""
    repo = FileRepository.objects.create(name=f"repo-{uuid.uuid4().hex}", next_version=3)
    RepositoryVersion.objects.create(repository=repo, number=0, complete=True)
    v1 = RepositoryVersion.objects.create(repository=repo, number=1)
    v1.add_content(FileContent.objects.filter(pk__in=[u.pk for i, u in enumerate(units) if i % 3]))
    v1.complete = True
    v1.save()
    v2 = RepositoryVersion.objects.create(repository=repo, number=2, base_version=v1)
    v2.copy_content_from(v1)
    v2.remove_content(FileContent.objects.filter(pk__in=[u.pk for u in units[1::10]]))
    v2.complete = True
    v2.save()
    return v2


def expected_order(qs) -> list[str]:
    """Pulp's documented order, newest first, with the pk breaking ties the same way."""
    rows = list(qs.values_list("pk", "pulp_created"))
    rows.sort(key=lambda r: (r[1], r[0]), reverse=True)
    return [str(pk) for pk, _ in rows]


def walk(client: Client, params: dict, limit: int) -> tuple[list[str], int]:
    """Every page of a list at ``limit``, concatenated; and the count the pages reported."""
    seen, offset, counts = [], 0, set()
    while True:
        resp = client.get(FILES, {**params, "limit": limit, "offset": offset})
        assert resp.status_code == 200, resp.content
        body = resp.json()
        counts.add(body["count"])
        seen += [r["pulp_href"].rstrip("/").rsplit("/", 1)[1] for r in body["results"]]
        if not body["next"]:
            break
        offset += limit
    assert len(counts) == 1, counts
    return seen, counts.pop()


def href(version: RepositoryVersion) -> str:
    return f"{API}repositories/file/file/{version.repository_id}/versions/{version.number}/"


@pytest.mark.parametrize("limit", [1, 7, 25])
def test_pages_of_every_file_concatenate_to_the_documented_order(client, units, limit):
    seen, count = walk(client, {}, limit)
    assert seen == expected_order(FileContent.objects.all())
    assert count == UNITS


@pytest.mark.parametrize("relation", ["repository_version", "repository_version_removed"])
def test_pages_of_a_version_match_its_full_list(client, version, relation):
    value = href(version)
    full = client.get(FILES, {relation: value, "limit": 1000}).json()
    kind = relation.removeprefix("repository_version").lstrip("_") or "content"
    wanted = expected_order(FileContent.objects.filter(pk__in=unit_ids(version, kind)))
    assert [r["pulp_href"].rstrip("/").rsplit("/", 1)[1] for r in full["results"]] == wanted
    assert wanted  # the filter keeps some units and drops others
    assert len(wanted) < UNITS
    seen, count = walk(client, {relation: value}, 6)
    assert seen == wanted
    assert count == len(wanted)


def test_pages_with_a_detail_filter_and_a_version(client, units, version):
    """A filter on the detail table (relative_path) with one on the pk (the version)."""
    pick = units[2]  # in version 1 and 2 (index 2: 2 % 3 and not in 1::10)
    params = {"repository_version": href(version), "relative_path": pick.relative_path}
    seen, count = walk(client, params, 1)
    assert seen == [str(pick.pk)]
    assert count == 1
    gone = units[3]  # never in the repository (3 % 3 == 0)
    params["relative_path"] = gone.relative_path
    assert walk(client, params, 1) == ([], 0)


@pytest.mark.parametrize("ordering", ["pulp_created", "-pulp_created", "relative_path", "-pk"])
def test_pages_keep_the_ordering_parameter(client, units, ordering):
    full = client.get(FILES, {"ordering": ordering, "limit": 1000}).json()["results"]
    want = [r["pulp_href"].rstrip("/").rsplit("/", 1)[1] for r in full]
    seen, _ = walk(client, {"ordering": ordering}, 4)
    assert seen == want
    if ordering == "relative_path":
        assert want == [str(u.pk) for u in sorted(units, key=lambda u: u.relative_path)]
    if ordering == "pulp_created":
        assert want == expected_order(FileContent.objects.all())[::-1]


def test_key_page_reads_core_content_alone_for_a_version(version):
    """The page of keys never joins the detail table: that join is what cost a deep page."""
    qs = FileContent.objects.order_by("-pulp_created").filter(pk__in=unit_ids(version))
    sql = str(page_queryset(qs, 10, 5).query)
    keys = sql[sql.index("IN (SELECT") : sql.rindex(") ORDER BY")]  # the key subquery
    assert '"file_filecontent"' not in keys
    assert "pulp_type" in keys and "LIMIT 5 OFFSET 10" in keys
    # The version's membership is evaluated once, for the keys, not again for the rows.
    assert sql.count('"core_repositorycontent"') == 1
    rows = list(page_queryset(qs, 10, 5))
    assert [str(r.pk) for r in rows] == expected_order(qs)[10:15]


def test_plain_models_keep_plain_slices(units):
    """A master queryset (``content/``) and an unordered one are sliced as before."""
    qs = Content.objects.order_by("-pulp_created")
    assert [str(c.pk) for c in page_queryset(qs, 3, 4)] == expected_order(qs)[3:7]
    assert "IN (SELECT" not in str(page_queryset(qs, 3, 4).query)


def test_migration_made_the_ordering_index():
    with connection.cursor() as cur:
        cur.execute(
            "SELECT indexdef FROM pg_indexes WHERE tablename = 'core_content'"
            " AND indexname = 'core_content_type_created'"
        )
        (definition,) = cur.fetchone()
    assert "(pulp_type, pulp_created, pulp_id)" in definition
