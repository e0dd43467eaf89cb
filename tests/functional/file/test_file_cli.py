"""pulp_file end to end with the real ``pulp`` CLI 0.41.1, real workers and a gunicorn API.

Repository create/update, content upload (direct and chunked), modify add/remove, versions
list/show/destroy/repair, publications, distributions (base path overlap refused), autopublish,
retain-repo-versions, and remotes whose secrets never come back.
"""

import hashlib
import json
import os
import uuid

import pytest

pytestmark = pytest.mark.functional


def cli(stack, *args) -> dict | list:
    return json.loads(stack.pulp(*args).stdout)


def fails(stack, *args) -> str:
    res = stack.pulp(*args, check=False)
    assert res.returncode != 0, f"pulp {' '.join(args)} should have failed:\n{res.stdout}"
    return res.stdout + res.stderr


def name(prefix: str) -> str:
    return f"{prefix}-{uuid.uuid4().hex[:8]}"


def write(tmp_path, data: bytes) -> tuple[str, str]:
    path = tmp_path / f"{uuid.uuid4().hex}.bin"
    path.write_bytes(data)
    return str(path), hashlib.sha256(data).hexdigest()


def numbers(stack, repo: str) -> list[int]:
    return [
        v["number"]
        for v in cli(stack, "file", "repository", "version", "list", "--repository", repo)
    ]


def paths(stack, repo: str, version: int | None = None) -> set[str]:
    args = ["file", "repository", "content", "list", "--repository", repo]
    if version is not None:
        args += ["--version", str(version)]
    return {u["relative_path"] for u in cli(stack, *args)}


def test_upload_modify_versions(stack, workers, tmp_path):
    repo = name("repo")
    created = cli(stack, "file", "repository", "create", "--name", repo, "--description", "d")
    assert created["latest_version_href"].endswith("/versions/0/")
    f1, sha1 = write(tmp_path, os.urandom(10_000))
    f2, sha2 = write(tmp_path, os.urandom(300_000))

    unit1 = cli(
        stack,
        "file",
        "content",
        "upload",
        "--relative-path",
        "a/one.bin",
        "--file",
        f1,
        "--repository",
        repo,
    )
    assert unit1["sha256"] == sha1 and unit1["relative_path"] == "a/one.bin"
    # Chunked: the CLI creates an upload, sends pieces and passes ``upload`` to content create.
    unit2 = cli(
        stack,
        "file",
        "content",
        "upload",
        "--relative-path",
        "two.bin",
        "--file",
        f2,
        "--chunk-size",
        "100000",
    )
    assert unit2["sha256"] == sha2
    assert numbers(stack, repo) == [1, 0]

    stack.pulp(
        "file",
        "repository",
        "content",
        "add",
        "--repository",
        repo,
        "--sha256",
        sha2,
        "--relative-path",
        "two.bin",
    )
    assert paths(stack, repo) == {"a/one.bin", "two.bin"}
    stack.pulp(
        "file",
        "repository",
        "content",
        "remove",
        "--repository",
        repo,
        "--sha256",
        sha1,
        "--relative-path",
        "a/one.bin",
    )
    assert paths(stack, repo) == {"two.bin"}
    assert paths(stack, repo, 2) == {"a/one.bin", "two.bin"}
    # Adding what is already there changes nothing: no new version.
    stack.pulp(
        "file",
        "repository",
        "content",
        "add",
        "--repository",
        repo,
        "--sha256",
        sha2,
        "--relative-path",
        "two.bin",
    )
    assert numbers(stack, repo) == [3, 2, 1, 0]

    shown = cli(
        stack, "file", "repository", "version", "show", "--repository", repo, "--version", "3"
    )
    assert shown["content_summary"]["removed"]["file.file"]["count"] == 1
    assert shown["content_summary"]["present"]["file.file"]["count"] == 1

    stack.pulp("file", "repository", "version", "destroy", "--repository", repo, "--version", "2")
    assert numbers(stack, repo) == [3, 1, 0]
    assert paths(stack, repo, 3) == {"two.bin"}

    repaired = cli(
        stack, "file", "repository", "version", "repair", "--repository", repo, "--version", "3"
    )
    assert repaired["state"] == "completed"
    assert {p["code"] for p in repaired["progress_reports"]} >= {
        "repair.missing",
        "repair.corrupted",
    }

    stack.pulp("file", "repository", "update", "--name", repo, "--description", "changed")
    assert cli(stack, "file", "repository", "show", "--name", repo)["description"] == "changed"
    stack.pulp("file", "repository", "destroy", "--name", repo)
    fails(stack, "file", "repository", "show", "--name", repo)


def test_content_add_with_base_version(stack, workers, tmp_path):
    """``content add --base-version 0`` of a unit the latest version holds succeeds (it failed
    the task with 'EmptyResultSet') and, being the latest again, makes no version."""
    repo = name("repo")
    stack.pulp("file", "repository", "create", "--name", repo)
    f1, sha1 = write(tmp_path, os.urandom(1000))
    f2, sha2 = write(tmp_path, os.urandom(1000))
    for path, rel in ((f1, "one.bin"), (f2, "two.bin")):
        stack.pulp("file", "content", "upload", "--relative-path", rel, "--file", path)
    add = ["file", "repository", "content", "add", "--repository", repo, "--base-version", "0"]
    stack.pulp(*add[:-2], "--sha256", sha1, "--relative-path", "one.bin")
    assert numbers(stack, repo) == [1, 0]
    stack.pulp(*add, "--sha256", sha1, "--relative-path", "one.bin")
    assert numbers(stack, repo) == [1, 0]
    stack.pulp(*add, "--sha256", sha2, "--relative-path", "two.bin")
    assert numbers(stack, repo) == [2, 1, 0]
    assert paths(stack, repo) == {"two.bin"}


def test_bad_input_is_refused(stack, workers, tmp_path):
    repo = name("bad")
    cli(stack, "file", "repository", "create", "--name", repo)
    f1, sha1 = write(tmp_path, b"hello")
    out = fails(stack, "file", "content", "upload", "--file", f1)
    assert "relative-path" in out or "relative_path" in out
    # Content that does not exist, and a repository href where content is expected.
    out = fails(
        stack,
        "file",
        "repository",
        "content",
        "add",
        "--repository",
        repo,
        "--sha256",
        sha1,
        "--relative-path",
        "nope",
    )
    repo_href = cli(stack, "file", "repository", "show", "--name", repo)["pulp_href"]
    resp = stack.post(f"{repo_href}modify/", json={"add_content_units": [repo_href]})
    assert resp.status_code == 400 and "add_content_units" in resp.json()
    resp = stack.post(f"{repo_href}modify/", json={"add_content_units": ["/pulp/api/v3/x/"]})
    assert resp.status_code == 400
    assert numbers(stack, repo) == [0]


def test_publish_distribute_autopublish_retain(stack, workers, tmp_path):
    repo = name("pub")
    cli(
        stack,
        "file",
        "repository",
        "create",
        "--name",
        repo,
        "--autopublish",
        "--retain-repo-versions",
        "2",
    )
    for i in range(3):
        path, _ = write(tmp_path, os.urandom(1000))
        stack.pulp(
            "file",
            "content",
            "upload",
            "--relative-path",
            f"f{i}.bin",
            "--file",
            path,
            "--repository",
            repo,
        )
    assert numbers(stack, repo) == [3, 2]
    repo_href = cli(stack, "file", "repository", "show", "--name", repo)["pulp_href"]
    pubs = cli(stack, "file", "publication", "list", "--repository", repo)
    # One publication per version; those of the versions dropped by retention went with them.
    assert sorted(p["repository_version"] for p in pubs) == [
        f"{repo_href}versions/2/",
        f"{repo_href}versions/3/",
    ]

    pub = cli(stack, "file", "publication", "create", "--repository", repo, "--version", "2")
    assert pub["repository_version"] == f"{repo_href}versions/2/"
    base = name("base")
    dist = cli(
        stack,
        "file",
        "distribution",
        "create",
        "--name",
        base,
        "--base-path",
        f"{base}/x",
        "--publication",
        pub["pulp_href"],
    )
    assert dist["base_url"].endswith(f"/pulp/content/{base}/x/")
    assert dist["publication"] == pub["pulp_href"]
    for clash in (f"{base}/x", base, f"{base}/x/y"):
        out = fails(
            stack,
            "file",
            "distribution",
            "create",
            "--name",
            name("d"),
            "--base-path",
            clash,
            "--repository",
            repo,
        )
        assert "base_path" in out and ("Overlaps" in out or "unique" in out), out
    stack.pulp("file", "distribution", "update", "--name", base, "--repository", repo)
    shown = cli(stack, "file", "distribution", "show", "--name", base)
    assert shown["repository"] == repo_href and shown["publication"] is None
    stack.pulp(
        "file",
        "distribution",
        "label",
        "set",
        "--distribution",
        base,
        "--key",
        "tier",
        "--value",
        "gold",
    )
    labelled = cli(stack, "file", "distribution", "list", "--label-select", "tier=gold")
    assert [d["name"] for d in labelled] == [base]
    stack.pulp("file", "publication", "destroy", "--href", pub["pulp_href"])
    stack.pulp("file", "distribution", "destroy", "--name", base)
    assert cli(stack, "file", "distribution", "list", "--name", base) == []


def test_remote_secrets_hidden(stack, workers):
    remote = name("remote")
    created = cli(
        stack,
        "file",
        "remote",
        "create",
        "--name",
        remote,
        "--url",
        "http://origin.invalid/PULP_MANIFEST",
        "--username",
        "user",
        "--password",
        "secret",
        "--proxy-url",
        "http://proxy.invalid:3128",
        "--proxy-username",
        "pu",
        "--proxy-password",
        "pp",
        "--policy",
        "on_demand",
        "--header",
        "X-Token:abc",
        "--download-concurrency",
        "5",
    )
    text = json.dumps(created)
    assert "secret" not in text and '"pp"' not in text
    hidden = {h["name"]: h["is_set"] for h in created["hidden_fields"]}
    assert hidden["password"] and hidden["proxy_password"] and not hidden["client_key"]
    assert created["headers"] == [{"X-Token": "abc"}] and created["policy"] == "on_demand"
    stack.pulp(
        "file", "remote", "update", "--name", remote, "--policy", "streamed", "--password", ""
    )
    shown = cli(stack, "file", "remote", "show", "--name", remote)
    assert shown["policy"] == "streamed" and shown["download_concurrency"] == 5
    assert "password" not in shown
    hidden = {h["name"]: h["is_set"] for h in shown["hidden_fields"]}
    assert hidden == {
        "client_key": False,
        "username": True,
        "password": False,
        "proxy_username": True,
        "proxy_password": True,
    }
    fails(
        stack,
        "file",
        "remote",
        "create",
        "--name",
        name("r"),
        "--url",
        "http://h/",
        "--policy",
        "never",
    )
    stack.pulp("file", "remote", "label", "set", "--remote", remote, "--key", "k", "--value", "v")
    assert cli(stack, "file", "remote", "show", "--name", remote)["pulp_labels"] == {"k": "v"}
    stack.pulp("file", "remote", "label", "unset", "--remote", remote, "--key", "k")
    assert cli(stack, "file", "remote", "show", "--name", remote)["pulp_labels"] == {}
    stack.pulp("file", "remote", "destroy", "--name", remote)
