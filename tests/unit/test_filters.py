"""List filters: multi-value semantics, secrets, bad input, installed types and query counts.

Every request goes through Django's full stack against the real database. Query-count pins
measure one request with few and with many matching rows; the counts (and, for filters that used
to OR one term per row, the SQL text) must not grow.
"""

from __future__ import annotations

import hashlib
import json
import uuid

import pytest
from django.contrib.auth import get_user_model
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext

from pulp_file.app.models import (
    FileContent,
    FileDistribution,
    FilePublication,
    FileRemote,
    FileRepository,
)
from pulpcore.app.models import (
    Content,
    ContentGuard,
    Distribution,
    Publication,
    Remote,
    Repository,
    RepositoryVersion,
    Task,
    Worker,
)
from pulpcore.app.util import get_url
from pulpcore.tasking.dispatch import dispatch

pytestmark = pytest.mark.django_db
API = "/pulp/api/v3/"


@pytest.fixture
def client():
    admin = get_user_model().objects.create(username="admin", is_superuser=True)
    c = Client()
    c.force_login(admin)
    return c


def ok(resp) -> dict:
    assert resp.status_code == 200, resp.content
    return resp.json()


def bad(resp, param: str) -> dict:
    """A 400 in Pulp's format: the offending parameter maps to a list of messages."""
    assert resp.status_code == 400, resp.content
    body = resp.json()
    assert param in body and isinstance(body[param], list) and body[param], body
    return body


def task_names(resp) -> list[str]:
    return sorted(t["name"] for t in ok(resp)["results"])


def unit(tag: str | None = None) -> FileContent:
    tag = tag or uuid.uuid4().hex
    return FileContent.objects.create(
        relative_path=tag, digest=hashlib.sha256(tag.encode()).hexdigest()
    )


def repo_holding(*units: FileContent, removed_later: bool = False) -> FileRepository:
    """A repository whose version 1 holds ``units`` (and, if asked, version 2 drops them)."""
    repo = FileRepository.objects.create(name=f"repo-{uuid.uuid4().hex}", next_version=2)
    RepositoryVersion.objects.create(repository=repo, number=0, complete=True)
    v1 = RepositoryVersion.objects.create(repository=repo, number=1)
    v1.add_content(FileContent.objects.filter(pk__in=[u.pk for u in units]))
    v1.complete = True
    v1.save()
    if removed_later:
        v2 = RepositoryVersion.objects.create(repository=repo, number=2, base_version=v1)
        v2.copy_content_from(v1)
        v2.remove_content(FileContent.objects.filter(pk__in=[u.pk for u in units]))
        v2.complete = True
        v2.save()
        repo.next_version = 3
        repo.save()
    return repo


# --- multi-value filters: __in is "any of", the resource filters are "all of" --------------------
@pytest.fixture
def reserving():
    """Tasks reserving /r/1/ (exclusive), /r/2/ (shared), both, and /r/3/ only."""
    return {
        "one": dispatch("t.one", exclusive_resources=["/r/1/"]),
        "two": dispatch("t.two", shared_resources=["/r/2/"]),
        "both": dispatch("t.both", exclusive_resources=["/r/1/"], shared_resources=["/r/2/"]),
        "three": dispatch("t.three", exclusive_resources=["/r/3/", "/r/1/"]),
    }


@pytest.mark.parametrize(
    "query,expected",
    [
        # every resource given must be reserved (exclusive or shared)
        ("reserved_resources__in=/r/1/,/r/2/", ["t.both"]),
        ("reserved_resources__in=/r/1/", ["t.both", "t.one", "t.three"]),
        ("reserved_resources__in=/r/2/,/r/3/", []),
        # every resource given must be reserved exclusively
        ("exclusive_resources__in=/r/1/,/r/3/", ["t.three"]),
        ("exclusive_resources__in=/r/1/,/r/2/", []),
        # every resource given must be reserved shared
        ("shared_resources__in=/r/2/", ["t.both", "t.two"]),
        ("shared_resources__in=/r/2/,/r/1/", []),
        # the record must contain every entry given (repeated parameter)
        ("reserved_resources_record=/r/1/&reserved_resources_record=shared:/r/2/", ["t.both"]),
        ("reserved_resources_record=/r/1/&reserved_resources_record=/r/3/", ["t.three"]),
    ],
)
def test_resource_filters_require_every_resource(client, reserving, query, expected):
    assert task_names(client.get(f"{API}tasks/?{query}")) == expected


def test_resource_filters_inside_q(client, reserving):
    q = 'reserved_resources_record="/r/1/" AND NOT shared_resources__in="/r/2/"'
    assert task_names(client.get(f"{API}tasks/", {"q": q})) == ["t.one", "t.three"]


def test_task_in_filters_match_any_value(client, reserving):
    w1, w2 = Worker.objects.create(name="w1@h"), Worker.objects.create(name="w2@h")
    Task.objects.filter(pk=reserving["one"].pk).update(worker=w1, state="running")
    Task.objects.filter(pk=reserving["two"].pk).update(worker=w2, state="completed")
    get = lambda q: task_names(client.get(f"{API}tasks/?{q}"))  # noqa: E731
    assert get("name__in=t.one,t.two") == ["t.one", "t.two"]
    assert get("state__in=running,completed") == ["t.one", "t.two"]
    assert get(f"worker__in={get_url(w1)},{w2.pk}") == ["t.one", "t.two"]
    one, three = reserving["one"], reserving["three"]
    assert get(f"pulp_id__in={one.pk},{three.pk}") == ["t.one", "t.three"]
    assert get(f"pulp_href__in={get_url(one)},{get_url(three)}") == ["t.one", "t.three"]


def test_object_in_filters_match_any_value(client):
    a, b, c = unit("a"), unit("b"), unit("c")
    ra, rb, rc = repo_holding(a), repo_holding(b), repo_holding(c)
    for repo in (ra, rb, rc):
        FileDistribution.objects.create(name=repo.name, base_path=repo.name, repository=repo)

    def names(url):
        return sorted(r["name"] for r in ok(client.get(url))["results"])

    assert names(f"{API}repositories/?name__in={ra.name},{rb.name}") == sorted([ra.name, rb.name])
    two = f"{get_url(ra)},{rb.pk}"
    assert names(f"{API}distributions/?repository__in={two}") == sorted([ra.name, rb.name])
    paths = f"{ra.name},{rc.name}"
    assert names(f"{API}distributions/?base_path__in={paths}") == sorted([ra.name, rc.name])
    assert ok(client.get(f"{API}content/?pulp_type__in=file.file"))["count"] == 3
    # content__in: versions / publications holding any of the units
    hrefs = f"{get_url(a)},{get_url(b)}"
    versions = ok(client.get(f"{API}repository_versions/?content__in={hrefs}"))["results"]
    assert sorted(v["pulp_href"] for v in versions) == sorted(
        [f"{get_url(ra)}versions/1/", f"{get_url(rb)}versions/1/"]
    )
    FilePublication.objects.create(repository_version=ra.versions.get(number=1), complete=True)
    FilePublication.objects.create(repository_version=rc.versions.get(number=1), complete=True)
    assert ok(client.get(f"{API}publications/?content__in={hrefs}"))["count"] == 1


# --- set-based content filters, pinned by query counts ------------------------------------------
def measure(client: Client, url: str) -> tuple[int, int]:
    """(queries, characters of SQL) for one request."""
    with CaptureQueriesContext(connection) as ctx:
        resp = client.get(url)
    assert resp.status_code == 200, (url, resp.content[:300])
    return len(ctx.captured_queries), sum(len(q["sql"]) for q in ctx.captured_queries)


def serve_everywhere(shared: FileContent, n: int) -> None:
    """``n`` repositories holding ``shared``, each published and distributed twice (through the
    publication and through the repository's latest version)."""
    for _ in range(n):
        repo = repo_holding(shared, unit())
        version = repo.versions.get(number=1)
        pub = FilePublication.objects.create(repository_version=version, complete=True)
        FileDistribution.objects.create(
            name=f"p-{repo.name}", base_path=f"p/{repo.name}", publication=pub
        )
        FileDistribution.objects.create(
            name=f"r-{repo.name}", base_path=f"r/{repo.name}", repository=repo
        )
    # plus repositories that held it once but dropped it in their latest version
    for _ in range(n):
        repo_holding(shared, removed_later=True)


CONTENT_FILTERS = [
    ("repositories/?with_content={href}", 5),
    ("repositories/?latest_with_content={href}", 5),
    ("repository_versions/?content={href}", 8),
    ("repository_versions/?content__in={href},{other}", 8),
    ("publications/?content={href}", 5),
    ("publications/?content__in={href},{other}", 5),
    ("distributions/?with_content={href}", 5),
]


@pytest.mark.parametrize("template,pin", CONTENT_FILTERS, ids=[t for t, _ in CONTENT_FILTERS])
def test_content_filters_are_one_set_query(client, template, pin):
    shared, other = unit(), unit()
    url = API + template.format(href=get_url(shared), other=get_url(other)) + "&limit=1"
    serve_everywhere(shared, 2)
    few = measure(client, url)
    serve_everywhere(shared, 25)
    many = measure(client, url)
    assert many == few, f"{template}: {few} for 2 repositories, {many} for 27 (queries, SQL)"
    assert many[0] <= pin, f"{template}: {many[0]} queries, pinned at {pin}"


def test_content_filters_answer_what_they_promise(client):
    shared = unit()
    kept, dropped = repo_holding(shared), repo_holding(shared, removed_later=True)
    never = repo_holding(unit())

    def names(url):
        return sorted(r["name"] for r in ok(client.get(url))["results"])

    href = get_url(shared)
    assert names(f"{API}repositories/?with_content={href}") == sorted([kept.name, dropped.name])
    assert names(f"{API}repositories/?latest_with_content={href}") == [kept.name]
    versions = ok(client.get(f"{API}repository_versions/?content={href}"))["results"]
    assert sorted(v["pulp_href"] for v in versions) == sorted(
        [f"{get_url(kept)}versions/1/", f"{get_url(dropped)}versions/1/"]
    )
    by_latest = FileDistribution.objects.create(name="latest", base_path="l", repository=dropped)
    FileDistribution.objects.create(name="never", base_path="n", repository=never)
    fixed = FileDistribution.objects.create(
        name="fixed", base_path="f", repository_version=dropped.versions.get(number=1)
    )
    pub = FilePublication.objects.create(
        repository_version=kept.versions.get(number=1), complete=True
    )
    published = FileDistribution.objects.create(name="pub", base_path="p", publication=pub)
    assert names(f"{API}distributions/?with_content={href}") == sorted([fixed.name, published.name])
    assert by_latest.name not in names(f"{API}distributions/?with_content={href}")
    assert ok(client.get(f"{API}publications/?content={href}"))["count"] == 1
    bad(
        client.get(f"{API}repositories/?with_content={API}content/file/files/{uuid.uuid4()}/"),
        "with_content",
    )


# --- pulp_type lists what is installed ----------------------------------------------------------
GENERIC_LISTS = {
    "content/": Content,
    "contentguards/": ContentGuard,
    "distributions/": Distribution,
    "publications/": Publication,
    "remotes/": Remote,
    "repositories/": Repository,
}


def served_type_enums() -> dict[str, tuple[list, list]]:
    body = json.loads(
        Client()
        .get(f"{API}docs/api.json", HTTP_HOST="localhost:24817", HTTP_ACCEPT="application/json")
        .content
    )
    found = {}
    for path in GENERIC_LISTS:
        params = {p["name"]: p["schema"] for p in body["paths"][API + path]["get"]["parameters"]}
        found[path] = (
            params["pulp_type"].get("enum", []),
            params["pulp_type__in"]["items"].get("enum", []),
        )
    return found


def installed(master) -> list[str]:
    """Installed detail types the pulp_type filter offers (the RBAC guard opts out, as in 3.49)."""
    return sorted(
        m.get_pulp_type() for m in master.detail_models() if getattr(m, "TYPE_FILTERABLE", True)
    )


def test_pulp_type_enums_list_installed_types():
    for path, (single, many) in served_type_enums().items():
        assert single == installed(GENERIC_LISTS[path]), path
        assert many == installed(GENERIC_LISTS[path]), path


@pytest.mark.parametrize("path", sorted(GENERIC_LISTS))
def test_pulp_type_filter_refuses_types_not_installed(client, path):
    from tests.contract import contract as c

    documented = set()
    for prm in c.contract()["paths"][API + path]["get"]["parameters"]:
        if prm["name"] == "pulp_type":
            documented = set(prm["schema"].get("enum", []))
    absent = sorted(documented - set(installed(GENERIC_LISTS[path]))) + ["nope.nope"]
    for pulp_type in absent:
        bad(client.get(f"{API}{path}?pulp_type={pulp_type}"), "pulp_type")
        bad(client.get(f"{API}{path}?pulp_type__in={pulp_type}"), "pulp_type__in")
    for pulp_type in installed(GENERIC_LISTS[path]):
        ok(client.get(f"{API}{path}?pulp_type={pulp_type}"))


# --- secrets are never an ordering ---------------------------------------------------------------
SECRETS = ["password", "proxy_password", "client_key", "username", "proxy_username"]


@pytest.mark.parametrize("path", ["remotes/", "remotes/file/file/"])
@pytest.mark.parametrize("field", SECRETS)
def test_remotes_cannot_be_ordered_by_a_secret(client, path, field):
    for secret in ("aaaa", "zzzz"):
        FileRemote.objects.create(
            name=f"r-{secret}",
            url="http://example.invalid/",
            **{f: secret for f in SECRETS},
        )
    for value in (field, f"-{field}", f"name,{field}"):
        body = bad(client.get(f"{API}{path}?ordering={value}"), "ordering")
        assert "aaaa" not in json.dumps(body) and "zzzz" not in json.dumps(body)
    names = [r["name"] for r in ok(client.get(f"{API}{path}?ordering=-name"))["results"]]
    assert names == ["r-zzzz", "r-aaaa"]


def test_tasks_cannot_be_ordered_by_their_arguments(client):
    for value in ("enc_args", "-enc_kwargs"):
        bad(client.get(f"{API}tasks/?ordering={value}"), "ordering")
    ok(client.get(f"{API}tasks/?ordering=-pulp_created"))


# --- bad input is a 400, never a 500 -------------------------------------------------------------
DATE_FILTERS = [
    ("tasks/", "started_at"),
    ("tasks/", "finished_at"),
    ("workers/", "last_heartbeat"),
    ("remotes/", "pulp_last_updated"),
    ("remotes/file/file/", "pulp_last_updated"),
    ("publications/", "pulp_created"),
    ("publications/file/file/", "pulp_created"),
    ("repository_versions/", "pulp_created"),
]


@pytest.mark.parametrize("path,field", DATE_FILTERS, ids=[f"{p}{f}" for p, f in DATE_FILTERS])
def test_date_filters_refuse_offsets_the_database_cannot_store(client, path, field):
    for far in ("2020-01-01T00:00:00-16:16", "2020-01-01T00:00:00+16:00"):
        for lookup in ("", "__gt", "__gte", "__lt", "__lte"):
            bad(client.get(f"{API}{path}", {f"{field}{lookup}": far}), f"{field}{lookup}")
        both = f"2019-01-01T00:00:00Z,{far}"
        bad(client.get(f"{API}{path}", {f"{field}__range": both}), f"{field}__range")
    ok(client.get(f"{API}{path}", {f"{field}__lte": "2020-01-01T00:00:00-15:59"}))


@pytest.mark.parametrize("path", ["content/", "content/file/files/", "artifacts/"])
def test_orphaned_for_past_the_date_range_is_400(client, path):
    for value in ("6.27e16", "1e300"):
        bad(client.get(f"{API}{path}", {"orphaned_for": value}), "orphaned_for")
    ok(client.get(f"{API}{path}", {"orphaned_for": "0"}))
    ok(client.get(f"{API}{path}", {"orphaned_for": "-1"}))


def test_q_depth_and_complexity_are_capped(client):
    url = f"{API}repositories/"
    bad(client.get(url, {"q": "(" * 300 + 'name="x"' + ")" * 300}), "q")
    bad(client.get(url, {"q": "NOT " * 1000 + 'name="x"'}), "q")
    # Pulp's complexity rule: one per filter, per NOT, per chain of AND/OR; at most 8
    seven = " OR ".join(f'name="r{i}"' for i in range(7))
    ok(client.get(url, {"q": seven}))
    bad(client.get(url, {"q": seven + ' OR name="r7"'}), "q")
    ok(client.get(url, {"q": "(" * 16 + 'name="x"' + ")" * 16}))
    bad(client.get(url, {"q": "ordering=name"}), "q")


def test_every_filterset_lives_with_its_domain_and_is_static():
    """Filters have one home: core's in ``pulpcore.app.viewsets.filters.<domain>``, a plugin's in
    its ``app/filters.py``; none is assembled at import time with ``locals()`` or 3-argument
    ``type()`` (such classes hide their filters from readers and from ``Meta.fields``)."""
    import ast
    from pathlib import Path

    from pulpcore.app.viewsets.base import REGISTRY

    misplaced = []
    for viewset in REGISTRY:
        filterset = getattr(viewset, "filterset_class", None)
        if filterset is None:
            continue
        module = filterset.__module__
        root = module.split(".")[0]
        home = "pulpcore.app.viewsets.filters." if root == "pulpcore" else f"{root}.app.filters"
        if not module.startswith(home):
            misplaced.append(f"{viewset.__name__}: {filterset.__name__} in {module}")
    assert misplaced == []
    assert len({v.filterset_class for v in REGISTRY if getattr(v, "filterset_class", None)}) > 25

    dynamic = []
    root = Path(__file__).resolve().parents[2]
    for package in ("pulpcore", "pulp_file", "pulp_certguard"):
        for path in (root / package).rglob("*.py"):
            for node in ast.walk(ast.parse(path.read_text())):
                if not (isinstance(node, ast.Call) and isinstance(node.func, ast.Name)):
                    continue
                if node.func.id == "locals" or (node.func.id == "type" and len(node.args) == 3):
                    dynamic.append(f"{path.relative_to(root)}:{node.lineno}")
    assert dynamic == []


def test_filter_form_class_is_built_once_and_still_validates_each_request():
    """The form class is shared between requests (it was rebuilt every time); its bound forms
    still judge each request's own data, and request-dependent filters are never shared."""
    import django_filters

    from pulpcore.app.filters import BaseFilterSet
    from pulpcore.app.models import Task
    from pulpcore.app.viewsets.filters.task import TaskFilter

    qs = Task.objects.all()
    first, second = TaskFilter({"state": "completed"}, qs), TaskFilter({"state": "bogus"}, qs)
    assert first.get_form_class() is second.get_form_class()
    assert first.is_valid() and not second.is_valid()
    assert "state" in second.errors

    class UserChoiceFilter(BaseFilterSet):
        worker = django_filters.ModelChoiceFilter(queryset=lambda request: Worker.objects.all())

        class Meta:
            model = Task
            fields = ["worker"]

    a, b = UserChoiceFilter({}, qs), UserChoiceFilter({}, qs)
    assert a.get_form_class() is not b.get_form_class()
