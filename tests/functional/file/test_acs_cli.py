"""Alternate content sources end to end: the real ``pulp file acs`` CLI, gunicorn, task workers.

Two local origins hold the same files: the repository's remote answers every file after a delay,
the ACS answers at once. Their access logs show which origin served each file; a corrupt ACS copy
makes the sync fetch that one file from the remote, and the sync still succeeds.
"""

import json
import shutil
import uuid

import pytest

from tests.fixtures import FixtureServer, make_file_fixture

pytestmark = pytest.mark.functional


def cli(stack, *args) -> dict | list:
    out = stack.pulp(*args).stdout
    return json.loads(out) if out.strip() else {}


def name(prefix: str) -> str:
    return f"{prefix}-{uuid.uuid4().hex[:8]}"


@pytest.fixture
def origins(tmp_path):
    """Two sets of files (a/, b/) on the far origin, copied below mirror/ on the near one."""
    trees = [make_file_fixture(tmp_path / "far" / d, count=6, size=16 * 1024) for d in "ab"]
    shutil.copytree(tmp_path / "far", tmp_path / "near" / "mirror")
    with FixtureServer(tmp_path / "far") as far, FixtureServer(tmp_path / "near") as near:
        far.behaviour["delay"] = {
            f"{d}/{e.relative_path}": 0.5
            for d, t in zip("ab", trees, strict=True)
            for e in t.entries
        }
        yield trees, far, near


def served(server, directory: str) -> set[str]:
    """Files (not manifests) of ``directory`` the server was asked for."""
    return {
        p.rsplit("/", 1)[-1]
        for p in server.httpd.requests
        if f"{directory}/" in p and not p.endswith("PULP_MANIFEST")
    }


def sync_new_repo(stack, url: str) -> str:
    repo, remote = name("acs-repo"), name("acs-remote")
    cli(stack, "file", "remote", "create", "--name", remote, "--url", url, "--policy", "immediate")
    cli(stack, "file", "repository", "create", "--name", repo, "--remote", remote)
    stack.pulp("file", "repository", "sync", "--name", repo)
    return repo


def test_acs_serves_the_sync_and_a_corrupt_copy_falls_back(stack, workers, origins):
    (tree_a, tree_b), far, near = origins
    acs_remote, acs = name("acs-src"), name("acs")
    cli(stack, "file", "remote", "create", "--name", acs_remote, "--url", near.url,
        "--policy", "on_demand")  # fmt: skip
    # A remote that isn't on_demand is refused with the reason.
    eager = name("eager")
    cli(stack, "file", "remote", "create", "--name", eager, "--url", near.url)
    bad = stack.pulp("file", "acs", "create", "--name", name("bad"), "--remote", eager, check=False)
    assert bad.returncode != 0 and "on_demand" in bad.stdout + bad.stderr
    made = cli(stack, "file", "acs", "create", "--name", acs, "--remote", acs_remote,
               "--path", "mirror/a/PULP_MANIFEST", "--path", "mirror/b/PULP_MANIFEST")  # fmt: skip
    assert sorted(made["paths"]) == ["mirror/a/PULP_MANIFEST", "mirror/b/PULP_MANIFEST"]
    assert made["last_refreshed"] is None
    stack.pulp("file", "acs", "refresh", "--name", acs)  # waits for the task group
    shown = cli(stack, "file", "acs", "show", "--name", acs)
    assert shown["last_refreshed"] is not None
    assert served(near, "a") | served(near, "b") == set()  # refresh reads manifests only

    repo = sync_new_repo(stack, far.url + "a/PULP_MANIFEST")
    assert served(near, "a") == {e.relative_path for e in tree_a.entries}
    assert served(far, "a") == set()
    listing = cli(stack, "file", "repository", "content", "list", "--repository", repo)
    assert {u["relative_path"] for u in listing} == {e.relative_path for e in tree_a.entries}

    # One corrupt file on the ACS: the sync fetches that one from the remote and succeeds.
    broken = tree_b.entries[0].relative_path
    near.behaviour["corrupt"] = {f"mirror/b/{broken}"}
    repo = sync_new_repo(stack, far.url + "b/PULP_MANIFEST")
    assert served(far, "b") == {broken}
    assert served(near, "b") == {e.relative_path for e in tree_b.entries}
    listing = cli(stack, "file", "repository", "content", "list", "--repository", repo)
    assert len(listing) == len(tree_b.entries)
    tasks = cli(stack, "task", "list", "--name",
                "pulp_file.app.tasks.synchronizing.synchronize", "--limit", "1")  # fmt: skip
    task = cli(stack, "task", "show", "--href", tasks[0]["pulp_href"])
    by_code = {r["code"]: r["done"] for r in task["progress_reports"]}
    assert by_code["sync.downloading.artifacts.acs"] == len(tree_b.entries) - 1
    assert by_code["sync.downloading.artifacts.remote"] == 1
    stack.pulp("file", "acs", "destroy", "--name", acs)
    gone = stack.pulp("file", "acs", "show", "--name", acs, check=False)
    assert gone.returncode != 0
    assert acs not in {a["name"] for a in cli(stack, "file", "acs", "list", "--limit", "1000")}
