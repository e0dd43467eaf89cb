"""Sync a file repository from a remote ``PULP_MANIFEST`` through the declarative pipeline."""

import logging
import os
import re
from dataclasses import dataclass
from urllib.parse import quote, urljoin

from pulp_file.app.models import FileContent, FileRemote, FileRepository
from pulpcore.plugin.models import Artifact, Remote
from pulpcore.plugin.stages import (
    AsyncProgress,
    DeclarativeArtifact,
    DeclarativeContent,
    DeclarativeVersion,
    Stage,
)

log = logging.getLogger(__name__)

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

    The whole manifest is checked before anything is downloaded, so a bad line fails the sync
    without side effects. File URLs are resolved relative to the manifest's URL.
    """
    entries = []
    for number, raw in enumerate(text.splitlines(), start=1):
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
        url = urljoin(manifest_url, quote(relative_path, safe="/~!$&'()*+,;=:@"))
        entries.append(ManifestEntry(relative_path, digest.lower(), int(size), url))
    return entries


class FileFirstStage(Stage):
    """Downloads and parses the manifest, then declares one FileContent per line."""

    def __init__(self, remote: FileRemote):
        self.remote = remote
        self.context = None  # set by DeclarativeVersion before the pipeline starts

    async def run(self) -> None:
        deferred = self.remote.policy != Remote.IMMEDIATE
        progress = AsyncProgress("Downloading Metadata", "sync.downloading.metadata", total=1)
        async with progress:
            downloader = self.context.factory_for(self.remote).build(self.remote.url)
            result = await downloader.run()
            await progress.increase_by(1)
        try:
            with open(result.path, "rb") as fp:
                raw = fp.read()
        finally:
            os.unlink(result.path)
        try:
            text = raw.decode("utf-8")
        except UnicodeDecodeError as exc:
            raise ManifestError(f"The manifest at {self.remote.url} is not UTF-8 text: {exc}.")
        entries = parse_manifest(text, self.remote.url)
        parsing = AsyncProgress("Parsing Metadata Lines", "sync.parsing.metadata", len(entries))
        async with parsing:
            for entry in entries:
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


def synchronize(remote_pk: str, repository_pk: str, mirror: bool = False) -> None:
    """Task body: make a new version of the repository matching the remote's manifest.

    With ``mirror`` the version holds exactly what the manifest lists; otherwise new units are
    added to what the repository had. No new version is created when nothing changed.
    """
    remote = FileRemote.objects.get(pk=remote_pk)
    repository = FileRepository.objects.get(pk=repository_pk)
    if not remote.url:
        raise ValueError("A remote must have a url specified to synchronize.")
    first_stage = FileFirstStage(remote)
    # Completing the version runs FileRepository.on_new_version, which autopublishes.
    DeclarativeVersion(first_stage, repository, mirror=bool(mirror)).create()
