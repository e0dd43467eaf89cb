"""Sync a file repository from a remote ``PULP_MANIFEST`` through the declarative pipeline."""

import csv
import hashlib
import io
import logging
import os
import re
import uuid
from collections.abc import Iterable, Iterator, Sized
from dataclasses import dataclass
from urllib.parse import quote, urljoin

from django.db import connection
from django.utils.timezone import now

from pulp_file.app.models import (
    FileAlternateContentSource,
    FileContent,
    FileRemote,
    FileRepository,
)
from pulpcore.plugin.download import DownloaderFactory
from pulpcore.plugin.models import (
    AlternateContentSourcePath,
    Artifact,
    ContentArtifact,
    Remote,
    RemoteArtifact,
)
from pulpcore.plugin.stages import (
    AsyncProgress,
    DeclarativeArtifact,
    DeclarativeContent,
    DeclarativeVersion,
    Stage,
    run_async,
)

log = logging.getLogger(__name__)

# Key in RepositoryVersion.info recording what produced a version (see unchanged_since_last_sync).
FINGERPRINT_KEY = "file_sync"
SHA256_RE = re.compile(r"^[0-9a-fA-F]{64}$")


class ManifestError(ValueError):
    """The PULP_MANIFEST cannot be used; the message names the line."""


@dataclass(frozen=True)
class ManifestEntry:
    relative_path: str
    digest: str
    size: int
    url: str


def parse_manifest(text: str, manifest_url: str) -> list[ManifestEntry]:
    """Parse ``relative_path,sha256,size`` lines; blank lines and ``#`` comments are skipped.

    File URLs are resolved relative to the manifest's URL.
    """
    return list(iter_manifest(text, manifest_url))


def check_manifest(text: str) -> int:
    """Check every line (raising :class:`ManifestError` on the first bad one); return how many
    entries there are. A sync calls it before anything is downloaded, so a bad line fails it
    without side effects, and then streams :func:`iter_manifest` without a list of every entry."""
    return sum(1 for _ in _lines(text))


def iter_manifest(text: str, manifest_url: str) -> Iterator[ManifestEntry]:
    """:func:`parse_manifest` one entry at a time."""
    base = urljoin(manifest_url, ".")
    for relative_path, digest, size in _lines(text):
        url = base + quote(relative_path, safe="/~!$&'()*+,;=:@")
        yield ManifestEntry(relative_path, digest.lower(), int(size), url)


def _lines(text: str) -> Iterator[tuple[str, str, str]]:
    """The checked ``(relative_path, digest, size)`` of each entry line."""
    for number, raw in enumerate(io.StringIO(text, newline=None), start=1):
        line = raw.strip()
        if not line or line.startswith("#"):
            continue
        parts = line.rsplit(",", 2)  # relative paths may themselves contain commas
        if len(parts) != 3:
            raise ManifestError(
                f"Line {number} of the manifest is malformed: {line!r} "
                "(expected 'relative_path,sha256,size')."
            )
        relative_path, digest, size = (p.strip() for p in parts)
        if not relative_path:
            raise ManifestError(f"Line {number} of the manifest has an empty relative path.")
        segments = relative_path.split("/")
        if relative_path.startswith("/") or ".." in segments or "" in segments:
            raise ManifestError(
                f"Line {number} of the manifest has an unsafe relative path: {relative_path!r}."
            )
        if not SHA256_RE.match(digest):
            raise ManifestError(
                f"Line {number} of the manifest has an invalid sha256 digest: {digest!r}."
            )
        if not size.isdigit():
            raise ManifestError(f"Line {number} of the manifest has an invalid size: {size!r}.")
        yield relative_path, digest, size


class FileFirstStage(Stage):
    """Declares one FileContent (with its artifact and where to get it) per manifest line.

    ``entries`` may be a generator (a sync streams the manifest); ``total`` is then its length.
    """

    def __init__(
        self, remote: FileRemote, entries: Iterable[ManifestEntry], total: int | None = None
    ):
        self.remote = remote
        self.entries = entries
        self.total = total if total is not None or not isinstance(entries, Sized) else len(entries)

    async def run(self) -> None:
        deferred = self.remote.policy != Remote.IMMEDIATE
        parsing = AsyncProgress("Parsing Metadata Lines", "sync.parsing.metadata", self.total)
        async with parsing:
            for entry in self.entries:
                artifact = Artifact(size=entry.size, sha256=entry.digest)
                d_artifact = DeclarativeArtifact(
                    artifact=artifact,
                    url=entry.url,
                    relative_path=entry.relative_path,
                    remote=self.remote,
                    deferred_download=deferred,
                )
                content = FileContent(relative_path=entry.relative_path, digest=entry.digest)
                await self.put(DeclarativeContent(content=content, d_artifacts=[d_artifact]))
                await parsing.increase_by(1)


async def fetch_manifest(remote: FileRemote) -> bytes:
    """Download the remote's manifest (reported as "Downloading Metadata")."""
    progress = AsyncProgress("Downloading Metadata", "sync.downloading.metadata", total=1)
    async with progress, DownloaderFactory(remote) as factory:
        result = await factory.build(remote.url).run()
        try:
            with open(result.path, "rb") as fp:
                raw = fp.read()
        finally:
            os.unlink(result.path)
        await progress.increase_by(1)
    return raw


def sync_fingerprint(remote: FileRemote, manifest: bytes, mirror: bool) -> dict:
    """What decides a sync's result: the remote's settings and the manifest's exact bytes."""
    return {
        "remote": str(remote.pk),
        "remote_updated": remote.pulp_last_updated.isoformat() if remote.pulp_last_updated else "",
        "url": remote.url,
        "policy": remote.policy,
        "manifest_sha256": hashlib.sha256(manifest).hexdigest(),
        "mirror": bool(mirror),
    }


def unchanged_since_last_sync(repository: FileRepository, fingerprint: dict) -> bool:
    """True when the latest version was made by a sync with this very remote and manifest.

    Versions are immutable, so that version still holds exactly what such a sync produces; an
    additive sync after a mirror (or additive) one, or a mirror after a mirror, changes nothing.
    Any later modify, a remote edit (``pulp_last_updated``) or a new manifest means a full sync.
    """
    latest = repository.latest_version()
    previous = (latest.info or {}).get(FINGERPRINT_KEY) if latest is not None else None
    if not previous:
        return False
    same = {k: v for k, v in previous.items() if k != "mirror"} == {
        k: v for k, v in fingerprint.items() if k != "mirror"
    }
    return same and (previous.get("mirror") or not fingerprint["mirror"])


def already_holds(
    repository: FileRepository, remote: FileRemote, entries: Iterable[ManifestEntry], mirror: bool
) -> bool:
    """True when a sync of ``entries`` would change nothing: the latest version holds every
    listed file (same path and digest), each linked at that path with a RemoteArtifact of this
    remote at the same URL, size and sha256 and, for the immediate policy, a stored artifact;
    and, when mirroring, nothing else. That is exactly the case in which the pipeline finds every
    unit current and writes nothing, decided here with one COPY and two queries instead of
    pushing every unit through the stages (a manifest whose bytes changed but not its files).
    """
    latest = repository.latest_version()
    if latest is None:
        return False
    buffer = io.StringIO()
    writer = csv.writer(buffer)
    for entry in entries:
        writer.writerow((entry.relative_path, entry.digest, entry.size, entry.url))
    buffer.seek(0)
    table = f"pulp_file_manifest_{uuid.uuid4().hex}"
    ids_sql, ids_params = latest.content_ids.query.sql_with_params()
    need_artifact = remote.policy == Remote.IMMEDIATE
    with connection.cursor() as cursor:
        cursor.execute(
            f"CREATE TEMPORARY TABLE {table}"
            " (relative_path text, digest text, size bigint, url text)"
        )
        try:
            cursor.copy_expert(f"COPY {table} FROM STDIN WITH (FORMAT csv)", buffer)
            cursor.execute(f"SELECT count(*), count(DISTINCT relative_path) FROM {table}")
            listed, paths = cursor.fetchone()
            if listed != paths:  # one path listed twice: let the pipeline decide
                return False
            cursor.execute(
                f"""
                SELECT count(*) FROM {table} m
                JOIN {FileContent._meta.db_table} fc
                  ON fc.relative_path = m.relative_path AND fc.digest = m.digest
                JOIN {ContentArtifact._meta.db_table} ca
                  ON ca.content_id = fc.content_ptr_id AND ca.relative_path = m.relative_path
                JOIN {RemoteArtifact._meta.db_table} ra
                  ON ra.content_artifact_id = ca.pulp_id AND ra.remote_id = %s
                 AND ra.url = m.url AND ra.size = m.size AND ra.sha256 = m.digest
                WHERE fc.content_ptr_id IN ({ids_sql})
                  AND (ca.artifact_id IS NOT NULL OR NOT %s)
                """,
                [remote.pk, *ids_params, need_artifact],
            )
            if cursor.fetchone()[0] != listed:
                return False
            return not mirror or latest.content.count() == listed
        finally:
            cursor.execute(f"DROP TABLE IF EXISTS {table}")


def synchronize(remote_pk: str, repository_pk: str, mirror: bool = False) -> None:
    """Task body: make a new version of the repository matching the remote's manifest.

    With ``mirror`` the version holds exactly what the manifest lists; otherwise new units are
    added to what the repository had. No new version is created when nothing changed. The
    manifest is checked completely before anything else is downloaded.
    """
    remote = FileRemote.objects.get(pk=remote_pk)
    repository = FileRepository.objects.get(pk=repository_pk)
    sync_from(remote, repository, bool(mirror))


def sync_from(remote: FileRemote, repository: FileRepository, mirror: bool) -> None:
    """The sync itself, for a remote that may carry an unsaved URL (an ACS path's)."""
    if not remote.url:
        raise ValueError("A remote must have a url specified to synchronize.")
    raw = run_async(fetch_manifest, remote)
    fingerprint = sync_fingerprint(remote, raw, bool(mirror))
    if unchanged_since_last_sync(repository, fingerprint):
        log.info("Manifest and remote unchanged since the last sync: nothing to do.")
        return
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise ManifestError(f"The manifest at {remote.url} is not UTF-8 text: {exc}.")
    total = check_manifest(text)
    if already_holds(repository, remote, iter_manifest(text, remote.url), bool(mirror)):
        log.info("The latest version already holds what the manifest lists: nothing to do.")
        return
    first_stage = FileFirstStage(remote, iter_manifest(text, remote.url), total)
    # Completing the version runs FileRepository.on_new_version, which autopublishes.
    DeclarativeVersion(
        first_stage, repository, mirror=bool(mirror), version_info={FINGERPRINT_KEY: fingerprint}
    ).create()


def refresh_acs_path(acs_pk: str, path_pk: str) -> None:
    """Task body: record what one ACS path offers, without downloading any file.

    The path's manifest is synced (``on_demand``, mirror) into the path's hidden repository, so
    its RemoteArtifacts (with the ACS remote and each file's sha256) are what later syncs and the
    content app may fetch from the ACS instead of their own remote.
    """
    acs = FileAlternateContentSource.objects.select_related("remote").get(pk=acs_pk)
    path = AlternateContentSourcePath.objects.get(pk=path_pk, alternate_content_source=acs)
    remote = FileRemote.objects.get(pk=acs.remote_id)
    # In memory only: the remote itself stays as the user configured it.
    remote.url = path.url(remote)
    remote.policy = Remote.ON_DEMAND
    sync_from(remote, path.ensure_repository(), mirror=True)
    FileAlternateContentSource.objects.filter(pk=acs.pk).update(last_refreshed=now())
