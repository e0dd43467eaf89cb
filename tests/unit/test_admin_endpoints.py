"""Signing services, task schedules, artifact distributions, DELETE orphans/, reclaim space and
core-wide repair, through Django's full stack against the real database.

Tasks are executed in-process from what the view dispatched (as in test_plugin_file_api).
Signing uses a real GnuPG key made for the test; schedules are dispatched by the same function
the workers' monitor thread calls.
"""

import os
import stat
import subprocess
from datetime import timedelta
from pathlib import Path

import pytest
from django.conf import settings
from django.core.management import CommandError, call_command
from django.utils import timezone

from pulp_file.app.models import FileContent, FilePublication, FileRemote
from pulpcore.app.models import (
    Artifact,
    ArtifactDistribution,
    ContentArtifact,
    RemoteArtifact,
    SigningService,
    Task,
    TaskSchedule,
)
from pulpcore.app.storage import delete_stored, open_stored, replace_stored, stored_exists
from pulpcore.tasking import schedules
from tests.unit.test_plugin_file_api import API, PUBS, add_file, make_repo, post, run
from tests.unit.test_settings import run_manager

pytestmark = pytest.mark.django_db


@pytest.fixture
def client():
    from django.contrib.auth import get_user_model
    from django.test import Client

    admin = get_user_model().objects.create(username="admin", is_superuser=True)
    c = Client()
    c.force_login(admin)
    return c


# --- signing services ----------------------------------------------------------------------------
@pytest.fixture
def gpg_key(tmp_path):
    home = tmp_path / "gnupg"
    home.mkdir(mode=0o700)
    gpg = ["gpg", "--batch", "--homedir", str(home)]
    subprocess.run(
        [*gpg, "--passphrase", "", "--quick-gen-key", "Pulp Test <t@example.invalid>", "ed25519",
         "sign", "never"],
        check=True, capture_output=True,
    )  # fmt: skip
    out = subprocess.run(
        [*gpg, "--with-colons", "--fingerprint", "t@example.invalid"],
        check=True, capture_output=True, text=True,
    ).stdout  # fmt: skip
    fingerprint = next(line.split(":")[9] for line in out.splitlines() if line.startswith("fpr:"))
    yield home, fingerprint
    subprocess.run(["gpgconf", "--homedir", str(home), "--kill", "all"], check=False)


def write_script(path: Path, body: str) -> str:
    path.write_text("#!/bin/sh\n" + body)
    path.chmod(path.stat().st_mode | stat.S_IXUSR)
    return str(path)


def test_signing_service_registered_listed_and_removed(client, gpg_key, tmp_path):
    home, fingerprint = gpg_key
    script = write_script(
        tmp_path / "sign.sh",
        f"gpg --batch --homedir {home} --yes --armor --detach-sign "
        f'--local-user "$PULP_SIGNING_KEY_FINGERPRINT" --output "$1.asc" "$1"\n'
        'printf \'{"file": "%s", "signature": "%s"}\' "$1" "$1.asc"\n',
    )
    call_command("add-signing-service", "test-signer", script, fingerprint, gnupghome=str(home))
    service = SigningService.objects.get(name="test-signer")
    assert service.pubkey_fingerprint == fingerprint
    assert "BEGIN PGP PUBLIC KEY BLOCK" in service.public_key
    # plugins sign through the model
    target = tmp_path / "Release"
    target.write_text("hello\n")
    report = service.sign(str(target))
    assert Path(report["signature"]).read_text().startswith("-----BEGIN PGP SIGNATURE")

    listing = client.get(f"{API}signing-services/", {"name": "test-signer"}).json()
    assert listing["count"] == 1
    shown = client.get(listing["results"][0]["pulp_href"]).json()
    assert shown["script"] == script and shown["pubkey_fingerprint"] == fingerprint
    assert client.get(f"{API}signing-services/", {"name": "other"}).json()["count"] == 0
    assert client.post(f"{API}signing-services/", {}).status_code == 405

    with pytest.raises(CommandError, match="already exists"):
        call_command("add-signing-service", "test-signer", script, fingerprint, gnupghome=str(home))
    call_command("remove-signing-service", "test-signer")
    assert not SigningService.objects.exists()
    with pytest.raises(CommandError, match="No signing service"):
        call_command("remove-signing-service", "test-signer")


def test_failing_signing_script_is_refused_with_its_stderr(gpg_key, tmp_path):
    home, fingerprint = gpg_key
    failing = write_script(tmp_path / "fail.sh", 'echo "no key for you" >&2\nexit 3\n')
    # Through the real command line: non-zero exit and the script's stderr.
    env = {**os.environ, "PULP_DATABASES__default__NAME": settings.DATABASES["default"]["NAME"]}
    res = subprocess.run(
        [str(Path(os.sys.executable).parent / "pulpcore-manager"), "add-signing-service", "bad",
         failing, fingerprint, "--gnupghome", str(home)],
        capture_output=True, text=True, timeout=120, env=env,
    )  # fmt: skip
    assert res.returncode != 0
    assert "no key for you" in res.stderr and "exited with code 3" in res.stderr
    # A script that "signs" with garbage does not verify against the public key.
    liar = write_script(
        tmp_path / "liar.sh",
        'echo junk > "$1.asc"\nprintf \'{"file": "%s", "signature": "%s"}\' "$1" "$1.asc"\n',
    )
    with pytest.raises(CommandError, match="does not verify"):
        call_command("add-signing-service", "liar", liar, fingerprint, gnupghome=str(home))
    silent = write_script(tmp_path / "silent.sh", "echo not-json\n")
    with pytest.raises(CommandError, match="did not print JSON"):
        call_command("add-signing-service", "silent", silent, fingerprint, gnupghome=str(home))
    with pytest.raises(CommandError, match="No public key"):
        call_command("add-signing-service", "nokey", failing, "0" * 40, gnupghome=str(home))
    assert not SigningService.objects.exists()


# --- task schedules ------------------------------------------------------------------------------
def test_orphan_cleanup_schedule_follows_setting_and_dispatches_once(client, settings):
    settings.ORPHAN_CLEANUP_INTERVAL = None
    schedules.sync_from_settings()
    assert client.get(f"{API}task-schedules/").json()["count"] == 0  # off by default

    settings.ORPHAN_CLEANUP_INTERVAL = 30
    schedules.sync_from_settings()
    listing = client.get(f"{API}task-schedules/", {"task_name__contains": "orphan"}).json()
    assert listing["count"] == 1
    shown = client.get(listing["results"][0]["pulp_href"]).json()
    assert shown["name"] == schedules.ORPHAN_CLEANUP_NAME
    assert shown["task_name"] == "pulpcore.app.tasks.orphan.orphan_cleanup"
    assert shown["dispatch_interval"] == "00:30:00"
    assert shown["last_task"] is None

    # Not due yet: nothing happens.
    assert schedules.dispatch_due() == []
    # Due: one task, and the next time moves on by the interval.
    schedule = TaskSchedule.objects.get()
    past = timezone.now() - timedelta(minutes=1)
    TaskSchedule.objects.update(next_dispatch=past)
    (task,) = schedules.dispatch_due()
    assert task.name == "pulpcore.app.tasks.orphan.orphan_cleanup" and task.state == "waiting"
    schedule.refresh_from_db()
    assert schedule.last_task_id == task.pk
    assert schedule.next_dispatch > timezone.now() + timedelta(minutes=28)
    # Due again while the previous task still waits: not dispatched twice.
    TaskSchedule.objects.update(next_dispatch=past)
    assert schedules.dispatch_due() == []
    Task.objects.filter(pk=task.pk).update(state="completed")
    assert len(schedules.dispatch_due()) == 1
    shown = client.get(listing["results"][0]["pulp_href"]).json()
    assert shown["last_task"].startswith(f"{API}tasks/")

    settings.ORPHAN_CLEANUP_INTERVAL = None
    schedules.sync_from_settings()
    assert not TaskSchedule.objects.exists()


@pytest.mark.parametrize("value", ["0", "soon"])
def test_bad_schedule_setting_is_one_line(value):
    res = run_manager({"PULP_ORPHAN_CLEANUP_INTERVAL": value})
    assert res.returncode != 0 and "Traceback" not in res.stderr
    assert "ORPHAN_CLEANUP_INTERVAL" in res.stderr.strip().splitlines()[-1]


# --- artifact distributions ----------------------------------------------------------------------
def test_artifact_distributions_list_and_read_only(client):
    ArtifactDistribution.objects.create(name="artifacts", base_path="pulp-artifacts")
    url = f"{API}distributions/core/artifacts/"
    listing = client.get(url, {"name__startswith": "arti"}).json()
    assert listing["count"] == 1
    shown = client.get(listing["results"][0]["pulp_href"]).json()
    assert shown["base_path"] == "pulp-artifacts" and "repository" not in shown
    assert shown["pulp_href"].startswith(url)
    generic = client.get(f"{API}distributions/", {"pulp_type": "core.artifact"}).json()
    assert generic["count"] == 1
    assert post(client, url, {"name": "x", "base_path": "x"}).status_code == 405


# --- DELETE orphans/ -----------------------------------------------------------------------------
def test_deprecated_delete_orphans_runs_the_cleanup(client, settings):
    unit = add_file(client, b"an orphan: in no repository", "o.txt")
    pk = unit.split("/")[-2]
    settings.ORPHAN_PROTECTION_TIME = 0
    resp = client.delete(f"{API}orphans/")
    assert resp.status_code == 202
    task = run(resp)
    assert task.name == "pulpcore.app.tasks.orphan.orphan_cleanup"
    assert not FileContent.objects.filter(pk=pk).exists()


# --- reclaim space -------------------------------------------------------------------------------
def _with_remote(client, repo, data: bytes, path: str, remote: FileRemote) -> ContentArtifact:
    href = add_file(client, data, path, repo["pulp_href"])
    ca = ContentArtifact.objects.select_related("artifact").get(content_id=href.split("/")[-2])
    RemoteArtifact.objects.create(
        url=f"http://127.0.0.1:9/{path}", sha256=ca.artifact.sha256, size=len(data),
        content_artifact=ca, remote=remote,
    )  # fmt: skip
    return ca


def test_reclaim_space_drops_only_files_nothing_else_needs(client, storage_backend):
    remote = FileRemote.objects.create(name="rc", url="http://127.0.0.1:9/PULP_MANIFEST")
    repo = make_repo(client)
    other = make_repo(client)
    kept = _with_remote(client, repo, b"in a kept version", "kept.txt", remote)  # version 1
    only = _with_remote(client, repo, b"only here", "only.txt", remote)  # version 2
    shared = _with_remote(client, repo, b"shared", "shared.txt", remote)  # version 3
    uploaded = add_file(client, b"nobody can refetch me", "up.txt", repo["pulp_href"])  # 4
    run(post(client, f"{other['pulp_href']}modify/", {
        "add_content_units": [f"{API}content/file/files/{shared.content_id}/"]}))  # fmt: skip
    files = {ca.pk: ca.artifact.file.name for ca in (only, kept, shared)}
    assert all(stored_exists(name) for name in files.values())

    task = run(post(client, f"{API}repositories/reclaim_space/", {
        "repo_hrefs": [repo["pulp_href"]],
        "repo_versions_keeplist": [f"{repo['versions_href']}1/"],
    }))  # fmt: skip
    report = task.progress_reports.get(code="reclaim-space.artifact")
    assert (report.done, report.total, report.state) == (1, 1, "completed")
    only.refresh_from_db()
    assert only.artifact_id is None and not stored_exists(files[only.pk])
    assert RemoteArtifact.objects.filter(content_artifact=only).exists()  # can fetch again
    assert FileContent.objects.filter(pk=only.content_id).exists()  # the unit stays
    for ca in (kept, shared):
        ca.refresh_from_db()
        assert ca.artifact_id is not None and stored_exists(files[ca.pk])
    up = ContentArtifact.objects.get(content_id=uploaded.split("/")[-2])
    assert up.artifact_id is not None

    # Without the keep-list, the kept unit goes too; the shared one stays.
    run(post(client, f"{API}repositories/reclaim_space/", {"repo_hrefs": [repo["pulp_href"]]}))
    kept.refresh_from_db()
    shared.refresh_from_db()
    assert kept.artifact_id is None and shared.artifact_id is not None
    # "*" (what ``pulp repository reclaim --all`` sends) takes in every repository.
    run(post(client, f"{API}repositories/reclaim_space/", {"repo_hrefs": ["*"]}))
    shared.refresh_from_db()
    assert shared.artifact_id is None and not stored_exists(files[shared.pk])
    if storage_backend is not None:  # the objects left the bucket
        assert not set(files.values()) & storage_backend.keys("artifact/")


def test_reclaim_space_keeps_what_a_pass_through_publication_serves(client):
    remote = FileRemote.objects.create(name="rp", url="http://127.0.0.1:9/PULP_MANIFEST")
    repo = make_repo(client)
    served = _with_remote(client, repo, b"published in version 1", "pub.txt", remote)
    run(post(client, PUBS, {"repository_version": f"{repo['versions_href']}1/"}))
    later = _with_remote(client, repo, b"added in version 2", "later.txt", remote)
    pub = FilePublication.objects.get()
    assert pub.pass_through and not pub.published_artifact.exists()
    reclaim = {"repo_hrefs": [repo["pulp_href"]]}
    run(post(client, f"{API}repositories/reclaim_space/", reclaim))
    served.refresh_from_db()
    later.refresh_from_db()
    assert served.artifact_id is not None and later.artifact_id is None
    pub.delete()  # nothing serves it any more
    run(post(client, f"{API}repositories/reclaim_space/", reclaim))
    served.refresh_from_db()
    assert served.artifact_id is None


def test_reclaim_space_bad_input_is_400(client):
    repo = make_repo(client)
    other = make_repo(client)
    url = f"{API}repositories/reclaim_space/"
    before = Task.objects.count()
    for body in (
        {},
        {"repo_hrefs": []},
        {"repo_hrefs": ["/pulp/api/v3/nope/"]},
        {
            "repo_hrefs": [repo["pulp_href"]],
            "repo_versions_keeplist": [f"{other['versions_href']}0/"],
        },
    ):
        resp = post(client, url, body)
        assert resp.status_code == 400, (body, resp.content)
    assert "repo_versions_keeplist" in resp.json()
    assert Task.objects.count() == before


# --- core-wide repair ----------------------------------------------------------------------------
def test_repair_all_refetches_and_reports_unrepairable(client, tmp_path, storage_backend):
    from tests.fixtures import FixtureServer

    origin = tmp_path / "origin"
    origin.mkdir()
    good = os.urandom(3000)
    (origin / "g.bin").write_bytes(good)
    repo = make_repo(client)
    href = add_file(client, good, "g.bin", repo["pulp_href"])
    lonely = add_file(client, b"no remote", "lonely.txt", repo["pulp_href"])
    ca = ContentArtifact.objects.select_related("artifact").get(content_id=href.split("/")[-2])
    lonely_ca = ContentArtifact.objects.select_related("artifact").get(
        content_id=lonely.split("/")[-2]
    )
    with FixtureServer(origin) as server:
        remote = FileRemote.objects.create(name="rp", url=server.url + "PULP_MANIFEST")
        RemoteArtifact.objects.create(
            url=server.url + "g.bin", sha256=ca.artifact.sha256, size=len(good),
            content_artifact=ca, remote=remote,
        )  # fmt: skip
        delete_stored(ca.artifact.file.name)
        bad = tmp_path / "bad"
        bad.write_bytes(b"X" * 20)
        replace_stored(lonely_ca.artifact.file.name, str(bad))
        task = run(post(client, f"{API}repair/", {"verify_checksums": False}))
    reports = {pr.code: pr for pr in task.progress_reports.all()}
    assert reports["repair.missing"].done == 1
    assert reports["repair.corrupted"].done == 1  # wrong size, found without hashing
    assert reports["repair.repaired"].done == 1
    assert reports["repair.unrepaired"].done == 1
    with open_stored(ca.artifact.file.name) as fp:  # fetched again, verified, stored again
        assert fp.read() == good
    if storage_backend is not None:
        assert storage_backend.read(ca.artifact.file.name) == good
    assert Artifact.objects.count() >= 2
    assert post(client, f"{API}repair/", {"verify_checksums": "maybe"}).status_code == 400


# --- who may ------------------------------------------------------------------------------------
def test_admin_endpoints_as_admin_user_and_anonymous(client, settings):
    from django.contrib.auth import get_user_model
    from django.test import Client

    settings.ORPHAN_CLEANUP_INTERVAL = 30
    schedules.sync_from_settings()
    SigningService.objects.create(
        name="s", script="/bin/true", public_key="k", pubkey_fingerprint="f"
    )
    ArtifactDistribution.objects.create(name="ad", base_path="ad")
    repo = make_repo(client)
    user = get_user_model().objects.create(username="alice")
    alice = Client()
    alice.force_login(user)
    anonymous = Client()
    reclaim = {"repo_hrefs": [repo["pulp_href"]]}
    before = Task.objects.count()
    for c, may in ((client, True), (alice, False), (anonymous, False)):
        r = post(c, f"{API}repair/", {})
        assert (r.status_code == 202) is may, r.status_code
        r = post(c, f"{API}repositories/reclaim_space/", reclaim)
        assert (r.status_code == 202) is may, r.status_code
        r = c.delete(f"{API}orphans/")
        assert (r.status_code == 202) is may, r.status_code
    assert Task.objects.count() == before + 3  # only the admin's
    # Everyone signed in sees signing services and artifact distributions.
    for c in (client, alice):
        assert c.get(f"{API}signing-services/").json()["count"] == 1
        assert c.get(f"{API}distributions/core/artifacts/").json()["count"] == 1
    # Schedules: listed, but scoped to what the user may view.
    assert client.get(f"{API}task-schedules/").json()["count"] == 1
    assert alice.get(f"{API}task-schedules/").json()["count"] == 0
    href = client.get(f"{API}task-schedules/").json()["results"][0]["pulp_href"]
    assert alice.get(href).status_code in (403, 404)
    for path in ("signing-services/", "task-schedules/", "distributions/core/artifacts/"):
        assert anonymous.get(f"{API}{path}").status_code in (401, 403)


def test_task_schedule_roles_let_a_user_view_one_schedule(client, settings):
    """Role actions on task-schedules/: the admin gives alice the viewer role on one schedule."""
    from django.contrib.auth import get_user_model
    from django.test import Client

    settings.ORPHAN_CLEANUP_INTERVAL = 3600
    schedules.sync_from_settings()
    href = client.get(f"{API}task-schedules/").json()["results"][0]["pulp_href"]
    user = get_user_model().objects.create(username="sched-alice")
    get_user_model().objects.create(username="sched-bob")
    alice = Client()
    alice.force_login(user)
    assert alice.get(href).status_code == 404
    body = {"role": "core.taskschedule_viewer", "users": ["sched-alice"]}
    r = post(client, f"{href}add_role/", body)
    assert r.status_code == 201, r.content
    assert alice.get(href).status_code == 200
    assert alice.get(f"{API}task-schedules/").json()["count"] == 1
    mine = alice.get(f"{href}my_permissions/").json()["permissions"]
    assert mine == ["core.view_taskschedule"]
    # A viewer may not hand the role on; the admin lists and takes it back.
    assert post(alice, f"{href}add_role/", {**body, "users": ["sched-bob"]}).status_code == 403
    roles = client.get(f"{href}list_roles/").json()["roles"]
    assert roles == [{"role": "core.taskschedule_viewer", "users": ["sched-alice"], "groups": []}]
    assert post(client, f"{href}remove_role/", body).status_code == 201
    assert alice.get(href).status_code == 404
    # A role of another object type is refused.
    wrong = {"role": "core.task_owner", "users": ["sched-alice"]}
    assert post(client, f"{href}add_role/", wrong).status_code == 400
    assert Client().get(f"{href}list_roles/").status_code in (401, 403)
