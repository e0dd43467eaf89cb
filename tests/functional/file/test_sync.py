"""File sync end to end: the real ``pulp`` CLI, gunicorn API, task workers and a local origin.

Covers immediate and on_demand syncs, progress reports in the task, mirror, a re-sync with no
change, and bad remotes (404 manifest, malformed line, corrupted file) failing with a readable
error and leaving no version and no artifact behind.
"""

import json
import uuid

import pytest

from tests.fixtures import FixtureServer, make_file_fixture, write_manifest

pytestmark = pytest.mark.functional

SYNC_TASK = "pulp_file.app.tasks.synchronizing.synchronize"


def cli(stack, *args) -> dict | list:
    out = stack.pulp(*args).stdout
    return json.loads(out) if out.strip() else {}


def name(prefix: str) -> str:
    return f"{prefix}-{uuid.uuid4().hex[:8]}"


@pytest.fixture
def origin(tmp_path):
    tree = make_file_fixture(tmp_path / "origin", count=6, size=4096)
    with FixtureServer(tree.root) as server:
        yield tree, server


def setup_repo(stack, url: str, policy: str = "immediate", *remote_args: str) -> tuple[str, dict]:
    repo = name("sync-repo")
    remote = name("sync-remote")
    cli(
        stack, "file", "remote", "create", "--name", remote, "--url", url, "--policy", policy,
        *remote_args,
    )  # fmt: skip
    created = cli(stack, "file", "repository", "create", "--name", repo, "--remote", remote)
    return repo, created


def versions(stack, repo: str) -> list[int]:
    listing = cli(stack, "file", "repository", "version", "list", "--repository", repo)
    return sorted(v["number"] for v in listing)


def paths(stack, repo: str) -> set[str]:
    listing = cli(
        stack, "file", "repository", "content", "list", "--repository", repo, "--limit", "1000"
    )
    return {u["relative_path"] for u in listing}


def last_sync_task(stack, repo_href: str) -> dict:
    tasks = cli(
        stack, "task", "list", "--name", SYNC_TASK, "--reserved-resource", repo_href, "--limit", "1"
    )
    assert tasks, "no sync task recorded"
    return cli(stack, "task", "show", "--href", tasks[0]["pulp_href"])


def failed_sync(stack, repo: str) -> str:
    res = stack.pulp("file", "repository", "sync", "--name", repo, check=False)
    assert res.returncode != 0, f"sync should have failed:\n{res.stdout}"
    return res.stdout + res.stderr


def test_immediate_sync_with_progress(stack, workers, origin):
    tree, server = origin
    repo, created = setup_repo(stack, server.url + "PULP_MANIFEST")
    stack.pulp("file", "repository", "sync", "--name", repo)
    assert versions(stack, repo) == [0, 1]
    assert paths(stack, repo) == {e.relative_path for e in tree.entries}
    show = cli(stack, "file", "repository", "version", "show", "--repository", repo)
    assert show["content_summary"]["present"]["file.file"]["count"] == len(tree.entries)

    task = last_sync_task(stack, created["pulp_href"])
    assert task["state"] == "completed"
    assert task["created_resources"] == [created["versions_href"] + "1/"]
    reports = {r["code"]: r for r in task["progress_reports"]}
    n = len(tree.entries)
    assert reports["sync.downloading.metadata"]["message"] == "Downloading Metadata"
    assert (
        reports["sync.downloading.metadata"]["done"],
        reports["sync.downloading.metadata"]["total"],
    ) == (1, 1)
    assert (
        reports["sync.downloading.artifacts"]["done"],
        reports["sync.downloading.artifacts"]["total"],
    ) == (n, n)
    assert (reports["associating.content"]["done"], reports["associating.content"]["total"]) == (
        n,
        n,
    )
    assert all(r["state"] == "completed" for r in reports.values())

    # Every file is now an artifact with the right digest.
    for entry in tree.entries:
        found = cli(stack, "artifact", "list", "--sha256", entry.sha256)
        assert len(found) == 1 and found[0]["size"] == entry.size

    # Nothing changed upstream: no new version.
    stack.pulp("file", "repository", "sync", "--name", repo)
    assert versions(stack, repo) == [0, 1]


def test_on_demand_sync_then_mirror(stack, workers, origin, tmp_path):
    tree, server = origin
    repo, created = setup_repo(stack, server.url + "PULP_MANIFEST", policy="on_demand")
    stack.pulp("file", "repository", "sync", "--name", repo)
    assert paths(stack, repo) == {e.relative_path for e in tree.entries}
    for entry in tree.entries:
        assert cli(stack, "artifact", "list", "--sha256", entry.sha256) == []
    assert set(server.counts) == {"PULP_MANIFEST"}
    task = last_sync_task(stack, created["pulp_href"])
    reports = {r["code"]: r for r in task["progress_reports"]}
    assert reports["sync.downloading.artifacts"]["done"] == 0

    # Upstream drops two files and adds one; an additive sync keeps all, mirror drops two.
    dropped = tree.entries[:2]
    del tree.entries[:2]
    extra = make_file_fixture(tmp_path / "extra", count=1, size=10, subdir="later")
    (tree.root / "later").mkdir()
    (tree.root / extra.entries[0].relative_path).write_bytes(
        (extra.root / extra.entries[0].relative_path).read_bytes()
    )
    tree.entries.append(extra.entries[0])
    write_manifest(tree)
    stack.pulp("file", "repository", "sync", "--name", repo, "--no-mirror")
    assert paths(stack, repo) == {e.relative_path for e in tree.entries + dropped}
    stack.pulp("file", "repository", "sync", "--name", repo, "--mirror")
    assert paths(stack, repo) == {e.relative_path for e in tree.entries}
    assert versions(stack, repo) == [0, 1, 2, 3]


def test_missing_manifest_fails_readably(stack, workers, origin):
    _, server = origin
    repo, created = setup_repo(stack, server.url + "nowhere/PULP_MANIFEST")
    output = failed_sync(stack, repo)
    task = last_sync_task(stack, created["pulp_href"])
    assert task["state"] == "failed"
    assert "404" in task["error"]["description"]
    assert "nowhere/PULP_MANIFEST" in task["error"]["description"]
    assert "404" in output
    assert versions(stack, repo) == [0]


def test_malformed_manifest_fails_naming_the_line(stack, workers, origin):
    tree, server = origin
    write_manifest(tree, extra_lines=["this line is not a manifest entry"])
    repo, created = setup_repo(stack, server.url + "PULP_MANIFEST")
    failed_sync(stack, repo)
    task = last_sync_task(stack, created["pulp_href"])
    assert f"Line {len(tree.entries) + 1}" in task["error"]["description"]
    assert versions(stack, repo) == [0]
    for entry in tree.entries:
        assert cli(stack, "artifact", "list", "--sha256", entry.sha256) == []


def test_corrupted_file_fails_without_bad_artifact(stack, workers, origin):
    tree, server = origin
    bad = tree.entries[3]
    server.behaviour["corrupt"] = {bad.relative_path}
    repo, created = setup_repo(stack, server.url + "PULP_MANIFEST")
    failed_sync(stack, repo)
    task = last_sync_task(stack, created["pulp_href"])
    assert task["state"] == "failed"
    assert "sha256" in task["error"]["description"]
    assert bad.relative_path in task["error"]["description"]
    assert versions(stack, repo) == [0]
    assert cli(stack, "artifact", "list", "--sha256", bad.sha256) == []
    # Once the origin serves the right bytes, the same sync succeeds.
    server.behaviour["corrupt"] = set()
    stack.pulp("file", "repository", "sync", "--name", repo)
    assert versions(stack, repo) == [0, 1]
    assert len(cli(stack, "artifact", "list", "--sha256", bad.sha256)) == 1


def test_sync_over_tls_with_auth_and_headers(stack, workers, tmp_path):
    """The remote's CA certificate, basic auth and custom headers reach the origin."""
    from tests.fixtures import make_tls_files

    tree = make_file_fixture(tmp_path / "tls-origin", count=3, size=1000)
    tls = make_tls_files(tmp_path / "tls")
    with FixtureServer(tree.root, auth=("syncer", "pa55"), tls=tls) as server:
        url = server.url + "PULP_MANIFEST"
        remote = name("tls-remote")
        repo = name("tls-repo")
        cli(stack, "file", "remote", "create", "--name", remote, "--url", url)
        cli(stack, "file", "repository", "create", "--name", repo, "--remote", remote)
        # Without the CA the certificate is refused.
        output = failed_sync(stack, repo)
        assert "certificate" in output.lower()
        stack.pulp(
            "file", "remote", "update", "--name", remote, "--ca-cert", "@" + tls.ca_cert,
            "--username", "syncer", "--password", "pa55", "--header", "X-Sync-Test:yes",
        )  # fmt: skip
        stack.pulp("file", "repository", "sync", "--name", repo)
        assert paths(stack, repo) == {e.relative_path for e in tree.entries}
        assert all(h.get("X-Sync-Test") == "yes" for h in server.headers_seen[-3:])


def test_sync_through_proxy_with_auth(stack, workers, origin):
    from tests.fixtures import ProxyServer

    tree, server = origin
    with ProxyServer(auth=("px", "secret")) as proxy:
        remote = name("proxy-remote")
        repo = name("proxy-repo")
        cli(
            stack, "file", "remote", "create", "--name", remote,
            "--url", server.url + "PULP_MANIFEST", "--proxy-url", proxy.url,
            "--proxy-username", "px", "--proxy-password", "secret",
        )  # fmt: skip
        cli(stack, "file", "repository", "create", "--name", repo, "--remote", remote)
        stack.pulp("file", "repository", "sync", "--name", repo)
        assert paths(stack, repo) == {e.relative_path for e in tree.entries}
        assert server.url + "PULP_MANIFEST" in proxy.forwarded
        assert len(proxy.forwarded) == len(tree.entries) + 1


def test_cancel_running_sync_leaves_nothing(stack, workers, tmp_path):
    """Canceling a sync mid-download: task canceled, no version, the worker syncs again fine."""
    import time

    tree = make_file_fixture(tmp_path / "slow", count=12, size=2000)
    with FixtureServer(tree.root) as server:
        server.behaviour["delay"] = {e.relative_path: 0.5 for e in tree.entries}
        repo, created = setup_repo(
            stack, server.url + "PULP_MANIFEST", "immediate", "--download-concurrency", "1"
        )
        response = stack.post(f"{created['pulp_href']}sync/", json={})
        assert response.status_code == 202, response.text
        task_href = response.json()["task"]
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            reports = stack.get(task_href).json()["progress_reports"]
            if any(r["code"] == "sync.downloading.artifacts" and r["done"] for r in reports):
                break
            time.sleep(0.2)
        stack.pulp("task", "cancel", "--href", task_href)
        task = stack.wait_task(task_href)
        assert task["state"] == "canceled"
        assert versions(stack, repo) == [0]
        # The canceled pipeline stopped its downloads and removed their partial files.
        assert list((stack.root / "tmp").glob("*.download")) == []
        server.behaviour["delay"] = {}
        stack.pulp("file", "repository", "sync", "--name", repo)
        assert versions(stack, repo) == [0, 1]
        assert paths(stack, repo) == {e.relative_path for e in tree.entries}
