"""Admin operations end to end on real processes with the real ``pulp`` CLI where it has the
command: reclaim space then serve the reclaimed on_demand files again, repair after files were
deleted on disk, signing services registered with ``pulpcore-manager``, ``DELETE orphans/``,
and a periodic schedule dispatched by the workers themselves (a stack of its own).

pulp-cli 0.41.1 has no ``repair`` or ``task-schedule`` command: those go over REST.
"""

import hashlib
import json
import stat
import subprocess
import uuid

import pytest
import requests

from tests.fixtures import FixtureServer, make_file_fixture
from tests.stack import Stack, wait_for

pytestmark = pytest.mark.functional


def cli(stack, *args):
    out = stack.pulp(*args).stdout
    return json.loads(out) if out.strip() else {}


def name(prefix: str) -> str:
    return f"{prefix}-{uuid.uuid4().hex[:8]}"


@pytest.fixture(scope="module")
def content(stack):
    stack.start_content()
    yield stack
    stack.stop("content")


def distributed_repo(stack, url: str, policy: str) -> tuple[str, str]:
    repo, remote, base = name("adm-repo"), name("adm-remote"), name("adm")
    cli(stack, "file", "remote", "create", "--name", remote, "--url", url, "--policy", policy)
    cli(stack, "file", "repository", "create", "--name", repo, "--remote", remote)
    stack.pulp("file", "repository", "sync", "--name", repo)
    cli(
        stack, "file", "distribution", "create", "--name", base, "--base-path", base,
        "--repository", repo,
    )  # fmt: skip
    return repo, base


def fetch_all(stack, base: str, tree) -> None:
    for entry in tree.entries:
        url = f"{stack.content_origin}/pulp/content/{base}/{entry.relative_path}"
        r = requests.get(url, timeout=30)
        assert r.status_code == 200, (url, r.status_code, r.text[:200])
        assert hashlib.sha256(r.content).hexdigest() == entry.sha256


def stored(stack, sha256: str) -> list:
    return cli(stack, "artifact", "list", "--sha256", sha256)


def last_task(stack, task_name: str) -> dict:
    (task,) = cli(stack, "task", "list", "--name", task_name, "--limit", "1")
    return cli(stack, "task", "show", "--href", task["pulp_href"])


def test_reclaim_then_serve_on_demand_again(stack, workers, content, tmp_path):
    tree = make_file_fixture(tmp_path / "origin", count=4, size=2048)
    with FixtureServer(tree.root) as server:
        repo, base = distributed_repo(stack, server.url + "PULP_MANIFEST", "on_demand")
        fetch_all(stack, base, tree)
        # on_demand keeps what it served: the files are stored now
        for entry in tree.entries:
            wait_for(lambda e=entry: stored(stack, e.sha256), what=f"{entry.relative_path} saved")

        stack.pulp("repository", "reclaim", "--repository", f"file:file:{repo}")
        task = last_task(stack, "pulpcore.app.tasks.reclaim.reclaim_space")
        assert task["state"] == "completed"
        (report,) = [r for r in task["progress_reports"] if r["code"] == "reclaim-space.artifact"]
        assert (report["done"], report["total"]) == (4, 4)
        for entry in tree.entries:
            assert stored(stack, entry.sha256) == []
        units = cli(stack, "file", "repository", "content", "list", "--repository", repo)
        assert len(units) == 4  # the content units stay

        # served again, fetched from the origin a second time
        fetch_all(stack, base, tree)
        assert all(server.counts[e.relative_path] == 2 for e in tree.entries), server.counts

    # bad input: 400, no task
    r = stack.post("repositories/reclaim_space/", json={"repo_hrefs": []})
    assert r.status_code == 400 and "repo_hrefs" in r.json()
    other = cli(stack, "file", "repository", "create", "--name", name("adm-other"))
    res = stack.pulp(
        "repository", "reclaim", "--repository", f"file:file:{repo}",
        "--keep-version", other["pulp_href"], "0", check=False,
    )  # fmt: skip
    assert res.returncode != 0 and "repo_versions_keeplist" in res.stdout + res.stderr


def test_repair_after_files_deleted_on_disk(stack, workers, content, tmp_path):
    tree = make_file_fixture(tmp_path / "origin", count=3, size=4096)
    lonely = tmp_path / "lonely.txt"
    lonely.write_bytes(b"uploaded, no remote knows it")
    with FixtureServer(tree.root) as server:
        repo, base = distributed_repo(stack, server.url + "PULP_MANIFEST", "immediate")
        stack.pulp(
            "file", "content", "upload", "--file", str(lonely), "--relative-path", "lonely.txt",
            "--repository", repo,
        )  # fmt: skip
        media = stack.root / "media"
        files = {e.sha256: next(media.rglob(e.sha256[2:])) for e in tree.entries}
        first, second, third = tree.entries
        files[first.sha256].unlink()
        files[second.sha256].write_bytes(b"\0" * second.size)  # same size, wrong bytes
        lonely_sha = hashlib.sha256(lonely.read_bytes()).hexdigest()
        next(media.rglob(lonely_sha[2:])).unlink()

        r = stack.post("repair/", json={"verify_checksums": True})
        assert r.status_code == 202
        task = stack.wait_task(r.json()["task"])
        assert task["state"] == "completed", task["error"]
        reports = {p["code"]: p["done"] for p in task["progress_reports"]}
        assert reports["repair.missing"] == 2
        assert reports["repair.corrupted"] == 1
        assert reports["repair.repaired"] == 2
        assert reports["repair.unrepaired"] == 1
        for entry in tree.entries:
            assert hashlib.sha256(files[entry.sha256].read_bytes()).hexdigest() == entry.sha256
        fetch_all(stack, base, tree)
    assert stack.post("repair/", json={"verify_checksums": "maybe"}).status_code == 400


def test_signing_service_registered_and_listed(stack, tmp_path):
    home = tmp_path / "gnupg"
    home.mkdir(mode=0o700)
    gpg = ["gpg", "--batch", "--homedir", str(home)]
    subprocess.run(
        [*gpg, "--passphrase", "", "--quick-gen-key", "Pulp CLI <c@example.invalid>", "ed25519",
         "sign", "never"],
        check=True, capture_output=True,
    )  # fmt: skip
    try:
        script = tmp_path / "sign.sh"
        script.write_text(
            "#!/bin/sh\n"
            f'gpg --batch --homedir {home} --yes --armor --detach-sign --output "$1.asc" "$1"\n'
            'printf \'{"file": "%s", "signature": "%s"}\' "$1" "$1.asc"\n'
        )
        script.chmod(script.stat().st_mode | stat.S_IXUSR)
        service = name("signer")
        stack.manage(
            "add-signing-service", service, str(script), "c@example.invalid",
            "--gnupghome", str(home),
        )  # fmt: skip
        listed = cli(stack, "signing-service", "list", "--name", service)
        assert len(listed) == 1 and listed[0]["script"] == str(script)
        shown = cli(stack, "signing-service", "show", "--name", service)
        assert "BEGIN PGP PUBLIC KEY BLOCK" in shown["public_key"]

        failing = tmp_path / "fail.sh"
        failing.write_text("#!/bin/sh\necho 'the HSM is unplugged' >&2\nexit 1\n")
        failing.chmod(failing.stat().st_mode | stat.S_IXUSR)
        res = stack.manage(
            "add-signing-service", name("bad"), str(failing), "c@example.invalid",
            "--gnupghome", str(home), check=False,
        )  # fmt: skip
        assert res.returncode != 0 and "the HSM is unplugged" in res.stderr
        stack.manage("remove-signing-service", service)
        assert cli(stack, "signing-service", "list", "--name", service) == []
    finally:
        subprocess.run(["gpgconf", "--homedir", str(home), "--kill", "all"], check=False)


def test_deprecated_delete_orphans(stack, workers):
    r = stack.api.delete(stack.url("orphans/"), timeout=30)
    assert r.status_code == 202
    task = stack.wait_task(r.json()["task"])
    assert task["state"] == "completed"
    assert task["name"] == "pulpcore.app.tasks.orphan.orphan_cleanup"
    codes = {p["code"] for p in task["progress_reports"]}
    assert codes == {"clean-up.content", "clean-up.artifacts"}


def test_orphan_cleanup_schedule_run_by_workers():
    """A stack with the schedule on: the worker creates it, and dispatches it when due."""
    sched = Stack(
        "sched",
        extra_env={"PULP_ORPHAN_CLEANUP_INTERVAL": "1", "PULP_USE_NEW_WORKER_STYLE": "true"},
    ).setup()
    try:
        sched.start_api(workers=1)
        sched.start_worker("worker-1")
        listing = wait_for(
            lambda: sched.get("task-schedules/").json()["results"], what="schedule created"
        )
        (schedule,) = listing
        assert schedule["task_name"] == "pulpcore.app.tasks.orphan.orphan_cleanup"
        assert schedule["dispatch_interval"] == "00:01:00" and schedule["last_task"] is None
        # Make it due now instead of waiting the minute (the interval arithmetic is unit-tested).
        with sched._db() as conn, conn.cursor() as cur:
            cur.execute("UPDATE core_taskschedule SET next_dispatch = now()")
        shown = wait_for(
            lambda: (s := sched.get(schedule["pulp_href"]).json())["last_task"] and s,
            timeout=30,
            what="scheduled task dispatched",
        )
        task = sched.wait_task(shown["last_task"])
        assert task["state"] == "completed" and task["name"].endswith("orphan_cleanup")
        assert shown["next_dispatch"] > task["pulp_created"]
        assert len(cli(sched, "task", "list", "--name", task["name"])) == 1
    finally:
        sched.stop_all()
        sched.drop_database()


def test_no_schedule_by_default(stack, workers):
    assert stack.get("task-schedules/").json()["count"] == 0
