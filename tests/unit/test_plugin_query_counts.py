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
