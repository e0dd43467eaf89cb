"""The real ``pulp-content`` process beside a real stack: heartbeat in ``status/``, gunicorn mode,
and the whole path driven by the real pulp CLI (sync, publish, distribute, fetch, compare)."""

import hashlib
import json
import time
import uuid

import pytest
import requests

from tests.fixtures import FixtureServer, make_file_fixture
from tests.stack import wait_for

pytestmark = pytest.mark.functional


def _content_names(stack) -> list[str]:
    return [a["name"] for a in stack.get("status/").json()["online_content_apps"]]


@pytest.fixture(scope="module")
def content(stack):
    stack.start_content()
    yield stack
    stack.stop("content")


def test_heartbeat_listed_and_removed_on_shutdown(stack):
    proc = stack.start_content()
    try:
        names = wait_for(lambda: _content_names(stack), what="content app in status/")
        assert any(n.startswith(f"{proc.pid}@") for n in names), names
    finally:
        stack.stop("content")
    assert not any(n.startswith(f"{proc.pid}@") for n in _content_names(stack))


@pytest.mark.parametrize("gunicorn", [True, False], ids=["gunicorn", "pulp-content-workers"])
def test_gunicorn_workers_each_register(stack, gunicorn):
    stack.start_content(workers=2, gunicorn=gunicorn)
    try:
        names = wait_for(
            lambda: len(n := _content_names(stack)) >= 2 and n, what="two content workers"
        )
        assert len(names) == 2
        r = requests.get(stack.content_origin + "/pulp/content/", timeout=10)
        assert r.status_code == 200 and "Index of" in r.text
    finally:
        stack.stop("content")
    wait_for(lambda: _content_names(stack) == [], timeout=15, what="rows removed")


def _fetch_all(stack, base_path: str, fixture) -> None:
    for entry in fixture.entries:
        url = f"{stack.content_origin}/pulp/content/{base_path}/{entry.relative_path}"
        r = requests.get(url, timeout=30)
        assert r.status_code == 200, (url, r.status_code, r.text[:200])
        assert hashlib.sha256(r.content).hexdigest() == entry.sha256, url


@pytest.mark.parametrize("policy", ["immediate", "on_demand"])
def test_cli_sync_publish_distribute_fetch(content, workers, tmp_path, policy):
    stack = content
    fixture = make_file_fixture(tmp_path / "origin", count=5, size=20_000, subdir=None)
    tag = uuid.uuid4().hex[:8]
    with FixtureServer(fixture.root) as origin:
        stack.pulp(
            "file", "remote", "create", "--name", f"r-{tag}",
            "--url", origin.url + "PULP_MANIFEST", "--policy", policy,
        )  # fmt: skip
        stack.pulp("file", "repository", "create", "--name", f"repo-{tag}", "--remote", f"r-{tag}")
        stack.pulp("file", "repository", "sync", "--name", f"repo-{tag}")
        out = stack.pulp("file", "publication", "create", "--repository", f"repo-{tag}").stdout
        pub = json.loads(out)
        stack.pulp(
            "file", "distribution", "create", "--name", f"d-{tag}", "--base-path", f"bp/{tag}",
            "--publication", pub["pulp_href"],
        )  # fmt: skip
        _fetch_all(stack, f"bp/{tag}", fixture)
        manifest = requests.get(
            f"{stack.content_origin}/pulp/content/bp/{tag}/PULP_MANIFEST", timeout=10
        )
        assert manifest.status_code == 200
        assert sorted(manifest.text.split()) == sorted(
            f"{e.relative_path},{e.sha256},{e.size}" for e in fixture.entries
        )
        listing = requests.get(f"{stack.content_origin}/pulp/content/bp/{tag}/", timeout=10)
        assert all(f'href="{e.relative_path}"' in listing.text for e in fixture.entries)
        if policy == "on_demand":
            assert all(origin.counts.get(e.relative_path) == 1 for e in fixture.entries)
            _fetch_all(stack, f"bp/{tag}", fixture)  # now from storage
            assert all(origin.counts.get(e.relative_path) == 1 for e in fixture.entries)


def test_cli_repository_distribution_follows_new_versions(content, workers, tmp_path):
    stack = content
    tag = uuid.uuid4().hex[:8]
    stack.pulp("file", "repository", "create", "--name", f"auto-{tag}")
    stack.pulp(
        "file", "distribution", "create", "--name", f"ad-{tag}", "--base-path", f"auto/{tag}",
        "--repository", f"auto-{tag}",
    )  # fmt: skip
    url = f"{stack.content_origin}/pulp/content/auto/{tag}/hello.txt"
    assert requests.get(url, timeout=10).status_code == 404
    src = tmp_path / "hello.txt"
    src.write_bytes(b"hello " + tag.encode())
    stack.pulp(
        "file", "content", "upload", "--file", str(src), "--relative-path", "hello.txt",
        "--repository", f"auto-{tag}",
    )  # fmt: skip
    deadline = time.monotonic() + 10
    while requests.get(url, timeout=10).status_code != 200 and time.monotonic() < deadline:
        time.sleep(0.1)
    assert requests.get(url, timeout=10).content == b"hello " + tag.encode()
