"""Artifacts in S3 end to end: API, worker and content app share only PostgreSQL, Redis and a
bucket (moto's real HTTP server). The real ``pulp`` CLI syncs, publishes and distributes; the
content app redirects downloads to the store (ranges too); orphan cleanup removes the objects."""

import json
import uuid
from pathlib import Path

import pytest
import requests

from tests.fixtures import FixtureServer, make_file_fixture
from tests.s3 import MotoServer
from tests.stack import Stack

pytestmark = pytest.mark.functional


def cli(stack, *args) -> dict | list:
    out = stack.pulp(*args).stdout
    return json.loads(out) if out.strip() else {}


@pytest.fixture(scope="module")
def s3_stack():
    moto = MotoServer(bucket=f"func-{uuid.uuid4().hex[:8]}").start()
    stack = Stack("s3", extra_env=moto.environ()).setup()
    try:
        stack.start_api()
        stack.start_content()
        if stack.env.get("PULP_USE_NEW_WORKER_STYLE", "").lower() not in ("true", "1", "yes"):
            stack.start_resource_manager("resource-manager")
        stack.start_worker("worker-1")
        yield stack, moto
    finally:
        stack.stop_all()
        moto.stop()


def test_sync_publish_serve_and_clean_up_in_the_bucket(s3_stack, tmp_path):
    stack, moto = s3_stack
    tree = make_file_fixture(tmp_path / "origin", count=4, size=70_000)
    name = f"s3-{uuid.uuid4().hex[:6]}"
    with FixtureServer(tree.root) as origin:
        cli(stack, "file", "remote", "create", "--name", name, "--url",
            origin.url + "PULP_MANIFEST")  # fmt: skip
        cli(stack, "file", "repository", "create", "--name", name, "--remote", name)
        stack.pulp("file", "repository", "sync", "--name", name)
    expected = {f"artifact/{e.sha256[:2]}/{e.sha256[2:]}" for e in tree.entries}
    assert expected <= moto.keys("artifact/")
    media = Path(stack.env["PULP_MEDIA_ROOT"])
    assert not (media / "artifact").exists() or not any((media / "artifact").rglob("*"))

    cli(stack, "file", "publication", "create", "--repository", name)
    cli(stack, "file", "distribution", "create", "--name", name, "--base-path", name,
        "--repository", name)  # fmt: skip
    entry = tree.entries[0]
    data = (tree.root / entry.relative_path).read_bytes()
    url = f"{stack.content_origin}/pulp/content/{name}/{entry.relative_path}"
    first = requests.get(url, allow_redirects=False, timeout=30)
    assert first.status_code == 302 and first.headers["Location"].startswith(moto.endpoint)
    assert "X-Amz-Expires=" in first.headers["Location"]
    assert requests.get(url, timeout=30).content == data
    part = requests.get(url, headers={"Range": "bytes=100-199"}, timeout=30)
    assert part.status_code == 206 and part.content == data[100:200]
    # The published metadata (PULP_MANIFEST) is an artifact in the bucket as well.
    manifest = requests.get(f"{stack.content_origin}/pulp/content/{name}/PULP_MANIFEST", timeout=30)
    assert manifest.status_code == 200 and entry.sha256 in manifest.text

    stack.pulp("file", "distribution", "destroy", "--name", name)
    stack.pulp("file", "repository", "destroy", "--name", name)
    stack.pulp("file", "remote", "destroy", "--name", name)
    for pub in cli(stack, "file", "publication", "list"):
        stack.pulp("file", "publication", "destroy", "--href", pub["pulp_href"])
    stack.pulp("orphan", "cleanup", "--protection-time", "0")
    assert not expected & moto.keys("artifact/")
