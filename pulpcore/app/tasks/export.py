"""Export tasks: Pulp's import/export tarball, and plain filesystem trees.

The tarball layout is Pulp's, so exports move between this project and pulpcore in either
direction:

* ``versions.json``: ``[{"component": "core", "version": ...}, ...]`` of the exporting side;
* ``artifact/<sha256[:2]>/<sha256[2:]>``: every artifact file, at its storage path;
* ``pulpcore.app.modelresource.ArtifactResource.json`` and ``...RepositoryResource.json``;
* per exported version ``repository-<name>_<number>/`` holding one document per plugin content
  type (``pulp_file.app.modelresource.FileContentResource.json``), the plugin's repository
  resource and ``pulpcore.app.modelresource.ContentArtifactResource.json``.

Every value in those documents is a string (``""`` for none, ``"0"``/``"1"`` for booleans), as
Pulp writes them. Content is identified across sites by ``upstream_id`` (the exporting side's
primary key). The tar stream is written through :class:`ChunkWriter`, which cuts it into
``chunk_size`` pieces and hashes each one as it goes; a ``-toc.json`` next to the pieces lists
them with their sha256. Nothing is held in memory beyond one buffer of a file.
"""

import datetime
import hashlib
import io
import json
import logging
import os
import shutil
import tarfile
import tempfile
import time
import uuid

from django.conf import settings
from django.db import models, transaction
from django.utils import timezone

from pulpcore.app.models import (
    Artifact,
    Content,
    ContentArtifact,
    FilesystemExport,
    FilesystemExporter,
    ProgressReport,
    Publication,
    PublishedArtifact,
    PublishedMetadata,
    PulpExport,
    PulpExporter,
    Repository,
    RepositoryVersion,
)
from pulpcore.app.storage import local_path, open_stored, stored_size
from pulpcore.app.util import get_url
from pulpcore.tasking.context import current_task, record_created

log = logging.getLogger(__name__)

BUFFER = 1024 * 1024
ARTIFACT_FIELDS = ("file", "size", "md5", "sha1", "sha224", "sha256", "sha384", "sha512")
# Fields of the core repository and content tables that never travel between sites.
LOCAL_FIELDS = {
    "pulp_id",
    "pulp_created",
    "pulp_last_updated",
    "timestamp_of_interest",
    "next_version",
    "remote",
    "pulp_labels",
}


class ExportError(Exception):
    """A readable reason why an export cannot be made."""


class Ticker:
    """Counts done items of a ProgressReport and writes them at most about once a second.

    One UPDATE per file would cost more than exporting a small file; users still see progress.
    """

    def __init__(self, report: ProgressReport, interval: float = 1.0):
        self.report, self.interval = report, interval
        self.pending, self.last = 0, time.monotonic()

    def tick(self, count: int = 1) -> None:
        self.pending += count
        if time.monotonic() - self.last >= self.interval:
            self.flush()

    def flush(self) -> None:
        if self.pending:
            self.report.increase_by(self.pending)
            self.pending = 0
        self.last = time.monotonic()


# --- names and values shared with the importer ---------------------------------------------------
def resource_filename(model: type[models.Model]) -> str:
    """Pulp's document name for a model: ``<app module>.modelresource.<Model>Resource.json``."""
    return f"{model._meta.app_config.name}.modelresource.{model.__name__}Resource.json"


ARTIFACT_RESOURCE = "pulpcore.app.modelresource.ArtifactResource.json"
REPOSITORY_RESOURCE = "pulpcore.app.modelresource.RepositoryResource.json"
CONTENT_ARTIFACT_RESOURCE = "pulpcore.app.modelresource.ContentArtifactResource.json"
VERSIONS_FILE = "versions.json"
EXPORT_INFO_FILE = "export-info.json"


def version_dirname(repository_name: str, number: int) -> str:
    return f"repository-{repository_name}_{number}"


def exported_fields(model: type[models.Model], skip: set[str] = LOCAL_FIELDS) -> list:
    """Concrete, non-key fields of ``model`` (including its master's) that an export carries."""
    fields = []
    for field in model._meta.concrete_fields:
        if field.primary_key or field.name in skip:
            continue
        if field.is_relation:
            continue
        fields.append(field)
    return fields


def to_text(value) -> str:
    """A value as Pulp's export documents write it."""
    if value is None:
        return ""
    if isinstance(value, bool):
        return "1" if value else "0"
    if isinstance(value, dict | list):
        return json.dumps(value)
    if isinstance(value, datetime.datetime):
        return value.isoformat()
    return str(value)


def component_versions() -> list[dict]:
    """``[{"component": label, "version": ...}]`` of every installed Pulp app."""
    from django.apps import apps

    from pulpcore.app.apps import PulpPluginAppConfig

    return [
        {"component": cfg.label, "version": cfg.version}
        for cfg in apps.get_app_configs()
        if isinstance(cfg, PulpPluginAppConfig)
    ]


# --- writing ------------------------------------------------------------------------------------
class ChunkWriter(io.RawIOBase):
    """A write-only stream that lands in ``<base>`` or ``<base>.0000``, ``.0001``… pieces.

    Each piece is hashed while written; ``pieces`` lists (path, sha256) once closed, and
    ``global_hash`` is the sha256 of the whole stream.
    """

    def __init__(self, directory: str, base: str, chunk_size: int | None):
        super().__init__()
        self.directory, self.base, self.chunk_size = directory, base, chunk_size
        self.pieces: list[tuple[str, str]] = []
        self.total = hashlib.sha256()
        self._file = None
        self._hash = None
        self._written = 0

    def writable(self) -> bool:
        return True

    def _open_next(self) -> None:
        name = self.base if not self.chunk_size else f"{self.base}.{len(self.pieces):04d}"
        path = os.path.join(self.directory, name)
        self._file = open(path, "wb")
        self._hash = hashlib.sha256()
        self._written = 0
        self.pieces.append((path, ""))

    def _close_current(self) -> None:
        if self._file is not None:
            self._file.close()
            path, _ = self.pieces[-1]
            self.pieces[-1] = (path, self._hash.hexdigest())
            self._file = None

    def write(self, data) -> int:
        view = memoryview(data)
        done = 0
        while done < len(view):
            if self._file is None:
                self._open_next()
            room = len(view) - done
            if self.chunk_size:
                room = min(room, self.chunk_size - self._written)
            part = view[done : done + room]
            self._file.write(part)
            self._hash.update(part)
            self.total.update(part)
            self._written += len(part)
            done += len(part)
            if self.chunk_size and self._written >= self.chunk_size:
                self._close_current()
        return done

    def close(self) -> None:
        if not self.closed:
            if not self.pieces:
                self._open_next()
            self._close_current()
        super().close()


def _add_bytes(tar: tarfile.TarFile, name: str, payload: bytes) -> None:
    info = tarfile.TarInfo(name)
    info.size = len(payload)
    info.mtime = int(timezone.now().timestamp())
    info.mode = 0o644
    tar.addfile(info, io.BytesIO(payload))


def _add_json_rows(tar: tarfile.TarFile, name: str, rows) -> None:
    """Write a JSON list document into the tar from a temporary file (rows are streamed)."""
    with tempfile.TemporaryFile(dir=settings.WORKING_DIRECTORY) as tmp:
        tmp.write(b"[")
        for index, row in enumerate(rows):
            if index:
                tmp.write(b", ")
            tmp.write(json.dumps(row).encode())
        tmp.write(b"]")
        size = tmp.tell()
        tmp.seek(0)
        info = tarfile.TarInfo(name)
        info.size = size
        info.mtime = int(timezone.now().timestamp())
        info.mode = 0o644
        tar.addfile(info, tmp)


def artifact_rows(artifacts):
    for artifact in artifacts.iterator(chunk_size=2000):
        yield {name: to_text(getattr(artifact, name)) for name in ARTIFACT_FIELDS}


def repository_rows(repositories, detail: bool):
    for repo in repositories:
        model = type(repo) if detail else Repository
        fields = exported_fields(model, LOCAL_FIELDS | {"pulp_type"})
        row = {"pulp_type": repo.pulp_type}
        row.update({f.name: to_text(getattr(repo, f.attname)) for f in fields})
        row.setdefault("retain_checkpoints", "")
        yield row


def content_rows(model: type[Content], content_ids):
    fields = exported_fields(model, LOCAL_FIELDS | {"pulp_type", "upstream_id"})
    for unit in model.objects.filter(pk__in=content_ids).order_by("pk").iterator(chunk_size=2000):
        row = {"pulp_type": unit.pulp_type, "upstream_id": str(unit.pk)}
        row.update({f.name: to_text(getattr(unit, f.attname)) for f in fields})
        yield row


def content_artifact_rows(content_ids):
    qs = (
        ContentArtifact.objects.filter(content_id__in=content_ids)
        .select_related("artifact")
        .order_by("content_id", "relative_path")
    )
    for ca in qs.iterator(chunk_size=2000):
        yield {
            "artifact": ca.artifact.sha256 if ca.artifact_id else "",
            "content": str(ca.content_id),
            "relative_path": ca.relative_path,
        }


def _plan(exporter: PulpExporter, full: bool, versions: list[str], start_versions: list[str]):
    """[(repository, version, start version or None)] for every repository of the exporter."""
    chosen = {v.repository_id: v for v in RepositoryVersion.objects.filter(pk__in=versions)}
    starts = {}
    if not full:
        if start_versions:
            starts = {
                v.repository_id: v for v in RepositoryVersion.objects.filter(pk__in=start_versions)
            }
        elif exporter.last_export is not None:
            starts = {
                v.repository_id: v
                for v in RepositoryVersion.objects.filter(pk__in=exporter.last_export.version_ids)
            }
    plan = []
    for repo in exporter.repositories.order_by("name"):
        repo = repo.cast()
        version = chosen.get(repo.pk) or repo.latest_version()
        if version is None:
            raise ExportError(f"Repository '{repo.name}' has no version to export.")
        start = starts.get(repo.pk)
        if start is not None and start.number > version.number:
            raise ExportError(
                f"The start version {start.number} of repository '{repo.name}' is newer than"
                f" the exported version {version.number}."
            )
        plan.append((repo, version, start))
    return plan


def _content_ids(version: RepositoryVersion, start: RepositoryVersion | None):
    content = version.content
    if start is not None:
        content = content.exclude(pk__in=start.content.values("pk"))
    return list(content.values_list("pk", flat=True))


def pulp_export(
    exporter_pk: str,
    full: bool = True,
    dry_run: bool = False,
    chunk_size: int | None = None,
    versions: list[str] | None = None,
    start_versions: list[str] | None = None,
    params: dict | None = None,
) -> None:
    """Export the exporter's repositories (latest or given versions) into Pulp's format."""
    exporter = PulpExporter.objects.get(pk=exporter_pk)
    from pulpcore.app.serializers.exporter import path_is_allowed

    if not path_is_allowed(exporter.path, settings.ALLOWED_EXPORT_PATHS):
        raise ExportError(
            f"The export path '{exporter.path}' is not inside ALLOWED_EXPORT_PATHS any more."
        )
    plan = _plan(exporter, full, versions or [], start_versions or [])
    per_version = [(repo, version, _content_ids(version, start)) for repo, version, start in plan]
    starts = [start for _, _, start in plan if start is not None]
    all_ids = sorted({pk for _, _, ids in per_version for pk in ids})
    missing = ContentArtifact.objects.filter(content_id__in=all_ids, artifact__isnull=True)
    if missing.exists():
        sample = ", ".join(missing.values_list("relative_path", flat=True)[:5])
        raise ExportError(
            "Some content has not been downloaded yet (on-demand) and cannot be exported: "
            f"{sample}. Sync with the immediate policy or repair the repository first."
        )
    artifacts = Artifact.objects.filter(
        pk__in=ContentArtifact.objects.filter(content_id__in=all_ids).values("artifact_id")
    ).order_by("sha256")
    if dry_run:
        needed = artifacts.aggregate(total=models.Sum("size"))["total"] or 0
        os.makedirs(exporter.path, exist_ok=True)
        free = shutil.disk_usage(exporter.path).free
        with ProgressReport(
            message=f"Export would need {needed} bytes for {artifacts.count()} artifacts",
            code="export.dry_run",
            total=1,
            done=1,
        ):
            pass
        if needed > free:
            raise ExportError(
                f"The export needs {needed} bytes but only {free} are free in {exporter.path}."
            )
        return

    export = PulpExport.objects.create(
        exporter=exporter,
        task=current_task(),
        params=params or {},
        exported_resources=[get_url(v) for _, v, _ in per_version],
        version_ids=[str(v.pk) for _, v, _ in per_version],
    )
    stamp = timezone.now().strftime("%Y%m%d_%H%M")
    base = f"export-{export.pk}-{stamp}.tar"
    toc_path = os.path.join(exporter.path, f"export-{export.pk}-{stamp}-toc.json")
    os.makedirs(exporter.path, exist_ok=True)
    writer = ChunkWriter(exporter.path, base, chunk_size)
    try:
        with tarfile.open(fileobj=writer, mode="w|", format=tarfile.PAX_FORMAT) as tar:
            _add_bytes(tar, VERSIONS_FILE, json.dumps(component_versions()).encode())
            # Not part of pulpcore's layout (it ignores unknown members): tells our importer
            # that the version folders hold only additions, so nothing is removed on import.
            info = {"incremental": not full, "start_versions": [get_url(s) for s in starts]}
            _add_bytes(tar, EXPORT_INFO_FILE, json.dumps(info).encode())
            with ProgressReport(
                message="Exporting Artifacts", code="export.artifacts", total=artifacts.count()
            ) as progress:
                ticker = Ticker(progress)
                for artifact in artifacts.iterator(chunk_size=500):
                    try:
                        _add_artifact(tar, artifact)
                    except OSError as exc:
                        raise ExportError(
                            f"The file of artifact {artifact.sha256} cannot be read"
                            f" ({exc.strerror or exc}); repair the repository and export again."
                        )
                    ticker.tick()
                ticker.flush()
            _add_json_rows(tar, ARTIFACT_RESOURCE, artifact_rows(artifacts))
            repos = [repo for repo, _, _ in per_version]
            _add_json_rows(tar, REPOSITORY_RESOURCE, repository_rows(repos, detail=False))
            with ProgressReport(
                message="Exporting repository versions",
                code="export.repo.version",
                total=len(per_version),
            ) as progress:
                for repo, version, ids in per_version:
                    folder = version_dirname(repo.name, version.number)
                    for model in repo.CONTENT_TYPES:
                        _add_json_rows(
                            tar, f"{folder}/{resource_filename(model)}", content_rows(model, ids)
                        )
                    _add_json_rows(
                        tar,
                        f"{folder}/{resource_filename(type(repo))}",
                        repository_rows([repo], detail=True),
                    )
                    _add_json_rows(
                        tar, f"{folder}/{CONTENT_ARTIFACT_RESOURCE}", content_artifact_rows(ids)
                    )
                    progress.increment()
        writer.close()
        toc = {
            "meta": {
                "file": base,
                "chunk_size": chunk_size,
                "global_hash": writer.total.hexdigest(),
                "checksum_type": "sha256",
                "incremental": not full,
            },
            "files": {os.path.basename(p): digest for p, digest in writer.pieces},
        }
        payload = json.dumps(toc).encode()
        with open(toc_path, "wb") as fh:
            fh.write(payload)
    except BaseException:
        writer.close()
        for path, _ in writer.pieces:
            if os.path.exists(path):
                os.unlink(path)
        if os.path.exists(toc_path):
            os.unlink(toc_path)
        export.delete()
        raise
    with transaction.atomic():
        export.output_file_info = {p: digest for p, digest in writer.pieces}
        export.toc_info = {"file": toc_path, "sha256": hashlib.sha256(payload).hexdigest()}
        export.save(update_fields=["output_file_info", "toc_info", "pulp_last_updated"])
        PulpExporter.objects.filter(pk=exporter.pk).update(last_export=export)
    record_created(export)


# --- filesystem exports --------------------------------------------------------------------------
def _add_artifact(tar: tarfile.TarFile, artifact: Artifact) -> None:
    """One artifact as a tar member named by its storage name, read from wherever it is stored."""
    path = local_path(artifact.file.name)
    if path is not None:
        info = tar.gettarinfo(path, arcname=artifact.file.name)
        info.mtime = int(info.mtime)
    else:
        info = tarfile.TarInfo(artifact.file.name)
        info.size = stored_size(artifact.file.name)
        info.mode = 0o644
        info.mtime = int(artifact.pulp_created.timestamp())
    info.uid = info.gid = 0
    info.uname = info.gname = ""
    with open_stored(artifact.file.name) as fh:
        tar.addfile(info, fh)


def _place_artifact(artifact: Artifact, dest: str, method: str) -> None:
    """Put an artifact's bytes at ``dest``: linked from the filesystem storage, or written.

    An object store has no file to link to, so hardlink and symlink exporters write a copy there.
    """
    path = local_path(artifact.file.name)
    if path is not None:
        _place(path, dest, method)
        return
    os.makedirs(os.path.dirname(dest), exist_ok=True)
    if os.path.lexists(dest):
        os.unlink(dest)
    tmp = f"{dest}.{uuid.uuid4().hex}.part"
    with open_stored(artifact.file.name) as src, open(tmp, "wb") as out:
        shutil.copyfileobj(src, out, 1024 * 1024)
    os.replace(tmp, dest)


def _place(source: str, dest: str, method: str) -> None:
    os.makedirs(os.path.dirname(dest), exist_ok=True)
    if os.path.lexists(dest):
        os.unlink(dest)
    if method == FilesystemExporter.HARDLINK:
        os.link(source, dest)
    elif method == FilesystemExporter.SYMLINK:
        os.symlink(source, dest)
    else:
        tmp = f"{dest}.{uuid.uuid4().hex}.part"
        shutil.copyfile(source, tmp)
        os.replace(tmp, dest)


def _safe_join(root: str, relative_path: str) -> str:
    dest = os.path.normpath(os.path.join(root, relative_path))
    if not dest.startswith(os.path.normpath(root) + os.sep):
        raise ExportError(f"The relative path '{relative_path}' leaves the export directory.")
    return dest


def filesystem_export(
    exporter_pk: str,
    publication_pk: str | None = None,
    repository_version_pk: str | None = None,
    start_repository_version_pk: str | None = None,
    params: dict | None = None,
) -> None:
    """Write a publication's (or version's) files under the exporter's path."""
    exporter = FilesystemExporter.objects.get(pk=exporter_pk)
    from pulpcore.app.serializers.exporter import path_is_allowed

    if not path_is_allowed(exporter.path, settings.ALLOWED_EXPORT_PATHS):
        raise ExportError(
            f"The export path '{exporter.path}' is not inside ALLOWED_EXPORT_PATHS any more."
        )
    start = (
        RepositoryVersion.objects.get(pk=start_repository_version_pk)
        if start_repository_version_pk
        else None
    )
    files: list[tuple[str, Artifact]] = []

    def version_files(version: RepositoryVersion) -> None:
        content = version.content
        if start is not None:
            content = content.exclude(pk__in=start.content.values("pk"))
        for ca in ContentArtifact.objects.filter(content__in=content).select_related("artifact"):
            files.append((ca.relative_path, ca.artifact))

    if publication_pk:
        publication = Publication.objects.get(pk=publication_pk)
        resource = publication.cast()
        published = PublishedArtifact.objects.filter(publication=publication).select_related(
            "content_artifact__artifact"
        )
        if start is not None:
            published = published.exclude(
                content_artifact__content_id__in=start.content.values("pk")
            )
        for pa in published.iterator():
            files.append((pa.relative_path, pa.content_artifact.artifact))
        if publication.pass_through:  # it serves its version's files as they are
            version_files(publication.repository_version)
        for pm in PublishedMetadata.objects.filter(publication=publication).select_related(
            "artifact"
        ):
            files.append((pm.relative_path, pm.artifact))
    else:
        version = RepositoryVersion.objects.get(pk=repository_version_pk)
        resource = version
        version_files(version)
    missing = [path for path, artifact in files if artifact is None]
    if missing:
        raise ExportError(
            "Some files have not been downloaded yet (on-demand) and cannot be exported: "
            + ", ".join(sorted(missing)[:5])
        )
    export = FilesystemExport.objects.create(
        exporter=exporter,
        task=current_task(),
        params=params or {},
        exported_resources=[get_url(resource)],
    )
    os.makedirs(exporter.path, exist_ok=True)
    with ProgressReport(
        message="Exporting Artifacts", code="export.artifacts", total=len(files)
    ) as progress:
        ticker = Ticker(progress)
        for relative_path, artifact in files:
            _place_artifact(artifact, _safe_join(exporter.path, relative_path), exporter.method)
            ticker.tick()
        ticker.flush()
    record_created(export)
