"""Export on one stack and import on a second, empty one (own database and MEDIA_ROOT).

Exporters, exports, importers and task groups go through the real ``pulp`` CLI 0.41.1; pulp-cli
has no command that starts an import, so that one call is a plain REST POST. Every imported file
is downloaded through the second stack's content app and compared by sha256.
"""

import hashlib
import json
import os
import uuid
from pathlib import Path

import pytest
import requests

from tests import testenv
from tests.stack import Stack, wait_for

pytestmark = pytest.mark.functional

SHARED = Path(testenv.ROOT) / "export-share"


def _stack(name: str) -> Stack:
    SHARED.mkdir(parents=True, exist_ok=True)
    allowed = json.dumps([str(SHARED)])
    s = Stack(
        name,
        extra_env={"PULP_ALLOWED_EXPORT_PATHS": allowed, "PULP_ALLOWED_IMPORT_PATHS": allowed},
    ).setup()
    s.start_api()
    if s.env.get("PULP_USE_NEW_WORKER_STYLE", "").lower() not in ("true", "1", "yes"):
        s.start_resource_manager("resource-manager")
    s.start_worker("worker-1")
    return s


@pytest.fixture(scope="module")
def source():
    s = _stack("export-src")
    yield s
    s.stop_all()


@pytest.fixture(scope="module")
def target():
    s = _stack("export-dst")
    s.start_content()
    yield s
    s.stop_all()


def cli(stack, *args):
    out = stack.pulp(*args).stdout
    return json.loads(out) if out.strip() else None


def upload(stack, tmp_path, repo: str, relative_path: str, size: int) -> str:
    data = os.urandom(size)
    path = tmp_path / uuid.uuid4().hex
    path.write_bytes(data)
    cli(
        stack, "file", "content", "upload", "--relative-path", relative_path,
        "--file", str(path), "--repository", repo,
    )  # fmt: skip
    return hashlib.sha256(data).hexdigest()


def start_import(stack, importer: dict, **body) -> dict:
    resp = stack.post(f"{importer['pulp_href']}imports/", json=body)
    assert resp.status_code == 202, resp.text
    group_href = resp.json()["task_group"]

    def finished():
        group = cli(stack, "task-group", "show", "--href", group_href)
        busy = group["waiting"] + group["running"] + group["canceling"]
        return group if group["all_tasks_dispatched"] and not busy else None

    return wait_for(finished, timeout=180, interval=0.5, what="the import task group")


def served(stack, repo: str) -> dict[str, str]:
    """{relative path: sha256} of every file of ``repo``, downloaded through the content app."""
    tag = uuid.uuid4().hex[:8]
    pub = cli(stack, "file", "publication", "create", "--repository", repo)
    cli(
        stack, "file", "distribution", "create", "--name", f"d-{tag}",
        "--base-path", f"imp/{tag}", "--publication", pub["pulp_href"],
    )  # fmt: skip
    units = cli(stack, "file", "repository", "content", "list", "--repository", repo)
    out = {}
    for unit in units:
        url = f"{stack.content_origin}/pulp/content/imp/{tag}/{unit['relative_path']}"
        resp = requests.get(url, timeout=30)
        assert resp.status_code == 200, url
        out[unit["relative_path"]] = hashlib.sha256(resp.content).hexdigest()
    return out


def exports_of(stack, exporter: str) -> list[dict]:
    return cli(stack, "export", "pulp", "list", "--exporter", exporter)


def test_export_then_import_into_empty_stack(source, target, tmp_path):
    tag = uuid.uuid4().hex[:6]
    one, two = f"one-{tag}", f"two-{tag}"
    files = {one: {}, two: {}}
    for repo in (one, two):
        cli(source, "file", "repository", "create", "--name", repo)
        for i in range(3):
            files[repo][f"f{i}.bin"] = upload(source, tmp_path, repo, f"f{i}.bin", 20_000 + i)
    exporter = f"exp-{tag}"
    cli(
        source, "exporter", "pulp", "create", "--name", exporter,
        "--path", str(SHARED / exporter),
        "--repository", f"file:file:{one}", "--repository", f"file:file:{two}",
    )  # fmt: skip
    # A path outside ALLOWED_EXPORT_PATHS is refused when the exporter is created.
    res = source.pulp(
        "exporter", "pulp", "create", "--name", f"bad-{tag}", "--path", "/var/tmp/outside",
        "--repository", f"file:file:{one}", check=False,
    )  # fmt: skip
    assert res.returncode != 0 and "ALLOWED_EXPORT_PATHS" in res.stdout + res.stderr

    # 1. full export
    source.pulp("export", "pulp", "run", "--exporter", exporter)
    full = exports_of(source, exporter)[0]
    full_toc = full["toc_info"]["file"]
    assert full["exported_resources"] and len(full["output_file_info"]) == 1

    # 2. incremental export from version 3 of each repository
    files[one]["new.bin"] = upload(source, tmp_path, one, "new.bin", 1234)
    source.pulp(
        "export", "pulp", "run", "--exporter", exporter, "--full", "False",
        "--start-versions", f"file:file:{one}", "3", "--start-versions", f"file:file:{two}", "3",
    )  # fmt: skip
    incremental = exports_of(source, exporter)[0]
    assert incremental["params"]["full"] is False

    # 3. chunked export at 1 MB
    files[two]["big.bin"] = upload(source, tmp_path, two, "big.bin", 2_500_000)
    source.pulp("export", "pulp", "run", "--exporter", exporter, "--chunk-size", "1MB")
    chunked = exports_of(source, exporter)[0]
    assert len(chunked["output_file_info"]) >= 3
    shown = cli(source, "exporter", "pulp", "show", "--name", exporter)
    assert shown["last_export"] == chunked["pulp_href"]

    # Import the full export with create_repositories and a mapping for one repository.
    mapped = f"mapped-{tag}"
    importer = cli(target, "importer", "pulp", "create", "--name", f"i-{tag}",
                   "--repo-map", two, mapped)  # fmt: skip
    group = start_import(target, importer, toc=full_toc, create_repositories=True)
    assert group["failed"] == 0 and group["completed"] == 3, group
    reports = {r["message"]: r for r in group["group_progress_reports"]}
    assert reports["Importing repositories"]["done"] == 2
    expected_one = {k: v for k, v in files[one].items() if k != "new.bin"}
    expected_two = {k: v for k, v in files[two].items() if k != "big.bin"}
    assert served(target, one) == expected_one
    assert served(target, mapped) == expected_two

    # The incremental export adds new.bin to the existing repositories.
    group = start_import(target, importer, toc=incremental["toc_info"]["file"])
    assert group["failed"] == 0, group
    assert served(target, one) == files[one]

    # The chunked export into a second importer without mapping (repositories created).
    plain = cli(target, "importer", "pulp", "create", "--name", f"plain-{tag}")
    group = start_import(target, plain, toc=chunked["toc_info"]["file"], create_repositories=True)
    assert group["failed"] == 0, group
    assert served(target, two) == files[two]
    # Importing the same export again makes no duplicate content.
    count = len(cli(target, "file", "content", "list", "--limit", "1000"))
    group = start_import(target, plain, toc=chunked["toc_info"]["file"])
    assert group["failed"] == 0, group
    assert len(cli(target, "file", "content", "list", "--limit", "1000")) == count

    # A damaged piece fails the import readably and changes nothing.
    piece = sorted(chunked["output_file_info"])[1]
    with open(piece, "r+b") as fh:
        fh.write(b"damage")
    resp = target.post(f"{plain['pulp_href']}imports/", json={"toc": chunked["toc_info"]["file"]})
    group_href = resp.json()["task_group"]
    wait_for(
        lambda: cli(target, "task-group", "show", "--href", group_href)["failed"] == 1,
        timeout=120,
        what="the damaged import to fail",
    )
    task = cli(target, "task", "list", "--name", "pulpcore.app.tasks.importer.pulp_import",
               "--state", "failed")[0]  # fmt: skip
    assert "table of contents says" in task["error"]["description"]

    # Deleting the exporter keeps the export files.
    source.pulp("exporter", "pulp", "destroy", "--name", exporter)
    for export in (full, incremental, chunked):
        assert all(os.path.exists(p) for p in export["output_file_info"])


@pytest.mark.parametrize("method", ["write", "hardlink", "symlink"])
def test_filesystem_export_matches_publication(source, tmp_path, method):
    tag = uuid.uuid4().hex[:6]
    repo = f"fs-{tag}"
    cli(source, "file", "repository", "create", "--name", repo)
    files = {f"d/{i}.bin": upload(source, tmp_path, repo, f"d/{i}.bin", 5000 + i) for i in range(3)}
    pub = cli(source, "file", "publication", "create", "--repository", repo)
    target_dir = SHARED / f"fs-{tag}"
    resp = source.post(
        "exporters/core/filesystem/",
        json={"name": f"fs-{tag}", "path": str(target_dir), "method": method},
    )
    assert resp.status_code == 201, resp.text
    task = source.post(
        f"{resp.json()['pulp_href']}exports/", json={"publication": pub["pulp_href"]}
    ).json()["task"]
    assert source.wait_task(task)["state"] == "completed"
    tree = {
        str(p.relative_to(target_dir)): hashlib.sha256(p.read_bytes()).hexdigest()
        for p in target_dir.rglob("*")
        if p.is_file()
    }
    manifest = tree.pop("PULP_MANIFEST")
    assert tree == files
    assert manifest
    lines = (target_dir / "PULP_MANIFEST").read_text().split()
    assert sorted(line.split(",")[0] for line in lines) == sorted(files)
    if method == "symlink":
        assert all((target_dir / f).is_symlink() for f in files)
