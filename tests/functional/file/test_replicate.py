"""Replication against a second real stack of this project as the upstream Pulp.

The upstream runs its own database and Redis DB; the downstream replicates it through the real
``pulp upstream-pulp create / replicate`` CLI. Every replicated file is downloaded through the
downstream's content app and compared by sha256 with what was uploaded upstream. Then the
upstream changes (one distribution removed, one added, one repository grows) and a second
replication must follow; objects made by hand downstream are never touched. Upstreams answering
401, 404, garbage or nothing fail with a readable error and delete nothing.
"""

import hashlib
import json
import os
import uuid
from pathlib import Path

import pytest
import requests

from tests.fixtures import FixtureServer
from tests.stack import Stack, free_port, wait_for

pytestmark = pytest.mark.functional


def _stack(name: str, extra_env: dict | None = None) -> Stack:
    s = Stack(name, extra_env=extra_env).setup()
    s.start_api()
    if s.env.get("PULP_USE_NEW_WORKER_STYLE", "").lower() not in ("true", "1", "yes"):
        s.start_resource_manager("resource-manager")
    s.start_worker("worker-1")
    s.start_content()
    return s


@pytest.fixture(scope="module")
def upstream():
    # Its own Redis DB: the two stacks' task queues must never meet.
    redis_db = str((int(os.environ.get("PULP_TEST_REDIS_DB", "0")) + 1) % 16)
    s = _stack("replica-up", {"PULP_REDIS_DB": redis_db})
    yield s
    s.stop_all()


@pytest.fixture(scope="module")
def downstream():
    s = _stack("replica-down")
    yield s
    s.stop_all()


def cli(stack, *args):
    out = stack.pulp(*args).stdout
    return json.loads(out) if out.strip() else None


def upload(stack, tmp_path: Path, repo: str, relative_path: str, size: int) -> str:
    data = os.urandom(size)
    path = tmp_path / uuid.uuid4().hex
    path.write_bytes(data)
    cli(
        stack, "file", "content", "upload", "--relative-path", relative_path,
        "--file", str(path), "--repository", repo,
    )  # fmt: skip
    return hashlib.sha256(data).hexdigest()


def published_repo(stack, tmp_path, name: str, files: int) -> dict[str, str]:
    cli(stack, "file", "repository", "create", "--name", name)
    sums = {
        f"{name}/{i}.bin": upload(stack, tmp_path, name, f"{name}/{i}.bin", 5000 + i)
        for i in range(files)
    }
    cli(stack, "file", "publication", "create", "--repository", name)
    return sums


def label(stack, distribution: str, key: str = "replicate", value: str = "yes") -> None:
    cli(stack, "file", "distribution", "label", "set", "--distribution", distribution,
        "--key", key, "--value", value)  # fmt: skip


def served(stack, base_path: str, paths) -> dict[str, str]:
    out = {}
    for rel in paths:
        resp = requests.get(f"{stack.content_origin}/pulp/content/{base_path}/{rel}", timeout=30)
        assert resp.status_code == 200, (base_path, rel, resp.status_code)
        out[rel] = hashlib.sha256(resp.content).hexdigest()
    return out


def names(stack, kind: str) -> set[str]:
    return {obj["name"] for obj in cli(stack, "file", kind, "list", "--limit", "1000")}


def replicate(stack, upstream_name: str) -> list[str]:
    """Run a replication and wait for its task group; the failed tasks' error descriptions.

    pulp-cli 0.41.1's ``upstream-pulp replicate`` always sends a body, which the 3.49 schema (no
    request body) makes pulp-glue refuse before sending, so this one call is a plain REST POST.
    """
    href = cli(stack, "upstream-pulp", "show", "--upstream-pulp", upstream_name)["pulp_href"]
    resp = stack.post(f"{href}replicate/")
    assert resp.status_code == 202, resp.text
    group_href = resp.json()["task_group"]

    def finished():
        group = cli(stack, "task-group", "show", "--href", group_href)
        busy = group["waiting"] + group["running"] + group["canceling"]
        return group if group["all_tasks_dispatched"] and not busy else None

    group = wait_for(finished, timeout=300, interval=0.5, what="the replication task group")
    errors = []
    for task in group["tasks"]:
        if task["state"] != "completed":
            shown = cli(stack, "task", "show", "--href", task["pulp_href"])
            errors.append(shown["error"]["description"])
    return errors


def test_replicate_follow_changes_and_fail_safely(upstream, downstream, tmp_path):
    tag = uuid.uuid4().hex[:6]
    a, b, c, x = (f"{n}-{tag}" for n in ("a", "b", "c", "x"))
    files = {
        a: published_repo(upstream, tmp_path, a, 3),
        b: published_repo(upstream, tmp_path, b, 2),
    }
    published_repo(upstream, tmp_path, x, 1)
    pub_a = cli(upstream, "file", "publication", "list", "--repository", a)[0]["pulp_href"]
    # one distribution serves a publication, one its repository's latest; x is not labelled
    cli(upstream, "file", "distribution", "create", "--name", a, "--base-path", f"up/{a}",
        "--publication", pub_a)  # fmt: skip
    cli(upstream, "file", "distribution", "create", "--name", b, "--base-path", f"up/{b}",
        "--repository", b)  # fmt: skip
    cli(upstream, "file", "distribution", "create", "--name", x, "--base-path", f"up/{x}",
        "--repository", x)  # fmt: skip
    label(upstream, a)
    label(upstream, b)

    # made by hand downstream: never touched by replication
    cli(downstream, "file", "repository", "create", "--name", f"hand-{tag}")
    cli(downstream, "file", "distribution", "create", "--name", f"hand-{tag}",
        "--base-path", f"hand/{tag}", "--repository", f"hand-{tag}")  # fmt: skip
    before_hand = cli(downstream, "file", "distribution", "show", "--name", f"hand-{tag}")

    up = f"up-{tag}"
    cli(
        downstream, "upstream-pulp", "create", "--name", up, "--base-url", upstream.base_url,
        "--api-root", "pulp", "--username", "admin", "--password", upstream.admin_password,
        "--pulp-label-select", "replicate=yes",
    )  # fmt: skip
    shown = cli(downstream, "upstream-pulp", "show", "--upstream-pulp", up)
    assert "password" not in shown and shown["pulp_label_select"] == "replicate=yes"

    # 1. first replication: a and b, not x
    assert replicate(downstream, up) == []
    assert {a, b} <= names(downstream, "distribution") and x not in names(
        downstream, "distribution"
    )
    assert {a, b} <= names(downstream, "repository") and {a, b} <= names(downstream, "remote")
    for name in (a, b):
        dist = cli(downstream, "file", "distribution", "show", "--name", name)
        assert dist["base_path"] == f"up/{name}"
        assert dist["pulp_labels"]["replicate"] == "yes"
        assert (
            dist["pulp_labels"]["UpstreamPulp"] == shown["pulp_href"].rstrip("/").rsplit("/", 1)[1]
        )
        assert served(downstream, f"up/{name}", files[name]) == files[name]
    remote_a = cli(downstream, "file", "remote", "show", "--name", a)
    assert remote_a["url"] == f"{upstream.content_origin}/pulp/content/up/{a}/PULP_MANIFEST"

    # 2. upstream changes: a removed, c added, b grows
    cli(upstream, "file", "distribution", "destroy", "--name", a)
    files[c] = published_repo(upstream, tmp_path, c, 2)
    cli(upstream, "file", "distribution", "create", "--name", c, "--base-path", f"up/{c}",
        "--repository", c)  # fmt: skip
    label(upstream, c)
    files[b][f"{b}/new.bin"] = upload(upstream, tmp_path, b, f"{b}/new.bin", 777)
    cli(upstream, "file", "publication", "create", "--repository", b)

    assert replicate(downstream, up) == []
    dists = names(downstream, "distribution")
    assert a not in dists and {b, c} <= dists
    assert a not in names(downstream, "repository") and a not in names(downstream, "remote")
    for name in (b, c):
        assert served(downstream, f"up/{name}", files[name]) == files[name]
    gone = requests.get(f"{downstream.content_origin}/pulp/content/up/{a}/{a}/0.bin", timeout=30)
    assert gone.status_code == 404
    assert cli(downstream, "file", "distribution", "show", "--name", f"hand-{tag}") == before_hand
    assert f"hand-{tag}" in names(downstream, "repository")

    # nothing changed upstream: replicating again makes no new version downstream
    def versions():
        return {
            n: cli(downstream, "file", "repository", "show", "--name", n)["latest_version_href"]
            for n in (b, c)
        }

    latest = versions()
    assert replicate(downstream, up) == []
    assert versions() == latest

    # 3. upstreams that cannot be read: readable failure, nothing deleted downstream
    keep = (names(downstream, "distribution"), names(downstream, "repository"))
    bad_password = f"bad-{tag}"
    cli(downstream, "upstream-pulp", "create", "--name", bad_password,
        "--base-url", upstream.base_url, "--api-root", "pulp",
        "--username", "admin", "--password", "wrong")  # fmt: skip
    (error,) = replicate(downstream, bad_password)
    assert "401" in error and f"upstream pulp '{bad_password}'" in error, error

    wrong_root = f"nf-{tag}"
    cli(downstream, "upstream-pulp", "create", "--name", wrong_root,
        "--base-url", upstream.base_url, "--api-root", "nowhere")  # fmt: skip
    (error,) = replicate(downstream, wrong_root)
    assert "404" in error and "/nowhere/api/v3/distributions/file/file/" in error, error

    nobody = f"off-{tag}"
    cli(downstream, "upstream-pulp", "create", "--name", nobody,
        "--base-url", f"http://127.0.0.1:{free_port()}", "--api-root", "pulp")  # fmt: skip
    (error,) = replicate(downstream, nobody)
    assert f"Could not read upstream pulp '{nobody}'" in error, error

    garbage_dir = tmp_path / "garbage"
    listing = garbage_dir / "pulp" / "api" / "v3" / "distributions" / "file" / "file"
    listing.mkdir(parents=True)
    (listing / "index.html").write_text("<html>this is not Pulp</html>")
    with FixtureServer(garbage_dir) as server:
        junk = f"junk-{tag}"
        cli(downstream, "upstream-pulp", "create", "--name", junk,
            "--base-url", server.url.rstrip("/"), "--api-root", "pulp")  # fmt: skip
        (error,) = replicate(downstream, junk)
    assert "not JSON" in error and "base_url and api_root" in error, error

    assert (names(downstream, "distribution"), names(downstream, "repository")) == keep

    # the failed upstreams go away through the CLI; replicated objects stay
    for name in (bad_password, wrong_root, nobody, junk):
        cli(downstream, "upstream-pulp", "destroy", "--upstream-pulp", name)
    assert [u["name"] for u in cli(downstream, "upstream-pulp", "list")] == [up]
    assert (names(downstream, "distribution"), names(downstream, "repository")) == keep
    for name in (b, c):
        assert served(downstream, f"up/{name}", files[name]) == files[name]
