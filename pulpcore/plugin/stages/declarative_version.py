"""Runs a first stage through the standard sync pipeline into a new repository version."""

from pulpcore.app.models import Repository, RepositoryVersion
from pulpcore.plugin.stages.api import Stage, create_pipeline, run_async
from pulpcore.plugin.stages.artifact_stages import (
    ACSArtifactHandler,
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


class DeclarativeVersion:
    """Sync = a plugin's first stage + query/download/save stages + association.

    ``create()`` builds the version with ``with repository.new_version()``, so the model decides
    its fate: it returns the new, complete repository version (recorded in the task's
    ``created_resources``), or ``None`` when nothing changed (the version is deleted and its
    number reused). On any error the version is discarded and the error propagates, so a failed
    sync leaves no version behind. Downloaded files are validated before they are stored.
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
            ACSArtifactHandler(self.context),
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
        """Run the pipeline into a new version; return it, or None when nothing changed."""
        with self.repository.cast().new_version() as new_version:
            run_async(self._run, new_version)
            if self.version_info:
                # Saved when the version completes; dropped with it otherwise.
                new_version.info = {**(new_version.info or {}), **self.version_info}
        return new_version if new_version.complete else None
