"""The plugin lists (generic and file) make the same number of queries for 2 rows as for 27."""

import pytest
from django.contrib.auth import get_user_model
from django.test import Client

from tests.unit.test_query_counts import API, count_queries, make_file_objects

pytestmark = pytest.mark.django_db

ENDPOINTS = [
    "content/",
    "content/file/files/",
    "repositories/",
    "repositories/file/file/",
    "repository_versions/",
    "remotes/",
    "remotes/file/file/",
    "publications/",
    "publications/file/file/",
    "distributions/",
    "distributions/file/file/",
]


@pytest.mark.parametrize("endpoint", ENDPOINTS)
def test_list_queries_do_not_grow_with_rows(endpoint):
    admin = get_user_model().objects.create(username="admin", is_superuser=True)
    client = Client()
    client.force_login(admin)
    make_file_objects(2)
    few = count_queries(client, f"{API}{endpoint}")
    make_file_objects(25)
    many = count_queries(client, f"{API}{endpoint}")
    assert many == few, f"{endpoint}: {few} queries for 2 objects, {many} for 27"
    assert many <= 8, f"{endpoint}: {many} queries"


def test_modify_validation_does_not_query_per_href():
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    from pulp_file.app.models import FileContent, FileRepository
    from pulpcore.app.util import get_url

    admin = get_user_model().objects.create(username="admin", is_superuser=True)
    client = Client()
    client.force_login(admin)
    make_file_objects(30)
    repo = FileRepository.objects.first()
    hrefs = [get_url(u) for u in FileContent.objects.all()]

    def queries(n: int) -> int:
        with CaptureQueriesContext(connection) as ctx:
            resp = client.post(
                f"{get_url(repo)}modify/",
                {"add_content_units": hrefs[:n]},
                content_type="application/json",
            )
        assert resp.status_code == 202, resp.content
        return len(ctx.captured_queries)

    assert queries(2) == queries(30)
