"""Pulp export and import through the REST API and the task bodies, against real PostgreSQL.

Tasks run in this process (the recorded name called with the recorded arguments), parent first,
then the children it dispatched into the import's task group, so each test also checks what was
dispatched. The real CLI and a second stack are exercised in ``tests/functional/file``.
"""

import hashlib
import io
import json
import os
import shutil
import tarfile
import uuid
from pathlib import Path

import pytest
from django.conf import settings as django_settings
from django.contrib.auth import get_user_model
from django.test import Client
from django.utils.module_loading import import_string

from pulp_file.app.models import FileContent, FilePublication, FileRepository
from pulpcore.app.models import (
    Artifact,
    ContentArtifact,
    FilesystemExport,
    GroupProgressReport,
    PulpExport,
    PulpExporter,
    PulpImport,
    Repository,
    Task,
)
from pulpcore.app.storage import open_stored
from pulpcore.app.tasks.export import ExportError
from pulpcore.app.util import get_url
from pulpcore.plugin.util import new_version, store_artifact_file
from pulpcore.tasking.context import reset_current_task, set_current_task

pytestmark = pytest.mark.django_db

API = "/pulp/api/v3/"
PULP_EXPORTERS = f"{API}exporters/core/pulp/"
FS_EXPORTERS = f"{API}exporters/core/filesystem/"
IMPORTERS = f"{API}importers/core/pulp/"
SAMPLE = Path(__file__).resolve().parents[1] / "data" / "pulpcore-3.123.1-full"


@pytest.fixture
def client():
    admin = get_user_model().objects.create(username="admin", is_superuser=True)
    c = Client()
    c.force_login(admin)
    return c


@pytest.fixture
def dirs(tmp_path, settings):
    export_dir, import_dir = tmp_path / "exports", tmp_path / "imports"
    export_dir.mkdir()
    import_dir.mkdir()
    settings.ALLOWED_EXPORT_PATHS = [str(tmp_path / "exports")]
    # Imports read what exports wrote, so both roots are allowed for imports.
    settings.ALLOWED_IMPORT_PATHS = [str(import_dir), str(export_dir)]
    return export_dir, import_dir


def post(client, url, data=None):
    return client.post(url, data or {}, content_type="application/json")


def execute(task: Task) -> None:
    token = set_current_task(task)
    try:
        import_string(task.name)(*(task.args or []), **(task.kwargs or {}))
    finally:
        reset_current_task(token)


def run(resp) -> Task:
    """Run the task a 202 names; re-raise its failure."""
    assert resp.status_code == 202, resp.content
    task = Task.objects.get(pk=resp.json()["task"].rstrip("/").rsplit("/", 1)[-1])
    execute(task)
    return task


def run_group(resp) -> list[Task]:
    """Run an import's task group: the parent, then every child it dispatched."""
    assert resp.status_code == 202, resp.content
    group_pk = resp.json()["task_group"].rstrip("/").rsplit("/", 1)[-1]
    done = []
    while True:
        pending = Task.objects.filter(task_group_id=group_pk).exclude(pk__in=[t.pk for t in done])
        task = pending.order_by("pulp_created").first()
        if task is None:
            return done
        execute(task)
        done.append(task)


def make_repo(name: str, files: dict[str, bytes]) -> FileRepository:
    repo = FileRepository.objects.create(name=name)
    repo.versions.create(number=0, complete=True)
    repo.next_version = 1
    repo.save()
    if files:
        add_files(repo, files)
    return repo


def add_files(repo: FileRepository, files: dict[str, bytes]):
    units = []
    for relative_path, payload in files.items():
        path = os.path.join(django_settings.WORKING_DIRECTORY, uuid.uuid4().hex)
        Path(path).write_bytes(payload)
        artifact = store_artifact_file(path)
        unit, _ = FileContent.objects.get_or_create(
            relative_path=relative_path, digest=artifact.sha256
        )
        ContentArtifact.objects.get_or_create(
            content=unit, artifact=artifact, relative_path=relative_path
        )
        units.append(unit.pk)
    with new_version(repo) as version:
        version.add_content(FileContent.objects.filter(pk__in=units))
    return version


def files_of(repo: Repository) -> dict[str, str]:
    """{relative path: sha256 of the stored file} of the repository's latest version."""
    version = repo.latest_version()
    out = {}
    for ca in ContentArtifact.objects.filter(content__in=version.content).select_related(
        "artifact"
    ):
        with open_stored(ca.artifact.file.name) as fp:
            out[ca.relative_path] = hashlib.sha256(fp.read()).hexdigest()
    return out


def make_exporter(client, export_dir, repos, name="exp") -> dict:
    resp = post(
        client,
        PULP_EXPORTERS,
        {"name": name, "path": str(export_dir / name), "repositories": [get_url(r) for r in repos]},
    )
    assert resp.status_code == 201, resp.content
    return resp.json()


def export(client, exporter, **body) -> PulpExport:
    task = run(post(client, f"{exporter['pulp_href']}exports/", body))
    return PulpExport.objects.get(task=task)


def make_importer(client, mapping=None, name="imp") -> dict:
    body = {"name": name}
    if mapping:
        body["repo_mapping"] = mapping
    resp = post(client, IMPORTERS, body)
    assert resp.status_code == 201, resp.content
    return resp.json()


def start_import(client, importer, **body):
    return post(client, f"{importer['pulp_href']}imports/", body)


def toc_of(export_obj: PulpExport) -> str:
    return export_obj.toc_info["file"]


def rand(n: int) -> bytes:
    return os.urandom(n)


# --- the pulpcore sample -------------------------------------------------------------------------
def test_pulpcore_sample_export_imports_here(client, dirs):
    _, import_dir = dirs
    for f in SAMPLE.iterdir():
        shutil.copy(f, import_dir / f.name)
    toc = next(import_dir.glob("*-toc.json"))
    importer = make_importer(client, mapping={"exp-repo2": "second"})
    tasks = run_group(start_import(client, importer, toc=str(toc), create_repositories=True))
    assert len(tasks) == 3  # the import, one child per repository
    with tarfile.open(next(SAMPLE.glob("*.tar"))) as tar:
        sample = {
            m.name: hashlib.sha256(tar.extractfile(m).read()).hexdigest()
            for m in tar.getmembers()
            if m.name.startswith("artifact/")
        }
    expected = {name.replace("/", "")[len("artifact") :] for name in sample}
    for name in ("exp-repo", "second"):
        repo = FileRepository.objects.get(name=name)
        got = files_of(repo)
        assert sorted(got) == ["1.iso", "2.iso", "3.iso"]
        assert set(got.values()) <= expected
        assert repo.latest_version().number == 1
    assert not FileRepository.objects.filter(name="exp-repo2").exists()
    report = GroupProgressReport.objects.get(code="import.repo.versions")
    assert (report.message, report.done, report.total) == ("Importing repositories", 2, 2)
    report = GroupProgressReport.objects.get(code="import.content")
    assert (report.message, report.done, report.total) == ("Importing content", 6, 6)
    child = tasks[1]
    assert child.progress_reports.filter(message="Importing content").exists()
    the_import = PulpImport.objects.get()
    assert client.get(f"{importer['pulp_href']}imports/").json()["results"][0]["task"] == get_url(
        the_import.task
    )


def test_sample_without_create_repositories_fails_readably(client, dirs):
    _, import_dir = dirs
    tar = next(SAMPLE.glob("*.tar"))
    shutil.copy(tar, import_dir / tar.name)
    importer = make_importer(client)
    before = set(Artifact.objects.values_list("sha256", flat=True))
    with pytest.raises(Exception, match="does not exist; create it"):
        run_group(start_import(client, importer, path=str(import_dir / tar.name)))
    assert set(Artifact.objects.values_list("sha256", flat=True)) == before
    assert not Repository.objects.filter(name__startswith="exp-repo").exists()


# --- round trips ---------------------------------------------------------------------------------
def test_full_export_layout_and_reimport_with_mapping(client, dirs, storage_backend):
    export_dir, _ = dirs
    one = make_repo("one", {"a.bin": rand(3000), "b.bin": rand(10)})
    two = make_repo("two", {"a.bin": rand(500)})
    exporter = make_exporter(client, export_dir, [one, two])
    result = export(client, exporter)
    tar_path, digest = next(iter(result.output_file_info.items()))
    assert hashlib.sha256(Path(tar_path).read_bytes()).hexdigest() == digest
    with tarfile.open(tar_path) as tar:
        names = set(tar.getnames())
        versions = json.load(tar.extractfile("versions.json"))
        content = json.load(
            tar.extractfile("repository-one_1/pulp_file.app.modelresource.FileContentResource.json")
        )
    assert {
        "versions.json",
        "pulpcore.app.modelresource.ArtifactResource.json",
        "pulpcore.app.modelresource.RepositoryResource.json",
        "repository-one_1/pulpcore.app.modelresource.ContentArtifactResource.json",
        "repository-two_1/pulp_file.app.modelresource.FileRepositoryResource.json",
    } <= names
    assert {"component": "file", "version": "3.49.0"} in versions
    assert sorted(r["relative_path"] for r in content) == ["a.bin", "b.bin"]
    assert all(set(r) >= {"pulp_type", "upstream_id", "digest"} for r in content)
    assert len([n for n in names if n.startswith("artifact/")]) == 3
    toc = json.loads(Path(toc_of(result)).read_text())
    assert toc["files"] == {os.path.basename(tar_path): digest}
    assert PulpExporter.objects.get().last_export == result
    assert client.get(exporter["pulp_href"]).json()["last_export"] == get_url(result)

    units_before = FileContent.objects.count()
    importer = make_importer(client, mapping={"one": "one-copy", "two": "two-copy"})
    run_group(start_import(client, importer, path=tar_path, create_repositories=True))
    assert files_of(FileRepository.objects.get(name="one-copy")) == files_of(one)
    assert files_of(FileRepository.objects.get(name="two-copy")) == files_of(two)
    # The same export again: no duplicate content and no new version (nothing changed).
    run_group(start_import(client, importer, path=tar_path))
    assert FileContent.objects.count() == units_before
    assert FileRepository.objects.get(name="one-copy").latest_version().number == 1
    if storage_backend is not None:  # artifacts were read from, and imported into, the bucket
        names = set(Artifact.objects.values_list("file", flat=True))
        assert names and names <= storage_backend.keys("artifact/")


def test_incremental_export_holds_only_new_content(client, dirs):
    export_dir, _ = dirs
    one = make_repo("inc", {"a.bin": rand(100)})
    exporter = make_exporter(client, export_dir, [one])
    export(client, exporter)
    start = one.latest_version()
    add_files(one, {"new.bin": rand(200)})
    result = export(client, exporter, full=False, start_versions=[get_url(start)])
    tar_path = next(iter(result.output_file_info))
    with tarfile.open(tar_path) as tar:
        content = json.load(
            tar.extractfile("repository-inc_2/pulp_file.app.modelresource.FileContentResource.json")
        )
        artifacts = [n for n in tar.getnames() if n.startswith("artifact/")]
    assert [r["relative_path"] for r in content] == ["new.bin"]
    assert len(artifacts) == 1
    # Without start_versions the previous export is the start.
    add_files(one, {"third.bin": rand(50)})
    again = export(client, exporter, full=False)
    with tarfile.open(next(iter(again.output_file_info))) as tar:
        content = json.load(
            tar.extractfile("repository-inc_3/pulp_file.app.modelresource.FileContentResource.json")
        )
    assert [r["relative_path"] for r in content] == ["third.bin"]
    # Importing an incremental export adds to what the repository has.
    target = make_repo("inc-target", {})
    importer = make_importer(client, mapping={"inc": "inc-target"})
    run_group(start_import(client, importer, toc=toc_of(result)))
    assert sorted(files_of(target)) == ["new.bin"]
    # The tarball alone (no TOC) says it is incremental too.
    importer = make_importer(client, mapping={"inc": "inc-target"}, name="imp2")
    run_group(start_import(client, importer, path=next(iter(again.output_file_info))))
    assert sorted(files_of(target)) == ["new.bin", "third.bin"]


def test_chunked_export_and_toc_import(client, dirs):
    export_dir, _ = dirs
    one = make_repo("chunky", {f"{i}.bin": rand(3000) for i in range(5)})
    exporter = make_exporter(client, export_dir, [one])
    result = export(client, exporter, chunk_size="4KB")
    pieces = sorted(result.output_file_info)
    assert len(pieces) > 3
    assert all(os.path.getsize(p) <= 4096 for p in pieces)
    assert pieces[0].endswith(".tar.0000")
    toc = json.loads(Path(toc_of(result)).read_text())
    assert toc["meta"]["chunk_size"] == 4096
    joined = b"".join(Path(p).read_bytes() for p in pieces)
    assert toc["meta"]["global_hash"] == hashlib.sha256(joined).hexdigest()
    importer = make_importer(client, mapping={"chunky": "chunky-copy"})
    run_group(start_import(client, importer, toc=toc_of(result), create_repositories=True))
    assert files_of(FileRepository.objects.get(name="chunky-copy")) == files_of(one)


# --- bad input -----------------------------------------------------------------------------------
def test_paths_outside_allowed_are_400(client, dirs, tmp_path):
    one = make_repo("p", {"a": b"x"})
    resp = post(
        client,
        PULP_EXPORTERS,
        {"name": "bad", "path": str(tmp_path / "elsewhere"), "repositories": [get_url(one)]},
    )
    assert resp.status_code == 400 and "ALLOWED_EXPORT_PATHS" in resp.content.decode()
    resp = post(client, PULP_EXPORTERS, {"name": "bad", "path": "relative", "repositories": []})
    assert resp.status_code == 400
    resp = post(client, FS_EXPORTERS, {"name": "fs", "path": "/etc/pulp-out"})
    assert resp.status_code == 400
    importer = make_importer(client)
    outside = tmp_path / "outside.tar"
    outside.write_bytes(b"")
    resp = start_import(client, importer, path=str(outside))
    assert resp.status_code == 400 and "ALLOWED_IMPORT_PATHS" in resp.content.decode()
    resp = start_import(client, importer, path=str(dirs[1] / ".." / "outside.tar"))
    assert resp.status_code == 400
    assert not PulpImport.objects.exists()
    check = post(
        client,
        f"{IMPORTERS}import-check/",
        {"path": str(outside), "repo_mapping": "{not json"},
    ).json()
    assert check["path"]["is_valid"] is False and check["repo_mapping"]["is_valid"] is False


def _exported(client, dirs, name, chunk=None):
    repo = make_repo(name, {"a.bin": rand(2000), "b.bin": rand(2000)})
    exporter = make_exporter(client, dirs[0], [repo], name=f"e-{name}")
    body = {"chunk_size": chunk} if chunk else {}
    return repo, export(client, exporter, **body)


def _assert_nothing_left(repo_name, shas):
    assert not Repository.objects.filter(name=repo_name).exists()
    assert not Artifact.objects.filter(sha256__in=shas).exists()
    for sha in shas:
        assert not os.path.exists(
            os.path.join(django_settings.MEDIA_ROOT, "artifact", sha[:2], sha[2:])
        )


def _forget(repo):
    """Remove a repository and its artifacts so an import has to bring them back."""
    shas = list(
        Artifact.objects.filter(
            contentartifact__content__in=repo.latest_version().content
        ).values_list("sha256", flat=True)
    )
    paths = [a.file.path for a in Artifact.objects.filter(sha256__in=shas)]
    repo.delete()
    ContentArtifact.objects.filter(artifact__sha256__in=shas).delete()
    FileContent.objects.filter(digest__in=shas).delete()
    Artifact.objects.filter(sha256__in=shas).delete()
    for p in paths:
        os.unlink(p)
    return shas


def test_toc_piece_wrong_or_missing_fails_and_leaves_nothing(client, dirs):
    repo, result = _exported(client, dirs, "tocbad", chunk="2KB")
    shas = _forget(repo)
    pieces = sorted(result.output_file_info)
    importer = make_importer(client)
    with open(pieces[1], "r+b") as fh:
        fh.write(b"X")
    resp = start_import(client, importer, toc=toc_of(result), create_repositories=True)
    with pytest.raises(Exception, match="table of contents says"):
        run_group(resp)
    _assert_nothing_left("tocbad", shas)
    os.unlink(pieces[1])
    with pytest.raises(Exception, match="is missing"):
        run_group(start_import(client, importer, toc=toc_of(result), create_repositories=True))
    _assert_nothing_left("tocbad", shas)


def test_import_check_reports_missing_pieces(client, dirs):
    repo, result = _exported(client, dirs, "checked", chunk="2KB")
    url = f"{IMPORTERS}import-check/"
    good = post(client, url, {"toc": toc_of(result), "repo_mapping": '{"a": "b"}'}).json()
    assert good["toc"]["is_valid"] and good["repo_mapping"]["is_valid"]
    os.unlink(sorted(result.output_file_info)[0])
    bad = post(client, url, {"toc": toc_of(result)}).json()
    assert not bad["toc"]["is_valid"] and "is missing" in bad["toc"]["messages"][0]
    assert post(client, url, {"path": toc_of(result)}).json()["path"]["is_valid"]


def _rewrite_tar(src: str, dest: str, mutate) -> None:
    with tarfile.open(src) as tin, tarfile.open(dest, "w") as tout:
        for member in tin.getmembers():
            data = tin.extractfile(member).read() if member.isfile() else None
            member, data = mutate(member, data)
            if member is not None:
                tout.addfile(member, io.BytesIO(data) if data is not None else None)


def test_member_outside_root_fails(client, dirs):
    repo, result = _exported(client, dirs, "evil")
    shas = _forget(repo)
    src = next(iter(result.output_file_info))
    evil = str(dirs[1] / "evil.tar")

    def mutate(member, data):
        if member.name == "versions.json":
            extra = tarfile.TarInfo("../escaped.txt")
            extra.size = 2
            return extra, b"hi"
        return member, data

    _rewrite_tar(src, evil, mutate)
    importer = make_importer(client)
    with pytest.raises(Exception, match="outside the export root"):
        run_group(start_import(client, importer, path=evil, create_repositories=True))
    _assert_nothing_left("evil", shas)
    assert not (dirs[1].parent / "escaped.txt").exists()


def test_artifact_digest_mismatch_fails(client, dirs):
    repo, result = _exported(client, dirs, "corrupt")
    shas = _forget(repo)
    src = next(iter(result.output_file_info))
    bad = str(dirs[1] / "bad.tar")

    def mutate(member, data):
        if member.name.startswith("artifact/"):
            return member, bytes([data[0] ^ 1]) + data[1:]
        return member, data

    _rewrite_tar(src, bad, mutate)
    importer = make_importer(client)
    with pytest.raises(Exception, match="does not match"):
        run_group(start_import(client, importer, path=bad, create_repositories=True))
    _assert_nothing_left("corrupt", shas)


def test_incompatible_components_are_refused(client, dirs):
    repo, result = _exported(client, dirs, "future")
    src = next(iter(result.output_file_info))
    future = str(dirs[1] / "future.tar")

    def mutate(member, data):
        if member.name == "versions.json":
            data = json.dumps([{"component": "core", "version": "4.0.0"}]).encode()
            member.size = len(data)
        return member, data

    _rewrite_tar(src, future, mutate)
    importer = make_importer(client, mapping={"future": "future-copy"})
    with pytest.raises(Exception, match="incompatible with the installed"):
        run_group(start_import(client, importer, path=future, create_repositories=True))
    assert not Repository.objects.filter(name="future-copy").exists()


def test_last_export_moves_only_on_success_and_files_outlive_exporter(client, dirs):
    repo, first = _exported(client, dirs, "keep")
    exporter = PulpExporter.objects.get(name="e-keep")
    ca = ContentArtifact.objects.filter(content__in=repo.latest_version().content).first()
    os.unlink(ca.artifact.file.path)  # the next export cannot read this file
    with pytest.raises(ExportError, match="cannot be read"):
        run(post(client, f"{get_url(exporter)}exports/", {}))
    exporter.refresh_from_db()
    assert exporter.last_export == first
    # The failed export left no piece or TOC behind.
    written = {str(p) for p in Path(exporter.path).iterdir()}
    assert written == {*first.output_file_info, toc_of(first)}
    assert PulpExport.objects.filter(exporter=exporter).count() == 1
    run(client.delete(get_url(exporter)))
    assert not PulpExporter.objects.exists()
    for path in [*first.output_file_info, toc_of(first)]:
        assert os.path.exists(path)


def test_export_validation(client, dirs):
    one = make_repo("v1", {"a": b"1"})
    other = make_repo("v2", {"a": b"2"})
    exporter = make_exporter(client, dirs[0], [one])
    url = f"{exporter['pulp_href']}exports/"
    assert post(client, url, {"full": False}).status_code == 400
    resp = post(client, url, {"versions": [get_url(other.latest_version())]})
    assert resp.status_code == 400
    assert post(client, url, {"chunk_size": "lots"}).status_code == 400
    resp = post(client, url, {"dry_run": True})
    run(resp)
    assert not PulpExport.objects.exists()


# --- filesystem exports --------------------------------------------------------------------------
@pytest.mark.parametrize("method", ["write", "hardlink", "symlink"])
def test_filesystem_export_matches_publication(client, dirs, method, storage_backend):
    from pulp_file.app.tasks.publishing import publish

    files = {"a.bin": rand(100), "sub/b.bin": rand(50)}
    repo = make_repo(f"fs-{method}", files)
    publication = publish(str(repo.latest_version().pk))
    target = dirs[0] / f"fs-{method}"
    resp = post(client, FS_EXPORTERS, {"name": method, "path": str(target), "method": method})
    assert resp.status_code == 201, resp.content
    run(post(client, f"{resp.json()['pulp_href']}exports/", {"publication": get_url(publication)}))
    tree = {
        str(p.relative_to(target)): hashlib.sha256(p.read_bytes()).hexdigest()
        for p in target.rglob("*")
        if p.is_file()
    }
    assert publication.pass_through  # so the export takes the version's files
    expected = {path: hashlib.sha256(data).hexdigest() for path, data in files.items()}
    expected["PULP_MANIFEST"] = (
        FilePublication.objects.get(pk=publication.pk).published_metadata.get().artifact.sha256
    )
    assert tree == expected
    if storage_backend is not None:  # no file to link to: every method writes a copy
        assert not (target / "a.bin").is_symlink() and (target / "a.bin").stat().st_nlink == 1
    elif method == "symlink":
        assert (target / "a.bin").is_symlink()
    elif method == "hardlink":
        assert (target / "a.bin").stat().st_nlink >= 2
    export_obj = FilesystemExport.objects.get()
    assert export_obj.exported_resources == [get_url(publication)]


def test_filesystem_export_of_version_incremental(client, dirs):
    repo = make_repo("fsv", {"old.bin": rand(10)})
    start = repo.latest_version()
    add_files(repo, {"new.bin": rand(10)})
    target = dirs[0] / "fsv"
    resp = post(client, FS_EXPORTERS, {"name": "fsv", "path": str(target)})
    body = {
        "repository_version": get_url(repo.latest_version()),
        "start_repository_version": get_url(start),
    }
    run(post(client, f"{resp.json()['pulp_href']}exports/", body))
    assert sorted(p.name for p in target.rglob("*") if p.is_file()) == ["new.bin"]
    both = post(
        client,
        f"{resp.json()['pulp_href']}exports/",
        {"repository_version": get_url(start), "publication": get_url(start)},
    )
    assert both.status_code == 400


# --- users ---------------------------------------------------------------------------------------
def test_anonymous_users_are_refused(client, dirs):
    anonymous = Client()
    make_importer(client)
    for url in (PULP_EXPORTERS, FS_EXPORTERS, IMPORTERS):
        assert anonymous.get(url).status_code == 401
        assert post(anonymous, url, {"name": "x", "path": str(dirs[0])}).status_code == 401
    assert post(anonymous, f"{IMPORTERS}import-check/", {"path": "/x"}).status_code == 401
    importer = client.get(IMPORTERS).json()["results"][0]
    resp = post(anonymous, f"{importer['pulp_href']}imports/", {"path": "/x"})
    assert resp.status_code == 401
    assert not PulpImport.objects.exists()


def test_lists_cost_no_query_per_row(client, dirs):
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    repos = [make_repo(f"q{i}", {"a": bytes([i])}) for i in range(2)]

    def counts() -> tuple[int, int]:
        exporter = PulpExporter.objects.order_by("pulp_created").first()
        out = []
        for url in (PULP_EXPORTERS, f"{get_url(exporter)}exports/"):
            with CaptureQueriesContext(connection) as ctx:
                assert client.get(url).status_code == 200
            out.append(len(ctx.captured_queries))
        return tuple(out)

    first = make_exporter(client, dirs[0], repos, name="q0")
    export(client, first)
    small = counts()
    for i in range(1, 4):
        more = make_exporter(client, dirs[0], repos, name=f"q{i}")
        export(client, more)
        export(client, first)
    assert counts() == small


def test_users_without_rights_cannot_export_or_import(client, dirs):
    """Exporters and importers write to and read from the server's disk: admins only here."""
    make_exporter(client, dirs[0], [make_repo("guarded", {"a": b"a"})])
    importer = make_importer(client)
    user = get_user_model().objects.create(username="plain-user")
    plain = Client()
    plain.force_login(user)
    for url in (PULP_EXPORTERS, FS_EXPORTERS, IMPORTERS):
        assert plain.get(url).status_code == 403
        assert post(plain, url, {"name": "mine", "path": str(dirs[0])}).status_code == 403
    exporter = PulpExporter.objects.get()
    assert post(plain, f"{get_url(exporter)}exports/", {}).status_code == 403
    assert post(plain, f"{importer['pulp_href']}imports/", {"path": "/x"}).status_code == 403
    assert post(plain, f"{IMPORTERS}import-check/", {"path": "/x"}).status_code == 403
    assert not PulpExport.objects.exists() and not PulpImport.objects.exists()
    assert PulpExporter.objects.count() == 1 and not PulpExporter.objects.filter(name="mine")
