"""Task bodies for repository versions: modify, delete, repair.

New versions are made with ``with repository.new_version() as version:`` (the model owns the
life cycle: complete, drop a no-op, discard on error, record in ``created_resources``).
"""

import asyncio
import logging
import os

from django.db import transaction

from pulpcore.app.models import (
    Artifact,
    Content,
    ContentArtifact,
    ProgressReport,
    RemoteArtifact,
    Repository,
    RepositoryVersion,
)

log = logging.getLogger(__name__)


def add_and_remove(
    repository_pk: str,
    add_content_units: list[str],
    remove_content_units: list[str],
    base_version_pk: str | None = None,
) -> None:
    """Task body of ``modify/``: a new version = base (or latest) − removed + added.

    ``remove_content_units == ["*"]`` removes everything present in the base.
    """
    repository = Repository.objects.filter(pk=repository_pk).first()
    if repository is None:
        raise ValueError("The repository was deleted before its content could be modified.")
    repository = repository.cast()
    base = None
    if base_version_pk:
        base = RepositoryVersion.objects.filter(pk=base_version_pk).first()
        if base is None:
            raise ValueError(
                "The base version was deleted before the new version could be built from it."
            )
    allowed = tuple(getattr(type(repository), "CONTENT_TYPES", []) or [])
    to_add = Content.objects.filter(pk__in=add_content_units)
    if allowed:
        types = [m.get_pulp_type() for m in allowed]
        wrong = to_add.exclude(pulp_type__in=types)
        if wrong.exists():
            raise ValueError(
                f"Content of type {wrong.first().pulp_type} cannot be added to a "
                f"{repository.pulp_type} repository."
            )
    missing = set(map(str, add_content_units)) - {
        str(pk) for pk in to_add.values_list("pk", flat=True)
    }
    if missing:
        raise ValueError(f"Content {', '.join(sorted(missing))} no longer exists.")
    with repository.new_version(base) as version:
        if remove_content_units == ["*"]:
            version.remove_content(version.content)
        elif remove_content_units:
            version.remove_content(Content.objects.filter(pk__in=remove_content_units))
        if add_content_units:
            version.add_content(to_add)


def delete_version(repository_version_pk: str) -> None:
    """Task body of a version DELETE: fold its changes into the next version and remove it."""
    with transaction.atomic():
        try:
            version = RepositoryVersion.objects.select_related("repository").get(
                pk=repository_version_pk
            )
        except RepositoryVersion.DoesNotExist:
            return
        repo = Repository.objects.select_for_update().get(pk=version.repository_id)
        if repo.versions.filter(complete=True).count() <= 1:
            raise ValueError(
                "Cannot delete repository version. Repositories must have at least one "
                "repository version."
            )
        version.delete()


# --- repair -------------------------------------------------------------------------------------
def _artifact_state(artifact: Artifact, verify_checksums: bool) -> str:
    """``ok``, ``missing`` or ``corrupted`` for a stored artifact's file."""
    path = artifact.file.path
    if not os.path.exists(path):
        return "missing"
    if os.path.getsize(path) != artifact.size:
        return "corrupted"
    if verify_checksums:
        from pulpcore.app.files import MultiHasher

        hasher = MultiHasher(["sha256"])
        with open(path, "rb") as fp:
            while chunk := fp.read(1024 * 1024):
                hasher.update(chunk)
        if hasher.digests()["sha256"] != artifact.sha256:
            return "corrupted"
    return "ok"


async def _redownload(artifact: Artifact, sources: list[tuple[str, object]]) -> bool:
    """Fetch ``artifact`` again from any ``(url, remote)``, validated against its sha256."""
    from pulpcore.download import DownloaderFactory

    for url, remote in sources:
        factory = DownloaderFactory(remote)
        try:
            downloader = factory.build(
                url, expected_digests={"sha256": artifact.sha256}, expected_size=artifact.size
            )
            result = await downloader.run()
        except Exception as exc:  # noqa: BLE001 - try the next remote, report below
            log.warning("Repair of %s from %s failed: %s", artifact.sha256, url, exc)
            continue
        finally:
            await factory.close()
        dest = artifact.file.path
        os.makedirs(os.path.dirname(dest), exist_ok=True)
        os.replace(result.path, dest)
        os.chmod(dest, 0o644)
        return True
    return False


def repair_version(repository_version_pk: str, verify_checksums: bool = True) -> dict:
    """Task body of ``repair/``: check every stored file of the version; re-download missing or
    corrupted ones from the remotes that know them. Progress reports count what was found."""
    version = RepositoryVersion.objects.get(pk=repository_version_pk)
    cas = (
        ContentArtifact.objects.filter(content__in=version.content, artifact__isnull=False)
        .select_related("artifact")
        .order_by("artifact__sha256")
    )
    artifacts = {ca.artifact_id: ca.artifact for ca in cas}
    missing_pr = ProgressReport(message="Identify missing units", code="repair.missing", done=0)
    corrupt_pr = ProgressReport(message="Identify corrupted units", code="repair.corrupted", done=0)
    repaired_pr = ProgressReport(message="Repair corrupted units", code="repair.repaired", done=0)
    bad: list[Artifact] = []
    with missing_pr, corrupt_pr:
        for artifact in artifacts.values():
            state = _artifact_state(artifact, verify_checksums)
            if state == "missing":
                missing_pr.increment()
                bad.append(artifact)
            elif state == "corrupted":
                corrupt_pr.increment()
                bad.append(artifact)
    unrepaired = []
    with repaired_pr:
        for artifact in bad:
            sources = [
                (ra.url, ra.remote.cast())
                for ra in RemoteArtifact.objects.filter(
                    content_artifact__artifact=artifact
                ).select_related("remote")
            ]
            if sources and asyncio.run(_redownload(artifact, sources)):
                repaired_pr.increment()
            else:
                unrepaired.append(artifact.sha256)
    if unrepaired:
        raise RuntimeError(
            f"{len(unrepaired)} artifact(s) are missing or corrupted and could not be "
            f"re-downloaded: {', '.join(unrepaired[:10])}"
        )
    return {"checked": len(artifacts), "repaired": repaired_pr.done}
