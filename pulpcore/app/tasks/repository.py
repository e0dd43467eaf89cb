"""Task bodies for repository versions: modify, delete, repair.

New versions are made with ``with repository.new_version() as version:`` (the model owns the
life cycle: complete, drop a no-op, discard on error, record in ``created_resources``).
"""

import logging

from django.db import transaction

from pulpcore.app.models import (
    Artifact,
    Content,
    ContentArtifact,
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
def repair_version(repository_version_pk: str, verify_checksums: bool = True) -> dict:
    """Task body of ``versions/<n>/repair/``: check every stored file of the version; re-download
    missing or corrupted ones. Unrepairable files are reported in progress, not raised."""
    from pulpcore.app.tasks.repair import repair_artifacts

    version = RepositoryVersion.objects.get(pk=repository_version_pk)
    artifacts = Artifact.objects.filter(
        pk__in=ContentArtifact.objects.filter(
            content__in=version.content, artifact__isnull=False
        ).values("artifact_id")
    ).order_by("sha256")
    return repair_artifacts(artifacts, verify_checksums)
