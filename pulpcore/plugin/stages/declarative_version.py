"""Runs a first stage through the standard sync pipeline into a new repository version."""

import logging

from django.db import transaction

from pulpcore.app.models import Repository, RepositoryVersion
from pulpcore.plugin.stages.api import Stage, create_pipeline, run_async
from pulpcore.plugin.stages.artifact_stages import (
    ArtifactDownloader,
    ArtifactSaver,
    PipelineContext,
    QueryExistingArtifacts,
)
from pulpcore.plugin.stages.content_stages import (
    ContentAssociation,
    ContentSaver,
    QueryExistingContents,
)
from pulpcore.tasking.context import record_created

log = logging.getLogger(__name__)


class DeclarativeVersion:
    """Sync = a plugin's first stage + query/download/save stages + association.

    ``create()`` returns the new, complete repository version, or ``None`` when nothing changed
    (the provisional version is removed and its number reused). On any error the provisional
    version is removed too and the error propagates, so a failed sync leaves no version behind.
    Downloaded files are validated before they are stored, so no bad artifact is ever saved.
    """

    def __init__(
        self,
        first_stage: Stage,
        repository: Repository,
        mirror: bool = False,
        version_info: dict | None = None,
    ):
        self.first_stage = first_stage
        self.repository = repository
        self.mirror = mirror
        self.version_info = version_info or {}
        self.context = PipelineContext()

    def pipeline_stages(self, new_version: RepositoryVersion) -> list[Stage]:
        """The stages in order; plugins may override to insert their own."""
        return [
            self.first_stage,
            QueryExistingContents(),
            QueryExistingArtifacts(),
            ArtifactDownloader(self.context),
            ArtifactSaver(self.context),
            ContentSaver(),
            ContentAssociation(new_version, self.mirror),
        ]

    async def _run(self, new_version: RepositoryVersion) -> None:
        if getattr(self.first_stage, "context", None) is None:
            self.first_stage.context = self.context
        try:
            await create_pipeline(self.pipeline_stages(new_version))
        finally:
            await self.context.close()

    def create(self) -> RepositoryVersion | None:
        repository = self.repository.cast()
        new_version = repository.new_version()
        try:
            run_async(self._run, new_version)
            if not new_version.has_changes():
                discard_version(new_version)
                return None
            with transaction.atomic():
                if self.version_info:
                    new_version.info = {**(new_version.info or {}), **self.version_info}
                    new_version.save(update_fields=["info"])
                new_version.complete_version()
                record_created(new_version)
        except BaseException:
            discard_version(new_version)
            raise
        repository.cleanup_old_versions()
        return new_version


def discard_version(version: RepositoryVersion) -> None:
    """Delete an incomplete version and give its number back if no later one was started."""
    try:
        with transaction.atomic():
            repository = Repository.objects.select_for_update().get(pk=version.repository_id)
            number = version.number
            if RepositoryVersion.objects.filter(pk=version.pk, complete=False).exists():
                version.delete()
            if repository.next_version == number + 1:
                Repository.objects.filter(pk=repository.pk).update(next_version=number)
    except Exception:  # noqa: BLE001 - never hide the original error behind cleanup trouble
        log.exception("Could not discard repository version %s", version.pk)
