"""The declarative sync pipeline: a plugin writes a first stage, the rest is shared.

A first stage is a :class:`Stage` whose ``run`` puts :class:`DeclarativeContent` objects (units
with their :class:`DeclarativeArtifact` s); :class:`DeclarativeVersion` runs it through query,
download and save stages into a new repository version.
"""

from pulpcore.plugin.stages.api import (
    AsyncProgress,
    EndStage,
    Stage,
    create_pipeline,
    db,
    run_async,
)
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
from pulpcore.plugin.stages.declarative_version import DeclarativeVersion
from pulpcore.plugin.stages.models import DeclarativeArtifact, DeclarativeContent
from pulpcore.plugin.util import discard_version

__all__ = [
    "ACSArtifactHandler",
    "ArtifactDownloader",
    "ArtifactSaver",
    "AsyncProgress",
    "ContentAssociation",
    "ContentSaver",
    "DeclarativeArtifact",
    "DeclarativeContent",
    "DeclarativeVersion",
    "EndStage",
    "PipelineContext",
    "QueryExistingArtifacts",
    "QueryExistingContents",
    "Stage",
    "create_pipeline",
    "db",
    "discard_version",
    "run_async",
]
