"""Repair of stored artifacts (on disk or in a bucket): check each file, fetch bad ones again.

A file is checked for presence, then size, then (when asked) its sha256. A bad file is fetched
again from any remote that knows its content, verified before it replaces the stored one. What
cannot be fetched is counted in the ``repair.unrepaired`` progress report and logged by digest;
the task still completes, as Pulp's does, so one lost upload does not hide the rest of the work.
"""

import asyncio
import logging
from collections.abc import Iterable

from pulpcore.app.models import Artifact, ProgressReport, RemoteArtifact
from pulpcore.app.storage import open_stored, replace_stored, stored_size

log = logging.getLogger(__name__)


def artifact_state(artifact: Artifact, verify_checksums: bool) -> str:
    """``ok``, ``missing`` or ``corrupted`` for a stored artifact's file."""
    name = artifact.file.name
    try:
        size = stored_size(name)
    except FileNotFoundError:
        return "missing"
    if artifact.size is not None and size != artifact.size:
        return "corrupted"
    if verify_checksums:
        from pulpcore.app.files import MultiHasher

        hasher = MultiHasher(["sha256"])
        with open_stored(name) as fp:
            while chunk := fp.read(1024 * 1024):
                hasher.update(chunk)
        if hasher.digests()["sha256"] != artifact.sha256:
            return "corrupted"
    return "ok"


async def redownload(artifact: Artifact, sources: list[tuple[str, object]]) -> bool:
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
        replace_stored(artifact.file.name, result.path)  # verified above; re-uploaded on S3
        return True
    return False


def _sources(artifact: Artifact) -> list[tuple[str, object]]:
    return [
        (ra.url, ra.remote.cast())
        for ra in RemoteArtifact.objects.filter(content_artifact__artifact=artifact)
        .select_related("remote")
        .order_by("pulp_created")
    ]


def repair_artifacts(artifacts: Iterable[Artifact], verify_checksums: bool) -> dict:
    """Check and repair ``artifacts``; progress reports say what was found and fixed."""
    missing = ProgressReport(message="Identify missing units", code="repair.missing", done=0)
    corrupted = ProgressReport(message="Identify corrupted units", code="repair.corrupted", done=0)
    repaired = ProgressReport(message="Repair corrupted units", code="repair.repaired", done=0)
    unrepaired = ProgressReport(
        message="Units that could not be repaired (no remote could supply them)",
        code="repair.unrepaired",
        done=0,
    )
    checked = 0
    lost: list[str] = []
    with missing, corrupted, repaired, unrepaired:
        for artifact in artifacts:
            checked += 1
            state = artifact_state(artifact, verify_checksums)
            if state == "ok":
                continue
            (missing if state == "missing" else corrupted).increment()
            sources = _sources(artifact)
            if sources and asyncio.run(redownload(artifact, sources)):
                repaired.increment()
            else:
                unrepaired.increment()
                lost.append(artifact.sha256)
                log.warning(
                    "Artifact %s (%s) is %s and no remote could supply it",
                    artifact.sha256,
                    artifact.file.name,
                    state,
                )
    return {"checked": checked, "repaired": repaired.done, "unrepaired": lost}


def repair_all_artifacts(verify_checksums: bool = True) -> dict:
    """Task body of ``POST repair/``: every stored artifact of this Pulp."""
    return repair_artifacts(
        Artifact.objects.order_by("pk").iterator(chunk_size=500), verify_checksums
    )
