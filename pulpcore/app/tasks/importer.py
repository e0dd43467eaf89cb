"""Import tasks: read a Pulp export (ours or pulpcore's) and recreate its repository versions.

The parent task (:func:`pulp_import`) runs in the import's TaskGroup and never writes before the
whole export is verified:

1. with a TOC, every piece exists and has the checksum the TOC lists;
2. one streaming pass over the tar (pieces are read one after another, never joined on disk)
   checks that every member stays inside the export root and is a plain file, hashes every
   artifact file and compares it with its storage path and the artifact document, and reads the
   JSON documents; the exporting components must be compatible with ours and every
   destination repository must exist (or be creatable);
3. only then a second streaming pass stores new artifact files, one at a time, hashing them again
   while copying (the files cannot have changed between the passes unnoticed).

It then dispatches one :func:`import_repository_version` child per repository into the group;
each makes exactly one new version holding the exported content. A failure before that point
removes every artifact file and row this import stored.
"""

import hashlib
import json
import logging
import os
import re
import tarfile
import zlib

from django.conf import settings
from django.db import models, transaction

from pulpcore.app.files import MultiHasher
from pulpcore.app.models import (
    Artifact,
    Content,
    ContentArtifact,
    GroupProgressReport,
    ProgressReport,
    PulpImport,
    Repository,
    TaskGroup,
    new_temp_path,
)
from pulpcore.app.storage import (
    artifact_relpath,
    delete_stored,
    place_artifact_file,
    stored_exists,
)
from pulpcore.app.tasks.export import (
    ARTIFACT_RESOURCE,
    CONTENT_ARTIFACT_RESOURCE,
    EXPORT_INFO_FILE,
    REPOSITORY_RESOURCE,
    VERSIONS_FILE,
    Ticker,
    component_versions,
    exported_fields,
    resource_filename,
)
from pulpcore.tasking.context import current_task
from pulpcore.tasking.dispatch import dispatch

log = logging.getLogger(__name__)

BUFFER = 1024 * 1024
ARTIFACT_MEMBER = re.compile(r"^artifact/([0-9a-f]{2})/([0-9a-f]{62})$")
VERSION_DIR = re.compile(r"^repository-(?P<name>.+)_(?P<number>\d+)$")
# JSON documents are metadata; refuse absurd ones rather than reading them into memory.
MAX_DOCUMENT = 512 * 1024 * 1024


class PulpImportError(Exception):
    """A readable reason why an export cannot be imported."""


# --- reading the pieces --------------------------------------------------------------------------
class ConcatReader:
    """A read-only stream over several files, one after another (the pieces of a chunked export)."""

    def __init__(self, paths: list[str]):
        self.paths = list(paths)
        self._index = 0
        self._file = None

    def read(self, size: int = -1) -> bytes:
        out = bytearray()
        while size < 0 or len(out) < size:
            if self._file is None:
                if self._index >= len(self.paths):
                    break
                self._file = open(self.paths[self._index], "rb")
                self._index += 1
            data = self._file.read(BUFFER if size < 0 else size - len(out))
            if not data:
                self._file.close()
                self._file = None
                continue
            out += data
        return bytes(out)

    def close(self) -> None:
        if self._file is not None:
            self._file.close()
            self._file = None


def _file_digest(path: str, kind: str) -> str:
    if kind == "crc32":
        value = 0
        with open(path, "rb") as fh:
            while chunk := fh.read(BUFFER):
                value = zlib.crc32(chunk, value)
        return f"{value:08x}"
    digest = hashlib.new(kind)
    with open(path, "rb") as fh:
        while chunk := fh.read(BUFFER):
            digest.update(chunk)
    return digest.hexdigest()


def pieces_from_toc(toc_path: str) -> list[str]:
    """The verified pieces a TOC lists, in order."""
    try:
        with open(toc_path, "rb") as fh:
            toc = json.load(fh)
        files = toc["files"]
        kind = (toc.get("meta") or {}).get("checksum_type") or "sha256"
    except (OSError, ValueError, KeyError, TypeError) as exc:
        raise PulpImportError(f"The table of contents {toc_path} cannot be read: {exc}.")
    if kind not in ("sha256", "crc32") or not isinstance(files, dict) or not files:
        raise PulpImportError(f"The table of contents {toc_path} lists no pieces it can verify.")
    directory = os.path.dirname(toc_path)
    paths = []
    for name in sorted(files):
        if os.path.basename(name) != name:
            raise PulpImportError(f"The table of contents names a file outside its folder: {name}.")
        path = os.path.join(directory, name)
        if not os.path.isfile(path):
            raise PulpImportError(
                f"The export piece {name} listed in the table of contents is missing."
            )
        actual = _file_digest(path, kind)
        if actual != str(files[name]).lower():
            raise PulpImportError(
                f"The export piece {name} has {kind} {actual}, but the table of contents"
                f" says {files[name]}: the file is damaged or incomplete."
            )
        paths.append(path)
    return paths


def open_tar(paths: list[str]):
    reader = ConcatReader(paths)
    try:
        return tarfile.open(fileobj=reader, mode="r|*"), reader
    except tarfile.TarError as exc:
        reader.close()
        raise PulpImportError(f"The export is not a readable tar archive: {exc}.")


def check_member(member: tarfile.TarInfo) -> str:
    """The member's normalised name; refuse anything outside the root or not a plain file."""
    name = member.name
    parts = [p for p in name.replace("\\", "/").split("/") if p not in ("", ".")]
    if name.startswith("/") or ".." in parts or not parts:
        raise PulpImportError(
            f"The export contains the member '{name}', which lies outside the export root."
        )
    if not (member.isfile() or member.isdir()):
        raise PulpImportError(f"The export contains '{name}', which is not a regular file.")
    return "/".join(parts)


# --- values ---------------------------------------------------------------------------------
def from_text(field: models.Field, value):
    """A value of an export document (a string, as Pulp writes them) for ``field``."""
    if value is None or value == "":
        if field.null:
            return None
        if isinstance(field, models.CharField | models.TextField):
            return ""
        return field.get_default()
    if isinstance(field, models.BooleanField):
        return str(value).lower() in ("1", "true", "t", "yes")
    if isinstance(field, models.IntegerField):
        return int(value)
    if isinstance(field, models.JSONField):
        return json.loads(value) if isinstance(value, str) else value
    return field.to_python(value)


def major(version: str) -> str:
    return str(version).split(".")[0]


def check_versions(exported: list[dict]) -> None:
    """Refuse an export made by components this installation cannot read."""
    ours = {c["component"]: c["version"] for c in component_versions()}
    problems = []
    for entry in exported:
        name, version = entry.get("component"), entry.get("version", "")
        if name not in ours:
            problems.append(f"'{name}' {version} is not installed here")
        elif major(version) != major(ours[name]):
            problems.append(f"'{name}' {version} is incompatible with the installed {ours[name]}")
    if problems:
        raise PulpImportError(
            "The export was made by components this installation cannot import: "
            + "; ".join(problems)
            + "."
        )


def repository_model(pulp_type: str) -> type[Repository]:
    for model in Repository.detail_models():
        if model.get_pulp_type() == pulp_type:
            return model
    raise PulpImportError(f"The repository type '{pulp_type}' is not installed here.")


# --- the parent task ---------------------------------------------------------------------------
def scan(paths: list[str], progress: ProgressReport) -> tuple[dict, dict]:
    """Pass 1: verify every member; return ({document name: parsed JSON}, {sha256: digests})."""
    documents, artifacts = {}, {}
    ticker = Ticker(progress)
    tar, reader = open_tar(paths)
    try:
        for member in tar:
            name = check_member(member)
            if member.isdir():
                continue
            match = ARTIFACT_MEMBER.match(name)
            if match:
                hasher = MultiHasher(set(settings.ALLOWED_CONTENT_CHECKSUMS) | {"sha256"})
                fh = tar.extractfile(member)
                while chunk := fh.read(BUFFER):
                    hasher.update(chunk)
                digests = hasher.digests()
                expected = match.group(1) + match.group(2)
                if digests["sha256"] != expected:
                    raise PulpImportError(
                        f"The artifact {name} in the export has sha256 {digests['sha256']}:"
                        " its content does not match its name."
                    )
                digests["size"] = hasher.size
                artifacts[expected] = digests
                ticker.tick()
            elif name.endswith(".json"):
                if member.size > MAX_DOCUMENT:
                    raise PulpImportError(f"The document {name} in the export is too large.")
                try:
                    documents[name] = json.loads(tar.extractfile(member).read())
                except ValueError as exc:
                    raise PulpImportError(f"The document {name} in the export is not JSON: {exc}.")
    except tarfile.TarError as exc:
        raise PulpImportError(f"The export archive is damaged: {exc}.")
    finally:
        ticker.flush()
        tar.close()
        reader.close()
    return documents, artifacts


def check_artifacts(documents: dict, found: dict) -> list[dict]:
    """Every artifact row matches its file in the export (or one we already store)."""
    rows = documents.get(ARTIFACT_RESOURCE)
    if not isinstance(rows, list):
        raise PulpImportError(f"The export has no {ARTIFACT_RESOURCE}.")
    stored = set(
        Artifact.objects.filter(sha256__in=[r.get("sha256") for r in rows]).values_list(
            "sha256", flat=True
        )
    )
    for row in rows:
        sha256 = row.get("sha256", "")
        digests = found.get(sha256)
        if digests is None:
            if sha256 in stored:
                continue
            raise PulpImportError(
                f"The export lists artifact {sha256} but does not contain its file."
            )
        if str(row.get("size", "")) not in ("", str(digests["size"])):
            raise PulpImportError(
                f"The artifact {sha256} has {digests['size']} bytes, but the export says"
                f" {row.get('size')}."
            )
        for name, value in row.items():
            if name in digests and name != "size" and value and digests[name] != value.lower():
                raise PulpImportError(
                    f"The {name} of artifact {sha256} is {digests[name]}, but the export says"
                    f" {value}: the artifact's digest does not match."
                )
    return rows


def plan_repositories(documents: dict, mapping: dict, create: bool) -> list[dict]:
    """[{folder, source, destination, type, row}] for every exported repository version."""
    folders = {}
    for name in documents:
        head, _, _ = name.partition("/")
        match = VERSION_DIR.match(head)
        if match and "/" in name:
            folders[head] = match
    top = {r.get("name"): r for r in documents.get(REPOSITORY_RESOURCE) or []}
    plan = []
    for folder, match in sorted(folders.items()):
        detail_rows = [
            rows
            for doc, rows in documents.items()
            if doc.startswith(folder + "/")
            and doc.endswith("RepositoryResource.json")
            and isinstance(rows, list)
            and rows
        ]
        row = detail_rows[0][0] if detail_rows else top.get(match.group("name"))
        if not row:
            raise PulpImportError(f"The export has no repository document for {folder}.")
        source = row.get("name") or match.group("name")
        model = repository_model(row.get("pulp_type", ""))
        destination = mapping.get(source, source)
        existing = Repository.objects.filter(name=destination).first()
        if existing is not None and existing.pulp_type != model.get_pulp_type():
            raise PulpImportError(
                f"The repository '{destination}' is a {existing.pulp_type} repository, but the"
                f" export holds a {model.get_pulp_type()} repository for it."
            )
        if existing is None and not create:
            raise PulpImportError(
                f"The destination repository '{destination}' (for '{source}' in the export)"
                " does not exist; create it, map it with repo_mapping, or import with"
                " create_repositories."
            )
        plan.append(
            {
                "folder": folder,
                "source": source,
                "destination": destination,
                "model": model,
                "row": row,
                "existing": existing,
            }
        )
    # Mapping entries for repositories this export does not hold are simply unused: one importer
    # serves full and incremental exports of different sets of repositories.
    if not plan:
        raise PulpImportError("The export contains no repository versions.")
    return plan


def store_artifacts(paths: list[str], rows: list[dict], found: dict, placed: list[str]):
    """Pass 2: store the artifact files we do not have yet; save their rows."""
    wanted = {r["sha256"] for r in rows} - set(
        Artifact.objects.filter(sha256__in=list(found)).values_list("sha256", flat=True)
    )
    by_sha = {r["sha256"]: r for r in rows}
    new_rows = []
    tar, reader = open_tar(paths)
    try:
        with ProgressReport(
            message="Importing Artifacts", code="import.artifacts", total=len(wanted)
        ) as progress:
            ticker = Ticker(progress)
            for member in tar:
                name = check_member(member)
                match = ARTIFACT_MEMBER.match(name)
                if not match or not member.isfile():
                    continue
                sha256 = match.group(1) + match.group(2)
                if sha256 not in wanted:
                    continue
                wanted.discard(sha256)
                temp = new_temp_path()
                # sha256 proves these are the bytes pass 1 verified; its other digests stand.
                hasher = MultiHasher(["sha256"])
                src = tar.extractfile(member)
                with open(temp, "wb") as out:
                    while chunk := src.read(BUFFER):
                        hasher.update(chunk)
                        out.write(chunk)
                digests = found[sha256]
                if hasher.digests()["sha256"] != sha256 or hasher.size != digests["size"]:
                    os.unlink(temp)
                    raise PulpImportError(f"The artifact {sha256} changed while it was imported.")
                dest = artifact_relpath(sha256)
                if not stored_exists(dest):
                    placed.append(dest)
                place_artifact_file(temp, sha256)
                row = by_sha[sha256]
                new_rows.append(
                    Artifact(
                        file=artifact_relpath(sha256),
                        size=hasher.size,
                        **{
                            n: digests.get(n) or (row.get(n) or None)
                            for n in ("md5", "sha1", "sha224", "sha256", "sha384", "sha512")
                        },
                    )
                )
                ticker.tick()
            ticker.flush()
    except tarfile.TarError as exc:
        raise PulpImportError(f"The export archive is damaged: {exc}.")
    finally:
        tar.close()
        reader.close()
    if wanted:
        raise PulpImportError("Artifacts disappeared from the export between two reads.")
    Artifact.objects.bulk_create(new_rows, ignore_conflicts=True, batch_size=1000)
    return [r.sha256 for r in new_rows]


def _new_repository(model: type[Repository], name: str, row: dict) -> Repository:
    fields = {f.name: f for f in exported_fields(model)}
    values = {}
    for key, value in row.items():
        if key in fields and key not in ("name", "pulp_type", "user_hidden"):
            try:
                values[key] = from_text(fields[key], value)
            except (ValueError, TypeError):
                continue
    repo = model(name=name, **values)
    repo.save()
    repo.add_initial_version()
    return repo


def pulp_import(import_pk: str) -> None:
    """Verify the export completely, store artifacts, then dispatch one child per repository."""
    the_import = PulpImport.objects.select_related("importer", "task_group").get(pk=import_pk)
    params = the_import.params
    group: TaskGroup = the_import.task_group
    placed: list[str] = []
    created_shas: list[str] = []
    created_repos: list[Repository] = []
    try:
        from pulpcore.app.serializers.exporter import path_is_allowed

        source = params.get("toc") or params.get("path")
        if not path_is_allowed(source, settings.ALLOWED_IMPORT_PATHS):
            raise PulpImportError(
                f"The path '{source}' is not inside ALLOWED_IMPORT_PATHS any more."
            )
        if params.get("toc"):
            with ProgressReport(message="Verifying export pieces", code="import.toc", total=1):
                paths = pieces_from_toc(params["toc"])
        else:
            if not os.path.isfile(params["path"]):
                raise PulpImportError(f"The export file {params['path']} does not exist.")
            paths = [params["path"]]
        with ProgressReport(message="Verifying export", code="import.verify") as progress:
            documents, found = scan(paths, progress)
        if VERSIONS_FILE not in documents:
            raise PulpImportError("The export has no versions.json: it is not a Pulp export.")
        check_versions(documents[VERSIONS_FILE])
        rows = check_artifacts(documents, found)
        plan = plan_repositories(
            documents,
            the_import.importer.repo_mapping or {},
            bool(params.get("create_repositories")),
        )
        created_shas = store_artifacts(paths, rows, found, placed)
        with transaction.atomic():
            for item in plan:
                if item["existing"] is None:
                    repo = _new_repository(item["model"], item["destination"], item["row"])
                    created_repos.append(repo)
                    item["existing"] = repo
        info = documents.get(EXPORT_INFO_FILE)
        incremental = bool(isinstance(info, dict) and info.get("incremental"))
        with transaction.atomic():
            units = sum(
                len(rows)
                for name, rows in documents.items()
                if name.startswith(tuple(p["folder"] + "/" for p in plan))
                and isinstance(rows, list)
                and not name.endswith(("RepositoryResource.json", CONTENT_ARTIFACT_RESOURCE))
            )
            GroupProgressReport.objects.create(
                message="Importing content", code="import.content", total=units, task_group=group
            )
            GroupProgressReport.objects.create(
                message="Importing repositories",
                code="import.repo.versions",
                total=len(plan),
                task_group=group,
            )
            for item in plan:
                # The child gets its version's documents with the task (in PostgreSQL), so it
                # can run on any worker host; the artifacts are already stored.
                folder_docs = {
                    name.split("/", 1)[1]: doc
                    for name, doc in documents.items()
                    if name.startswith(item["folder"] + "/")
                }
                repo = item["existing"].cast()
                dispatch(
                    "pulpcore.app.tasks.importer.import_repository_version",
                    exclusive_resources=[repo],
                    kwargs={
                        "repository_pk": str(repo.pk),
                        "documents": folder_docs,
                        "incremental": incremental,
                    },
                    task_group=group,
                )
    except BaseException:
        # Nothing this import stored may remain: artifact rows, their files, new repositories.
        with transaction.atomic():
            for repo in created_repos:
                Repository.objects.filter(pk=repo.pk).delete()
            Artifact.objects.filter(sha256__in=created_shas).filter(
                contentartifact__isnull=True
            ).delete()
        for name in placed:
            if not Artifact.objects.filter(sha256=_sha_from_path(name)).exists():
                delete_stored(name)
        raise
    finally:
        TaskGroup.objects.filter(pk=group.pk).update(all_tasks_dispatched=True)


def _sha_from_path(path: str) -> str:
    parts = path.rstrip("/").split("/")
    return parts[-2] + parts[-1]


# --- the child task per repository --------------------------------------------------------------
def _content_units(model: type[Content], rows: list[dict]) -> dict[str, Content]:
    """{exported content id: saved unit} for the rows of one content type."""
    from pulpcore.plugin.stages.content_stages import _key, bulk_insert_ignore, find_existing

    fields = {
        f.name: f for f in exported_fields(model) if f.name not in ("pulp_type", "upstream_id")
    }
    units = []
    for row in rows:
        values = {n: from_text(f, row[n]) for n, f in fields.items() if n in row}
        upstream = row.get("upstream_id") or None
        unit = model(**values)
        unit.upstream_id = upstream if upstream else None
        units.append((upstream, unit))
    result = {}
    for start in range(0, len(units), 1000):
        batch = units[start : start + 1000]
        existing = find_existing(model, [u for _, u in batch])
        fresh = []
        for upstream, unit in batch:
            found = existing.get(_key(unit.natural_key()))
            if found is not None:
                result[upstream] = found
            else:
                fresh.append((upstream, unit))
        # Two units of one batch may share a natural key: keep the first.
        seen = {}
        for _upstream, unit in fresh:
            seen.setdefault(_key(unit.natural_key()), unit)
        bulk_insert_ignore(model, list(seen.values()))
        again = find_existing(model, [u for _, u in fresh])
        for upstream, unit in fresh:
            result[upstream] = again[_key(unit.natural_key())]
    return result


def _group_progress(task, code: str, count: int) -> None:
    if task is not None and task.task_group_id and count:
        GroupProgressReport.objects.filter(task_group_id=task.task_group_id, code=code).update(
            done=models.F("done") + count
        )


def import_repository_version(
    repository_pk: str, documents: dict, incremental: bool = False
) -> None:
    """Make one new version of a repository holding the exported version's content.

    ``documents`` are the version folder's JSON documents by file name. A full export's version
    replaces the repository's content; an incremental one only adds to it.
    """
    repo = Repository.objects.get(pk=repository_pk).cast()
    task = current_task()
    with transaction.atomic():
        mapping: dict[str, Content] = {}
        for model in repo.CONTENT_TYPES:
            rows = documents.get(resource_filename(model)) or []
            with ProgressReport(
                message="Importing content", code="import.content", total=len(rows)
            ) as progress:
                mapping.update(_content_units(model, rows))
                progress.increase_by(len(rows))
                _group_progress(task, "import.content", len(rows))
        links = documents.get(CONTENT_ARTIFACT_RESOURCE) or []
        shas = {r.get("artifact") for r in links if r.get("artifact")}
        artifacts = dict(Artifact.objects.filter(sha256__in=shas).values_list("sha256", "pk"))
        to_create = []
        for row in links:
            unit = mapping.get(row.get("content"))
            if unit is None:
                continue
            sha = row.get("artifact") or None
            if sha and sha not in artifacts:
                raise PulpImportError(
                    f"The artifact {sha} of {row.get('relative_path')} is missing."
                )
            to_create.append(
                ContentArtifact(
                    content_id=unit.pk,
                    artifact_id=artifacts.get(sha) if sha else None,
                    relative_path=row.get("relative_path", ""),
                )
            )
        to_create.sort(key=lambda ca: (str(ca.content_id), ca.relative_path))
        ContentArtifact.objects.bulk_create(to_create, ignore_conflicts=True, batch_size=1000)
        content_ids = sorted({str(u.pk) for u in mapping.values()})
    with repo.new_version() as version:
        if not incremental:
            version.remove_content(version.content.exclude(pk__in=content_ids))
        if content_ids:
            version.add_content(Content.objects.filter(pk__in=content_ids))
    _group_progress(task, "import.repo.versions", 1)
